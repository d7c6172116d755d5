//! The attack tokens of issue #15, in one table shared by the attack tests
//! of cognate-token (`crates/token/tests/attacks.rs`) and of the server
//! (`tests/token_attacks.rs`, which includes this file by path): each row
//! is one attack built from real tokens and keys (`Ctx`), with the route it
//! is presented at (`Want`: an ID or an access token is asked for), the
//! `Rejection` reason it must meet at cognate-token and at the gateway, and
//! whether it applies to the user APIs (which take access tokens of any
//! pool and client of this server).
//!
//! Forgeries are signed with the attacker's own RSA key; rows that need a
//! valid signature on altered claims (expired, not yet valid, wrong issuer,
//! duplicate keys, real RS512 / PS256 signatures) are signed with the
//! pool's real key, standing for a token the issuer itself got wrong or a
//! differently-labelled signature of the right key.
#![allow(dead_code)]

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// A compact JWS taken apart (header and payload decoded).
pub struct Parts {
    pub h: String,
    pub p: String,
    pub s: String,
    pub header: Value,
    pub payload: Value,
    pub sig: Vec<u8>,
}

pub fn split(token: &str) -> Parts {
    let mut it = token.split('.');
    let (h, p, s) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    Parts {
        h: h.to_owned(),
        p: p.to_owned(),
        s: s.to_owned(),
        header: serde_json::from_slice(&unb64(h)).unwrap(),
        payload: serde_json::from_slice(&unb64(p)).unwrap(),
        sig: unb64(s),
    }
}

/// The RSA signature algorithms a forger may use.
#[derive(Clone, Copy)]
pub enum Rsa {
    Rs256,
    Rs512,
    Ps256,
}

/// An RSA private key with its kid: a pool's real key, or the attacker's.
pub struct Key {
    pub kid: String,
    pair: KeyPair,
}

impl Key {
    pub fn new(kid: &str, pkcs8: &[u8]) -> Key {
        Key {
            kid: kid.to_owned(),
            pair: KeyPair::from_pkcs8(pkcs8).unwrap(),
        }
    }

    /// A fresh RSA-2048 key (the attacker's).
    pub fn generate(kid: &str) -> Key {
        let k = cognate_crypto::SigningKey::generate().unwrap();
        Key::new(kid, k.pkcs8())
    }

    pub fn n(&self) -> Vec<u8> {
        PublicKeyComponents::<Vec<u8>>::from(self.pair.public_key()).n
    }

    pub fn e(&self) -> Vec<u8> {
        PublicKeyComponents::<Vec<u8>>::from(self.pair.public_key()).e
    }

    /// The public key as a JWK, as a JWKS publishes it.
    pub fn jwk(&self) -> Value {
        json!({"alg": "RS256", "e": b64(self.e()), "kid": self.kid, "kty": "RSA",
               "n": b64(self.n()), "use": "sig"})
    }

    /// `RSAPublicKey` (PKCS#1) DER.
    pub fn pkcs1_der(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// `SubjectPublicKeyInfo` DER.
    pub fn spki_der(&self) -> Vec<u8> {
        AsDer::<PublicKeyX509Der>::as_der(self.pair.public_key())
            .unwrap()
            .as_ref()
            .to_vec()
    }

    /// Signs `<header>.<payload>` given as raw JSON text (so that duplicate
    /// keys can be written) with `alg`.
    pub fn sign_raw(&self, alg: Rsa, header: &str, payload: &str) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        format!("{input}.{}", b64(self.signature(alg, input.as_bytes())))
    }

    pub fn signature(&self, alg: Rsa, input: &[u8]) -> Vec<u8> {
        let encoding: &'static dyn signature::RsaEncoding = match alg {
            Rsa::Rs256 => &signature::RSA_PKCS1_SHA256,
            Rsa::Rs512 => &signature::RSA_PKCS1_SHA512,
            Rsa::Ps256 => &signature::RSA_PSS_SHA256,
        };
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(encoding, &SystemRandom::new(), input, &mut sig)
            .unwrap();
        sig
    }

    /// RS256 with the header `{"kid": <kid>, "alg": "RS256"}` plus `extra`.
    pub fn sign(&self, extra_header: Value, payload: &Value) -> String {
        let mut header = json!({"kid": self.kid, "alg": "RS256"});
        merge(&mut header, extra_header);
        self.sign_raw(Rsa::Rs256, &header.to_string(), &payload.to_string())
    }
}

/// Shallow merge; a `null` in `patch` removes the member.
pub fn merge(into: &mut Value, patch: Value) {
    if let (Some(into), Value::Object(patch)) = (into.as_object_mut(), patch) {
        for (k, v) in patch {
            if v.is_null() {
                into.remove(&k);
            } else {
                into.insert(k, v);
            }
        }
    }
}

pub fn patched(v: &Value, patch: Value) -> Value {
    let mut v = v.clone();
    merge(&mut v, patch);
    v
}

/// `obj` as JSON text with `"key": first` written before all its members
/// (so `obj`'s own `key`, if any, comes later: the duplicate is first).
pub fn dup_first(obj: &Value, key: &str, first: Value) -> String {
    let text = obj.to_string();
    format!("{{{}:{},{}", json!(key), first, &text[1..])
}

/// `obj` as JSON text with `"key": last` appended after all its members.
pub fn dup_last(obj: &Value, key: &str, last: Value) -> String {
    let text = obj.to_string();
    format!("{},{}:{}}}", &text[..text.len() - 1], json!(key), last)
}

/// `HS*` with `secret` as the HMAC key (the key-confusion attack).
pub fn hmac_token(alg: &str, kid: &str, payload: &str, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(json!({"kid": kid, "alg": alg}).to_string()),
        payload
    );
    let algorithm = match alg {
        "HS256" => aws_lc_rs::hmac::HMAC_SHA256,
        "HS384" => aws_lc_rs::hmac::HMAC_SHA384,
        _ => aws_lc_rs::hmac::HMAC_SHA512,
    };
    let mac = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(algorithm, secret),
        input.as_bytes(),
    );
    format!("{input}.{}", b64(mac))
}

pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Which token a route asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Id,
    Access,
}

/// One attack.
pub struct Attack {
    pub name: String,
    pub token: String,
    pub want: Want,
    /// `Rejection::reason()` expected from cognate-token and the gateway.
    pub reason: &'static str,
    /// Whether the user APIs must refuse it too (they take access tokens
    /// of any local pool and app client, so a token of another pool or
    /// client, or an access token where the gateway asks for an ID token,
    /// is not an attack there).
    pub user_api: bool,
}

/// What the attacks are made from.
pub struct Ctx {
    /// The issuer the target expects (pool A).
    pub issuer: String,
    /// The target's current time (seconds).
    pub now: i64,
    /// Valid tokens of pool A and its allowed client.
    pub id_token: String,
    pub access_token: String,
    /// Pool A's real signing keys.
    pub id_key: Key,
    pub access_key: Key,
    /// Pool A's JWKS document as published.
    pub jwks: Value,
    /// Valid tokens of pool B, and its real access-token key.
    pub other_pool_id_token: String,
    pub other_pool_access_token: String,
    pub other_pool_key: Key,
    /// Valid tokens of pool A issued to a client the target does not allow.
    pub other_client_id_token: String,
    pub other_client_access_token: String,
    /// The attacker's key, and a URL they control (must never be fetched).
    pub attacker: Key,
    pub spy_url: String,
}

struct Rows(Vec<Attack>);

impl Rows {
    fn add(&mut self, name: impl Into<String>, token: String, want: Want, reason: &'static str) {
        self.0.push(Attack {
            name: name.into(),
            token,
            want,
            reason,
            user_api: want == Want::Access,
        });
    }

    /// A row that applies only where a client allow-list or a route's
    /// token_use applies (cognate-token, the gateway).
    fn add_not_user_api(
        &mut self,
        name: impl Into<String>,
        token: String,
        want: Want,
        reason: &'static str,
    ) {
        self.0.push(Attack {
            name: name.into(),
            token,
            want,
            reason,
            user_api: false,
        });
    }
}

/// Flips the lowest bit of byte `i` of `bytes`.
fn flip(mut bytes: Vec<u8>, i: usize) -> Vec<u8> {
    bytes[i] ^= 1;
    bytes
}

/// Every attack of the table.
pub fn attacks(c: &Ctx) -> Vec<Attack> {
    use Want::{Access, Id};
    let mut rows = Rows(Vec::new());
    let a = split(&c.access_token);
    let i = split(&c.id_token);
    let a_kid = c.access_key.kid.clone();
    let payload = a.payload.clone();
    let real = &c.access_token;
    let attacker = &c.attacker;

    // --- alg: none, in its spellings, unsigned or with the real signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = b64(json!({"alg": alg}).to_string());
        rows.add(
            format!("alg {alg}, empty signature"),
            format!("{h}.{}.", a.p),
            Access,
            "bad_signature",
        );
        let h = b64(json!({"kid": a_kid, "alg": alg}).to_string());
        rows.add(
            format!("alg {alg}, real signature kept"),
            format!("{h}.{}.{}", a.p, a.s),
            Access,
            "bad_signature",
        );
    }
    for (what, alg) in [
        ("no alg", Value::Null),
        ("alg empty", json!("")),
        ("alg lower-case rs256", json!("rs256")),
        ("alg a list", json!(["RS256"])),
        ("alg a number", json!(256)),
    ] {
        let mut header = json!({"kid": a_kid});
        if !alg.is_null() {
            header["alg"] = alg;
        }
        rows.add(
            format!("{what}, real signature re-attached"),
            format!("{}.{}.{}", b64(header.to_string()), a.p, a.s),
            Access,
            "bad_signature",
        );
    }

    // --- HS256 / HS512 keyed with the pool's public key in its forms.
    let spki = c.access_key.spki_der();
    let pkcs1 = c.access_key.pkcs1_der();
    let spki_pem = pem("PUBLIC KEY", &spki);
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("PEM (SPKI)", spki_pem.clone().into_bytes()),
        (
            "PEM (SPKI) without the final newline",
            spki_pem.trim_end().as_bytes().to_vec(),
        ),
        ("PEM (PKCS#1)", pem("RSA PUBLIC KEY", &pkcs1).into_bytes()),
        ("DER (SPKI)", spki.clone()),
        ("JWK JSON", c.access_key.jwk().to_string().into_bytes()),
        (
            "JWK JSON as published",
            c.jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kid"] == json!(a_kid))
                .unwrap()
                .to_string()
                .into_bytes(),
        ),
        ("JWKS JSON", c.jwks.to_string().into_bytes()),
        ("raw n (base64url text)", b64(c.access_key.n()).into_bytes()),
        ("raw n (bytes)", c.access_key.n()),
    ];
    for (what, secret) in &secrets {
        rows.add(
            format!("HS256 keyed with the public key, {what}"),
            hmac_token("HS256", &a_kid, &a.p, secret),
            Access,
            "bad_signature",
        );
    }
    rows.add(
        "HS512 keyed with the public key, PEM (SPKI)",
        hmac_token("HS512", &a_kid, &a.p, spki_pem.as_bytes()),
        Access,
        "bad_signature",
    );

    // --- Other RSA algorithms: relabelled, and real signatures of the
    // pool's own key under another algorithm.
    let h = |alg: &str| b64(json!({"kid": a_kid, "alg": alg}).to_string());
    for alg in ["RS512", "RS384", "PS256", "PS512", "ES256"] {
        rows.add(
            format!("real RS256 signature relabelled {alg}"),
            format!("{}.{}.{}", h(alg), a.p, a.s),
            Access,
            "bad_signature",
        );
    }
    let text = payload.to_string();
    for (what, alg, label) in [
        ("real RS512 signature", Rsa::Rs512, "RS512"),
        ("real PS256 signature", Rsa::Ps256, "PS256"),
        ("real RS512 signature labelled RS256", Rsa::Rs512, "RS256"),
        ("real PS256 signature labelled RS256", Rsa::Ps256, "RS256"),
    ] {
        let header = json!({"kid": a_kid, "alg": label}).to_string();
        let input = format!("{}.{}", b64(&header), b64(&text));
        let sig = c.access_key.signature(alg, input.as_bytes());
        rows.add(
            format!("{what} by the pool's key"),
            format!("{input}.{}", b64(sig)),
            Access,
            "bad_signature",
        );
    }

    // --- kid: missing, unknown, path traversal, NUL, wrong type, or the
    // pool's kid on the attacker's signature.
    let forged = |header: Value| attacker.sign(header, &payload);
    rows.add(
        "no kid (attacker's signature)",
        forged(json!({"kid": null})),
        Access,
        "unknown_kid",
    );
    for (what, kid) in [
        ("the attacker's kid", json!(attacker.kid)),
        ("empty kid", json!("")),
        ("path-traversal kid", json!("../../etc/passwd")),
        (
            "path-traversal kid to /dev/null",
            json!("../../../../dev/null"),
        ),
        ("kid with NUL", json!(format!("{a_kid}\u{0}"))),
        ("kid with NUL first", json!(format!("\u{0}{a_kid}"))),
        ("kid a number", json!(1)),
        ("kid a list holding the pool's kid", json!([a_kid])),
        ("SQL in the kid", json!("' OR '1'='1")),
        ("a 4 KiB kid", json!("k".repeat(4096))),
    ] {
        rows.add(
            format!("{what} (attacker's signature)"),
            forged(json!({"kid": kid})),
            Access,
            "unknown_kid",
        );
    }
    rows.add(
        "the pool's kid on the attacker's signature",
        forged(json!({"kid": a_kid})),
        Access,
        "bad_signature",
    );
    rows.add(
        "the ID key's kid on the attacker's signature",
        forged(json!({"kid": c.id_key.kid})),
        Access,
        "bad_signature",
    );

    // --- The attacker's key named by jku / x5u or embedded (jwk, x5c).
    let jku = format!("{}/jwks.json", c.spy_url);
    let x5u = format!("{}/cert.pem", c.spy_url);
    let attacker_jwk = attacker.jwk();
    for (what, extra) in [
        ("jku", json!({"jku": jku})),
        ("x5u", json!({"x5u": x5u})),
        ("embedded jwk", json!({"jwk": attacker_jwk})),
        (
            "x5c",
            json!({"x5c": [STANDARD.encode(attacker.spki_der())]}),
        ),
        (
            "jku and embedded jwk",
            json!({"jku": jku, "jwk": attacker_jwk}),
        ),
    ] {
        let mut header = extra.clone();
        header["kid"] = json!(attacker.kid);
        rows.add(
            format!("{what} with the attacker's kid"),
            forged(header),
            Access,
            "unknown_kid",
        );
        let mut header = extra;
        header["kid"] = json!(a_kid);
        rows.add(
            format!("{what} with the pool's kid"),
            forged(header),
            Access,
            "bad_signature",
        );
    }

    // --- Validity period (signed by the pool's key).
    let now = c.now;
    let signed = |patch: Value| c.access_key.sign(json!({}), &patched(&payload, patch));
    rows.add(
        "expired two minutes ago",
        signed(json!({"exp": now - 120, "iat": now - 3720, "auth_time": now - 3720})),
        Access,
        "expired",
    );
    rows.add(
        "expired long ago",
        signed(json!({"exp": 1_000_000_000, "iat": 999_996_400})),
        Access,
        "expired",
    );
    rows.add("exp zero", signed(json!({"exp": 0})), Access, "expired");
    rows.add(
        "exp negative",
        signed(json!({"exp": -1})),
        Access,
        "expired",
    );
    rows.add(
        "nbf two minutes ahead",
        signed(json!({"nbf": now + 120})),
        Access,
        "not_yet_valid",
    );
    rows.add(
        "iat ten years ahead",
        signed(json!({"iat": now + 10 * 365 * 86400, "exp": now + 10 * 365 * 86400 + 3600})),
        Access,
        "not_yet_valid",
    );
    rows.add(
        "iat two minutes ahead",
        signed(json!({"iat": now + 120})),
        Access,
        "not_yet_valid",
    );
    rows.add(
        "iat as a huge float",
        signed(json!({"iat": 1e300})),
        Access,
        "not_yet_valid",
    );
    rows.add("no exp", signed(json!({"exp": null})), Access, "malformed");
    rows.add(
        "exp a string",
        signed(json!({"exp": (now + 3600).to_string()})),
        Access,
        "malformed",
    );

    // --- Issuer (signed by the pool's key).
    let iss = c.issuer.clone();
    let (scheme_host, pool) = iss.rsplit_once('/').unwrap();
    for (what, bad) in [
        (
            "another server's URL",
            format!("https://evil.example.com/{pool}"),
        ),
        ("issuer with a trailing slash", format!("{iss}/")),
        ("issuer upper-cased", iss.to_uppercase()),
        (
            "issuer with the host upper-cased",
            format!("{}/{pool}", scheme_host.to_uppercase()),
        ),
        (
            "issuer with the pool id upper-cased",
            format!("{scheme_host}/{}", pool.to_uppercase()),
        ),
        (
            "issuer with the pool id lower-cased",
            format!("{scheme_host}/{}", pool.to_lowercase()),
        ),
        (
            "issuer with a dot segment",
            format!("{scheme_host}/x/../{pool}"),
        ),
        (
            "issuer with a double slash",
            format!("{scheme_host}//{pool}"),
        ),
        ("issuer with a query", format!("{iss}?x=1")),
        ("issuer with a NUL", format!("{iss}\u{0}")),
        ("issuer empty", String::new()),
    ] {
        rows.add(what, signed(json!({"iss": bad})), Access, "wrong_issuer");
    }
    rows.add(
        "no issuer",
        signed(json!({"iss": null})),
        Access,
        "malformed",
    );
    rows.add(
        "issuer a list",
        signed(json!({"iss": [iss]})),
        Access,
        "malformed",
    );

    // --- Another pool: its real tokens, and pool A's claims signed with
    // pool B's real key.
    rows.add_not_user_api(
        "another pool's real access token",
        c.other_pool_access_token.clone(),
        Access,
        "wrong_issuer",
    );
    rows.add_not_user_api(
        "another pool's real ID token",
        c.other_pool_id_token.clone(),
        Id,
        "wrong_issuer",
    );
    rows.add(
        "pool A's claims signed by pool B's key (B's kid)",
        c.other_pool_key.sign(json!({}), &payload),
        Access,
        "unknown_kid",
    );
    rows.add(
        "pool A's claims signed by pool B's key (A's kid)",
        c.other_pool_key.sign(json!({"kid": a_kid}), &payload),
        Access,
        "bad_signature",
    );

    // --- Audience / client (the target allows one client only).
    rows.add_not_user_api(
        "another client's real ID token",
        c.other_client_id_token.clone(),
        Id,
        "wrong_audience",
    );
    rows.add_not_user_api(
        "another client's real access token",
        c.other_client_access_token.clone(),
        Access,
        "wrong_audience",
    );
    let other_client = split(&c.other_client_access_token).payload["client_id"].clone();
    let our_client = payload["client_id"].clone();
    rows.add_not_user_api(
        "access token of another client with our client as aud",
        signed(json!({"client_id": other_client, "aud": our_client})),
        Access,
        "wrong_audience",
    );
    rows.add_not_user_api(
        "ID token for another aud with our client as client_id",
        c.id_key.sign(
            json!({}),
            &patched(
                &i.payload,
                json!({"aud": other_client, "client_id": our_client}),
            ),
        ),
        Id,
        "wrong_audience",
    );

    // --- token_use.
    rows.add(
        "ID token where an access token is needed",
        c.id_token.clone(),
        Access,
        "wrong_token_use",
    );
    rows.add_not_user_api(
        "access token where an ID token is needed",
        c.access_token.clone(),
        Id,
        "wrong_token_use",
    );
    rows.add(
        "token_use ACCESS (upper case)",
        signed(json!({"token_use": "ACCESS"})),
        Access,
        "wrong_token_use",
    );
    rows.add(
        "no token_use",
        signed(json!({"token_use": null})),
        Access,
        "wrong_token_use",
    );

    // --- Tampering: one byte flipped in the header, payload or signature.
    let mut header = a.header.clone();
    header["typ"] = json!("JWT");
    rows.add(
        "header tampered (typ added)",
        format!("{}.{}.{}", b64(header.to_string()), a.p, a.s),
        Access,
        "bad_signature",
    );
    let header_text = a.header.to_string();
    let at = header_text.find(&a_kid).unwrap() + 3;
    let flipped = String::from_utf8(flip(header_text.into_bytes(), at)).unwrap();
    rows.add(
        "header tampered (a byte of the kid flipped)",
        format!("{}.{}.{}", b64(flipped), a.p, a.s),
        Access,
        "unknown_kid",
    );
    let payload_text = unb64(&a.p);
    let sub = payload["sub"].as_str().unwrap();
    let at = String::from_utf8_lossy(&payload_text).find(sub).unwrap() + 2;
    rows.add(
        "payload tampered (a byte of sub flipped)",
        format!("{}.{}.{}", a.h, b64(flip(payload_text, at)), a.s),
        Access,
        "bad_signature",
    );
    let mut more = payload.clone();
    more["scope"] = json!(format!("{} admin", payload["scope"].as_str().unwrap_or("")));
    rows.add(
        "payload tampered (scope added)",
        format!("{}.{}.{}", a.h, b64(more.to_string()), a.s),
        Access,
        "bad_signature",
    );
    let mut later = payload.clone();
    later["exp"] = json!(payload["exp"].as_i64().unwrap() + 86400);
    rows.add(
        "payload tampered (exp extended)",
        format!("{}.{}.{}", a.h, b64(later.to_string()), a.s),
        Access,
        "bad_signature",
    );
    for (what, at) in [
        ("first", 0),
        ("middle", a.sig.len() / 2),
        ("last", a.sig.len() - 1),
    ] {
        rows.add(
            format!("signature tampered ({what} byte flipped)"),
            format!("{}.{}.{}", a.h, a.p, b64(flip(a.sig.clone(), at))),
            Access,
            "bad_signature",
        );
    }
    rows.add(
        "signature all zeros",
        format!("{}.{}.{}", a.h, a.p, b64(vec![0u8; a.sig.len()])),
        Access,
        "bad_signature",
    );
    rows.add(
        "another token's signature",
        format!("{}.{}.{}", a.h, a.p, i.s),
        Access,
        "bad_signature",
    );

    // --- Truncated.
    rows.add(
        "signature removed (two parts)",
        format!("{}.{}", a.h, a.p),
        Access,
        "malformed",
    );
    rows.add(
        "signature empty",
        format!("{}.{}.", a.h, a.p),
        Access,
        "bad_signature",
    );
    rows.add(
        "signature cut short (252 of 256 bytes)",
        format!("{}.{}.{}", a.h, a.p, b64(&a.sig[..a.sig.len() - 4])),
        Access,
        "bad_signature",
    );
    rows.add(
        "signature one character short (not base64)",
        real[..real.len() - 1].to_owned(),
        Access,
        "malformed",
    );
    rows.add(
        "cut in the payload",
        real[..a.h.len() + 1 + a.p.len() / 2].to_owned(),
        Access,
        "malformed",
    );
    rows.add("header only", a.h.clone(), Access, "malformed");
    rows.add("only dots", "..".to_owned(), Access, "malformed");

    // --- Size.
    rows.add(
        "17 KiB token",
        format!("{real}{}", "A".repeat(17 * 1024)),
        Access,
        "malformed",
    );
    rows.add(
        "100 KiB token",
        format!("{}.{}.{}", a.h, "A".repeat(100 * 1024), a.s),
        Access,
        "malformed",
    );

    // --- Bad base64.
    rows.add(
        "padding on the header",
        format!("{}=.{}.{}", a.h, a.p, a.s),
        Access,
        "malformed",
    );
    rows.add(
        "padding on the payload",
        format!("{}.{}==.{}", a.h, a.p, a.s),
        Access,
        "malformed",
    );
    rows.add(
        "padding on the signature",
        format!("{real}=="),
        Access,
        "malformed",
    );
    let standard = real.replace('-', "+").replace('_', "/");
    assert_ne!(&standard, real, "the token has - or _ to replace");
    rows.add(
        "standard base64 alphabet (+ and /)",
        standard,
        Access,
        "malformed",
    );
    rows.add(
        "a space inside the payload",
        format!("{}.{} {}.{}", a.h, &a.p[..10], &a.p[10..], a.s),
        Access,
        "malformed",
    );
    rows.add(
        "a tab inside the signature",
        format!("{}.{}.{}\t{}", a.h, a.p, &a.s[..10], &a.s[10..]),
        Access,
        "malformed",
    );
    rows.add(
        "a non-ASCII letter inside the payload",
        format!("{}.é{}.{}", a.h, a.p, a.s),
        Access,
        "malformed",
    );
    rows.add(
        "a NUL byte inside the header",
        format!("{}\u{0}.{}.{}", a.h, a.p, a.s),
        Access,
        "malformed",
    );

    // --- Extra segments (JWE-shaped and otherwise).
    rows.add("four parts", format!("{real}.{}", a.s), Access, "malformed");
    rows.add(
        "four parts, last empty",
        format!("{real}."),
        Access,
        "malformed",
    );
    let jwe_header = b64(json!({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": a_kid}).to_string());
    rows.add(
        "five parts (JWE)",
        format!(
            "{jwe_header}.{}.{}.{}.{}",
            b64([7u8; 256]),
            b64([1u8; 12]),
            a.p,
            b64([2u8; 16])
        ),
        Access,
        "malformed",
    );
    rows.add(
        "five parts with an RS256 header",
        format!("{real}.{}.{}", a.p, a.s),
        Access,
        "malformed",
    );

    // --- Not JSON, or JSON of the wrong shape.
    rows.add(
        "header a JSON list",
        format!("{}.{}.{}", b64("[\"RS256\"]"), a.p, a.s),
        Access,
        "malformed",
    );
    rows.add(
        "payload a JSON list (attacker's signature)",
        attacker.sign_raw(
            Rsa::Rs256,
            &json!({"kid": a_kid, "alg": "RS256"}).to_string(),
            "[1,2,3]",
        ),
        Access,
        "malformed",
    );
    rows.add(
        "payload not JSON",
        format!("{}.{}.{}", a.h, b64("not json"), a.s),
        Access,
        "malformed",
    );
    rows.add(
        "payload nested 5000 deep",
        format!(
            "{}.{}.{}",
            a.h,
            b64(format!("{}{}", "[".repeat(5000), "]".repeat(5000))),
            a.s
        ),
        Access,
        "malformed",
    );

    // --- Duplicate JSON keys, signed by the pool's key: refused, so that
    // no parser that keeps the first value can disagree with the checks.
    let header = json!({"kid": a_kid, "alg": "RS256"});
    let dup = |h: String, p: String| c.access_key.sign_raw(Rsa::Rs256, &h, &p);
    rows.add(
        "two algs in the header (none, then RS256)",
        dup(dup_first(&header, "alg", json!("none")), text.clone()),
        Access,
        "malformed",
    );
    rows.add(
        "two algs in the header (RS256, then none)",
        dup(dup_last(&header, "alg", json!("none")), text.clone()),
        Access,
        "malformed",
    );
    rows.add(
        "two kids in the header",
        dup(dup_first(&header, "kid", json!(attacker.kid)), text.clone()),
        Access,
        "malformed",
    );
    rows.add(
        "two subs in the payload (another user's first)",
        dup(
            header.to_string(),
            dup_first(&payload, "sub", json!("someone-else")),
        ),
        Access,
        "malformed",
    );
    rows.add(
        "two subs in the payload (another user's last)",
        dup(
            header.to_string(),
            dup_last(&payload, "sub", json!("someone-else")),
        ),
        Access,
        "malformed",
    );
    rows.add(
        "two issuers in the payload",
        dup(
            header.to_string(),
            dup_first(&payload, "iss", json!("https://evil.example.com/x")),
        ),
        Access,
        "malformed",
    );
    rows.add(
        "two exps in the payload (past last)",
        dup(
            header.to_string(),
            dup_last(&payload, "exp", json!(now - 3600)),
        ),
        Access,
        "malformed",
    );
    rows.add(
        "two token_uses in the payload",
        dup(
            header.to_string(),
            dup_first(&payload, "token_use", json!("id")),
        ),
        Access,
        "malformed",
    );
    rows.add(
        "two scopes in the payload",
        dup(
            header.to_string(),
            dup_last(&payload, "scope", json!("admin")),
        ),
        Access,
        "malformed",
    );

    rows.0
}

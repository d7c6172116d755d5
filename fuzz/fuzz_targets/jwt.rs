//! The JWT decoder and verifier (`cognate-token`) against a fixed key set:
//! compact-JWS splitting and base64url, the duplicate-free JSON of header
//! and payload, RS256 pinning, `kid` lookup, the signature, then issuer,
//! client, times and `token_use` / scope / group policies.
//!
//! The first byte picks the mode:
//! - `T`: the rest is a token, verified as it is. No such token can be
//!   signed by this process's key (made at start), so none may verify.
//! - `P`: the rest is a payload, signed with the key (the header the
//!   issuer writes) and verified: the claim checks after the signature.
//! - `H`: the rest is `header \0 payload`, both base64url-encoded and
//!   signed with the key, then verified: a signed token with any header.
//! - `J`: the rest is a JWKS document, parsed into a key set.
#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cognate_crypto::SigningKey;
use cognate_token::{IssuerConfig, KeySet, Policy, ScopeMatch, TokenUse, Verifier};
use libfuzzer_sys::fuzz_target;

/// The instant tokens are checked at (seconds).
const NOW: i64 = cognate_fuzz::NOW_MS / 1000;

struct Keys {
    key: SigningKey,
    rsa: aws_lc_rs::rsa::KeyPair,
    verifier: Verifier,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = SigningKey::generate().expect("key");
        let rsa = aws_lc_rs::rsa::KeyPair::from_pkcs8(key.pkcs8()).expect("pkcs8");
        let issuer = format!("http://cognate.fuzz/{}", cognate_fuzz::POOL_ID);
        let verifier = Verifier::builder()
            .issuer(IssuerConfig::with_keys(
                &issuer,
                &[cognate_fuzz::CLIENT_ID],
                KeySet::from_keys(vec![key.verifying_key().clone()]),
            ))
            .cache_capacity(0)
            .build();
        Keys { key, rsa, verifier }
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn sign_raw(rsa: &aws_lc_rs::rsa::KeyPair, header: &[u8], payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut sig = vec![0; rsa.public_modulus_len()];
    rsa.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// Verifies and, when valid, runs the route policies over the claims.
fn check(k: &Keys, token: &str) -> bool {
    let _ = cognate_crypto::jws::decode(token);
    let verified = runtime().block_on(k.verifier.verify_at(token, NOW));
    match verified {
        Ok(claims) => {
            for token_use in [TokenUse::Any, TokenUse::Access, TokenUse::Id] {
                let _ = Policy::token_use(token_use).check(&claims);
            }
            let _ = Policy {
                token_use: TokenUse::Access,
                scopes: vec!["openid".into(), "email".into()],
                scope_match: ScopeMatch::All,
                groups: vec!["admins".into()],
            }
            .check(&claims);
            let _ = claims.username();
            let _ = claims.client();
            true
        }
        Err(rejection) => {
            let _ = (
                rejection.reason(),
                rejection.detail(),
                rejection.www_authenticate(),
            );
            false
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let k = keys();
    match mode {
        b'T' => {
            if let Ok(token) = std::str::from_utf8(rest) {
                assert!(
                    !check(k, token),
                    "a token this process never signed verified"
                );
            }
        }
        b'P' => {
            let _ = cognate_token::Claims::parse(rest);
            if let Ok(claims) = serde_json::from_slice::<serde_json::Value>(rest) {
                if let Ok(token) = k.key.sign(&claims) {
                    check(k, &token);
                }
            }
        }
        b'H' => {
            let (header, payload) = match rest.iter().position(|b| *b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b"{}"[..]),
            };
            let token = sign_raw(&k.rsa, header, payload);
            check(k, &token);
        }
        b'J' => {
            if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(rest) {
                let _ = KeySet::from_jwks_json(&doc);
            }
        }
        _ => {}
    }
});

//! RS256 JSON Web Signatures: per-pool RSA-2048 signing keys (stored as
//! PKCS#8), their public JWK form, compact JWS signing and verification with
//! the algorithm pinned to RS256.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwsError {
    #[error("key generation failed")]
    KeyGeneration,
    #[error("stored key is not a valid RSA PKCS#8 key")]
    BadKey,
    #[error("signing failed")]
    Signing,
    #[error("token is malformed")]
    Malformed,
    #[error("token algorithm is not RS256")]
    WrongAlgorithm,
    #[error("signature does not verify")]
    BadSignature,
}

/// The public half of a key as published in a JWKS.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Jwk {
    pub alg: String,
    pub e: String,
    pub kid: String,
    pub kty: String,
    pub n: String,
    #[serde(rename = "use")]
    pub use_: String,
}

/// An RSA private key that signs tokens, with its key id.
pub struct SigningKey {
    kid: String,
    pkcs8: Vec<u8>,
    pair: KeyPair,
    verifying: VerifyingKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key. Its kid, like Cognito's, is the
    /// standard-base64 SHA-256 of the public key (44 characters).
    pub fn generate() -> Result<Self, JwsError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| JwsError::KeyGeneration)?;
        let pkcs8 = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
            .map_err(|_| JwsError::KeyGeneration)?
            .as_ref()
            .to_vec();
        Self::from_parts(None, pkcs8)
    }

    /// Loads a stored key.
    pub fn from_pkcs8(kid: &str, pkcs8: &[u8]) -> Result<Self, JwsError> {
        Self::from_parts(Some(kid.to_owned()), pkcs8.to_vec())
    }

    fn from_parts(kid: Option<String>, pkcs8: Vec<u8>) -> Result<Self, JwsError> {
        let pair = KeyPair::from_pkcs8(&pkcs8).map_err(|_| JwsError::BadKey)?;
        let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let kid = kid
            .unwrap_or_else(|| STANDARD.encode(crate::digest::sha256(pair.public_key().as_ref())));
        let verifying = VerifyingKey::from_components(&kid, &components.n, &components.e)?;
        Ok(SigningKey {
            kid,
            pkcs8,
            pair,
            verifying,
            rng: SystemRandom::new(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key as PKCS#8 DER, for storage.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    pub fn jwk(&self) -> Jwk {
        self.verifying.jwk.clone()
    }

    /// An RSASSA-PKCS1-v1_5 SHA-256 signature of `message` (what a SAML
    /// redirect binding's `Signature` parameter carries).
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, JwsError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
            .map_err(|_| JwsError::Signing)?;
        Ok(sig)
    }

    /// Signs `claims` as a compact JWS with header `{"kid":..,"alg":"RS256"}`
    /// (Cognito's header has no `typ`).
    pub fn sign(&self, claims: &Value) -> Result<String, JwsError> {
        let header = json!({"kid": self.kid, "alg": "RS256"});
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.rng,
                token.as_bytes(),
                &mut sig,
            )
            .map_err(|_| JwsError::Signing)?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(sig));
        Ok(token)
    }
}

/// A public key that verifies RS256 signatures.
#[derive(Clone)]
pub struct VerifyingKey {
    jwk: Jwk,
    parsed: ParsedPublicKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// From big-endian modulus and exponent bytes.
    pub fn from_components(kid: &str, n: &[u8], e: &[u8]) -> Result<Self, JwsError> {
        let parsed = signature::RsaPublicKeyComponents { n, e }
            .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
            .map_err(|_| JwsError::BadKey)?;
        Ok(VerifyingKey {
            jwk: Jwk {
                alg: "RS256".into(),
                e: URL_SAFE_NO_PAD.encode(e),
                kid: kid.to_owned(),
                kty: "RSA".into(),
                n: URL_SAFE_NO_PAD.encode(n),
                use_: "sig".into(),
            },
            parsed,
        })
    }

    /// From a JWK (as fetched from a JWKS). Only RSA keys are accepted.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JwsError> {
        if jwk.kty != "RSA" {
            return Err(JwsError::BadKey);
        }
        let n = URL_SAFE_NO_PAD
            .decode(&jwk.n)
            .map_err(|_| JwsError::BadKey)?;
        let e = URL_SAFE_NO_PAD
            .decode(&jwk.e)
            .map_err(|_| JwsError::BadKey)?;
        Self::from_components(&jwk.kid, &n, &e)
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Verifies the signature of a compact JWS whose header was already
    /// checked to say RS256; returns nothing on success.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), JwsError> {
        self.parsed
            .verify_sig(signing_input, signature)
            .map_err(|_| JwsError::BadSignature)
    }
}

/// The three decoded parts of a compact JWS, before any signature check.
#[derive(Debug)]
pub struct DecodedJws<'a> {
    pub header: Value,
    pub payload: Vec<u8>,
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

impl DecodedJws<'_> {
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// Maximum accepted token length; bounds work done on attacker input.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Splits and decodes a compact JWS, and pins the algorithm to RS256.
pub fn decode(token: &str) -> Result<DecodedJws<'_>, JwsError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwsError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let header_bytes = URL_SAFE_NO_PAD.decode(h).map_err(|_| JwsError::Malformed)?;
    let header = json_without_duplicates(&header_bytes).map_err(|_| JwsError::Malformed)?;
    if !header.is_object() {
        return Err(JwsError::Malformed);
    }
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(JwsError::WrongAlgorithm);
    }
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| JwsError::Malformed)?;
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwsError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    Ok(DecodedJws {
        header,
        payload,
        signing_input,
        signature,
    })
}

/// Parses JSON, refusing an object with a member name twice (at any
/// depth). RFC 7515 (§5.2) and RFC 7519 (§4) let a JWS/JWT parser either
/// refuse duplicate names or keep the last; we refuse them, so that no
/// other parser of the same token (one that keeps the first value, say, in
/// a backend reading the forwarded `Authorization` header) can see
/// different claims from the ones that were checked.
pub fn json_without_duplicates(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A `serde_json::Value` seed that fails on a duplicate member name.
struct Strict;

impl<'de> serde::de::DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = serde_json::Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(serde::de::Error::custom("duplicate member name"));
            }
            let value = map.next_value_seed(Strict)?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip() {
        let key = SigningKey::generate().unwrap();
        assert_eq!(key.kid().len(), 44);
        let token = key.sign(&json!({"sub": "x", "token_use": "id"})).unwrap();
        let decoded = decode(&token).unwrap();
        assert_eq!(decoded.kid(), Some(key.kid()));
        assert!(decoded.header.get("typ").is_none());
        key.verifying_key()
            .verify(decoded.signing_input.as_bytes(), &decoded.signature)
            .unwrap();

        // A reloaded key has the same kid and verifies the same tokens.
        let reloaded = SigningKey::from_pkcs8(key.kid(), key.pkcs8()).unwrap();
        assert_eq!(reloaded.jwk(), key.jwk());
        let from_jwk = VerifyingKey::from_jwk(&key.jwk()).unwrap();
        from_jwk
            .verify(decoded.signing_input.as_bytes(), &decoded.signature)
            .unwrap();
    }

    #[test]
    fn tampering_and_other_algorithms_are_refused() {
        let key = SigningKey::generate().unwrap();
        let token = key.sign(&json!({"sub": "x"})).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(json!({"sub": "y"}).to_string());
        let tampered = parts.join(".");
        let decoded = decode(&tampered).unwrap();
        assert_eq!(
            key.verifying_key()
                .verify(decoded.signing_input.as_bytes(), &decoded.signature),
            Err(JwsError::BadSignature)
        );

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        let forged = format!("{none_header}.{}.", parts[1]);
        assert_eq!(decode(&forged).err(), Some(JwsError::WrongAlgorithm));
        assert_eq!(decode("a.b").err(), Some(JwsError::Malformed));
    }

    #[test]
    fn duplicate_member_names_are_refused_at_any_depth() {
        let ok = json_without_duplicates(br#"{"a":1,"b":[{"a":2},{"a":3}],"c":{"d":null}}"#);
        assert_eq!(
            ok.unwrap(),
            json!({"a":1,"b":[{"a":2},{"a":3}],"c":{"d":null}})
        );
        for bad in [
            &br#"{"alg":"none","alg":"RS256"}"#[..],
            br#"{"a":{"x":1,"x":2}}"#,
            br#"[{"k":1,"k":1}]"#,
            br#"{"a":1} {"b":2}"#,
        ] {
            assert!(json_without_duplicates(bad).is_err());
        }
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","alg":"RS256"}"#);
        assert_eq!(
            decode(&format!("{header}.e30.")).err(),
            Some(JwsError::Malformed)
        );
    }
}

/// The DER body of a PEM `PRIVATE KEY` (PKCS#8), as Apple's `.p8` key
/// files hold it; line breaks may be real or written as `\n`.
fn pkcs8_pem_der(pem: &str) -> Result<Vec<u8>, JwsError> {
    let text = pem.replace("\\n", "\n");
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    STANDARD.decode(body).map_err(|_| JwsError::BadKey)
}

/// A compact ES256 JWS of `claims`, header `{"alg":"ES256","kid":kid}`,
/// signed with the P-256 private key of `pkcs8_pem` (a PEM `PRIVATE KEY`):
/// the client secret Sign in with Apple asks of its clients.
pub fn es256_jwt(pkcs8_pem: &str, kid: &str, claims: &Value) -> Result<String, JwsError> {
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let der = pkcs8_pem_der(pkcs8_pem)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
        .map_err(|_| JwsError::BadKey)?;
    let header = json!({"alg": "ES256", "kid": kid});
    let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let sig = pair
        .sign(&SystemRandom::new(), token.as_bytes())
        .map_err(|_| JwsError::Signing)?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(sig.as_ref()));
    Ok(token)
}

/// A new P-256 key as a PEM `PRIVATE KEY` with its public point's `x` and
/// `y` (for tests and tooling that act as Sign in with Apple's developer).
pub fn generate_es256_pem() -> Result<(String, Vec<u8>, Vec<u8>), JwsError> {
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| JwsError::KeyGeneration)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| JwsError::KeyGeneration)?;
    let point = pair.public_key().as_ref();
    if point.len() != 65 {
        return Err(JwsError::KeyGeneration);
    }
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    Ok((pem, point[1..33].to_vec(), point[33..].to_vec()))
}

/// Whether `token` is a compact JWS whose ES256 signature (JOSE's fixed
/// `r || s` form) verifies with the P-256 point (`x`, `y`).
pub fn es256_jwt_verifies(token: &str, x: &[u8], y: &[u8]) -> bool {
    let Some((input, sig)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    let mut point = vec![0x04];
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
        .verify(input.as_bytes(), &sig)
        .is_ok()
}

#[cfg(test)]
mod es256_tests {
    use super::*;

    #[test]
    fn es256_jwt_verifies_with_the_public_point() {
        let (pem, x, y) = generate_es256_pem().unwrap();
        let token = es256_jwt(&pem, "KEY123", &json!({"sub": "svc"})).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "ES256", "kid": "KEY123"}));
        assert!(es256_jwt_verifies(&token, &x, &y));
        assert!(!es256_jwt_verifies(&format!("{token}x"), &x, &y));
        // A key written with `\n` escapes, as it may come through JSON.
        assert!(es256_jwt(&pem.replace('\n', "\\n"), "K", &json!({})).is_ok());
        assert_eq!(
            es256_jwt("not a key", "K", &json!({})),
            Err(JwsError::BadKey)
        );
    }
}

//! Signature checks of WebAuthn assertions (passkeys): ES256 (ECDSA P-256
//! with SHA-256, DER signatures, COSE algorithm -7) and RS256 (RSASSA
//! PKCS#1 v1.5 with SHA-256, COSE algorithm -257), with aws-lc-rs. The COSE
//! key is parsed by the caller (core's `service::webauthn`); here are only
//! its numbers.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

/// COSE algorithm identifier of ES256.
pub const COSE_ES256: i64 = -7;
/// COSE algorithm identifier of RS256.
pub const COSE_RS256: i64 = -257;

/// Whether `signature` (ASN.1 DER, as authenticators produce it) is an
/// ES256 signature of `message` by the P-256 key with affine coordinates
/// `x` and `y` (32 bytes each).
pub fn verify_es256(x: &[u8], y: &[u8], message: &[u8], signature: &[u8]) -> bool {
    if x.len() != 32 || y.len() != 32 {
        return false;
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &point)
        .verify(message, signature)
        .is_ok()
}

/// Whether an ES256 public key (`x`, `y`) is a point of the P-256 curve.
pub fn es256_key_valid(x: &[u8], y: &[u8]) -> bool {
    if x.len() != 32 || y.len() != 32 {
        return false;
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    signature::ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &point).is_ok()
}

/// Whether `signature` is an RS256 signature of `message` by the RSA key
/// with modulus `n` and exponent `e` (big-endian bytes; 2048 to 8192 bits).
pub fn verify_rs256(n: &[u8], e: &[u8], message: &[u8], signature: &[u8]) -> bool {
    RsaPublicKeyComponents { n, e }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
        .is_ok()
}

/// A SHA-2 digest an XML signature names (SHA-256, SHA-384 or SHA-512).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sha2 {
    Sha256,
    Sha384,
    Sha512,
}

/// Whether `signature` is an RSASSA-PKCS1-v1_5 signature of `message`
/// with `hash` by the RSA key (`n`, `e`; 2048 to 8192 bits).
pub fn verify_rsa_pkcs1(n: &[u8], e: &[u8], hash: Sha2, message: &[u8], signature: &[u8]) -> bool {
    let algorithm = match hash {
        Sha2::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Sha2::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Sha2::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
    };
    RsaPublicKeyComponents { n, e }
        .verify(algorithm, message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

    #[test]
    fn es256_round_trip() {
        let rng = SystemRandom::new();
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("generate");
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, doc.as_ref()).expect("parse");
        let public = pair.public_key().as_ref().to_vec();
        let (x, y) = (&public[1..33], &public[33..65]);
        let sig = pair.sign(&rng, b"message").expect("sign");
        assert!(verify_es256(x, y, b"message", sig.as_ref()));
        assert!(!verify_es256(x, y, b"messagf", sig.as_ref()));
        assert!(!verify_es256(&x[1..], y, b"message", sig.as_ref()));
        assert!(es256_key_valid(x, y));
        let mut bad_y = y.to_vec();
        bad_y[5] ^= 1;
        assert!(!es256_key_valid(x, &bad_y));
    }

    #[test]
    fn rs256_round_trip() {
        let pair =
            aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("generate");
        let rng = SystemRandom::new();
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(&signature::RSA_PKCS1_SHA256, &rng, b"message", &mut sig)
            .expect("sign");
        let components = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        assert!(verify_rs256(&components.n, &components.e, b"message", &sig));
        assert!(!verify_rs256(&components.n, &components.e, b"other", &sig));
    }
}

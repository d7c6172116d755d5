//! Digests and comparisons for secrets that are stored or compared by value:
//! refresh tokens, session handles and one-time codes are stored only as
//! SHA-256 digests; comparisons of secrets are constant-time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Lower-case hex SHA-256 of `input`.
pub fn sha256_hex(input: &[u8]) -> String {
    hex(&Sha256::digest(input))
}

/// SHA-256 of `input`.
pub fn sha256(input: &[u8]) -> [u8; 32] {
    Sha256::digest(input).into()
}

/// SHA-1 of `input`: only for looking a password up in a list of
/// compromised passwords, which are published as SHA-1 digests.
pub fn sha1(input: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::digest(input).into()
}

/// The SHA-2 digest `hash` of `input`.
pub fn sha2(hash: crate::webauthn::Sha2, input: &[u8]) -> Vec<u8> {
    use crate::webauthn::Sha2;
    match hash {
        Sha2::Sha256 => Sha256::digest(input).to_vec(),
        Sha2::Sha384 => sha2::Sha384::digest(input).to_vec(),
        Sha2::Sha512 => sha2::Sha512::digest(input).to_vec(),
    }
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0u8; 32],
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Cognito's SECRET_HASH: Base64(HMAC-SHA256(client_secret, username + client_id)).
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    let mut message = Vec::with_capacity(username.len() + client_id.len());
    message.extend_from_slice(username.as_bytes());
    message.extend_from_slice(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD
        .encode(hmac_sha256(client_secret.as_bytes(), &message))
}

/// Constant-time equality of two byte strings (length may leak, content
/// does not): the differences of every 8-byte word are or-ed together with
/// no branch on the content, then compared once with `subtle` (a byte-wise
/// `ct_eq` costs about a microsecond per kilobyte, a token's size).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (words_a, rest_a) = a.as_chunks::<8>();
    let (words_b, rest_b) = b.as_chunks::<8>();
    let mut diff = 0u64;
    for (x, y) in words_a.iter().zip(words_b) {
        diff |= u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y);
    }
    for (x, y) in rest_a.iter().zip(rest_b) {
        diff |= u64::from(x ^ y);
    }
    bool::from(diff.ct_eq(&0))
}

/// Lower-case hex encoding.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_reference_vector() {
        // Computed independently with Python:
        // base64(hmac.new(b"secret", b"alice" + b"client", sha256).digest())
        assert_eq!(
            secret_hash("secret", "alice", "client"),
            "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0="
        );
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
        // Every position of a long string counts, in the words and the tail.
        let token = (0..1041).map(|i| (i % 251) as u8).collect::<Vec<_>>();
        assert!(constant_time_eq(&token, &token.clone()));
        for at in [0, 7, 8, 500, 1031, 1032, 1040] {
            let mut other = token.clone();
            other[at] ^= 0x40;
            assert!(!constant_time_eq(&token, &other), "{at}");
        }
    }
}

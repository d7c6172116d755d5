//! Random identifiers and secrets, all drawn from the operating system's CSPRNG.

use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LOWER_ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn pick(alphabet: &[u8], len: usize) -> String {
    let mut rng = OsRng;
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// `len` characters from `[0-9A-Za-z]` (pool id suffixes).
pub fn alnum(len: usize) -> String {
    pick(ALNUM, len)
}

/// `len` characters from `[0-9a-z]` (app client ids and secrets).
pub fn lower_alnum(len: usize) -> String {
    pick(LOWER_ALNUM, len)
}

/// `len` decimal digits (confirmation codes).
pub fn digits(len: usize) -> String {
    pick(b"0123456789", len)
}

/// `n` random bytes.
pub fn bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    OsRng.fill_bytes(&mut out);
    out
}

/// `n` random bytes rendered as unpadded base64url.
pub fn base64url(n: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes(n))
}

/// A random (version 4) UUID in its hyphenated lower-case text form.
pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A random UUID of version 7 (RFC 9562) whose leading 48 bits are
/// `unix_ms`: the `jti` of the tokens we sign, so that a token's issue
/// instant is known to the millisecond (`iat` has whole seconds only).
pub fn uuid_v7(unix_ms: i64) -> String {
    let ms = u64::try_from(unix_ms).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        ms / 1000,
        u32::try_from((ms % 1000) * 1_000_000).unwrap_or(0),
    );
    uuid::Uuid::new_v7(ts).to_string()
}

/// The millisecond instant inside a version-7 UUID; `None` for any other
/// string.
pub fn uuid_v7_millis(s: &str) -> Option<i64> {
    let id = uuid::Uuid::try_parse(s).ok()?;
    if id.get_version_num() != 7 {
        return None;
    }
    let b = id.as_bytes();
    let ms = b[..6]
        .iter()
        .fold(0i64, |acc, x| (acc << 8) | i64::from(*x));
    Some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabets_and_lengths() {
        let id = lower_alnum(26);
        assert_eq!(id.len(), 26);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        let d = digits(6);
        assert!(d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(uuid(), uuid());
        let v7 = uuid_v7(1_733_400_000_123);
        assert_eq!(uuid_v7_millis(&v7), Some(1_733_400_000_123));
        assert_ne!(v7, uuid_v7(1_733_400_000_123));
        assert_eq!(uuid_v7_millis(&uuid()), None);
        assert_eq!(uuid_v7_millis("not a uuid"), None);
    }
}

//! RFC 6238 time-based one-time passwords as authenticator apps compute
//! them (HMAC-SHA1, 6 digits, 30-second steps), and the RFC 4648 base32
//! text of their secrets.

use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::digest::constant_time_eq;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Seconds per step.
pub const STEP: i64 = 30;

/// Unpadded RFC 4648 base32.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32 (case-insensitive, padding and spaces ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let value = ALPHABET
            .iter()
            .position(|a| *a as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// A new secret: 32 random bytes as base32 (52 characters, like Cognito's).
pub fn new_secret() -> String {
    base32_encode(&crate::random::bytes(32))
}

/// The 6-digit code of `secret` for time step `step`.
pub fn code_at(secret: &[u8], step: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let value = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    format!("{:06}", value % 1_000_000)
}

/// The step a code matches within ±1 step of `now` (epoch seconds), if any.
pub fn matching_step(secret_base32: &str, code: &str, now: i64) -> Option<i64> {
    let secret = base32_decode(secret_base32)?;
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP);
    [current - 1, current, current + 1]
        .into_iter()
        .find(|step| constant_time_eq(code_at(&secret, *step).as_bytes(), code.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8 digits
        // truncated here to the last 6.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59 / 30), "287082");
        assert_eq!(code_at(secret, 1_111_111_109 / 30), "081804");
        assert_eq!(code_at(secret, 1_234_567_890 / 30), "005924");
    }

    #[test]
    fn base32_round_trip_and_window() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        let secret = new_secret();
        assert_eq!(secret.len(), 52);
        let raw = base32_decode(&secret).unwrap();
        let now = 1_700_000_000;
        let code = code_at(&raw, now / 30 + 1);
        assert_eq!(matching_step(&secret, &code, now), Some(now / 30 + 1));
        assert_eq!(
            matching_step(&secret, &code_at(&raw, now / 30 + 3), now),
            None
        );
        assert_eq!(matching_step(&secret, "12345", now), None);
    }
}

//! Cognito's SRP-6a variant (USER_SRP_AUTH / PASSWORD_VERIFIER, and
//! DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER with the device group key for
//! the pool name and the device key for the user id): the RFC 5054
//! 3072-bit group with g = 2, SHA-256, Java-style "padHex" encoding of big
//! integers, an HKDF-derived 16-byte key ("Caldera Derived Key") and an HMAC
//! over pool name, user id, secret block and timestamp. The server side,
//! and the client side as amazon-cognito-identity-js computes it
//! (`client_public`, `client_claim`), for tests and tools acting as a client.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use num_bigint::BigUint;
use num_traits::Zero;
use sha2::{Digest, Sha256};

use crate::digest::{constant_time_eq, hex, hmac_sha256};

/// RFC 3526 / RFC 5054 3072-bit MODP prime.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
);

/// Largest accepted SRP_A, in hex digits (the modulus is 768).
pub const MAX_A_HEX: usize = 770;

fn n() -> BigUint {
    BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap_or_default()
}

fn g() -> BigUint {
    BigUint::from(2u32)
}

/// Hex of a big integer, padded like Java's `BigInteger.toByteArray`: an
/// even number of digits, with a `00` byte in front when the top bit is set.
pub fn pad_hex(value: &BigUint) -> String {
    let mut h = value.to_str_radix(16);
    if h.len() % 2 == 1 {
        h.insert(0, '0');
    } else if h
        .as_bytes()
        .first()
        .is_some_and(|c| b"89abcdef".contains(c))
    {
        h.insert_str(0, "00");
    }
    h
}

fn hex_bytes(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .filter_map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// SHA-256 of the bytes a hex string stands for, as hex.
fn hex_hash(h: &str) -> String {
    hex(&Sha256::digest(hex_bytes(h)))
}

fn k() -> BigUint {
    let h = hex_hash(&format!("{}{}", pad_hex(&n()), pad_hex(&g())));
    BigUint::parse_bytes(h.as_bytes(), 16).unwrap_or_default()
}

/// The SALT challenge parameter for a stored salt: the salt as the
/// verifier's math reads it (a number, padded as [`pad_hex`] pads). Clients
/// differ on a salt that begins with a zero byte: amazon-cognito-identity-js
/// reads it as a number, pycognito pads the string as given, so a stored
/// `0005…` would make pycognito compute another `x`. The canonical form is
/// read the same way by both and by the verifier.
pub fn salt_param(stored_hex: &str) -> String {
    match BigUint::parse_bytes(stored_hex.as_bytes(), 16) {
        Some(n) => pad_hex(&n),
        None => stored_hex.to_owned(),
    }
}

/// Parses a hex big integer; `None` when it is not hex or is too long.
pub fn parse_hex(value: &str, max_len: usize) -> Option<BigUint> {
    if value.is_empty() || value.len() > max_len {
        return None;
    }
    BigUint::parse_bytes(value.as_bytes(), 16)
}

/// The salt (hex) and verifier (hex) stored for a password.
pub fn make_verifier(
    pool_name: &str,
    user_id: &str,
    password: &str,
    salt: &[u8],
) -> (String, String) {
    let salt_int = BigUint::from_bytes_be(salt);
    let x = compute_x(pool_name, user_id, password, &salt_int);
    let v = g().modpow(&x, &n());
    (hex(salt), v.to_str_radix(16))
}

fn compute_x(pool_name: &str, user_id: &str, password: &str, salt: &BigUint) -> BigUint {
    let inner = hex(&Sha256::digest(
        format!("{pool_name}{user_id}:{password}").as_bytes(),
    ));
    let h = hex_hash(&format!("{}{}", pad_hex(salt), inner));
    BigUint::parse_bytes(h.as_bytes(), 16).unwrap_or_default()
}

/// The server's half of one SRP exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerExchange {
    /// Secret exponent, hex.
    pub b: String,
    /// Public value, hex.
    pub big_b: String,
}

/// Starts an exchange for a stored verifier: picks `b`, computes `B = k·v + g^b mod N`.
pub fn server_start(verifier_hex: &str, b_bytes: &[u8]) -> Option<ServerExchange> {
    let modulus = n();
    let v = BigUint::parse_bytes(verifier_hex.as_bytes(), 16)?;
    let b = BigUint::from_bytes_be(b_bytes);
    let big_b = (k() * v + g().modpow(&b, &modulus)) % &modulus;
    if big_b.is_zero() {
        return None;
    }
    Some(ServerExchange {
        b: b.to_str_radix(16),
        big_b: big_b.to_str_radix(16),
    })
}

/// Whether a verifier given as its big-endian bytes (ConfirmDevice's
/// `PasswordVerifier`, base64-decoded) is a usable SRP verifier: a
/// non-zero element below N.
pub fn valid_verifier(bytes: &[u8]) -> bool {
    if bytes.len() > MAX_A_HEX / 2 {
        return false;
    }
    let v = BigUint::from_bytes_be(bytes);
    !v.is_zero() && v < n()
}

/// Whether `A` is acceptable (in range, not a multiple of N).
pub fn valid_a(a_hex: &str) -> bool {
    match parse_hex(a_hex, MAX_A_HEX) {
        Some(a) => {
            let modulus = n();
            a < modulus && !(a % modulus).is_zero()
        }
        None => false,
    }
}

/// The 16-byte session key both sides derive.
fn session_key(a_hex: &str, exchange: &ServerExchange, verifier_hex: &str) -> Option<Vec<u8>> {
    let modulus = n();
    let a = parse_hex(a_hex, MAX_A_HEX)?;
    let big_b = BigUint::parse_bytes(exchange.big_b.as_bytes(), 16)?;
    let b = BigUint::parse_bytes(exchange.b.as_bytes(), 16)?;
    let v = BigUint::parse_bytes(verifier_hex.as_bytes(), 16)?;
    let u_hex = hex_hash(&format!("{}{}", pad_hex(&a), pad_hex(&big_b)));
    let u = BigUint::parse_bytes(u_hex.as_bytes(), 16)?;
    if u.is_zero() {
        return None;
    }
    let s = (a * v.modpow(&u, &modulus)).modpow(&b, &modulus);
    // HKDF-SHA256 with one output block, truncated to 16 bytes.
    let prk = hmac_sha256(&hex_bytes(&pad_hex(&u)), &hex_bytes(&pad_hex(&s)));
    let okm = hmac_sha256(&prk, b"Caldera Derived Key\x01");
    Some(okm[..16].to_vec())
}

/// Checks PASSWORD_CLAIM_SIGNATURE: base64(HMAC(K, poolName ‖ userId ‖ secretBlock ‖ timestamp)).
#[allow(clippy::too_many_arguments)]
pub fn verify_claim(
    pool_name: &str,
    user_id: &str,
    verifier_hex: &str,
    a_hex: &str,
    exchange: &ServerExchange,
    secret_block_b64: &str,
    timestamp: &str,
    signature_b64: &str,
) -> bool {
    let Some(key) = session_key(a_hex, exchange, verifier_hex) else {
        return false;
    };
    let Ok(secret_block) = STANDARD.decode(secret_block_b64) else {
        return false;
    };
    let mut message = Vec::new();
    message.extend_from_slice(pool_name.as_bytes());
    message.extend_from_slice(user_id.as_bytes());
    message.extend_from_slice(&secret_block);
    message.extend_from_slice(timestamp.as_bytes());
    let expected = STANDARD.encode(hmac_sha256(&key, &message));
    constant_time_eq(expected.as_bytes(), signature_b64.as_bytes())
}

/// A client's public value `A = g^a mod N` (hex) for its secret `a`.
pub fn client_public(a_bytes: &[u8]) -> String {
    let a = BigUint::from_bytes_be(a_bytes);
    g().modpow(&a, &n()).to_str_radix(16)
}

/// The PASSWORD_CLAIM_SIGNATURE a client with `password` sends, as
/// amazon-cognito-identity-js computes it (`SALT` read as a number);
/// `None` when a challenge parameter is not hex or not base64.
#[allow(clippy::too_many_arguments)]
pub fn client_claim(
    pool_name: &str,
    user_id: &str,
    password: &str,
    salt_hex: &str,
    a_bytes: &[u8],
    big_b_hex: &str,
    secret_block_b64: &str,
    timestamp: &str,
) -> Option<String> {
    let salt = BigUint::parse_bytes(salt_hex.as_bytes(), 16)?;
    let x = compute_x(pool_name, user_id, password, &salt);
    let a = BigUint::from_bytes_be(a_bytes);
    claim_with_x(
        pool_name,
        user_id,
        &x,
        &a,
        big_b_hex,
        secret_block_b64,
        timestamp,
    )
}

/// The client's signature for a given `x`.
fn claim_with_x(
    pool_name: &str,
    user_id: &str,
    x: &BigUint,
    a: &BigUint,
    big_b_hex: &str,
    secret_block_b64: &str,
    timestamp: &str,
) -> Option<String> {
    let modulus = n();
    let big_a = g().modpow(a, &modulus);
    let big_b = BigUint::parse_bytes(big_b_hex.as_bytes(), 16)?;
    let u_hex = hex_hash(&format!("{}{}", pad_hex(&big_a), pad_hex(&big_b)));
    let u = BigUint::parse_bytes(u_hex.as_bytes(), 16)?;
    let kgx = (k() * g().modpow(x, &modulus)) % &modulus;
    let base = (big_b + &modulus - kgx) % &modulus;
    let s = base.modpow(&(a + u.clone() * x.clone()), &modulus);
    let prk = hmac_sha256(&hex_bytes(&pad_hex(&u)), &hex_bytes(&pad_hex(&s)));
    let key = &hmac_sha256(&prk, b"Caldera Derived Key\x01")[..16];
    let mut message = Vec::new();
    message.extend_from_slice(pool_name.as_bytes());
    message.extend_from_slice(user_id.as_bytes());
    message.extend_from_slice(&STANDARD.decode(secret_block_b64).ok()?);
    message.extend_from_slice(timestamp.as_bytes());
    Some(STANDARD.encode(hmac_sha256(key, &message)))
}

/// Parses Cognito's SRP timestamp (`Tue Mar 5 09:07:03 UTC 2024`) to epoch seconds.
pub fn parse_timestamp(ts: &str) -> Option<i64> {
    let parts: Vec<&str> = ts.split_whitespace().collect();
    let [_dow, mon, day, time, zone, year] = parts.as_slice() else {
        return None;
    };
    if *zone != "UTC" {
        return None;
    }
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == mon)? as i64
        + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client side, as amazon-cognito-identity-js computes it.
    #[allow(clippy::too_many_arguments)]
    fn client_signature(
        pool: &str,
        user: &str,
        password: &str,
        salt_hex: &str,
        a: &BigUint,
        big_b_hex: &str,
        secret_block: &str,
        timestamp: &str,
    ) -> String {
        client_claim(
            pool,
            user,
            password,
            salt_hex,
            &a.to_bytes_be(),
            big_b_hex,
            secret_block,
            timestamp,
        )
        .unwrap()
    }

    /// pycognito's `x`: it pads the SALT string as given instead of reading
    /// it as a number first.
    fn pycognito_x(pool: &str, user: &str, password: &str, salt_param: &str) -> BigUint {
        let mut padded = salt_param.to_owned();
        if padded.len() % 2 == 1 {
            padded.insert(0, '0');
        } else if padded
            .as_bytes()
            .first()
            .is_some_and(|c| b"89abcdef".contains(c))
        {
            padded.insert_str(0, "00");
        }
        let inner = hex(&Sha256::digest(
            format!("{pool}{user}:{password}").as_bytes(),
        ));
        BigUint::parse_bytes(hex_hash(&format!("{padded}{inner}")).as_bytes(), 16).unwrap()
    }

    /// The client's PASSWORD_CLAIM_SIGNATURE for a given `x`.
    fn signature_with_x(
        pool: &str,
        user: &str,
        x: &BigUint,
        a: &BigUint,
        big_b_hex: &str,
        secret_block: &str,
        timestamp: &str,
    ) -> String {
        claim_with_x(pool, user, x, a, big_b_hex, secret_block, timestamp).unwrap()
    }

    #[test]
    fn a_client_with_the_password_is_accepted_and_others_are_not() {
        let salt = crate::random::bytes(16);
        let (salt_hex, verifier) = make_verifier("Abc123", "alice", "Passw0rd!", &salt);
        let exchange = server_start(&verifier, &crate::random::bytes(32)).unwrap();
        let a = BigUint::from_bytes_be(&crate::random::bytes(128));
        let a_hex = g().modpow(&a, &n()).to_str_radix(16);
        assert!(valid_a(&a_hex));
        let block = STANDARD.encode(crate::random::bytes(64));
        let ts = "Tue Mar 5 09:07:03 UTC 2024";
        let good = client_signature(
            "Abc123",
            "alice",
            "Passw0rd!",
            &salt_hex,
            &a,
            &exchange.big_b,
            &block,
            ts,
        );
        assert!(verify_claim(
            "Abc123", "alice", &verifier, &a_hex, &exchange, &block, ts, &good
        ));
        let bad = client_signature(
            "Abc123",
            "alice",
            "wrong",
            &salt_hex,
            &a,
            &exchange.big_b,
            &block,
            ts,
        );
        assert!(!verify_claim(
            "Abc123", "alice", &verifier, &a_hex, &exchange, &block, ts, &bad
        ));
    }

    #[test]
    fn a_salt_with_a_leading_zero_byte_is_sent_so_pycognito_agrees() {
        // 00 05 …: pycognito would pad the string "0005…" as it stands.
        let mut salt = crate::random::bytes(16);
        salt[0] = 0x00;
        salt[1] = 0x05;
        let (stored, verifier) = make_verifier("Abc123", "alice", "Passw0rd!", &salt);
        assert!(stored.starts_with("0005"));
        let sent = salt_param(&stored);
        assert!(sent.starts_with("05"), "{sent}");
        let exchange = server_start(&verifier, &crate::random::bytes(32)).unwrap();
        let a = BigUint::from_bytes_be(&crate::random::bytes(128));
        let a_hex = g().modpow(&a, &n()).to_str_radix(16);
        let block = STANDARD.encode(crate::random::bytes(64));
        let ts = "Tue Mar 5 09:07:03 UTC 2024";
        let sign = |salt_param: &str| {
            let x = pycognito_x("Abc123", "alice", "Passw0rd!", salt_param);
            signature_with_x("Abc123", "alice", &x, &a, &exchange.big_b, &block, ts)
        };
        let check = |sig: &str| {
            verify_claim(
                "Abc123", "alice", &verifier, &a_hex, &exchange, &block, ts, sig,
            )
        };
        assert!(check(&sign(&sent)));
        // The stored form itself is what pycognito got wrong.
        assert!(!check(&sign(&stored)));
        // Salts without a zero byte in front are sent unchanged.
        assert_eq!(salt_param("1234"), "1234");
        assert_eq!(salt_param("0c12"), "0c12");
        assert_eq!(salt_param("00ab"), "00ab");
    }

    #[test]
    fn constants_and_encodings() {
        assert_eq!(N_HEX.len(), 768);
        assert_eq!(pad_hex(&BigUint::from(2u32)), "02");
        assert_eq!(pad_hex(&BigUint::from(0x80u32)), "0080");
        assert_eq!(pad_hex(&BigUint::from(0x123u32)), "0123");
        assert!(!valid_a("0"));
        assert!(!valid_a(N_HEX));
        assert!(!valid_a("zz"));
        assert_eq!(parse_timestamp("Thu Jan 1 00:00:00 UTC 1970"), Some(0));
        assert_eq!(
            parse_timestamp("Tue Mar 5 09:07:03 UTC 2024"),
            Some(1_709_629_623)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}

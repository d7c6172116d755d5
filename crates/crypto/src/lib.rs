//! Cryptographic building blocks for cognate: password hashing (argon2id),
//! RS256 JSON Web Signatures and key sets, secret digests, SECRET_HASH and
//! random identifiers. Nothing here knows about user pools or HTTP.

pub mod cert;
pub mod digest;
pub mod esdk;
pub mod jws;
pub mod password;
pub mod random;
pub mod srp;
pub mod totp;
pub mod webauthn;
pub mod xmlenc;

pub use jws::{Jwk, SigningKey, VerifyingKey};
pub use password::{HashMemory, PasswordHasher, PasswordParams};

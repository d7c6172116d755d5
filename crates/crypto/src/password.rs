//! Password hashing with argon2id. Hashes are PHC strings, so parameters can
//! change without invalidating stored hashes. Hashing is CPU- and
//! memory-bound: callers run it off the async workers.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordParams {
    /// OWASP's recommended argon2id setting: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        PasswordParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// A hash to verify against for unknown users; made on first use so start-up stays fast.
    dummy_hash: std::sync::Arc<std::sync::OnceLock<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl PasswordHasher {
    pub fn new(params: PasswordParams) -> Result<Self, PasswordError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| PasswordError::Params(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        Ok(PasswordHasher {
            argon2,
            dummy_hash: Default::default(),
        })
    }

    /// Returns the PHC string of a fresh salted hash of `password`.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    }

    /// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
    pub fn verify(&self, password: &str, hash: &str) -> bool {
        match PasswordHash::new(hash) {
            Ok(parsed) => self
                .argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the same time as a real verification, for unknown users, so that
    /// response times do not reveal whether a user exists.
    pub fn verify_dummy(&self, password: &str) {
        let dummy = self.dummy_hash.get_or_init(|| {
            self.hash("cognate-dummy-password-for-timing")
                .unwrap_or_default()
        });
        let _ = self.verify(password, dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let hasher = PasswordHasher::new(PasswordParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap_or_else(|e| unreachable!("{e}"));
        let hash = hasher.hash("Passw0rd!").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(hasher.verify("Passw0rd!", &hash));
        assert!(!hasher.verify("passw0rd!", &hash));
        assert!(!hasher.verify("Passw0rd!", "not-a-hash"));
    }
}

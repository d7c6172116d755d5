//! Password hashing with argon2id. Hashes are PHC strings, so parameters can
//! change without invalidating stored hashes. Hashing is CPU- and
//! memory-bound: callers run it off the async workers.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;

/// Reusable argon2 working memory. A long-lived hashing thread keeps one,
/// so memory is allocated once instead of 19 MiB per hash.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }
}

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
    params: Params,
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
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        Ok(PasswordHasher {
            argon2,
            params,
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

    /// Like [`hash`](Self::hash), with caller-owned working memory.
    pub fn hash_with(
        &self,
        password: &str,
        memory: &mut HashMemory,
    ) -> Result<String, PasswordError> {
        let salt = crate::random::bytes(16);
        let mut out = [0u8; 32];
        self.argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut out,
                memory.blocks(self.params.block_count()),
            )
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Like [`verify`](Self::verify), with caller-owned working memory. The
    /// cost parameters are the ones stored in the hash.
    pub fn verify_with(&self, password: &str, hash: &str, memory: &mut HashMemory) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
            return false;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        let expected = expected.as_bytes();
        let mut out = vec![0u8; expected.len()];
        let argon2 = Argon2::new(algorithm, Version::V0x13, params.clone());
        if argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                memory.blocks(params.block_count()),
            )
            .is_err()
        {
            return false;
        }
        crate::digest::constant_time_eq(&out, expected)
    }

    /// Spends the same time as a real verification, for unknown users, so that
    /// response times do not reveal whether a user exists.
    pub fn verify_dummy(&self, password: &str, memory: &mut HashMemory) {
        let dummy = self.dummy_hash.get_or_init(|| {
            self.hash_with("cognate-dummy-password-for-timing", memory)
                .unwrap_or_default()
        });
        let _ = self.verify_with(password, dummy, memory);
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

        // The reusable-memory path interoperates with the PHC strings of the other.
        let mut memory = HashMemory::default();
        let own = hasher.hash_with("Passw0rd!", &mut memory).unwrap();
        assert!(own.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(hasher.verify("Passw0rd!", &own));
        assert!(hasher.verify_with("Passw0rd!", &own, &mut memory));
        assert!(hasher.verify_with("Passw0rd!", &hash, &mut memory));
        assert!(!hasher.verify_with("passw0rd!", &hash, &mut memory));
        assert!(!hasher.verify_with("Passw0rd!", "$argon2id$v=19$m=1024", &mut memory));
    }
}

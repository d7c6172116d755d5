//! Glue between the gateway and the user pools: a Cognito authorizer's
//! issuers are `<public-url>/<pool-id>`, its keys come from the pool's key
//! store in-process (no HTTP round trip to ourselves), and its tokens are
//! refused once revoked by sign-out, RevokeToken or disabling the user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use cognate_core::UserPools;
use cognate_crypto::VerifyingKey;
use cognate_gateway::LocalPools;
use cognate_token::{JwksSource, KeyError, KeySet, Revocation};

pub struct LocalPoolKeys(pub Arc<UserPools>);

impl LocalPools for LocalPoolKeys {
    fn issuer(&self, pool_id: &str) -> String {
        self.0.issuer(pool_id)
    }

    fn jwks(&self, pool_id: &str) -> Arc<dyn JwksSource> {
        Arc::new(PoolJwks {
            service: self.0.clone(),
            pool_id: pool_id.to_owned(),
        })
    }

    fn revocation(&self, pool_id: &str) -> Option<Arc<dyn Revocation>> {
        Some(Arc::new(PoolRevocation {
            service: self.0.clone(),
            pool_id: pool_id.to_owned(),
            users: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
        }))
    }
}

/// Validates a `gateway:` section without a database (for `check-config`):
/// pools resolve to placeholder issuers whose keys are never fetched.
pub fn check(config: &cognate_gateway::GatewayConfig) -> Result<(), cognate_gateway::BuildError> {
    struct NoPools;
    impl LocalPools for NoPools {
        fn issuer(&self, pool_id: &str) -> String {
            format!("http://check-config/{pool_id}")
        }
        fn jwks(&self, _pool_id: &str) -> Arc<dyn JwksSource> {
            Arc::new(cognate_token::StaticJwks(KeySet::default()))
        }
        fn revocation(&self, _pool_id: &str) -> Option<Arc<dyn Revocation>> {
            None
        }
    }
    cognate_gateway::Gateway::build(config, Some(Arc::new(NoPools))).map(|_| ())
}

struct PoolJwks {
    service: Arc<UserPools>,
    pool_id: String,
}

#[async_trait]
impl JwksSource for PoolJwks {
    async fn fetch(&self) -> Result<KeySet, KeyError> {
        let jwks = self
            .service
            .jwks(&self.pool_id)
            .await
            .map_err(|e| KeyError(format!("pool {}: {}", self.pool_id, e.message)))?;
        Ok(KeySet::from_keys(
            jwks.iter()
                .filter_map(|k| VerifyingKey::from_jwk(k).ok())
                .collect(),
        ))
    }
}

/// How long a user's revocation state is reused before it is read again:
/// a sign-out takes effect at the gateway within this time (on every
/// instance, since the state is read from the shared store).
const REVOCATION_STATE_TTL: Duration = Duration::from_secs(1);
/// Users whose state is kept; past that the map starts over.
const REVOCATION_STATE_MAX: usize = 50_000;

/// A user's state as last read (`None` when the user no longer exists).
struct UserState {
    user: Option<cognate_core::model::User>,
}

/// The rule of `User::token_revoked` (shared with the user APIs), applied
/// here to ID and access tokens alike; a deleted user's tokens are revoked too.
/// A client_credentials token (no user: `sub` = `client_id`) stands while
/// its app client exists in the pool.
struct PoolRevocation {
    service: Arc<UserPools>,
    pool_id: String,
    users: Mutex<HashMap<String, (Instant, UserState)>>,
    /// Whether a client exists, as last read.
    clients: Mutex<HashMap<String, (Instant, bool)>>,
}

impl PoolRevocation {
    /// Whether the app client exists in this pool (read at most once a
    /// second; `false` when it cannot be read: fail closed).
    async fn client_exists(&self, client_id: &str) -> bool {
        if let Ok(m) = self.clients.lock() {
            if let Some((at, exists)) = m.get(client_id) {
                if at.elapsed() < REVOCATION_STATE_TTL {
                    return *exists;
                }
            }
        }
        let exists = match self.service.store().get_client(client_id).await {
            Ok(c) => c.is_some_and(|c| c.pool_id == self.pool_id),
            Err(e) => {
                tracing::warn!(error = %e, "reading a client for the revocation check failed");
                return false;
            }
        };
        if let Ok(mut m) = self.clients.lock() {
            if m.len() >= REVOCATION_STATE_MAX {
                m.clear();
            }
            m.insert(client_id.to_owned(), (Instant::now(), exists));
        }
        exists
    }

    /// Whether the user's tokens issued at `iat` (from sign-in `origin_jti`)
    /// are revoked: from the state read less than a second ago, decided
    /// under the lock (no count to bump on a shared `Arc`), else read now.
    async fn user_revoked(&self, sub: &str, claims: &cognate_token::Claims) -> bool {
        let decide = |state: &UserState| match &state.user {
            None => true,
            Some(user) => {
                let now_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                user.token_revoked(claims.iat, claims.origin_jti.as_deref(), now_ms)
            }
        };
        if let Ok(m) = self.users.lock() {
            if let Some((at, state)) = m.get(sub) {
                if at.elapsed() < REVOCATION_STATE_TTL {
                    return decide(state);
                }
            }
        }
        let user = match self
            .service
            .store()
            .get_user_by_sub(&self.pool_id, sub)
            .await
        {
            Ok(u) => u,
            Err(e) => {
                // Fail closed: a token whose user cannot be read is refused.
                tracing::warn!(error = %e, "reading a user for the revocation check failed");
                return true;
            }
        };
        let state = UserState { user };
        let revoked = decide(&state);
        if let Ok(mut m) = self.users.lock() {
            if m.len() >= REVOCATION_STATE_MAX {
                m.clear();
            }
            m.insert(sub.to_owned(), (Instant::now(), state));
        }
        revoked
    }
}

#[async_trait]
impl Revocation for PoolRevocation {
    async fn is_revoked(&self, claims: &cognate_token::Claims) -> bool {
        let Some(sub) = claims.sub.as_deref() else {
            return true;
        };
        let machine = claims.token_use.as_deref() == Some("access")
            && claims.username().is_none()
            && claims.client_id.as_deref() == Some(sub);
        if machine {
            return !self.client_exists(sub).await;
        }
        self.user_revoked(sub, claims).await
    }
}

//! Glue between the gateway and the user pools: a Cognito authorizer's
//! issuers are `<public-url>/<pool-id>` and its keys come from the pool's
//! key store in-process (no HTTP round trip to ourselves).

use std::sync::Arc;

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

    /// Access tokens revoked by GlobalSignOut/RevokeToken are not checked
    /// yet: core has no revocation query for the gateway to consult.
    fn revocation(&self, _pool_id: &str) -> Option<Arc<dyn Revocation>> {
        None
    }
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

//! Glue between the gateway and the user pools: a Cognito authorizer's
//! issuers are `<public-url>/<pool-id>`, its keys come from the pool's key
//! store in-process (no HTTP round trip to ourselves), and its tokens are
//! refused by the user APIs' own rule (`cognate_core::verify::PoolRevocation`):
//! once revoked by sign-out, RevokeToken, disabling or deleting the user, or
//! deleting its app client.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cognate_core::verify::PoolRevocation;
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
        Some(Arc::new(PoolRevocation::new(
            self.0.store().clone(),
            self.0.clock().clone(),
            pool_id,
            REVOCATION_STATE_TTL,
        )))
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

/// How long a user's or client's revocation state is reused before it is
/// read again: a sign-out takes effect at the gateway within this time (on
/// every instance, since the state is read from the shared store).
const REVOCATION_STATE_TTL: Duration = Duration::from_secs(1);

/// The gateway's routes as the console shows them, with each route's URL
/// on the gateway's address `at`.
pub fn console_routes(
    config: &cognate_gateway::GatewayConfig,
    at: std::net::SocketAddr,
) -> Vec<cognate_console::gateway::GatewayRoute> {
    use cognate_gateway::{AuthMode, AuthorizerConfig, IntegrationConfig};
    let mut out = Vec::new();
    for api in &config.apis {
        let prefix = api
            .stage
            .as_ref()
            .map(|s| format!("/{s}"))
            .unwrap_or_default();
        for route in &api.routes {
            let authorizer = route
                .authorizer
                .as_ref()
                .and_then(|name| api.authorizers.get(name).map(|a| (name, a)));
            let auth = match (route.auth, authorizer.is_some()) {
                (Some(AuthMode::None), _) | (None, false) => "none",
                (Some(AuthMode::Optional), _) => "optional",
                (Some(AuthMode::Required), _) | (None, true) => "required",
            };
            let (authorizer, issuers) = match authorizer {
                Some((name, AuthorizerConfig::Cognito { pools, .. })) => {
                    (Some(format!("{name} (cognito)")), pools.clone())
                }
                Some((name, AuthorizerConfig::Jwt { issuer, .. })) => {
                    (Some(format!("{name} (jwt)")), vec![issuer.clone()])
                }
                None => (None, Vec::new()),
            };
            out.push(cognate_console::gateway::GatewayRoute {
                api: api.name.clone(),
                stage: api.stage.clone(),
                method: route.method.to_ascii_uppercase(),
                path: route.path.clone(),
                url: format!("http://{at}{prefix}{}", route.path),
                auth: auth.into(),
                authorizer,
                issuers,
                scopes: route.scopes.clone(),
                groups: route.groups.clone(),
                integration: match &route.integration {
                    IntegrationConfig::Http { url, .. } => url.clone(),
                    _ => "mock".into(),
                },
            });
        }
    }
    out
}

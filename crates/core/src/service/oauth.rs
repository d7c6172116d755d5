//! The OAuth 2.0 token endpoint's grants (so far `client_credentials`),
//! with errors in RFC 6749's vocabulary rather than Cognito's exceptions.

use std::collections::BTreeSet;

use serde_json::json;

use super::clients::SYSTEM_SCOPES;
use super::UserPools;
use crate::error::Error;
use crate::model::AppClient;
use crate::tokens;

/// An RFC 6749 §5.2 error: `error` code and an optional description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`,
    /// `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`,
    /// or `server_error` (a fault of ours; never described).
    pub error: &'static str,
    pub description: Option<String>,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            error,
            description: Some(description.into()),
        }
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        tracing::error!(error = %e, "token endpoint failed");
        OAuthError {
            error: "server_error",
            description: None,
        }
    }
}

/// How a client authenticated at the token endpoint.
#[derive(Clone, Debug)]
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// A token endpoint answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthTokens {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

impl UserPools {
    /// The client of a pool, authenticated by its secret when it has one
    /// (compared in constant time). `invalid_client` otherwise.
    async fn authenticate_client(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
    ) -> Result<AppClient, OAuthError> {
        let invalid = || OAuthError::new("invalid_client", "Client authentication failed.");
        let client = self
            .store
            .get_client(&auth.client_id)
            .await
            .map_err(Error::from)?
            .filter(|c| c.pool_id == pool_id)
            .ok_or_else(invalid)?;
        match (&client.client_secret, &auth.client_secret) {
            (Some(stored), Some(given))
                if cognate_crypto::digest::constant_time_eq(
                    stored.as_bytes(),
                    given.as_bytes(),
                ) =>
            {
                Ok(client)
            }
            (None, None) => Ok(client),
            _ => Err(invalid()),
        }
    }

    /// `grant_type=client_credentials`: an access token for the client
    /// itself (`sub` = `client_id`) with the requested custom scopes, or
    /// all the client's custom scopes when `scope` is absent.
    pub async fn client_credentials_grant(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        scope: Option<&str>,
    ) -> Result<OAuthTokens, OAuthError> {
        self.pool(pool_id)
            .await
            .map_err(|_| OAuthError::new("invalid_request", "Unknown user pool."))?;
        let client = self.authenticate_client(pool_id, auth).await?;
        let s = &client.settings;
        let allowed_flow = s.allowed_oauth_flows_user_pool_client
            && s.allowed_oauth_flows
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|f| f == "client_credentials");
        if !allowed_flow || client.client_secret.is_none() {
            return Err(OAuthError::new(
                "unauthorized_client",
                "The client is not allowed the client_credentials grant.",
            ));
        }
        // The client's custom scopes that still exist.
        let existing = self.custom_scopes(pool_id).await?;
        let allowed: BTreeSet<&str> = s
            .allowed_oauth_scopes
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .filter(|sc| !SYSTEM_SCOPES.contains(sc) && existing.contains(*sc))
            .collect();
        let granted: Vec<&str> = match scope.map(str::trim).filter(|sc| !sc.is_empty()) {
            Some(requested) => {
                let mut out = Vec::new();
                for sc in requested.split(' ').filter(|sc| !sc.is_empty()) {
                    if !allowed.contains(sc) {
                        return Err(OAuthError::new(
                            "invalid_scope",
                            format!("Scope {sc} is not allowed for this client."),
                        ));
                    }
                    if !out.contains(&sc) {
                        out.push(sc);
                    }
                }
                out
            }
            None => allowed.iter().copied().collect(),
        };
        if granted.is_empty() {
            return Err(OAuthError::new(
                "invalid_scope",
                "The client has no custom scopes to grant.",
            ));
        }
        let keys = self.keys.get(self.store.as_ref(), pool_id).await?;
        let lifetime = tokens::lifetimes(&client).access;
        let now = self.now().div_euclid(1000);
        let claims = json!({
            "sub": client.client_id,
            "token_use": "access",
            "scope": granted.join(" "),
            "auth_time": now,
            "iss": self.issuer(pool_id),
            "exp": now + lifetime,
            "iat": now,
            "version": 2,
            "jti": cognate_crypto::random::uuid(),
            "client_id": client.client_id,
        });
        let access_token = keys
            .access_token_key
            .sign(&claims)
            .map_err(|e| Error::internal(e.to_string()))?;
        Ok(OAuthTokens {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime,
        })
    }
}

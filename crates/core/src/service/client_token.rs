//! GetClientToken: a machine-to-machine access token by API. The app client
//! proves itself with one of its secrets (compared in constant time) and
//! must have `ALLOW_CLIENT_TOKEN_AUTH`, its only authentication flow; the
//! token is the one the token endpoint's `client_credentials` grant signs
//! (`oauth.rs`), with the same scope rules.

use super::clients::CLIENT_TOKEN_FLOW;
use super::UserPools;
use crate::error::{Error, Result};

/// GetClientToken's answer.
#[derive(Clone, Debug)]
pub struct ClientToken {
    pub access_token: String,
    pub expires_in: i64,
}

impl UserPools {
    /// Issues an access token for the client itself (`sub` = `client_id`)
    /// with the requested custom scopes, or all the client's custom scopes
    /// when none are requested.
    pub async fn get_client_token(
        &self,
        client_id: &str,
        secret: &str,
        scopes: Option<&[String]>,
    ) -> Result<ClientToken> {
        let client = self.client(client_id).await?;
        // AWS does not publish the texts of these refusals; the secret's is
        // worded like SECRET_HASH's, the flow's like InitiateAuth's.
        if !client.has_secret() || !client.secret_matches(secret) {
            return Err(Error::not_authorized(format!(
                "Unable to verify secret for client {client_id}"
            )));
        }
        let enabled = client
            .settings
            .explicit_auth_flows
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|f| f == CLIENT_TOKEN_FLOW);
        if !enabled {
            return Err(Error::invalid_parameter(
                "ALLOW_CLIENT_TOKEN_AUTH flow not enabled for this client",
            ));
        }
        let pool = self.pool(&client.pool_id).await?;
        let requested = scopes
            .map(|s| s.iter().map(String::as_str).collect::<Vec<_>>())
            .filter(|s| !s.is_empty());
        let granted = self
            .machine_scopes(&pool.id, &client, requested)
            .await?
            .map_err(Error::invalid_parameter)?;
        let (access_token, expires_in) = self.machine_token(&pool, &client, &granted).await?;
        Ok(ClientToken {
            access_token,
            expires_in,
        })
    }
}

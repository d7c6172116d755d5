//! CreateUserPoolClient, DescribeUserPoolClient, ListUserPoolClients,
//! UpdateUserPoolClient, DeleteUserPoolClient.

use super::{decode_token, encode_token, Page, UserPools};
use crate::error::{Error, Result};
use crate::model::{AppClient, ClientSettings};

/// What CreateUserPoolClient (or the config file) asks for.
#[derive(Clone, Debug)]
pub struct NewClient {
    pub pool_id: String,
    /// An explicit id (config file); otherwise one is generated.
    pub client_id: Option<String>,
    pub generate_secret: bool,
    /// An explicit secret (config file or the ClientSecret member).
    pub client_secret: Option<String>,
    pub settings: ClientSettings,
}

const LEGACY_FLOWS: &[&str] = &[
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
];
const ALLOW_FLOWS: &[&str] = &[
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
];

fn unit_seconds(unit: Option<&str>, default: i64) -> i64 {
    match unit {
        Some("seconds") => 1,
        Some("minutes") => 60,
        Some("hours") => 3600,
        Some("days") => 86_400,
        _ => default,
    }
}

fn check_settings(s: &ClientSettings) -> Result<()> {
    if let Some(flows) = &s.explicit_auth_flows {
        let legacy = flows.iter().any(|f| LEGACY_FLOWS.contains(&f.as_str()));
        let allow = flows.iter().any(|f| ALLOW_FLOWS.contains(&f.as_str()));
        if legacy && allow {
            return Err(Error::invalid_parameter(
                "ExplicitAuthFlows can not have both ALLOW_XXX and legacy values.",
            ));
        }
    }
    let u = &s.token_validity_units;
    for (what, value, unit) in [
        (
            "Access Token",
            s.access_token_validity,
            u.access_token.as_deref(),
        ),
        ("ID Token", s.id_token_validity, u.id_token.as_deref()),
    ] {
        if let Some(v) = value {
            let secs = v * unit_seconds(unit, 3600);
            if !(300..=86_400).contains(&secs) {
                return Err(Error::invalid_parameter(format!(
                    "{what} validity must be between 5 minutes and 1 day."
                )));
            }
        }
    }
    if s.refresh_token_validity != 0 {
        let secs = s.refresh_token_validity * unit_seconds(u.refresh_token.as_deref(), 86_400);
        if !(3600..=315_360_000).contains(&secs) {
            return Err(Error::invalid_parameter(
                "Refresh token validity must be between 60 minutes and 10 years.",
            ));
        }
    }
    if !(3..=15).contains(&s.auth_session_validity) {
        return Err(Error::invalid_parameter(
            "AuthSessionValidity must be between 3 and 15 minutes.",
        ));
    }
    if let Some(p) = &s.prevent_user_existence_errors {
        if p != "LEGACY" && p != "ENABLED" {
            return Err(Error::invalid_parameter(
                "Invalid PreventUserExistenceErrors.",
            ));
        }
    }
    Ok(())
}

impl UserPools {
    pub async fn create_user_pool_client(&self, input: NewClient) -> Result<AppClient> {
        check_settings(&input.settings)?;
        self.pool(&input.pool_id).await?;
        let client_id = input
            .client_id
            .unwrap_or_else(|| cognate_crypto::random::lower_alnum(26));
        if client_id.is_empty()
            || client_id.len() > 128
            || !client_id
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '+')
        {
            return Err(Error::invalid_parameter(format!(
                "Invalid client id: {client_id}"
            )));
        }
        let client_secret = match input.client_secret {
            Some(secret) => Some(secret),
            None if input.generate_secret => Some(cognate_crypto::random::lower_alnum(52)),
            None => None,
        };
        let now = self.now();
        let client = AppClient {
            pool_id: input.pool_id,
            client_id,
            client_secret,
            created: now,
            modified: now,
            settings: input.settings,
        };
        match self.store.insert_client(&client).await {
            Ok(()) => Ok(client),
            Err(crate::error::StoreError::Conflict(_)) => Err(Error::invalid_parameter(format!(
                "User pool client {} already exists.",
                client.client_id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn describe_user_pool_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<AppClient> {
        self.pool(pool_id).await?;
        self.client_of(pool_id, client_id).await
    }

    pub async fn list_user_pool_clients(
        &self,
        pool_id: &str,
        max: usize,
        next: Option<&str>,
    ) -> Result<Page<AppClient>> {
        self.pool(pool_id).await?;
        let after = next.map(decode_token).transpose()?;
        let mut items = self
            .store
            .list_clients(pool_id, after.as_deref(), max + 1)
            .await?;
        let next = if items.len() > max {
            items.truncate(max);
            items.last().map(|c| encode_token(&c.client_id))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Replaces a client's settings (UpdateUserPoolClient is a full replacement).
    pub async fn update_user_pool_client(
        &self,
        pool_id: &str,
        client_id: &str,
        settings: ClientSettings,
    ) -> Result<AppClient> {
        check_settings(&settings)?;
        self.pool(pool_id).await?;
        let mut client = self.client_of(pool_id, client_id).await?;
        client.settings = settings;
        client.modified = self.now();
        if !self.store.update_client(&client).await? {
            return Err(Error::client_not_found(client_id));
        }
        Ok(client)
    }

    /// Creates or updates a client declared in the config file.
    pub async fn reconcile_user_pool_client(&self, input: NewClient) -> Result<AppClient> {
        let Some(client_id) = input.client_id.clone() else {
            return Err(Error::invalid_parameter("client id required"));
        };
        match self.store.get_client(&client_id).await? {
            None => self.create_user_pool_client(input).await,
            Some(mut client) => {
                check_settings(&input.settings)?;
                if client.pool_id != input.pool_id {
                    return Err(Error::invalid_parameter(format!(
                        "Client {client_id} belongs to pool {}",
                        client.pool_id
                    )));
                }
                let secret = match input.client_secret {
                    Some(s) => Some(s),
                    None if input.generate_secret => client
                        .client_secret
                        .clone()
                        .or_else(|| Some(cognate_crypto::random::lower_alnum(52))),
                    None => None,
                };
                if client.settings != input.settings || client.client_secret != secret {
                    client.settings = input.settings;
                    client.client_secret = secret;
                    client.modified = self.now();
                    self.store.update_client(&client).await?;
                }
                Ok(client)
            }
        }
    }

    pub async fn delete_user_pool_client(&self, pool_id: &str, client_id: &str) -> Result<()> {
        self.pool(pool_id).await?;
        self.client_of(pool_id, client_id).await?;
        self.store.delete_client(pool_id, client_id).await?;
        Ok(())
    }
}

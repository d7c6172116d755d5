//! CreateUserPoolClient, DescribeUserPoolClient, ListUserPoolClients,
//! UpdateUserPoolClient, DeleteUserPoolClient.

use super::{decode_token, Page, UserPools};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, ClientSecret, ClientSettings, UserPool};
use crate::store::Write;

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

/// The flow of GetClientToken (machine-to-machine access tokens by API).
pub const CLIENT_TOKEN_FLOW: &str = "ALLOW_CLIENT_TOKEN_AUTH";

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
        // AWS: "ALLOW_CLIENT_TOKEN_AUTH ... must be the only authentication
        // flow that you configure for the app client" (token exchange is
        // not a sign-in flow). The message is cognate's; AWS publishes none.
        if flows.iter().any(|f| f == CLIENT_TOKEN_FLOW) && (legacy || allow) {
            return Err(Error::invalid_parameter(
                "ALLOW_CLIENT_TOKEN_AUTH can not be selected along with user authentication flows.",
            ));
        }
    }
    let u = &s.token_validity_units;
    // Access and ID tokens 5 minutes to 1 day, refresh tokens 60 minutes to
    // 10 years; AWS answers each with the same words (users quote them).
    let out_of_range = || Error::invalid_parameter("Invalid range for token validity.");
    for (value, unit) in [
        (s.access_token_validity, u.access_token.as_deref()),
        (s.id_token_validity, u.id_token.as_deref()),
    ] {
        if let Some(v) = value {
            if !(300..=86_400).contains(&(v * unit_seconds(unit, 3600))) {
                return Err(out_of_range());
            }
        }
    }
    if s.refresh_token_validity != 0 {
        let secs = s.refresh_token_validity * unit_seconds(u.refresh_token.as_deref(), 86_400);
        if !(3600..=315_360_000).contains(&secs) {
            return Err(out_of_range());
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

/// ReadAttributes / WriteAttributes may name only attributes the pool has
/// (`action` is "creating" or "updating", as in Cognito's message).
fn check_permissions(pool: &UserPool, s: &ClientSettings, action: &str) -> Result<()> {
    for (what, list) in [("read", &s.read_attributes), ("write", &s.write_attributes)] {
        let unknown = list
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|name| pool.schema_attribute(name).is_none());
        if unknown {
            return Err(Error::invalid_parameter(format!(
                "Invalid {what} attributes specified while {action} a client"
            )));
        }
    }
    Ok(())
}

/// The OAuth flows a client can be allowed.
pub const OAUTH_FLOWS: &[&str] = &["code", "implicit", "client_credentials"];
/// The scopes every pool has (custom ones come from resource servers).
pub const SYSTEM_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

fn oauth_flow_error(message: &str) -> Error {
    Error::new(ErrorKind::InvalidOAuthFlow, message)
}

/// A callback or sign-out URL: absolute, no fragment, and `http` only for
/// `localhost` / `127.0.0.1` (app schemes such as `myapp://cb` are allowed).
pub fn is_valid_redirect_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || rest.is_empty() || url.contains('#') || url.chars().count() > 1024 {
        return false;
    }
    if scheme.eq_ignore_ascii_case("http") {
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        return host == "localhost" || host == "127.0.0.1";
    }
    true
}

/// The model: "You can only activate EnablePropagateAdditionalUserContextData
/// in an app client that has a client secret" (the text is cognate's).
fn check_context_data(settings: &ClientSettings, has_secret: bool) -> Result<()> {
    if settings.enable_propagate_additional_user_context_data && !has_secret {
        return Err(Error::invalid_parameter(
            "EnablePropagateAdditionalUserContextData can only be activated in an app client that has a client secret.",
        ));
    }
    Ok(())
}

impl UserPools {
    /// The OAuth members of a client's settings, checked against each
    /// other, the client's secret and the pool's resource servers.
    async fn check_oauth(&self, pool_id: &str, s: &ClientSettings, has_secret: bool) -> Result<()> {
        let flows = s.allowed_oauth_flows.as_deref().unwrap_or_default();
        let scopes = s.allowed_oauth_scopes.as_deref().unwrap_or_default();
        if let Some(f) = flows.iter().find(|f| !OAUTH_FLOWS.contains(&f.as_str())) {
            return Err(Error::invalid_parameter(format!("Invalid OAuth flow: {f}")));
        }
        if s.allowed_oauth_flows_user_pool_client {
            if flows.is_empty() || scopes.is_empty() {
                return Err(oauth_flow_error(
                    "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed to use OAuth flows.",
                ));
            }
        } else if !flows.is_empty() || !scopes.is_empty() {
            return Err(oauth_flow_error(
                "AllowedOAuthFlowsUserPoolClient must be true to use AllowedOAuthFlows or AllowedOAuthScopes.",
            ));
        }
        if flows.iter().any(|f| f == "client_credentials") {
            if flows.len() > 1 {
                return Err(oauth_flow_error(
                    "client_credentials flow can not be selected along with code flow or implicit flow.",
                ));
            }
            if !has_secret {
                return Err(oauth_flow_error(
                    "client_credentials flow can not be selected if client does not have a client secret.",
                ));
            }
            // A machine's token carries no user: no user scope (AWS's words).
            if let Some(scope) = scopes.iter().find(|s| SYSTEM_SCOPES.contains(&s.as_str())) {
                return Err(oauth_flow_error(&format!(
                    "{scope} is not supported with client_credentials flow"
                )));
            }
        }
        if flows.iter().any(|f| f == "code" || f == "implicit")
            && s.callback_urls.as_deref().unwrap_or_default().is_empty()
        {
            return Err(oauth_flow_error(
                "CallbackUrls can not be empty when code flow or implicit flow is selected",
            ));
        }
        let custom = if scopes.iter().any(|s| !SYSTEM_SCOPES.contains(&s.as_str())) {
            self.custom_scopes(pool_id).await?
        } else {
            Default::default()
        };
        for scope in scopes {
            if !SYSTEM_SCOPES.contains(&scope.as_str()) && !custom.contains(scope) {
                return Err(Error::new(
                    ErrorKind::ScopeDoesNotExist,
                    format!("Invalid scope requested: {scope}"),
                ));
            }
        }
        for (what, urls) in [
            ("CallbackURLs", &s.callback_urls),
            ("LogoutURLs", &s.logout_urls),
        ] {
            for url in urls.as_deref().unwrap_or_default() {
                if !is_valid_redirect_url(url) {
                    return Err(Error::invalid_parameter(format!(
                        "{what} must be absolute URLs without a fragment, using https except for localhost: {url}"
                    )));
                }
            }
        }
        if let Some(d) = &s.default_redirect_uri {
            let listed = s
                .callback_urls
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|u| u == d);
            if !is_valid_redirect_url(d) || !listed {
                return Err(Error::invalid_parameter(
                    "DefaultRedirectURI must be one of the CallbackURLs.",
                ));
            }
        }
        Ok(())
    }

    pub async fn create_user_pool_client(&self, mut input: NewClient) -> Result<AppClient> {
        check_settings(&input.settings)?;
        if input.generate_secret && input.client_secret.is_some() {
            return Err(Error::invalid_parameter(
                "You cannot specify both GenerateSecret as true and provide a ClientSecret value.",
            ));
        }
        self.complete_analytics(&mut input.settings);
        check_context_data(
            &input.settings,
            input.generate_secret || input.client_secret.is_some(),
        )?;
        let pool = self.pool(&input.pool_id).await?;
        check_permissions(&pool, &input.settings, "creating")?;
        if let Some(names) = &input.settings.supported_identity_providers {
            Self::check_supported_providers(&pool, names)?;
        }
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
        self.check_oauth(&input.pool_id, &input.settings, client_secret.is_some())
            .await?;
        let now = self.now();
        let secrets = client_secret
            .map(|value| vec![ClientSecret::new(&client_id, value, now, true)])
            .unwrap_or_default();
        let client = AppClient {
            pool_id: input.pool_id,
            client_id,
            secrets,
            created: now,
            modified: now,
            settings: input.settings,
            version: 0,
        };
        match self.store.insert_client(&client).await {
            Ok(()) => {
                crate::audit::Event::new("create_user_pool_client", &client.pool_id)
                    .client(&client.client_id)
                    .emit();
                Ok(client)
            }
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
        let items = self
            .store
            .list_clients(pool_id, after.as_deref(), max + 1)
            .await?;
        Ok(Page::from_overfetch(items, max, |c| &c.client_id))
    }

    /// An AnalyticsConfiguration that names an Amazon Pinpoint project
    /// (ApplicationArn) without a role gets Cognito's service-linked role,
    /// as Cognito reports it.
    fn complete_analytics(&self, settings: &mut ClientSettings) {
        let Some(config) = settings
            .analytics_configuration
            .as_mut()
            .and_then(|c| c.as_object_mut())
        else {
            return;
        };
        if config.contains_key("ApplicationArn") && !config.contains_key("RoleArn") {
            config.insert(
                "RoleArn".into(),
                serde_json::json!(format!(
                    "arn:aws:iam::{}:role/aws-service-role/cognito-idp.amazonaws.com/AWSServiceRoleForAmazonCognitoIdp",
                    self.config.account_id
                )),
            );
        }
    }

    /// Replaces a client's settings (UpdateUserPoolClient is a full replacement).
    pub async fn update_user_pool_client(
        &self,
        pool_id: &str,
        client_id: &str,
        mut settings: ClientSettings,
    ) -> Result<AppClient> {
        check_settings(&settings)?;
        self.complete_analytics(&mut settings);
        let pool = self.pool(pool_id).await?;
        let client = self.client_of(pool_id, client_id).await?;
        check_context_data(&settings, client.has_secret())?;
        check_permissions(&pool, &settings, "updating")?;
        if let Some(names) = &settings.supported_identity_providers {
            Self::check_supported_providers(&pool, names)?;
        }
        self.check_oauth(pool_id, &settings, client.has_secret())
            .await?;
        let now = self.now();
        // Only the settings are replaced: secrets added or removed
        // meanwhile are kept (compare-and-swap).
        let (client, ()) = self
            .update_client(client, |client| {
                client.settings = settings.clone();
                client.modified = now;
                Ok(())
            })
            .await?;
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
                        .first_secret()
                        .map(str::to_owned)
                        .or_else(|| Some(cognate_crypto::random::lower_alnum(52))),
                    None => None,
                };
                self.check_oauth(&input.pool_id, &input.settings, secret.is_some())
                    .await?;
                // The declared secret is kept with any added beside it
                // (AddUserPoolClientSecret); another one replaces them all.
                let secrets_in_step = match &secret {
                    Some(s) => client.secrets.iter().any(|c| &c.value == s),
                    None => client.secrets.is_empty(),
                };
                if client.settings != input.settings || !secrets_in_step {
                    let now = self.now();
                    if !secrets_in_step {
                        client.secrets = secret
                            .map(|value| vec![ClientSecret::new(&client_id, value, now, true)])
                            .unwrap_or_default();
                    }
                    client.settings = input.settings;
                    client.modified = now;
                    match self.store.update_client(&client).await? {
                        Write::Done => client.version += 1,
                        Write::Missing => return Err(Error::client_not_found(&client_id)),
                        // The config file is applied at start, before
                        // anything else writes; a concurrent change wins.
                        Write::Stale => {}
                    }
                    self.clients.forget(&client.client_id);
                }
                Ok(client)
            }
        }
    }

    pub async fn delete_user_pool_client(&self, pool_id: &str, client_id: &str) -> Result<()> {
        self.pool(pool_id).await?;
        self.client_of(pool_id, client_id).await?;
        self.store.delete_client(pool_id, client_id).await?;
        self.clients.forget(client_id);
        crate::audit::Event::new("delete_user_pool_client", pool_id)
            .client(client_id)
            .emit();
        // The client's terms and branding go with it (unless the pool went first).
        match self.forget_client_records(pool_id, client_id).await {
            Err(e) if e.kind == ErrorKind::ResourceNotFound => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_redirect_url;

    #[test]
    fn redirect_urls() {
        for ok in [
            "https://app.example.com/cb",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb?x=1",
            "myapp://callback",
        ] {
            assert!(is_valid_redirect_url(ok), "{ok}");
        }
        for bad in [
            "http://app.example.com/cb",
            "/relative",
            "https://app.example.com/cb#frag",
            "https://",
            "http://localhost.evil.com/",
        ] {
            assert!(!is_valid_redirect_url(bad), "{bad}");
        }
    }
}

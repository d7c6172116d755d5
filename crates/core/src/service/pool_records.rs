//! Records a pool keeps in its own document besides its settings:
//! third-party identity providers (Create/Describe/Update/Delete/
//! ListIdentityProviders, GetIdentityProviderByIdentifier), tags
//! (TagResource, UntagResource, ListTagsForResource, sharing
//! `UserPoolTags`), log delivery (Get/SetLogDeliveryConfiguration) and
//! threat-protection settings (Describe/SetRiskConfiguration); and the
//! pool's SAML signing certificate (GetSigningCertificate).
//!
//! Identity providers are stored and usable in app clients'
//! `SupportedIdentityProviders`; signing in through them is not done yet.
//! Log destinations and risk settings are stored and returned, never acted
//! on: no log is delivered and no sign-in is scored.

use std::collections::BTreeMap;

use super::{decode_token, Page, UserPools};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{IdentityProvider, LogConfiguration, RiskConfiguration, UserPool};

/// Identity providers per pool (Cognito's quota).
pub const MAX_IDENTITY_PROVIDERS: usize = 300;
/// Tags per pool (TagResource's documented limit).
pub const MAX_TAGS: usize = 50;

/// The provider types whose provider name must be the type itself.
const SOCIAL_TYPES: &[&str] = &["Google", "Facebook", "LoginWithAmazon", "SignInWithApple"];
/// The provider name of the pool's own directory in `SupportedIdentityProviders`.
pub const COGNITO_PROVIDER: &str = "COGNITO";

/// What CreateIdentityProvider / UpdateIdentityProvider ask for.
#[derive(Clone, Debug, Default)]
pub struct ProviderInput {
    pub details: Option<BTreeMap<String, String>>,
    pub attribute_mapping: Option<BTreeMap<String, String>>,
    pub idp_identifiers: Option<Vec<String>>,
    pub acr_mapping: Option<BTreeMap<String, String>>,
}

/// A risk configuration as SetRiskConfiguration gives it.
#[derive(Clone, Debug, Default)]
pub struct RiskInput {
    pub client_id: Option<String>,
    pub compromised_credentials: Option<serde_json::Value>,
    pub account_takeover: Option<serde_json::Value>,
    pub risk_exception: Option<serde_json::Value>,
}

/// The model: "Only OIDC IdPs support ACR mapping" (the text is cognate's).
fn check_acr_mapping(
    provider_type: &str,
    mapping: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<()> {
    if provider_type != "OIDC" && mapping.is_some_and(|m| !m.is_empty()) {
        return Err(Error::invalid_parameter(format!(
            "AcrMapping is supported only for OIDC identity providers, not {provider_type}."
        )));
    }
    Ok(())
}

fn provider_not_found(name: &str, pool_id: &str) -> Error {
    Error::new(
        ErrorKind::ResourceNotFound,
        format!("Identity provider {name} does not exist in user pool {pool_id}."),
    )
}

fn duplicate(what: &str, pool_id: &str) -> Error {
    Error::new(
        ErrorKind::DuplicateProvider,
        format!("{what} already exists in user pool {pool_id}"),
    )
}

/// The details a provider type requires, as Cognito names them in its
/// refusal ("… are all required idp details").
fn required_details(provider_type: &str) -> &'static [&'static str] {
    match provider_type {
        "Google" | "Facebook" | "LoginWithAmazon" => {
            &["client_id", "client_secret", "authorize_scopes"]
        }
        "SignInWithApple" => &[
            "client_id",
            "team_id",
            "key_id",
            "private_key",
            "authorize_scopes",
        ],
        "OIDC" => &[
            "client_id",
            "attributes_request_method",
            "oidc_issuer",
            "authorize_scopes",
        ],
        _ => &[],
    }
}

fn list_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Checks the details of a provider type and adds what Cognito adds in
/// its answers: the endpoints of the social providers.
fn complete_details(
    provider_type: &str,
    mut details: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let required = required_details(provider_type);
    if required
        .iter()
        .any(|k| details.get(*k).is_none_or(|v| v.trim().is_empty()))
    {
        return Err(Error::invalid_parameter(format!(
            "{} are all required idp details",
            list_words(required)
        )));
    }
    fn put(details: &mut BTreeMap<String, String>, k: &str, v: String) {
        details.entry(k.to_owned()).or_insert(v);
    }
    let d = &mut details;
    match provider_type {
        "Google" => {
            put(
                d,
                "attributes_url",
                "https://people.googleapis.com/v1/people/me?personFields=".into(),
            );
            put(d, "attributes_url_add_attributes", "true".into());
            put(
                d,
                "authorize_url",
                "https://accounts.google.com/o/oauth2/v2/auth".into(),
            );
            put(d, "oidc_issuer", "https://accounts.google.com".into());
            put(d, "token_request_method", "POST".into());
            put(
                d,
                "token_url",
                "https://www.googleapis.com/oauth2/v4/token".into(),
            );
        }
        "Facebook" => {
            put(d, "api_version", "v17.0".into());
            let version = d
                .get("api_version")
                .cloned()
                .unwrap_or_else(|| "v17.0".into());
            put(
                d,
                "attributes_url",
                format!("https://graph.facebook.com/{version}/me?fields="),
            );
            put(d, "attributes_url_add_attributes", "true".into());
            put(
                d,
                "authorize_url",
                format!("https://www.facebook.com/{version}/dialog/oauth"),
            );
            put(d, "token_request_method", "GET".into());
            put(
                d,
                "token_url",
                format!("https://graph.facebook.com/{version}/oauth/access_token"),
            );
        }
        "LoginWithAmazon" => {
            put(
                d,
                "attributes_url",
                "https://api.amazon.com/user/profile".into(),
            );
            put(d, "attributes_url_add_attributes", "false".into());
            put(d, "authorize_url", "https://www.amazon.com/ap/oa".into());
            put(d, "token_request_method", "POST".into());
            put(
                d,
                "token_url",
                "https://api.amazon.com/auth/o2/token".into(),
            );
        }
        "SignInWithApple" => {
            put(d, "attributes_url_add_attributes", "false".into());
            put(
                d,
                "authorize_url",
                "https://appleid.apple.com/auth/authorize".into(),
            );
            put(d, "oidc_issuer", "https://appleid.apple.com".into());
            put(d, "token_request_method", "POST".into());
            put(
                d,
                "token_url",
                "https://appleid.apple.com/auth/token".into(),
            );
        }
        "OIDC" => {
            let method = d
                .get("attributes_request_method")
                .map(String::as_str)
                .unwrap_or_default();
            if method != "GET" && method != "POST" {
                return Err(Error::invalid_parameter(
                    "attributes_request_method must be GET or POST",
                ));
            }
            put(d, "attributes_url_add_attributes", "false".into());
        }
        "SAML" => {
            let has = |k: &str| d.get(k).is_some_and(|v| !v.trim().is_empty());
            if !has("MetadataURL") && !has("MetadataFile") {
                return Err(Error::invalid_parameter(
                    "At least one of the MetadataURL or MetadataFile should be provided.",
                ));
            }
        }
        _ => {}
    }
    Ok(details)
}

/// The attribute that carries the provider's user id, mapped to `username`
/// unless the caller maps it.
fn default_username_mapping(provider_type: &str) -> Option<&'static str> {
    match provider_type {
        "Google" | "SignInWithApple" | "OIDC" => Some("sub"),
        "Facebook" => Some("id"),
        "LoginWithAmazon" => Some("user_id"),
        _ => None,
    }
}

/// Checks a provider's name against its type: a social provider is named
/// after its type, and no other provider may take a social type's name
/// (or `COGNITO`).
fn check_name(name: &str, provider_type: &str) -> Result<()> {
    let social = SOCIAL_TYPES.contains(&provider_type);
    let name_is_reserved = SOCIAL_TYPES.contains(&name) || name == COGNITO_PROVIDER;
    if (social && name != provider_type) || (!social && name_is_reserved) {
        return Err(Error::invalid_parameter(format!(
            "Provider {name} cannot be of type {provider_type}."
        )));
    }
    Ok(())
}

/// Identifiers must be unique in the request and in the pool (other than
/// among the provider `except`'s own).
fn check_identifiers(pool: &UserPool, identifiers: &[String], except: Option<&str>) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for id in identifiers {
        let taken = pool
            .identity_providers
            .iter()
            .filter(|p| Some(p.name.as_str()) != except)
            .any(|p| p.idp_identifiers.contains(id));
        if !seen.insert(id.as_str()) || taken {
            return Err(duplicate(id, &pool.id));
        }
    }
    Ok(())
}

/// Parses a user pool ARN (`arn:<partition>:cognito-idp:<region>:<account>:userpool/<id>`)
/// into the pool id; anything else is not a resource that has tags.
fn pool_id_of_arn(arn: &str) -> Result<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let malformed = || Error::invalid_parameter(format!("Invalid ARN: {arn}"));
    let [arn_word, _partition, service, _region, _account, resource] = parts.as_slice() else {
        return Err(malformed());
    };
    if *arn_word != "arn" || *service != "cognito-idp" {
        return Err(malformed());
    }
    match resource.strip_prefix("userpool/") {
        Some(id) if super::pools::valid_pool_id(id) => Ok(id),
        _ => Err(malformed()),
    }
}

impl UserPools {
    // ------------------------------------------------------------ identity providers

    pub async fn create_identity_provider(
        &self,
        pool_id: &str,
        name: &str,
        provider_type: &str,
        input: ProviderInput,
    ) -> Result<IdentityProvider> {
        let pool = (*self.pool(pool_id).await?).clone();
        check_name(name, provider_type)?;
        check_acr_mapping(provider_type, input.acr_mapping.as_ref())?;
        let mut details = complete_details(provider_type, input.details.unwrap_or_default())?;
        if provider_type == "SAML" {
            self.saml_details(&pool.id, &mut details, None).await?;
        }
        let mut attribute_mapping = input.attribute_mapping.unwrap_or_default();
        if let Some(source) = default_username_mapping(provider_type) {
            attribute_mapping
                .entry("username".into())
                .or_insert_with(|| source.into());
        }
        let now = self.now();
        let provider = IdentityProvider {
            name: name.to_owned(),
            provider_type: provider_type.to_owned(),
            details,
            attribute_mapping,
            idp_identifiers: input.idp_identifiers.unwrap_or_default(),
            acr_mapping: input.acr_mapping,
            created: now,
            modified: now,
        };
        let (_, provider) = self
            .update_pool(pool, |pool| {
                if pool.identity_providers.iter().any(|p| p.name == name) {
                    return Err(duplicate(name, &pool.id));
                }
                check_identifiers(pool, &provider.idp_identifiers, None)?;
                if pool.identity_providers.len() >= MAX_IDENTITY_PROVIDERS {
                    return Err(Error::new(
                        ErrorKind::LimitExceeded,
                        "The user pool has reached its limit of identity providers.",
                    ));
                }
                pool.identity_providers.push(provider.clone());
                pool.identity_providers.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(provider.clone())
            })
            .await?;
        Ok(provider)
    }

    /// A SAML provider's metadata (MetadataFile, else fetched from
    /// MetadataURL) and the details Cognito derives from it.
    async fn saml_details(
        &self,
        pool_id: &str,
        details: &mut BTreeMap<String, String>,
        previous: Option<&BTreeMap<String, String>>,
    ) -> Result<()> {
        let file = details
            .get("MetadataFile")
            .filter(|f| !f.trim().is_empty())
            .cloned();
        let xml = match file {
            Some(xml) => xml,
            None => {
                let url = details.get("MetadataURL").cloned().unwrap_or_default();
                self.fetch_saml_metadata(&url).await?
            }
        };
        super::saml_metadata::derive_details(details, &xml, previous, pool_id, self.now() / 1000)
    }

    async fn fetch_saml_metadata(&self, url: &str) -> Result<String> {
        let unreachable = || {
            Error::invalid_parameter(format!(
                "Unable to retrieve metadata from remote metadata source {url}"
            ))
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(unreachable());
        }
        let response = self
            .provider_http
            .send(super::federation::ProviderRequest {
                method: "GET",
                url: url.to_owned(),
                form: Vec::new(),
                bearer: None,
            })
            .await
            .map_err(|e| {
                tracing::warn!(%url, error = %e, "SAML metadata could not be fetched");
                unreachable()
            })?;
        if !(200..300).contains(&response.status) {
            return Err(Error::invalid_parameter(format!(
                "Non-ok status code {} returned from remote metadata source {url}",
                response.status
            )));
        }
        String::from_utf8(response.body)
            .map_err(|_| Error::invalid_parameter("Unable to unmarshall metadata"))
    }

    pub async fn describe_identity_provider(
        &self,
        pool_id: &str,
        name: &str,
    ) -> Result<IdentityProvider> {
        let pool = self.pool(pool_id).await?;
        pool.identity_providers
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .ok_or_else(|| provider_not_found(name, pool_id))
    }

    pub async fn get_identity_provider_by_identifier(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<IdentityProvider> {
        let pool = self.pool(pool_id).await?;
        pool.identity_providers
            .iter()
            .find(|p| p.idp_identifiers.iter().any(|i| i == identifier))
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::ResourceNotFound,
                    format!("Identity provider with identifier {identifier} does not exist in user pool {pool_id}."),
                )
            })
    }

    /// The providers of a pool in name order, a page at a time.
    pub async fn list_identity_providers(
        &self,
        pool_id: &str,
        limit: usize,
        next: Option<&str>,
    ) -> Result<Page<IdentityProvider>> {
        let pool = self.pool(pool_id).await?;
        let after = next.map(decode_token).transpose()?;
        let items: Vec<IdentityProvider> = pool
            .identity_providers
            .iter()
            .filter(|p| after.as_deref().is_none_or(|a| p.name.as_str() > a))
            .take(limit + 1)
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, limit, |p| &p.name))
    }

    /// UpdateIdentityProvider: replaces the members given; details are
    /// checked again for the type (a SignInWithApple `private_key` left out
    /// is kept: describe never shows it, so it cannot be sent back).
    pub async fn update_identity_provider(
        &self,
        pool_id: &str,
        name: &str,
        input: ProviderInput,
    ) -> Result<IdentityProvider> {
        let pool = (*self.pool(pool_id).await?).clone();
        let current = pool
            .identity_providers
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .ok_or_else(|| provider_not_found(name, pool_id))?;
        check_acr_mapping(&current.provider_type, input.acr_mapping.as_ref())?;
        let details = match input.details {
            Some(mut given) => {
                if let Some(key) = current.details.get("private_key") {
                    given
                        .entry("private_key".into())
                        .or_insert_with(|| key.clone());
                }
                let mut details = complete_details(&current.provider_type, given)?;
                if current.provider_type == "SAML" {
                    self.saml_details(pool_id, &mut details, Some(&current.details))
                        .await?;
                }
                Some(details)
            }
            None => None,
        };
        let now = self.now();
        let (_, provider) = self
            .update_pool(pool, |pool| {
                if let Some(ids) = &input.idp_identifiers {
                    check_identifiers(pool, ids, Some(name))?;
                }
                let pool_id = pool.id.clone();
                let p = pool
                    .identity_providers
                    .iter_mut()
                    .find(|p| p.name == name)
                    .ok_or_else(|| provider_not_found(name, &pool_id))?;
                if let Some(d) = &details {
                    p.details = d.clone();
                }
                if let Some(m) = &input.attribute_mapping {
                    p.attribute_mapping = m.clone();
                    if let Some(source) = default_username_mapping(&p.provider_type) {
                        p.attribute_mapping
                            .entry("username".into())
                            .or_insert_with(|| source.into());
                    }
                }
                if let Some(ids) = &input.idp_identifiers {
                    p.idp_identifiers = ids.clone();
                }
                if let Some(acr) = &input.acr_mapping {
                    p.acr_mapping = Some(acr.clone());
                }
                p.modified = now;
                Ok(p.clone())
            })
            .await?;
        Ok(provider)
    }

    /// DeleteIdentityProvider. App clients that list the provider keep the
    /// name, as on AWS; a later UpdateUserPoolClient that still lists it is
    /// refused until the name is taken out.
    pub async fn delete_identity_provider(&self, pool_id: &str, name: &str) -> Result<()> {
        let pool = (*self.pool(pool_id).await?).clone();
        self.update_pool(pool, |pool| {
            let before = pool.identity_providers.len();
            pool.identity_providers.retain(|p| p.name != name);
            if pool.identity_providers.len() == before {
                return Err(provider_not_found(name, &pool.id));
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// `SupportedIdentityProviders` of an app client: `COGNITO` or the name
    /// of a provider of the pool.
    pub(crate) fn check_supported_providers(pool: &UserPool, names: &[String]) -> Result<()> {
        for name in names {
            if name != COGNITO_PROVIDER && !pool.identity_providers.iter().any(|p| &p.name == name)
            {
                return Err(Error::invalid_parameter(format!(
                    "The provider {name} does not exist for User Pool {}.",
                    pool.id
                )));
            }
        }
        // AWS: a client of a SAML provider that allows IdP-initiated
        // sign-in may name no provider but SAML ones, not even COGNITO.
        let named = || {
            names
                .iter()
                .map(|n| pool.identity_providers.iter().find(|p| &p.name == n))
        };
        let idp_initiated = named().flatten().any(|p| p.saml_option("IDPInit"));
        let other = named().any(|p| p.is_none_or(|p| p.provider_type != "SAML"));
        if idp_initiated && other {
            return Err(Error::invalid_parameter(
                "An app client that supports a SAML identity provider with IdP-initiated sign-in (IDPInit) can't support other types of identity providers or COGNITO.",
            ));
        }
        Ok(())
    }

    // ------------------------------------------------------------ tags

    /// The pool an ARN names: a malformed ARN is InvalidParameterException,
    /// one of another region or account or of no pool ResourceNotFoundException.
    async fn pool_of_arn(&self, arn: &str) -> Result<UserPool> {
        let id = pool_id_of_arn(arn)?;
        if self.pool_arn(id) != arn {
            return Err(Error::pool_not_found(id));
        }
        Ok((*self.pool(id).await?).clone())
    }

    pub async fn tag_resource(&self, arn: &str, tags: BTreeMap<String, String>) -> Result<()> {
        let pool = self.pool_of_arn(arn).await?;
        self.update_pool(pool, |pool| {
            let mut merged = pool.settings.user_pool_tags.clone();
            merged.extend(tags.clone());
            if merged.len() > MAX_TAGS {
                return Err(Error::invalid_parameter(format!(
                    "A user pool can have at most {MAX_TAGS} tags."
                )));
            }
            pool.settings.user_pool_tags = merged;
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<()> {
        let pool = self.pool_of_arn(arn).await?;
        self.update_pool(pool, |pool| {
            for k in keys {
                pool.settings.user_pool_tags.remove(k);
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn list_tags_for_resource(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        Ok(self.pool_of_arn(arn).await?.settings.user_pool_tags)
    }

    // ------------------------------------------------------------ log delivery

    pub async fn get_log_delivery_configuration(
        &self,
        pool_id: &str,
    ) -> Result<Vec<LogConfiguration>> {
        Ok(self
            .pool(pool_id)
            .await?
            .log_configurations
            .clone()
            .unwrap_or_default())
    }

    /// SetLogDeliveryConfiguration replaces the pool's destinations, one per
    /// event source, each naming one destination. Any level goes to any
    /// destination on any plan: AWS accepts `userNotification` at INFO and
    /// `userAuthEvents` at ERROR to Firehose on an Essentials pool (the
    /// Terraform provider's acceptance tests run exactly that).
    pub async fn set_log_delivery_configuration(
        &self,
        pool_id: &str,
        configurations: Vec<LogConfiguration>,
    ) -> Result<Vec<LogConfiguration>> {
        let pool = (*self.pool(pool_id).await?).clone();
        let mut sources = std::collections::BTreeSet::new();
        for c in &configurations {
            if !sources.insert(c.event_source.as_str()) {
                return Err(Error::invalid_parameter(format!(
                    "Only one log configuration per event source is allowed: {}",
                    c.event_source
                )));
            }
            let destinations = [
                &c.cloudwatch_log_group_arn,
                &c.s3_bucket_arn,
                &c.firehose_stream_arn,
            ]
            .iter()
            .filter(|d| d.is_some())
            .count();
            if destinations != 1 {
                return Err(Error::invalid_parameter(
                    "A log configuration must have exactly one destination: CloudWatchLogsConfiguration, S3Configuration or FirehoseConfiguration.",
                ));
            }
        }
        self.update_pool(pool, |pool| {
            pool.log_configurations = Some(configurations.clone());
            Ok(())
        })
        .await?;
        Ok(configurations)
    }

    // ------------------------------------------------------------ risk configuration

    /// DescribeRiskConfiguration: the client's own settings when it has
    /// some, otherwise the pool's (which it inherits); with nothing set,
    /// only the ids.
    pub async fn describe_risk_configuration(
        &self,
        pool_id: &str,
        client_id: Option<&str>,
    ) -> Result<RiskConfiguration> {
        let pool = self.pool(pool_id).await?;
        if let Some(c) = client_id {
            self.client_of(pool_id, c).await?;
        }
        let own = client_id.and_then(|c| {
            pool.risk_configurations
                .iter()
                .find(|r| r.client_id.as_deref() == Some(c))
        });
        let inherited = || {
            pool.risk_configurations
                .iter()
                .find(|r| r.client_id.is_none())
        };
        Ok(match own.or_else(inherited) {
            Some(r) => r.clone(),
            None => RiskConfiguration {
                client_id: client_id.map(str::to_owned),
                compromised_credentials: None,
                account_takeover: None,
                risk_exception: None,
                modified: 0,
            },
        })
    }

    /// SetRiskConfiguration: replaces the pool's (no client) or a client's
    /// settings; with no settings at all, resets them (a client then
    /// inherits the pool's again).
    pub async fn set_risk_configuration(
        &self,
        pool_id: &str,
        input: RiskInput,
    ) -> Result<RiskConfiguration> {
        let pool = (*self.pool(pool_id).await?).clone();
        if let Some(c) = &input.client_id {
            self.client_of(pool_id, c).await?;
        }
        if let Some(exceptions) = &input.risk_exception {
            super::risk::check_exceptions(exceptions)?;
        }
        let record = RiskConfiguration {
            client_id: input.client_id.clone(),
            compromised_credentials: input.compromised_credentials,
            account_takeover: input.account_takeover,
            risk_exception: input.risk_exception,
            modified: self.now(),
        };
        let empty = record.compromised_credentials.is_none()
            && record.account_takeover.is_none()
            && record.risk_exception.is_none();
        self.update_pool(pool, |pool| {
            pool.risk_configurations
                .retain(|r| r.client_id != record.client_id);
            if !empty {
                pool.risk_configurations.push(record.clone());
            }
            Ok(())
        })
        .await?;
        Ok(record)
    }

    // ------------------------------------------------------------ signing certificate

    /// GetSigningCertificate: a self-signed X.509 certificate (DER) over
    /// the key that signs the pool's ID tokens now (the key its JWKS
    /// publishes under the same kid), valid ten years from the key's
    /// creation. The same key always gives the same certificate.
    pub async fn signing_certificate(&self, pool_id: &str) -> Result<Vec<u8>> {
        self.pool(pool_id).await?;
        let now = self.now();
        let keys = self.keys.get(self.store.as_ref(), pool_id, now).await?;
        let signing = keys.signing_key("id", now)?.clone();
        let created = keys
            .keys
            .iter()
            .find(|k| k.stored.kid == signing.kid())
            .map(|k| k.stored.created)
            .unwrap_or(now);
        let serial = cognate_crypto::digest::sha256(signing.kid().as_bytes());
        let pkcs8 = signing.pkcs8().to_vec();
        let cn = pool_id.to_owned();
        tokio::task::spawn_blocking(move || {
            cognate_crypto::cert::self_signed_der(
                &pkcs8,
                &cn,
                created.div_euclid(1000),
                &serial[..16],
            )
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?
        .map_err(|e| Error::internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_of_pools() {
        assert_eq!(
            pool_id_of_arn("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"),
            Ok("us-east-1_abc")
        );
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:cognito-idp:us-east-1:123456789012:identitypool/x",
            "arn:aws:cognito-idp:us-east-1:123456789012:userpool/",
            "not an arn",
        ] {
            assert!(pool_id_of_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn social_providers_are_named_after_their_type() {
        assert!(check_name("Google", "Google").is_ok());
        assert!(check_name("MyOidc", "OIDC").is_ok());
        assert_eq!(
            check_name("NameOfGP", "Google").map_err(|e| e.message),
            Err("Provider NameOfGP cannot be of type Google.".to_owned())
        );
        assert!(check_name("Google", "OIDC").is_err());
        assert!(check_name("COGNITO", "SAML").is_err());
    }

    #[test]
    fn required_details_per_type() {
        let err = complete_details("Google", BTreeMap::new()).map_err(|e| e.message);
        assert_eq!(
            err,
            Err(
                "client_id, client_secret and authorize_scopes are all required idp details".into()
            )
        );
        let google = complete_details(
            "Google",
            [
                ("client_id", "a"),
                ("client_secret", "b"),
                ("authorize_scopes", "email"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        )
        .expect("google");
        assert_eq!(
            google.get("token_url").map(String::as_str),
            Some("https://www.googleapis.com/oauth2/v4/token")
        );
        assert!(complete_details("SAML", BTreeMap::new()).is_err());
    }
}

//! The declarative config file (YAML): pools with explicit ids, their
//! clients and seed users. Read in two stages: the raw file is parsed into
//! these types (any unknown key or wrong type is refused with the file,
//! line and key path), then `apply` reconciles the database with it
//! idempotently at every start.

use std::collections::BTreeMap;
use std::path::Path;

use cognate_core::model::{
    AdminCreateUserConfig, AttributeDataType, ClientSettings, MessageTemplate, PasswordPolicy,
    PoolSettings, TokenValidityUnits, VerificationMessageTemplate,
};
use cognate_core::schema::SchemaInput;
use cognate_core::service::{NewClient, NewPool};
use cognate_core::UserPools;
use serde::Deserialize;

/// A config error that points into the file.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub pools: Vec<PoolConfig>,
    /// The API gateway (see `cognate_gateway::config`); none when absent.
    #[serde(default)]
    pub gateway: Option<cognate_gateway::GatewayConfig>,
    /// Scheduled rotation of every pool's signing keys.
    #[serde(default)]
    pub signing_keys: Option<crate::keys::SigningKeysConfig>,
    /// Where the state is kept (`sqlite:PATH` or `postgres://...`), unless
    /// `--database` / `COGNATE_DATABASE_URL` says otherwise.
    #[serde(default)]
    pub database: Option<String>,
    /// Who may call the IAM (admin) operations.
    #[serde(default)]
    pub admin: Option<AdminConfig>,
    /// How Lambda triggers are invoked (see `crate::lambda`).
    #[serde(default)]
    pub lambda: Option<crate::lambda::LambdaConfig>,
    /// Rate limits of sign-in, sign-up and codes (per IP and per user).
    #[serde(default)]
    pub rate_limits: Option<cognate_core::ratelimit::RateLimitConfig>,
    /// How failed sign-ins lock an account (Cognito's policy when absent).
    #[serde(default)]
    pub lockout: Option<cognate_core::ratelimit::LockoutConfig>,
}

/// `admin:`: the access keys that sign the IAM operations.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    #[serde(default)]
    pub credentials: Vec<AdminCredentialConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminCredentialConfig {
    pub access_key_id: AccessKeyId,
    pub secret_access_key: Secret,
    /// When set, requests must carry it as `X-Amz-Security-Token` (signed).
    #[serde(default)]
    pub session_token: Option<Secret>,
    /// When set, the key manages only these pools.
    #[serde(default)]
    pub pools: Option<Vec<PoolId>>,
}

/// An access key id: 1 to 128 letters, digits, `_`, `-` or `.`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct AccessKeyId(pub String);

impl TryFrom<String> for AccessKeyId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if !s.is_empty()
            && s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            Ok(AccessKeyId(s))
        } else {
            Err(format!(
                "invalid access key id `{s}`: expected 1 to 128 letters, digits, `_`, `-` or `.`"
            ))
        }
    }
}

/// A secret (a secret access key or a session token): not empty, never shown.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Secret(pub String);

impl TryFrom<String> for Secret {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.is_empty() {
            Err("must not be empty".into())
        } else {
            Ok(Secret(s))
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The environment variables of an unrestricted admin key.
pub const ADMIN_KEY_ENV: &str = "COGNATE_ADMIN_ACCESS_KEY_ID";
pub const ADMIN_SECRET_ENV: &str = "COGNATE_ADMIN_SECRET_ACCESS_KEY";

/// The admin credentials of the config file (`file`, when given) and of the
/// environment (`env_key`, `env_secret`), checked: both env variables or
/// neither, no access key id twice.
pub fn admin_credentials(
    file: Option<(&Path, &ConfigFile)>,
    env_key: Option<String>,
    env_secret: Option<String>,
) -> Result<Vec<cognate_aws_json::sigv4::Credential>, ConfigError> {
    let mut out: Vec<cognate_aws_json::sigv4::Credential> = Vec::new();
    if let Some((path, f)) = file {
        for (i, c) in f
            .admin
            .iter()
            .flat_map(|a| a.credentials.iter())
            .enumerate()
        {
            if out.iter().any(|o| o.access_key_id == c.access_key_id.0) {
                return Err(ConfigError(format!(
                    "{}: key `admin.credentials[{i}].access_key_id`: access key id `{}` is given twice",
                    path.display(),
                    c.access_key_id.0
                )));
            }
            out.push(cognate_aws_json::sigv4::Credential {
                access_key_id: c.access_key_id.0.clone(),
                secret_access_key: c.secret_access_key.0.clone(),
                session_token: c.session_token.as_ref().map(|t| t.0.clone()),
                pools: c
                    .pools
                    .as_ref()
                    .map(|p| p.iter().map(|id| id.0.clone()).collect()),
            });
        }
    }
    let env_key = env_key.filter(|k| !k.is_empty());
    let env_secret = env_secret.filter(|s| !s.is_empty());
    match (env_key, env_secret) {
        (None, None) => {}
        (Some(key), Some(secret)) => {
            let key = AccessKeyId::try_from(key)
                .map_err(|e| ConfigError(format!("{ADMIN_KEY_ENV}: {e}")))?;
            if out.iter().any(|o| o.access_key_id == key.0) {
                return Err(ConfigError(format!(
                    "{ADMIN_KEY_ENV}: access key id `{}` is also in the config file's admin.credentials",
                    key.0
                )));
            }
            out.push(cognate_aws_json::sigv4::Credential {
                access_key_id: key.0,
                secret_access_key: secret,
                session_token: None,
                pools: None,
            });
        }
        _ => {
            return Err(ConfigError(format!(
                "{ADMIN_KEY_ENV} and {ADMIN_SECRET_ENV} must be set together"
            )))
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    pub id: PoolId,
    pub name: String,
    #[serde(default)]
    pub password_policy: Option<PasswordPolicyConfig>,
    #[serde(default)]
    pub auto_verified_attributes: Vec<VerifiableAttribute>,
    #[serde(default)]
    pub alias_attributes: Vec<AliasAttribute>,
    #[serde(default)]
    pub username_attributes: Vec<VerifiableAttribute>,
    #[serde(default)]
    pub username_case_sensitive: Option<bool>,
    #[serde(default)]
    pub mfa_configuration: Option<MfaConfiguration>,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default)]
    pub allow_admin_create_user_only: bool,
    #[serde(default)]
    pub verification_message: Option<MessageConfig>,
    #[serde(default)]
    pub invitation_message: Option<MessageConfig>,
    #[serde(default)]
    pub schema: Vec<SchemaConfig>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Pool-wide hosted-UI branding (SetUICustomization with ClientId `ALL`).
    #[serde(default)]
    pub ui: Option<UiConfig>,
    /// A prefix domain: the OAuth endpoints answer on `<domain>.<host>`
    /// and under `/domains/<domain>/`.
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub resource_servers: Vec<ResourceServerConfig>,
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    #[serde(default)]
    pub users: Vec<UserConfig>,
}

/// A resource server and its custom scopes (`<identifier>/<name>`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceServerConfig {
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<ScopeConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    pub name: String,
    pub description: String,
}

/// A pool id: `<region>_<alphanumerics>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct PoolId(pub String);

impl TryFrom<String> for PoolId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if cognate_core::valid_pool_id(&s) {
            Ok(PoolId(s))
        } else {
            Err(format!(
                "invalid pool id `{s}`: expected <region>_<letters and digits>, e.g. us-east-1_Example1"
            ))
        }
    }
}

/// A client id: letters, digits, `_` and `+`, at most 128.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct ClientId(pub String);

impl TryFrom<String> for ClientId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if !s.is_empty()
            && s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+')
        {
            Ok(ClientId(s))
        } else {
            Err(format!(
                "invalid client id `{s}`: use 1 to 128 letters, digits, `_` or `+`"
            ))
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VerifiableAttribute {
    Email,
    PhoneNumber,
}

impl VerifiableAttribute {
    fn name(self) -> String {
        match self {
            VerifiableAttribute::Email => "email".into(),
            VerifiableAttribute::PhoneNumber => "phone_number".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AliasAttribute {
    Email,
    PhoneNumber,
    PreferredUsername,
}

impl AliasAttribute {
    fn name(self) -> String {
        match self {
            AliasAttribute::Email => "email".into(),
            AliasAttribute::PhoneNumber => "phone_number".into(),
            AliasAttribute::PreferredUsername => "preferred_username".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MfaConfiguration {
    Off,
    On,
    Optional,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicyConfig {
    pub minimum_length: Option<u32>,
    pub require_uppercase: Option<bool>,
    pub require_lowercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub password_history_size: Option<u32>,
    pub temporary_password_validity_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageConfig {
    pub email_subject: Option<String>,
    pub email_message: Option<String>,
    pub sms_message: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub enum DataType {
    String,
    Number,
    DateTime,
    Boolean,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: Option<DataType>,
    pub required: Option<bool>,
    pub mutable: Option<bool>,
    pub developer_only: Option<bool>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub enum AuthFlow {
    #[serde(rename = "ALLOW_ADMIN_USER_PASSWORD_AUTH")]
    AllowAdminUserPasswordAuth,
    #[serde(rename = "ALLOW_CUSTOM_AUTH")]
    AllowCustomAuth,
    #[serde(rename = "ALLOW_USER_PASSWORD_AUTH")]
    AllowUserPasswordAuth,
    #[serde(rename = "ALLOW_USER_SRP_AUTH")]
    AllowUserSrpAuth,
    #[serde(rename = "ALLOW_REFRESH_TOKEN_AUTH")]
    AllowRefreshTokenAuth,
    #[serde(rename = "ALLOW_USER_AUTH")]
    AllowUserAuth,
    #[serde(rename = "ALLOW_CLIENT_TOKEN_AUTH")]
    AllowClientTokenAuth,
    #[serde(rename = "ADMIN_NO_SRP_AUTH")]
    AdminNoSrpAuth,
    #[serde(rename = "USER_PASSWORD_AUTH")]
    UserPasswordAuth,
    #[serde(rename = "CUSTOM_AUTH_FLOW_ONLY")]
    CustomAuthFlowOnly,
}

impl AuthFlow {
    fn name(self) -> &'static str {
        match self {
            AuthFlow::AllowAdminUserPasswordAuth => "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            AuthFlow::AllowCustomAuth => "ALLOW_CUSTOM_AUTH",
            AuthFlow::AllowUserPasswordAuth => "ALLOW_USER_PASSWORD_AUTH",
            AuthFlow::AllowUserSrpAuth => "ALLOW_USER_SRP_AUTH",
            AuthFlow::AllowRefreshTokenAuth => "ALLOW_REFRESH_TOKEN_AUTH",
            AuthFlow::AllowUserAuth => "ALLOW_USER_AUTH",
            AuthFlow::AllowClientTokenAuth => "ALLOW_CLIENT_TOKEN_AUTH",
            AuthFlow::AdminNoSrpAuth => "ADMIN_NO_SRP_AUTH",
            AuthFlow::UserPasswordAuth => "USER_PASSWORD_AUTH",
            AuthFlow::CustomAuthFlowOnly => "CUSTOM_AUTH_FLOW_ONLY",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    fn name(self) -> String {
        match self {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Minutes => "minutes",
            TimeUnit::Hours => "hours",
            TimeUnit::Days => "days",
        }
        .into()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenUnitsConfig {
    pub access_token: Option<TimeUnit>,
    pub id_token: Option<TimeUnit>,
    pub refresh_token: Option<TimeUnit>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PreventUserExistenceErrors {
    Legacy,
    Enabled,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub id: ClientId,
    pub name: String,
    /// An explicit secret; or `generate_secret: true` to make one once.
    pub secret: Option<String>,
    #[serde(default)]
    pub generate_secret: bool,
    pub explicit_auth_flows: Option<Vec<AuthFlow>>,
    pub access_token_validity: Option<i64>,
    pub id_token_validity: Option<i64>,
    pub refresh_token_validity: Option<i64>,
    pub token_validity_units: Option<TokenUnitsConfig>,
    pub auth_session_validity: Option<i64>,
    pub read_attributes: Option<Vec<String>>,
    pub write_attributes: Option<Vec<String>>,
    pub prevent_user_existence_errors: Option<PreventUserExistenceErrors>,
    pub enable_token_revocation: Option<bool>,
    pub callback_urls: Option<Vec<String>>,
    pub logout_urls: Option<Vec<String>>,
    pub default_redirect_uri: Option<String>,
    pub allowed_oauth_flows: Option<Vec<String>>,
    pub allowed_oauth_scopes: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_oauth_flows_user_pool_client: bool,
    pub supported_identity_providers: Option<Vec<String>>,
    /// Hosted-UI branding of this client (like SetUICustomization).
    #[serde(default)]
    pub ui: Option<UiConfig>,
}

/// Hosted-UI branding: CSS inline or from a file, and a PNG/JPEG logo file.
/// Relative paths are resolved against the config file's directory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    pub css: Option<String>,
    pub css_file: Option<std::path::PathBuf>,
    pub logo_file: Option<std::path::PathBuf>,
}

impl UiConfig {
    /// The CSS and logo bytes, or an error naming the file that failed.
    fn read(&self, config_path: &Path) -> Result<(Option<String>, Option<Vec<u8>>), String> {
        let dir = config_path.parent().unwrap_or_else(|| Path::new("."));
        let css = match (&self.css, &self.css_file) {
            (Some(_), Some(_)) => return Err("set `css` or `css_file`, not both".into()),
            (Some(c), None) => Some(c.clone()),
            (None, Some(f)) => {
                let f = dir.join(f);
                Some(
                    std::fs::read_to_string(&f)
                        .map_err(|e| format!("key `css_file`: {}: {e}", f.display()))?,
                )
            }
            (None, None) => None,
        };
        let logo = match &self.logo_file {
            Some(f) => {
                let f = dir.join(f);
                Some(
                    std::fs::read(&f)
                        .map_err(|e| format!("key `logo_file`: {}: {e}", f.display()))?,
                )
            }
            None => None,
        };
        Ok((css, logo))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub username: String,
    pub password: Option<String>,
    /// A temporary password: the user must choose a new one at first sign-in.
    #[serde(default)]
    pub temporary: bool,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Reads and parses a config file; errors name the file, line, column and key.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{}: cannot read config file: {e}", path.display())))?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    let de = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, ConfigFile>(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.inner();
        let location = inner
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        let mut message = inner.to_string();
        // The location is already in front; drop serde_norway's own suffix.
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        let key = if key == "." || key.is_empty() {
            String::new()
        } else {
            format!(" key `{key}`:")
        };
        ConfigError(format!("{}{location}:{key} {message}", path.display()))
    })
}

impl PoolConfig {
    fn to_new_pool(&self) -> NewPool {
        let mut settings = PoolSettings::default();
        if let Some(p) = &self.password_policy {
            let d = PasswordPolicy::default();
            settings.password_policy = PasswordPolicy {
                minimum_length: p.minimum_length.unwrap_or(d.minimum_length),
                require_uppercase: p.require_uppercase.unwrap_or(d.require_uppercase),
                require_lowercase: p.require_lowercase.unwrap_or(d.require_lowercase),
                require_numbers: p.require_numbers.unwrap_or(d.require_numbers),
                require_symbols: p.require_symbols.unwrap_or(d.require_symbols),
                password_history_size: p.password_history_size,
                temporary_password_validity_days: p
                    .temporary_password_validity_days
                    .unwrap_or(d.temporary_password_validity_days),
            };
        }
        settings.auto_verified_attributes = self
            .auto_verified_attributes
            .iter()
            .map(|a| a.name())
            .collect();
        settings.mfa_configuration = match self.mfa_configuration {
            Some(MfaConfiguration::On) => "ON",
            Some(MfaConfiguration::Optional) => "OPTIONAL",
            _ => "OFF",
        }
        .into();
        // TOTP is the one factor cognate offers: a pool whose MFA is ON or
        // OPTIONAL has it enabled, so GetUserPoolMfaConfig agrees.
        settings.software_token_mfa_enabled = settings.mfa_configuration != "OFF";
        settings.deletion_protection = self.deletion_protection;
        settings.user_pool_tags = self.tags.clone();
        settings.admin_create_user_config = AdminCreateUserConfig {
            allow_admin_create_user_only: self.allow_admin_create_user_only,
            unused_account_validity_days: 7,
            invite_message_template: self.invitation_message.as_ref().map(|m| MessageTemplate {
                sms_message: m.sms_message.clone(),
                email_message: m.email_message.clone(),
                email_subject: m.email_subject.clone(),
            }),
        };
        if let Some(m) = &self.verification_message {
            settings.verification_message_template = VerificationMessageTemplate {
                sms_message: m.sms_message.clone(),
                email_message: m.email_message.clone(),
                email_subject: m.email_subject.clone(),
                ..Default::default()
            };
        }
        NewPool {
            id: Some(self.id.0.clone()),
            name: self.name.clone(),
            alias_attributes: self.alias_attributes.iter().map(|a| a.name()).collect(),
            username_attributes: self.username_attributes.iter().map(|a| a.name()).collect(),
            username_case_sensitive: self.username_case_sensitive,
            schema: self
                .schema
                .iter()
                .map(|s| SchemaInput {
                    // The config file names custom attributes with or without
                    // `custom:` and lets their type default to String.
                    name: s.name.strip_prefix("custom:").unwrap_or(&s.name).to_owned(),
                    data_type: match s.data_type {
                        Some(t) => Some(match t {
                            DataType::String => AttributeDataType::String,
                            DataType::Number => AttributeDataType::Number,
                            DataType::DateTime => AttributeDataType::DateTime,
                            DataType::Boolean => AttributeDataType::Boolean,
                        }),
                        None => Some(
                            cognate_core::schema::standard_type(&s.name)
                                .unwrap_or(AttributeDataType::String),
                        ),
                    },
                    developer_only: s.developer_only,
                    mutable: s.mutable,
                    required: s.required,
                    min_length: s.min_length.map(|v| v.to_string()),
                    max_length: s.max_length.map(|v| v.to_string()),
                    min_value: s.min_value.map(|v| v.to_string()),
                    max_value: s.max_value.map(|v| v.to_string()),
                    number_constraints: s.min_value.is_some() || s.max_value.is_some(),
                })
                .collect(),
            settings,
        }
    }
}

impl ClientConfig {
    fn to_new_client(&self, pool_id: &str) -> NewClient {
        let mut s = ClientSettings::named(&self.name);
        s.explicit_auth_flows = self
            .explicit_auth_flows
            .as_ref()
            .map(|f| f.iter().map(|a| a.name().to_owned()).collect());
        s.access_token_validity = self.access_token_validity;
        s.id_token_validity = self.id_token_validity;
        if let Some(r) = self.refresh_token_validity {
            s.refresh_token_validity = r;
        }
        if let Some(u) = &self.token_validity_units {
            s.token_validity_units = TokenValidityUnits {
                access_token: u.access_token.map(TimeUnit::name),
                id_token: u.id_token.map(TimeUnit::name),
                refresh_token: u.refresh_token.map(TimeUnit::name),
            };
        }
        if let Some(v) = self.auth_session_validity {
            s.auth_session_validity = v;
        }
        s.read_attributes = self.read_attributes.clone();
        s.write_attributes = self.write_attributes.clone();
        s.prevent_user_existence_errors = self.prevent_user_existence_errors.map(|p| {
            match p {
                PreventUserExistenceErrors::Legacy => "LEGACY",
                PreventUserExistenceErrors::Enabled => "ENABLED",
            }
            .to_owned()
        });
        if let Some(r) = self.enable_token_revocation {
            s.enable_token_revocation = r;
        }
        s.callback_urls = self.callback_urls.clone();
        s.logout_urls = self.logout_urls.clone();
        s.default_redirect_uri = self.default_redirect_uri.clone();
        s.allowed_oauth_flows = self.allowed_oauth_flows.clone();
        s.allowed_oauth_scopes = self.allowed_oauth_scopes.clone();
        s.allowed_oauth_flows_user_pool_client = self.allowed_oauth_flows_user_pool_client;
        s.supported_identity_providers = self.supported_identity_providers.clone();
        NewClient {
            pool_id: pool_id.to_owned(),
            client_id: Some(self.id.0.clone()),
            generate_secret: self.generate_secret,
            client_secret: self.secret.clone(),
            settings: s,
        }
    }
}

/// Sets the branding unless it is already what the file says, so a restart
/// does not move its LastModifiedDate.
async fn reconcile_ui(
    svc: &UserPools,
    pool_id: &str,
    client_id: Option<&str>,
    css: Option<String>,
    logo: Option<Vec<u8>>,
) -> Result<(), cognate_core::Error> {
    let (_, current) = svc.get_ui_customization(pool_id, client_id).await?;
    if current.is_some_and(|c| c.css == css && c.image == logo) {
        return Ok(());
    }
    svc.set_ui_customization(pool_id, client_id, css, logo)
        .await
        .map(|_| ())
}

/// Makes the database agree with the file: creates what is missing,
/// updates settings that changed, and creates seed users that do not exist
/// (existing users are left alone, so their passwords survive restarts).
pub async fn apply(svc: &UserPools, path: &Path, file: &ConfigFile) -> Result<(), ConfigError> {
    let fail = |what: String, e: cognate_core::Error| {
        ConfigError(format!("{}: {what}: {}", path.display(), e.message))
    };
    for (i, pool) in file.pools.iter().enumerate() {
        let at = format!("key `pools[{i}]` (pool {})", pool.id.0);
        svc.reconcile_user_pool(pool.to_new_pool())
            .await
            .map_err(|e| fail(at.clone(), e))?;
        if let Some(domain) = &pool.domain {
            svc.reconcile_user_pool_domain(&pool.id.0, domain)
                .await
                .map_err(|e| fail(format!("{at} key `domain`"), e))?;
        }
        for (j, rs) in pool.resource_servers.iter().enumerate() {
            let scopes = rs
                .scopes
                .iter()
                .map(|s| cognate_core::model::ResourceServerScope {
                    name: s.name.clone(),
                    description: s.description.clone(),
                })
                .collect();
            svc.reconcile_resource_server(&pool.id.0, &rs.identifier, &rs.name, scopes)
                .await
                .map_err(|e| {
                    fail(
                        format!("{at} key `resource_servers[{j}]` ({})", rs.identifier),
                        e,
                    )
                })?;
        }
        for (j, client) in pool.clients.iter().enumerate() {
            svc.reconcile_user_pool_client(client.to_new_client(&pool.id.0))
                .await
                .map_err(|e| {
                    fail(
                        format!("{at} key `clients[{j}]` (client {})", client.id.0),
                        e,
                    )
                })?;
            if let Some(ui) = &client.ui {
                let what = format!("{at} key `clients[{j}].ui` (client {})", client.id.0);
                let (css, logo) = ui
                    .read(path)
                    .map_err(|e| ConfigError(format!("{}: {what} {e}", path.display())))?;
                reconcile_ui(svc, &pool.id.0, Some(&client.id.0), css, logo)
                    .await
                    .map_err(|e| fail(what, e))?;
            }
        }
        if let Some(ui) = &pool.ui {
            let what = format!("{at} key `ui`");
            let (css, logo) = ui
                .read(path)
                .map_err(|e| ConfigError(format!("{}: {what} {e}", path.display())))?;
            reconcile_ui(svc, &pool.id.0, None, css, logo)
                .await
                .map_err(|e| fail(what, e))?;
        }
        for (j, user) in pool.users.iter().enumerate() {
            svc.seed_user(
                &pool.id.0,
                &user.username,
                user.password.as_deref(),
                !user.temporary,
                user.attributes
                    .iter()
                    .map(|(k, v)| cognate_core::model::Attribute::new(k.clone(), v.clone()))
                    .collect(),
            )
            .await
            .map_err(|e| fail(format!("{at} key `users[{j}]` (user {})", user.username), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("cognate.yaml"), text).unwrap_err().0
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err("pools:\n  - id: us-east-1_Abc\n    name: p\n    colour: blue\n");
        assert!(e.starts_with("cognate.yaml:4:"), "{e}");
        assert!(e.contains("pools[0]"), "{e}");
        assert!(e.contains("colour"), "{e}");

        let e = err("pools:\n  - id: us-east-1_Abc\n    name: p\n    clients:\n      - id: abc\n        name: c\n        explicit_auth_flows: 42\n");
        assert!(e.starts_with("cognate.yaml:7:"), "{e}");
        assert!(e.contains("explicit_auth_flows"), "{e}");

        let e = err("pools:\n  - id: not-a-pool-id\n    name: p\n");
        assert!(e.contains("cognate.yaml:2:"), "{e}");
        assert!(e.contains("invalid pool id"), "{e}");

        let e = err("pools:\n  - id: us-east-1_Abc\n    name: p\n    clients:\n      - id: abc\n        name: c\n        explicit_auth_flows: [ALLOW_EVERYTHING]\n");
        assert!(e.contains("cognate.yaml:7:"), "{e}");
    }

    #[test]
    fn rate_limits_parse_with_errors_naming_the_key() {
        let f = parse(
            Path::new("c.yaml"),
            "rate_limits:\n  sign_in_per_ip: {per_second: 5, burst: 20}\n  code_issue_per_user: {per_minute: 3, burst: 3}\n",
        )
        .unwrap();
        let limits = f.rate_limits.unwrap();
        use cognate_core::ratelimit::{Rate, RateLimitConfig};
        assert_eq!(limits.sign_in_per_ip, Rate::per_second(5.0, 20));
        assert_eq!(limits.code_issue_per_user, Rate::per_minute(3.0, 3));
        assert_eq!(
            limits.sign_up_per_ip,
            RateLimitConfig::default().sign_up_per_ip
        );

        let e = err("rate_limits:\n  sign_in_per_ip: {per_second: 0, burst: 20}\n");
        assert!(e.starts_with("cognate.yaml:2:"), "{e}");
        assert!(e.contains("rate_limits.sign_in_per_ip"), "{e}");
        assert!(e.contains("positive"), "{e}");
        let e = err("rate_limits:\n  sign_in_per_hour: {per_second: 1, burst: 1}\n");
        assert!(e.contains("sign_in_per_hour"), "{e}");
    }

    #[test]
    fn lockout_parses_with_errors_naming_the_key() {
        let f = parse(
            Path::new("c.yaml"),
            "lockout:\n  first_lock_seconds: 60\n  after_failures: 3\n",
        )
        .unwrap();
        let policy = f.lockout.unwrap().policy();
        assert_eq!((policy.after, policy.base_ms), (3, 60_000));
        assert_eq!(policy.max_ms, 15 * 60 * 1000, "the others keep Cognito's");
        let default = cognate_core::ratelimit::LockoutConfig::default().policy();
        assert_eq!(
            (
                default.after,
                default.base_ms,
                default.max_ms,
                default.reset_ms
            ),
            (5, 1000, 900_000, 900_000)
        );

        let e = err("lockout:\n  first_lock_seconds: 0\n");
        assert!(e.starts_with("cognate.yaml:"), "{e}");
        assert!(e.contains("first_lock_seconds"), "{e}");
        let e = err("lockout:\n  first_lock_seconds: 1200\n");
        assert!(e.contains("max_lock_seconds"), "{e}");
        let e = err("lockout:\n  after_failures: 0\n");
        assert!(e.contains("after_failures"), "{e}");
        let e = err("lockout:\n  lock_for: 3\n");
        assert!(e.contains("lock_for"), "{e}");
    }

    #[test]
    fn a_full_file_parses() {
        let f = parse(
            Path::new("c.yaml"),
            "pools:\n  - id: us-east-1_TestPool1\n    name: todo\n    auto_verified_attributes: [email]\n    password_policy: {minimum_length: 12}\n    clients:\n      - id: 3c4v73qlc19bp0mevm94f5a4co\n        name: app\n        explicit_auth_flows: [ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]\n    users:\n      - username: seeded\n        password: Passw0rd!\n        attributes: {email: s@example.com, email_verified: \"true\"}\n",
        )
        .unwrap();
        assert_eq!(f.pools[0].clients[0].id.0, "3c4v73qlc19bp0mevm94f5a4co");
        assert_eq!(
            f.pools[0]
                .to_new_pool()
                .settings
                .password_policy
                .minimum_length,
            12
        );
    }

    #[test]
    fn ui_branding_files_are_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cognate.yaml");
        let ui = UiConfig {
            css: None,
            css_file: None,
            logo_file: Some("missing.png".into()),
        };
        let e = ui.read(&cfg).unwrap_err();
        assert!(
            e.contains("key `logo_file`") && e.contains("missing.png"),
            "{e}"
        );
        let both = UiConfig {
            css: Some("a{}".into()),
            css_file: Some("b.css".into()),
            logo_file: None,
        };
        assert!(both.read(&cfg).unwrap_err().contains("not both"));
        std::fs::write(dir.path().join("b.css"), "x{}").unwrap();
        let file = UiConfig {
            css: None,
            css_file: Some("b.css".into()),
            logo_file: None,
        };
        assert_eq!(file.read(&cfg).unwrap(), (Some("x{}".to_owned()), None));
    }
}

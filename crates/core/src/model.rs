//! The domain's records: user pools, app clients, users and the short-lived
//! state of sign-in (challenge sessions, one-time codes, refresh tokens,
//! signing keys). They serialise with serde so a store can keep the parts
//! it does not index as a document; they are not wire types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Millis;

/// Password rules of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub minimum_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub password_history_size: Option<u32>,
    pub temporary_password_validity_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            password_history_size: None,
            temporary_password_validity_days: 7,
        }
    }
}

/// Data type of a schema attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeDataType {
    String,
    Number,
    DateTime,
    Boolean,
}

impl AttributeDataType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeDataType::String => "String",
            AttributeDataType::Number => "Number",
            AttributeDataType::DateTime => "DateTime",
            AttributeDataType::Boolean => "Boolean",
        }
    }
}

/// One attribute of a pool's schema. `name` is the full name (`email`,
/// `custom:team`, `dev:custom:x`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaAttribute {
    pub name: String,
    pub data_type: AttributeDataType,
    pub developer_only: bool,
    pub mutable: bool,
    pub required: bool,
    pub min_length: Option<String>,
    pub max_length: Option<String>,
    pub min_value: Option<String>,
    pub max_value: Option<String>,
    /// A Number attribute created with NumberAttributeConstraints, even an
    /// empty one: AWS reports the member then (the Terraform provider's
    /// tests read `{}` back).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub number_constraints_given: bool,
}

/// A message template (subject/body/SMS) with `{####}` and `{username}` placeholders.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    pub sms_message: Option<String>,
    pub email_message: Option<String>,
    pub email_subject: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationMessageTemplate {
    pub sms_message: Option<String>,
    pub email_message: Option<String>,
    pub email_subject: Option<String>,
    pub email_message_by_link: Option<String>,
    pub email_subject_by_link: Option<String>,
    pub default_email_option: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminCreateUserConfig {
    pub allow_admin_create_user_only: bool,
    pub unused_account_validity_days: u32,
    pub invite_message_template: Option<MessageTemplate>,
}

impl Default for AdminCreateUserConfig {
    fn default() -> Self {
        AdminCreateUserConfig {
            allow_admin_create_user_only: false,
            unused_account_validity_days: 7,
            invite_message_template: None,
        }
    }
}

/// A recovery channel and its priority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryOption {
    pub priority: u32,
    pub name: String,
}

/// The settings of a pool that UpdateUserPool replaces as a whole.
/// Members that cognate stores and echoes but does not act on (Lambda
/// triggers, SES/SNS configuration, add-ons) are kept as opaque documents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolSettings {
    pub password_policy: PasswordPolicy,
    pub sign_in_policy: Option<Value>,
    pub deletion_protection: bool,
    pub lambda_config: Option<Value>,
    pub auto_verified_attributes: Vec<String>,
    pub sms_verification_message: Option<String>,
    pub email_verification_message: Option<String>,
    pub email_verification_subject: Option<String>,
    pub verification_message_template: VerificationMessageTemplate,
    pub sms_authentication_message: Option<String>,
    pub attributes_require_verification_before_update: Option<Vec<String>>,
    pub mfa_configuration: String,
    pub device_configuration: Option<Value>,
    pub email_configuration: Option<Value>,
    pub sms_configuration: Option<Value>,
    pub user_pool_tags: BTreeMap<String, String>,
    pub admin_create_user_config: AdminCreateUserConfig,
    pub user_pool_add_ons: Option<Value>,
    pub account_recovery: Option<Vec<RecoveryOption>>,
    pub user_pool_tier: String,
    pub key_configuration: Option<Value>,
    pub issuer_configuration: Option<Value>,
    /// SoftwareTokenMfaConfiguration.Enabled (SetUserPoolMfaConfig).
    #[serde(default)]
    pub software_token_mfa_enabled: bool,
    /// Whether the last SetUserPoolMfaConfig named SoftwareTokenMfaConfiguration:
    /// AWS shows the member (`{Enabled: false}` too) only then.
    #[serde(default)]
    pub software_token_mfa_stated: bool,
    /// Whether SmsMfaConfiguration was set (SMS_MFA is a factor of the pool).
    #[serde(default)]
    pub sms_mfa_enabled: bool,
    /// EmailMfaConfiguration (EMAIL_OTP is a factor of the pool), with its
    /// message template and subject.
    #[serde(default)]
    pub email_mfa: Option<EmailMfaSettings>,
    /// WebAuthnConfiguration (SetUserPoolMfaConfig).
    #[serde(default)]
    pub webauthn: WebAuthnSettings,
}

/// A pool's EmailMfaConfiguration: the template (with `{####}`) and subject
/// of MFA and passwordless sign-in codes sent by email.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailMfaSettings {
    pub message: Option<String>,
    pub subject: Option<String>,
}

/// A pool's WebAuthnConfiguration, as SetUserPoolMfaConfig stored it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAuthnSettings {
    /// `RelyingPartyId`; none means the pool domain's (`service::webauthn`).
    pub relying_party_id: Option<String>,
    /// `UserVerification`: `required` or `preferred` (none = `preferred`).
    pub user_verification: Option<String>,
    /// `FactorConfiguration`: `SINGLE_FACTOR` or `MULTI_FACTOR_WITH_USER_VERIFICATION`.
    pub factor_configuration: Option<String>,
}

impl WebAuthnSettings {
    /// Whether any member was set: a pool that never had a
    /// WebAuthnConfiguration shows none.
    pub fn is_stated(&self) -> bool {
        self.relying_party_id.is_some()
            || self.user_verification.is_some()
            || self.factor_configuration.is_some()
    }

    /// Passkeys count as a multi-factor sign-in (MULTI_FACTOR_WITH_USER_VERIFICATION).
    pub fn is_multi_factor(&self) -> bool {
        self.factor_configuration.as_deref() == Some("MULTI_FACTOR_WITH_USER_VERIFICATION")
    }
}

impl PoolSettings {
    /// UserPoolAddOns' AdvancedSecurityMode (OFF, AUDIT or ENFORCED), if set.
    pub fn advanced_security_mode(&self) -> Option<&str> {
        self.user_pool_add_ons
            .as_ref()
            .and_then(|a| a.get("AdvancedSecurityMode"))
            .and_then(Value::as_str)
    }

    /// Whether threat protection is on (AdvancedSecurityMode AUDIT or ENFORCED).
    pub fn threat_protection_on(&self) -> bool {
        matches!(self.advanced_security_mode(), Some("AUDIT" | "ENFORCED"))
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            password_policy: PasswordPolicy::default(),
            sign_in_policy: None,
            deletion_protection: false,
            lambda_config: None,
            auto_verified_attributes: Vec::new(),
            sms_verification_message: None,
            email_verification_message: None,
            email_verification_subject: None,
            verification_message_template: VerificationMessageTemplate::default(),
            sms_authentication_message: None,
            attributes_require_verification_before_update: None,
            mfa_configuration: "OFF".into(),
            device_configuration: None,
            email_configuration: None,
            sms_configuration: None,
            user_pool_tags: BTreeMap::new(),
            admin_create_user_config: AdminCreateUserConfig::default(),
            user_pool_add_ons: None,
            account_recovery: None,
            user_pool_tier: "ESSENTIALS".into(),
            key_configuration: None,
            issuer_configuration: None,
            software_token_mfa_enabled: false,
            software_token_mfa_stated: false,
            sms_mfa_enabled: false,
            email_mfa: None,
            webauthn: WebAuthnSettings::default(),
        }
    }
}

/// A user pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserPool {
    pub id: String,
    pub name: String,
    pub created: Millis,
    pub modified: Millis,
    /// Fixed at creation.
    pub alias_attributes: Vec<String>,
    /// Fixed at creation.
    pub username_attributes: Vec<String>,
    /// `None` when the creator did not say; Cognito then treats usernames case-sensitively.
    pub username_case_sensitive: Option<bool>,
    /// Standard attributes first, then custom ones; custom ones can only be added.
    pub schema: Vec<SchemaAttribute>,
    pub settings: PoolSettings,
    /// Session tracking (Set/GetUserPool(Client)SessionConfiguration).
    #[serde(default)]
    pub sessions: SessionConfiguration,
    /// Terms documents of the pool's app clients (CreateTerms).
    #[serde(default)]
    pub terms: Vec<Terms>,
    /// Managed login branding styles, at most one per app client
    /// (CreateManagedLoginBranding).
    #[serde(default)]
    pub managed_login_branding: Vec<ManagedLoginBranding>,
    /// Third-party identity providers (CreateIdentityProvider), by name.
    #[serde(default)]
    pub identity_providers: Vec<IdentityProvider>,
    /// SetLogDeliveryConfiguration's destinations (stored, not delivered to).
    #[serde(default)]
    pub log_configurations: Option<Vec<LogConfiguration>>,
    /// SetRiskConfiguration's settings for the pool (`client_id` None) and
    /// per app client (stored, not acted on).
    #[serde(default)]
    pub risk_configurations: Vec<RiskConfiguration>,
    /// The version this copy was read at (compare-and-swap, as for users).
    #[serde(skip)]
    pub version: i64,
}

/// A pool's session configuration and its clients' SSO session validity,
/// kept in the pool document so each change is one compare-and-swap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionConfiguration {
    pub tracking: bool,
    pub max_per_user: u32,
    /// Client id to SSOSession.MaxValidityMinutes, for clients that set one.
    pub client_sso_minutes: BTreeMap<String, u32>,
}

impl Default for SessionConfiguration {
    fn default() -> Self {
        SessionConfiguration {
            tracking: false,
            max_per_user: 20,
            client_sso_minutes: BTreeMap::new(),
        }
    }
}

impl UserPool {
    /// The pool's SmsConfiguration as AWS shows it: without an SnsRegion,
    /// the pool's own region (AWS's captured DescribeUserPool has it filled
    /// in). What is stored stays as given: SMS without an SnsRegion still go
    /// through the server's SNS region (`--sns-region`).
    pub fn shown_sms_configuration(&self) -> Option<Value> {
        let mut c = self.settings.sms_configuration.clone()?;
        if let (Some(o), Some((region, _))) = (c.as_object_mut(), self.id.split_once('_')) {
            o.entry("SnsRegion")
                .or_insert_with(|| Value::from(region.to_owned()));
        }
        Some(c)
    }

    /// Whether usernames (and email / preferred_username aliases) compare exactly.
    pub fn case_sensitive(&self) -> bool {
        self.username_case_sensitive.unwrap_or(true)
    }

    /// The key a username is stored and looked up under.
    pub fn username_key(&self, username: &str) -> String {
        if self.case_sensitive() {
            username.to_owned()
        } else {
            username.to_lowercase()
        }
    }

    pub fn schema_attribute(&self, name: &str) -> Option<&SchemaAttribute> {
        self.schema.iter().find(|a| a.name == name)
    }

    /// How an alias value is compared: emails and preferred usernames
    /// without case in case-insensitive pools, phone numbers exactly.
    pub fn alias_value(&self, kind: &str, value: &str) -> String {
        if kind != "phone_number" && !self.case_sensitive() {
            value.to_lowercase()
        } else {
            value.to_owned()
        }
    }

    /// The values that identify a user at sign-in besides the username,
    /// each of which only one user of the pool may hold: the email or phone
    /// number of pools that sign in with them (`UsernameAttributes`); a
    /// verified email or phone number and any preferred_username where
    /// they are aliases (`AliasAttributes`).
    pub fn alias_keys(&self, user: &User) -> Vec<AliasKey> {
        let mut keys = Vec::new();
        for kind in ["email", "phone_number", "preferred_username"] {
            let Some(value) = user.attribute(kind) else {
                continue;
            };
            let as_username = self.username_attributes.iter().any(|a| a == kind);
            let as_alias = self.alias_attributes.iter().any(|a| a == kind)
                && (kind == "preferred_username"
                    || user.attribute(&format!("{kind}_verified")) == Some("true"));
            if as_username || as_alias {
                keys.push(AliasKey {
                    kind: kind.to_owned(),
                    value: self.alias_value(kind, value),
                });
            }
        }
        keys
    }

    /// The part of the pool id after `_`, used in SRP math.
    pub fn short_name(&self) -> &str {
        self.id.split_once('_').map(|(_, s)| s).unwrap_or(&self.id)
    }
}

/// A third-party identity provider of a pool: a social provider (Google,
/// Facebook, LoginWithAmazon, SignInWithApple), an OIDC or a SAML provider.
/// Kept in the pool's document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProvider {
    pub name: String,
    /// `SAML`, `Facebook`, `Google`, `LoginWithAmazon`, `SignInWithApple`, `OIDC`.
    pub provider_type: String,
    /// ProviderDetails as given, with the details Cognito adds for the type
    /// (endpoints of the social providers).
    pub details: BTreeMap<String, String>,
    pub attribute_mapping: BTreeMap<String, String>,
    pub idp_identifiers: Vec<String>,
    #[serde(default)]
    pub acr_mapping: Option<BTreeMap<String, String>>,
    pub created: Millis,
    pub modified: Millis,
}

impl IdentityProvider {
    /// Whether a SAML provider's detail `key` (IDPInit, IDPSignout,
    /// EncryptedResponses) is `true`.
    pub fn saml_option(&self, key: &str) -> bool {
        self.provider_type == "SAML"
            && self
                .details
                .get(key)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// One log destination of a pool (SetLogDeliveryConfiguration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfiguration {
    /// `ERROR` or `INFO`.
    pub log_level: String,
    /// `userNotification` or `userAuthEvents`.
    pub event_source: String,
    pub cloudwatch_log_group_arn: Option<String>,
    pub s3_bucket_arn: Option<String>,
    pub firehose_stream_arn: Option<String>,
}

/// Threat-protection settings of a pool or of one of its app clients
/// (SetRiskConfiguration), kept as the documents the API gave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskConfiguration {
    /// `None`: the pool's own settings, which clients without settings of
    /// their own inherit.
    pub client_id: Option<String>,
    pub compromised_credentials: Option<Value>,
    pub account_takeover: Option<Value>,
    pub risk_exception: Option<Value>,
    pub modified: Millis,
}

/// Units of the token validity numbers of a client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenValidityUnits {
    pub access_token: Option<String>,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// The settings of an app client that UpdateUserPoolClient replaces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientSettings {
    pub client_name: String,
    pub refresh_token_validity: i64,
    pub access_token_validity: Option<i64>,
    pub id_token_validity: Option<i64>,
    pub token_validity_units: TokenValidityUnits,
    pub read_attributes: Option<Vec<String>>,
    pub write_attributes: Option<Vec<String>>,
    /// `None`: the defaults (refresh, SRP, custom).
    pub explicit_auth_flows: Option<Vec<String>>,
    pub supported_identity_providers: Option<Vec<String>>,
    pub callback_urls: Option<Vec<String>>,
    pub logout_urls: Option<Vec<String>>,
    pub default_redirect_uri: Option<String>,
    pub allowed_oauth_flows: Option<Vec<String>>,
    pub allowed_oauth_scopes: Option<Vec<String>>,
    pub allowed_oauth_flows_user_pool_client: bool,
    pub analytics_configuration: Option<Value>,
    /// `LEGACY` or `ENABLED`.
    pub prevent_user_existence_errors: Option<String>,
    pub enable_token_revocation: bool,
    pub enable_propagate_additional_user_context_data: bool,
    /// Minutes a challenge session lives (3..15).
    pub auth_session_validity: i64,
    pub refresh_token_rotation: Option<Value>,
}

impl ClientSettings {
    /// The retry grace period in milliseconds when refresh token rotation
    /// is enabled (`RefreshTokenRotation.Feature` = `ENABLED`), else `None`.
    pub fn refresh_rotation_grace_ms(&self) -> Option<Millis> {
        let r = self.refresh_token_rotation.as_ref()?;
        if r.get("Feature").and_then(Value::as_str) != Some("ENABLED") {
            return None;
        }
        let secs = r
            .get("RetryGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .clamp(0, 60);
        Some(secs * 1000)
    }

    pub fn named(name: &str) -> Self {
        ClientSettings {
            client_name: name.to_owned(),
            refresh_token_validity: 30,
            access_token_validity: None,
            id_token_validity: None,
            token_validity_units: TokenValidityUnits::default(),
            read_attributes: None,
            write_attributes: None,
            explicit_auth_flows: None,
            supported_identity_providers: None,
            callback_urls: None,
            logout_urls: None,
            default_redirect_uri: None,
            allowed_oauth_flows: None,
            allowed_oauth_scopes: None,
            allowed_oauth_flows_user_pool_client: false,
            analytics_configuration: None,
            prevent_user_existence_errors: None,
            enable_token_revocation: true,
            enable_propagate_additional_user_context_data: false,
            auth_session_validity: 3,
            refresh_token_rotation: None,
        }
    }
}

/// One secret of an app client. A client has at most
/// [`AppClient::MAX_SECRETS`]; SECRET_HASH, RevokeToken and the token
/// endpoint accept any of them (AddUserPoolClientSecret).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecret {
    /// `<client-id>--<epoch-create-time>` (milliseconds).
    pub id: String,
    pub value: String,
    pub created: Millis,
    /// The secret the client was created with (GenerateSecret or
    /// ClientSecret): the one DescribeUserPoolClient shows, while it exists.
    #[serde(default)]
    pub original: bool,
}

impl ClientSecret {
    pub fn new(client_id: &str, value: String, created: Millis, original: bool) -> Self {
        ClientSecret {
            id: format!("{client_id}--{created}"),
            value,
            created,
            original,
        }
    }
}

/// An app client of a pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "AppClientDocument")]
pub struct AppClient {
    pub pool_id: String,
    pub client_id: String,
    /// Oldest first; empty for a public client.
    pub secrets: Vec<ClientSecret>,
    pub created: Millis,
    pub modified: Millis,
    pub settings: ClientSettings,
    /// The version of the document this copy was read at; the store writes
    /// it back only if nobody wrote in between (compare-and-swap).
    #[serde(skip)]
    pub version: i64,
}

/// An app client as stored: documents written before clients had several
/// secrets carry one `client_secret` string, which becomes the first
/// (original) secret of the list.
#[derive(Deserialize)]
struct AppClientDocument {
    pool_id: String,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    secrets: Vec<ClientSecret>,
    created: Millis,
    modified: Millis,
    settings: ClientSettings,
}

impl From<AppClientDocument> for AppClient {
    fn from(d: AppClientDocument) -> Self {
        let mut secrets = d.secrets;
        if let (true, Some(value)) = (secrets.is_empty(), d.client_secret) {
            secrets.push(ClientSecret::new(&d.client_id, value, d.created, true));
        }
        AppClient {
            pool_id: d.pool_id,
            client_id: d.client_id,
            secrets,
            created: d.created,
            modified: d.modified,
            settings: d.settings,
            version: 0,
        }
    }
}

impl AppClient {
    /// Cognito's limit of secrets per app client.
    pub const MAX_SECRETS: usize = 2;

    /// Whether the client is confidential (has a secret).
    pub fn has_secret(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// The secret DescribeUserPoolClient reports: the one the client was
    /// created with, while it exists (a later secret is never promoted).
    pub fn original_secret(&self) -> Option<&str> {
        self.secrets
            .iter()
            .find(|s| s.original)
            .map(|s| s.value.as_str())
    }

    /// The secret the server itself uses (hosted pages' SECRET_HASH): the oldest.
    pub fn first_secret(&self) -> Option<&str> {
        self.secrets.first().map(|s| s.value.as_str())
    }

    /// Whether `given` is one of the client's secrets. Every secret is
    /// compared, each in constant time, so the time taken does not tell
    /// which one matched.
    pub fn secret_matches(&self, given: &str) -> bool {
        self.secrets.iter().fold(false, |found, s| {
            cognate_crypto::digest::constant_time_eq(s.value.as_bytes(), given.as_bytes()) | found
        })
    }

    /// Whether `provided` is the SECRET_HASH of `username` under any of the
    /// client's secrets (each compared in constant time).
    pub fn secret_hash_matches(&self, username: &str, provided: &str) -> bool {
        self.secrets.iter().fold(false, |found, s| {
            let expected = cognate_crypto::digest::secret_hash(&s.value, username, &self.client_id);
            cognate_crypto::digest::constant_time_eq(expected.as_bytes(), provided.as_bytes())
                | found
        })
    }
}

/// Cognito's user status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
    ResetRequired,
    ExternalProvider,
    Archived,
    Compromised,
    Unknown,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ResetRequired => "RESET_REQUIRED",
            UserStatus::ExternalProvider => "EXTERNAL_PROVIDER",
            UserStatus::Archived => "ARCHIVED",
            UserStatus::Compromised => "COMPROMISED",
            UserStatus::Unknown => "UNKNOWN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "UNCONFIRMED" => UserStatus::Unconfirmed,
            "CONFIRMED" => UserStatus::Confirmed,
            "FORCE_CHANGE_PASSWORD" => UserStatus::ForceChangePassword,
            "RESET_REQUIRED" => UserStatus::ResetRequired,
            "EXTERNAL_PROVIDER" => UserStatus::ExternalProvider,
            "ARCHIVED" => UserStatus::Archived,
            "COMPROMISED" => UserStatus::Compromised,
            "UNKNOWN" => UserStatus::Unknown,
            _ => return None,
        })
    }
}

/// A device a user confirmed (device tracking: ConfirmDevice).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// `<region>_<uuid>`, as issued in NewDeviceMetadata.
    pub key: String,
    pub name: Option<String>,
    /// `device_remembered_status`: remembered or not_remembered.
    pub remembered: bool,
    pub created: Millis,
    pub modified: Millis,
    pub last_authenticated: Millis,
    /// The device's SRP salt and verifier (DeviceSecretVerifierConfig).
    pub salt: Option<String>,
    pub verifier: Option<String>,
    /// The address of the device's last confirmation or device sign-in
    /// (`last_ip_used`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ip: Option<String>,
}

/// A name/value attribute of a user. Values are strings, as on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

impl Attribute {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A user of a pool. `sub` is kept apart from the other attributes.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub pool_id: String,
    /// The real (canonical) username; a UUID in pools whose users sign in with email/phone.
    pub username: String,
    /// `username`, lower-cased in case-insensitive pools.
    pub username_key: String,
    pub sub: String,
    pub attributes: Vec<Attribute>,
    pub status: UserStatus,
    pub enabled: bool,
    pub created: Millis,
    pub modified: Millis,
    /// argon2id PHC string; `None` for users without a password.
    pub password_hash: Option<String>,
    /// When a temporary password stops working (FORCE_CHANGE_PASSWORD only).
    pub temporary_password_expires: Option<Millis>,
    /// Access tokens issued before this instant are refused (hot state: kept
    /// outside the document, set by `Store::sign_out_user`).
    #[serde(skip)]
    pub tokens_valid_after: Option<Millis>,
    /// SRP salt (hex) for USER_SRP_AUTH, set with every password.
    #[serde(default)]
    pub srp_salt: Option<String>,
    /// SRP verifier `g^x mod N` (hex), set with every password.
    #[serde(default)]
    pub srp_verifier: Option<String>,
    /// Sign-in sessions whose access tokens were revoked (RevokeToken,
    /// sign-out): hot state, read with the user, written by the store's
    /// revocation calls.
    #[serde(skip)]
    pub revoked_origins: Vec<RevokedOrigin>,
    /// TOTP secret (base32) associated but not yet verified.
    #[serde(default)]
    pub totp_pending_secret: Option<String>,
    /// Verified TOTP secret (base32).
    #[serde(default)]
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted; a code is never accepted twice (hot
    /// state, advanced only by `Store::claim_totp_step`).
    #[serde(skip)]
    pub totp_last_step: Option<i64>,
    /// Whether TOTP is an enabled sign-in factor.
    #[serde(default)]
    pub totp_enabled: bool,
    /// The FriendlyDeviceName the verified TOTP token was given
    /// (VerifySoftwareToken): SOFTWARE_TOKEN_MFA challenges name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_name: Option<String>,
    /// The preferred MFA method (`SOFTWARE_TOKEN_MFA`, `SMS_MFA`, `EMAIL_OTP`).
    #[serde(default)]
    pub mfa_preferred: Option<String>,
    /// Whether SMS MFA (to `phone_number`) is an enabled factor
    /// (Set(Admin)UserMFAPreference; the legacy `mfa_options` count too).
    #[serde(default)]
    pub sms_mfa_enabled: bool,
    /// Whether email MFA (to `email`) is an enabled factor.
    #[serde(default)]
    pub email_mfa_enabled: bool,
    /// Whether the user turned passkey MFA on (WebAuthnMfaSettings): in a
    /// pool whose FactorConfiguration is MULTI_FACTOR_WITH_USER_VERIFICATION,
    /// their passkey sign-in (with user verification) then stands in for
    /// the MFA a sign-in owes. Not a factor of `UserMFASettingList`.
    #[serde(default)]
    pub webauthn_mfa_enabled: bool,
    /// Set by AdminDisableProviderForUser with ProviderName `Cognito`: the
    /// user can no longer sign in with their password (only through a
    /// linked identity, or a passwordless factor).
    #[serde(default)]
    pub password_sign_in_disabled: bool,
    /// Devices confirmed with ConfirmDevice, oldest first.
    #[serde(default)]
    pub devices: Vec<Device>,
    /// The legacy MFA settings of (Admin)SetUserSettings, as `MFAOptions`
    /// reports them (SMS to `phone_number` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mfa_options: Vec<MfaOption>,
    /// The version of the document this copy was read at; the store writes
    /// it back only if nobody wrote in between (compare-and-swap).
    #[serde(skip)]
    pub version: i64,
}

impl User {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        if name == "sub" {
            return Some(&self.sub);
        }
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Sets (or with `None` removes) an attribute.
    pub fn set_attribute(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => {
                if let Some(a) = self.attributes.iter_mut().find(|a| a.name == name) {
                    a.value = v.to_owned();
                } else {
                    self.attributes.push(Attribute::new(name, v));
                }
            }
            None => self.attributes.retain(|a| a.name != name),
        }
    }

    /// Whether something issued at `instant` (epoch milliseconds: a token,
    /// a refresh token, an authorization code, a hosted-UI session) predates
    /// the user's last global sign-out. The one signed-out comparison: an
    /// instant equal to the sign-out's millisecond counts as before it.
    pub fn signed_out_since(&self, instant: Millis) -> bool {
        self.tokens_valid_after.is_some_and(|t| instant <= t)
    }

    /// Whether a token of this user, issued at `issued` (epoch milliseconds,
    /// from [`crate::tokens::issued_ms`]; `None` when the token does not
    /// say) from the sign-in session `origin_jti`, is revoked: the user is
    /// disabled, the token or the session it comes from predates a global
    /// sign-out, or its session was revoked by RevokeToken /
    /// AdminRevokeUserSession. The one rule for the user APIs and the
    /// gateway.
    ///
    /// A session's id is a UUIDv7 made when it began, so a refresh that
    /// raced a sign-out and minted tokens after its instant is still
    /// refused, without writing anything per session at the sign-out.
    /// (Sessions from before UUIDv7 ids carry no instant; only their
    /// tokens' own issue time is compared.)
    pub fn token_revoked(
        &self,
        issued: Option<Millis>,
        origin_jti: Option<&str>,
        now: Millis,
    ) -> bool {
        let before_sign_out = match issued {
            Some(at) => self.signed_out_since(at),
            None => self.tokens_valid_after.is_some(),
        };
        let session_before_sign_out = origin_jti
            .and_then(cognate_crypto::random::uuid_v7_millis)
            .is_some_and(|began| self.signed_out_since(began));
        let revoked_session = origin_jti.is_some_and(|o| {
            self.revoked_origins
                .iter()
                .any(|r| r.origin_jti == o && r.until > now)
        });
        !self.enabled || before_sign_out || session_before_sign_out || revoked_session
    }

    /// All attributes including `sub`, `sub` first, as Cognito lists them.
    pub fn attributes_with_sub(&self) -> Vec<Attribute> {
        let mut out = Vec::with_capacity(self.attributes.len() + 1);
        out.push(Attribute::new("sub", self.sub.clone()));
        out.extend(self.attributes.iter().cloned());
        out
    }
}

/// One legacy MFA option of a user (`MFAOptionType`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaOption {
    pub delivery_medium: String,
    pub attribute_name: String,
}

/// A sign-in alias of a user: `kind` (email, phone_number,
/// preferred_username) and the value as compared ([`UserPool::alias_value`]).
/// The store keeps each (pool, kind, value) UNIQUE.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AliasKey {
    pub kind: String,
    pub value: String,
}

/// An external identity linked to a native user by AdminLinkProviderForUser
/// (the `SourceUser`): the provider's name in the pool, the attribute it is
/// matched by (`Cognito_Subject` or a mapped attribute) and its value. One
/// identity is linked to at most one user of a pool; it goes with the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIdentity {
    pub pool_id: String,
    pub username_key: String,
    pub provider_name: String,
    pub attribute_name: String,
    pub attribute_value: String,
    pub created: Millis,
}

/// A passkey (WebAuthn public-key credential) of a user, registered by
/// CompleteWebAuthnRegistration; it goes with the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAuthnCredential {
    pub pool_id: String,
    pub username_key: String,
    /// The credential id, unpadded base64url; unique in a pool.
    pub credential_id: String,
    /// The COSE public key as the authenticator gave it, unpadded base64url.
    pub public_key: String,
    /// The authenticator's signature counter at the last accepted use.
    pub sign_count: i64,
    pub friendly_name: String,
    pub relying_party_id: String,
    /// `platform` or `cross-platform`, when the client said.
    pub authenticator_attachment: Option<String>,
    pub transports: Vec<String>,
    pub created: Millis,
}

/// A group of users in a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
    pub created: Millis,
    pub modified: Millis,
}

/// A sign-in session (by origin_jti) whose access tokens were revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedOrigin {
    pub origin_jti: String,
    /// After this, no access token of the session can be unexpired anyway.
    pub until: Millis,
}

/// A ListUsers filter: `attribute = "value"` or `attribute ^= "value"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFilter {
    pub attribute: FilterAttribute,
    pub prefix: bool,
    pub value: String,
}

/// The attributes ListUsers can filter on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterAttribute {
    /// `username` in a case-sensitive pool: the username as given.
    Username,
    /// `username` in a case-insensitive pool: compared as the username key
    /// (lower-cased), the value folded the same way.
    UsernameKey,
    Email,
    PhoneNumber,
    Name,
    GivenName,
    FamilyName,
    PreferredUsername,
    Sub,
    /// `cognito:user_status`
    UserStatus,
    /// `status`: Enabled / Disabled
    Enabled,
}

/// A signing key of a pool, as stored. A key is published in the JWKS
/// from its creation until `published_until` (then retired), and signs
/// from `signs_from` until `signs_until`: a rotation publishes the new key
/// before it signs anything, and keeps the old one published until every
/// token it signed has expired.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub pool_id: String,
    pub kid: String,
    /// `id` or `access`: which tokens the key signs.
    pub purpose: String,
    pub pkcs8: Vec<u8>,
    pub created: Millis,
    pub signs_from: Millis,
    /// `None` while it is the newest key of its purpose.
    pub signs_until: Option<Millis>,
    /// `None` while it signs; set by the rotation that replaces it.
    pub published_until: Option<Millis>,
}

impl StoredKey {
    /// Whether the key signs tokens at `now`.
    pub fn signs_at(&self, now: Millis) -> bool {
        self.signs_from <= now && self.signs_until.is_none_or(|u| now < u)
    }

    /// Whether the key is in the JWKS at `now` (and verifies tokens).
    pub fn published_at(&self, now: Millis) -> bool {
        self.published_until.is_none_or(|u| now < u)
    }
}

/// The state of a sign-in between a challenge and its answer. Stored under
/// the SHA-256 of its opaque handle; taken (deleted) when answered.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeSession {
    pub handle_hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub challenge: String,
    pub expires: Millis,
    pub data: Value,
}

/// A one-time code (confirmation, reset, verification), stored as a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRecord {
    pub pool_id: String,
    pub username_key: String,
    /// `signup`, `forgot_password`, `verify:email`, ...
    pub purpose: String,
    pub code_hash: String,
    pub expires: Millis,
    pub attempts: u32,
}

/// A refresh token, stored as the SHA-256 of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub username_key: String,
    pub sub: String,
    pub origin_jti: String,
    pub auth_time: i64,
    pub created: Millis,
    pub expires: Millis,
    pub revoked: bool,
    /// The OAuth scopes granted through the hosted UI / `/oauth2/authorize`;
    /// `None` for an API sign-in (`aws.cognito.signin.user.admin`).
    pub scope: Option<String>,
    /// Set when the token was rotated out (GetTokensFromRefreshToken on a
    /// client with refresh token rotation): it is refused from this
    /// instant, the end of the client's retry grace period after its first
    /// rotation. A token of a rotation carries its family's `origin_jti`,
    /// `created` (the sign-in) and `expires`.
    pub rotated_until: Option<Millis>,
    /// The device the sign-in was bound to (NewDeviceMetadata's key, or
    /// the confirmed device it named): while the pool tracks devices, a
    /// refresh must name it, and it must still be a device of the user.
    pub device_key: Option<String>,
    /// The token's last activity: its sign-in, its rotation, or its last
    /// refresh. The session whose latest is the oldest is the least
    /// recently used (MaxPerUser evicts it first).
    pub last_active: Millis,
    /// The SSO session (hosted UI sign-in) the token's sign-in came
    /// through: its OriginSessionId. `None` for an API sign-in.
    pub sso_session_id: Option<String>,
    /// The user's address at the token's last activity (LastIPAddress).
    pub last_ip: Option<String>,
    /// What the user agent of the token's last activity says about the
    /// device (DeviceType): [`crate::audit::device_of`].
    pub last_device: Option<String>,
}

/// An SSO session: a sign-in on the hosted UI while the pool tracks
/// sessions. The hosted UI's cookie names it, so deleting the record
/// (RevokeUserSession, a global sign-out, the user's deletion) ends the
/// cookie; the tokens granted through it name it as their origin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSession {
    /// `sso` and 25 lowercase letters and digits.
    pub session_id: String,
    pub pool_id: String,
    pub username_key: String,
    pub sub: String,
    /// The app client the user signed in for.
    pub client_id: String,
    pub created: Millis,
    /// The latest sign-in, token grant or rotation through the session.
    pub last_active: Millis,
    pub expires: Millis,
    /// The user's address at the last activity.
    pub last_ip: Option<String>,
    /// The device of the last activity ([`crate::audit::device_of`]).
    pub last_device: Option<String>,
}

/// An OAuth 2.0 authorization code (`/oauth2/authorize`, response_type
/// `code`), stored as the SHA-256 of its text and taken (deleted) on use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub username_key: String,
    pub sub: String,
    /// The redirect_uri of the authorization request; the token request must repeat it.
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<String>,
    /// `S256` or `plain`.
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    /// Seconds since the epoch of the sign-in the code comes from.
    pub auth_time: i64,
    /// The sign-in event's `origin_jti`, shared by the tokens it leads to.
    pub origin_jti: String,
    pub created: Millis,
    pub expires: Millis,
    /// The SSO session the code was granted from, if the pool tracks
    /// sessions: the code is refused once that session is revoked.
    #[serde(default)]
    pub sso_session_id: Option<String>,
}

/// Hosted-UI branding set by SetUICustomization or the config file, for
/// one app client or for the whole pool (`client_id` = `ALL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UiCustomization {
    pub pool_id: String,
    pub client_id: String,
    pub css: Option<String>,
    /// The logo: PNG or JPEG bytes.
    pub image: Option<Vec<u8>>,
    pub created: Millis,
    pub modified: Millis,
}

/// A pool's domain: a prefix (`<domain>.<host>` or `/domains/<domain>/`)
/// or a custom host name (with a certificate ARN, kept for the API).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolDomain {
    pub domain: String,
    pub pool_id: String,
    /// `CustomDomainConfig.CertificateArn` of a custom domain.
    #[serde(default)]
    pub certificate_arn: Option<String>,
    /// 1 = classic hosted UI, 2 = managed login.
    #[serde(default)]
    pub managed_login_version: Option<i64>,
    pub created: Millis,
}

/// A custom scope of a resource server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceServerScope {
    pub name: String,
    pub description: String,
}

/// A resource server: an API whose custom scopes (`<identifier>/<scope>`)
/// app clients can be allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceServer {
    pub pool_id: String,
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<ResourceServerScope>,
}

impl ResourceServer {
    /// The OAuth scope strings of this server.
    pub fn scope_strings(&self) -> impl Iterator<Item = String> + '_ {
        self.scopes
            .iter()
            .map(|s| format!("{}/{}", self.identifier, s.name))
    }
}

/// A user import job (CreateUserImportJob): users from a CSV file uploaded
/// to the job's pre-signed URL, created by StartUserImportJob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserImportJob {
    pub pool_id: String,
    /// `import-<random>`.
    pub job_id: String,
    pub job_name: String,
    pub cloudwatch_logs_role_arn: String,
    /// Created, Pending, InProgress, Stopping, Stopped, Succeeded, Failed, Expired.
    pub status: String,
    pub created: Millis,
    #[serde(default)]
    pub started: Option<Millis>,
    #[serde(default)]
    pub completed: Option<Millis>,
    #[serde(default)]
    pub imported: u64,
    #[serde(default)]
    pub skipped: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub completion_message: Option<String>,
    #[serde(default)]
    pub password_hashing_algorithm: Option<String>,
    /// SHA-256 of the secret in the pre-signed upload URL.
    pub upload_secret_hash: String,
    /// The pre-signed URL the CSV is PUT to (the secret in it is never stored).
    #[serde(default)]
    pub presigned_url: String,
}

/// Terms documents (terms of use or privacy policy) of an app client:
/// links per managed-login language (CreateTerms).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// A UUID.
    pub terms_id: String,
    pub client_id: String,
    /// `terms-of-use` or `privacy-policy`.
    pub terms_name: String,
    /// `LINK`.
    pub terms_source: String,
    /// `NONE`.
    pub enforcement: String,
    /// Language id (`cognito:default`, `cognito:english`, …) to URL.
    pub links: BTreeMap<String, String>,
    pub created: Millis,
    pub modified: Millis,
}

/// An image of a managed login branding style.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandingAsset {
    /// `PAGE_HEADER_LOGO`, `PAGE_BACKGROUND`, `FAVICON_ICO`, …
    pub category: String,
    /// `LIGHT`, `DARK` or `DYNAMIC`.
    pub color_mode: String,
    /// `ICO`, `JPEG`, `PNG`, `SVG` or `WEBP`.
    pub extension: String,
    /// Base64 of the image, as sent.
    #[serde(default)]
    pub bytes: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
}

/// A managed login branding style of an app client
/// (CreateManagedLoginBranding).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManagedLoginBranding {
    /// A UUID.
    pub branding_id: String,
    pub client_id: String,
    pub use_cognito_provided_values: bool,
    /// The Settings document as given.
    #[serde(default)]
    pub settings: Option<Value>,
    #[serde(default)]
    pub assets: Vec<BrandingAsset>,
    pub created: Millis,
    pub modified: Millis,
}

/// The `Debug` of secret-holding records leaves the secrets out (a client
/// secret, a password hash and SRP verifier, TOTP secrets, a private key,
/// an SRP exchange), so no `{:?}` in a log or a panic message shows them.
const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("id", &self.id)
            .field("value", &REDACTED)
            .field("created", &self.created)
            .field("original", &self.original)
            .finish()
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |v: &Option<String>| v.as_ref().map(|_| REDACTED);
        f.debug_struct("User")
            .field("pool_id", &self.pool_id)
            .field("username", &self.username)
            .field("sub", &self.sub)
            .field("attributes", &self.attributes)
            .field("status", &self.status)
            .field("enabled", &self.enabled)
            .field("created", &self.created)
            .field("modified", &self.modified)
            .field("password_hash", &secret(&self.password_hash))
            .field("srp_verifier", &secret(&self.srp_verifier))
            .field("totp_pending_secret", &secret(&self.totp_pending_secret))
            .field("totp_secret", &secret(&self.totp_secret))
            .field("totp_enabled", &self.totp_enabled)
            .field("tokens_valid_after", &self.tokens_valid_after)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("pool_id", &self.pool_id)
            .field("kid", &self.kid)
            .field("purpose", &self.purpose)
            .field("pkcs8", &REDACTED)
            .field("created", &self.created)
            .field("signs_from", &self.signs_from)
            .field("signs_until", &self.signs_until)
            .field("published_until", &self.published_until)
            .finish()
    }
}

impl std::fmt::Debug for ChallengeSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengeSession")
            .field("pool_id", &self.pool_id)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("challenge", &self.challenge)
            .field("expires", &self.expires)
            .field("data", &REDACTED)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_leaves_secrets_out() {
        let secret = ClientSecret::new("c", "s3cr3t-value".into(), 1, true);
        assert!(!format!("{secret:?}").contains("s3cr3t"));
        let key = StoredKey {
            pool_id: "p".into(),
            kid: "k".into(),
            purpose: "id".into(),
            pkcs8: b"PRIVATE-KEY-BYTES".to_vec(),
            created: 0,
            signs_from: 0,
            signs_until: None,
            published_until: None,
        };
        let shown = format!("{key:?}");
        assert!(!shown.contains("80, 82, 73") && shown.contains("<redacted>"));
        let session = ChallengeSession {
            handle_hash: "h".into(),
            pool_id: "p".into(),
            client_id: "c".into(),
            username: "u".into(),
            challenge: "PASSWORD_VERIFIER".into(),
            expires: 0,
            data: serde_json::json!({"b": "srp-private-b"}),
        };
        assert!(!format!("{session:?}").contains("srp-private-b"));
        let user: User = serde_json::from_value(serde_json::json!({
            "pool_id": "p", "username": "u", "username_key": "u", "sub": "s",
            "attributes": [], "status": "Confirmed", "enabled": true, "created": 0,
            "modified": 0, "password_hash": "$argon2id$HASH", "temporary_password_expires": null,
            "srp_verifier": "VERIFIER", "totp_secret": "TOTPSECRET",
            "totp_pending_secret": "PENDINGSECRET",
        }))
        .unwrap();
        let shown = format!("{user:?}");
        for secret in ["HASH", "VERIFIER", "TOTPSECRET", "PENDINGSECRET"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod revocation_tests {
    use super::*;

    fn user(signed_out: Option<Millis>) -> User {
        let mut u: User = serde_json::from_value(serde_json::json!({
            "pool_id": "p", "username": "u", "username_key": "u", "sub": "s",
            "attributes": [], "status": "Confirmed", "enabled": true, "created": 0,
            "modified": 0, "password_hash": null, "temporary_password_expires": null,
        }))
        .unwrap();
        u.tokens_valid_after = signed_out;
        u
    }

    #[test]
    fn a_session_that_began_before_a_sign_out_mints_nothing_valid_after_it() {
        let signed_out = 1_700_000_000_500;
        let u = user(Some(signed_out));
        let now = signed_out + 60_000;
        let old_session = cognate_crypto::random::uuid_v7(signed_out - 10);
        let same_ms_session = cognate_crypto::random::uuid_v7(signed_out);
        let new_session = cognate_crypto::random::uuid_v7(signed_out + 1);
        // A refresh that raced the sign-out: the token itself is newer,
        // its session is not.
        let later = Some(signed_out + 20);
        assert!(u.token_revoked(later, Some(&old_session), now));
        assert!(u.token_revoked(later, Some(&same_ms_session), now));
        assert!(!u.token_revoked(later, Some(&new_session), now));
        // A session id without an instant (UUIDv4, from before) is judged
        // by the token's own issue time only.
        let v4 = cognate_crypto::random::uuid();
        assert!(!u.token_revoked(later, Some(&v4), now));
        assert!(u.token_revoked(Some(signed_out), Some(&v4), now));
        // Never signed out: nothing is refused.
        assert!(!user(None).token_revoked(later, Some(&old_session), now));
    }
}

//! Wire shapes shared by several operations (PascalCase, as in the
//! botocore model) and their conversion to and from domain records.

use std::collections::BTreeMap;

use cognate_core::model::{
    AdminCreateUserConfig, AppClient, Attribute, AttributeDataType, ClientSettings,
    MessageTemplate, PasswordPolicy, PoolSettings, RecoveryOption, SchemaAttribute,
    TokenValidityUnits, User, UserPool, VerificationMessageTemplate,
};
use cognate_core::schema::SchemaInput;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::validate::Validator;

/// Epoch milliseconds as the JSON protocol's epoch seconds.
pub fn timestamp(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn put<T: serde::Serialize>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        if let Ok(v) = serde_json::to_value(v) {
            map.insert(key.to_owned(), v);
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeType {
    pub name: String,
    pub value: Option<String>,
}

pub fn attributes_in(
    list: Option<Vec<AttributeType>>,
    v: &mut Validator,
    member: &str,
) -> Vec<Attribute> {
    list.unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            v.len(&format!("{member}.{}.member.name", i + 1), &a.name, 1, 32);
            Attribute::new(a.name, a.value.unwrap_or_default())
        })
        .collect()
}

pub fn attributes_out(list: &[Attribute]) -> Value {
    Value::Array(
        list.iter()
            .map(|a| json!({"Name": a.name, "Value": a.value}))
            .collect(),
    )
}

// ---------------------------------------------------------------- pools

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicyType {
    pub minimum_length: Option<i64>,
    pub require_uppercase: Option<bool>,
    pub require_lowercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub password_history_size: Option<i64>,
    pub temporary_password_validity_days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolPolicyType {
    pub password_policy: Option<PasswordPolicyType>,
    pub sign_in_policy: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MessageTemplateType {
    #[serde(rename = "SMSMessage")]
    pub sms_message: Option<String>,
    #[serde(rename = "EmailMessage")]
    pub email_message: Option<String>,
    #[serde(rename = "EmailSubject")]
    pub email_subject: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserConfigType {
    pub allow_admin_create_user_only: Option<bool>,
    pub unused_account_validity_days: Option<i64>,
    pub invite_message_template: Option<MessageTemplateType>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerificationMessageTemplateType {
    pub sms_message: Option<String>,
    pub email_message: Option<String>,
    pub email_subject: Option<String>,
    pub email_message_by_link: Option<String>,
    pub email_subject_by_link: Option<String>,
    pub default_email_option: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserAttributeUpdateSettingsType {
    pub attributes_require_verification_before_update: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecoveryOptionType {
    pub priority: i64,
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountRecoverySettingType {
    pub recovery_mechanisms: Option<Vec<RecoveryOptionType>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StringConstraints {
    pub min_length: Option<String>,
    pub max_length: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NumberConstraints {
    pub min_value: Option<String>,
    pub max_value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaAttributeType {
    pub name: Option<String>,
    pub attribute_data_type: Option<String>,
    pub developer_only_attribute: Option<bool>,
    pub mutable: Option<bool>,
    pub required: Option<bool>,
    pub number_attribute_constraints: Option<NumberConstraints>,
    pub string_attribute_constraints: Option<StringConstraints>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsernameConfigurationType {
    pub case_sensitive: bool,
}

/// A version stamp as Cognito writes them (a domain's Version, a UI
/// customization's CSSVersion): the UTC time as `yyyyMMddHHmmss`.
pub fn version_stamp(millis: i64) -> String {
    cognate_core::service::saml_response::format_instant(millis.div_euclid(1000))
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

/// The members CreateUserPool and UpdateUserPool share.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolSettingsIn {
    pub policies: Option<UserPoolPolicyType>,
    pub deletion_protection: Option<String>,
    pub lambda_config: Option<Value>,
    pub auto_verified_attributes: Option<Vec<String>>,
    pub sms_verification_message: Option<String>,
    pub email_verification_message: Option<String>,
    pub email_verification_subject: Option<String>,
    pub verification_message_template: Option<VerificationMessageTemplateType>,
    pub sms_authentication_message: Option<String>,
    pub user_attribute_update_settings: Option<UserAttributeUpdateSettingsType>,
    pub mfa_configuration: Option<String>,
    pub device_configuration: Option<Value>,
    pub email_configuration: Option<Value>,
    pub sms_configuration: Option<Value>,
    pub user_pool_tags: Option<BTreeMap<String, String>>,
    pub admin_create_user_config: Option<AdminCreateUserConfigType>,
    pub user_pool_add_ons: Option<Value>,
    pub account_recovery_setting: Option<AccountRecoverySettingType>,
    pub user_pool_tier: Option<String>,
    pub key_configuration: Option<Value>,
    pub issuer_configuration: Option<Value>,
}

/// Schema entries (CreateUserPool `Schema`, AddCustomAttributes
/// `CustomAttributes`); `member` is the list's path in validation messages.
pub fn schema_in(
    list: Option<Vec<SchemaAttributeType>>,
    member: &str,
    v: &mut Validator,
) -> Vec<SchemaInput> {
    list.unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let path = format!("{member}.{}.member", i + 1);
            v.one_of(
                &format!("{path}.attributeDataType"),
                a.attribute_data_type.as_deref(),
                &["String", "Number", "DateTime", "Boolean"],
            );
            let name = a.name.unwrap_or_default();
            v.len(&format!("{path}.name"), &name, 1, 20);
            SchemaInput {
                name,
                data_type: a.attribute_data_type.as_deref().and_then(|t| match t {
                    "String" => Some(AttributeDataType::String),
                    "Number" => Some(AttributeDataType::Number),
                    "DateTime" => Some(AttributeDataType::DateTime),
                    "Boolean" => Some(AttributeDataType::Boolean),
                    _ => None,
                }),
                developer_only: a.developer_only_attribute,
                mutable: a.mutable,
                required: a.required,
                min_length: a
                    .string_attribute_constraints
                    .as_ref()
                    .and_then(|c| c.min_length.clone()),
                max_length: a
                    .string_attribute_constraints
                    .as_ref()
                    .and_then(|c| c.max_length.clone()),
                min_value: a
                    .number_attribute_constraints
                    .as_ref()
                    .and_then(|c| c.min_value.clone()),
                max_value: a
                    .number_attribute_constraints
                    .as_ref()
                    .and_then(|c| c.max_value.clone()),
                number_constraints: a.number_attribute_constraints.is_some(),
            }
        })
        .collect()
}

impl PoolSettingsIn {
    /// The rules past the model's constraints that refuse the request,
    /// checked after them (AWS's texts):
    /// - TemporaryPasswordValidityDays replaces the legacy
    ///   UnusedAccountValidityDays, and a request may not give both;
    /// - a From address needs the DEVELOPER sending account;
    /// - SMS goes by SNS (SnsCallerArn) or by End User Messaging (EumsSms),
    ///   not both, and EumsSms's Region is the pool's (`region`), as the
    ///   model documents them (the texts are cognate's).
    pub fn refusal(&self, region: &str) -> Option<ApiError> {
        let temporary_days = self
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref())
            .and_then(|p| p.temporary_password_validity_days);
        let unused_days = self
            .admin_create_user_config
            .as_ref()
            .and_then(|c| c.unused_account_validity_days);
        if temporary_days.is_some() && unused_days.is_some() {
            return Some(ApiError::invalid_parameter(
                "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays",
            ));
        }
        let email = self.email_configuration.as_ref();
        let from = email
            .and_then(|e| e.get("From"))
            .is_some_and(|f| !f.is_null());
        let account = email
            .and_then(|e| e.get("EmailSendingAccount"))
            .and_then(Value::as_str)
            .unwrap_or("COGNITO_DEFAULT");
        if from && account == "COGNITO_DEFAULT" {
            return Some(ApiError::invalid_parameter(
                "Cannot configure From email address for default email configuration",
            ));
        }
        let sms = self.sms_configuration.as_ref();
        let eums = sms.and_then(|c| c.get("EumsSms")).filter(|e| !e.is_null());
        let sns = sms
            .and_then(|c| c.get("SnsCallerArn"))
            .is_some_and(|a| !a.is_null());
        if eums.is_some() && sns {
            return Some(ApiError::invalid_parameter(
                "SmsConfiguration takes either SnsCallerArn or EumsSms, not both.",
            ));
        }
        if let Some(other) = eums
            .and_then(|e| e.get("Region"))
            .and_then(Value::as_str)
            .filter(|r| *r != region)
        {
            return Some(ApiError::invalid_parameter(format!(
                "EumsSms Region {other} is not the user pool's Region ({region})."
            )));
        }
        None
    }

    /// Validates and converts; absent members take Cognito's defaults.
    pub fn into_settings(self, v: &mut Validator) -> PoolSettings {
        let mut s = PoolSettings::default();
        // One setting with two names: the temporary password's (and an
        // unused account's) validity, reported under both; 0 is the
        // default, as the model documents.
        let validity_days = self
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref())
            .and_then(|p| p.temporary_password_validity_days)
            .or_else(|| {
                self.admin_create_user_config
                    .as_ref()
                    .and_then(|c| c.unused_account_validity_days)
            })
            .filter(|d| *d != 0)
            .unwrap_or(7)
            .clamp(0, 365) as u32;
        let policy = self
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref());
        if let Some(p) = policy {
            v.range(
                "policies.passwordPolicy.minimumLength",
                p.minimum_length,
                6,
                99,
            )
            .range(
                "policies.passwordPolicy.passwordHistorySize",
                p.password_history_size,
                0,
                24,
            )
            .range(
                "policies.passwordPolicy.temporaryPasswordValidityDays",
                p.temporary_password_validity_days,
                0,
                365,
            );
            s.password_policy = PasswordPolicy {
                minimum_length: p.minimum_length.unwrap_or(8).clamp(0, 99) as u32,
                require_uppercase: p.require_uppercase.unwrap_or(false),
                require_lowercase: p.require_lowercase.unwrap_or(false),
                require_numbers: p.require_numbers.unwrap_or(false),
                require_symbols: p.require_symbols.unwrap_or(false),
                password_history_size: p.password_history_size.map(|n| n.clamp(0, 24) as u32),
                temporary_password_validity_days: validity_days,
            };
        }
        s.sign_in_policy = self.policies.and_then(|p| p.sign_in_policy);
        v.one_of(
            "deletionProtection",
            self.deletion_protection.as_deref(),
            &["ACTIVE", "INACTIVE"],
        );
        s.deletion_protection = self.deletion_protection.as_deref() == Some("ACTIVE");
        s.lambda_config = cognate_core::triggers::normalize_lambda_config(self.lambda_config);
        v.each_one_of(
            "autoVerifiedAttributes",
            self.auto_verified_attributes.as_deref(),
            &["phone_number", "email"],
        );
        s.auto_verified_attributes = self.auto_verified_attributes.unwrap_or_default();
        s.sms_verification_message = self.sms_verification_message;
        s.email_verification_message = self.email_verification_message;
        s.email_verification_subject = self.email_verification_subject;
        if let Some(t) = self.verification_message_template {
            v.one_of(
                "verificationMessageTemplate.defaultEmailOption",
                t.default_email_option.as_deref(),
                &["CONFIRM_WITH_LINK", "CONFIRM_WITH_CODE"],
            );
            s.verification_message_template = VerificationMessageTemplate {
                sms_message: t.sms_message,
                email_message: t.email_message,
                email_subject: t.email_subject,
                email_message_by_link: t.email_message_by_link,
                email_subject_by_link: t.email_subject_by_link,
                default_email_option: t.default_email_option,
            };
        }
        // The legacy members and the template's are one setting: DescribeUserPool
        // reports each with the other's value when only one was given.
        let t = &mut s.verification_message_template;
        for (legacy, template) in [
            (&mut s.sms_verification_message, &mut t.sms_message),
            (&mut s.email_verification_message, &mut t.email_message),
            (&mut s.email_verification_subject, &mut t.email_subject),
        ] {
            if legacy.is_none() {
                legacy.clone_from(template);
            } else if template.is_none() {
                template.clone_from(legacy);
            }
        }
        s.sms_authentication_message = self.sms_authentication_message;
        s.attributes_require_verification_before_update = self
            .user_attribute_update_settings
            .and_then(|u| u.attributes_require_verification_before_update);
        v.one_of(
            "mfaConfiguration",
            self.mfa_configuration.as_deref(),
            &["OFF", "ON", "OPTIONAL"],
        );
        s.mfa_configuration = self.mfa_configuration.unwrap_or_else(|| "OFF".into());
        s.device_configuration = self.device_configuration;
        // The sending account left out is Cognito's own (COGNITO_DEFAULT).
        s.email_configuration = self.email_configuration.map(|mut e| {
            if let Some(obj) = e.as_object_mut() {
                obj.entry("EmailSendingAccount")
                    .or_insert_with(|| json!("COGNITO_DEFAULT"));
            }
            e
        });
        s.sms_configuration = self.sms_configuration;
        s.user_pool_tags = self.user_pool_tags.unwrap_or_default();
        if let Some(c) = self.admin_create_user_config {
            v.range(
                "adminCreateUserConfig.unusedAccountValidityDays",
                c.unused_account_validity_days,
                0,
                365,
            );
            s.admin_create_user_config = AdminCreateUserConfig {
                allow_admin_create_user_only: c.allow_admin_create_user_only.unwrap_or(false),
                unused_account_validity_days: validity_days,
                invite_message_template: c.invite_message_template.map(|t| MessageTemplate {
                    sms_message: t.sms_message,
                    email_message: t.email_message,
                    email_subject: t.email_subject,
                }),
            };
        }
        s.password_policy.temporary_password_validity_days = validity_days;
        s.admin_create_user_config.unused_account_validity_days = validity_days;
        s.user_pool_add_ons = self.user_pool_add_ons;
        s.account_recovery = self
            .account_recovery_setting
            .and_then(|a| a.recovery_mechanisms)
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let path =
                            format!("accountRecoverySetting.recoveryMechanisms.{}.member", i + 1);
                        v.range(&format!("{path}.priority"), Some(r.priority), 1, 2)
                            .one_of(
                                &format!("{path}.name"),
                                Some(&r.name),
                                &["verified_email", "verified_phone_number", "admin_only"],
                            );
                        RecoveryOption {
                            priority: r.priority.clamp(0, 2) as u32,
                            name: r.name,
                        }
                    })
                    .collect()
            });
        v.one_of(
            "userPoolTier",
            self.user_pool_tier.as_deref(),
            &["LITE", "ESSENTIALS", "PLUS"],
        );
        s.user_pool_tier = self.user_pool_tier.unwrap_or_else(|| "ESSENTIALS".into());
        s.key_configuration = self.key_configuration;
        s.issuer_configuration = self.issuer_configuration;
        s
    }
}

fn schema_out(a: &SchemaAttribute) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), json!(a.name));
    m.insert("AttributeDataType".into(), json!(a.data_type.as_str()));
    m.insert("DeveloperOnlyAttribute".into(), json!(a.developer_only));
    m.insert("Mutable".into(), json!(a.mutable));
    m.insert("Required".into(), json!(a.required));
    // A String attribute always carries its (possibly empty) string
    // constraints, as Cognito shows them.
    if a.data_type == AttributeDataType::String || a.min_length.is_some() || a.max_length.is_some()
    {
        let mut c = Map::new();
        put(&mut c, "MinLength", a.min_length.as_ref());
        put(&mut c, "MaxLength", a.max_length.as_ref());
        m.insert("StringAttributeConstraints".into(), Value::Object(c));
    }
    if a.number_constraints_given || a.min_value.is_some() || a.max_value.is_some() {
        let mut c = Map::new();
        put(&mut c, "MinValue", a.min_value.as_ref());
        put(&mut c, "MaxValue", a.max_value.as_ref());
        m.insert("NumberAttributeConstraints".into(), Value::Object(c));
    }
    Value::Object(m)
}

/// A UserPoolType.
pub fn user_pool_out(pool: &UserPool, arn: &str, estimated_users: u64) -> Value {
    let s = &pool.settings;
    let p = &s.password_policy;
    let mut password_policy = json!({
        "MinimumLength": p.minimum_length,
        "RequireUppercase": p.require_uppercase,
        "RequireLowercase": p.require_lowercase,
        "RequireNumbers": p.require_numbers,
        "RequireSymbols": p.require_symbols,
        "TemporaryPasswordValidityDays": p.temporary_password_validity_days,
    });
    if let (Some(n), Some(obj)) = (p.password_history_size, password_policy.as_object_mut()) {
        obj.insert("PasswordHistorySize".into(), json!(n));
    }
    let mut policies = Map::new();
    policies.insert("PasswordPolicy".into(), password_policy);
    // A pool never given a sign-in policy reports the password-only one
    // (AWS's example answers and the Terraform provider's tests show it).
    let password_only = json!({"AllowedFirstAuthFactors": ["PASSWORD"]});
    policies.insert(
        "SignInPolicy".into(),
        s.sign_in_policy.clone().unwrap_or(password_only),
    );

    let mut m = Map::new();
    m.insert("Id".into(), json!(pool.id));
    m.insert("Name".into(), json!(pool.name));
    m.insert("Policies".into(), Value::Object(policies));
    m.insert(
        "DeletionProtection".into(),
        json!(if s.deletion_protection {
            "ACTIVE"
        } else {
            "INACTIVE"
        }),
    );
    m.insert(
        "LambdaConfig".into(),
        s.lambda_config.clone().unwrap_or_else(|| json!({})),
    );
    m.insert("LastModifiedDate".into(), timestamp(pool.modified));
    m.insert("CreationDate".into(), timestamp(pool.created));
    let mut schema: Vec<Value> = pool.schema.iter().map(schema_out).collect();
    if !pool.identity_providers.is_empty() {
        // A pool with identity providers lists `identities` (its federated
        // users' links), after the standard attributes, as Cognito does.
        let at = pool
            .schema
            .iter()
            .position(|a| a.name.starts_with("custom:") || a.name.starts_with("dev:"))
            .unwrap_or(schema.len());
        schema.insert(
            at,
            json!({
                "Name": "identities",
                "AttributeDataType": "String",
                "DeveloperOnlyAttribute": false,
                "Mutable": true,
                "Required": false,
                "StringAttributeConstraints": {},
            }),
        );
    }
    m.insert("SchemaAttributes".into(), Value::Array(schema));
    if !s.auto_verified_attributes.is_empty() {
        m.insert(
            "AutoVerifiedAttributes".into(),
            json!(s.auto_verified_attributes),
        );
    }
    if !pool.alias_attributes.is_empty() {
        m.insert("AliasAttributes".into(), json!(pool.alias_attributes));
    }
    if !pool.username_attributes.is_empty() {
        m.insert("UsernameAttributes".into(), json!(pool.username_attributes));
    }
    put(
        &mut m,
        "SmsVerificationMessage",
        s.sms_verification_message.as_ref(),
    );
    put(
        &mut m,
        "EmailVerificationMessage",
        s.email_verification_message.as_ref(),
    );
    put(
        &mut m,
        "EmailVerificationSubject",
        s.email_verification_subject.as_ref(),
    );
    let t = &s.verification_message_template;
    let mut vmt = Map::new();
    put(&mut vmt, "SmsMessage", t.sms_message.as_ref());
    put(&mut vmt, "EmailMessage", t.email_message.as_ref());
    put(&mut vmt, "EmailSubject", t.email_subject.as_ref());
    put(
        &mut vmt,
        "EmailMessageByLink",
        t.email_message_by_link.as_ref(),
    );
    put(
        &mut vmt,
        "EmailSubjectByLink",
        t.email_subject_by_link.as_ref(),
    );
    vmt.insert(
        "DefaultEmailOption".into(),
        json!(t
            .default_email_option
            .as_deref()
            .unwrap_or("CONFIRM_WITH_CODE")),
    );
    m.insert("VerificationMessageTemplate".into(), Value::Object(vmt));
    put(
        &mut m,
        "SmsAuthenticationMessage",
        s.sms_authentication_message.as_ref(),
    );
    if let Some(list) = &s.attributes_require_verification_before_update {
        m.insert(
            "UserAttributeUpdateSettings".into(),
            json!({"AttributesRequireVerificationBeforeUpdate": list}),
        );
    }
    m.insert("MfaConfiguration".into(), json!(s.mfa_configuration));
    put(
        &mut m,
        "DeviceConfiguration",
        s.device_configuration.as_ref(),
    );
    m.insert("EstimatedNumberOfUsers".into(), json!(estimated_users));
    m.insert(
        "EmailConfiguration".into(),
        s.email_configuration
            .clone()
            .unwrap_or_else(|| json!({"EmailSendingAccount": "COGNITO_DEFAULT"})),
    );
    put(
        &mut m,
        "SmsConfiguration",
        pool.shown_sms_configuration().as_ref(),
    );
    m.insert("UserPoolTags".into(), json!(s.user_pool_tags));
    let a = &s.admin_create_user_config;
    let mut acuc = Map::new();
    acuc.insert(
        "AllowAdminCreateUserOnly".into(),
        json!(a.allow_admin_create_user_only),
    );
    acuc.insert(
        "UnusedAccountValidityDays".into(),
        json!(a.unused_account_validity_days),
    );
    if let Some(t) = &a.invite_message_template {
        let mut tm = Map::new();
        put(&mut tm, "SMSMessage", t.sms_message.as_ref());
        put(&mut tm, "EmailMessage", t.email_message.as_ref());
        put(&mut tm, "EmailSubject", t.email_subject.as_ref());
        acuc.insert("InviteMessageTemplate".into(), Value::Object(tm));
    }
    m.insert("AdminCreateUserConfig".into(), Value::Object(acuc));
    put(&mut m, "UserPoolAddOns", s.user_pool_add_ons.as_ref());
    if let Some(cs) = pool.username_case_sensitive {
        m.insert("UsernameConfiguration".into(), json!({"CaseSensitive": cs}));
    }
    m.insert("Arn".into(), json!(arn));
    if let Some(r) = &s.account_recovery {
        m.insert(
            "AccountRecoverySetting".into(),
            json!({"RecoveryMechanisms": r.iter().map(|o| json!({"Priority": o.priority, "Name": o.name})).collect::<Vec<_>>()}),
        );
    }
    m.insert("UserPoolTier".into(), json!(s.user_pool_tier));
    put(&mut m, "KeyConfiguration", s.key_configuration.as_ref());
    put(
        &mut m,
        "IssuerConfiguration",
        s.issuer_configuration.as_ref(),
    );
    Value::Object(m)
}

// ---------------------------------------------------------------- clients

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenValidityUnitsType {
    pub access_token: Option<String>,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// The members CreateUserPoolClient and UpdateUserPoolClient share.
#[derive(Debug, Default, Deserialize)]
pub struct ClientSettingsIn {
    #[serde(rename = "ClientName")]
    pub client_name: Option<String>,
    #[serde(rename = "RefreshTokenValidity")]
    pub refresh_token_validity: Option<i64>,
    #[serde(rename = "AccessTokenValidity")]
    pub access_token_validity: Option<i64>,
    #[serde(rename = "IdTokenValidity")]
    pub id_token_validity: Option<i64>,
    #[serde(rename = "TokenValidityUnits")]
    pub token_validity_units: Option<TokenValidityUnitsType>,
    #[serde(rename = "ReadAttributes")]
    pub read_attributes: Option<Vec<String>>,
    #[serde(rename = "WriteAttributes")]
    pub write_attributes: Option<Vec<String>>,
    #[serde(rename = "ExplicitAuthFlows")]
    pub explicit_auth_flows: Option<Vec<String>>,
    #[serde(rename = "SupportedIdentityProviders")]
    pub supported_identity_providers: Option<Vec<String>>,
    #[serde(rename = "CallbackURLs")]
    pub callback_urls: Option<Vec<String>>,
    #[serde(rename = "LogoutURLs")]
    pub logout_urls: Option<Vec<String>>,
    #[serde(rename = "DefaultRedirectURI")]
    pub default_redirect_uri: Option<String>,
    #[serde(rename = "AllowedOAuthFlows")]
    pub allowed_oauth_flows: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthScopes")]
    pub allowed_oauth_scopes: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthFlowsUserPoolClient")]
    pub allowed_oauth_flows_user_pool_client: Option<bool>,
    #[serde(rename = "AnalyticsConfiguration")]
    pub analytics_configuration: Option<Value>,
    #[serde(rename = "PreventUserExistenceErrors")]
    pub prevent_user_existence_errors: Option<String>,
    #[serde(rename = "EnableTokenRevocation")]
    pub enable_token_revocation: Option<bool>,
    #[serde(rename = "EnablePropagateAdditionalUserContextData")]
    pub enable_propagate_additional_user_context_data: Option<bool>,
    #[serde(rename = "AuthSessionValidity")]
    pub auth_session_validity: Option<i64>,
    #[serde(rename = "RefreshTokenRotation")]
    pub refresh_token_rotation: Option<Value>,
}

pub const EXPLICIT_AUTH_FLOWS: &[&str] = &[
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
    "ALLOW_TOKEN_EXCHANGE_DELEGATION",
    "ALLOW_TOKEN_EXCHANGE_IMPERSONATION",
    "ALLOW_CLIENT_TOKEN_AUTH",
];

impl ClientSettingsIn {
    pub fn into_settings(self, v: &mut Validator, fallback_name: Option<&str>) -> ClientSettings {
        let name = self
            .client_name
            .or_else(|| fallback_name.map(str::to_owned))
            .unwrap_or_default();
        v.len("clientName", &name, 1, 128)
            .range(
                "refreshTokenValidity",
                self.refresh_token_validity,
                0,
                315_360_000,
            )
            .range("accessTokenValidity", self.access_token_validity, 1, 86_400)
            .range("idTokenValidity", self.id_token_validity, 1, 86_400)
            .range("authSessionValidity", self.auth_session_validity, 3, 15)
            .each_one_of(
                "explicitAuthFlows",
                self.explicit_auth_flows.as_deref(),
                EXPLICIT_AUTH_FLOWS,
            )
            .each_one_of(
                "allowedOAuthFlows",
                self.allowed_oauth_flows.as_deref(),
                &["code", "implicit", "client_credentials"],
            )
            .one_of(
                "preventUserExistenceErrors",
                self.prevent_user_existence_errors.as_deref(),
                &["LEGACY", "ENABLED"],
            );
        let mut units = self.token_validity_units.unwrap_or_default();
        for (member, unit) in [
            (
                "tokenValidityUnits.accessToken",
                units.access_token.as_deref(),
            ),
            ("tokenValidityUnits.idToken", units.id_token.as_deref()),
            (
                "tokenValidityUnits.refreshToken",
                units.refresh_token.as_deref(),
            ),
        ] {
            v.one_of(member, unit, &["seconds", "minutes", "hours", "days"]);
        }
        let mut s = ClientSettings::named(&name);
        // The model: a RefreshTokenValidity of 0 is overridden with the
        // default, 30 days.
        s.refresh_token_validity = match self.refresh_token_validity {
            Some(0) => {
                units.refresh_token = Some("days".into());
                30
            }
            given => given.unwrap_or(30),
        };
        s.access_token_validity = self.access_token_validity;
        s.id_token_validity = self.id_token_validity;
        s.token_validity_units = TokenValidityUnits {
            access_token: units.access_token,
            id_token: units.id_token,
            refresh_token: units.refresh_token,
        };
        s.read_attributes = self.read_attributes;
        s.write_attributes = self.write_attributes;
        s.explicit_auth_flows = self.explicit_auth_flows;
        s.supported_identity_providers = self.supported_identity_providers;
        s.callback_urls = self.callback_urls;
        s.logout_urls = self.logout_urls;
        s.default_redirect_uri = self.default_redirect_uri;
        s.allowed_oauth_flows = self.allowed_oauth_flows;
        s.allowed_oauth_scopes = self.allowed_oauth_scopes;
        s.allowed_oauth_flows_user_pool_client =
            self.allowed_oauth_flows_user_pool_client.unwrap_or(false);
        s.analytics_configuration = self.analytics_configuration;
        s.prevent_user_existence_errors = self.prevent_user_existence_errors;
        s.enable_token_revocation = self.enable_token_revocation.unwrap_or(true);
        s.enable_propagate_additional_user_context_data = self
            .enable_propagate_additional_user_context_data
            .unwrap_or(false);
        s.auth_session_validity = self.auth_session_validity.unwrap_or(3);
        s.refresh_token_rotation = self.refresh_token_rotation;
        s
    }
}

/// A UserPoolClientType.
pub fn client_out(c: &AppClient) -> Value {
    let s = &c.settings;
    let mut m = Map::new();
    m.insert("UserPoolId".into(), json!(c.pool_id));
    m.insert("ClientName".into(), json!(s.client_name));
    m.insert("ClientId".into(), json!(c.client_id));
    put(&mut m, "ClientSecret", c.original_secret());
    m.insert("LastModifiedDate".into(), timestamp(c.modified));
    m.insert("CreationDate".into(), timestamp(c.created));
    m.insert(
        "RefreshTokenValidity".into(),
        json!(s.refresh_token_validity),
    );
    put(&mut m, "AccessTokenValidity", s.access_token_validity);
    put(&mut m, "IdTokenValidity", s.id_token_validity);
    let u = &s.token_validity_units;
    let mut units = Map::new();
    put(&mut units, "AccessToken", u.access_token.as_ref());
    put(&mut units, "IdToken", u.id_token.as_ref());
    put(&mut units, "RefreshToken", u.refresh_token.as_ref());
    m.insert("TokenValidityUnits".into(), Value::Object(units));
    // Cognito keeps these lists as sets and answers them in a Java hash
    // set's order (AWS's examples); the URL lists keep the given order.
    let set = |list: &Option<Vec<String>>| {
        list.as_deref()
            .map(crate::java_order::hash_set_order::<String>)
    };
    put(&mut m, "ReadAttributes", set(&s.read_attributes));
    put(&mut m, "WriteAttributes", set(&s.write_attributes));
    put(&mut m, "ExplicitAuthFlows", set(&s.explicit_auth_flows));
    put(
        &mut m,
        "SupportedIdentityProviders",
        set(&s.supported_identity_providers),
    );
    put(&mut m, "CallbackURLs", s.callback_urls.as_ref());
    put(&mut m, "LogoutURLs", s.logout_urls.as_ref());
    put(
        &mut m,
        "DefaultRedirectURI",
        s.default_redirect_uri.as_ref(),
    );
    put(&mut m, "AllowedOAuthFlows", set(&s.allowed_oauth_flows));
    // The standard scopes, then the resource servers' (AWS's example).
    let scopes = s.allowed_oauth_scopes.as_deref().map(|all| {
        let (standard, custom): (Vec<&String>, Vec<&String>) = all
            .iter()
            .partition(|x| cognate_core::service::SYSTEM_SCOPES.contains(&x.as_str()));
        let mut out = crate::java_order::hash_set_order(&standard);
        out.extend(crate::java_order::hash_set_order(&custom));
        out
    });
    put(&mut m, "AllowedOAuthScopes", scopes);
    m.insert(
        "AllowedOAuthFlowsUserPoolClient".into(),
        json!(s.allowed_oauth_flows_user_pool_client),
    );
    put(
        &mut m,
        "AnalyticsConfiguration",
        s.analytics_configuration.as_ref(),
    );
    // Cognito reports it only when it was set (LEGACY applies otherwise).
    put(
        &mut m,
        "PreventUserExistenceErrors",
        s.prevent_user_existence_errors.as_ref(),
    );
    m.insert(
        "EnableTokenRevocation".into(),
        json!(s.enable_token_revocation),
    );
    m.insert(
        "EnablePropagateAdditionalUserContextData".into(),
        json!(s.enable_propagate_additional_user_context_data),
    );
    m.insert("AuthSessionValidity".into(), json!(s.auth_session_validity));
    put(
        &mut m,
        "RefreshTokenRotation",
        s.refresh_token_rotation.as_ref(),
    );
    Value::Object(m)
}

// ---------------------------------------------------------------- users

/// A UserType (ListUsers, AdminCreateUser): attributes under `Attributes`.
pub fn user_type_out(user: &User, only: Option<&[String]>) -> Value {
    let attrs: Vec<Attribute> = user
        .attributes_with_sub()
        .into_iter()
        .filter(|a| only.is_none_or(|names| names.iter().any(|n| n == &a.name)))
        .collect();
    let mut out = json!({
        "Username": user.username,
        "Attributes": attributes_out(&attrs),
        "UserCreateDate": timestamp(user.created),
        "UserLastModifiedDate": timestamp(user.modified),
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    });
    if let (false, Some(obj)) = (user.mfa_options.is_empty(), out.as_object_mut()) {
        obj.insert("MFAOptions".into(), mfa_options_out(&user.mfa_options));
    }
    out
}

/// Parses a request body into its input shape. A body that is not JSON is
/// a SerializationException; a missing required member is an
/// InvalidParameterException with AWS's validation wording.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        if let Some(rest) = text.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or_default();
            let mut chars = field.chars();
            let member = match chars.next() {
                Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
                None => String::new(),
            };
            ApiError::invalid_parameter(format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ))
        } else if e.is_data() {
            ApiError::serialization(format!("Invalid request: {}", strip_position(&text)))
        } else {
            ApiError::serialization("Request body is not valid JSON.")
        }
    })
}

fn strip_position(text: &str) -> &str {
    text.split(" at line ").next().unwrap_or(text)
}

/// A user's legacy `MFAOptions` (`MFAOptionListType`).
pub fn mfa_options_out(options: &[cognate_core::model::MfaOption]) -> Value {
    Value::Array(
        options
            .iter()
            .map(
                |o| json!({"DeliveryMedium": o.delivery_medium, "AttributeName": o.attribute_name}),
            )
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::version_stamp;

    #[test]
    fn version_stamps_are_utc_seconds_as_cognito_writes_them() {
        // 2019-01-28T17:54:02.500Z, the stamp of AWS's example domain.
        assert_eq!(version_stamp(1_548_698_042_500), "20190128175402");
        assert_eq!(version_stamp(0), "19700101000000");
    }
}

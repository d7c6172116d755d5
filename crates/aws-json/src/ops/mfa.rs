//! SetUserPoolMfaConfig, GetUserPoolMfaConfig, AssociateSoftwareToken,
//! VerifySoftwareToken, SetUserMFAPreference, AdminSetUserMFAPreference,
//! AdminDeleteSoftwareToken, SetUserSettings, AdminSetUserSettings.

use cognate_core::model::{EmailMfaSettings, MfaOption};
use cognate_core::service::{FactorPreference, MfaCaller, MfaConfig, MfaPreferences, SmsMfaConfig};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use super::users::access_token;
use crate::error::ApiError;
use crate::shapes::parse;
use crate::validate::{self, Validator};

fn config_out(c: &MfaConfig) -> Value {
    let mut out = json!({"MfaConfiguration": c.mfa_configuration});
    if let Some(obj) = out.as_object_mut() {
        // AWS shows these only once they were set (the Terraform
        // provider's acceptance tests expect none on a bare pool).
        if c.software_token_shown {
            obj.insert(
                "SoftwareTokenMfaConfiguration".into(),
                json!({"Enabled": c.software_token_enabled}),
            );
        }
        if c.webauthn_shown {
            obj.insert(
                "WebAuthnConfiguration".into(),
                super::webauthn::config_out(&c.webauthn),
            );
        }
        if let Some(sms) = &c.sms {
            let mut v = json!({});
            if let Some(m) = &sms.sms_authentication_message {
                v["SmsAuthenticationMessage"] = json!(m);
            }
            if let Some(cfg) = &sms.sms_configuration {
                v["SmsConfiguration"] = cfg.clone();
            }
            obj.insert("SmsMfaConfiguration".into(), v);
        }
        if let Some(email) = &c.email {
            let mut v = json!({});
            if let Some(m) = &email.message {
                v["Message"] = json!(m);
            }
            if let Some(s) = &email.subject {
                v["Subject"] = json!(s);
            }
            obj.insert("EmailMfaConfiguration".into(), v);
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolIdRequest {
    user_pool_id: String,
}

pub async fn get_user_pool_mfa_config(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolIdRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.finish()?;
    Ok(config_out(
        &svc.get_user_pool_mfa_config(&req.user_pool_id).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct EnabledType {
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUserPoolMfaConfigRequest {
    user_pool_id: String,
    mfa_configuration: Option<String>,
    software_token_mfa_configuration: Option<EnabledType>,
    sms_mfa_configuration: Option<SmsMfaConfigType>,
    email_mfa_configuration: Option<EmailMfaConfigType>,
    web_authn_configuration: Option<super::webauthn::WebAuthnConfigurationIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SmsMfaConfigType {
    sms_authentication_message: Option<String>,
    sms_configuration: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EmailMfaConfigType {
    message: Option<String>,
    subject: Option<String>,
}

pub async fn set_user_pool_mfa_config(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: SetUserPoolMfaConfigRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.one_of(
        "mfaConfiguration",
        req.mfa_configuration.as_deref(),
        &["OFF", "ON", "OPTIONAL"],
    );
    v.finish()?;
    let sms = req.sms_mfa_configuration.map(|s| SmsMfaConfig {
        sms_authentication_message: s.sms_authentication_message,
        sms_configuration: s.sms_configuration,
    });
    let email = req.email_mfa_configuration.map(|e| EmailMfaSettings {
        message: e.message,
        subject: e.subject,
    });
    let c = svc
        .set_user_pool_mfa_config(
            &req.user_pool_id,
            req.mfa_configuration,
            req.software_token_mfa_configuration
                .map(|s| s.enabled.unwrap_or(false)),
            sms,
            email,
            req.web_authn_configuration
                .map(Into::into)
                .unwrap_or_default(),
        )
        .await?;
    Ok(config_out(&c))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssociateRequest {
    access_token: Option<String>,
    session: Option<String>,
}

fn caller<'a>(
    token: &'a Option<String>,
    session: &'a Option<String>,
) -> Result<MfaCaller<'a>, ApiError> {
    let mut v = Validator::new();
    match (token, session) {
        (Some(t), _) => {
            access_token(&mut v, t);
            v.finish()?;
            Ok(MfaCaller::AccessToken(t))
        }
        (None, Some(s)) => {
            v.len("session", s, 20, 2048);
            v.finish()?;
            Ok(MfaCaller::Session(s))
        }
        (None, None) => Err(ApiError::invalid_parameter(
            "Either AccessToken or Session must be provided.",
        )),
    }
}

pub async fn associate_software_token(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AssociateRequest = parse(body)?;
    let who = caller(&req.access_token, &req.session)?;
    let (secret, session) = svc.associate_software_token(who).await?;
    let mut out = json!({"SecretCode": secret});
    if let (Some(s), Some(obj)) = (session, out.as_object_mut()) {
        obj.insert("Session".into(), json!(s));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyRequest {
    access_token: Option<String>,
    session: Option<String>,
    user_code: String,
    friendly_device_name: Option<String>,
}

pub async fn verify_software_token(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: VerifyRequest = parse(body)?;
    let who = caller(&req.access_token, &req.session)?;
    let mut v = Validator::new();
    v.len("userCode", &req.user_code, 6, 6).pattern(
        "userCode",
        &req.user_code,
        req.user_code.bytes().all(|b| b.is_ascii_digit()),
        "[0-9]+",
    );
    v.finish()?;
    let session = svc
        .verify_software_token(who, &req.user_code, req.friendly_device_name.as_deref())
        .await?;
    let mut out = json!({"Status": "SUCCESS"});
    if let (Some(s), Some(obj)) = (session, out.as_object_mut()) {
        obj.insert("Session".into(), json!(s));
    }
    Ok(out)
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
struct FactorSettings {
    enabled: Option<bool>,
    preferred_mfa: Option<bool>,
}

#[derive(Deserialize)]
struct PreferenceRequest {
    #[serde(rename = "AccessToken")]
    access_token: Option<String>,
    #[serde(rename = "UserPoolId")]
    user_pool_id: Option<String>,
    #[serde(rename = "Username")]
    username: Option<String>,
    #[serde(rename = "SoftwareTokenMfaSettings")]
    software_token: Option<FactorSettings>,
    #[serde(rename = "SMSMfaSettings")]
    sms: Option<FactorSettings>,
    #[serde(rename = "EmailMfaSettings")]
    email: Option<FactorSettings>,
    #[serde(rename = "WebAuthnMfaSettings")]
    webauthn: Option<FactorSettings>,
}

impl PreferenceRequest {
    fn parts(&self) -> MfaPreferences {
        let factor = |f: Option<FactorSettings>| {
            let f = f.unwrap_or_default();
            FactorPreference {
                enabled: f.enabled,
                preferred: f.preferred_mfa,
            }
        };
        MfaPreferences {
            totp: factor(self.software_token),
            sms: factor(self.sms),
            email: factor(self.email),
            webauthn: self.webauthn.and_then(|w| w.enabled),
        }
    }
}

pub async fn set_user_mfa_preference(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PreferenceRequest = parse(body)?;
    let Some(token) = &req.access_token else {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value null at 'accessToken' failed to satisfy constraint: Member must not be null",
        ));
    };
    let mut v = Validator::new();
    access_token(&mut v, token);
    v.finish()?;
    svc.set_user_mfa_preference(token, req.parts()).await?;
    Ok(json!({}))
}

pub async fn admin_set_user_mfa_preference(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: PreferenceRequest = parse(body)?;
    let (Some(pool_id), Some(username)) = (&req.user_pool_id, &req.username) else {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
        ));
    };
    let mut v = Validator::new();
    validate::pool_id(&mut v, pool_id);
    validate::username(&mut v, username);
    v.finish()?;
    svc.admin_set_user_mfa_preference(pool_id, username, req.parts())
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolUserRequest {
    user_pool_id: String,
    username: String,
}

pub async fn admin_delete_software_token(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolUserRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    v.finish()?;
    svc.admin_delete_software_token(&req.user_pool_id, &req.username)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MfaOptionType {
    delivery_medium: Option<String>,
    attribute_name: Option<String>,
}

fn mfa_options(options: Vec<MfaOptionType>) -> Vec<MfaOption> {
    options
        .into_iter()
        .map(|o| MfaOption {
            delivery_medium: o.delivery_medium.unwrap_or_default(),
            attribute_name: o.attribute_name.unwrap_or_default(),
        })
        .collect()
}

#[derive(Deserialize)]
struct SetUserSettingsRequest {
    #[serde(rename = "AccessToken")]
    access_token: String,
    #[serde(rename = "MFAOptions")]
    mfa_options: Vec<MfaOptionType>,
}

pub async fn set_user_settings(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: SetUserSettingsRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    v.finish()?;
    svc.set_user_settings(&req.access_token, mfa_options(req.mfa_options))
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
struct AdminSetUserSettingsRequest {
    #[serde(rename = "UserPoolId")]
    user_pool_id: String,
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "MFAOptions")]
    mfa_options: Vec<MfaOptionType>,
}

pub async fn admin_set_user_settings(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminSetUserSettingsRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    v.finish()?;
    svc.admin_set_user_settings(
        &req.user_pool_id,
        &req.username,
        mfa_options(req.mfa_options),
    )
    .await?;
    Ok(json!({}))
}

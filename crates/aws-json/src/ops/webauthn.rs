//! StartWebAuthnRegistration, CompleteWebAuthnRegistration,
//! ListWebAuthnCredentials, DeleteWebAuthnCredential, and the
//! WebAuthnConfiguration shape of Set/GetUserPoolMfaConfig. The model's
//! constraints are checked before these run (`model::validate`).

use cognate_core::model::{WebAuthnCredential, WebAuthnSettings};
use cognate_core::service::webauthn::WebAuthnConfig;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse};

/// WebAuthnConfigurationType in a request.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct WebAuthnConfigurationIn {
    relying_party_id: Option<String>,
    user_verification: Option<String>,
    factor_configuration: Option<String>,
}

impl From<WebAuthnConfigurationIn> for WebAuthnSettings {
    fn from(c: WebAuthnConfigurationIn) -> Self {
        WebAuthnSettings {
            relying_party_id: c.relying_party_id,
            user_verification: c.user_verification,
            factor_configuration: c.factor_configuration,
        }
    }
}

/// WebAuthnConfigurationType in a response.
pub fn config_out(c: &WebAuthnConfig) -> Value {
    let mut out = json!({"UserVerification": c.user_verification});
    if let Some(rp) = &c.relying_party_id {
        out["RelyingPartyId"] = json!(rp);
    }
    if let Some(f) = &c.factor_configuration {
        out["FactorConfiguration"] = json!(f);
    }
    out
}

fn credential_out(c: &WebAuthnCredential) -> Value {
    let mut out = json!({
        "CredentialId": c.credential_id,
        "FriendlyCredentialName": c.friendly_name,
        "RelyingPartyId": c.relying_party_id,
        "AuthenticatorTransports": c.transports,
        "CreatedAt": shapes::timestamp(c.created),
    });
    if let Some(a) = &c.authenticator_attachment {
        out["AuthenticatorAttachment"] = json!(a);
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenRequest {
    access_token: String,
}

pub async fn start_web_authn_registration(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TokenRequest = parse(body)?;
    let options = svc.start_webauthn_registration(&req.access_token).await?;
    Ok(json!({"CredentialCreationOptions": options}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CompleteRequest {
    access_token: String,
    credential: Value,
}

pub async fn complete_web_authn_registration(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: CompleteRequest = parse(body)?;
    svc.complete_webauthn_registration(&req.access_token, &req.credential)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    access_token: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

pub async fn list_web_authn_credentials(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let page = svc
        .list_webauthn_credentials(
            &req.access_token,
            req.next_token.as_deref(),
            req.max_results,
        )
        .await?;
    let mut out = json!({"Credentials": page.items.iter().map(credential_out).collect::<Vec<_>>()});
    if let Some(next) = page.next {
        out["NextToken"] = json!(next);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteRequest {
    access_token: String,
    credential_id: String,
}

pub async fn delete_web_authn_credential(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DeleteRequest = parse(body)?;
    svc.delete_webauthn_credential(&req.access_token, &req.credential_id)
        .await?;
    Ok(json!({}))
}

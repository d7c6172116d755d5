//! GetUserPoolSessionConfiguration, SetUserPoolSessionConfiguration,
//! GetUserPoolClientSessionConfiguration, SetUserPoolClientSessionConfiguration.

use cognate_core::model::SessionConfiguration;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::parse;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenSession {
    max_per_user: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolSessionRequest {
    user_pool_id: String,
    user_session_tracking: Option<String>,
    token_session: Option<TokenSession>,
}

fn pool_out(pool_id: &str, c: &SessionConfiguration) -> Value {
    json!({
        "UserPoolId": pool_id,
        "UserSessionTracking": if c.tracking { "ENABLED" } else { "DISABLED" },
        "TokenSession": {"MaxPerUser": c.max_per_user},
    })
}

pub async fn get_user_pool_session_configuration(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: PoolSessionRequest = parse(body)?;
    let c = svc
        .user_pool_session_configuration(&req.user_pool_id)
        .await?;
    Ok(pool_out(&req.user_pool_id, &c))
}

pub async fn set_user_pool_session_configuration(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: PoolSessionRequest = parse(body)?;
    // The model makes both members required; it has been checked before.
    let tracking = req.user_session_tracking.as_deref() == Some("ENABLED");
    let max = req.token_session.map(|t| t.max_per_user).unwrap_or(20);
    let c = svc
        .set_user_pool_session_configuration(&req.user_pool_id, tracking, max)
        .await?;
    Ok(pool_out(&req.user_pool_id, &c))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SsoSession {
    max_validity_minutes: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientSessionRequest {
    user_pool_id: String,
    client_id: String,
    #[serde(rename = "SSOSession")]
    sso_session: Option<SsoSession>,
}

fn client_out(req: &ClientSessionRequest, minutes: u32) -> Value {
    json!({
        "UserPoolId": req.user_pool_id,
        "ClientId": req.client_id,
        "SSOSession": {"MaxValidityMinutes": minutes},
    })
}

pub async fn get_user_pool_client_session_configuration(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: ClientSessionRequest = parse(body)?;
    let minutes = svc
        .client_session_configuration(&req.user_pool_id, &req.client_id)
        .await?;
    Ok(client_out(&req, minutes))
}

pub async fn set_user_pool_client_session_configuration(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: ClientSessionRequest = parse(body)?;
    let wanted = req
        .sso_session
        .as_ref()
        .map(|s| s.max_validity_minutes)
        .unwrap_or(cognate_core::service::sessions::DEFAULT_SSO_MINUTES);
    let minutes = svc
        .set_client_session_configuration(&req.user_pool_id, &req.client_id, wanted)
        .await?;
    Ok(client_out(&req, minutes))
}

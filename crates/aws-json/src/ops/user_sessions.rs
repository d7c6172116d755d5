//! AdminListUserSessions, ListUserSessions, AdminRevokeUserSession, RevokeUserSession.

use cognate_core::service::user_sessions::{Associated, UserSession};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse};

/// A session's LastLocation: where its last address is, by the server's
/// geo-IP database (`serve --geoip-database`); the Country `unknown` is
/// AWS's answer where resolution fails.
fn location(svc: &UserPools, session: &UserSession) -> Value {
    let place = svc.locate(session.last_ip.as_deref().and_then(|ip| ip.parse().ok()));
    let mut v = json!({"Country": place.country.as_deref().unwrap_or("unknown")});
    if let Some(city) = place.city {
        v["City"] = json!(city);
    }
    v
}

fn sessions_out(svc: &UserPools, sessions: &[UserSession]) -> Value {
    let list: Vec<Value> = sessions
        .iter()
        .map(|s| {
            let mut v = json!({
                "SessionId": s.id,
                "SessionType": s.kind.as_str(),
                "ClientId": s.client_id,
                "CreateDate": shapes::timestamp(s.created),
                "LastActiveDate": shapes::timestamp(s.last_active),
                "DeviceType": s.device.as_deref().unwrap_or("unknown"),
                "LastLocation": location(svc, s),
                "IsCurrentSession": s.current,
            });
            if let Some(ip) = &s.last_ip {
                v["LastIPAddress"] = json!(ip);
            }
            if let Some(origin) = &s.origin_session_id {
                v["OriginSessionId"] = json!(origin);
            }
            v
        })
        .collect();
    json!({"Sessions": list})
}

fn associated(value: Option<&str>) -> Associated {
    match value {
        Some("LINKED") => Associated::Linked,
        _ => Associated::None,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminRequest {
    user_pool_id: String,
    username: String,
    session_id: Option<String>,
    revoke_associated_sessions: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenRequest {
    access_token: String,
    session_id: Option<String>,
    revoke_associated_sessions: Option<String>,
}

pub async fn admin_list_user_sessions(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminRequest = parse(body)?;
    let sessions = svc
        .admin_list_user_sessions(&req.user_pool_id, &req.username)
        .await?;
    Ok(sessions_out(svc, &sessions))
}

pub async fn list_user_sessions(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TokenRequest = parse(body)?;
    let sessions = svc.list_user_sessions(&req.access_token).await?;
    Ok(sessions_out(svc, &sessions))
}

pub async fn admin_revoke_user_session(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminRequest = parse(body)?;
    svc.admin_revoke_user_session(
        &req.user_pool_id,
        &req.username,
        req.session_id.as_deref().unwrap_or_default(),
        associated(req.revoke_associated_sessions.as_deref()),
    )
    .await?;
    Ok(json!({}))
}

pub async fn revoke_user_session(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TokenRequest = parse(body)?;
    svc.revoke_user_session(
        &req.access_token,
        req.session_id.as_deref().unwrap_or_default(),
        associated(req.revoke_associated_sessions.as_deref()),
    )
    .await?;
    Ok(json!({}))
}

//! AdminListUserSessions, ListUserSessions, AdminRevokeUserSession, RevokeUserSession.

use cognate_core::service::user_sessions::TokenSession;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse};

fn sessions_out(sessions: &[TokenSession], with_current: bool) -> Value {
    let list: Vec<Value> = sessions
        .iter()
        .map(|s| {
            let mut v = json!({
                "SessionId": s.id,
                "SessionType": "TOKEN",
                "ClientId": s.client_id,
                "CreateDate": shapes::timestamp(s.created),
                "LastActiveDate": shapes::timestamp(s.last_active),
            });
            if with_current {
                v["IsCurrentSession"] = json!(s.current);
            }
            v
        })
        .collect();
    json!({"Sessions": list})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminRequest {
    user_pool_id: String,
    username: String,
    session_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenRequest {
    access_token: String,
    session_id: Option<String>,
}

pub async fn admin_list_user_sessions(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminRequest = parse(body)?;
    let sessions = svc
        .admin_list_user_sessions(&req.user_pool_id, &req.username)
        .await?;
    Ok(sessions_out(&sessions, false))
}

pub async fn list_user_sessions(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TokenRequest = parse(body)?;
    let sessions = svc.list_user_sessions(&req.access_token).await?;
    Ok(sessions_out(&sessions, true))
}

pub async fn admin_revoke_user_session(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminRequest = parse(body)?;
    svc.admin_revoke_user_session(
        &req.user_pool_id,
        &req.username,
        req.session_id.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(json!({}))
}

pub async fn revoke_user_session(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TokenRequest = parse(body)?;
    svc.revoke_user_session(
        &req.access_token,
        req.session_id.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(json!({}))
}

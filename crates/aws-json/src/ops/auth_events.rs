//! AdminListUserAuthEvents, AdminUpdateAuthEventFeedback, UpdateAuthEventFeedback.

use cognate_core::audit::AuthEventRecord;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse};

/// An event's EventContextData: the user's address and device, and where
/// the address is (City, Country, Timezone) as far as the server's geo-IP
/// database tells (left out where unknown).
fn context_data(event: &AuthEventRecord) -> Value {
    let mut data = serde_json::Map::new();
    if let Some(ip) = &event.ip_address {
        data.insert("IpAddress".into(), json!(ip));
    }
    if let Some(device) = &event.device_name {
        data.insert("DeviceName".into(), json!(device));
    }
    let place = &event.place;
    for (name, value) in [
        ("City", &place.city),
        ("Country", &place.country),
        ("Timezone", &place.timezone),
    ] {
        if let Some(value) = value {
            data.insert(name.into(), json!(value));
        }
    }
    Value::Object(data)
}

/// An event's EventRisk: Block where threat protection refused the
/// sign-in (a compromised password, or the action of its account-takeover
/// risk), AccountTakeover with the RiskLevel where it found a risk and let
/// the sign-in go on, else NoRisk.
fn event_risk(event: &AuthEventRecord) -> Value {
    let blocked = event.risk_blocked || (event.compromised_credentials && event.response == "Fail");
    let mut risk = json!({
        "RiskDecision": match (blocked, &event.risk_level) {
            (true, _) => "Block",
            (false, Some(_)) => "AccountTakeover",
            (false, None) => "NoRisk",
        },
        "CompromisedCredentialsDetected": event.compromised_credentials,
    });
    if let Some(level) = &event.risk_level {
        risk["RiskLevel"] = json!(level);
    }
    risk
}

/// An AuthEventType. `FeedbackToken` is cognate's own member (Cognito
/// only mails it, in risk notifications, as cognate does too): the token
/// UpdateAuthEventFeedback takes for this event.
fn event_out(event: &AuthEventRecord, feedback_token: &str) -> Value {
    let mut v = json!({
        "EventId": event.event_id,
        "EventType": event.event_type,
        "CreationDate": shapes::timestamp(event.created),
        "EventResponse": event.response,
        "EventRisk": event_risk(event),
        "ChallengeResponses": event.challenges.iter().map(|(name, response)| json!({
            "ChallengeName": name,
            "ChallengeResponse": response,
        })).collect::<Vec<_>>(),
        "EventContextData": context_data(event),
        "FeedbackToken": feedback_token,
    });
    if let Some(f) = &event.feedback {
        v["EventFeedback"] = json!({
            "FeedbackValue": f.value,
            "Provider": f.provider,
            "FeedbackDate": shapes::timestamp(f.date),
        });
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    user_pool_id: String,
    username: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub async fn admin_list_user_auth_events(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let page = svc
        .admin_list_user_auth_events(
            &req.user_pool_id,
            &req.username,
            req.max_results,
            req.next_token.as_deref(),
        )
        .await?;
    let events: Vec<Value> = page
        .items
        .iter()
        .map(|(event, token)| event_out(event, token))
        .collect();
    let mut out = json!({"AuthEvents": events});
    if let Some(next) = page.next {
        out["NextToken"] = json!(next);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FeedbackRequest {
    user_pool_id: String,
    username: String,
    event_id: String,
    feedback_value: String,
    feedback_token: Option<String>,
}

pub async fn admin_update_auth_event_feedback(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: FeedbackRequest = parse(body)?;
    svc.admin_update_auth_event_feedback(
        &req.user_pool_id,
        &req.username,
        &req.event_id,
        &req.feedback_value,
    )
    .await?;
    Ok(json!({}))
}

pub async fn update_auth_event_feedback(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: FeedbackRequest = parse(body)?;
    svc.update_auth_event_feedback(
        &req.user_pool_id,
        &req.username,
        &req.event_id,
        req.feedback_token.as_deref().unwrap_or_default(),
        &req.feedback_value,
    )
    .await?;
    Ok(json!({}))
}

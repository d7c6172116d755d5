//! InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge, AdminRespondToAuthChallenge.

use std::collections::BTreeMap;

use cognate_core::service::{AuthFlowInput, AuthOutcome, ChallengeInput, RefreshTokensInput};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::parse;
use crate::validate::{self, Validator};

pub const AUTH_FLOWS: &[&str] = &[
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "CUSTOM_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "USER_AUTH",
];

pub const CHALLENGE_NAMES: &[&str] = &[
    "SMS_MFA",
    "EMAIL_OTP",
    "SOFTWARE_TOKEN_MFA",
    "SELECT_MFA_TYPE",
    "MFA_SETUP",
    "PASSWORD_VERIFIER",
    "CUSTOM_CHALLENGE",
    "SELECT_CHALLENGE",
    "DEVICE_SRP_AUTH",
    "DEVICE_PASSWORD_VERIFIER",
    "ADMIN_NO_SRP_AUTH",
    "NEW_PASSWORD_REQUIRED",
    "SMS_OTP",
    "PASSWORD",
    "WEB_AUTHN",
    "PASSWORD_SRP",
];

pub fn outcome_out(outcome: AuthOutcome) -> Value {
    match outcome {
        AuthOutcome::Authenticated(r) => {
            let mut result = json!({
                "AccessToken": r.access_token,
                "ExpiresIn": r.expires_in,
                "TokenType": r.token_type,
                "IdToken": r.id_token,
            });
            if let (Some(t), Some(obj)) = (r.refresh_token, result.as_object_mut()) {
                obj.insert("RefreshToken".into(), json!(t));
            }
            if let (Some(d), Some(obj)) = (r.new_device, result.as_object_mut()) {
                obj.insert(
                    "NewDeviceMetadata".into(),
                    json!({"DeviceKey": d.device_key, "DeviceGroupKey": d.device_group_key}),
                );
            }
            json!({"ChallengeParameters": {}, "AuthenticationResult": result})
        }
        AuthOutcome::Challenge {
            name,
            session,
            parameters,
        } => json!({"ChallengeName": name, "Session": session, "ChallengeParameters": parameters}),
        AuthOutcome::SelectChallenge { session, available } => json!({
            "ChallengeName": "SELECT_CHALLENGE",
            "Session": session,
            "ChallengeParameters": {},
            "AvailableChallenges": available,
        }),
    }
}

/// The members of an AuthParameters / ChallengeResponses map that have a
/// value: a member sent as `null` is absent (amazon-cognito-identity-js
/// answers PASSWORD_VERIFIER again with `"DEVICE_KEY": null` after
/// "Device does not exist.", and Cognito takes it).
fn present(map: Option<BTreeMap<String, Option<String>>>) -> BTreeMap<String, String> {
    map.unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateAuthRequest {
    user_pool_id: Option<String>,
    client_id: String,
    auth_flow: String,
    auth_parameters: Option<BTreeMap<String, Option<String>>>,
    client_metadata: Option<BTreeMap<String, String>>,
    context_data: Option<ContextData>,
}

/// The part of AdminInitiateAuth's ContextData cognate reads: the end
/// user's address, for threat protection's IP exceptions and the auth
/// event log, and its User-Agent (the device of the session listings).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContextData {
    ip_address: Option<String>,
    #[serde(default)]
    http_headers: Vec<HttpHeader>,
}

/// One of ContextData's HttpHeaders (the model spells its members in camelCase).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpHeader {
    header_name: Option<String>,
    header_value: Option<String>,
}

impl ContextData {
    /// The User-Agent the admin call states for its user.
    fn user_agent(&self) -> Option<String> {
        self.http_headers
            .iter()
            .find(|h| {
                h.header_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case("user-agent"))
            })
            .and_then(|h| h.header_value.as_deref())
            .map(|v| {
                v.chars()
                    .take(cognate_core::audit::MAX_USER_AGENT)
                    .collect()
            })
    }
}

async fn initiate(svc: &UserPools, body: &[u8], admin: bool) -> Result<Value, ApiError> {
    let req: InitiateAuthRequest = parse(body)?;
    let mut v = Validator::new();
    if admin {
        match &req.user_pool_id {
            Some(id) => validate::pool_id(&mut v, id),
            None => {
                return Err(ApiError::invalid_parameter(
                    "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
                ))
            }
        }
    }
    validate::client_id(&mut v, &req.client_id);
    v.one_of("authFlow", Some(&req.auth_flow), AUTH_FLOWS);
    v.finish()?;
    // The address an admin call states for its user (a server signs
    // people in from its own address).
    let stated = req.context_data.as_ref().filter(|_| admin);
    let user_ip = stated
        .and_then(|c| c.ip_address.as_deref())
        .and_then(|ip| ip.trim().parse().ok());
    let user_agent = stated.and_then(ContextData::user_agent);
    let input = AuthFlowInput {
        admin_pool_id: if admin { req.user_pool_id } else { None },
        client_id: req.client_id,
        flow: req.auth_flow,
        parameters: present(req.auth_parameters),
        client_metadata: req.client_metadata.unwrap_or_default(),
    };
    let current = cognate_core::audit::current();
    let context = cognate_core::audit::RequestContext {
        // A public call's stated address was judged by the dispatcher.
        user_ip: user_ip.or(current.user_ip),
        user_agent: user_agent.or(current.user_agent),
        ..current
    };
    let outcome = cognate_core::audit::scope(context, svc.initiate_auth(input)).await?;
    Ok(outcome_out(outcome))
}

pub async fn initiate_auth(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    initiate(svc, body, false).await
}

pub async fn admin_initiate_auth(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    initiate(svc, body, true).await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RespondRequest {
    user_pool_id: Option<String>,
    client_id: String,
    challenge_name: String,
    session: Option<String>,
    challenge_responses: Option<BTreeMap<String, Option<String>>>,
    client_metadata: Option<BTreeMap<String, String>>,
}

async fn respond(svc: &UserPools, body: &[u8], admin: bool) -> Result<Value, ApiError> {
    let req: RespondRequest = parse(body)?;
    let mut v = Validator::new();
    if admin {
        match &req.user_pool_id {
            Some(id) => validate::pool_id(&mut v, id),
            None => {
                return Err(ApiError::invalid_parameter(
                    "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
                ))
            }
        }
    }
    validate::client_id(&mut v, &req.client_id);
    v.one_of("challengeName", Some(&req.challenge_name), CHALLENGE_NAMES)
        .opt_len("session", req.session.as_deref(), 20, 2048);
    v.finish()?;
    let outcome = svc
        .respond_to_auth_challenge(ChallengeInput {
            admin_pool_id: if admin { req.user_pool_id } else { None },
            client_id: req.client_id,
            challenge_name: req.challenge_name,
            session: req.session,
            responses: present(req.challenge_responses),
            client_metadata: req.client_metadata.unwrap_or_default(),
        })
        .await?;
    Ok(outcome_out(outcome))
}

pub async fn respond_to_auth_challenge(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    respond(svc, body, false).await
}

pub async fn admin_respond_to_auth_challenge(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    respond(svc, body, true).await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetTokensFromRefreshTokenRequest {
    refresh_token: String,
    client_id: String,
    client_secret: Option<String>,
    device_key: Option<String>,
    client_metadata: Option<BTreeMap<String, String>>,
}

/// GetTokensFromRefreshToken: an AuthenticationResult with a new
/// RefreshToken when the client rotates refresh tokens.
pub async fn get_tokens_from_refresh_token(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: GetTokensFromRefreshTokenRequest = parse(body)?;
    let result = svc
        .get_tokens_from_refresh_token(RefreshTokensInput {
            client_id: req.client_id,
            refresh_token: req.refresh_token,
            client_secret: req.client_secret,
            device_key: req.device_key,
            client_metadata: req.client_metadata.unwrap_or_default(),
        })
        .await?;
    let mut out = outcome_out(AuthOutcome::Authenticated(result));
    // This operation answers the result alone (no ChallengeParameters).
    if let Some(obj) = out.as_object_mut() {
        obj.remove("ChallengeParameters");
    }
    Ok(out)
}

//! `POST /oauth2/token` (RFC 6749 §3.2): form-encoded, the client
//! authenticated by `Authorization: Basic` or `client_id` / `client_secret`
//! in the body; errors as Cognito's `{"error": ...}` (no description but
//! its documented `invalid_redirect`) with 400 (401 for `invalid_client`). Grants: `authorization_code` (with PKCE),
//! `refresh_token`, `client_credentials`, and RFC 8693's token exchange
//! (`core::service::derived_token`). Also `/oauth2/revoke` (RFC 7009)
//! and `/oauth2/userInfo` (OIDC Core §5.3, errors as Cognito answers them).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use cognate_core::service::{ClientAuth, OAuthError};
use cognate_core::UserPools;
use serde_json::json;

use crate::web::{json_response, Site};

use crate::web::MAX_FORM;

fn oauth_error(e: &OAuthError) -> Response {
    let status = match e.error {
        "invalid_client" => StatusCode::UNAUTHORIZED,
        "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut body = json!({"error": e.error});
    if let (Some(d), Some(obj)) = (&e.description, body.as_object_mut()) {
        obj.insert("error_description".into(), json!(d));
    }
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"cognate\""),
        );
    }
    r
}

fn invalid_request(description: &str) -> OAuthError {
    OAuthError::new("invalid_request", description)
}

/// The form's parameters; a repeated parameter is an error (RFC 6749 §3.2).
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(invalid_request(
            "Content-Type must be application/x-www-form-urlencoded.",
        ));
    }
    if body.len() > MAX_FORM {
        return Err(invalid_request("The request body is too large."));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| invalid_request("The request body is not a valid form."))?;
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(other, _)| other == k) {
            return Err(invalid_request(&format!("Parameter {k} is repeated.")));
        }
    }
    Ok(pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The client's credentials from `Authorization: Basic` or the body.
fn client_auth(headers: &HeaderMap, pairs: &[(String, String)]) -> Result<ClientAuth, OAuthError> {
    let invalid = || OAuthError::new("invalid_client", "Client authentication failed.");
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| invalid())?;
        let encoded = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
            .ok_or_else(invalid)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(invalid)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
        if param(pairs, "client_id").is_some_and(|body_id| body_id != id) {
            return Err(invalid());
        }
        return Ok(ClientAuth {
            client_id: id.to_owned(),
            client_secret: Some(secret.to_owned()),
        });
    }
    let id = param(pairs, "client_id").ok_or_else(invalid)?;
    Ok(ClientAuth {
        client_id: id.to_owned(),
        client_secret: param(pairs, "client_secret").map(str::to_owned),
    })
}

/// Cognito's token endpoint answers the grants of RFC 6749 with `error`
/// alone (its guide's error template, and the answers users captured), but
/// for the one description the guide documents; ours is only logged.
fn as_cognito_answers(mut e: OAuthError) -> OAuthError {
    if e.description.as_deref() != Some(OAuthError::INVALID_REDIRECT) {
        if let Some(d) = e.description.take() {
            tracing::debug!(error = e.error, description = %d, "token request refused");
        }
    }
    e
}

async fn token(svc: &UserPools, pool_id: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let result = async {
        let pairs = parse_form(headers, body).map_err(as_cognito_answers)?;
        let grant = param(&pairs, "grant_type")
            .ok_or_else(|| as_cognito_answers(invalid_request("grant_type is required.")))?;
        let auth = client_auth(headers, &pairs).map_err(as_cognito_answers)?;
        // The token exchange (RFC 8693) keeps its descriptions.
        if grant == TOKEN_EXCHANGE {
            return token_exchange(svc, pool_id, &auth, &pairs).await;
        }
        match grant {
            "client_credentials" => {
                svc.client_credentials_grant(pool_id, &auth, param(&pairs, "scope"))
                    .await
            }
            "authorization_code" => {
                svc.authorization_code_grant(
                    pool_id,
                    &auth,
                    param(&pairs, "code"),
                    param(&pairs, "redirect_uri"),
                    param(&pairs, "code_verifier"),
                )
                .await
            }
            "refresh_token" => {
                svc.refresh_token_grant(pool_id, &auth, param(&pairs, "refresh_token"))
                    .await
            }
            _ => Err(OAuthError::new(
                "unsupported_grant_type",
                format!("Grant type {grant} is not supported."),
            )),
        }
        .map(tokens_body)
        .map_err(as_cognito_answers)
    }
    .await;
    match result {
        Ok(body) => {
            let mut r = json_response(StatusCode::OK, &body);
            cors(&mut r);
            r
        }
        Err(e) => {
            let mut r = oauth_error(&e);
            cors(&mut r);
            r
        }
    }
}

/// The RFC 8693 grant type.
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The answer of the grants of RFC 6749.
fn tokens_body(t: cognate_core::service::OAuthTokens) -> serde_json::Value {
    let mut body = json!({
        "access_token": t.access_token,
        "expires_in": t.expires_in,
        "token_type": t.token_type,
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(id) = t.id_token {
            obj.insert("id_token".into(), json!(id));
        }
        if let Some(refresh) = t.refresh_token {
            obj.insert("refresh_token".into(), json!(refresh));
        }
    }
    body
}

/// The token-exchange grant (RFC 8693 §2.1 members; the answer of §2.2.1,
/// the issued token in `access_token` whatever its type; no refresh token).
async fn token_exchange(
    svc: &UserPools,
    pool_id: &str,
    auth: &ClientAuth,
    pairs: &[(String, String)],
) -> Result<serde_json::Value, OAuthError> {
    use cognate_core::service::derived_token::TokenExchangeForm;
    let form = TokenExchangeForm {
        subject_token: param(pairs, "subject_token"),
        subject_token_type: param(pairs, "subject_token_type"),
        actor_token: param(pairs, "actor_token"),
        actor_token_type: param(pairs, "actor_token_type"),
        requested_token_type: param(pairs, "requested_token_type"),
        scope: param(pairs, "scope"),
        audience: param(pairs, "audience"),
        resource: param(pairs, "resource"),
    };
    let t = svc.token_exchange_grant(pool_id, auth, form).await?;
    let mut body = json!({
        "access_token": t.access_token,
        "issued_token_type": t.issued_token_type,
        "token_type": t.token_type,
        "expires_in": t.expires_in,
    });
    if let (false, Some(obj)) = (t.scope.is_empty(), body.as_object_mut()) {
        obj.insert("scope".into(), json!(t.scope));
    }
    Ok(body)
}

/// Browser applications call the token, userInfo and revoke endpoints
/// from their own origin.
pub(crate) fn cors(r: &mut Response) {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// The answer to a CORS preflight of the token, userInfo and revoke endpoints.
pub async fn preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    r
}

/// `POST /oauth2/token`.
pub async fn token_endpoint(
    State(svc): State<Arc<UserPools>>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(&svc, &site.pool_id, &headers, &body).await
}

/// `POST /oauth2/revoke` (RFC 7009): 200 with an empty body, also for an
/// unknown or already revoked token.
pub async fn revoke_endpoint(
    State(svc): State<Arc<UserPools>>,
    site: Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let pairs = parse_form(&headers, &body)?;
        let auth = client_auth(&headers, &pairs)?;
        svc.oauth_revoke(&site.pool_id, &auth, param(&pairs, "token"))
            .await
    }
    .await;
    let mut r = match result {
        Ok(()) => {
            let mut r = StatusCode::OK.into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => oauth_error(&e),
    };
    cors(&mut r);
    r
}

/// `GET|POST /oauth2/userInfo` with a Bearer access token that has the
/// `openid` scope. Errors as Cognito's developer guide shows them: 400
/// `invalid_request` without a Bearer token, 401 `invalid_token` otherwise,
/// with `WWW-Authenticate: error="...", error_description="..."` (no
/// auth-scheme, as AWS sends it) and the same members in a JSON body.
pub async fn user_info_endpoint(
    State(svc): State<Arc<UserPools>>,
    site: Site,
    headers: HeaderMap,
) -> Response {
    use cognate_core::service::UserInfoError;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let challenge = |status: StatusCode, error: &str, description: &str| {
        let mut r = json_response(
            status,
            &json!({"error": error, "error_description": description}),
        );
        let www = format!("error=\"{error}\", error_description=\"{description}\"");
        if let Ok(v) = HeaderValue::from_str(&www) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        cors(&mut r);
        r
    };
    let Some(token) = bearer else {
        return challenge(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Bad OAuth2 request at UserInfo Endpoint",
        );
    };
    match svc.user_info(&site.pool_id, token).await {
        Ok(claims) => {
            let mut r = json_response(StatusCode::OK, &serde_json::Value::Object(claims));
            cors(&mut r);
            r
        }
        Err(UserInfoError::InsufficientScope) => challenge(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Access token does not contain openid scope",
        ),
        Err(UserInfoError::InvalidToken) => challenge(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Access token is expired, disabled, or deleted, or the user has globally signed out.",
        ),
        Err(UserInfoError::Internal) => {
            let mut r = json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": "server_error"}),
            );
            cors(&mut r);
            r
        }
    }
}

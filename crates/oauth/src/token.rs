//! `POST /oauth2/token` (RFC 6749 §3.2): form-encoded, the client
//! authenticated by `Authorization: Basic` or `client_id` / `client_secret`
//! in the body; errors as `{"error": ...}` with 400 (401 for
//! `invalid_client`). Grants so far: `client_credentials`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use cognate_core::service::{ClientAuth, OAuthError};
use cognate_core::UserPools;
use serde_json::json;

/// Form bodies larger than this are refused before parsing.
const MAX_FORM: usize = 16 * 1024;

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

async fn token(svc: &UserPools, pool_id: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let result = async {
        let pairs = parse_form(headers, body)?;
        let grant = param(&pairs, "grant_type")
            .ok_or_else(|| invalid_request("grant_type is required."))?;
        let auth = client_auth(headers, &pairs)?;
        match grant {
            "client_credentials" => {
                svc.client_credentials_grant(pool_id, &auth, param(&pairs, "scope"))
                    .await
            }
            _ => Err(OAuthError::new(
                "unsupported_grant_type",
                format!("Grant type {grant} is not supported."),
            )),
        }
    }
    .await;
    match result {
        Ok(t) => {
            let body = json!({
                "access_token": t.access_token,
                "expires_in": t.expires_in,
                "token_type": t.token_type,
            });
            let mut r = (StatusCode::OK, body.to_string()).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            r
        }
        Err(e) => oauth_error(&e),
    }
}

fn no_domain() -> Response {
    let mut r = (
        StatusCode::NOT_FOUND,
        json!({"error": "invalid_request", "error_description": "No user pool domain is served here."})
            .to_string(),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

/// `POST /oauth2/token` on a domain's host name.
pub async fn token_by_host(
    State(svc): State<Arc<UserPools>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match svc.domain_for_host(host).await {
        Ok(Some(d)) => token(&svc, &d.pool_id, &headers, &body).await,
        Ok(None) => no_domain(),
        Err(e) => oauth_error(&e.into()),
    }
}

/// `POST /domains/{domain}/oauth2/token`.
pub async fn token_by_path(
    State(svc): State<Arc<UserPools>>,
    Path(domain): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match svc.describe_user_pool_domain(&domain).await {
        Ok(Some(d)) => token(&svc, &d.pool_id, &headers, &body).await,
        Ok(None) => no_domain(),
        Err(e) => oauth_error(&e.into()),
    }
}

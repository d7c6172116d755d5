//! The OpenID side of a pool: its JWKS and discovery document (under
//! `/{pool_id}/.well-known/`), and everything its domain serves: the hosted
//! UI pages (`pages.rs`, templates in `templates/`), `/oauth2/authorize`,
//! the token, userInfo and revoke endpoints (`token.rs`), the branding
//! assets (`assets.rs`), and the page of risk notifications' one-click
//! links (`risk_feedback.rs`, at the server's root).

mod assets;
pub mod federation;
mod pages;
mod risk_feedback;
mod templates;
mod token;
mod web;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use cognate_core::UserPools;
use serde_json::json;

/// What a domain serves, under its base (`/` by host name, or `/domains/<domain>`).
fn domain_routes() -> Router<Arc<UserPools>> {
    Router::new()
        .route("/oauth2/authorize", get(pages::authorize))
        .route(
            "/oauth2/idpresponse",
            get(federation::idp_response).post(federation::idp_response_post),
        )
        .route("/saml2/idpresponse", post(federation::saml_response))
        .route(
            "/saml2/logout",
            get(federation::saml_logout).post(federation::saml_logout),
        )
        .route(
            "/oauth2/token",
            post(token::token_endpoint).options(token::preflight),
        )
        .route(
            "/oauth2/userInfo",
            get(token::user_info_endpoint)
                .post(token::user_info_endpoint)
                .options(token::preflight),
        )
        .route(
            "/oauth2/revoke",
            post(token::revoke_endpoint).options(token::preflight),
        )
        .route("/login", get(pages::login_get).post(pages::login_post))
        .route("/login/newPassword", post(pages::new_password_post))
        .route("/login/totp", post(pages::totp_post))
        .route("/login/mfaSetup", post(pages::mfa_setup_post))
        .route("/login/code", post(pages::code_post))
        .route("/login/otp", post(pages::otp_post))
        .route("/login/passkey", post(pages::passkey_post))
        .route("/login/selectMfa", post(pages::select_mfa_post))
        .route("/signup", get(pages::signup_get).post(pages::signup_post))
        .route(
            "/confirm",
            get(pages::confirm_get).post(pages::confirm_post),
        )
        .route("/confirm/resend", post(pages::confirm_resend_post))
        .route(
            "/forgotPassword",
            get(pages::forgot_get).post(pages::forgot_post),
        )
        .route(
            "/confirmForgotPassword",
            get(pages::confirm_forgot_get).post(pages::confirm_forgot_post),
        )
        .route("/logout", get(pages::logout))
        .route("/error", get(pages::error_get))
}

/// Routes under `/{pool_id}/.well-known/`, the branding assets, and a
/// domain's endpoints and pages, served by host name (`<prefix>.<any
/// host>` or the exact custom domain) and under the path prefix
/// `/domains/<domain>/`.
pub fn router(service: Arc<UserPools>) -> Router {
    Router::new()
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
        .route(
            "/{pool_id}/.well-known/openid-configuration",
            get(discovery),
        )
        .route(
            "/risk-feedback",
            get(risk_feedback::get).post(risk_feedback::post),
        )
        .merge(assets::routes())
        .nest("/domains/{domain}", domain_routes())
        .merge(domain_routes())
        .with_state(service)
}

/// The base URL of a domain's endpoints under the path prefix.
fn domain_base(svc: &UserPools, domain: &str) -> String {
    format!("{}/domains/{domain}", svc.config().public_url)
}

fn json_response(status: StatusCode, body: serde_json::Value, cache: bool) -> Response {
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    if cache {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
    }
    r
}

fn error_response(pool_id: &str, e: &cognate_core::Error) -> Response {
    if e.kind == cognate_core::ErrorKind::ResourceNotFound {
        json_response(
            StatusCode::NOT_FOUND,
            json!({"message": format!("User pool {pool_id} does not exist.")}),
            false,
        )
    } else {
        json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": "Internal server error."}),
            false,
        )
    }
}

async fn jwks(State(svc): State<Arc<UserPools>>, Path(pool_id): Path<String>) -> Response {
    match svc.jwks(&pool_id).await {
        Ok(keys) => json_response(StatusCode::OK, json!({"keys": keys}), true),
        Err(e) => error_response(&pool_id, &e),
    }
}

async fn discovery(State(svc): State<Arc<UserPools>>, Path(pool_id): Path<String>) -> Response {
    if let Err(e) = svc.describe_user_pool(&pool_id).await {
        return error_response(&pool_id, &e);
    }
    let issuer = svc.issuer(&pool_id);
    let domain = match svc.domain_of_pool(&pool_id).await {
        Ok(d) => d,
        Err(e) => return error_response(&pool_id, &e),
    };
    // The members Cognito serves, and no others.
    let mut doc = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "authorization_endpoint": issuer,
        "response_types_supported": ["code", "token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    });
    if let (Some(d), Some(obj)) = (domain, doc.as_object_mut()) {
        let base = domain_base(&svc, &d.domain);
        for (key, path) in [
            ("authorization_endpoint", "/oauth2/authorize"),
            ("token_endpoint", "/oauth2/token"),
            ("userinfo_endpoint", "/oauth2/userInfo"),
            ("revocation_endpoint", "/oauth2/revoke"),
            ("end_session_endpoint", "/logout"),
        ] {
            obj.insert(key.into(), json!(format!("{base}{path}")));
        }
    }
    json_response(StatusCode::OK, doc, true)
}

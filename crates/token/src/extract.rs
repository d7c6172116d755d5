//! axum extractors for backends that validate tokens themselves:
//! `OptionalAuth` (a missing or bad token means an anonymous caller) and
//! `StrictAuth` (a missing or bad token answers 401 as
//! `application/problem+json`, a valid token lacking scope or group 403).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::response::{IntoResponse, Response};
use http::header::{HeaderName, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::claims::Claims;
use crate::outcome::Rejection;
use crate::verifier::{Policy, Verifier};

/// The token in a header value: the raw token or `Bearer <token>` (the
/// scheme in any case). `None` when empty.
pub fn token_from_header_value(value: &str) -> Option<&str> {
    let value = value.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

/// What the extractors need: a verifier, the header carrying the token and
/// the policy applied to every request. Put it (or something it can be had
/// from with `FromRef`) in the router's state.
#[derive(Clone)]
pub struct Auth {
    verifier: Arc<Verifier>,
    header: HeaderName,
    policy: Arc<Policy>,
}

impl Auth {
    /// Tokens in `Authorization`, any token_use, no scopes or groups required.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Auth {
            verifier,
            header: AUTHORIZATION,
            policy: Arc::new(Policy::default()),
        }
    }

    /// Reads the token from another header.
    pub fn with_header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }

    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    pub fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }

    /// Checks the token in `headers`.
    pub async fn check(&self, headers: &HeaderMap) -> Result<Arc<Claims>, Rejection> {
        let token = headers
            .get(&self.header)
            .map(|v| v.to_str().map_err(|_| Rejection::Malformed))
            .transpose()?
            .and_then(token_from_header_value)
            .ok_or(Rejection::Missing)?;
        self.verifier.authorize(token, &self.policy).await
    }
}

/// The caller's claims when a valid token was sent; otherwise anonymous,
/// with the reason (`Missing` when no token was sent).
#[derive(Clone, Debug)]
pub struct OptionalAuth {
    pub claims: Option<Arc<Claims>>,
    pub rejection: Option<Rejection>,
}

impl OptionalAuth {
    /// `sub` of the caller, if any.
    pub fn user_id(&self) -> Option<&str> {
        self.claims.as_deref().and_then(|c| c.sub.as_deref())
    }
}

impl<S> FromRequestParts<S> for OptionalAuth
where
    Auth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        Ok(match auth.check(&parts.headers).await {
            Ok(claims) => OptionalAuth {
                claims: Some(claims),
                rejection: None,
            },
            Err(r) => OptionalAuth {
                claims: None,
                rejection: Some(r),
            },
        })
    }
}

/// The caller's claims; any failure answers with `AuthError`.
#[derive(Clone, Debug)]
pub struct StrictAuth(pub Arc<Claims>);

impl StrictAuth {
    pub fn user_id(&self) -> Option<&str> {
        self.0.sub.as_deref()
    }
}

impl<S> FromRequestParts<S> for StrictAuth
where
    Auth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        auth.check(&parts.headers)
            .await
            .map(StrictAuth)
            .map_err(AuthError)
    }
}

/// A refused token as an RFC 9457 problem: 401 Unauthorized, or 403
/// Forbidden for a missing scope or group, or 503 when keys are unavailable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthError(pub Rejection);

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, title) = if self.0 == Rejection::KeysUnavailable {
            (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
        } else if self.0.is_forbidden() {
            (StatusCode::FORBIDDEN, "Forbidden")
        } else {
            (StatusCode::UNAUTHORIZED, "Unauthorized")
        };
        let body = serde_json::json!({
            "type": "about:blank",
            "title": title,
            "status": status.as_u16(),
            "detail": self.0.detail(),
        });
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.0 != Rejection::KeysUnavailable {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(self.0.www_authenticate()),
            );
        }
        response
    }
}

//! HTTP plumbing of the domain's endpoints: which pool a request is for
//! (its [`Site`]), cookies, forms, query strings, redirects and the
//! security headers of every page.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cognate_core::UserPools;
use serde_json::json;

/// Form bodies larger than this are refused before parsing.
pub(crate) const MAX_FORM: usize = 16 * 1024;

/// The pool domain a request is served for, found by the
/// `/domains/<domain>/` path prefix or by the `Host` header.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    pub pool_id: String,
    /// `""` when served by host name, `/domains/<domain>` under the prefix.
    pub base_path: String,
    /// Cookies get `Secure` (the public URL is https).
    pub secure: bool,
}

impl Site {
    /// An absolute path of the domain (`/login` → `/domains/d/login`).
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }

    /// The `Path` attribute of the domain's cookies.
    pub fn cookie_path(&self) -> &str {
        if self.base_path.is_empty() {
            "/"
        } else {
            &self.base_path
        }
    }
}

fn no_domain(json_body: bool) -> Response {
    if json_body {
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
    } else {
        crate::pages::error_page(StatusCode::NOT_FOUND, "No user pool domain is served here.")
    }
}

impl FromRequestParts<Arc<UserPools>> for Site {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        svc: &Arc<UserPools>,
    ) -> Result<Self, Self::Rejection> {
        let json_body = parts.uri.path().contains("/oauth2/");
        let secure = svc.config().public_url.starts_with("https://");
        let by_path = RawPathParams::from_request_parts(parts, svc)
            .await
            .ok()
            .and_then(|p| {
                p.iter()
                    .find(|(k, _)| *k == "domain")
                    .map(|(_, v)| v.to_owned())
            });
        let found = match &by_path {
            Some(domain) => svc.describe_user_pool_domain(domain).await,
            None => {
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                svc.domain_for_host(host).await
            }
        };
        match found {
            Ok(Some(d)) => Ok(Site {
                pool_id: d.pool_id,
                base_path: by_path.map(|d| format!("/domains/{d}")).unwrap_or_default(),
                secure,
            }),
            Ok(None) => Err(no_domain(json_body)),
            Err(e) => {
                tracing::error!(error = %e, "domain lookup failed");
                Err(crate::pages::error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An error was encountered with the requested page.",
                ))
            }
        }
    }
}

/// The value of a cookie of the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, on the domain's path;
/// `max_age` 0 deletes the cookie.
pub(crate) fn set_cookie(site: &Site, name: &str, value: &str, max_age: i64) -> String {
    format!(
        "{name}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        site.cookie_path(),
        if site.secure { "; Secure" } else { "" }
    )
}

/// Adds a `Set-Cookie` header.
pub(crate) fn add_cookie(response: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The pairs of a form body; `None` if it is too large or malformed.
pub(crate) fn form_pairs(body: &[u8]) -> Option<Vec<(String, String)>> {
    if body.len() > MAX_FORM {
        return None;
    }
    serde_urlencoded::from_bytes(body).ok()
}

/// The first value of a parameter.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The pairs of a query string.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .filter(|q| q.len() <= MAX_FORM)
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

/// `k=v&k=v`, form-encoded.
pub(crate) fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// `url` with `params` added to its query (`?` or `&`) or, for the
/// implicit grant, as its fragment.
pub(crate) fn with_params(url: &str, params: &[(&str, &str)], fragment: bool) -> String {
    let encoded = encode_pairs(params);
    if fragment {
        format!("{url}#{encoded}")
    } else if url.contains('?') {
        format!("{url}&{encoded}")
    } else {
        format!("{url}?{encoded}")
    }
}

/// A 302 to `location`, not cached.
pub(crate) fn redirect(location: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    let h = r.headers_mut();
    match HeaderValue::from_str(location) {
        Ok(v) => {
            h.insert(header::LOCATION, v);
        }
        Err(_) => {
            return crate::pages::error_page(
                StatusCode::BAD_REQUEST,
                "The redirect URL is not valid.",
            )
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

/// An HTML page with the headers every page carries: not cached, not
/// framed, no referrer (the query holds the authorization request).
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "frame-ancestors 'none'; script-src 'none'; object-src 'none'; base-uri 'none'",
        ),
    );
    r
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

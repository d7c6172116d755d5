//! Per-client branding of the hosted UI (Cognito's UI customization):
//! `GET /ui-assets/{pool_id}/{client_id}/style.css` and `.../logo` (the
//! `ImageUrl` of GetUICustomization), and the URLs the pages link. A
//! client's own customization wins over the pool's (`ALL`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cognate_core::model::UiCustomization;
use cognate_core::UserPools;

/// The branding routes (outside any domain: `ImageUrl` points at them).
pub(crate) fn routes() -> Router<Arc<UserPools>> {
    Router::new()
        .route("/ui-assets/{pool_id}/{client_id}/style.css", get(style))
        .route("/ui-assets/{pool_id}/{client_id}/logo", get(logo))
}

async fn customization(svc: &UserPools, pool_id: &str, client_id: &str) -> Option<UiCustomization> {
    match svc.hosted_branding(pool_id, client_id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "reading the UI customization failed");
            None
        }
    }
}

/// The CSS and logo URLs of a client's pages, when it has them. The
/// modification time in the query lets browsers cache each version.
pub(crate) async fn branding_urls(
    svc: &UserPools,
    pool_id: &str,
    client_id: &str,
) -> (Option<String>, Option<String>) {
    let Some(c) = customization(svc, pool_id, client_id).await else {
        return (None, None);
    };
    let base = format!(
        "{}/ui-assets/{pool_id}/{client_id}",
        svc.config().public_url
    );
    let css = c
        .css
        .as_ref()
        .filter(|css| !css.is_empty())
        .map(|_| format!("{base}/style.css?v={}", c.modified));
    let logo = c
        .image
        .as_ref()
        .filter(|i| !i.is_empty())
        .map(|_| format!("{base}/logo?v={}", c.modified));
    (css, logo)
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Not found",
    )
        .into_response()
}

fn asset(content_type: &'static str, body: Vec<u8>, modified: i64) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // An SVG logo opened on its own runs no script and loads nothing.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{modified}\"")) {
        h.insert(header::ETAG, etag);
    }
    r
}

/// The type of a logo from its first bytes: PNG or JPEG (classic
/// customization), also WEBP or SVG (managed login branding assets).
fn image_type(bytes: &[u8]) -> &'static str {
    let text_start = bytes.trim_ascii_start();
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if text_start.starts_with(b"<svg") || text_start.starts_with(b"<?xml") {
        "image/svg+xml"
    } else {
        "application/octet-stream"
    }
}

async fn style(
    State(svc): State<Arc<UserPools>>,
    Path((pool_id, client_id)): Path<(String, String)>,
) -> Response {
    match customization(&svc, &pool_id, &client_id)
        .await
        .and_then(|c| {
            c.css
                .filter(|css| !css.is_empty())
                .map(|css| (css, c.modified))
        }) {
        Some((css, modified)) => asset(
            "text/css; charset=utf-8",
            cognate_core::service::ui_css::served(&css).into_bytes(),
            modified,
        ),
        None => not_found(),
    }
}

async fn logo(
    State(svc): State<Arc<UserPools>>,
    Path((pool_id, client_id)): Path<(String, String)>,
) -> Response {
    match customization(&svc, &pool_id, &client_id)
        .await
        .and_then(|c| c.image.filter(|i| !i.is_empty()).map(|i| (i, c.modified)))
    {
        Some((image, modified)) => asset(image_type(&image), image, modified),
        None => not_found(),
    }
}

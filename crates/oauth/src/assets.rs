//! Per-client branding of the hosted UI (Cognito's UI customization):
//! `GET /ui-assets/{pool_id}/{client_id}/style.css` and `.../logo`, and
//! the URLs the pages link.

use cognate_core::UserPools;

/// The CSS and logo URLs of a client's pages, when it has them.
pub(crate) async fn branding_urls(
    _svc: &UserPools,
    _pool_id: &str,
    _client_id: &str,
) -> (Option<String>, Option<String>) {
    (None, None)
}

/// The branding routes (outside any domain: `ImageUrl` points at them).
pub(crate) fn routes() -> axum::Router<std::sync::Arc<UserPools>> {
    axum::Router::new()
}

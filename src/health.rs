//! `GET /health` (the process answers) and `GET /ready` (the store answers
//! too), for load balancers and orchestrators. One path segment each, so no
//! pool id (`/{pool_id}/.well-known/...`), domain (`/domains/{domain}/...`)
//! or hosted-UI page can take their place, whatever the `Host`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cognate_core::UserPools;

/// How long `/ready` waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// No pool has this id (ids are `<region>_<letters and digits>`).
const PROBE_POOL: &str = "-ready-probe-";

pub fn routes(service: Arc<UserPools>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(service)
}

fn status(code: StatusCode, status: &str) -> Response {
    let mut r = (code, format!(r#"{{"status":"{status}"}}"#)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn health() -> Response {
    status(StatusCode::OK, "ok")
}

/// One indexed read of the store (a pool that does not exist).
async fn ready(State(service): State<Arc<UserPools>>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, service.store().get_pool(PROBE_POOL)).await {
        Ok(Ok(_)) => status(StatusCode::OK, "ok"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the store failed");
            status(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = READY_TIMEOUT.as_millis() as u64,
                "readiness: the store did not answer in time"
            );
            status(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}

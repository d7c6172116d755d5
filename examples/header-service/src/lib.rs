//! The seeds' header microfrontend: it validates the caller's token itself
//! (with `cognate-token`'s `OptionalAuth`) and answers a logged-in header
//! with the user's name, or the anonymous header when the token is missing,
//! invalid or expired. Refused tokens are counted by reason and exposed at
//! `GET /metrics`: the health signal the seed asks for.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use cognate_token::{Auth, OptionalAuth, Rejection, Verifier};
use serde_json::json;

#[derive(Clone)]
pub struct AppState {
    auth: Auth,
    counts: Arc<Counts>,
}

impl FromRef<AppState> for Auth {
    fn from_ref(s: &AppState) -> Auth {
        s.auth.clone()
    }
}

/// Refused tokens by reason (`Missing` is an anonymous visitor, not a fault,
/// and is counted apart).
#[derive(Default)]
pub struct Counts {
    anonymous: AtomicU64,
    logged_in: AtomicU64,
    rejected: [AtomicU64; Rejection::ALL.len()],
}

impl Counts {
    fn record(&self, auth: &OptionalAuth) {
        match auth.rejection {
            None => self.logged_in.fetch_add(1, Ordering::Relaxed),
            Some(Rejection::Missing) => self.anonymous.fetch_add(1, Ordering::Relaxed),
            Some(r) => {
                let i = Rejection::ALL.iter().position(|x| *x == r).unwrap_or(0);
                self.rejected[i].fetch_add(1, Ordering::Relaxed)
            }
        };
    }

    /// Refused tokens (not counting missing ones).
    pub fn rejected(&self, reason: Rejection) -> u64 {
        Rejection::ALL
            .iter()
            .position(|x| *x == reason)
            .map_or(0, |i| self.rejected[i].load(Ordering::Relaxed))
    }
}

pub fn app(verifier: Arc<Verifier>) -> Router {
    let state = AppState {
        auth: Auth::new(verifier),
        counts: Arc::new(Counts::default()),
    };
    Router::new()
        .route("/header", get(header))
        .route("/metrics", get(metrics))
        .route("/stats", get(stats))
        .with_state(state)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn header(State(state): State<AppState>, auth: OptionalAuth) -> impl IntoResponse {
    state.counts.record(&auth);
    match &auth.claims {
        Some(claims) => {
            let name = claims
                .get_str("name")
                .or_else(|| claims.get_str("given_name"))
                .or_else(|| claims.username())
                .unwrap_or("there")
                .to_owned();
            Json(json!({
                "state": "logged_in",
                "user": name,
                "html": format!("<header><span>Hello, {}</span> <a href=\"/logout\">Log out</a></header>", escape(&name)),
            }))
        }
        None => Json(json!({
            "state": "anonymous",
            "html": "<header><a href=\"/login\">Log in</a> <a href=\"/signup\">Sign up</a></header>",
        })),
    }
}

/// Prometheus text: header requests by state and refused tokens by reason.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let c = &state.counts;
    let mut out = String::from(
        "# HELP header_service_requests_total Header requests by state.\n# TYPE header_service_requests_total counter\n",
    );
    out.push_str(&format!(
        "header_service_requests_total{{state=\"logged_in\"}} {}\nheader_service_requests_total{{state=\"anonymous\"}} {}\n",
        c.logged_in.load(Ordering::Relaxed),
        c.anonymous.load(Ordering::Relaxed)
    ));
    out.push_str("# HELP header_service_rejected_tokens_total Tokens refused (the caller got the anonymous header), by reason.\n# TYPE header_service_rejected_tokens_total counter\n");
    for r in Rejection::ALL.iter().filter(|r| **r != Rejection::Missing) {
        out.push_str(&format!(
            "header_service_rejected_tokens_total{{reason=\"{}\"}} {}\n",
            r.reason(),
            c.rejected(*r)
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], out)
}

/// The same counts as JSON: `{"expired": n, "invalid": n, ...}`.
async fn stats(State(state): State<AppState>) -> impl IntoResponse {
    let c = &state.counts;
    let invalid: u64 = Rejection::ALL
        .iter()
        .filter(|r| !matches!(r, Rejection::Missing | Rejection::Expired))
        .map(|r| c.rejected(*r))
        .sum();
    Json(json!({
        "loggedIn": c.logged_in.load(Ordering::Relaxed),
        "anonymous": c.anonymous.load(Ordering::Relaxed),
        "expired": c.rejected(Rejection::Expired),
        "invalid": invalid,
    }))
}

//! The seeds' public / optional / strict handlers: one handler answering
//! `{"userId": <sub>}` or `{"userId": "N/A"}`, wrapped three ways with
//! `cognate-token`'s extractors. `/strict` without a valid token answers
//! 401 `application/problem+json`.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use cognate_token::{Auth, OptionalAuth, StrictAuth, Verifier};
use serde_json::{json, Value};

fn answer(user_id: Option<&str>) -> Json<Value> {
    Json(json!({ "userId": user_id.unwrap_or("N/A") }))
}

pub fn app(verifier: Arc<Verifier>) -> Router {
    Router::new()
        .route("/public", get(|| async { answer(None) }))
        .route(
            "/optional",
            get(|auth: OptionalAuth| async move { answer(auth.user_id()) }),
        )
        .route(
            "/strict",
            get(|auth: StrictAuth| async move { answer(auth.user_id()) }),
        )
        .with_state(Auth::new(verifier))
}

//! The seeds' TODO API behind the gateway: `GET /tasks` and `POST /tasks`,
//! tasks kept per user. It trusts the gateway's Cognito authorizer: the
//! caller is the `x-cognate-claim-sub` header, which the gateway sets from
//! a verified token after stripping any the client sent. Run it where only
//! the gateway can reach it (it binds to loopback by default).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The header the gateway sets to the caller's `sub`.
pub const SUB_HEADER: &str = "x-cognate-claim-sub";

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: u64,
    pub title: String,
    pub done: bool,
}

#[derive(Deserialize)]
pub struct NewTask {
    pub title: String,
    #[serde(default)]
    pub done: bool,
}

#[derive(Default)]
pub struct Tasks {
    next_id: u64,
    by_user: HashMap<String, Vec<Task>>,
}

pub type AppState = Arc<Mutex<Tasks>>;

pub fn app() -> Router {
    Router::new()
        .route("/tasks", get(list).post(create))
        .with_state(AppState::default())
}

fn caller(headers: &HeaderMap) -> Option<String> {
    headers
        .get(SUB_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "Unauthorized"})),
    )
        .into_response()
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(user) = caller(&headers) else {
        return unauthorized();
    };
    let tasks = state
        .lock()
        .map(|t| t.by_user.get(&user).cloned().unwrap_or_default())
        .unwrap_or_default();
    Json(json!({ "tasks": tasks })).into_response()
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<NewTask>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Some(user) = caller(&headers) else {
        return unauthorized();
    };
    let Ok(Json(new)) = body else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "Expected a JSON body like {\"title\": \"...\"}"})),
        )
            .into_response();
    };
    let title = new.title.trim();
    if title.is_empty() || title.len() > 500 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "title must be 1 to 500 characters"})),
        )
            .into_response();
    }
    let Ok(mut tasks) = state.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    tasks.next_id += 1;
    let task = Task {
        id: tasks.next_id,
        title: title.to_owned(),
        done: new.done,
    };
    tasks.by_user.entry(user).or_default().push(task.clone());
    (StatusCode::CREATED, Json(task)).into_response()
}

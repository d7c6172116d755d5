//! A fake Lambda service for the trigger tests: a small HTTP server on
//! 127.0.0.1 that speaks the Lambda Invoke API (`POST
//! /2015-03-31/functions/{function}/invocations`, errors with
//! `X-Amz-Function-Error`) and, for the config file's plain-URL map, takes
//! the event at `/hook/{function}`. It records every event it is sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{json, Value};

/// What the fake function does with one event.
#[derive(Clone)]
pub enum Answer {
    /// Answer the event with this `response`.
    Respond(Value),
    /// Fail (`X-Amz-Function-Error: Unhandled`) with this errorMessage.
    Fail(String),
    /// Answer after this long.
    Slow(Duration, Value),
    /// Answer this text (not a Lambda answer).
    Raw(String),
}

type Behaviour = dyn Fn(&str, &Value) -> Answer + Send + Sync;

#[derive(Clone)]
struct FakeState {
    behaviour: Arc<Behaviour>,
    events: Arc<Mutex<Vec<(String, Value)>>>,
}

/// A fake Lambda service on its own thread and runtime.
pub struct FakeLambda {
    pub url: String,
    events: Arc<Mutex<Vec<(String, Value)>>>,
    server: super::background::Background,
}

async fn invoke(
    State(state): State<FakeState>,
    Path(function): Path<String>,
    body: String,
) -> axum::response::Response {
    let event: Value = serde_json::from_str(&body).expect("event is JSON");
    state
        .events
        .lock()
        .unwrap()
        .push((function.clone(), event.clone()));
    let answer = (state.behaviour)(&function, &event);
    let reply = |response: Value| {
        let mut e = event.clone();
        e["response"] = response;
        (StatusCode::OK, e.to_string()).into_response()
    };
    match answer {
        Answer::Respond(r) => reply(r),
        Answer::Slow(d, r) => {
            tokio::time::sleep(d).await;
            reply(r)
        }
        Answer::Fail(message) => {
            let mut headers = HeaderMap::new();
            headers.insert("x-amz-function-error", "Unhandled".parse().unwrap());
            (
                StatusCode::OK,
                headers,
                json!({"errorMessage": message, "errorType": "Error"}).to_string(),
            )
                .into_response()
        }
        Answer::Raw(text) => (StatusCode::OK, text).into_response(),
    }
}

impl FakeLambda {
    pub fn start(behaviour: impl Fn(&str, &Value) -> Answer + Send + Sync + 'static) -> Self {
        let events = Arc::new(Mutex::new(Vec::new()));
        let state = FakeState {
            behaviour: Arc::new(behaviour),
            events: events.clone(),
        };
        let app = axum::Router::new()
            .route("/2015-03-31/functions/{function}/invocations", post(invoke))
            .route("/hook/{function}", post(invoke))
            .with_state(state);
        let server = super::background::Background::serve(app);
        FakeLambda {
            url: server.url.clone(),
            events,
            server,
        }
    }

    /// Every event received so far, with the function it was sent to.
    pub fn events(&self) -> Vec<(String, Value)> {
        self.events.lock().unwrap().clone()
    }

    /// Events of one triggerSource.
    pub fn events_of(&self, source: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|(_, e)| e["triggerSource"] == source)
            .map(|(_, e)| e)
            .collect()
    }

    /// Stops serving (connections are refused from now on).
    pub fn stop(&mut self) {
        self.server.stop();
    }
}

pub const ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

pub fn arn(name: &str) -> String {
    format!("{ARN_PREFIX}{name}")
}

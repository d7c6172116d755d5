//! The page behind the one-click links of threat protection's risk
//! notifications (`{one-click-link-valid}` and `{one-click-link-invalid}`):
//! `GET /risk-feedback` asks the user to confirm, and the form's `POST`
//! records the feedback on the auth event, as UpdateAuthEventFeedback
//! does with the same FeedbackToken. The change waits for the button, so
//! a mail scanner that follows links records nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use cognate_core::UserPools;
use minijinja::context;

use crate::pages::error_page;
use crate::web::{form_pairs, html, param, query_pairs};

/// The members a link carries.
struct Feedback {
    pool: String,
    username: String,
    event: String,
    value: String,
    token: String,
}

impl Feedback {
    fn from_pairs(pairs: &[(String, String)]) -> Option<Feedback> {
        let get = |name: &str| {
            param(pairs, name)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let value = match get("value")?.to_ascii_lowercase().as_str() {
            "valid" => "Valid",
            "invalid" => "Invalid",
            _ => return None,
        };
        Some(Feedback {
            pool: get("pool")?,
            username: get("username")?,
            event: get("event")?,
            value: value.to_owned(),
            token: get("token")?,
        })
    }
}

fn page(feedback: &Feedback, done: Option<&str>) -> Response {
    match crate::templates::render(
        "feedback.html",
        context! {
            title => "Was this you?",
            action => "/risk-feedback",
            pool => &feedback.pool, username => &feedback.username,
            event => &feedback.event, value => &feedback.value,
            token => &feedback.token, valid => feedback.value == "Valid",
            done => done,
        },
    ) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => {
            tracing::error!(error = %e, "rendering the feedback page failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An error was encountered with the requested page.",
            )
        }
    }
}

fn bad_link() -> Response {
    error_page(StatusCode::BAD_REQUEST, "This link is not valid.")
}

/// `GET /risk-feedback`: the confirmation page.
pub(crate) async fn get(RawQuery(query): RawQuery) -> Response {
    match Feedback::from_pairs(&query_pairs(query.as_deref())) {
        Some(feedback) => page(&feedback, None),
        None => bad_link(),
    }
}

/// `POST /risk-feedback`: records the feedback.
pub(crate) async fn post(State(svc): State<Arc<UserPools>>, body: Bytes) -> Response {
    let Some(feedback) = form_pairs(&body).as_deref().and_then(Feedback::from_pairs) else {
        return bad_link();
    };
    match svc
        .update_auth_event_feedback(
            &feedback.pool,
            &feedback.username,
            &feedback.event,
            &feedback.token,
            &feedback.value,
        )
        .await
    {
        Ok(()) => page(&feedback, Some("Thank you: your answer is recorded.")),
        Err(e) if e.kind == cognate_core::ErrorKind::Internal => {
            tracing::error!(error = %e, "recording risk feedback failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An error was encountered with the requested page.",
            )
        }
        // A wrong token, an unknown user or event, a pool without threat
        // protection: one answer, which tells nothing of which.
        Err(_) => bad_link(),
    }
}

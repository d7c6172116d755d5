//! The dashboard: the process-wide counters of `cognate_core::counters`
//! since this instance started: sign-ins by outcome and failure reason,
//! access-token checks by outcome, and every other audit event. The
//! counters span all pools, so a pool-limited key is shown none of them.

use axum::response::Response;
use axum::routing::get;
use axum::Router;
use cognate_aws_json::sigv4::Grant;
use cognate_core::counters;
use minijinja::context;
use serde_json::json;

use crate::{js, Auth, Shared};

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/console/dashboard", get(page))
}

async fn page(auth: Auth) -> Response {
    if matches!(auth.session.grant, Grant::Pools { .. }) {
        return auth.page(
            "dashboard.html",
            context! { title => "Dashboard", limited_view => true },
        );
    }
    let all = counters::snapshot();
    let sum = |pred: &dyn Fn(&counters::Count) -> bool| -> u64 {
        all.iter().filter(|c| pred(c)).map(|c| c.count).sum()
    };
    let sign_ins_ok = sum(&|c| c.kind == "event" && c.name == "sign_in" && c.outcome == "success");
    let sign_ins_failed =
        sum(&|c| c.kind == "event" && c.name == "sign_in" && c.outcome != "success");
    let tokens_ok = sum(&|c| c.kind == "token" && c.outcome == "valid");
    let tokens_refused = sum(&|c| c.kind == "token" && c.outcome != "valid");
    let row = |c: &counters::Count| {
        json!({
            "id": format!("{}-{}-{}", c.kind, c.name, c.outcome),
            "name": c.name,
            "outcome": c.outcome,
            "ok": c.outcome == "success" || c.outcome == "valid",
            "count": c.count,
        })
    };
    let sign_ins: Vec<_> = all
        .iter()
        .filter(|c| c.kind == "event" && (c.name == "sign_in" || c.name == "lockout"))
        .map(row)
        .collect();
    let tokens: Vec<_> = all.iter().filter(|c| c.kind == "token").map(row).collect();
    let events: Vec<_> = all
        .iter()
        .filter(|c| c.kind == "event" && c.name != "sign_in" && c.name != "lockout")
        .map(row)
        .collect();
    auth.page(
        "dashboard.html",
        context! {
            title => "Dashboard",
            since => crate::date(&json!(auth.console.started / 1000)),
            sign_ins_ok => sign_ins_ok, sign_ins_failed => sign_ins_failed,
            tokens_ok => tokens_ok, tokens_refused => tokens_refused,
            sign_ins => js(sign_ins), tokens => js(tokens), events => js(events),
        },
    )
}

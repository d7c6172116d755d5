//! The gateway page: the APIs, stages, routes and authorizers of the config
//! file, read-only, each route with its URL. The binary describes them
//! ([`GatewayRoute`]) when it starts the gateway; the console never reads
//! the config itself. A pool-limited key sees only the routes whose Cognito
//! authorizer names one of its pools.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use cognate_aws_json::sigv4::Grant;
use minijinja::context;
use serde::Serialize;

use crate::{Auth, Shared};

/// One route of the gateway as the console shows it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GatewayRoute {
    pub api: String,
    /// The stage prefix (`dev`), if the API has one.
    pub stage: Option<String>,
    /// `GET`, `POST`, ... or `ANY`.
    pub method: String,
    /// The route's path template (`/items/{id}`), without the stage.
    pub path: String,
    /// The URL clients call: the gateway's address, the stage, the path.
    pub url: String,
    /// `none`, `optional` or `required`.
    pub auth: String,
    /// The authorizer's name and kind (`cognito` / `jwt`), when one is named.
    pub authorizer: Option<String>,
    /// The local pools (Cognito authorizer) or the issuer (JWT authorizer).
    pub issuers: Vec<String>,
    pub scopes: Vec<String>,
    pub groups: Vec<String>,
    /// Where requests go (`http://…`), or `mock`.
    pub integration: String,
}

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/console/gateway", get(page))
}

async fn page(State(console): State<Shared>, auth: Auth) -> Response {
    let visible: Vec<&GatewayRoute> = match &auth.session.grant {
        Grant::Pools { pools, .. } => console
            .gateway
            .iter()
            .filter(|r| r.issuers.iter().any(|p| pools.iter().any(|q| q == p)))
            .collect(),
        _ => console.gateway.iter().collect(),
    };
    auth.page(
        "gateway.html",
        context! {
            title => "API gateway",
            routes => crate::js(&visible),
            configured => !console.gateway.is_empty(),
        },
    )
}

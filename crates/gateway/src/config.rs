//! The `gateway:` section of the config file, as parsed (stage one). Any
//! unknown key is refused; `Gateway::build` validates the rest (paths,
//! methods, authorizer names, URLs) before anything listens.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use cognate_token::{ScopeMatch, TokenUse};
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Where the gateway listens (default `127.0.0.1:9230`; the
    /// `--gateway-listen` flag overrides it).
    pub listen: Option<SocketAddr>,
    /// Worker threads, each with its own listening socket and upstream
    /// connections (default: one per core).
    pub workers: Option<usize>,
    /// Path of the Prometheus metrics (default `/metrics`).
    pub metrics_path: Option<String>,
    /// Verified tokens kept per authorizer (default 10 000).
    pub token_cache_size: Option<usize>,
    /// Open client connections at most (default 10 000), split evenly over
    /// the workers (at least one each); a full worker stops accepting and
    /// new connections wait in the listen backlog until one closes.
    pub max_connections: Option<usize>,
    /// How long a client may take to send a request's headers, and how long
    /// a kept-alive connection may stay idle (default 30 000 ms, at most
    /// an hour).
    pub header_read_timeout_ms: Option<u64>,
    /// Most bytes of a request's line and headers (default 32 768, from
    /// 1 024 to 1 048 576); more answers `431`, as do more than 100 headers.
    pub max_header_bytes: Option<usize>,
    #[serde(default)]
    pub apis: Vec<ApiConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// A label in metrics and logs.
    pub name: String,
    /// When set, every route of the API is served under `/<stage>` (like an
    /// API Gateway stage URL); the prefix is removed before proxying.
    pub stage: Option<String>,
    pub cors: Option<CorsConfig>,
    #[serde(default)]
    pub authorizers: BTreeMap<String, AuthorizerConfig>,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Allowed origins, or `["*"]`.
    #[serde(default)]
    pub allow_origins: Vec<String>,
    #[serde(default)]
    pub allow_methods: Vec<String>,
    #[serde(default)]
    pub allow_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
    #[serde(default)]
    pub allow_credentials: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthorizerConfig {
    /// Local cognate pools: issuer `<public-url>/<pool>`, keys in-process.
    Cognito {
        pools: Vec<String>,
        /// Allowed app clients (`aud` / `client_id`); empty allows any.
        #[serde(default)]
        clients: Vec<String>,
        /// The header carrying the token (default `Authorization`).
        header: Option<String>,
    },
    /// Any issuer by URL (real Cognito, any OIDC provider); keys fetched
    /// over HTTP from `jwks_uri`, or from discovery when not given.
    Jwt {
        issuer: String,
        #[serde(default)]
        audience: Vec<String>,
        jwks_uri: Option<String>,
        header: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// No token is looked at.
    #[default]
    None,
    /// A valid token adds the caller's claims; a missing or bad one passes
    /// as anonymous.
    Optional,
    /// A valid token is needed: 401 without, 403 without scope or group.
    Required,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// `GET`, `POST`, ... or `ANY`.
    pub method: String,
    /// `/tasks`, `/items/{id}`, `/{proxy+}` (greedy, last segment only).
    pub path: String,
    /// Defaults to `required` when an authorizer is named, else `none`.
    pub auth: Option<AuthMode>,
    pub authorizer: Option<String>,
    /// Defaults: for a `cognito` authorizer `id` without scopes and `access`
    /// with scopes (API Gateway's Cognito authorizer); `any` for `jwt`.
    pub token_use: Option<TokenUse>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub scope_match: ScopeMatch,
    /// The user must be in one of these groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Pass the token header on to the backend (default true).
    pub forward_authorization: Option<bool>,
    /// Which verified claims reach the backend as `x-cognate-claim-<name>`
    /// headers: `all` (the default), `none`, or a list of claim names
    /// (like API Gateway's parameter mapping of
    /// `$context.authorizer.claims.<name>`).
    pub claim_headers: Option<ClaimHeadersConfig>,
    /// Whether all verified claims also reach the backend as one JSON
    /// object in `x-cognate-claims` (default true).
    pub claims_json: Option<bool>,
    pub integration: IntegrationConfig,
}

/// A route's `claim_headers`: `all`, `none` or a list of claim names.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged, expecting = "`all`, `none` or a list of claim names")]
pub enum ClaimHeadersConfig {
    Every(AllOrNone),
    Names(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllOrNone {
    All,
    None,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum IntegrationConfig {
    /// Reverse proxy to `url` (http://host:port[/base]); the request path
    /// (without the stage) is appended.
    Http {
        url: String,
        /// Time to the upstream's response headers (default 29 000 ms, API
        /// Gateway's limit).
        timeout_ms: Option<u64>,
    },
    /// A fixed answer.
    Mock {
        #[serde(default = "default_status")]
        status: u16,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// A string is sent as is; any other JSON value is serialised.
        body: Option<serde_json::Value>,
    },
}

fn default_status() -> u16 {
    200
}

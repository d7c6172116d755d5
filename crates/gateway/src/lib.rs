//! cognate's API gateway: routes of one or more APIs (with stages) matched
//! by method and path template, per-route Cognito/JWT authorizers built on
//! `cognate-token`, verified claims forwarded as headers that are first
//! stripped from the request, `http` (reverse proxy) and `mock`
//! integrations, CORS per API, and Prometheus metrics.

pub mod config;
mod cors;
pub mod metrics;
mod path;
mod proxy;
mod serve;

pub use crate::serve::{spawn, Running};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cognate_token::{
    token_from_header_value, Claims, HttpJwks, IssuerConfig, JwksSource, Policy, Rejection,
    Revocation, TokenMemo, TokenUse, Verifier,
};
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;

pub use crate::config::{
    AllOrNone, AuthMode, AuthorizerConfig, ClaimHeadersConfig, GatewayConfig, IntegrationConfig,
};
use crate::cors::Cors;
use crate::metrics::{Metrics, RouteMetrics};
use crate::path::BadPath;
use crate::proxy::{Affinity, ProxyError, Upstream};

/// A response body: the upstream's, streamed, or one made here.
pub type Body = Either<Incoming, Full<Bytes>>;

fn full(body: impl Into<Bytes>) -> Body {
    Either::Right(Full::new(body.into()))
}

/// Default listen address of the gateway.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9230";

/// Most worker threads `gateway.workers` may ask for (each has a thread,
/// a runtime and a listening socket).
pub const MAX_WORKERS: usize = 256;

/// Default of `gateway.max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default of `gateway.header_read_timeout_ms`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of `gateway.max_header_bytes` (nginx's 4 × 8 KiB).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
/// Bounds of `gateway.header_read_timeout_ms` (at most an hour).
const HEADER_READ_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1..=3_600_000;
/// Bounds of `gateway.max_header_bytes`.
const MAX_HEADER_BYTES: std::ops::RangeInclusive<usize> = 1024..=1024 * 1024;

/// What the listener allows a client (from the `gateway:` config).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
}

/// Prefix of every header the gateway sets for the backend; incoming
/// headers with it (also spelled with `_`) are removed first, so a caller
/// can never forge them.
pub const CLAIM_HEADER_PREFIX: &str = "x-cognate-";
/// One header per claim: `x-cognate-claim-<name>` (lower case; anything but
/// letters, digits and `-` becomes `-`: `cognito:username` → `cognito-username`).
pub const CLAIM_HEADER: &str = "x-cognate-claim-";
/// All claims as one JSON object.
pub const CLAIMS_JSON_HEADER: &str = "x-cognate-claims";

/// What the gateway needs from the local user pools: the issuer of a pool,
/// its keys (in-process) and, when core supports it, a revocation check.
pub trait LocalPools: Send + Sync + 'static {
    fn issuer(&self, pool_id: &str) -> String;
    fn jwks(&self, pool_id: &str) -> Arc<dyn JwksSource>;
    fn revocation(&self, pool_id: &str) -> Option<Arc<dyn Revocation>>;
}

struct Authorizer {
    name: String,
    verifier: Arc<Verifier>,
    header: HeaderName,
}

enum Integration {
    Http(Upstream),
    Mock {
        status: StatusCode,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Bytes,
    },
}

struct Route {
    api: usize,
    template: String,
    auth: AuthMode,
    authorizer: Option<Arc<Authorizer>>,
    policy: Policy,
    forward_authorization: bool,
    claim_headers: ClaimSelection,
    claims_json: bool,
    integration: Integration,
    metrics: RouteMetrics,
}

/// The `x-cognate-claim-*` headers a route sends to its backend.
enum ClaimSelection {
    All,
    None,
    /// These header names (made from the configured claim names).
    Names(Vec<HeaderName>),
}

struct Api {
    name: String,
    prefix: String,
    cors: Option<Cors>,
}

/// A path template's routes by method (`None` = ANY).
#[derive(Default)]
struct Methods {
    by_method: Vec<(Option<Method>, usize)>,
}

/// The built gateway: shared by all connections.
pub struct Gateway {
    apis: Vec<Api>,
    routes: Vec<Route>,
    matcher: matchit::Router<usize>,
    methods: Vec<(usize, Methods)>,
    metrics: Metrics,
    metrics_path: String,
    limits: Limits,
}

/// The error of a config that cannot be built, with the key path.
#[derive(Debug, PartialEq, Eq)]
pub struct BuildError(pub String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

fn header_name(name: Option<&str>, at: &str) -> Result<HeaderName, BuildError> {
    match name {
        None => Ok(header::AUTHORIZATION),
        Some(n) => HeaderName::from_bytes(n.as_bytes())
            .map_err(|_| BuildError(format!("{at}.header: invalid header name `{n}`"))),
    }
}

/// `/items/{id}` → matchit's `/items/{id}`; `/{proxy+}` → `/{*proxy}`; a
/// trailing slash is left out, as requests are matched without theirs
/// (`path::normalize`).
fn to_matchit(path: &str, at: &str) -> Result<String, BuildError> {
    let bad = |why: &str| BuildError(format!("{at}.path: `{path}` {why}"));
    if !path.starts_with('/') {
        return Err(bad("must start with /"));
    }
    let trimmed = match path.strip_suffix('/') {
        Some(rest) if !rest.is_empty() => rest,
        _ => path,
    };
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    let mut out = String::new();
    for (i, seg) in segments.iter().enumerate() {
        if matches!(*seg, "." | "..") || path.contains("//") {
            return Err(bad(
                "has an empty, `.` or `..` segment, which no request path can have",
            ));
        }
        out.push('/');
        if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let (name, greedy) = match inner.strip_suffix('+') {
                Some(n) => (n, true),
                None => (inner, false),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad("has an invalid parameter name"));
            }
            if greedy && i + 1 != segments.len() {
                return Err(bad("may only have a greedy {name+} as its last segment"));
            }
            out.push('{');
            if greedy {
                out.push('*');
            }
            out.push_str(name);
            out.push('}');
        } else if seg.contains(['{', '}', '*']) {
            return Err(bad(
                "has a segment with `{`, `}` or `*` that is not a parameter",
            ));
        } else {
            out.push_str(seg);
        }
    }
    Ok(out)
}

impl Gateway {
    /// Validates the config and builds the gateway; `local` resolves
    /// `cognito` authorizers (without it they are refused).
    pub fn build(
        config: &GatewayConfig,
        local: Option<Arc<dyn LocalPools>>,
    ) -> Result<Gateway, BuildError> {
        if config.workers.is_some_and(|n| n > MAX_WORKERS) {
            return Err(BuildError(format!(
                "gateway.workers: at most {MAX_WORKERS} (0 or unset: one per core)"
            )));
        }
        let limits = Limits {
            max_connections: match config.max_connections {
                None => DEFAULT_MAX_CONNECTIONS,
                Some(0) => return Err(BuildError("gateway.max_connections: at least 1".into())),
                Some(n) => n,
            },
            header_read_timeout: match config.header_read_timeout_ms {
                None => DEFAULT_HEADER_READ_TIMEOUT,
                Some(ms) if HEADER_READ_TIMEOUT_MS.contains(&ms) => Duration::from_millis(ms),
                Some(_) => {
                    return Err(BuildError(format!(
                        "gateway.header_read_timeout_ms: from {} to {}",
                        HEADER_READ_TIMEOUT_MS.start(),
                        HEADER_READ_TIMEOUT_MS.end()
                    )))
                }
            },
            max_header_bytes: match config.max_header_bytes {
                None => DEFAULT_MAX_HEADER_BYTES,
                Some(n) if MAX_HEADER_BYTES.contains(&n) => n,
                Some(_) => {
                    return Err(BuildError(format!(
                        "gateway.max_header_bytes: from {} to {}",
                        MAX_HEADER_BYTES.start(),
                        MAX_HEADER_BYTES.end()
                    )))
                }
            },
        };
        let metrics = Metrics::new().map_err(|e| BuildError(format!("metrics: {e}")))?;
        let metrics_path = config
            .metrics_path
            .clone()
            .unwrap_or_else(|| "/metrics".into());
        let cache = config
            .token_cache_size
            .unwrap_or(cognate_token::DEFAULT_CACHE_CAPACITY);
        let mut apis = Vec::new();
        let mut routes = Vec::new();
        let mut matcher = matchit::Router::new();
        let mut templates: HashMap<String, usize> = HashMap::new();
        let mut methods: Vec<(usize, Methods)> = Vec::new();
        for (a, api) in config.apis.iter().enumerate() {
            let at = format!("gateway.apis[{a}]");
            let prefix = match &api.stage {
                None => String::new(),
                Some(s)
                    if !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    format!("/{s}")
                }
                Some(s) => {
                    return Err(BuildError(format!(
                        "{at}.stage: `{s}` must be letters, digits, `_` or `-`"
                    )))
                }
            };
            let cors = api
                .cors
                .as_ref()
                .map(Cors::new)
                .transpose()
                .map_err(|e| BuildError(format!("{at}.cors: {e}")))?;
            let mut authorizers = HashMap::new();
            for (name, az) in &api.authorizers {
                let at = format!("{at}.authorizers.{name}");
                let (issuers, header) = match az {
                    AuthorizerConfig::Cognito {
                        pools,
                        clients,
                        header,
                    } => {
                        let local = local.as_ref().ok_or_else(|| {
                            BuildError(format!("{at}: cognito authorizers need the local pools"))
                        })?;
                        if pools.is_empty() {
                            return Err(BuildError(format!("{at}.pools: name at least one pool")));
                        }
                        let issuers = pools
                            .iter()
                            .map(|p| IssuerConfig {
                                issuer: local.issuer(p),
                                clients: clients.clone(),
                                keys: local.jwks(p),
                                revocation: local.revocation(p),
                            })
                            .collect::<Vec<_>>();
                        (issuers, header_name(header.as_deref(), &at)?)
                    }
                    AuthorizerConfig::Jwt {
                        issuer,
                        audience,
                        jwks_uri,
                        header,
                    } => {
                        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
                            return Err(BuildError(format!(
                                "{at}.issuer: `{issuer}` is not an http(s) URL"
                            )));
                        }
                        let keys: Arc<dyn JwksSource> = match jwks_uri {
                            Some(u) => Arc::new(HttpJwks::jwks_url(u)),
                            None => Arc::new(HttpJwks::discovery(issuer)),
                        };
                        let issuer = IssuerConfig {
                            issuer: issuer.trim_end_matches('/').to_owned(),
                            clients: audience.clone(),
                            keys,
                            revocation: None,
                        };
                        (vec![issuer], header_name(header.as_deref(), &at)?)
                    }
                };
                let mut builder = Verifier::builder().cache_capacity(cache);
                if matches!(az, AuthorizerConfig::Cognito { .. }) {
                    // Local pools share our clock: a token ends at its `exp`
                    // exactly, as at the user APIs (`cognate_core::verify`).
                    builder = builder.expiry_leeway_secs(0);
                }
                for i in issuers {
                    builder = builder.issuer(i);
                }
                authorizers.insert(
                    name.clone(),
                    (
                        Arc::new(Authorizer {
                            name: name.clone(),
                            verifier: Arc::new(builder.build()),
                            header,
                        }),
                        matches!(az, AuthorizerConfig::Cognito { .. }),
                    ),
                );
            }
            for (r, route) in api.routes.iter().enumerate() {
                let at = format!("{at}.routes[{r}]");
                let method = match route.method.to_ascii_uppercase().as_str() {
                    "ANY" => None,
                    m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => {
                        Method::from_bytes(m.as_bytes()).ok()
                    }
                    other => {
                        return Err(BuildError(format!(
                            "{at}.method: `{other}` is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY"
                        )))
                    }
                };
                let template = format!("{prefix}{}", route.path);
                let pattern = to_matchit(&template, &at)?;
                let (authorizer, cognito) = match &route.authorizer {
                    None => (None, false),
                    Some(name) => {
                        let (a, cognito) = authorizers.get(name).ok_or_else(|| {
                            BuildError(format!(
                                "{at}.authorizer: no authorizer `{name}` in this API"
                            ))
                        })?;
                        (Some(a.clone()), *cognito)
                    }
                };
                let auth = route.auth.unwrap_or(if authorizer.is_some() {
                    AuthMode::Required
                } else {
                    AuthMode::None
                });
                if auth != AuthMode::None && authorizer.is_none() {
                    return Err(BuildError(format!(
                        "{at}.authorizer: auth `{auth:?}` needs an authorizer"
                    )));
                }
                let token_use =
                    route
                        .token_use
                        .unwrap_or(match (cognito, route.scopes.is_empty()) {
                            (true, true) => TokenUse::Id,
                            (true, false) => TokenUse::Access,
                            (false, _) => TokenUse::Any,
                        });
                let integration = match &route.integration {
                    IntegrationConfig::Http { url, timeout_ms } => Integration::Http(
                        Upstream::parse(url, Duration::from_millis(timeout_ms.unwrap_or(29_000)))
                            .map_err(|e| BuildError(format!("{at}.integration: {e}")))?,
                    ),
                    IntegrationConfig::Mock {
                        status,
                        headers,
                        body,
                    } => {
                        let status = StatusCode::from_u16(*status).map_err(|_| {
                            BuildError(format!(
                                "{at}.integration.status: `{status}` is not an HTTP status"
                            ))
                        })?;
                        let mut hs = Vec::new();
                        for (k, v) in headers {
                            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                                BuildError(format!("{at}.integration.headers: invalid name `{k}`"))
                            })?;
                            let value = HeaderValue::from_str(v).map_err(|_| {
                                BuildError(format!("{at}.integration.headers.{k}: invalid value"))
                            })?;
                            hs.push((name, value));
                        }
                        let body = match body {
                            None => Vec::new(),
                            Some(serde_json::Value::String(s)) => s.clone().into_bytes(),
                            Some(v) => {
                                if !hs.iter().any(|(n, _)| n == header::CONTENT_TYPE) {
                                    hs.push((
                                        header::CONTENT_TYPE,
                                        HeaderValue::from_static("application/json"),
                                    ));
                                }
                                v.to_string().into_bytes()
                            }
                        };
                        Integration::Mock {
                            status,
                            headers: hs,
                            body: body.into(),
                        }
                    }
                };
                let claim_headers = match &route.claim_headers {
                    None | Some(ClaimHeadersConfig::Every(AllOrNone::All)) => ClaimSelection::All,
                    Some(ClaimHeadersConfig::Every(AllOrNone::None)) => ClaimSelection::None,
                    Some(ClaimHeadersConfig::Names(names)) => ClaimSelection::Names(
                        names
                            .iter()
                            .map(|n| {
                                claim_header_name(n)
                                    .filter(|_| !n.is_empty())
                                    .ok_or_else(|| {
                                        BuildError(format!(
                                            "{at}.claim_headers: `{n}` is not a claim name"
                                        ))
                                    })
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                };
                let index = routes.len();
                routes.push(Route {
                    api: a,
                    template: template.clone(),
                    auth,
                    authorizer,
                    policy: Policy {
                        token_use,
                        scopes: route.scopes.clone(),
                        scope_match: route.scope_match,
                        groups: route.groups.clone(),
                    },
                    forward_authorization: route.forward_authorization.unwrap_or(true),
                    claim_headers,
                    claims_json: route.claims_json.unwrap_or(true),
                    integration,
                    metrics: RouteMetrics::default(),
                });
                let slot = match templates.get(&pattern) {
                    Some(&slot) => slot,
                    None => {
                        matcher
                            .insert(pattern.clone(), methods.len())
                            .map_err(|e| {
                                BuildError(format!(
                                    "{at}.path: `{template}` conflicts with another route: {e}"
                                ))
                            })?;
                        templates.insert(pattern.clone(), methods.len());
                        methods.push((a, Methods::default()));
                        methods.len() - 1
                    }
                };
                let entry = &mut methods[slot].1;
                if entry.by_method.iter().any(|(m, _)| *m == method) {
                    return Err(BuildError(format!(
                        "{at}: a route `{} {template}` is already declared",
                        route.method
                    )));
                }
                entry.by_method.push((method, index));
            }
            apis.push(Api {
                name: api.name.clone(),
                prefix,
                cors,
            });
        }
        // Resolve each route's series once (this also pre-creates the
        // outcome series, so that dashboards see zeros).
        for route in &mut routes {
            route.metrics = RouteMetrics::new(
                &metrics,
                &apis[route.api].name,
                &route.template,
                route.authorizer.as_ref().map(|az| az.name.as_str()),
            );
        }
        Ok(Gateway {
            apis,
            routes,
            matcher,
            methods,
            metrics,
            metrics_path,
            limits,
        })
    }

    pub fn metrics_text(&self) -> String {
        self.metrics.render()
    }
}

fn message(status: StatusCode, message: &str, error_type: Option<&'static str>) -> Response<Body> {
    let mut r = Response::new(full(serde_json::json!({ "message": message }).to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(t) = error_type {
        r.headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(t));
    }
    r
}

/// The answer to a refused token: `503` when the keys could not be
/// fetched, `403 {"message":"Forbidden"}` for a missing scope or group,
/// else `401 {"message":"Unauthorized"}`; a 401 or 403 carries API
/// Gateway's `WWW-Authenticate` challenge with the reason
/// (`Rejection::www_authenticate`).
fn refusal(rejection: Rejection) -> Response<Body> {
    let mut r = if rejection == Rejection::KeysUnavailable {
        return message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", None);
    } else if rejection.is_forbidden() {
        message(
            StatusCode::FORBIDDEN,
            "Forbidden",
            Some("ForbiddenException"),
        )
    } else {
        message(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            Some("UnauthorizedException"),
        )
    };
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(rejection.www_authenticate()),
    );
    r
}

/// `cognito:username` → `x-cognate-claim-cognito-username`.
fn claim_header_name(claim: &str) -> Option<HeaderName> {
    let mut name = String::with_capacity(CLAIM_HEADER.len() + claim.len());
    name.push_str(CLAIM_HEADER);
    for c in claim.chars() {
        name.push(match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        });
    }
    HeaderName::from_bytes(name.as_bytes()).ok()
}

/// Claim values as strings: strings as they are, arrays joined with commas
/// (like API Gateway's REST claims), numbers and booleans in JSON, objects
/// as JSON text.
fn claim_header_value(value: &serde_json::Value) -> Option<HeaderValue> {
    use serde_json::Value;
    let text = match value {
        Value::String(s) => return HeaderValue::from_bytes(s.as_bytes()).ok(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    HeaderValue::from_bytes(text.as_bytes()).ok()
}

/// The claim headers of one verified token (`x-cognate-claim-*` and
/// `x-cognate-claims`), built once and kept with its claims
/// (`Claims::derived`): a token served from the verifier's cache, or from a
/// connection's memo (its own copy of the claims), reuses them, and they are
/// dropped with the cache entry or the memo. They are only reached
/// through claims that passed this request's expiry and revocation checks.
struct ClaimHeaders {
    /// One per claim; names are unique.
    each: Vec<(HeaderName, HeaderValue)>,
    json: Option<HeaderValue>,
}

impl ClaimHeaders {
    fn new(claims: &Claims) -> Self {
        let mut each: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(claims.all.len());
        for (name, value) in &claims.all {
            if let (Some(n), Some(v)) = (claim_header_name(name), claim_header_value(value)) {
                // Two claims that map to one header name (`a:b`, `a-b`):
                // the later one wins, once, as `insert` would.
                match each.iter_mut().find(|(known, _)| *known == n) {
                    Some(slot) => slot.1 = v,
                    None => each.push((n, v)),
                }
            }
        }
        let json = serde_json::to_string(&claims.all)
            .ok()
            .and_then(|json| HeaderValue::from_bytes(json.as_bytes()).ok());
        ClaimHeaders { each, json }
    }

    /// Appends the headers a route asks for to a request whose
    /// `x-cognate-*` headers were all removed first (`strip_claim_headers`),
    /// so appending cannot add to a forged value and is cheaper than replacing.
    fn add_to(&self, headers: &mut http::HeaderMap, selection: &ClaimSelection, json: bool) {
        // Cheap clones: names and values share their bytes.
        match selection {
            ClaimSelection::All => {
                headers.reserve(self.each.len() + 1);
                for (n, v) in &self.each {
                    headers.append(n.clone(), v.clone());
                }
            }
            ClaimSelection::None => {}
            ClaimSelection::Names(names) => {
                for (n, v) in self.each.iter().filter(|(n, _)| names.contains(n)) {
                    headers.append(n.clone(), v.clone());
                }
            }
        }
        if let (true, Some(v)) = (json, &self.json) {
            headers.append(HeaderName::from_static(CLAIMS_JSON_HEADER), v.clone());
        }
    }
}

fn add_claim_headers(headers: &mut http::HeaderMap, claims: &Claims, route: &Route) {
    if matches!(route.claim_headers, ClaimSelection::None) && !route.claims_json {
        return;
    }
    let (selection, json) = (&route.claim_headers, route.claims_json);
    match claims.derived(ClaimHeaders::new) {
        Some(prepared) => prepared.add_to(headers, selection, json),
        None => ClaimHeaders::new(claims).add_to(headers, selection, json),
    }
}

/// Whether a header name is one of the gateway's own, in any spelling a
/// backend might read as one: `_` counts as `-` (CGI and WSGI servers turn
/// both into `HTTP_X_COGNATE_...`); names are already lower case.
fn is_claim_header(name: &HeaderName) -> bool {
    let name = name.as_str().as_bytes();
    let prefix = CLAIM_HEADER_PREFIX.as_bytes();
    name.len() >= prefix.len()
        && name
            .iter()
            .zip(prefix)
            .all(|(n, p)| n == p || (*n == b'_' && *p == b'-'))
}

/// Removes every incoming header that could pass for a claim header.
fn strip_claim_headers(headers: &mut http::HeaderMap) {
    let forged: Vec<HeaderName> = headers
        .keys()
        .filter(|k| is_claim_header(k))
        .cloned()
        .collect();
    for k in forged {
        headers.remove(k);
    }
}

/// One client connection (from `peer`) and what it keeps from one request
/// to the next: its upstream connection and its last verified token.
pub(crate) struct ClientConnection {
    gateway: Arc<Gateway>,
    peer: SocketAddr,
    upstream: Affinity,
    token: Mutex<TokenMemo>,
}

impl ClientConnection {
    pub(crate) fn new(gateway: Arc<Gateway>, peer: SocketAddr) -> Self {
        ClientConnection {
            gateway,
            peer,
            upstream: Affinity::default(),
            token: Mutex::default(),
        }
    }
}

/// Answers one request that arrived on a client connection.
pub(crate) async fn handle(
    conn: Arc<ClientConnection>,
    mut req: Request<Incoming>,
) -> Response<Body> {
    let gw = &*conn.gateway;
    let started = Instant::now();
    // A cheap clone (shared bytes) so that the path outlives `req`.
    let uri = req.uri().clone();
    let normalized = match path::normalize(uri.path()) {
        Ok(n) => n,
        Err(BadPath) => {
            gw.metrics
                .requests
                .with_label_values(&["", "unmatched", metrics::method_label(req.method()), "400"])
                .inc();
            return message(StatusCode::BAD_REQUEST, "Bad Request", None);
        }
    };
    // The backend gets the path that was matched, in canonical form.
    if let Some(canonical) = &normalized.canonical {
        match canonical_uri(canonical, uri.query()) {
            Some(u) => *req.uri_mut() = u,
            None => return message(StatusCode::BAD_REQUEST, "Bad Request", None),
        }
    }
    let path = &*normalized.matching;
    if path == gw.metrics_path && req.method() == Method::GET {
        let mut r = Response::new(full(gw.metrics.render()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        return r;
    }
    let method = req.method().clone();
    let Ok(matched) = gw.matcher.at(path) else {
        gw.metrics
            .requests
            .with_label_values(&["", "unmatched", metrics::method_label(&method), "404"])
            .inc();
        return message(StatusCode::NOT_FOUND, "Not Found", None);
    };
    let Some((api_index, methods)) = gw.methods.get(*matched.value) else {
        return message(StatusCode::NOT_FOUND, "Not Found", None);
    };
    let api = &gw.apis[*api_index];
    let origin = req.headers().get(header::ORIGIN).cloned();
    if let Some(cors) = &api.cors {
        if Cors::is_preflight(&method, req.headers())
            && !methods
                .by_method
                .iter()
                .any(|(m, _)| m.as_ref() == Some(&Method::OPTIONS))
        {
            let (status, headers) = cors.preflight(req.headers());
            let mut r = Response::new(full(Bytes::new()));
            *r.status_mut() = status;
            *r.headers_mut() = headers;
            return r;
        }
    }
    let route_index = methods
        .by_method
        .iter()
        .find(|(m, _)| m.as_ref() == Some(&method))
        .or_else(|| methods.by_method.iter().find(|(m, _)| m.is_none()))
        .map(|(_, i)| *i);
    let Some(route) = route_index.and_then(|i| gw.routes.get(i)) else {
        gw.metrics
            .requests
            .with_label_values(&[
                api.name.as_str(),
                "unmatched",
                metrics::method_label(&method),
                "404",
            ])
            .inc();
        return message(StatusCode::NOT_FOUND, "Not Found", None);
    };
    let mut response = route_request(api, route, req, &conn).await;
    if let Some(cors) = &api.cors {
        cors.decorate(origin.as_ref(), response.headers_mut());
    }
    route.metrics.count_request(
        &gw.metrics,
        &api.name,
        &route.template,
        &method,
        response.status(),
    );
    route
        .metrics
        .observe_duration(started.elapsed().as_secs_f64());
    response
}

/// An origin-form URI of a canonical path and the request's query.
fn canonical_uri(path: &str, query: Option<&str>) -> Option<http::Uri> {
    let path_and_query = match query {
        None => http::uri::PathAndQuery::try_from(path),
        Some(q) => http::uri::PathAndQuery::try_from(format!("{path}?{q}")),
    };
    path_and_query.ok().map(http::Uri::from)
}

async fn route_request(
    api: &Api,
    route: &Route,
    mut req: Request<Incoming>,
    conn: &ClientConnection,
) -> Response<Body> {
    // The client's hop-by-hop headers (and those its `Connection` names) go
    // first, then anything resembling a claim header; the verified claims
    // are added after both, and nothing removes headers after that, so no
    // `Connection` token can take them away from the backend.
    proxy::remove_hop_by_hop(req.headers_mut());
    strip_claim_headers(req.headers_mut());
    let mut claims = None;
    if let (Some(az), true) = (&route.authorizer, route.auth != AuthMode::None) {
        let token = match req.headers().get(&az.header) {
            None => Err(Rejection::Missing),
            Some(v) => v
                .to_str()
                .map_err(|_| Rejection::Malformed)
                .and_then(|v| token_from_header_value(v).ok_or(Rejection::Missing)),
        };
        let outcome = match token {
            Ok(t) => {
                // Taken out for the await (requests on a connection come one
                // at a time), then put back.
                let mut memo = conn
                    .token
                    .lock()
                    .map(|mut m| std::mem::take(&mut *m))
                    .unwrap_or_default();
                let outcome = az
                    .verifier
                    .authorize_remembered(t, &route.policy, &mut memo)
                    .await;
                if let Ok(mut m) = conn.token.lock() {
                    *m = memo;
                }
                outcome
            }
            Err(r) => Err(r),
        };
        route.metrics.count_outcome(outcome.as_ref().err().copied());
        match outcome {
            Ok(c) => claims = Some(c),
            Err(r) if route.auth == AuthMode::Required => return refusal(r),
            Err(_) => {}
        }
        if !route.forward_authorization {
            req.headers_mut().remove(&az.header);
        }
    }
    if let Some(c) = &claims {
        add_claim_headers(req.headers_mut(), c, route);
    }
    match &route.integration {
        Integration::Mock {
            status,
            headers,
            body,
        } => {
            let mut r = Response::new(full(body.clone()));
            *r.status_mut() = *status;
            for (k, v) in headers {
                r.headers_mut().insert(k.clone(), v.clone());
            }
            r
        }
        Integration::Http(upstream) => {
            match proxy::forward(upstream, &conn.upstream, &api.prefix, req, conn.peer).await {
                Ok(r) => r.map(Either::Left),
                Err(ProxyError::Timeout) => message(
                    StatusCode::GATEWAY_TIMEOUT,
                    "Endpoint request timed out",
                    None,
                ),
                Err(ProxyError::Upstream) => message(StatusCode::BAD_GATEWAY, "Bad Gateway", None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: serde_json::Value) -> Claims {
        Claims::parse(json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn claim_headers_are_made_once_per_claims_and_keep_their_bytes() {
        let c = claims(serde_json::json!({
            "iss": "https://issuer", "exp": 2_000_000_000, "sub": "u-1",
            "cognito:username": "joe", "cognito:groups": ["a", "b"],
            "email_verified": true, "name": "José Ünal",
            "custom:team": "a", "custom-team": "b",
        }));
        let all = |c: &Claims| {
            let mut h = http::HeaderMap::new();
            c.derived(ClaimHeaders::new)
                .unwrap()
                .add_to(&mut h, &ClaimSelection::All, true);
            h
        };
        let first = all(&c);
        assert_eq!(first["x-cognate-claim-sub"], "u-1");
        assert_eq!(first["x-cognate-claim-cognito-username"], "joe");
        assert_eq!(first["x-cognate-claim-cognito-groups"], "a,b");
        assert_eq!(first["x-cognate-claim-email-verified"], "true");
        // Two claims with one header name give one header, not two.
        assert_eq!(
            first.get_all("x-cognate-claim-custom-team").iter().count(),
            1
        );
        assert_eq!(
            first["x-cognate-claim-name"].as_bytes(),
            "José Ünal".as_bytes()
        );
        let json: serde_json::Value =
            serde_json::from_slice(first[CLAIMS_JSON_HEADER].as_bytes()).unwrap();
        assert_eq!(json["cognito:groups"], serde_json::json!(["a", "b"]));

        // The prepared headers are kept with the claims and reused as they are.
        let kept = c.derived(ClaimHeaders::new).unwrap();
        assert_eq!(kept.each.len() + 1, first.len());
        assert_eq!(first, all(&c));
    }

    #[test]
    fn claim_headers_are_recognised_in_every_spelling() {
        for name in [
            "x-cognate-claim-sub",
            "x-cognate-claims",
            "x_cognate_claim_sub",
            "x-cognate_claims",
            "x_cognate-anything",
            "x-cognate-",
        ] {
            let n = HeaderName::from_bytes(name.to_ascii_uppercase().as_bytes()).unwrap();
            assert!(is_claim_header(&n), "{name}");
        }
        for name in [
            "x-cognate",
            "x-cognatex-claim",
            "x-request-id",
            "x_cognat_e-",
        ] {
            let n = HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert!(!is_claim_header(&n), "{name}");
        }
    }

    #[test]
    fn templates_lose_a_trailing_slash_and_may_not_have_empty_or_dot_segments() {
        assert_eq!(to_matchit("/dev/", "r").unwrap(), "/dev");
        assert_eq!(to_matchit("/", "r").unwrap(), "/");
        assert_eq!(to_matchit("/items/{id}/", "r").unwrap(), "/items/{id}");
        for bad in ["/a//b", "/a/./b", "/a/../b", "//"] {
            let e = to_matchit(bad, "r").unwrap_err().0;
            assert!(e.contains("segment"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_route_sends_only_the_claim_headers_it_names() {
        let c = claims(serde_json::json!({
            "iss": "https://issuer", "exp": 2_000_000_000, "sub": "u-1",
            "cognito:username": "joe", "email": "joe@example.com",
        }));
        let prepared = ClaimHeaders::new(&c);
        let names = ClaimSelection::Names(vec![
            claim_header_name("sub").unwrap(),
            claim_header_name("cognito:username").unwrap(),
            claim_header_name("not-in-token").unwrap(),
        ]);
        let mut h = http::HeaderMap::new();
        prepared.add_to(&mut h, &names, false);
        assert_eq!(h.len(), 2);
        assert_eq!(h["x-cognate-claim-sub"], "u-1");
        assert_eq!(h["x-cognate-claim-cognito-username"], "joe");

        let mut h = http::HeaderMap::new();
        prepared.add_to(&mut h, &ClaimSelection::None, true);
        assert_eq!(h.len(), 1);
        let json: serde_json::Value =
            serde_json::from_slice(h[CLAIMS_JSON_HEADER].as_bytes()).unwrap();
        assert_eq!(json["email"], "joe@example.com");

        let mut h = http::HeaderMap::new();
        prepared.add_to(&mut h, &ClaimSelection::None, false);
        assert!(h.is_empty());
    }
}

//! The admin console: server-rendered pages under `/console/` on the main
//! listener (minijinja templates and CSS embedded in the binary; works
//! without JavaScript, a small script only adds copy buttons).
//!
//! * **Access.** With configured admin credentials, a sign-in form takes an
//!   access key id and its secret (`AdminAuth::sign_in`, constant time)
//!   and the session carries the key's grant, pool limits included. With
//!   none, on loopback only (development mode), the console opens without
//!   sign-in under a banner; beyond loopback (`--insecure-unsigned-admin`)
//!   it answers 403.
//! * **Sessions** (`session.rs`) are in memory and bounded: random id,
//!   cookie HttpOnly + SameSite=Strict + Path=/console (+ Secure under an
//!   https public URL), 30 minutes idle on the service's clock, a CSRF
//!   token checked in constant time on every POST. Failed sign-ins are
//!   limited per client address (`limit.rs`).
//! * **One source of truth.** Every read and change is an AWS JSON
//!   operation run through `cognate_aws_json::call` with the session's
//!   grant, so the API's validation (and its messages), pool limits and
//!   rules apply unchanged. What Cognito has no operation for is read or
//!   done through the domain directly, after the pool was described with
//!   the grant: the signing keys and their rotation (`keys.rs`); the
//!   dashboard reads `cognate_core::counters`.
//! * **Pages.** Pools, app clients, users (sessions, auth events and the
//!   console's changes to the user; disable, reset password, sign-out
//!   everywhere and delete ask first), groups, the pool's domain and
//!   hosted-UI branding with a preview (`branding.rs`), signing keys with
//!   "Rotate now" (`keys.rs`), the dashboard of the process-wide counters
//!   (`dashboard.rs`), the admins' recent changes (`activity.rs`) and the
//!   gateway's routes (`gateway.rs`).
//! * Every change is logged as an event of target `cognate::audit` (action,
//!   actor, pool id, object), never with a secret, and kept in a bounded
//!   in-memory ring for the activity page (`activity.rs`).

mod activity;
mod branding;
mod clients;
mod dashboard;
pub mod gateway;
mod groups;
mod keys;
mod limit;
mod multipart;
mod pools;
pub mod session;
mod templates;
mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use cognate_aws_json::sigv4::{AdminAuth, ConsoleAccess, Grant};
use cognate_aws_json::ApiError;
use cognate_core::UserPools;
use minijinja::{context, Value as Ctx};
use serde_json::Value;

use session::{Session, Sessions};

/// The session cookie's name.
pub const COOKIE: &str = "cognate_console";
/// The actor of changes made in development mode.
pub const DEVELOPMENT_ACTOR: &str = "development";

/// The console's state.
pub struct Console {
    service: Arc<UserPools>,
    admin: Arc<AdminAuth>,
    sessions: Sessions,
    limiter: limit::SignInLimiter,
    /// Cookies get `Secure` (the public URL is https).
    secure: bool,
    /// The gateway's routes, as the binary configured them.
    gateway: Vec<gateway::GatewayRoute>,
    /// When the console (the process) started, on the service's clock.
    started: i64,
    /// The latest console changes (`activity.rs`).
    activity: activity::Activity,
    /// The hosted UI's routes, asked in-process for the branding preview.
    hosted: Router,
}

type Shared = Arc<Console>;

/// The console's routes (`/console/...`).
pub fn router(
    service: Arc<UserPools>,
    admin: Arc<AdminAuth>,
    gateway: Vec<gateway::GatewayRoute>,
) -> Router {
    let secure = service.config().public_url.starts_with("https://");
    let started = service.now_millis();
    let hosted = cognate_oauth::router(service.clone());
    let state = Arc::new(Console {
        service,
        admin,
        sessions: Sessions::default(),
        limiter: limit::SignInLimiter::default(),
        secure,
        gateway,
        started,
        activity: activity::Activity::default(),
        hosted,
    });
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/pools") }),
        )
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/console.css", get(css))
        .route("/console/console.js", get(script))
        .merge(pools::routes())
        .merge(clients::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(gateway::routes())
        .merge(dashboard::routes())
        .merge(keys::routes())
        .merge(activity::routes())
        .merge(branding::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Closed beyond loopback without credentials; security headers on every answer.
async fn guard(State(console): State<Shared>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let ours = path == "/console" || path.starts_with("/console/");
    if !ours {
        return next.run(request).await;
    }
    let mut response = if console.admin.console_access() == ConsoleAccess::Closed {
        closed()
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    // A page may set its own (the branding preview, framed by the console).
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ));
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn closed() -> Response {
    let html = templates::render(
        "message.html",
        context! {
            title => "Console unavailable",
            message => "The admin console is not served on a non-loopback address without admin credentials \
                (this server runs with --insecure-unsigned-admin). Configure admin.credentials in the config \
                file, or COGNATE_ADMIN_ACCESS_KEY_ID and COGNATE_ADMIN_SECRET_ACCESS_KEY, and sign in with them.",
        },
    );
    (StatusCode::FORBIDDEN, Html(html)).into_response()
}

async fn not_found() -> Response {
    let html = templates::render(
        "message.html",
        context! { title => "Not found", message => "There is no console page at this address." },
    );
    (StatusCode::NOT_FOUND, Html(html)).into_response()
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        templates::CSS,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        templates::JS,
    )
        .into_response()
}

/// An HTML body (rendering failures become a plain 500 page).
struct Html(Result<String, minijinja::Error>);

impl IntoResponse for Html {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(body) => {
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
            }
            Err(e) => {
                tracing::error!(error = %e, "console template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response()
            }
        }
    }
}

fn session_cookie(console: &Console, id: &str) -> String {
    format!(
        "{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict{}",
        if console.secure { "; Secure" } else { "" }
    )
}

fn cleared_cookie(console: &Console) -> String {
    format!(
        "{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if console.secure { "; Secure" } else { "" }
    )
}

fn cookie_value(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The client's address for the sign-in limit (all clients share one
/// budget when the listener does not tell).
fn client_address(parts: &Parts) -> String {
    // The listener's request context (the peer, or the client a trusted
    // proxy reported), else the connection's address.
    cognate_core::audit::source_ip()
        .map(|ip| ip.to_string())
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A signed-in session (or the development session): the extractor of
/// every page but sign-in. Without one: a redirect to sign-in, or in
/// development mode a fresh session and a redirect back.
pub(crate) struct Auth {
    console: Shared,
    session: Session,
}

impl FromRequestParts<Shared> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Shared) -> Result<Auth, Response> {
        let now = console.service.now_millis();
        let found = cookie_value(parts).and_then(|id| console.sessions.get(&id, now));
        if let Some(session) = found.filter(|s| s.actor.is_some()) {
            return Ok(Auth {
                console: console.clone(),
                session,
            });
        }
        if parts.method != Method::GET {
            return Err(forbidden(
                "Your session has ended or this form is not from this console. Reload the page and try again.",
            ));
        }
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/console/".into());
        if console.admin.console_access() == ConsoleAccess::Development {
            let session = console
                .sessions
                .create(Some(DEVELOPMENT_ACTOR.into()), Grant::All, now);
            let mut r = Redirect::to(&back).into_response();
            set_cookie(&mut r, &session_cookie(console, &session.id));
            return Err(r);
        }
        Err(Redirect::to(&format!("/console/sign-in?next={}", encode(&back))).into_response())
    }
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn forbidden(message: &str) -> Response {
    let html = templates::render(
        "message.html",
        context! { title => "Forbidden", message => message },
    );
    (StatusCode::FORBIDDEN, Html(html)).into_response()
}

/// A form's fields, in order (checkboxes may repeat a name), and the
/// files of a `multipart/form-data` form.
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>, Vec<multipart::Part>);

impl Fields {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// The trimmed value, `None` when empty.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name).trim()).filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    /// The content of a file field; `None` when no file was chosen.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.1
            .iter()
            .find(|p| p.name == name && p.filename.as_deref().is_some_and(|f| !f.is_empty()))
            .map(|p| p.data.as_slice())
    }

    /// A form body: URL-encoded, or multipart with its files.
    fn parse(content_type: &str, bytes: &[u8]) -> Fields {
        let Some(boundary) = multipart::boundary(content_type) else {
            return Fields(
                serde_urlencoded::from_bytes(bytes).unwrap_or_default(),
                Vec::new(),
            );
        };
        let (mut pairs, mut files) = (Vec::new(), Vec::new());
        for part in multipart::parse(&boundary, bytes).unwrap_or_default() {
            if part.filename.is_some() {
                files.push(part);
            } else if let Ok(text) = String::from_utf8(part.data) {
                pairs.push((part.name, text));
            }
        }
        Fields(pairs, files)
    }

    /// The form's values, for the template to show again.
    pub fn values(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        for (n, v) in &self.0 {
            if n != "csrf" && !n.contains("password") && !n.contains("secret") {
                map.entry(n.clone())
                    .or_insert_with(|| Value::String(v.clone()));
            }
        }
        map
    }
}

/// A POST of a signed-in session whose CSRF token matched.
pub(crate) struct Posted {
    auth: Auth,
    form: Fields,
}

impl FromRequest<Shared> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, console: &Shared) -> Result<Posted, Response> {
        let (mut parts, body) = request.into_parts();
        let auth = Auth::from_request_parts(&mut parts, console).await?;
        let bytes = axum::body::to_bytes(body, 256 * 1024)
            .await
            .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "Form too large").into_response())?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let form = Fields::parse(content_type, &bytes);
        let token = form.opt("csrf");
        if !session::csrf_ok(&auth.session, token) {
            tracing::warn!(target: "cognate::audit", actor = auth.actor(), path = %parts.uri.path(), "console form refused: missing or wrong CSRF token");
            return Err(forbidden(
                "This form's security token is missing or out of date. Go back, reload the page and try again.",
            ));
        }
        Ok(Posted { auth, form })
    }
}

impl Auth {
    pub fn actor(&self) -> &str {
        self.session.actor.as_deref().unwrap_or_default()
    }

    /// Runs an AWS JSON operation with the session's grant.
    pub async fn call(&self, operation: &str, request: Value) -> Result<Value, ApiError> {
        let body = request.to_string();
        cognate_aws_json::call(
            &self.console.service,
            &self.console.admin,
            &self.session.grant,
            operation,
            body.as_bytes(),
        )
        .await
    }

    /// Logs a change (never a secret) and keeps it for the activity page.
    pub fn audit(&self, action: &str, pool_id: &str, object: &str) {
        tracing::info!(
            target: "cognate::audit",
            action,
            actor = self.actor(),
            pool_id,
            object,
            "console change"
        );
        self.console.activity.record(activity::Change {
            at: self.console.service.now_millis(),
            actor: self.actor().to_owned(),
            action: action.to_owned(),
            pool_id: pool_id.to_owned(),
            object: object.to_owned(),
        });
    }

    /// A page of the console's layout.
    pub fn page(&self, name: &str, ctx: Ctx) -> Response {
        let flash = self.console.sessions.take_flash(&self.session.id);
        let base = context! {
            actor => self.actor(),
            development => self.actor() == DEVELOPMENT_ACTOR,
            csrf => &self.session.csrf,
            flash => flash,
            limited => matches!(self.session.grant, Grant::Pools { .. }),
            public_url => &self.console.service.config().public_url,
        };
        Html(templates::render(name, context! { ..ctx, ..base })).into_response()
    }

    /// A redirect after a change, with a message on the next page.
    pub fn done(&self, to: &str, message: impl Into<String>) -> Response {
        self.console.sessions.set_flash(&self.session.id, message);
        Redirect::to(to).into_response()
    }

    /// An error page for a failed read (e.g. an unknown pool).
    pub fn failed(&self, e: &ApiError) -> Response {
        let status = if e.status.is_server_error() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else if e.type_name == "ResourceNotFoundException"
            || e.type_name == "UserNotFoundException"
        {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut r = self.page(
            "message.html",
            context! { title => e.type_name, message => &e.message },
        );
        *r.status_mut() = status;
        r
    }

    pub fn set_secret(&self, secret: String) {
        self.console.sessions.set_secret(&self.session.id, secret);
    }

    pub fn take_secret(&self) -> Option<String> {
        self.console.sessions.take_secret(&self.session.id)
    }
}

/// The error of a form: its message, and the field it is about (the first
/// of `fields` whose API member name the message mentions).
pub(crate) fn form_error(e: &ApiError, fields: &[(&str, &str)]) -> Ctx {
    let lower = e.message.to_ascii_lowercase();
    let field = fields
        .iter()
        .find(|(_, member)| lower.contains(&member.to_ascii_lowercase()))
        .map(|(field, _)| *field);
    context! { type_name => e.type_name, message => &e.message, field => field }
}

/// A serde value (e.g. JSON from an answer) for a template.
pub(crate) fn js<T: serde::Serialize>(value: T) -> Ctx {
    Ctx::from(minijinja::value::Serde(value))
}

/// Percent-encodes a path segment or query value.
pub(crate) fn encode(text: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, SET).to_string()
}

/// Cognito's epoch-seconds dates, shown as UTC.
pub(crate) fn date(value: &Value) -> String {
    let Some(secs) = value.as_f64() else {
        return String::new();
    };
    let secs = secs as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[derive(serde::Deserialize)]
struct SignInQuery {
    next: Option<String>,
}

/// Where to go after sign-in: a console path only.
fn next_path(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console/") && !n.contains("//") && !n.contains('\\') => {
            n.to_owned()
        }
        _ => "/console/pools".into(),
    }
}

async fn sign_in_page(
    State(console): State<Shared>,
    axum::extract::Query(q): axum::extract::Query<SignInQuery>,
    parts: Parts,
) -> Response {
    let now = console.service.now_millis();
    if console.admin.console_access() == ConsoleAccess::Development {
        return Redirect::to("/console/pools").into_response();
    }
    // A session before sign-in carries the form's CSRF token.
    let existing = cookie_value(&parts).and_then(|id| console.sessions.get(&id, now));
    if existing.as_ref().is_some_and(|s| s.actor.is_some()) {
        return Redirect::to(&next_path(q.next.as_deref())).into_response();
    }
    let (session, fresh) = match existing {
        Some(s) => (s, false),
        None => (console.sessions.create(None, Grant::All, now), true),
    };
    let mut r = sign_in_form(&session, q.next.as_deref(), None, "", StatusCode::OK);
    if fresh {
        set_cookie(&mut r, &session_cookie(&console, &session.id));
    }
    r
}

fn sign_in_form(
    session: &Session,
    next: Option<&str>,
    error: Option<&str>,
    key: &str,
    status: StatusCode,
) -> Response {
    let html = templates::render(
        "sign_in.html",
        context! {
            title => "Sign in",
            csrf => &session.csrf,
            next => next_path(next),
            error => error,
            access_key_id => key,
        },
    );
    (status, Html(html)).into_response()
}

async fn sign_in(State(console): State<Shared>, request: Request) -> Response {
    let now = console.service.now_millis();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Form too large").into_response();
    };
    let form = Fields(
        serde_urlencoded::from_bytes(&bytes).unwrap_or_default(),
        Vec::new(),
    );
    let Some(pre) = cookie_value(&parts).and_then(|id| console.sessions.get(&id, now)) else {
        return forbidden("This sign-in form has expired. Reload the page and try again.");
    };
    if !session::csrf_ok(&pre, form.opt("csrf")) {
        return forbidden(
            "This form's security token is missing or out of date. Reload the page and try again.",
        );
    }
    let client = client_address(&parts);
    let key = form.get("access_key_id").trim().to_owned();
    let next = form.opt("next").map(str::to_owned);
    if let Err(wait) = console.limiter.attempt(&client, now) {
        tracing::warn!(target: "cognate::audit", action = "console.sign_in", actor = %key, outcome = "rate_limited", "console sign-in refused");
        return sign_in_form(
            &pre,
            next.as_deref(),
            Some(&format!(
                "Too many failed sign-in attempts. Try again in {wait} seconds."
            )),
            &key,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    match console.admin.sign_in(&key, form.get("secret_access_key")) {
        None => {
            tracing::warn!(target: "cognate::audit", action = "console.sign_in", actor = %key, outcome = "refused", "console sign-in refused");
            sign_in_form(
                &pre,
                next.as_deref(),
                Some("The access key id or secret access key is not correct."),
                &key,
                StatusCode::UNAUTHORIZED,
            )
        }
        Some(grant) => {
            console.limiter.succeeded(&client);
            // A new id at sign-in (the one before it may have been seen).
            console.sessions.remove(&pre.id);
            let session = console.sessions.create(Some(key.clone()), grant, now);
            tracing::info!(target: "cognate::audit", action = "console.sign_in", actor = %key, outcome = "ok", "console sign-in");
            let mut r = Redirect::to(&next_path(next.as_deref())).into_response();
            set_cookie(&mut r, &session_cookie(&console, &session.id));
            r
        }
    }
}

async fn sign_out(posted: Posted) -> Response {
    let Posted { auth, .. } = posted;
    auth.console.sessions.remove(&auth.session.id);
    tracing::info!(target: "cognate::audit", action = "console.sign_out", actor = auth.actor(), "console sign-out");
    let mut r = Redirect::to("/console/sign-in").into_response();
    set_cookie(&mut r, &cleared_cookie(&auth.console));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(date(&serde_json::json!(0)), "1970-01-01 00:00 UTC");
        assert_eq!(
            date(&serde_json::json!(1_709_251_200.5)),
            "2024-03-01 00:00 UTC"
        );
    }

    #[test]
    fn sign_in_returns_only_to_console_paths() {
        assert_eq!(next_path(Some("/console/pools/x")), "/console/pools/x");
        assert_eq!(next_path(Some("//evil.example/")), "/console/pools");
        assert_eq!(next_path(Some("/console//evil")), "/console/pools");
        assert_eq!(next_path(Some("https://evil.example/")), "/console/pools");
        assert_eq!(next_path(None), "/console/pools");
    }
}

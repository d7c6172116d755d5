//! The audit log: one structured event per security-relevant action, on the
//! tracing target [`TARGET`] (`cognate::audit`), so it can be routed or
//! filtered on its own (`--log 'info,cognate::audit=info'`; with
//! `--log-format json` each event is one JSON line).
//!
//! An event names what happened (`event`), the pool, the user's `sub` when
//! the user is known (never a username: under PreventUserExistenceErrors a
//! name is what an attacker probes with), the app client, the source IP and
//! request id of the call, its outcome and, for a failure, a fixed reason
//! label; for an admin call, the access key id that signed it. Reasons and
//! names are `&'static str`, so no caller-provided text can reach the line:
//! never a password, code, token, secret or key.
//!
//! The request context (source IP, request id, access key id) is set by the
//! HTTP adapters around each request ([`scope`]); the domain reads it here
//! and in the rate limiter ([`current`]). Outside a request (the config file,
//! key rotation on schedule) it is empty.

use std::future::Future;
use std::net::IpAddr;

/// The tracing target of audit events.
pub const TARGET: &str = "cognate::audit";

/// Who is calling: set by the HTTP adapter for the length of one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The peer's address (or, behind a trusted proxy, the client address
    /// the proxy reported in X-Forwarded-For).
    pub source_ip: Option<IpAddr>,
    /// The request id answered in `x-amzn-RequestId`.
    pub request_id: Option<String>,
    /// The access key id that signed an admin call.
    pub access_key_id: Option<String>,
    /// The end user's address as a server-side call states it
    /// (AdminInitiateAuth's `ContextData.IpAddress`, or a public call's
    /// `UserContextData.IpAddress` where its client propagates user
    /// context data): the address threat
    /// protection and the auth event log see. The rate limiter keeps to
    /// `source_ip`, the caller it can trust.
    pub user_ip: Option<IpAddr>,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `work` with `context` as the request's context.
pub async fn scope<F: Future>(context: RequestContext, work: F) -> F::Output {
    REQUEST.scope(context, work).await
}

/// The context of the request being served (empty outside one).
pub fn current() -> RequestContext {
    REQUEST.try_with(Clone::clone).unwrap_or_default()
}

/// The source IP of the request being served, if known.
pub fn source_ip() -> Option<IpAddr> {
    REQUEST.try_with(|c| c.source_ip).ok().flatten()
}

/// The end user's address: the one an admin call stated for its user, else
/// the request's source.
pub fn user_ip() -> Option<IpAddr> {
    REQUEST
        .try_with(|c| c.user_ip.or(c.source_ip))
        .ok()
        .flatten()
}

/// One audit event. Build with [`Event::new`], then `.user(..)`,
/// `.client(..)`, `.failed(..)`, and [`Event::emit`] it.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    pub name: &'static str,
    pub pool_id: &'a str,
    pub sub: Option<&'a str>,
    pub client_id: Option<&'a str>,
    /// `None` for a success; the reason label of a failure.
    pub failure: Option<&'static str>,
}

impl<'a> Event<'a> {
    pub fn new(name: &'static str, pool_id: &'a str) -> Self {
        Event {
            name,
            pool_id,
            sub: None,
            client_id: None,
            failure: None,
        }
    }

    pub fn user(mut self, sub: &'a str) -> Self {
        self.sub = Some(sub);
        self
    }

    pub fn client(mut self, client_id: &'a str) -> Self {
        self.client_id = Some(client_id);
        self
    }

    pub fn failed(mut self, reason: &'static str) -> Self {
        self.failure = Some(reason);
        self
    }

    /// Writes the event to the audit target (and counts it, `crate::counters`).
    pub fn emit(self) {
        crate::counters::count_event(self.name, self.failure);
        let context = current();
        let source_ip = context.source_ip.map(|ip| ip.to_string());
        tracing::info!(
            target: TARGET,
            event = self.name,
            pool_id = self.pool_id,
            sub = self.sub,
            client_id = self.client_id,
            source_ip = source_ip.as_deref(),
            request_id = context.request_id.as_deref(),
            access_key_id = context.access_key_id.as_deref(),
            outcome = if self.failure.is_some() { "failure" } else { "success" },
            reason = self.failure,
            "audit"
        );
    }
}

/// Shorthand: a successful event of a user (`sub`) in a pool.
pub fn user_event(name: &'static str, pool_id: &str, sub: &str) {
    Event::new(name, pool_id).user(sub).emit();
}

/// Shorthand: a successful admin action on a pool (the signing key comes
/// from the request context).
pub fn admin_event(name: &'static str, pool_id: &str) {
    Event::new(name, pool_id).emit();
}

/// The reason label of a failed sign-in step, from the error answered.
pub fn failure_reason(error: &crate::Error) -> &'static str {
    use crate::ErrorKind::*;
    match error.kind {
        UserNotFound => "unknown_user",
        UserNotConfirmed => "unconfirmed",
        PasswordResetRequired => "password_reset_required",
        CodeMismatch => "code_mismatch",
        ExpiredCode => "expired_code",
        TooManyRequests => "rate_limited",
        LimitExceeded => "limit_exceeded",
        NotAuthorized => match error.message.as_str() {
            "Password attempts exceeded" => "locked",
            "User is disabled." => "disabled",
            "Incorrect username or password." => "wrong_password",
            _ => "not_authorized",
        },
        UserLambdaValidation | UnexpectedLambda | InvalidLambdaResponse => "trigger_refused",
        Internal => "internal",
        _ => "refused",
    }
}

/// A user's recorded authentication event (AdminListUserAuthEvents), kept
/// per user in the store, the newest [`KEPT_AUTH_EVENTS`] only, in pools
/// whose AdvancedSecurityMode is AUDIT or ENFORCED (as Cognito records
/// them only then).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthEventRecord {
    pub event_id: String,
    /// SignIn, SignUp, ForgotPassword, PasswordChange or ResendCode.
    pub event_type: String,
    /// Milliseconds since the epoch.
    pub created: i64,
    /// Pass, Fail or InProgress.
    pub response: String,
    /// (ChallengeName, ChallengeResponse): Password / Mfa and Success / Failure.
    pub challenges: Vec<(String, String)>,
    pub ip_address: Option<String>,
    pub client_id: Option<String>,
    /// Set by (Admin)UpdateAuthEventFeedback; not part of the stored document.
    #[serde(skip)]
    pub feedback: Option<AuthEventFeedback>,
}

/// The feedback given on an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthEventFeedback {
    /// Valid or Invalid.
    pub value: String,
    /// Admin or User.
    pub provider: String,
    pub date: i64,
}

/// How many events are kept per user.
pub const KEPT_AUTH_EVENTS: usize = 50;

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
    /// The request's User-Agent (or the one an admin call's ContextData
    /// states for its user), at most [`MAX_USER_AGENT`] characters.
    pub user_agent: Option<String>,
    /// Set when threat protection found the password the request gave on
    /// the list of compromised passwords ([`mark_compromised_credentials`]).
    pub compromised_credentials: Mark,
    /// Set when the request answers an MFA challenge of a sign-in
    /// ([`mark_mfa_answered`]).
    pub mfa_answered: Mark,
    /// Threat protection's account-takeover assessment of the request's
    /// sign-in ([`set_risk`]).
    pub risk: RiskSlot,
}

/// The account-takeover risk threat protection found in a sign-in
/// (`service/risk.rs`): what the user's auth event records.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RiskAssessment {
    /// Low, Medium or High.
    pub level: String,
    /// The sign-in was refused for it (EventRisk's RiskDecision Block).
    pub blocked: bool,
    /// The id of the auth event that records the sign-in, chosen when the
    /// risk is found so a notification can name it.
    pub event_id: String,
    /// When the sign-in was assessed (the event's CreationDate).
    pub created: i64,
    /// The address and device assessed (the event's context, whichever
    /// request ends the sign-in).
    pub ip_address: Option<String>,
    pub device_name: String,
}

/// A request's [`RiskAssessment`], shared by copies of its context; every
/// slot equals every other, as [`Mark`]s do.
#[derive(Clone, Debug, Default)]
pub struct RiskSlot(std::sync::Arc<std::sync::Mutex<Option<RiskAssessment>>>);

impl PartialEq for RiskSlot {
    fn eq(&self, _: &RiskSlot) -> bool {
        true
    }
}

impl Eq for RiskSlot {}

/// A flag one step of a request raises for a later one to read; copies of
/// a request's context share it. Every mark equals every other, so a
/// context compares by what the request stated.
#[derive(Clone, Debug, Default)]
pub struct Mark(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Mark {
    fn raise(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_raised(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl PartialEq for Mark {
    fn eq(&self, _: &Mark) -> bool {
        true
    }
}

impl Eq for Mark {}

/// How much of a User-Agent header is kept.
pub const MAX_USER_AGENT: usize = 1024;

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

/// Records that the request's password is a compromised one, for the
/// user's auth event (its EventRisk).
pub fn mark_compromised_credentials() {
    let _ = REQUEST.try_with(|c| c.compromised_credentials.raise());
}

/// Whether [`mark_compromised_credentials`] was called in this request.
pub fn compromised_credentials() -> bool {
    REQUEST
        .try_with(|c| c.compromised_credentials.is_raised())
        .unwrap_or(false)
}

/// Records that the request answers a sign-in's MFA challenge (its auth
/// event's Mfa challenge response).
pub fn mark_mfa_answered() {
    let _ = REQUEST.try_with(|c| c.mfa_answered.raise());
}

/// Whether [`mark_mfa_answered`] was called in this request.
pub fn mfa_answered() -> bool {
    REQUEST
        .try_with(|c| c.mfa_answered.is_raised())
        .unwrap_or(false)
}

/// Records the account-takeover risk of the request's sign-in, for the
/// user's auth event.
pub fn set_risk(risk: RiskAssessment) {
    let _ = REQUEST.try_with(|c| {
        if let Ok(mut slot) = c.risk.0.lock() {
            *slot = Some(risk);
        }
    });
}

/// What [`set_risk`] recorded in this request.
pub fn risk() -> Option<RiskAssessment> {
    REQUEST
        .try_with(|c| c.risk.0.lock().ok().and_then(|slot| slot.clone()))
        .ok()
        .flatten()
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

/// What the user agent of the request being served says about the
/// device ([`device_of`]).
pub fn user_device() -> String {
    REQUEST
        .try_with(|c| device_of(c.user_agent.as_deref()))
        .unwrap_or_else(|_| device_of(None))
}

/// A short description of the device behind a User-Agent, as session
/// listings show it (DeviceType): the browser and the operating system
/// (`Chrome on Windows`), else the product the agent names first
/// (`aws-cli`, `Boto3`), else `unknown`.
pub fn device_of(user_agent: Option<&str>) -> String {
    let ua = user_agent.map(str::trim).unwrap_or_default();
    if ua.is_empty() {
        return "unknown".to_owned();
    }
    const SYSTEMS: [(&str, &str); 8] = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ];
    // Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
    const BROWSERS: [(&str, &str); 7] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("HeadlessChrome/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    let system = SYSTEMS
        .iter()
        .find(|(m, _)| ua.contains(m))
        .map(|(_, n)| *n);
    let browser = BROWSERS
        .iter()
        .find(|(m, _)| ua.contains(m))
        .map(|(_, n)| *n);
    let product = || {
        ua.split(['/', ' '])
            .next()
            .filter(|p| !p.is_empty())
            .map(|p| p.chars().take(64).collect::<String>())
    };
    let description = match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => match product() {
            Some(p) if p != "Mozilla" => format!("{p} on {s}"),
            _ => s.to_owned(),
        },
        (None, None) => product().unwrap_or_else(|| "unknown".to_owned()),
    };
    description.chars().filter(|c| !c.is_control()).collect()
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
    /// The device, as the request's User-Agent tells it ([`device_of`]).
    #[serde(default)]
    pub device_name: Option<String>,
    pub client_id: Option<String>,
    /// Threat protection found the password given on the list of
    /// compromised passwords (EventRisk's CompromisedCredentialsDetected).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compromised_credentials: bool,
    /// Threat protection's account-takeover risk level (Low, Medium or
    /// High; EventRisk's RiskLevel), where it found one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<String>,
    /// The sign-in was refused for that risk (RiskDecision Block).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub risk_blocked: bool,
    /// Where the address is, by the server's geo-IP database.
    #[serde(default, skip_serializing_if = "crate::geoip::Place::is_empty")]
    pub place: crate::geoip::Place,
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

#[cfg(test)]
mod tests {
    use super::device_of;

    #[test]
    fn devices_of_common_user_agents() {
        let cases = [
            (None, "unknown"),
            (Some("  "), "unknown"),
            (
                Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"),
                "Edge on Windows",
            ),
            (
                Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"),
                "Chrome on Linux",
            ),
            (
                Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"),
                "Safari on iOS",
            ),
            (
                Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0"),
                "Firefox on macOS",
            ),
            (
                Some("aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.debian.12"),
                "aws-cli on Linux",
            ),
            (Some("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1"), "Boto3"),
            (Some("reqwest"), "reqwest"),
        ];
        for (ua, want) in cases {
            assert_eq!(device_of(ua), want, "{ua:?}");
        }
    }
}

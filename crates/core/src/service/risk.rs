//! Threat protection (SetRiskConfiguration), as far as cognate acts on it.
//!
//! - IP address exceptions (RiskExceptionConfiguration): the CIDR ranges
//!   are checked when they are set, and in a pool whose AdvancedSecurityMode
//!   is ENFORCED a sign-in from an always-block range is refused before any
//!   credential is looked at. The address is the end user's
//!   ([`audit::user_ip`]): the request's source, or what AdminInitiateAuth's
//!   ContextData states.
//! - Compromised credentials (CompromisedCredentialsRiskConfiguration): a
//!   password given in plaintext (a password sign-in, a sign-up, a new
//!   password) is looked up in the server's list of compromised passwords
//!   (`crate::compromised`) in a pool with AdvancedSecurityMode AUDIT or
//!   ENFORCED, for the events of the configuration's EventFilter (all
//!   when it has none). A find is recorded on the user's auth event; where
//!   the pool is ENFORCED and the EventAction is BLOCK, a sign-in sets the
//!   user RESET_REQUIRED and answers PasswordResetRequiredException, as
//!   Cognito documents, and a sign-up or new password is refused.
//!
//! - Account takeover (AccountTakeoverRiskConfiguration): every proven
//!   password (or SRP proof) of a CONFIRMED user is assessed in a pool with
//!   AdvancedSecurityMode AUDIT or ENFORCED ([`score`], cognate's own
//!   model: AWS documents the inputs, a new device, location or IP
//!   address, but not how it weighs them). The level is recorded on the
//!   user's auth event (RiskDecision AccountTakeover, RiskLevel); where
//!   the pool is ENFORCED, the configured action of that level is taken:
//!   NO_ACTION, MFA_IF_CONFIGURED, MFA_REQUIRED or BLOCK, with a
//!   notification email when its Notify is set (NotifyConfiguration's
//!   templates, whose one-click links record feedback on the event).
//!   Addresses in the always-allow list (SkippedIPRangeList) are not
//!   assessed.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use super::UserPools;
use crate::audit;
use crate::audit::{AuthEventRecord, RiskAssessment};
use crate::delivery::OutgoingMessage;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{RiskConfiguration, User, UserPool};

/// The lists of a RiskExceptionConfiguration.
const LISTS: [&str; 2] = ["BlockedIPRangeList", "SkippedIPRangeList"];

/// One range in CIDR notation; a bare address is a range of one.
fn range(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Refuses a RiskExceptionConfiguration whose ranges are not CIDR ranges.
pub fn check_exceptions(exceptions: &Value) -> Result<()> {
    for list in LISTS {
        for entry in exceptions[list].as_array().into_iter().flatten() {
            let text = entry.as_str().unwrap_or_default();
            if range(text).is_none() {
                return Err(Error::invalid_parameter(format!(
                    "{list} has an entry that is not an IP address range in CIDR notation: '{}'.",
                    text.chars().take(64).collect::<String>()
                )));
            }
        }
    }
    Ok(())
}

/// Whether the pool enforces threat protection (AdvancedSecurityMode
/// ENFORCED; AUDIT only records).
fn enforced(pool: &UserPool) -> bool {
    pool.settings.advanced_security_mode() == Some("ENFORCED")
}

/// Whether `ip` is in one of the `list` ranges of `exceptions`.
fn listed(exceptions: &Value, list: &str, ip: IpAddr) -> bool {
    exceptions[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str().and_then(range))
        .any(|net| net.contains(&ip) || ip.to_canonical() != ip && net.contains(&ip.to_canonical()))
}

/// The risk configuration that applies to a client: its own, else the pool's.
fn configuration<'a>(pool: &'a UserPool, client_id: Option<&str>) -> Option<&'a RiskConfiguration> {
    client_id
        .and_then(|id| {
            pool.risk_configurations
                .iter()
                .find(|r| r.client_id.as_deref() == Some(id))
        })
        .or_else(|| {
            pool.risk_configurations
                .iter()
                .find(|r| r.client_id.is_none())
        })
}

/// The user events the compromised-credentials check watches
/// (CompromisedCredentialsRiskConfiguration's EventFilter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CredentialEvent {
    SignIn,
    SignUp,
    /// A new password: ChangePassword, ConfirmForgotPassword, the
    /// NEW_PASSWORD_REQUIRED challenge.
    PasswordChange,
}

impl CredentialEvent {
    fn filter_name(self) -> &'static str {
        match self {
            CredentialEvent::SignIn => "SIGN_IN",
            CredentialEvent::SignUp => "SIGN_UP",
            CredentialEvent::PasswordChange => "PASSWORD_CHANGE",
        }
    }
}

/// The refusal of a compromised password at a sign-up or a password
/// change (the text is cognate's: AWS does not publish it).
fn compromised_password() -> Error {
    Error::new(
        ErrorKind::InvalidPassword,
        "Password did not conform with policy: Password was found in a list of compromised passwords",
    )
}

impl UserPools {
    /// The compromised-credentials check of a password given in plaintext
    /// (see the module's documentation): whether it blocks `event`. A find
    /// is marked for the user's auth event of this request. A list that
    /// cannot be read lets the password through, with a warning logged.
    pub(crate) async fn compromised_password_blocks(
        &self,
        pool: &UserPool,
        client_id: Option<&str>,
        event: CredentialEvent,
        password: &str,
    ) -> bool {
        let Some(list) = self.compromised.clone() else {
            return false;
        };
        if !super::auth_events::records_auth_events(pool) {
            return false;
        }
        let config =
            configuration(pool, client_id).and_then(|c| c.compromised_credentials.as_ref());
        let watched = config
            .and_then(|c| c.get("EventFilter"))
            .and_then(Value::as_array)
            .is_none_or(|events| {
                events
                    .iter()
                    .any(|e| e.as_str() == Some(event.filter_name()))
            });
        if !watched {
            return false;
        }
        let password = password.to_owned();
        let found = match tokio::task::spawn_blocking(move || list.contains(&password)).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "looking a password up in the compromised-password list failed");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "looking a password up in the compromised-password list failed");
                false
            }
        };
        if !found {
            return false;
        }
        audit::mark_compromised_credentials();
        let blocks = enforced(pool)
            && config
                .and_then(|c| c.pointer("/Actions/EventAction"))
                .and_then(Value::as_str)
                == Some("BLOCK");
        let mut line = audit::Event::new("compromised_credentials", &pool.id);
        line.client_id = client_id;
        if blocks {
            line = line.failed("blocked");
        }
        line.emit();
        blocks
    }

    /// Refuses a new password (a sign-up's, or a change's) that the
    /// compromised-credentials check blocks for `event`.
    pub(crate) async fn refuse_compromised_password(
        &self,
        pool: &UserPool,
        client_id: Option<&str>,
        event: CredentialEvent,
        password: &str,
    ) -> Result<()> {
        if self
            .compromised_password_blocks(pool, client_id, event, password)
            .await
        {
            return Err(compromised_password());
        }
        Ok(())
    }

    /// Refuses a sign-in from an always-block range of the client's risk
    /// configuration (its own, else the pool's) where threat protection
    /// is enforced.
    pub(crate) fn check_blocked_ip(&self, pool: &UserPool, client_id: &str) -> Result<()> {
        if !enforced(pool) {
            return Ok(());
        }
        let Some(ip) = audit::user_ip() else {
            return Ok(());
        };
        let config = configuration(pool, Some(client_id));
        let Some(exceptions) = config.and_then(|c| c.risk_exception.as_ref()) else {
            return Ok(());
        };
        if listed(exceptions, "BlockedIPRangeList", ip) {
            audit::Event::new("sign_in", &pool.id)
                .client(client_id)
                .failed("blocked_ip")
                .emit();
            // The text Cognito's users report for a blocked address.
            return Err(Error::new(
                ErrorKind::NotAuthorized,
                "Request not allowed due to security reasons.",
            ));
        }
        Ok(())
    }
}

/// A level of account-takeover risk, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RiskLevel {
    Low,
    Medium,
    High,
}

impl RiskLevel {
    fn name(self) -> &'static str {
        match self {
            RiskLevel::Low => "Low",
            RiskLevel::Medium => "Medium",
            RiskLevel::High => "High",
        }
    }

    /// Its member of AccountTakeoverActionsType.
    fn action_member(self) -> &'static str {
        match self {
            RiskLevel::Low => "LowAction",
            RiskLevel::Medium => "MediumAction",
            RiskLevel::High => "HighAction",
        }
    }
}

/// The network an address belongs to, for [`score`]: its /24 (IPv4) or
/// /64 (IPv6).
fn network(ip: IpAddr) -> Option<IpNet> {
    let ip = ip.to_canonical();
    let prefix = if ip.is_ipv4() { 24 } else { 64 };
    IpNet::new(ip, prefix).ok().map(|n| n.trunc())
}

/// cognate's account-takeover score of a sign-in from `ip` on `device` (a
/// device name as [`audit::device_of`] reads a User-Agent), against the
/// user's recorded events (`history`, newest first):
///
/// - an address of an event someone marked Invalid (the user's "this was
///   not me", or an administrator's) is High;
/// - no risk (`None`) where nothing is known to compare with (no trusted
///   sign-in yet) or the address is one of a trusted sign-in;
/// - Low from a new address in the network (/24, /64) of a trusted sign-in;
/// - Medium from a new network on a device name a trusted sign-in used, or
///   in a country of a trusted sign-in (where the geo-IP database places
///   both);
/// - High from a new network, a new device and a new (or unknown) country.
///
/// A trusted sign-in is a SignIn event that passed and was not marked
/// Invalid, or one marked Valid. A sign-in still InProgress (an MFA
/// challenge no one answered) is not: an attacker with the password alone
/// must not make an address known.
pub(crate) fn score(
    history: &[AuthEventRecord],
    ip: IpAddr,
    device: &str,
    country: Option<&str>,
) -> Option<RiskLevel> {
    let ip = ip.to_canonical();
    let address = |e: &AuthEventRecord| {
        e.ip_address
            .as_deref()
            .and_then(|a| a.parse::<IpAddr>().ok())
            .map(|a| a.to_canonical())
    };
    let marked =
        |e: &AuthEventRecord, value: &str| e.feedback.as_ref().is_some_and(|f| f.value == value);
    let sign_ins = history.iter().filter(|e| e.event_type == "SignIn");
    if sign_ins
        .clone()
        .any(|e| marked(e, "Invalid") && address(e) == Some(ip))
    {
        return Some(RiskLevel::High);
    }
    let trusted: Vec<&AuthEventRecord> = sign_ins
        .filter(|e| {
            marked(e, "Valid") || (e.response == "Pass" && !e.risk_blocked && !marked(e, "Invalid"))
        })
        .collect();
    if trusted.is_empty() || trusted.iter().any(|e| address(e) == Some(ip)) {
        return None;
    }
    let net = network(ip);
    if trusted
        .iter()
        .any(|e| address(e).and_then(network) == net && net.is_some())
    {
        return Some(RiskLevel::Low);
    }
    if trusted.iter().any(|e| {
        e.device_name.as_deref() == Some(device)
            || country.is_some() && e.place.country.as_deref() == country
    }) {
        return Some(RiskLevel::Medium);
    }
    Some(RiskLevel::High)
}

/// What threat protection asks of an assessed sign-in that it lets go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Takeover {
    /// Nothing: no risk found, or no action for it.
    Proceed,
    /// A second factor (MFA_IF_CONFIGURED or MFA_REQUIRED, and the user has
    /// one); `notify` sends the MfaEmail once the challenge is out.
    Mfa { notify: bool },
}

/// The refusal of a sign-in threat protection blocks: the text Cognito's
/// users report for adaptive authentication's block.
fn blocked_sign_in() -> Error {
    Error::new(
        ErrorKind::NotAuthorized,
        "Unable to login because of security reasons.",
    )
}

/// The three kinds of risk notification (NotifyConfigurationType's
/// BlockEmail, MfaEmail and NoActionEmail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    Block,
    Mfa,
    NoAction,
}

impl Notice {
    fn member(self) -> &'static str {
        match self {
            Notice::Block => "BlockEmail",
            Notice::Mfa => "MfaEmail",
            Notice::NoAction => "NoActionEmail",
        }
    }

    /// cognate's own template, for a configuration without one.
    fn default_template(self) -> (&'static str, String) {
        let (subject, what) = match self {
            Notice::Block => ("Blocked sign-in attempt", "We blocked"),
            Notice::Mfa => ("New sign-in attempt", "We asked for a second factor at"),
            Notice::NoAction => ("New sign-in to your account", "We noticed"),
        };
        let body = format!(
            "{what} an unrecognized sign-in to your account {{username}}:\n\
             time {{login-time}}, device {{device-name}}, IP address {{ip-address}}.\n\
             If this was not you, change your password and tell us: {{one-click-link-invalid}}\n\
             If this was you, tell us: {{one-click-link-valid}}\n"
        );
        (subject, body)
    }
}

/// Escapes text for an HTML body.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills a notification template's placeholders (`{username}`,
/// `{ip-address}`, `{city}`, `{country}`, `{login-time}`,
/// `{device-name}`, `{event-id}`, `{feedback-token}`,
/// `{one-click-link-valid}`, `{one-click-link-invalid}`); `escape` for an
/// HTML body, where the values (a User-Agent's device name among them)
/// must stay text.
fn fill(template: &str, values: &[(&str, String)], escape: bool) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        let value = if escape {
            html_escape(value)
        } else {
            value.clone()
        };
        out = out.replace(name, &value);
    }
    out
}

/// A time as notifications show it: `2026-12-07T14:55:02Z`.
fn login_time(millis: i64) -> String {
    super::saml_response::format_instant(millis.div_euclid(1000))
}

impl UserPools {
    /// The account-takeover assessment of a proven password (see the
    /// module's documentation): records the risk found for the sign-in's
    /// auth event and answers what the pool's configured action asks.
    /// BLOCK (and MFA_REQUIRED for a user without a factor) is an error,
    /// after its notification. `device_proven`: the sign-in names a device
    /// of the user that it will prove before tokens (no risk).
    pub(crate) async fn assess_takeover(
        &self,
        pool: &UserPool,
        client_id: &str,
        user: &User,
        device_proven: bool,
    ) -> Result<Takeover> {
        if device_proven || !super::auth_events::records_auth_events(pool) {
            return Ok(Takeover::Proceed);
        }
        let Some(ip) = audit::user_ip() else {
            return Ok(Takeover::Proceed);
        };
        let config = configuration(pool, Some(client_id));
        if config
            .and_then(|c| c.risk_exception.as_ref())
            .is_some_and(|ex| listed(ex, "SkippedIPRangeList", ip))
        {
            return Ok(Takeover::Proceed);
        }
        let history = match self
            .store
            .list_auth_events(&pool.id, &user.username_key)
            .await
        {
            Ok(history) => history,
            Err(e) => {
                tracing::warn!(error = %e, pool_id = %pool.id, "reading auth events for a risk assessment failed");
                return Ok(Takeover::Proceed);
            }
        };
        let device = audit::user_device();
        let place = self.locate(Some(ip));
        let Some(level) = score(&history, ip, &device, place.country.as_deref()) else {
            return Ok(Takeover::Proceed);
        };
        let action = config
            .and_then(|c| c.account_takeover.as_ref())
            .and_then(|a| a.pointer(&format!("/Actions/{}", level.action_member())))
            .filter(|_| enforced(pool));
        let event_action = action
            .and_then(|a| a.get("EventAction"))
            .and_then(Value::as_str)
            .unwrap_or("NO_ACTION");
        let notify = action
            .and_then(|a| a.get("Notify"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let can_mfa = Self::mfa_challenge(pool, user).is_some()
            || Self::risk_mfa_challenge(pool, user).is_some();
        let blocked = event_action == "BLOCK" || (event_action == "MFA_REQUIRED" && !can_mfa);
        let assessment = RiskAssessment {
            level: level.name().to_owned(),
            blocked,
            event_id: cognate_crypto::random::uuid(),
            created: self.now(),
            ip_address: Some(ip.to_string()),
            device_name: device,
        };
        audit::set_risk(assessment.clone());
        let mut line = audit::Event::new("account_takeover_risk", &pool.id).user(&user.sub);
        line.client_id = Some(client_id);
        if blocked {
            line = line.failed("blocked");
        }
        line.emit();
        if blocked {
            if notify {
                self.notify_risk(pool, client_id, user, &assessment, Notice::Block)
                    .await;
            }
            return Err(blocked_sign_in());
        }
        if matches!(event_action, "MFA_IF_CONFIGURED" | "MFA_REQUIRED") && can_mfa {
            return Ok(Takeover::Mfa { notify });
        }
        if notify {
            self.notify_risk(pool, client_id, user, &assessment, Notice::NoAction)
                .await;
        }
        Ok(Takeover::Proceed)
    }

    /// Sends a risk notification to the user's email address, from the
    /// configuration's NotifyConfiguration (its sender and template, else
    /// cognate's). Its one-click links lead to the server's feedback page
    /// for the event. A user without an email address gets none; a failed
    /// delivery is logged, never the sign-in's error.
    pub(crate) async fn notify_risk(
        &self,
        pool: &UserPool,
        client_id: &str,
        user: &User,
        assessment: &RiskAssessment,
        notice: Notice,
    ) {
        let Some(email) = user.attribute("email") else {
            return;
        };
        let notify = configuration(pool, Some(client_id))
            .and_then(|c| c.account_takeover.as_ref())
            .and_then(|a| a.get("NotifyConfiguration"));
        let text = |v: Option<&Value>, name: &str| {
            v.and_then(|v| v.get(name))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
        };
        let template = notify.and_then(|n| n.get(notice.member()));
        let (default_subject, default_body) = notice.default_template();
        let token = match self
            .feedback_token(&pool.id, &user.username_key, &assessment.event_id)
            .await
        {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(error = %e, "no feedback token for a risk notification");
                return;
            }
        };
        let link = |value: &str| {
            format!(
                "{}/risk-feedback?{}",
                self.config.public_url,
                [
                    ("pool", pool.id.as_str()),
                    ("username", user.username.as_str()),
                    ("event", assessment.event_id.as_str()),
                    ("value", value),
                    ("token", token.as_str()),
                ]
                .iter()
                .map(|(k, v)| format!("{k}={}", super::federation::percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
            )
        };
        let place = self.locate(
            assessment
                .ip_address
                .as_deref()
                .and_then(|ip| ip.parse().ok()),
        );
        let values = [
            ("{username}", user.username.clone()),
            (
                "{ip-address}",
                assessment.ip_address.clone().unwrap_or_default(),
            ),
            // Empty where the server has no geo-IP database.
            ("{city}", place.city.unwrap_or_default()),
            ("{country}", place.country.unwrap_or_default()),
            ("{login-time}", login_time(assessment.created)),
            ("{device-name}", assessment.device_name.clone()),
            ("{event-id}", assessment.event_id.clone()),
            ("{feedback-token}", token.clone()),
            ("{one-click-link-valid}", link("Valid")),
            ("{one-click-link-invalid}", link("Invalid")),
        ];
        let subject = text(template, "Subject").unwrap_or_else(|| default_subject.to_owned());
        let html = text(template, "HtmlBody");
        let body = text(template, "TextBody")
            .or_else(|| html.is_none().then_some(default_body))
            .unwrap_or_default();
        let mut message = OutgoingMessage {
            pool_id: pool.id.clone(),
            username: user.username.clone(),
            destination: email.to_owned(),
            medium: "EMAIL".into(),
            kind: "risk_notification".into(),
            // One line: the subject is a header.
            subject: fill(&subject, &values, false).replace(['\r', '\n'], " "),
            body: fill(&body, &values, false),
            html_body: html.map(|h| fill(&h, &values, true)),
            ..OutgoingMessage::from_pool(pool)
        };
        // As the pool's own emails: From, else the address of the SES
        // identity SourceArn names.
        let source_address = text(notify, "SourceArn").and_then(|arn| {
            arn.rsplit_once(":identity/")
                .map(|(_, id)| id.to_owned())
                .filter(|id| id.contains('@'))
        });
        if let Some(from) = text(notify, "From").or(source_address) {
            message.from = Some(from);
        }
        if let Some(reply_to) = text(notify, "ReplyTo") {
            message.reply_to = Some(reply_to);
        }
        if let Err(error) = self.deliver(message).await {
            tracing::warn!(pool = %pool.id, error = %error.message, "sending a risk notification failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sign_in(ip: &str, device: &str, response: &str, feedback: Option<&str>) -> AuthEventRecord {
        AuthEventRecord {
            event_id: cognate_crypto::random::uuid(),
            event_type: "SignIn".into(),
            created: 0,
            response: response.into(),
            challenges: vec![],
            ip_address: Some(ip.into()),
            device_name: Some(device.into()),
            client_id: None,
            compromised_credentials: false,
            risk_level: None,
            risk_blocked: false,
            place: Default::default(),
            feedback: feedback.map(|value| crate::audit::AuthEventFeedback {
                value: value.into(),
                provider: "User".into(),
                date: 0,
            }),
        }
    }

    fn at(history: &[AuthEventRecord], ip: &str, device: &str) -> Option<RiskLevel> {
        score(history, ip.parse().unwrap(), device, None)
    }

    #[test]
    fn takeover_score() {
        let home = sign_in("192.0.2.10", "Firefox on Linux", "Pass", None);
        // Nothing to compare with: no risk.
        assert_eq!(at(&[], "203.0.113.5", "Firefox on Linux"), None);
        let failed = sign_in("192.0.2.10", "Firefox on Linux", "Fail", None);
        assert_eq!(at(&[failed], "203.0.113.5", "curl"), None);
        // An MFA challenge no one answered makes no address known.
        let pending = sign_in("203.0.113.5", "curl", "InProgress", None);
        let known = sign_in("192.0.2.10", "Firefox on Linux", "Pass", None);
        assert_eq!(
            at(&[pending, known], "203.0.113.5", "curl"),
            Some(RiskLevel::High)
        );
        let history = [home.clone()];
        assert_eq!(at(&history, "192.0.2.10", "curl"), None);
        assert_eq!(at(&history, "::ffff:192.0.2.10", "curl"), None);
        assert_eq!(at(&history, "192.0.2.77", "curl"), Some(RiskLevel::Low));
        assert_eq!(
            at(&history, "203.0.113.5", "Firefox on Linux"),
            Some(RiskLevel::Medium)
        );
        assert_eq!(at(&history, "203.0.113.5", "curl"), Some(RiskLevel::High));
        // IPv6 networks are /64s.
        let v6 = [sign_in("2001:db8:1:2::1", "curl", "Pass", None)];
        assert_eq!(at(&v6, "2001:db8:1:2:ffff::9", "x"), Some(RiskLevel::Low));
        assert_eq!(at(&v6, "2001:db8:1:3::1", "curl"), Some(RiskLevel::Medium));
        // "This was not me": that address is High, even where it signed in.
        let denied = [
            home.clone(),
            sign_in("198.51.100.4", "curl", "Pass", Some("Invalid")),
        ];
        assert_eq!(
            at(&denied, "198.51.100.4", "Firefox on Linux"),
            Some(RiskLevel::High)
        );
        // "This was me" on a blocked sign-in: its address is known.
        let mut blocked = sign_in("198.51.100.4", "curl", "Fail", Some("Valid"));
        blocked.risk_blocked = true;
        assert_eq!(
            at(&[home.clone(), blocked.clone()], "198.51.100.4", "curl"),
            None
        );
        blocked.feedback = None;
        assert_eq!(
            at(&[home.clone(), blocked], "198.51.100.4", "curl"),
            Some(RiskLevel::High)
        );
        // A country a trusted sign-in came from (where both are placed).
        let mut placed = home;
        placed.place.country = Some("France".into());
        let history = [placed];
        let ip: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(
            score(&history, ip, "curl", Some("France")),
            Some(RiskLevel::Medium)
        );
        assert_eq!(
            score(&history, ip, "curl", Some("Spain")),
            Some(RiskLevel::High)
        );
        assert_eq!(score(&history, ip, "curl", None), Some(RiskLevel::High));
    }

    #[test]
    fn notification_values_are_escaped_in_html() {
        let values = [("{device-name}", "<script>\"x\"</script> & co".to_owned())];
        assert_eq!(
            fill("<b>{device-name}</b>", &values, true),
            "<b>&lt;script&gt;&quot;x&quot;&lt;/script&gt; &amp; co</b>"
        );
        assert_eq!(fill("{device-name}", &values, false), values[0].1);
        assert_eq!(login_time(1_796_655_302_000), "2026-12-07T14:55:02Z");
    }

    #[test]
    fn ranges_are_cidr() {
        check_exceptions(
            &json!({"BlockedIPRangeList": ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"],
                                 "SkippedIPRangeList": []}),
        )
        .unwrap();
        for bad in ["192.0.2.0/33", "example.com", "", "10.0.0.0/8/1"] {
            let e = check_exceptions(&json!({"SkippedIPRangeList": [bad]})).unwrap_err();
            assert!(e.to_string().contains("SkippedIPRangeList"), "{bad}: {e}");
        }
    }

    #[test]
    fn addresses_are_matched_by_range() {
        let ex = json!({"BlockedIPRangeList": ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]});
        let yes = [
            "192.0.2.200",
            "2001:db8::1",
            "198.51.100.7",
            "::ffff:192.0.2.9",
        ];
        let no = ["192.0.3.1", "2001:db9::1", "198.51.100.8", "127.0.0.1"];
        for ip in yes {
            assert!(
                listed(&ex, "BlockedIPRangeList", ip.parse().unwrap()),
                "{ip}"
            );
        }
        for ip in no {
            assert!(
                !listed(&ex, "BlockedIPRangeList", ip.parse().unwrap()),
                "{ip}"
            );
        }
    }
}

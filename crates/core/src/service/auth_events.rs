//! Security events: the audit line of each (`crate::audit`), and the
//! per-user record of sign-ins and account events that
//! AdminListUserAuthEvents reads, kept in pools whose AdvancedSecurityMode
//! is AUDIT or ENFORCED. AdminUpdateAuthEventFeedback and
//! UpdateAuthEventFeedback (with a FeedbackToken, an HMAC of the event
//! under the server's secret) set an event's feedback.

use crate::audit::{self, AuthEventFeedback, AuthEventRecord, Event, KEPT_AUTH_EVENTS};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{User, UserPool};

use super::{decode_token, Page, UserPools};

/// Whether a pool records its users' authentication events.
pub(crate) fn records_auth_events(pool: &UserPool) -> bool {
    pool.settings.threat_protection_on()
}

fn add_on_not_enabled() -> Error {
    Error::new(
        ErrorKind::UserPoolAddOnNotEnabled,
        "Advanced security features are not enabled for this user pool.",
    )
}

/// Events on the audit log that are also a user's recorded event type.
fn event_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "sign_in" => "SignIn",
        "sign_up" => "SignUp",
        "forgot_password" => "ForgotPassword",
        "confirm_forgot_password" | "change_password" => "PasswordChange",
        "resend_confirmation_code" => "ResendCode",
        _ => return None,
    })
}

impl UserPools {
    /// A user's security event: its audit line, and (for the event types
    /// Cognito records, in a pool that records them) its record.
    pub(crate) async fn user_event(
        &self,
        name: &'static str,
        pool: &UserPool,
        user: &User,
        client_id: Option<&str>,
    ) {
        let mut event = Event::new(name, &pool.id).user(&user.sub);
        event.client_id = client_id;
        event.emit();
        if event_type(name).is_some() {
            self.record_event(pool, user, name, "Pass", &[], client_id)
                .await;
        }
    }

    /// A sign-in that issued tokens (or a hosted-UI session).
    pub(crate) async fn signed_in(
        &self,
        pool: &UserPool,
        user: &User,
        client_id: Option<&str>,
        mfa: bool,
    ) {
        let mut event = Event::new("sign_in", &pool.id).user(&user.sub);
        event.client_id = client_id;
        event.emit();
        let challenges: &[(&str, &str)] = if mfa {
            &[("Password", "Success"), ("Mfa", "Success")]
        } else {
            &[("Password", "Success")]
        };
        self.record_event(pool, user, "sign_in", "Pass", challenges, client_id)
            .await;
    }

    /// A refused sign-in step; `user` if the name given is a user of the pool.
    pub(crate) async fn sign_in_failed(
        &self,
        pool: &UserPool,
        user: Option<&User>,
        client_id: &str,
        reason: &'static str,
    ) {
        let reason = match (user, reason) {
            (None, "wrong_password") => "unknown_user",
            // Threat protection refused a proven password.
            (_, "password_reset_required") if audit::compromised_credentials() => {
                "compromised_credentials"
            }
            // Threat protection refused a proven password for the risk.
            (Some(_), "not_authorized") if audit::risk().is_some_and(|r| r.blocked) => {
                "account_takeover"
            }
            _ => reason,
        };
        let mut event = Event::new("sign_in", &pool.id)
            .client(client_id)
            .failed(reason);
        event.sub = user.map(|u| u.sub.as_str());
        event.emit();
        if let Some(user) = user {
            let challenges: &[(&str, &str)] = if reason == "mfa_failure" {
                &[("Password", "Success"), ("Mfa", "Failure")]
            } else if reason == "compromised_credentials" || reason == "account_takeover" {
                &[("Password", "Success")]
            } else {
                &[("Password", "Failure")]
            };
            self.record_event(pool, user, "sign_in", "Fail", challenges, Some(client_id))
                .await;
        }
    }

    /// A sign-in that threat protection sent to an MFA challenge: recorded
    /// as InProgress under the assessment's event id, until the answer's
    /// event replaces it.
    pub(crate) async fn sign_in_in_progress(&self, pool: &UserPool, user: &User, client_id: &str) {
        self.record_event(
            pool,
            user,
            "sign_in",
            "InProgress",
            &[("Password", "Success")],
            Some(client_id),
        )
        .await;
    }

    /// Stores a user's event in a pool that records them; a failure to
    /// store is logged, never the caller's error.
    async fn record_event(
        &self,
        pool: &UserPool,
        user: &User,
        name: &str,
        response: &str,
        challenges: &[(&str, &str)],
        client_id: Option<&str>,
    ) {
        let Some(event_type) = event_type(name) else {
            return;
        };
        if !records_auth_events(pool) {
            return;
        }
        // A sign-in threat protection assessed is recorded under the id its
        // assessment chose (a notification may already name it).
        let risk = audit::risk().filter(|_| event_type == "SignIn");
        let ip_address = match &risk {
            Some(r) => r.ip_address.clone(),
            None => audit::user_ip().map(|ip| ip.to_string()),
        };
        let place = self.locate(ip_address.as_deref().and_then(|ip| ip.parse().ok()));
        let record = AuthEventRecord {
            event_id: risk
                .as_ref()
                .map_or_else(cognate_crypto::random::uuid, |r| r.event_id.clone()),
            event_type: event_type.to_owned(),
            created: risk.as_ref().map_or_else(|| self.now(), |r| r.created),
            response: response.to_owned(),
            challenges: challenges
                .iter()
                .map(|(n, r)| ((*n).to_owned(), (*r).to_owned()))
                .collect(),
            ip_address,
            device_name: Some(
                risk.as_ref()
                    .map_or_else(audit::user_device, |r| r.device_name.clone()),
            ),
            client_id: client_id.map(str::to_owned),
            compromised_credentials: audit::compromised_credentials(),
            risk_level: risk.as_ref().map(|r| r.level.clone()),
            risk_blocked: risk.as_ref().is_some_and(|r| r.blocked),
            place,
            feedback: None,
        };
        if let Err(e) = self
            .store
            .add_auth_event(&pool.id, &user.username_key, &record, KEPT_AUTH_EVENTS)
            .await
        {
            tracing::warn!(error = %e, pool_id = %pool.id, "recording an auth event failed");
        }
    }

    /// The FeedbackToken of an event: an HMAC of pool, user and event
    /// under the server's secret.
    pub(crate) async fn feedback_token(
        &self,
        pool_id: &str,
        username_key: &str,
        event_id: &str,
    ) -> Result<String> {
        let key = self.cookie_key().await?;
        let mac = cognate_crypto::digest::hmac_sha256(
            key,
            format!("auth-event-feedback\u{0}{pool_id}\u{0}{username_key}\u{0}{event_id}")
                .as_bytes(),
        );
        use base64::Engine;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac))
    }

    /// AdminListUserAuthEvents: newest first, `max_results` (60 when 0 or
    /// absent) a page; each with its FeedbackToken.
    pub async fn admin_list_user_auth_events(
        &self,
        pool_id: &str,
        username: &str,
        max_results: Option<i64>,
        next: Option<&str>,
    ) -> Result<Page<(AuthEventRecord, String)>> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        if !records_auth_events(&pool) {
            return Err(add_on_not_enabled());
        }
        let limit = match max_results {
            Some(n) if n > 0 => usize::try_from(n).unwrap_or(60),
            _ => 60,
        };
        let events = self
            .store
            .list_auth_events(&pool.id, &user.username_key)
            .await?;
        let start = match next {
            None => 0,
            Some(token) => {
                let after = decode_token(token)?;
                events
                    .iter()
                    .position(|e| e.event_id == after)
                    .map(|i| i + 1)
                    .ok_or_else(|| Error::invalid_parameter("Invalid pagination token."))?
            }
        };
        let mut items = Vec::new();
        for event in events.into_iter().skip(start).take(limit + 1) {
            let token = self
                .feedback_token(&pool.id, &user.username_key, &event.event_id)
                .await?;
            items.push((event, token));
        }
        Ok(Page::from_overfetch(items, limit, |(e, _)| &e.event_id))
    }

    /// AdminUpdateAuthEventFeedback.
    pub async fn admin_update_auth_event_feedback(
        &self,
        pool_id: &str,
        username: &str,
        event_id: &str,
        value: &str,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        if !records_auth_events(&pool) {
            return Err(add_on_not_enabled());
        }
        self.set_feedback(&pool, &user, event_id, value, "Admin")
            .await?;
        Event::new("admin_update_auth_event_feedback", &pool.id)
            .user(&user.sub)
            .emit();
        Ok(())
    }

    /// UpdateAuthEventFeedback: the FeedbackToken proves the caller was
    /// given the event (compared in constant time).
    pub async fn update_auth_event_feedback(
        &self,
        pool_id: &str,
        username: &str,
        event_id: &str,
        token: &str,
        value: &str,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        if !records_auth_events(&pool) {
            return Err(add_on_not_enabled());
        }
        let expected = self
            .feedback_token(&pool.id, &user.username_key, event_id)
            .await?;
        if !cognate_crypto::digest::constant_time_eq(expected.as_bytes(), token.as_bytes()) {
            Event::new("update_auth_event_feedback", &pool.id)
                .user(&user.sub)
                .failed("invalid_feedback_token")
                .emit();
            return Err(Error::not_authorized("Invalid feedback token."));
        }
        self.set_feedback(&pool, &user, event_id, value, "User")
            .await?;
        Event::new("update_auth_event_feedback", &pool.id)
            .user(&user.sub)
            .emit();
        Ok(())
    }

    async fn set_feedback(
        &self,
        pool: &UserPool,
        user: &User,
        event_id: &str,
        value: &str,
        provider: &str,
    ) -> Result<()> {
        let value = match value.to_ascii_lowercase().as_str() {
            "valid" => "Valid",
            "invalid" => "Invalid",
            _ => {
                return Err(Error::invalid_parameter(
                    "FeedbackValue must be Valid or Invalid.",
                ))
            }
        };
        let feedback = AuthEventFeedback {
            value: value.to_owned(),
            provider: provider.to_owned(),
            date: self.now(),
        };
        if self
            .store
            .set_auth_event_feedback(&pool.id, &user.username_key, event_id, &feedback)
            .await?
        {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::ResourceNotFound,
                format!("Auth event {event_id} does not exist for the user."),
            ))
        }
    }
}

//! Message delivery. With an SMTP server configured (`--smtp-url`), emails
//! go out by SMTP (lettre); with an SNS endpoint (`--sns-endpoint`), SMS
//! goes out by SNS (`crate::sms`). Without them, each message is appended as a JSON line to
//! `<data-dir>/outbox.jsonl` (mode 0600), so a developer (or a test) can
//! read the code. Codes are also logged in development mode (no SMTP);
//! temporary passwords never are, and with SMTP configured nothing of an
//! SMS is logged.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use cognate_core::delivery::{MessageSink, OutgoingMessage};
use serde_json::json;

pub struct DevOutbox {
    path: PathBuf,
    lock: Mutex<()>,
    /// Whether the log line shows the code (development delivery only,
    /// never a temporary password).
    log_codes: bool,
}

impl DevOutbox {
    /// The development outbox: every message, codes shown in the log.
    pub fn new(path: PathBuf) -> Self {
        DevOutbox {
            path,
            lock: Mutex::new(()),
            log_codes: true,
        }
    }

    /// Where SMS goes when email has a real transport and SMS has none:
    /// the outbox file only, nothing secret in the log.
    pub fn for_undeliverable_sms(path: PathBuf) -> Self {
        DevOutbox {
            log_codes: false,
            ..DevOutbox::new(path)
        }
    }
}

/// Whether a message's `code` is a temporary password (an invitation)
/// rather than a short verification code.
fn carries_password(m: &OutgoingMessage) -> bool {
    m.kind == "invite"
}

#[async_trait]
impl MessageSink for DevOutbox {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), String> {
        let line = json!({
            "time": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            "pool_id": m.pool_id,
            "username": m.username,
            "destination": m.destination,
            "medium": m.medium,
            "kind": m.kind,
            "subject": m.subject,
            "body": m.body,
            "html_body": m.html_body,
            "code": m.code,
        });
        {
            let _guard = self
                .lock
                .lock()
                .map_err(|_| "outbox lock poisoned".to_owned())?;
            use std::os::unix::fs::OpenOptionsExt;
            // Readable by the service's user only: it holds live codes.
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&self.path)
                .map_err(|e| format!("cannot open outbox: {e}"))?;
            // One write of the whole line: `writeln!` would write it in many
            // pieces, and a reader could see half a line.
            let mut text = line.to_string();
            text.push('\n');
            file.write_all(text.as_bytes())
                .map_err(|e| format!("cannot write outbox: {e}"))?;
        }
        if self.log_codes && !carries_password(m) {
            // Development delivery only: the code is shown so it can be typed in.
            tracing::info!(
                pool = %m.pool_id,
                user = %m.username,
                kind = %m.kind,
                medium = %m.medium,
                code = %m.code,
                "development delivery (no mail server configured): message written to the outbox"
            );
        } else if self.log_codes {
            tracing::info!(
                pool = %m.pool_id,
                user = %m.username,
                kind = %m.kind,
                medium = %m.medium,
                "development delivery (no mail server configured): invitation with its temporary password written to the outbox"
            );
        } else {
            tracing::warn!(
                pool = %m.pool_id,
                kind = %m.kind,
                medium = %m.medium,
                "no SMS transport: the message was written to the outbox file, not sent"
            );
        }
        Ok(())
    }
}

/// Sends emails by SMTP (SMS is routed elsewhere, `crate::sms::SplitSink`).
pub struct SmtpSink {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpSink {
    /// From an `smtp://` (plain or `?tls=required` STARTTLS) or `smtps://` URL.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        use anyhow::Context;
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .context(
                "invalid --smtp-url (expected smtp://host:port or smtps://user:password@host:port)",
            )?
            .build();
        let from = from
            .parse()
            .with_context(|| format!("invalid --mail-from address `{from}`"))?;
        Ok(SmtpSink { transport, from })
    }
}

/// `X-SES-CONFIGURATION-SET`: the SES configuration set a message sent
/// through SES's SMTP interface is sent with.
#[derive(Clone)]
struct SesConfigurationSet(String);

impl lettre::message::header::Header for SesConfigurationSet {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("X-SES-CONFIGURATION-SET")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(SesConfigurationSet(s.to_owned()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[async_trait]
impl MessageSink for SmtpSink {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), String> {
        use lettre::AsyncTransport;
        let to = m
            .destination
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("invalid email address: {e}"))?;
        // The pool's EmailConfiguration names its own sender and reply-to
        // address; the server's --mail-from is the default. Cognito checks
        // the From address against SES when the pool is saved; cognate can
        // only check its shape, here.
        let from = match &m.from {
            Some(from) => from.parse::<lettre::message::Mailbox>().map_err(|e| {
                tracing::warn!(pool = %m.pool_id, error = %e, "the pool's EmailConfiguration.From is not an email address");
                format!("invalid From address in the pool's EmailConfiguration: {e}")
            })?,
            None => self.from.clone(),
        };
        let mut email = lettre::Message::builder().from(from).to(to);
        if let Some(reply_to) = &m.reply_to {
            let reply_to = reply_to.parse::<lettre::message::Mailbox>().map_err(|e| {
                format!("invalid ReplyToEmailAddress in the pool's EmailConfiguration: {e}")
            })?;
            email = email.reply_to(reply_to);
        }
        if let Some(set) = &m.configuration_set {
            // SES's SMTP interface takes the configuration set from this
            // header, as Cognito sends through SES with it.
            email = email.header(SesConfigurationSet(set.clone()));
        }
        let email = email.subject(m.subject.clone());
        let email = match &m.html_body {
            // Threat protection's notifications: text and HTML alternatives.
            Some(html) => email.multipart(lettre::message::MultiPart::alternative_plain_html(
                m.body.clone(),
                html.clone(),
            )),
            None => email
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(m.body.clone()),
        }
        .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport.send(email).await.map_err(|e| {
            tracing::warn!(error = %e, pool = %m.pool_id, kind = %m.kind, "SMTP delivery failed");
            "The message could not be delivered.".to_owned()
        })?;
        tracing::info!(pool = %m.pool_id, kind = %m.kind, "message sent by SMTP");
        Ok(())
    }
}

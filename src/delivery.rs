//! Message delivery. With an SMTP server configured (`--smtp-url`), emails
//! go out by SMTP (lettre). Without one — and for SMS, which cognate cannot
//! send — each message is appended as a JSON line to
//! `<data-dir>/outbox.jsonl` and logged, so a developer (or a test) can read
//! the code.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use cognate_core::delivery::{MessageSink, OutgoingMessage};
use serde_json::json;

pub struct DevOutbox {
    path: PathBuf,
    lock: Mutex<()>,
}

impl DevOutbox {
    pub fn new(path: PathBuf) -> Self {
        DevOutbox {
            path,
            lock: Mutex::new(()),
        }
    }
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
            "code": m.code,
        });
        {
            let _guard = self
                .lock
                .lock()
                .map_err(|_| "outbox lock poisoned".to_owned())?;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| format!("cannot open outbox: {e}"))?;
            writeln!(file, "{line}").map_err(|e| format!("cannot write outbox: {e}"))?;
        }
        // Development delivery only: the code is shown so it can be typed in.
        tracing::info!(
            pool = %m.pool_id,
            user = %m.username,
            kind = %m.kind,
            medium = %m.medium,
            code = %m.code,
            "development delivery (no mail server configured): message written to the outbox"
        );
        Ok(())
    }
}

/// Sends emails by SMTP; SMS messages go to the development outbox.
pub struct SmtpSink {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
    sms: DevOutbox,
}

impl SmtpSink {
    /// From an `smtp://` (plain or `?tls=required` STARTTLS) or `smtps://` URL.
    pub fn new(url: &str, from: &str, sms: DevOutbox) -> anyhow::Result<Self> {
        use anyhow::Context;
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .context(
                "invalid --smtp-url (expected smtp://host:port or smtps://user:password@host:port)",
            )?
            .build();
        let from = from
            .parse()
            .with_context(|| format!("invalid --mail-from address `{from}`"))?;
        Ok(SmtpSink {
            transport,
            from,
            sms,
        })
    }
}

#[async_trait]
impl MessageSink for SmtpSink {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), String> {
        use lettre::AsyncTransport;
        if m.medium != "EMAIL" {
            return self.sms.deliver(m).await;
        }
        let to = m
            .destination
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("invalid email address: {e}"))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport.send(email).await.map_err(|e| {
            tracing::warn!(error = %e, pool = %m.pool_id, kind = %m.kind, "SMTP delivery failed");
            "The message could not be delivered.".to_owned()
        })?;
        tracing::info!(pool = %m.pool_id, kind = %m.kind, "message sent by SMTP");
        Ok(())
    }
}

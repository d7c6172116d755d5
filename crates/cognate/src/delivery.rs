//! Development delivery: with no mail server configured, each message is
//! appended as a JSON line to `<data-dir>/outbox.jsonl` and logged, so a
//! developer (or a test) can read the code.

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

    pub fn path(&self) -> &PathBuf {
        &self.path
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

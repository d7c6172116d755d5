//! Signing-key rotation from the outside: the `rotate-keys` command and the
//! scheduled rotation of the config file's `signing_keys:` section. The
//! rules (publish before signing, retire after the last token expires,
//! rotate once when several instances are due at once) are in
//! `UserPools::rotate_keys` and the store.

use std::sync::Arc;
use std::time::Duration;

use cognate_core::UserPools;
use serde::Deserialize;

/// `signing_keys:` in the config file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningKeysConfig {
    /// Rotate every pool's keys once its newest keys are this many days old.
    #[serde(default)]
    pub rotate_after_days: Option<u32>,
    /// How long new keys are published before they sign (default 600 s).
    #[serde(default)]
    pub publish_lead_seconds: Option<u32>,
}

/// How long new keys are published before they sign, unless configured:
/// longer than any JWKS cache that refreshes on its own within minutes, and
/// far longer than cognate-token's 30 s refetch floor for an unknown kid.
pub const DEFAULT_LEAD_SECS: u32 = 600;

/// How often due rotations are looked for.
const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// Rotates every pool whose newest keys are older than `after_days`, now
/// and then every hour, until the process ends.
pub fn schedule(service: Arc<UserPools>, config: SigningKeysConfig) {
    let Some(days) = config.rotate_after_days.filter(|d| *d > 0) else {
        return;
    };
    let lead_ms = i64::from(config.publish_lead_seconds.unwrap_or(DEFAULT_LEAD_SECS)) * 1000;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = rotate_due(&service, days, lead_ms).await {
                tracing::warn!(error = %e, "scheduled key rotation failed");
            }
        }
    });
}

async fn rotate_due(service: &UserPools, days: u32, lead_ms: i64) -> cognate_core::Result<()> {
    let mut next = None;
    loop {
        let page = service.list_user_pools(60, next.as_deref()).await?;
        for pool in &page.items {
            let due_before = service.now_millis() - i64::from(days) * 86_400_000;
            if let Some(keys) = service
                .rotate_keys(&pool.id, lead_ms, Some(due_before))
                .await?
            {
                let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
                tracing::info!(pool = %pool.id, new_kids = ?kids, lead_ms, "rotated signing keys");
            }
        }
        match page.next {
            Some(n) => next = Some(n),
            None => return Ok(()),
        }
    }
}

/// `cognate rotate-keys`: rotates one pool's keys now and says when the
/// new keys sign and when the old ones retire.
pub async fn rotate_now(service: &UserPools, pool_id: &str, lead_secs: u32) -> anyhow::Result<()> {
    let keys = service
        .rotate_keys(pool_id, i64::from(lead_secs) * 1000, None)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?
        .ok_or_else(|| anyhow::anyhow!("nothing rotated"))?;
    let signs_from = keys.first().map(|k| k.signs_from).unwrap_or_default();
    for k in &keys {
        println!("new {} key: {}", k.purpose, k.kid);
    }
    println!(
        "published now; signing from {} (in {lead_secs} s); the old keys stay published until {}",
        http_date(signs_from),
        http_date(signs_from + cognate_core::service::pools::KEY_RETIRE_AFTER_MS)
    );
    Ok(())
}

/// Milliseconds since the epoch as an HTTP date (`Sat, 05 Dec 2026 11:21:07 GMT`).
fn http_date(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    httpdate::fmt_http_date(at)
}

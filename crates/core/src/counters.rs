//! Process-wide counters since start: every audit event by name and
//! outcome (fed by `audit::Event::emit`), and the outcome of every access
//! token the user APIs and userInfo check. The admin console's dashboard
//! reads them ([`snapshot`]).
//!
//! Keys are `&'static str` labels from the code (event names, failure
//! reasons, token outcomes), never caller text, and the table is bounded
//! ([`MAX_SERIES`]; past it counts go to one `other` series), so it cannot
//! grow with traffic. Counting is a read lock and an atomic add; a series
//! seen for the first time takes the write lock once. The counters are in
//! memory: per instance, from zero at each start.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, RwLock};

/// What a series counts: `event` (an audit event) or `token` (a token check).
pub type Kind = &'static str;

/// At most this many series are kept.
pub const MAX_SERIES: usize = 512;

type Key = (Kind, &'static str, &'static str);

static TABLE: LazyLock<RwLock<HashMap<Key, AtomicU64>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// One series and its count.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    /// `event` or `token`.
    pub kind: &'static str,
    /// The event name (`sign_in`), or for a token the kind of check (`access_token`).
    pub name: &'static str,
    /// `success`, or the failure reason (`wrong_password`); for a token
    /// `valid` or the rejection reason (`expired`, `revoked`, ...).
    pub outcome: &'static str,
    pub count: u64,
}

fn add(key: Key) {
    if let Ok(table) = TABLE.read() {
        if let Some(c) = table.get(&key) {
            c.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
    let Ok(mut table) = TABLE.write() else {
        return;
    };
    let key = if table.len() >= MAX_SERIES && !table.contains_key(&key) {
        (key.0, "other", "other")
    } else {
        key
    };
    table
        .entry(key)
        .or_insert_with(|| AtomicU64::new(0))
        .fetch_add(1, Ordering::Relaxed);
}

/// Counts an audit event: `failure` is its reason, `None` for a success.
pub fn count_event(name: &'static str, failure: Option<&'static str>) {
    add(("event", name, failure.unwrap_or("success")));
}

/// Counts the outcome of an access token check (`valid` or a reason).
pub fn count_token(outcome: &'static str) {
    add(("token", "access_token", outcome));
}

/// Every series, sorted by kind, name and outcome.
pub fn snapshot() -> Vec<Count> {
    let mut out: Vec<Count> = match TABLE.read() {
        Ok(table) => table
            .iter()
            .map(|((kind, name, outcome), c)| Count {
                kind,
                name,
                outcome,
                count: c.load(Ordering::Relaxed),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort_by(|a, b| (a.kind, a.name, a.outcome).cmp(&(b.kind, b.name, b.outcome)));
    out
}

/// The count of one series (0 when never seen).
pub fn get(kind: &str, name: &str, outcome: &str) -> u64 {
    snapshot()
        .iter()
        .find(|c| c.kind == kind && c.name == name && c.outcome == outcome)
        .map_or(0, |c| c.count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_counted_by_name_and_outcome() {
        let before = get("event", "counters_test", "success");
        count_event("counters_test", None);
        count_event("counters_test", None);
        count_event("counters_test", Some("wrong_password"));
        assert_eq!(get("event", "counters_test", "success"), before + 2);
        assert!(get("event", "counters_test", "wrong_password") >= 1);
        count_token("counters_test_reason");
        assert!(get("token", "access_token", "counters_test_reason") >= 1);
    }

    #[test]
    fn many_threads_lose_no_count() {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..1000 {
                        count_event("counters_threads", None);
                    }
                })
            })
            .collect();
        for t in threads {
            let _ = t.join();
        }
        assert_eq!(get("event", "counters_threads", "success"), 8000);
    }
}

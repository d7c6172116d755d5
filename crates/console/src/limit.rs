//! Sign-in attempts: after `MAX_FAILURES` failures within `WINDOW_MILLIS`
//! from one client address, its attempts are refused until the window
//! of the oldest failure has passed. Bounded (old entries are dropped).

use std::collections::HashMap;
use std::sync::Mutex;

pub const MAX_FAILURES: usize = 5;
pub const WINDOW_MILLIS: i64 = 60_000;
const MAX_CLIENTS: usize = 10_000;

#[derive(Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl SignInLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<i64>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seconds to wait before `client` may try again, if it must.
    pub fn wait_secs(&self, client: &str, now: i64) -> Option<i64> {
        let mut map = self.lock();
        let list = map.get_mut(client)?;
        list.retain(|t| now - t < WINDOW_MILLIS);
        if list.len() < MAX_FAILURES {
            return None;
        }
        let oldest = list.iter().min().copied().unwrap_or(now);
        Some(((oldest + WINDOW_MILLIS - now) / 1000).max(1))
    }

    pub fn failed(&self, client: &str, now: i64) {
        let mut map = self.lock();
        if map.len() >= MAX_CLIENTS {
            map.retain(|_, l| l.iter().any(|t| now - t < WINDOW_MILLIS));
        }
        if map.len() >= MAX_CLIENTS && !map.contains_key(client) {
            // Still full of live entries: start over rather than grow.
            map.clear();
        }
        map.entry(client.to_owned()).or_default().push(now);
    }

    pub fn succeeded(&self, client: &str) {
        self.lock().remove(client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_in_a_minute_make_a_client_wait() {
        let l = SignInLimiter::default();
        for i in 0..MAX_FAILURES as i64 {
            assert_eq!(l.wait_secs("a", i * 1000), None);
            l.failed("a", i * 1000);
        }
        assert_eq!(l.wait_secs("a", 5_000), Some(55));
        assert_eq!(l.wait_secs("b", 5_000), None, "per client");
        assert_eq!(l.wait_secs("a", WINDOW_MILLIS + 1), None, "the window passes");
    }
}

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

    /// Takes one attempt for `client` at `now`: counted as a failure
    /// until `succeeded` clears it, so attempts in flight at once count
    /// too. `Err(seconds to wait)` when the client has no attempt left.
    pub fn attempt(&self, client: &str, now: i64) -> Result<(), i64> {
        let mut map = self.lock();
        if map.len() >= MAX_CLIENTS {
            map.retain(|_, l| l.iter().any(|t| now - t < WINDOW_MILLIS));
        }
        if map.len() >= MAX_CLIENTS && !map.contains_key(client) {
            // Still full of live entries: start over rather than grow.
            map.clear();
        }
        let list = map.entry(client.to_owned()).or_default();
        list.retain(|t| now - t < WINDOW_MILLIS);
        if list.len() >= MAX_FAILURES {
            let oldest = list.iter().min().copied().unwrap_or(now);
            return Err(((oldest + WINDOW_MILLIS - now + 999) / 1000).max(1));
        }
        list.push(now);
        Ok(())
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
            assert_eq!(l.attempt("a", i * 1000), Ok(()));
        }
        assert_eq!(l.attempt("a", 5_000), Err(55));
        assert_eq!(l.attempt("b", 5_000), Ok(()), "per client");
        assert_eq!(
            l.attempt("a", WINDOW_MILLIS + 1),
            Ok(()),
            "the window passes"
        );
    }

    #[test]
    fn a_success_clears_the_clients_failures() {
        let l = SignInLimiter::default();
        for i in 0..MAX_FAILURES as i64 - 1 {
            l.attempt("a", i).unwrap();
        }
        l.succeeded("a");
        for i in 0..MAX_FAILURES as i64 {
            assert_eq!(l.attempt("a", 10 + i), Ok(()));
        }
    }
}

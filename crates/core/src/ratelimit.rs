//! Rate limits: token buckets per source IP and per user name, kept in the
//! memory of each instance (several instances behind a balancer each
//! allow the configured rate; the limits are a brake on abuse, not an
//! exact quota). Memory is bounded: at most [`MAX_BUCKETS`] buckets per
//! limit; when a limit is full, the buckets that have refilled (which
//! constrain nothing) are dropped first, then, if still full, all of them.
//!
//! A refused request over a request-rate limit (per IP, and sign-in per
//! user) is TooManyRequestsException; over a per-user limit of code issue
//! or code entry it is LimitExceededException, as Cognito answers. Per-user
//! buckets are keyed by the name the caller gave (normalised as the pool
//! normalises usernames), whether or not a user has it, so a refusal does
//! not tell whether the user exists.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};

/// Buckets kept per limit at most.
pub const MAX_BUCKETS: usize = 100_000;

/// A rate: `burst` requests at once, refilled at `per_second` (or
/// `per_minute`) requests.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(try_from = "RateInput")]
pub struct Rate {
    /// Tokens added per millisecond.
    per_ms: f64,
    burst: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateInput {
    per_second: Option<f64>,
    per_minute: Option<f64>,
    burst: u32,
}

impl TryFrom<RateInput> for Rate {
    type Error = String;
    fn try_from(r: RateInput) -> std::result::Result<Rate, String> {
        let per_second = match (r.per_second, r.per_minute) {
            (Some(s), None) => s,
            (None, Some(m)) => m / 60.0,
            _ => return Err("give exactly one of `per_second` and `per_minute`".into()),
        };
        if !(per_second.is_finite() && per_second > 0.0) {
            return Err("the rate must be a positive number".into());
        }
        if r.burst == 0 {
            return Err("`burst` must be at least 1".into());
        }
        Ok(Rate::per_second(per_second, r.burst))
    }
}

impl Rate {
    pub fn per_second(per_second: f64, burst: u32) -> Rate {
        Rate {
            per_ms: per_second / 1000.0,
            burst: f64::from(burst),
        }
    }

    pub fn per_minute(per_minute: f64, burst: u32) -> Rate {
        Self::per_second(per_minute / 60.0, burst)
    }
}

/// The limits (config file `rate_limits:`; every key optional).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// InitiateAuth / AdminInitiateAuth (not REFRESH_TOKEN_AUTH),
    /// RespondToAuthChallenge, the hosted UI's sign-in pages; per source IP.
    pub sign_in_per_ip: Rate,
    /// Password and challenge answers per user name.
    pub sign_in_per_user: Rate,
    /// SignUp per source IP.
    pub sign_up_per_ip: Rate,
    /// ForgotPassword, ResendConfirmationCode, GetUserAttributeVerificationCode per source IP.
    pub code_issue_per_ip: Rate,
    /// The same per user (LimitExceededException).
    pub code_issue_per_user: Rate,
    /// ConfirmSignUp, ConfirmForgotPassword, VerifyUserAttribute,
    /// VerifySoftwareToken, MFA codes per source IP.
    pub code_entry_per_ip: Rate,
    /// The same per user (LimitExceededException).
    pub code_entry_per_user: Rate,
}

impl Default for RateLimitConfig {
    /// Generous: a single-tenant deployment (and the test suites, every
    /// request from 127.0.0.1) never meets them in normal use.
    fn default() -> Self {
        RateLimitConfig {
            sign_in_per_ip: Rate::per_second(100.0, 1000),
            sign_in_per_user: Rate::per_second(10.0, 100),
            sign_up_per_ip: Rate::per_second(50.0, 500),
            code_issue_per_ip: Rate::per_second(20.0, 200),
            code_issue_per_user: Rate::per_minute(10.0, 20),
            code_entry_per_ip: Rate::per_second(50.0, 500),
            code_entry_per_user: Rate::per_second(1.0, 50),
        }
    }
}

/// How failed sign-ins lock an account (config file `lockout:`; every key
/// optional). The defaults are Cognito's: from the fifth failure in a row,
/// a lock of 1 s doubling with each further failure up to 15 minutes; 15
/// minutes without failures start the count again.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(try_from = "LockoutInput")]
pub struct LockoutConfig {
    policy: crate::store::LockoutPolicy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LockoutInput {
    after_failures: u32,
    first_lock_seconds: f64,
    max_lock_seconds: f64,
    reset_after_seconds: f64,
}

/// Cognito's lockout.
const COGNITO_LOCKOUT: crate::store::LockoutPolicy = crate::store::LockoutPolicy {
    after: 5,
    base_ms: 1000,
    max_ms: 15 * 60 * 1000,
    reset_ms: 15 * 60 * 1000,
};

impl Default for LockoutInput {
    /// Cognito's numbers, for the keys a file leaves out.
    fn default() -> Self {
        let seconds = |ms: i64| ms as f64 / 1000.0;
        LockoutInput {
            after_failures: COGNITO_LOCKOUT.after,
            first_lock_seconds: seconds(COGNITO_LOCKOUT.base_ms),
            max_lock_seconds: seconds(COGNITO_LOCKOUT.max_ms),
            reset_after_seconds: seconds(COGNITO_LOCKOUT.reset_ms),
        }
    }
}

impl TryFrom<LockoutInput> for LockoutConfig {
    type Error = String;
    fn try_from(l: LockoutInput) -> std::result::Result<LockoutConfig, String> {
        if l.after_failures == 0 {
            return Err("`after_failures` must be at least 1".into());
        }
        let millis = |name: &str, secs: f64| {
            if secs.is_finite() && secs > 0.0 && secs <= 365.0 * 86_400.0 {
                Ok((secs * 1000.0).round().max(1.0) as i64)
            } else {
                Err(format!(
                    "`{name}` must be a positive number of seconds, at most a year"
                ))
            }
        };
        let base_ms = millis("first_lock_seconds", l.first_lock_seconds)?;
        let max_ms = millis("max_lock_seconds", l.max_lock_seconds)?;
        let reset_ms = millis("reset_after_seconds", l.reset_after_seconds)?;
        if max_ms < base_ms {
            return Err("`max_lock_seconds` must not be less than `first_lock_seconds`".into());
        }
        Ok(LockoutConfig {
            policy: crate::store::LockoutPolicy {
                after: l.after_failures,
                base_ms,
                max_ms,
                reset_ms,
            },
        })
    }
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig {
            policy: COGNITO_LOCKOUT,
        }
    }
}

impl LockoutConfig {
    /// The policy the store applies.
    pub fn policy(&self) -> crate::store::LockoutPolicy {
        self.policy
    }
}

/// What a request does, for its limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    SignIn,
    SignUp,
    CodeIssue,
    CodeEntry,
}

impl Action {
    fn label(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignUp => "sign_up",
            Action::CodeIssue => "code_issue",
            Action::CodeEntry => "code_entry",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: i64,
}

/// One limit's buckets.
struct Buckets<K> {
    rate: Rate,
    map: Mutex<HashMap<K, Bucket>>,
}

impl<K: std::hash::Hash + Eq> Buckets<K> {
    fn new(rate: Rate) -> Self {
        Buckets {
            rate,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from `key`'s bucket; false if it is empty.
    fn take(&self, key: K, now: i64) -> bool {
        let Ok(mut map) = self.map.lock() else {
            return true;
        };
        let rate = self.rate;
        let level = |b: &Bucket| {
            let elapsed = (now - b.at).max(0) as f64;
            (b.tokens + elapsed * rate.per_ms).min(rate.burst)
        };
        if map.len() >= MAX_BUCKETS && !map.contains_key(&key) {
            map.retain(|_, b| level(b) < rate.burst);
            if map.len() >= MAX_BUCKETS {
                map.clear();
            }
        }
        let bucket = map.entry(key).or_insert(Bucket {
            tokens: rate.burst,
            at: now,
        });
        let tokens = level(bucket);
        bucket.at = now.max(bucket.at);
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            true
        } else {
            bucket.tokens = tokens;
            false
        }
    }
}

/// The limiter of one instance.
pub struct RateLimiter {
    per_ip: HashMap<Action, Buckets<IpAddr>>,
    per_user: HashMap<Action, Buckets<(String, String)>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(&RateLimitConfig::default())
    }
}

impl RateLimiter {
    pub fn new(c: &RateLimitConfig) -> Self {
        let per_ip = [
            (Action::SignIn, c.sign_in_per_ip),
            (Action::SignUp, c.sign_up_per_ip),
            (Action::CodeIssue, c.code_issue_per_ip),
            (Action::CodeEntry, c.code_entry_per_ip),
        ]
        .into_iter()
        .map(|(a, r)| (a, Buckets::new(r)))
        .collect();
        let per_user = [
            (Action::SignIn, c.sign_in_per_user),
            (Action::CodeIssue, c.code_issue_per_user),
            (Action::CodeEntry, c.code_entry_per_user),
        ]
        .into_iter()
        .map(|(a, r)| (a, Buckets::new(r)))
        .collect();
        RateLimiter { per_ip, per_user }
    }

    /// Checks the per-IP limit of `action` for the request being served
    /// (none outside a request, or when its address is unknown).
    pub fn ip(&self, action: Action, now: i64) -> Result<()> {
        let Some(ip) = crate::audit::source_ip() else {
            return Ok(());
        };
        match self.per_ip.get(&action) {
            Some(buckets) if !buckets.take(ip, now) => {
                tracing::info!(target: crate::audit::TARGET, event = "rate_limited",
                    limit = action.label(), per = "ip", source_ip = %ip, "audit");
                Err(Error::new(ErrorKind::TooManyRequests, "Too many requests"))
            }
            _ => Ok(()),
        }
    }

    /// Checks the per-user limit of `action` for `name` (as normalised by
    /// the pool) in `pool_id`.
    pub fn user(&self, action: Action, pool_id: &str, name: &str, now: i64) -> Result<()> {
        match self.per_user.get(&action) {
            Some(buckets) if !buckets.take((pool_id.to_owned(), name.to_owned()), now) => {
                tracing::info!(target: crate::audit::TARGET, event = "rate_limited",
                    limit = action.label(), per = "user", pool_id, "audit");
                Err(match action {
                    Action::SignIn | Action::SignUp => {
                        Error::new(ErrorKind::TooManyRequests, "Too many requests")
                    }
                    Action::CodeIssue | Action::CodeEntry => Error::new(
                        ErrorKind::LimitExceeded,
                        "Attempt limit exceeded, please try after some time.",
                    ),
                })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let b = Buckets::new(Rate::per_second(2.0, 3));
        assert!((0..3).all(|_| b.take("k", 0)));
        assert!(!b.take("k", 0));
        assert!(!b.take("k", 499));
        assert!(b.take("k", 500));
        assert!(!b.take("k", 500));
        // Long idle: back to the burst, never more.
        assert!((0..3).all(|_| b.take("k", 100_000)));
        assert!(!b.take("k", 100_000));
        assert!(b.take("other", 100_000));
    }

    #[test]
    fn memory_is_bounded() {
        let b = Buckets::new(Rate::per_second(1.0, 1));
        for i in 0..(MAX_BUCKETS as u64 + 10) {
            b.take(i, 0);
        }
        assert!(b.map.lock().unwrap().len() <= MAX_BUCKETS);
    }

    #[test]
    fn rates_parse_and_are_checked() {
        let r: Rate = serde_json::from_str(r#"{"per_minute": 6, "burst": 2}"#).unwrap();
        assert_eq!(r, Rate::per_second(0.1, 2));
        for bad in [
            r#"{"burst": 2}"#,
            r#"{"per_second": 1, "per_minute": 1, "burst": 2}"#,
            r#"{"per_second": 0, "burst": 2}"#,
            r#"{"per_second": 1, "burst": 0}"#,
            r#"{"per_second": 1, "burst": 1, "extra": 1}"#,
        ] {
            assert!(serde_json::from_str::<Rate>(bad).is_err(), "{bad}");
        }
    }
}

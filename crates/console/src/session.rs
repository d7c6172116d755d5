//! The console's sessions, in memory (bounded): a random id in an
//! HttpOnly, SameSite=Strict cookie; each session has its CSRF token
//! (synchronizer token) and ends after `IDLE_MILLIS` without a request,
//! measured on the service's clock. A restart signs everybody out, and a
//! second instance does not know this one's sessions (sign in again there).

use std::collections::HashMap;
use std::sync::Mutex;

use cognate_aws_json::sigv4::Grant;
use cognate_crypto::digest::constant_time_eq;

/// A session ends after this long without a request.
pub const IDLE_MILLIS: i64 = 30 * 60 * 1000;
/// At most this many sessions are kept; the least recently used one not
/// signed in goes first, then the least recently used of all.
pub const MAX_SESSIONS: usize = 10_000;

/// One browser's session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    /// The access key id, or "development"; `None` before sign-in.
    pub actor: Option<String>,
    pub grant: Grant,
    pub csrf: String,
    pub last_seen: i64,
    /// A message for the next page (one read).
    pub flash: Option<String>,
    /// A new app client's secret, for the one page that shows it.
    pub secret: Option<String>,
}

#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session (signed in when `actor` is given).
    pub fn create(&self, actor: Option<String>, grant: Grant, now: i64) -> Session {
        let session = Session {
            id: cognate_crypto::random::base64url(32),
            actor,
            grant,
            csrf: cognate_crypto::random::base64url(32),
            last_seen: now,
            flash: None,
            secret: None,
        };
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| now - s.last_seen < IDLE_MILLIS);
        }
        if map.len() >= MAX_SESSIONS {
            let victim = map
                .values()
                .filter(|s| s.actor.is_none())
                .min_by_key(|s| s.last_seen)
                .or_else(|| map.values().min_by_key(|s| s.last_seen))
                .map(|s| s.id.clone());
            if let Some(id) = victim {
                map.remove(&id);
            }
        }
        map.insert(session.id.clone(), session.clone());
        session
    }

    /// The live session of cookie value `id`, touched at `now`; an idle
    /// one is removed. The id is the map's key (a random 256-bit value).
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let mut map = self.lock();
        let live = match map.get_mut(id) {
            Some(s) if now - s.last_seen < IDLE_MILLIS => {
                s.last_seen = now;
                Some(s.clone())
            }
            Some(_) => None,
            None => return None,
        };
        if live.is_none() {
            map.remove(id);
        }
        live
    }

    /// Takes the session's message for the next page.
    pub fn take_flash(&self, id: &str) -> Option<String> {
        self.lock().get_mut(id).and_then(|s| s.flash.take())
    }

    pub fn set_flash(&self, id: &str, message: impl Into<String>) {
        if let Some(s) = self.lock().get_mut(id) {
            s.flash = Some(message.into());
        }
    }

    pub fn set_secret(&self, id: &str, secret: String) {
        if let Some(s) = self.lock().get_mut(id) {
            s.secret = Some(secret);
        }
    }

    /// Takes the secret to show (once).
    pub fn take_secret(&self, id: &str) -> Option<String> {
        self.lock().get_mut(id).and_then(|s| s.secret.take())
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a form's token is the session's, in constant time.
pub fn csrf_ok(session: &Session, token: Option<&str>) -> bool {
    match token {
        Some(t) => constant_time_eq(session.csrf.as_bytes(), t.as_bytes()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_session_ends_after_its_idle_time_and_requests_keep_it() {
        let sessions = Sessions::default();
        let s = sessions.create(Some("AK".into()), Grant::All, 1_000);
        assert!(sessions.get(&s.id, 1_000 + IDLE_MILLIS - 1).is_some());
        // Touched: the idle time counts from the last request.
        assert!(sessions.get(&s.id, 1_000 + 2 * IDLE_MILLIS - 2).is_some());
        assert!(sessions.get(&s.id, 1_000 + 3 * IDLE_MILLIS).is_none());
        assert!(sessions.is_empty(), "an idle session is removed");
        assert!(sessions.get("unknown", 0).is_none());
    }

    #[test]
    fn csrf_tokens_are_the_sessions() {
        let sessions = Sessions::default();
        let a = sessions.create(None, Grant::All, 0);
        let b = sessions.create(None, Grant::All, 0);
        assert!(csrf_ok(&a, Some(&a.csrf)));
        assert!(!csrf_ok(&a, Some(&b.csrf)));
        assert!(!csrf_ok(&a, Some("")));
        assert!(!csrf_ok(&a, None));
    }

    #[test]
    fn the_store_is_bounded_and_drops_unsigned_sessions_first() {
        let sessions = Sessions::default();
        let kept = sessions.create(Some("AK".into()), Grant::All, 0);
        for i in 0..MAX_SESSIONS + 50 {
            sessions.create(None, Grant::All, 1 + i as i64);
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert!(sessions.get(&kept.id, 100).is_some());
    }
}

//! The one verification of this server's tokens, shared by the user APIs
//! (GetUser, userInfo, ...) and the gateway: `cognate_token::Verifier` over
//! the local pools (issuers `<public-url>/<pool-id>`, resolved as their
//! tokens arrive, keys read from the store's key cache), and the one
//! revocation rule ([`PoolRevocation`], on top of `User::token_revoked`):
//! the user exists, is enabled and did not sign out after the token was
//! issued, its session was not revoked, and its app client still exists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cognate_token::{
    Claims, IssuerConfig, IssuerDirectory, JwksSource, KeyError, KeySet, RefetchPolicy, Revocation,
    Verifier,
};

use crate::clock::Clock;
use crate::model::{AppClient, User};
use crate::store::Store;
use crate::tokens::{issued_ms, KeyCache};

/// The pool id of a local issuer `<public_url>/<pool-id>`.
pub fn pool_of_issuer<'a>(public_url: &str, iss: &'a str) -> Option<&'a str> {
    iss.strip_prefix(public_url)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|p| !p.is_empty() && !p.contains('/'))
}

/// The verifier of the local pools' tokens: RS256 by a published key of
/// the pool named by `iss`, `exp` ending the token exactly (issuer and
/// verifier share the clock), 30 s of skew for `iat`/`nbf` (instances of
/// one deployment may differ a little), an unknown `kid` looked up again at
/// most every 30 s, the key set read again every 10 s (a retired key stops
/// verifying within that), and a bounded cache of verified signatures.
/// Revocation is left to the caller, which reads the user anyway
/// ([`token_refused`]); the gateway attaches [`PoolRevocation`].
pub fn local_verifier(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Arc<KeyCache>,
    public_url: &str,
) -> Verifier {
    Verifier::builder()
        .directory(Arc::new(LocalIssuers {
            store,
            clock,
            keys,
            public_url: public_url.to_owned(),
        }))
        .expiry_leeway_secs(0)
        .refetch(local_refetch())
        .build()
}

/// How often local pools' keys are read again (see [`local_verifier`]).
pub fn local_refetch() -> RefetchPolicy {
    RefetchPolicy {
        min_interval: Duration::from_secs(30),
        retry_unloaded: Duration::from_secs(1),
        max_age: Duration::from_millis(crate::tokens::KEY_REFRESH_MS.unsigned_abs()),
    }
}

/// The local pools as an `IssuerDirectory`: an issuer of this server's
/// public URL naming a pool that exists.
struct LocalIssuers {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Arc<KeyCache>,
    public_url: String,
}

#[async_trait]
impl IssuerDirectory for LocalIssuers {
    async fn resolve(&self, iss: &str) -> Option<IssuerConfig> {
        let pool_id = pool_of_issuer(&self.public_url, iss)?;
        self.store.get_pool(pool_id).await.ok()??;
        Some(IssuerConfig {
            issuer: iss.to_owned(),
            clients: Vec::new(),
            keys: Arc::new(PoolKeySource {
                store: self.store.clone(),
                clock: self.clock.clone(),
                keys: self.keys.clone(),
                pool_id: pool_id.to_owned(),
            }),
            revocation: None,
        })
    }
}

/// A pool's published keys, from the key cache (read from the store).
pub struct PoolKeySource {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<KeyCache>,
    pub pool_id: String,
}

#[async_trait]
impl JwksSource for PoolKeySource {
    async fn fetch(&self) -> Result<KeySet, KeyError> {
        let now = self.clock.now_millis();
        let keys = self
            .keys
            .reload(self.store.as_ref(), &self.pool_id, now)
            .await
            .map_err(|e| KeyError(format!("pool {}: {}", self.pool_id, e.message)))?;
        Ok(KeySet::from_keys(keys.published(now).cloned().collect()))
    }
}

/// Why a verified token of a user is refused, by the one rule: `None`
/// when it stands. `client` is the token's app client as read now.
pub fn token_refused(
    user: Option<&User>,
    client: Option<&AppClient>,
    pool_id: &str,
    claims: &Claims,
    now_ms: i64,
) -> Option<Refusal> {
    if client.is_none_or(|c| c.pool_id != pool_id) {
        return Some(Refusal::ClientGone);
    }
    let Some(user) = user else {
        return Some(Refusal::UserGone);
    };
    if !user.enabled {
        return Some(Refusal::UserDisabled);
    }
    let issued = issued_ms(claims.iat, claims.jti.as_deref());
    user.token_revoked(issued, claims.origin_jti.as_deref(), now_ms)
        .then_some(Refusal::Revoked)
}

/// Why [`token_refused`] refused a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    ClientGone,
    UserGone,
    UserDisabled,
    Revoked,
}

impl Refusal {
    /// A snake_case label (counters, logs).
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::ClientGone => "client_gone",
            Refusal::UserGone => "user_gone",
            Refusal::UserDisabled => "user_disabled",
            Refusal::Revoked => "revoked",
        }
    }
}

/// The app client a token was issued to: `client_id` of an access token,
/// `azp` of an ID token issued by a token exchange for another audience
/// (`service::derived_token`), else `aud` of an ID token.
pub fn client_of(claims: &Claims) -> Option<&str> {
    match claims.client_id.as_deref() {
        Some(c) => Some(c),
        None => claims
            .all
            .get("azp")
            .and_then(serde_json::Value::as_str)
            .or_else(|| claims.aud.first().map(String::as_str)),
    }
}

/// Users and clients whose state is kept at most; past that the oldest
/// half of the entries is dropped.
const STATE_MAX: usize = 50_000;

/// The revocation hook of one pool for `cognate_token::Verifier` (the
/// gateway's authorizers): [`token_refused`] on the user and client as
/// read at most `ttl` ago (a sign-out takes effect within it, on every
/// instance, since the state is read from the shared store). A
/// client_credentials token (no user: `sub` = `client_id`) stands while its
/// app client exists. Fails closed: state that cannot be read refuses.
pub struct PoolRevocation {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    pool_id: String,
    ttl: Duration,
    users: Mutex<Recent<User>>,
    clients: Mutex<Recent<AppClient>>,
}

impl PoolRevocation {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, pool_id: &str, ttl: Duration) -> Self {
        PoolRevocation {
            store,
            clock,
            pool_id: pool_id.to_owned(),
            ttl,
            users: Mutex::new(Recent::default()),
            clients: Mutex::new(Recent::default()),
        }
    }

    async fn client(&self, client_id: &str) -> Result<Option<AppClient>, ()> {
        if let Some(hit) = fresh(&self.clients, client_id, self.ttl) {
            return Ok(hit);
        }
        let client = self.store.get_client(client_id).await.map_err(|e| {
            tracing::warn!(error = %e, "reading a client for the revocation check failed");
        })?;
        keep(&self.clients, client_id, client.clone(), self.ttl);
        Ok(client)
    }

    async fn user(&self, sub: &str) -> Result<Option<User>, ()> {
        if let Some(hit) = fresh(&self.users, sub, self.ttl) {
            return Ok(hit);
        }
        let user = self
            .store
            .get_user_by_sub(&self.pool_id, sub)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "reading a user for the revocation check failed");
            })?;
        keep(&self.users, sub, user.clone(), self.ttl);
        Ok(user)
    }
}

/// Records read for the revocation check, each with the instant it was
/// read. Entries older than the TTL are swept out at most once per TTL, so
/// the map holds what was read within about two TTLs (not one entry per
/// user ever seen), and never more than [`STATE_MAX`].
struct Recent<T> {
    entries: HashMap<String, (Instant, Option<T>)>,
    swept: Instant,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent {
            entries: HashMap::new(),
            swept: Instant::now(),
        }
    }
}

impl<T> Recent<T> {
    /// Drops the entries older than `ttl` when the last sweep is `ttl`
    /// ago, or the oldest half when the map is full.
    fn sweep(&mut self, now: Instant, ttl: Duration) {
        if now.duration_since(self.swept) >= ttl {
            self.entries
                .retain(|_, (at, _)| now.duration_since(*at) < ttl);
            self.swept = now;
        }
        if self.entries.len() >= STATE_MAX {
            let mut ages: Vec<Instant> = self.entries.values().map(|(at, _)| *at).collect();
            let middle = ages.len() / 2;
            let (_, cut, _) = ages.select_nth_unstable(middle);
            let cut = *cut;
            self.entries.retain(|_, (at, _)| *at > cut);
        }
    }
}

fn fresh<T: Clone>(map: &Mutex<Recent<T>>, key: &str, ttl: Duration) -> Option<Option<T>> {
    let m = map.lock().ok()?;
    let (at, value) = m.entries.get(key)?;
    (at.elapsed() < ttl).then(|| value.clone())
}

fn keep<T>(map: &Mutex<Recent<T>>, key: &str, value: Option<T>, ttl: Duration) {
    if let Ok(mut m) = map.lock() {
        let now = Instant::now();
        m.sweep(now, ttl);
        m.entries.insert(key.to_owned(), (now, value));
    }
}

#[async_trait]
impl Revocation for PoolRevocation {
    async fn is_revoked(&self, claims: &Claims) -> bool {
        let (Some(sub), Some(client_id)) = (claims.sub.as_deref(), client_of(claims)) else {
            return true;
        };
        let Ok(client) = self.client(client_id).await else {
            return true;
        };
        let machine = claims.token_use.as_deref() == Some("access")
            && claims.username().is_none()
            && client_id == sub;
        if machine {
            return client.is_none_or(|c| c.pool_id != self.pool_id);
        }
        let Ok(user) = self.user(sub).await else {
            return true;
        };
        token_refused(
            user.as_ref(),
            client.as_ref(),
            &self.pool_id,
            claims,
            self.clock.now_millis(),
        )
        .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_older_than_the_ttl_are_swept_out() {
        let ttl = Duration::from_secs(1);
        let start = Instant::now();
        let mut recent = Recent::<u32> {
            entries: HashMap::new(),
            swept: start,
        };
        for i in 0..1_000u32 {
            recent.entries.insert(format!("old-{i}"), (start, Some(i)));
        }
        // Within the TTL of the last sweep nothing is dropped.
        recent.sweep(start + Duration::from_millis(500), ttl);
        assert_eq!(recent.entries.len(), 1_000);
        let later = start + Duration::from_millis(1_500);
        recent.entries.insert("new".into(), (later, Some(0)));
        recent.sweep(later, ttl);
        assert_eq!(
            recent.entries.len(),
            1,
            "only the entry read within the TTL stays"
        );
        assert!(recent.entries.contains_key("new"));
    }

    #[test]
    fn a_full_map_drops_its_oldest_half() {
        let ttl = Duration::from_secs(3_600);
        let start = Instant::now();
        let mut recent = Recent::<u32> {
            entries: HashMap::new(),
            swept: start,
        };
        for i in 0..STATE_MAX as u64 {
            let at = start + Duration::from_micros(i);
            recent.entries.insert(format!("u{i}"), (at, None));
        }
        recent.sweep(start, ttl);
        assert!(recent.entries.len() <= STATE_MAX / 2);
        assert!(recent.entries.contains_key(&format!("u{}", STATE_MAX - 1)));
        assert!(!recent.entries.contains_key("u0"));
    }
}

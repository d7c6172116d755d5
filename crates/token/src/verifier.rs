//! The `Verifier`: one or more trusted issuers with their keys and allowed
//! clients, the checks of a token (RS256 signature by the issuer's key named
//! by `kid`, `iss`, `exp`/`nbf`/`iat` with a small skew, `aud`/`client_id`,
//! revocation), a bounded cache of verified tokens, and the per-route
//! `Policy` (token_use, scopes, groups).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use cognate_crypto::jws::{self, JwsError};

use crate::claims::{Claims, TokenUse};
use crate::keys::{HttpJwks, IssuerKeys, JwksSource, KeySet, RefetchPolicy, StaticJwks};
use crate::outcome::Rejection;

/// Default allowed clock skew, in seconds, for `exp`, `nbf` and `iat`: small
/// enough not to matter for Cognito's hour-long tokens, large enough for
/// hosts whose clocks drift a little.
pub const DEFAULT_LEEWAY_SECS: i64 = 30;

/// Default number of verified tokens kept.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// A revocation check for tokens of a local pool (e.g. after GlobalSignOut
/// or RevokeToken). It is consulted on every use of a token, including
/// cache hits, so an implementation must be cheap (keep its own cache).
#[async_trait]
pub trait Revocation: Send + Sync + 'static {
    async fn is_revoked(&self, claims: &Claims) -> bool;
}

/// Issuers known only when their tokens arrive (a server whose pools come
/// and go): asked for the configuration of an `iss` the verifier was not
/// built with. An answer is kept (the issuer's keys are then cached and
/// refetched like a configured issuer's) in a bounded map; `None` refuses
/// the token as `WrongIssuer` and is not kept.
#[async_trait]
pub trait IssuerDirectory: Send + Sync + 'static {
    async fn resolve(&self, iss: &str) -> Option<IssuerConfig>;
}

/// Issuers resolved through an `IssuerDirectory` that are kept; past that
/// the map starts over.
const DIRECTORY_ISSUERS_MAX: usize = 10_000;

/// One trusted issuer.
pub struct IssuerConfig {
    /// Exactly the `iss` of its tokens, e.g.
    /// `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example`.
    pub issuer: String,
    /// Allowed client ids: a token's `aud` (ID token) or `client_id`
    /// (access token) must be one of them. Empty allows any client.
    pub clients: Vec<String>,
    pub keys: Arc<dyn JwksSource>,
    pub revocation: Option<Arc<dyn Revocation>>,
}

impl IssuerConfig {
    /// A Cognito user pool (or cognate pool) by issuer URL; keys are
    /// fetched from `<issuer>/.well-known/jwks.json`.
    pub fn cognito(issuer: &str, clients: &[&str]) -> Self {
        IssuerConfig {
            issuer: issuer.trim_end_matches('/').to_owned(),
            clients: clients.iter().map(|c| (*c).to_owned()).collect(),
            keys: Arc::new(HttpJwks::cognito(issuer)),
            revocation: None,
        }
    }

    /// Any OIDC issuer; keys from the discovery document's `jwks_uri`.
    pub fn oidc(issuer: &str, audience: &[&str]) -> Self {
        IssuerConfig {
            keys: Arc::new(HttpJwks::discovery(issuer)),
            ..Self::cognito(issuer, audience)
        }
    }

    /// An issuer whose keys are given.
    pub fn with_keys(issuer: &str, clients: &[&str], keys: KeySet) -> Self {
        IssuerConfig {
            keys: Arc::new(StaticJwks(keys)),
            ..Self::cognito(issuer, clients)
        }
    }
}

/// How a route's required scopes are matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeMatch {
    /// At least one of the scopes (API Gateway's rule).
    #[default]
    Any,
    /// Every scope.
    All,
}

/// What a route asks of a valid token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub token_use: TokenUse,
    pub scopes: Vec<String>,
    pub scope_match: ScopeMatch,
    /// The user must be in at least one of these `cognito:groups`.
    pub groups: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            token_use: TokenUse::Any,
            scopes: Vec::new(),
            scope_match: ScopeMatch::Any,
            groups: Vec::new(),
        }
    }
}

impl Policy {
    /// A policy accepting only one kind of token.
    pub fn token_use(token_use: TokenUse) -> Self {
        Policy {
            token_use,
            ..Policy::default()
        }
    }

    /// Checks token_use (401 when wrong), then scopes and groups (403).
    pub fn check(&self, claims: &Claims) -> Result<(), Rejection> {
        let wanted = match self.token_use {
            TokenUse::Any => None,
            TokenUse::Id => Some("id"),
            TokenUse::Access => Some("access"),
        };
        if wanted.is_some() && claims.token_use.as_deref() != wanted {
            return Err(Rejection::WrongTokenUse);
        }
        if !self.scopes.is_empty() {
            let has = |s: &String| claims.scopes.iter().any(|c| c == s);
            let ok = match self.scope_match {
                ScopeMatch::Any => self.scopes.iter().any(has),
                ScopeMatch::All => self.scopes.iter().all(has),
            };
            if !ok {
                return Err(Rejection::InsufficientScope);
            }
        }
        if !self.groups.is_empty() && !self.groups.iter().any(|g| claims.groups.contains(g)) {
            return Err(Rejection::MissingGroup);
        }
        Ok(())
    }
}

struct Issuer {
    clients: Vec<String>,
    keys: IssuerKeys,
    revocation: Option<Arc<dyn Revocation>>,
}

impl Issuer {
    fn new(c: IssuerConfig, refetch: RefetchPolicy) -> Self {
        Issuer {
            clients: c.clients,
            keys: IssuerKeys::new(c.keys, refetch),
            revocation: c.revocation,
        }
    }
}

#[derive(Clone)]
struct Verified {
    claims: Arc<Claims>,
    issuer: Arc<Issuer>,
}

/// The last token one client connection presented and what it verified
/// to: the connection's next request with the same token skips the hash
/// and the shared cache (`Verifier::authorize_remembered`). Only a token
/// that passed every check of its issuer is kept; its validity period and
/// revocation are still checked on every use, like a cache hit's. The memo
/// keeps its own copy of the claims (a few KiB with what the gateway derives
/// from them), so a core serving one connection never writes to memory that
/// other cores' connections read.
#[derive(Default)]
pub struct TokenMemo(Option<Remembered>);

struct Remembered {
    /// `Verifier::id` of the verifier that checked it.
    verifier: u64,
    token: Box<[u8]>,
    verified: Verified,
}

impl TokenMemo {
    fn get(&self, verifier: u64, token: &str) -> Option<Verified> {
        let r = self.0.as_ref()?;
        // A connection may carry several users' requests (behind another
        // proxy), so the comparison takes the same time wherever it differs.
        (r.verifier == verifier
            && cognate_crypto::digest::constant_time_eq(&r.token, token.as_bytes()))
        .then(|| r.verified.clone())
    }
}

/// Distinguishes verifiers, so a memo is only used by the one that filled it.
static NEXT_VERIFIER_ID: AtomicU64 = AtomicU64::new(1);

/// Verifies tokens of a set of issuers. Cheap to share (`Arc<Verifier>`).
pub struct Verifier {
    id: u64,
    issuers: Vec<Arc<Issuer>>,
    by_iss: HashMap<String, usize>,
    directory: Option<Directory>,
    leeway: i64,
    expiry_leeway: i64,
    refetch: RefetchPolicy,
    cache: Option<quick_cache::sync::Cache<[u8; 32], Verified>>,
}

/// An `IssuerDirectory` and the issuers it resolved.
struct Directory {
    source: Arc<dyn IssuerDirectory>,
    resolved: RwLock<HashMap<String, Arc<Issuer>>>,
}

/// Builds a `Verifier`.
pub struct VerifierBuilder {
    issuers: Vec<IssuerConfig>,
    directory: Option<Arc<dyn IssuerDirectory>>,
    leeway: i64,
    expiry_leeway: Option<i64>,
    cache_capacity: usize,
    refetch: RefetchPolicy,
}

impl VerifierBuilder {
    pub fn issuer(mut self, issuer: IssuerConfig) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// Issuers resolved when their tokens arrive, besides the configured ones.
    pub fn directory(mut self, directory: Arc<dyn IssuerDirectory>) -> Self {
        self.directory = Some(directory);
        self
    }

    /// Allowed clock skew in seconds (default 30), for `nbf` and `iat`, and
    /// for `exp` unless `expiry_leeway_secs` says otherwise.
    pub fn leeway_secs(mut self, secs: i64) -> Self {
        self.leeway = secs.max(0);
        self
    }

    /// Allowed skew past `exp` in seconds (default: the `leeway_secs`).
    /// 0 for tokens whose issuer shares our clock: a token then ends at its
    /// `exp` exactly, as Cognito's own APIs end it.
    pub fn expiry_leeway_secs(mut self, secs: i64) -> Self {
        self.expiry_leeway = Some(secs.max(0));
        self
    }

    /// Verified tokens kept (default 10 000; 0 turns the cache off).
    pub fn cache_capacity(mut self, n: usize) -> Self {
        self.cache_capacity = n;
        self
    }

    pub fn refetch(mut self, policy: RefetchPolicy) -> Self {
        self.refetch = policy;
        self
    }

    pub fn build(self) -> Verifier {
        let mut by_iss = HashMap::new();
        let issuers = self
            .issuers
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                by_iss.insert(c.issuer.clone(), i);
                Arc::new(Issuer::new(c, self.refetch))
            })
            .collect();
        Verifier {
            id: NEXT_VERIFIER_ID.fetch_add(1, Ordering::Relaxed),
            issuers,
            by_iss,
            directory: self.directory.map(|source| Directory {
                source,
                resolved: RwLock::new(HashMap::new()),
            }),
            leeway: self.leeway,
            expiry_leeway: self.expiry_leeway.unwrap_or(self.leeway),
            refetch: self.refetch,
            cache: (self.cache_capacity > 0)
                .then(|| quick_cache::sync::Cache::new(self.cache_capacity)),
        }
    }
}

/// Seconds since the epoch, from the system clock.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Verifier {
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder {
            issuers: Vec::new(),
            directory: None,
            leeway: DEFAULT_LEEWAY_SECS,
            expiry_leeway: None,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            refetch: RefetchPolicy::default(),
        }
    }

    /// The configured issuers this verifier trusts (not those of its
    /// directory).
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        let mut named: Vec<(&str, usize)> =
            self.by_iss.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        named.sort_by_key(|(_, i)| *i);
        named.into_iter().map(|(k, _)| k)
    }

    /// Forgets what the directory resolved for `iss` (its keys are then
    /// fetched afresh by the next token): for an issuer whose keys changed
    /// in a way the owner knows of, e.g. a key rotation on this server.
    pub fn forget_issuer(&self, iss: &str) {
        if let Some(dir) = &self.directory {
            if let Ok(mut m) = dir.resolved.write() {
                m.remove(iss);
            }
        }
    }

    /// The issuer of `iss`: a configured one, or one its directory knows.
    async fn issuer(&self, iss: &str) -> Option<Arc<Issuer>> {
        if let Some(i) = self.by_iss.get(iss) {
            return self.issuers.get(*i).cloned();
        }
        let dir = self.directory.as_ref()?;
        if let Some(found) = dir.resolved.read().ok()?.get(iss) {
            return Some(found.clone());
        }
        let config = dir.source.resolve(iss).await?;
        let issuer = Arc::new(Issuer::new(config, self.refetch));
        if let Ok(mut m) = dir.resolved.write() {
            // Another task may have resolved it meanwhile: keep the first,
            // whose keys may already be loaded.
            if let Some(found) = m.get(iss) {
                return Some(found.clone());
            }
            if m.len() >= DIRECTORY_ISSUERS_MAX {
                m.clear();
            }
            m.insert(iss.to_owned(), issuer.clone());
        }
        Some(issuer)
    }

    /// Verifies a token now and applies `policy`.
    pub async fn authorize(&self, token: &str, policy: &Policy) -> Result<Arc<Claims>, Rejection> {
        self.authorize_at(token, policy, now_secs()).await
    }

    /// Verifies a token at time `now` (seconds) and applies `policy`.
    pub async fn authorize_at(
        &self,
        token: &str,
        policy: &Policy,
        now: i64,
    ) -> Result<Arc<Claims>, Rejection> {
        let claims = self.verify_at(token, now).await?;
        policy.check(&claims)?;
        Ok(claims)
    }

    /// Verifies a token now, without a route policy.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, Rejection> {
        self.verify_at(token, now_secs()).await
    }

    /// Like `authorize`, for a client connection that presents the same
    /// token request after request: `memo` keeps the connection's last
    /// verified token (not used when the cache is off).
    pub async fn authorize_remembered(
        &self,
        token: &str,
        policy: &Policy,
        memo: &mut TokenMemo,
    ) -> Result<Arc<Claims>, Rejection> {
        self.authorize_remembered_at(token, policy, memo, now_secs())
            .await
    }

    /// `authorize_remembered` at time `now` (seconds).
    pub async fn authorize_remembered_at(
        &self,
        token: &str,
        policy: &Policy,
        memo: &mut TokenMemo,
        now: i64,
    ) -> Result<Arc<Claims>, Rejection> {
        let token = token.trim();
        let use_memo = self.cache.is_some();
        let remembered = use_memo.then(|| memo.get(self.id, token)).flatten();
        let verified = match remembered {
            Some(v) => v,
            None => {
                let mut v = self.lookup(token, now).await?;
                if use_memo {
                    // The connection's own copy of the claims (with an empty
                    // `derived` slot): its reference count and whatever is
                    // derived from it are touched by this connection's
                    // thread only, not by every core serving the same token.
                    v.claims = Arc::new((*v.claims).clone());
                    memo.0 = Some(Remembered {
                        verifier: self.id,
                        token: token.as_bytes().into(),
                        verified: v.clone(),
                    });
                }
                v
            }
        };
        let claims = self.check_use(verified, now).await?;
        policy.check(&claims)?;
        Ok(claims)
    }

    /// Verifies signature, issuer, audience, validity period at `now` and
    /// revocation. A verified token is served from the cache afterwards,
    /// but its validity period and revocation are checked at every use.
    pub async fn verify_at(&self, token: &str, now: i64) -> Result<Arc<Claims>, Rejection> {
        let verified = self.lookup(token.trim(), now).await?;
        self.check_use(verified, now).await
    }

    /// A token's verification from the cache, or done now (and cached).
    async fn lookup(&self, token: &str, now: i64) -> Result<Verified, Rejection> {
        if token.is_empty() {
            return Err(Rejection::Missing);
        }
        if token.len() > jws::MAX_TOKEN_LEN {
            return Err(Rejection::Malformed);
        }
        let Some(cache) = &self.cache else {
            let v = self.verify_uncached(token).await?;
            self.check_time(&v.claims, now)?;
            return Ok(v);
        };
        let key = cognate_crypto::digest::sha256(token.as_bytes());
        if let Some(v) = cache.get(&key) {
            return Ok(v);
        }
        let v = self.verify_uncached(token).await?;
        // An expired token is not cached.
        self.check_time(&v.claims, now)?;
        cache.insert(key, v.clone());
        Ok(v)
    }

    /// The checks made at every use of a verified token: validity period
    /// and revocation.
    async fn check_use(&self, verified: Verified, now: i64) -> Result<Arc<Claims>, Rejection> {
        self.check_time(&verified.claims, now)?;
        if let Some(revocation) = verified.issuer.revocation.as_ref() {
            if revocation.is_revoked(&verified.claims).await {
                return Err(Rejection::Revoked);
            }
        }
        Ok(verified.claims)
    }

    fn check_time(&self, claims: &Claims, now: i64) -> Result<(), Rejection> {
        if now >= claims.exp.saturating_add(self.expiry_leeway) {
            return Err(Rejection::Expired);
        }
        let not_before = claims.nbf.into_iter().chain(claims.iat).max();
        if not_before.is_some_and(|t| t > now.saturating_add(self.leeway)) {
            return Err(Rejection::NotYetValid);
        }
        Ok(())
    }

    async fn verify_uncached(&self, token: &str) -> Result<Verified, Rejection> {
        let decoded = jws::decode(token).map_err(|e| match e {
            JwsError::WrongAlgorithm => Rejection::BadSignature,
            _ => Rejection::Malformed,
        })?;
        let claims = Claims::parse(&decoded.payload)?;
        let issuer = self
            .issuer(&claims.iss)
            .await
            .ok_or(Rejection::WrongIssuer)?;
        let kid = decoded.kid().ok_or(Rejection::UnknownKid)?;
        let (keys, i) = issuer.keys.key(kid).await?;
        keys.at(i)
            .ok_or(Rejection::UnknownKid)?
            .verify(decoded.signing_input.as_bytes(), &decoded.signature)
            .map_err(|_| Rejection::BadSignature)?;
        if !issuer.clients.is_empty() {
            let allowed = |c: &str| issuer.clients.iter().any(|a| a == c);
            // An access token's `client_id`; otherwise `aud` when the token
            // has one, else `client_id` (API Gateway's JWT authorizer rule:
            // a token for another audience is not saved by its client_id).
            let ok = match claims.client_id.as_deref() {
                Some(client) if claims.token_use.as_deref() == Some("access") => allowed(client),
                _ if !claims.aud.is_empty() => claims.aud.iter().any(|a| allowed(a)),
                client => client.is_some_and(allowed),
            };
            if !ok {
                return Err(Rejection::WrongAudience);
            }
        }
        Ok(Verified {
            claims: Arc::new(claims),
            issuer,
        })
    }
}

//! Signing keys of issuers: a parsed key set, where it comes from (a JWKS
//! given locally, fetched over HTTP directly or via OpenID discovery, or any
//! other `JwksSource`), and the per-issuer cache that refetches on an
//! unknown `kid` no more often than a floor allows.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cognate_crypto::VerifyingKey;
use serde_json::Value;

use crate::outcome::Rejection;

/// Why keys could not be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// The usable keys of one JWKS: RSA keys with a `kid`, whose `alg` (when
/// present) is RS256 and whose `use` (when present) is `sig`. Other keys are
/// skipped, so a token naming them gets `UnknownKid`.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    /// From a JWKS document (`{"keys": [...]}`).
    pub fn from_jwks_json(doc: &Value) -> Result<KeySet, KeyError> {
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| KeyError("JWKS has no `keys` array".into()))?;
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let field = |name: &str| k.get(name).and_then(Value::as_str);
            if field("kty") != Some("RSA")
                || field("alg").is_some_and(|a| a != "RS256")
                || field("use").is_some_and(|u| u != "sig")
            {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (field("kid"), field("n"), field("e")) else {
                continue;
            };
            let (Ok(n), Ok(e)) = (URL_SAFE_NO_PAD.decode(n), URL_SAFE_NO_PAD.decode(e)) else {
                continue;
            };
            if let Ok(key) = VerifyingKey::from_components(kid, &n, &e) {
                out.push(key);
            }
        }
        Ok(KeySet { keys: out })
    }

    /// From parsed public keys.
    pub fn from_keys(keys: Vec<VerifyingKey>) -> KeySet {
        KeySet { keys }
    }

    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.kid() == kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Where an issuer's keys come from.
#[async_trait]
pub trait JwksSource: Send + Sync + 'static {
    async fn fetch(&self) -> Result<KeySet, KeyError>;
}

/// Keys given up front (for tests, air-gapped backends, or a JWKS file).
pub struct StaticJwks(pub KeySet);

#[async_trait]
impl JwksSource for StaticJwks {
    async fn fetch(&self) -> Result<KeySet, KeyError> {
        Ok(self.0.clone())
    }
}

/// Largest JWKS or discovery document we read.
const MAX_DOC_BYTES: usize = 256 * 1024;

/// Keys fetched over HTTP(S): either a JWKS URL, or the issuer's OpenID
/// discovery document whose `jwks_uri` names it.
pub struct HttpJwks {
    client: reqwest::Client,
    location: Location,
}

enum Location {
    Jwks(String),
    Discovery(String),
}

impl HttpJwks {
    /// `<issuer>/.well-known/jwks.json`, Cognito's location.
    pub fn cognito(issuer: &str) -> Self {
        Self::jwks_url(&format!(
            "{}/.well-known/jwks.json",
            issuer.trim_end_matches('/')
        ))
    }

    pub fn jwks_url(url: &str) -> Self {
        HttpJwks {
            client: default_client(),
            location: Location::Jwks(url.to_owned()),
        }
    }

    /// `jwks_uri` of `<issuer>/.well-known/openid-configuration`.
    pub fn discovery(issuer: &str) -> Self {
        HttpJwks {
            client: default_client(),
            location: Location::Discovery(issuer.trim_end_matches('/').to_owned()),
        }
    }

    async fn get_json(&self, url: &str) -> Result<Value, KeyError> {
        let fail = |e: &dyn std::fmt::Display| KeyError(format!("GET {url}: {e}"));
        let mut resp = self.client.get(url).send().await.map_err(|e| fail(&e))?;
        if !resp.status().is_success() {
            return Err(fail(&resp.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(&e))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOC_BYTES {
                return Err(fail(&"document too large"));
            }
        }
        serde_json::from_slice(&body).map_err(|e| fail(&e))
    }
}

fn default_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

#[async_trait]
impl JwksSource for HttpJwks {
    async fn fetch(&self) -> Result<KeySet, KeyError> {
        let url = match &self.location {
            Location::Jwks(url) => url.clone(),
            Location::Discovery(issuer) => {
                let url = format!("{issuer}/.well-known/openid-configuration");
                let doc = self.get_json(&url).await?;
                doc.get("jwks_uri")
                    .and_then(Value::as_str)
                    .ok_or_else(|| KeyError(format!("{url}: no jwks_uri")))?
                    .to_owned()
            }
        };
        KeySet::from_jwks_json(&self.get_json(&url).await?)
    }
}

/// How often keys are refetched.
#[derive(Clone, Copy, Debug)]
pub struct RefetchPolicy {
    /// At most one refetch per this interval for an unknown kid (default 30 s).
    pub min_interval: Duration,
    /// Retry interval while no key set was ever loaded (default 1 s).
    pub retry_unloaded: Duration,
    /// Keys older than this are refetched on next use; on failure the old
    /// ones stay in use (default 1 h).
    pub max_age: Duration,
}

impl Default for RefetchPolicy {
    fn default() -> Self {
        RefetchPolicy {
            min_interval: Duration::from_secs(30),
            retry_unloaded: Duration::from_secs(1),
            max_age: Duration::from_secs(3600),
        }
    }
}

struct Loaded {
    keys: Arc<KeySet>,
    at: Instant,
}

/// The cached keys of one issuer.
pub(crate) struct IssuerKeys {
    source: Arc<dyn JwksSource>,
    policy: RefetchPolicy,
    loaded: RwLock<Option<Loaded>>,
    last_attempt: Mutex<Option<Instant>>,
    fetching: tokio::sync::Mutex<()>,
}

impl IssuerKeys {
    pub(crate) fn new(source: Arc<dyn JwksSource>, policy: RefetchPolicy) -> Self {
        IssuerKeys {
            source,
            policy,
            loaded: RwLock::new(None),
            last_attempt: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    fn snapshot(&self) -> Option<(Arc<KeySet>, Instant)> {
        self.loaded
            .read()
            .ok()
            .and_then(|l| l.as_ref().map(|l| (l.keys.clone(), l.at)))
    }

    fn may_fetch(&self, now: Instant, loaded: bool) -> bool {
        let floor = if loaded {
            self.policy.min_interval
        } else {
            self.policy.retry_unloaded
        };
        match self.last_attempt.lock().ok().and_then(|g| *g) {
            Some(t) => now.duration_since(t) >= floor,
            None => true,
        }
    }

    /// The key named `kid`, fetching the set when it is not loaded yet, is
    /// stale, or lacks the kid (within the refetch floor).
    pub(crate) async fn key(&self, kid: &str) -> Result<(Arc<KeySet>, usize), Rejection> {
        let now = Instant::now();
        let snap = self.snapshot();
        if let Some((keys, at)) = &snap {
            if let Some(i) = index(keys, kid) {
                if now.duration_since(*at) < self.policy.max_age || !self.may_fetch(now, true) {
                    return Ok((keys.clone(), i));
                }
            } else if !self.may_fetch(now, true) {
                // Within the floor: a fetch may be under way (its start is the
                // last attempt), so wait for it and look again, rather than
                // refuse a token of a key it is about to bring.
                return self.after_fetch(kid).await;
            }
        } else if !self.may_fetch(now, false) {
            return self.after_fetch(kid).await;
        }
        // One fetch at a time; whoever waited re-reads what it fetched.
        let _guard = self.fetching.lock().await;
        let before = snap.as_ref().map(|(_, at)| *at);
        let current = self.snapshot();
        let fetched_meanwhile = match (&current, before) {
            (Some((_, at)), Some(b)) => *at > b,
            (Some(_), None) => true,
            _ => false,
        };
        if !fetched_meanwhile && self.may_fetch(Instant::now(), current.is_some()) {
            if let Ok(mut g) = self.last_attempt.lock() {
                *g = Some(Instant::now());
            }
            match self.source.fetch().await {
                Ok(keys) => {
                    if let Ok(mut l) = self.loaded.write() {
                        *l = Some(Loaded {
                            keys: Arc::new(keys),
                            at: Instant::now(),
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "fetching signing keys failed"),
            }
        }
        match self.snapshot() {
            Some((keys, _)) => match index(&keys, kid) {
                Some(i) => Ok((keys, i)),
                None => Err(Rejection::UnknownKid),
            },
            None => Err(Rejection::KeysUnavailable),
        }
    }
}

impl IssuerKeys {
    /// The key named `kid` once any fetch under way has finished.
    async fn after_fetch(&self, kid: &str) -> Result<(Arc<KeySet>, usize), Rejection> {
        drop(self.fetching.lock().await);
        match self.snapshot() {
            Some((keys, _)) => match index(&keys, kid) {
                Some(i) => Ok((keys, i)),
                None => Err(Rejection::UnknownKid),
            },
            None => Err(Rejection::KeysUnavailable),
        }
    }
}

fn index(keys: &KeySet, kid: &str) -> Option<usize> {
    keys.keys.iter().position(|k| k.kid() == kid)
}

impl KeySet {
    pub(crate) fn at(&self, i: usize) -> Option<&VerifyingKey> {
        self.keys.get(i)
    }
}

//! What goes into ID and access tokens, how long they live, and the check of
//! an access token presented to the user APIs. Signing keys are loaded from
//! the store per pool and kept parsed in memory; the set is read again every
//! [`KEY_REFRESH_MS`] (a rotation by another instance publishes new keys long
//! before they sign) and on an unknown kid (at most once a second).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cognate_crypto::jws::{SigningKey, VerifyingKey};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::model::{AppClient, AttributeDataType, StoredKey, User, UserPool};
use crate::store::Store;

/// The scope of tokens issued by the API sign-in flows.
pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// One parsed key of a pool with its publication and signing windows.
pub struct PoolKey {
    pub stored: StoredKey,
    pub signing: Arc<SigningKey>,
}

/// The signing keys of one pool, as loaded at `loaded_at`.
pub struct PoolKeys {
    pub keys: Vec<PoolKey>,
    loaded_at: i64,
}

impl PoolKeys {
    /// The key that signs `purpose` (`id` or `access`) tokens at `now`: the
    /// latest-starting key whose signing window holds `now`.
    pub fn signing_key(&self, purpose: &str, now: i64) -> Result<&Arc<SigningKey>> {
        self.keys
            .iter()
            .filter(|k| k.stored.purpose == purpose && k.stored.signs_at(now))
            .max_by_key(|k| k.stored.signs_from)
            .or_else(|| {
                // Windows say nobody signs (a clock far off the rotation's):
                // the newest key that has started.
                self.keys
                    .iter()
                    .filter(|k| k.stored.purpose == purpose && k.stored.signs_from <= now)
                    .max_by_key(|k| k.stored.signs_from)
            })
            .map(|k| &k.signing)
            .ok_or_else(|| Error::internal(format!("no {purpose} signing key")))
    }

    /// A published key by kid (retired keys verify nothing).
    pub fn verifying_key(&self, kid: &str, now: i64) -> Option<&VerifyingKey> {
        self.keys
            .iter()
            .find(|k| k.stored.kid == kid && k.stored.published_at(now))
            .map(|k| k.signing.verifying_key())
    }

    /// The keys of the JWKS at `now`: every key not retired, including a
    /// rotation's new keys before they sign.
    pub fn published(&self, now: i64) -> impl Iterator<Item = &VerifyingKey> {
        self.keys
            .iter()
            .filter(move |k| k.stored.published_at(now))
            .map(|k| k.signing.verifying_key())
    }
}

/// How long a pool's loaded keys are used before they are read again, so
/// a rotation made by another instance is seen (it publishes new keys
/// well before they sign: see `UserPools::rotate_keys`).
pub const KEY_REFRESH_MS: i64 = 10_000;

/// Parsed signing keys by pool id.
#[derive(Default)]
pub struct KeyCache {
    pools: RwLock<HashMap<String, Arc<PoolKeys>>>,
}

impl KeyCache {
    /// Creates the two keys of a new pool (one for ID, one for access
    /// tokens), signing from `now`.
    pub fn generate_pool_keys(pool_id: &str, now: i64) -> Result<Vec<StoredKey>> {
        Self::generate_keys(pool_id, now, now)
    }

    /// Two new keys (ID and access) created at `now` that sign from `signs_from`.
    pub fn generate_keys(pool_id: &str, now: i64, signs_from: i64) -> Result<Vec<StoredKey>> {
        let mut out = Vec::with_capacity(2);
        for purpose in ["id", "access"] {
            let key = SigningKey::generate().map_err(|e| Error::internal(e.to_string()))?;
            out.push(StoredKey {
                pool_id: pool_id.to_owned(),
                kid: key.kid().to_owned(),
                purpose: purpose.to_owned(),
                pkcs8: key.pkcs8().to_vec(),
                created: now,
                signs_from,
                signs_until: None,
                published_until: None,
            });
        }
        Ok(out)
    }

    /// The keys of a pool, loaded on first use and read again every
    /// [`KEY_REFRESH_MS`].
    pub async fn get(&self, store: &dyn Store, pool_id: &str, now: i64) -> Result<Arc<PoolKeys>> {
        if let Some(keys) = self.cached(pool_id) {
            if now - keys.loaded_at < KEY_REFRESH_MS && now >= keys.loaded_at {
                return Ok(keys);
            }
        }
        self.reload(store, pool_id, now).await
    }

    fn cached(&self, pool_id: &str) -> Option<Arc<PoolKeys>> {
        self.pools.read().ok().and_then(|m| m.get(pool_id).cloned())
    }

    /// Loads a pool's keys from the store, replacing the cached set.
    pub async fn reload(
        &self,
        store: &dyn Store,
        pool_id: &str,
        now: i64,
    ) -> Result<Arc<PoolKeys>> {
        let stored = store.list_keys(pool_id).await?;
        if stored.is_empty() {
            return Err(Error::pool_not_found(pool_id));
        }
        // A kid never changes its key: reuse the parsed ones.
        let previous = self.cached(pool_id);
        let mut keys = Vec::with_capacity(stored.len());
        for k in stored {
            let parsed = previous
                .as_ref()
                .and_then(|p| p.keys.iter().find(|old| old.stored.kid == k.kid))
                .map(|old| old.signing.clone());
            let signing = match parsed {
                Some(s) => s,
                None => Arc::new(
                    SigningKey::from_pkcs8(&k.kid, &k.pkcs8)
                        .map_err(|e| Error::internal(e.to_string()))?,
                ),
            };
            keys.push(PoolKey { stored: k, signing });
        }
        let keys = Arc::new(PoolKeys {
            keys,
            loaded_at: now,
        });
        if let Ok(mut m) = self.pools.write() {
            m.insert(pool_id.to_owned(), keys.clone());
        }
        Ok(keys)
    }

    pub fn forget(&self, pool_id: &str) {
        if let Ok(mut m) = self.pools.write() {
            m.remove(pool_id);
        }
    }
}

/// Seconds per unit of TokenValidityUnits.
fn unit_seconds(unit: Option<&str>, default: i64) -> i64 {
    match unit {
        Some("seconds") => 1,
        Some("minutes") => 60,
        Some("hours") => 3600,
        Some("days") => 86_400,
        _ => default,
    }
}

/// Lifetimes of a client's tokens, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    pub id: i64,
    pub access: i64,
    pub refresh: i64,
}

pub fn lifetimes(client: &AppClient) -> Lifetimes {
    let s = &client.settings;
    let u = &s.token_validity_units;
    let id = s
        .id_token_validity
        .map(|v| v * unit_seconds(u.id_token.as_deref(), 3600))
        .unwrap_or(3600);
    let access = s
        .access_token_validity
        .map(|v| v * unit_seconds(u.access_token.as_deref(), 3600))
        .unwrap_or(3600);
    let refresh = if s.refresh_token_validity == 0 {
        30 * 86_400
    } else {
        s.refresh_token_validity * unit_seconds(u.refresh_token.as_deref(), 86_400)
    };
    Lifetimes {
        id,
        access,
        refresh,
    }
}

/// What a sign-in event shares between its tokens.
#[derive(Clone, Debug)]
pub struct SignInEvent {
    pub origin_jti: String,
    pub event_id: String,
    pub auth_time: i64,
    /// The device the sign-in is bound to (Cognito's `device_key` claim of
    /// the access token): the new device of NewDeviceMetadata or the
    /// confirmed device the sign-in named, in a pool that tracks devices.
    pub device_key: Option<String>,
    /// The SSO session (hosted UI sign-in) the tokens are granted through:
    /// the OriginSessionId of their token session.
    pub sso_session_id: Option<String>,
}

/// Whether a client may read an attribute into its ID token.
fn readable(client: &AppClient, name: &str) -> bool {
    match &client.settings.read_attributes {
        None => true,
        Some(list) => list.iter().any(|a| a == name),
    }
}

/// Who a token is for and when: what every token of one issuance shares.
pub struct TokenSubject<'a> {
    pub issuer: &'a str,
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    pub user: &'a User,
    pub event: &'a SignInEvent,
    /// Issue time, epoch seconds.
    pub now: i64,
    /// Issue time, epoch milliseconds (kept in the `jti`, see [`issued_ms`]).
    pub now_ms: i64,
}

/// The instant (epoch milliseconds) a token of ours was issued: from its
/// `jti`, a version-7 UUID made at signing, when that agrees with `iat`;
/// otherwise the last millisecond of its `iat` second, so that a token
/// whose issue instant is only known to the second counts as issued after
/// anything else in that second (a sign-out in the same second revokes it).
pub fn issued_ms(iat: Option<i64>, jti: Option<&str>) -> Option<i64> {
    let iat = iat?;
    let exact = jti
        .and_then(cognate_crypto::random::uuid_v7_millis)
        .filter(|ms| ms.div_euclid(1000) == iat);
    Some(exact.unwrap_or_else(|| iat.saturating_mul(1000).saturating_add(999)))
}

/// The claims of an ID token.
pub fn id_token_claims(
    subject: &TokenSubject<'_>,
    lifetime: i64,
    extra: Option<&Map<String, Value>>,
) -> Value {
    let TokenSubject {
        issuer,
        pool,
        client,
        user,
        event,
        now,
        now_ms,
    } = *subject;
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.sub));
    for attr in &user.attributes {
        if attr.name.starts_with("dev:") || !readable(client, &attr.name) {
            continue;
        }
        let value = match pool.schema_attribute(&attr.name).map(|d| d.data_type) {
            _ if attr.name == "email_verified" || attr.name == "phone_number_verified" => {
                json!(attr.value == "true")
            }
            _ if attr.name == "address" => json!({"formatted": attr.value}),
            // Federated users: the JSON array of their identities, its
            // `primary` and `dateCreated` as strings (as Cognito's tokens
            // carry them; the attribute has a boolean and a number).
            _ if attr.name == "identities" => serde_json::from_str(&attr.value)
                .map(identities_claim)
                .unwrap_or_else(|_| json!(attr.value)),
            _ if attr.name == "updated_at" => attr
                .value
                .parse::<i64>()
                .map(|n| json!(n))
                .unwrap_or_else(|_| json!(attr.value)),
            Some(AttributeDataType::Boolean) if !attr.name.starts_with("custom:") => {
                json!(attr.value == "true")
            }
            _ => json!(attr.value),
        };
        claims.insert(attr.name.clone(), value);
    }
    claims.insert("iss".into(), json!(issuer));
    claims.insert("cognito:username".into(), json!(user.username));
    claims.insert("origin_jti".into(), json!(event.origin_jti));
    claims.insert("aud".into(), json!(client.client_id));
    claims.insert("event_id".into(), json!(event.event_id));
    claims.insert("token_use".into(), json!("id"));
    claims.insert("auth_time".into(), json!(event.auth_time));
    claims.insert("exp".into(), json!(now + lifetime));
    claims.insert("iat".into(), json!(now));
    claims.insert("jti".into(), json!(cognate_crypto::random::uuid_v7(now_ms)));
    if let Some(extra) = extra {
        for (k, v) in extra {
            claims.insert(k.clone(), v.clone());
        }
    }
    Value::Object(claims)
}

/// Group claims: `cognito:groups` (ID and access tokens), `cognito:roles`
/// and `cognito:preferred_role` (ID token only). Groups are ordered by
/// precedence (lowest first), then name; the preferred role is the role of
/// the single group with the lowest precedence.
pub fn group_claims(groups: &[crate::model::Group]) -> (Map<String, Value>, Map<String, Value>) {
    let mut id = Map::new();
    let mut access = Map::new();
    if groups.is_empty() {
        return (id, access);
    }
    let mut sorted: Vec<&crate::model::Group> = groups.iter().collect();
    sorted.sort_by(|a, b| {
        a.precedence
            .unwrap_or(i64::MAX)
            .cmp(&b.precedence.unwrap_or(i64::MAX))
            .then_with(|| a.name.cmp(&b.name))
    });
    let names: Vec<&str> = sorted.iter().map(|g| g.name.as_str()).collect();
    id.insert("cognito:groups".into(), json!(names));
    access.insert("cognito:groups".into(), json!(names));
    let roles: Vec<&str> = sorted
        .iter()
        .filter_map(|g| g.role_arn.as_deref())
        .collect();
    if !roles.is_empty() {
        id.insert("cognito:roles".into(), json!(roles));
        let with_role: Vec<&&crate::model::Group> =
            sorted.iter().filter(|g| g.role_arn.is_some()).collect();
        if let Some(best) = with_role.first() {
            let tied = with_role
                .iter()
                .filter(|g| g.precedence == best.precedence && g.role_arn != best.role_arn)
                .count();
            if tied == 0 {
                id.insert("cognito:preferred_role".into(), json!(best.role_arn));
            }
        }
    }
    (id, access)
}

/// The claims of an access token.
pub fn access_token_claims(subject: &TokenSubject<'_>, scope: &str, lifetime: i64) -> Value {
    let TokenSubject {
        issuer,
        client,
        user,
        event,
        now,
        now_ms,
        ..
    } = *subject;
    let mut claims = json!({
        "sub": user.sub,
        "iss": issuer,
        "client_id": client.client_id,
        "origin_jti": event.origin_jti,
        "event_id": event.event_id,
        "token_use": "access",
        "scope": scope,
        "auth_time": event.auth_time,
        "exp": now + lifetime,
        "iat": now,
        "jti": cognate_crypto::random::uuid_v7(now_ms),
        "username": user.username,
    });
    if let (Some(key), Some(obj)) = (&event.device_key, claims.as_object_mut()) {
        obj.insert("device_key".into(), json!(key));
    }
    claims
}

/// What one issuance of tokens carries.
#[derive(Clone, Copy, Debug)]
pub struct IssueOptions<'a> {
    /// The access token's `scope` claim.
    pub scope: &'a str,
    /// Tokens of the OAuth endpoints: `version: 2` in the access token,
    /// `at_hash` in the ID token, and the scope kept with the refresh token.
    pub oauth: bool,
    /// Whether an ID token is issued (OAuth: only with `openid`).
    pub id_token: bool,
    /// OIDC `nonce` for the ID token.
    pub nonce: Option<&'a str>,
    /// Whether a refresh token is issued (a new sign-in, not a refresh).
    pub refresh: bool,
}

impl<'a> IssueOptions<'a> {
    /// Tokens of the sign-in APIs: the admin scope, always an ID token.
    pub fn api(refresh: bool) -> Self {
        IssueOptions {
            scope: ADMIN_SCOPE,
            oauth: false,
            id_token: true,
            nonce: None,
            refresh,
        }
    }

    /// Tokens of the OAuth endpoints for the granted `scope`.
    pub fn oauth(scope: &'a str, nonce: Option<&'a str>, refresh: bool) -> Self {
        IssueOptions {
            scope,
            oauth: true,
            id_token: scope.split(' ').any(|s| s == "openid"),
            nonce,
            refresh,
        }
    }
}

/// A new opaque refresh token. It imitates the shape of Cognito's (a JWE
/// with an RSA-OAEP/A256GCM header) but is only random text; the store
/// keeps its SHA-256.
pub fn new_refresh_token() -> String {
    const HEADER: &str = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ";
    format!(
        "{HEADER}.{}.{}.{}.{}",
        cognate_crypto::random::base64url(256),
        cognate_crypto::random::base64url(12),
        cognate_crypto::random::base64url(48),
        cognate_crypto::random::base64url(16)
    )
}

/// The claims the user APIs read from an access token.
#[derive(Clone, Debug, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub iss: String,
    pub client_id: String,
    pub token_use: String,
    #[serde(default)]
    pub scope: String,
    /// Absent in client_credentials tokens, which the user APIs then refuse
    /// for lacking the admin scope.
    #[serde(default)]
    pub username: Option<String>,
    pub exp: i64,
    pub iat: i64,
    #[serde(default)]
    pub origin_jti: Option<String>,
    #[serde(default)]
    pub jti: Option<String>,
    /// The device the sign-in was bound to (`device_key`), if any.
    #[serde(default)]
    pub device_key: Option<String>,
}

impl AccessClaims {
    /// From claims the verifier checked (an access token: `client_id` and
    /// `iat` present).
    pub fn from_verified(claims: &cognate_token::Claims) -> Option<AccessClaims> {
        Some(AccessClaims {
            sub: claims.sub.clone()?,
            iss: claims.iss.clone(),
            client_id: claims.client_id.clone()?,
            token_use: claims.token_use.clone()?,
            scope: claims.scopes.join(" "),
            username: claims.username().map(str::to_owned),
            exp: claims.exp,
            iat: claims.iat?,
            origin_jti: claims.origin_jti.clone(),
            jti: claims.jti.clone(),
            device_key: claims
                .all
                .get("device_key")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        })
    }
}

/// OpenID Connect's `at_hash`: the left half of the SHA-256 of the access
/// token, base64url without padding.
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    let digest = cognate_crypto::digest::sha256(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The `identities` claim of an `identities` attribute value.
fn identities_claim(mut list: Value) -> Value {
    if let Some(entries) = list.as_array_mut() {
        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["primary", "dateCreated"] {
                if let Some(v) = entry.get_mut(key) {
                    if !v.is_string() && !v.is_null() {
                        *v = Value::String(v.to_string());
                    }
                }
            }
        }
    }
    list
}

#[cfg(test)]
mod tests {
    #[test]
    fn issue_instant_from_jti_or_end_of_second() {
        let jti = cognate_crypto::random::uuid_v7(1_700_000_000_130);
        assert_eq!(
            super::issued_ms(Some(1_700_000_000), Some(&jti)),
            Some(1_700_000_000_130)
        );
        // A jti that disagrees with iat, or is not a v7 UUID: end of the second.
        assert_eq!(
            super::issued_ms(Some(1_700_000_001), Some(&jti)),
            Some(1_700_000_001_999)
        );
        assert_eq!(super::issued_ms(Some(5), Some("x")), Some(5_999));
        assert_eq!(super::issued_ms(None, Some(&jti)), None);
    }

    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        // Computed independently (Python hashlib + base64).
        assert_eq!(
            super::at_hash("eyJhbGciOiJSUzI1NiJ9.e30.sig"),
            "9oo4F9IoCxGNFXDkY-ijoA"
        );
    }
}

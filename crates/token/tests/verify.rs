//! The verifier against tokens in Cognito's exact format, and the attacks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cognate_crypto::SigningKey;
use cognate_token::{
    Claims, IssuerConfig, JwksSource, KeyError, KeySet, Policy, RefetchPolicy, Rejection,
    Revocation, ScopeMatch, TokenMemo, TokenUse, Verifier,
};
use serde_json::{json, Value};

const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
const CLIENT: &str = "3c4v73qlc19bp0mevm94f5a4co";
const NOW: i64 = 1_700_000_000;

struct Pool {
    id_key: SigningKey,
    access_key: SigningKey,
}

impl Pool {
    fn new() -> Self {
        Pool {
            id_key: SigningKey::generate().unwrap(),
            access_key: SigningKey::generate().unwrap(),
        }
    }

    fn keys(&self) -> KeySet {
        KeySet::from_jwks_json(&json!({"keys": [self.id_key.jwk(), self.access_key.jwk()]}))
            .unwrap()
    }

    fn verifier(&self) -> Verifier {
        Verifier::builder()
            .issuer(IssuerConfig::with_keys(ISS, &[CLIENT], self.keys()))
            .build()
    }

    fn id_token(&self, patch: Value) -> String {
        let mut claims = json!({
            "sub": "54c854d8-4011-70f7-c96b-e1ef1db2e8bd",
            "cognito:groups": ["admin"],
            "email_verified": true,
            "iss": ISS,
            "cognito:username": "joe_bloggs",
            "origin_jti": "8c2b7b5e-0d3c-4a7c-9c55-6f7d1e1a2b3c",
            "aud": CLIENT,
            "event_id": "0b6f7a7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
            "token_use": "id",
            "auth_time": NOW,
            "exp": NOW + 3600,
            "iat": NOW,
            "jti": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
            "email": "joe@example.com"
        });
        merge(&mut claims, patch);
        self.id_key.sign(&claims).unwrap()
    }

    fn access_token(&self, patch: Value) -> String {
        let mut claims = json!({
            "sub": "54c854d8-4011-70f7-c96b-e1ef1db2e8bd",
            "iss": ISS,
            "client_id": CLIENT,
            "origin_jti": "8c2b7b5e-0d3c-4a7c-9c55-6f7d1e1a2b3c",
            "event_id": "0b6f7a7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": NOW,
            "exp": NOW + 3600,
            "iat": NOW,
            "jti": "a1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
            "username": "joe_bloggs"
        });
        merge(&mut claims, patch);
        self.access_key.sign(&claims).unwrap()
    }
}

fn merge(into: &mut Value, patch: Value) {
    if let (Some(into), Value::Object(patch)) = (into.as_object_mut(), patch) {
        for (k, v) in patch {
            if v.is_null() {
                into.remove(&k);
            } else {
                into.insert(k, v);
            }
        }
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn payload_of(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

#[tokio::test]
async fn valid_cognito_id_and_access_tokens_verify() {
    let pool = Pool::new();
    let v = pool.verifier();
    let claims = v
        .verify_at(&pool.id_token(json!({})), NOW + 10)
        .await
        .unwrap();
    assert_eq!(
        claims.sub.as_deref(),
        Some("54c854d8-4011-70f7-c96b-e1ef1db2e8bd")
    );
    assert_eq!(claims.username(), Some("joe_bloggs"));
    assert_eq!(claims.groups, vec!["admin"]);
    assert_eq!(claims.client(), Some(CLIENT));
    assert_eq!(claims.all["email_verified"], json!(true));

    let access = pool.access_token(json!({}));
    let claims = v
        .authorize_at(&access, &Policy::token_use(TokenUse::Access), NOW)
        .await
        .unwrap();
    assert_eq!(claims.username(), Some("joe_bloggs"));
    assert_eq!(claims.scopes, vec!["aws.cognito.signin.user.admin"]);
}

#[tokio::test]
async fn attacks_and_bad_tokens_get_their_reason() {
    let pool = Pool::new();
    let v = pool.verifier();
    let good = pool.id_token(json!({}));
    let parts: Vec<&str> = good.split('.').collect();
    let claims = payload_of(&good);

    // alg none, with and without a signature part.
    let none = format!("{}.{}.", b64(&json!({"alg": "none"})), parts[1]);
    assert_eq!(v.verify_at(&none, NOW).await, Err(Rejection::BadSignature));
    let none_kid = format!(
        "{}.{}.{}",
        b64(&json!({"kid": pool.id_key.kid(), "alg": "none"})),
        parts[1],
        parts[2]
    );
    assert_eq!(
        v.verify_at(&none_kid, NOW).await,
        Err(Rejection::BadSignature)
    );

    // HS256 "signed" with the public key (the classic key-confusion attack):
    // with the JWK's JSON and with the raw modulus as HMAC key.
    let header = b64(&json!({"kid": pool.id_key.kid(), "alg": "HS256"}));
    for secret in [
        serde_json::to_vec(&pool.id_key.jwk()).unwrap(),
        URL_SAFE_NO_PAD.decode(&pool.id_key.jwk().n).unwrap(),
    ] {
        let input = format!("{header}.{}", parts[1]);
        let mac = cognate_crypto::digest::hmac_sha256(&secret, input.as_bytes());
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac));
        assert_eq!(
            v.verify_at(&forged, NOW).await,
            Err(Rejection::BadSignature)
        );
    }

    // Tampered payload (another user), original signature.
    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("someone-else");
    tampered_claims["cognito:groups"] = json!(["admin", "root"]);
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);
    assert_eq!(
        v.verify_at(&tampered, NOW).await,
        Err(Rejection::BadSignature)
    );

    // Signed by a key the issuer does not publish.
    let stranger = SigningKey::generate().unwrap();
    let unknown = stranger.sign(&claims).unwrap();
    assert_eq!(v.verify_at(&unknown, NOW).await, Err(Rejection::UnknownKid));

    // Signed by a stranger's key that claims the pool's kid.
    let stranger_same_kid = SigningKey::from_pkcs8(pool.id_key.kid(), stranger.pkcs8()).unwrap();
    let forged = stranger_same_kid.sign(&claims).unwrap();
    assert_eq!(
        v.verify_at(&forged, NOW).await,
        Err(Rejection::BadSignature)
    );

    // Expired (beyond the 30 s skew), within the skew, not yet valid.
    let t = pool.id_token(json!({}));
    assert_eq!(
        v.verify_at(&t, NOW + 3600 + 31).await,
        Err(Rejection::Expired)
    );
    assert!(v.verify_at(&t, NOW + 3600 + 29).await.is_ok());
    let future = pool.id_token(json!({"nbf": NOW + 600}));
    assert_eq!(v.verify_at(&future, NOW).await, Err(Rejection::NotYetValid));
    let future_iat = pool.id_token(json!({"iat": NOW + 600}));
    assert_eq!(
        v.verify_at(&future_iat, NOW).await,
        Err(Rejection::NotYetValid)
    );

    // Another pool (issuer), another client.
    let other_pool = pool
        .id_token(json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}));
    assert_eq!(
        v.verify_at(&other_pool, NOW).await,
        Err(Rejection::WrongIssuer)
    );
    let other_client = pool.id_token(json!({"aud": "otherclient0000000000000000"}));
    assert_eq!(
        v.verify_at(&other_client, NOW).await,
        Err(Rejection::WrongAudience)
    );
    let other_client = pool.access_token(json!({"client_id": "otherclient0000000000000000"}));
    assert_eq!(
        v.verify_at(&other_client, NOW).await,
        Err(Rejection::WrongAudience)
    );

    // ID token where an access token is required, and the reverse.
    assert_eq!(
        v.authorize_at(&good, &Policy::token_use(TokenUse::Access), NOW)
            .await,
        Err(Rejection::WrongTokenUse)
    );
    assert_eq!(
        v.authorize_at(
            &pool.access_token(json!({})),
            &Policy::token_use(TokenUse::Id),
            NOW
        )
        .await,
        Err(Rejection::WrongTokenUse)
    );

    // Garbage.
    for bad in ["a.b", "a.b.c", "not a token", "....", &"x".repeat(20_000)] {
        assert_eq!(
            v.verify_at(bad, NOW).await,
            Err(Rejection::Malformed),
            "{bad:.20}"
        );
    }
    assert_eq!(v.verify_at("", NOW).await, Err(Rejection::Missing));
    let no_exp = pool.id_token(json!({"exp": null}));
    assert_eq!(v.verify_at(&no_exp, NOW).await, Err(Rejection::Malformed));
    let string_exp = pool.id_token(json!({"exp": "tomorrow"}));
    assert_eq!(
        v.verify_at(&string_exp, NOW).await,
        Err(Rejection::Malformed)
    );
}

#[tokio::test]
async fn scopes_and_groups() {
    let pool = Pool::new();
    let v = pool.verifier();
    let token = pool.access_token(
        json!({"scope": "openid https://api.example.com/read", "cognito:groups": ["editors"]}),
    );
    let policy = |scopes: &[&str], m: ScopeMatch, groups: &[&str]| Policy {
        token_use: TokenUse::Access,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        scope_match: m,
        groups: groups.iter().map(|s| s.to_string()).collect(),
    };
    let check = |p: Policy| {
        let v = &v;
        let token = token.clone();
        async move { v.authorize_at(&token, &p, NOW).await.map(|_| ()) }
    };
    assert_eq!(
        check(policy(
            &["https://api.example.com/read", "x"],
            ScopeMatch::Any,
            &[]
        ))
        .await,
        Ok(())
    );
    assert_eq!(
        check(policy(
            &["https://api.example.com/read", "x"],
            ScopeMatch::All,
            &[]
        ))
        .await,
        Err(Rejection::InsufficientScope)
    );
    assert_eq!(
        check(policy(
            &["openid", "https://api.example.com/read"],
            ScopeMatch::All,
            &[]
        ))
        .await,
        Ok(())
    );
    assert_eq!(
        check(policy(
            &["https://api.example.com/write"],
            ScopeMatch::Any,
            &[]
        ))
        .await,
        Err(Rejection::InsufficientScope)
    );
    assert_eq!(
        check(policy(&[], ScopeMatch::Any, &["admin", "editors"])).await,
        Ok(())
    );
    assert_eq!(
        check(policy(&[], ScopeMatch::Any, &["admin"])).await,
        Err(Rejection::MissingGroup)
    );
    assert!(Rejection::MissingGroup.is_forbidden() && Rejection::InsufficientScope.is_forbidden());
    assert!(!Rejection::Expired.is_forbidden());
}

#[tokio::test]
async fn cached_tokens_are_still_checked_for_expiry() {
    let pool = Pool::new();
    let v = pool.verifier();
    let t = pool.id_token(json!({}));
    assert!(v.verify_at(&t, NOW).await.is_ok());
    assert!(v.verify_at(&t, NOW + 100).await.is_ok());
    assert_eq!(v.verify_at(&t, NOW + 7200).await, Err(Rejection::Expired));
    // A verifier without cache gives the same answers.
    let v = Verifier::builder()
        .issuer(IssuerConfig::with_keys(ISS, &[CLIENT], pool.keys()))
        .cache_capacity(0)
        .build();
    assert!(v.verify_at(&t, NOW).await.is_ok());
    assert_eq!(v.verify_at(&t, NOW + 7200).await, Err(Rejection::Expired));
}

/// Revokes every token once switched on.
struct Switch(Mutex<bool>);

#[async_trait]
impl Revocation for Switch {
    async fn is_revoked(&self, _claims: &Claims) -> bool {
        *self.0.lock().unwrap()
    }
}

/// A verifier of `pool`'s tokens whose revocation hook is the returned switch.
fn revocable_verifier(pool: &Pool) -> (Verifier, Arc<Switch>) {
    let switch = Arc::new(Switch(Mutex::new(false)));
    let v = Verifier::builder()
        .issuer(IssuerConfig {
            revocation: Some(switch.clone()),
            ..IssuerConfig::with_keys(ISS, &[CLIENT], pool.keys())
        })
        .build();
    (v, switch)
}

#[tokio::test]
async fn derived_values_live_with_the_cached_claims_and_never_past_exp_or_revocation() {
    let pool = Pool::new();
    let (v, switch) = revocable_verifier(&pool);
    let t = pool.id_token(json!({}));
    let made = AtomicUsize::new(0);
    let derive = |c: &Claims| {
        made.fetch_add(1, Ordering::SeqCst);
        format!("user={}", c.username().unwrap_or("-"))
    };

    // Made on first use, then served with the cached claims.
    let first = v.verify_at(&t, NOW).await.unwrap();
    assert_eq!(first.derived(derive).unwrap(), "user=joe_bloggs");
    let second = v.verify_at(&t, NOW + 10).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(second.derived(derive).unwrap(), "user=joe_bloggs");
    assert_eq!(made.load(Ordering::SeqCst), 1);

    // The slot holds one type; another type is refused (the caller derives it itself).
    assert_eq!(second.derived(|_| 7u32), None);
    // A clone of the claims starts empty and is still equal.
    let copy = (*second).clone();
    assert_eq!(copy, *second);
    assert_eq!(copy.derived(|_| 7u32), Some(&7));

    // The claims, with their derived value, are only reached through the
    // checks of each use: past exp or once revoked, the token is refused.
    assert_eq!(v.verify_at(&t, NOW + 7200).await, Err(Rejection::Expired));
    *switch.0.lock().unwrap() = true;
    assert_eq!(v.verify_at(&t, NOW + 10).await, Err(Rejection::Revoked));
}

#[tokio::test]
async fn a_connection_memo_serves_only_its_verifier_and_token_and_still_checks_each_use() {
    let pool = Pool::new();
    let (v, switch) = revocable_verifier(&pool);
    let any = Policy::default();
    let t = pool.id_token(json!({}));
    let mut memo = TokenMemo::default();
    let first = v
        .authorize_remembered_at(&t, &any, &mut memo, NOW)
        .await
        .unwrap();
    let again = v
        .authorize_remembered_at(&t, &any, &mut memo, NOW + 1)
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    // The connection has its own copy of the claims, equal to the shared
    // cache's but not the same allocation (nothing derived is shared).
    let shared = v.verify_at(&t, NOW).await.unwrap();
    assert_eq!(*shared, *first);
    assert!(!Arc::ptr_eq(&shared, &first));
    let mut other_connection = TokenMemo::default();
    let elsewhere = v
        .authorize_remembered_at(&t, &any, &mut other_connection, NOW)
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&elsewhere, &first));

    // Another token on the same connection is verified on its own: a
    // tampered copy of the remembered one, or a token of another user.
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    let mut payload = payload_of(&t);
    payload["cognito:username"] = json!("admin");
    parts[1] = b64(&payload);
    assert_eq!(
        v.authorize_remembered_at(&parts.join("."), &any, &mut memo, NOW)
            .await,
        Err(Rejection::BadSignature)
    );
    let other = pool.id_token(json!({"cognito:username": "ann", "sub": "ann-sub"}));
    let ann = v
        .authorize_remembered_at(&other, &any, &mut memo, NOW)
        .await
        .unwrap();
    assert_eq!(ann.username(), Some("ann"));

    // The policy, the validity period and revocation apply at every use.
    assert_eq!(
        v.authorize_remembered_at(&other, &Policy::token_use(TokenUse::Access), &mut memo, NOW)
            .await,
        Err(Rejection::WrongTokenUse)
    );
    assert_eq!(
        v.authorize_remembered_at(&other, &any, &mut memo, NOW + 7200)
            .await,
        Err(Rejection::Expired)
    );
    *switch.0.lock().unwrap() = true;
    assert_eq!(
        v.authorize_remembered_at(&other, &any, &mut memo, NOW)
            .await,
        Err(Rejection::Revoked)
    );

    // A memo filled by one verifier is not trusted by another (same
    // issuer name, other keys: the token's key is unknown to it).
    *switch.0.lock().unwrap() = false;
    assert!(v
        .authorize_remembered_at(&other, &any, &mut memo, NOW)
        .await
        .is_ok());
    let stranger = Pool::new();
    let w = stranger.verifier();
    assert_eq!(
        w.authorize_remembered_at(&other, &any, &mut memo, NOW)
            .await,
        Err(Rejection::UnknownKid)
    );
}

/// A key source whose keys can change, counting fetches.
struct Rotating {
    keys: Mutex<KeySet>,
    fetches: AtomicUsize,
    fail: Mutex<bool>,
}

#[async_trait]
impl JwksSource for Rotating {
    async fn fetch(&self) -> Result<KeySet, KeyError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        if *self.fail.lock().unwrap() {
            return Err(KeyError("down".into()));
        }
        Ok(self.keys.lock().unwrap().clone())
    }
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval() {
    let pool = Pool::new();
    let source = Arc::new(Rotating {
        keys: Mutex::new(pool.keys()),
        fetches: AtomicUsize::new(0),
        fail: Mutex::new(false),
    });
    let verifier = |min: Duration| {
        Verifier::builder()
            .issuer(IssuerConfig {
                issuer: ISS.into(),
                clients: vec![CLIENT.into()],
                keys: source.clone(),
                revocation: None,
            })
            .refetch(RefetchPolicy {
                min_interval: min,
                ..RefetchPolicy::default()
            })
            .build()
    };
    let v = verifier(Duration::from_secs(30));
    assert!(v.verify_at(&pool.id_token(json!({})), NOW).await.is_ok());
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);

    // The pool rotates its ID key; the first token under the new kid makes
    // one refetch... but only after the floor: the initial fetch was just now.
    let rotated = SigningKey::generate().unwrap();
    *source.keys.lock().unwrap() =
        KeySet::from_jwks_json(&json!({"keys": [rotated.jwk(), pool.id_key.jwk()]})).unwrap();
    let mut claims = payload_of(&pool.id_token(json!({})));
    claims["jti"] = json!("new");
    let new_token = rotated.sign(&claims).unwrap();
    for _ in 0..5 {
        assert_eq!(
            v.verify_at(&new_token, NOW).await,
            Err(Rejection::UnknownKid)
        );
    }
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1, "floor respected");

    // With no floor, the unknown kid triggers a refetch and verifies.
    let v = verifier(Duration::ZERO);
    assert!(v.verify_at(&new_token, NOW).await.is_ok());
    let before = source.fetches.load(Ordering::SeqCst);
    assert!(v
        .verify_at(&pool.id_token(json!({"jti": "x"})), NOW)
        .await
        .is_ok());
    assert_eq!(
        source.fetches.load(Ordering::SeqCst),
        before,
        "known kid: no fetch"
    );

    // Keys unavailable from the start.
    *source.fail.lock().unwrap() = true;
    let v = verifier(Duration::from_secs(30));
    assert_eq!(
        v.verify_at(&pool.id_token(json!({})), NOW).await,
        Err(Rejection::KeysUnavailable)
    );
}

struct RevokedOrigins(Vec<String>);

#[async_trait]
impl Revocation for RevokedOrigins {
    async fn is_revoked(&self, claims: &Claims) -> bool {
        claims
            .origin_jti
            .as_ref()
            .is_some_and(|o| self.0.contains(o))
    }
}

#[tokio::test]
async fn revocation_is_consulted_even_for_cached_tokens() {
    let pool = Pool::new();
    let v = Verifier::builder()
        .issuer(IssuerConfig {
            revocation: Some(Arc::new(RevokedOrigins(vec!["revoked-origin".into()]))),
            ..IssuerConfig::with_keys(ISS, &[CLIENT], pool.keys())
        })
        .build();
    let t = pool.id_token(json!({"origin_jti": "revoked-origin"}));
    assert_eq!(v.verify_at(&t, NOW).await, Err(Rejection::Revoked));
    assert_eq!(v.verify_at(&t, NOW).await, Err(Rejection::Revoked));
    assert!(v.verify_at(&pool.id_token(json!({})), NOW).await.is_ok());
}

#[test]
fn jwks_parsing_skips_unusable_keys() {
    let key = SigningKey::generate().unwrap();
    let mut hs = serde_json::to_value(key.jwk()).unwrap();
    hs["alg"] = json!("HS256");
    hs["kid"] = json!("hs");
    let mut enc = serde_json::to_value(key.jwk()).unwrap();
    enc["use"] = json!("enc");
    enc["kid"] = json!("enc");
    let mut no_alg = serde_json::to_value(key.jwk()).unwrap();
    no_alg.as_object_mut().unwrap().remove("alg");
    no_alg.as_object_mut().unwrap().remove("use");
    no_alg["kid"] = json!("plain");
    let set =
        KeySet::from_jwks_json(&json!({"keys": [hs, enc, no_alg, {"kty": "EC", "kid": "ec"}]}))
            .unwrap();
    assert_eq!(set.len(), 1);
    assert!(set.get("plain").is_some());
    assert!(KeySet::from_jwks_json(&json!({"nokeys": []})).is_err());
}

/// A key source that takes a while to answer.
struct Slow(KeySet, AtomicUsize);

#[async_trait]
impl JwksSource for Slow {
    async fn fetch(&self) -> Result<KeySet, KeyError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(self.0.clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_during_a_fetch_wait_for_it_instead_of_being_refused() {
    let pool = Pool::new();
    let source = Arc::new(Slow(pool.keys(), AtomicUsize::new(0)));
    let v = Arc::new(
        Verifier::builder()
            .issuer(IssuerConfig {
                issuer: ISS.into(),
                clients: vec![CLIENT.into()],
                keys: source.clone(),
                revocation: None,
            })
            .build(),
    );
    // Twenty requests arrive together while the first fetch is under way:
    // one fetches, the others wait for it; none is refused.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (v, token) = (v.clone(), pool.id_token(json!({"jti": format!("t{i}")})));
            tokio::spawn(async move { v.verify_at(&token, NOW).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
    assert_eq!(source.1.load(Ordering::SeqCst), 1);
}

//! Issue #15's token attacks against the library in-process
//! (`IssuerConfig::with_keys`): every row of the shared table
//! (`forge/mod.rs`) is refused with its `Rejection`, by a fresh check, by
//! a check after the same route accepted a valid token (cache and
//! connection memo warm), and with dozens of checks in flight; a URL named
//! by `jku` / `x5u` is never fetched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod forge;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use cognate_crypto::SigningKey;
use cognate_token::{
    Claims, IssuerConfig, KeySet, Policy, Rejection, Revocation, TokenMemo, TokenUse, Verifier,
};
use forge::{attacks, Ctx, Key, Want};
use serde_json::{json, Value};

const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
const OTHER_ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other";
const CLIENT: &str = "3c4v73qlc19bp0mevm94f5a4co";
const OTHER_CLIENT: &str = "7f0d2b1c9e8a4d3c2b1a0f9e8d";
const NOW: i64 = 1_700_000_000;
const SUB: &str = "54c854d8-4011-70f7-c96b-e1ef1db2e8bd";

/// A local HTTP server standing for the attacker's: counts connections.
struct Spy {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn spy() -> Spy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut s) = stream {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
            }
        }
    });
    Spy { url, hits }
}

fn id_claims(iss: &str, client: &str) -> Value {
    json!({
        "sub": SUB, "email_verified": true, "iss": iss, "cognito:username": "joe",
        "origin_jti": "8c2b7b5e-0d3c-4a7c-9c55-6f7d1e1a2b3c", "aud": client,
        "event_id": "0b6f7a7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "token_use": "id",
        "auth_time": NOW, "exp": NOW + 3600, "iat": NOW,
        "jti": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b", "email": "joe@example.com"
    })
}

fn access_claims(iss: &str, client: &str) -> Value {
    json!({
        "sub": SUB, "iss": iss, "client_id": client,
        "origin_jti": "8c2b7b5e-0d3c-4a7c-9c55-6f7d1e1a2b3c",
        "event_id": "0b6f7a7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "token_use": "access",
        "scope": "aws.cognito.signin.user.admin", "auth_time": NOW, "exp": NOW + 3600,
        "iat": NOW, "jti": "a1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b", "username": "joe"
    })
}

struct World {
    ctx: Ctx,
    keys: KeySet,
    spy: Spy,
}

fn world() -> World {
    let id = SigningKey::generate().unwrap();
    let access = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let jwks = json!({"keys": [id.jwk(), access.jwk()]});
    let spy = spy();
    let ctx = Ctx {
        issuer: ISS.into(),
        now: NOW,
        id_token: id.sign(&id_claims(ISS, CLIENT)).unwrap(),
        access_token: access.sign(&access_claims(ISS, CLIENT)).unwrap(),
        id_key: Key::new(id.kid(), id.pkcs8()),
        access_key: Key::new(access.kid(), access.pkcs8()),
        jwks: jwks.clone(),
        other_pool_id_token: other.sign(&id_claims(OTHER_ISS, CLIENT)).unwrap(),
        other_pool_access_token: other.sign(&access_claims(OTHER_ISS, CLIENT)).unwrap(),
        other_pool_key: Key::new(other.kid(), other.pkcs8()),
        other_client_id_token: id.sign(&id_claims(ISS, OTHER_CLIENT)).unwrap(),
        other_client_access_token: access.sign(&access_claims(ISS, OTHER_CLIENT)).unwrap(),
        attacker: Key::generate("attacker-key-1"),
        spy_url: spy.url.clone(),
    };
    World {
        keys: KeySet::from_jwks_json(&jwks).unwrap(),
        ctx,
        spy,
    }
}

fn verifier(keys: &KeySet, cache: usize) -> Verifier {
    Verifier::builder()
        .issuer(IssuerConfig::with_keys(ISS, &[CLIENT], keys.clone()))
        .cache_capacity(cache)
        .build()
}

fn policy(want: Want) -> Policy {
    Policy::token_use(match want {
        Want::Id => TokenUse::Id,
        Want::Access => TokenUse::Access,
    })
}

fn rejection(reason: &str) -> Rejection {
    *Rejection::ALL
        .iter()
        .find(|r| r.reason() == reason)
        .unwrap_or_else(|| panic!("no Rejection labelled {reason}"))
}

#[tokio::test]
async fn every_attack_is_refused_with_its_reason() {
    let w = world();
    let rows = attacks(&w.ctx);
    assert!(rows.len() > 100, "{} rows", rows.len());
    let cached = verifier(&w.keys, 1000);
    let uncached = verifier(&w.keys, 0);
    let valid = |want: Want| match want {
        Want::Id => w.ctx.id_token.as_str(),
        Want::Access => w.ctx.access_token.as_str(),
    };
    // The controls: the real tokens pass on their routes.
    for want in [Want::Id, Want::Access] {
        cached
            .authorize_at(valid(want), &policy(want), NOW + 5)
            .await
            .unwrap();
    }
    let mut wrong = Vec::new();
    for row in &rows {
        let expected = rejection(row.reason);
        let policy = policy(row.want);
        let mut got = vec![
            (
                "fresh",
                uncached.authorize_at(&row.token, &policy, NOW + 5).await,
            ),
            (
                "cache warm",
                cached.authorize_at(&row.token, &policy, NOW + 5).await,
            ),
            (
                "again",
                cached.authorize_at(&row.token, &policy, NOW + 5).await,
            ),
        ];
        // A connection whose last token was the valid one.
        let mut memo = TokenMemo::default();
        cached
            .authorize_remembered_at(valid(row.want), &policy, &mut memo, NOW + 5)
            .await
            .unwrap();
        got.push((
            "memo warm",
            cached
                .authorize_remembered_at(&row.token, &policy, &mut memo, NOW + 5)
                .await,
        ));
        for (how, outcome) in got {
            match outcome {
                Err(r) if r == expected => {}
                other => wrong.push(format!(
                    "{} ({how}): expected {expected}, got {:?}",
                    row.name,
                    other.map(|c| c.sub.clone())
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(
        w.spy.hits.load(Ordering::SeqCst),
        0,
        "a jku/x5u was fetched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attacks_in_flight_together_are_all_refused() {
    let w = world();
    let rows = Arc::new(attacks(&w.ctx));
    let v = Arc::new(verifier(&w.keys, 1000));
    let tasks: Vec<_> = (0..48)
        .map(|t| {
            let (v, rows) = (v.clone(), rows.clone());
            let (id, access) = (w.ctx.id_token.clone(), w.ctx.access_token.clone());
            tokio::spawn(async move {
                let mut wrong = Vec::new();
                let mut memo = TokenMemo::default();
                for k in 0..rows.len() {
                    // Each task walks the table from its own offset, with a
                    // valid token between attacks on the same connection.
                    let row = &rows[(k + t * 7) % rows.len()];
                    let p = policy(row.want);
                    let good = if row.want == Want::Id { &id } else { &access };
                    if v.authorize_remembered_at(good, &p, &mut memo, NOW + 5)
                        .await
                        .is_err()
                    {
                        wrong.push("the valid token was refused".to_owned());
                    }
                    let got = v
                        .authorize_remembered_at(&row.token, &p, &mut memo, NOW + 5)
                        .await;
                    if got.err() != Some(rejection(row.reason)) {
                        wrong.push(row.name.clone());
                    }
                }
                wrong
            })
        })
        .collect();
    for t in tasks {
        let wrong = t.await.unwrap();
        assert!(wrong.is_empty(), "{wrong:?}");
    }
    assert_eq!(w.spy.hits.load(Ordering::SeqCst), 0);
}

/// Refuses the tokens of one user (a GlobalSignOut, as the server's hook
/// would see it).
struct SignedOut(&'static str);

#[async_trait]
impl Revocation for SignedOut {
    async fn is_revoked(&self, claims: &Claims) -> bool {
        claims.sub.as_deref() == Some(self.0)
    }
}

#[tokio::test]
async fn a_revoked_token_is_refused_even_from_the_cache() {
    let w = world();
    let v = Verifier::builder()
        .issuer(IssuerConfig {
            revocation: Some(Arc::new(SignedOut(SUB))),
            ..IssuerConfig::with_keys(ISS, &[CLIENT], w.keys.clone())
        })
        .build();
    for (token, want) in [
        (&w.ctx.access_token, Want::Access),
        (&w.ctx.id_token, Want::Id),
    ] {
        for _ in 0..2 {
            assert_eq!(
                v.authorize_at(token, &policy(want), NOW + 5).await.err(),
                Some(Rejection::Revoked)
            );
        }
    }
}

#[test]
fn the_table_covers_every_refusal_a_token_can_earn() {
    let w = world();
    let rows = attacks(&w.ctx);
    for r in Rejection::ALL {
        let by_token_alone = !matches!(
            r,
            Rejection::Missing
                | Rejection::Revoked
                | Rejection::InsufficientScope
                | Rejection::MissingGroup
                | Rejection::KeysUnavailable
        );
        assert_eq!(
            rows.iter().any(|row| row.reason == r.reason()),
            by_token_alone,
            "{r}"
        );
    }
}

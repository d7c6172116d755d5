//! Refresh token rotation (issue #14 item 4): GetTokensFromRefreshToken on
//! an app client with `RefreshTokenRotation` answers a new refresh token of
//! the same sign-in session each time; the submitted one keeps working for
//! the client's `RetryGracePeriodSeconds` after its first rotation, then is
//! refused with RefreshTokenReuseException. Time is the manual clock of
//! `common::inproc`; concurrency and the wire go through the real binary
//! (SQLite, or PostgreSQL with `COGNATE_TEST_ENGINE=postgres`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hosted;

use std::collections::BTreeMap;
use std::sync::Arc;

use cognate_core::error::{Error, ErrorKind};
use cognate_core::model::ClientSettings;
use cognate_core::service::{AuthFlowInput, AuthOutcome, NewClient, RefreshTokensInput};
use common::inproc::{world, World};
use common::{jwt_claims, password_flows, Server, PASSWORD};
use serde_json::{json, Value};

/// An app client of the world's pool with rotation set to `rotation`.
async fn client_with(w: &World, rotation: Option<Value>) -> String {
    client_with_flows(w, rotation, &["ALLOW_ADMIN_USER_PASSWORD_AUTH"]).await
}

async fn client_with_flows(w: &World, rotation: Option<Value>, flows: &[&str]) -> String {
    let mut settings = ClientSettings::named("rotating");
    settings.explicit_auth_flows = Some(flows.iter().map(|f| (*f).to_owned()).collect());
    settings.refresh_token_rotation = rotation;
    w.svc
        .create_user_pool_client(NewClient {
            pool_id: w.pool_id.clone(),
            client_id: None,
            generate_secret: false,
            client_secret: None,
            settings,
        })
        .await
        .unwrap()
        .client_id
}

fn rotation(grace_secs: i64) -> Option<Value> {
    Some(json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": grace_secs}))
}

/// alice's sign-in through `client_id`: (access token, refresh token).
async fn sign_in(w: &World, client_id: &str) -> (String, String) {
    let mut parameters = BTreeMap::new();
    parameters.insert("USERNAME".to_owned(), "alice".to_owned());
    parameters.insert("PASSWORD".to_owned(), "Passw0rd!x".to_owned());
    let outcome = w
        .svc
        .initiate_auth(AuthFlowInput {
            admin_pool_id: Some(w.pool_id.clone()),
            client_id: client_id.to_owned(),
            flow: "ADMIN_USER_PASSWORD_AUTH".into(),
            parameters,
            client_metadata: Default::default(),
        })
        .await
        .unwrap();
    match outcome {
        AuthOutcome::Authenticated(r) => (r.access_token, r.refresh_token.expect("refresh token")),
        other => panic!("no tokens: {other:?}"),
    }
}

/// GetTokensFromRefreshToken: (access token, new refresh token if any).
async fn refresh(
    w: &World,
    client_id: &str,
    token: &str,
) -> Result<(String, Option<String>), Error> {
    w.svc
        .get_tokens_from_refresh_token(RefreshTokensInput {
            client_id: client_id.to_owned(),
            refresh_token: token.to_owned(),
            ..Default::default()
        })
        .await
        .map(|r| (r.access_token, r.refresh_token))
}

async fn refresh_token_auth(w: &World, client_id: &str, token: &str) -> Result<(), Error> {
    let mut parameters = BTreeMap::new();
    parameters.insert("REFRESH_TOKEN".to_owned(), token.to_owned());
    w.svc
        .initiate_auth(AuthFlowInput {
            admin_pool_id: None,
            client_id: client_id.to_owned(),
            flow: "REFRESH_TOKEN_AUTH".into(),
            parameters,
            client_metadata: Default::default(),
        })
        .await
        .map(|_| ())
}

fn origin(access_token: &str) -> String {
    jwt_claims(access_token)["origin_jti"]
        .as_str()
        .expect("origin_jti")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_token_works_through_the_grace_period_and_not_a_millisecond_longer() {
    let w = world().await;
    let client = client_with(&w, rotation(10)).await;
    let (access0, r0) = sign_in(&w, &client).await;
    let (access1, r1) = refresh(&w, &client, &r0).await.unwrap();
    let r1 = r1.expect("a rotating client answers a new refresh token");
    assert_ne!(r1, r0);
    // The new token is of the same sign-in session.
    assert_eq!(origin(&access1), origin(&access0));
    // A retry with the old token within the grace period succeeds (and
    // rotates again), up to the period's last millisecond.
    w.clock.advance_millis(9_999);
    let (_, r2) = refresh(&w, &client, &r0).await.unwrap();
    let r2 = r2.expect("new token");
    assert!(r2 != r0 && r2 != r1);
    w.clock.advance_millis(1);
    let err = refresh(&w, &client, &r0).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RefreshTokenReuse, "{err:?}");
    // The tokens it was rotated into still work, each once more.
    let (_, r3) = refresh(&w, &client, &r1).await.unwrap();
    assert!(r3.is_some());
    let (access4, r4) = refresh(&w, &client, &r2).await.unwrap();
    assert!(r4.is_some());
    assert_eq!(origin(&access4), origin(&access0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_grace_the_old_token_is_refused_at_once() {
    let w = world().await;
    let client = client_with(&w, rotation(0)).await;
    let (_, r0) = sign_in(&w, &client).await;
    let (_, r1) = refresh(&w, &client, &r0).await.unwrap();
    let r1 = r1.expect("new token");
    let err = refresh(&w, &client, &r0).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RefreshTokenReuse, "{err:?}");
    // Refusing the reused token leaves the family alone (AWS documents no
    // more): the newest token still works.
    let (_, r2) = refresh(&w, &client, &r1).await.unwrap();
    assert!(r2.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_lives_only_as_long_as_the_sign_in_token() {
    let w = world().await;
    let client = client_with(&w, rotation(0)).await;
    let (_, r0) = sign_in(&w, &client).await;
    let hash = |t: &str| cognate_crypto::digest::sha256_hex(t.as_bytes());
    let first = w
        .store
        .get_refresh_token(&hash(&r0))
        .await
        .unwrap()
        .unwrap();
    w.clock.advance_millis(60_000);
    let (_, r1) = refresh(&w, &client, &r0).await.unwrap();
    let next = w
        .store
        .get_refresh_token(&hash(&r1.unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.expires, first.expires);
    assert_eq!(next.created, first.created);
    assert_eq!(next.origin_jti, first.origin_jti);
    assert_eq!(next.rotated_until, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_auth_is_refused_on_a_rotating_client() {
    let w = world().await;
    // Even with the flow in ExplicitAuthFlows.
    let client = client_with_flows(
        &w,
        rotation(30),
        &["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    .await;
    let (_, r0) = sign_in(&w, &client).await;
    let err = refresh_token_auth(&w, &client, &r0).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidParameter, "{err:?}");
    assert!(
        err.message.contains("GetTokensFromRefreshToken"),
        "{}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rotation_refresh_is_unchanged() {
    let w = world().await;
    for rotation in [None, Some(json!({"Feature": "DISABLED"}))] {
        let mut settings = ClientSettings::named("plain");
        settings.explicit_auth_flows = Some(vec![
            "ALLOW_ADMIN_USER_PASSWORD_AUTH".into(),
            "ALLOW_REFRESH_TOKEN_AUTH".into(),
        ]);
        settings.refresh_token_rotation = rotation;
        let client = w
            .svc
            .create_user_pool_client(NewClient {
                pool_id: w.pool_id.clone(),
                client_id: None,
                generate_secret: false,
                client_secret: None,
                settings,
            })
            .await
            .unwrap()
            .client_id;
        let (access0, r0) = sign_in(&w, &client).await;
        for _ in 0..3 {
            let (access, new) = refresh(&w, &client, &r0).await.unwrap();
            assert_eq!(new, None, "no new refresh token without rotation");
            assert_eq!(origin(&access), origin(&access0));
            refresh_token_auth(&w, &client, &r0).await.unwrap();
            w.clock.advance_millis(61_000);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_the_newest_token_ends_the_whole_session() {
    let w = world().await;
    let client = client_with(&w, rotation(60)).await;
    let (_, r0) = sign_in(&w, &client).await;
    let (_, r1) = refresh(&w, &client, &r0).await.unwrap();
    let (access2, r2) = refresh(&w, &client, &r1.clone().unwrap()).await.unwrap();
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    w.svc.get_user(&access2).await.expect("live session");
    w.svc.revoke_token(&r2, &client, None).await.unwrap();
    // r0 and r1 are still within their grace periods, but the session is gone.
    for t in [&r0, &r1, &r2] {
        let err = refresh(&w, &client, t).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotAuthorized, "{err:?}");
        assert_eq!(err.message, "Refresh Token has been revoked");
    }
    let err = w.svc.get_user(&access2).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotAuthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_sign_out_refuses_every_token_of_the_family() {
    let w = world().await;
    let client = client_with(&w, rotation(60)).await;
    let (_, r0) = sign_in(&w, &client).await;
    let (_, r1) = refresh(&w, &client, &r0).await.unwrap();
    let r1 = r1.unwrap();
    w.clock.advance_millis(5);
    w.svc
        .admin_user_global_sign_out(&w.pool_id, "alice")
        .await
        .unwrap();
    w.clock.advance_millis(5);
    for t in [&r0, &r1] {
        let err = refresh(&w, &client, t).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotAuthorized, "{err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_keeps_one_entry_and_its_id_across_rotations() {
    let w = world().await;
    w.svc
        .set_user_pool_session_configuration(&w.pool_id, true, 10)
        .await
        .unwrap();
    let client = client_with(&w, rotation(60)).await;
    let (_, r0) = sign_in(&w, &client).await;
    let before = w
        .svc
        .admin_list_user_sessions(&w.pool_id, "alice")
        .await
        .unwrap();
    assert_eq!(before.len(), 1);
    // Two retries within the grace period: three tokens of one session.
    refresh(&w, &client, &r0).await.unwrap();
    refresh(&w, &client, &r0).await.unwrap();
    let after = w
        .svc
        .admin_list_user_sessions(&w.pool_id, "alice")
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].id, before[0].id);
    // Revoking the session by its id ends every token of the family.
    w.svc
        .admin_revoke_user_session(&w.pool_id, "alice", &after[0].id, Default::default())
        .await
        .unwrap();
    let err = refresh(&w, &client, &r0).await.unwrap_err();
    assert_eq!(err.message, "Refresh Token has been revoked");
    assert!(w
        .svc
        .admin_list_user_sessions(&w.pool_id, "alice")
        .await
        .unwrap()
        .is_empty());
}

// ------------------------------------------------------------ the real binary

/// A pool with `alice` (PASSWORD) and a client with `client_extra`:
/// (server, pool id, client id, alice's sign-in result).
fn served(client_extra: Value) -> (Server, String, String, Value) {
    let s = Server::start();
    let pool = s.create_pool("rotation", json!({}));
    let mut extra = password_flows();
    common::merge(&mut extra, client_extra);
    let client = s.create_client(&pool, extra);
    s.admin_user(&pool, "alice", json!([]));
    let result = s.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
    )["AuthenticationResult"]
        .clone();
    (s, pool, client, result)
}

#[test]
fn thirty_concurrent_uses_of_one_token_without_grace_rotate_it_once() {
    let (s, _pool, client, result) = served(json!({
        "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}
    }));
    let token = result["RefreshToken"].as_str().unwrap().to_owned();
    let s = Arc::new(s);
    let barrier = Arc::new(std::sync::Barrier::new(30));
    let handles: Vec<_> = (0..30)
        .map(|_| {
            let (s, client, token, barrier) =
                (s.clone(), client.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                s.call(
                    "GetTokensFromRefreshToken",
                    json!({"ClientId": client, "RefreshToken": token}),
                )
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wins: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(wins.len(), 1, "{answers:?}");
    for (status, v) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 400);
        assert_eq!(v["__type"], "RefreshTokenReuseException", "{v}");
    }
    // The one new token is the session's way on.
    let next = wins[0]["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap();
    let v = s.ok(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": next}),
    );
    assert!(v["AuthenticationResult"]["RefreshToken"].is_string());
}

#[test]
fn thirty_concurrent_uses_within_grace_all_continue_one_session() {
    let (s, _pool, client, result) = served(json!({
        "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 60}
    }));
    let origin0 = jwt_claims(result["AccessToken"].as_str().unwrap())["origin_jti"].clone();
    let token = result["RefreshToken"].as_str().unwrap().to_owned();
    let s = Arc::new(s);
    let handles: Vec<_> = (0..30)
        .map(|_| {
            let (s, client, token) = (s.clone(), client.clone(), token.clone());
            std::thread::spawn(move || {
                s.ok(
                    "GetTokensFromRefreshToken",
                    json!({"ClientId": client, "RefreshToken": token}),
                )
            })
        })
        .collect();
    let mut tokens = std::collections::BTreeSet::new();
    for h in handles {
        let r = h.join().unwrap()["AuthenticationResult"].clone();
        assert_eq!(
            jwt_claims(r["AccessToken"].as_str().unwrap())["origin_jti"],
            origin0
        );
        tokens.insert(r["RefreshToken"].as_str().unwrap().to_owned());
    }
    assert_eq!(tokens.len(), 30, "each answer carries a token of its own");
}

#[test]
fn the_wire_shapes_and_errors() {
    let (s, pool, client, result) = served(json!({
        "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}
    }));
    let described = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(
        described["UserPoolClient"]["RefreshTokenRotation"],
        json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 0})
    );
    let token = result["RefreshToken"].as_str().unwrap();
    let v = s.ok(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": token}),
    );
    let r = &v["AuthenticationResult"];
    assert!(r["AccessToken"].is_string() && r["IdToken"].is_string());
    assert!(r["RefreshToken"].is_string() && r["RefreshToken"] != token);
    assert_eq!(r["TokenType"], "Bearer");
    assert!(v.get("ChallengeParameters").is_none(), "{v}");
    // The old token again: rotated out.
    s.err(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": token}),
        "RefreshTokenReuseException",
    );
    // InitiateAuth's refresh flow is not for a rotating client.
    s.err(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
               "AuthParameters": {"REFRESH_TOKEN": r["RefreshToken"]}}),
        "InvalidParameterException",
    );
    s.err_msg(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": "not-a-token"}),
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    s.err(
        "GetTokensFromRefreshToken",
        json!({"ClientId": "a1b2c3d4e5f6g7h8i9j0k1l2m3", "RefreshToken": token}),
        "ResourceNotFoundException",
    );
    // Without rotation: no new refresh token, the token stays.
    s.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client,
               "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
               "RefreshTokenRotation": {"Feature": "DISABLED"}}),
    );
    let newest = r["RefreshToken"].as_str().unwrap();
    for _ in 0..2 {
        let v = s.ok(
            "GetTokensFromRefreshToken",
            json!({"ClientId": client, "RefreshToken": newest}),
        );
        assert!(
            v["AuthenticationResult"].get("RefreshToken").is_none(),
            "{v}"
        );
    }
}

#[test]
fn a_client_secret_is_required_and_checked() {
    let s = Server::start();
    let pool = s.create_pool("rotation", json!({}));
    let c = s.create_client_full(
        &pool,
        json!({"GenerateSecret": true,
               "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
               "RefreshTokenRotation": {"Feature": "ENABLED"}}),
    );
    let (client, secret) = (
        c["ClientId"].as_str().unwrap(),
        c["ClientSecret"].as_str().unwrap(),
    );
    s.admin_user(&pool, "alice", json!([]));
    let result = s.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD,
                                  "SECRET_HASH": common::secret_hash(secret, "alice", client)}}),
    );
    let token = result["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap();
    s.err_msg(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": token}),
        "NotAuthorizedException",
        &format!("Client {client} is configured for secret but secret was not received"),
    );
    s.err_msg(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": token,
               "ClientSecret": "wrongwrongwrongwrongwrongwrong"}),
        "NotAuthorizedException",
        &format!("Unable to verify secret hash for client {client}"),
    );
    // Neither refusal used the token up.
    let v = s.ok(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": token, "ClientSecret": secret}),
    );
    assert!(v["AuthenticationResult"]["RefreshToken"].is_string());
}

#[test]
fn the_token_endpoint_rotates_on_a_rotating_client() {
    let s = hosted::start();
    let mut b = hosted::Browser::new(&s);
    let page = b.sign_in(&[("scope", "openid email")], "alice", "Passw0rd!");
    assert_eq!(page.status, 302, "{}", page.body);
    let code = page.redirect_params()["code"].clone();
    let form = |grant: &str, key: &str, value: &str| {
        hosted::token(
            &s,
            &[
                ("grant_type", grant),
                ("client_id", hosted::WEB),
                ("redirect_uri", hosted::CALLBACK),
                (key, value),
            ],
            None,
        )
    };
    let (status, v) = form("authorization_code", "code", &code);
    assert_eq!(status, 200, "{v}");
    let r0 = v["refresh_token"].as_str().unwrap().to_owned();
    // Turn rotation on, keeping the rest of the client as it is.
    let described = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": hosted::POOL, "ClientId": hosted::WEB}),
    )["UserPoolClient"]
        .clone();
    let mut update = described.clone();
    for k in ["ClientSecret", "LastModifiedDate", "CreationDate"] {
        update.as_object_mut().unwrap().remove(k);
    }
    update["RefreshTokenRotation"] = json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 0});
    s.ok("UpdateUserPoolClient", update);
    let (status, v) = form("refresh_token", "refresh_token", &r0);
    assert_eq!(status, 200, "{v}");
    let r1 = v["refresh_token"]
        .as_str()
        .expect("a rotated refresh token");
    assert_ne!(r1, r0);
    assert_eq!(
        jwt_claims(v["access_token"].as_str().unwrap())["scope"],
        "openid email"
    );
    let (status, v) = form("refresh_token", "refresh_token", &r0);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"], "invalid_grant");
    let (status, v) = form("refresh_token", "refresh_token", r1);
    assert_eq!(status, 200, "{v}");
}

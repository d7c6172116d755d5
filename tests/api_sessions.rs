//! Devices and sessions fidelity: access tokens of a sign-in bound to a
//! device carry Cognito's `device_key` claim; in a pool that tracks
//! devices, refreshing such a sign-in's tokens needs that DEVICE_KEY and a
//! confirmed device ("Invalid Refresh Token" otherwise, as AWS's knowledge
//! center documents); ConfirmDevice refuses a DeviceSecretVerifierConfig
//! that could never be proven; SetUserPoolSessionConfiguration's
//! MaxPerUser evicts the least recently used token session of a user at
//! the next sign-in, atomically (dozens of concurrent sign-ins never leave
//! more); and the hosted UI reuses its session for a client only within
//! that client's SSOSession.MaxValidityMinutes; hosted UI sign-ins are SSO
//! sessions, listed with the token sessions that came through them and
//! revoked alone or with them (RevokeAssociatedSessions). Over the wire of the real
//! binary (SQLite, or PostgreSQL with `COGNATE_TEST_ENGINE=postgres`);
//! what depends on time runs in process on the manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hosted;

use std::collections::BTreeMap;

use base64::Engine;
use cognate_core::clock::Clock;
use cognate_core::error::ErrorKind;
use cognate_core::service::{AuthFlowInput, AuthOutcome};
use common::inproc::world;
use common::{jwt_claims, Server, PASSWORD};
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn hex_bytes(hex: &str) -> Vec<u8> {
    let hex = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// A DeviceSecretVerifierConfig as amazon-cognito-identity-js builds it.
fn verifier_config(key: &str, group: &str) -> Value {
    let password = B64.encode(cognate_crypto::random::bytes(40));
    let salt = cognate_crypto::random::bytes(16);
    let (_, verifier_hex) = cognate_crypto::srp::make_verifier(group, key, &password, &salt);
    json!({"Salt": B64.encode(&salt), "PasswordVerifier": B64.encode(hex_bytes(&verifier_hex))})
}

struct Fixture {
    s: Server,
    pool: String,
    client: String,
}

/// A pool with device tracking (or without, `None`), a client with
/// password sign-in and refresh, and user alice.
fn fixture(devices: Option<Value>) -> Fixture {
    let s = Server::start();
    let extra = match devices {
        Some(config) => json!({"DeviceConfiguration": config}),
        None => json!({}),
    };
    let pool = s.create_pool("sessions", extra);
    let client = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    s.admin_user(&pool, "alice", json!([]));
    Fixture { s, pool, client }
}

impl Fixture {
    fn sign_in(&self, device: Option<&str>) -> Value {
        let mut params = json!({"USERNAME": "alice", "PASSWORD": PASSWORD});
        if let Some(d) = device {
            params["DEVICE_KEY"] = json!(d);
        }
        let v = self.s.ok(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": self.client,
                   "AuthParameters": params}),
        );
        v["AuthenticationResult"].clone()
    }

    /// REFRESH_TOKEN_AUTH: (status, body).
    fn refresh(&self, token: &str, device: Option<&str>) -> (u16, Value) {
        let mut params = json!({"REFRESH_TOKEN": token});
        if let Some(d) = device {
            params["DEVICE_KEY"] = json!(d);
        }
        self.s.call(
            "InitiateAuth",
            json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": self.client,
                   "AuthParameters": params}),
        )
    }

    #[track_caller]
    fn refresh_refused(&self, token: &str, device: Option<&str>, message: &str) {
        let (status, v) = self.refresh(token, device);
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["__type"], "NotAuthorizedException", "{v}");
        assert_eq!(v["message"], message, "{v}");
    }

    fn enable_sessions(&self, max_per_user: u32) {
        self.s.ok(
            "SetUserPoolSessionConfiguration",
            json!({"UserPoolId": self.pool, "UserSessionTracking": "ENABLED",
                   "TokenSession": {"MaxPerUser": max_per_user}}),
        );
    }

    fn session_ids(&self) -> Vec<String> {
        let v = self.s.ok(
            "AdminListUserSessions",
            json!({"UserPoolId": self.pool, "Username": "alice"}),
        );
        v["Sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["SessionId"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[test]
fn a_device_bound_sign_in_refreshes_only_with_its_confirmed_device() {
    let f = fixture(Some(json!({"ChallengeRequiredOnNewDevice": false,
                                 "DeviceOnlyRememberedOnUserPrompt": false})));
    let first = f.sign_in(None);
    let key = first["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = first["NewDeviceMetadata"]["DeviceGroupKey"]
        .as_str()
        .unwrap()
        .to_owned();
    // The access token names the new device; the ID token does not.
    assert_eq!(
        jwt_claims(first["AccessToken"].as_str().unwrap())["device_key"],
        key
    );
    assert!(jwt_claims(first["IdToken"].as_str().unwrap())
        .get("device_key")
        .is_none());
    let refresh = first["RefreshToken"].as_str().unwrap().to_owned();
    // Not confirmed yet: refused, with or without the key.
    f.refresh_refused(&refresh, Some(&key), "Invalid Refresh Token");
    f.refresh_refused(&refresh, None, "Invalid Refresh Token");
    f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": first["AccessToken"], "DeviceKey": key, "DeviceName": "phone",
               "DeviceSecretVerifierConfig": verifier_config(&key, &group)}),
    );
    // Confirmed: the refresh needs the key, and only that key.
    f.refresh_refused(&refresh, None, "Invalid Refresh Token");
    f.refresh_refused(
        &refresh,
        Some("us-east-1_00000000-0000-0000-0000-000000000000"),
        "Invalid Refresh Token",
    );
    let (status, v) = f.refresh(&refresh, Some(&key));
    assert_eq!(status, 200, "{v}");
    let refreshed = v["AuthenticationResult"]["AccessToken"].as_str().unwrap();
    assert_eq!(jwt_claims(refreshed)["device_key"], key);
    assert!(v["AuthenticationResult"].get("NewDeviceMetadata").is_none());
    // GetTokensFromRefreshToken: DeviceKey, the same rule.
    let (status, v) = f.s.call(
        "GetTokensFromRefreshToken",
        json!({"ClientId": f.client, "RefreshToken": refresh}),
    );
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Invalid Refresh Token")),
        "{v}"
    );
    let v = f.s.ok(
        "GetTokensFromRefreshToken",
        json!({"ClientId": f.client, "RefreshToken": refresh, "DeviceKey": key}),
    );
    assert_eq!(
        jwt_claims(v["AuthenticationResult"]["AccessToken"].as_str().unwrap())["device_key"],
        key
    );
    // A forgotten device no longer refreshes.
    f.s.ok(
        "AdminForgetDevice",
        json!({"UserPoolId": f.pool, "Username": "alice", "DeviceKey": key}),
    );
    f.refresh_refused(&refresh, Some(&key), "Invalid Refresh Token");
}

#[test]
fn a_sign_in_naming_a_confirmed_device_is_bound_to_it() {
    let f = fixture(Some(json!({"ChallengeRequiredOnNewDevice": false,
                                 "DeviceOnlyRememberedOnUserPrompt": false})));
    let first = f.sign_in(None);
    let key = first["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    // Confirmed without a verifier: never asked to prove itself.
    f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": first["AccessToken"], "DeviceKey": key}),
    );
    let again = f.sign_in(Some(&key));
    assert!(again.get("NewDeviceMetadata").is_none(), "{again}");
    assert_eq!(
        jwt_claims(again["AccessToken"].as_str().unwrap())["device_key"],
        key
    );
    let (status, v) = f.refresh(again["RefreshToken"].as_str().unwrap(), Some(&key));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn without_device_tracking_tokens_name_no_device_and_refresh_without_one() {
    let f = fixture(None);
    let first = f.sign_in(None);
    assert!(first.get("NewDeviceMetadata").is_none());
    assert!(jwt_claims(first["AccessToken"].as_str().unwrap())
        .get("device_key")
        .is_none());
    let (status, v) = f.refresh(first["RefreshToken"].as_str().unwrap(), None);
    assert_eq!(status, 200, "{v}");
}

#[test]
fn confirm_device_refuses_a_verifier_config_that_cannot_be_proven() {
    let f = fixture(Some(json!({"ChallengeRequiredOnNewDevice": false,
                                 "DeviceOnlyRememberedOnUserPrompt": false})));
    let first = f.sign_in(None);
    let key = first["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = first["NewDeviceMetadata"]["DeviceGroupKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let good = verifier_config(&key, &group);
    let beyond_n = B64.encode(vec![0xff_u8; 384]);
    for (config, message) in [
        (
            json!({"Salt": good["Salt"]}),
            "DeviceSecretVerifierConfig must have both Salt and PasswordVerifier.",
        ),
        (
            json!({"PasswordVerifier": good["PasswordVerifier"]}),
            "DeviceSecretVerifierConfig must have both Salt and PasswordVerifier.",
        ),
        (
            json!({"Salt": "not base64!", "PasswordVerifier": good["PasswordVerifier"]}),
            "DeviceSecretVerifierConfig.Salt must be the base64 of 1 to 64 bytes, not all zero.",
        ),
        (
            json!({"Salt": "AAAA", "PasswordVerifier": good["PasswordVerifier"]}),
            "DeviceSecretVerifierConfig.Salt must be the base64 of 1 to 64 bytes, not all zero.",
        ),
        (
            json!({"Salt": good["Salt"], "PasswordVerifier": "%%%"}),
            "DeviceSecretVerifierConfig.PasswordVerifier must be the base64 of an SRP verifier.",
        ),
        (
            json!({"Salt": good["Salt"], "PasswordVerifier": "AAAA"}),
            "DeviceSecretVerifierConfig.PasswordVerifier must be the base64 of an SRP verifier.",
        ),
        (
            json!({"Salt": good["Salt"], "PasswordVerifier": beyond_n}),
            "DeviceSecretVerifierConfig.PasswordVerifier must be the base64 of an SRP verifier.",
        ),
    ] {
        f.s.err_msg(
            "ConfirmDevice",
            json!({"AccessToken": first["AccessToken"], "DeviceKey": key,
                   "DeviceSecretVerifierConfig": config}),
            "InvalidParameterException",
            message,
        );
    }
    // Nothing was stored: the good config confirms the device.
    f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": first["AccessToken"], "DeviceKey": key,
               "DeviceSecretVerifierConfig": good}),
    );
}

#[test]
fn max_per_user_evicts_the_oldest_sessions_at_sign_in() {
    let f = fixture(None);
    f.enable_sessions(3);
    let signed: Vec<Value> = (0..5).map(|_| f.sign_in(None)).collect();
    assert_eq!(f.session_ids().len(), 3);
    // The two first sessions are gone, with their access tokens.
    for old in &signed[..2] {
        f.refresh_refused(
            old["RefreshToken"].as_str().unwrap(),
            None,
            "Refresh Token has been revoked",
        );
        f.s.err_msg(
            "GetUser",
            json!({"AccessToken": old["AccessToken"]}),
            "NotAuthorizedException",
            "Access Token has been revoked",
        );
    }
    for live in &signed[2..] {
        let (status, v) = f.refresh(live["RefreshToken"].as_str().unwrap(), None);
        assert_eq!(status, 200, "{v}");
    }
    // Lowering the limit evicts nothing by itself; the next sign-in brings
    // the user within it.
    f.enable_sessions(1);
    assert_eq!(f.session_ids().len(), 3);
    f.sign_in(None);
    assert_eq!(f.session_ids().len(), 1);
    // Without session tracking there is no limit.
    f.s.ok(
        "SetUserPoolSessionConfiguration",
        json!({"UserPoolId": f.pool, "UserSessionTracking": "DISABLED",
               "TokenSession": {"MaxPerUser": 1}}),
    );
    f.sign_in(None);
    f.sign_in(None);
    f.enable_sessions(1);
    assert_eq!(f.session_ids().len(), 3);
}

#[test]
fn concurrent_sign_ins_never_leave_more_than_max_per_user_sessions() {
    let f = fixture(None);
    f.enable_sessions(5);
    let results: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..40).map(|_| scope.spawn(|| f.sign_in(None))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(f.session_ids().len(), 5);
    // Exactly five of the forty refresh tokens still work.
    let usable = results
        .iter()
        .filter(|r| f.refresh(r["RefreshToken"].as_str().unwrap(), None).0 == 200)
        .count();
    assert_eq!(usable, 5);
}

/// alice's ADMIN_USER_PASSWORD_AUTH sign-in in process: (access, refresh).
async fn sign_in_inproc(w: &common::inproc::World) -> (String, String) {
    let mut parameters = BTreeMap::new();
    parameters.insert("USERNAME".to_owned(), "alice".to_owned());
    parameters.insert("PASSWORD".to_owned(), "Passw0rd!x".to_owned());
    match w
        .svc
        .initiate_auth(AuthFlowInput {
            admin_pool_id: Some(w.pool_id.clone()),
            client_id: w.client_id.clone(),
            flow: "ADMIN_USER_PASSWORD_AUTH".into(),
            parameters,
            client_metadata: Default::default(),
        })
        .await
        .unwrap()
    {
        AuthOutcome::Authenticated(r) => (r.access_token, r.refresh_token.unwrap()),
        other => panic!("no tokens: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_least_recently_used_session_is_evicted_and_refreshes_count_as_use() {
    let w = world().await;
    w.svc
        .set_user_pool_session_configuration(&w.pool_id, true, 3)
        .await
        .unwrap();
    let mut refresh_tokens = Vec::new();
    for _ in 0..3 {
        refresh_tokens.push(sign_in_inproc(&w).await.1);
        w.clock.advance_millis(1000);
    }
    // The oldest sign-in is used again: the second is now the least
    // recently used.
    let mut parameters = BTreeMap::new();
    parameters.insert("REFRESH_TOKEN".to_owned(), refresh_tokens[0].clone());
    w.svc
        .initiate_auth(AuthFlowInput {
            admin_pool_id: None,
            client_id: w.client_id.clone(),
            flow: "REFRESH_TOKEN_AUTH".into(),
            parameters: parameters.clone(),
            client_metadata: Default::default(),
        })
        .await
        .unwrap();
    let refreshed_at = w.clock.now_millis();
    // Listed newest first (as AWS's examples); oldest first below.
    let mut listed = w
        .svc
        .admin_list_user_sessions(&w.pool_id, "alice")
        .await
        .unwrap();
    assert!(listed[0].created > listed[2].created);
    listed.reverse();
    assert_eq!(listed[0].created + 3000, refreshed_at);
    assert_eq!(listed[0].last_active, refreshed_at);
    assert_eq!(listed[1].last_active, listed[1].created);
    w.clock.advance_millis(1000);
    sign_in_inproc(&w).await;
    let after = w
        .svc
        .admin_list_user_sessions(&w.pool_id, "alice")
        .await
        .unwrap();
    let ids: Vec<&str> = after.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(after.len(), 3);
    assert!(ids.contains(&listed[0].id.as_str()));
    assert!(!ids.contains(&listed[1].id.as_str()));
    assert!(ids.contains(&listed[2].id.as_str()));
    let mut second = parameters;
    second.insert("REFRESH_TOKEN".to_owned(), refresh_tokens[1].clone());
    let e = w
        .svc
        .initiate_auth(AuthFlowInput {
            admin_pool_id: None,
            client_id: w.client_id.clone(),
            flow: "REFRESH_TOKEN_AUTH".into(),
            parameters: second,
            client_metadata: Default::default(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    assert_eq!(e.message, "Refresh Token has been revoked");
}

/// The hosted UI's session: a client reuses it only within its
/// SSOSession.MaxValidityMinutes once session tracking is on; the cookie
/// lives as long as the longest of them.
#[test]
fn the_hosted_session_is_reused_within_each_clients_max_validity() {
    use hosted::{Browser, CALLBACK, CODE_ONLY, POOL, WEB};
    let s = hosted::start();
    s.ok(
        "SetUserPoolSessionConfiguration",
        json!({"UserPoolId": POOL, "UserSessionTracking": "ENABLED",
               "TokenSession": {"MaxPerUser": 20}}),
    );
    for (client, minutes) in [(WEB, 0), (CODE_ONLY, 120)] {
        s.ok(
            "SetUserPoolClientSessionConfiguration",
            json!({"UserPoolId": POOL, "ClientId": client,
                   "SSOSession": {"MaxValidityMinutes": minutes}}),
        );
    }
    let mut b = Browser::new(&s);
    let signed = b.sign_in(&[], "alice", PASSWORD);
    assert_eq!(signed.status, 302, "{}", signed.body);
    assert!(signed.location.as_deref().unwrap().starts_with(CALLBACK));
    // The cookie lasts as long as the longest client's validity: 2 hours.
    let attrs = signed.cookie_attrs("cognito").expect("session cookie");
    assert!(attrs.contains("Max-Age=7200"), "{attrs}");
    // WEB (0 minutes) never reuses the session: back to the login page.
    let again = b.authorize(&[]);
    assert_eq!(again.status, 302);
    assert!(
        again.location.as_deref().unwrap().contains("/login"),
        "{:?}",
        again.location
    );
    // CODE_ONLY (120 minutes) reuses it: straight to its callback.
    let other = b.authorize(&[("client_id", CODE_ONLY)]);
    assert_eq!(other.status, 302);
    let location = other.location.as_deref().unwrap();
    assert!(
        location.starts_with(CALLBACK) && location.contains("code="),
        "{location}"
    );
}

/// Tracking on, for the hosted pool's fixture.
fn hosted_with_tracking() -> Server {
    let s = hosted::start();
    s.ok(
        "SetUserPoolSessionConfiguration",
        json!({"UserPoolId": hosted::POOL, "UserSessionTracking": "ENABLED",
               "TokenSession": {"MaxPerUser": 20}}),
    );
    s
}

/// Signs `b` in on the hosted UI for the web client; the code it got.
fn hosted_code(b: &mut hosted::Browser) -> String {
    let signed = b.sign_in(&[], "alice", PASSWORD);
    assert_eq!(signed.status, 302, "{}", signed.body);
    signed.redirect_params()["code"].clone()
}

fn exchange(s: &Server, code: &str) -> (u16, Value) {
    hosted::token(
        s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", hosted::WEB),
            ("redirect_uri", hosted::CALLBACK),
            ("code", code),
        ],
        None,
    )
}

fn alice_sessions(s: &Server) -> Vec<Value> {
    let v = s.ok(
        "AdminListUserSessions",
        json!({"UserPoolId": hosted::POOL, "Username": "alice"}),
    );
    v["Sessions"].as_array().unwrap().clone()
}

fn of_kind<'a>(sessions: &'a [Value], kind: &str) -> Vec<&'a Value> {
    sessions
        .iter()
        .filter(|s| s["SessionType"] == kind)
        .collect()
}

/// Whether the browser's session still signs it in silently.
fn silently_signed_in(b: &mut hosted::Browser) -> bool {
    let r = b.authorize(&[]);
    assert_eq!(r.status, 302, "{}", r.body);
    r.location.as_deref().unwrap().starts_with(hosted::CALLBACK)
}

/// A hosted UI sign-in is an SSO session; the tokens of its code are a
/// token session whose OriginSessionId names it; each lists the address
/// and the device of its last activity.
#[test]
fn a_hosted_sign_in_is_an_sso_session_and_its_tokens_name_it() {
    let s = hosted_with_tracking();
    let mut b = hosted::Browser::new(&s);
    let code = hosted_code(&mut b);
    let (status, tokens) = exchange(&s, &code);
    assert_eq!(status, 200, "{tokens}");
    let sessions = alice_sessions(&s);
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let sso = of_kind(&sessions, "SSO")[0];
    let token = of_kind(&sessions, "TOKEN")[0];
    let sso_id = sso["SessionId"].as_str().unwrap();
    assert!(
        sso_id.len() == 28
            && sso_id.starts_with("sso")
            && sso_id[3..]
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{sso_id}"
    );
    assert_eq!(token["OriginSessionId"], sso_id, "{token}");
    assert!(sso.get("OriginSessionId").is_none(), "{sso}");
    for session in [sso, token] {
        assert_eq!(session["ClientId"], hosted::WEB, "{session}");
        assert_eq!(session["LastIPAddress"], "127.0.0.1", "{session}");
        assert_eq!(session["IsCurrentSession"], false, "{session}");
        assert_eq!(session["LastLocation"]["Country"], "unknown", "{session}");
    }
    assert_eq!(sso["DeviceType"], "Chrome on Linux", "{sso}");
    // The token endpoint's caller is not the browser: its own agent counts.
    assert_ne!(token["DeviceType"], "", "{token}");
    // The caller's own session is the current one.
    let access = tokens["access_token"].as_str().unwrap();
    let mine = s.ok("ListUserSessions", json!({"AccessToken": access}));
    let current: Vec<&Value> = mine["Sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["IsCurrentSession"] == true)
        .collect();
    assert_eq!(current.len(), 1, "{mine}");
    assert_eq!(current[0]["SessionId"], token["SessionId"]);
    // The browser's session keeps signing it in while the record lives.
    assert!(silently_signed_in(&mut b));
    // /logout ends the record: a copy of the cookie kept elsewhere is dead too.
    let mut copy = hosted::Browser::new(&s);
    copy.cookies = b.cookies.clone();
    let base = b.base();
    let out = b.get(&format!(
        "{base}/logout?client_id={}&logout_uri={}",
        hosted::WEB,
        hosted::SIGNED_OUT
    ));
    assert_eq!(out.status, 302, "{}", out.body);
    assert!(!silently_signed_in(&mut copy));
    assert_eq!(of_kind(&alice_sessions(&s), "SSO").len(), 0);
    assert_eq!(of_kind(&alice_sessions(&s), "TOKEN").len(), 1);
    // Without tracking, a sign-in opens no SSO session.
    s.ok(
        "SetUserPoolSessionConfiguration",
        json!({"UserPoolId": hosted::POOL, "UserSessionTracking": "DISABLED",
               "TokenSession": {"MaxPerUser": 20}}),
    );
    let mut untracked = hosted::Browser::new(&s);
    hosted_code(&mut untracked);
    s.ok(
        "SetUserPoolSessionConfiguration",
        json!({"UserPoolId": hosted::POOL, "UserSessionTracking": "ENABLED",
               "TokenSession": {"MaxPerUser": 20}}),
    );
    assert_eq!(of_kind(&alice_sessions(&s), "SSO").len(), 0);
    assert!(silently_signed_in(&mut untracked));
}

/// Revoking an SSO session ends the browser's cookie (and refuses the
/// codes it granted); LINKED also revokes the token sessions that came
/// through it; revoking a token session with LINKED also ends its SSO
/// session; a global sign-out ends them all.
#[test]
fn sso_sessions_are_revoked_alone_or_with_their_linked_sessions() {
    let s = hosted_with_tracking();
    // NONE: the browser is signed out, its tokens live on.
    let mut b1 = hosted::Browser::new(&s);
    let (_, t1) = exchange(&s, &hosted_code(&mut b1));
    let sso1 = alice_sessions(&s)
        .iter()
        .find(|x| x["SessionType"] == "SSO")
        .unwrap()["SessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut b2 = hosted::Browser::new(&s);
    let pending = hosted_code(&mut b2);
    let sso2 = of_kind(&alice_sessions(&s), "SSO")
        .into_iter()
        .map(|x| x["SessionId"].as_str().unwrap().to_owned())
        .find(|id| *id != sso1)
        .unwrap();
    s.ok(
        "AdminRevokeUserSession",
        json!({"UserPoolId": hosted::POOL, "Username": "alice", "SessionId": sso2,
               "RevokeAssociatedSessions": "NONE"}),
    );
    assert!(!silently_signed_in(&mut b2));
    assert!(silently_signed_in(&mut b1));
    // The code it granted before is refused now.
    let (status, refused) = exchange(&s, &pending);
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant")),
        "{refused}"
    );
    // An unknown or already revoked session: ResourceNotFoundException.
    let (status, v) = s.call(
        "AdminRevokeUserSession",
        json!({"UserPoolId": hosted::POOL, "Username": "alice", "SessionId": sso2}),
    );
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("ResourceNotFoundException")),
        "{v}"
    );
    // LINKED from the SSO side: its token sessions go with it.
    let access1 = t1["access_token"].as_str().unwrap().to_owned();
    let refresh1 = t1["refresh_token"].as_str().unwrap().to_owned();
    s.ok(
        "AdminRevokeUserSession",
        json!({"UserPoolId": hosted::POOL, "Username": "alice", "SessionId": sso1,
               "RevokeAssociatedSessions": "LINKED"}),
    );
    assert!(!silently_signed_in(&mut b1));
    assert!(alice_sessions(&s).is_empty(), "{:?}", alice_sessions(&s));
    let (status, v) = s.call("GetUser", json!({"AccessToken": access1}));
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("NotAuthorizedException")),
        "{v}"
    );
    let (status, v) = hosted::token(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", hosted::WEB),
            ("refresh_token", &refresh1),
        ],
        None,
    );
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    // LINKED from the token side: the parent SSO session goes; another
    // token session of the same SSO session stays.
    let mut b3 = hosted::Browser::new(&s);
    let (_, t3) = exchange(&s, &hosted_code(&mut b3));
    let r = b3.authorize(&[]);
    let (_, t3b) = exchange(&s, &r.redirect_params()["code"]);
    let sessions = alice_sessions(&s);
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    let token_of = |access: &str| {
        let mine = s.ok("ListUserSessions", json!({"AccessToken": access}));
        mine["Sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["IsCurrentSession"] == true)
            .unwrap()["SessionId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let tkn3 = token_of(t3["access_token"].as_str().unwrap());
    // The caller's own session cannot be revoked, nor its SSO session with LINKED.
    let access3b = t3b["access_token"].as_str().unwrap();
    let (status, v) = s.call(
        "RevokeUserSession",
        json!({"AccessToken": access3b, "SessionId": token_of(access3b)}),
    );
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("InvalidParameterException")),
        "{v}"
    );
    s.ok(
        "RevokeUserSession",
        json!({"AccessToken": access3b, "SessionId": tkn3, "RevokeAssociatedSessions": "LINKED"}),
    );
    assert!(!silently_signed_in(&mut b3));
    let left = alice_sessions(&s);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["SessionType"], "TOKEN");
    // A global sign-out ends every SSO session.
    let mut b4 = hosted::Browser::new(&s);
    hosted_code(&mut b4);
    assert_eq!(of_kind(&alice_sessions(&s), "SSO").len(), 1);
    s.ok(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": hosted::POOL, "Username": "alice"}),
    );
    assert!(alice_sessions(&s).is_empty());
    assert!(!silently_signed_in(&mut b4));
}

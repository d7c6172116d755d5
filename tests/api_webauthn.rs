//! Passkeys: WebAuthnConfiguration in Set/GetUserPoolMfaConfig, the four
//! credential operations and passkey sign-in (USER_AUTH's WEB_AUTHN
//! challenge, passkeys standing in for MFA) through the real binary, and
//! the sign-in verification functions in process (manual clock), with a
//! software authenticator (real P-256 keys, authenticatorData,
//! clientDataJSON and attestationObject), on the engine the suite runs on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "../crates/core/src/service/webauthn/testkit.rs"]
mod testkit;

use std::collections::BTreeSet;

use base64::Engine;
use common::{password_flows, Server, PASSWORD};
use serde_json::{json, Value};
use testkit::SoftAuthenticator;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const RP: &str = "auth.example.com";
const ORIGIN: &str = "https://auth.example.com";

/// A pool that offers passkeys as a first factor, with `RP` as relying
/// party, a client and a signed-in user; returns (pool, client, token).
fn passkey_pool(srv: &Server) -> (String, String, String) {
    let pool = srv.create_pool(
        "passkeys",
        json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}}),
    );
    srv.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF",
               "WebAuthnConfiguration": {"RelyingPartyId": RP, "UserVerification": "required"}}),
    );
    let client = srv.create_client(&pool, password_flows());
    srv.admin_user(&pool, "alice", json!([]));
    let token = access_token(srv, &client, "alice");
    (pool, client, token)
}

fn access_token(srv: &Server, client: &str, user: &str) -> String {
    srv.login(client, user, PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn start(srv: &Server, token: &str) -> Value {
    srv.ok("StartWebAuthnRegistration", json!({"AccessToken": token}))["CredentialCreationOptions"]
        .clone()
}

fn complete(srv: &Server, token: &str, credential: &Value) -> (u16, Value) {
    srv.call(
        "CompleteWebAuthnRegistration",
        json!({"AccessToken": token, "Credential": credential}),
    )
}

fn list(srv: &Server, token: &str, extra: Value) -> Value {
    let mut body = json!({"AccessToken": token});
    common::merge(&mut body, extra);
    srv.ok("ListWebAuthnCredentials", body)
}

fn challenge(options: &Value) -> String {
    options["challenge"].as_str().unwrap().to_owned()
}

#[test]
fn mfa_config_keeps_and_validates_the_webauthn_configuration() {
    let srv = Server::start();
    let pool = srv.create_pool("cfg", json!({}));
    // A pool never given one shows none (as AWS's does).
    let got = srv.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert!(got.get("WebAuthnConfiguration").is_none(), "{got}");
    let set = srv.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF",
               "WebAuthnConfiguration": {"RelyingPartyId": "auth.example.com",
                                         "UserVerification": "required",
                                         "FactorConfiguration": "SINGLE_FACTOR"}}),
    );
    let want = json!({"RelyingPartyId": "auth.example.com", "UserVerification": "required",
                      "FactorConfiguration": "SINGLE_FACTOR"});
    assert_eq!(set["WebAuthnConfiguration"], want);
    let got = srv.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(got["WebAuthnConfiguration"], want);
    // UpdateUserPool does not touch it.
    srv.ok("UpdateUserPool", json!({"UserPoolId": pool}));
    let got = srv.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(got["WebAuthnConfiguration"], want);

    // The model's enum and length, then the host-name rule.
    let (status, v) = srv.call(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "WebAuthnConfiguration": {"UserVerification": "always"}}),
    );
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("InvalidParameterException")),
        "{v}"
    );
    srv.err(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "WebAuthnConfiguration": {"RelyingPartyId": "x".repeat(128)}}),
        "InvalidParameterException",
    );
    for bad in [
        "https://auth.example.com",
        "auth.example.com:443",
        "Auth.Example.com",
        "a..b",
    ] {
        srv.err(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool, "WebAuthnConfiguration": {"RelyingPartyId": bad}}),
            "InvalidParameterException",
        );
    }
    // A call that leaves it out resets it: none is shown again (as on AWS,
    // where the Terraform provider's tests read none back after such a call).
    srv.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF"}),
    );
    let got = srv.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert!(got.get("WebAuthnConfiguration").is_none(), "{got}");
}

#[test]
fn start_needs_passkeys_enabled_and_a_relying_party() {
    let srv = Server::start();
    let pool = srv.create_pool("off", json!({}));
    let client = srv.create_client(&pool, password_flows());
    srv.admin_user(&pool, "bob", json!([]));
    let token = access_token(&srv, &client, "bob");
    srv.err(
        "StartWebAuthnRegistration",
        json!({"AccessToken": token}),
        "WebAuthnNotEnabledException",
    );
    srv.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool,
               "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}}),
    );
    // No RelyingPartyId and no domain.
    srv.err(
        "StartWebAuthnRegistration",
        json!({"AccessToken": token}),
        "WebAuthnConfigurationMissingException",
    );
    // A prefix domain: the relying party is the host of the public URL.
    srv.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "passkey-test"}),
    );
    let options = start(&srv, &token);
    assert_eq!(
        options["rp"],
        json!({"id": "127.0.0.1", "name": "127.0.0.1"})
    );
    // A bad token is refused before anything else.
    srv.err(
        "StartWebAuthnRegistration",
        json!({"AccessToken": "abc"}),
        "NotAuthorizedException",
    );
}

#[test]
fn register_list_and_delete_a_passkey() {
    let srv = Server::start();
    let (_pool, _client, token) = passkey_pool(&srv);
    let options = start(&srv, &token);
    assert_eq!(options["rp"], json!({"id": RP, "name": RP}));
    assert_eq!(options["user"]["name"], "alice");
    assert_eq!(options["user"]["displayName"], "alice");
    let sub = srv.ok("GetUser", json!({"AccessToken": token}))["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == "sub")
        .unwrap()["Value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(options["user"]["id"], B64.encode(sub.as_bytes()));
    assert_eq!(
        options["pubKeyCredParams"],
        json!([{"alg": -7, "type": "public-key"}, {"alg": -257, "type": "public-key"}])
    );
    assert_eq!(options["timeout"], 60000);
    assert_eq!(
        options["authenticatorSelection"],
        json!({"requireResidentKey": true, "residentKey": "required", "userVerification": "required"})
    );
    assert_eq!(options["excludeCredentials"], json!([]));
    assert_eq!(B64.decode(challenge(&options)).unwrap().len(), 32);

    let a = SoftAuthenticator::new(RP, ORIGIN);
    let (status, v) = complete(&srv, &token, &a.register(&challenge(&options)));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v, json!({}));
    let listed = list(&srv, &token, json!({}));
    let creds = listed["Credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 1, "{listed}");
    assert_eq!(creds[0]["CredentialId"], a.id());
    assert_eq!(creds[0]["RelyingPartyId"], RP);
    assert_eq!(creds[0]["AuthenticatorAttachment"], "platform");
    assert_eq!(creds[0]["AuthenticatorTransports"], json!(["internal"]));
    assert_eq!(creds[0]["FriendlyCredentialName"], "Platform passkey");
    assert!(creds[0]["CreatedAt"].is_number());
    assert!(listed.get("NextToken").is_none());

    // The next options exclude it; the same passkey cannot be added twice.
    let options = start(&srv, &token);
    assert_eq!(
        options["excludeCredentials"],
        json!([{"id": a.id(), "type": "public-key"}])
    );
    srv.err(
        "CompleteWebAuthnRegistration",
        json!({"AccessToken": token, "Credential": a.register(&challenge(&options))}),
        "InvalidParameterException",
    );

    srv.err(
        "DeleteWebAuthnCredential",
        json!({"AccessToken": token, "CredentialId": "bm90LWEtY3JlZGVudGlhbA"}),
        "ResourceNotFoundException",
    );
    srv.ok(
        "DeleteWebAuthnCredential",
        json!({"AccessToken": token, "CredentialId": a.id()}),
    );
    assert_eq!(list(&srv, &token, json!({}))["Credentials"], json!([]));
    srv.err(
        "DeleteWebAuthnCredential",
        json!({"AccessToken": token, "CredentialId": a.id()}),
        "ResourceNotFoundException",
    );
}

#[test]
fn completion_checks_the_challenge_origin_relying_party_and_client() {
    let srv = Server::start();
    let (pool, _client, token) = passkey_pool(&srv);
    let a = SoftAuthenticator::new(RP, ORIGIN);

    // A challenge never issued, or issued to another user.
    srv.err(
        "CompleteWebAuthnRegistration",
        json!({"AccessToken": token, "Credential": a.register("bm90LWlzc3VlZA")}),
        "WebAuthnChallengeNotFoundException",
    );
    let other_client = srv.create_client(&pool, password_flows());
    srv.admin_user(&pool, "carol", json!([]));
    let carol = access_token(&srv, &other_client, "carol");
    let c = challenge(&start(&srv, &carol));
    srv.err(
        "CompleteWebAuthnRegistration",
        json!({"AccessToken": token, "Credential": a.register(&c)}),
        "WebAuthnChallengeNotFoundException",
    );

    // The same user through another app client.
    let alice_other = access_token(&srv, &other_client, "alice");
    let c = challenge(&start(&srv, &token));
    srv.err(
        "CompleteWebAuthnRegistration",
        json!({"AccessToken": alice_other, "Credential": a.register(&c)}),
        "WebAuthnClientMismatchException",
    );

    type Tweak = fn(&mut testkit::Tweaks);
    let cases: Vec<(Tweak, &str)> = vec![
        (
            |t| t.origin = "https://evil.example.net".into(),
            "WebAuthnOriginNotAllowedException",
        ),
        (
            |t| t.rp_id = "example.org".into(),
            "WebAuthnRelyingPartyMismatchException",
        ),
        (
            |t| t.flags = testkit::FLAG_UP,
            "WebAuthnCredentialNotSupportedException",
        ),
        (
            |t| t.kind = "webauthn.get".into(),
            "InvalidParameterException",
        ),
        (
            |t| t.fmt = "no-such-format".into(),
            "WebAuthnCredentialNotSupportedException",
        ),
    ];
    for (tweak, error) in cases {
        let c = challenge(&start(&srv, &token));
        let mut t = a.tweaks("webauthn.create");
        tweak(&mut t);
        srv.err(
            "CompleteWebAuthnRegistration",
            json!({"AccessToken": token, "Credential": a.register_with(&c, &t)}),
            error,
        );
        // A refused answer used the challenge up.
        srv.err(
            "CompleteWebAuthnRegistration",
            json!({"AccessToken": token, "Credential": a.register(&c)}),
            "WebAuthnChallengeNotFoundException",
        );
    }
    // Malformed credentials are InvalidParameterException, never a fault.
    for bad in [
        json!({}),
        json!({"response": {"clientDataJSON": "e30"}}),
        json!("text"),
    ] {
        let (status, v) = srv.call(
            "CompleteWebAuthnRegistration",
            json!({"AccessToken": token, "Credential": bad}),
        );
        assert_eq!(status, 400, "{v}");
    }
    // Packed self-attestation is accepted.
    let c = challenge(&start(&srv, &token));
    let mut t = a.tweaks("webauthn.create");
    t.fmt = "packed".into();
    let (status, v) = complete(&srv, &token, &a.register_with(&c, &t));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn a_challenge_answers_once_under_concurrent_completions() {
    let srv = Server::start();
    let (_pool, _client, token) = passkey_pool(&srv);
    let c = challenge(&start(&srv, &token));
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let response = a.register(&c);
    let outcomes: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..30)
            .map(|_| s.spawn(|| complete(&srv, &token, &response)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = outcomes.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{outcomes:?}");
    for (status, v) in outcomes.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 400);
        assert_eq!(v["__type"], "WebAuthnChallengeNotFoundException", "{v}");
    }
    assert_eq!(
        list(&srv, &token, json!({}))["Credentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn at_most_twenty_passkeys_under_concurrent_registrations_and_pages() {
    let srv = Server::start();
    let (_pool, _client, token) = passkey_pool(&srv);
    let responses: Vec<Value> = (0..26)
        .map(|_| {
            let c = challenge(&start(&srv, &token));
            SoftAuthenticator::new(RP, ORIGIN).register(&c)
        })
        .collect();
    let outcomes: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = responses
            .iter()
            .map(|r| s.spawn(|| complete(&srv, &token, r)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = outcomes.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 20, "{outcomes:?}");
    for (_, v) in outcomes.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(v["__type"], "LimitExceededException", "{v}");
    }

    // Pages of 7: 7 + 7 + 6, no repeats; MaxResults 0 means the default (20).
    let mut seen = BTreeSet::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut extra = json!({"MaxResults": 7});
        if let Some(n) = &next {
            extra["NextToken"] = json!(n);
        }
        let page = list(&srv, &token, extra);
        pages += 1;
        for c in page["Credentials"].as_array().unwrap() {
            assert!(seen.insert(c["CredentialId"].as_str().unwrap().to_owned()));
        }
        match page["NextToken"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 20));
    assert_eq!(
        list(&srv, &token, json!({"MaxResults": 0}))["Credentials"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    srv.err(
        "ListWebAuthnCredentials",
        json!({"AccessToken": token, "MaxResults": 21}),
        "InvalidParameterException",
    );
    srv.err(
        "ListWebAuthnCredentials",
        json!({"AccessToken": token, "NextToken": "bm90LWEtdG9rZW4"}),
        "InvalidParameterException",
    );
}

#[test]
fn passkeys_go_with_the_user() {
    let srv = Server::start();
    let (pool, client, token) = passkey_pool(&srv);
    let c = challenge(&start(&srv, &token));
    let a = SoftAuthenticator::new(RP, ORIGIN);
    assert_eq!(complete(&srv, &token, &a.register(&c)).0, 200);
    srv.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "alice"}),
    );
    srv.admin_user(&pool, "alice", json!([]));
    let token = access_token(&srv, &client, "alice");
    assert_eq!(list(&srv, &token, json!({}))["Credentials"], json!([]));
    // The credential id is free again in the pool.
    let c = challenge(&start(&srv, &token));
    assert_eq!(complete(&srv, &token, &a.register(&c)).0, 200);
}

/// ExplicitAuthFlows of the sign-in tests: USER_AUTH and the password flows.
fn user_auth_flows() -> Value {
    json!({"ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                                 "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})
}

/// A passkey pool (UserVerification `uv`) with a USER_AUTH client and a
/// user `name` who registered the returned passkey; returns (pool, client,
/// authenticator, user handle).
fn signed_up_with_passkey(srv: &Server, uv: &str) -> (String, String, SoftAuthenticator, String) {
    let pool = srv.create_pool(
        "passkey-sign-in",
        json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}}),
    );
    srv.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF",
               "WebAuthnConfiguration": {"RelyingPartyId": RP, "UserVerification": uv}}),
    );
    let client = srv.create_client(&pool, user_auth_flows());
    let (a, handle) = passkey_of(srv, &pool, &client, "alice");
    (pool, client, a, handle)
}

/// Creates `name` in the pool and registers a passkey for them; returns
/// the authenticator and the user handle (base64url of the sub).
fn passkey_of(srv: &Server, pool: &str, client: &str, name: &str) -> (SoftAuthenticator, String) {
    srv.admin_user(pool, name, json!([]));
    let token = access_token(srv, client, name);
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let (status, v) = complete(srv, &token, &a.register(&challenge(&start(srv, &token))));
    assert_eq!(status, 200, "{v}");
    let user = srv.ok("GetUser", json!({"AccessToken": token}));
    let sub = common::attr(&user["UserAttributes"], "sub").unwrap();
    (a, B64.encode(sub.as_bytes()))
}

/// InitiateAuth USER_AUTH preferring WEB_AUTHN: (session, request options).
fn passkey_challenge(srv: &Server, client: &str, user: &str) -> (String, Value) {
    let v = srv.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": user, "PREFERRED_CHALLENGE": "WEB_AUTHN"}}),
    );
    assert_eq!(v["ChallengeName"], "WEB_AUTHN", "{v}");
    let options: Value = serde_json::from_str(
        v["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    (v["Session"].as_str().unwrap().to_owned(), options)
}

fn answer_passkey(
    srv: &Server,
    client: &str,
    user: &str,
    session: &str,
    credential: &Value,
) -> (u16, Value) {
    srv.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "WEB_AUTHN", "Session": session,
               "ChallengeResponses": {"USERNAME": user, "CREDENTIAL": credential.to_string()}}),
    )
}

#[test]
fn a_passkey_signs_in_through_user_auth() {
    let srv = Server::start();
    let (pool, client, mut a, handle) = signed_up_with_passkey(&srv, "required");
    let token = access_token(&srv, &client, "alice");

    // The passkey is a configured factor and an available challenge.
    let factors = srv.ok("GetUserAuthFactors", json!({"AccessToken": token}));
    assert_eq!(
        factors["ConfiguredUserAuthFactors"],
        json!(["PASSWORD", "WEB_AUTHN"])
    );
    let factors = srv.ok(
        "AdminGetUserAuthFactors",
        json!({"UserPoolId": pool, "Username": "alice"}),
    );
    assert_eq!(
        factors["ConfiguredUserAuthFactors"],
        json!(["PASSWORD", "WEB_AUTHN"])
    );
    let v = srv.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_AUTH", "ClientId": client, "AuthParameters": {"USERNAME": "alice"}}),
    );
    assert_eq!(v["ChallengeName"], "SELECT_CHALLENGE");
    assert_eq!(
        v["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"])
    );

    // SELECT_CHALLENGE answered with WEB_AUTHN: the request options.
    let (status, next) = srv.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SELECT_CHALLENGE", "Session": v["Session"],
               "ChallengeResponses": {"USERNAME": "alice", "ANSWER": "WEB_AUTHN"}}),
    );
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["ChallengeName"], "WEB_AUTHN");
    let params = next["ChallengeParameters"].as_object().unwrap();
    assert_eq!(
        params.keys().collect::<Vec<_>>(),
        vec!["CREDENTIAL_REQUEST_OPTIONS"]
    );
    let options: Value =
        serde_json::from_str(params["CREDENTIAL_REQUEST_OPTIONS"].as_str().unwrap()).unwrap();
    assert_eq!(options["rpId"], RP);
    assert_eq!(options["userVerification"], "required");
    assert_eq!(options["timeout"], 60000);
    assert_eq!(
        options["allowCredentials"],
        json!([{"id": a.id(), "type": "public-key", "transports": ["internal"]}])
    );
    assert_eq!(B64.decode(challenge(&options)).unwrap().len(), 32);
    let session = next["Session"].as_str().unwrap();
    let assertion = a.assert(&challenge(&options), &handle);
    let (status, done) = answer_passkey(&srv, &client, "alice", session, &assertion);
    assert_eq!(status, 200, "{done}");
    let result = &done["AuthenticationResult"];
    let claims = common::jwt_claims(result["AccessToken"].as_str().unwrap());
    assert_eq!(claims["username"], "alice");
    assert!(result["IdToken"].is_string() && result["RefreshToken"].is_string());
    // The tokens work.
    srv.ok("GetUser", json!({"AccessToken": result["AccessToken"]}));

    // The session answered once; the assertion does not fit a new challenge.
    let (status, v) = answer_passkey(&srv, &client, "alice", session, &assertion);
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("NotAuthorizedException")),
        "{v}"
    );
    let (session, _) = passkey_challenge(&srv, &client, "alice");
    let (status, v) = answer_passkey(&srv, &client, "alice", &session, &assertion);
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("NotAuthorizedException")),
        "{v}"
    );

    // AdminInitiateAuth / AdminRespondToAuthChallenge, straight to WEB_AUTHN.
    let v = srv.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "USER_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"}}),
    );
    assert_eq!(v["ChallengeName"], "WEB_AUTHN", "{v}");
    let options: Value = serde_json::from_str(
        v["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let done = srv.ok(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "WEB_AUTHN",
               "Session": v["Session"],
               "ChallengeResponses": {"USERNAME": "alice",
                                      "CREDENTIAL": a.assert(&challenge(&options), &handle).to_string()}}),
    );
    assert!(
        done["AuthenticationResult"]["AccessToken"].is_string(),
        "{done}"
    );
}

#[test]
fn refused_passkey_answers() {
    let srv = Server::start();
    let (pool, client, mut a, handle) = signed_up_with_passkey(&srv, "required");
    let (mut bob, bob_handle) = passkey_of(&srv, &pool, &client, "bob");
    let refused = |session: &str, credential: &Value| {
        let (status, v) = answer_passkey(&srv, &client, "alice", session, credential);
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("NotAuthorizedException")),
            "{v}"
        );
        // A refused answer used the session up.
        let (status, v) = answer_passkey(&srv, &client, "alice", session, credential);
        assert_eq!(
            (status, v["message"].as_str()),
            (
                400,
                Some("Invalid session for the user, session can only be used once.")
            ),
            "{v}"
        );
    };

    // Another challenge than the session's.
    let (session, _) = passkey_challenge(&srv, &client, "alice");
    refused(&session, &a.assert("bm90LXRoaXMtb25l", &handle));
    type Tweak = fn(&mut testkit::Tweaks);
    let cases: Vec<Tweak> = vec![
        |t| t.origin = "https://evil.example.net".into(),
        |t| t.origin = "http://auth.example.com".into(),
        |t| t.rp_id = "example.org".into(),
        // User verification required by the pool, not performed.
        |t| t.flags = testkit::FLAG_UP,
        // Neither presence nor verification.
        |t| t.flags = 0,
        |t| t.corrupt_signature = true,
    ];
    for tweak in cases {
        let (session, options) = passkey_challenge(&srv, &client, "alice");
        let mut t = a.tweaks("webauthn.get");
        t.user_handle = Some(handle.clone());
        tweak(&mut t);
        refused(&session, &a.assert_with(&challenge(&options), &t));
    }
    // A replay: a signature counter that does not move past the stored one.
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    let (status, v) = answer_passkey(
        &srv,
        &client,
        "alice",
        &session,
        &a.assert(&challenge(&options), &handle),
    );
    assert_eq!(status, 200, "{v}");
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    let mut t = a.tweaks("webauthn.get");
    t.user_handle = Some(handle.clone());
    t.sign_count = Some(a.sign_count);
    refused(&session, &a.assert_with(&challenge(&options), &t));
    // Another user's passkey, with either user's handle.
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    refused(&session, &bob.assert(&challenge(&options), &bob_handle));
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    refused(&session, &bob.assert(&challenge(&options), &handle));
    // Alice's passkey answering a session of bob's.
    let (session, options) = passkey_challenge(&srv, &client, "bob");
    let (status, v) = answer_passkey(
        &srv,
        &client,
        "bob",
        &session,
        &a.assert(&challenge(&options), &handle),
    );
    assert_eq!(v["__type"], "NotAuthorizedException", "{status} {v}");

    // Malformed answers are InvalidParameterException and leave the session.
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    for bad in ["not json", "{}", "[]", r#"{"type":"public-key","id":"!!"}"#] {
        let (status, v) = srv.call(
            "RespondToAuthChallenge",
            json!({"ClientId": client, "ChallengeName": "WEB_AUTHN", "Session": session,
                   "ChallengeResponses": {"USERNAME": "alice", "CREDENTIAL": bad}}),
        );
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("InvalidParameterException")),
            "{bad}: {v}"
        );
    }
    let (status, v) = srv.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "WEB_AUTHN", "Session": session,
               "ChallengeResponses": {"USERNAME": "alice"}}),
    );
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Missing required parameter CREDENTIAL")),
        "{v}"
    );
    // The session still signs in with a good answer, for the named user only.
    let good = a.assert(&challenge(&options), &handle);
    let (status, v) = answer_passkey(&srv, &client, "bob", &session, &good);
    assert_eq!(v["__type"], "NotAuthorizedException", "{status} {v}");
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    let (status, v) = answer_passkey(
        &srv,
        &client,
        "alice",
        &session,
        &a.assert(&challenge(&options), &handle),
    );
    assert_eq!(status, 200, "{v}");

    // A deleted passkey no longer signs in, nor is it offered.
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    let token = access_token(&srv, &client, "alice");
    srv.ok(
        "DeleteWebAuthnCredential",
        json!({"AccessToken": token, "CredentialId": a.id()}),
    );
    refused(&session, &a.assert(&challenge(&options), &handle));
    let v = srv.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"}}),
    );
    assert_eq!(v["ChallengeName"], "SELECT_CHALLENGE");
    assert_eq!(
        v["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP"])
    );
    let factors = srv.ok("GetUserAuthFactors", json!({"AccessToken": token}));
    assert_eq!(factors["ConfiguredUserAuthFactors"], json!(["PASSWORD"]));
}

#[test]
fn preferred_user_verification_accepts_a_passkey_without_it() {
    let srv = Server::start();
    let (_pool, client, mut a, handle) = signed_up_with_passkey(&srv, "preferred");
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    assert_eq!(options["userVerification"], "preferred");
    let mut t = a.tweaks("webauthn.get");
    t.flags = testkit::FLAG_UP;
    t.user_handle = Some(handle);
    let (status, v) = answer_passkey(
        &srv,
        &client,
        "alice",
        &session,
        &a.assert_with(&challenge(&options), &t),
    );
    assert_eq!(status, 200, "{v}");
}

#[test]
fn concurrent_answers_to_one_passkey_session_sign_in_once() {
    let srv = Server::start();
    let (_pool, client, mut a, handle) = signed_up_with_passkey(&srv, "required");
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    let assertion = a.assert(&challenge(&options), &handle);
    let outcomes: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|_| s.spawn(|| answer_passkey(&srv, &client, "alice", &session, &assertion)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = outcomes.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{outcomes:?}");
    for (status, v) in outcomes.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(
            (*status, v["__type"].as_str()),
            (400, Some("NotAuthorizedException")),
            "{v}"
        );
    }
}

#[test]
fn passkeys_and_required_mfa() {
    let srv = Server::start();
    let (pool, client, mut a, handle) = signed_up_with_passkey(&srv, "preferred");
    let mfa_config = |factor: &str| {
        srv.ok(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool, "MfaConfiguration": "ON",
                   "SoftwareTokenMfaConfiguration": {"Enabled": true},
                   "WebAuthnConfiguration": {"RelyingPartyId": RP, "UserVerification": "preferred",
                                             "FactorConfiguration": factor}}),
        );
    };
    let select = || {
        srv.ok(
            "InitiateAuth",
            json!({"AuthFlow": "USER_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"}}),
        )
    };
    // MFA ON while a passkey alone signs users in: refused, in AWS's words
    // (a single-factor passkey would skip the required MFA).
    let (status, v) = srv.call(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON",
               "SoftwareTokenMfaConfiguration": {"Enabled": true},
               "WebAuthnConfiguration": {"RelyingPartyId": RP, "UserVerification": "preferred",
                                         "FactorConfiguration": "SINGLE_FACTOR"}}),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["message"],
        "Cannot set WebAuthn factor configuration to SINGLE_FACTOR if MFA is required and WebAuthn is an allowed first auth factor"
    );
    // Still a configured factor of the user.
    let factors = srv.ok(
        "AdminGetUserAuthFactors",
        json!({"UserPoolId": pool, "Username": "alice"}),
    );
    assert_eq!(
        factors["ConfiguredUserAuthFactors"],
        json!(["PASSWORD", "WEB_AUTHN"])
    );

    let passkey_mfa = |body: Value| {
        let mut req = json!({"UserPoolId": pool, "Username": "alice"});
        req.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        srv.call("AdminSetUserMFAPreference", req)
    };
    // Turning passkey MFA on is refused, with a message naming why.
    let refused = |why: &str| {
        let (status, v) = passkey_mfa(json!({"WebAuthnMfaSettings": {"Enabled": true}}));
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("InvalidParameterException")),
            "{v}"
        );
        assert!(v["message"].as_str().unwrap().contains(why), "{v}");
    };
    // Passkey MFA needs the pool's MULTI_FACTOR_WITH_USER_VERIFICATION.
    refused("FactorConfiguration");

    // The pool counts a verifying passkey as MFA, but the user has not
    // turned passkey MFA on: still not offered.
    mfa_config("MULTI_FACTOR_WITH_USER_VERIFICATION");
    let v = select();
    assert_eq!(
        v["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP"]),
        "{v}"
    );
    // Turning it on needs another MFA factor of the user.
    refused("another MFA method");
    srv.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "alice",
               "UserAttributes": [{"Name": "phone_number", "Value": "+15555550100"}]}),
    );
    let (status, v) = passkey_mfa(json!({"SMSMfaSettings": {"Enabled": true},
                                         "WebAuthnMfaSettings": {"Enabled": true}}));
    assert_eq!(status, 200, "{v}");
    // Not one of the factors GetUser lists.
    let listed = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "alice"}),
    );
    assert_eq!(listed["UserMFASettingList"], json!(["SMS_MFA"]), "{listed}");

    // Now a passkey with user verification satisfies MFA: offered, and the
    // options require verification whatever the pool's UserVerification.
    let v = srv.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_AUTH", "ClientId": client, "AuthParameters": {"USERNAME": "alice"}}),
    );
    assert_eq!(
        v["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"])
    );
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    assert_eq!(options["userVerification"], "required");
    let mut t = a.tweaks("webauthn.get");
    t.flags = testkit::FLAG_UP;
    t.user_handle = Some(handle.clone());
    let (_, v) = answer_passkey(
        &srv,
        &client,
        "alice",
        &session,
        &a.assert_with(&challenge(&options), &t),
    );
    assert_eq!(v["__type"], "NotAuthorizedException", "{v}");
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    let (status, v) = answer_passkey(
        &srv,
        &client,
        "alice",
        &session,
        &a.assert(&challenge(&options), &handle),
    );
    assert_eq!(status, 200, "{v}");
    assert!(v["AuthenticationResult"]["AccessToken"].is_string(), "{v}");
    // The password still leads to the MFA step.
    let (_, v) = srv.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
    );
    assert_eq!(v["ChallengeName"], "MFA_SETUP", "{v}");
}

mod in_process {
    //! The challenge's lifetime and the sign-in functions, on a service in
    //! process with a manual clock.

    use super::*;
    use cognate_core::error::ErrorKind;
    use cognate_core::model::WebAuthnSettings;
    use common::inproc::world;

    async fn enable(w: &common::inproc::World, uv: &str) -> cognate_core::model::UserPool {
        let (pool, _) = w.svc.describe_user_pool(&w.pool_id).await.unwrap();
        let mut settings = pool.settings.clone();
        settings.sign_in_policy =
            Some(json!({"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}));
        w.svc
            .update_user_pool(&w.pool_id, None, settings, true)
            .await
            .unwrap();
        w.svc
            .set_user_pool_mfa_config(
                &w.pool_id,
                Some("OFF".into()),
                None,
                None,
                None,
                WebAuthnSettings {
                    relying_party_id: Some(RP.into()),
                    user_verification: Some(uv.into()),
                    factor_configuration: None,
                },
            )
            .await
            .unwrap();
        w.svc.describe_user_pool(&w.pool_id).await.unwrap().0
    }

    async fn register(w: &common::inproc::World, token: &str) -> SoftAuthenticator {
        let options = w.svc.start_webauthn_registration(token).await.unwrap();
        let a = SoftAuthenticator::new(RP, ORIGIN);
        w.svc
            .complete_webauthn_registration(token, &a.register(&challenge(&options)))
            .await
            .unwrap();
        a
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_registration_challenge_expires() {
        let w = world().await;
        enable(&w, "preferred").await;
        let (token, _) = w.login().await;
        let options = w.svc.start_webauthn_registration(&token).await.unwrap();
        let a = SoftAuthenticator::new(RP, ORIGIN);
        w.clock
            .advance_millis(cognate_core::service::webauthn::REGISTRATION_CHALLENGE_MS);
        let (token, _) = w.login().await;
        let err = w
            .svc
            .complete_webauthn_registration(&token, &a.register(&challenge(&options)))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::WebAuthnChallengeNotFound);
        // Just inside the lifetime it is accepted.
        let options = w.svc.start_webauthn_registration(&token).await.unwrap();
        w.clock
            .advance_millis(cognate_core::service::webauthn::REGISTRATION_CHALLENGE_MS - 1);
        w.svc
            .complete_webauthn_registration(&token, &a.register(&challenge(&options)))
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sign_in_options_and_assertions() {
        let w = world().await;
        let pool = enable(&w, "required").await;
        let (token, _) = w.login().await;
        let mut a = register(&w, &token).await;
        let user = w.svc.admin_get_user(&w.pool_id, "alice").await.unwrap();
        let handle = B64.encode(user.sub.as_bytes());

        let request = w.svc.webauthn_request_options(&pool, &user).await.unwrap();
        let options = &request.options;
        assert_eq!(options["rpId"], RP);
        assert_eq!(options["userVerification"], "required");
        assert_eq!(options["timeout"], 60000);
        assert_eq!(
            options["allowCredentials"],
            json!([{"id": a.id(), "type": "public-key", "transports": ["internal"]}])
        );
        let c = challenge(options);
        let verified = w
            .svc
            .verify_webauthn_assertion(&pool, &user, &request.state, &a.assert(&c, &handle))
            .await
            .unwrap();
        assert_eq!(verified.credential_id, a.id());
        assert!(verified.user_verified);

        // A replayed assertion (same counter) is refused, as is a wrong signature.
        let replay = {
            let mut t = a.tweaks("webauthn.get");
            t.sign_count = Some(a.sign_count);
            a.assert_with(&c, &t)
        };
        let err = w
            .svc
            .verify_webauthn_assertion(&pool, &user, &request.state, &replay)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotAuthorized);
        let mut t = a.tweaks("webauthn.get");
        t.corrupt_signature = true;
        let err = w
            .svc
            .verify_webauthn_assertion(&pool, &user, &request.state, &a.assert_with(&c, &t))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotAuthorized);
        // Without user verification while the pool requires it.
        let mut t = a.tweaks("webauthn.get");
        t.flags = testkit::FLAG_UP;
        let err = w
            .svc
            .verify_webauthn_assertion(&pool, &user, &request.state, &a.assert_with(&c, &t))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotAuthorized);
        // Another challenge than the one of the state.
        let other = w.svc.webauthn_request_options(&pool, &user).await.unwrap();
        let err = w
            .svc
            .verify_webauthn_assertion(&pool, &user, &other.state, &a.assert(&c, &handle))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotAuthorized);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn one_assertion_is_accepted_once_under_concurrency() {
        let w = std::sync::Arc::new(world().await);
        let pool = std::sync::Arc::new(enable(&w, "preferred").await);
        let (token, _) = w.login().await;
        let mut a = register(&w, &token).await;
        let user = std::sync::Arc::new(w.svc.admin_get_user(&w.pool_id, "alice").await.unwrap());
        let request = w.svc.webauthn_request_options(&pool, &user).await.unwrap();
        let handle = B64.encode(user.sub.as_bytes());
        let assertion = std::sync::Arc::new(a.assert(&challenge(&request.options), &handle));
        let state = std::sync::Arc::new(request.state);
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let (w, pool, user, state, assertion) = (
                    w.clone(),
                    pool.clone(),
                    user.clone(),
                    state.clone(),
                    assertion.clone(),
                );
                tokio::spawn(async move {
                    w.svc
                        .verify_webauthn_assertion(&pool, &user, &state, &assertion)
                        .await
                })
            })
            .collect();
        let mut accepted = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => accepted += 1,
                Err(e) => assert_eq!(e.kind, ErrorKind::NotAuthorized),
            }
        }
        assert_eq!(accepted, 1);
    }
}

/// USER_AUTH's WEB_AUTHN challenge for a username the pool does not know,
/// where the client prevents user-existence errors: request options shaped
/// like a real user's (one credential, the same at every attempt) whose
/// every answer is refused as a wrong passkey is.
#[test]
fn an_unknown_user_gets_a_passkey_challenge_that_refuses_every_answer() {
    let srv = Server::start();
    let (pool, _client, mut a, handle) = signed_up_with_passkey(&srv, "required");
    let mut flows = user_auth_flows();
    flows["PreventUserExistenceErrors"] = json!("ENABLED");
    let client = srv.create_client(&pool, flows);
    let start = |user: &str| {
        srv.ok(
            "InitiateAuth",
            json!({"AuthFlow": "USER_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": user, "PREFERRED_CHALLENGE": "WEB_AUTHN"}}),
        )
    };
    // Not every unknown user is offered a passkey (a choice per username).
    let ghost = (0..16)
        .map(|i| format!("ghost{i}"))
        .find(|name| start(name)["ChallengeName"] == "WEB_AUTHN")
        .expect("an unknown user offered WEB_AUTHN");
    let options_of = |v: &Value| -> Value {
        serde_json::from_str(
            v["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    let v = start(&ghost);
    let options = options_of(&v);
    assert_eq!(options["rpId"], RP);
    assert_eq!(options["userVerification"], "required");
    assert_eq!(options["timeout"], 60000);
    assert_eq!(B64.decode(challenge(&options)).unwrap().len(), 32);
    let allowed = options["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "{options}");
    assert_eq!(allowed[0]["type"], "public-key");
    assert_eq!(
        B64.decode(allowed[0]["id"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert_eq!(
        options_of(&start(&ghost))["allowCredentials"],
        options["allowCredentials"]
    );
    // A real passkey's assertion for the challenge: refused, as another
    // user's passkey is for a real user, and the session is spent.
    let assertion = a.assert(&challenge(&options), &handle);
    let session = v["Session"].as_str().unwrap();
    for _ in 0..2 {
        let (status, body) = answer_passkey(&srv, &client, &ghost, session, &assertion);
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some("NotAuthorizedException")),
            "{body}"
        );
    }
    // The user with the passkey still signs in through the same client.
    let (session, options) = passkey_challenge(&srv, &client, "alice");
    let (status, done) = answer_passkey(
        &srv,
        &client,
        "alice",
        &session,
        &a.assert(&challenge(&options), &handle),
    );
    assert_eq!(status, 200, "{done}");
}

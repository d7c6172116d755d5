//! GetDerivedToken and the token endpoint's token-exchange grant against
//! the real server: impersonation and delegation (`act`), scope narrowing,
//! audiences and resources, the client's secret or a SigV4 signature, the
//! flows and the feature plan, refused subject tokens (revoked, of another
//! pool, a refresh token, a user signed out); expiry on a manual clock in
//! process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{jwt_claims, refused, Server};
use serde_json::{json, Value};

const PASSWORD: &str = "Passw0rd!derived";
const READ: &str = "https://api.example.com/read";
const WRITE: &str = "https://api.example.com/write";
const EXCHANGE_FLOWS: [&str; 2] = [
    "ALLOW_TOKEN_EXCHANGE_IMPERSONATION",
    "ALLOW_TOKEN_EXCHANGE_DELEGATION",
];

/// A pool with a resource server, a front-end client (password sign-in,
/// OAuth scopes), a confidential exchanging client and a user `alice`.
struct Setup {
    pool: String,
    front: String,
    service: String,
    service_secret: String,
}

fn setup(s: &Server, tier: &str) -> Setup {
    let pool = s.create_pool("exchange", json!({"UserPoolTier": tier}));
    s.ok(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://api.example.com", "Name": "api",
               "Scopes": [{"ScopeName": "read", "ScopeDescription": "r"},
                          {"ScopeName": "write", "ScopeDescription": "w"}]}),
    );
    let front = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let service = s.create_client_full(
        &pool,
        json!({"ClientName": "service", "GenerateSecret": true,
               "ExplicitAuthFlows": EXCHANGE_FLOWS,
               "AllowedOAuthFlowsUserPoolClient": true,
               "AllowedOAuthFlows": ["code"],
               "CallbackURLs": ["https://app.example.com/cb"],
               "AllowedOAuthScopes": [READ, "openid", "aws.cognito.signin.user.admin"]}),
    );
    s.admin_user(&pool, "alice", json!([]));
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "alice", "Password": PASSWORD, "Permanent": true}),
    );
    Setup {
        pool,
        front,
        service: service["ClientId"].as_str().unwrap().to_owned(),
        service_secret: service["ClientSecret"].as_str().unwrap().to_owned(),
    }
}

/// GetDerivedToken with no Authorization header: the client's secret
/// authorizes it.
fn unsigned(s: &Server, body: Value) -> (u16, Value) {
    common::unsigned(s, "GetDerivedToken", body)
}

#[test]
fn impersonation_narrows_scopes_and_binds_the_audience() {
    let s = Server::start();
    let x = setup(&s, "ESSENTIALS");
    let tokens = s.login(&x.front, "alice", PASSWORD);
    let access = tokens["AccessToken"].as_str().unwrap();
    let subject = jwt_claims(access);

    // By secret, no signature: the subject's scope, as the service may hold it.
    let (status, v) = unsigned(
        &s,
        json!({"ClientId": x.service, "ClientSecret": x.service_secret,
               "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "Audiences": ["orders-api"]}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["IssuedTokenType"], "ACCESS_TOKEN");
    assert_eq!(v["TokenType"], "Bearer");
    assert_eq!(v["ExpiresIn"], 3600);
    assert_eq!(v["Scopes"], json!(["aws.cognito.signin.user.admin"]));
    assert!(v.get("RefreshToken").is_none(), "{v}");
    let issued = jwt_claims(v["IssuedToken"].as_str().unwrap());
    assert_eq!(issued["sub"], subject["sub"]);
    assert_eq!(issued["username"], "alice");
    assert_eq!(issued["token_use"], "access");
    assert_eq!(issued["client_id"], x.service.as_str());
    assert_eq!(issued["aud"], "orders-api");
    assert_eq!(issued["origin_jti"], subject["origin_jti"]);
    assert_eq!(issued["iss"], subject["iss"]);
    assert!(issued.get("act").is_none(), "{issued}");
    assert_ne!(issued["jti"], subject["jti"]);

    // The issued token works where a user pool access token does.
    let derived = v["IssuedToken"].as_str().unwrap().to_owned();
    let me = s.ok("GetUser", json!({"AccessToken": derived}));
    assert_eq!(me["Username"], "alice");

    // Requested scopes are intersected with the subject's and the
    // client's: wider ones are dropped, none left is refused.
    let v = s.ok(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "Scopes": ["aws.cognito.signin.user.admin", READ, WRITE]}),
    );
    assert_eq!(v["Scopes"], json!(["aws.cognito.signin.user.admin"]));
    s.err(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "Scopes": [READ]}),
        "InvalidParameterException",
    );

    // A resource server as the audience; an unknown one and both members refused.
    let v = s.ok(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "Resources": ["https://api.example.com"]}),
    );
    assert_eq!(
        jwt_claims(v["IssuedToken"].as_str().unwrap())["aud"],
        "https://api.example.com"
    );
    s.err(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "Resources": ["https://nowhere.example.com"]}),
        "InvalidParameterException",
    );
    s.err(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "Resources": ["https://api.example.com"], "Audiences": ["a"]}),
        "InvalidParameterException",
    );

    // An ID token as the subject, an ID token asked for.
    let id = tokens["IdToken"].as_str().unwrap();
    let v = s.ok(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": id, "SubjectTokenType": "ID_TOKEN",
               "RequestedTokenType": "ID_TOKEN", "Audiences": ["profile-api"]}),
    );
    assert_eq!(v["IssuedTokenType"], "ID_TOKEN");
    assert_eq!(v["TokenType"], "N_A");
    let issued = jwt_claims(v["IssuedToken"].as_str().unwrap());
    assert_eq!(issued["token_use"], "id");
    assert_eq!(issued["aud"], "profile-api");
    assert_eq!(issued["azp"], x.service.as_str());
    assert_eq!(issued["cognito:username"], "alice");
    // The wrong declared type is refused.
    s.err(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": id, "SubjectTokenType": "ACCESS_TOKEN"}),
        "NotAuthorizedException",
    );
}

#[test]
fn delegation_names_the_actor_in_act() {
    let s = Server::start();
    let x = setup(&s, "PLUS");
    let access = s.login(&x.front, "alice", PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    s.admin_user(&x.pool, "agent", json!([]));
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": x.pool, "Username": "agent", "Password": PASSWORD, "Permanent": true}),
    );
    let actor = s.login(&x.front, "agent", PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let actor_claims = jwt_claims(&actor);
    let v = s.ok(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "ActorToken": actor, "ActorTokenType": "ACCESS_TOKEN"}),
    );
    let issued = jwt_claims(v["IssuedToken"].as_str().unwrap());
    assert_eq!(issued["username"], "alice");
    assert_eq!(issued["act"]["sub"], actor_claims["sub"]);
    assert_eq!(issued["act"]["client_id"], x.front.as_str());

    // A second delegation nests the first actor.
    let again = s.ok(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": v["IssuedToken"], "SubjectTokenType": "ACCESS_TOKEN",
               "ActorToken": actor, "ActorTokenType": "ACCESS_TOKEN"}),
    );
    let nested = jwt_claims(again["IssuedToken"].as_str().unwrap());
    assert_eq!(nested["act"]["act"]["sub"], actor_claims["sub"]);

    // ActorToken without its type.
    s.err(
        "GetDerivedToken",
        json!({"ClientId": x.service, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "ActorToken": actor}),
        "InvalidParameterException",
    );

    // Each flow on its own.
    let only_impersonation = s.create_client(
        &x.pool,
        json!({"ExplicitAuthFlows": ["ALLOW_TOKEN_EXCHANGE_IMPERSONATION"]}),
    );
    let msg = s.err(
        "GetDerivedToken",
        json!({"ClientId": only_impersonation, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN",
               "ActorToken": actor, "ActorTokenType": "ACCESS_TOKEN"}),
        "InvalidParameterException",
    );
    assert!(msg.contains("ALLOW_TOKEN_EXCHANGE_DELEGATION"), "{msg}");
    s.ok(
        "GetDerivedToken",
        json!({"ClientId": only_impersonation, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN"}),
    );
    let only_delegation = s.create_client(
        &x.pool,
        json!({"ExplicitAuthFlows": ["ALLOW_TOKEN_EXCHANGE_DELEGATION"]}),
    );
    let msg = s.err(
        "GetDerivedToken",
        json!({"ClientId": only_delegation, "SubjectToken": access, "SubjectTokenType": "ACCESS_TOKEN"}),
        "InvalidParameterException",
    );
    assert!(msg.contains("ALLOW_TOKEN_EXCHANGE_IMPERSONATION"), "{msg}");
}

#[test]
fn refusals_of_client_plan_and_subject_token() {
    let s = Server::start();
    let x = setup(&s, "ESSENTIALS");
    let tokens = s.login(&x.front, "alice", PASSWORD);
    let access = tokens["AccessToken"].as_str().unwrap().to_owned();
    let refresh = tokens["RefreshToken"].as_str().unwrap().to_owned();
    let body = |extra: Value| {
        let mut b = json!({"ClientId": x.service, "SubjectToken": access,
                           "SubjectTokenType": "ACCESS_TOKEN"});
        common::merge(&mut b, extra);
        b
    };

    // Without a signature the secret is required and must match; it is
    // never echoed.
    refused(unsigned(&s, body(json!({}))), "NotAuthorizedException");
    let wrong = "wrongsecret000000000000000000000001";
    let msg = refused(
        unsigned(&s, body(json!({"ClientSecret": wrong}))),
        "NotAuthorizedException",
    );
    assert!(!msg.contains(wrong), "{msg}");
    // Unknown client.
    s.err(
        "GetDerivedToken",
        body(json!({"ClientId": "nosuchclient1"})),
        "ResourceNotFoundException",
    );
    // A client without the exchange flows.
    s.err(
        "GetDerivedToken",
        body(json!({"ClientId": x.front})),
        "InvalidParameterException",
    );
    // Third-party tokens: cognate has no federation.
    s.err(
        "GetDerivedToken",
        body(json!({"SubjectTokenType": "SAML2"})),
        "InvalidParameterException",
    );
    s.err(
        "GetDerivedToken",
        body(json!({"SubjectTokenProviderName": "Google"})),
        "InvalidParameterException",
    );
    // A refresh token is no subject token.
    s.err(
        "GetDerivedToken",
        body(json!({"SubjectToken": refresh})),
        "NotAuthorizedException",
    );
    // A token of another pool.
    let other = setup(&s, "ESSENTIALS");
    let foreign = s.login(&other.front, "alice", PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    s.err(
        "GetDerivedToken",
        body(json!({"SubjectToken": foreign})),
        "NotAuthorizedException",
    );
    // A tampered token.
    let mut tampered = access.clone();
    tampered.pop();
    tampered.push(if access.ends_with('A') { 'B' } else { 'A' });
    s.err(
        "GetDerivedToken",
        body(json!({"SubjectToken": tampered})),
        "NotAuthorizedException",
    );

    // A derived token dies with its subject's sign-in: revoking the
    // refresh token revokes the session both belong to.
    let derived = s.ok("GetDerivedToken", body(json!({})))["IssuedToken"]
        .as_str()
        .unwrap()
        .to_owned();
    s.ok(
        "RevokeToken",
        json!({"Token": refresh, "ClientId": x.front}),
    );
    s.err("GetDerivedToken", body(json!({})), "NotAuthorizedException");
    s.err(
        "GetUser",
        json!({"AccessToken": derived}),
        "NotAuthorizedException",
    );
    // A user signed out everywhere.
    let fresh = s.login(&x.front, "alice", PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    s.ok(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": x.pool, "Username": "alice"}),
    );
    s.err(
        "GetDerivedToken",
        body(json!({"SubjectToken": fresh})),
        "NotAuthorizedException",
    );

    // The LITE plan has no token exchange.
    let lite = setup(&s, "LITE");
    let lite_access = s.login(&lite.front, "alice", PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    s.err(
        "GetDerivedToken",
        json!({"ClientId": lite.service, "SubjectToken": lite_access,
               "SubjectTokenType": "ACCESS_TOKEN"}),
        "OperationNotEnabledException",
    );
}

#[test]
fn token_endpoint_token_exchange_grant() {
    let s = Server::start();
    let x = setup(&s, "ESSENTIALS");
    s.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": x.pool, "Domain": "exchange-test"}),
    );
    let tokens = s.login(&x.front, "alice", PASSWORD);
    let access = tokens["AccessToken"].as_str().unwrap();
    let url = format!("{}/domains/exchange-test/oauth2/token", s.url);
    let post = |form: &[(&str, &str)], basic: bool| {
        let mut req = s
            .http()
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form_body(form));
        if basic {
            req = req.basic_auth(&x.service, Some(&x.service_secret));
        }
        let r = req.send().unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().unwrap())
    };
    let grant = (
        "grant_type",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    );
    let subject_type = (
        "subject_token_type",
        "urn:ietf:params:oauth:token-type:access_token",
    );
    let (status, v) = post(
        &[
            grant,
            ("subject_token", access),
            subject_type,
            ("audience", "orders-api"),
        ],
        true,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["scope"], "aws.cognito.signin.user.admin");
    assert!(v.get("refresh_token").is_none(), "{v}");
    let issued = jwt_claims(v["access_token"].as_str().unwrap());
    assert_eq!(issued["aud"], "orders-api");
    assert_eq!(issued["client_id"], x.service.as_str());

    // OAuth errors: a wrong secret, a missing subject token, an unusable
    // subject token, a scope nothing is left of, an unknown token type.
    let (status, v) = post(&[grant, ("subject_token", access), subject_type], false);
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
    let (status, v) = post(&[grant, subject_type], true);
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, v) = post(
        &[grant, ("subject_token", "not.a.token"), subject_type],
        true,
    );
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")));
    let (status, v) = post(
        &[
            grant,
            ("subject_token", access),
            subject_type,
            ("scope", READ),
        ],
        true,
    );
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_scope")));
    let (status, v) = post(
        &[
            grant,
            ("subject_token", access),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token",
            ),
        ],
        true,
    );
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // The front-end client has no exchange flow.
    let r = s
        .http()
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            grant,
            ("client_id", x.front.as_str()),
            ("subject_token", access),
            subject_type,
        ]))
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let v: Value = r.json().unwrap();
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{v}"
    );
}

/// An `application/x-www-form-urlencoded` body.
fn form_body(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

mod expiry {
    use super::common::inproc::world;
    use cognate_core::model::ClientSettings;
    use cognate_core::service::derived_token::{ClientProof, DerivedTokenRequest, PresentedKind};
    use cognate_core::service::NewClient;
    use cognate_core::ErrorKind;

    #[tokio::test]
    async fn an_expired_subject_token_is_refused() {
        let w = world().await;
        let mut settings = ClientSettings::named("service");
        settings.explicit_auth_flows = Some(vec!["ALLOW_TOKEN_EXCHANGE_IMPERSONATION".into()]);
        let service = w
            .svc
            .create_user_pool_client(NewClient {
                pool_id: w.pool_id.clone(),
                client_id: None,
                generate_secret: false,
                client_secret: None,
                settings,
            })
            .await
            .unwrap();
        let (access, _id) = w.login().await;
        let exchange = |token: String| {
            let svc = w.svc.clone();
            let client_id = service.client_id.clone();
            async move {
                svc.get_derived_token(DerivedTokenRequest {
                    client_id: &client_id,
                    proof: ClientProof::Secret(None),
                    subject_token: &token,
                    subject_token_type: PresentedKind::Access,
                    subject_token_provider: None,
                    actor_token: None,
                    actor_token_type: None,
                    actor_token_provider: None,
                    scopes: None,
                    audience: None,
                    resource: None,
                    requested: None,
                })
                .await
            }
        };
        // Valid in its last second, refused at its `exp`.
        w.clock.advance_millis(3_599_000);
        assert!(exchange(access.clone()).await.is_ok());
        w.clock.advance_millis(1_000);
        let e = exchange(access).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotAuthorized);
        assert_eq!(e.message, "SubjectToken has expired");
    }
}

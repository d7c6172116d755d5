//! ForceAliasCreation (AdminCreateUser, ConfirmSignUp) and the provider
//! links (AdminLinkProviderForUser, AdminDisableProviderForUser) through the
//! real binary, on the engine the suite runs on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{attr, password_flows, Server, PASSWORD};
use serde_json::{json, Value};

/// A pool where a verified email is a sign-in alias, and its client.
fn alias_pool(srv: &Server) -> (String, String) {
    let pool = srv.create_pool(
        "aliases",
        json!({"AliasAttributes": ["email"], "AutoVerifiedAttributes": ["email"]}),
    );
    let client = srv.create_client(&pool, password_flows());
    (pool, client)
}

fn verified_email(email: &str) -> Value {
    json!([{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])
}

fn get_user(srv: &Server, pool: &str, name: &str) -> Value {
    srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": name}),
    )
}

fn sign_in(srv: &Server, client: &str, name: &str) -> (u16, Value) {
    srv.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": name, "PASSWORD": PASSWORD}}),
    )
}

#[test]
fn admin_create_user_with_force_alias_creation_moves_a_verified_email() {
    let srv = Server::start();
    let (pool, client) = alias_pool(&srv);
    srv.admin_user(&pool, "first", verified_email("x@example.com"));
    srv.login(&client, "x@example.com", PASSWORD);

    // Without the force: the email is another user's alias.
    let create = |force: Option<bool>, name: &str, attrs: Value| {
        let mut body = json!({"UserPoolId": pool, "Username": name,
                              "MessageAction": "SUPPRESS", "UserAttributes": attrs});
        if let Some(f) = force {
            body["ForceAliasCreation"] = json!(f);
        }
        srv.call("AdminCreateUser", body)
    };
    let (status, v) = create(None, "second", verified_email("x@example.com"));
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("AliasExistsException")),
        "{v}"
    );
    let (_, v) = create(Some(false), "second", verified_email("x@example.com"));
    assert_eq!(v["__type"], "AliasExistsException", "{v}");
    srv.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "second"}),
        "UserNotFoundException",
    );

    // With it: the alias moves; the previous holder keeps the email, unverified.
    let (status, v) = create(Some(true), "second", verified_email("x@example.com"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(get_user(&srv, &pool, "x@example.com")["Username"], "second");
    let first = get_user(&srv, &pool, "first");
    assert_eq!(
        attr(&first["UserAttributes"], "email"),
        Some("x@example.com")
    );
    assert_eq!(
        attr(&first["UserAttributes"], "email_verified"),
        Some("false")
    );
    // The first user signs in by username, no longer by the email.
    srv.login(&client, "first", PASSWORD);
    srv.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "second", "Password": "Other-Passw0rd!",
               "Permanent": true}),
    );
    let (_, v) = sign_in(&srv, &client, "x@example.com");
    assert_eq!(v["__type"], "NotAuthorizedException", "{v}");

    // Only a verified email moves (AWS: the parameter is used only then).
    let (status, v) = create(
        Some(true),
        "third",
        json!([{"Name": "email", "Value": "x@example.com"}]),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(get_user(&srv, &pool, "x@example.com")["Username"], "second");
    let second = get_user(&srv, &pool, "second");
    assert_eq!(
        attr(&second["UserAttributes"], "email_verified"),
        Some("true")
    );
}

#[test]
fn confirm_sign_up_with_force_alias_creation_takes_the_alias_with_the_same_code() {
    let srv = Server::start();
    let (pool, client) = alias_pool(&srv);
    srv.admin_user(&pool, "holder", verified_email("y@example.com"));
    srv.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "late", "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "y@example.com"}]}),
    );
    let code = srv.last_code(&pool, "late");
    let confirm = |force: Option<bool>| {
        let mut body = json!({"ClientId": client, "Username": "late", "ConfirmationCode": code});
        if let Some(f) = force {
            body["ForceAliasCreation"] = json!(f);
        }
        srv.call("ConfirmSignUp", body)
    };
    let (_, v) = confirm(None);
    assert_eq!(v["__type"], "AliasExistsException", "{v}");
    // Nothing was confirmed, and the code still works: the documented retry.
    assert_eq!(get_user(&srv, &pool, "late")["UserStatus"], "UNCONFIRMED");
    assert_eq!(get_user(&srv, &pool, "y@example.com")["Username"], "holder");
    let (status, v) = confirm(Some(true));
    assert_eq!(status, 200, "{v}");
    let late = get_user(&srv, &pool, "late");
    assert_eq!(late["UserStatus"], "CONFIRMED");
    assert_eq!(
        attr(&late["UserAttributes"], "email_verified"),
        Some("true")
    );
    assert_eq!(get_user(&srv, &pool, "y@example.com")["Username"], "late");
    let holder = get_user(&srv, &pool, "holder");
    assert_eq!(
        attr(&holder["UserAttributes"], "email"),
        Some("y@example.com")
    );
    assert_eq!(
        attr(&holder["UserAttributes"], "email_verified"),
        Some("false")
    );
    srv.login(&client, "y@example.com", PASSWORD);
    srv.login(&client, "holder", PASSWORD);
}

#[test]
fn many_forced_creations_at_once_leave_one_owner_with_the_email_verified() {
    let srv = Server::start();
    let (pool, _client) = alias_pool(&srv);
    srv.admin_user(&pool, "origin", verified_email("z@example.com"));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let (srv, pool) = (&srv, &pool);
                s.spawn(move || {
                    srv.call(
                        "AdminCreateUser",
                        json!({"UserPoolId": pool, "Username": format!("racer{i}"),
                               "MessageAction": "SUPPRESS", "ForceAliasCreation": true,
                               "UserAttributes": verified_email("z@example.com")}),
                    )
                    .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let owner = get_user(&srv, &pool, "z@example.com")["Username"]
        .as_str()
        .unwrap()
        .to_owned();
    let users = srv.ok("ListUsers", json!({"UserPoolId": pool}))["Users"].clone();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 21);
    let verified: Vec<&str> = users
        .iter()
        .filter(|u| attr(&u["Attributes"], "email_verified") == Some("true"))
        .map(|u| u["Username"].as_str().unwrap())
        .collect();
    assert_eq!(verified, vec![owner.as_str()]);
}

/// A pool with a Google and a SAML provider, and a native user.
fn pool_with_providers(srv: &Server) -> String {
    let pool = srv.create_pool("links", json!({}));
    srv.ok(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Google", "ProviderType": "Google",
               "ProviderDetails": {"client_id": "id", "client_secret": "secret",
                                   "authorize_scopes": "openid email"}}),
    );
    srv.ok(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Corp", "ProviderType": "SAML",
               "ProviderDetails": {"MetadataFile": common::SAML_METADATA}}),
    );
    srv.admin_user(&pool, "native", json!([]));
    pool
}

fn link_body(pool: &str, user: &str, provider: &str, attribute: &str, value: &str) -> Value {
    json!({"UserPoolId": pool,
           "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": user},
           "SourceUser": {"ProviderName": provider, "ProviderAttributeName": attribute,
                          "ProviderAttributeValue": value}})
}

#[test]
fn provider_links_are_stored_checked_and_removed() {
    let srv = Server::start();
    let pool = pool_with_providers(&srv);
    srv.ok(
        "AdminLinkProviderForUser",
        link_body(&pool, "native", "Google", "Cognito_Subject", "g-1"),
    );
    // The identity is linked already (to this user or another).
    srv.admin_user(&pool, "other", json!([]));
    srv.err(
        "AdminLinkProviderForUser",
        link_body(&pool, "other", "Google", "Cognito_Subject", "g-1"),
        "AliasExistsException",
    );
    // Errors, each for its documented condition.
    srv.err_msg(
        "AdminLinkProviderForUser",
        link_body(&pool, "native", "Cognito", "Cognito_Subject", "other"),
        "InvalidParameterException",
        "Invalid SourceUser: Cognito users with a username/password may not be passed in as a SourceUser, only as a DestinationUser",
    );
    srv.err_msg(
        "AdminLinkProviderForUser",
        link_body(&pool, "native", "Okta", "Cognito_Subject", "o-1"),
        "ResourceNotFoundException",
        &format!("Identity provider Okta does not exist in user pool {pool}."),
    );
    srv.err(
        "AdminLinkProviderForUser",
        link_body(&pool, "native", "Google", "email", "a@example.com"),
        "InvalidParameterException",
    );
    srv.err_msg(
        "AdminLinkProviderForUser",
        link_body(&pool, "nobody", "Google", "Cognito_Subject", "g-2"),
        "UserNotFoundException",
        "User does not exist.",
    );
    srv.err(
        "AdminLinkProviderForUser",
        link_body(
            "us-east-1_Nothing00",
            "native",
            "Google",
            "Cognito_Subject",
            "g-2",
        ),
        "ResourceNotFoundException",
    );
    // Five identities per user.
    for i in 2..=5 {
        srv.ok(
            "AdminLinkProviderForUser",
            link_body(
                &pool,
                "native",
                "Corp",
                "email",
                &format!("n{i}@corp.example"),
            ),
        );
    }
    srv.err(
        "AdminLinkProviderForUser",
        link_body(&pool, "native", "Corp", "email", "n6@corp.example"),
        "LimitExceededException",
    );
    // Disabling removes the link (named as it was linked), once.
    let disable = |provider: &str, attribute: &str, value: &str| {
        srv.call(
            "AdminDisableProviderForUser",
            json!({"UserPoolId": pool, "User": {"ProviderName": provider,
                   "ProviderAttributeName": attribute, "ProviderAttributeValue": value}}),
        )
    };
    assert_eq!(disable("Google", "Cognito_Subject", "g-1").0, 200);
    let (_, v) = disable("Google", "Cognito_Subject", "g-1");
    assert_eq!(v["__type"], "UserNotFoundException", "{v}");
    let (_, v) = disable("Google", "email", "g-1");
    assert_eq!(v["__type"], "InvalidParameterException", "{v}");
    let (_, v) = disable("Okta", "Cognito_Subject", "g-1");
    assert_eq!(v["__type"], "ResourceNotFoundException", "{v}");
    // The identity is free again; the user has room for one more.
    srv.ok(
        "AdminLinkProviderForUser",
        link_body(&pool, "other", "Google", "Cognito_Subject", "g-1"),
    );
    srv.ok(
        "AdminLinkProviderForUser",
        link_body(&pool, "native", "Corp", "email", "n6@corp.example"),
    );
    // The links go with the user.
    srv.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "other"}),
    );
    srv.admin_user(&pool, "third", json!([]));
    srv.ok(
        "AdminLinkProviderForUser",
        link_body(&pool, "third", "Google", "Cognito_Subject", "g-1"),
    );
}

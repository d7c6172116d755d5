//! App clients over HTTP against the real server: CreateUserPoolClient,
//! DescribeUserPoolClient, ListUserPoolClients, UpdateUserPoolClient,
//! DeleteUserPoolClient.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{Server, PASSWORD};
use serde_json::{json, Value};

fn is_client_id(id: &str) -> bool {
    id.len() == 26
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[test]
fn create_user_pool_client_without_secret() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let v = s.ok(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "web",
               "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
               "AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "hours"}}),
    );
    let c = &v["UserPoolClient"];
    let id = c["ClientId"].as_str().unwrap();
    assert!(is_client_id(id), "client id {id:?} is not 26 [a-z0-9]");
    assert_eq!(c["UserPoolId"], pool.as_str());
    assert_eq!(c["ClientName"], "web");
    assert!(c.get("ClientSecret").is_none(), "unexpected secret: {c}");
    assert!(c["CreationDate"].is_number());
    assert!(c["LastModifiedDate"].is_number());
    assert_eq!(c["AccessTokenValidity"], 2);
    assert_eq!(c["TokenValidityUnits"]["AccessToken"], "hours");
    assert_eq!(c["RefreshTokenValidity"], 30);
    assert_eq!(
        c["ExplicitAuthFlows"],
        json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    );
    let other = s.create_client(&pool, json!({}));
    assert_ne!(other, id);
}

#[test]
fn create_user_pool_client_with_generated_secret() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let c = s.create_client_full(&pool, json!({"GenerateSecret": true}));
    let secret = c["ClientSecret"].as_str().expect("ClientSecret returned");
    assert!(secret.len() >= 24, "secret too short: {secret}");
    assert!(
        secret
            .chars()
            .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '+'),
        "{secret}"
    );
    let d = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": c["ClientId"]}),
    );
    assert_eq!(d["UserPoolClient"]["ClientSecret"], secret);

    // A caller-supplied secret is kept as given.
    let given = "abcdefghijklmnopqrstuvwxyz0123456789";
    let c2 = s.create_client_full(&pool, json!({"ClientSecret": given}));
    assert_eq!(c2["ClientSecret"], given);
}

#[test]
fn create_user_pool_client_errors() {
    let s = Server::start();
    s.err_msg(
        "CreateUserPoolClient",
        json!({"UserPoolId": "us-east-1_missing", "ClientName": "x"}),
        "ResourceNotFoundException",
        "User pool us-east-1_missing does not exist.",
    );
    let pool = s.create_pool("p", json!({}));
    s.err_msg(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'clientName' failed to satisfy constraint: Member must not be null",
    );
    let m = s.err(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "x", "ExplicitAuthFlows": ["ALLOW_EVERYTHING"]}),
        "InvalidParameterException",
    );
    assert!(m.contains("explicitAuthFlows"), "{m}");
    let m = s.err(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "x", "AccessTokenValidity": 0}),
        "InvalidParameterException",
    );
    assert!(m.starts_with("1 validation error detected: "), "{m}");
    assert!(m.contains("accessTokenValidity"), "{m}");
    let m = s.err(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "x", "PreventUserExistenceErrors": "SOMETIMES"}),
        "InvalidParameterException",
    );
    assert!(m.contains("preventUserExistenceErrors"), "{m}");
    let m = s.err(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": ""}),
        "InvalidParameterException",
    );
    assert!(m.contains("clientName"), "{m}");
}

#[test]
fn describe_user_pool_client_errors() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let other_pool = s.create_pool("q", json!({}));
    let client = s.create_client(&pool, json!({}));
    s.err_msg(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": "nosuchclient00000000000000"}),
        "ResourceNotFoundException",
        "User pool client nosuchclient00000000000000 does not exist.",
    );
    // A client is only found in its own pool.
    s.err_msg(
        "DescribeUserPoolClient",
        json!({"UserPoolId": other_pool, "ClientId": client}),
        "ResourceNotFoundException",
        &format!("User pool client {client} does not exist."),
    );
    s.err(
        "DescribeUserPoolClient",
        json!({"UserPoolId": "us-east-1_gone", "ClientId": client}),
        "ResourceNotFoundException",
    );
    let m = s.err(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool}),
        "InvalidParameterException",
    );
    assert!(m.contains("'clientId'"), "{m}");
    let m = s.err(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": "bad id!"}),
        "InvalidParameterException",
    );
    assert!(m.contains("clientId"), "{m}");
}

#[test]
fn list_user_pool_clients_paginates() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let other = s.create_pool("other", json!({}));
    s.create_client(&other, json!({}));
    let mut created = BTreeSet::new();
    for i in 0..5 {
        created.insert(s.create_client(&pool, json!({"ClientName": format!("c{i}")})));
    }
    let mut seen = BTreeSet::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"UserPoolId": pool, "MaxResults": 2});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let v = s.ok("ListUserPoolClients", body);
        let items = v["UserPoolClients"].as_array().unwrap();
        assert!(items.len() <= 2, "{v}");
        for c in items {
            assert_eq!(c["UserPoolId"], pool.as_str());
            assert!(c["ClientName"].as_str().unwrap().starts_with('c'));
            assert!(c.get("ClientSecret").is_none());
            assert!(seen.insert(c["ClientId"].as_str().unwrap().to_owned()));
        }
        pages += 1;
        match v.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, created);
    assert!(pages >= 3);

    // MaxResults is optional.
    let v = s.ok("ListUserPoolClients", json!({"UserPoolId": pool}));
    assert_eq!(v["UserPoolClients"].as_array().unwrap().len(), 5);
    let m = s.err(
        "ListUserPoolClients",
        json!({"UserPoolId": pool, "MaxResults": 61}),
        "InvalidParameterException",
    );
    assert!(m.contains("maxResults"), "{m}");
    s.err_msg(
        "ListUserPoolClients",
        json!({"UserPoolId": "us-east-1_none"}),
        "ResourceNotFoundException",
        "User pool us-east-1_none does not exist.",
    );
}

#[test]
fn update_user_pool_client_is_a_full_replacement() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let c = s.create_client_full(
        &pool,
        json!({"ClientName": "orig", "GenerateSecret": true,
               "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
               "AccessTokenValidity": 5, "TokenValidityUnits": {"AccessToken": "hours"},
               "ReadAttributes": ["email"], "PreventUserExistenceErrors": "ENABLED"}),
    );
    let id = c["ClientId"].as_str().unwrap();

    // Only the id: the name is kept, everything else resets.
    let v = s.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
    );
    let u = &v["UserPoolClient"];
    assert_eq!(u["ClientId"], id);
    assert_eq!(u["ClientName"], "orig");
    assert_eq!(
        u["ClientSecret"], c["ClientSecret"],
        "the secret must survive an update"
    );
    assert!(
        u.get("AccessTokenValidity").is_none() || u["AccessTokenValidity"] == 60,
        "{u}"
    );
    assert!(
        u.get("ReadAttributes").is_none(),
        "ReadAttributes not reset: {u}"
    );
    assert_ne!(u["PreventUserExistenceErrors"], "ENABLED", "{u}");
    let flows = u["ExplicitAuthFlows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !flows.iter().any(|f| f == "ALLOW_USER_PASSWORD_AUTH"),
        "ExplicitAuthFlows not reset: {u}"
    );
    assert_eq!(u["CreationDate"], c["CreationDate"]);

    // Given members are applied, and Describe agrees.
    let v = s.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "ClientName": "renamed",
               "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"], "IdTokenValidity": 30,
               "TokenValidityUnits": {"IdToken": "minutes"}}),
    );
    assert_eq!(v["UserPoolClient"]["ClientName"], "renamed");
    let d = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
    );
    assert_eq!(d["UserPoolClient"]["ClientName"], "renamed");
    assert_eq!(
        d["UserPoolClient"]["ExplicitAuthFlows"],
        json!(["ALLOW_ADMIN_USER_PASSWORD_AUTH"])
    );
    assert_eq!(d["UserPoolClient"]["IdTokenValidity"], 30);
}

#[test]
fn update_user_pool_client_changes_allowed_flows() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, common::password_flows());
    s.admin_user(&pool, "alice", json!([]));
    s.login(&client, "alice", PASSWORD);
    s.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client,
               "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"]}),
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    );
}

#[test]
fn update_user_pool_client_errors() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    s.err_msg(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": "nosuchclient00000000000000"}),
        "ResourceNotFoundException",
        "User pool client nosuchclient00000000000000 does not exist.",
    );
    s.err(
        "UpdateUserPoolClient",
        json!({"UserPoolId": "us-east-1_none", "ClientId": "nosuchclient00000000000000"}),
        "ResourceNotFoundException",
    );
    let client = s.create_client(&pool, json!({}));
    let m = s.err(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client, "RefreshTokenValidity": -1}),
        "InvalidParameterException",
    );
    assert!(m.contains("refreshTokenValidity"), "{m}");
    s.err(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool}),
        "InvalidParameterException",
    );
}

#[test]
fn delete_user_pool_client() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, common::password_flows());
    let keep = s.create_client(&pool, json!({}));
    assert_eq!(
        s.ok(
            "DeleteUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": client})
        ),
        json!({})
    );
    let msg = format!("User pool client {client} does not exist.");
    s.err_msg(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
        "ResourceNotFoundException",
        &msg,
    );
    s.err_msg(
        "DeleteUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
        "ResourceNotFoundException",
        &msg,
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "a", "PASSWORD": PASSWORD}}),
        "ResourceNotFoundException",
        &msg,
    );
    let v = s.ok("ListUserPoolClients", json!({"UserPoolId": pool}));
    let ids: Vec<&str> = v["UserPoolClients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ClientId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![keep.as_str()]);
    s.err(
        "DeleteUserPoolClient",
        json!({"UserPoolId": "us-east-1_none", "ClientId": keep}),
        "ResourceNotFoundException",
    );
}

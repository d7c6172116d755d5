//! User pools over HTTP against the real server: CreateUserPool,
//! DescribeUserPool, ListUserPools, UpdateUserPool, DeleteUserPool.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::Server;
use serde_json::{json, Value};

fn list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
}

#[test]
fn create_user_pool_returns_the_pool_with_defaults() {
    let s = Server::start();
    let v = s.ok(
        "CreateUserPool",
        json!({"PoolName": "my pool", "UserPoolTags": {"team": "a"}}),
    );
    let p = &v["UserPool"];
    let id = p["Id"].as_str().unwrap();
    let (region, suffix) = id.split_once('_').unwrap();
    assert_eq!(region, "us-east-1");
    assert!(!suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(p["Name"], "my pool");
    assert_eq!(
        p["Arn"],
        format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{id}")
    );
    assert!(p["CreationDate"].is_number());
    assert!(p["LastModifiedDate"].is_number());
    assert_eq!(p["DeletionProtection"], "INACTIVE");
    assert_eq!(p["MfaConfiguration"], "OFF");
    assert_eq!(p["UserPoolTags"]["team"], "a");
    let pp = &p["Policies"]["PasswordPolicy"];
    assert_eq!(pp["MinimumLength"], 8);
    assert_eq!(pp["RequireUppercase"], true);
    assert_eq!(pp["RequireLowercase"], true);
    assert_eq!(pp["RequireNumbers"], true);
    assert_eq!(pp["RequireSymbols"], true);
    let schema = p["SchemaAttributes"].as_array().unwrap();
    assert!(schema.iter().any(|a| a["Name"] == "sub"));
    assert!(schema.iter().any(|a| a["Name"] == "email"));
    // Two pools get different ids.
    let v2 = s.ok("CreateUserPool", json!({"PoolName": "my pool"}));
    assert_ne!(v2["UserPool"]["Id"], p["Id"]);
}

#[test]
fn create_user_pool_settings_and_custom_schema() {
    let s = Server::start();
    let v = s.ok(
        "CreateUserPool",
        json!({
            "PoolName": "configured",
            "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": false,
                          "RequireLowercase": true, "RequireNumbers": false, "RequireSymbols": false}},
            "AutoVerifiedAttributes": ["email"],
            "UsernameAttributes": ["email"],
            "UsernameConfiguration": {"CaseSensitive": false},
            "DeletionProtection": "ACTIVE",
            "Schema": [{"Name": "role", "AttributeDataType": "String", "Mutable": true}]
        }),
    );
    let p = &v["UserPool"];
    assert_eq!(p["Policies"]["PasswordPolicy"]["MinimumLength"], 12);
    assert_eq!(p["Policies"]["PasswordPolicy"]["RequireUppercase"], false);
    assert_eq!(list(&p["AutoVerifiedAttributes"]), vec!["email"]);
    assert_eq!(list(&p["UsernameAttributes"]), vec!["email"]);
    assert_eq!(p["UsernameConfiguration"]["CaseSensitive"], false);
    assert_eq!(p["DeletionProtection"], "ACTIVE");
    let schema = p["SchemaAttributes"].as_array().unwrap();
    assert!(
        schema.iter().any(|a| a["Name"] == "custom:role"),
        "custom attribute missing: {schema:?}"
    );
}

#[test]
fn create_user_pool_validation_errors() {
    let s = Server::start();
    s.err_msg(
        "CreateUserPool",
        json!({}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'poolName' failed to satisfy constraint: Member must not be null",
    );
    // An empty name breaks both the length and the pattern; AWS reports both
    // (length first), as its captured answers for an empty username show.
    s.err_msg(
        "CreateUserPool",
        json!({"PoolName": ""}),
        "InvalidParameterException",
        "2 validation errors detected: Value '' at 'poolName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
    );
    let m = s.err(
        "CreateUserPool",
        json!({"PoolName": "x", "UsernameAttributes": ["nickname"]}),
        "InvalidParameterException",
    );
    assert!(m.contains("usernameAttributes"), "{m}");
    let m = s.err(
        "CreateUserPool",
        json!({"PoolName": "x", "MfaConfiguration": "SOMETIMES"}),
        "InvalidParameterException",
    );
    assert!(m.contains("mfaConfiguration"), "{m}");
}

#[test]
fn describe_user_pool_and_unknown_pool() {
    let s = Server::start();
    let id = s.create_pool("described", json!({}));
    let v = s.ok("DescribeUserPool", json!({"UserPoolId": id}));
    assert_eq!(v["UserPool"]["Id"], id.as_str());
    assert_eq!(v["UserPool"]["Name"], "described");
    assert_eq!(v["UserPool"]["EstimatedNumberOfUsers"], 0);
    s.admin_user(&id, "someone", json!([]));
    let v = s.ok("DescribeUserPool", json!({"UserPoolId": id}));
    assert_eq!(v["UserPool"]["EstimatedNumberOfUsers"], 1);

    s.err_msg(
        "DescribeUserPool",
        json!({"UserPoolId": "us-east-1_doesnotexist"}),
        "ResourceNotFoundException",
        "User pool us-east-1_doesnotexist does not exist.",
    );
    let m = s.err(
        "DescribeUserPool",
        json!({"UserPoolId": "not a pool id"}),
        "InvalidParameterException",
    );
    assert!(m.contains("at 'userPoolId'"), "{m}");
    s.err_msg(
        "DescribeUserPool",
        json!({}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
    );
}

#[test]
fn list_user_pools_paginates() {
    let s = Server::start();
    let mut created = BTreeSet::new();
    for i in 0..5 {
        created.insert(s.create_pool(&format!("pool-{i}"), json!({})));
    }
    let mut seen = BTreeSet::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"MaxResults": 2});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let v = s.ok("ListUserPools", body);
        let items = v["UserPools"].as_array().unwrap();
        assert!(items.len() <= 2, "page larger than MaxResults: {v}");
        for p in items {
            assert!(p["Name"].as_str().unwrap().starts_with("pool-"));
            assert!(p["CreationDate"].is_number());
            assert!(
                seen.insert(p["Id"].as_str().unwrap().to_owned()),
                "duplicate {p}"
            );
        }
        pages += 1;
        match v.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, created);
    assert!(
        pages >= 3,
        "5 pools in pages of 2 need 3 pages, got {pages}"
    );

    let v = s.ok("ListUserPools", json!({"MaxResults": 60}));
    assert_eq!(v["UserPools"].as_array().unwrap().len(), 5);
    assert!(v.get("NextToken").is_none(), "{v}");
}

#[test]
fn list_user_pools_requires_max_results() {
    let s = Server::start();
    s.err_msg(
        "ListUserPools",
        json!({}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null",
    );
    let m = s.err(
        "ListUserPools",
        json!({"MaxResults": 61}),
        "InvalidParameterException",
    );
    assert!(
        m.contains("at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60"),
        "{m}"
    );
    let m = s.err(
        "ListUserPools",
        json!({"MaxResults": 0}),
        "InvalidParameterException",
    );
    assert!(m.contains("maxResults"), "{m}");
    let v = s.ok("ListUserPools", json!({"MaxResults": 10}));
    assert_eq!(v["UserPools"], json!([]));
}

#[test]
fn list_user_pools_rejects_a_bad_token() {
    let s = Server::start();
    s.create_pool("a", json!({}));
    let m = s.err(
        "ListUserPools",
        json!({"MaxResults": 1, "NextToken": "garbage-token"}),
        "InvalidParameterException",
    );
    assert!(!m.is_empty());
}

#[test]
fn update_user_pool_is_a_full_replacement() {
    let s = Server::start();
    let id = s.create_pool(
        "before",
        json!({
            "AutoVerifiedAttributes": ["email"],
            "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": false,
                          "RequireLowercase": false, "RequireNumbers": false, "RequireSymbols": false}},
            "UserPoolTags": {"k": "v"},
            "DeletionProtection": "ACTIVE",
            "EmailVerificationSubject": "Your code"
        }),
    );
    let before = s.ok("DescribeUserPool", json!({"UserPoolId": id}))["UserPool"].clone();
    assert_eq!(list(&before["AutoVerifiedAttributes"]), vec!["email"]);

    let v = s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": id, "MfaConfiguration": "OFF"}),
    );
    assert_eq!(v, json!({}));
    let after = s.ok("DescribeUserPool", json!({"UserPoolId": id}))["UserPool"].clone();
    // Omitted members are reset to their defaults.
    assert!(
        list(&after["AutoVerifiedAttributes"]).is_empty(),
        "AutoVerifiedAttributes not reset: {}",
        after["AutoVerifiedAttributes"]
    );
    assert_eq!(
        after["Policies"]["PasswordPolicy"]["MinimumLength"], 8,
        "password policy not reset: {}",
        after["Policies"]
    );
    assert_eq!(
        after["Policies"]["PasswordPolicy"]["RequireUppercase"],
        true
    );
    assert_eq!(after["DeletionProtection"], "INACTIVE");
    assert_ne!(
        after["EmailVerificationSubject"], "Your code",
        "EmailVerificationSubject not reset"
    );
    // Identity and creation facts are kept.
    assert_eq!(after["Id"], before["Id"]);
    assert_eq!(after["Name"], "before");
    assert_eq!(after["CreationDate"], before["CreationDate"]);

    // Given members are applied.
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": id, "AutoVerifiedAttributes": ["email"],
               "Policies": {"PasswordPolicy": {"MinimumLength": 6}}, "PoolName": "after"}),
    );
    let after = s.ok("DescribeUserPool", json!({"UserPoolId": id}))["UserPool"].clone();
    assert_eq!(list(&after["AutoVerifiedAttributes"]), vec!["email"]);
    assert_eq!(after["Policies"]["PasswordPolicy"]["MinimumLength"], 6);
    assert_eq!(after["Name"], "after");
}

#[test]
fn update_user_pool_errors() {
    let s = Server::start();
    s.err_msg(
        "UpdateUserPool",
        json!({"UserPoolId": "us-east-1_nothere"}),
        "ResourceNotFoundException",
        "User pool us-east-1_nothere does not exist.",
    );
    s.err("UpdateUserPool", json!({}), "InvalidParameterException");
    let id = s.create_pool("p", json!({}));
    let m = s.err(
        "UpdateUserPool",
        json!({"UserPoolId": id, "MfaConfiguration": "MAYBE"}),
        "InvalidParameterException",
    );
    assert!(m.contains("mfaConfiguration"), "{m}");
}

#[test]
fn delete_user_pool_and_deletion_protection() {
    let s = Server::start();
    let id = s.create_pool("doomed", json!({}));
    assert_eq!(s.ok("DeleteUserPool", json!({"UserPoolId": id})), json!({}));
    s.err_msg(
        "DescribeUserPool",
        json!({"UserPoolId": id}),
        "ResourceNotFoundException",
        &format!("User pool {id} does not exist."),
    );
    s.err_msg(
        "DeleteUserPool",
        json!({"UserPoolId": id}),
        "ResourceNotFoundException",
        &format!("User pool {id} does not exist."),
    );

    let protected = s.create_pool("protected", json!({"DeletionProtection": "ACTIVE"}));
    s.err(
        "DeleteUserPool",
        json!({"UserPoolId": protected}),
        "InvalidParameterException",
    );
    s.ok("DescribeUserPool", json!({"UserPoolId": protected}));
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": protected, "DeletionProtection": "INACTIVE"}),
    );
    s.ok("DeleteUserPool", json!({"UserPoolId": protected}));
    let v = s.ok("ListUserPools", json!({"MaxResults": 60}));
    assert_eq!(v["UserPools"], json!([]));
}

#[test]
fn deleting_a_pool_removes_its_clients_and_users() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "u1", json!([]));
    s.ok("DeleteUserPool", json!({"UserPoolId": pool}));
    s.err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "u1", "PASSWORD": common::PASSWORD}}),
        "ResourceNotFoundException",
    );
    s.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "u1"}),
        "ResourceNotFoundException",
    );
}

#[test]
fn data_survives_a_restart() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(
        &pool,
        "persistent",
        json!([{"Name": "email", "Value": "p@example.com"}]),
    );
    let before = s.login(&client, "persistent", common::PASSWORD);
    let before_jwks: Value = s
        .http()
        .get(format!("{}/{pool}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();

    let s = s.restart();
    s.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    let u = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "persistent"}),
    );
    assert_eq!(
        common::attr(&u["UserAttributes"], "email"),
        Some("p@example.com")
    );
    // The signing keys and the refresh token survive as well.
    let after_jwks: Value = s
        .http()
        .get(format!("{}/{pool}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let kids = |j: &Value| -> BTreeSet<String> {
        j["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kids(&before_jwks), kids(&after_jwks));
    let v = s.ok("GetUser", json!({"AccessToken": before["AccessToken"]}));
    assert_eq!(v["Username"], "persistent");
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": before["RefreshToken"]}}),
    );
    assert!(v["AuthenticationResult"]["AccessToken"].is_string());
    s.login(&client, "persistent", common::PASSWORD);
}

#[test]
fn config_file_declares_pools_clients_and_users() {
    let yaml = r#"
pools:
  - id: us-east-1_Config01
    name: from-config
    clients:
      - id: configclient0000000000001
        name: web
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    users:
      - username: seeded
        password: "Passw0rd!"
        attributes:
          email: seeded@example.com
"#;
    let s = Server::start_with_config(yaml);
    let v = s.ok(
        "DescribeUserPool",
        json!({"UserPoolId": "us-east-1_Config01"}),
    );
    assert_eq!(v["UserPool"]["Name"], "from-config");
    let v = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": "us-east-1_Config01", "ClientId": "configclient0000000000001"}),
    );
    assert_eq!(v["UserPoolClient"]["ClientName"], "web");
    let tokens = s.login("configclient0000000000001", "seeded", common::PASSWORD);
    let claims = common::jwt_claims(tokens["IdToken"].as_str().unwrap());
    assert_eq!(claims["email"], "seeded@example.com");
    // Applying the same file again at the next start is idempotent.
    let s = s.restart();
    let v = s.ok("ListUserPools", json!({"MaxResults": 60}));
    assert_eq!(v["UserPools"].as_array().unwrap().len(), 1, "{v}");
    s.login("configclient0000000000001", "seeded", common::PASSWORD);
}

//! GetClientToken against the real server: an app client with
//! `ALLOW_CLIENT_TOKEN_AUTH` gets a machine-to-machine access token by API,
//! authorized by its secret (any of its secrets) and by no SigV4 signature,
//! even on a server that requires signatures on its IAM operations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{jwt_claims, jwt_header, refused, Server, Signer, CONTENT_TYPE, TARGET_PREFIX};
use serde_json::{json, Value};

const POOL: &str = "us-east-1_ClientTok1";
const MACHINE: &str = "machine1";
const SECRET: &str = "machinesecret0000000000000000001";
const READ: &str = "https://api.example.com/read";
const WRITE: &str = "https://api.example.com/write";
const ADMIN: (&str, &str) = ("AKIDCLIENTTOK1", "client-token-admin-secret");

fn config() -> String {
    format!(
        r#"
admin:
  credentials:
    - access_key_id: {}
      secret_access_key: {}
pools:
  - id: {POOL}
    name: m2m
    resource_servers:
      - identifier: https://api.example.com
        name: api
        scopes:
          - {{name: read, description: Read}}
          - {{name: write, description: Write}}
    clients:
      - id: {MACHINE}
        name: machine
        secret: {SECRET}
        explicit_auth_flows: [ALLOW_CLIENT_TOKEN_AUTH]
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [client_credentials]
        allowed_oauth_scopes: [{READ}, {WRITE}]
      - id: webclient1
        name: web
        secret: websecret00000000000000000000001
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH]
      - id: publicclient1
        name: public
        explicit_auth_flows: [ALLOW_CLIENT_TOKEN_AUTH]
"#,
        ADMIN.0, ADMIN.1
    )
}

/// GetClientToken with no Authorization header at all.
fn unsigned(s: &Server, body: Value) -> (u16, Value) {
    common::unsigned(s, "GetClientToken", body)
}

#[test]
fn get_client_token_issues_a_machine_token_by_secret() {
    let s = Server::start_signed(Some(&config()), &[], Signer::new(ADMIN.0, ADMIN.1));

    // No scopes: all the client's custom scopes; no signature needed.
    let (status, v) = unsigned(&s, json!({"ClientId": MACHINE, "Secret": SECRET}));
    assert_eq!(status, 200, "{v}");
    let result = &v["ClientAuthenticationResult"];
    assert_eq!(result["TokenType"], "Bearer");
    assert_eq!(result["ExpiresIn"], 3600);
    let token = result["AccessToken"].as_str().unwrap();
    let claims = jwt_claims(token);
    assert_eq!(claims["sub"], MACHINE);
    assert_eq!(claims["client_id"], MACHINE);
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["scope"], format!("{READ} {WRITE}"));
    assert_eq!(claims["iss"], format!("{}/{POOL}", s.url));
    assert!(claims.get("username").is_none(), "{claims}");
    let kid = jwt_header(token)["kid"].as_str().unwrap().to_owned();
    let jwks: Value = s
        .http()
        .get(format!("{}/{POOL}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == kid.as_str()));

    // A requested subset; an IAM operation still needs its signature.
    let (status, v) = unsigned(
        &s,
        json!({"ClientId": MACHINE, "Secret": SECRET, "Scopes": [READ]}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        jwt_claims(
            v["ClientAuthenticationResult"]["AccessToken"]
                .as_str()
                .unwrap()
        )["scope"],
        READ
    );
    let headers = vec![
        ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
        (
            "x-amz-target".to_owned(),
            format!("{TARGET_PREFIX}DescribeUserPool"),
        ),
    ];
    assert_eq!(
        s.post_with(
            &headers,
            json!({"UserPoolId": POOL}).to_string().into_bytes()
        )
        .0,
        403
    );

    // Refusals: a scope the client does not have, a wrong secret (never
    // echoed), a client without the flow, a client without a secret, an
    // unknown client.
    refused(
        unsigned(
            &s,
            json!({"ClientId": MACHINE, "Secret": SECRET, "Scopes": ["https://api.example.com/admin"]}),
        ),
        "InvalidParameterException",
    );
    let wrong = "wrongsecret00000000000000000000001";
    let msg = refused(
        unsigned(&s, json!({"ClientId": MACHINE, "Secret": wrong})),
        "NotAuthorizedException",
    );
    assert!(!msg.contains(wrong), "{msg}");
    refused(
        unsigned(
            &s,
            json!({"ClientId": "webclient1", "Secret": "websecret00000000000000000000001"}),
        ),
        "InvalidParameterException",
    );
    refused(
        unsigned(&s, json!({"ClientId": "publicclient1", "Secret": SECRET})),
        "NotAuthorizedException",
    );
    assert_eq!(
        refused(
            unsigned(&s, json!({"ClientId": "nosuchclient1", "Secret": SECRET})),
            "ResourceNotFoundException",
        ),
        "User pool client nosuchclient1 does not exist."
    );

    // A second secret (AddUserPoolClientSecret) works as well as the first.
    let second = "secondsecret000000000000000000001";
    s.ok(
        "AddUserPoolClientSecret",
        json!({"UserPoolId": POOL, "ClientId": MACHINE, "ClientSecret": second}),
    );
    let (status, v) = unsigned(&s, json!({"ClientId": MACHINE, "Secret": second}));
    assert_eq!(status, 200, "{v}");

    // ALLOW_CLIENT_TOKEN_AUTH is a client's only authentication flow.
    s.err(
        "CreateUserPoolClient",
        json!({"UserPoolId": POOL, "ClientName": "mixed", "GenerateSecret": true,
               "ExplicitAuthFlows": ["ALLOW_CLIENT_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]}),
        "InvalidParameterException",
    );
    s.err(
        "UpdateUserPoolClient",
        json!({"UserPoolId": POOL, "ClientId": MACHINE,
               "ExplicitAuthFlows": ["ALLOW_CLIENT_TOKEN_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        "InvalidParameterException",
    );
}

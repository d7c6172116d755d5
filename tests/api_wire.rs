//! The AWS JSON 1.1 framing and the OpenID documents, spoken raw over HTTP
//! against the real server: targets, malformed bodies, size limit, headers,
//! CORS, JWKS and discovery.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{Server, CONTENT_TYPE, TARGET_PREFIX};
use reqwest::blocking::Response;
use serde_json::{json, Value};

/// Every operation cognate implements.
const IMPLEMENTED: &[&str] = &[
    "AdminConfirmSignUp",
    "AdminCreateUser",
    "AdminDeleteUser",
    "AdminGetUser",
    "AdminInitiateAuth",
    "AdminRespondToAuthChallenge",
    "AdminSetUserPassword",
    "ConfirmSignUp",
    "CreateUserPool",
    "CreateUserPoolClient",
    "DeleteUser",
    "DeleteUserPool",
    "DeleteUserPoolClient",
    "DescribeUserPool",
    "DescribeUserPoolClient",
    "GetUser",
    "InitiateAuth",
    "ListUserPoolClients",
    "ListUserPools",
    "ListUsers",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "SignUp",
    "UpdateUserPool",
    "UpdateUserPoolClient",
];

fn header(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn target(op: &str) -> String {
    format!("{TARGET_PREFIX}{op}")
}

/// Checks the framing of an error response and returns (__type, message).
#[track_caller]
fn error_parts(r: Response, status: u16) -> (String, String) {
    assert_eq!(r.status().as_u16(), status, "status of {r:?}");
    let ctype = header(&r, "content-type").unwrap_or_default();
    assert_eq!(ctype.split(';').next().unwrap().trim(), CONTENT_TYPE);
    assert!(header(&r, "x-amzn-requestid").is_some_and(|v| !v.is_empty()));
    let error_type = header(&r, "x-amzn-errortype").expect("x-amzn-ErrorType header");
    let body: Value = r.json().expect("error body is JSON");
    let ty = body["__type"].as_str().expect("__type").to_owned();
    assert_eq!(
        error_type.split(':').next().unwrap(),
        ty,
        "x-amzn-ErrorType names the exception"
    );
    let message = body["message"].as_str().expect("message").to_owned();
    (ty, message)
}

#[test]
fn success_response_headers() {
    let s = Server::start();
    let r = s.post_raw(
        Some(&target("CreateUserPool")),
        br#"{"PoolName":"wire"}"#.to_vec(),
    );
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        header(&r, "content-type")
            .unwrap()
            .split(';')
            .next()
            .unwrap(),
        CONTENT_TYPE
    );
    let id1 = header(&r, "x-amzn-requestid").expect("x-amzn-RequestId");
    assert!(!id1.is_empty());
    assert!(header(&r, "x-amzn-errortype").is_none());
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    let body: Value = r.json().unwrap();
    assert!(body["UserPool"]["Id"].is_string());

    let r = s.post_raw(
        Some(&target("ListUserPools")),
        br#"{"MaxResults":1}"#.to_vec(),
    );
    let id2 = header(&r, "x-amzn-requestid").unwrap();
    assert_ne!(id1, id2, "request ids are unique");

    // Operations without output members answer `{}`.
    let pool = body["UserPool"]["Id"].as_str().unwrap();
    assert_eq!(
        s.ok("UpdateUserPool", json!({"UserPoolId": pool})),
        json!({})
    );
}

#[test]
fn modelled_error_framing() {
    let s = Server::start();
    let r = s.post_raw(
        Some(&target("DescribeUserPool")),
        br#"{"UserPoolId":"us-east-1_missing"}"#.to_vec(),
    );
    let (ty, msg) = error_parts(r, 400);
    assert_eq!(ty, "ResourceNotFoundException");
    assert_eq!(msg, "User pool us-east-1_missing does not exist.");
}

#[test]
fn unknown_targets() {
    let s = Server::start();
    for t in [
        target("NoSuchOperation"),
        "SomeOtherService.SignUp".to_owned(),
        TARGET_PREFIX.to_owned(),
    ] {
        let r = s.post_raw(Some(&t), b"{}".to_vec());
        let (ty, _) = error_parts(r, 400);
        assert_eq!(ty, "UnknownOperationException", "target {t}");
    }
    let r = s.post_raw(None, b"{}".to_vec());
    let (ty, msg) = error_parts(r, 400);
    assert_eq!(ty, "UnknownOperationException");
    assert!(msg.contains("X-Amz-Target"), "{msg}");
}

/// Every operation of the botocore model is implemented (an operation added
/// to the model later answers UnsupportedOperationException naming itself
/// until it is).
#[test]
fn every_model_operation_is_implemented() {
    let missing: Vec<&str> = cognate_aws_json::operation::MODEL_OPERATIONS
        .iter()
        .copied()
        .filter(|op| !cognate_aws_json::operation::IMPLEMENTED.contains(op))
        .collect();
    assert_eq!(missing, Vec::<&str>::new());
}

#[test]
fn malformed_bodies() {
    let s = Server::start();
    for body in [
        &b"{\"ClientId\": "[..],
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"{\"PoolName\": \"x\",}",
    ] {
        let r = s.post_raw(Some(&target("CreateUserPool")), body.to_vec());
        let (ty, _) = error_parts(r, 400);
        assert_eq!(ty, "SerializationException", "body {body:?}");
    }
    for body in [&b"[]"[..], b"\"a string\"", b"42", b"null"] {
        let r = s.post_raw(Some(&target("CreateUserPool")), body.to_vec());
        let (ty, _) = error_parts(r, 400);
        assert!(
            ty == "SerializationException" || ty == "InvalidParameterException",
            "body {body:?}: {ty}"
        );
    }
}

#[test]
fn missing_required_members_are_named_in_lower_camel_case() {
    let s = Server::start();
    for (op, body, member) in [
        ("CreateUserPool", json!({}), "poolName"),
        (
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH"}),
            "clientId",
        ),
        (
            "SignUp",
            json!({"ClientId": "abc", "Password": "x"}),
            "username",
        ),
        ("ListUserPools", json!({}), "maxResults"),
        (
            "DescribeUserPoolClient",
            json!({"UserPoolId": "us-east-1_x"}),
            "clientId",
        ),
        ("GetUser", json!({}), "accessToken"),
    ] {
        let r = s.post_raw(Some(&target(op)), body.to_string().into_bytes());
        let (ty, msg) = error_parts(r, 400);
        assert_eq!(ty, "InvalidParameterException", "{op}");
        assert_eq!(
            msg,
            format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"),
            "{op}"
        );
    }
    // An empty body is an empty object.
    let r = s.post_raw(Some(&target("CreateUserPool")), Vec::new());
    let (ty, msg) = error_parts(r, 400);
    assert_eq!(ty, "InvalidParameterException");
    assert!(msg.contains("'poolName'"), "{msg}");
}

#[test]
fn several_validation_errors_are_counted() {
    let s = Server::start();
    let r = s.post_raw(
        Some(&target("ListUsers")),
        json!({"UserPoolId": "bad id", "Limit": 100})
            .to_string()
            .into_bytes(),
    );
    let (ty, msg) = error_parts(r, 400);
    assert_eq!(ty, "InvalidParameterException");
    let n: usize = msg.split(' ').next().unwrap().parse().unwrap();
    assert!(n >= 2, "{msg}");
    assert!(
        msg.starts_with(&format!("{n} validation errors detected: ")),
        "{msg}"
    );
    assert!(
        msg.contains("'userPoolId'") && msg.contains("'limit'"),
        "{msg}"
    );
}

#[test]
fn validation_messages_do_not_echo_sensitive_values() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, json!({}));
    let secret = " Leaked-Passw0rd";
    let r = s.post_raw(
        Some(&target("SignUp")),
        json!({"ClientId": client, "Username": "u", "Password": secret})
            .to_string()
            .into_bytes(),
    );
    let (ty, msg) = error_parts(r, 400);
    assert_eq!(ty, "InvalidParameterException");
    assert!(!msg.contains("Leaked"), "password echoed: {msg}");
    assert!(
        msg.starts_with(
            "1 validation error detected: Value at 'password' failed to satisfy constraint: "
        ),
        "{msg}"
    );
    let r = s.post_raw(
        Some(&target("SignUp")),
        json!({"ClientId": client, "Username": "has space", "Password": "Passw0rd!"})
            .to_string()
            .into_bytes(),
    );
    let (_, msg) = error_parts(r, 400);
    assert_eq!(
        msg,
        "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+"
    );
    let r = s.post_raw(
        Some(&target("AdminSetUserPassword")),
        json!({"UserPoolId": pool, "Username": "u", "Password": "Trailing-Passw0rd "})
            .to_string()
            .into_bytes(),
    );
    let (_, msg) = error_parts(r, 400);
    assert!(!msg.contains("Trailing"), "password echoed: {msg}");
}

#[test]
fn wrong_member_types() {
    let s = Server::start();
    for (op, body) in [
        ("CreateUserPool", json!({"PoolName": 5})),
        ("ListUserPools", json!({"MaxResults": "ten"})),
        (
            "SignUp",
            json!({"ClientId": ["a"], "Username": "u", "Password": "p"}),
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": "us-east-1_x", "ClientName": "c", "GenerateSecret": "yes"}),
        ),
        (
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "c", "AuthParameters": {"USERNAME": 1}}),
        ),
    ] {
        let r = s.post_raw(Some(&target(op)), body.to_string().into_bytes());
        let (ty, _) = error_parts(r, 400);
        assert!(
            ty == "SerializationException" || ty == "InvalidParameterException",
            "{op} {body}: {ty}"
        );
    }
}

#[test]
fn oversized_body_is_refused() {
    let s = Server::start();
    let mut body = br#"{"PoolName":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    body.extend(br#""}"#);
    // The server answers 413 before reading the whole body and closes the
    // connection; depending on timing the client may see the reset before
    // the response, so a few attempts are allowed.
    let mut outcome = String::new();
    for _ in 0..5 {
        // A client of its own, so that no pooled connection is reused afterwards.
        let http = reqwest::blocking::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let sent = http
            .post(format!("{}/", s.url))
            .header("Content-Type", CONTENT_TYPE)
            .header("X-Amz-Target", target("CreateUserPool"))
            .body(body.clone())
            .send();
        match sent {
            Ok(r) => {
                let (ty, _) = error_parts(r, 413);
                assert_eq!(ty, "SerializationException");
                outcome.clear();
                break;
            }
            Err(e) => outcome = format!("{e:?}"),
        }
    }
    assert!(outcome.is_empty(), "no 413 response: {outcome}");
    // The server is still fine afterwards, and nothing was created.
    let v = s.ok("ListUserPools", json!({"MaxResults": 1}));
    assert_eq!(v["UserPools"], json!([]));
}

#[test]
fn every_implemented_operation_refuses_an_empty_request_without_a_5xx() {
    let s = Server::start();
    for op in IMPLEMENTED {
        let r = s.post_raw(Some(&target(op)), b"{}".to_vec());
        let status = r.status().as_u16();
        let (ty, _) = error_parts(r, status);
        assert_eq!(status, 400, "{op}: {ty}");
        assert_eq!(ty, "InvalidParameterException", "{op}");
    }
}

#[test]
fn cors_preflight_and_headers() {
    let s = Server::start();
    let r = s
        .http()
        .request(reqwest::Method::OPTIONS, format!("{}/", s.url))
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type,x-amz-target,x-amz-user-agent",
        )
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{r:?}");
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    let methods = header(&r, "access-control-allow-methods")
        .unwrap()
        .to_ascii_uppercase();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = header(&r, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "content-type",
        "x-amz-target",
        "x-amz-user-agent",
        "cache-control",
    ] {
        assert!(allowed.contains(h), "{h} not allowed: {allowed}");
    }
    // Error responses are readable cross-origin too.
    let r = s.post_raw(Some(&target("NoSuchOperation")), b"{}".to_vec());
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    let exposed = header(&r, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-amzn-requestid"), "{exposed}");
    assert!(exposed.contains("x-amzn-errortype"), "{exposed}");
}

#[test]
fn jwks_has_two_rsa_signing_keys() {
    let s = Server::start();
    let pool = s.create_pool("keys", json!({}));
    let r = s
        .http()
        .get(format!("{}/{pool}/.well-known/jwks.json", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(header(&r, "content-type")
        .unwrap()
        .starts_with("application/json"));
    let jwks: Value = r.json().unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{jwks}");
    let mut kids = BTreeSet::new();
    for k in keys {
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["alg"], "RS256");
        assert_eq!(k["use"], "sig");
        assert!(k["n"].as_str().is_some_and(|n| n.len() > 300), "{k}");
        assert_eq!(k["e"], "AQAB");
        assert!(kids.insert(k["kid"].as_str().unwrap().to_owned()));
    }
    // Each pool has its own keys.
    let other = s.create_pool("other", json!({}));
    let other_jwks: Value = s
        .http()
        .get(format!("{}/{other}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    for k in other_jwks["keys"].as_array().unwrap() {
        assert!(!kids.contains(k["kid"].as_str().unwrap()));
    }
}

#[test]
fn openid_discovery_document() {
    let s = Server::start();
    let pool = s.create_pool("disco", json!({}));
    let r = s
        .http()
        .get(format!("{}/{pool}/.well-known/openid-configuration", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let d: Value = r.json().unwrap();
    let issuer = format!("{}/{pool}", s.url);
    assert_eq!(d["issuer"], issuer.as_str());
    assert_eq!(d["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert!(d["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("RS256")));
    // The jwks_uri resolves.
    let r = s
        .http()
        .get(d["jwks_uri"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[test]
fn openid_documents_of_unknown_pools_are_404() {
    let s = Server::start();
    for path in [
        "us-east-1_nothere/.well-known/jwks.json",
        "us-east-1_nothere/.well-known/openid-configuration",
    ] {
        let r = s.http().get(format!("{}/{path}", s.url)).send().unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
    }
    // A deleted pool is gone too.
    let pool = s.create_pool("gone", json!({}));
    s.ok("DeleteUserPool", json!({"UserPoolId": pool}));
    let r = s
        .http()
        .get(format!("{}/{pool}/.well-known/jwks.json", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Unknown paths are 404.
    let r = s
        .http()
        .get(format!("{}/no/such/path", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[test]
fn health_endpoint() {
    let s = Server::start();
    let r = s.http().get(format!("{}/health", s.url)).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

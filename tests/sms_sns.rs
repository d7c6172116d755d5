//! SMS by SNS (`--sns-endpoint`): a sign-up code for a phone number goes
//! out as an SNS Publish signed with the server's AWS credentials (checked
//! here as SNS checks it: credential scope, signed headers, payload hash,
//! signature), the code it carries confirms the user, nothing goes to the
//! outbox, and an SNS refusal is CodeDeliveryFailureException.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use cognate_aws_json::sigv4;
use common::Server;
use serde_json::json;

const KEY_ID: &str = "AKIASNSTEST0000001";
const SECRET: &str = "sns-test-secret-key/with+chars";

/// The Publish requests received, as form fields.
type Published = Arc<Mutex<Vec<BTreeMap<String, String>>>>;

#[derive(Clone)]
struct Sns {
    published: Published,
    refuse: bool,
}

fn form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| {
                let bytes = s.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' && i + 2 < bytes.len() {
                        out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                        i += 3;
                    } else {
                        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                        i += 1;
                    }
                }
                String::from_utf8(out).unwrap()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// SNS's check of a request's SigV4 signature.
fn check_signature(headers: &HeaderMap, body: &str) -> Result<(), String> {
    let auth = headers
        .get("authorization")
        .ok_or("no Authorization")?
        .to_str()
        .unwrap();
    let parsed = sigv4::parse_authorization(auth).map_err(|e| e.message)?;
    if parsed.access_key_id != KEY_ID || parsed.service != "sns" || parsed.region != "eu-west-1" {
        return Err(format!("credential scope: {auth}"));
    }
    for needed in ["host", "x-amz-date", "content-type"] {
        if !parsed.signed_headers.iter().any(|h| h == needed) {
            return Err(format!("{needed} not signed"));
        }
    }
    let amz_date = headers["x-amz-date"].to_str().unwrap();
    if !amz_date.starts_with(&parsed.date) {
        return Err("x-amz-date and the scope's date differ".into());
    }
    let canonical = sigv4::canonical_request(
        "POST",
        "/",
        "",
        headers,
        &parsed.signed_headers,
        &cognate_crypto::digest::sha256_hex(body.as_bytes()),
    );
    let scope = format!("{}/eu-west-1/sns/aws4_request", parsed.date);
    let expected = sigv4::signature(
        SECRET,
        &parsed.date,
        "eu-west-1",
        "sns",
        &sigv4::string_to_sign(amz_date, &scope, &canonical),
    );
    if expected != parsed.signature {
        return Err("signature mismatch".into());
    }
    Ok(())
}

async fn publish(State(sns): State<Sns>, headers: HeaderMap, body: String) -> impl IntoResponse {
    if let Err(e) = check_signature(&headers, &body) {
        return (
            StatusCode::FORBIDDEN,
            format!("<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>{e}</Message></Error></ErrorResponse>"),
        );
    }
    let fields = form(&body);
    if sns.refuse {
        return (
            StatusCode::BAD_REQUEST,
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: PhoneNumber</Message></Error></ErrorResponse>".to_owned(),
        );
    }
    sns.published.lock().unwrap().push(fields);
    (
        StatusCode::OK,
        "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>5b0e4a1c-0000-4000-8000-000000000001</MessageId></PublishResult></PublishResponse>".to_owned(),
    )
}

/// An SNS endpoint on a free port, and what it was asked to publish.
fn start_sns(refuse: bool) -> (String, Published) {
    let published = Arc::new(Mutex::new(Vec::new()));
    let state = Sns {
        published: published.clone(),
        refuse,
    };
    let app = axum::Router::new()
        .route("/", post(publish))
        .with_state(state);
    let url = format!("{}/", common::serve_in_background(app));
    (url, published)
}

fn server(sns_url: &str) -> Server {
    Server::start_with_env(
        &[
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
        ],
        &["--sns-endpoint", sns_url, "--sns-region", "eu-west-1"],
    )
}

fn phone_pool(s: &Server) -> (String, String) {
    let pool = s.create_pool(
        "sms",
        json!({"AutoVerifiedAttributes": ["phone_number"],
               "SmsVerificationMessage": "Your sms code is {####}."}),
    );
    let client = s.create_client(&pool, json!({}));
    (pool, client)
}

#[test]
fn sign_up_codes_go_out_by_sns_and_confirm_the_user() {
    let (url, published) = start_sns(false);
    let s = server(&url);
    let (pool, client) = phone_pool(&s);
    let answer = s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "sam", "Password": common::PASSWORD,
               "UserAttributes": [{"Name": "phone_number", "Value": "+15555550123"}]}),
    );
    assert_eq!(answer["CodeDeliveryDetails"]["DeliveryMedium"], "SMS");
    assert_eq!(
        answer["CodeDeliveryDetails"]["AttributeName"],
        "phone_number"
    );

    let sent = published.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m["Action"], "Publish");
    assert_eq!(m["PhoneNumber"], "+15555550123");
    assert_eq!(m["MessageAttributes.entry.1.Name"], "AWS.SNS.SMS.SMSType");
    assert_eq!(
        m["MessageAttributes.entry.1.Value.StringValue"],
        "Transactional"
    );
    let code = m["Message"]
        .strip_prefix("Your sms code is ")
        .and_then(|rest| rest.strip_suffix('.'))
        .unwrap_or_else(|| panic!("{}", m["Message"]))
        .to_owned();
    assert_eq!(code.len(), 6);
    assert!(
        s.outbox().iter().all(|l| l["medium"] != "SMS"),
        "SMS does not go to the outbox"
    );

    s.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "sam", "ConfirmationCode": code}),
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "sam"}),
    );
    assert_eq!(user["UserStatus"], "CONFIRMED");
}

#[test]
fn an_sns_refusal_is_a_code_delivery_failure() {
    let (url, published) = start_sns(true);
    let s = server(&url);
    let (_pool, client) = phone_pool(&s);
    s.err(
        "SignUp",
        json!({"ClientId": client, "Username": "sam", "Password": common::PASSWORD,
               "UserAttributes": [{"Name": "phone_number", "Value": "+15555550123"}]}),
        "CodeDeliveryFailureException",
    );
    assert!(published.lock().unwrap().is_empty());
}

#[test]
fn sns_without_credentials_does_not_start() {
    let stderr = common::refused_start(
        &["--sns-endpoint", "http://127.0.0.1:9/"],
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    );
    assert!(stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
}

#[test]
fn sts_without_sns_does_not_start() {
    let stderr = common::refused_start(
        &["--sts-endpoint", "http://127.0.0.1:9/"],
        &["COGNATE_SNS_ENDPOINT"],
    );
    assert!(
        stderr.contains("--sts-endpoint needs --sns-endpoint"),
        "{stderr}"
    );
}

//! SECRET_HASH: `AppClient::secret_hash_matches` over a client with two
//! secrets (true exactly when the value is the HMAC of one of them), and
//! InitiateAuth USER_PASSWORD_AUTH with the right password through a
//! client with a secret: it may sign in only with the right SECRET_HASH.
//!
//! Input: `username \0 SECRET_HASH`.
#![no_main]

use cognate_aws_json::{model, operation};
use cognate_core::model::{AppClient, ClientSecret, ClientSettings};
use cognate_crypto::digest::secret_hash;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (username, provided) = text.split_once('\0').unwrap_or((text, ""));

    let secret = |value: &str, original: bool| ClientSecret {
        id: format!("{}--1", cognate_fuzz::SECRET_CLIENT_ID),
        value: value.to_owned(),
        created: 0,
        original,
    };
    let client = AppClient {
        pool_id: cognate_fuzz::POOL_ID.into(),
        client_id: cognate_fuzz::SECRET_CLIENT_ID.into(),
        secrets: vec![
            secret(cognate_fuzz::CLIENT_SECRET, true),
            secret("second-secret", false),
        ],
        created: 0,
        modified: 0,
        settings: ClientSettings::named("secret"),
        version: 0,
    };
    let expected = [cognate_fuzz::CLIENT_SECRET, "second-secret"]
        .iter()
        .any(|s| secret_hash(s, username, cognate_fuzz::SECRET_CLIENT_ID) == provided);
    assert_eq!(client.secret_hash_matches(username, provided), expected);

    let w = cognate_fuzz::world();
    w.rt.block_on(async {
        let body = json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": cognate_fuzz::SECRET_CLIENT_ID,
            "AuthParameters": {
                "USERNAME": username,
                "PASSWORD": cognate_fuzz::PASSWORD,
                "SECRET_HASH": provided,
            },
        })
        .to_string();
        let result = match model::validate("InitiateAuth", body.as_bytes()) {
            Ok(()) => operation::dispatch(&w.svc, "InitiateAuth", body.as_bytes()).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(_) => assert_eq!(
                provided,
                secret_hash(
                    cognate_fuzz::CLIENT_SECRET,
                    username,
                    cognate_fuzz::SECRET_CLIENT_ID
                ),
                "signed in with a wrong SECRET_HASH"
            ),
            Err(e) => assert!(!e.status.is_server_error(), "{} {}", e.type_name, e.message),
        }
    });
});

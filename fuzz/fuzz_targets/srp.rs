//! SRP inputs: `SRP_A` (hex parsing, range and the multiple-of-N check),
//! the server's `B` for a stored verifier, Cognito's SRP timestamp, and
//! `PASSWORD_CLAIM_SECRET_BLOCK` / `PASSWORD_CLAIM_SIGNATURE`; first in
//! `cognate_crypto::srp` directly, then through the service: InitiateAuth
//! USER_SRP_AUTH with the fuzzed `SRP_A` and, when it answers with a
//! PASSWORD_VERIFIER challenge, RespondToAuthChallenge with the fuzzed
//! claim. Nobody here knows the password's SRP secret, so no claim may
//! be accepted, and no answer may be a 5xx.
//!
//! Input: `SRP_A \0 secret block \0 timestamp \0 signature`.
#![no_main]

use std::sync::OnceLock;

use cognate_aws_json::{model, operation};
use cognate_crypto::srp;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Fields longer than this are not looked at (the model caps them lower).
const MAX_FIELD: usize = 4096;

fn verifier() -> &'static (String, srp::ServerExchange) {
    static V: OnceLock<(String, srp::ServerExchange)> = OnceLock::new();
    V.get_or_init(|| {
        let (_salt, v) = srp::make_verifier("Fuzz00001", "alice", "Passw0rd!x", &[7; 16]);
        let exchange = srp::server_start(&v, &[9; 32]).expect("exchange");
        (v, exchange)
    })
}

async fn call(op: &str, body: Value) -> Result<Value, cognate_aws_json::ApiError> {
    let bytes = body.to_string().into_bytes();
    model::validate(op, &bytes)?;
    let result = operation::dispatch(&cognate_fuzz::world().svc, op, &bytes).await;
    if let Err(e) = &result {
        assert!(
            !e.status.is_server_error(),
            "{op} answered {} {}: {}",
            e.status,
            e.type_name,
            e.message
        );
    }
    result
}

fuzz_target!(|data: &[u8]| {
    let mut fields = data.splitn(4, |b| *b == 0);
    let mut next = || {
        fields
            .next()
            .and_then(|f| std::str::from_utf8(f).ok())
            .unwrap_or("")
    };
    let (a, block, timestamp, signature) = (next(), next(), next(), next());
    if [a, block, timestamp, signature]
        .iter()
        .any(|f| f.len() > MAX_FIELD)
    {
        return;
    }

    // The library.
    let valid = srp::valid_a(a);
    let _ = srp::parse_hex(a, 1024);
    let _ = srp::salt_param(a);
    let _ = srp::parse_timestamp(timestamp);
    let (v, exchange) = verifier();
    if valid {
        assert!(
            !srp::verify_claim(
                "Fuzz00001",
                "alice",
                v,
                a,
                exchange,
                block,
                timestamp,
                signature
            ),
            "a claim made without the password was accepted"
        );
    }

    // The service.
    let w = cognate_fuzz::world();
    w.rt.block_on(async {
        let started = call(
            "InitiateAuth",
            json!({
                "AuthFlow": "USER_SRP_AUTH",
                "ClientId": cognate_fuzz::CLIENT_ID,
                "AuthParameters": {"USERNAME": cognate_fuzz::USERNAME, "SRP_A": a},
            }),
        )
        .await;
        let Ok(challenge) = started else {
            return;
        };
        assert!(
            valid,
            "InitiateAuth took an SRP_A that valid_a refuses: {a:?}"
        );
        let user = challenge["ChallengeParameters"]["USER_ID_FOR_SRP"]
            .as_str()
            .unwrap_or_default();
        let answer = call(
            "RespondToAuthChallenge",
            json!({
                "ChallengeName": "PASSWORD_VERIFIER",
                "ClientId": cognate_fuzz::CLIENT_ID,
                "Session": challenge["Session"],
                "ChallengeResponses": {
                    "USERNAME": user,
                    "PASSWORD_CLAIM_SECRET_BLOCK": block,
                    "TIMESTAMP": timestamp,
                    "PASSWORD_CLAIM_SIGNATURE": signature,
                },
            }),
        )
        .await;
        assert!(
            answer.is_err(),
            "a claim made without the password signed in"
        );
    });
});

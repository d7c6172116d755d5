//! Passkey registration responses: the attestationObject (CBOR: fmt,
//! attStmt, authData with its COSE key) and every attestation statement
//! format behind it (X.509 certificates, DER extensions, TPM structures, a
//! SafetyNet JWS) through `verify_registration`, with a fixed, matching
//! clientDataJSON. Nobody here holds a key the statements could be signed
//! with for this client data except through self-attestation of a fuzzed
//! key, so anything may be refused, and nothing may panic.
//!
//! Input: the raw attestationObject.
#![no_main]

use base64::Engine;
use cognate_core::service::webauthn::{verify_registration, RegistrationExpectation};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fuzz_target!(|data: &[u8]| {
    let client_data = json!({
        "type": "webauthn.create",
        "challenge": "Y2hhbGxlbmdl",
        "origin": "https://auth.example.com",
        "crossOrigin": false,
    })
    .to_string();
    // The id is the one in the seeds' authenticator data.
    let credential = json!({
        "id": B64.encode([7u8; 16]),
        "rawId": B64.encode([7u8; 16]),
        "type": "public-key",
        "response": {
            "clientDataJSON": B64.encode(client_data.as_bytes()),
            "attestationObject": B64.encode(data),
        },
    });
    let expected = RegistrationExpectation {
        challenge: "Y2hhbGxlbmdl".into(),
        rp_id: "auth.example.com".into(),
        user_verification_required: false,
        public_url: "https://auth.example.com".into(),
        now_ms: 1_780_000_000_000,
    };
    let _ = verify_registration(&credential, &expected);
});

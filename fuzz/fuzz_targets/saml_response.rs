//! A SAML response as `/saml2/idpresponse` reads it (the SAMLResponse,
//! base64-decoded): any bytes, checked against a provider's metadata (the
//! one the unit tests' fixtures were signed for). It may refuse; it must
//! not panic, and anything it accepts names a user.
#![no_main]

use cognate_core::service::saml_metadata::idp_trust;
use cognate_core::service::saml_response::{verify_response, Expected};
use libfuzzer_sys::fuzz_target;

const METADATA: &str =
    include_str!("../../crates/core/src/service/saml_response/fixtures/metadata.xml");

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(trust) = idp_trust(METADATA) else {
        return;
    };
    let expected = Expected {
        issuer: &trust.entity_id,
        certificates: &trust.certificates,
        audience: "urn:amazon:cognito:sp:us-east-1_Test",
        acs_url: "https://auth.example.test/saml2/idpresponse",
        request_id: Some("_req1"),
        now_secs: 1_796_634_060,
        decryption_key: None,
    };
    if let Ok(assertion) = verify_response(xml, &expected) {
        assert!(!assertion.name_id.is_empty());
    }
});

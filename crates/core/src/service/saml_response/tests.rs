//! The fixtures were signed by `e2e/saml_idp.py` (signxml over lxml, an
//! XML signature implementation independent of ours) at 2026-12-07
//! 09:00:00Z for request `_req1`.

use super::*;
use crate::service::saml_metadata::idp_trust;

const METADATA: &str = include_str!("fixtures/metadata.xml");
const SIGNED_ASSERTION: &str = include_str!("fixtures/signed_assertion.xml");
const SIGNED_RESPONSE: &str = include_str!("fixtures/signed_response.xml");
const SIGNED_BOTH: &str = include_str!("fixtures/signed_both.xml");
const UNSIGNED: &str = include_str!("fixtures/unsigned.xml");
const OTHER_KEY: &str = include_str!("fixtures/signed_by_another_key.xml");
const FAILED: &str = include_str!("fixtures/failed_status.xml");

const NOW: i64 = 1_796_634_000; // 2026-12-07T09:00:00Z
const ACS: &str = "https://auth.example.test/saml2/idpresponse";
const AUDIENCE: &str = "urn:amazon:cognito:sp:us-east-1_Test";

fn check_at(xml: &str, now_secs: i64) -> Result<Assertion, Refused> {
    let trust = idp_trust(METADATA).unwrap();
    verify_response(
        xml,
        &Expected {
            issuer: &trust.entity_id,
            certificates: &trust.certificates,
            audience: AUDIENCE,
            acs_url: ACS,
            request_id: Some("_req1"),
            now_secs,
            decryption_key: None,
        },
    )
}

fn check(xml: &str) -> Result<Assertion, Refused> {
    check_at(xml, NOW + 60)
}

fn reason(result: Result<Assertion, Refused>) -> &'static str {
    match result {
        Err(Refused::Untrusted(Untrusted(r))) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_instant_of_the_fixtures() {
    assert_eq!(parse_instant("2026-12-07T09:00:00Z"), Some(NOW));
    assert_eq!(parse_instant("2026-12-07T09:00:00.123Z"), Some(NOW));
    assert_eq!(format_instant(NOW), "2026-12-07T09:00:00Z");
    assert_eq!(parse_instant("yesterday"), None);
}

#[test]
fn a_signed_assertion_a_signed_response_or_both_are_read() {
    for xml in [SIGNED_ASSERTION, SIGNED_RESPONSE, SIGNED_BOTH] {
        let assertion = check(xml).unwrap();
        assert_eq!(assertion.name_id, "jane@example.com");
        assert_eq!(
            assertion.attributes.get("groups").unwrap(),
            &vec!["admins".to_owned(), "dev & ops <x>".to_owned()]
        );
        assert_eq!(
            assertion.attributes.get("email").unwrap(),
            &vec!["jane@example.com".to_owned()]
        );
        assert!(assertion.session_index.is_some());
    }
}

#[test]
fn the_metadata_names_the_provider_and_its_signing_certificate() {
    let trust = idp_trust(METADATA).unwrap();
    assert_eq!(trust.entity_id, "https://idp.example.test/saml");
    assert_eq!(trust.certificates.len(), 1);
    assert!(rsa_key(&trust.certificates[0]).is_some());
}

#[test]
fn unsigned_answers_and_answers_signed_by_others_are_refused() {
    assert_eq!(reason(check(UNSIGNED)), "unsigned");
    assert_eq!(reason(check(OTHER_KEY)), "signature_not_by_the_provider");
}

#[test]
fn a_failed_status_is_the_providers_refusal() {
    assert_eq!(
        check(FAILED),
        Err(Refused::Status(
            "urn:oasis:names:tc:SAML:2.0:status:Responder".into()
        ))
    );
}

#[test]
fn a_changed_word_breaks_the_digest() {
    for xml in [SIGNED_ASSERTION, SIGNED_RESPONSE] {
        let forged = xml.replace(
            ">jane@example.com</saml:NameID>",
            ">eve@example.com</saml:NameID>",
        );
        assert_ne!(forged, xml);
        assert_eq!(reason(check(&forged)), "digest_mismatch");
    }
    let forged = SIGNED_ASSERTION.replace(">admins<", ">root<");
    assert_eq!(reason(check(&forged)), "digest_mismatch");
}

#[test]
fn a_changed_signed_info_breaks_the_signature() {
    // Pointing the reference elsewhere is caught before any digest.
    let forged = SIGNED_ASSERTION.replacen("<ds:Reference URI=\"#", "<ds:Reference URI=\"#x", 1);
    assert_eq!(
        reason(check(&forged)),
        "reference_not_to_the_signed_element"
    );
    // A SignedInfo changed without changing the digest: the signature fails.
    let forged = SIGNED_ASSERTION.replacen(
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></ds:CanonicalizationMethod> ",
        1,
    );
    assert_eq!(reason(check(&forged)), "signature_not_by_the_provider");
}

#[test]
fn comments_inside_values_do_not_cut_them_short() {
    // Canonicalization drops comments, so the signature still verifies;
    // the value read must be the whole signed text.
    let forged = SIGNED_ASSERTION.replace(
        ">jane@example.com</saml:NameID>",
        ">jane@example.com<!---->.evil</saml:NameID>",
    );
    assert_eq!(reason(check(&forged)), "digest_mismatch");
    let commented = SIGNED_ASSERTION.replace(
        ">jane@example.com</saml:NameID>",
        ">jane@<!-- a note -->example.com</saml:NameID>",
    );
    assert_eq!(check(&commented).unwrap().name_id, "jane@example.com");
}

/// The signed assertion moved out of sight and another put where the
/// reader looks (signature wrapping).
#[test]
fn wrapped_assertions_are_never_read() {
    let start = SIGNED_ASSERTION.find("<saml:Assertion").unwrap();
    let end = SIGNED_ASSERTION.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let signed = &SIGNED_ASSERTION[start..end];
    let evil = signed
        .replace(
            ">jane@example.com</saml:NameID>",
            ">admin@example.com</saml:NameID>",
        )
        .replacen(" ID=\"_", " ID=\"_evil", 1);
    // Beside the signed one.
    let two = SIGNED_ASSERTION.replace(signed, &format!("{signed}{evil}"));
    assert_eq!(reason(check(&two)), "not_one_assertion");
    // The signed one hidden in an extension, the evil one in its place.
    let hidden = SIGNED_ASSERTION.replace(
        signed,
        &format!("<samlp:Extensions>{signed}</samlp:Extensions>{evil}"),
    );
    assert!(matches!(
        reason(check(&hidden)),
        "digest_mismatch" | "reference_not_to_the_signed_element" | "not_one_signature"
    ));
    // The evil one with the signed one's ID.
    let same_id = SIGNED_ASSERTION.replace(
        signed,
        &format!(
            "<samlp:Extensions>{signed}</samlp:Extensions>{}",
            evil.replacen(" ID=\"_evil", " ID=\"_", 1)
        ),
    );
    assert_eq!(reason(check(&same_id)), "duplicate_id");
    // A signed response wrapped in an unsigned one.
    let outer = SIGNED_RESPONSE
        .replacen("<samlp:Response ", "<samlp:Response ID=\"_outer\" Version=\"2.0\" xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"><samlp:Extensions><samlp:Response ", 1);
    let outer = format!("{outer}</samlp:Extensions><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>{evil}</samlp:Response>");
    assert!(roxmltree::Document::parse(&outer).is_ok());
    assert!(check(&outer).is_err());
}

#[test]
fn the_answer_must_be_for_us_now() {
    let trust = idp_trust(METADATA).unwrap();
    let run = |issuer: &str, audience: &str, acs: &str, request: &str, now: i64| {
        verify_response(
            SIGNED_ASSERTION,
            &Expected {
                issuer,
                certificates: &trust.certificates,
                audience,
                acs_url: acs,
                request_id: Some(request),
                now_secs: now,
                decryption_key: None,
            },
        )
    };
    let ok = |r| r;
    assert!(ok(run(&trust.entity_id, AUDIENCE, ACS, "_req1", NOW)).is_ok());
    assert_eq!(
        reason(run("https://other", AUDIENCE, ACS, "_req1", NOW)),
        "assertion_wrong_issuer"
    );
    assert_eq!(
        reason(run(
            &trust.entity_id,
            "urn:amazon:cognito:sp:other",
            ACS,
            "_req1",
            NOW
        )),
        "assertion_for_another_audience"
    );
    assert_eq!(
        reason(run(
            &trust.entity_id,
            AUDIENCE,
            "https://other/saml2/idpresponse",
            "_req1",
            NOW
        )),
        "response_wrong_destination"
    );
    assert_eq!(
        reason(run(&trust.entity_id, AUDIENCE, ACS, "_req2", NOW)),
        "response_to_another_request"
    );
    // Five minutes of validity, three of allowed skew.
    assert!(run(
        &trust.entity_id,
        AUDIENCE,
        ACS,
        "_req1",
        NOW + 300 + CLOCK_SKEW_SECS - 1
    )
    .is_ok());
    assert_eq!(
        reason(run(
            &trust.entity_id,
            AUDIENCE,
            ACS,
            "_req1",
            NOW + 300 + CLOCK_SKEW_SECS
        )),
        "no_valid_bearer_confirmation"
    );
    assert!(run(
        &trust.entity_id,
        AUDIENCE,
        ACS,
        "_req1",
        NOW - 30 - CLOCK_SKEW_SECS
    )
    .is_ok());
    assert_eq!(
        reason(run(
            &trust.entity_id,
            AUDIENCE,
            ACS,
            "_req1",
            NOW - 31 - CLOCK_SKEW_SECS
        )),
        "assertion_outside_its_validity"
    );
}

#[test]
fn documents_with_a_dtd_or_other_roots_are_refused() {
    let dtd = format!("<!DOCTYPE r [<!ENTITY e \"x\">]>{SIGNED_ASSERTION}");
    assert_eq!(reason(check(&dtd)), "response_not_xml");
    assert_eq!(reason(check(METADATA)), "not_a_saml2_response");
    assert_eq!(
        reason(check(&"x".repeat(MAX_RESPONSE + 1))),
        "response_too_large"
    );
}

/// Exclusive canonicalization's namespace rules, on a hand-checked
/// example: only visibly used namespaces, each where it is first used,
/// `xmlns=""` only to undo a rendered default, attributes by namespace
/// then name, values escaped.
#[test]
fn exclusive_canonicalization() {
    let xml = "<a:r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" xmlns=\"urn:d\" xmlns:unused=\"urn:u\">\r\n\
        <d z=\"1\" b:y=\"&#x9;2\" a=\"&quot;&lt;&gt;\"><e xmlns=\"\"/><a:f>x &amp; y &gt; z<!-- c --></a:f></d>\
        <g xmlns=\"\"><h/></g><?pi  data?></a:r>";
    let doc = roxmltree::Document::parse(xml).unwrap();
    let out = canonicalize(&doc, &doc.root_element(), None, &[]);
    assert_eq!(
        out,
        "<a:r xmlns:a=\"urn:a\">\n\
        <d xmlns=\"urn:d\" xmlns:b=\"urn:b\" a=\"&quot;&lt;>\" z=\"1\" b:y=\"&#x9;2\"><e xmlns=\"\"></e><a:f>x &amp; y &gt; z</a:f></d>\
        <g><h></h></g><?pi data?></a:r>"
    );
    // An inclusive prefix is rendered where it is in scope.
    let out = canonicalize(&doc, &doc.root_element(), None, &["unused".into()]);
    assert!(out.starts_with("<a:r xmlns:a=\"urn:a\" xmlns:unused=\"urn:u\">"));
}

/// Encrypted by libxmlsec1 (python-xmlsec) for the service provider key of
/// `sp_encryption_key.b64`, from an identity provider whose metadata is
/// `metadata_enc.xml`.
mod encrypted {
    use super::*;
    use base64::Engine;

    const METADATA: &str = include_str!("fixtures/metadata_enc.xml");
    const KEY: &str = include_str!("fixtures/sp_encryption_key.b64");

    fn check(xml: &str, key: Option<&[u8]>) -> Result<Assertion, Refused> {
        let trust = idp_trust(METADATA).unwrap();
        verify_response(
            xml,
            &Expected {
                issuer: &trust.entity_id,
                certificates: &trust.certificates,
                audience: AUDIENCE,
                acs_url: ACS,
                request_id: Some("_req1"),
                now_secs: NOW + 60,
                decryption_key: key,
            },
        )
    }

    fn key() -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(KEY.trim())
            .unwrap()
    }

    #[test]
    fn encrypted_assertions_are_decrypted_then_verified() {
        let key = key();
        for xml in [
            include_str!("fixtures/encrypted_signed_assertion_cbc.xml"),
            include_str!("fixtures/encrypted_signed_response_gcm.xml"),
        ] {
            assert_eq!(check(xml, Some(&key)).unwrap().name_id, "jane@example.com");
            assert_eq!(reason(check(xml, None)), "encrypted_assertion_not_expected");
        }
        let unsigned = include_str!("fixtures/encrypted_unsigned.xml");
        assert_eq!(reason(check(unsigned, Some(&key))), "unsigned");
    }

    #[test]
    fn a_plain_assertion_is_refused_where_encryption_is_asked_for() {
        // The other fixtures' provider: the check fails before any signature.
        assert_eq!(
            reason(check(SIGNED_ASSERTION, Some(&key()))),
            "assertion_not_encrypted"
        );
    }

    #[test]
    fn another_key_or_a_changed_cipher_text_decrypts_nothing() {
        let other = cognate_crypto::SigningKey::generate().unwrap();
        let xml = include_str!("fixtures/encrypted_signed_response_gcm.xml");
        // The response's signature still holds, the key does not.
        assert_eq!(
            reason(check(xml, Some(other.pkcs8()))),
            "assertion_not_decryptable"
        );
        let cbc = include_str!("fixtures/encrypted_signed_assertion_cbc.xml");
        let start = cbc.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
        let mut changed = cbc.to_owned();
        let flipped = if &cbc[start..start + 1] == "A" {
            "B"
        } else {
            "A"
        };
        changed.replace_range(start..start + 1, flipped);
        // CBC has no tag: what decrypts is garbage, and garbage is no assertion.
        assert!(check(&changed, Some(&key())).is_err());
    }
}

#[test]
fn an_unsolicited_response_must_answer_no_request() {
    let trust = idp_trust(METADATA).unwrap();
    let result = verify_response(
        SIGNED_ASSERTION,
        &Expected {
            issuer: &trust.entity_id,
            certificates: &trust.certificates,
            audience: AUDIENCE,
            acs_url: ACS,
            request_id: None,
            now_secs: NOW + 60,
            decryption_key: None,
        },
    );
    assert_eq!(reason(result), "unsolicited_response_answers_a_request");
}

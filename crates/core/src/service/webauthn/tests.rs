//! The registration and assertion checks with a software authenticator.

use serde_json::Value;

use super::testkit::{SoftAuthenticator, FLAG_UP, FLAG_UV};
use super::*;

const RP: &str = "auth.example.com";
const ORIGIN: &str = "https://auth.example.com";
const PUBLIC_URL: &str = "http://127.0.0.1:9229";

fn expectation(challenge: &str, uv_required: bool) -> RegistrationExpectation {
    RegistrationExpectation {
        challenge: challenge.into(),
        rp_id: RP.into(),
        user_verification_required: uv_required,
        public_url: PUBLIC_URL.into(),
    }
}

fn kind_of(result: Result<RegisteredCredential>) -> ErrorKind {
    result.expect_err("refused").kind
}

fn stored(
    authenticator: &SoftAuthenticator,
    registered: &RegisteredCredential,
) -> WebAuthnCredential {
    assert_eq!(registered.credential_id, authenticator.id());
    WebAuthnCredential {
        pool_id: "p".into(),
        username_key: "u".into(),
        credential_id: registered.credential_id.clone(),
        public_key: registered.public_key.clone(),
        sign_count: registered.sign_count,
        friendly_name: "n".into(),
        relying_party_id: RP.into(),
        authenticator_attachment: registered.authenticator_attachment.clone(),
        transports: registered.transports.clone(),
        created: 0,
    }
}

#[test]
fn registration_none_attestation_is_accepted() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let got = verify_registration(&a.register("c1"), &expectation("c1", true)).expect("ok");
    assert_eq!(got.credential_id, a.id());
    assert_eq!(got.public_key, B64.encode(a.cose_key()));
    assert_eq!(got.sign_count, 0);
    assert_eq!(got.authenticator_attachment.as_deref(), Some("platform"));
    assert_eq!(got.transports, vec!["internal".to_owned()]);
}

#[test]
fn registration_packed_self_attestation_is_checked() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let mut t = a.tweaks("webauthn.create");
    t.fmt = "packed".into();
    verify_registration(&a.register_with("c", &t), &expectation("c", false)).expect("ok");
    t.corrupt_signature = true;
    assert_eq!(
        kind_of(verify_registration(
            &a.register_with("c", &t),
            &expectation("c", false)
        )),
        ErrorKind::InvalidParameter
    );
    t.corrupt_signature = false;
    t.fmt = "tpm".into();
    assert_eq!(
        kind_of(verify_registration(
            &a.register_with("c", &t),
            &expectation("c", false)
        )),
        ErrorKind::WebAuthnCredentialNotSupported
    );
}

#[test]
fn registration_refusals_name_their_cause() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let check = |t: &testkit::Tweaks, uv: bool| {
        kind_of(verify_registration(
            &a.register_with("c", t),
            &expectation("c", uv),
        ))
    };
    let mut t = a.tweaks("webauthn.get");
    assert_eq!(check(&t, false), ErrorKind::InvalidParameter);
    t = a.tweaks("webauthn.create");
    t.origin = "https://evil.example.net".into();
    assert_eq!(check(&t, false), ErrorKind::WebAuthnOriginNotAllowed);
    t.origin = "http://auth.example.com".into();
    assert_eq!(check(&t, false), ErrorKind::WebAuthnOriginNotAllowed);
    t = a.tweaks("webauthn.create");
    t.rp_id = "example.org".into();
    assert_eq!(check(&t, false), ErrorKind::WebAuthnRelyingPartyMismatch);
    t = a.tweaks("webauthn.create");
    t.flags = FLAG_UP;
    assert_eq!(check(&t, true), ErrorKind::WebAuthnCredentialNotSupported);
    verify_registration(&a.register_with("c", &t), &expectation("c", false)).expect("uv preferred");
    t.flags = FLAG_UV;
    assert_eq!(check(&t, false), ErrorKind::InvalidParameter);
    // Another challenge than the one asked.
    assert_eq!(
        kind_of(verify_registration(
            &a.register("other"),
            &expectation("c", false)
        )),
        ErrorKind::WebAuthnChallengeNotFound
    );
    // An id that is not the attested credential's.
    let mut response = a.register("c");
    response["id"] = Value::String(B64.encode(b"another id"));
    assert_eq!(
        kind_of(verify_registration(&response, &expectation("c", false))),
        ErrorKind::InvalidParameter
    );
    // Garbage never panics.
    for bad in [
        serde_json::json!({}),
        serde_json::json!({"type": "public-key", "id": "x", "response": {}}),
        serde_json::json!({"type": "public-key", "id": "x", "response": {"clientDataJSON": "!!"}}),
        serde_json::json!({"type": "public-key", "id": "x", "response": {"clientDataJSON": "e30", "attestationObject": "oA"}}),
    ] {
        assert!(verify_registration(&bad, &expectation("c", false)).is_err());
    }
}

#[test]
fn subdomain_and_localhost_origins() {
    assert!(origin_allowed(
        "https://login.auth.example.com",
        RP,
        PUBLIC_URL
    ));
    assert!(origin_allowed(
        "https://auth.example.com:8443",
        RP,
        PUBLIC_URL
    ));
    assert!(!origin_allowed(
        "https://notauth.example.com",
        RP,
        PUBLIC_URL
    ));
    assert!(!origin_allowed("https://example.com", RP, PUBLIC_URL));
    assert!(origin_allowed(
        "http://localhost:9229",
        "localhost",
        PUBLIC_URL
    ));
    assert!(origin_allowed(
        "http://127.0.0.1:9229",
        "127.0.0.1",
        PUBLIC_URL
    ));
    assert!(!origin_allowed(
        "http://10.0.0.1:9229",
        "10.0.0.1",
        PUBLIC_URL
    ));
    assert!(!origin_allowed("null", RP, PUBLIC_URL));
    assert!(is_relying_party_id("auth.example.com"));
    assert!(is_relying_party_id("localhost"));
    assert!(!is_relying_party_id("https://auth.example.com"));
    assert!(!is_relying_party_id("Auth.example.com"));
    assert!(!is_relying_party_id("auth.example.com:443"));
    assert!(!is_relying_party_id("a..b"));
}

fn assertion_expectation(challenge: &str) -> AssertionExpectation {
    AssertionExpectation {
        challenge: challenge.into(),
        rp_id: RP.into(),
        user_verification_required: true,
        public_url: PUBLIC_URL.into(),
        user_handle: B64.encode(b"sub-1"),
    }
}

#[test]
fn assertion_is_checked_with_the_stored_key() {
    let mut a = SoftAuthenticator::new(RP, ORIGIN);
    let registered = verify_registration(&a.register("c"), &expectation("c", true)).expect("ok");
    let creds = vec![stored(&a, &registered)];
    let handle = B64.encode(b"sub-1");
    let got = verify_assertion(
        &a.assert("s1", &handle),
        &assertion_expectation("s1"),
        &creds,
    )
    .expect("accepted");
    assert_eq!(got.credential_id, a.id());
    assert_eq!(got.sign_count, 1);
    assert!(got.user_verified);
    // Wrong challenge, signature, user handle, type, flags, rp, origin.
    let exp = assertion_expectation("s2");
    let refused = |r: Result<CheckedAssertion>| r.expect_err("refused").kind;
    assert_eq!(
        refused(verify_assertion(&a.assert("s1", &handle), &exp, &creds)),
        ErrorKind::NotAuthorized
    );
    let mut t = a.tweaks("webauthn.get");
    t.corrupt_signature = true;
    assert_eq!(
        refused(verify_assertion(&a.assert_with("s2", &t), &exp, &creds)),
        ErrorKind::NotAuthorized
    );
    assert_eq!(
        refused(verify_assertion(
            &a.assert("s2", &B64.encode(b"sub-2")),
            &exp,
            &creds
        )),
        ErrorKind::NotAuthorized
    );
    t = a.tweaks("webauthn.create");
    assert_eq!(
        refused(verify_assertion(&a.assert_with("s2", &t), &exp, &creds)),
        ErrorKind::InvalidParameter
    );
    t = a.tweaks("webauthn.get");
    t.flags = FLAG_UP;
    assert_eq!(
        refused(verify_assertion(&a.assert_with("s2", &t), &exp, &creds)),
        ErrorKind::NotAuthorized
    );
    t = a.tweaks("webauthn.get");
    t.rp_id = "example.org".into();
    assert_eq!(
        refused(verify_assertion(&a.assert_with("s2", &t), &exp, &creds)),
        ErrorKind::WebAuthnRelyingPartyMismatch
    );
    t = a.tweaks("webauthn.get");
    t.origin = "https://evil.example.net".into();
    assert_eq!(
        refused(verify_assertion(&a.assert_with("s2", &t), &exp, &creds)),
        ErrorKind::WebAuthnOriginNotAllowed
    );
    // Another authenticator's credential is not the user's.
    let mut other = SoftAuthenticator::new(RP, ORIGIN);
    assert_eq!(
        refused(verify_assertion(&other.assert("s2", &handle), &exp, &creds)),
        ErrorKind::NotAuthorized
    );
    // Without user verification when only preferred: accepted, not verified.
    t = a.tweaks("webauthn.get");
    t.flags = FLAG_UP;
    let mut preferred = exp.clone();
    preferred.user_verification_required = false;
    let got = verify_assertion(&a.assert_with("s2", &t), &preferred, &creds).expect("accepted");
    assert!(!got.user_verified);
    // No user handle (a non-discoverable use) is fine.
    let mut t = a.tweaks("webauthn.get");
    t.flags = FLAG_UP | FLAG_UV;
    verify_assertion(&a.assert_with("s2", &t), &exp, &creds).expect("accepted");
}

//! The registration and assertion checks with a software authenticator.

use serde_json::Value;

use super::testkit::{SoftAuthenticator, FLAG_UP, FLAG_UV};
use super::*;

const RP: &str = "auth.example.com";
const ORIGIN: &str = "https://auth.example.com";
const PUBLIC_URL: &str = "http://127.0.0.1:9229";
/// The time of the registration checks (a SafetyNet statement's age).
const NOW_MS: i64 = 1_780_000_000_000;

fn expectation(challenge: &str, uv_required: bool) -> RegistrationExpectation {
    RegistrationExpectation {
        challenge: challenge.into(),
        rp_id: RP.into(),
        user_verification_required: uv_required,
        public_url: PUBLIC_URL.into(),
        now_ms: NOW_MS,
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
    t.fmt = "no-such-format".into();
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

// --- attestation statements with certificates (attestation.rs) ----------

use base64::engine::general_purpose::STANDARD;
use ciborium::value::Value as Cbor;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    SigningKey,
};

fn text(s: &str) -> Cbor {
    Cbor::Text(s.into())
}

fn bytes(b: &[u8]) -> Cbor {
    Cbor::Bytes(b.to_vec())
}

/// One DER item: `tag` bytes, the length, then `content`.
fn der(tag: &[u8], content: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    match content.len() {
        n if n < 128 => out.push(u8::try_from(n).unwrap()),
        n if n < 256 => out.extend_from_slice(&[0x81, u8::try_from(n).unwrap()]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// A certificate of the authenticator's own key, as `configure` shapes it
/// (its subject starts empty).
fn certificate_of(
    a: &SoftAuthenticator,
    configure: impl FnOnce(&mut CertificateParams),
) -> Vec<u8> {
    let key = rcgen::KeyPair::try_from(a.pkcs8.as_slice()).expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = DistinguishedName::new();
    configure(&mut params);
    params
        .self_signed(&key)
        .expect("certificate")
        .der()
        .to_vec()
}

fn client_data_hash(client_data: &[u8]) -> Vec<u8> {
    sha256(client_data).to_vec()
}

fn signed(auth_data: &[u8], client_data: &[u8]) -> Vec<u8> {
    let mut out = auth_data.to_vec();
    out.extend_from_slice(&client_data_hash(client_data));
    out
}

fn check(credential: &Value) -> Result<RegisteredCredential> {
    verify_registration(credential, &expectation("c", false))
}

fn packed_subject(p: &mut CertificateParams) {
    p.distinguished_name.push(DnType::CountryName, "SE");
    p.distinguished_name
        .push(DnType::OrganizationName, "Authenticators Inc");
    p.distinguished_name
        .push(DnType::OrganizationalUnitName, "Authenticator Attestation");
    p.distinguished_name.push(DnType::CommonName, "Model 1");
}

#[test]
fn packed_attestation_with_a_certificate() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let good = certificate_of(&a, |p| {
        packed_subject(p);
        // id-fido-gen-ce-aaguid: the authenticator's (all zeros) AAGUID.
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4],
            der(&[4], &[0u8; 16]),
        ));
    });
    let statement = |cert: Vec<u8>, corrupt: bool| {
        let a = &a;
        move |auth: &[u8], client: &[u8]| {
            let mut message = signed(auth, client);
            if corrupt {
                message.push(0);
            }
            Cbor::Map(vec![
                (text("alg"), Cbor::Integer((-7).into())),
                (text("sig"), bytes(&a.sign_message(&message))),
                (text("x5c"), Cbor::Array(vec![bytes(&cert)])),
            ])
        }
    };
    check(&a.register_attested("c", "packed", statement(good.clone(), false))).expect("accepted");
    assert_eq!(
        kind_of(check(&a.register_attested(
            "c",
            "packed",
            statement(good, true)
        ))),
        ErrorKind::InvalidParameter
    );
    // The subject must say what the certificate is for.
    let no_unit = certificate_of(&a, |p| {
        p.distinguished_name.push(DnType::CountryName, "SE");
        p.distinguished_name
            .push(DnType::OrganizationName, "Authenticators Inc");
        p.distinguished_name.push(DnType::CommonName, "Model 1");
    });
    let refused = check(&a.register_attested("c", "packed", statement(no_unit, false)));
    assert!(refused
        .expect_err("refused")
        .message
        .contains("Authenticator Attestation"));
    // Another authenticator model's AAGUID.
    let other_model = certificate_of(&a, |p| {
        packed_subject(p);
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4],
            der(&[4], &[7u8; 16]),
        ));
    });
    let refused = check(&a.register_attested("c", "packed", statement(other_model, false)));
    assert!(refused.expect_err("refused").message.contains("AAGUID"));
    // A CA certificate is not an attestation certificate.
    let ca = certificate_of(&a, |p| {
        packed_subject(p);
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    });
    assert_eq!(
        kind_of(check(&a.register_attested(
            "c",
            "packed",
            statement(ca, false)
        ))),
        ErrorKind::InvalidParameter
    );
    // Not a certificate at all.
    assert_eq!(
        kind_of(check(&a.register_attested(
            "c",
            "packed",
            statement(vec![1, 2, 3], false)
        ))),
        ErrorKind::InvalidParameter
    );
}

#[test]
fn fido_u2f_attestation() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let cert = certificate_of(&a, |p| {
        p.distinguished_name.push(DnType::CommonName, "U2F key");
    });
    let statement = |rp_hash_of: &'static str| {
        let (a, cert) = (&a, cert.clone());
        move |auth: &[u8], client: &[u8]| {
            let mut data = vec![0u8];
            data.extend_from_slice(&sha256(rp_hash_of.as_bytes()));
            data.extend_from_slice(&client_data_hash(client));
            data.extend_from_slice(&a.credential_id);
            data.extend_from_slice(&a.public_point());
            let _ = auth;
            Cbor::Map(vec![
                (text("sig"), bytes(&a.sign_message(&data))),
                (text("x5c"), Cbor::Array(vec![bytes(&cert)])),
            ])
        }
    };
    check(&a.register_attested("c", "fido-u2f", statement(RP))).expect("accepted");
    // Signed for another relying party.
    assert_eq!(
        kind_of(check(&a.register_attested(
            "c",
            "fido-u2f",
            statement("evil.example.com")
        ))),
        ErrorKind::InvalidParameter
    );
    // Exactly one certificate.
    let two = a.register_attested("c", "fido-u2f", |_, _| {
        Cbor::Map(vec![
            (text("sig"), bytes(&[0u8; 8])),
            (text("x5c"), Cbor::Array(vec![bytes(&cert), bytes(&cert)])),
        ])
    });
    assert_eq!(kind_of(check(&two)), ErrorKind::InvalidParameter);
}

#[test]
fn apple_attestation() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let with_nonce = |nonce: Vec<u8>| {
        certificate_of(&a, |p| {
            p.distinguished_name
                .push(DnType::CommonName, "Apple credential");
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 2, 840, 113635, 100, 8, 2],
                der(&[0x30], &der(&[0xa1], &der(&[4], &nonce))),
            ));
        })
    };
    let credential = a.register_attested("c", "apple", |auth, client| {
        let cert = with_nonce(sha256(&signed(auth, client)).to_vec());
        Cbor::Map(vec![(text("x5c"), Cbor::Array(vec![bytes(&cert)]))])
    });
    check(&credential).expect("accepted");
    let wrong = a.register_attested("c", "apple", |_, _| {
        Cbor::Map(vec![(
            text("x5c"),
            Cbor::Array(vec![bytes(&with_nonce(vec![9u8; 32]))]),
        )])
    });
    assert!(check(&wrong)
        .expect_err("refused")
        .message
        .contains("nonce"));
    // The certificate must be of the passkey's own key.
    let other = SoftAuthenticator::new(RP, ORIGIN);
    let foreign = a.register_attested("c", "apple", |auth, client| {
        let nonce = sha256(&signed(auth, client)).to_vec();
        let cert = certificate_of(&other, |p| {
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 2, 840, 113635, 100, 8, 2],
                der(&[0x30], &der(&[0xa1], &der(&[4], &nonce))),
            ));
        });
        Cbor::Map(vec![(text("x5c"), Cbor::Array(vec![bytes(&cert)]))])
    });
    assert!(check(&foreign)
        .expect_err("refused")
        .message
        .contains("key"));
}

/// An Android key description: the challenge, then the lists (software
/// enforced empty, TEE enforced `tee`).
fn key_description(challenge: &[u8], tee: &[u8]) -> Vec<u8> {
    let mut fields = Vec::new();
    fields.extend(der(&[2], &[3]));
    fields.extend(der(&[0x0a], &[1]));
    fields.extend(der(&[2], &[4]));
    fields.extend(der(&[0x0a], &[1]));
    fields.extend(der(&[4], challenge));
    fields.extend(der(&[4], &[]));
    fields.extend(der(&[0x30], &[]));
    fields.extend(der(&[0x30], tee));
    der(&[0x30], &fields)
}

/// purpose [1] SET { SIGN }, origin [702] GENERATED.
fn signing_key_lists() -> Vec<u8> {
    let mut out = der(&[0xa1], &der(&[0x31], &der(&[2], &[2])));
    out.extend(der(&[0xbf, 0x85, 0x3e], &der(&[2], &[0])));
    out
}

#[test]
fn android_key_attestation() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let attested = |tee: Vec<u8>, challenge_of_other: bool| {
        let a = &a;
        move |auth: &[u8], client: &[u8]| {
            let challenge = if challenge_of_other {
                vec![1u8; 32]
            } else {
                client_data_hash(client)
            };
            let cert = certificate_of(a, |p| {
                p.distinguished_name
                    .push(DnType::CommonName, "Android Keystore Key");
                p.custom_extensions.push(CustomExtension::from_oid_content(
                    &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17],
                    key_description(&challenge, &tee),
                ));
            });
            Cbor::Map(vec![
                (text("alg"), Cbor::Integer((-7).into())),
                (text("sig"), bytes(&a.sign_message(&signed(auth, client)))),
                (text("x5c"), Cbor::Array(vec![bytes(&cert)])),
            ])
        }
    };
    check(&a.register_attested("c", "android-key", attested(signing_key_lists(), false)))
        .expect("accepted");
    let refused =
        check(&a.register_attested("c", "android-key", attested(signing_key_lists(), true)));
    assert!(refused.expect_err("refused").message.contains("challenge"));
    // A key for all applications.
    let mut all = signing_key_lists();
    all.extend(der(&[0xbf, 0x84, 0x58], &der(&[5], &[])));
    let refused = check(&a.register_attested("c", "android-key", attested(all, false)));
    assert!(refused
        .expect_err("refused")
        .message
        .contains("all applications"));
    // Not a signing key.
    let refused = check(&a.register_attested("c", "android-key", attested(Vec::new(), false)));
    assert!(refused.expect_err("refused").message.contains("signing"));
}

/// A TPMT_PUBLIC of the authenticator's P-256 key.
fn tpm_pub_area(a: &SoftAuthenticator) -> Vec<u8> {
    let point = a.public_point();
    let mut out = Vec::new();
    out.extend_from_slice(&0x0023u16.to_be_bytes()); // ECC
    out.extend_from_slice(&0x000bu16.to_be_bytes()); // nameAlg SHA-256
    out.extend_from_slice(&0x0004_0472u32.to_be_bytes()); // objectAttributes
    out.extend_from_slice(&0u16.to_be_bytes()); // authPolicy
    out.extend_from_slice(&0x0010u16.to_be_bytes()); // symmetric NULL
    out.extend_from_slice(&0x0010u16.to_be_bytes()); // scheme NULL
    out.extend_from_slice(&0x0003u16.to_be_bytes()); // NIST P-256
    out.extend_from_slice(&0x0010u16.to_be_bytes()); // kdf NULL
    for half in [&point[1..33], &point[33..65]] {
        out.extend_from_slice(&32u16.to_be_bytes());
        out.extend_from_slice(half);
    }
    out
}

/// A TPMS_ATTEST certifying `pub_area` over `extra`.
fn tpm_cert_info(pub_area: &[u8], extra: &[u8]) -> Vec<u8> {
    let mut out = 0xff54_4347u32.to_be_bytes().to_vec();
    out.extend_from_slice(&0x8017u16.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // qualifiedSigner
    out.extend_from_slice(&u16::try_from(extra.len()).unwrap().to_be_bytes());
    out.extend_from_slice(extra);
    out.extend_from_slice(&[0u8; 17 + 8]); // clockInfo, firmwareVersion
    let mut name = 0x000bu16.to_be_bytes().to_vec();
    name.extend_from_slice(&sha256(pub_area));
    out.extend_from_slice(&u16::try_from(name.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&name);
    out.extend_from_slice(&0u16.to_be_bytes()); // qualifiedName
    out
}

#[test]
fn tpm_attestation() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let aik = certificate_of(&a, |p| {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![2, 23, 133, 8, 3])];
    });
    let attested = |aik: Vec<u8>, pub_area: Vec<u8>, wrong_extra: bool| {
        let a = &a;
        move |auth: &[u8], client: &[u8]| {
            let extra = if wrong_extra {
                vec![0u8; 32]
            } else {
                sha256(&signed(auth, client)).to_vec()
            };
            let info = tpm_cert_info(&pub_area, &extra);
            Cbor::Map(vec![
                (text("ver"), text("2.0")),
                (text("alg"), Cbor::Integer((-7).into())),
                (text("x5c"), Cbor::Array(vec![bytes(&aik)])),
                (text("sig"), bytes(&a.sign_message(&info))),
                (text("certInfo"), bytes(&info)),
                (text("pubArea"), bytes(&pub_area)),
            ])
        }
    };
    check(&a.register_attested("c", "tpm", attested(aik.clone(), tpm_pub_area(&a), false)))
        .expect("accepted");
    let refused =
        check(&a.register_attested("c", "tpm", attested(aik.clone(), tpm_pub_area(&a), true)));
    assert!(refused
        .expect_err("refused")
        .message
        .contains("not of this registration"));
    // pubArea of another key.
    let other = SoftAuthenticator::new(RP, ORIGIN);
    let refused =
        check(&a.register_attested("c", "tpm", attested(aik, tpm_pub_area(&other), false)));
    assert!(refused
        .expect_err("refused")
        .message
        .contains("not the passkey's"));
    // An AIK certificate has an empty subject and the AIK key usage.
    let named = certificate_of(&a, |p| {
        p.distinguished_name.push(DnType::CommonName, "AIK");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![2, 23, 133, 8, 3])];
    });
    assert_eq!(
        kind_of(check(&a.register_attested(
            "c",
            "tpm",
            attested(named, tpm_pub_area(&a), false)
        ))),
        ErrorKind::InvalidParameter
    );
    let plain = certificate_of(&a, |_| {});
    let refused = check(&a.register_attested("c", "tpm", attested(plain, tpm_pub_area(&a), false)));
    assert!(refused.expect_err("refused").message.contains("AIK"));
}

#[test]
fn android_safetynet_attestation() {
    let a = SoftAuthenticator::new(RP, ORIGIN);
    let google = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let cert_for = |host: &str| {
        CertificateParams::new(vec![host.to_owned()])
            .expect("params")
            .self_signed(&google)
            .expect("certificate")
            .der()
            .to_vec()
    };
    let response = |cert: &[u8], nonce: Option<String>, cts: bool, at: i64| {
        let (cert, google) = (cert.to_vec(), &google);
        move |auth: &[u8], client: &[u8]| {
            let header = serde_json::json!({"alg": "RS256", "x5c": [STANDARD.encode(&cert)]});
            let nonce = nonce.unwrap_or_else(|| STANDARD.encode(sha256(&signed(auth, client))));
            let claims = serde_json::json!({"nonce": nonce, "timestampMs": at,
                "ctsProfileMatch": cts, "basicIntegrity": cts, "apkPackageName": "com.google.android.gms"});
            let signing_input = format!(
                "{}.{}",
                B64.encode(header.to_string()),
                B64.encode(claims.to_string())
            );
            let signature = google.sign(signing_input.as_bytes()).expect("sign");
            let jws = format!("{signing_input}.{}", B64.encode(signature));
            Cbor::Map(vec![
                (text("ver"), text("241035029")),
                (text("response"), bytes(jws.as_bytes())),
            ])
        }
    };
    let cert = cert_for("attest.android.com");
    check(&a.register_attested(
        "c",
        "android-safetynet",
        response(&cert, None, true, NOW_MS),
    ))
    .expect("accepted");
    for (credential, says) in [
        (
            a.register_attested(
                "c",
                "android-safetynet",
                response(&cert, Some("bm9uY2U=".into()), true, NOW_MS),
            ),
            "nonce",
        ),
        (
            a.register_attested(
                "c",
                "android-safetynet",
                response(&cert, None, false, NOW_MS),
            ),
            "profile",
        ),
        (
            a.register_attested(
                "c",
                "android-safetynet",
                response(&cert, None, true, NOW_MS - 3_600_000),
            ),
            "recent",
        ),
        (
            a.register_attested(
                "c",
                "android-safetynet",
                response(&cert_for("attest.example.com"), None, true, NOW_MS),
            ),
            "attest.android.com",
        ),
    ] {
        let refused = check(&credential).expect_err("refused");
        assert!(
            refused.message.contains(says),
            "{says}: {}",
            refused.message
        );
    }
}

//! A SAML identity provider's metadata, as Cognito reads it when a SAML
//! provider is created or updated: the document (`MetadataFile`, or
//! fetched from `MetadataURL`) must be SAML 2.0 metadata with an
//! `IDPSSODescriptor`, whose HTTP-Redirect `SingleSignOnService` and
//! `SingleLogoutService` locations become the provider's
//! `SSORedirectBindingURI` and `SLORedirectBindingURI`. Cognito's own
//! encryption certificate for the provider (`ActiveEncryptionCertificate`)
//! is made here too. Refusals are InvalidParameterException with the texts
//! AWS answers (seen in reports of its errors).
//!
//! The XML is parsed with roxmltree: no DTDs, no external entities.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// The hidden detail that keeps the private key of the provider's
/// encryption certificate (PKCS#8, base64); never returned.
pub const ENCRYPTION_KEY: &str = "cognate:encryption_key";

/// The hidden detail that keeps the provider's entity ID (from its
/// metadata, read when the provider is created or updated).
pub const ENTITY_ID: &str = "cognate:idp_entity_id";
/// The hidden detail that keeps the provider's signing certificates
/// (base64 DER, space-separated).
pub const SIGNING_CERTIFICATES: &str = "cognate:idp_signing_certificates";

/// The provider's trust as its details keep it; providers stored before
/// these details existed are read from their MetadataFile.
pub fn stored_trust(details: &BTreeMap<String, String>) -> Option<IdpTrust> {
    use base64::Engine;
    match (details.get(ENTITY_ID), details.get(SIGNING_CERTIFICATES)) {
        (Some(entity_id), Some(certificates)) => Some(IdpTrust {
            entity_id: entity_id.clone(),
            certificates: certificates
                .split_ascii_whitespace()
                .filter_map(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
                .collect(),
        }),
        _ => idp_trust(details.get("MetadataFile")?).ok(),
    }
}

/// What the metadata says the provider's endpoints are.
#[derive(Debug, PartialEq, Eq)]
pub struct IdpEndpoints {
    pub sso_redirect: String,
    pub slo_redirect: Option<String>,
}

fn unmarshallable() -> Error {
    Error::invalid_parameter("Unable to unmarshall metadata")
}

/// Reads an identity provider's endpoints from its metadata document.
pub fn idp_endpoints(xml: &str) -> Result<IdpEndpoints> {
    let doc = roxmltree::Document::parse(xml).map_err(|_| unmarshallable())?;
    let root = doc.root_element();
    let is = |n: &roxmltree::Node, name: &str| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(MD)
    };
    let entities: Vec<roxmltree::Node> = if is(&root, "EntityDescriptor") {
        vec![root]
    } else if is(&root, "EntitiesDescriptor") {
        root.descendants()
            .filter(|n| is(n, "EntityDescriptor"))
            .collect()
    } else {
        return Err(unmarshallable());
    };
    let idp = entities
        .iter()
        .flat_map(|e| e.children())
        .find(|n| is(n, "IDPSSODescriptor"))
        .ok_or_else(unmarshallable)?;
    let redirect_location = |service: &str| {
        idp.children()
            .filter(|n| is(n, service) && n.attribute("Binding") == Some(REDIRECT))
            .filter_map(|n| n.attribute("Location"))
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    };
    let sso_redirect = redirect_location("SingleSignOnService").ok_or_else(|| {
        Error::invalid_parameter(
            "No SingleSignOn Http redirect binding location found in metadata.",
        )
    })?;
    Ok(IdpEndpoints {
        sso_redirect,
        slo_redirect: redirect_location("SingleLogoutService"),
    })
}

/// What a provider's answers are checked against: its entity ID and the
/// certificates (DER) of its `IDPSSODescriptor`'s signing keys (a
/// `KeyDescriptor` with `use="signing"` or no `use`).
#[derive(Debug, PartialEq, Eq)]
pub struct IdpTrust {
    pub entity_id: String,
    pub certificates: Vec<Vec<u8>>,
}

/// Reads the provider's entity ID and signing certificates.
pub fn idp_trust(xml: &str) -> Result<IdpTrust> {
    use base64::Engine;
    let doc = roxmltree::Document::parse(xml).map_err(|_| unmarshallable())?;
    let is = |n: &roxmltree::Node, ns: &str, name: &str| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
    };
    let idp = doc
        .descendants()
        .find(|n| is(n, MD, "IDPSSODescriptor"))
        .ok_or_else(unmarshallable)?;
    let entity = idp
        .parent_element()
        .filter(|e| is(e, MD, "EntityDescriptor"))
        .ok_or_else(unmarshallable)?;
    let entity_id = entity
        .attribute("entityID")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(unmarshallable)?
        .to_owned();
    let mut certificates = Vec::new();
    for descriptor in idp.children().filter(|n| is(n, MD, "KeyDescriptor")) {
        if descriptor.attribute("use").is_some_and(|u| u != "signing") {
            continue;
        }
        for cert in descriptor
            .descendants()
            .filter(|n| is(n, DS, "X509Certificate"))
        {
            let text: String = cert
                .descendants()
                .filter(roxmltree::Node::is_text)
                .filter_map(|t| t.text())
                .flat_map(str::chars)
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| unmarshallable())?;
            certificates.push(der);
        }
    }
    Ok(IdpTrust {
        entity_id,
        certificates,
    })
}

/// Sets the details Cognito derives for a SAML provider from `xml`: the
/// redirect binding URIs, and the encryption certificate (`previous`'s,
/// else a new RSA-2048 self-signed one, CN `<pool id>`-scoped).
pub fn derive_details(
    details: &mut BTreeMap<String, String>,
    xml: &str,
    previous: Option<&BTreeMap<String, String>>,
    common_name: &str,
    now_secs: i64,
) -> Result<()> {
    let endpoints = idp_endpoints(xml)?;
    let trust = idp_trust(xml)?;
    // AWS: the signing certificates must not be expired when the provider
    // is configured.
    for der in &trust.certificates {
        use x509_parser::prelude::FromDer;
        let expired = match x509_parser::certificate::X509Certificate::from_der(der) {
            Ok((_, cert)) => cert.validity().not_after.timestamp() <= now_secs,
            Err(_) => return Err(unmarshallable()),
        };
        if expired {
            return Err(Error::invalid_parameter(
                "A signing certificate in the metadata has expired.",
            ));
        }
    }
    details.insert(ENTITY_ID.into(), trust.entity_id);
    let certificates: Vec<String> = trust
        .certificates
        .iter()
        .map(|der| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(der)
        })
        .collect();
    details.insert(SIGNING_CERTIFICATES.into(), certificates.join(" "));
    details.insert("SSORedirectBindingURI".into(), endpoints.sso_redirect);
    match endpoints.slo_redirect {
        Some(slo) => details.insert("SLORedirectBindingURI".into(), slo),
        None => details.remove("SLORedirectBindingURI"),
    };
    let kept = previous.and_then(|p| {
        Some((
            p.get("ActiveEncryptionCertificate")?.clone(),
            p.get(ENCRYPTION_KEY)?.clone(),
        ))
    });
    let (certificate, key) = match kept {
        Some(pair) => pair,
        None => new_encryption_certificate(common_name, now_secs)?,
    };
    details.insert("ActiveEncryptionCertificate".into(), certificate);
    details.insert(ENCRYPTION_KEY.into(), key);
    Ok(())
}

/// A fresh RSA key and its self-signed certificate: (certificate as
/// base64 DER, key as base64 PKCS#8).
fn new_encryption_certificate(common_name: &str, now_secs: i64) -> Result<(String, String)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = cognate_crypto::SigningKey::generate()
        .map_err(|e| Error::internal(format!("encryption key: {e}")))?;
    let serial = cognate_crypto::random::bytes(16);
    let der = cognate_crypto::cert::self_signed_der(key.pkcs8(), common_name, now_secs, &serial)
        .map_err(|e| Error::internal(format!("encryption certificate: {e}")))?;
    Ok((b64.encode(der), b64.encode(key.pkcs8())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(services: &str) -> String {
        format!(
            r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    {services}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
        )
    }

    #[test]
    fn the_redirect_bindings_are_read() {
        let xml = metadata(
            r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/slo"/>
               <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/post"/>
               <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>"#,
        );
        assert_eq!(
            idp_endpoints(&xml).unwrap(),
            IdpEndpoints {
                sso_redirect: "https://idp.example.com/sso".into(),
                slo_redirect: Some("https://idp.example.com/slo".into()),
            }
        );
        // A default namespace and an EntitiesDescriptor serve as well.
        let wrapped = r#"<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
          <EntityDescriptor entityID="x"><IDPSSODescriptor>
            <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location=" https://idp/sso "/>
          </IDPSSODescriptor></EntityDescriptor></EntitiesDescriptor>"#;
        assert_eq!(
            idp_endpoints(wrapped).unwrap(),
            IdpEndpoints {
                sso_redirect: "https://idp/sso".into(),
                slo_redirect: None,
            }
        );
    }

    #[test]
    fn refusals_have_awss_texts() {
        let message = |xml: &str| idp_endpoints(xml).unwrap_err().message;
        assert_eq!(message("not xml"), "Unable to unmarshall metadata");
        assert_eq!(message("<a/>"), "Unable to unmarshall metadata");
        // A DTD (entity expansion) is refused.
        assert_eq!(
            message(r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#),
            "Unable to unmarshall metadata"
        );
        // An SP's metadata has no IdP descriptor.
        assert_eq!(
            message(
                r#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><SPSSODescriptor/></EntityDescriptor>"#
            ),
            "Unable to unmarshall metadata"
        );
        let post_only = metadata(
            r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso"/>"#,
        );
        assert_eq!(
            message(&post_only),
            "No SingleSignOn Http redirect binding location found in metadata."
        );
    }

    #[test]
    fn the_encryption_certificate_is_made_once() {
        let xml = metadata(
            r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>"#,
        );
        let mut first = BTreeMap::from([("MetadataFile".to_owned(), xml.clone())]);
        first.insert("SLORedirectBindingURI".into(), "stale".into());
        derive_details(&mut first, &xml, None, "us-east-1_abc", 1_700_000_000).unwrap();
        assert_eq!(
            first["SSORedirectBindingURI"],
            "https://idp.example.com/sso"
        );
        assert!(!first.contains_key("SLORedirectBindingURI"));
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(&first["ActiveEncryptionCertificate"])
            .unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(cert.subject().to_string().contains("us-east-1_abc"));
        let mut again = BTreeMap::new();
        derive_details(
            &mut again,
            &xml,
            Some(&first),
            "us-east-1_abc",
            1_800_000_000,
        )
        .unwrap();
        assert_eq!(
            again["ActiveEncryptionCertificate"],
            first["ActiveEncryptionCertificate"]
        );
        assert_eq!(again[ENCRYPTION_KEY], first[ENCRYPTION_KEY]);
    }

    #[test]
    fn signing_certificates_are_kept_and_must_not_have_expired() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = cognate_crypto::SigningKey::generate().unwrap();
        // Valid ten years from 2023-11-14.
        let der =
            cognate_crypto::cert::self_signed_der(key.pkcs8(), "idp", 1_700_000_000, &[1; 16])
                .unwrap();
        let xml = metadata(&format!(
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>
{}
</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>"#,
            b64.encode(&der)
        ));
        let mut details = BTreeMap::new();
        derive_details(&mut details, &xml, None, "us-east-1_abc", 1_700_000_100).unwrap();
        assert_eq!(details[ENTITY_ID], "https://idp.example.com");
        assert_eq!(details[SIGNING_CERTIFICATES], b64.encode(&der));
        let trust = stored_trust(&details).unwrap();
        assert_eq!(trust.certificates, vec![der]);
        let later = 1_700_000_000 + 11 * 365 * 24 * 3600;
        let err =
            derive_details(&mut BTreeMap::new(), &xml, None, "us-east-1_abc", later).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
    }
}

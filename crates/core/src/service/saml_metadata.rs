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
const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// The hidden detail that keeps the private key of the provider's
/// encryption certificate (PKCS#8, base64); never returned.
pub const ENCRYPTION_KEY: &str = "cognate:encryption_key";

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
}

//! A SAML identity provider's answer (the `SAMLResponse` posted to
//! `/saml2/idpresponse`), read and trusted as a service provider must: the
//! XML signature (XML-DSig, exclusive canonicalization, RSA with SHA-2) of
//! the `Response` or of its one `Assertion` is verified against the
//! signing certificates of the provider's metadata (never a key the
//! message brings), and the facts are read only from the element that
//! signature covers, so a second, unsigned assertion wrapped around or
//! beside the signed one is never read. The assertion must be for us now:
//! the issuer is the provider's entity ID, the audience is the pool's
//! service provider (`urn:amazon:cognito:sp:<pool id>`), the bearer
//! confirmation's recipient is our ACS URL, the answer is to the
//! authentication request we sent, and its validity window holds.
//!
//! Refusals carry a fixed reason (logged) and nothing from the message.
//! The XML is parsed with roxmltree: no DTDs, so no entity expansion;
//! documents with two elements of one `ID` are refused outright.

use std::collections::{BTreeMap, HashSet};

use cognate_crypto::webauthn::Sha2;
use roxmltree::{Document, Node, NodeId};

const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// How far the provider's clock may be from ours.
pub const CLOCK_SKEW_SECS: i64 = 180;
/// How old an unsolicited assertion may be (Cognito: six minutes).
pub const UNSOLICITED_MAX_AGE_SECS: i64 = 6 * 60;
/// Responses larger than this (decoded) are refused.
pub const MAX_RESPONSE: usize = 256 * 1024;

/// What we expect of an answer.
pub struct Expected<'a> {
    /// The provider's entity ID (its metadata's `entityID`).
    pub issuer: &'a str,
    /// The signing certificates of the provider's metadata (DER).
    pub certificates: &'a [Vec<u8>],
    /// Our service provider entity ID (the audience).
    pub audience: &'a str,
    /// Our assertion consumer service URL.
    pub acs_url: &'a str,
    /// The ID of the authentication request we sent; `None` for an
    /// unsolicited (IdP-initiated) response, which must answer no request
    /// and have been issued within [`UNSOLICITED_MAX_AGE_SECS`].
    pub request_id: Option<&'a str>,
    pub now_secs: i64,
    /// Where the provider encrypts its assertions (`EncryptedResponses`):
    /// the private key (PKCS#8) of our encryption certificate for it.
    /// Assertions must then be encrypted; else they must not be.
    pub decryption_key: Option<&'a [u8]>,
}

/// What a verified assertion says about the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    /// The assertion's `ID`.
    pub id: String,
    pub name_id: String,
    pub session_index: Option<String>,
    /// Each attribute's values, by the attribute's `Name`.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// Why an answer is not trusted (a fixed text, for the log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untrusted(pub &'static str);

/// The provider said the sign-in failed (its top-level status code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    Untrusted(Untrusted),
    Status(String),
}

impl From<Untrusted> for Refused {
    fn from(u: Untrusted) -> Self {
        Refused::Untrusted(u)
    }
}

fn untrusted(reason: &'static str) -> Untrusted {
    Untrusted(reason)
}

/// Reads and verifies a response (the XML, already base64-decoded).
pub fn verify_response(xml: &str, expected: &Expected) -> Result<Assertion, Refused> {
    if xml.len() > MAX_RESPONSE {
        return Err(untrusted("response_too_large").into());
    }
    let doc = Document::parse(xml).map_err(|_| untrusted("response_not_xml"))?;
    unique_ids(&doc)?;
    let response = doc.root_element();
    if !is(&response, SAMLP, "Response") || response.attribute("Version") != Some("2.0") {
        return Err(untrusted("not_a_saml2_response").into());
    }
    let status = child(&response, SAMLP, "Status")
        .and_then(|s| child(&s, SAMLP, "StatusCode"))
        .and_then(|c| c.attribute("Value"))
        .ok_or_else(|| untrusted("response_without_status"))?;
    if let Some(destination) = response.attribute("Destination") {
        if destination != expected.acs_url {
            return Err(untrusted("response_wrong_destination").into());
        }
    }
    match (response.attribute("InResponseTo"), expected.request_id) {
        (Some(to), Some(id)) if to != id => {
            return Err(untrusted("response_to_another_request").into());
        }
        (Some(_), None) => return Err(untrusted("unsolicited_response_answers_a_request").into()),
        _ => {}
    }
    if status != SUCCESS {
        return Err(Refused::Status(status.chars().take(200).collect()));
    }
    let assertions: Vec<Node> = response
        .children()
        .filter(|c| is(c, SAML, "Assertion") || is(c, SAML, "EncryptedAssertion"))
        .collect();
    let [assertion] = assertions.as_slice() else {
        return Err(untrusted("not_one_assertion").into());
    };
    let encrypted = assertion.tag_name().name() == "EncryptedAssertion";
    if encrypted != expected.decryption_key.is_some() {
        return Err(untrusted(if encrypted {
            "encrypted_assertion_not_expected"
        } else {
            "assertion_not_encrypted"
        })
        .into());
    }
    // The response's signature covers its assertion; without one the
    // assertion must be signed itself.
    let response_signed = child(&response, DS, "Signature").is_some();
    if response_signed {
        verify_enveloped(&doc, &response, expected.certificates)?;
    }
    let Some(key) = expected.decryption_key.filter(|_| encrypted) else {
        if !response_signed {
            verify_signed_assertion(&doc, assertion, expected)?;
        }
        return Ok(read_assertion(assertion, expected)?);
    };
    // The decrypted assertion is read in the namespaces in scope where it
    // was encrypted (a provider may declare its prefixes on the Response).
    let plain = decrypt_assertion(assertion, key)?;
    let mut wrapper = String::from("<w");
    for ns in assertion.namespaces() {
        match ns.name() {
            Some("xml") => continue,
            Some(prefix) => {
                wrapper.push_str(" xmlns:");
                wrapper.push_str(prefix);
            }
            None => wrapper.push_str(" xmlns"),
        }
        wrapper.push_str("=\"");
        escape_attribute(ns.uri(), &mut wrapper);
        wrapper.push('"');
    }
    wrapper.push('>');
    wrapper.push_str(&plain);
    wrapper.push_str("</w>");
    let inner = Document::parse(&wrapper).map_err(|_| untrusted("decrypted_assertion_not_xml"))?;
    unique_ids(&inner)?;
    let root = inner.root_element();
    let only_elements = root
        .children()
        .all(|c| c.is_element() || (c.is_text() && c.text().is_some_and(|t| t.trim().is_empty())));
    let mut elements = root.children().filter(Node::is_element);
    let (Some(decrypted), None, true) = (elements.next(), elements.next(), only_elements) else {
        return Err(untrusted("decrypted_not_one_assertion").into());
    };
    if !is(&decrypted, SAML, "Assertion") {
        return Err(untrusted("decrypted_not_one_assertion").into());
    }
    if !response_signed {
        verify_signed_assertion(&inner, &decrypted, expected)?;
    }
    Ok(read_assertion(&decrypted, expected)?)
}

fn verify_signed_assertion(
    doc: &Document,
    assertion: &Node,
    expected: &Expected,
) -> Result<(), Untrusted> {
    if child(assertion, DS, "Signature").is_none() {
        return Err(untrusted("unsigned"));
    }
    verify_enveloped(doc, assertion, expected.certificates)
}

const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// The XML text of an `EncryptedAssertion` (XML Encryption: an
/// `EncryptedData` whose `EncryptedKey` is in its KeyInfo or beside it).
fn decrypt_assertion(encrypted: &Node, pkcs8: &[u8]) -> Result<String, Untrusted> {
    use cognate_crypto::xmlenc::{decrypt_content, unwrap_key, ContentCipher, OaepHash};
    let bad = || untrusted("assertion_not_decryptable");
    let data = child(encrypted, XENC, "EncryptedData").ok_or_else(bad)?;
    let cipher = match child(&data, XENC, "EncryptionMethod").and_then(|m| m.attribute("Algorithm"))
    {
        Some("http://www.w3.org/2001/04/xmlenc#aes128-cbc") => ContentCipher::Aes128Cbc,
        Some("http://www.w3.org/2001/04/xmlenc#aes256-cbc") => ContentCipher::Aes256Cbc,
        Some("http://www.w3.org/2009/xmlenc11#aes128-gcm") => ContentCipher::Aes128Gcm,
        Some("http://www.w3.org/2009/xmlenc11#aes256-gcm") => ContentCipher::Aes256Gcm,
        _ => return Err(untrusted("content_cipher_unsupported")),
    };
    let encrypted_key = child(&data, DS, "KeyInfo")
        .and_then(|k| child(&k, XENC, "EncryptedKey"))
        .or_else(|| child(encrypted, XENC, "EncryptedKey"))
        .ok_or_else(bad)?;
    let method = child(&encrypted_key, XENC, "EncryptionMethod").ok_or_else(bad)?;
    let digest = child(&method, DS, "DigestMethod").and_then(|d| d.attribute("Algorithm"));
    let mgf = child(&method, XENC11, "MGF").and_then(|m| m.attribute("Algorithm"));
    if child(&method, XENC, "OAEPparams").is_some() {
        return Err(untrusted("key_transport_unsupported"));
    }
    let hash = match (method.attribute("Algorithm"), digest, mgf) {
        (Some("http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"), None | Some(SHA1), None) => {
            OaepHash::Sha1
        }
        (
            Some("http://www.w3.org/2009/xmlenc11#rsa-oaep"),
            None | Some(SHA1),
            None | Some("http://www.w3.org/2009/xmlenc11#mgf1sha1"),
        ) => OaepHash::Sha1,
        (
            Some("http://www.w3.org/2009/xmlenc11#rsa-oaep"),
            Some(SHA256),
            Some("http://www.w3.org/2009/xmlenc11#mgf1sha256"),
        ) => OaepHash::Sha256,
        _ => return Err(untrusted("key_transport_unsupported")),
    };
    let cipher_value = |node: &Node| {
        child(node, XENC, "CipherData")
            .and_then(|c| child(&c, XENC, "CipherValue"))
            .and_then(|v| base64_text(&full_text(&v)))
    };
    let wrapped = cipher_value(&encrypted_key).ok_or_else(bad)?;
    let content = cipher_value(&data).ok_or_else(bad)?;
    let key = unwrap_key(pkcs8, hash, &wrapped).map_err(|_| bad())?;
    let plain = decrypt_content(cipher, &key, &content).map_err(|_| bad())?;
    String::from_utf8(plain).map_err(|_| bad())
}

fn read_assertion(assertion: &Node, expected: &Expected) -> Result<Assertion, Untrusted> {
    if assertion.attribute("Version") != Some("2.0") {
        return Err(untrusted("assertion_not_saml2"));
    }
    let issuer = child(assertion, SAML, "Issuer").map(|i| full_text(&i));
    if issuer.as_deref().map(str::trim) != Some(expected.issuer) {
        return Err(untrusted("assertion_wrong_issuer"));
    }
    let id = assertion.attribute("ID").unwrap_or_default().to_owned();
    if expected.request_id.is_none() {
        let issued = assertion.attribute("IssueInstant").and_then(parse_instant);
        let fresh = issued.is_some_and(|t| {
            expected.now_secs - UNSOLICITED_MAX_AGE_SECS <= t
                && t <= expected.now_secs + CLOCK_SKEW_SECS
        });
        if !fresh || id.is_empty() {
            return Err(untrusted("unsolicited_assertion_not_fresh"));
        }
    }
    let subject = child(assertion, SAML, "Subject").ok_or_else(|| untrusted("no_subject"))?;
    let name_id = child(&subject, SAML, "NameID")
        .map(|n| full_text(&n).trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| untrusted("no_name_id"))?;
    // A bearer confirmation for our ACS URL, answering our request, still valid.
    let now = expected.now_secs;
    let confirmed = children(&subject, SAML, "SubjectConfirmation")
        .filter(|c| c.attribute("Method") == Some(BEARER))
        .filter_map(|c| child(&c, SAML, "SubjectConfirmationData"))
        .any(|data| {
            let recipient_ok = data.attribute("Recipient") == Some(expected.acs_url);
            // SAML's profile: the confirmation of an answer names the
            // request; an unsolicited one names none.
            let request_ok = data.attribute("InResponseTo") == expected.request_id;
            let time_ok = data
                .attribute("NotOnOrAfter")
                .and_then(parse_instant)
                .is_some_and(|t| now < t + CLOCK_SKEW_SECS)
                && data
                    .attribute("NotBefore")
                    .is_none_or(|t| parse_instant(t).is_some_and(|t| t - CLOCK_SKEW_SECS <= now));
            recipient_ok && request_ok && time_ok
        });
    if !confirmed {
        return Err(untrusted("no_valid_bearer_confirmation"));
    }
    let conditions =
        child(assertion, SAML, "Conditions").ok_or_else(|| untrusted("no_conditions"))?;
    let window_ok = conditions
        .attribute("NotBefore")
        .is_none_or(|t| parse_instant(t).is_some_and(|t| t - CLOCK_SKEW_SECS <= now))
        && conditions
            .attribute("NotOnOrAfter")
            .is_none_or(|t| parse_instant(t).is_some_and(|t| now < t + CLOCK_SKEW_SECS));
    if !window_ok {
        return Err(untrusted("assertion_outside_its_validity"));
    }
    // Every AudienceRestriction must name us (they are all conditions).
    let mut restrictions = children(&conditions, SAML, "AudienceRestriction").peekable();
    if restrictions.peek().is_none() {
        return Err(untrusted("no_audience_restriction"));
    }
    let for_us = restrictions
        .all(|r| children(&r, SAML, "Audience").any(|a| full_text(&a).trim() == expected.audience));
    if !for_us {
        return Err(untrusted("assertion_for_another_audience"));
    }
    let session_index = children(assertion, SAML, "AuthnStatement")
        .find_map(|s| s.attribute("SessionIndex"))
        .map(str::to_owned);
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in children(assertion, SAML, "AttributeStatement") {
        for attribute in children(&statement, SAML, "Attribute") {
            let Some(name) = attribute.attribute("Name") else {
                continue;
            };
            let values = attributes.entry(name.to_owned()).or_default();
            for value in children(&attribute, SAML, "AttributeValue") {
                values.push(full_text(&value));
            }
        }
    }
    Ok(Assertion {
        id,
        name_id,
        session_index,
        attributes,
    })
}

/// All the text of an element, as its signature covers it: a comment
/// inside a value (`admin@example.com<!---->.evil.com`) is not signed, so
/// a reader of the first text node alone would read another value than
/// the one the provider signed.
fn full_text(node: &Node) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect()
}

fn is(node: &Node, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(namespace)
}

fn children<'a, 'i>(
    node: &Node<'a, 'i>,
    namespace: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| is(c, namespace, name))
}

fn child<'a, 'i>(
    node: &Node<'a, 'i>,
    namespace: &'static str,
    name: &'static str,
) -> Option<Node<'a, 'i>> {
    children(node, namespace, name).next()
}

/// Refuses a document in which two elements have the same `ID` (a
/// reference must name exactly one element).
fn unique_ids(doc: &Document) -> Result<(), Untrusted> {
    let mut seen = HashSet::new();
    for node in doc.descendants().filter(Node::is_element) {
        for attribute in node.attributes() {
            let id_like = matches!(attribute.name(), "ID" | "Id" | "AssertionID")
                && attribute.namespace().is_none();
            if id_like && !seen.insert(attribute.value()) {
                return Err(untrusted("duplicate_id"));
            }
        }
    }
    Ok(())
}

/// Verifies the enveloped signature that is a child of `signed`: one
/// reference, to `signed`'s own ID, transformed by enveloped-signature and
/// exclusive canonicalization only; its digest and the signature over the
/// canonical SignedInfo by one of `certificates`' RSA keys.
fn verify_enveloped(
    doc: &Document,
    signed: &Node,
    certificates: &[Vec<u8>],
) -> Result<(), Untrusted> {
    let mut signatures = children(signed, DS, "Signature");
    let (Some(signature), None) = (signatures.next(), signatures.next()) else {
        return Err(untrusted("not_one_signature"));
    };
    let id = signed
        .attribute("ID")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| untrusted("signed_element_without_id"))?;
    let signed_info =
        child(&signature, DS, "SignedInfo").ok_or_else(|| untrusted("no_signed_info"))?;
    let c14n_method = child(&signed_info, DS, "CanonicalizationMethod")
        .ok_or_else(|| untrusted("no_canonicalization_method"))?;
    if c14n_method.attribute("Algorithm") != Some(EXC_C14N) {
        return Err(untrusted("canonicalization_not_exclusive"));
    }
    let hash =
        match child(&signed_info, DS, "SignatureMethod").and_then(|m| m.attribute("Algorithm")) {
            Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256") => Sha2::Sha256,
            Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha384") => Sha2::Sha384,
            Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512") => Sha2::Sha512,
            _ => return Err(untrusted("signature_method_not_rsa_sha2")),
        };
    let mut references = children(&signed_info, DS, "Reference");
    let (Some(reference), None) = (references.next(), references.next()) else {
        return Err(untrusted("not_one_reference"));
    };
    if reference.attribute("URI") != Some(&format!("#{id}")) {
        return Err(untrusted("reference_not_to_the_signed_element"));
    }
    let mut enveloped = false;
    let mut prefixes = None;
    if let Some(transforms) = child(&reference, DS, "Transforms") {
        for transform in transforms.children().filter(Node::is_element) {
            if !is(&transform, DS, "Transform") {
                return Err(untrusted("unknown_transform"));
            }
            match transform.attribute("Algorithm") {
                Some(ENVELOPED) if !enveloped => enveloped = true,
                Some(EXC_C14N) if prefixes.is_none() => {
                    prefixes = Some(inclusive_prefixes(&transform))
                }
                _ => return Err(untrusted("unsupported_transform")),
            }
        }
    }
    if !enveloped {
        return Err(untrusted("signature_not_enveloped"));
    }
    let digest_hash =
        match child(&reference, DS, "DigestMethod").and_then(|m| m.attribute("Algorithm")) {
            Some("http://www.w3.org/2001/04/xmlenc#sha256") => Sha2::Sha256,
            Some("http://www.w3.org/2001/04/xmldsig-more#sha384") => Sha2::Sha384,
            Some("http://www.w3.org/2001/04/xmlenc#sha512") => Sha2::Sha512,
            _ => return Err(untrusted("digest_method_not_sha2")),
        };
    let digest_value = child(&reference, DS, "DigestValue")
        .and_then(|v| base64_text(&full_text(&v)))
        .ok_or_else(|| untrusted("digest_value_malformed"))?;
    let canonical = canonicalize(
        doc,
        signed,
        Some(signature.id()),
        &prefixes.unwrap_or_default(),
    );
    let digest = cognate_crypto::digest::sha2(digest_hash, canonical.as_bytes());
    if !cognate_crypto::digest::constant_time_eq(&digest, &digest_value) {
        return Err(untrusted("digest_mismatch"));
    }
    let signature_value = child(&signature, DS, "SignatureValue")
        .and_then(|v| base64_text(&full_text(&v)))
        .ok_or_else(|| untrusted("signature_value_malformed"))?;
    let info_prefixes = inclusive_prefixes(&c14n_method);
    let canonical_info = canonicalize(doc, &signed_info, None, &info_prefixes);
    let verified = certificates
        .iter()
        .filter_map(|der| rsa_key(der))
        .any(|(n, e)| {
            cognate_crypto::webauthn::verify_rsa_pkcs1(
                &n,
                &e,
                hash,
                canonical_info.as_bytes(),
                &signature_value,
            )
        });
    if !verified {
        return Err(untrusted("signature_not_by_the_provider"));
    }
    Ok(())
}

/// The RSA public key (modulus, exponent) of a DER certificate.
fn rsa_key(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    match cert.public_key().parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(rsa) => {
            let strip = |b: &[u8]| {
                let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
                b[start..].to_vec()
            };
            Some((strip(rsa.modulus), strip(rsa.exponent)))
        }
        _ => None,
    }
}

fn base64_text(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// The `InclusiveNamespaces PrefixList` of an exclusive canonicalization
/// (`#default` is the default namespace, kept as "").
fn inclusive_prefixes(method: &Node) -> Vec<String> {
    method
        .children()
        .find(|c| is(c, EXC_C14N, "InclusiveNamespaces"))
        .and_then(|n| n.attribute("PrefixList"))
        .map(|list| {
            list.split_ascii_whitespace()
                .map(|p| {
                    if p == "#default" {
                        String::new()
                    } else {
                        p.to_owned()
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Exclusive XML Canonicalization 1.0 (without comments) of the subtree
/// of `apex`, leaving out the element `skip` (an enveloped signature).
pub(crate) fn canonicalize(
    doc: &Document,
    apex: &Node,
    skip: Option<NodeId>,
    inclusive: &[String],
) -> String {
    let mut out = String::new();
    render(
        doc.input_text(),
        apex,
        skip,
        inclusive,
        &BTreeMap::new(),
        &mut out,
    );
    out
}

/// The qualified name an element was written with.
fn element_qname<'i>(text: &'i str, node: &Node) -> &'i str {
    let tag = &text[node.range().start + 1..];
    let end = tag
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(tag.len());
    &tag[..end]
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

fn render(
    text: &str,
    node: &Node,
    skip: Option<NodeId>,
    inclusive: &[String],
    rendered: &BTreeMap<String, String>,
    out: &mut String,
) {
    let qname = element_qname(text, node);
    // The namespaces this element visibly uses (its own prefix, its
    // attributes' prefixes) and those the inclusive list names.
    let mut used: BTreeMap<String, String> = BTreeMap::new();
    used.insert(
        prefix_of(qname).to_owned(),
        node.tag_name().namespace().unwrap_or_default().to_owned(),
    );
    for attribute in node.attributes() {
        let prefix = prefix_of(&text[attribute.range_qname()]);
        if !prefix.is_empty() && prefix != "xml" {
            used.insert(
                prefix.to_owned(),
                attribute.namespace().unwrap_or_default().to_owned(),
            );
        }
    }
    for prefix in inclusive {
        let uri = if prefix.is_empty() {
            node.default_namespace()
        } else {
            node.lookup_namespace_uri(Some(prefix))
        };
        if let Some(uri) = uri {
            used.insert(prefix.clone(), uri.to_owned());
        }
    }
    let mut now_rendered = rendered.clone();
    out.push('<');
    out.push_str(qname);
    for (prefix, uri) in &used {
        if prefix == "xml" {
            continue;
        }
        let before = rendered.get(prefix).map(String::as_str);
        if prefix.is_empty() && uri.is_empty() {
            // xmlns="" only undoes a default namespace an ancestor rendered.
            if before.is_some_and(|b| !b.is_empty()) {
                out.push_str(" xmlns=\"\"");
                now_rendered.insert(String::new(), String::new());
            }
            continue;
        }
        if before == Some(uri.as_str()) {
            continue;
        }
        if prefix.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
        }
        escape_attribute(uri, out);
        out.push('"');
        now_rendered.insert(prefix.clone(), uri.clone());
    }
    let mut attributes: Vec<_> = node.attributes().collect();
    attributes.sort_by(|a, b| {
        (a.namespace().unwrap_or_default(), a.name())
            .cmp(&(b.namespace().unwrap_or_default(), b.name()))
    });
    for attribute in attributes {
        out.push(' ');
        out.push_str(&text[attribute.range_qname()]);
        out.push_str("=\"");
        escape_attribute(attribute.value(), out);
        out.push('"');
    }
    out.push('>');
    for child in node.children() {
        match child.node_type() {
            roxmltree::NodeType::Element if Some(child.id()) != skip => {
                render(text, &child, skip, inclusive, &now_rendered, out);
            }
            roxmltree::NodeType::Text => escape_text(child.text().unwrap_or_default(), out),
            roxmltree::NodeType::PI => {
                if let Some(pi) = child.pi() {
                    out.push_str("<?");
                    out.push_str(pi.target);
                    if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                        out.push(' ');
                        out.push_str(value);
                    }
                    out.push_str("?>");
                }
            }
            _ => {}
        }
    }
    out.push_str("</");
    out.push_str(qname);
    out.push('>');
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attribute(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Seconds since the epoch of an `xs:dateTime` in UTC
/// (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, as SAML requires).
pub fn parse_instant(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .ok()?;
    Some(t.unix_timestamp())
}

/// An `xs:dateTime` in UTC for `secs` (what our requests carry).
pub fn format_instant(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests;

//! Attestation statements of passkey registrations (WebAuthn §8): `none`,
//! `packed` (self-attestation or with a certificate), `fido-u2f`, `apple`,
//! `android-key`, `tpm` and `android-safetynet`.
//!
//! The creation options ask for no attestation (`attestation: "none"`), so
//! browsers usually send `none`; a client that sends another format anyway
//! has its statement verified as the specification says — the signature
//! (or nonce) binds the statement to this registration's authenticator
//! data and client data, and the certificate's own requirements hold — and
//! the passkey is then kept as a self-attested one: cognate holds no list
//! of trusted authenticator roots (no FIDO Metadata Service), which the
//! specification lets a relying party do when it does not need
//! attestation (§7.1, step 24). A statement that does not verify refuses
//! the registration.

use base64::Engine;
use ciborium::value::Value as Cbor;
use cognate_crypto::digest::{constant_time_eq, sha256};
use cognate_crypto::webauthn as sig;
use serde_json::Value;
use x509_parser::asn1_rs::{Any, Class, FromDer};
use x509_parser::prelude::X509Certificate;
use x509_parser::public_key::PublicKey as SpkiKey;

use super::{cbor_int, cbor_text_get, invalid, not_supported, PublicKey};
use crate::error::Result;

/// id-fido-gen-ce-aaguid: the authenticator model in an attestation
/// certificate.
const OID_FIDO_AAGUID: &str = "1.3.6.1.4.1.45724.1.1.4";
/// Apple's anonymous attestation nonce extension.
const OID_APPLE_NONCE: &str = "1.2.840.113635.100.8.2";
/// The Android Keystore key description extension.
const OID_ANDROID_KEY: &str = "1.3.6.1.4.1.11129.2.1.17";
/// tcg-kp-AIKCertificate: the extended key usage of a TPM attestation key.
const OID_TCG_AIK: &str = "2.23.133.8.3";
/// prime256v1 (NIST P-256).
const OID_P256: &str = "1.2.840.10045.3.1.7";

/// How long a SafetyNet attestation stays acceptable (ms), either way.
const SAFETYNET_WINDOW_MS: i64 = 10 * 60_000;

/// What a statement is checked against: this registration's facts.
pub(super) struct Registration<'a> {
    /// The whole authenticatorData.
    pub auth_data: &'a [u8],
    /// SHA-256 of clientDataJSON.
    pub client_data_hash: [u8; 32],
    /// The attested credential's id and public key.
    pub credential_id: &'a [u8],
    pub key: &'a PublicKey,
    /// The COSE algorithm the credential key declares.
    pub key_alg: Option<i64>,
    pub now_ms: i64,
}

impl Registration<'_> {
    /// authenticatorData || clientDataHash: what most statements sign.
    fn signed(&self) -> Vec<u8> {
        let mut out = self.auth_data.to_vec();
        out.extend_from_slice(&self.client_data_hash);
        out
    }

    /// The authenticator's AAGUID (bytes 37..53 of attested data).
    fn aaguid(&self) -> &[u8] {
        self.auth_data.get(37..53).unwrap_or_default()
    }
}

/// Verifies the attestation statement `statement` of format `fmt`.
pub(super) fn verify(fmt: &str, statement: &Cbor, r: &Registration<'_>) -> Result<()> {
    match fmt {
        "none" => {
            if statement.as_map().is_none_or(|m| !m.is_empty()) {
                return Err(invalid("A none attestation has an empty attStmt."));
            }
            Ok(())
        }
        "packed" => packed(statement, r),
        "fido-u2f" => fido_u2f(statement, r),
        "apple" => apple(statement, r),
        "android-key" => android_key(statement, r),
        "tpm" => tpm(statement, r),
        "android-safetynet" => android_safetynet(statement, r),
        _ => Err(not_supported(
            "The passkey's attestation format is not supported.",
        )),
    }
}

fn bad_signature() -> crate::error::Error {
    invalid("The attestation signature is not valid.")
}

fn bad_certificate(what: &str) -> crate::error::Error {
    invalid(&format!(
        "The attestation certificate is not valid: {what}."
    ))
}

/// The statement's `alg` and `sig`.
fn alg_and_sig<'a>(statement: &'a Cbor, format: &str) -> Result<(i64, &'a [u8])> {
    let alg = cbor_int(cbor_text_get(statement, "alg"));
    let signature = cbor_text_get(statement, "sig").and_then(Cbor::as_bytes);
    match (alg, signature) {
        (Some(alg), Some(signature)) => Ok((alg, signature.as_slice())),
        _ => Err(invalid(&format!("A {format} attestation has alg and sig."))),
    }
}

/// The DER certificates of the statement's `x5c`, leaf first; `None`
/// without one.
fn x5c(statement: &Cbor) -> Result<Option<Vec<&[u8]>>> {
    let Some(chain) = cbor_text_get(statement, "x5c") else {
        return Ok(None);
    };
    let chain = chain
        .as_array()
        .filter(|c| !c.is_empty() && c.len() <= 8)
        .ok_or_else(|| invalid("x5c must be a list of certificates."))?;
    chain
        .iter()
        .map(|c| {
            c.as_bytes()
                .map(Vec::as_slice)
                .ok_or_else(|| invalid("x5c must be a list of certificates."))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        _ => Err(bad_certificate("it is not a DER X.509 certificate")),
    }
}

/// The certificate's subject public key, if it is one we verify with
/// (EC P-256, or RSA of 2048 bits or more).
fn certificate_key(cert: &X509Certificate<'_>) -> Result<PublicKey> {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(SpkiKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let data = point.data();
            if curve.as_deref() != Some(OID_P256) || data.len() != 65 || data[0] != 4 {
                return Err(not_supported(
                    "The attestation certificate's key is not a P-256 or RSA key.",
                ));
            }
            let (x, y) = (data[1..33].to_vec(), data[33..65].to_vec());
            if !sig::es256_key_valid(&x, &y) {
                return Err(bad_certificate("its public key is not valid"));
            }
            Ok(PublicKey::Es256 { x, y })
        }
        Ok(SpkiKey::RSA(rsa)) => {
            let n = strip_zeros(rsa.modulus).to_vec();
            if n.len() < 256 {
                return Err(not_supported(
                    "The attestation certificate's RSA key is shorter than 2048 bits.",
                ));
            }
            Ok(PublicKey::Rs256 {
                n,
                e: strip_zeros(rsa.exponent).to_vec(),
            })
        }
        _ => Err(not_supported(
            "The attestation certificate's key is not a P-256 or RSA key.",
        )),
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Whether two keys are the same key.
fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    match (a, b) {
        (PublicKey::Es256 { x: ax, y: ay }, PublicKey::Es256 { x: bx, y: by }) => {
            ax == bx && ay == by
        }
        (PublicKey::Rs256 { n: an, e: ae }, PublicKey::Rs256 { n: bn, e: be }) => {
            strip_zeros(an) == strip_zeros(bn) && strip_zeros(ae) == strip_zeros(be)
        }
        _ => false,
    }
}

/// Verifies `signature` over `message` with `key` under COSE algorithm
/// `alg` (ES256 with an EC key, RS256 with an RSA key).
fn verify_with(key: &PublicKey, alg: i64, message: &[u8], signature: &[u8]) -> Result<()> {
    let fits = matches!(
        (key, alg),
        (PublicKey::Es256 { .. }, sig::COSE_ES256) | (PublicKey::Rs256 { .. }, sig::COSE_RS256)
    );
    if !fits {
        return Err(not_supported(
            "The attestation's signature algorithm is not supported.",
        ));
    }
    if key.verify(message, signature) {
        Ok(())
    } else {
        Err(bad_signature())
    }
}

/// The value of extension `oid`, if the certificate has it (once).
fn extension<'a>(cert: &'a X509Certificate<'_>, oid: &str) -> Result<Option<&'a [u8]>> {
    let mut found = cert
        .extensions()
        .iter()
        .filter(|e| e.oid.to_id_string() == oid);
    let first = found.next();
    if found.next().is_some() {
        return Err(bad_certificate("an extension appears twice"));
    }
    Ok(first.map(|e| e.value))
}

/// A certificate of an attestation key: X.509 version 3, not a CA, and an
/// id-fido-gen-ce-aaguid extension (when present) that is not critical and
/// names the authenticator's AAGUID.
fn check_attestation_certificate(cert: &X509Certificate<'_>, r: &Registration<'_>) -> Result<()> {
    if cert.version().0 != 2 {
        return Err(bad_certificate("it is not X.509 version 3"));
    }
    if cert.is_ca() {
        return Err(bad_certificate("it is a CA certificate"));
    }
    if let Some(e) = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == OID_FIDO_AAGUID)
    {
        let aaguid = octet_string(e.value)?;
        if e.critical || aaguid != r.aaguid() {
            return Err(bad_certificate("its AAGUID is not the authenticator's"));
        }
    }
    Ok(())
}

/// The content of one DER OCTET STRING.
fn octet_string(der: &[u8]) -> Result<&[u8]> {
    match Any::from_der(der) {
        Ok((rest, any))
            if rest.is_empty() && any.tag().0 == 4 && any.class() == Class::Universal =>
        {
            Ok(any.data)
        }
        _ => Err(bad_certificate("an extension is malformed")),
    }
}

/// The DER items one after the other in `data` (a SEQUENCE's content).
fn der_items(mut data: &[u8]) -> Result<Vec<Any<'_>>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (rest, any) =
            Any::from_der(data).map_err(|_| bad_certificate("an extension is malformed"))?;
        out.push(any);
        data = rest;
    }
    Ok(out)
}

/// `packed` (§8.2): self-attestation (the credential key signs) or an
/// attestation certificate whose key signs authenticatorData ||
/// clientDataHash, with OU "Authenticator Attestation".
fn packed(statement: &Cbor, r: &Registration<'_>) -> Result<()> {
    let (alg, signature) = alg_and_sig(statement, "packed")?;
    let signed = r.signed();
    let Some(chain) = x5c(statement)? else {
        if Some(alg) != r.key_alg || !r.key.verify(&signed, signature) {
            return Err(bad_signature());
        }
        return Ok(());
    };
    let cert = parse_certificate(chain[0])?;
    verify_with(&certificate_key(&cert)?, alg, &signed, signature)?;
    check_attestation_certificate(&cert, r)?;
    let subject = cert.subject();
    let has = |attribute: Option<Result<&str, _>>| {
        attribute.is_some_and(|v| v.is_ok_and(|v| !v.is_empty()))
    };
    let unit = subject
        .iter_organizational_unit()
        .next()
        .and_then(|u| u.as_str().ok());
    if unit != Some("Authenticator Attestation")
        || !has(subject.iter_country().next().map(|a| a.as_str()))
        || !has(subject.iter_organization().next().map(|a| a.as_str()))
        || !has(subject.iter_common_name().next().map(|a| a.as_str()))
    {
        return Err(bad_certificate(
            "its subject is not C, O, OU=Authenticator Attestation, CN",
        ));
    }
    Ok(())
}

/// `fido-u2f` (§8.6): one P-256 certificate whose key signs 0x00 ||
/// rpIdHash || clientDataHash || credentialId || the credential key (an
/// uncompressed P-256 point).
fn fido_u2f(statement: &Cbor, r: &Registration<'_>) -> Result<()> {
    let signature = cbor_text_get(statement, "sig")
        .and_then(Cbor::as_bytes)
        .ok_or_else(|| invalid("A fido-u2f attestation has x5c and sig."))?;
    let chain =
        x5c(statement)?.ok_or_else(|| invalid("A fido-u2f attestation has x5c and sig."))?;
    if chain.len() != 1 {
        return Err(invalid(
            "A fido-u2f attestation has exactly one certificate.",
        ));
    }
    let cert = parse_certificate(chain[0])?;
    let attestation_key = certificate_key(&cert)?;
    let PublicKey::Es256 { x, y } = r.key else {
        return Err(not_supported("A fido-u2f passkey must have a P-256 key."));
    };
    if !matches!(attestation_key, PublicKey::Es256 { .. }) {
        return Err(bad_certificate("a fido-u2f certificate has a P-256 key"));
    }
    let mut data = vec![0u8];
    data.extend_from_slice(r.auth_data.get(..32).unwrap_or_default());
    data.extend_from_slice(&r.client_data_hash);
    data.extend_from_slice(r.credential_id);
    data.push(4);
    data.extend_from_slice(x);
    data.extend_from_slice(y);
    verify_with(&attestation_key, sig::COSE_ES256, &data, signature)
}

/// `apple` (§8.8): the leaf certificate carries SHA-256(authenticatorData
/// || clientDataHash) in Apple's nonce extension and is the credential's
/// own key.
fn apple(statement: &Cbor, r: &Registration<'_>) -> Result<()> {
    let chain = x5c(statement)?.ok_or_else(|| invalid("An apple attestation has x5c."))?;
    let cert = parse_certificate(chain[0])?;
    let value = extension(&cert, OID_APPLE_NONCE)?
        .ok_or_else(|| bad_certificate("it has no nonce extension"))?;
    // SEQUENCE { [1] EXPLICIT OCTET STRING nonce }
    let nonce = Any::from_der(value)
        .ok()
        .filter(|(rest, seq)| rest.is_empty() && seq.tag().0 == 16)
        .and_then(|(_, seq)| der_items(seq.data).ok())
        .and_then(|items| match items.as_slice() {
            [tagged] if tagged.class() == Class::ContextSpecific && tagged.tag().0 == 1 => {
                octet_string(tagged.data).ok().map(<[u8]>::to_vec)
            }
            _ => None,
        })
        .ok_or_else(|| bad_certificate("its nonce extension is malformed"))?;
    if !constant_time_eq(&nonce, &sha256(&r.signed())) {
        return Err(invalid("The attestation nonce does not match."));
    }
    if !same_key(&certificate_key(&cert)?, r.key) {
        return Err(bad_certificate("its key is not the passkey's"));
    }
    Ok(())
}

/// `android-key` (§8.4): the leaf certificate is the credential's key, its
/// signature covers authenticatorData || clientDataHash, and its key
/// description names clientDataHash as the attestation challenge, a key
/// generated in the keystore for signing, not for all applications.
fn android_key(statement: &Cbor, r: &Registration<'_>) -> Result<()> {
    let (alg, signature) = alg_and_sig(statement, "android-key")?;
    let chain = x5c(statement)?.ok_or_else(|| invalid("An android-key attestation has x5c."))?;
    let cert = parse_certificate(chain[0])?;
    let key = certificate_key(&cert)?;
    verify_with(&key, alg, &r.signed(), signature)?;
    if !same_key(&key, r.key) {
        return Err(bad_certificate("its key is not the passkey's"));
    }
    let value = extension(&cert, OID_ANDROID_KEY)?
        .ok_or_else(|| bad_certificate("it has no key description"))?;
    let malformed = || bad_certificate("its key description is malformed");
    let (rest, description) = Any::from_der(value).map_err(|_| malformed())?;
    if !rest.is_empty() || description.tag().0 != 16 {
        return Err(malformed());
    }
    let fields = der_items(description.data)?;
    // attestationVersion, attestationSecurityLevel, keymasterVersion,
    // keymasterSecurityLevel, attestationChallenge, uniqueId,
    // softwareEnforced, teeEnforced
    let [_, _, _, _, challenge, _, software, tee, ..] = fields.as_slice() else {
        return Err(malformed());
    };
    if challenge.tag().0 != 4 || !constant_time_eq(challenge.data, &r.client_data_hash) {
        return Err(invalid("The attestation challenge does not match."));
    }
    let mut purposes = Vec::new();
    let mut origins = Vec::new();
    for list in [software, tee] {
        if list.tag().0 != 16 {
            return Err(malformed());
        }
        for item in der_items(list.data)? {
            if item.class() != Class::ContextSpecific {
                continue;
            }
            match item.tag().0 {
                // allApplications
                600 => return Err(bad_certificate("the key is for all applications")),
                // purpose: [1] EXPLICIT SET OF INTEGER
                1 => {
                    for set in der_items(item.data)? {
                        for p in der_items(set.data)? {
                            purposes.push(p.data.to_vec());
                        }
                    }
                }
                // origin: [702] EXPLICIT INTEGER
                702 => {
                    for o in der_items(item.data)? {
                        origins.push(o.data.to_vec());
                    }
                }
                _ => {}
            }
        }
    }
    // KM_PURPOSE_SIGN = 2, KM_ORIGIN_GENERATED = 0.
    if !purposes.iter().any(|p| p.as_slice() == [2])
        || origins.iter().any(|o| o.as_slice() != [0])
        || origins.is_empty()
    {
        return Err(bad_certificate(
            "the key was not generated in the keystore for signing",
        ));
    }
    Ok(())
}

/// A big-endian reader over TPM structures.
struct Tpm<'a>(&'a [u8]);

impl<'a> Tpm<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(invalid("A TPM structure is too short."));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A TPM2B: a 16-bit size, then that many bytes.
    fn sized(&mut self) -> Result<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_SHA256: u16 = 0x000B;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ALG_ECC: u16 = 0x0023;
const TPM_ECC_NIST_P256: u16 = 0x0003;
const TPM_GENERATED_VALUE: u32 = 0xff54_4347;
const TPM_ST_ATTEST_CERTIFY: u16 = 0x8017;

/// The public key of a TPMT_PUBLIC (`pubArea`), and its name algorithm.
fn tpm_public(area: &[u8]) -> Result<(u16, PublicKey)> {
    let mut t = Tpm(area);
    let kind = t.u16()?;
    let name_alg = t.u16()?;
    t.u32()?; // objectAttributes
    t.sized()?; // authPolicy
                // TPMT_SYM_DEF_OBJECT: NULL, or an algorithm with keyBits and mode.
    if t.u16()? != TPM_ALG_NULL {
        t.take(4)?;
    }
    // The signing scheme: NULL, or a scheme with its hash algorithm.
    if t.u16()? != TPM_ALG_NULL {
        t.u16()?;
    }
    let key = match kind {
        TPM_ALG_RSA => {
            t.u16()?; // keyBits
            let exponent = match t.u32()? {
                0 => 65_537,
                e => e,
            };
            let n = strip_zeros(t.sized()?).to_vec();
            PublicKey::Rs256 {
                n,
                e: strip_zeros(&exponent.to_be_bytes()).to_vec(),
            }
        }
        TPM_ALG_ECC => {
            let curve = t.u16()?;
            if t.u16()? != TPM_ALG_NULL {
                t.u16()?; // the KDF's hash
            }
            if curve != TPM_ECC_NIST_P256 {
                return Err(not_supported("The TPM key's curve is not supported."));
            }
            let x = t.sized()?.to_vec();
            let y = t.sized()?.to_vec();
            PublicKey::Es256 { x, y }
        }
        _ => return Err(not_supported("The TPM key's type is not supported.")),
    };
    if !t.0.is_empty() {
        return Err(invalid("pubArea has trailing bytes."));
    }
    Ok((name_alg, key))
}

/// `tpm` (§8.3): pubArea is the credential's key; certInfo is a
/// TPM_ST_ATTEST_CERTIFY of that object (its name) over the hash of
/// authenticatorData || clientDataHash, signed by the AIK certificate
/// (version 3, empty subject, tcg-kp-AIKCertificate, not a CA).
fn tpm(statement: &Cbor, r: &Registration<'_>) -> Result<()> {
    if cbor_text_get(statement, "ver").and_then(Cbor::as_text) != Some("2.0") {
        return Err(not_supported("Only TPM 2.0 attestation is supported."));
    }
    let (alg, signature) = alg_and_sig(statement, "tpm")?;
    let field = |name: &str| {
        cbor_text_get(statement, name)
            .and_then(Cbor::as_bytes)
            .map(Vec::as_slice)
            .ok_or_else(|| invalid(&format!("A tpm attestation has {name}.")))
    };
    let (pub_area, cert_info) = (field("pubArea")?, field("certInfo")?);
    let (name_alg, area_key) = tpm_public(pub_area)?;
    if !same_key(&area_key, r.key) {
        return Err(invalid("The TPM key is not the passkey's."));
    }
    if name_alg != TPM_ALG_SHA256 {
        return Err(not_supported("The TPM name algorithm is not supported."));
    }
    // Both supported signature algorithms hash with SHA-256.
    let mut t = Tpm(cert_info);
    if t.u32()? != TPM_GENERATED_VALUE || t.u16()? != TPM_ST_ATTEST_CERTIFY {
        return Err(invalid("certInfo is not a TPM certification."));
    }
    t.sized()?; // qualifiedSigner
    let extra = t.sized()?;
    t.take(17 + 8)?; // clockInfo, firmwareVersion
    let name = t.sized()?;
    t.sized()?; // qualifiedName
    if !t.0.is_empty() {
        return Err(invalid("certInfo has trailing bytes."));
    }
    if !constant_time_eq(extra, &sha256(&r.signed())) {
        return Err(invalid(
            "The TPM certification is not of this registration.",
        ));
    }
    let mut expected_name = name_alg.to_be_bytes().to_vec();
    expected_name.extend_from_slice(&sha256(pub_area));
    if !constant_time_eq(name, &expected_name) {
        return Err(invalid("The TPM certification is not of pubArea."));
    }
    let chain = x5c(statement)?.ok_or_else(|| invalid("A tpm attestation has x5c."))?;
    let cert = parse_certificate(chain[0])?;
    verify_with(&certificate_key(&cert)?, alg, cert_info, signature)?;
    check_attestation_certificate(&cert, r)?;
    if cert.subject().iter().next().is_some() {
        return Err(bad_certificate("an AIK certificate has an empty subject"));
    }
    let aik = cert.extended_key_usage().ok().flatten().is_some_and(|eku| {
        eku.value
            .other
            .iter()
            .any(|o| o.to_id_string() == OID_TCG_AIK)
    });
    if !aik {
        return Err(bad_certificate("it is not an AIK certificate"));
    }
    Ok(())
}

/// `android-safetynet` (§8.5): a SafetyNet attestation (a JWS signed by
/// attest.android.com) whose nonce is the base64 SHA-256 of
/// authenticatorData || clientDataHash, with ctsProfileMatch, issued within
/// ten minutes of now.
fn android_safetynet(statement: &Cbor, r: &Registration<'_>) -> Result<()> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let malformed = || invalid("The SafetyNet response is not a JWS.");
    if cbor_text_get(statement, "ver")
        .and_then(Cbor::as_text)
        .is_none_or(str::is_empty)
    {
        return Err(invalid("An android-safetynet attestation has ver."));
    }
    let response = cbor_text_get(statement, "response")
        .and_then(Cbor::as_bytes)
        .ok_or_else(|| invalid("An android-safetynet attestation has response."))?;
    let jws = std::str::from_utf8(response).map_err(|_| malformed())?;
    let mut parts = jws.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed());
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|_| malformed())?;
    let claims: Value = serde_json::from_slice(&decode(payload)?).map_err(|_| malformed())?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(not_supported(
            "The SafetyNet response's signature algorithm is not supported.",
        ));
    }
    let leaf = header
        .get("x5c")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        .and_then(|c| STANDARD.decode(c).ok())
        .ok_or_else(malformed)?;
    let cert = parse_certificate(&leaf)?;
    let signed_part = &jws[..jws.len() - signature.len() - 1];
    verify_with(
        &certificate_key(&cert)?,
        sig::COSE_RS256,
        signed_part.as_bytes(),
        &decode(signature)?,
    )?;
    let for_android = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .is_some_and(|san| {
            san.value.general_names.iter().any(|n| {
                matches!(
                    n,
                    x509_parser::extensions::GeneralName::DNSName("attest.android.com")
                )
            })
        })
        || cert
            .subject()
            .iter_common_name()
            .any(|cn| cn.as_str() == Ok("attest.android.com"));
    if !for_android {
        return Err(bad_certificate("it is not issued to attest.android.com"));
    }
    let nonce = STANDARD.encode(sha256(&r.signed()));
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce.as_str()) {
        return Err(invalid("The attestation nonce does not match."));
    }
    if claims.get("ctsProfileMatch").and_then(Value::as_bool) != Some(true) {
        return Err(invalid(
            "The device did not pass SafetyNet's profile match.",
        ));
    }
    let issued = claims
        .get("timestampMs")
        .and_then(Value::as_i64)
        .ok_or_else(malformed)?;
    if (issued - r.now_ms).abs() > SAFETYNET_WINDOW_MS {
        return Err(invalid("The SafetyNet response is not recent."));
    }
    Ok(())
}

//! Self-signed X.509 certificates over a pool's RSA signing key, as
//! GetSigningCertificate returns them (made with rcgen on aws-lc-rs).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertError {
    #[error("the key is not a usable RSA PKCS#8 key")]
    BadKey,
    #[error("the validity period is out of range")]
    BadValidity,
    #[error("certificate generation failed: {0}")]
    Generation(String),
}

/// How long a certificate is valid, as Cognito's signing certificates:
/// ten years from issue.
pub const VALIDITY_DAYS: i64 = 3650;

/// A self-signed certificate (DER) for the RSA key `pkcs8`, with subject
/// and issuer `CN=<common_name>`, valid for [`VALIDITY_DAYS`] from
/// `not_before` (seconds since the epoch), with the serial number `serial`
/// (big-endian bytes). The same inputs give the same certificate: RSA
/// PKCS#1 v1.5 signatures are deterministic.
pub fn self_signed_der(
    pkcs8: &[u8],
    common_name: &str,
    not_before: i64,
    serial: &[u8],
) -> Result<Vec<u8>, CertError> {
    let key = rcgen::KeyPair::try_from(pkcs8).map_err(|_| CertError::BadKey)?;
    if !key.is_compatible(&rcgen::PKCS_RSA_SHA256) {
        return Err(CertError::BadKey);
    }
    let from = time::OffsetDateTime::from_unix_timestamp(not_before)
        .map_err(|_| CertError::BadValidity)?;
    let until = from
        .checked_add(time::Duration::days(VALIDITY_DAYS))
        .ok_or(CertError::BadValidity)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.not_before = from;
    params.not_after = until;
    // A positive INTEGER: a leading zero byte keeps the high bit clear.
    let mut positive = vec![0u8];
    positive.extend_from_slice(serial);
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&positive));
    let cert = params
        .self_signed(&key)
        .map_err(|e| CertError::Generation(e.to_string()))?;
    Ok(cert.der().to_vec())
}

/// A DER certificate as the body of its PEM form: standard base64 on one
/// line, without the BEGIN/END lines (what GetSigningCertificate answers).
pub fn pem_body(der: &[u8]) -> String {
    STANDARD.encode(der)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws::SigningKey;

    #[test]
    fn a_certificate_over_a_signing_key_is_stable() {
        let key = SigningKey::generate().expect("key");
        let a = self_signed_der(key.pkcs8(), "us-east-1_abc", 1_700_000_000, b"\x81\x02")
            .expect("certificate");
        let b = self_signed_der(key.pkcs8(), "us-east-1_abc", 1_700_000_000, b"\x81\x02")
            .expect("certificate");
        assert_eq!(a, b);
        assert_eq!(a[0], 0x30, "a DER SEQUENCE");
        assert!(!pem_body(&a).contains('\n'));
    }

    #[test]
    fn a_bad_key_is_refused() {
        assert_eq!(
            self_signed_der(b"not a key", "x", 0, b"\x01"),
            Err(CertError::BadKey)
        );
    }
}

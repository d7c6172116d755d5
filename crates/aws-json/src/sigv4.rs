//! AWS Signature Version 4 on the operations the model does not mark
//! `authtype: none` (the IAM operations: every `Admin*`, pool, client,
//! group, domain ... operation), checked before anything else of the
//! request, as AWS does.
//!
//! Two modes: `Checked` holds the configured credentials and verifies the
//! signature (header form, `Authorization: AWS4-HMAC-SHA256 ...`): service
//! `cognito-idp`, the server's region, the signed headers, the body's
//! SHA-256 (or `X-Amz-Content-SHA256`, which must then be the body's),
//! `X-Amz-Date` within 5 minutes of the server's clock, and the session
//! token of a credential that has one. `Development` (no credentials
//! configured; loopback or `--insecure-unsigned-admin`) accepts any
//! well-formed `Authorization` header without checking it, and still
//! refuses an unsigned call, as AWS would.
//!
//! Errors are AWS's: `MissingAuthenticationTokenException`,
//! `IncompleteSignatureException`, `UnrecognizedClientException`,
//! `InvalidSignatureException`. Secrets and signatures are never logged or
//! echoed; signatures are compared in constant time.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use cognate_crypto::digest::{constant_time_eq, hex, hmac_sha256, sha256_hex};

use crate::error::ApiError;

/// The signing name of the service.
pub const SERVICE: &str = "cognito-idp";
/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far `X-Amz-Date` may be from the server's clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

/// One configured access key.
#[derive(Clone)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// When set, requests must carry this `X-Amz-Security-Token` (signed).
    pub session_token: Option<String>,
    /// When set, the key may manage only these pools (see `access`).
    pub pools: Option<Vec<String>>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("pools", &self.pools)
            .finish()
    }
}

/// What a verified caller may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Every pool (development mode, or a key without `pools`).
    All,
    /// Only these pools; `key` is the access key id (for messages).
    Pools { key: String, pools: Arc<[String]> },
}

#[derive(Debug)]
enum Mode {
    /// `beyond_loopback`: serving a non-loopback address unsigned
    /// (`--insecure-unsigned-admin`).
    Development {
        beyond_loopback: bool,
    },
    Checked(HashMap<String, Credential>),
}

/// How the admin console may be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleAccess {
    /// Sign-in with a configured access key id and secret.
    SignIn,
    /// No credentials, loopback only: open without sign-in.
    Development,
    /// No credentials beyond loopback: never served.
    Closed,
}

/// The signature check of the IAM operations.
#[derive(Debug)]
pub struct AdminAuth {
    mode: Mode,
    region: String,
    account_id: String,
}

/// The parts of an HTTP request the signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded).
    pub path: &'a str,
    /// The query string as received, without `?` (empty when none).
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// A parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub terminator: String,
    /// Lower-case header names in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

fn missing_token() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "IncompleteSignatureException",
        message,
    )
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidSignatureException",
        message,
    )
}

fn unrecognized() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "UnrecognizedClientException",
        INVALID_TOKEN,
    )
}

impl AdminAuth {
    /// Signatures are checked against `credentials` (at least one).
    pub fn checked(
        credentials: Vec<Credential>,
        region: impl Into<String>,
        account_id: impl Into<String>,
    ) -> AdminAuth {
        let keys = credentials
            .into_iter()
            .map(|c| (c.access_key_id.clone(), c))
            .collect();
        AdminAuth {
            mode: Mode::Checked(keys),
            region: region.into(),
            account_id: account_id.into(),
        }
    }

    /// Any well-formed signature is accepted (no credentials configured).
    pub fn development(region: impl Into<String>, account_id: impl Into<String>) -> AdminAuth {
        AdminAuth {
            mode: Mode::Development {
                beyond_loopback: false,
            },
            region: region.into(),
            account_id: account_id.into(),
        }
    }

    /// As `development`, on a non-loopback address
    /// (`--insecure-unsigned-admin`): the admin console stays closed.
    pub fn insecure_unsigned(
        region: impl Into<String>,
        account_id: impl Into<String>,
    ) -> AdminAuth {
        AdminAuth {
            mode: Mode::Development {
                beyond_loopback: true,
            },
            region: region.into(),
            account_id: account_id.into(),
        }
    }

    pub fn is_development(&self) -> bool {
        matches!(self.mode, Mode::Development { .. })
    }

    /// How the admin console may be opened.
    pub fn console_access(&self) -> ConsoleAccess {
        match self.mode {
            Mode::Checked(_) => ConsoleAccess::SignIn,
            Mode::Development {
                beyond_loopback: false,
            } => ConsoleAccess::Development,
            Mode::Development {
                beyond_loopback: true,
            } => ConsoleAccess::Closed,
        }
    }

    /// The grant of a configured access key whose secret is `secret`
    /// (the console's sign-in). The secret is compared in constant time
    /// (as an HMAC result, so its length does not show either), and an
    /// unknown key costs the same work. `None` without configured keys.
    pub fn sign_in(&self, access_key_id: &str, secret: &str) -> Option<Grant> {
        let Mode::Checked(keys) = &self.mode else {
            return None;
        };
        let credential = keys.get(access_key_id);
        let want = hmac_sha256(
            b"cognate console sign-in",
            credential
                .map(|c| c.secret_access_key.as_bytes())
                .unwrap_or_default(),
        );
        let got = hmac_sha256(b"cognate console sign-in", secret.as_bytes());
        let same = constant_time_eq(&want, &got);
        let credential = credential?;
        if !same {
            return None;
        }
        Some(match &credential.pools {
            None => Grant::All,
            Some(pools) => Grant::Pools {
                key: credential.access_key_id.clone(),
                pools: pools.clone().into(),
            },
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Checks the request's signature at `now_millis`; the caller's grant.
    pub fn authenticate(
        &self,
        req: &SignedRequest<'_>,
        now_millis: i64,
    ) -> Result<Grant, ApiError> {
        let Some(value) = req.headers.get("authorization") else {
            return Err(missing_token());
        };
        let value = String::from_utf8_lossy(value.as_bytes());
        let auth = parse_authorization(&value)?;
        let keys = match &self.mode {
            Mode::Development { .. } => return Ok(Grant::All),
            Mode::Checked(keys) => keys,
        };
        let amz_date = header_text(req.headers, "x-amz-date").ok_or_else(|| {
            incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        })?;
        let Some(signed_at) = parse_amz_date(&amz_date) else {
            return Err(incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )));
        };
        if !auth.signed_headers.iter().any(|h| h == "host") {
            return Err(incomplete(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        check_skew(signed_at, now_millis.div_euclid(1000))?;
        let Some(credential) = keys.get(&auth.access_key_id) else {
            tracing::debug!(access_key_id = %auth.access_key_id, "unknown access key");
            return Err(unrecognized());
        };
        let token = header_text(req.headers, "x-amz-security-token");
        match (&credential.session_token, &token) {
            (None, None) => {}
            (Some(want), Some(got)) if constant_time_eq(want.as_bytes(), got.as_bytes()) => {}
            _ => return Err(unrecognized()),
        }
        if token.is_some()
            && !auth
                .signed_headers
                .iter()
                .any(|h| h == "x-amz-security-token")
        {
            return Err(invalid(MISMATCH));
        }
        if auth.date.as_str() != amz_date.get(..8).unwrap_or_default() {
            return Err(invalid(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                auth.date,
                amz_date.get(..8).unwrap_or_default()
            )));
        }
        if auth.region != self.region {
            return Err(invalid(format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                auth.region
            )));
        }
        if auth.service != SERVICE {
            return Err(invalid(format!(
                "Credential should be scoped to correct service: '{SERVICE}'. "
            )));
        }
        if auth.terminator != "aws4_request" {
            return Err(invalid(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'. ",
                auth.terminator
            )));
        }
        let body_hash = sha256_hex(req.body);
        let payload_hash = match header_text(req.headers, "x-amz-content-sha256") {
            // A declared hash must be the body's: the signature covers the
            // declaration, and the body must be what was declared.
            Some(declared) if declared.eq_ignore_ascii_case(&body_hash) => declared,
            Some(_) => return Err(invalid(MISMATCH)),
            None => body_hash,
        };
        let canonical = canonical_request(
            req.method,
            req.path,
            req.query,
            req.headers,
            &auth.signed_headers,
            &payload_hash,
        );
        let scope = format!(
            "{}/{}/{}/{}",
            auth.date, auth.region, auth.service, auth.terminator
        );
        let expected = signature(
            &credential.secret_access_key,
            &auth.date,
            &auth.region,
            &auth.service,
            &string_to_sign(&amz_date, &scope, &canonical),
        );
        if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
            tracing::debug!(access_key_id = %auth.access_key_id, "signature mismatch");
            return Err(invalid(MISMATCH));
        }
        Ok(match &credential.pools {
            None => Grant::All,
            Some(pools) => Grant::Pools {
                key: credential.access_key_id.clone(),
                pools: pools.clone().into(),
            },
        })
    }
}

/// The request's header `name` (values joined by `,`), as text.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    Some(
        values
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Parses `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
/// SignedHeaders=<a;b>, Signature=<hex>`.
pub fn parse_authorization(value: &str) -> Result<AuthHeader, ApiError> {
    let value = value.trim();
    let (algorithm, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported Authorization Type; the algorithm must be {ALGORITHM}."
        )));
    }
    let (mut credential, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let Some((name, v)) = part.trim().split_once('=') else {
            continue;
        };
        match name.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed = Some(v.trim()),
            "Signature" => sig = Some(v.trim()),
            _ => {}
        }
    }
    let mut missing = String::new();
    for (name, v) in [
        ("Credential", credential),
        ("Signature", sig),
        ("SignedHeaders", signed),
    ] {
        if v.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(missing.trim_end().to_owned()));
    }
    let credential = credential.unwrap_or_default();
    let parts: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if key.is_empty() {
        return Err(incomplete(
            "Authorization header requires 'Credential' parameter.",
        ));
    }
    Ok(AuthHeader {
        access_key_id: (*key).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        terminator: (*terminator).to_owned(),
        signed_headers: signed
            .unwrap_or_default()
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect(),
        signature: sig.unwrap_or_default().to_owned(),
    })
}

fn check_skew(signed_at: i64, now: i64) -> Result<(), ApiError> {
    if signed_at < now - MAX_SKEW_SECS {
        return Err(invalid(format!(
            "Signature expired: {} is now earlier than {} ({} - 5 min.)",
            format_amz_date(signed_at),
            format_amz_date(now - MAX_SKEW_SECS),
            format_amz_date(now)
        )));
    }
    if signed_at > now + MAX_SKEW_SECS {
        return Err(invalid(format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            format_amz_date(signed_at),
            format_amz_date(now + MAX_SKEW_SECS),
            format_amz_date(now)
        )));
    }
    Ok(())
}

/// SigV4's URI encoding: unreserved characters kept, everything else
/// `%XX` (upper case); `/` kept when `keep_slash`.
fn uri_encode(input: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in input {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0x0f) as usize] as char);
        }
    }
}

fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or_default();
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// The canonical query string: each name and value decoded and encoded
/// again, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let (mut key, mut value) = (String::new(), String::new());
            uri_encode(&percent_decode(k), false, &mut key);
            uri_encode(&percent_decode(v), false, &mut value);
            (key, value)
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical request of SigV4 (services other than S3: the path is
/// encoded once more as received).
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    signed_headers: &[String],
    payload_hash: &str,
) -> String {
    let mut uri = String::new();
    uri_encode(path.as_bytes(), true, &mut uri);
    if uri.is_empty() {
        uri.push('/');
    }
    let mut names: Vec<&str> = signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut canonical_headers = String::new();
    for name in &names {
        let value = headers
            .get_all(*name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_ascii_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join(",");
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&value);
        canonical_headers.push('\n');
    }
    format!(
        "{method}\n{uri}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        canonical_query(query),
        names.join(";")
    )
}

/// The string to sign for `amz_date` (`YYYYMMDDTHHMMSSZ`) and the scope
/// (`date/region/service/aws4_request`).
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The hex signature of `string_to_sign` with the key derived from `secret`.
pub fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since the epoch of `YYYYMMDDTHHMMSSZ`.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// `YYYYMMDDTHHMMSSZ` of seconds since the epoch.
pub fn format_amz_date(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use axum::http::HeaderValue;

    const SUITE_KEY: &str = "AKIDEXAMPLE";
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// Signs as a client would: all of `pairs` are signed.
    #[allow(clippy::too_many_arguments)]
    fn sign(
        secret: &str,
        region: &str,
        service: &str,
        method: &str,
        path: &str,
        query: &str,
        h: &HeaderMap,
        payload_hash: &str,
    ) -> (String, String) {
        let mut names: Vec<String> = h.keys().map(|k| k.as_str().to_owned()).collect();
        names.sort();
        let date = h
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .unwrap()
            .to_owned();
        let cr = canonical_request(method, path, query, h, &names, payload_hash);
        let scope = format!("{}/{region}/{service}/aws4_request", &date[..8]);
        let sig = signature(
            secret,
            &date[..8],
            region,
            service,
            &string_to_sign(&date, &scope, &cr),
        );
        (sig, names.join(";"))
    }

    /// AWS's Signature Version 4 test suite (region us-east-1, service
    /// `service`, 2015-08-30T12:36:00Z) and the S3 API reference's examples
    /// whose paths need no encoding.
    #[test]
    fn published_test_vectors() {
        let suite = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", SUITE_DATE),
        ]);
        let cases = [
            // get-vanilla
            (
                "GET",
                "",
                &suite,
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            // get-vanilla-query-order-key-case
            (
                "GET",
                "Param2=value2&Param1=value1",
                &suite,
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            // post-vanilla
            (
                "POST",
                "",
                &suite,
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
        ];
        for (method, query, h, want) in cases {
            let (sig, _) = sign(
                SUITE_SECRET,
                "us-east-1",
                "service",
                method,
                "/",
                query,
                h,
                EMPTY,
            );
            assert_eq!(sig, want, "{method} ?{query}");
        }
        let s3_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let s3 = |extra: &[(&'static str, &str)]| {
            let mut pairs = vec![
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", EMPTY),
            ];
            pairs.extend_from_slice(extra);
            headers(&pairs)
        };
        let cases = [
            (
                "/test.txt",
                "",
                s3(&[("range", "bytes=0-9")]),
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            ),
            (
                "/",
                "lifecycle",
                s3(&[]),
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            ),
            (
                "/",
                "max-keys=2&prefix=J",
                s3(&[]),
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ),
        ];
        for (path, query, h, want) in cases {
            let (sig, _) = sign(s3_secret, "us-east-1", "s3", "GET", path, query, &h, EMPTY);
            assert_eq!(sig, want, "{path}?{query}");
        }
    }

    #[test]
    fn header_values_are_trimmed_and_folded() {
        let h = headers(&[("my-header1", "  value1   value2  "), ("my-header1", "b")]);
        let cr = canonical_request("GET", "/", "", &h, &["my-header1".into()], EMPTY);
        assert!(cr.contains("\nmy-header1:value1 value2,b\n"), "{cr}");
    }

    #[test]
    fn query_is_decoded_encoded_and_sorted() {
        assert_eq!(canonical_query("b=2&a=%7e x&a=1"), "a=1&a=~%20x&b=2");
        assert_eq!(canonical_query("lifecycle"), "lifecycle=");
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn amz_dates_round_trip() {
        assert_eq!(parse_amz_date(SUITE_DATE), Some(1_440_938_160));
        assert_eq!(format_amz_date(1_440_938_160), SUITE_DATE);
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        let leap = parse_amz_date("20240229T235959Z").unwrap();
        assert_eq!(format_amz_date(leap), "20240229T235959Z");
        assert_eq!(format_amz_date(leap + 1), "20240301T000000Z");
        for bad in [
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "20151330T123600Z",
            "2015083OT123600Z",
            "",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn authorization_headers_parse() {
        let a = parse_authorization(&format!(
            "AWS4-HMAC-SHA256 Credential={SUITE_KEY}/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
        ))
        .unwrap();
        assert_eq!(a.access_key_id, SUITE_KEY);
        assert_eq!(a.signed_headers, vec!["host", "x-amz-date"]);
        assert_eq!(a.signature, "abc");
        // The JS SDK writes no spaces after the commas.
        let b = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=k/d/r/s/t,SignedHeaders=Host,Signature=0",
        )
        .unwrap();
        assert_eq!(b.signed_headers, vec!["host"]);
        for bad in [
            "",
            "Bearer abc",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=k/d/r/s/t, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=k/d/r/s, SignedHeaders=host, Signature=0",
            "AWS4-HMAC-SHA256 Credential=/d/r/s/t, SignedHeaders=host, Signature=0",
        ] {
            let e = parse_authorization(bad).unwrap_err();
            assert_eq!(e.type_name, "IncompleteSignatureException", "{bad}");
        }
    }

    // ------------------------------------------------------------ the check

    const NOW: i64 = 1_440_938_160_000;

    fn auth(session_token: Option<&str>) -> AdminAuth {
        AdminAuth::checked(
            vec![Credential {
                access_key_id: SUITE_KEY.into(),
                secret_access_key: SUITE_SECRET.into(),
                session_token: session_token.map(str::to_owned),
                pools: None,
            }],
            "us-east-1",
            "000000000000",
        )
    }

    /// A signed cognito-idp request.
    fn signed(secret: &str, date: &str, token: Option<&str>, body: &[u8]) -> HeaderMap {
        let mut h = headers(&[
            ("host", "127.0.0.1:9229"),
            ("content-type", "application/x-amz-json-1.1"),
            (
                "x-amz-target",
                "AWSCognitoIdentityProviderService.ListUserPools",
            ),
            ("x-amz-date", date),
        ]);
        if let Some(t) = token {
            h.insert("x-amz-security-token", HeaderValue::from_str(t).unwrap());
        }
        let (sig, names) = sign(
            secret,
            "us-east-1",
            SERVICE,
            "POST",
            "/",
            "",
            &h,
            &sha256_hex(body),
        );
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!(
                "{ALGORITHM} Credential={SUITE_KEY}/{}/us-east-1/{SERVICE}/aws4_request, SignedHeaders={names}, Signature={sig}",
                &date[..8]
            ))
            .unwrap(),
        );
        h
    }

    fn check(a: &AdminAuth, h: &HeaderMap, body: &[u8], now: i64) -> Result<Grant, ApiError> {
        a.authenticate(
            &SignedRequest {
                method: "POST",
                path: "/",
                query: "",
                headers: h,
                body,
            },
            now,
        )
    }

    #[test]
    fn a_right_signature_passes_and_a_wrong_one_does_not() {
        let body = br#"{"MaxResults":10}"#;
        let h = signed(SUITE_SECRET, SUITE_DATE, None, body);
        assert_eq!(check(&auth(None), &h, body, NOW), Ok(Grant::All));
        let wrong = signed("not-the-secret", SUITE_DATE, None, body);
        let e = check(&auth(None), &wrong, body, NOW).unwrap_err();
        assert_eq!(
            (e.type_name, e.message.as_str()),
            ("InvalidSignatureException", MISMATCH)
        );
        let e = check(&auth(None), &h, br#"{"MaxResults":60}"#, NOW).unwrap_err();
        assert_eq!(e.type_name, "InvalidSignatureException");
        let mut tampered = h.clone();
        tampered.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSCognitoIdentityProviderService.DeleteUserPool"),
        );
        assert_eq!(
            check(&auth(None), &tampered, body, NOW)
                .unwrap_err()
                .type_name,
            "InvalidSignatureException"
        );
        // A declared body hash must be the body's.
        let mut declared = h.clone();
        declared.insert(
            "x-amz-content-sha256",
            HeaderValue::from_static("UNSIGNED-PAYLOAD"),
        );
        assert_eq!(
            check(&auth(None), &declared, body, NOW)
                .unwrap_err()
                .type_name,
            "InvalidSignatureException"
        );
    }

    #[test]
    fn refusals_in_aws_words() {
        let body = b"{}";
        let none = HeaderMap::new();
        let e = check(&auth(None), &none, body, NOW).unwrap_err();
        assert_eq!(
            (e.status, e.type_name, e.message.as_str()),
            (
                StatusCode::FORBIDDEN,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token"
            )
        );
        let e = check(&AdminAuth::development("us-east-1", "0"), &none, body, NOW).unwrap_err();
        assert_eq!(e.type_name, "MissingAuthenticationTokenException");

        let other_key = AdminAuth::checked(
            vec![Credential {
                access_key_id: "OTHER".into(),
                secret_access_key: SUITE_SECRET.into(),
                session_token: None,
                pools: None,
            }],
            "us-east-1",
            "0",
        );
        let h = signed(SUITE_SECRET, SUITE_DATE, None, body);
        let e = check(&other_key, &h, body, NOW).unwrap_err();
        assert_eq!(
            (e.type_name, e.message.as_str()),
            ("UnrecognizedClientException", INVALID_TOKEN)
        );

        let stale = signed(SUITE_SECRET, "20150830T122559Z", None, body);
        let e = check(&auth(None), &stale, body, NOW).unwrap_err();
        assert_eq!(e.type_name, "InvalidSignatureException");
        assert_eq!(
            e.message,
            "Signature expired: 20150830T122559Z is now earlier than 20150830T123100Z (20150830T123600Z - 5 min.)"
        );
        // Exactly 5 minutes old is still current.
        let edge = signed(SUITE_SECRET, "20150830T123100Z", None, body);
        assert!(check(&auth(None), &edge, body, NOW).is_ok());
        let future = signed(SUITE_SECRET, "20150830T124101Z", None, body);
        let e = check(&auth(None), &future, body, NOW).unwrap_err();
        assert_eq!(
            e.message,
            "Signature not yet current: 20150830T124101Z is still later than 20150830T124100Z (20150830T123600Z + 5 min.)"
        );

        let other_region = AdminAuth::checked(
            vec![Credential {
                access_key_id: SUITE_KEY.into(),
                secret_access_key: SUITE_SECRET.into(),
                session_token: None,
                pools: None,
            }],
            "eu-west-1",
            "0",
        );
        let e = check(&other_region, &h, body, NOW).unwrap_err();
        assert_eq!(e.type_name, "InvalidSignatureException");
        assert!(e.message.contains("valid region"), "{}", e.message);

        let mut no_date = h.clone();
        no_date.remove("x-amz-date");
        assert_eq!(
            check(&auth(None), &no_date, body, NOW)
                .unwrap_err()
                .type_name,
            "IncompleteSignatureException"
        );
    }

    #[test]
    fn development_mode_accepts_any_well_formed_signature() {
        let dev = AdminAuth::development("us-east-1", "0");
        let h = signed("whatever", "20000101T000000Z", None, b"{}");
        assert_eq!(check(&dev, &h, b"other body", NOW), Ok(Grant::All));
        let bad = headers(&[("authorization", "AWS4-HMAC-SHA256 garbage")]);
        assert_eq!(
            check(&dev, &bad, b"{}", NOW).unwrap_err().type_name,
            "IncompleteSignatureException"
        );
    }

    #[test]
    fn session_tokens_must_match_and_be_signed() {
        let body = b"{}";
        let with = auth(Some("the-token"));
        let h = signed(SUITE_SECRET, SUITE_DATE, Some("the-token"), body);
        assert!(check(&with, &h, body, NOW).is_ok());
        for (token, want) in [
            (None, "UnrecognizedClientException"),
            (Some("another"), "UnrecognizedClientException"),
        ] {
            let h = signed(SUITE_SECRET, SUITE_DATE, token, body);
            assert_eq!(check(&with, &h, body, NOW).unwrap_err().type_name, want);
        }
        // A token sent to a key without one.
        let h = signed(SUITE_SECRET, SUITE_DATE, Some("the-token"), body);
        assert_eq!(
            check(&auth(None), &h, body, NOW).unwrap_err().type_name,
            "UnrecognizedClientException"
        );
        // A token that is sent but not signed.
        let mut unsigned = signed(SUITE_SECRET, SUITE_DATE, None, body);
        unsigned.insert(
            "x-amz-security-token",
            HeaderValue::from_static("the-token"),
        );
        assert_eq!(
            check(&with, &unsigned, body, NOW).unwrap_err().type_name,
            "InvalidSignatureException"
        );
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let shown = format!("{:?}", auth(Some("s3ss10n")));
        assert!(
            !shown.contains(SUITE_SECRET) && !shown.contains("s3ss10n"),
            "{shown}"
        );
    }

    #[test]
    fn console_sign_in_checks_the_secret_and_gives_the_keys_grant() {
        let auth = AdminAuth::checked(
            vec![
                Credential {
                    access_key_id: "AKIDALL".into(),
                    secret_access_key: "secret-all".into(),
                    session_token: None,
                    pools: None,
                },
                Credential {
                    access_key_id: "AKIDONE".into(),
                    secret_access_key: "secret-one".into(),
                    session_token: None,
                    pools: Some(vec!["us-east-1_One".into()]),
                },
            ],
            "us-east-1",
            "000000000000",
        );
        assert_eq!(auth.console_access(), ConsoleAccess::SignIn);
        assert_eq!(auth.sign_in("AKIDALL", "secret-all"), Some(Grant::All));
        assert_eq!(
            auth.sign_in("AKIDONE", "secret-one"),
            Some(Grant::Pools {
                key: "AKIDONE".into(),
                pools: vec!["us-east-1_One".to_owned()].into(),
            })
        );
        assert_eq!(auth.sign_in("AKIDALL", "secret-one"), None);
        assert_eq!(auth.sign_in("AKIDALL", "secret-al"), None);
        assert_eq!(auth.sign_in("AKIDALL", ""), None);
        assert_eq!(auth.sign_in("AKIDNONE", ""), None);
        assert_eq!(auth.sign_in("AKIDNONE", "secret-all"), None);

        let dev = AdminAuth::development("us-east-1", "000000000000");
        assert_eq!(dev.console_access(), ConsoleAccess::Development);
        assert_eq!(dev.sign_in("local", "local"), None);
        let insecure = AdminAuth::insecure_unsigned("us-east-1", "000000000000");
        assert_eq!(insecure.console_access(), ConsoleAccess::Closed);
        assert!(insecure.is_development());
    }
}

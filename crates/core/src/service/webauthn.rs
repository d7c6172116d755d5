//! Passkeys (WebAuthn): a pool's WebAuthnConfiguration (relying party id,
//! user verification, factor configuration) kept by SetUserPoolMfaConfig;
//! StartWebAuthnRegistration, CompleteWebAuthnRegistration,
//! ListWebAuthnCredentials and DeleteWebAuthnCredential; and the two steps
//! of a passkey sign-in that USER_AUTH uses: the credential request options
//! of a user ([`UserPools::webauthn_request_options`]) and the check of an
//! assertion ([`UserPools::verify_webauthn_assertion`]).
//!
//! The relying party id is the configured `RelyingPartyId`; without one it
//! is the pool's custom domain, or, for a prefix domain, the host of the
//! server's public URL (where cognate serves a prefix domain's hosted UI,
//! `<public-url>/domains/<prefix>`); a pool with neither answers
//! WebAuthnConfigurationMissingException, as Cognito does.
//!
//! Registration challenges are challenge sessions (`WEBAUTHN_REGISTRATION`)
//! keyed by the digest of the challenge: the store hands one out once
//! (`take_session`), so a challenge is used at most once, and it expires.
//! Attestation statements are checked in `attestation.rs` (every format of
//! WebAuthn §8; no trust roots); public keys ES256 (-7) and RS256 (-257).

use base64::Engine;
use ciborium::value::Value as Cbor;
use cognate_crypto::digest::{constant_time_eq, sha256, sha256_hex};
use cognate_crypto::webauthn as sig;
use serde_json::{json, Value};

use super::UserPools;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{ChallengeSession, User, UserPool, WebAuthnCredential, WebAuthnSettings};
use crate::store::CredentialAdd;

/// How many passkeys one user may register (Cognito's quota).
pub const MAX_CREDENTIALS_PER_USER: usize = 20;
/// The `timeout` of the creation and request options (ms), as Cognito sends.
pub const OPTIONS_TIMEOUT_MS: i64 = 60_000;
/// How long a registration challenge can be completed (ms).
pub const REGISTRATION_CHALLENGE_MS: i64 = 5 * 60_000;
/// The `challenge` of the challenge session of a registration.
const REGISTRATION: &str = "WEBAUTHN_REGISTRATION";
/// Longest credential id the WebAuthn specification allows (bytes).
const MAX_CREDENTIAL_ID_BYTES: usize = 1023;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The pool's passkey settings with their defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebAuthnConfig {
    pub relying_party_id: Option<String>,
    pub user_verification: String,
    pub factor_configuration: Option<String>,
}

impl From<&WebAuthnSettings> for WebAuthnConfig {
    fn from(s: &WebAuthnSettings) -> Self {
        WebAuthnConfig {
            relying_party_id: s.relying_party_id.clone(),
            user_verification: s
                .user_verification
                .clone()
                .unwrap_or_else(|| "preferred".into()),
            factor_configuration: s.factor_configuration.clone(),
        }
    }
}

/// The CREDENTIAL_REQUEST_OPTIONS of a passkey sign-in, and what the
/// challenge session must keep to check the answer.
#[derive(Clone, Debug, PartialEq)]
pub struct AssertionRequest {
    /// The PublicKeyCredentialRequestOptionsJSON (challenge, rpId,
    /// allowCredentials, userVerification, timeout).
    pub options: Value,
    /// Keep it in the challenge session; give it back to
    /// [`UserPools::verify_webauthn_assertion`].
    pub state: Value,
}

/// An accepted assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub credential_id: String,
    /// The authenticator verified the user (UV flag): a passkey used this
    /// way satisfies MFA under `MULTI_FACTOR_WITH_USER_VERIFICATION`.
    pub user_verified: bool,
}

fn invalid(message: &str) -> Error {
    Error::invalid_parameter(message)
}

fn not_supported(message: &str) -> Error {
    Error::new(ErrorKind::WebAuthnCredentialNotSupported, message)
}

fn challenge_not_found() -> Error {
    Error::new(
        ErrorKind::WebAuthnChallengeNotFound,
        "The WebAuthn challenge was not found or has expired.",
    )
}

fn assertion_refused() -> Error {
    Error::not_authorized("Incorrect username or passkey.")
}

/// Is `id` usable as a relying party id: a lower-case host name (labels of
/// letters, digits and hyphens) without scheme, port or path?
pub fn is_relying_party_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 127
        && id.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// The host of a URL (`scheme://host[:port][/...]`), lower-cased.
fn url_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        format!("[{}]", v6.split(']').next()?)
    } else {
        match authority.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h.to_owned(),
            _ => authority.to_owned(),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// Whether a browser origin may use the relying party id `rp_id`: its host
/// is `rp_id` or a subdomain of it (the WebAuthn rule), over `https`, or
/// over `http` for `localhost` (a secure context in browsers) and for the
/// server's own public URL when that is `http` (local development).
fn origin_allowed(origin: &str, rp_id: &str, public_url: &str) -> bool {
    let Some((scheme, host)) = url_host(origin) else {
        return false;
    };
    let matches = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    if !matches {
        return false;
    }
    match scheme.as_str() {
        "https" => true,
        "http" => {
            host == "localhost"
                || host.ends_with(".localhost")
                || url_host(public_url).is_some_and(|(s, h)| s == "http" && h == host)
        }
        _ => false,
    }
}

fn b64_field<'a>(v: &'a Value, name: &str) -> Result<&'a str> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(&format!("Credential is missing {name}.")))
}

fn b64_decode(text: &str, name: &str) -> Result<Vec<u8>> {
    // Clients send base64url; some pad it.
    B64.decode(text.trim_end_matches('=').as_bytes())
        .map_err(|_| invalid(&format!("Credential {name} is not base64url.")))
}

/// The client data a browser signed, with its raw bytes.
struct ClientData {
    raw: Vec<u8>,
    kind: String,
    challenge: String,
    origin: String,
}

fn client_data(response: &Value) -> Result<ClientData> {
    let raw = b64_decode(b64_field(response, "clientDataJSON")?, "clientDataJSON")?;
    let parsed: Value =
        serde_json::from_slice(&raw).map_err(|_| invalid("clientDataJSON is not JSON."))?;
    let field = |name: &str| {
        parsed
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid(&format!("clientDataJSON is missing {name}.")))
    };
    Ok(ClientData {
        kind: field("type")?,
        challenge: field("challenge")?,
        origin: field("origin")?,
        raw,
    })
}

/// Authenticator data (WebAuthn §6.1).
struct AuthenticatorData<'a> {
    raw: &'a [u8],
    rp_id_hash: &'a [u8],
    flags: u8,
    sign_count: u32,
    /// The credential id and COSE key, when the AT flag is set.
    attested: Option<(Vec<u8>, Cbor, Vec<u8>)>,
}

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;

fn authenticator_data(raw: &[u8]) -> Result<AuthenticatorData<'_>> {
    let short = || invalid("authenticatorData is too short.");
    if raw.len() < 37 {
        return Err(short());
    }
    let flags = raw[32];
    let sign_count = u32::from_be_bytes([raw[33], raw[34], raw[35], raw[36]]);
    let attested = if flags & FLAG_AT != 0 {
        let rest = &raw[37..];
        if rest.len() < 18 {
            return Err(short());
        }
        let id_len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let after = &rest[18..];
        if after.len() < id_len {
            return Err(short());
        }
        let credential_id = after[..id_len].to_vec();
        let mut key_bytes = &after[id_len..];
        let before = key_bytes.len();
        let key: Cbor = ciborium::de::from_reader(&mut key_bytes)
            .map_err(|_| invalid("The credential public key is not CBOR."))?;
        let used = before - key_bytes.len();
        let key_raw = after[id_len..id_len + used].to_vec();
        Some((credential_id, key, key_raw))
    } else {
        None
    };
    Ok(AuthenticatorData {
        raw,
        rp_id_hash: &raw[..32],
        flags,
        sign_count,
        attested,
    })
}

fn cbor_get(map: &Cbor, key: i64) -> Option<&Cbor> {
    map.as_map()?.iter().find_map(|(k, v)| {
        let k: i128 = k.as_integer()?.into();
        (k == i128::from(key)).then_some(v)
    })
}

fn cbor_text_get<'a>(map: &'a Cbor, key: &str) -> Option<&'a Cbor> {
    map.as_map()?
        .iter()
        .find_map(|(k, v)| (k.as_text() == Some(key)).then_some(v))
}

fn cbor_int(v: Option<&Cbor>) -> Option<i64> {
    let n: i128 = v?.as_integer()?.into();
    i64::try_from(n).ok()
}

/// A credential public key we can check signatures with.
enum PublicKey {
    Es256 { x: Vec<u8>, y: Vec<u8> },
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

impl PublicKey {
    /// From a COSE_Key (RFC 9053): EC2 P-256 with ES256, or RSA with RS256.
    fn from_cose(key: &Cbor) -> Result<Self> {
        let unsupported = || not_supported("The passkey's public key algorithm is not supported.");
        let kty = cbor_int(cbor_get(key, 1)).ok_or_else(unsupported)?;
        let alg = cbor_int(cbor_get(key, 3)).ok_or_else(unsupported)?;
        let bytes = |label: i64| {
            cbor_get(key, label)
                .and_then(Cbor::as_bytes)
                .cloned()
                .ok_or_else(unsupported)
        };
        match (kty, alg) {
            (2, sig::COSE_ES256) => {
                if cbor_int(cbor_get(key, -1)) != Some(1) {
                    return Err(unsupported());
                }
                let (x, y) = (bytes(-2)?, bytes(-3)?);
                if !sig::es256_key_valid(&x, &y) {
                    return Err(invalid("The credential public key is not valid."));
                }
                Ok(PublicKey::Es256 { x, y })
            }
            (3, sig::COSE_RS256) => {
                let (n, e) = (bytes(-1)?, bytes(-2)?);
                if n.len() < 256 {
                    return Err(unsupported());
                }
                Ok(PublicKey::Rs256 { n, e })
            }
            _ => Err(unsupported()),
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Es256 { x, y } => sig::verify_es256(x, y, message, signature),
            PublicKey::Rs256 { n, e } => sig::verify_rs256(n, e, message, signature),
        }
    }
}

/// What a registration response must match: the challenge session's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationExpectation {
    pub challenge: String,
    pub rp_id: String,
    pub user_verification_required: bool,
    pub public_url: String,
    /// The time of the check (epoch ms; a SafetyNet statement's age).
    pub now_ms: i64,
}

/// A credential a registration response proved, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredCredential {
    pub credential_id: String,
    pub public_key: String,
    pub sign_count: i64,
    pub authenticator_attachment: Option<String>,
    pub transports: Vec<String>,
}

/// The challenge of a RegistrationResponseJSON (to find its session).
fn registration_challenge(credential: &Value) -> Result<String> {
    let response = credential
        .get("response")
        .ok_or_else(|| invalid("Credential is missing response."))?;
    let data = client_data(response)?;
    Ok(data.challenge)
}

/// Checks a RegistrationResponseJSON against what was asked (WebAuthn
/// §7.1): client data type, challenge and origin, the relying party's
/// hash, the user presence and (when required) verification flags, the
/// attestation statement (`attestation.rs`) and the public key.
pub fn verify_registration(
    credential: &Value,
    expected: &RegistrationExpectation,
) -> Result<RegisteredCredential> {
    if credential.get("type").and_then(Value::as_str) != Some("public-key") {
        return Err(invalid("Credential type must be public-key."));
    }
    let id = b64_field(credential, "id")?;
    let response = credential
        .get("response")
        .ok_or_else(|| invalid("Credential is missing response."))?;
    let data = client_data(response)?;
    if data.kind != "webauthn.create" {
        return Err(invalid("clientDataJSON type must be webauthn.create."));
    }
    if !constant_time_eq(data.challenge.as_bytes(), expected.challenge.as_bytes()) {
        return Err(challenge_not_found());
    }
    if !origin_allowed(&data.origin, &expected.rp_id, &expected.public_url) {
        return Err(Error::new(
            ErrorKind::WebAuthnOriginNotAllowed,
            "The origin of the passkey registration is not allowed for the relying party.",
        ));
    }
    let attestation = b64_decode(
        b64_field(response, "attestationObject")?,
        "attestationObject",
    )?;
    let attestation: Cbor = ciborium::de::from_reader(attestation.as_slice())
        .map_err(|_| invalid("attestationObject is not CBOR."))?;
    let fmt = cbor_text_get(&attestation, "fmt")
        .and_then(Cbor::as_text)
        .ok_or_else(|| invalid("attestationObject is missing fmt."))?;
    let statement = cbor_text_get(&attestation, "attStmt")
        .ok_or_else(|| invalid("attestationObject is missing attStmt."))?;
    let auth_data_raw = cbor_text_get(&attestation, "authData")
        .and_then(Cbor::as_bytes)
        .ok_or_else(|| invalid("attestationObject is missing authData."))?;
    let auth = authenticator_data(auth_data_raw)?;
    if !constant_time_eq(auth.rp_id_hash, &sha256(expected.rp_id.as_bytes())) {
        return Err(Error::new(
            ErrorKind::WebAuthnRelyingPartyMismatch,
            "The passkey was created for another relying party.",
        ));
    }
    if auth.flags & FLAG_UP == 0 {
        return Err(invalid("The authenticator did not confirm user presence."));
    }
    if expected.user_verification_required && auth.flags & FLAG_UV == 0 {
        return Err(not_supported(
            "The user pool requires user verification, which the passkey did not perform.",
        ));
    }
    let Some((credential_id, cose_key, key_raw)) = &auth.attested else {
        return Err(invalid("authenticatorData has no attested credential."));
    };
    if credential_id.is_empty() || credential_id.len() > MAX_CREDENTIAL_ID_BYTES {
        return Err(invalid("The credential id is not valid."));
    }
    if !constant_time_eq(&b64_decode(id, "id")?, credential_id) {
        return Err(invalid("Credential id does not match authenticatorData."));
    }
    let key = PublicKey::from_cose(cose_key)?;
    attestation::verify(
        fmt,
        statement,
        &attestation::Registration {
            auth_data: auth.raw,
            client_data_hash: sha256(&data.raw),
            credential_id,
            key: &key,
            key_alg: cbor_int(cbor_get(cose_key, 3)),
            now_ms: expected.now_ms,
        },
    )?;
    let transports = response
        .get("transports")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .filter(|t| t.len() <= 32)
                .take(8)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let authenticator_attachment = credential
        .get("authenticatorAttachment")
        .and_then(Value::as_str)
        .filter(|a| matches!(*a, "platform" | "cross-platform"))
        .map(str::to_owned);
    Ok(RegisteredCredential {
        credential_id: B64.encode(credential_id),
        public_key: B64.encode(key_raw),
        sign_count: i64::from(auth.sign_count),
        authenticator_attachment,
        transports,
    })
}

/// What an assertion must match: the sign-in challenge's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionExpectation {
    pub challenge: String,
    pub rp_id: String,
    pub user_verification_required: bool,
    pub public_url: String,
    /// `user.id` of the creation options: base64url of the user's `sub`.
    pub user_handle: String,
}

/// A checked assertion: which credential, its new counter, the UV flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedAssertion {
    pub credential_id: String,
    pub sign_count: i64,
    pub user_verified: bool,
}

/// Checks an AuthenticationResponseJSON (WebAuthn §7.2) with one of the
/// user's credentials: client data type, challenge and origin, the relying
/// party's hash, flags, user handle and the signature over
/// `authenticatorData || SHA-256(clientDataJSON)`. The signature counter
/// rule is the store's ([`crate::store::Store::advance_webauthn_sign_count`]).
pub fn verify_assertion(
    credential: &Value,
    expected: &AssertionExpectation,
    credentials: &[WebAuthnCredential],
) -> Result<CheckedAssertion> {
    if credential.get("type").and_then(Value::as_str) != Some("public-key") {
        return Err(invalid("Credential type must be public-key."));
    }
    let id = b64_decode(b64_field(credential, "id")?, "id")?;
    let id = B64.encode(id);
    let stored = credentials
        .iter()
        .find(|c| constant_time_eq(c.credential_id.as_bytes(), id.as_bytes()))
        .ok_or_else(assertion_refused)?;
    let response = credential
        .get("response")
        .ok_or_else(|| invalid("Credential is missing response."))?;
    let data = client_data(response)?;
    if data.kind != "webauthn.get" {
        return Err(invalid("clientDataJSON type must be webauthn.get."));
    }
    if !constant_time_eq(data.challenge.as_bytes(), expected.challenge.as_bytes()) {
        return Err(assertion_refused());
    }
    if !origin_allowed(&data.origin, &expected.rp_id, &expected.public_url) {
        return Err(Error::new(
            ErrorKind::WebAuthnOriginNotAllowed,
            "The origin of the passkey sign-in is not allowed for the relying party.",
        ));
    }
    if let Some(handle) = response.get("userHandle").and_then(Value::as_str) {
        let handle = B64.encode(b64_decode(handle, "userHandle")?);
        if !handle.is_empty()
            && !constant_time_eq(handle.as_bytes(), expected.user_handle.as_bytes())
        {
            return Err(assertion_refused());
        }
    }
    let raw = b64_decode(
        b64_field(response, "authenticatorData")?,
        "authenticatorData",
    )?;
    let auth = authenticator_data(&raw)?;
    if !constant_time_eq(auth.rp_id_hash, &sha256(expected.rp_id.as_bytes())) {
        return Err(Error::new(
            ErrorKind::WebAuthnRelyingPartyMismatch,
            "The passkey belongs to another relying party.",
        ));
    }
    if auth.flags & FLAG_UP == 0 {
        return Err(assertion_refused());
    }
    let user_verified = auth.flags & FLAG_UV != 0;
    if expected.user_verification_required && !user_verified {
        return Err(assertion_refused());
    }
    let signature = b64_decode(b64_field(response, "signature")?, "signature")?;
    let cose = b64_decode(&stored.public_key, "publicKey")
        .map_err(|_| Error::internal("stored passkey public key is not base64url"))?;
    let cose: Cbor = ciborium::de::from_reader(cose.as_slice())
        .map_err(|_| Error::internal("stored passkey public key is not CBOR"))?;
    let key = PublicKey::from_cose(&cose)?;
    let mut signed = raw.clone();
    signed.extend_from_slice(&sha256(&data.raw));
    if !key.verify(&signed, &signature) {
        return Err(assertion_refused());
    }
    Ok(CheckedAssertion {
        credential_id: stored.credential_id.clone(),
        sign_count: i64::from(auth.sign_count),
        user_verified,
    })
}

/// The friendly name Cognito gives a passkey it lists.
fn friendly_name(attachment: Option<&str>) -> String {
    match attachment {
        Some("platform") => "Platform passkey".into(),
        _ => "Roaming passkey".into(),
    }
}

/// The handle of a registration challenge's session.
fn registration_handle(challenge: &str) -> String {
    sha256_hex(format!("webauthn-registration:{challenge}").as_bytes())
}

impl UserPools {
    /// Whether the pool lets users use passkeys: `WEB_AUTHN` among its
    /// sign-in policy's first factors, or passkeys configured as MFA.
    pub fn webauthn_enabled(pool: &UserPool) -> bool {
        let first = pool
            .settings
            .sign_in_policy
            .as_ref()
            .and_then(|p| p.get("AllowedFirstAuthFactors"))
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|v| v.as_str() == Some("WEB_AUTHN")));
        first
            || pool.settings.webauthn.factor_configuration.as_deref()
                == Some("MULTI_FACTOR_WITH_USER_VERIFICATION")
    }

    /// Whether the pool counts a passkey with user verification as MFA
    /// (`FactorConfiguration: MULTI_FACTOR_WITH_USER_VERIFICATION`).
    pub fn passkey_satisfies_mfa(pool: &UserPool) -> bool {
        pool.settings.webauthn.factor_configuration.as_deref()
            == Some("MULTI_FACTOR_WITH_USER_VERIFICATION")
    }

    /// Whether a sign-in of `user` owes MFA (the pool requires it, or it
    /// is optional and the user turned a factor on), so that a passkey
    /// first factor must stand in for it.
    pub(crate) fn sign_in_owes_mfa(pool: &UserPool, user: &User) -> bool {
        Self::mfa_challenge(pool, user).is_some()
    }

    /// Whether `user`'s passkey counts as MFA: the pool's
    /// FactorConfiguration allows it and the user turned passkey MFA on
    /// (WebAuthnMfaSettings). Their passkey sign-ins then need user
    /// verification, whatever the pool's UserVerification.
    pub(crate) fn passkey_is_mfa_of(pool: &UserPool, user: &User) -> bool {
        Self::passkey_satisfies_mfa(pool) && user.webauthn_mfa_enabled
    }

    /// The relying party id of the pool's passkeys (see the module's notes).
    pub async fn webauthn_relying_party(&self, pool: &UserPool) -> Result<String> {
        if let Some(id) = &pool.settings.webauthn.relying_party_id {
            return Ok(id.clone());
        }
        let domains = self.store.domains_of_pool(&pool.id).await?;
        if let Some(custom) = domains.iter().find(|d| d.certificate_arn.is_some()) {
            return Ok(custom.domain.to_ascii_lowercase());
        }
        if !domains.is_empty() {
            if let Some((_, host)) = url_host(&self.config.public_url) {
                return Ok(host);
            }
        }
        Err(Error::new(
            ErrorKind::WebAuthnConfigurationMissing,
            "User pool does not have a relying party id or a domain configured for passkeys.",
        ))
    }

    /// The pool's WebAuthnConfiguration (GetUserPoolMfaConfig).
    pub fn webauthn_config(pool: &UserPool) -> WebAuthnConfig {
        WebAuthnConfig::from(&pool.settings.webauthn)
    }

    /// Checks a WebAuthnConfiguration of SetUserPoolMfaConfig (the model
    /// has checked lengths and enums) and gives the settings to store.
    pub fn check_webauthn_settings(settings: WebAuthnSettings) -> Result<WebAuthnSettings> {
        if let Some(id) = &settings.relying_party_id {
            if !is_relying_party_id(id) {
                return Err(invalid(
                    "RelyingPartyId must be a domain name in lower case, without scheme, port or path.",
                ));
            }
        }
        Ok(settings)
    }

    /// The pool and user of an access token, for the passkey operations.
    async fn passkey_caller(
        &self,
        token: &str,
    ) -> Result<(std::sync::Arc<UserPool>, crate::tokens::AccessClaims, User)> {
        let (pool_id, claims, user) = self.user_from_access_token(token).await?;
        let pool = self.pool(&pool_id).await?;
        Ok((pool, claims, user))
    }

    fn require_webauthn(pool: &UserPool) -> Result<()> {
        if Self::webauthn_enabled(pool) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::WebAuthnNotEnabled,
                "Passkeys are not enabled for this user pool: add WEB_AUTHN to the sign-in policy's AllowedFirstAuthFactors.",
            ))
        }
    }

    /// StartWebAuthnRegistration: the CredentialCreationOptions for the
    /// signed-in user; its challenge is kept (single use, expiring).
    pub async fn start_webauthn_registration(&self, token: &str) -> Result<Value> {
        let (pool, claims, user) = self.passkey_caller(token).await?;
        Self::require_webauthn(&pool)?;
        let rp_id = self.webauthn_relying_party(&pool).await?;
        let config = Self::webauthn_config(&pool);
        let existing = self
            .store
            .webauthn_credentials_of_user(&pool.id, &user.username_key)
            .await?;
        let challenge = cognate_crypto::random::base64url(32);
        let now = self.now();
        self.store
            .put_session(&ChallengeSession {
                handle_hash: registration_handle(&challenge),
                pool_id: pool.id.clone(),
                client_id: claims.client_id.clone(),
                username: user.username_key.clone(),
                challenge: REGISTRATION.into(),
                expires: now + REGISTRATION_CHALLENGE_MS,
                data: json!({
                    "challenge": challenge,
                    "rp_id": rp_id,
                    "user_verification": config.user_verification,
                }),
            })
            .await?;
        let exclude: Vec<Value> = existing
            .iter()
            .map(|c| json!({"id": c.credential_id, "type": "public-key"}))
            .collect();
        Ok(json!({
            "authenticatorSelection": {
                "requireResidentKey": true,
                "residentKey": "required",
                "userVerification": config.user_verification,
            },
            "challenge": challenge,
            "excludeCredentials": exclude,
            "pubKeyCredParams": [
                {"alg": sig::COSE_ES256, "type": "public-key"},
                {"alg": sig::COSE_RS256, "type": "public-key"},
            ],
            "rp": {"id": rp_id, "name": rp_id},
            "timeout": OPTIONS_TIMEOUT_MS,
            "user": {
                "displayName": user.username,
                "id": B64.encode(user.sub.as_bytes()),
                "name": user.username,
            },
        }))
    }

    /// CompleteWebAuthnRegistration: checks the RegistrationResponseJSON
    /// against the challenge it answers (taken from the store, so it
    /// answers once) and stores the passkey.
    pub async fn complete_webauthn_registration(
        &self,
        token: &str,
        credential: &Value,
    ) -> Result<()> {
        let (pool, claims, user) = self.passkey_caller(token).await?;
        Self::require_webauthn(&pool)?;
        let challenge = registration_challenge(credential)?;
        let session = self
            .store
            .take_session(&registration_handle(&challenge))
            .await?
            .filter(|s| {
                s.challenge == REGISTRATION
                    && s.expires > self.now()
                    && s.pool_id == pool.id
                    && s.username == user.username_key
            })
            .ok_or_else(challenge_not_found)?;
        if session.client_id != claims.client_id {
            return Err(Error::new(
                ErrorKind::WebAuthnClientMismatch,
                "The access token is of another app client than the one that started the registration.",
            ));
        }
        let text = |name: &str| {
            session
                .data
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(challenge_not_found)
        };
        let expected = RegistrationExpectation {
            challenge: text("challenge")?,
            rp_id: text("rp_id")?,
            user_verification_required: text("user_verification")? == "required",
            public_url: self.config.public_url.clone(),
            now_ms: self.now(),
        };
        let registered = verify_registration(credential, &expected)?;
        let stored = WebAuthnCredential {
            pool_id: pool.id.clone(),
            username_key: user.username_key.clone(),
            friendly_name: friendly_name(registered.authenticator_attachment.as_deref()),
            credential_id: registered.credential_id,
            public_key: registered.public_key,
            sign_count: registered.sign_count,
            relying_party_id: expected.rp_id,
            authenticator_attachment: registered.authenticator_attachment,
            transports: registered.transports,
            created: self.now(),
        };
        match self
            .store
            .add_webauthn_credential(&stored, MAX_CREDENTIALS_PER_USER)
            .await?
        {
            CredentialAdd::Done => {
                crate::audit::user_event("complete_webauthn_registration", &pool.id, &user.sub);
                Ok(())
            }
            CredentialAdd::Exists => Err(invalid("This passkey is registered already.")),
            CredentialAdd::LimitReached => Err(Error::new(
                ErrorKind::LimitExceeded,
                "The user has the maximum number of passkeys (20).",
            )),
            CredentialAdd::UserMissing => Err(Error::user_not_found()),
        }
    }

    /// ListWebAuthnCredentials: the user's passkeys, oldest first, in pages
    /// of `max_results` (0 or none: 20).
    pub async fn list_webauthn_credentials(
        &self,
        token: &str,
        next_token: Option<&str>,
        max_results: Option<i64>,
    ) -> Result<super::Page<WebAuthnCredential>> {
        let (pool, _claims, user) = self.passkey_caller(token).await?;
        let limit = match max_results {
            Some(n) if n > 0 => usize::try_from(n.min(20)).unwrap_or(20),
            _ => MAX_CREDENTIALS_PER_USER,
        };
        let after = next_token.map(super::decode_token).transpose()?;
        let all = self
            .store
            .webauthn_credentials_of_user(&pool.id, &user.username_key)
            .await?;
        let start = match &after {
            Some(id) => {
                all.iter()
                    .position(|c| &c.credential_id == id)
                    .ok_or_else(|| invalid("Invalid pagination token."))?
                    + 1
            }
            None => 0,
        };
        let rest: Vec<WebAuthnCredential> = all.into_iter().skip(start).take(limit + 1).collect();
        Ok(super::Page::from_overfetch(rest, limit, |c| {
            c.credential_id.as_str()
        }))
    }

    /// DeleteWebAuthnCredential: removes one of the user's passkeys.
    pub async fn delete_webauthn_credential(&self, token: &str, credential_id: &str) -> Result<()> {
        let (pool, _claims, user) = self.passkey_caller(token).await?;
        let id = B64
            .decode(credential_id.trim_end_matches('=').as_bytes())
            .map(|b| B64.encode(b))
            .unwrap_or_else(|_| credential_id.to_owned());
        if !self
            .store
            .delete_webauthn_credential(&pool.id, &user.username_key, &id)
            .await?
        {
            return Err(Error::new(
                ErrorKind::ResourceNotFound,
                "Credential not found.",
            ));
        }
        crate::audit::user_event("delete_webauthn_credential", &pool.id, &user.sub);
        Ok(())
    }

    /// The first step of a passkey sign-in (USER_AUTH's WEB_AUTHN
    /// challenge): the CREDENTIAL_REQUEST_OPTIONS for `user`, and the state
    /// the caller keeps in its challenge session (the challenge is single
    /// use because that session is).
    pub async fn webauthn_request_options(
        &self,
        pool: &UserPool,
        user: &User,
    ) -> Result<AssertionRequest> {
        Self::require_webauthn(pool)?;
        let rp_id = self.webauthn_relying_party(pool).await?;
        let config = Self::webauthn_config(pool);
        // A passkey that is the user's MFA must verify the user.
        let user_verification = if Self::passkey_is_mfa_of(pool, user) {
            "required".to_owned()
        } else {
            config.user_verification
        };
        let credentials = self
            .store
            .webauthn_credentials_of_user(&pool.id, &user.username_key)
            .await?;
        let challenge = cognate_crypto::random::base64url(32);
        let allow: Vec<Value> = credentials
            .iter()
            .map(|c| {
                let mut d = json!({"id": c.credential_id, "type": "public-key"});
                if !c.transports.is_empty() {
                    d["transports"] = json!(c.transports);
                }
                d
            })
            .collect();
        Ok(AssertionRequest {
            options: json!({
                "challenge": challenge,
                "rpId": rp_id,
                "allowCredentials": allow,
                "userVerification": user_verification,
                "timeout": OPTIONS_TIMEOUT_MS,
            }),
            state: json!({
                "challenge": challenge,
                "rp_id": rp_id,
                "user_verification": user_verification,
            }),
        })
    }

    /// The second step of a passkey sign-in: checks `credential` (an
    /// AuthenticationResponseJSON) against `state` from
    /// [`webauthn_request_options`](Self::webauthn_request_options) and
    /// `user`'s passkeys, then moves the passkey's signature counter on in
    /// one conditional store step (a counter that does not move on, from
    /// a replayed or cloned authenticator, is refused).
    pub async fn verify_webauthn_assertion(
        &self,
        pool: &UserPool,
        user: &User,
        state: &Value,
        credential: &Value,
    ) -> Result<VerifiedAssertion> {
        let text = |name: &str| {
            state
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::internal("passkey sign-in state is incomplete"))
        };
        let expected = AssertionExpectation {
            challenge: text("challenge")?,
            rp_id: text("rp_id")?,
            user_verification_required: text("user_verification")? == "required",
            public_url: self.config.public_url.clone(),
            user_handle: B64.encode(user.sub.as_bytes()),
        };
        let credentials = self
            .store
            .webauthn_credentials_of_user(&pool.id, &user.username_key)
            .await?;
        // RespondToAuthChallenge answers a refused passkey with
        // NotAuthorizedException (its documented errors have no WebAuthn*
        // exception), whatever the cause.
        let checked =
            verify_assertion(credential, &expected, &credentials).map_err(|e| match e.kind {
                ErrorKind::WebAuthnOriginNotAllowed
                | ErrorKind::WebAuthnRelyingPartyMismatch
                | ErrorKind::WebAuthnCredentialNotSupported => assertion_refused(),
                _ => e,
            })?;
        if !self
            .store
            .advance_webauthn_sign_count(
                &pool.id,
                &user.username_key,
                &checked.credential_id,
                checked.sign_count,
            )
            .await?
        {
            return Err(assertion_refused());
        }
        Ok(VerifiedAssertion {
            credential_id: checked.credential_id,
            user_verified: checked.user_verified,
        })
    }
}

mod attestation;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

//! Sign-in through an external identity provider (federation), as Cognito
//! does it for the pool's `OIDC`, `Google`, `SignInWithApple`, `Facebook`
//! and `LoginWithAmazon` providers (SAML is not signed in through):
//! [`UserPools::federation_begin`] sends the browser of a checked
//! `/oauth2/authorize` request to the provider's authorization endpoint
//! (from the provider's details, for OpenID Connect providers else
//! discovered at `<oidc_issuer>/.well-known/openid-configuration`) with a
//! `state` (and, for OpenID Connect, a `nonce`) kept in the store as a
//! single-use challenge session bound to the original request;
//! [`UserPools::federation_complete`] answers `/oauth2/idpresponse` (a GET,
//! or Sign in with Apple's form post): it takes the state (once),
//! exchanges the code at the token endpoint (`client_secret_post`, as
//! Cognito; a GET for Facebook; Apple's client secret is an ES256 JWT made
//! from the provider's key), then either verifies the ID token (RS256
//! signature against the provider's JWKS, `iss`, `aud`, `exp`, `nonce`)
//! and reads the OIDC userInfo endpoint, or (Facebook, Login with Amazon)
//! reads the profile endpoint with the access token; it maps the claims by
//! the provider's AttributeMapping, runs the Lambda triggers AWS documents
//! for federated users, and signs in the user an AdminLinkProviderForUser
//! link names, else the federated user `<ProviderName>_<user id>` (status
//! EXTERNAL_PROVIDER, with the `identities` attribute), created on its
//! first sign-in by the store's insert with conflict detection. The
//! network is reached only through the [`ProviderHttp`] the service was
//! built with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::hosted::{
    AuthorizeError, AuthorizeRequest, HostedSession, ResponseType, ValidAuthorize,
};
use super::oauth::OAuthError;
use super::UserPools;
use crate::error::{Error, ErrorKind, StoreError};
use crate::model::{Attribute, ChallengeSession, IdentityProvider, User, UserPool, UserStatus};
use crate::triggers::Trigger;

/// How long a browser may take at the provider (the state's lifetime).
pub const FEDERATION_STATE_MS: i64 = 10 * 60 * 1000;
/// The challenge name of the sessions that keep a pending federated sign-in.
const STATE_CHALLENGE: &str = "FEDERATION_STATE";
/// Responses of a provider larger than this are refused.
pub const MAX_PROVIDER_RESPONSE: usize = 1024 * 1024;
/// The attribute name of a provider's own subject in links.
const COGNITO_SUBJECT: &str = "Cognito_Subject";

/// A request to an identity provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRequest {
    /// `GET` or `POST` (a form body).
    pub method: &'static str,
    pub url: String,
    pub form: Vec<(String, String)>,
    /// An `Authorization: Bearer` token (userInfo).
    pub bearer: Option<String>,
}

/// An identity provider's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// How the service reaches identity providers over HTTP (implemented by the
/// oauth crate; the domain never opens a connection itself).
#[async_trait::async_trait]
pub trait ProviderHttp: Send + Sync + 'static {
    /// Sends `request`; `Err` with a description when no answer came.
    async fn send(&self, request: ProviderRequest) -> Result<ProviderResponse, String>;
}

/// The default: no provider can be reached.
pub struct NoProviderHttp;

#[async_trait::async_trait]
impl ProviderHttp for NoProviderHttp {
    async fn send(&self, _request: ProviderRequest) -> Result<ProviderResponse, String> {
        Err("no HTTP client for identity providers is configured".into())
    }
}

/// A sign-in waiting for the provider's answer (a challenge session's data).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct PendingSignIn {
    /// The provider's name.
    pub(super) provider: String,
    /// The OpenID Connect nonce, or the SAML authentication request's ID.
    pub(super) nonce: String,
    /// The `redirect_uri` sent to the provider (our `/oauth2/idpresponse`),
    /// or the SAML assertion consumer service (`/saml2/idpresponse`).
    pub(super) callback: String,
    /// The original authorization request's parameters.
    pub(super) request: Vec<(String, String)>,
}

/// The endpoints of a provider.
#[derive(Clone, Debug, Default)]
struct Endpoints {
    authorize: String,
    token: String,
    jwks: String,
    userinfo: Option<String>,
    issuer: String,
}

/// Why a step with the provider failed: a fixed reason (logged) and what
/// the client is told.
pub(super) struct Refusal {
    reason: &'static str,
    error: &'static str,
    description: String,
}

pub(super) fn refusal(reason: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        reason,
        error: "invalid_request",
        description: description.into(),
    }
}

/// The OAuth error codes a provider's error may be passed on as.
fn known_error(code: &str) -> &'static str {
    match code {
        "access_denied" => "access_denied",
        "unauthorized_client" => "unauthorized_client",
        "invalid_scope" => "invalid_scope",
        "server_error" => "server_error",
        "temporarily_unavailable" => "temporarily_unavailable",
        "login_required" => "login_required",
        "consent_required" => "consent_required",
        "interaction_required" => "interaction_required",
        _ => "invalid_request",
    }
}

/// How a provider type is signed in through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    /// OpenID Connect: a verified ID token (OIDC, Google, SignInWithApple).
    IdToken,
    /// OAuth 2.0: an access token and the provider's profile endpoint
    /// (Facebook, LoginWithAmazon).
    Profile,
    /// SAML 2.0: a signed assertion posted to `/saml2/idpresponse`.
    Saml,
}

/// The flavor of a provider type.
fn flavor(provider_type: &str) -> Option<Flavor> {
    match provider_type {
        "OIDC" | "Google" | "SignInWithApple" => Some(Flavor::IdToken),
        "Facebook" | "LoginWithAmazon" => Some(Flavor::Profile),
        "SAML" => Some(Flavor::Saml),
        _ => None,
    }
}

/// The audience of Sign in with Apple's client secret.
const APPLE_AUDIENCE: &str = "https://appleid.apple.com";

/// The profile endpoint's URL for the user's attributes: where the
/// provider's `attributes_url_add_attributes` says so (Facebook), the
/// fields the AttributeMapping reads (and the user id) are added to it.
fn profile_url(provider: &IdentityProvider, url: &str) -> String {
    let add = provider
        .details
        .get("attributes_url_add_attributes")
        .is_some_and(|v| v == "true");
    if !add {
        return url.to_owned();
    }
    let mut fields: Vec<&str> = vec!["id"];
    for claim in provider.attribute_mapping.values() {
        if !fields.contains(&claim.as_str()) {
            fields.push(claim);
        }
    }
    format!("{url}{}", percent_encode(&fields.join(",")))
}

/// Sign in with Apple tells the user's name only once, in the `user` JSON
/// it posts with the first authorization: its `firstName` and `lastName`
/// become claims (`name` the two joined) where the ID token has none.
fn apple_names(claims: &mut BTreeMap<String, Value>, user: Option<&str>) {
    let Some(user) = user.and_then(|u| serde_json::from_str::<Value>(u).ok()) else {
        return;
    };
    let name = |k: &str| {
        user.get("name")
            .and_then(|n| n.get(k))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && v.len() <= 256)
            .map(str::to_owned)
    };
    let (first, last) = (name("firstName"), name("lastName"));
    let full: Vec<&str> = [&first, &last]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !full.is_empty() {
        claims.entry("name".into()).or_insert(json!(full.join(" ")));
    }
    if let Some(f) = first {
        claims.entry("firstName".into()).or_insert(json!(f));
    }
    if let Some(l) = last {
        claims.entry("lastName".into()).or_insert(json!(l));
    }
}

/// A trigger's refusal goes back to the client as the text the API would
/// answer (e.g. `PreSignUp failed with error …`), as AWS shows Lambda
/// errors to users of its hosted pages; any other error is the caller's.
fn trigger_refusal(e: Error) -> Result<Refusal, Error> {
    match e.kind {
        ErrorKind::UserLambdaValidation
        | ErrorKind::UnexpectedLambda
        | ErrorKind::InvalidLambdaResponse => Ok(refusal("trigger_refused", e.message)),
        _ => Err(e),
    }
}

pub(super) fn sha256(text: &str) -> String {
    cognate_crypto::digest::sha256_hex(text.as_bytes())
}

/// `url` with `params` added to its query.
pub(super) fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let encoded = params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    if url.contains('?') {
        format!("{url}&{encoded}")
    } else {
        format!("{url}?{encoded}")
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (for
/// query strings and form bodies); the hosted pages use it too.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The provider attribute that carries the user id: the one its
/// AttributeMapping maps to `username`, else `sub`.
fn username_claim(provider: &IdentityProvider) -> &str {
    provider
        .attribute_mapping
        .get("username")
        .map(String::as_str)
        .unwrap_or("sub")
}

/// A claim as an attribute value: strings as they are, booleans as
/// `"true"`/`"false"`, numbers in decimal, anything else as JSON.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// An entry of the `identities` attribute (Cognito's shape): `primary` is
/// true for the identity a federated user was created by, false for one
/// linked to a user afterwards; `dateCreated` in epoch milliseconds.
fn identity_entry(provider: &IdentityProvider, user_id: &str, now: i64, primary: bool) -> Value {
    json!({
        "userId": user_id,
        "providerName": provider.name,
        "providerType": provider.provider_type,
        "issuer": Value::Null,
        "primary": primary,
        "dateCreated": now,
    })
}

/// The members of an `identities` entry, in Cognito's order.
const IDENTITY_MEMBERS: [&str; 6] = [
    "userId",
    "providerName",
    "providerType",
    "issuer",
    "primary",
    "dateCreated",
];

/// The `identities` attribute's value as Cognito writes it: each entry's
/// members in Cognito's order, `primary` a boolean and `dateCreated` a
/// number (entries stored by earlier versions as strings are converted).
pub(crate) fn identities_text(list: &[Value]) -> String {
    let entries: Vec<String> = list
        .iter()
        .map(|entry| {
            let members: Vec<String> = IDENTITY_MEMBERS
                .iter()
                .map(|key| {
                    let value = match (*key, entry.get(*key)) {
                        ("primary", Some(Value::String(s))) => json!(s == "true"),
                        ("dateCreated", Some(Value::String(s))) => {
                            s.parse::<i64>().map_or_else(|_| json!(s), |n| json!(n))
                        }
                        (_, v) => v.cloned().unwrap_or(Value::Null),
                    };
                    format!("{}:{value}", Value::from(*key))
                })
                .collect();
            format!("{{{}}}", members.join(","))
        })
        .collect();
    format!("[{}]", entries.join(","))
}

/// `user`'s `identities` with the identity `(provider, user_id)` in it.
fn with_identity(
    user: &User,
    provider: &IdentityProvider,
    user_id: &str,
    now: i64,
    primary: bool,
) -> String {
    let mut list: Vec<Value> = user
        .attribute("identities")
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_default();
    let present = list.iter().any(|e| {
        e.get("providerName").and_then(Value::as_str) == Some(provider.name.as_str())
            && e.get("userId").and_then(Value::as_str) == Some(user_id)
    });
    if !present {
        list.push(identity_entry(provider, user_id, now, primary));
    }
    identities_text(&list)
}

impl UserPools {
    async fn provider_json(&self, request: ProviderRequest) -> Result<(u16, Value), Refusal> {
        let response = self.provider_http.send(request).await.map_err(|e| {
            tracing::warn!(error = %e, "identity provider unreachable");
            refusal(
                "provider_unreachable",
                "The identity provider could not be reached.",
            )
        })?;
        if response.body.len() > MAX_PROVIDER_RESPONSE {
            return Err(refusal(
                "provider_response_too_large",
                "The identity provider's answer is too large.",
            ));
        }
        let value = serde_json::from_slice(&response.body).map_err(|_| {
            refusal(
                "provider_response_not_json",
                "The identity provider's answer is not JSON.",
            )
        })?;
        Ok((response.status, value))
    }

    /// The provider's endpoints: from its details, the missing ones from
    /// its discovery document.
    async fn provider_endpoints(&self, provider: &IdentityProvider) -> Result<Endpoints, Refusal> {
        let d = &provider.details;
        let get = |k: &str| d.get(k).filter(|v| !v.trim().is_empty()).cloned();
        let issuer = get("oidc_issuer").unwrap_or_default();
        // Google's attributes_url is its People API, whose answer is not
        // claims: its users' attributes come from the ID token (as do Sign
        // in with Apple's, which has no such endpoint).
        let userinfo = match provider.provider_type.as_str() {
            "Google" | "SignInWithApple" => None,
            _ => get("attributes_url"),
        };
        let mut endpoints = Endpoints {
            authorize: get("authorize_url").unwrap_or_default(),
            token: get("token_url").unwrap_or_default(),
            jwks: get("jwks_uri").unwrap_or_default(),
            userinfo,
            issuer: issuer.clone(),
        };
        if flavor(&provider.provider_type) == Some(Flavor::Profile) {
            if endpoints.authorize.is_empty()
                || endpoints.token.is_empty()
                || endpoints.userinfo.is_none()
            {
                return Err(refusal(
                    "provider_no_endpoints",
                    "The identity provider has no endpoints.",
                ));
            }
            return Ok(endpoints);
        }
        let discover_userinfo = provider.provider_type == "OIDC";
        if endpoints.authorize.is_empty() || endpoints.token.is_empty() || endpoints.jwks.is_empty()
        {
            if issuer.is_empty() {
                return Err(refusal(
                    "provider_no_endpoints",
                    "The identity provider has no endpoints.",
                ));
            }
            let url = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            let (status, doc) = self
                .provider_json(ProviderRequest {
                    method: "GET",
                    url,
                    form: Vec::new(),
                    bearer: None,
                })
                .await?;
            if status != 200 {
                return Err(refusal(
                    "provider_discovery_failed",
                    "The identity provider's OpenID configuration could not be read.",
                ));
            }
            let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
            let fill = |slot: &mut String, k: &str| {
                if slot.is_empty() {
                    *slot = field(k).unwrap_or_default();
                }
            };
            fill(&mut endpoints.authorize, "authorization_endpoint");
            fill(&mut endpoints.token, "token_endpoint");
            fill(&mut endpoints.jwks, "jwks_uri");
            if endpoints.userinfo.is_none() && discover_userinfo {
                endpoints.userinfo = field("userinfo_endpoint");
            }
            if endpoints.authorize.is_empty()
                || endpoints.token.is_empty()
                || endpoints.jwks.is_empty()
            {
                return Err(refusal(
                    "provider_discovery_incomplete",
                    "The identity provider's OpenID configuration lacks endpoints.",
                ));
            }
        }
        Ok(endpoints)
    }

    /// The provider an authorization request names by `identity_provider`
    /// or `idp_identifier`, if the client may use it.
    pub(super) fn federation_provider<'p>(
        pool: &'p UserPool,
        valid: &ValidAuthorize,
        name: Option<&str>,
        identifier: Option<&str>,
    ) -> Result<&'p IdentityProvider, Refusal> {
        let provider = match (name, identifier) {
            (Some(name), _) => pool.identity_providers.iter().find(|p| p.name == name),
            (None, Some(id)) => pool
                .identity_providers
                .iter()
                .find(|p| p.idp_identifiers.iter().any(|i| i == id)),
            (None, None) => None,
        }
        .ok_or_else(|| {
            refusal(
                "provider_unknown",
                "The identity provider does not exist in the user pool.",
            )
        })?;
        let supported = valid
            .client
            .settings
            .supported_identity_providers
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|n| n == &provider.name);
        if !supported {
            return Err(refusal(
                "provider_not_supported_by_client",
                format!(
                    "The client does not support the identity provider {}.",
                    provider.name
                ),
            ));
        }
        if flavor(&provider.provider_type).is_none() {
            return Err(refusal(
                "provider_type_unsupported",
                format!(
                    "Signing in through {} identity providers is not supported by cognate.",
                    provider.provider_type
                ),
            ));
        }
        Ok(provider)
    }

    pub(super) fn refuse_to_client(valid: &ValidAuthorize, r: Refusal) -> AuthorizeError {
        tracing::info!(reason = r.reason, "federated sign-in refused");
        AuthorizeError::Redirect {
            redirect_uri: valid.redirect_uri.clone(),
            fragment: valid.response_type == ResponseType::Token,
            state: valid.state.clone(),
            error: OAuthError::new(r.error, r.description),
        }
    }

    /// Starts a federated sign-in for a checked authorization request
    /// (`request`: its parameters, kept to continue it): the URL of the
    /// provider's authorization endpoint the browser is sent to.
    /// `callback` is this domain's `/oauth2/idpresponse`.
    pub async fn federation_begin(
        &self,
        valid: &ValidAuthorize,
        request: Vec<(String, String)>,
        identity_provider: Option<&str>,
        idp_identifier: Option<&str>,
        callback: &str,
    ) -> Result<String, AuthorizeError> {
        let internal = |e: Error| {
            tracing::error!(error = %e, "federated sign-in failed");
            Self::refuse_to_client(
                valid,
                Refusal {
                    reason: "internal",
                    error: "server_error",
                    description: "The request could not be processed.".into(),
                },
            )
        };
        let pool = self.pool(&valid.pool_id).await.map_err(internal)?;
        let provider = Self::federation_provider(&pool, valid, identity_provider, idp_identifier)
            .map_err(|r| Self::refuse_to_client(valid, r))?;
        if flavor(&provider.provider_type) == Some(Flavor::Saml) {
            return self
                .saml_begin(&pool, valid, provider, request, callback)
                .await
                .map_err(|e| match e {
                    Ok(r) => Self::refuse_to_client(valid, r),
                    Err(e) => internal(e),
                });
        }
        let endpoints = self
            .provider_endpoints(provider)
            .await
            .map_err(|r| Self::refuse_to_client(valid, r))?;
        let client_id = provider
            .details
            .get("client_id")
            .cloned()
            .unwrap_or_default();
        let scope = provider
            .details
            .get("authorize_scopes")
            .cloned()
            .unwrap_or_else(|| "openid".into());
        let nonce = cognate_crypto::random::base64url(32);
        let pending = PendingSignIn {
            provider: provider.name.clone(),
            nonce: nonce.clone(),
            callback: callback.to_owned(),
            request,
        };
        let state = self.put_pending(valid, &pending).await.map_err(internal)?;
        let mut params = vec![
            ("client_id", client_id.as_str()),
            ("redirect_uri", callback),
            ("response_type", "code"),
            ("scope", scope.as_str()),
            ("state", state.as_str()),
        ];
        if flavor(&provider.provider_type) == Some(Flavor::IdToken) {
            params.push(("nonce", nonce.as_str()));
        }
        // Apple sends the answer of a sign-in that asks for the name or
        // email as a form POST (and requires asking for it so).
        if provider.provider_type == "SignInWithApple"
            && scope
                .split_whitespace()
                .any(|s| s == "name" || s == "email")
        {
            params.push(("response_mode", "form_post"));
        }
        Ok(with_query(&endpoints.authorize, &params))
    }

    /// Answers the provider's redirect to `/oauth2/idpresponse` (its query
    /// `pairs`): the original authorization request, checked again, and
    /// the hosted session of the signed-in user. A state that is missing,
    /// unknown, expired, used or of another pool is a page; everything
    /// after it goes back to the client's redirect URI.
    pub async fn federation_complete(
        &self,
        pool_id: &str,
        pairs: &[(String, String)],
    ) -> Result<(ValidAuthorize, HostedSession), AuthorizeError> {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let (valid, pending) = self.take_pending(pool_id, get("state")).await?;
        if let Some(error) = get("error") {
            let r = Refusal {
                reason: "provider_error",
                error: known_error(error),
                description: get("error_description")
                    .map(|d| d.chars().take(500).collect())
                    .unwrap_or_else(|| format!("The identity provider answered {error}.")),
            };
            return Err(Self::refuse_to_client(&valid, r));
        }
        let Some(code) = get("code") else {
            return Err(Self::refuse_to_client(
                &valid,
                refusal("provider_no_code", "The identity provider sent no code."),
            ));
        };
        let apple_user = get("user").filter(|u| u.len() <= 4096);
        let outcome = self
            .federated_user(&valid, &pending, code, apple_user)
            .await;
        self.federation_finish(pool_id, valid, outcome, None).await
    }

    /// Keeps a pending sign-in as a challenge session for
    /// [`FEDERATION_STATE_MS`]: the state that names it (once).
    pub(super) async fn put_pending(
        &self,
        valid: &ValidAuthorize,
        pending: &PendingSignIn,
    ) -> crate::error::Result<String> {
        let state = cognate_crypto::random::base64url(32);
        let data = serde_json::to_value(pending).map_err(|e| Error::internal(e.to_string()))?;
        self.store
            .put_session(&ChallengeSession {
                handle_hash: sha256(&state),
                pool_id: valid.pool_id.clone(),
                client_id: valid.client.client_id.clone(),
                username: String::new(),
                challenge: STATE_CHALLENGE.into(),
                expires: self.now() + FEDERATION_STATE_MS,
                data,
            })
            .await?;
        Ok(state)
    }

    /// The pending sign-in a provider's answer names by its `state` (taken
    /// once) and its authorization request, checked again. A state that is
    /// missing, unknown, expired, used or of another pool is a page.
    pub(super) async fn take_pending(
        &self,
        pool_id: &str,
        state: Option<&str>,
    ) -> Result<(ValidAuthorize, PendingSignIn), AuthorizeError> {
        let bad_state = || AuthorizeError::Page {
            error: "invalid_request",
            description: "The state of the sign-in is not valid, has expired or was already used."
                .into(),
        };
        let page_internal = |e: Error| {
            tracing::error!(error = %e, "federated sign-in failed");
            AuthorizeError::Page {
                error: "server_error",
                description: "The request could not be processed.".into(),
            }
        };
        let state = state
            .filter(|s| !s.is_empty() && s.len() <= 512)
            .ok_or_else(bad_state)?;
        let session = self
            .store
            .take_session(&sha256(state))
            .await
            .map_err(|e| page_internal(e.into()))?
            .filter(|s| {
                s.pool_id == pool_id && s.challenge == STATE_CHALLENGE && s.expires > self.now()
            })
            .ok_or_else(bad_state)?;
        let pending: PendingSignIn =
            serde_json::from_value(session.data).map_err(|_| bad_state())?;
        let request = AuthorizeRequest::from_pairs(&pending.request);
        let valid = self.check_authorize(pool_id, &request).await?;
        Ok((valid, pending))
    }

    /// The end of a federated sign-in: the triggers of a signed-in user
    /// and a hosted session, or the refusal for the client.
    pub(super) async fn federation_finish(
        &self,
        pool_id: &str,
        valid: ValidAuthorize,
        outcome: crate::error::Result<Result<(User, bool), Refusal>>,
        saml: Option<super::hosted::SamlSignIn>,
    ) -> Result<(ValidAuthorize, HostedSession), AuthorizeError> {
        let page_internal = |e: Error| {
            tracing::error!(error = %e, "federated sign-in failed");
            AuthorizeError::Page {
                error: "server_error",
                description: "The request could not be processed.".into(),
            }
        };
        match outcome {
            Ok(Ok((user, created))) => {
                let pool = self.pool(pool_id).await.map_err(page_internal)?;
                if let Err(e) = self.federated_triggers(&pool, &valid, &user, created).await {
                    let r = trigger_refusal(e).unwrap_or_else(|e| {
                        tracing::error!(error = %e, "federated sign-in failed");
                        Refusal {
                            reason: "internal",
                            error: "server_error",
                            description: "The request could not be processed.".into(),
                        }
                    });
                    return Err(Self::refuse_to_client(&valid, r));
                }
                self.signed_in(&pool, &user, Some(&valid.client.client_id), false)
                    .await;
                let mut session = self
                    .open_hosted_session(&pool, &user, &valid.client.client_id)
                    .await
                    .map_err(page_internal)?;
                session.saml = saml;
                Ok((valid, session))
            }
            Ok(Err(r)) => Err(Self::refuse_to_client(&valid, r)),
            Err(e) => {
                tracing::error!(error = %e, "federated sign-in failed");
                Err(Self::refuse_to_client(
                    &valid,
                    Refusal {
                        reason: "internal",
                        error: "server_error",
                        description: "The request could not be processed.".into(),
                    },
                ))
            }
        }
    }

    /// The native user an identity signing in through `provider` is linked
    /// to (AdminLinkProviderForUser): by the provider's subject
    /// (`Cognito_Subject`), or, for an OIDC provider, by a user pool
    /// attribute its AttributeMapping fills from a claim (a link's
    /// ProviderAttributeName such as `email`, as AWS documents it).
    async fn link_owner(
        &self,
        pool_id: &str,
        provider: &IdentityProvider,
        user_id: &str,
        mapped: &[Attribute],
    ) -> crate::error::Result<Option<String>> {
        if let Some(key) = self
            .store
            .identity_owner(pool_id, &provider.name, COGNITO_SUBJECT, user_id)
            .await?
        {
            return Ok(Some(key));
        }
        if provider.provider_type != "OIDC" {
            return Ok(None);
        }
        for a in mapped {
            if let Some(key) = self
                .store
                .identity_owner(pool_id, &provider.name, &a.name, &a.value)
                .await?
            {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }

    /// The native user a linked identity signs in as, its `identities`
    /// brought up to date; `None` when the identity is linked to no one.
    async fn linked_user(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        user_id: &str,
        mapped: &[Attribute],
        now: i64,
    ) -> crate::error::Result<Option<Result<User, Refusal>>> {
        let Some(key) = self.link_owner(&pool.id, provider, user_id, mapped).await? else {
            return Ok(None);
        };
        let Some(user) = self.store.get_user(&pool.id, &key).await? else {
            return Ok(None);
        };
        if !user.enabled {
            return Ok(Some(Err(refusal("user_disabled", "User is disabled."))));
        }
        if user.attribute("identities")
            == Some(with_identity(&user, provider, user_id, now, false).as_str())
        {
            return Ok(Some(Ok(user)));
        }
        let (user, ()) = self
            .update_user(user, |u| {
                let list = with_identity(u, provider, user_id, now, false);
                u.set_attribute("identities", Some(&list));
                Ok(())
            })
            .await?;
        Ok(Some(Ok(user)))
    }

    /// The Lambda triggers of a federated sign-in, as AWS documents them:
    /// PostConfirmation (`PostConfirmation_ConfirmSignUp`) after the first
    /// one made the user (PreSignUp ran before it was stored), else
    /// PreAuthentication and PostAuthentication. PreTokenGeneration
    /// (`TokenGeneration_HostedAuth`) runs when the tokens are issued.
    async fn federated_triggers(
        &self,
        pool: &UserPool,
        valid: &ValidAuthorize,
        user: &User,
        created: bool,
    ) -> crate::error::Result<()> {
        let client_id = &valid.client.client_id;
        if created {
            return self
                .post_confirmation(
                    pool,
                    user,
                    "PostConfirmation_ConfirmSignUp",
                    Some(client_id),
                    &BTreeMap::new(),
                )
                .await;
        }
        self.pre_authentication(pool, client_id, user).await?;
        self.post_authentication(pool, &valid.client, user).await
    }

    /// The code exchange, the ID token's checks, the claims and the user.
    async fn federated_user(
        &self,
        valid: &ValidAuthorize,
        pending: &PendingSignIn,
        code: &str,
        apple_user: Option<&str>,
    ) -> crate::error::Result<Result<(User, bool), Refusal>> {
        let pool = self.pool(&valid.pool_id).await?;
        let Some(provider) = pool
            .identity_providers
            .iter()
            .find(|p| p.name == pending.provider)
        else {
            return Ok(Err(refusal(
                "provider_gone",
                "The identity provider does not exist in the user pool.",
            )));
        };
        let raw = match self
            .provider_claims(provider, pending, code, apple_user)
            .await
        {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        };
        self.federated_sign_in(&pool, valid, provider, raw).await
    }

    /// The user a provider's verified answer signs in: the InboundFederation
    /// trigger's say on its attributes, then the linked native user, else
    /// the federated user (made at its first sign-in).
    pub(super) async fn federated_sign_in(
        &self,
        pool: &UserPool,
        valid: &ValidAuthorize,
        provider: &IdentityProvider,
        raw: RawAttributes,
    ) -> crate::error::Result<Result<(User, bool), Refusal>> {
        let pool = pool.clone();
        let name_id = raw.name_id.clone();
        let claims = match self
            .inbound_federation(&pool, provider, &valid.client.client_id, raw)
            .await
        {
            Ok(c) => c,
            Err(e) => return trigger_refusal(e).map(Err),
        };
        let username_claim = username_claim(provider);
        let Some(user_id) = name_id.or_else(|| claims.get(username_claim).and_then(claim_text))
        else {
            return Ok(Err(refusal(
                "provider_no_user_id",
                format!("The identity provider gave no {username_claim}."),
            )));
        };
        if user_id.is_empty() || user_id.len() > 128 {
            return Ok(Err(refusal(
                "provider_bad_user_id",
                "The identity provider's user id is not valid.",
            )));
        }
        let now = self.now();
        let mapped = mapped_attributes(&pool, provider, &claims);
        // A linked identity signs in as the native user it is linked to.
        if let Some(linked) = self
            .linked_user(&pool, provider, &user_id, &mapped, now)
            .await?
        {
            return Ok(linked.map(|u| (u, false)));
        }
        let username = format!("{}_{}", provider.name, user_id);
        let key = pool.username_key(&username);
        for _ in 0..3 {
            if let Some(user) = self.store.get_user(&pool.id, &key).await? {
                if !user.enabled {
                    return Ok(Err(refusal("user_disabled", "User is disabled.")));
                }
                // Each sign-in brings the mapped attributes up to date
                // (written only when they changed: concurrent sign-ins of
                // one user do not contend for it).
                let current = mapped
                    .iter()
                    .all(|a| user.attribute(&a.name) == Some(a.value.as_str()))
                    && user.attribute("identities")
                        == Some(with_identity(&user, provider, &user_id, now, true).as_str());
                if current {
                    return Ok(Ok((user, false)));
                }
                let (user, ()) = self
                    .update_user(user, |u| {
                        for a in &mapped {
                            u.set_attribute(&a.name, Some(&a.value));
                        }
                        let list = with_identity(u, provider, &user_id, now, true);
                        u.set_attribute("identities", Some(&list));
                        u.modified = now;
                        Ok(())
                    })
                    .await?;
                return Ok(Ok((user, false)));
            }
            let mut attributes = mapped.clone();
            attributes.push(Attribute::new(
                "identities",
                identities_text(&[identity_entry(provider, &user_id, now, true)]),
            ));
            let mut user = self.blank_user(&pool, username.clone(), attributes);
            user.sub = cognate_crypto::random::uuid();
            user.status = UserStatus::ExternalProvider;
            // The first sign-in is the federated user's sign-up: the
            // PreSignUp trigger may refuse it, verify its email or phone
            // number, or link the identity to a native user (as AWS
            // documents for consolidating users), which then signs in.
            let decision = match self
                .pre_sign_up(
                    &pool,
                    &user,
                    "PreSignUp_ExternalProvider",
                    Some(&valid.client.client_id),
                    &[],
                    &BTreeMap::new(),
                )
                .await
            {
                Ok(d) => d,
                Err(e) => return trigger_refusal(e).map(Err),
            };
            decision.apply(&mut user);
            if UserPools::has_trigger(&pool, Trigger::PreSignUp) {
                if let Some(linked) = self
                    .linked_user(&pool, provider, &user_id, &mapped, now)
                    .await?
                {
                    return Ok(linked.map(|u| (u, false)));
                }
            }
            // No sign-in aliases: a federated user's email or phone number
            // never takes a native user's.
            match self.store.insert_user(&user, &[]).await {
                Ok(()) => return Ok(Ok((user, true))),
                // A concurrent first sign-in created it: read it again.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::internal("the federated user could not be stored"))
    }

    /// The provider's claims about the user: for an OpenID Connect
    /// provider the verified ID token's, with the userInfo endpoint's (same
    /// `sub`) over them; for Facebook and Login with Amazon the profile
    /// endpoint's answer to the access token. `apple_user` is the `user`
    /// member Sign in with Apple posts at a first authorization.
    async fn provider_claims(
        &self,
        provider: &IdentityProvider,
        pending: &PendingSignIn,
        code: &str,
        apple_user: Option<&str>,
    ) -> Result<RawAttributes, Refusal> {
        let endpoints = self.provider_endpoints(provider).await?;
        let details = &provider.details;
        let client_id = details.get("client_id").cloned().unwrap_or_default();
        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), pending.callback.clone()),
            ("client_id".to_owned(), client_id.clone()),
        ];
        let secret = if provider.provider_type == "SignInWithApple" {
            Some(self.apple_client_secret(provider)?)
        } else {
            details
                .get("client_secret")
                .filter(|s| !s.is_empty())
                .cloned()
        };
        if let Some(secret) = secret {
            form.push(("client_secret".to_owned(), secret));
        }
        // Facebook's token endpoint takes a GET (token_request_method).
        let request = if details
            .get("token_request_method")
            .is_some_and(|m| m == "GET")
        {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            ProviderRequest {
                method: "GET",
                url: with_query(&endpoints.token, &pairs),
                form: Vec::new(),
                bearer: None,
            }
        } else {
            ProviderRequest {
                method: "POST",
                url: endpoints.token.clone(),
                form,
                bearer: None,
            }
        };
        let (status, tokens) = self.provider_json(request).await?;
        if status != 200 {
            return Err(refusal(
                "provider_token_refused",
                "The identity provider refused the authorization code.",
            ));
        }
        let access_token = tokens.get("access_token").and_then(Value::as_str);
        if flavor(&provider.provider_type) == Some(Flavor::Profile) {
            let (Some(url), Some(access_token)) = (&endpoints.userinfo, access_token) else {
                return Err(refusal(
                    "provider_no_access_token",
                    "The identity provider returned no access token.",
                ));
            };
            let (status, profile) = self
                .provider_json(ProviderRequest {
                    method: "GET",
                    url: profile_url(provider, url),
                    form: Vec::new(),
                    bearer: Some(access_token.to_owned()),
                })
                .await?;
            let Some(profile) = profile.as_object().filter(|_| status == 200) else {
                return Err(refusal(
                    "provider_profile_failed",
                    "The identity provider's profile endpoint refused the access token.",
                ));
            };
            return Ok(RawAttributes {
                claims: profile.clone().into_iter().collect(),
                name_id: None,
                saml_response: None,
                token_response: tokens,
                id_token: None,
                user_info: Some(profile.clone()),
            });
        }
        let Some(id_token) = tokens.get("id_token").and_then(Value::as_str) else {
            return Err(refusal(
                "provider_no_id_token",
                "The identity provider returned no ID token.",
            ));
        };
        let mut claims = self
            .verify_provider_id_token(&endpoints, &client_id, Some(&pending.nonce), id_token)
            .await?;
        let id_token_claims: serde_json::Map<String, Value> = claims.clone().into_iter().collect();
        let mut user_info = None;
        if let (Some(url), Some(access_token)) = (&endpoints.userinfo, access_token) {
            let post = details
                .get("attributes_request_method")
                .is_some_and(|m| m == "POST");
            let (status, info) = self
                .provider_json(ProviderRequest {
                    method: if post { "POST" } else { "GET" },
                    url: url.clone(),
                    form: Vec::new(),
                    bearer: Some(access_token.to_owned()),
                })
                .await?;
            let Some(info) = info.as_object().filter(|_| status == 200) else {
                return Err(refusal(
                    "provider_userinfo_failed",
                    "The identity provider's userInfo endpoint refused the access token.",
                ));
            };
            if info
                .get("sub")
                .is_some_and(|s| Some(s) != claims.get("sub"))
            {
                return Err(refusal(
                    "provider_userinfo_other_subject",
                    "The identity provider's userInfo is about another user.",
                ));
            }
            for (k, v) in info {
                claims.insert(k.clone(), v.clone());
            }
            user_info = Some(info.clone());
        }
        if provider.provider_type == "SignInWithApple" {
            apple_names(&mut claims, apple_user);
        }
        Ok(RawAttributes {
            claims,
            name_id: None,
            saml_response: None,
            token_response: tokens,
            id_token: Some(id_token_claims),
            user_info,
        })
    }

    /// The InboundFederation trigger (`InboundFederation_ExternalProvider`),
    /// when the pool has one: it is given the provider's raw attributes
    /// (`tokenResponse`, `idToken`, `userInfo`, each a map of strings) and
    /// answers `userAttributesToMap`, the provider attributes the sign-in
    /// goes on with (the username claim and the AttributeMapping read
    /// them); an empty or absent map keeps the provider's own.
    async fn inbound_federation(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        client_id: &str,
        raw: RawAttributes,
    ) -> crate::error::Result<BTreeMap<String, Value>> {
        if !UserPools::has_trigger(pool, Trigger::InboundFederation) {
            return Ok(raw.claims);
        }
        let username_claim = username_claim(provider);
        let user_name = raw
            .name_id
            .clone()
            .or_else(|| raw.claims.get(username_claim).and_then(claim_text))
            .map(|id| format!("{}_{id}", provider.name))
            .unwrap_or_default();
        let strings = |m: &serde_json::Map<String, Value>| -> Value {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), Value::String(claim_text(v)?))))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let mut attributes = serde_json::Map::new();
        if let Some(tokens) = raw.token_response.as_object() {
            attributes.insert("tokenResponse".into(), strings(tokens));
        }
        if let Some(claims) = &raw.id_token {
            attributes.insert("idToken".into(), strings(claims));
        }
        if let Some(info) = &raw.user_info {
            attributes.insert("userInfo".into(), strings(info));
        }
        if let Some(saml) = &raw.saml_response {
            attributes.insert("samlResponse".into(), strings(saml));
        }
        let event = super::triggers::TriggerEvent::new(
            "InboundFederation_ExternalProvider",
            &user_name,
            Some(client_id),
        )
        .request(json!({
            "providerName": provider.name,
            "providerType": provider.provider_type,
            "attributes": attributes,
        }))
        .response(json!({"userAttributesToMap": {}}));
        let Some(response) = self
            .run_trigger(pool, Trigger::InboundFederation, event)
            .await?
        else {
            return Ok(raw.claims);
        };
        match response.0.get("userAttributesToMap") {
            None | Some(Value::Null) => Ok(raw.claims),
            Some(Value::Object(m)) if m.is_empty() => Ok(raw.claims),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                        Ok((k.clone(), v.clone()))
                    }
                    _ => Err(crate::triggers::invalid_response()),
                })
                .collect(),
            Some(_) => Err(crate::triggers::invalid_response()),
        }
    }

    /// Sign in with Apple's client secret: a JWT (ES256) signed with the
    /// provider's `private_key`, naming `key_id`, `team_id` and the
    /// Services ID (`client_id`), as Apple requires.
    fn apple_client_secret(&self, provider: &IdentityProvider) -> Result<String, Refusal> {
        let d = &provider.details;
        let get = |k: &str| d.get(k).map(String::as_str).unwrap_or_default();
        let now = self.now().div_euclid(1000);
        let claims = json!({
            "iss": get("team_id"),
            "iat": now,
            "exp": now + 300,
            "aud": APPLE_AUDIENCE,
            "sub": get("client_id"),
        });
        cognate_crypto::jws::es256_jwt(get("private_key"), get("key_id"), &claims).map_err(|e| {
            tracing::warn!(error = %e, "Sign in with Apple private_key is not usable");
            refusal(
                "provider_bad_private_key",
                "The identity provider's private key is not valid.",
            )
        })
    }

    /// The user an ID token of the pool's OpenID Connect provider
    /// `provider_name` speaks for, with the token's claims (GetDerivedToken's
    /// `SubjectTokenProviderName`): the token is checked against the
    /// provider's configuration (its JWKS, issuer, client id as audience,
    /// expiry), and names the native user its identity is linked to, else
    /// the federated user `<ProviderName>_<user id>`, who must exist (have
    /// signed in through the provider) and be enabled.
    pub(crate) async fn provider_token_user(
        &self,
        pool: &UserPool,
        provider_name: &str,
        id_token: &str,
        member: &str,
    ) -> crate::error::Result<(BTreeMap<String, Value>, User)> {
        let provider = pool
            .identity_providers
            .iter()
            .find(|p| p.name == provider_name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::ResourceNotFound,
                    format!(
                        "Identity provider {provider_name} does not exist in user pool {}.",
                        pool.id
                    ),
                )
            })?;
        if flavor(&provider.provider_type) != Some(Flavor::IdToken) {
            return Err(Error::invalid_parameter(format!(
                "{member} of a {} identity provider can't be exchanged: only ID tokens of OpenID Connect providers (OIDC, Google, SignInWithApple) can.",
                provider.provider_type
            )));
        }
        let invalid = |r: Refusal| {
            tracing::info!(reason = r.reason, "third-party token refused");
            Error::not_authorized(format!("Invalid {member}"))
        };
        let endpoints = self.provider_endpoints(provider).await.map_err(invalid)?;
        let client_id = provider
            .details
            .get("client_id")
            .map(String::as_str)
            .unwrap_or_default();
        let claims = self
            .verify_provider_id_token(&endpoints, client_id, None, id_token)
            .await
            .map_err(invalid)?;
        let username_claim = username_claim(provider);
        let user_id = claims
            .get(username_claim)
            .and_then(claim_text)
            .filter(|u| !u.is_empty() && u.len() <= 128)
            .ok_or_else(|| Error::not_authorized(format!("Invalid {member}")))?;
        let mapped = mapped_attributes(pool, provider, &claims);
        let key = match self
            .link_owner(&pool.id, provider, &user_id, &mapped)
            .await?
        {
            Some(key) => key,
            None => pool.username_key(&format!("{}_{user_id}", provider.name)),
        };
        let user = self.store.get_user(&pool.id, &key).await?.ok_or_else(|| {
            Error::not_authorized(format!(
                "The user of the {member} has not signed in through {provider_name}."
            ))
        })?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        Ok((claims, user))
    }

    /// The claims of a provider's ID token, if its signature verifies with
    /// a key of the provider's JWKS and it is for us now.
    async fn verify_provider_id_token(
        &self,
        endpoints: &Endpoints,
        client_id: &str,
        nonce: Option<&str>,
        id_token: &str,
    ) -> Result<BTreeMap<String, Value>, Refusal> {
        let invalid = |reason: &'static str| {
            refusal(reason, "The identity provider's ID token is not valid.")
        };
        let jws = cognate_crypto::jws::decode(id_token)
            .map_err(|_| invalid("id_token_malformed_or_not_rs256"))?;
        let kid = jws
            .kid()
            .ok_or_else(|| invalid("id_token_no_kid"))?
            .to_owned();
        let (status, jwks) = self
            .provider_json(ProviderRequest {
                method: "GET",
                url: endpoints.jwks.clone(),
                form: Vec::new(),
                bearer: None,
            })
            .await?;
        if status != 200 {
            return Err(invalid("jwks_unreadable"));
        }
        let key = jwks
            .get("keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
            .find_map(|k| serde_json::from_value::<cognate_crypto::jws::Jwk>(k.clone()).ok())
            .ok_or_else(|| invalid("id_token_unknown_kid"))?;
        let key = cognate_crypto::jws::VerifyingKey::from_jwk(&key)
            .map_err(|_| invalid("jwks_bad_key"))?;
        key.verify(jws.signing_input.as_bytes(), &jws.signature)
            .map_err(|_| invalid("id_token_bad_signature"))?;
        let claims: BTreeMap<String, Value> =
            match cognate_crypto::jws::json_without_duplicates(&jws.payload) {
                Ok(Value::Object(map)) => map.into_iter().collect(),
                _ => return Err(invalid("id_token_payload_malformed")),
            };
        let text = |k: &str| claims.get(k).and_then(Value::as_str);
        if text("iss") != Some(endpoints.issuer.as_str()) || endpoints.issuer.is_empty() {
            return Err(invalid("id_token_wrong_issuer"));
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == client_id,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(client_id)),
            _ => false,
        };
        if !audience_ok {
            return Err(invalid("id_token_wrong_audience"));
        }
        let now_s = self.now().div_euclid(1000);
        match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) if exp > now_s => {}
            _ => return Err(invalid("id_token_expired")),
        }
        // A sign-in's ID token carries the nonce it was asked with; a
        // token presented for exchange was asked for by someone else.
        let nonce_ok = nonce.is_none_or(|nonce| {
            text("nonce").is_some_and(|n| {
                cognate_crypto::digest::constant_time_eq(n.as_bytes(), nonce.as_bytes())
            })
        });
        if !nonce_ok {
            return Err(invalid("id_token_wrong_nonce"));
        }
        if text("sub").is_none_or(str::is_empty) {
            return Err(invalid("id_token_no_subject"));
        }
        Ok(claims)
    }
}

/// What a provider said about the user at a sign-in: the claims the
/// sign-in reads (the ID token's with userInfo's over them, or the profile
/// endpoint's), and, for the InboundFederation trigger, each source apart.
pub(super) struct RawAttributes {
    pub(super) claims: BTreeMap<String, Value>,
    /// A SAML assertion's NameID: the user id (the claims are its attributes).
    pub(super) name_id: Option<String>,
    /// A SAML assertion's attributes, as the InboundFederation trigger gets them.
    pub(super) saml_response: Option<serde_json::Map<String, Value>>,
    /// The token endpoint's answer.
    pub(super) token_response: Value,
    /// The verified ID token's claims (OpenID Connect providers).
    pub(super) id_token: Option<serde_json::Map<String, Value>>,
    /// The userInfo (or profile) endpoint's answer.
    pub(super) user_info: Option<serde_json::Map<String, Value>>,
}

/// The pool attributes the provider's AttributeMapping gives values:
/// only attributes of the pool's schema, never `sub` or `identities`.
fn mapped_attributes(
    pool: &UserPool,
    provider: &IdentityProvider,
    claims: &BTreeMap<String, Value>,
) -> Vec<Attribute> {
    provider
        .attribute_mapping
        .iter()
        .filter(|(attr, _)| {
            !matches!(attr.as_str(), "username" | "sub" | "identities")
                && pool.schema_attribute(attr).is_some()
        })
        .filter_map(|(attr, claim)| {
            let value = claims.get(claim).and_then(claim_text)?;
            Some(Attribute::new(
                attr,
                value.chars().take(2048).collect::<String>(),
            ))
        })
        .collect()
}

//! The hosted UI's way into the domain: the check of an
//! `/oauth2/authorize` request, sign-in through the pages (the same
//! password check, lockout, account state, NEW_PASSWORD_REQUIRED, TOTP,
//! SMS_MFA / EMAIL_OTP code and SELECT_MFA_TYPE steps as the API, ending in a hosted session rather than tokens), the
//! sealed values the pages keep in cookies, and what an authorized request
//! gets: an authorization code or, for the implicit grant, tokens.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::auth::{ChallengeInput, Channel, SignInStep};
use super::clients::SYSTEM_SCOPES;
use super::mfa::MfaCaller;
use super::oauth::OAuthError;
use super::users::{prevents_existence_errors, CodeDelivery, SignUpInput, SignUpOutput};
use super::UserPools;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{
    AppClient, Attribute, AuthorizationCode, UiCustomization, User, UserPool, UserStatus,
};
use crate::tokens::{IssueOptions, SignInEvent};

/// How long a hosted-UI session lasts (Cognito's cookie: one hour).
pub const HOSTED_SESSION_MS: i64 = 3600 * 1000;

/// How long a new hosted-UI session (and its cookie) lasts in `pool`: an
/// hour, or with session tracking on, as long as the longest
/// SSOSession.MaxValidityMinutes of its clients, so that each client can
/// reuse it for its own time ([`UserPools::hosted_session_for_client`]).
pub fn hosted_session_ms(pool: &UserPool) -> i64 {
    if !pool.sessions.tracking {
        return HOSTED_SESSION_MS;
    }
    let longest = pool
        .sessions
        .client_sso_minutes
        .values()
        .copied()
        .max()
        .unwrap_or(0);
    HOSTED_SESSION_MS.max(i64::from(longest) * 60_000)
}
/// How long an authorization code can be exchanged.
pub const AUTHORIZATION_CODE_MS: i64 = 5 * 60 * 1000;
/// How long a browser that signed up may be signed in by confirming.
const SIGNUP_TICKET_MS: i64 = 24 * 3600 * 1000;
/// The name of the server-wide secret that signs the pages' cookies.
const COOKIE_KEY_NAME: &str = "hosted-ui-cookie-hmac-v1";

/// The parameters of an `/oauth2/authorize` request (and of every hosted
/// page, which carries them along).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

impl AuthorizeRequest {
    /// The request named by query or form pairs (the first of each name).
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        AuthorizeRequest {
            response_type: get("response_type"),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            state: get("state"),
            scope: get("scope"),
            nonce: get("nonce"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseType {
    /// The authorization code grant.
    Code,
    /// The implicit grant.
    Token,
}

/// A checked authorization request.
#[derive(Clone, Debug)]
pub struct ValidAuthorize {
    pub pool_id: String,
    pub client: AppClient,
    pub response_type: ResponseType,
    pub redirect_uri: String,
    /// The granted scopes, in the order asked (or the client's order).
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// There is no registered redirect URI to send the error to (unknown
    /// client, redirect_uri missing or not registered): shown on a page of
    /// the domain (`redirect_mismatch` on its `/error` page), never sent
    /// to the redirect URI.
    Page {
        error: &'static str,
        description: String,
    },
    /// Sent back to the client's registered redirect URI, in the query
    /// (code) or the fragment (implicit).
    Redirect {
        redirect_uri: String,
        fragment: bool,
        state: Option<String>,
        error: OAuthError,
    },
}

/// What an authorized request gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeGrant {
    Code(String),
    Tokens {
        access_token: String,
        id_token: Option<String>,
        expires_in: i64,
    },
}

/// A signed-in browser: the content of the hosted UI's session cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedSession {
    #[serde(rename = "p")]
    pub pool_id: String,
    #[serde(rename = "s")]
    pub sub: String,
    /// Seconds since the epoch of the sign-in.
    #[serde(rename = "a")]
    pub auth_time: i64,
    /// When the session began, ms.
    #[serde(rename = "i")]
    pub issued: i64,
    /// When the session ends, ms.
    #[serde(rename = "e")]
    pub expires: i64,
    /// Its SSO session record, while the pool tracks sessions: the cookie
    /// works only as long as the record exists.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub sso_session_id: Option<String>,
    /// The SAML sign-in the session came from (for sign-out at the provider).
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<SamlSignIn>,
}

/// Who a SAML provider signed in (its LogoutRequest names them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlSignIn {
    /// The provider's name.
    #[serde(rename = "p")]
    pub provider: String,
    #[serde(rename = "n")]
    pub name_id: String,
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub session_index: Option<String>,
}

/// The result of a step of hosted sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostedStep {
    SignedIn(HostedSession),
    /// The user must choose a password (and give the required attributes
    /// they lack: `required_attributes` are attribute names).
    NewPasswordRequired {
        session: String,
        required_attributes: Vec<String>,
    },
    /// The user must give a code of their authenticator app.
    SoftwareTokenMfa {
        session: String,
    },
    /// The user must set up an authenticator app with `secret` (base32)
    /// and give one of its codes.
    MfaSetup {
        session: String,
        secret: String,
        username: String,
    },
    /// The user must give the code just sent by SMS (SMS_MFA) or email
    /// (EMAIL_OTP) to `destination` (masked as Cognito's
    /// CODE_DELIVERY_DESTINATION). `state` is the page's sealed state, to
    /// send back with the code; `error` says why the page is shown again.
    CodeRequired {
        session: String,
        state: String,
        challenge: String,
        medium: String,
        destination: String,
        error: Option<String>,
    },
    /// The user must choose one of `choices` (SMS_MFA, SOFTWARE_TOKEN_MFA,
    /// EMAIL_OTP) for SELECT_MFA_TYPE.
    SelectMfaType {
        session: String,
        state: String,
        choices: Vec<String>,
        error: Option<String>,
    },
    /// The user must answer a passkey sign-in (WEB_AUTHN) in the browser:
    /// `options` is the PublicKeyCredentialRequestOptionsJSON for
    /// `navigator.credentials.get`, `state` the page's sealed state.
    PasskeyRequired {
        session: String,
        state: String,
        options: String,
    },
    /// The password is right but the account is not confirmed: a new code
    /// was sent (to `destination`, masked, when there is one), and the
    /// `ticket` signs this browser in once the code is confirmed.
    ConfirmationRequired {
        username: String,
        destination: Option<String>,
        ticket: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Sealed<T> {
    /// What the value is for, so one kind can never pass for another.
    u: String,
    /// Expiry, ms.
    x: i64,
    v: T,
}

/// What a code or MFA-choice page needs to show itself again, sealed into
/// the page (`state`): the challenge, how and where the code went, the
/// wrong codes given so far and the factors offered, bound to the session
/// by its digest. Only for display: the session in the store keeps the
/// real count of tries.
#[derive(Clone, Serialize, Deserialize)]
struct ChallengePage {
    /// The challenge: SMS_MFA, EMAIL_OTP, SMS_OTP, SELECT_MFA_TYPE or WEB_AUTHN.
    c: String,
    /// SHA-256 of the session handle.
    h: String,
    #[serde(default)]
    m: String,
    #[serde(default)]
    d: String,
    #[serde(default)]
    w: i64,
    #[serde(default)]
    o: Vec<String>,
}

impl ChallengePage {
    /// The page of challenge `name` answering `session` (no delivery, no
    /// wrong code yet, no choices).
    fn new(name: &str, session: &str) -> ChallengePage {
        ChallengePage {
            c: name.to_owned(),
            h: cognate_crypto::digest::sha256_hex(session.as_bytes()),
            m: String::new(),
            d: String::new(),
            w: 0,
            o: Vec::new(),
        }
    }
}

/// The purpose of a sealed [`ChallengePage`].
const CHALLENGE_PAGE: &str = "challenge-page";

/// What the code page says after the last wrong code a session takes (our
/// own text: AWS publishes none for its pages).
pub const CODE_TRIES_SPENT: &str =
    "Invalid code or auth state for the user. Too many wrong codes: sign in again to get a new code.";

#[derive(Serialize, Deserialize)]
struct SignUpTicket {
    p: String,
    s: String,
}

fn page_error(error: &'static str, description: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Page {
        error,
        description: description.into(),
    }
}

/// A PKCE code challenge or verifier: 43 to 128 characters of
/// `[A-Za-z0-9-._~]` (RFC 7636 §4.1–4.2).
pub fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl UserPools {
    // ---------------------------------------------------------------- cookies

    /// The key that signs the pages' cookies: one server-wide secret in
    /// the store, so every instance on the database agrees.
    pub(crate) async fn cookie_key(&self) -> Result<&[u8]> {
        let key = self
            .cookie_key
            .get_or_try_init(|| async {
                let candidate = cognate_crypto::random::bytes(32);
                self.store
                    .server_secret(COOKIE_KEY_NAME, &candidate)
                    .await
                    .map_err(Error::from)
            })
            .await?;
        Ok(key.as_slice())
    }

    /// `base64url(JSON).base64url(HMAC-SHA256)` of a value for `purpose`
    /// that expires at `expires` (ms).
    pub async fn seal<T: Serialize>(
        &self,
        purpose: &str,
        value: &T,
        expires: i64,
    ) -> Result<String> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let body = serde_json::to_vec(&Sealed {
            u: purpose.to_owned(),
            x: expires,
            v: value,
        })
        .map_err(|e| Error::internal(e.to_string()))?;
        let payload = b64.encode(body);
        let mac = cognate_crypto::digest::hmac_sha256(self.cookie_key().await?, payload.as_bytes());
        Ok(format!("{payload}.{}", b64.encode(mac)))
    }

    /// The value of a sealed text for `purpose`, if its signature holds and
    /// it has not expired.
    pub async fn unseal<T: DeserializeOwned>(&self, purpose: &str, text: &str) -> Option<T> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        if text.len() > 4096 {
            return None;
        }
        let (payload, mac) = text.split_once('.')?;
        let mac = b64.decode(mac).ok()?;
        let key = self.cookie_key().await.ok()?;
        let expected = cognate_crypto::digest::hmac_sha256(key, payload.as_bytes());
        if !cognate_crypto::digest::constant_time_eq(&expected, &mac) {
            return None;
        }
        let sealed: Sealed<T> = serde_json::from_slice(&b64.decode(payload).ok()?).ok()?;
        (sealed.u == purpose && sealed.x > self.now()).then_some(sealed.v)
    }

    /// The session cookie's value for a hosted session.
    pub async fn seal_hosted_session(&self, session: &HostedSession) -> Result<String> {
        self.seal("session", session, session.expires).await
    }

    /// The hosted session of a cookie, if it is genuine, unexpired, for
    /// `pool_id`, and its user may still be signed in: the user exists, is
    /// enabled and confirmed, and has not signed out globally since.
    pub async fn hosted_session(
        &self,
        pool_id: &str,
        cookie: &str,
    ) -> Result<Option<HostedSession>> {
        let Some(session) = self.unseal::<HostedSession>("session", cookie).await else {
            return Ok(None);
        };
        if session.pool_id != pool_id || session.expires <= self.now() {
            return Ok(None);
        }
        let Some(user) = self.store.get_user_by_sub(pool_id, &session.sub).await? else {
            return Ok(None);
        };
        let valid = user.enabled
            && matches!(
                user.status,
                UserStatus::Confirmed | UserStatus::ExternalProvider
            )
            && !user.signed_out_since(session.issued);
        if !valid {
            return Ok(None);
        }
        if let Some(sso) = &session.sso_session_id {
            if !self.sso_session_live(pool_id, sso).await? {
                return Ok(None);
            }
        }
        Ok(Some(session))
    }

    /// Ends the SSO session a session cookie names (`/logout`), so that
    /// the cookie works nowhere any more, even where the browser kept it.
    /// The tokens granted through it live on, as after Cognito's logout.
    pub async fn hosted_logout(&self, pool_id: &str, cookie: &str) -> Result<()> {
        let Some(session) = self.hosted_session(pool_id, cookie).await? else {
            return Ok(());
        };
        let Some(sso) = &session.sso_session_id else {
            return Ok(());
        };
        if let Some(user) = self.store.get_user_by_sub(pool_id, &session.sub).await? {
            self.store
                .revoke_sso_session(pool_id, &user.username_key, sso, false, self.now())
                .await?;
        }
        Ok(())
    }

    /// A new hosted session of `user`, signed in for `client_id` (with its
    /// SSO session record while the pool tracks sessions).
    pub(crate) async fn open_hosted_session(
        &self,
        pool: &UserPool,
        user: &User,
        client_id: &str,
    ) -> Result<HostedSession> {
        let now = self.now();
        let expires = now + hosted_session_ms(pool);
        let sso_session_id = self
            .open_sso_session(pool, user, client_id, expires)
            .await?;
        Ok(HostedSession {
            pool_id: user.pool_id.clone(),
            sub: user.sub.clone(),
            auth_time: now.div_euclid(1000),
            issued: now,
            expires,
            sso_session_id,
            saml: None,
        })
    }

    /// The hosted session of a cookie ([`hosted_session`](Self::hosted_session))
    /// if `client_id` may reuse it silently: with session tracking on, only
    /// within the client's SSOSession.MaxValidityMinutes (default 60; 0:
    /// never) of the sign-in, as Cognito documents
    /// (SetUserPoolClientSessionConfiguration); without, within the
    /// session's hour. A session one client may not reuse still serves
    /// the others.
    pub async fn hosted_session_for_client(
        &self,
        pool_id: &str,
        client_id: &str,
        cookie: &str,
    ) -> Result<Option<HostedSession>> {
        let Some(session) = self.hosted_session(pool_id, cookie).await? else {
            return Ok(None);
        };
        let pool = self.pool(pool_id).await?;
        if !pool.sessions.tracking {
            return Ok(Some(session));
        }
        let minutes = pool
            .sessions
            .client_sso_minutes
            .get(client_id)
            .copied()
            .unwrap_or(super::sessions::DEFAULT_SSO_MINUTES);
        let reusable_until = session
            .issued
            .saturating_add(i64::from(minutes).saturating_mul(60_000));
        Ok((self.now() < reusable_until).then_some(session))
    }

    // ---------------------------------------------------------- authorization

    /// Checks an authorization request against the client of `pool_id`
    /// (RFC 6749 §4.1.2.1): errors before the redirect URI is known good
    /// are pages, the others go back to the redirect URI.
    pub async fn check_authorize(
        &self,
        pool_id: &str,
        req: &AuthorizeRequest,
    ) -> Result<ValidAuthorize, AuthorizeError> {
        let internal = |e: Error| {
            tracing::error!(error = %e, "authorize failed");
            page_error("server_error", "The request could not be processed.")
        };
        let Some(client_id) = non_empty(&req.client_id) else {
            return Err(page_error("invalid_request", "client_id is required."));
        };
        let client = self
            .cached_client(client_id)
            .await
            .map_err(internal)?
            .filter(|c| c.pool_id == pool_id)
            .ok_or_else(|| page_error("invalid_client", "The client does not exist."))?;
        let Some(redirect_uri) = non_empty(&req.redirect_uri) else {
            return Err(page_error("invalid_request", "redirect_uri is required."));
        };
        let s = &client.settings;
        if !s
            .callback_urls
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|u| u == redirect_uri)
        {
            return Err(page_error(
                "redirect_mismatch",
                "The redirect_uri is not one of the client's callback URLs.",
            ));
        }
        let response_type = match non_empty(&req.response_type) {
            Some("code") => Some(ResponseType::Code),
            Some("token") => Some(ResponseType::Token),
            _ => None,
        };
        let refuse = |error: &'static str, description: &str| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            fragment: response_type == Some(ResponseType::Token),
            state: req.state.clone(),
            error: OAuthError::new(error, description),
        };
        let response_type = match (response_type, non_empty(&req.response_type)) {
            (Some(t), _) => t,
            (None, None) => return Err(refuse("invalid_request", "response_type is required.")),
            (None, Some(_)) => {
                return Err(refuse(
                    "unsupported_response_type",
                    "response_type must be code or token.",
                ))
            }
        };
        let flow = match response_type {
            ResponseType::Code => "code",
            ResponseType::Token => "implicit",
        };
        if !s.allowed_oauth_flows_user_pool_client
            || !s
                .allowed_oauth_flows
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|f| f == flow)
        {
            return Err(refuse(
                "unauthorized_client",
                "The client is not allowed this response_type.",
            ));
        }
        let (code_challenge, code_challenge_method) = match response_type {
            ResponseType::Token => (None, None),
            ResponseType::Code => {
                match (
                    non_empty(&req.code_challenge),
                    non_empty(&req.code_challenge_method),
                ) {
                    (None, None) => (None, None),
                    (None, Some(_)) => {
                        return Err(refuse("invalid_request", "code_challenge is required."))
                    }
                    // Cognito supports S256 only: a challenge without a
                    // method, or with any other, is refused.
                    (Some(_), None) => {
                        return Err(refuse(
                            "invalid_request",
                            "code_challenge_method is required.",
                        ))
                    }
                    (Some(c), Some(method)) => {
                        if method != "S256" {
                            return Err(refuse(
                                "invalid_request",
                                "code_challenge_method must be S256.",
                            ));
                        }
                        if !is_pkce_string(c) || c.len() != 43 {
                            return Err(refuse(
                                "invalid_request",
                                "The code_challenge is malformed.",
                            ));
                        }
                        (Some(c.to_owned()), Some(method.to_owned()))
                    }
                }
            }
        };
        // Scopes: each asked must be allowed to the client (and a custom
        // one must still exist); none asked means all the client's.
        let allowed: Vec<&str> = s
            .allowed_oauth_scopes
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect();
        let existing = if allowed.iter().any(|a| !SYSTEM_SCOPES.contains(a)) {
            self.custom_scopes(pool_id).await.map_err(internal)?
        } else {
            Default::default()
        };
        let grantable = |sc: &str| {
            allowed.contains(&sc) && (SYSTEM_SCOPES.contains(&sc) || existing.contains(sc))
        };
        let mut scopes: Vec<String> = Vec::new();
        match non_empty(&req.scope) {
            Some(asked) => {
                for sc in asked.split(' ').filter(|sc| !sc.is_empty()) {
                    if !grantable(sc) {
                        // Cognito's answer: the code in the description.
                        return Err(refuse("invalid_request", "invalid_scope"));
                    }
                    if !scopes.iter().any(|x| x == sc) {
                        scopes.push(sc.to_owned());
                    }
                }
            }
            None => scopes.extend(
                allowed
                    .iter()
                    .filter(|sc| grantable(sc))
                    .map(|s| (*s).to_owned()),
            ),
        }
        if scopes.is_empty() {
            return Err(refuse("invalid_request", "invalid_scope"));
        }
        Ok(ValidAuthorize {
            pool_id: pool_id.to_owned(),
            response_type,
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            state: req.state.clone(),
            nonce: non_empty(&req.nonce).map(str::to_owned),
            code_challenge,
            code_challenge_method,
            client: (*client).clone(),
        })
    }

    /// What a checked request gets for a signed-in browser: a new
    /// authorization code, or tokens (implicit: no refresh token).
    pub async fn authorize_grant(
        &self,
        v: &ValidAuthorize,
        session: &HostedSession,
    ) -> Result<AuthorizeGrant> {
        let pool = self.pool(&v.pool_id).await?;
        let user = self
            .store
            .get_user_by_sub(&v.pool_id, &session.sub)
            .await?
            .ok_or_else(Error::user_not_found)?;
        let scope = v.scopes.join(" ");
        // The session's start, so that a global sign-out refuses what it
        // mints later (`User::token_revoked`).
        let origin_jti = cognate_crypto::random::uuid_v7(session.issued);
        if let Some(sso) = &session.sso_session_id {
            // A token grant is activity on the SSO session.
            self.touch_sso_session(&v.pool_id, sso).await?;
        }
        match v.response_type {
            ResponseType::Code => {
                let code = cognate_crypto::random::uuid();
                let now = self.now();
                self.store
                    .put_authorization_code(&AuthorizationCode {
                        code_hash: cognate_crypto::digest::sha256_hex(code.as_bytes()),
                        pool_id: v.pool_id.clone(),
                        client_id: v.client.client_id.clone(),
                        username_key: user.username_key.clone(),
                        sub: user.sub.clone(),
                        redirect_uri: v.redirect_uri.clone(),
                        scope,
                        nonce: v.nonce.clone(),
                        code_challenge: v.code_challenge.clone(),
                        code_challenge_method: v.code_challenge_method.clone(),
                        auth_time: session.auth_time,
                        origin_jti,
                        created: now,
                        expires: now + AUTHORIZATION_CODE_MS,
                        sso_session_id: session.sso_session_id.clone(),
                    })
                    .await?;
                Ok(AuthorizeGrant::Code(code))
            }
            ResponseType::Token => {
                let event = SignInEvent {
                    origin_jti,
                    event_id: cognate_crypto::random::uuid(),
                    auth_time: session.auth_time,
                    device_key: None,
                    sso_session_id: session.sso_session_id.clone(),
                };
                let issued = self
                    .issue(
                        &pool,
                        &v.client,
                        &user,
                        &event,
                        IssueOptions::oauth(&scope, v.nonce.as_deref(), false),
                    )
                    .await?;
                Ok(AuthorizeGrant::Tokens {
                    access_token: issued.access_token,
                    id_token: issued.id_token,
                    expires_in: issued.expires_in,
                })
            }
        }
    }

    // ---------------------------------------------------------------- sign-in

    /// The client of a hosted page: in the pool and allowed the OAuth flows.
    async fn hosted_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<(AppClient, std::sync::Arc<UserPool>)> {
        let client = self.client_of(pool_id, client_id).await?;
        if !client.settings.allowed_oauth_flows_user_pool_client {
            return Err(Error::new(
                ErrorKind::InvalidOAuthFlow,
                "The client is not allowed the hosted UI.",
            ));
        }
        let pool = self.pool(pool_id).await?;
        Ok((client, pool))
    }

    /// The SECRET_HASH the server computes for its own pages.
    fn own_secret_hash(client: &AppClient, username: &str) -> Option<String> {
        client
            .first_secret()
            .map(|secret| cognate_crypto::digest::secret_hash(secret, username, &client.client_id))
    }

    /// Sign-in with a username and password on the login page: the API's
    /// password check, lockout and account rules, then a session or the
    /// next step.
    pub async fn hosted_sign_in(
        &self,
        pool_id: &str,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Result<HostedStep> {
        self.limit_ip(crate::ratelimit::Action::SignIn)?;
        let (client, pool) = self.hosted_client(pool_id, client_id).await?;
        self.check_blocked_ip(&pool, &client.client_id)?;
        if username.is_empty() || password.is_empty() {
            return Err(Error::incorrect_credentials());
        }
        match self
            .password_sign_in(&pool, &client, username, password, Channel::Hosted)
            .await
        {
            Ok(step) => self.hosted_step(&pool, &client, step).await,
            // Only a proven password gets this far: send a code and let
            // the confirmation page finish the sign-in.
            Err(e) if e.kind == ErrorKind::UserNotConfirmed => {
                let user = self
                    .find_user(&pool, username, false)
                    .await?
                    .ok_or_else(|| e.clone())?;
                let delivery = match self.hosted_resend_code(pool_id, client_id, username).await {
                    Ok(d) => Some(d.destination),
                    Err(err) if err.kind == ErrorKind::Internal => return Err(err),
                    Err(_) => None,
                };
                let ticket = self
                    .seal(
                        "signup",
                        &SignUpTicket {
                            p: pool_id.to_owned(),
                            s: user.sub.clone(),
                        },
                        self.now() + SIGNUP_TICKET_MS,
                    )
                    .await?;
                Ok(HostedStep::ConfirmationRequired {
                    username: user.username,
                    destination: delivery,
                    ticket,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The passwordless first factors the login page offers a client: on
    /// a managed login domain (`ManagedLoginVersion` 2, where AWS offers
    /// passwordless sign-in) to a client allowing `ALLOW_USER_AUTH`, the
    /// pool's `AllowedFirstAuthFactors` EMAIL_OTP, SMS_OTP and WEB_AUTHN
    /// (ESSENTIALS or PLUS tier).
    pub async fn hosted_passwordless_factors(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Vec<&'static str>> {
        let (client, pool) = self.hosted_client(pool_id, client_id).await?;
        self.passwordless_factors_of(&pool, &client).await
    }

    /// [`hosted_passwordless_factors`](Self::hosted_passwordless_factors)
    /// of a client and pool already read.
    async fn passwordless_factors_of(
        &self,
        pool: &UserPool,
        client: &AppClient,
    ) -> Result<Vec<&'static str>> {
        let managed_login = self
            .domain_of_pool(&pool.id)
            .await?
            .is_some_and(|d| d.managed_login_version == Some(2));
        if !managed_login
            || pool.settings.user_pool_tier == "LITE"
            || !super::auth::allows(client, "USER_AUTH")
        {
            return Ok(Vec::new());
        }
        let allowed = super::user_auth::first_auth_factors(pool);
        Ok(["EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]
            .into_iter()
            .filter(|f| allowed.iter().any(|a| a == f))
            .collect())
    }

    /// Passwordless sign-in on the login page: USER_AUTH with `factor`
    /// (EMAIL_OTP, SMS_OTP or WEB_AUTHN) as the preferred challenge. A code
    /// goes to the user's verified address and the code page follows, or
    /// the passkey page asks the browser for the passkey; as in the API,
    /// neither is followed by MFA.
    pub async fn hosted_passwordless_sign_in(
        &self,
        pool_id: &str,
        client_id: &str,
        username: &str,
        factor: &str,
    ) -> Result<HostedStep> {
        self.limit_ip(crate::ratelimit::Action::SignIn)?;
        let (client, pool) = self.hosted_client(pool_id, client_id).await?;
        if !self
            .passwordless_factors_of(&pool, &client)
            .await?
            .contains(&factor)
        {
            return Err(Error::invalid_parameter(
                "This sign-in method is not available.",
            ));
        }
        self.check_blocked_ip(&pool, &client.client_id)?;
        if username.is_empty() {
            return Err(Error::invalid_parameter("Enter your username."));
        }
        let (mut user, available) = self.user_auth_user(&pool, &client, username).await?;
        if !available.iter().any(|c| c == factor) {
            if !prevents_existence_errors(&client) {
                return Err(Error::not_authorized(match factor {
                    "EMAIL_OTP" => {
                        "You cannot sign in with a code sent by email: sign in with your password."
                    }
                    "SMS_OTP" => {
                        "You cannot sign in with a code sent by SMS: sign in with your password."
                    }
                    _ => "You have no passkey to sign in with: sign in with your password.",
                }));
            }
            // Whether the user is unknown or lacks the factor is not said:
            // the step of a stand-in (a code that is never sent, a passkey
            // that does not exist) follows instead.
            user = self.stand_in(&pool, username);
        }
        let step = self
            .start_first_factor(
                &pool,
                &client,
                &user,
                username,
                factor,
                &BTreeMap::new(),
                Channel::Hosted,
            )
            .await?;
        self.hosted_step(&pool, &client, step).await
    }

    /// Answers NEW_PASSWORD_REQUIRED from the hosted page.
    pub async fn hosted_new_password(
        &self,
        pool_id: &str,
        client_id: &str,
        session: &str,
        new_password: &str,
        attributes: &[Attribute],
    ) -> Result<HostedStep> {
        let mut responses = BTreeMap::new();
        responses.insert("NEW_PASSWORD".to_owned(), new_password.to_owned());
        for a in attributes {
            responses.insert(format!("userAttributes.{}", a.name), a.value.clone());
        }
        self.hosted_respond(
            pool_id,
            client_id,
            "NEW_PASSWORD_REQUIRED",
            session,
            responses,
        )
        .await
    }

    /// Answers SOFTWARE_TOKEN_MFA from the hosted page.
    pub async fn hosted_totp(
        &self,
        pool_id: &str,
        client_id: &str,
        session: &str,
        code: &str,
    ) -> Result<HostedStep> {
        let mut responses = BTreeMap::new();
        responses.insert("SOFTWARE_TOKEN_MFA_CODE".to_owned(), code.to_owned());
        self.hosted_respond(pool_id, client_id, "SOFTWARE_TOKEN_MFA", session, responses)
            .await
    }

    /// Answers MFA_SETUP from the hosted page: verifies the code of the
    /// new secret, then completes the sign-in.
    pub async fn hosted_mfa_setup(
        &self,
        pool_id: &str,
        client_id: &str,
        session: &str,
        code: &str,
    ) -> Result<HostedStep> {
        self.hosted_client(pool_id, client_id).await?;
        let next = self
            .verify_software_token(MfaCaller::Session(session), code, None)
            .await?
            .ok_or_else(|| Error::internal("VerifySoftwareToken gave no session"))?;
        self.hosted_respond(pool_id, client_id, "MFA_SETUP", &next, BTreeMap::new())
            .await
    }

    /// Answers SMS_MFA or EMAIL_OTP from the code page (`state` is the
    /// page's sealed state). A wrong code shows the page again until the
    /// session's tries are spent ([`super::otp::MAX_CODE_TRIES`]); then the
    /// sign-in must start over.
    pub async fn hosted_code(
        &self,
        pool_id: &str,
        client_id: &str,
        session: &str,
        state: &str,
        code: &str,
    ) -> Result<HostedStep> {
        let page = self.challenge_page(session, state).await?;
        let member = match page.c.as_str() {
            "SMS_MFA" => "SMS_MFA_CODE",
            "EMAIL_OTP" => "EMAIL_OTP_CODE",
            "SMS_OTP" => "SMS_OTP_CODE",
            _ => return Err(Self::page_expired()),
        };
        let mut responses = BTreeMap::new();
        responses.insert(member.to_owned(), code.to_owned());
        match self
            .hosted_respond(pool_id, client_id, &page.c, session, responses)
            .await
        {
            Err(e) if e.kind == ErrorKind::CodeMismatch => {
                let wrong = page.w + 1;
                if wrong >= super::otp::MAX_CODE_TRIES {
                    return Err(Error::new(ErrorKind::CodeMismatch, CODE_TRIES_SPENT));
                }
                let page = ChallengePage { w: wrong, ..page };
                Ok(HostedStep::CodeRequired {
                    session: session.to_owned(),
                    state: self.seal_challenge_page(&page).await?,
                    challenge: page.c,
                    medium: page.m,
                    destination: page.d,
                    error: Some(e.message),
                })
            }
            other => other,
        }
    }

    /// Answers WEB_AUTHN from the passkey page: `credential` is the
    /// browser's AuthenticationResponseJSON. The session answers once, so
    /// a refused passkey means signing in again.
    pub async fn hosted_passkey(
        &self,
        pool_id: &str,
        client_id: &str,
        session: &str,
        state: &str,
        credential: &str,
    ) -> Result<HostedStep> {
        let page = self.challenge_page(session, state).await?;
        if page.c != "WEB_AUTHN" {
            return Err(Self::page_expired());
        }
        if credential.is_empty() {
            return Err(Error::not_authorized(
                "The passkey sign-in did not complete in the browser.",
            ));
        }
        let mut responses = BTreeMap::new();
        responses.insert("CREDENTIAL".to_owned(), credential.to_owned());
        self.hosted_respond(pool_id, client_id, "WEB_AUTHN", session, responses)
            .await
    }

    /// Answers SELECT_MFA_TYPE from the choice page: the chosen factor's
    /// page follows (a code is sent for SMS_MFA and EMAIL_OTP).
    pub async fn hosted_select_mfa_type(
        &self,
        pool_id: &str,
        client_id: &str,
        session: &str,
        state: &str,
        answer: &str,
    ) -> Result<HostedStep> {
        let page = self.challenge_page(session, state).await?;
        if page.c != "SELECT_MFA_TYPE" {
            return Err(Self::page_expired());
        }
        if !page.o.iter().any(|o| o == answer) {
            // Nothing (or something not offered) chosen: the session is
            // still unanswered, so the page comes again.
            return Ok(HostedStep::SelectMfaType {
                session: session.to_owned(),
                state: state.to_owned(),
                choices: page.o,
                error: Some("Choose one of the MFA methods.".to_owned()),
            });
        }
        let mut responses = BTreeMap::new();
        responses.insert("ANSWER".to_owned(), answer.to_owned());
        self.hosted_respond(pool_id, client_id, "SELECT_MFA_TYPE", session, responses)
            .await
    }

    fn page_expired() -> Error {
        Error::not_authorized("Invalid session for the user, session is expired.")
    }

    async fn seal_challenge_page(&self, page: &ChallengePage) -> Result<String> {
        // As long as any challenge session can live (AuthSessionValidity
        // is at most 15 minutes).
        self.seal(CHALLENGE_PAGE, page, self.now() + 15 * 60 * 1000)
            .await
    }

    /// The sealed state of a challenge page, if genuine and for `session`.
    async fn challenge_page(&self, session: &str, state: &str) -> Result<ChallengePage> {
        let page = self
            .unseal::<ChallengePage>(CHALLENGE_PAGE, state)
            .await
            .ok_or_else(Self::page_expired)?;
        let digest = cognate_crypto::digest::sha256_hex(session.as_bytes());
        if !cognate_crypto::digest::constant_time_eq(digest.as_bytes(), page.h.as_bytes()) {
            return Err(Self::page_expired());
        }
        Ok(page)
    }

    async fn hosted_respond(
        &self,
        pool_id: &str,
        client_id: &str,
        challenge: &str,
        session: &str,
        responses: BTreeMap<String, String>,
    ) -> Result<HostedStep> {
        self.hosted_client(pool_id, client_id).await?;
        let (pool, client, step) = self
            .respond_challenge(
                ChallengeInput {
                    admin_pool_id: Some(pool_id.to_owned()),
                    client_id: client_id.to_owned(),
                    challenge_name: challenge.to_owned(),
                    session: Some(session.to_owned()),
                    responses,
                    client_metadata: Default::default(),
                },
                Channel::Hosted,
            )
            .await?;
        self.hosted_step(&pool, &client, step).await
    }

    async fn hosted_step(
        &self,
        pool: &UserPool,
        client: &AppClient,
        step: SignInStep,
    ) -> Result<HostedStep> {
        match step {
            SignInStep::Done(user) => {
                // As for an API sign-in: PostAuthentication may still
                // refuse, before the session exists.
                self.post_authentication(pool, client, &user).await?;
                let mfa = user.totp_enabled || crate::audit::mfa_answered();
                self.signed_in(pool, &user, Some(&client.client_id), mfa)
                    .await;
                let session = self
                    .open_hosted_session(pool, &user, &client.client_id)
                    .await?;
                Ok(HostedStep::SignedIn(session))
            }
            SignInStep::Challenge {
                name,
                session,
                parameters,
                user,
            } => match name.as_str() {
                "NEW_PASSWORD_REQUIRED" => {
                    let required: Vec<String> = parameters
                        .get("requiredAttributes")
                        .and_then(|r| serde_json::from_str::<Vec<String>>(r).ok())
                        .unwrap_or_default()
                        .into_iter()
                        .map(|a| a.trim_start_matches("userAttributes.").to_owned())
                        .collect();
                    Ok(HostedStep::NewPasswordRequired {
                        session,
                        required_attributes: required,
                    })
                }
                "SOFTWARE_TOKEN_MFA" => Ok(HostedStep::SoftwareTokenMfa { session }),
                "MFA_SETUP" => {
                    let (secret, next) = self
                        .associate_software_token(MfaCaller::Session(&session))
                        .await?;
                    Ok(HostedStep::MfaSetup {
                        session: next.ok_or_else(|| Error::internal("no MFA_SETUP session"))?,
                        secret,
                        username: user.username,
                    })
                }
                "SMS_MFA" | "EMAIL_OTP" | "SMS_OTP" => {
                    let delivery = |k: &str| parameters.get(k).cloned().unwrap_or_default();
                    let page = ChallengePage {
                        m: delivery("CODE_DELIVERY_DELIVERY_MEDIUM"),
                        d: delivery("CODE_DELIVERY_DESTINATION"),
                        ..ChallengePage::new(&name, &session)
                    };
                    Ok(HostedStep::CodeRequired {
                        state: self.seal_challenge_page(&page).await?,
                        session,
                        challenge: page.c,
                        medium: page.m,
                        destination: page.d,
                        error: None,
                    })
                }
                "WEB_AUTHN" => {
                    let page = ChallengePage::new(&name, &session);
                    Ok(HostedStep::PasskeyRequired {
                        state: self.seal_challenge_page(&page).await?,
                        session,
                        options: parameters
                            .get("CREDENTIAL_REQUEST_OPTIONS")
                            .cloned()
                            .ok_or_else(|| Error::internal("no CREDENTIAL_REQUEST_OPTIONS"))?,
                    })
                }
                "SELECT_MFA_TYPE" => {
                    let choices: Vec<String> = parameters
                        .get("MFAS_CAN_CHOOSE")
                        .and_then(|c| serde_json::from_str(c).ok())
                        .unwrap_or_default();
                    let page = ChallengePage {
                        o: choices.clone(),
                        ..ChallengePage::new(&name, &session)
                    };
                    Ok(HostedStep::SelectMfaType {
                        state: self.seal_challenge_page(&page).await?,
                        session,
                        choices,
                        error: None,
                    })
                }
                other => Err(Error::invalid_parameter(format!(
                    "The hosted UI cannot answer the {other} challenge; sign in through the API."
                ))),
            },
        }
    }

    /// The secret of a pending MFA_SETUP session (to show it again after a
    /// wrong code), if the session is still alive.
    pub async fn hosted_pending_totp_secret(
        &self,
        pool_id: &str,
        session: &str,
    ) -> Result<Option<String>> {
        let hash = cognate_crypto::digest::sha256_hex(session.as_bytes());
        let Some(s) = self.store.take_session(&hash).await? else {
            return Ok(None);
        };
        self.store.put_session(&s).await?;
        if s.pool_id != pool_id || s.challenge != "MFA_SETUP" {
            return Ok(None);
        }
        Ok(self
            .store
            .get_user(pool_id, &s.username)
            .await?
            .and_then(|u| u.totp_pending_secret))
    }

    /// Whether `/logout` may send the browser to `logout_uri`: one of the
    /// sign-out URLs of a client of the pool.
    pub async fn hosted_logout_uri_allowed(
        &self,
        pool_id: &str,
        client_id: &str,
        logout_uri: &str,
    ) -> Result<bool> {
        let Some(client) = self.cached_client(client_id).await? else {
            return Ok(false);
        };
        Ok(client.pool_id == pool_id
            && client
                .settings
                .logout_urls
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|u| u == logout_uri))
    }

    /// The branding of a client's pages. With a managed login domain
    /// (`ManagedLoginVersion` 2), the client's managed login branding style
    /// as far as the pages can show it; otherwise (classic hosted UI) its
    /// own UI customization, else the pool's (`ALL`).
    pub async fn hosted_branding(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Option<UiCustomization>> {
        let managed_login = self
            .domain_of_pool(pool_id)
            .await?
            .is_some_and(|d| d.managed_login_version == Some(2));
        if managed_login {
            let pool = self.pool(pool_id).await?;
            return Ok(pool
                .managed_login_branding
                .iter()
                .find(|b| b.client_id == client_id)
                .map(|b| super::client_records::branding_customization(pool_id, b)));
        }
        if let Some(own) = self.store.get_ui_customization(pool_id, client_id).await? {
            return Ok(Some(own));
        }
        Ok(self.store.get_ui_customization(pool_id, "ALL").await?)
    }

    // ------------------------------------------------ sign-up and recovery

    /// SignUp from the hosted page. Returns the outcome and a ticket that
    /// lets this browser be signed in when it confirms the account.
    pub async fn hosted_sign_up(
        &self,
        pool_id: &str,
        client_id: &str,
        username: &str,
        password: &str,
        attributes: Vec<Attribute>,
    ) -> Result<(SignUpOutput, String)> {
        let (client, _pool) = self.hosted_client(pool_id, client_id).await?;
        // The page's triggers (CustomMessage_SignUp, ...) name its client.
        let out = crate::triggers::on_behalf_of(
            client_id,
            self.sign_up(SignUpInput {
                client_id: client_id.to_owned(),
                secret_hash: Self::own_secret_hash(&client, username),
                username: username.to_owned(),
                password: Some(password.to_owned()),
                attributes,
                validation_data: Vec::new(),
                client_metadata: Default::default(),
            }),
        )
        .await?;
        let ticket = self
            .seal(
                "signup",
                &SignUpTicket {
                    p: pool_id.to_owned(),
                    s: out.user_sub.clone(),
                },
                self.now() + SIGNUP_TICKET_MS,
            )
            .await?;
        Ok((out, ticket))
    }

    /// ConfirmSignUp from the hosted page. With the ticket of the browser
    /// that signed this user up, the confirmed user is signed in.
    pub async fn hosted_confirm_sign_up(
        &self,
        pool_id: &str,
        client_id: &str,
        username: &str,
        code: &str,
        ticket: Option<&str>,
    ) -> Result<Option<HostedSession>> {
        let (client, pool) = self.hosted_client(pool_id, client_id).await?;
        let secret_hash = Self::own_secret_hash(&client, username);
        self.confirm_sign_up(client_id, secret_hash.as_deref(), username, code)
            .await?;
        let ticket = match ticket {
            Some(t) => self.unseal::<SignUpTicket>("signup", t).await,
            None => None,
        };
        let Some(ticket) = ticket.filter(|t| t.p == pool_id) else {
            return Ok(None);
        };
        let user = self.find_user(&pool, username, false).await?;
        match user.filter(|u| u.sub == ticket.s && u.enabled && u.status == UserStatus::Confirmed) {
            Some(u) => Ok(Some(
                self.open_hosted_session(&pool, &u, &client.client_id)
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// ResendConfirmationCode from the hosted page.
    pub async fn hosted_resend_code(
        &self,
        pool_id: &str,
        client_id: &str,
        username: &str,
    ) -> Result<CodeDelivery> {
        let (client, _pool) = self.hosted_client(pool_id, client_id).await?;
        let secret_hash = Self::own_secret_hash(&client, username);
        crate::triggers::on_behalf_of(
            client_id,
            self.resend_confirmation_code(client_id, secret_hash.as_deref(), username),
        )
        .await
    }

    /// ForgotPassword from the hosted page.
    pub async fn hosted_forgot_password(
        &self,
        pool_id: &str,
        client_id: &str,
        username: &str,
    ) -> Result<CodeDelivery> {
        let (client, _pool) = self.hosted_client(pool_id, client_id).await?;
        let secret_hash = Self::own_secret_hash(&client, username);
        crate::triggers::on_behalf_of(
            client_id,
            self.forgot_password(client_id, secret_hash.as_deref(), username),
        )
        .await
    }

    /// ConfirmForgotPassword from the hosted page.
    pub async fn hosted_confirm_forgot_password(
        &self,
        pool_id: &str,
        client_id: &str,
        username: &str,
        code: &str,
        password: &str,
    ) -> Result<()> {
        let (client, _pool) = self.hosted_client(pool_id, client_id).await?;
        let secret_hash = Self::own_secret_hash(&client, username);
        self.confirm_forgot_password(client_id, secret_hash.as_deref(), username, code, password)
            .await
    }

    /// What the pages need to know of a pool: its password policy (for
    /// the hint), the required attributes, whether usernames are emails,
    /// and whether self sign-up is allowed.
    pub async fn hosted_pool_info(&self, pool_id: &str) -> Result<HostedPoolInfo> {
        let pool = self.pool(pool_id).await?;
        let p = &pool.settings.password_policy;
        let mut rules = vec![format!("at least {} characters", p.minimum_length)];
        if p.require_uppercase {
            rules.push("an uppercase letter".into());
        }
        if p.require_lowercase {
            rules.push("a lowercase letter".into());
        }
        if p.require_numbers {
            rules.push("a number".into());
        }
        if p.require_symbols {
            rules.push("a special character".into());
        }
        Ok(HostedPoolInfo {
            password_hint: format!("Use {}.", join_list(&rules)),
            required_attributes: pool
                .schema
                .iter()
                .filter(|a| a.required && a.name != "sub" && a.name != "email")
                .map(|a| a.name.clone())
                .collect(),
            email_username: pool.username_attributes.iter().any(|a| a == "email"),
            sign_up_allowed: !pool
                .settings
                .admin_create_user_config
                .allow_admin_create_user_only,
        })
    }
}

/// What the hosted pages show of a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedPoolInfo {
    pub password_hint: String,
    /// Required attributes other than email (which the sign-up page always asks).
    pub required_attributes: Vec<String>,
    /// Users sign in with their email (no separate username).
    pub email_username: bool,
    pub sign_up_allowed: bool,
}

fn join_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

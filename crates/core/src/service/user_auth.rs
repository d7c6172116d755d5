//! USER_AUTH, choice-based sign-in: InitiateAuth / AdminInitiateAuth with
//! `AuthFlow: USER_AUTH`, the SELECT_CHALLENGE answer, the first factors a
//! user may choose (the pool's `Policies.SignInPolicy.AllowedFirstAuthFactors`
//! met by what the user has), and GetUserAuthFactors'
//! `ConfiguredUserAuthFactors`.
//!
//! PASSWORD and PASSWORD_SRP go on exactly as USER_PASSWORD_AUTH and
//! USER_SRP_AUTH (MFA included); EMAIL_OTP and SMS_OTP send a code
//! (`otp.rs`) and, answered, end the sign-in: a passwordless first factor is
//! not followed by MFA, as on AWS, and is not offered while the pool
//! requires MFA. WEB_AUTHN (a passkey, `webauthn.rs`) answers the
//! credential request options of the user's passkeys and, answered with a
//! verified assertion, ends the sign-in too. Where the sign-in owes MFA
//! (the pool requires it, or the user turned a factor on), a passkey is
//! offered only if the pool's FactorConfiguration is
//! MULTI_FACTOR_WITH_USER_VERIFICATION, and then must verify the user.
//!
//! Where the app client prevents user-existence errors, a username the pool
//! does not know (or a user with no factor to offer) gets challenges all the
//! same, as on AWS: a *stand-in* user ([`UserPools::stand_in`]) with a choice of the
//! pool's factors that is the same at every attempt, whose code challenges
//! send nothing and whose passkey challenge names a credential that does
//! not exist. Its sessions name its marked key (`is_simulated`); no
//! answer to them ever signs anyone in.

use std::collections::BTreeMap;

use serde_json::json;

use super::auth::{param, AuthFlowInput, AuthOutcome, ChallengeInput, Channel, SignInStep};
use super::users::prevents_existence_errors;
use super::UserPools;
use crate::error::{Error, Result};
use crate::model::{AppClient, ChallengeSession, User, UserPool};
use crate::ratelimit::Action;

/// Longest `CREDENTIAL` a WEB_AUTHN answer may carry (bytes): an
/// AuthenticationResponseJSON is a few hundred bytes to a few kilobytes.
const MAX_CREDENTIAL_JSON_BYTES: usize = 32 * 1024;

/// The pool's `AllowedFirstAuthFactors` (Cognito's default: PASSWORD).
pub fn first_auth_factors(pool: &UserPool) -> Vec<String> {
    first_auth_factors_of(&pool.settings)
}

/// [`first_auth_factors`] of a pool's settings.
pub(crate) fn first_auth_factors_of(settings: &crate::model::PoolSettings) -> Vec<String> {
    settings
        .sign_in_policy
        .as_ref()
        .and_then(|p| p.get("AllowedFirstAuthFactors"))
        .and_then(|f| f.as_array())
        .map(|f| {
            f.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_else(|| vec!["PASSWORD".to_owned()])
}

fn verified(user: &User, attribute: &str) -> bool {
    user.attribute(attribute).is_some()
        && user
            .attribute(&format!("{attribute}_verified"))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The username key of a stand-in starts with a space, which no username
/// has (`[\p{L}\p{M}\p{S}\p{N}\p{P}]+`): its sessions never name a user.
const STAND_IN_MARK: char = ' ';

/// Whether `user` is a stand-in ([`UserPools::stand_in`]).
pub(crate) fn is_stand_in(user: &User) -> bool {
    user.username_key.starts_with(STAND_IN_MARK)
}

/// Whether a challenge session belongs to a stand-in.
pub(crate) fn is_simulated(session: &ChallengeSession) -> bool {
    session.username.starts_with(STAND_IN_MARK)
}

/// The first factors the pool allows that `user` has, in the pool's order
/// (`has_webauthn`: the user has a passkey). Passwordless factors need the
/// ESSENTIALS or PLUS tier and a verified email address or phone number.
pub fn user_auth_factors(pool: &UserPool, user: &User, has_webauthn: bool) -> Vec<&'static str> {
    let passwordless = pool.settings.user_pool_tier != "LITE";
    let mut out = Vec::new();
    for factor in first_auth_factors(pool) {
        match factor.as_str() {
            "PASSWORD" if user.password_hash.is_some() => out.push("PASSWORD"),
            "EMAIL_OTP" if passwordless && verified(user, "email") => out.push("EMAIL_OTP"),
            "SMS_OTP" if passwordless && verified(user, "phone_number") => out.push("SMS_OTP"),
            "WEB_AUTHN" if passwordless && has_webauthn => out.push("WEB_AUTHN"),
            _ => {}
        }
    }
    out
}

/// Whether a stand-in may be signed in with `factor`: a code factor the
/// pool allows (and offers, MFA permitting), or a password one.
fn stand_in_may_prefer(pool: &UserPool, factor: &str) -> bool {
    let allowed = first_auth_factors(pool);
    let allows = |f: &str| allowed.iter().any(|a| a == f);
    match factor {
        "PASSWORD" | "PASSWORD_SRP" => allows("PASSWORD"),
        "EMAIL_OTP" | "SMS_OTP" => {
            allows(factor)
                && pool.settings.user_pool_tier != "LITE"
                && pool.settings.mfa_configuration != "ON"
        }
        _ => false,
    }
}

impl UserPools {
    /// The stand-in for `username`, a user the pool does not know (or one
    /// it will not let on about), in sign-ins of a client that prevents
    /// user-existence errors: its username key names no user.
    pub(crate) fn stand_in(&self, pool: &UserPool, username: &str) -> User {
        let mut user = self.blank_user(pool, username.to_owned(), Vec::new());
        user.username_key = format!("{STAND_IN_MARK}{}", pool.username_key(username));
        user.status = crate::model::UserStatus::Confirmed;
        user
    }

    /// Whether the user has a WebAuthn credential (passkey) to sign in with.
    pub(crate) async fn user_has_webauthn(&self, pool: &UserPool, user: &User) -> Result<bool> {
        Ok(!self
            .store
            .webauthn_credentials_of_user(&pool.id, &user.username_key)
            .await?
            .is_empty())
    }

    /// GetUserAuthFactors' `ConfiguredUserAuthFactors` for a user.
    pub async fn configured_user_auth_factors(&self, user: &User) -> Result<Vec<&'static str>> {
        let pool = self.pool(&user.pool_id).await?;
        let webauthn = self.user_has_webauthn(&pool, user).await?;
        Ok(user_auth_factors(&pool, user, webauthn))
    }

    /// The challenges USER_AUTH offers the user (`AvailableChallenges`):
    /// PASSWORD brings PASSWORD_SRP with it; one-time codes are left out
    /// while the pool requires MFA (they would skip it); a passkey is left
    /// out where the sign-in owes MFA unless it is the user's MFA (the
    /// pool counts a verifying passkey as MFA and the user turned passkey
    /// MFA on).
    async fn available_challenges(&self, pool: &UserPool, user: &User) -> Result<Vec<String>> {
        // A user who must still choose a password signs in with the
        // temporary one: only the password challenges, in the order AWS
        // offers them to such a user (as a user captured it).
        if user.status == crate::model::UserStatus::ForceChangePassword {
            let password = first_auth_factors(pool).iter().any(|f| f == "PASSWORD");
            return Ok(if password && user.password_hash.is_some() {
                vec!["PASSWORD_SRP".to_owned(), "PASSWORD".to_owned()]
            } else {
                Vec::new()
            });
        }
        let webauthn = self.user_has_webauthn(pool, user).await?;
        let mfa_required = pool.settings.mfa_configuration == "ON";
        let passkey_refused =
            Self::sign_in_owes_mfa(pool, user) && !Self::passkey_is_mfa_of(pool, user);
        let mut out = Vec::new();
        for factor in user_auth_factors(pool, user, webauthn) {
            match factor {
                "PASSWORD" => {
                    out.push("PASSWORD".to_owned());
                    out.push("PASSWORD_SRP".to_owned());
                }
                "EMAIL_OTP" | "SMS_OTP" if mfa_required => {}
                "WEB_AUTHN" if passkey_refused => {}
                other => out.push(other.to_owned()),
            }
        }
        Ok(out)
    }

    /// InitiateAuth / AdminInitiateAuth with USER_AUTH: the preferred
    /// challenge when the user has it (`PREFERRED_CHALLENGE`, with
    /// `PASSWORD` or `SRP_A` for the password ones), else SELECT_CHALLENGE
    /// with the available ones.
    pub(crate) async fn user_auth_start(
        &self,
        pool: &UserPool,
        client: &AppClient,
        input: &AuthFlowInput,
    ) -> Result<AuthOutcome> {
        let username = param(&input.parameters, "USERNAME")?;
        self.check_challenge_secret_hash(
            client,
            username,
            input.parameters.get("SECRET_HASH").map(String::as_str),
        )?;
        let (user, available) = self.user_auth_user(pool, client, username).await?;
        if available.is_empty() {
            return Err(Error::not_authorized(
                "The user has no sign-in factor that the user pool allows.",
            ));
        }
        let device_key = input.parameters.get("DEVICE_KEY").map(String::as_str);
        // A stand-in (an unknown user where the client prevents existence
        // errors) takes any preferred challenge the pool allows, as AWS
        // answers a preferred EMAIL_OTP with a simulated challenge.
        let preferred = input.parameters.get("PREFERRED_CHALLENGE").filter(|p| {
            available.contains(p) || (is_stand_in(&user) && stand_in_may_prefer(pool, p))
        });
        let step = match preferred {
            Some(factor) => {
                self.start_first_factor(
                    pool,
                    client,
                    &user,
                    username,
                    factor,
                    &input.parameters,
                    Channel::Api,
                )
                .await?
            }
            None => {
                let session = self
                    .open_session(
                        pool,
                        client,
                        &user,
                        "SELECT_CHALLENGE",
                        json!({"available": available}),
                        Channel::Api,
                    )
                    .await?;
                return Ok(AuthOutcome::SelectChallenge { session, available });
            }
        };
        self.api_outcome(
            pool,
            client,
            step,
            device_key,
            false,
            "TokenGeneration_Authentication",
        )
        .await
    }

    /// The user USER_AUTH signs in (API or hosted page) and the challenges
    /// it offers them: the per-name rate limit, an unknown user
    /// (UserNotFoundException, or NotAuthorizedException where the client
    /// prevents user existence errors) and a disabled one refused.
    pub(crate) async fn user_auth_user(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
    ) -> Result<(User, Vec<String>)> {
        self.limit_user(Action::SignIn, pool, username)?;
        let hidden = prevents_existence_errors(client);
        let Some(user) = self.find_user(pool, username, false).await? else {
            if !hidden {
                return Err(Error::user_not_found());
            }
            return self.stand_in_with_factors(pool, username).await;
        };
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        let available = self.available_challenges(pool, &user).await?;
        if available.is_empty() && hidden {
            return self.stand_in_with_factors(pool, username).await;
        }
        Ok((user, available))
    }

    /// A stand-in for `username` and the challenges it is offered: a
    /// choice among those the pool allows (password ones always, when
    /// allowed; each other one by a bit of an HMAC of the pool and the
    /// username under the server's secret, so that repeated attempts see
    /// the same choice, as they would for a real user).
    pub(crate) async fn stand_in_with_factors(
        &self,
        pool: &UserPool,
        username: &str,
    ) -> Result<(User, Vec<String>)> {
        let key = self.cookie_key().await?;
        let mac = cognate_crypto::digest::hmac_sha256(
            key,
            format!(
                "stand-in-factors\u{0}{}\u{0}{}",
                pool.id,
                pool.username_key(username)
            )
            .as_bytes(),
        );
        let passwordless = pool.settings.user_pool_tier != "LITE";
        let mfa_required = pool.settings.mfa_configuration == "ON";
        let passkey_is_mfa = Self::passkey_satisfies_mfa(pool);
        let mut available = Vec::new();
        let mut skipped = None;
        for (i, factor) in first_auth_factors(pool).iter().enumerate() {
            let bit = mac.get(i).is_some_and(|b| b & 1 == 1);
            let offered = match factor.as_str() {
                "PASSWORD" => true,
                "EMAIL_OTP" | "SMS_OTP" => passwordless && !mfa_required,
                "WEB_AUTHN" => passwordless && (!mfa_required || passkey_is_mfa),
                _ => false,
            };
            if !offered {
                continue;
            }
            if factor == "PASSWORD" || bit {
                available.push(factor.clone());
                if factor == "PASSWORD" {
                    available.push("PASSWORD_SRP".to_owned());
                }
            } else if skipped.is_none() {
                skipped = Some(factor.clone());
            }
        }
        if available.is_empty() {
            available.extend(skipped);
        }
        Ok((self.stand_in(pool, username), available))
    }

    /// Answers SELECT_CHALLENGE: `ANSWER` names one of the available
    /// challenges, with that challenge's own members (`PASSWORD`, `SRP_A`).
    pub(crate) async fn answer_select_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: &ChallengeSession,
        input: &ChallengeInput,
        user: User,
        channel: Channel,
    ) -> Result<SignInStep> {
        let answer = param(&input.responses, "ANSWER")?;
        let offered = session
            .data
            .get("available")
            .and_then(|c| c.as_array())
            .is_some_and(|c| c.iter().any(|v| v.as_str() == Some(answer)));
        if !offered {
            return Err(Error::invalid_parameter(format!(
                "Invalid ANSWER: {answer} is not an available challenge."
            )));
        }
        let username = input
            .responses
            .get("USERNAME")
            .cloned()
            .unwrap_or_else(|| user.username.clone());
        self.start_first_factor(
            pool,
            client,
            &user,
            &username,
            answer,
            &input.responses,
            channel,
        )
        .await
    }

    /// Starts one first factor: a password proof, an SRP exchange
    /// (PASSWORD_VERIFIER), a code sent by email or SMS, or the
    /// credential request options of a passkey sign-in (WEB_AUTHN).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn start_first_factor(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        username: &str,
        factor: &str,
        parameters: &BTreeMap<String, String>,
        channel: Channel,
    ) -> Result<SignInStep> {
        let stand_in = is_stand_in(user);
        match factor {
            "PASSWORD" => {
                // For a stand-in: the user may exist by now; else the
                // answer a stranger gets.
                let password = param(parameters, "PASSWORD")?;
                self.password_sign_in(pool, client, &user.username, password, channel)
                    .await
            }
            "PASSWORD_SRP" => {
                let srp_a = param(parameters, "SRP_A")?;
                if !cognate_crypto::srp::valid_a(srp_a) {
                    return Err(Error::invalid_parameter("Invalid SRP_A value."));
                }
                // A stand-in gets SRP's simulated exchange.
                let real = (!stand_in).then_some(user);
                if let Some(user) = real {
                    self.pre_authentication(pool, &client.client_id, user)
                        .await?;
                }
                let (session, parameters) = self
                    .srp_challenge(pool, client, username, real, srp_a, None)
                    .await?;
                Ok(SignInStep::Challenge {
                    name: "PASSWORD_VERIFIER".into(),
                    session,
                    parameters,
                    user: user.clone(),
                })
            }
            "EMAIL_OTP" | "SMS_OTP" | "WEB_AUTHN" if stand_in => {
                self.stand_in_passwordless(pool, client, user, factor, channel)
                    .await
            }
            "EMAIL_OTP" | "SMS_OTP" => {
                self.passwordless_checks(pool, client, user).await?;
                self.code_challenge(pool, client, user, factor, true, channel)
                    .await
            }
            "WEB_AUTHN" => {
                self.passwordless_checks(pool, client, user).await?;
                let request = self.webauthn_request_options(pool, user).await?;
                self.passkey_challenge(pool, client, user, request, channel)
                    .await
            }
            other => Err(Error::invalid_parameter(format!(
                "Invalid ANSWER: {other} is not an available challenge."
            ))),
        }
    }

    /// A passwordless first factor of a stand-in: a code challenge shows a
    /// simulated destination and sends nothing; a passkey challenge asks
    /// for one credential that does not exist.
    async fn stand_in_passwordless(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        factor: &str,
        channel: Channel,
    ) -> Result<SignInStep> {
        match factor {
            "EMAIL_OTP" | "SMS_OTP" => {
                let sms = factor == "SMS_OTP";
                let destination = self
                    .simulated_destination(pool, &user.username, sms)
                    .await?;
                // No code: the session's empty digest matches no answer.
                let data = json!({"tries": 0, "code": "", "first_factor": true});
                let session = self
                    .open_session(pool, client, user, factor, data, channel)
                    .await?;
                let mut parameters = BTreeMap::new();
                parameters.insert(
                    "CODE_DELIVERY_DELIVERY_MEDIUM".to_owned(),
                    if sms { "SMS" } else { "EMAIL" }.to_owned(),
                );
                parameters.insert("CODE_DELIVERY_DESTINATION".to_owned(), destination);
                Ok(SignInStep::Challenge {
                    name: factor.to_owned(),
                    session,
                    parameters,
                    user: user.clone(),
                })
            }
            "WEB_AUTHN" => {
                let mut request = self.webauthn_request_options(pool, user).await?;
                let key = self.cookie_key().await?;
                let id = cognate_crypto::digest::hmac_sha256(
                    key,
                    format!("stand-in-passkey\u{0}{}\u{0}{}", pool.id, user.username_key)
                        .as_bytes(),
                );
                use base64::Engine;
                request.options["allowCredentials"] = json!([{
                    "id": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id),
                    "type": "public-key",
                    "transports": ["hybrid", "internal"],
                }]);
                self.passkey_challenge(pool, client, user, request, channel)
                    .await
            }
            other => Err(Error::invalid_parameter(format!(
                "Invalid ANSWER: {other} is not an available challenge."
            ))),
        }
    }

    /// Answers a challenge session of a stand-in (already taken from
    /// the store): the same checks and the same failure a real user's wrong
    /// answer gets; a SELECT_CHALLENGE answer opens the next simulated step.
    pub(crate) async fn answer_stand_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: &ChallengeSession,
        input: &ChallengeInput,
        channel: Channel,
    ) -> Result<SignInStep> {
        let name = session
            .data
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or_default();
        let user = self.stand_in(pool, name);
        match session.challenge.as_str() {
            "SELECT_CHALLENGE" => {
                self.answer_select_challenge(pool, client, session, input, user, channel)
                    .await
            }
            "EMAIL_OTP" | "SMS_OTP" => self.answer_code_challenge(session, input, user).await,
            "WEB_AUTHN" => {
                self.answer_webauthn_challenge(pool, session, input, user)
                    .await
            }
            _ => Err(Error::not_authorized(
                "Invalid session for the user, session is expired.",
            )),
        }
    }

    /// The WEB_AUTHN challenge of a passkey sign-in: its session keeps the
    /// request's state, its parameter is the request options.
    async fn passkey_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        request: super::webauthn::AssertionRequest,
        channel: Channel,
    ) -> Result<SignInStep> {
        let data = json!({"webauthn": request.state});
        let session = self
            .open_session(pool, client, user, "WEB_AUTHN", data, channel)
            .await?;
        let mut parameters = BTreeMap::new();
        parameters.insert(
            "CREDENTIAL_REQUEST_OPTIONS".to_owned(),
            request.options.to_string(),
        );
        Ok(SignInStep::Challenge {
            name: "WEB_AUTHN".into(),
            session,
            parameters,
            user: user.clone(),
        })
    }

    /// What a passwordless first factor checks before it starts: the
    /// account's state, the sign-in lock, and PreAuthentication.
    async fn passwordless_checks(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
    ) -> Result<()> {
        super::auth::account_state_refusal(&user.status, client)?;
        if self.sign_in_locked(user).await? {
            return Err(Error::not_authorized("Password attempts exceeded"));
        }
        self.pre_authentication(pool, &client.client_id, user).await
    }

    /// Answers WEB_AUTHN: `CREDENTIAL` is the AuthenticationResponseJSON of
    /// `navigator.credentials.get` for the options of the session (already
    /// taken from the store by the caller, so it answers once). A verified
    /// passkey ends the sign-in; it is not followed by MFA.
    pub(crate) async fn answer_webauthn_challenge(
        &self,
        pool: &UserPool,
        session: &ChallengeSession,
        input: &ChallengeInput,
        user: User,
    ) -> Result<SignInStep> {
        let text = param(&input.responses, "CREDENTIAL")?;
        if text.len() > MAX_CREDENTIAL_JSON_BYTES {
            return Err(Error::invalid_parameter("CREDENTIAL is too long."));
        }
        let credential: serde_json::Value = serde_json::from_str(text).map_err(|_| {
            Error::invalid_parameter("CREDENTIAL must be a PublicKeyCredential in JSON.")
        })?;
        let state = session
            .data
            .get("webauthn")
            .ok_or_else(|| Error::internal("passkey sign-in session has no state"))?;
        self.verify_webauthn_assertion(pool, &user, state, &credential)
            .await?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        Ok(SignInStep::Done(user))
    }
}

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

impl UserPools {
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
        self.check_secret_hash(
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
        let preferred = input
            .parameters
            .get("PREFERRED_CHALLENGE")
            .filter(|p| available.contains(p));
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
        let Some(user) = self.find_user(pool, username, false).await? else {
            return Err(if prevents_existence_errors(client) {
                Error::incorrect_credentials()
            } else {
                Error::user_not_found()
            });
        };
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        let available = self.available_challenges(pool, &user).await?;
        Ok((user, available))
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
        match factor {
            "PASSWORD" => {
                let password = param(parameters, "PASSWORD")?;
                self.password_sign_in(pool, client, &user.username, password, channel)
                    .await
            }
            "PASSWORD_SRP" => {
                let srp_a = param(parameters, "SRP_A")?;
                if !cognate_crypto::srp::valid_a(srp_a) {
                    return Err(Error::invalid_parameter("Invalid SRP_A value."));
                }
                self.pre_authentication(pool, &client.client_id, user)
                    .await?;
                let (session, parameters) = self
                    .srp_challenge(pool, client, username, Some(user), srp_a, None)
                    .await?;
                Ok(SignInStep::Challenge {
                    name: "PASSWORD_VERIFIER".into(),
                    session,
                    parameters,
                    user: user.clone(),
                })
            }
            "EMAIL_OTP" | "SMS_OTP" => {
                self.passwordless_checks(pool, client, user).await?;
                self.code_challenge(pool, client, user, factor, true, channel)
                    .await
            }
            "WEB_AUTHN" => {
                self.passwordless_checks(pool, client, user).await?;
                let request = self.webauthn_request_options(pool, user).await?;
                let session = self
                    .open_session(
                        pool,
                        client,
                        user,
                        "WEB_AUTHN",
                        json!({"webauthn": request.state}),
                        channel,
                    )
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
            other => Err(Error::invalid_parameter(format!(
                "Invalid ANSWER: {other} is not an available challenge."
            ))),
        }
    }

    /// What a passwordless first factor checks before it starts: the
    /// account's state, the sign-in lock, and PreAuthentication.
    async fn passwordless_checks(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
    ) -> Result<()> {
        super::auth::account_state_refusal(&user.status)?;
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

//! Sign-in: InitiateAuth / AdminInitiateAuth (password flows and refresh),
//! RespondToAuthChallenge / AdminRespondToAuthChallenge (NEW_PASSWORD_REQUIRED),
//! challenge sessions, and token issuance. The hosted UI signs in through
//! the same steps (`Channel::Hosted`), ending in a session instead of tokens.
//! Device authentication (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER) is in
//! `devices.rs`; this module routes to it.

use std::collections::BTreeMap;

use serde_json::json;

use super::risk::{CredentialEvent, Notice, Takeover};
use super::users::prevents_existence_errors;
use super::UserPools;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, ChallengeSession, RefreshTokenRecord, User, UserPool, UserStatus};
use crate::password_policy;
use crate::ratelimit::Action;
use crate::schema;
use crate::tokens::{self, IssueOptions, SignInEvent};

/// An InitiateAuth or AdminInitiateAuth call.
#[derive(Clone, Debug, Default)]
pub struct AuthFlowInput {
    /// Set for AdminInitiateAuth.
    pub admin_pool_id: Option<String>,
    pub client_id: String,
    pub flow: String,
    pub parameters: BTreeMap<String, String>,
    /// ClientMetadata, for the custom sign-in's triggers.
    pub client_metadata: BTreeMap<String, String>,
}

/// A RespondToAuthChallenge or AdminRespondToAuthChallenge call.
#[derive(Clone, Debug, Default)]
pub struct ChallengeInput {
    pub admin_pool_id: Option<String>,
    pub client_id: String,
    pub challenge_name: String,
    pub session: Option<String>,
    pub responses: BTreeMap<String, String>,
    /// ClientMetadata, for the custom sign-in's triggers.
    pub client_metadata: BTreeMap<String, String>,
}

/// A GetTokensFromRefreshToken call.
#[derive(Clone, Debug, Default)]
pub struct RefreshTokensInput {
    pub client_id: String,
    pub refresh_token: String,
    /// The client's secret itself (not a SECRET_HASH), for clients with one.
    pub client_secret: Option<String>,
    /// The device the refresh token's sign-in was bound to, required
    /// while the pool tracks devices (`devices.rs`, `refresh_device_ok`).
    pub device_key: Option<String>,
    pub client_metadata: BTreeMap<String, String>,
}

/// How the caller of a refresh proved it speaks for the app client.
#[derive(Clone, Copy, Debug)]
enum ClientProof<'a> {
    /// REFRESH_TOKEN_AUTH: a SECRET_HASH of the user, when the client has a secret.
    SecretHash(Option<&'a str>),
    /// GetTokensFromRefreshToken: the secret itself, checked already.
    Checked,
}

/// Tokens of a successful sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticationResult {
    pub access_token: String,
    pub expires_in: i64,
    pub token_type: String,
    pub refresh_token: Option<String>,
    pub id_token: String,
    /// A new device's key and group (pools that track devices).
    pub new_device: Option<super::devices::NewDeviceMetadata>,
}

/// The answer to an auth call: tokens, or the next challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    Authenticated(AuthenticationResult),
    Challenge {
        name: String,
        session: String,
        parameters: BTreeMap<String, String>,
    },
    /// USER_AUTH without a preferred challenge: SELECT_CHALLENGE, with the
    /// first factors the user may choose (`AvailableChallenges`).
    SelectChallenge {
        session: String,
        available: Vec<String>,
    },
}

/// Through which door a sign-in came: the API (it ends in tokens) or the
/// hosted UI (it ends in a browser session). A challenge session opened
/// through one door cannot be answered through the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Channel {
    Api,
    Hosted,
}

impl Channel {
    fn of(session: &ChallengeSession) -> Channel {
        if session.data.get("hosted").and_then(|v| v.as_bool()) == Some(true) {
            Channel::Hosted
        } else {
            Channel::Api
        }
    }
}

/// Where a sign-in stands after a proof: a challenge to answer, or done.
#[derive(Clone, Debug)]
pub(crate) enum SignInStep {
    Challenge {
        name: String,
        session: String,
        parameters: BTreeMap<String, String>,
        user: User,
    },
    Done(User),
}

/// Tokens of one issuance.
#[derive(Clone, Debug)]
pub(crate) struct IssuedTokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

pub(crate) fn allows(client: &AppClient, flow: &str) -> bool {
    let Some(flows) = &client.settings.explicit_auth_flows else {
        return matches!(flow, "REFRESH_TOKEN_AUTH" | "USER_SRP_AUTH" | "CUSTOM_AUTH");
    };
    let has = |f: &str| flows.iter().any(|x| x == f);
    let legacy_only = !flows.iter().any(|f| f.starts_with("ALLOW_"));
    match flow {
        "USER_PASSWORD_AUTH" => has("ALLOW_USER_PASSWORD_AUTH") || has("USER_PASSWORD_AUTH"),
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            has("ALLOW_ADMIN_USER_PASSWORD_AUTH") || has("ADMIN_NO_SRP_AUTH")
        }
        "REFRESH_TOKEN_AUTH" => has("ALLOW_REFRESH_TOKEN_AUTH") || legacy_only,
        "USER_SRP_AUTH" => has("ALLOW_USER_SRP_AUTH") || legacy_only,
        "CUSTOM_AUTH" => has("ALLOW_CUSTOM_AUTH") || has("CUSTOM_AUTH_FLOW_ONLY"),
        "USER_AUTH" => has("ALLOW_USER_AUTH"),
        _ => false,
    }
}

/// A refresh token used again after rotation retired it (and its retry
/// grace period ended): Cognito's RefreshTokenReuseException.
fn reuse_error() -> Error {
    Error::new(
        ErrorKind::RefreshTokenReuse,
        "Refresh token has been rotated and can no longer be used.",
    )
}

/// A string of a challenge session's state ("" when absent).
pub(crate) fn session_field(session: &ChallengeSession, name: &str) -> String {
    session
        .data
        .get(name)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn param<'a>(params: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid_parameter(format!("Missing required parameter {name}")))
}

/// NEW_PASSWORD_REQUIRED's refusal of an attribute the user has (AWS's words).
const ALREADY_PROVIDED: &str = "Cannot modify an already provided";

/// The marker an API challenge session leaves once answered (see
/// `respond_to_auth_challenge`); a wrong answer that keeps the session
/// usable puts the session back over it. The hosted pages keep saying
/// "expired".
const USED_SESSION: &str = "USED";

/// A version-4-shaped UUID made of the first 16 bytes of `bytes`.
fn simulated_uuid(bytes: &[u8]) -> String {
    let mut b = [0u8; 16];
    for (slot, v) in b.iter_mut().zip(bytes) {
        *slot = *v;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The refusal of a sign-in by the account's state alone: not confirmed,
/// or a password reset required.
pub(crate) fn account_state_refusal(status: &UserStatus, client: &AppClient) -> Result<()> {
    match status {
        UserStatus::Unconfirmed => Err(Error::new(
            ErrorKind::UserNotConfirmed,
            "User is not confirmed.",
        )),
        UserStatus::ResetRequired => Err(reset_required(client)),
        _ => Ok(()),
    }
}

/// A sign-in of a user who must reset the password: PasswordResetRequired,
/// or, where the client prevents user-existence errors, NotAuthorized (AWS's
/// developer guide on managing errors).
pub(crate) fn reset_required(client: &AppClient) -> Error {
    if prevents_existence_errors(client) {
        Error::incorrect_credentials()
    } else {
        Error::new(
            ErrorKind::PasswordResetRequired,
            "Password reset required for the user",
        )
    }
}

/// The member of a challenge session's data that carries a find of the
/// compromised-credentials check to the sign-in's later steps.
const COMPROMISED_MARK: &str = "compromisedCredentials";

/// The member of a challenge session's data that carries threat
/// protection's account-takeover assessment to the sign-in's later steps.
const RISK_MARK: &str = "riskAssessment";

/// A new opaque Session handle (Cognito's start with `AYAB`).
pub(crate) fn new_session_handle() -> String {
    format!("AYAB{}", cognate_crypto::random::base64url(192))
}

impl UserPools {
    pub async fn initiate_auth(&self, input: AuthFlowInput) -> Result<AuthOutcome> {
        let admin = input.admin_pool_id.is_some();
        let flow = match input.flow.as_str() {
            "REFRESH_TOKEN" => "REFRESH_TOKEN_AUTH",
            other => other,
        };
        if flow != "REFRESH_TOKEN_AUTH" {
            self.limit_ip(Action::SignIn)?;
        }
        let client = match &input.admin_pool_id {
            Some(pool_id) => {
                self.pool(pool_id).await?;
                self.client_of(pool_id, &input.client_id).await?
            }
            None => self.client(&input.client_id).await?,
        };
        let admin_flow = matches!(flow, "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH");
        if admin_flow != admin
            && !matches!(
                flow,
                "REFRESH_TOKEN_AUTH" | "USER_SRP_AUTH" | "CUSTOM_AUTH" | "USER_AUTH"
            )
        {
            return Err(Error::invalid_parameter(
                "Initiate Auth method not supported.",
            ));
        }
        if !allows(&client, flow) {
            return Err(Error::invalid_parameter(if admin {
                "Auth flow not enabled for this client".to_owned()
            } else if flow == "CUSTOM_AUTH" {
                // Its own text, which apps match (Amplify signs in with
                // CUSTOM_AUTH when no password is given).
                "CUSTOM_AUTH is not enabled for the client.".to_owned()
            } else {
                format!("{flow} flow not enabled for this client")
            }));
        }
        if flow == "REFRESH_TOKEN_AUTH" && client.settings.refresh_rotation_grace_ms().is_some() {
            // Rotation must go through GetTokensFromRefreshToken: Cognito
            // treats the flow as not allowed on such a client.
            return Err(Error::invalid_parameter(format!(
                "{} Refresh token rotation is enabled for this client: use GetTokensFromRefreshToken.",
                if admin {
                    "Auth flow not enabled for this client.".to_owned()
                } else {
                    format!("{flow} flow not enabled for this client.")
                }
            )));
        }
        // Sign-in decisions (MFA, policies) use the pool as stored now, not
        // another instance's change of up to a second ago.
        let pool = self.fresh_pool(&client.pool_id).await?;
        if flow != "REFRESH_TOKEN_AUTH" {
            self.check_blocked_ip(&pool, &client.client_id)?;
        }
        let secret_hash = input.parameters.get("SECRET_HASH").map(String::as_str);
        let device_key = input.parameters.get("DEVICE_KEY").map(String::as_str);
        match flow {
            "USER_PASSWORD_AUTH" | "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
                let username = param(&input.parameters, "USERNAME")?;
                let password = param(&input.parameters, "PASSWORD")?;
                if flow == "USER_PASSWORD_AUTH" {
                    self.check_secret_hash(&client, username, secret_hash)?;
                } else {
                    self.check_challenge_secret_hash(&client, username, secret_hash)?;
                }
                let step = self
                    .password_sign_in_with_device(
                        &pool,
                        &client,
                        username,
                        password,
                        Channel::Api,
                        device_key,
                    )
                    .await?;
                self.api_outcome(
                    &pool,
                    &client,
                    step,
                    device_key,
                    false,
                    "TokenGeneration_Authentication",
                )
                .await
            }
            "REFRESH_TOKEN_AUTH" => {
                let token = param(&input.parameters, "REFRESH_TOKEN")?;
                let result = self
                    .refresh(
                        &pool,
                        &client,
                        token,
                        ClientProof::SecretHash(secret_hash),
                        device_key,
                    )
                    .await?;
                Ok(AuthOutcome::Authenticated(result))
            }
            "USER_SRP_AUTH" => {
                let username = param(&input.parameters, "USERNAME")?;
                let srp_a = param(&input.parameters, "SRP_A")?;
                self.check_challenge_secret_hash(&client, username, secret_hash)?;
                self.srp_start(&pool, &client, username, srp_a).await
            }
            "CUSTOM_AUTH" => {
                let username = param(&input.parameters, "USERNAME")?;
                self.check_challenge_secret_hash(&client, username, secret_hash)?;
                let step = self
                    .custom_auth_start(&pool, &client, username, &input)
                    .await?;
                self.api_outcome(
                    &pool,
                    &client,
                    step,
                    device_key,
                    false,
                    "TokenGeneration_Authentication",
                )
                .await
            }
            "USER_AUTH" => self.user_auth_start(&pool, &client, &input).await,
            _ => Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_AUTH, REFRESH_TOKEN_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, REFRESH_TOKEN, USER_SRP_AUTH, CUSTOM_AUTH]"
            ))),
        }
    }

    /// The API's answer to a sign-in step: the challenge, or tokens. A
    /// sign-in that names (`DEVICE_KEY`) a confirmed device of the user with
    /// an SRP verifier proves the device first (DEVICE_SRP_AUTH), unless it
    /// just did (`device_proven`).
    pub(crate) async fn api_outcome(
        &self,
        pool: &UserPool,
        client: &AppClient,
        step: SignInStep,
        device_key: Option<&str>,
        device_proven: bool,
        source: &str,
    ) -> Result<AuthOutcome> {
        let step = match step {
            SignInStep::Done(user) if !device_proven => {
                match Self::device_to_prove(pool, &user, device_key).cloned() {
                    Some(device) => self.device_challenge(pool, client, &user, &device).await?,
                    None => SignInStep::Done(user),
                }
            }
            other => other,
        };
        match step {
            SignInStep::Challenge {
                name,
                session,
                parameters,
                ..
            } => Ok(AuthOutcome::Challenge {
                name,
                session,
                parameters,
            }),
            SignInStep::Done(user) => {
                // The session's id carries its start (UUIDv7), so that a
                // global sign-out refuses every token the session mints
                // later, refreshes included (`User::token_revoked`).
                let now = self.now();
                let new_device = self.new_device_metadata(pool, &user, device_key);
                let event = SignInEvent {
                    origin_jti: cognate_crypto::random::uuid_v7(now),
                    event_id: cognate_crypto::random::uuid(),
                    auth_time: now.div_euclid(1000),
                    device_key: Self::bound_device(pool, &user, device_key, new_device.as_ref()),
                    sso_session_id: None,
                };
                // The sign-in succeeds only once PostAuthentication allows it.
                self.post_authentication(pool, client, &user).await?;
                let mfa = user.totp_enabled || crate::audit::mfa_answered();
                self.signed_in(pool, &user, Some(&client.client_id), mfa)
                    .await;
                let mut result = self
                    .issue_tokens(pool, client, &user, &event, true, source)
                    .await?;
                result.new_device = new_device;
                Ok(AuthOutcome::Authenticated(result))
            }
        }
    }

    /// A password proof (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, the
    /// hosted login page): lockout, the check, then the account's next
    /// step. A refusal is an audit event (and the user's recorded event).
    pub(crate) async fn password_sign_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        password: &str,
        channel: Channel,
    ) -> Result<SignInStep> {
        self.password_sign_in_with_device(pool, client, username, password, channel, None)
            .await
    }

    /// [`password_sign_in`](Self::password_sign_in) naming the device
    /// (`DEVICE_KEY`) the user signs in from.
    async fn password_sign_in_with_device(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        password: &str,
        channel: Channel,
        device_key: Option<&str>,
    ) -> Result<SignInStep> {
        self.limit_user(Action::SignIn, pool, username)?;
        let result = self
            .password_steps(pool, client, username, password, channel, device_key)
            .await;
        self.carry_marks(&result).await?;
        if let Err(e) = &result {
            let user = self.find_user(pool, username, false).await.ok().flatten();
            self.sign_in_failed(
                pool,
                user.as_ref(),
                &client.client_id,
                crate::audit::failure_reason(e),
            )
            .await;
        }
        result
    }

    async fn password_steps(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        password: &str,
        channel: Channel,
        device_key: Option<&str>,
    ) -> Result<SignInStep> {
        let found = match self.find_user(pool, username, false).await? {
            Some(user) => Some(user),
            // A UserMigration trigger may bring the user in from elsewhere.
            None => {
                self.migrate_user(pool, &client.client_id, username, Some(password))
                    .await?
            }
        };
        let Some(user) = found else {
            self.pre_authentication_of_unknown(pool, client, username)
                .await?;
            // Spend the time a real check takes, so timing does not tell.
            self.verify_password(password, None).await?;
            return Err(if prevents_existence_errors(client) {
                Error::incorrect_credentials()
            } else {
                Error::user_not_found()
            });
        };
        if self.sign_in_locked(&user).await? {
            // The time a real check takes, as for an unknown user: the
            // answer's delay does not tell that the user exists.
            self.verify_password(password, None).await?;
            return Err(Error::not_authorized("Password attempts exceeded"));
        }
        self.pre_authentication(pool, &client.client_id, &user)
            .await?;
        if user.password_hash.is_none() && user.status == UserStatus::ResetRequired {
            // Imported without a password: it must be set by the reset flow first.
            return Err(reset_required(client));
        }
        if !self
            .verify_password(password, user.password_hash.as_deref())
            .await?
        {
            return Err(self.failed_sign_in(&user).await);
        }
        self.clear_failures(&user).await?;
        // The hash took a while: decide on the user as it is now (a disable
        // or a password change may have landed meanwhile).
        let user = self
            .store
            .get_user(&pool.id, &user.username_key)
            .await?
            .filter(|fresh| fresh.password_hash == user.password_hash)
            .ok_or_else(Error::incorrect_credentials)?;
        if user.enabled
            && user.status == UserStatus::Confirmed
            && self
                .compromised_password_blocks(
                    pool,
                    Some(&client.client_id),
                    CredentialEvent::SignIn,
                    password,
                )
                .await
        {
            // Threat protection blocks the credentials: the user must set
            // a new password (ForgotPassword) before signing in again.
            let hash = user.password_hash.clone();
            let now = self.now();
            self.update_user(user, |u| {
                if u.password_hash == hash && u.status == UserStatus::Confirmed {
                    u.status = UserStatus::ResetRequired;
                    u.modified = now;
                }
                Ok(())
            })
            .await?;
            return Err(Error::new(
                ErrorKind::PasswordResetRequired,
                "Password reset required for the user",
            ));
        }
        let user = if user.srp_verifier.is_none() {
            // Users stored before SRP support get a verifier at their next sign-in.
            let material = self
                .password_material(pool, &user.username, password)
                .await?;
            let hash = user.password_hash.clone();
            self.update_user(user, |u| {
                if u.password_hash == hash && u.srp_verifier.is_none() {
                    material.apply(u);
                }
                Ok(())
            })
            .await?
            .0
        } else {
            user
        };
        self.after_primary_auth(pool, client, &user, channel, device_key)
            .await
    }

    /// Where this request found the sign-in's password compromised (and
    /// let it go on), or assessed its account-takeover risk, and the
    /// sign-in goes on to a challenge, the challenge session carries the
    /// find to the request that ends the sign-in, whose auth event records
    /// it.
    async fn carry_marks(&self, step: &Result<SignInStep>) -> Result<()> {
        let Ok(SignInStep::Challenge { session, .. }) = step else {
            return Ok(());
        };
        let compromised = crate::audit::compromised_credentials();
        let risk = crate::audit::risk();
        if !compromised && risk.is_none() {
            return Ok(());
        }
        // The handle has not left this request yet: no one else can take it.
        let hash = cognate_crypto::digest::sha256_hex(session.as_bytes());
        if let Some(mut stored) = self.store.take_session(&hash).await? {
            if stored.data.is_null() {
                stored.data = json!({});
            }
            if let serde_json::Value::Object(data) = &mut stored.data {
                if compromised {
                    data.insert(COMPROMISED_MARK.to_owned(), true.into());
                }
                if let Some(risk) = risk {
                    data.insert(RISK_MARK.to_owned(), json!(risk));
                }
            }
            self.store.put_session(&stored).await?;
        }
        Ok(())
    }

    /// Restores what [`carry_marks`](Self::carry_marks)
    /// put in a challenge session into this request's context.
    fn restore_marks(session: &ChallengeSession) {
        if session.data.get(COMPROMISED_MARK) == Some(&serde_json::Value::Bool(true)) {
            crate::audit::mark_compromised_credentials();
        }
        if let Some(risk) = session
            .data
            .get(RISK_MARK)
            .and_then(|r| serde_json::from_value(r.clone()).ok())
        {
            crate::audit::set_risk(risk);
        }
    }

    /// Refuses a sign-in while the user is locked out after failed attempts.
    async fn check_lockout(&self, user: &User) -> Result<()> {
        if self.sign_in_locked(user).await? {
            return Err(Error::not_authorized("Password attempts exceeded"));
        }
        Ok(())
    }

    /// Whether the user is locked out after failed attempts.
    pub(crate) async fn sign_in_locked(&self, user: &User) -> Result<bool> {
        let locked_until = self
            .store
            .sign_in_locked_until(&user.pool_id, &user.username_key)
            .await?;
        Ok(locked_until.is_some_and(|t| t > self.now()))
    }

    /// Counts a failed sign-in (atomically in the store, so concurrent
    /// failures each count) and returns the error to answer.
    pub(crate) async fn failed_sign_in(&self, user: &User) -> Error {
        match self
            .store
            .record_sign_in_failure(&user.pool_id, &user.username_key, self.now(), &self.lockout)
            .await
        {
            Ok(Some(f)) if f.failures > self.lockout.after => {
                crate::audit::user_event("lockout", &user.pool_id, &user.sub);
                Error::not_authorized("Password attempts exceeded")
            }
            Ok(_) => Error::incorrect_credentials(),
            Err(e) => e.into(),
        }
    }

    /// Forgets failed sign-ins after a proven password, unless a lock set
    /// by concurrent failures is in force: then the sign-in is refused too.
    pub(crate) async fn clear_failures(&self, user: &User) -> Result<()> {
        if self
            .store
            .clear_sign_in_failures(&user.pool_id, &user.username_key, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_authorized("Password attempts exceeded"))
        }
    }

    /// What follows a proven password (plain or SRP): account state checks,
    /// then a challenge or tokens. A `device_key` (API sign-ins) must name a
    /// device of the user; a remembered one stands in for the MFA factor
    /// where the pool allows (`devices.rs`).
    async fn after_primary_auth(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        channel: Channel,
        device_key: Option<&str>,
    ) -> Result<SignInStep> {
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        account_state_refusal(&user.status, client)?;
        if user.password_sign_in_disabled {
            // AdminDisableProviderForUser (Cognito): told only to someone
            // who proved the password. AWS publishes no text for it.
            return Err(Error::not_authorized(
                "Password sign-in is disabled for this user.",
            ));
        }
        match user.status {
            UserStatus::ForceChangePassword => {
                if user
                    .temporary_password_expires
                    .is_some_and(|t| t <= self.now())
                {
                    return Err(Error::not_authorized(
                        "Temporary password has expired and must be reset by an administrator.",
                    ));
                }
                self.new_password_challenge(pool, client, user, channel)
                    .await
            }
            _ => {
                let device = match channel {
                    Channel::Api => Self::named_device(pool, user, device_key)?,
                    Channel::Hosted => None,
                };
                // Threat protection: a device the sign-in will prove counts
                // as known; BLOCK is an error here.
                let device_proven = match channel {
                    Channel::Api => Self::device_to_prove(pool, user, device_key).is_some(),
                    Channel::Hosted => false,
                };
                let takeover = self
                    .assess_takeover(pool, &client.client_id, user, device_proven)
                    .await?;
                if let Some(device) = device.filter(|d| Self::device_replaces_mfa(pool, user, d)) {
                    return self.device_challenge(pool, client, user, device).await;
                }
                let forced = matches!(takeover, Takeover::Mfa { .. });
                if let Some(challenge) = self.mfa_step(pool, client, user, channel, forced).await? {
                    if let (Takeover::Mfa { notify }, Some(risk)) = (takeover, crate::audit::risk())
                    {
                        // Recorded now (InProgress), so the notification's
                        // links name an event even if no answer comes.
                        self.sign_in_in_progress(pool, user, &client.client_id)
                            .await;
                        if notify {
                            self.notify_risk(pool, &client.client_id, user, &risk, Notice::Mfa)
                                .await;
                        }
                    }
                    return Ok(challenge);
                }
                Ok(SignInStep::Done(user.clone()))
            }
        }
    }

    /// USER_SRP_AUTH step one: answer PASSWORD_VERIFIER with the salt, B and
    /// a secret block under which the exchange is stored.
    async fn srp_start(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        srp_a: &str,
    ) -> Result<AuthOutcome> {
        if !cognate_crypto::srp::valid_a(srp_a) {
            return Err(Error::invalid_parameter("Invalid SRP_A value."));
        }
        let user = self.find_user(pool, username, false).await?;
        match &user {
            Some(u) => self.pre_authentication(pool, &client.client_id, u).await?,
            None => {
                self.pre_authentication_of_unknown(pool, client, username)
                    .await?
            }
        }
        let (session, parameters) = self
            .srp_challenge(pool, client, username, user.as_ref(), srp_a, None)
            .await?;
        Ok(AuthOutcome::Challenge {
            name: "PASSWORD_VERIFIER".into(),
            session,
            parameters,
        })
    }

    /// Opens a PASSWORD_VERIFIER challenge (USER_SRP_AUTH, or a custom
    /// sign-in's SRP step with its state in `custom`): the session, stored
    /// under the secret block, and the challenge's parameters. For an
    /// unknown user (or one without a verifier) of a client that prevents
    /// user-existence errors, a simulated challenge that stores nothing.
    pub(crate) async fn srp_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        user: Option<&User>,
        srp_a: &str,
        custom: Option<serde_json::Value>,
    ) -> Result<(String, BTreeMap<String, String>)> {
        let hidden = prevents_existence_errors(client);
        let real = match user {
            Some(u) => match (&u.srp_salt, &u.srp_verifier) {
                (Some(salt), Some(v)) => Some((u, salt.clone(), v.clone())),
                _ if hidden => None,
                _ => return Err(Error::incorrect_credentials()),
            },
            None if hidden => None,
            None => return Err(Error::user_not_found()),
        };
        let (user_id, salt, verifier, simulated_id) = match &real {
            Some((u, salt, v)) => (u.username.clone(), salt.clone(), v.clone(), None),
            None => {
                // A simulated challenge, stable per username, that can never
                // succeed; nothing is stored for it (see `secret_block`).
                let seed = cognate_crypto::digest::sha256(
                    format!("{}\u{0}{username}", pool.id).as_bytes(),
                );
                let (salt, v) = cognate_crypto::srp::make_verifier(
                    pool.short_name(),
                    username,
                    &cognate_crypto::random::base64url(32),
                    &seed[..16],
                );
                // "The same salt and internal user id in UUID format for the
                // same user name" (AWS's developer guide), keyed by the
                // server's secret so that nobody can tell it from a real one.
                let key = self.cookie_key().await?;
                let mac = cognate_crypto::digest::hmac_sha256(
                    key,
                    format!("srp-user-id\u{0}{}\u{0}{username}", pool.id).as_bytes(),
                );
                let id = simulated_uuid(&mac);
                let shown = if pool.username_attributes.is_empty() {
                    username.to_owned()
                } else {
                    id.clone()
                };
                (shown, salt, v, Some(id))
            }
        };
        let b = cognate_crypto::random::bytes(32);
        let v = verifier.clone();
        let exchange =
            tokio::task::spawn_blocking(move || cognate_crypto::srp::server_start(&v, &b))
                .await
                .map_err(|e| Error::internal(e.to_string()))?
                .ok_or_else(|| Error::internal("SRP B was zero"))?;
        let expires = self.now() + client.settings.auth_session_validity * 60_000;
        let secret_block = self
            .secret_block(&pool.id, &client.client_id, expires)
            .await?;
        if let Some((u, _, _)) = &real {
            let session = ChallengeSession {
                handle_hash: cognate_crypto::digest::sha256_hex(secret_block.as_bytes()),
                pool_id: pool.id.clone(),
                client_id: client.client_id.clone(),
                username: u.username_key.clone(),
                challenge: "PASSWORD_VERIFIER".into(),
                expires,
                data: json!({
                    "a": srp_a,
                    "b": exchange.b,
                    "big_b": exchange.big_b,
                    "verifier": verifier,
                    "user_id": user_id,
                    "known": true,
                    "custom": custom,
                }),
            };
            self.store.put_session(&session).await?;
        }
        let mut parameters = BTreeMap::new();
        parameters.insert("SALT".to_owned(), cognate_crypto::srp::salt_param(&salt));
        parameters.insert("SRP_B".to_owned(), exchange.big_b);
        parameters.insert("SECRET_BLOCK".to_owned(), secret_block.clone());
        parameters.insert("USERNAME".to_owned(), user_id.clone());
        parameters.insert(
            "USER_ID_FOR_SRP".to_owned(),
            simulated_id.unwrap_or(user_id),
        );
        Ok((secret_block, parameters))
    }

    /// A PASSWORD_VERIFIER secret block: 56 random bytes, the session's
    /// expiry (8 bytes, big-endian milliseconds) and an HMAC of both, the
    /// pool and the client under the server's secret; 96 bytes in base64,
    /// as Cognito's blocks are. A real user's exchange is stored under the
    /// block's digest; a simulated one (an unknown user in a pool that
    /// prevents user-existence errors) stores nothing, and its block is
    /// recognised by its MAC (`simulated_block_valid`).
    pub(super) async fn secret_block(
        &self,
        pool_id: &str,
        client_id: &str,
        expires: i64,
    ) -> Result<String> {
        use base64::Engine;
        let mut block = cognate_crypto::random::bytes(56);
        block.extend_from_slice(&expires.to_be_bytes());
        let mac = self.block_mac(pool_id, client_id, &block).await?;
        block.extend_from_slice(&mac);
        Ok(base64::engine::general_purpose::STANDARD.encode(block))
    }

    async fn block_mac(&self, pool_id: &str, client_id: &str, body: &[u8]) -> Result<[u8; 32]> {
        let key = self.cookie_key().await?;
        let mut message =
            format!("srp-secret-block\u{0}{pool_id}\u{0}{client_id}\u{0}").into_bytes();
        message.extend_from_slice(body);
        Ok(cognate_crypto::digest::hmac_sha256(key, &message))
    }

    /// Whether `block` is one of our secret blocks for this pool and
    /// client that has not expired.
    async fn simulated_block_valid(&self, pool_id: &str, client_id: &str, block: &str) -> bool {
        use base64::Engine;
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(block) else {
            return false;
        };
        if raw.len() != 96 {
            return false;
        }
        let (body, mac) = raw.split_at(64);
        let Ok(expected) = self.block_mac(pool_id, client_id, body).await else {
            return false;
        };
        let expires = body
            .get(56..64)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_be_bytes)
            .unwrap_or(0);
        cognate_crypto::digest::constant_time_eq(&expected, mac) && expires > self.now()
    }

    /// Refuses an SRP TIMESTAMP that does not parse or is more than 15
    /// minutes from now.
    pub(super) fn check_srp_timestamp(&self, timestamp: &str) -> Result<()> {
        let now = self.now().div_euclid(1000);
        match cognate_crypto::srp::parse_timestamp(timestamp) {
            Some(t) if (t - now).abs() <= 15 * 60 => Ok(()),
            _ => Err(Error::invalid_parameter(
                "TIMESTAMP format or value is invalid.",
            )),
        }
    }

    /// Whether the PASSWORD_CLAIM_SIGNATURE of `input` proves the SRP
    /// exchange stored in `session` (its `a`, `b`, `big_b` and `verifier`),
    /// computed off the async workers. `realm` and `identity` are the pool's
    /// short name and USER_ID_FOR_SRP for a user, the DeviceGroupKey and
    /// DeviceKey for a device. The TIMESTAMP is checked first.
    pub(crate) async fn srp_claim_holds(
        &self,
        session: &ChallengeSession,
        input: &ChallengeInput,
        realm: String,
        identity: String,
    ) -> Result<bool> {
        let signature = param(&input.responses, "PASSWORD_CLAIM_SIGNATURE")?.to_owned();
        let timestamp = param(&input.responses, "TIMESTAMP")?.to_owned();
        let block = param(&input.responses, "PASSWORD_CLAIM_SECRET_BLOCK")?.to_owned();
        self.check_srp_timestamp(&timestamp)?;
        let exchange = cognate_crypto::srp::ServerExchange {
            b: session_field(session, "b"),
            big_b: session_field(session, "big_b"),
        };
        let (verifier, a) = (
            session_field(session, "verifier"),
            session_field(session, "a"),
        );
        tokio::task::spawn_blocking(move || {
            cognate_crypto::srp::verify_claim(
                &realm, &identity, &verifier, &a, &exchange, &block, &timestamp, &signature,
            )
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))
    }

    /// USER_SRP_AUTH step two: check PASSWORD_CLAIM_SIGNATURE.
    async fn srp_finish(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: &ChallengeSession,
        input: &ChallengeInput,
    ) -> Result<SignInStep> {
        let known = session
            .data
            .get("known")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let ok = self
            .srp_claim_holds(
                session,
                input,
                pool.short_name().to_owned(),
                session_field(session, "user_id"),
            )
            .await?;
        if !known {
            return Err(Error::incorrect_credentials());
        }
        let user = self
            .store
            .get_user(&pool.id, &session.username)
            .await?
            .ok_or_else(Error::incorrect_credentials)?;
        self.check_lockout(&user).await?;
        if !ok {
            return Err(self.failed_sign_in(&user).await);
        }
        self.clear_failures(&user).await?;
        if let Some(custom) = session.data.get("custom").filter(|c| !c.is_null()) {
            // The SRP step of a custom sign-in: back to DefineAuthChallenge.
            return self
                .custom_after_password(pool, client, user, custom, input)
                .await;
        }
        let device_key = input.responses.get("DEVICE_KEY").map(String::as_str);
        self.after_primary_auth(pool, client, &user, Channel::Api, device_key)
            .await
    }

    async fn new_password_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        channel: Channel,
    ) -> Result<SignInStep> {
        let required: Vec<String> = pool
            .schema
            .iter()
            .filter(|a| a.required && a.name != "sub" && user.attribute(&a.name).is_none())
            .map(|a| format!("userAttributes.{}", a.name))
            .collect();
        let current: serde_json::Map<String, serde_json::Value> = user
            .attributes
            .iter()
            .map(|a| (a.name.clone(), json!(a.value)))
            .collect();
        let mut parameters = BTreeMap::new();
        parameters.insert("USER_ID_FOR_SRP".to_owned(), user.username.clone());
        parameters.insert("requiredAttributes".to_owned(), json!(required).to_string());
        parameters.insert(
            "userAttributes".to_owned(),
            serde_json::Value::Object(current).to_string(),
        );
        let session = self
            .open_session(
                pool,
                client,
                user,
                "NEW_PASSWORD_REQUIRED",
                json!({}),
                channel,
            )
            .await?;
        Ok(SignInStep::Challenge {
            name: "NEW_PASSWORD_REQUIRED".into(),
            session,
            parameters,
            user: user.clone(),
        })
    }

    /// Stores a challenge session and returns its handle.
    pub(crate) async fn open_session(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        challenge: &str,
        mut data: serde_json::Value,
        channel: Channel,
    ) -> Result<String> {
        if let Some(obj) = data.as_object_mut() {
            if channel == Channel::Hosted {
                obj.insert("hosted".into(), json!(true));
            }
            if super::user_auth::is_stand_in(user) {
                // The name typed (the key alone has lost its case).
                obj.insert("name".into(), json!(user.username));
            }
        }
        let handle = new_session_handle();
        self.store
            .put_session(&ChallengeSession {
                handle_hash: cognate_crypto::digest::sha256_hex(handle.as_bytes()),
                pool_id: pool.id.clone(),
                client_id: client.client_id.clone(),
                username: user.username_key.clone(),
                challenge: challenge.to_owned(),
                expires: self.now() + client.settings.auth_session_validity * 60_000,
                data,
            })
            .await?;
        Ok(handle)
    }

    pub async fn respond_to_auth_challenge(&self, input: ChallengeInput) -> Result<AuthOutcome> {
        let device_key = input.responses.get("DEVICE_KEY").cloned();
        let source = if input.challenge_name == "NEW_PASSWORD_REQUIRED" {
            "TokenGeneration_NewPasswordChallenge"
        } else {
            "TokenGeneration_Authentication"
        };
        let device_proven = input.challenge_name == "DEVICE_PASSWORD_VERIFIER";
        let (pool, client, step) = self.respond_challenge(input, Channel::Api).await?;
        self.api_outcome(
            &pool,
            &client,
            step,
            device_key.as_deref(),
            device_proven,
            source,
        )
        .await
    }

    /// Takes the challenge session and answers it; shared by the API and
    /// the hosted UI (each answers only the sessions it opened).
    pub(crate) async fn respond_challenge(
        &self,
        input: ChallengeInput,
        channel: Channel,
    ) -> Result<(std::sync::Arc<UserPool>, AppClient, SignInStep)> {
        self.limit_ip(Action::SignIn)?;
        let client = match &input.admin_pool_id {
            Some(pool_id) => {
                self.pool(pool_id).await?;
                self.client_of(pool_id, &input.client_id).await?
            }
            None => self.client(&input.client_id).await?,
        };
        // Sign-in decisions (MFA, policies) use the pool as stored now, not
        // another instance's change of up to a second ago.
        let pool = self.fresh_pool(&client.pool_id).await?;
        let expired = || Error::not_authorized("Invalid session for the user, session is expired.");
        // PASSWORD_VERIFIER state is kept under the secret block, which every
        // client echoes (pycognito sends no Session).
        let handle = match input.challenge_name.as_str() {
            "PASSWORD_VERIFIER" | "DEVICE_PASSWORD_VERIFIER" => input
                .responses
                .get("PASSWORD_CLAIM_SECRET_BLOCK")
                .or(input.session.as_ref()),
            _ => input.session.as_ref(),
        }
        .map(String::as_str)
        .ok_or_else(expired)?;
        let hash = cognate_crypto::digest::sha256_hex(handle.as_bytes());
        let Some(session) = self.store.take_session(&hash).await? else {
            if input.challenge_name == "PASSWORD_VERIFIER"
                && channel == Channel::Api
                && self
                    .simulated_block_valid(&pool.id, &client.client_id, handle)
                    .await
            {
                // A simulated challenge (or a real one already answered):
                // the checks a real answer gets before its proof, then the
                // answer a wrong proof gets.
                param(&input.responses, "USERNAME")?;
                param(&input.responses, "PASSWORD_CLAIM_SIGNATURE")?;
                let timestamp = param(&input.responses, "TIMESTAMP")?;
                let now = self.now().div_euclid(1000);
                match cognate_crypto::srp::parse_timestamp(timestamp) {
                    Some(t) if (t - now).abs() <= 15 * 60 => {}
                    _ => {
                        return Err(Error::invalid_parameter(
                            "TIMESTAMP format or value is invalid.",
                        ))
                    }
                }
                return Err(Error::incorrect_credentials());
            }
            return Err(expired());
        };
        if session.expires <= self.now()
            || session.client_id != client.client_id
            || session.pool_id != pool.id
            || Channel::of(&session) != channel
        {
            return Err(expired());
        }
        // An answered session is remembered until it would have expired, so
        // that a second use gets AWS's own answer (as users captured it).
        if session.challenge == USED_SESSION {
            self.store.put_session(&session).await?;
            return Err(Error::not_authorized(
                "Invalid session for the user, session can only be used once.",
            ));
        }
        if channel == Channel::Api {
            self.store
                .put_session(&ChallengeSession {
                    challenge: USED_SESSION.into(),
                    data: json!({}),
                    ..session.clone()
                })
                .await?;
        }
        // Over a user's limit, the session stays usable (as for a wrong name).
        let mfa = matches!(
            session.challenge.as_str(),
            "SOFTWARE_TOKEN_MFA" | "MFA_SETUP" | "SMS_MFA" | "EMAIL_OTP" | "SMS_OTP"
        );
        if matches!(
            session.challenge.as_str(),
            "SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP"
        ) {
            crate::audit::mark_mfa_answered();
        }
        let now = self.now();
        let limited = self
            .limits
            .user(Action::SignIn, &pool.id, &session.username, now)
            .and_then(|()| match mfa {
                true => self
                    .limits
                    .user(Action::CodeEntry, &pool.id, &session.username, now),
                false => Ok(()),
            });
        if let Err(e) = limited {
            self.store.put_session(&session).await?;
            return Err(e);
        }
        if session.challenge != input.challenge_name {
            // A wrong challenge name does not use up the session.
            self.store.put_session(&session).await?;
            return Err(Error::invalid_parameter(format!(
                "Invalid challenge name: expected {}",
                session.challenge
            )));
        }
        Self::restore_marks(&session);
        let result = self
            .answer_challenge(&pool, &client, &session, &input, channel)
            .await;
        self.carry_marks(&result).await?;
        if let Some(e) = result.as_ref().err().filter(|e| {
            !matches!(
                e.kind,
                ErrorKind::InvalidPassword | ErrorKind::InvalidParameter
            )
        }) {
            let user = self
                .store
                .get_user(&pool.id, &session.username)
                .await
                .ok()
                .flatten();
            let reason = match (session.challenge.as_str(), e.kind) {
                (
                    "SOFTWARE_TOKEN_MFA" | "MFA_SETUP" | "SMS_MFA" | "EMAIL_OTP" | "SMS_OTP",
                    ErrorKind::CodeMismatch,
                ) => "mfa_failure",
                _ => crate::audit::failure_reason(e),
            };
            self.sign_in_failed(&pool, user.as_ref(), &client.client_id, reason)
                .await;
        }
        // A wrong answer to a question the user can fix (a weak password, a
        // missing attribute) leaves the session usable until it expires; so
        // does a proven password that named an unknown device, which
        // clients answer again without the DEVICE_KEY.
        if let Err(e) = &result {
            if matches!(
                e.kind,
                ErrorKind::InvalidPassword | ErrorKind::InvalidParameter
            ) || (e.kind == ErrorKind::ResourceNotFound
                && session.challenge == "PASSWORD_VERIFIER")
                || (e.kind == ErrorKind::NotAuthorized && e.message.starts_with(ALREADY_PROVIDED))
            {
                self.store.put_session(&session).await?;
            }
        }
        Ok((pool, client, result?))
    }

    async fn answer_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: &ChallengeSession,
        input: &ChallengeInput,
        channel: Channel,
    ) -> Result<SignInStep> {
        // The hosted UI's own pages need no USERNAME or SECRET_HASH: the
        // session says who, and the server is the client.
        let username = match channel {
            Channel::Api => {
                let username = param(&input.responses, "USERNAME")?;
                self.check_challenge_secret_hash(
                    client,
                    username,
                    input.responses.get("SECRET_HASH").map(String::as_str),
                )?;
                Some(username)
            }
            Channel::Hosted => None,
        };
        if session.challenge == "PASSWORD_VERIFIER" {
            return self.srp_finish(pool, client, session, input).await;
        }
        if session.challenge == "DEVICE_PASSWORD_VERIFIER" {
            return self.device_srp_finish(pool, session, input).await;
        }
        if session.challenge == "CUSTOM_CHALLENGE" {
            return self
                .custom_answer(pool, client, session, input, username)
                .await;
        }
        if super::user_auth::is_simulated(session) {
            if let Some(username) = username {
                // As for a real user's session: another name is refused.
                let named = session.data.get("name").and_then(|n| n.as_str());
                if named.map(|n| pool.username_key(n)) != Some(pool.username_key(username)) {
                    return Err(Error::not_authorized("Incorrect username or password."));
                }
            }
            return self
                .answer_stand_in(pool, client, session, input, channel)
                .await;
        }
        let user = self
            .store
            .get_user(&pool.id, &session.username)
            .await?
            .ok_or_else(Error::user_not_found)?;
        if let Some(username) = username {
            let named = self.find_user(pool, username, false).await?;
            if named.map(|u| u.username_key) != Some(user.username_key.clone()) {
                return Err(Error::not_authorized("Incorrect username or password."));
            }
        }
        match session.challenge.as_str() {
            "NEW_PASSWORD_REQUIRED" => {
                let new_password = param(&input.responses, "NEW_PASSWORD")?;
                password_policy::check_change(&pool.settings.password_policy, new_password)?;
                self.refuse_compromised_password(
                    pool,
                    Some(&client.client_id),
                    CredentialEvent::PasswordChange,
                    new_password,
                )
                .await?;
                let mut updates = Vec::new();
                for (k, v) in &input.responses {
                    if let Some(name) = k.strip_prefix("userAttributes.") {
                        if name == "email_verified" || name == "phone_number_verified" {
                            continue;
                        }
                        updates.push(crate::model::Attribute::new(name, v.clone()));
                    }
                }
                let updates = schema::normalized(pool, &updates);
                schema::validate_attributes(pool, &updates, false)?;
                // A required attribute, or the email address or phone number,
                // that the user already has cannot be given again here (AWS's
                // words, which users often meet echoing userAttributes back).
                for a in &updates {
                    let required = pool.schema_attribute(&a.name).is_some_and(|d| d.required);
                    let contact = a.name == "email" || a.name == "phone_number";
                    if (required || contact)
                        && user.attribute(&a.name).is_some_and(|v| !v.is_empty())
                    {
                        return Err(Error::not_authorized(format!(
                            "{ALREADY_PROVIDED} {}",
                            a.name
                        )));
                    }
                }
                let mut with_updates = user.attributes.clone();
                for a in &updates {
                    with_updates.retain(|b| b.name != a.name);
                    with_updates.push(a.clone());
                }
                schema::check_required(pool, &with_updates)?;
                let material = self
                    .password_material(pool, &user.username, new_password)
                    .await?;
                let now = self.now();
                let (user, ()) = self
                    .update_user(user, |user| {
                        if user.status != UserStatus::ForceChangePassword {
                            // Answered already, by a concurrent response.
                            return Err(Error::not_authorized(
                                "Invalid session for the user, session is expired.",
                            ));
                        }
                        for a in &updates {
                            user.set_attribute(&a.name, Some(&a.value));
                        }
                        material.apply(user);
                        user.status = UserStatus::Confirmed;
                        user.temporary_password_expires = None;
                        user.modified = now;
                        Ok(())
                    })
                    .await?;
                // A new password leads on to the MFA step, like any password proof.
                self.after_primary_auth(pool, client, &user, channel, None)
                    .await
            }
            "SOFTWARE_TOKEN_MFA" | "MFA_SETUP" => {
                self.answer_mfa_challenge(session, input, user).await
            }
            "DEVICE_SRP_AUTH" => {
                self.device_srp_start(pool, client, session, input, user)
                    .await
            }
            "SMS_MFA" | "EMAIL_OTP" | "SMS_OTP" => {
                self.answer_code_challenge(session, input, user).await
            }
            "SELECT_MFA_TYPE" => {
                self.answer_select_mfa_type(pool, client, session, input, user, channel)
                    .await
            }
            "SELECT_CHALLENGE" => {
                self.answer_select_challenge(pool, client, session, input, user, channel)
                    .await
            }
            "WEB_AUTHN" => {
                self.answer_webauthn_challenge(pool, session, input, user)
                    .await
            }
            other => Err(Error::invalid_parameter(format!(
                "Challenge {other} is not supported by this server yet."
            ))),
        }
    }

    /// GetTokensFromRefreshToken: new ID and access tokens, and on a client
    /// with refresh token rotation a new refresh token of the same sign-in
    /// session (the submitted one is refused after the retry grace period).
    pub async fn get_tokens_from_refresh_token(
        &self,
        input: RefreshTokensInput,
    ) -> Result<AuthenticationResult> {
        let client = self.client(&input.client_id).await?;
        if client.has_secret() {
            let Some(given) = input.client_secret.as_deref() else {
                return Err(Error::not_authorized(format!(
                    "Client {} is configured for secret but secret was not received",
                    client.client_id
                )));
            };
            if !client.secret_matches(given) {
                return Err(Error::not_authorized(format!(
                    "Unable to verify secret hash for client {}",
                    client.client_id
                )));
            }
        }
        let pool = self.fresh_pool(&client.pool_id).await?;
        self.refresh(
            &pool,
            &client,
            &input.refresh_token,
            ClientProof::Checked,
            input.device_key.as_deref(),
        )
        .await
    }

    async fn refresh(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        proof: ClientProof<'_>,
        device_key: Option<&str>,
    ) -> Result<AuthenticationResult> {
        let (record, user) = self.refresh_record(pool, client, token).await?;
        if let (true, ClientProof::SecretHash(secret_hash)) = (client.has_secret(), proof) {
            // Clients hash the canonical username; some send the sub.
            let by_username = self.check_secret_hash(client, &user.username, secret_hash);
            if by_username.is_err() {
                self.check_secret_hash(client, &user.sub, secret_hash)
                    .map_err(|_| {
                        by_username
                            .err()
                            .unwrap_or_else(|| Error::not_authorized("Invalid Refresh Token"))
                    })?;
            }
        }
        Self::refresh_user_ok(&record, &user)?;
        Self::refresh_device_ok(pool, &user, &record, device_key)?;
        let event = SignInEvent {
            origin_jti: record.origin_jti.clone(),
            event_id: cognate_crypto::random::uuid(),
            auth_time: record.auth_time,
            device_key: record.device_key.clone(),
            sso_session_id: record.sso_session_id.clone(),
        };
        // A refresh token from the OAuth endpoints keeps its scopes.
        let options = match &record.scope {
            Some(scope) => IssueOptions {
                id_token: true,
                ..IssueOptions::oauth(scope, None, false)
            },
            None => IssueOptions::api(false),
        };
        let issued = self
            .issue_as(
                pool,
                client,
                &user,
                &event,
                options,
                "TokenGeneration_RefreshTokens",
            )
            .await?;
        let refresh_token = self.rotate_if_enabled(client, &record).await?;
        Ok(AuthenticationResult {
            access_token: issued.access_token,
            expires_in: issued.expires_in,
            token_type: "Bearer".into(),
            refresh_token,
            id_token: issued.id_token.unwrap_or_default(),
            new_device: None,
        })
    }

    /// On a client with refresh token rotation, replaces the refresh token
    /// of `record` (already judged usable) with a new one of the same
    /// session, valid for what is left of the old one's life; the old one
    /// is refused from the end of the retry grace period after its first
    /// rotation. One conditional store step: of concurrent uses outside
    /// the grace period only one gets a new token. `None` without rotation.
    pub(crate) async fn rotate_if_enabled(
        &self,
        client: &AppClient,
        record: &RefreshTokenRecord,
    ) -> Result<Option<String>> {
        let now = self.now();
        let (last_ip, device) = super::user_sessions::activity_source();
        if let Some(sso) = &record.sso_session_id {
            // A refresh or rotation is activity on its SSO session too.
            self.touch_sso_session(&record.pool_id, sso).await?;
        }
        let Some(grace_ms) = client.settings.refresh_rotation_grace_ms() else {
            // The session's last activity (LastActiveDate, MaxPerUser's order).
            self.store
                .touch_refresh_token(&record.token_hash, now, last_ip.as_deref(), Some(&device))
                .await?;
            return Ok(None);
        };
        let token = tokens::new_refresh_token();
        let next = RefreshTokenRecord {
            token_hash: cognate_crypto::digest::sha256_hex(token.as_bytes()),
            rotated_until: None,
            revoked: false,
            last_active: now,
            last_ip,
            last_device: Some(device),
            ..record.clone()
        };
        if self
            .store
            .rotate_refresh_token(&record.token_hash, now, grace_ms, &next)
            .await?
        {
            return Ok(Some(token));
        }
        // Lost to a revocation, a sign-out or another rotation: say which.
        let current = self.store.get_refresh_token(&record.token_hash).await?;
        Err(match current {
            Some(t) if t.revoked => Error::not_authorized("Refresh Token has been revoked"),
            Some(t) if t.rotated_until.is_some() => reuse_error(),
            _ => Error::not_authorized("Invalid Refresh Token"),
        })
    }

    /// A refresh token of the client that can still be used, and its user
    /// (not disabled, not signed out since), for the API and the token endpoint.
    pub(crate) async fn live_refresh_token(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
    ) -> Result<(RefreshTokenRecord, User)> {
        let (record, user) = self.refresh_record(pool, client, token).await?;
        Self::refresh_user_ok(&record, &user)?;
        Ok((record, user))
    }

    async fn refresh_record(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
    ) -> Result<(RefreshTokenRecord, User)> {
        let invalid = || Error::not_authorized("Invalid Refresh Token");
        if token.len() > 4096 {
            return Err(invalid());
        }
        let hash = cognate_crypto::digest::sha256_hex(token.as_bytes());
        let record = self
            .store
            .get_refresh_token(&hash)
            .await?
            .ok_or_else(invalid)?;
        if record.client_id != client.client_id || record.pool_id != pool.id {
            return Err(invalid());
        }
        if record.revoked {
            return Err(Error::not_authorized("Refresh Token has been revoked"));
        }
        let now = self.now();
        if record.expires <= now {
            return Err(Error::not_authorized("Refresh Token has expired"));
        }
        if record.rotated_until.is_some_and(|until| until <= now) {
            return Err(reuse_error());
        }
        let user = self
            .store
            .get_user_by_sub(&pool.id, &record.sub)
            .await?
            .ok_or_else(invalid)?;
        Ok((record, user))
    }

    fn refresh_user_ok(record: &RefreshTokenRecord, user: &User) -> Result<()> {
        if user.signed_out_since(record.created) {
            return Err(Error::not_authorized("Refresh Token has been revoked"));
        }
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        Ok(())
    }

    /// Signs an ID and an access token of the sign-in APIs (and, for a new
    /// sign-in, stores and returns a refresh token).
    pub(crate) async fn issue_tokens(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        event: &SignInEvent,
        with_refresh: bool,
        source: &str,
    ) -> Result<AuthenticationResult> {
        let issued = self
            .issue_as(
                pool,
                client,
                user,
                event,
                IssueOptions::api(with_refresh),
                source,
            )
            .await?;
        Ok(AuthenticationResult {
            access_token: issued.access_token,
            expires_in: issued.expires_in,
            token_type: "Bearer".into(),
            refresh_token: issued.refresh_token,
            id_token: issued
                .id_token
                .ok_or_else(|| Error::internal("no ID token issued"))?,
            new_device: None,
        })
    }

    /// Signs the tokens of one issuance: an access token with the given
    /// scope, an ID token when asked (with `nonce` and, for the OAuth
    /// endpoints, `at_hash`), and a stored refresh token when asked.
    pub(crate) async fn issue(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        event: &SignInEvent,
        options: IssueOptions<'_>,
    ) -> Result<IssuedTokens> {
        let source = if options.oauth {
            "TokenGeneration_HostedAuth"
        } else {
            "TokenGeneration_Authentication"
        };
        self.issue_as(pool, client, user, event, options, source)
            .await
    }

    /// [`issue`](Self::issue) with the PreTokenGeneration trigger's `triggerSource`.
    pub(crate) async fn issue_as(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        event: &SignInEvent,
        options: IssueOptions<'_>,
        source: &str,
    ) -> Result<IssuedTokens> {
        let now_ms = self.now();
        let keys = self.keys.get(self.store.as_ref(), &pool.id, now_ms).await?;
        let lifetimes = tokens::lifetimes(client);
        let now = now_ms.div_euclid(1000);
        let issuer = self.issuer(&pool.id);
        let subject = tokens::TokenSubject {
            issuer: &issuer,
            pool,
            client,
            user,
            event,
            now,
            now_ms,
        };
        let groups = self
            .store
            .groups_of_user(&pool.id, &user.username_key)
            .await?;
        let (mut id_extra, access_extra) = tokens::group_claims(&groups);
        let overrides = self
            .pre_token_generation(
                pool,
                super::triggers::TokenRequest {
                    source,
                    client_id: &client.client_id,
                    user: Some(user),
                    groups: super::triggers::GroupClaims::of(&id_extra),
                    scope: options.scope,
                },
            )
            .await?;
        let mut access_claims =
            tokens::access_token_claims(&subject, options.scope, lifetimes.access);
        if let Some(obj) = access_claims.as_object_mut() {
            obj.extend(access_extra);
            if options.oauth {
                obj.insert("version".into(), json!(2));
            }
        }
        if let Some(o) = &overrides {
            o.apply_access(&mut access_claims);
        }
        let sign = |key: &cognate_crypto::SigningKey, claims: &serde_json::Value| {
            key.sign(claims).map_err(|e| Error::internal(e.to_string()))
        };
        let access_token = sign(keys.signing_key("access", now_ms)?, &access_claims)?;
        let id_token = if options.id_token {
            if let Some(nonce) = options.nonce {
                id_extra.insert("nonce".into(), json!(nonce));
            }
            if options.oauth {
                id_extra.insert("at_hash".into(), json!(tokens::at_hash(&access_token)));
            }
            let mut id_claims = tokens::id_token_claims(&subject, lifetimes.id, Some(&id_extra));
            if let Some(o) = &overrides {
                o.apply_id(&mut id_claims);
            }
            Some(sign(keys.signing_key("id", now_ms)?, &id_claims)?)
        } else {
            None
        };
        let refresh_token = if options.refresh {
            let token = tokens::new_refresh_token();
            let (last_ip, device) = super::user_sessions::activity_source();
            self.store_sign_in_refresh_token(
                pool,
                RefreshTokenRecord {
                    token_hash: cognate_crypto::digest::sha256_hex(token.as_bytes()),
                    pool_id: pool.id.clone(),
                    client_id: client.client_id.clone(),
                    username_key: user.username_key.clone(),
                    sub: user.sub.clone(),
                    origin_jti: event.origin_jti.clone(),
                    auth_time: event.auth_time,
                    created: now_ms,
                    expires: now_ms + lifetimes.refresh * 1000,
                    revoked: false,
                    scope: options.oauth.then(|| options.scope.to_owned()),
                    rotated_until: None,
                    device_key: event.device_key.clone(),
                    last_active: now_ms,
                    sso_session_id: event.sso_session_id.clone(),
                    last_ip,
                    last_device: Some(device),
                },
            )
            .await?;
            Some(token)
        } else {
            None
        };
        Ok(IssuedTokens {
            access_token,
            id_token,
            refresh_token,
            expires_in: lifetimes.access,
        })
    }
}

//! The user lifecycle: SignUp, ConfirmSignUp, ResendConfirmationCode,
//! AdminConfirmSignUp, AdminCreateUser, AdminGetUser, GetUser, ListUsers,
//! AdminDeleteUser, DeleteUser, AdminSetUserPassword; one-time codes and
//! the access-token check of the user APIs; ForceAliasCreation (AdminCreateUser,
//! ConfirmSignUp, UserMigration), whose alias move is one store transaction.

use std::sync::Arc;

use super::{decode_token, encode_token, Page, UserPools};
use crate::delivery::{render, OutgoingMessage};
use crate::error::{Error, ErrorKind, Result, StoreError};
use crate::model::{
    AppClient, Attribute, CodeRecord, FilterAttribute, User, UserFilter, UserPool, UserStatus,
};
use crate::password_policy;
use crate::schema;
use crate::store::CodeUse;
use crate::tokens::{self, AccessClaims};

/// Where a code went, as CodeDeliveryDetails shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeDelivery {
    pub destination: String,
    pub medium: String,
    pub attribute: String,
}

#[derive(Clone, Debug)]
pub struct SignUpInput {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub username: String,
    pub password: Option<String>,
    pub attributes: Vec<Attribute>,
    /// ValidationData, for the PreSignUp trigger.
    pub validation_data: Vec<Attribute>,
    /// ClientMetadata, for the PreSignUp and CustomMessage triggers.
    pub client_metadata: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct SignUpOutput {
    pub user_confirmed: bool,
    pub user_sub: String,
    pub delivery: Option<CodeDelivery>,
}

#[derive(Clone, Debug, Default)]
pub struct AdminCreateUserInput {
    pub pool_id: String,
    pub username: String,
    pub attributes: Vec<Attribute>,
    pub temporary_password: Option<String>,
    /// `RESEND` or `SUPPRESS`.
    pub message_action: Option<String>,
    pub desired_delivery_mediums: Vec<String>,
    /// ValidationData, for the PreSignUp trigger.
    pub validation_data: Vec<Attribute>,
    /// ClientMetadata, for the PreSignUp and CustomMessage triggers.
    pub client_metadata: std::collections::BTreeMap<String, String>,
    /// ForceAliasCreation: a verified email or phone number that another
    /// user holds as its alias moves to the new user.
    pub force_alias_creation: bool,
}

/// The alias kinds ForceAliasCreation moves in a pool: a verified email or
/// phone number that is a sign-in alias (not a username attribute, which
/// stays unique; not preferred_username, which is never verified).
pub(crate) fn forced_alias_kinds(pool: &UserPool) -> Vec<String> {
    ["email", "phone_number"]
        .into_iter()
        .filter(|k| {
            pool.alias_attributes.iter().any(|a| a == k)
                && !pool.username_attributes.iter().any(|a| a == k)
        })
        .map(str::to_owned)
        .collect()
}

const SIGNUP_CODE: &str = "signup";
const SIGNUP_CODE_TTL_MS: i64 = 24 * 3600 * 1000;
/// The audit event of entering a code of `purpose` (fixed names: no
/// caller text reaches the log).
fn code_event(purpose: &str) -> &'static str {
    match purpose {
        SIGNUP_CODE => "confirm_sign_up",
        "forgot_password" => "confirm_forgot_password",
        p if p.starts_with("verify:") => "verify_user_attribute",
        _ => "code_entry",
    }
}

/// Wrong tries after which a code is void.
pub(crate) const MAX_CODE_ATTEMPTS: u32 = 5;

pub(crate) fn code_digest(pool_id: &str, username_key: &str, purpose: &str, code: &str) -> String {
    cognate_crypto::digest::sha256_hex(
        format!("{pool_id}\u{0}{username_key}\u{0}{purpose}\u{0}{code}").as_bytes(),
    )
}

impl UserPools {
    /// The username a new user is stored under, and the attributes with the
    /// sign-in email/phone filled in, for pools that sign in with them.
    pub(crate) fn new_username(
        &self,
        pool: &UserPool,
        requested: &str,
        attributes: &mut Vec<Attribute>,
    ) -> Result<String> {
        if requested.is_empty() || requested.chars().any(char::is_whitespace) {
            return Err(Error::invalid_parameter(
                "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
            ));
        }
        if pool.username_attributes.is_empty() {
            for alias in &pool.alias_attributes {
                if (alias == "email" && schema::looks_like_email(requested))
                    || (alias == "phone_number" && schema::looks_like_phone(requested))
                {
                    return Err(Error::invalid_parameter(
                        "Username cannot be of email format, since user pool is configured for email alias.",
                    ));
                }
            }
            return Ok(requested.to_owned());
        }
        let email_ok = pool.username_attributes.iter().any(|a| a == "email");
        let phone_ok = pool.username_attributes.iter().any(|a| a == "phone_number");
        let attr = if email_ok && schema::looks_like_email(requested) {
            "email"
        } else if phone_ok && schema::looks_like_phone(requested) {
            "phone_number"
        } else {
            return Err(Error::invalid_parameter(match (email_ok, phone_ok) {
                (true, false) => "Username should be an email.",
                (false, true) => "Username should be a phone number.",
                _ => "Username should be either an email or a phone number.",
            }));
        };
        // Whether another user has this email or phone number is decided by
        // the store's UNIQUE alias index when the user is inserted.
        attributes.retain(|a| a.name != attr);
        attributes.push(Attribute::new(attr, requested));
        Ok(cognate_crypto::random::uuid())
    }

    pub(crate) fn blank_user(
        &self,
        pool: &UserPool,
        username: String,
        attributes: Vec<Attribute>,
    ) -> User {
        let now = self.now();
        User {
            pool_id: pool.id.clone(),
            username_key: pool.username_key(&username),
            sub: if pool.username_attributes.is_empty() {
                cognate_crypto::random::uuid()
            } else {
                username.clone()
            },
            username,
            attributes,
            status: UserStatus::Unconfirmed,
            enabled: true,
            created: now,
            modified: now,
            password_hash: None,
            temporary_password_expires: None,
            tokens_valid_after: None,
            srp_salt: None,
            srp_verifier: None,
            revoked_origins: Vec::new(),
            totp_pending_secret: None,
            totp_secret: None,
            totp_last_step: None,
            totp_enabled: false,
            totp_name: None,
            mfa_preferred: None,
            sms_mfa_enabled: false,
            email_mfa_enabled: false,
            webauthn_mfa_enabled: false,
            password_sign_in_disabled: false,
            devices: Vec::new(),
            mfa_options: Vec::new(),
            version: 0,
        }
    }

    pub async fn sign_up(&self, mut input: SignUpInput) -> Result<SignUpOutput> {
        self.limit_ip(crate::ratelimit::Action::SignUp)?;
        let (client, pool) = self
            .client_call(
                &input.client_id,
                &input.username,
                input.secret_hash.as_deref(),
            )
            .await?;
        if pool
            .settings
            .admin_create_user_config
            .allow_admin_create_user_only
        {
            return Err(Error::not_authorized(
                "SignUp is not permitted for this user pool",
            ));
        }
        input.attributes = schema::normalized(&pool, &input.attributes);
        check_writable(&client, &input.attributes)?;
        schema::validate_attributes(&pool, &input.attributes, false)?;
        // As the model documents Password: a pool that signs users in with
        // email or SMS codes takes a sign-up without one (a passwordless
        // user: its sign-ins are USER_AUTH's code factors, or passkeys).
        let passwordless = super::user_auth::first_auth_factors_of(&pool.settings)
            .iter()
            .any(|f| f == "EMAIL_OTP" || f == "SMS_OTP");
        let password = match input.password.as_deref() {
            Some(password) => Some(password),
            None if passwordless => None,
            None => {
                return Err(Error::invalid_parameter(
                    "Missing required parameter PASSWORD",
                ))
            }
        };
        if let Some(password) = password {
            password_policy::check(&pool.settings.password_policy, password)?;
            self.refuse_compromised_password(
                &pool,
                Some(&client.client_id),
                super::risk::CredentialEvent::SignUp,
                password,
            )
            .await?;
        }
        let mut attributes: Vec<Attribute> = input
            .attributes
            .into_iter()
            .filter(|a| a.name != "email_verified" && a.name != "phone_number_verified")
            .collect();
        let username = self.new_username(&pool, &input.username, &mut attributes)?;
        schema::check_required(&pool, &attributes)?;
        if self
            .store
            .get_user(&pool.id, &pool.username_key(&username))
            .await?
            .is_some()
        {
            return Err(Error::new(ErrorKind::UsernameExists, "User already exists"));
        }
        let mut user = self.blank_user(&pool, username, attributes);
        // A refusal leaves nothing behind: the trigger runs before the write.
        let pre = self
            .pre_sign_up(
                &pool,
                &user,
                "PreSignUp_SignUp",
                Some(&client.client_id),
                &input.validation_data,
                &input.client_metadata,
            )
            .await?;
        pre.apply(&mut user);
        // A signed-up email address or phone number is stated unverified
        // (email_verified "false"), as Cognito's users and events show it,
        // unless PreSignUp verified it.
        for (name, verified) in [
            ("email", "email_verified"),
            ("phone_number", "phone_number_verified"),
        ] {
            if user.attribute(name).is_some() && user.attribute(verified).is_none() {
                user.set_attribute(verified, Some("false"));
            }
        }
        if let Some(password) = password {
            self.set_password(&pool, &mut user, password).await?;
        }
        self.insert_user(&pool, &user).await?;
        self.user_event("sign_up", &pool, &user, Some(&client.client_id))
            .await;
        let delivery = if pre.auto_confirm {
            None
        } else {
            self.send_signup_code(&pool, &user, "signup").await?
        };
        Ok(SignUpOutput {
            user_confirmed: pre.auto_confirm,
            user_sub: user.sub,
            delivery,
        })
    }

    /// The attribute a pool verifies automatically for this user, if any.
    fn auto_verified_destination(pool: &UserPool, user: &User) -> Option<(&'static str, String)> {
        let auto = &pool.settings.auto_verified_attributes;
        if auto.iter().any(|a| a == "email") {
            if let Some(email) = user.attribute("email") {
                return Some(("email", email.to_owned()));
            }
        }
        if auto.iter().any(|a| a == "phone_number") {
            if let Some(phone) = user.attribute("phone_number") {
                return Some(("phone_number", phone.to_owned()));
            }
        }
        None
    }

    /// Creates, stores and sends a sign-up confirmation code, if the pool verifies an attribute of the user.
    async fn send_signup_code(
        &self,
        pool: &UserPool,
        user: &User,
        kind: &str,
    ) -> Result<Option<CodeDelivery>> {
        let Some((attribute, destination)) = Self::auto_verified_destination(pool, user) else {
            return Ok(None);
        };
        self.send_code(
            pool,
            user,
            attribute,
            &destination,
            SIGNUP_CODE,
            kind,
            SIGNUP_CODE_TTL_MS,
            super::account::Delivery::BeforeAnswer,
        )
        .await
        .map(Some)
    }

    pub(crate) async fn deliver(&self, message: OutgoingMessage) -> Result<()> {
        self.sink
            .deliver(&message)
            .await
            .map_err(|e| Error::new(ErrorKind::CodeDeliveryFailure, e))
    }

    /// Checks a one-time code: missing or expired is ExpiredCodeException, wrong
    /// is CodeMismatchException, and too many wrong tries void the code. The
    /// store decides atomically, so a code is used once and concurrent
    /// guesses cannot get past the attempt limit.
    pub(crate) async fn check_code(
        &self,
        pool: &UserPool,
        user: &User,
        purpose: &str,
        code: &str,
    ) -> Result<()> {
        let guess = CodeRecord {
            pool_id: pool.id.clone(),
            username_key: user.username_key.clone(),
            purpose: purpose.to_owned(),
            code_hash: code_digest(&pool.id, &user.username_key, purpose, code),
            expires: 0,
            attempts: 0,
        };
        let refusal = match self
            .store
            .use_code(&guess, self.now(), MAX_CODE_ATTEMPTS)
            .await?
        {
            CodeUse::Accepted => return Ok(()),
            CodeUse::Mismatch(_) => Error::new(
                ErrorKind::CodeMismatch,
                "Invalid verification code provided, please try again.",
            ),
            CodeUse::LimitExceeded => Error::new(
                ErrorKind::LimitExceeded,
                "Attempt limit exceeded, please try after some time.",
            ),
            CodeUse::Expired => Error::new(
                ErrorKind::ExpiredCode,
                "Invalid code provided, please request a code again.",
            ),
        };
        crate::audit::Event::new(code_event(purpose), &pool.id)
            .user(&user.sub)
            .failed(crate::audit::failure_reason(&refusal))
            .emit();
        Err(refusal)
    }

    /// A user addressed by a client-facing call (ConfirmSignUp, ResendConfirmationCode).
    async fn client_user(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
    ) -> Result<User> {
        match self.find_user(pool, username, false).await? {
            Some(u) => Ok(u),
            None if prevents_existence_errors(client) => Err(Error::new(
                ErrorKind::CodeMismatch,
                "Invalid verification code provided, please try again.",
            )),
            None => Err(Error::new(
                ErrorKind::UserNotFound,
                "Username/client id combination not found.",
            )),
        }
    }

    pub async fn confirm_sign_up(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        code: &str,
    ) -> Result<()> {
        self.confirm_sign_up_forcing(client_id, secret_hash, username, code, false)
            .await
    }

    /// ConfirmSignUp. With `force_alias_creation`, an email or phone number
    /// that the confirmation verifies and that another user holds as its
    /// alias moves to this user (the other keeps it, unverified) in the
    /// same store transaction; without, that is AliasExistsException.
    pub async fn confirm_sign_up_forcing(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        code: &str,
        force_alias_creation: bool,
    ) -> Result<()> {
        self.limit_ip(crate::ratelimit::Action::CodeEntry)?;
        let (client, pool) = self.client_call(client_id, username, secret_hash).await?;
        self.limit_user(crate::ratelimit::Action::CodeEntry, &pool, username)?;
        let user = self.client_user(&pool, &client, username).await?;
        let not_unconfirmed = |user: &User| {
            Error::not_authorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            ))
        };
        if user.status != UserStatus::Unconfirmed {
            return Err(not_unconfirmed(&user));
        }
        self.check_code(&pool, &user, SIGNUP_CODE, code).await?;
        let now = self.now();
        let take = if force_alias_creation {
            forced_alias_kinds(&pool)
        } else {
            Vec::new()
        };
        let username_key = user.username_key.clone();
        let confirmed = self
            .update_user_taking(user, &take, |user| {
                if user.status != UserStatus::Unconfirmed {
                    return Err(not_unconfirmed(user));
                }
                if let Some((attribute, _)) = Self::auto_verified_destination(&pool, user) {
                    user.set_attribute(&format!("{attribute}_verified"), Some("true"));
                }
                user.status = UserStatus::Confirmed;
                user.modified = now;
                Ok(())
            })
            .await;
        let (user, ()) = match confirmed {
            Ok(confirmed) => confirmed,
            Err(e) if e.kind == ErrorKind::AliasExists => {
                // Nothing was confirmed: the code stays good, so that the
                // caller can repeat the call with ForceAliasCreation, as
                // AWS documents.
                self.store
                    .put_code(&CodeRecord {
                        pool_id: pool.id.clone(),
                        username_key: username_key.clone(),
                        purpose: SIGNUP_CODE.to_owned(),
                        code_hash: code_digest(&pool.id, &username_key, SIGNUP_CODE, code),
                        expires: now + SIGNUP_CODE_TTL_MS,
                        attempts: 0,
                    })
                    .await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.user_event("confirm_sign_up", &pool, &user, Some(&client.client_id))
            .await;
        self.post_confirmation(
            &pool,
            &user,
            "PostConfirmation_ConfirmSignUp",
            Some(&client.client_id),
            &Default::default(),
        )
        .await
    }

    pub async fn resend_confirmation_code(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
    ) -> Result<CodeDelivery> {
        self.limit_ip(crate::ratelimit::Action::CodeIssue)?;
        let (client, pool) = self.client_call(client_id, username, secret_hash).await?;
        self.limit_user(crate::ratelimit::Action::CodeIssue, &pool, username)?;
        let user = match self.find_user(&pool, username, false).await? {
            Some(u) => u,
            // Shaped like a real delivery by the pool's verification
            // medium, as ForgotPassword's simulated one.
            None if prevents_existence_errors(&client) => {
                let auto = &pool.settings.auto_verified_attributes;
                let sms =
                    auto.iter().any(|a| a == "phone_number") && !auto.iter().any(|a| a == "email");
                return Ok(CodeDelivery {
                    destination: self.simulated_destination(&pool, username, sms).await?,
                    medium: if sms { "SMS" } else { "EMAIL" }.into(),
                    attribute: if sms { "phone_number" } else { "email" }.into(),
                });
            }
            None => {
                return Err(Error::new(
                    ErrorKind::UserNotFound,
                    "Username/client id combination not found.",
                ))
            }
        };
        if user.status != UserStatus::Unconfirmed {
            return Err(Error::invalid_parameter("User is already confirmed."));
        }
        self.user_event(
            "resend_confirmation_code",
            &pool,
            &user,
            Some(&client.client_id),
        )
        .await;
        self.send_signup_code(&pool, &user, "resend")
            .await?
            .ok_or_else(|| {
                Error::invalid_parameter("Cannot resend codes. Auto verification not turned on.")
            })
    }

    pub async fn admin_confirm_sign_up(&self, pool_id: &str, username: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        let now = self.now();
        let (user, ()) = self
            .update_user(user, |user| {
                if user.status != UserStatus::Unconfirmed {
                    return Err(Error::not_authorized(format!(
                        "User cannot be confirmed. Current status is {}",
                        user.status.as_str()
                    )));
                }
                user.status = UserStatus::Confirmed;
                user.modified = now;
                Ok(())
            })
            .await?;
        self.store
            .delete_code(&pool.id, &user.username_key, SIGNUP_CODE)
            .await?;
        self.user_event("admin_confirm_sign_up", &pool, &user, None)
            .await;
        self.post_confirmation(
            &pool,
            &user,
            "PostConfirmation_ConfirmSignUp",
            None,
            &Default::default(),
        )
        .await
    }

    pub async fn admin_create_user(&self, mut input: AdminCreateUserInput) -> Result<User> {
        let pool = self.pool(&input.pool_id).await?;
        input.attributes = schema::normalized(&pool, &input.attributes);
        if let Some(action) = &input.message_action {
            if action != "RESEND" && action != "SUPPRESS" {
                return Err(Error::invalid_parameter(format!(
                    "1 validation error detected: Value '{action}' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [SUPPRESS, RESEND]"
                )));
            }
        }
        // RESEND addresses an existing user: its existence is checked before
        // the attributes and the password (model, then resource, then state).
        if input.message_action.as_deref() == Some("RESEND") {
            self.admin_user(&pool, &input.username).await?;
        }
        schema::validate_attributes(&pool, &input.attributes, true)?;
        // As the model documents TemporaryPassword: blank is the same as
        // omitted, and a pool that signs users in with email or SMS codes
        // creates a new user without one (a passwordless user, CONFIRMED:
        // it signs in with USER_AUTH's codes). Otherwise Cognito makes one.
        let resend = input.message_action.as_deref() == Some("RESEND");
        let passwordless = !resend
            && super::user_auth::first_auth_factors_of(&pool.settings)
                .iter()
                .any(|f| f == "EMAIL_OTP" || f == "SMS_OTP");
        let temporary = match input
            .temporary_password
            .as_deref()
            .filter(|p| !p.is_empty())
        {
            Some(p) => {
                // AWS words a temporary password's refusal a little
                // differently (as users captured it): "... with password policy: ...".
                password_policy::check(&pool.settings.password_policy, p).map_err(|mut e| {
                    e.message = e.message.replacen(
                        "conform with policy:",
                        "conform with password policy:",
                        1,
                    );
                    e
                })?;
                Some(p.to_owned())
            }
            None if passwordless => {
                let reachable = input.attributes.iter().any(|a| {
                    (a.name == "email" || a.name == "phone_number") && !a.value.is_empty()
                });
                if !reachable {
                    return Err(Error::invalid_parameter(
                        "A user without a password needs an email address or a phone number.",
                    ));
                }
                None
            }
            None => Some(password_policy::generate_temporary(
                &pool.settings.password_policy,
            )),
        };
        let validity_days = match pool
            .settings
            .password_policy
            .temporary_password_validity_days
        {
            0 => 7,
            d => d,
        } as i64;
        let expires = self.now() + validity_days * 86_400_000;

        let mut user = if input.message_action.as_deref() == Some("RESEND") {
            let user = self.admin_user(&pool, &input.username).await?;
            let not_resendable = |user: &User| {
                Error::new(
                    ErrorKind::UnsupportedUserState,
                    format!(
                        "Resend not possible. {} status is not FORCE_CHANGE_PASSWORD",
                        user.username
                    ),
                )
            };
            if user.status != UserStatus::ForceChangePassword {
                return Err(not_resendable(&user));
            }
            let temporary = temporary.as_deref().unwrap_or_default();
            let material = self
                .password_material(&pool, &user.username, temporary)
                .await?;
            let now = self.now();
            self.update_user(user, |user| {
                if user.status != UserStatus::ForceChangePassword {
                    return Err(not_resendable(user));
                }
                material.apply(user);
                user.temporary_password_expires = Some(expires);
                user.modified = now;
                Ok(())
            })
            .await?
            .0
        } else {
            let mut attributes = input.attributes.clone();
            let username = self.new_username(&pool, &input.username, &mut attributes)?;
            schema::check_required(&pool, &attributes)?;
            let mut user = self.blank_user(&pool, username, attributes);
            user.status = if temporary.is_some() {
                UserStatus::ForceChangePassword
            } else {
                UserStatus::Confirmed
            };
            // A refusal leaves nothing behind: the trigger runs before the write.
            self.pre_sign_up(
                &pool,
                &user,
                "PreSignUp_AdminCreateUser",
                None,
                &input.validation_data,
                &input.client_metadata,
            )
            .await?
            .apply(&mut user);
            if let Some(temporary) = &temporary {
                self.set_password(&pool, &mut user, temporary).await?;
                user.temporary_password_expires = Some(expires);
            }
            let take = if input.force_alias_creation {
                forced_alias_kinds(&pool)
            } else {
                Vec::new()
            };
            match self.insert_user_taking(&pool, &user, &take).await {
                Ok(()) => user,
                Err(e) if e.message == "User already exists" => {
                    return Err(Error::new(
                        ErrorKind::UsernameExists,
                        "User account already exists",
                    ))
                }
                Err(e) => return Err(e),
            }
        };
        if input.message_action.as_deref() != Some("SUPPRESS") {
            // A passwordless user's invitation has no password to show.
            let shown = temporary.as_deref().unwrap_or_default();
            self.send_invitation(&pool, &user, &input.desired_delivery_mediums, shown)
                .await?;
        }
        user.password_hash = None;
        self.user_event("admin_create_user", &pool, &user, None)
            .await;
        Ok(user)
    }

    async fn send_invitation(
        &self,
        pool: &UserPool,
        user: &User,
        mediums: &[String],
        temporary: &str,
    ) -> Result<()> {
        let mut template = pool
            .settings
            .admin_create_user_config
            .invite_message_template
            .clone()
            .unwrap_or_default();
        let wants = |m: &str| {
            if mediums.is_empty() {
                m == "SMS"
            } else {
                mediums.iter().any(|x| x == m)
            }
        };
        // Custom senders compose their own messages: CustomMessage runs
        // only for a medium Cognito composes.
        let composed = ["EMAIL", "SMS"]
            .iter()
            .any(|m| wants(m) && !Self::has_custom_sender(pool, m));
        let custom = if composed {
            self.custom_message(pool, user, "CustomMessage_AdminCreateUser", true)
                .await?
        } else {
            super::triggers::CustomMessage::default()
        };
        if custom.email_subject.is_some() {
            template.email_subject = custom.email_subject;
        }
        if custom.email_message.is_some() {
            template.email_message = custom.email_message;
        }
        if custom.sms_message.is_some() {
            template.sms_message = custom.sms_message;
        }
        let invite =
            |destination: &str, medium: &str, subject: String, body: String| OutgoingMessage {
                pool_id: pool.id.clone(),
                username: user.username.clone(),
                destination: destination.to_owned(),
                medium: medium.into(),
                kind: "invite".into(),
                subject,
                body: render(&body, temporary, &user.username),
                code: temporary.to_owned(),
                ..OutgoingMessage::from_pool(pool)
            };
        let default_body = || "Your username is {username} and temporary password is {####}. ";
        let mut sent = false;
        if wants("EMAIL") {
            if let Some(email) = user.attribute("email") {
                let subject = template
                    .email_subject
                    .unwrap_or_else(|| "Your temporary password".into());
                let body = template
                    .email_message
                    .unwrap_or_else(|| default_body().into());
                self.send_message(pool, user, invite(email, "EMAIL", subject, body), None)
                    .await?;
                sent = true;
            }
        }
        if wants("SMS") && !sent {
            if let Some(phone) = user.attribute("phone_number") {
                let body = template
                    .sms_message
                    .unwrap_or_else(|| default_body().into());
                self.send_message(pool, user, invite(phone, "SMS", String::new(), body), None)
                    .await?;
            }
        }
        Ok(())
    }

    /// Creates a user declared in the config file unless it exists. With a
    /// permanent password the user is CONFIRMED; with a temporary one it
    /// must choose a new password at first sign-in.
    pub async fn seed_user(
        &self,
        pool_id: &str,
        username: &str,
        password: Option<&str>,
        permanent: bool,
        attributes: Vec<Attribute>,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        if self.find_user(&pool, username, false).await?.is_some() {
            return Ok(());
        }
        let mut attributes = schema::normalized(&pool, &attributes);
        schema::validate_attributes(&pool, &attributes, true)?;
        let username = self.new_username(&pool, username, &mut attributes)?;
        schema::check_required(&pool, &attributes)?;
        let mut user = self.blank_user(&pool, username, attributes);
        if let Some(p) = password {
            password_policy::check(&pool.settings.password_policy, p)?;
            self.set_password(&pool, &mut user, p).await?;
        }
        user.status = if permanent {
            UserStatus::Confirmed
        } else {
            UserStatus::ForceChangePassword
        };
        match self.insert_user(&pool, &user).await {
            // Created meanwhile by another instance starting on the same database.
            Err(e) if e.kind == ErrorKind::UsernameExists => Ok(()),
            other => other,
        }
    }

    pub async fn admin_get_user(&self, pool_id: &str, username: &str) -> Result<User> {
        let pool = self.pool(pool_id).await?;
        self.admin_user(&pool, username).await
    }

    /// Verifies an access token of a local pool with the one verifier
    /// (`crate::verify`) and requires `scope`: the pool id, the access
    /// claims and the claims as verified. Revocation is checked by the
    /// caller (it reads the user anyway), with `verify::token_refused`.
    pub(crate) async fn verify_access(
        &self,
        token: &str,
        scope: &str,
    ) -> Result<(String, AccessClaims, Arc<cognate_token::Claims>)> {
        use cognate_token::{Policy, Rejection, TokenUse};
        let invalid = || Error::not_authorized("Invalid Access Token");
        let now = self.now().div_euclid(1000);
        let claims = self
            .verifier
            .authorize_at(token, &Policy::token_use(TokenUse::Access), now)
            .await
            .map_err(|r| {
                crate::counters::count_token(r.reason());
                match r {
                    Rejection::Expired => Error::not_authorized("Access Token has expired"),
                    _ => invalid(),
                }
            })?;
        let pool_id = crate::verify::pool_of_issuer(&self.config.public_url, &claims.iss)
            .ok_or_else(invalid)?
            .to_owned();
        let access = AccessClaims::from_verified(&claims).ok_or_else(|| {
            crate::counters::count_token("malformed");
            invalid()
        })?;
        if !access.scope.split(' ').any(|s| s == scope) {
            crate::counters::count_token("insufficient_scope");
            return Err(Error::not_authorized(
                "Access Token does not have required scopes",
            ));
        }
        Ok((pool_id, access, claims))
    }

    /// The pool, client and user an access token speaks for; refuses
    /// expired, revoked, malformed or foreign tokens, tokens of a deleted
    /// app client, and tokens of a deleted or disabled user.
    pub async fn user_from_access_token(
        &self,
        token: &str,
    ) -> Result<(String, AccessClaims, User)> {
        use crate::verify::Refusal;
        let (pool_id, access, claims) = self.verify_access(token, tokens::ADMIN_SCOPE).await?;
        let user = self.store.get_user_by_sub(&pool_id, &access.sub).await?;
        let client = self.cached_client(&access.client_id).await?;
        let refusal = crate::verify::token_refused(
            user.as_ref(),
            client.as_deref(),
            &pool_id,
            &claims,
            self.now(),
        );
        crate::counters::count_token(match (refusal, &user) {
            (None, Some(_)) => "valid",
            (Some(r), _) => r.reason(),
            (None, None) => crate::verify::Refusal::UserGone.reason(),
        });
        match (refusal, user) {
            (None, Some(user)) => Ok((pool_id, access, user)),
            (Some(Refusal::UserGone), _) | (None, None) => Err(Error::user_not_found()),
            (Some(Refusal::UserDisabled), _) => Err(Error::not_authorized("User is disabled.")),
            (Some(Refusal::ClientGone), _) => Err(Error::not_authorized("Invalid Access Token")),
            (Some(Refusal::Revoked), _) => {
                Err(Error::not_authorized("Access Token has been revoked"))
            }
        }
    }

    /// `user_from_access_token` for an operation whose model declares no
    /// UserNotFoundException (GlobalSignOut, AssociateSoftwareToken): a
    /// deleted user's token is NotAuthorized there.
    pub(crate) async fn user_from_access_token_no_user_not_found(
        &self,
        token: &str,
    ) -> Result<(String, AccessClaims, User)> {
        self.user_from_access_token(token).await.map_err(|e| {
            if e.kind == ErrorKind::UserNotFound {
                Error::not_authorized("User does not exist.")
            } else {
                e
            }
        })
    }

    /// GetUser: the user of an access token, with the attributes its client may read.
    pub async fn get_user(&self, token: &str) -> Result<User> {
        let (_pool_id, claims, mut user) = self.user_from_access_token(token).await?;
        if let Some(client) = self.cached_client(&claims.client_id).await? {
            if let Some(read) = &client.settings.read_attributes {
                user.attributes
                    .retain(|a| read.iter().any(|r| r == &a.name));
            }
        }
        Ok(user)
    }

    /// ListUsers. `attributes_to_get` must name attributes of the pool's
    /// schema (`sub` included), else Cognito's "One or more requested
    /// attributes do not exist."; the filter is checked after them.
    pub async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&str>,
        attributes_to_get: &[String],
        limit: usize,
        token: Option<&str>,
    ) -> Result<Page<User>> {
        let pool = self.pool(pool_id).await?;
        if attributes_to_get
            .iter()
            .any(|name| pool.schema_attribute(name).is_none())
        {
            return Err(Error::invalid_parameter(
                "One or more requested attributes do not exist.",
            ));
        }
        let filter = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => {
                let mut f = parse_filter(f)?;
                // Usernames compare as the pool compares them.
                if f.attribute == FilterAttribute::Username && !pool.case_sensitive() {
                    f.attribute = FilterAttribute::UsernameKey;
                    f.value = pool.username_key(&f.value);
                }
                Some(f)
            }
            None => None,
        };
        let cursor = token.map(decode_token).transpose()?;
        let page = self
            .store
            .list_users(pool_id, filter.as_ref(), cursor.as_deref(), limit)
            .await
            .map_err(|e| match e {
                // A cursor the store cannot read was not one of its own.
                StoreError::InvalidCursor => {
                    Error::new(ErrorKind::InvalidParameter, "Invalid pagination token.")
                }
                e => e.into(),
            })?;
        Ok(Page {
            items: page.users,
            next: page.next.as_deref().map(encode_token),
        })
    }

    pub async fn admin_delete_user(&self, pool_id: &str, username: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        self.store.delete_user(&pool.id, &user.username_key).await?;
        crate::audit::user_event("admin_delete_user", &pool.id, &user.sub);
        Ok(())
    }

    pub async fn delete_user(&self, token: &str) -> Result<()> {
        let (pool_id, _claims, user) = self.user_from_access_token(token).await?;
        self.store.delete_user(&pool_id, &user.username_key).await?;
        crate::audit::user_event("delete_user", &pool_id, &user.sub);
        Ok(())
    }

    pub async fn admin_set_user_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        let user_sub = user.sub.clone();
        password_policy::check_change(&pool.settings.password_policy, password)?;
        let material = self
            .password_material(&pool, &user.username, password)
            .await?;
        let days = match pool
            .settings
            .password_policy
            .temporary_password_validity_days
        {
            0 => 7,
            d => d,
        } as i64;
        let now = self.now();
        self.update_user(user, |user| {
            material.apply(user);
            if permanent {
                user.status = UserStatus::Confirmed;
                user.temporary_password_expires = None;
            } else {
                user.status = UserStatus::ForceChangePassword;
                user.temporary_password_expires = Some(now + days * 86_400_000);
            }
            user.modified = now;
            Ok(())
        })
        .await?;
        crate::audit::user_event("admin_set_user_password", &pool.id, &user_sub);
        Ok(())
    }
}

pub(crate) fn prevents_existence_errors(client: &AppClient) -> bool {
    client.settings.prevent_user_existence_errors.as_deref() == Some("ENABLED")
}

/// Refuses attributes outside the client's WriteAttributes.
fn check_writable(client: &AppClient, attributes: &[Attribute]) -> Result<()> {
    if let Some(write) = &client.settings.write_attributes {
        for a in attributes {
            if !write.iter().any(|w| w == &a.name) {
                return Err(Error::not_authorized(
                    "A client attempted to write unauthorized attribute",
                ));
            }
        }
    }
    Ok(())
}

/// Parses a ListUsers filter: `name = "value"` or `name ^= "value"` (the
/// name may be quoted too), with `\"` and `\\` escapes inside the quotes.
/// Syntax errors are Cognito's "Error while parsing filter."; a name that
/// cannot be searched is "Invalid search attribute: <name>".
pub fn parse_filter(input: &str) -> Result<UserFilter> {
    let bad = || Error::invalid_parameter("Error while parsing filter.");
    /// A quoted string at the start of `s`: its unescaped text and the rest.
    fn quoted(s: &str) -> Option<(String, &str)> {
        let inner = s.strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = inner.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next()?.1),
                '"' => return Some((value, &inner[i + 1..])),
                c => value.push(c),
            }
        }
        None
    }
    let s = input.trim();
    let (name, rest) = if s.starts_with('"') {
        quoted(s).ok_or_else(bad)?
    } else {
        let end = s
            .find(|c: char| c.is_whitespace() || c == '=' || c == '^' || c == '"')
            .ok_or_else(bad)?;
        (s[..end].to_owned(), &s[end..])
    };
    if name.is_empty() {
        return Err(bad());
    }
    let rest = rest.trim_start();
    let (prefix, rest) = if let Some(r) = rest.strip_prefix("^=") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (false, r)
    } else {
        return Err(bad());
    };
    let (value, tail) = quoted(rest.trim_start()).ok_or_else(bad)?;
    if !tail.trim().is_empty() {
        return Err(bad());
    }
    let attribute = match name.as_str() {
        "username" => FilterAttribute::Username,
        "email" => FilterAttribute::Email,
        "phone_number" => FilterAttribute::PhoneNumber,
        "name" => FilterAttribute::Name,
        "given_name" => FilterAttribute::GivenName,
        "family_name" => FilterAttribute::FamilyName,
        "preferred_username" => FilterAttribute::PreferredUsername,
        "sub" => FilterAttribute::Sub,
        "cognito:user_status" => FilterAttribute::UserStatus,
        "status" => FilterAttribute::Enabled,
        other => {
            return Err(Error::invalid_parameter(format!(
                "Invalid search attribute: {other}"
            )))
        }
    };
    Ok(UserFilter {
        attribute,
        prefix,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let f = parse_filter(r#"email = "joe@example.com""#).unwrap();
        assert_eq!(f.attribute, FilterAttribute::Email);
        assert!(!f.prefix);
        assert_eq!(f.value, "joe@example.com");
        let f = parse_filter(r#"family_name ^= "O\"Br""#).unwrap();
        assert!(f.prefix);
        assert_eq!(f.value, "O\"Br");
        let f = parse_filter(r#"cognito:user_status="UNCONFIRMED""#).unwrap();
        assert_eq!(f.attribute, FilterAttribute::UserStatus);
        assert_eq!(
            parse_filter(r#"custom:x = "1""#).unwrap_err().message,
            "Invalid search attribute: custom:x"
        );
        assert_eq!(
            parse_filter("email").unwrap_err().message,
            "Error while parsing filter."
        );
        // A quoted name, no spaces, and an escaped backslash.
        let f = parse_filter(r#""email"^="a\\b""#).unwrap();
        assert_eq!(f.attribute, FilterAttribute::Email);
        assert!(f.prefix);
        assert_eq!(f.value, "a\\b");
        for bad in [
            r#"email = joe"#,
            r#"email == "joe""#,
            r#"email = "joe" extra"#,
            r#"email = "joe"#,
            r#"= "joe""#,
            r#"email ~ "joe""#,
        ] {
            assert_eq!(
                parse_filter(bad).unwrap_err().message,
                "Error while parsing filter.",
                "{bad}"
            );
        }
    }
}

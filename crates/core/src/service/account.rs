//! Account state and recovery: AdminDisableUser, AdminEnableUser,
//! GlobalSignOut, AdminUserGlobalSignOut, RevokeToken, ForgotPassword,
//! ConfirmForgotPassword, ChangePassword, AdminResetUserPassword; and the
//! attribute operations: AdminUpdateUserAttributes, UpdateUserAttributes,
//! AdminDeleteUserAttributes, DeleteUserAttributes,
//! GetUserAttributeVerificationCode, VerifyUserAttribute.

use super::risk::CredentialEvent;
use super::users::{prevents_existence_errors, CodeDelivery};
use super::UserPools;
use crate::delivery::{mask_destination, render, OutgoingMessage};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Attribute, CodeRecord, User, UserPool, UserStatus};
use crate::{password_policy, schema};

const FORGOT: &str = "forgot_password";
const FORGOT_TTL_MS: i64 = 3600 * 1000;
const VERIFY_TTL_MS: i64 = 24 * 3600 * 1000;
/// The longest an access token can live: revocation marks are kept this long.
pub(crate) const MAX_ACCESS_TOKEN_MS: i64 = 24 * 3600 * 1000;

fn verify_purpose(attribute: &str) -> String {
    format!("verify:{attribute}")
}

/// When a code's message is sent: before the answer (its failure is the
/// answer: CodeDeliveryFailureException), or after it, where the answer
/// must not take longer for a user that exists than for one that does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    BeforeAnswer,
    AfterAnswer,
}

impl UserPools {
    /// Revokes every session of a user: refresh tokens stop working and
    /// access tokens are refused (one transaction in the store, outside the
    /// user's document, so no concurrent write can undo it).
    async fn sign_out_everywhere(&self, user: &User) -> Result<()> {
        let now = self.now();
        if self
            .store
            .sign_out_user(&user.pool_id, &user.username_key, now)
            .await?
        {
            Ok(())
        } else {
            Err(Error::user_not_found())
        }
    }

    pub async fn admin_disable_user(&self, pool_id: &str, username: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        let now = self.now();
        let (user, ()) = self
            .update_user(user, |u| {
                u.enabled = false;
                u.modified = now;
                Ok(())
            })
            .await?;
        crate::audit::user_event("admin_disable_user", &pool.id, &user.sub);
        self.sign_out_everywhere(&user).await
    }

    pub async fn admin_enable_user(&self, pool_id: &str, username: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        let now = self.now();
        let (user, ()) = self
            .update_user(user, |u| {
                u.enabled = true;
                u.modified = now;
                Ok(())
            })
            .await?;
        crate::audit::user_event("admin_enable_user", &pool.id, &user.sub);
        Ok(())
    }

    pub async fn global_sign_out(&self, access_token: &str) -> Result<()> {
        let (pool_id, _claims, user) = self
            .user_from_access_token_no_user_not_found(access_token)
            .await?;
        crate::audit::user_event("global_sign_out", &pool_id, &user.sub);
        self.sign_out_everywhere(&user).await
    }

    pub async fn admin_user_global_sign_out(&self, pool_id: &str, username: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        crate::audit::user_event("admin_user_global_sign_out", &pool.id, &user.sub);
        self.sign_out_everywhere(&user).await
    }

    /// RevokeToken: revokes a refresh token and the access tokens issued from it.
    pub async fn revoke_token(
        &self,
        token: &str,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<()> {
        let unauthorized = || Error::new(ErrorKind::Unauthorized, "Invalid client credentials.");
        let client = self
            .store
            .get_client(client_id)
            .await?
            .ok_or_else(unauthorized)?;
        if client.has_secret() {
            let given = client_secret.ok_or_else(unauthorized)?;
            if !client.secret_matches(given) {
                return Err(unauthorized());
            }
        }
        self.revoke_refresh_token_of(&client, token).await
    }

    /// Revokes a refresh token issued to `client` (already authenticated)
    /// and the access tokens of its sign-in; RevokeToken and
    /// `/oauth2/revoke`. An unknown token is not an error.
    pub(crate) async fn revoke_refresh_token_of(
        &self,
        client: &crate::model::AppClient,
        token: &str,
    ) -> Result<()> {
        let unauthorized = || Error::new(ErrorKind::Unauthorized, "Invalid client credentials.");
        if !client.settings.enable_token_revocation {
            return Err(Error::new(
                ErrorKind::UnsupportedOperation,
                "Token revocation is not enabled for this client.",
            ));
        }
        if cognate_crypto::jws::decode(token).is_ok() {
            return Err(Error::new(
                ErrorKind::UnsupportedTokenType,
                "The token provided is not a refresh token.",
            ));
        }
        let hash = cognate_crypto::digest::sha256_hex(token.as_bytes());
        let Some(record) = self.store.get_refresh_token(&hash).await? else {
            return Ok(());
        };
        if record.client_id != client.client_id {
            return Err(unauthorized());
        }
        self.store
            .revoke_refresh_token(&hash, self.now() + MAX_ACCESS_TOKEN_MS)
            .await?;
        crate::audit::Event::new("revoke_token", &record.pool_id)
            .user(&record.sub)
            .client(&client.client_id)
            .emit();
        Ok(())
    }

    /// Sends a password-reset code (ForgotPassword, AdminResetUserPassword).
    async fn send_reset_code(
        &self,
        pool: &UserPool,
        user: &User,
        attribute: &str,
        destination: &str,
    ) -> Result<CodeDelivery> {
        self.send_code(
            pool,
            user,
            attribute,
            destination,
            FORGOT,
            "forgot_password",
            FORGOT_TTL_MS,
            Delivery::BeforeAnswer,
        )
        .await
    }

    /// Creates, stores and sends a code for `purpose` to `destination`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_code(
        &self,
        pool: &UserPool,
        user: &User,
        attribute: &str,
        destination: &str,
        purpose: &str,
        kind: &str,
        ttl_ms: i64,
        delivery: Delivery,
    ) -> Result<CodeDelivery> {
        let code = cognate_crypto::random::digits(6);
        self.store
            .put_code(&CodeRecord {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                purpose: purpose.to_owned(),
                code_hash: super::users::code_digest(&pool.id, &user.username_key, purpose, &code),
                expires: self.now() + ttl_ms,
                attempts: 0,
            })
            .await?;
        let t = &pool.settings.verification_message_template;
        let email = attribute == "email";
        let (subject, template) = if email {
            (
                t.email_subject
                    .clone()
                    .or_else(|| pool.settings.email_verification_subject.clone())
                    .unwrap_or_else(|| "Your verification code".into()),
                t.email_message
                    .clone()
                    .or_else(|| pool.settings.email_verification_message.clone())
                    .unwrap_or_else(|| "Your verification code is {####}. ".into()),
            )
        } else {
            (
                String::new(),
                t.sms_message
                    .clone()
                    .or_else(|| pool.settings.sms_verification_message.clone())
                    .unwrap_or_else(|| "Your verification code is {####}. ".into()),
            )
        };
        let medium = if email { "EMAIL" } else { "SMS" };
        // A custom sender composes its own message: no CustomMessage.
        let custom = if Self::has_custom_sender(pool, medium) {
            super::triggers::CustomMessage::default()
        } else {
            self.custom_message(
                pool,
                user,
                &format!("CustomMessage_{}", super::triggers::message_source(kind)),
                false,
            )
            .await?
        };
        let (subject, template) = if email {
            (
                custom.email_subject.unwrap_or(subject),
                custom.email_message.unwrap_or(template),
            )
        } else {
            (subject, custom.sms_message.unwrap_or(template))
        };
        let message = OutgoingMessage {
            pool_id: pool.id.clone(),
            username: user.username.clone(),
            destination: destination.to_owned(),
            medium: medium.into(),
            kind: kind.into(),
            subject,
            body: render(&template, &code, &user.username),
            code,
            ..OutgoingMessage::from_pool(pool)
        };
        match delivery {
            Delivery::BeforeAnswer => self.send_message(pool, user, message, None).await?,
            Delivery::AfterAnswer => self.send_after_answer(pool, user, message, None),
        }
        Ok(CodeDelivery {
            destination: mask_destination(destination),
            medium: medium.into(),
            attribute: attribute.into(),
        })
    }

    /// The verified channel a reset code goes to, per the pool's recovery
    /// setting. As the model documents AccountRecoverySetting, a channel
    /// that is also the user's MFA factor does not qualify: the phone when
    /// SMS MFA is on, the email address when email MFA is.
    fn recovery_channel(pool: &UserPool, user: &User) -> Result<Option<(&'static str, String)>> {
        let factors = super::mfa::user_mfa_setting_list(user);
        let verified = |attr: &'static str| {
            let factor = if attr == "email" {
                "EMAIL_OTP"
            } else {
                "SMS_MFA"
            };
            if factors.contains(&factor) {
                return None;
            }
            let flag = format!("{attr}_verified");
            match (user.attribute(attr), user.attribute(&flag)) {
                (Some(v), Some("true")) => Some((attr, v.to_owned())),
                _ => None,
            }
        };
        match &pool.settings.account_recovery {
            Some(mechanisms) => {
                let mut sorted = mechanisms.clone();
                sorted.sort_by_key(|m| m.priority);
                for m in sorted {
                    match m.name.as_str() {
                        "admin_only" => {
                            return Err(Error::not_authorized(
                                "Contact administrator to reset password.",
                            ))
                        }
                        "verified_email" => {
                            if let Some(c) = verified("email") {
                                return Ok(Some(c));
                            }
                        }
                        "verified_phone_number" => {
                            if let Some(c) = verified("phone_number") {
                                return Ok(Some(c));
                            }
                        }
                        _ => {}
                    }
                }
                Ok(None)
            }
            None => Ok(verified("phone_number").or_else(|| verified("email"))),
        }
    }

    pub async fn forgot_password(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
    ) -> Result<CodeDelivery> {
        self.limit_ip(crate::ratelimit::Action::CodeIssue)?;
        let (client, pool) = self.client_call(client_id, username, secret_hash).await?;
        self.limit_user(crate::ratelimit::Action::CodeIssue, &pool, username)?;
        let hidden = prevents_existence_errors(&client);
        let found = match self.find_user(&pool, username, false).await? {
            Some(user) => Some(user),
            // A UserMigration trigger may bring the user in from elsewhere.
            None => {
                self.migrate_user(&pool, &client.client_id, username, None)
                    .await?
            }
        };
        let Some(user) = found else {
            if hidden {
                return self.simulated_delivery(&pool, username).await;
            }
            return Err(Error::new(
                ErrorKind::UserNotFound,
                "Username/client id combination not found.",
            ));
        };
        if !user.enabled {
            if hidden {
                return self.simulated_delivery(&pool, username).await;
            }
            return Err(Error::not_authorized("User is disabled."));
        }
        if user.status == UserStatus::ForceChangePassword {
            if hidden {
                return self.simulated_delivery(&pool, username).await;
            }
            return Err(Error::not_authorized(
                "User password cannot be reset in the current state.",
            ));
        }
        let Some((attribute, destination)) = Self::recovery_channel(&pool, &user)? else {
            if hidden {
                return self.simulated_delivery(&pool, username).await;
            }
            return Err(no_recovery_channel());
        };
        let delivery = if hidden {
            // Not recorded for AdminListUserAuthEvents (a write before the
            // answer would time differently from a simulated delivery).
            crate::audit::user_event("forgot_password", &pool.id, &user.sub);
            // Sent after the answer: its time does not tell that the user exists.
            Delivery::AfterAnswer
        } else {
            self.user_event("forgot_password", &pool, &user, Some(&client.client_id))
                .await;
            Delivery::BeforeAnswer
        };
        self.send_code(
            &pool,
            &user,
            attribute,
            &destination,
            FORGOT,
            "forgot_password",
            FORGOT_TTL_MS,
            delivery,
        )
        .await
    }

    /// The CodeDeliveryDetails a pool that prevents user-existence errors
    /// answers for a user it will not send a code to: shaped like a real
    /// one (the pool's first recovery medium; initials, or the last digits of
    /// a phone number, derived from the server's secret and the username, so
    /// they are the same at every call and differ between usernames).
    async fn simulated_delivery(&self, pool: &UserPool, username: &str) -> Result<CodeDelivery> {
        let sms_first = pool.settings.account_recovery.as_ref().is_some_and(|m| {
            m.iter()
                .min_by_key(|m| m.priority)
                .is_some_and(|m| m.name == "verified_phone_number")
        });
        Ok(CodeDelivery {
            destination: self
                .simulated_destination(pool, username, sms_first)
                .await?,
            medium: if sms_first { "SMS" } else { "EMAIL" }.into(),
            attribute: if sms_first { "phone_number" } else { "email" }.into(),
        })
    }

    /// The masked destination of a code that is not sent (an unknown user
    /// where the client prevents user-existence errors): an email address
    /// (the username itself when it is one) or, with `sms`, a phone number,
    /// whose visible letters or digits are derived from the server's secret
    /// and the username, so they are the same at every call and differ
    /// between usernames.
    pub(super) async fn simulated_destination(
        &self,
        pool: &UserPool,
        username: &str,
        sms: bool,
    ) -> Result<String> {
        let key = self.cookie_key().await?;
        let mac = cognate_crypto::digest::hmac_sha256(
            key,
            format!("simulated-delivery\u{0}{}\u{0}{username}", pool.id).as_bytes(),
        );
        let pick = |i: usize, alphabet: &[u8]| {
            let b = mac.get(i).copied().unwrap_or(0);
            char::from(
                alphabet
                    .get(usize::from(b) % alphabet.len())
                    .copied()
                    .unwrap_or(b'a'),
            )
        };
        if sms {
            let digits: String = (0..4).map(|i| pick(i, b"0123456789")).collect();
            return Ok(mask_destination(&format!("+1555555{digits}")));
        }
        Ok(if username.contains('@') {
            mask_destination(username)
        } else {
            const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
            const DOMAINS: &[u8] = b"gghoyimaepcs";
            format!("{}***@{}***", pick(0, LETTERS), pick(1, DOMAINS))
        })
    }

    pub async fn confirm_forgot_password(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        code: &str,
        password: &str,
    ) -> Result<()> {
        self.limit_ip(crate::ratelimit::Action::CodeEntry)?;
        let (client, pool) = self.client_call(client_id, username, secret_hash).await?;
        self.limit_user(crate::ratelimit::Action::CodeEntry, &pool, username)?;
        // With PreventUserExistenceErrors, AWS's developer guide: "returns
        // the CodeMismatchException error for users that don't exist or are
        // disabled" (after the same password check as for a real user).
        let mismatch = || {
            Error::new(
                ErrorKind::CodeMismatch,
                "Invalid verification code provided, please try again.",
            )
        };
        let Some(user) = self.find_user(&pool, username, false).await? else {
            return Err(if prevents_existence_errors(&client) {
                password_policy::check_change(&pool.settings.password_policy, password)?;
                mismatch()
            } else {
                Error::new(
                    ErrorKind::UserNotFound,
                    "Username/client id combination not found.",
                )
            });
        };
        password_policy::check_change(&pool.settings.password_policy, password)?;
        if !user.enabled && prevents_existence_errors(&client) {
            return Err(mismatch());
        }
        // Before the code is spent, as the policy: another password may follow.
        self.refuse_compromised_password(
            &pool,
            Some(&client.client_id),
            CredentialEvent::PasswordChange,
            password,
        )
        .await?;
        // Under PreventUserExistenceErrors a known user without a live code
        // gets the unknown user's answer too (AWS answers it ExpiredCode,
        // which would tell the two apart).
        match self.check_code(&pool, &user, FORGOT, code).await {
            Err(e) if e.kind == ErrorKind::ExpiredCode && prevents_existence_errors(&client) => {
                return Err(mismatch())
            }
            other => other?,
        }
        let material = self
            .password_material(&pool, &user.username, password)
            .await?;
        let now = self.now();
        let (user, ()) = self
            .update_user(user, |u| {
                material.apply(u);
                u.status = UserStatus::Confirmed;
                u.temporary_password_expires = None;
                u.modified = now;
                Ok(())
            })
            .await?;
        self.user_event(
            "confirm_forgot_password",
            &pool,
            &user,
            Some(&client.client_id),
        )
        .await;
        self.post_confirmation(
            &pool,
            &user,
            "PostConfirmation_ConfirmForgotPassword",
            Some(&client.client_id),
            &Default::default(),
        )
        .await
    }

    pub async fn change_password(
        &self,
        access_token: &str,
        previous: Option<&str>,
        proposed: &str,
    ) -> Result<()> {
        let (pool_id, claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        if user.password_hash.is_some() {
            let previous = previous.ok_or_else(Error::incorrect_credentials)?;
            // Wrong previous passwords count toward the same lockout as
            // sign-ins (a stolen access token does not buy unlimited
            // guesses); over the limit Cognito answers LimitExceeded.
            let attempts = || {
                Error::new(
                    ErrorKind::LimitExceeded,
                    "Attempt limit exceeded, please try after some time.",
                )
            };
            if self.sign_in_locked(&user).await? {
                self.verify_password(previous, None).await?;
                return Err(attempts());
            }
            if !self
                .verify_password(previous, user.password_hash.as_deref())
                .await?
            {
                let e = self.failed_sign_in(&user).await;
                return Err(
                    if e.kind == ErrorKind::NotAuthorized
                        && e.message == "Password attempts exceeded"
                    {
                        attempts()
                    } else {
                        e
                    },
                );
            }
            self.clear_failures(&user).await.map_err(|e| {
                if e.kind == ErrorKind::NotAuthorized {
                    attempts()
                } else {
                    e
                }
            })?;
        }
        password_policy::check_change(&pool.settings.password_policy, proposed)?;
        self.refuse_compromised_password(
            &pool,
            Some(&claims.client_id),
            CredentialEvent::PasswordChange,
            proposed,
        )
        .await?;
        let material = self
            .password_material(&pool, &user.username, proposed)
            .await?;
        let proven = user.password_hash.clone();
        let now = self.now();
        let (user, ()) = self
            .update_user(user, |u| {
                if u.password_hash != proven {
                    // Changed meanwhile: the previous password proven is no longer current.
                    return Err(Error::incorrect_credentials());
                }
                material.apply(u);
                u.modified = now;
                Ok(())
            })
            .await?;
        self.user_event("change_password", &pool, &user, None).await;
        Ok(())
    }

    pub async fn admin_reset_user_password(&self, pool_id: &str, username: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        let now = self.now();
        let (user, channel) = self
            .update_user(user, |u| {
                // A disabled user is refused before anything else (AWS:
                // "use admin-enable-user before admin-reset-user-password").
                if !u.enabled {
                    return Err(Error::not_authorized("User is disabled."));
                }
                if u.status == UserStatus::ForceChangePassword {
                    return Err(Error::not_authorized(
                        "User password cannot be reset in the current state.",
                    ));
                }
                // As ForgotPassword: the code needs a verified email or phone.
                let channel = Self::recovery_channel(&pool, u)?.ok_or_else(no_recovery_channel)?;
                u.status = UserStatus::ResetRequired;
                u.modified = now;
                Ok(channel)
            })
            .await?;
        let (attribute, destination) = channel;
        self.send_reset_code(&pool, &user, attribute, &destination)
            .await?;
        crate::audit::user_event("admin_reset_user_password", &pool.id, &user.sub);
        Ok(())
    }

    /// Applies attribute changes the way Cognito does: an auto-verified
    /// email or phone number that changes becomes unverified (unless the
    /// same call marks it verified) and gets a code. A sign-in alias taken
    /// by another user is AliasExistsException (the store's UNIQUE index
    /// decides). Returns where codes went.
    async fn apply_attribute_changes(
        &self,
        pool: &UserPool,
        user: User,
        changes: &[Attribute],
        admin: bool,
    ) -> Result<Vec<CodeDelivery>> {
        let changes = &schema::normalized(pool, changes)[..];
        schema::validate_attributes(pool, changes, admin)?;
        let now = self.now();
        let (user, to_verify) = self
            .update_user(user, |user| {
                Self::change_attributes(pool, user, changes, admin, now)
            })
            .await?;
        let mut deliveries = Vec::new();
        for (attr, value) in to_verify {
            deliveries.push(
                self.send_code(
                    pool,
                    &user,
                    attr,
                    &value,
                    &verify_purpose(attr),
                    "update_attribute",
                    VERIFY_TTL_MS,
                    Delivery::BeforeAnswer,
                )
                .await?,
            );
        }
        Ok(deliveries)
    }

    /// The change of [`apply_attribute_changes`](Self::apply_attribute_changes)
    /// on one copy of the user; returns the attributes to send codes for.
    fn change_attributes(
        pool: &UserPool,
        user: &mut User,
        changes: &[Attribute],
        admin: bool,
        now: i64,
    ) -> Result<Vec<(&'static str, String)>> {
        for a in changes {
            if let Some(def) = pool.schema_attribute(&a.name) {
                if !def.mutable && user.attribute(&a.name).is_some_and(|v| v != a.value) {
                    return Err(Error::invalid_parameter(format!(
                        "Attributes did not conform to the schema: {}: cannot modify an immutable attribute",
                        a.name
                    )));
                }
            }
            if !admin && (a.name == "email_verified" || a.name == "phone_number_verified") {
                return Err(Error::not_authorized(
                    "A client attempted to write unauthorized attribute",
                ));
            }
        }
        let mut to_verify = Vec::new();
        for attr in ["email", "phone_number"] {
            let Some(new) = changes.iter().find(|a| a.name == attr) else {
                continue;
            };
            if user.attribute(attr) == Some(new.value.as_str()) {
                continue;
            }
            let flag = format!("{attr}_verified");
            let marked = changes.iter().any(|a| a.name == flag && a.value == "true");
            if !marked {
                user.set_attribute(&flag, Some("false"));
                if pool
                    .settings
                    .auto_verified_attributes
                    .iter()
                    .any(|a| a == attr)
                {
                    to_verify.push((attr, new.value.clone()));
                }
            }
        }
        for a in changes {
            user.set_attribute(&a.name, Some(&a.value));
        }
        user.modified = now;
        Ok(to_verify)
    }

    pub async fn admin_update_user_attributes(
        &self,
        pool_id: &str,
        username: &str,
        changes: &[Attribute],
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        self.apply_attribute_changes(&pool, user, changes, true)
            .await?;
        Ok(())
    }

    pub async fn update_user_attributes(
        &self,
        access_token: &str,
        changes: &[Attribute],
    ) -> Result<Vec<CodeDelivery>> {
        let (pool_id, claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        if let Some(client) = self.cached_client(&claims.client_id).await? {
            if let Some(write) = &client.settings.write_attributes {
                if changes.iter().any(|a| !write.iter().any(|w| w == &a.name)) {
                    return Err(Error::not_authorized(
                        "A client attempted to write unauthorized attribute",
                    ));
                }
            }
        }
        // Names the schema does not have: each one listed, in AWS's words
        // (a user's capture of UpdateUserAttributes; DeleteUserAttributes
        // answers the same way).
        let unknown: String = schema::normalized(&pool, changes)
            .iter()
            .filter(|a| a.name != "sub" && pool.schema_attribute(&a.name).is_none())
            .map(|a| format!("user.{}: Attribute does not exist in the schema.\n", a.name))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid_parameter(unknown));
        }
        // The codes' message triggers name the token's app client.
        crate::triggers::on_behalf_of(
            &claims.client_id,
            self.apply_attribute_changes(&pool, user, changes, false),
        )
        .await
    }

    async fn delete_attributes(
        &self,
        pool: &UserPool,
        user: User,
        names: &[String],
        admin: bool,
    ) -> Result<()> {
        // Every unknown name is listed, each on a line of its own.
        let unknown: String = names
            .iter()
            .filter(|n| pool.schema_attribute(n).is_none())
            .map(|n| format!("user.{n}: Attribute does not exist in the schema.\n"))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid_parameter(unknown));
        }
        for name in names {
            let Some(def) = pool.schema_attribute(name) else {
                continue;
            };
            if def.required {
                return Err(Error::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: The attribute is required"
                )));
            }
            if !def.mutable || name == "sub" {
                return Err(Error::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: cannot modify an immutable attribute"
                )));
            }
            if def.developer_only && !admin {
                return Err(Error::not_authorized(
                    "A client attempted to write unauthorized attribute",
                ));
            }
        }
        let now = self.now();
        self.update_user(user, |user| {
            for name in names {
                user.set_attribute(name, None);
                if name == "email" || name == "phone_number" {
                    user.set_attribute(&format!("{name}_verified"), None);
                }
            }
            user.modified = now;
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn admin_delete_user_attributes(
        &self,
        pool_id: &str,
        username: &str,
        names: &[String],
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        self.delete_attributes(&pool, user, names, true).await
    }

    pub async fn delete_user_attributes(&self, access_token: &str, names: &[String]) -> Result<()> {
        let (pool_id, _claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        self.delete_attributes(&pool, user, names, false).await
    }

    pub async fn get_user_attribute_verification_code(
        &self,
        access_token: &str,
        attribute: &str,
    ) -> Result<CodeDelivery> {
        self.limit_ip(crate::ratelimit::Action::CodeIssue)?;
        let (pool_id, claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        self.limits.user(
            crate::ratelimit::Action::CodeIssue,
            &pool.id,
            &user.username_key,
            self.now(),
        )?;
        if attribute != "email" && attribute != "phone_number" {
            return Err(Error::invalid_parameter(format!(
                "Invalid attribute name: {attribute} cannot be verified."
            )));
        }
        let value = user
            .attribute(attribute)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::invalid_parameter(format!("User does not have the attribute {attribute}."))
            })?;
        let purpose = verify_purpose(attribute);
        let sent = self.send_code(
            &pool,
            &user,
            attribute,
            &value,
            &purpose,
            "verify_attribute",
            VERIFY_TTL_MS,
            Delivery::BeforeAnswer,
        );
        // The message triggers name the token's app client.
        crate::triggers::on_behalf_of(&claims.client_id, sent).await
    }

    pub async fn verify_user_attribute(
        &self,
        access_token: &str,
        attribute: &str,
        code: &str,
    ) -> Result<()> {
        self.limit_ip(crate::ratelimit::Action::CodeEntry)?;
        let (pool_id, _claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        self.limits.user(
            crate::ratelimit::Action::CodeEntry,
            &pool.id,
            &user.username_key,
            self.now(),
        )?;
        if attribute != "email" && attribute != "phone_number" {
            return Err(Error::invalid_parameter(format!(
                "Invalid attribute name: {attribute} cannot be verified."
            )));
        }
        self.check_code(&pool, &user, &verify_purpose(attribute), code)
            .await?;
        let now = self.now();
        self.update_user(user, |u| {
            u.set_attribute(&format!("{attribute}_verified"), Some("true"));
            u.modified = now;
            Ok(())
        })
        .await?;
        Ok(())
    }
}

/// ForgotPassword and AdminResetUserPassword for a user with nowhere to send the code.
fn no_recovery_channel() -> Error {
    Error::invalid_parameter(
        "Cannot reset password for the user as there is no registered/verified email or phone_number",
    )
}

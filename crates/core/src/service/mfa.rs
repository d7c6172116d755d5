//! TOTP multi-factor authentication: SetUserPoolMfaConfig,
//! GetUserPoolMfaConfig, AssociateSoftwareToken, VerifySoftwareToken,
//! SetUserMFAPreference, AdminSetUserMFAPreference, and the MFA step of
//! sign-in (the SOFTWARE_TOKEN_MFA and MFA_SETUP challenges).

use std::collections::BTreeMap;

use serde_json::json;

use super::auth::{ChallengeInput, Channel, SignInStep};
use super::UserPools;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, ChallengeSession, EmailMfaSettings, MfaOption, User, UserPool};

/// A pool's MFA configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaConfig {
    /// OFF, ON or OPTIONAL.
    pub mfa_configuration: String,
    pub software_token_enabled: bool,
    /// SmsMfaConfiguration, when SMS_MFA is a factor of the pool.
    pub sms: Option<SmsMfaConfig>,
    /// EmailMfaConfiguration, when EMAIL_OTP is a factor of the pool.
    pub email: Option<EmailMfaSettings>,
    /// WebAuthnConfiguration (`service::webauthn`).
    pub webauthn: super::webauthn::WebAuthnConfig,
    /// Whether AWS shows SoftwareTokenMfaConfiguration: the last
    /// SetUserPoolMfaConfig named it, or TOTP is on.
    pub software_token_shown: bool,
    /// Whether AWS shows WebAuthnConfiguration: the pool was given one.
    pub webauthn_shown: bool,
}

/// SmsMfaConfiguration: the SMS template (with `{####}`) and the pool's
/// SmsConfiguration (kept as given; messages go to the development outbox).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmsMfaConfig {
    pub sms_authentication_message: Option<String>,
    pub sms_configuration: Option<serde_json::Value>,
}

/// The MFA factors a user has enabled, in Cognito's order, as
/// `UserMFASettingList` reports them: SMS (by preference or the legacy
/// `MFAOptions`), TOTP, email.
pub fn user_mfa_setting_list(user: &User) -> Vec<&'static str> {
    let mut out = Vec::new();
    if user.sms_mfa_enabled || !user.mfa_options.is_empty() {
        out.push("SMS_MFA");
    }
    if user.totp_enabled {
        out.push("SOFTWARE_TOKEN_MFA");
    }
    if user.email_mfa_enabled {
        out.push("EMAIL_OTP");
    }
    out
}

fn pool_mfa_config(pool: &UserPool) -> MfaConfig {
    MfaConfig {
        mfa_configuration: pool.settings.mfa_configuration.clone(),
        software_token_enabled: pool.settings.software_token_mfa_enabled,
        sms: pool.settings.sms_mfa_enabled.then(|| SmsMfaConfig {
            sms_authentication_message: pool.settings.sms_authentication_message.clone(),
            sms_configuration: pool.shown_sms_configuration(),
        }),
        email: pool.settings.email_mfa.clone(),
        webauthn: UserPools::webauthn_config(pool),
        software_token_shown: pool.settings.software_token_mfa_stated
            || pool.settings.software_token_mfa_enabled,
        webauthn_shown: pool.settings.webauthn.is_stated(),
    }
}

/// AWS refuses MFA ON while passkeys sign users in on their own (a single
/// factor), in its words; `from_pool_update` is UpdateUserPool's form.
pub(crate) fn check_passkeys_under_required_mfa(
    settings: &crate::model::PoolSettings,
    webauthn: &crate::model::WebAuthnSettings,
    from_pool_update: bool,
) -> Result<()> {
    let passkey_first = super::user_auth::first_auth_factors_of(settings)
        .iter()
        .any(|f| f == "WEB_AUTHN");
    if settings.mfa_configuration == "ON" && passkey_first && !webauthn.is_multi_factor() {
        return Err(Error::invalid_parameter(if from_pool_update {
            "WEB_AUTHN cannot be used as an auth factor when MFA is enabled if not configured for MFA."
        } else {
            "Cannot set WebAuthn factor configuration to SINGLE_FACTOR if MFA is required and WebAuthn is an allowed first auth factor"
        }));
    }
    Ok(())
}

fn no_email_mfa_in_lite() -> Error {
    Error::new(
        ErrorKind::FeatureUnavailableInTier,
        "Email MFA is not available in the LITE tier. Upgrade the user pool to the ESSENTIALS or PLUS tier.",
    )
}

fn no_passkey_mfa_in_lite() -> Error {
    Error::new(
        ErrorKind::FeatureUnavailableInTier,
        "Passkey MFA is not available in the LITE tier. Upgrade the user pool to the ESSENTIALS or PLUS tier.",
    )
}

/// One factor's setting in Set(Admin)UserMFAPreference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FactorPreference {
    pub enabled: Option<bool>,
    pub preferred: Option<bool>,
}

/// The factors of one Set(Admin)UserMFAPreference call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MfaPreferences {
    pub totp: FactorPreference,
    pub sms: FactorPreference,
    pub email: FactorPreference,
    /// WebAuthnMfaSettings.Enabled (passkey MFA has no preference).
    pub webauthn: Option<bool>,
}

/// Where an AssociateSoftwareToken or VerifySoftwareToken call comes from.
pub enum MfaCaller<'a> {
    AccessToken(&'a str),
    Session(&'a str),
}

fn mismatch() -> Error {
    Error::new(
        ErrorKind::EnableSoftwareTokenMfa,
        "Code mismatch and fail enable Software Token MFA",
    )
}

/// A code of a TOTP time step that was already accepted (Cognito's answer;
/// clients wait for the next 30-second step).
fn used_once() -> Error {
    Error::new(
        ErrorKind::ExpiredCode,
        "Your software token has already been used once.",
    )
}

/// How many wrong codes a SOFTWARE_TOKEN_MFA session takes before it ends.
const MAX_MFA_TRIES: i64 = 5;

impl UserPools {
    pub async fn get_user_pool_mfa_config(&self, pool_id: &str) -> Result<MfaConfig> {
        let pool = self.pool(pool_id).await?;
        Ok(pool_mfa_config(&pool))
    }

    /// SetUserPoolMfaConfig. The call states the whole configuration: a
    /// factor it leaves out is not enabled; a missing `MfaConfiguration`
    /// keeps the pool's. SMS needs no SNS role here (codes go to the
    /// development outbox or the message sink); email MFA needs the
    /// ESSENTIALS or PLUS tier, as on AWS, and is sent through SMTP (the
    /// server's sending account) or the outbox.
    pub async fn set_user_pool_mfa_config(
        &self,
        pool_id: &str,
        mfa_configuration: Option<String>,
        software_token_enabled: Option<bool>,
        sms: Option<SmsMfaConfig>,
        email: Option<EmailMfaSettings>,
        webauthn: crate::model::WebAuthnSettings,
    ) -> Result<MfaConfig> {
        let webauthn = Self::check_webauthn_settings(webauthn)?;
        let pool = (*self.pool(pool_id).await?).clone();
        let mode = mfa_configuration
            .clone()
            .unwrap_or_else(|| pool.settings.mfa_configuration.clone());
        let totp = software_token_enabled.unwrap_or(false);
        let other_factors = sms.is_some() || email.is_some();
        // An SNS role is assumed with its external id: AWS asks for both
        // (its words), whatever the MFA mode.
        if let Some(c) = sms.as_ref().and_then(|s| s.sms_configuration.as_ref()) {
            let has = |k: &str| {
                c.get(k)
                    .and_then(|v| v.as_str())
                    .is_some_and(|v| !v.is_empty())
            };
            if !has("ExternalId") || !has("SnsCallerArn") {
                return Err(Error::invalid_parameter(
                    "Invalid SMS MFA configuration given, external id and a valid caller arn are required",
                ));
            }
        }
        if mode == "OFF" && (totp || other_factors) {
            return Err(Error::invalid_parameter(
                "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
            ));
        }
        if mode != "OFF" && !totp && !other_factors {
            // With a WebAuthnConfiguration in the call AWS names the factors
            // that count (passkeys are not one of them); else its older text.
            return Err(Error::invalid_parameter(if webauthn.is_stated() {
                "Invalid MFA Configuration given. SMS MFA, Email MFA, or Software Token MFA must be enabled."
            } else {
                "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration."
            }));
        }
        let template_ok = |t: &Option<String>| t.as_deref().is_none_or(|t| t.contains("{####}"));
        if let Some(s) = &sms {
            if !template_ok(&s.sms_authentication_message) {
                return Err(Error::invalid_parameter(
                    "SmsAuthenticationMessage must contain the {####} placeholder.",
                ));
            }
        }
        if let Some(e) = &email {
            if pool.settings.user_pool_tier == "LITE" {
                return Err(no_email_mfa_in_lite());
            }
            if !template_ok(&e.message) {
                return Err(Error::invalid_parameter(
                    "EmailMfaConfiguration Message must contain the {####} placeholder.",
                ));
            }
        }
        // Passkeys as an MFA factor are an Essentials feature or higher (the
        // model documents FactorConfiguration so; the text is cognate's).
        if webauthn.factor_configuration.as_deref() == Some("MULTI_FACTOR_WITH_USER_VERIFICATION")
            && pool.settings.user_pool_tier == "LITE"
        {
            return Err(no_passkey_mfa_in_lite());
        }
        let mut next = pool.settings.clone();
        next.mfa_configuration = mode.clone();
        next.sms_mfa_enabled = sms.is_some();
        check_passkeys_under_required_mfa(&next, &webauthn, false)?;
        super::pools::check_recovery_against_sms_mfa(&next)?;
        let now = self.now();
        let (pool, ()) = self
            .update_pool(pool, |pool| {
                pool.settings.software_token_mfa_enabled = totp;
                pool.settings.software_token_mfa_stated = software_token_enabled.is_some();
                pool.settings.sms_mfa_enabled = sms.is_some();
                if let Some(s) = &sms {
                    if let Some(m) = &s.sms_authentication_message {
                        pool.settings.sms_authentication_message = Some(m.clone());
                    }
                    if let Some(c) = &s.sms_configuration {
                        pool.settings.sms_configuration = Some(c.clone());
                    }
                }
                pool.settings.email_mfa = email.clone();
                pool.settings.mfa_configuration = mode.clone();
                pool.settings.webauthn = webauthn.clone();
                pool.modified = now;
                Ok(())
            })
            .await?;
        Ok(pool_mfa_config(&pool))
    }

    /// The user and challenge session behind an MFA_SETUP session handle.
    async fn mfa_setup_session(&self, handle: &str) -> Result<(ChallengeSession, User)> {
        let expired = || Error::not_authorized("Invalid session for the user, session is expired.");
        let session = self
            .store
            .take_session(&cognate_crypto::digest::sha256_hex(handle.as_bytes()))
            .await?
            .ok_or_else(expired)?;
        if session.expires <= self.now() || session.challenge != "MFA_SETUP" {
            return Err(expired());
        }
        let user = self
            .store
            .get_user(&session.pool_id, &session.username)
            .await?
            .ok_or_else(expired)?;
        Ok((session, user))
    }

    /// Stores a session again under a new handle (each answer gets a new Session).
    async fn reissue_session(&self, mut session: ChallengeSession) -> Result<String> {
        let handle = super::auth::new_session_handle();
        session.handle_hash = cognate_crypto::digest::sha256_hex(handle.as_bytes());
        self.store.put_session(&session).await?;
        Ok(handle)
    }

    /// AssociateSoftwareToken: a new TOTP secret for the user; returns it and,
    /// when called with a Session, the next Session.
    pub async fn associate_software_token(
        &self,
        caller: MfaCaller<'_>,
    ) -> Result<(String, Option<String>)> {
        let secret = cognate_crypto::totp::new_secret();
        match caller {
            MfaCaller::AccessToken(token) => {
                let (_pool, _claims, user) =
                    self.user_from_access_token_no_user_not_found(token).await?;
                self.set_pending_totp_secret(user, &secret).await?;
                Ok((secret, None))
            }
            MfaCaller::Session(handle) => {
                let (session, user) = self.mfa_setup_session(handle).await?;
                self.set_pending_totp_secret(user, &secret).await?;
                let next = self.reissue_session(session).await?;
                Ok((secret, Some(next)))
            }
        }
    }

    async fn set_pending_totp_secret(&self, user: User, secret: &str) -> Result<()> {
        let now = self.now();
        self.update_user(user, |u| {
            u.totp_pending_secret = Some(secret.to_owned());
            u.modified = now;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Makes a pending TOTP secret the user's verified one if `code` is one
    /// of its codes not accepted before (the time step is claimed in the
    /// store, so one code is accepted once even under concurrent calls).
    ///
    /// With `enable` (the MFA_SETUP session of a sign-in), the verified
    /// token also becomes the user's enabled and preferred factor, so the
    /// next sign-in is challenged SOFTWARE_TOKEN_MFA.
    async fn verify_pending_totp(
        &self,
        user: User,
        code: &str,
        name: Option<&str>,
        enable: bool,
    ) -> Result<()> {
        let now = self.now();
        let pending = user.totp_pending_secret.clone().ok_or_else(|| {
            Error::new(
                ErrorKind::SoftwareTokenMfaNotFound,
                "Software Token MFA has not been associated with this user.",
            )
        })?;
        let step = cognate_crypto::totp::matching_step(&pending, code, now.div_euclid(1000))
            .ok_or_else(mismatch)?;
        if !self
            .store
            .claim_totp_step(&user.pool_id, &user.username_key, step)
            .await?
        {
            return Err(used_once());
        }
        self.update_user(user, |u| {
            if u.totp_pending_secret.as_deref() != Some(pending.as_str()) {
                // Replaced meanwhile by a new AssociateSoftwareToken.
                return Err(mismatch());
            }
            u.totp_secret = Some(pending.clone());
            u.totp_pending_secret = None;
            u.totp_name = name.map(str::to_owned);
            if enable {
                u.totp_enabled = true;
                u.mfa_preferred = Some("SOFTWARE_TOKEN_MFA".into());
            }
            u.modified = now;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// VerifySoftwareToken: checks a code of the associated secret and makes
    /// it the user's verified TOTP secret.
    pub async fn verify_software_token(
        &self,
        caller: MfaCaller<'_>,
        code: &str,
        friendly_name: Option<&str>,
    ) -> Result<Option<String>> {
        self.limit_ip(crate::ratelimit::Action::CodeEntry)?;
        match caller {
            MfaCaller::AccessToken(token) => {
                let (pool_id, _claims, user) = self.user_from_access_token(token).await?;
                let sub = user.sub.clone();
                self.verify_pending_totp(user, code, friendly_name, false)
                    .await?;
                crate::audit::user_event("verify_software_token", &pool_id, &sub);
                Ok(None)
            }
            MfaCaller::Session(handle) => {
                let (mut session, user) = self.mfa_setup_session(handle).await?;
                if let Err(e) = self
                    .verify_pending_totp(user, code, friendly_name, true)
                    .await
                {
                    // A wrong code leaves the same Session usable.
                    self.store.put_session(&session).await?;
                    return Err(e);
                }
                if let Some(obj) = session.data.as_object_mut() {
                    obj.insert("verified".into(), json!(true));
                }
                Ok(Some(self.reissue_session(session).await?))
            }
        }
    }

    fn apply_preference(user: &mut User, prefs: &MfaPreferences, pool: &UserPool) -> Result<()> {
        let lite_tier = pool.settings.user_pool_tier == "LITE";
        let no_delivery = |factor: &str| {
            Error::invalid_parameter(format!(
                "User does not have delivery config set to turn on {factor}"
            ))
        };
        let turns_on = |f: &FactorPreference| f.enabled == Some(true) || f.preferred == Some(true);
        if turns_on(&prefs.sms) && user.attribute("phone_number").is_none() {
            return Err(no_delivery("SMS_MFA"));
        }
        if turns_on(&prefs.email) {
            if lite_tier {
                return Err(no_email_mfa_in_lite());
            }
            if user.attribute("email").is_none() {
                return Err(no_delivery("EMAIL_OTP"));
            }
        }
        if turns_on(&prefs.totp) && user.totp_secret.is_none() {
            return Err(no_delivery("SOFTWARE_TOKEN_MFA"));
        }
        if prefs.webauthn == Some(true) {
            // As the model documents WebAuthnMfaSettings: the Essentials
            // tier or higher, and the pool's FactorConfiguration.
            if lite_tier {
                return Err(no_passkey_mfa_in_lite());
            }
            if !Self::passkey_satisfies_mfa(pool) {
                return Err(Error::invalid_parameter(
                    "Passkey MFA needs the user pool's WebAuthnConfiguration FactorConfiguration MULTI_FACTOR_WITH_USER_VERIFICATION.",
                ));
            }
        }
        let preferred_count = [prefs.sms, prefs.totp, prefs.email]
            .iter()
            .filter(|f| f.preferred == Some(true))
            .count();
        if preferred_count > 1 {
            return Err(Error::invalid_parameter(
                "Only one MFA method can be set as preferred.",
            ));
        }
        // Enabling first, then preferences, so a call may enable one factor
        // and prefer it at once.
        if let Some(enabled) = prefs.sms.enabled {
            user.sms_mfa_enabled = enabled;
            if !enabled {
                user.mfa_options.clear();
            }
        }
        if let Some(enabled) = prefs.totp.enabled {
            user.totp_enabled = enabled;
        }
        if let Some(enabled) = prefs.email.enabled {
            user.email_mfa_enabled = enabled;
        }
        if let Some(enabled) = prefs.webauthn {
            // AWS: the user must also have another MFA factor on, so that
            // losing the passkey does not lock them out.
            if enabled && user_mfa_setting_list(user).is_empty() {
                return Err(Error::invalid_parameter(
                    "Passkey MFA needs another MFA method of the user (SMS_MFA, SOFTWARE_TOKEN_MFA or EMAIL_OTP) turned on.",
                ));
            }
            user.webauthn_mfa_enabled = enabled;
        }
        let factors = [
            ("SMS_MFA", prefs.sms),
            ("SOFTWARE_TOKEN_MFA", prefs.totp),
            ("EMAIL_OTP", prefs.email),
        ];
        for (name, f) in factors {
            let enabled = user_mfa_setting_list(user).contains(&name);
            if f.enabled == Some(false) && user.mfa_preferred.as_deref() == Some(name) {
                user.mfa_preferred = None;
            }
            match f.preferred {
                Some(true) if !enabled => {
                    return Err(Error::invalid_parameter(
                        "A preferred MFA method must be enabled.",
                    ))
                }
                Some(true) => user.mfa_preferred = Some(name.to_owned()),
                Some(false) if user.mfa_preferred.as_deref() == Some(name) => {
                    user.mfa_preferred = None
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub async fn set_user_mfa_preference(&self, token: &str, prefs: MfaPreferences) -> Result<()> {
        let (pool_id, _claims, user) = self.user_from_access_token(token).await?;
        let pool = self.pool(&pool_id).await?;
        self.set_preference(&pool, user, prefs).await
    }

    async fn set_preference(
        &self,
        pool: &UserPool,
        user: User,
        prefs: MfaPreferences,
    ) -> Result<()> {
        let now = self.now();
        let (user, ()) = self
            .update_user(user, |u| {
                Self::apply_preference(u, &prefs, pool)?;
                u.modified = now;
                Ok(())
            })
            .await?;
        crate::audit::user_event("set_user_mfa_preference", &user.pool_id, &user.sub);
        Ok(())
    }

    pub async fn admin_set_user_mfa_preference(
        &self,
        pool_id: &str,
        username: &str,
        prefs: MfaPreferences,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        self.set_preference(&pool, user, prefs).await
    }

    /// AdminDeleteSoftwareToken: forgets the user's TOTP registration
    /// (verified or pending) and any TOTP preference. Other factors stay.
    pub async fn admin_delete_software_token(&self, pool_id: &str, username: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        let user_sub = user.sub.clone();
        let now = self.now();
        self.update_user(user, |u| {
            u.totp_secret = None;
            u.totp_pending_secret = None;
            u.totp_name = None;
            u.totp_enabled = false;
            if u.mfa_preferred.as_deref() == Some("SOFTWARE_TOKEN_MFA") {
                u.mfa_preferred = None;
            }
            u.modified = now;
            Ok(())
        })
        .await?;
        crate::audit::user_event("admin_delete_software_token", &pool.id, &user_sub);
        Ok(())
    }

    /// SetUserSettings: the legacy `MFAOptions` of the signed-in user.
    pub async fn set_user_settings(&self, token: &str, options: Vec<MfaOption>) -> Result<()> {
        let (_pool, _claims, user) = self.user_from_access_token(token).await?;
        self.store_mfa_options(user, options).await
    }

    /// AdminSetUserSettings: the legacy `MFAOptions` of a user.
    pub async fn admin_set_user_settings(
        &self,
        pool_id: &str,
        username: &str,
        options: Vec<MfaOption>,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        self.store_mfa_options(user, options).await
    }

    async fn store_mfa_options(&self, user: User, options: Vec<MfaOption>) -> Result<()> {
        for o in &options {
            if o.attribute_name != "phone_number" {
                return Err(Error::invalid_parameter(
                    "Only phone_number attribute is currently supported as a MFA option.",
                ));
            }
            if o.delivery_medium != "SMS" {
                return Err(Error::invalid_parameter(
                    "Only SMS delivery medium is currently supported as a MFA option.",
                ));
            }
        }
        let mut kept: Vec<MfaOption> = Vec::new();
        for o in options {
            if !kept.contains(&o) {
                kept.push(o);
            }
        }
        let now = self.now();
        self.update_user(user, |u| {
            u.mfa_options = kept.clone();
            u.modified = now;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Which MFA challenge (and its parameters) a proven password leads
    /// to, or `None` when the pool and user need no second factor.
    ///
    /// The factors that count are those the pool enables and the user has
    /// enabled (and can receive): the preferred one is asked; one alone is
    /// asked; several and none preferred give SELECT_MFA_TYPE. With MFA ON
    /// a verified TOTP token always counts, and a user with none enabled
    /// gets the pool's SMS (to `phone_number`) or email factor, else
    /// MFA_SETUP with the factors the pool offers. SMS_MFA and EMAIL_OTP
    /// come with empty parameters here: [`mfa_step`](Self::mfa_step) sends
    /// the code and fills in the delivery.
    pub(crate) fn mfa_challenge(
        pool: &UserPool,
        user: &User,
    ) -> Option<(&'static str, BTreeMap<String, String>)> {
        let mode = pool.settings.mfa_configuration.as_str();
        if mode == "OFF" {
            return None;
        }
        let required = mode == "ON";
        let has_phone = user.attribute("phone_number").is_some();
        let has_email = user.attribute("email").is_some();
        let pool_sms = pool.settings.sms_mfa_enabled;
        let pool_email = pool.settings.email_mfa.is_some();
        let user_factors = user_mfa_setting_list(user);
        let mut enabled: Vec<&'static str> = Vec::new();
        if pool_sms && has_phone && user_factors.contains(&"SMS_MFA") {
            enabled.push("SMS_MFA");
        }
        // A verified token is always used when MFA is required; when it is
        // optional, only if the user enabled it.
        if user.totp_secret.is_some() && (user.totp_enabled || required) {
            enabled.push("SOFTWARE_TOKEN_MFA");
        }
        if pool_email && has_email && user.email_mfa_enabled {
            enabled.push("EMAIL_OTP");
        }
        match enabled.as_slice() {
            [] if required => {
                if pool_sms && has_phone {
                    return Some(("SMS_MFA", BTreeMap::new()));
                }
                if pool_email && has_email {
                    return Some(("EMAIL_OTP", BTreeMap::new()));
                }
                let mut can_setup: Vec<&str> = Vec::new();
                if pool_sms {
                    can_setup.push("SMS_MFA");
                }
                if pool.settings.software_token_mfa_enabled || (!pool_sms && !pool_email) {
                    can_setup.push("SOFTWARE_TOKEN_MFA");
                }
                if pool_email {
                    can_setup.push("EMAIL_OTP");
                }
                let mut p = BTreeMap::new();
                p.insert("MFAS_CAN_SETUP".to_owned(), json!(can_setup).to_string());
                Some(("MFA_SETUP", p))
            }
            factors => pick_factor(user, factors),
        }
    }

    /// The MFA challenge threat protection asks of a risky sign-in that
    /// would otherwise need none (AccountTakeoverActionType's
    /// MFA_IF_CONFIGURED and MFA_REQUIRED), or `None` when the user has no
    /// factor the pool offers: a verified TOTP token, a phone number for
    /// the pool's SMS factor, an email address for its email factor (as
    /// AWS documents: "users must have an email address or phone number
    /// attribute, or a registered TOTP factor"). A pool whose MFA is OFF
    /// has no active factor. Chosen as [`mfa_challenge`](Self::mfa_challenge)
    /// chooses among enabled factors.
    pub(crate) fn risk_mfa_challenge(
        pool: &UserPool,
        user: &User,
    ) -> Option<(&'static str, BTreeMap<String, String>)> {
        if pool.settings.mfa_configuration == "OFF" {
            return None;
        }
        let mut possible: Vec<&'static str> = Vec::new();
        if pool.settings.sms_mfa_enabled && user.attribute("phone_number").is_some() {
            possible.push("SMS_MFA");
        }
        if user.totp_secret.is_some() {
            possible.push("SOFTWARE_TOKEN_MFA");
        }
        if pool.settings.email_mfa.is_some() && user.attribute("email").is_some() {
            possible.push("EMAIL_OTP");
        }
        pick_factor(user, &possible)
    }

    /// The MFA step after a proven password: a challenge (with its code
    /// sent, for SMS_MFA and EMAIL_OTP), or `None` when the pool and user
    /// need no second factor. `risk_forced`: threat protection asks for a
    /// second factor the pool and user would not ([`risk_mfa_challenge`](Self::risk_mfa_challenge)).
    pub(crate) async fn mfa_step(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        channel: Channel,
        risk_forced: bool,
    ) -> Result<Option<SignInStep>> {
        let Some((challenge, mut parameters)) = Self::mfa_challenge(pool, user).or_else(|| {
            risk_forced
                .then(|| Self::risk_mfa_challenge(pool, user))
                .flatten()
        }) else {
            return Ok(None);
        };
        if matches!(challenge, "SMS_MFA" | "EMAIL_OTP") {
            return self
                .code_challenge(pool, client, user, challenge, false, channel)
                .await
                .map(Some);
        }
        if challenge == "SOFTWARE_TOKEN_MFA" {
            parameters.extend(totp_parameters(user));
            parameters.insert("USER_ID_FOR_SRP".to_owned(), user.username.clone());
        }
        let data = match parameters.get("MFAS_CAN_CHOOSE") {
            Some(choices) => json!({
                "tries": 0,
                "choices": serde_json::from_str::<serde_json::Value>(choices)
                    .unwrap_or_default(),
            }),
            None => json!({"tries": 0}),
        };
        let session = self
            .open_session(pool, client, user, challenge, data, channel)
            .await?;
        Ok(Some(SignInStep::Challenge {
            name: challenge.into(),
            session,
            parameters,
            user: user.clone(),
        }))
    }

    /// Answers SOFTWARE_TOKEN_MFA and MFA_SETUP challenges.
    pub(crate) async fn answer_mfa_challenge(
        &self,
        session: &ChallengeSession,
        input: &ChallengeInput,
        mut user: User,
    ) -> Result<SignInStep> {
        match session.challenge.as_str() {
            "SOFTWARE_TOKEN_MFA" => {
                let code = input
                    .responses
                    .get("SOFTWARE_TOKEN_MFA_CODE")
                    .ok_or_else(|| {
                        Error::invalid_parameter(
                            "Missing required parameter SOFTWARE_TOKEN_MFA_CODE",
                        )
                    })?;
                let secret = user.totp_secret.clone().ok_or_else(|| {
                    Error::new(
                        ErrorKind::SoftwareTokenMfaNotFound,
                        "Software Token MFA not found.",
                    )
                })?;
                let step =
                    cognate_crypto::totp::matching_step(&secret, code, self.now().div_euclid(1000));
                let (accepted, used) = match step {
                    Some(step) => {
                        let claimed = self
                            .store
                            .claim_totp_step(&user.pool_id, &user.username_key, step)
                            .await?;
                        (claimed, !claimed)
                    }
                    None => (false, false),
                };
                if !accepted {
                    let tries = session
                        .data
                        .get("tries")
                        .and_then(|t| t.as_i64())
                        .unwrap_or(0)
                        + 1;
                    if tries < MAX_MFA_TRIES {
                        let mut again = session.clone();
                        if let Some(obj) = again.data.as_object_mut() {
                            obj.insert("tries".into(), json!(tries));
                        }
                        self.store.put_session(&again).await?;
                    }
                    if used {
                        return Err(used_once());
                    }
                    // A wrong TOTP code has its own text (apps and Amplify's
                    // error enums match it: "Invalid code received for user");
                    // SMS and email codes answer "Invalid code or auth state".
                    return Err(Error::new(
                        ErrorKind::CodeMismatch,
                        "Invalid code received for user",
                    ));
                }
            }
            "MFA_SETUP" => {
                if session.data.get("verified").and_then(|v| v.as_bool()) != Some(true)
                    || user.totp_secret.is_none()
                {
                    return Err(Error::invalid_parameter(
                        "Software token MFA must be verified (VerifySoftwareToken) before MFA_SETUP is answered.",
                    ));
                }
                let now = self.now();
                user = self
                    .update_user(user, |u| {
                        u.totp_enabled = true;
                        u.mfa_preferred = Some("SOFTWARE_TOKEN_MFA".into());
                        u.modified = now;
                        Ok(())
                    })
                    .await?
                    .0;
            }
            other => {
                return Err(Error::invalid_parameter(format!(
                    "Challenge {other} is not supported by this server yet."
                )))
            }
        }
        Ok(SignInStep::Done(user))
    }
}

/// The challenge among `factors` (those a sign-in may ask for): the user's
/// preferred one, else the only one, else SELECT_MFA_TYPE with the choice;
/// `None` when there is none.
/// What a SOFTWARE_TOKEN_MFA challenge tells of the token: the
/// FriendlyDeviceName it was verified with (`FRIENDLY_DEVICE_NAME`), as
/// Cognito's challenges do.
pub(crate) fn totp_parameters(user: &User) -> BTreeMap<String, String> {
    user.totp_name
        .iter()
        .map(|name| ("FRIENDLY_DEVICE_NAME".to_owned(), name.clone()))
        .collect()
}

fn pick_factor(
    user: &User,
    factors: &[&'static str],
) -> Option<(&'static str, BTreeMap<String, String>)> {
    if let Some(factor) = user
        .mfa_preferred
        .as_deref()
        .and_then(|p| factors.iter().copied().find(|f| *f == p))
    {
        return Some((factor, BTreeMap::new()));
    }
    match factors {
        [] => None,
        [one] => Some((one, BTreeMap::new())),
        several => {
            let mut p = BTreeMap::new();
            p.insert("MFAS_CAN_CHOOSE".to_owned(), json!(several).to_string());
            Some(("SELECT_MFA_TYPE", p))
        }
    }
}

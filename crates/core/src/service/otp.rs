//! One-time codes of sign-in challenges, sent by SMS or email: SMS_MFA and
//! EMAIL_OTP as second factors, EMAIL_OTP and SMS_OTP as first factors of
//! USER_AUTH, and the SELECT_MFA_TYPE choice between a user's factors.
//!
//! A code is six digits (eight for a passwordless first factor), rendered into the pool's template (or the one a
//! CustomMessage trigger gives for `CustomMessage_Authentication`) and
//! delivered through the `MessageSink`; a delivery that fails takes its
//! session back out of the store (a passwordless first factor under
//! PreventUserExistenceErrors is sent after the answer instead, as an
//! unknown user's simulated challenge sends nothing). Only its SHA-256 is kept, in the challenge
//! session, so it lives exactly as long as the session (the app client's
//! `AuthSessionValidity`, three minutes by default, as Cognito's MFA codes)
//! and is compared in constant time. The session is taken from the store
//! atomically (`take_session`) before the code is judged, so one session
//! yields tokens once however many answers race; a wrong code puts it back
//! with one try fewer until [`MAX_CODE_TRIES`] are spent.

use std::collections::BTreeMap;

use serde_json::json;

use super::auth::{ChallengeInput, Channel, SignInStep};
use super::UserPools;
use crate::delivery::{mask_destination, render, OutgoingMessage};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, ChallengeSession, User, UserPool};

/// Wrong codes one challenge session takes; the last one ends it.
pub(crate) const MAX_CODE_TRIES: i64 = 3;

/// Cognito's default SMS authentication message.
const DEFAULT_SMS_MESSAGE: &str = "Your authentication code is {####}. ";
/// The default email of MFA and email OTP codes.
const DEFAULT_EMAIL_MESSAGE: &str = "Your authentication code is {####}.";
const DEFAULT_EMAIL_SUBJECT: &str = "Your authentication code";

/// The challenge-response member that carries the code of `challenge`.
fn code_member(challenge: &str) -> &'static str {
    match challenge {
        "SMS_MFA" => "SMS_MFA_CODE",
        "SMS_OTP" => "SMS_OTP_CODE",
        _ => "EMAIL_OTP_CODE",
    }
}

/// Whether `challenge` is delivered by SMS (else by email).
fn by_sms(challenge: &str) -> bool {
    matches!(challenge, "SMS_MFA" | "SMS_OTP")
}

fn code_digest(code: &str) -> String {
    cognate_crypto::digest::sha256_hex(code.as_bytes())
}

impl UserPools {
    /// Sends a fresh code for `challenge` (SMS_MFA, EMAIL_OTP or SMS_OTP)
    /// to the user and opens the challenge session that expects it.
    /// `first_factor` marks a USER_AUTH sign-in without a password.
    pub(crate) async fn code_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        challenge: &str,
        first_factor: bool,
        channel: Channel,
    ) -> Result<SignInStep> {
        let sms = by_sms(challenge);
        let attribute = if sms { "phone_number" } else { "email" };
        let destination = user.attribute(attribute).ok_or_else(|| {
            Error::invalid_parameter(format!(
                "User does not have delivery config set to turn on {challenge}"
            ))
        })?;
        // Passwordless sign-in codes are eight digits, MFA codes six (a
        // user's capture of a real EMAIL_OTP first factor shows eight).
        let code = cognate_crypto::random::digits(if first_factor { 8 } else { 6 });
        let (subject, template) = if sms {
            let template = pool
                .settings
                .sms_authentication_message
                .clone()
                .unwrap_or_else(|| DEFAULT_SMS_MESSAGE.into());
            (String::new(), template)
        } else {
            let email = pool.settings.email_mfa.clone().unwrap_or_default();
            (
                email
                    .subject
                    .unwrap_or_else(|| DEFAULT_EMAIL_SUBJECT.into()),
                email
                    .message
                    .unwrap_or_else(|| DEFAULT_EMAIL_MESSAGE.into()),
            )
        };
        // The CustomMessage trigger (CustomMessage_Authentication) runs
        // first: a function that refuses leaves no session behind.
        let custom = if Self::has_custom_sender(pool, if sms { "SMS" } else { "EMAIL" }) {
            super::triggers::CustomMessage::default()
        } else {
            self.custom_message_of_client(
                pool,
                user,
                "CustomMessage_Authentication",
                false,
                Some(&client.client_id),
            )
            .await?
        };
        let (subject, template) = if sms {
            (subject, custom.sms_message.unwrap_or(template))
        } else {
            (
                custom.email_subject.unwrap_or(subject),
                custom.email_message.unwrap_or(template),
            )
        };
        let data = json!({
            "tries": 0,
            "code": code_digest(&code),
            "first_factor": first_factor,
        });
        // As the other senders (`send_code`): stored, then sent. A send
        // that fails takes the session back out of the store, so no live
        // session waits for a code that never left.
        let session = self
            .open_session(pool, client, user, challenge, data, channel)
            .await?;
        let message = OutgoingMessage {
            pool_id: pool.id.clone(),
            username: user.username.clone(),
            destination: destination.to_owned(),
            medium: if sms { "SMS" } else { "EMAIL" }.into(),
            kind: if first_factor { "sign_in_otp" } else { "mfa" }.into(),
            subject,
            body: render(&template, &code, &user.username),
            code,
            ..OutgoingMessage::from_pool(pool)
        };
        if first_factor && super::users::prevents_existence_errors(client) {
            // A passwordless first factor under PreventUserExistenceErrors:
            // an unknown user's stand-in answers without sending anything,
            // so a known user's answer does not wait for the message either.
            self.send_after_answer(pool, user, message, Some(&client.client_id));
        } else if let Err(e) = self
            .send_message(pool, user, message, Some(&client.client_id))
            .await
        {
            let hash = cognate_crypto::digest::sha256_hex(session.as_bytes());
            self.store.take_session(&hash).await?;
            return Err(e);
        }
        let mut parameters = BTreeMap::new();
        parameters.insert(
            "CODE_DELIVERY_DELIVERY_MEDIUM".to_owned(),
            if sms { "SMS" } else { "EMAIL" }.to_owned(),
        );
        parameters.insert(
            "CODE_DELIVERY_DESTINATION".to_owned(),
            mask_destination(destination),
        );
        Ok(SignInStep::Challenge {
            name: challenge.to_owned(),
            session,
            parameters,
            user: user.clone(),
        })
    }

    /// Answers SMS_MFA, EMAIL_OTP or SMS_OTP with the code sent for the
    /// session (already taken from the store by the caller).
    pub(crate) async fn answer_code_challenge(
        &self,
        session: &ChallengeSession,
        input: &ChallengeInput,
        user: User,
    ) -> Result<SignInStep> {
        let member = code_member(&session.challenge);
        let code = input.responses.get(member).ok_or_else(|| {
            Error::invalid_parameter(format!("Missing required parameter {member}"))
        })?;
        let expected = session
            .data
            .get("code")
            .and_then(|c| c.as_str())
            .unwrap_or_default();
        let matches = !expected.is_empty()
            && cognate_crypto::digest::constant_time_eq(
                code_digest(code).as_bytes(),
                expected.as_bytes(),
            );
        if !matches {
            let tries = session
                .data
                .get("tries")
                .and_then(|t| t.as_i64())
                .unwrap_or(0)
                + 1;
            if tries < MAX_CODE_TRIES {
                let mut again = session.clone();
                if let Some(obj) = again.data.as_object_mut() {
                    obj.insert("tries".into(), json!(tries));
                }
                self.store.put_session(&again).await?;
            }
            return Err(Error::new(
                ErrorKind::CodeMismatch,
                "Invalid code or auth state for the user.",
            ));
        }
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        Ok(SignInStep::Done(user))
    }

    /// Answers SELECT_MFA_TYPE: `ANSWER` names one of the factors offered
    /// (`MFAS_CAN_CHOOSE`); that factor's challenge follows (a code is sent
    /// for SMS_MFA and EMAIL_OTP).
    pub(crate) async fn answer_select_mfa_type(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: &ChallengeSession,
        input: &ChallengeInput,
        user: User,
        channel: Channel,
    ) -> Result<SignInStep> {
        let answer = super::auth::param(&input.responses, "ANSWER")?;
        let offered = session
            .data
            .get("choices")
            .and_then(|c| c.as_array())
            .is_some_and(|c| c.iter().any(|v| v.as_str() == Some(answer)));
        if !offered {
            return Err(Error::invalid_parameter(format!(
                "Invalid ANSWER: {answer} is not an MFA type the user can choose."
            )));
        }
        match answer {
            "SMS_MFA" | "EMAIL_OTP" => {
                self.code_challenge(pool, client, &user, answer, false, channel)
                    .await
            }
            _ => {
                let session = self
                    .open_session(
                        pool,
                        client,
                        &user,
                        "SOFTWARE_TOKEN_MFA",
                        json!({"tries": 0}),
                        channel,
                    )
                    .await?;
                Ok(SignInStep::Challenge {
                    name: "SOFTWARE_TOKEN_MFA".into(),
                    session,
                    parameters: super::mfa::totp_parameters(&user),
                    user,
                })
            }
        }
    }
}

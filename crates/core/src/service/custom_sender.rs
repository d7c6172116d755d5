//! Custom sender triggers (`LambdaConfig.CustomEmailSender`,
//! `CustomSMSSender`): where a pool names one for a message's medium, the
//! message is not sent; the function is invoked instead with the code or
//! temporary password encrypted as Cognito encrypts it (an AWS Encryption
//! SDK message under the pool's `KMSKeyID`, through the server's
//! [`CodeEncryptor`]), and delivers it itself.
//!
//! The event is Cognito's: `version` "1", `triggerSource`
//! `CustomEmailSender_<Source>` / `CustomSMSSender_<Source>`, `request`
//! `{type: customEmailSenderRequestV1 | customSMSSenderRequestV1, code,
//! clientMetadata, userAttributes}`. The function's answer is not read.

use std::sync::Arc;

use serde_json::{json, Value};

use super::triggers::{client_metadata, message_source, user_attributes, TriggerEvent};
use super::UserPools;
use crate::delivery::OutgoingMessage;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{User, UserPool};
use crate::triggers::{function_of, CodeEncryptor, LambdaInvoker, Trigger};

/// One custom sender invocation, ready to run (now, or after the answer).
pub(crate) struct CustomSend {
    trigger: Trigger,
    function: String,
    key_id: Option<String>,
    pool_id: String,
    code: String,
    /// The event, its `request.code` still to be filled in.
    event: Value,
    lambda: Arc<dyn LambdaInvoker>,
    kms: Arc<dyn CodeEncryptor>,
}

/// The trigger of a medium (`EMAIL` or `SMS`).
fn sender_trigger(medium: &str) -> Trigger {
    if medium == "SMS" {
        Trigger::CustomSMSSender
    } else {
        Trigger::CustomEmailSender
    }
}

impl UserPools {
    /// Whether the pool hands messages of `medium` to a custom sender.
    pub(crate) fn has_custom_sender(pool: &UserPool, medium: &str) -> bool {
        Self::has_trigger(pool, sender_trigger(medium))
    }

    /// The custom sender invocation that replaces `message`, if the pool
    /// names a sender for its medium. `client_id`: the app client the
    /// message is sent for, when the caller knows it (else the request's).
    pub(crate) fn custom_send(
        &self,
        pool: &UserPool,
        user: &User,
        message: &OutgoingMessage,
        client_id: Option<&str>,
    ) -> Option<CustomSend> {
        let trigger = sender_trigger(&message.medium);
        let config = pool.settings.lambda_config.as_ref();
        let function = function_of(config, trigger)?;
        let source = format!("{}_{}", trigger.name(), message_source(&message.kind));
        let request_type = match trigger {
            Trigger::CustomSMSSender => "customSMSSenderRequestV1",
            _ => "customEmailSenderRequestV1",
        };
        let request_client = crate::triggers::current_client_id();
        let client_id = client_id.or(request_client.as_deref());
        let event = self.event_body(
            pool,
            trigger,
            TriggerEvent::new(&source, &user.username, client_id).request(json!({
                "type": request_type,
                "code": Value::Null,
                "clientMetadata": client_metadata(&crate::triggers::current_client_metadata()),
                "userAttributes": user_attributes(user),
            })),
        );
        let key_id = config
            .and_then(|c| c.get("KMSKeyID"))
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        Some(CustomSend {
            trigger,
            function,
            key_id,
            pool_id: pool.id.clone(),
            code: message.code.clone(),
            event,
            lambda: self.lambda.clone(),
            kms: self.kms.clone(),
        })
    }
}

impl UserPools {
    /// Sends `message`, or hands it to the pool's custom sender for its
    /// medium.
    pub(crate) async fn send_message(
        &self,
        pool: &UserPool,
        user: &User,
        message: OutgoingMessage,
        client_id: Option<&str>,
    ) -> Result<()> {
        match self.custom_send(pool, user, &message, client_id) {
            Some(send) => send.run().await,
            None => self.deliver(message).await,
        }
    }
}

impl UserPools {
    /// Sends `message` (or hands it to the custom sender) after the answer:
    /// for answers that must take as long for a user that exists as for
    /// one that does not. A failure is logged.
    pub(crate) fn send_after_answer(
        &self,
        pool: &UserPool,
        user: &User,
        message: OutgoingMessage,
        client_id: Option<&str>,
    ) {
        let custom = self.custom_send(pool, user, &message, client_id);
        let sink = self.sink.clone();
        tokio::spawn(async move {
            let sent = match custom {
                Some(send) => send.run().await.map_err(|e| e.message),
                None => sink.deliver(&message).await,
            };
            if let Err(error) = sent {
                tracing::warn!(pool = %message.pool_id, kind = %message.kind, %error,
                    "sending a code after the answer failed");
            }
        });
    }
}

impl CustomSend {
    /// Encrypts the code and invokes the function. A code that cannot be
    /// encrypted (no KMSKeyID, KMS refused or unreachable) is
    /// CodeDeliveryFailureException; a failed function answers as every
    /// trigger's failure does.
    pub(crate) async fn run(mut self) -> Result<()> {
        let undeliverable = |detail: &str| {
            tracing::warn!(pool = %self.pool_id, trigger = self.trigger.name(), %detail,
                "the code for a custom sender could not be encrypted");
            Error::new(
                ErrorKind::CodeDeliveryFailure,
                format!(
                    "{} could not be sent the code: it could not be encrypted with the pool's KMS key.",
                    self.trigger.name()
                ),
            )
        };
        let Some(key_id) = self.key_id.as_deref() else {
            return Err(undeliverable("the pool's LambdaConfig has no KMSKeyID"));
        };
        let code = self
            .kms
            .encrypt(key_id, &self.pool_id, &self.code)
            .await
            .map_err(|e| undeliverable(&e))?;
        if let Some(request) = self.event.get_mut("request") {
            request["code"] = Value::String(code);
        }
        self.lambda
            .invoke(&self.function, &self.event)
            .await
            .map_err(|e| self.trigger.error(e))?;
        tracing::info!(pool = %self.pool_id, trigger = self.trigger.name(), "code handed to the custom sender");
        Ok(())
    }
}

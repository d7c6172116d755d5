//! Outgoing messages (confirmation, invitation, reset codes). The domain
//! renders them; a [`MessageSink`] delivers them (SMTP, or in development a
//! log line and an outbox file).

use async_trait::async_trait;

/// A rendered message ready for delivery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub pool_id: String,
    pub username: String,
    /// Email address or phone number.
    pub destination: String,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    /// `signup`, `resend`, `invite`, `forgot_password`, `verify_attribute`,
    /// `update_attribute`.
    pub kind: String,
    pub subject: String,
    pub body: String,
    /// An HTML alternative of `body` (threat protection's notifications).
    pub html_body: Option<String>,
    /// The one-time code or temporary password the message carries.
    pub code: String,
    /// The pool's `EmailConfiguration.From` (`addr` or `Name <addr>`), which
    /// replaces the server's `--mail-from` for this pool's emails.
    pub from: Option<String>,
    /// The pool's `EmailConfiguration.ReplyToEmailAddress`.
    pub reply_to: Option<String>,
    /// The pool's `EmailConfiguration.ConfigurationSet`: the SES
    /// configuration set its emails are sent with (the model limits the
    /// name to letters, digits, `_` and `-`).
    pub configuration_set: Option<String>,
    /// The IAM role of the pool's `SmsConfiguration` that SMS messages are
    /// published as (Cognito assumes it to call SNS).
    pub sms_role: Option<SmsRole>,
    /// The pool's `SmsConfiguration.SnsRegion`: the region of the SNS its
    /// SMS messages go through (as the model's pattern allows).
    pub sms_region: Option<String>,
}

/// `SmsConfiguration.SnsCallerArn` and its `ExternalId`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SmsRole {
    pub role_arn: String,
    pub external_id: Option<String>,
}

impl OutgoingMessage {
    /// An empty message carrying the sender settings of the pool's
    /// `EmailConfiguration`: fill in the rest with struct update syntax.
    pub fn from_pool(pool: &crate::model::UserPool) -> OutgoingMessage {
        // A non-blank text member of one of the pool's configurations.
        let text = |config: &Option<serde_json::Value>, name: &str| {
            config
                .as_ref()
                .and_then(|c| c.get(name))
                .and_then(|v| v.as_str())
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned)
        };
        let setting = |name: &str| text(&pool.settings.email_configuration, name);
        // Cognito sends from `From`, else from the address of the SES
        // identity that `SourceArn` names (`...:identity/addr@example.com`);
        // a domain identity names no address.
        let source_address = setting("SourceArn").and_then(|arn| {
            arn.rsplit_once(":identity/")
                .map(|(_, id)| id.to_owned())
                .filter(|id| id.contains('@'))
        });
        let sms = |name: &str| text(&pool.settings.sms_configuration, name);
        OutgoingMessage {
            pool_id: pool.id.clone(),
            sms_role: sms("SnsCallerArn").map(|role_arn| SmsRole {
                role_arn,
                external_id: sms("ExternalId"),
            }),
            sms_region: sms("SnsRegion").filter(|region| {
                (5..=32).contains(&region.len())
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }),
            from: setting("From").or(source_address),
            reply_to: setting("ReplyToEmailAddress"),
            // As the model's pattern allows, whatever path stored it.
            configuration_set: setting("ConfigurationSet").filter(|set| {
                set.len() <= 64
                    && set
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }),
            ..OutgoingMessage::default()
        }
    }
}

#[async_trait]
pub trait MessageSink: Send + Sync + 'static {
    /// Delivers a message; an error becomes CodeDeliveryFailureException.
    async fn deliver(&self, message: &OutgoingMessage) -> Result<(), String>;
}

/// Renders `{####}` and `{username}` in a template.
pub fn render(template: &str, code: &str, username: &str) -> String {
    template
        .replace("{####}", code)
        .replace("{username}", username)
}

/// Masks an email (`j***@e***`) or phone number (`+*******1234`) for CodeDeliveryDetails.
pub fn mask_destination(destination: &str) -> String {
    if let Some((local, domain)) = destination.split_once('@') {
        let l = local.chars().next().map(String::from).unwrap_or_default();
        let d = domain.chars().next().map(String::from).unwrap_or_default();
        format!("{l}***@{d}***")
    } else {
        let chars: Vec<char> = destination.chars().collect();
        let keep = chars.len().min(4);
        let mut out = String::new();
        for (i, c) in chars.iter().enumerate() {
            if i == 0 && *c == '+' {
                out.push('+');
            } else if i + keep >= chars.len() {
                out.push(*c);
            } else {
                out.push('*');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_cognito() {
        assert_eq!(mask_destination("joe@example.com"), "j***@e***");
        assert_eq!(mask_destination("+14325551212"), "+*******1212");
        assert_eq!(
            render("Code {####} for {username}", "123456", "joe"),
            "Code 123456 for joe"
        );
    }
}

//! Outgoing messages (confirmation, invitation, reset codes). The domain
//! renders them; a [`MessageSink`] delivers them (SMTP, or in development a
//! log line and an outbox file).

use async_trait::async_trait;

/// A rendered message ready for delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// The one-time code or temporary password the message carries.
    pub code: String,
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

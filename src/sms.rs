//! SMS delivery through Amazon SNS (`--sns-endpoint`), as Cognito sends
//! its text messages: an SNS `Publish` to the phone number, signed with
//! SigV4 by the server's AWS credentials (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`), with the
//! `AWS.SNS.SMS.SMSType` attribute `Transactional`. Any SNS-compatible
//! endpoint serves (AWS's `https://sns.<region>.amazonaws.com`, LocalStack,
//! moto). With `--sts-endpoint`, a pool's messages are published as the
//! IAM role of its SmsConfiguration (`crate::sts`); a pool's SnsRegion
//! picks the region (AWS's host of that region, or the same compatible
//! endpoint signed for it). A refused or failed
//! Publish is the operation's CodeDeliveryFailureException; the code is
//! never logged.
//!
//! [`SplitSink`] routes each message by medium: emails to the email sink
//! (SMTP or the development outbox), SMS to this one or to the outbox.

use std::sync::Arc;

use async_trait::async_trait;
use cognate_core::delivery::{MessageSink, OutgoingMessage};
use cognate_core::service::federation::percent_encode;

use crate::aws_call::{Credentials, Endpoint};
use crate::sts::RoleCredentials;

/// Sends SMS messages by SNS Publish.
pub struct SnsSms {
    endpoint: Endpoint,
    region: String,
    /// Assumes a pool's SMS role (`--sts-endpoint`); without it, messages
    /// are published with the server's own credentials.
    roles: Option<Arc<RoleCredentials>>,
}

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

impl SnsSms {
    /// `endpoint` is an `http(s)://` URL; the signing region is `region`,
    /// else the endpoint's (for AWS's), else `default_region`.
    pub fn new(
        endpoint: &str,
        region: Option<&str>,
        default_region: &str,
        credentials: Credentials,
    ) -> anyhow::Result<Self> {
        let endpoint = Endpoint::new("--sns-endpoint", endpoint, "sns", credentials)?;
        let region = region
            .map(str::to_owned)
            .or_else(|| endpoint.host_region.clone())
            .unwrap_or_else(|| default_region.to_owned());
        Ok(SnsSms {
            endpoint,
            region,
            roles: None,
        })
    }

    /// Publishes each pool's messages as the role its SmsConfiguration names.
    pub fn with_roles(mut self, roles: Arc<RoleCredentials>) -> Self {
        self.roles = Some(roles);
        self
    }

    /// The endpoint and signing region, for the start-up banner.
    pub fn describe(&self) -> String {
        format!("SNS {} ({})", self.endpoint.host, self.region)
    }
}

/// The form body of an SNS Publish of `message` to `phone_number`.
fn publish_body(phone_number: &str, message: &str) -> String {
    [
        ("Action", "Publish"),
        ("Version", "2010-03-31"),
        ("PhoneNumber", phone_number),
        ("Message", message),
        ("MessageAttributes.entry.1.Name", "AWS.SNS.SMS.SMSType"),
        ("MessageAttributes.entry.1.Value.DataType", "String"),
        (
            "MessageAttributes.entry.1.Value.StringValue",
            "Transactional",
        ),
    ]
    .iter()
    .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
    .collect::<Vec<_>>()
    .join("&")
}

#[async_trait]
impl MessageSink for SnsSms {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), String> {
        let body = publish_body(&m.destination, &m.body);
        // The pool's SnsRegion, else the server's.
        let (endpoint, region) = match m.sms_region.as_deref() {
            Some(region) if region != self.region => (
                std::borrow::Cow::Owned(self.endpoint.in_region(region)),
                region,
            ),
            _ => (
                std::borrow::Cow::Borrowed(&self.endpoint),
                self.region.as_str(),
            ),
        };
        let answer = match (&self.roles, &m.sms_role) {
            (Some(roles), Some(role)) => {
                let credentials = roles.credentials_for(role).await?;
                endpoint
                    .post_as(&credentials, region, FORM, &[], body)
                    .await
            }
            _ => endpoint.post(region, FORM, &[], body).await,
        };
        match answer {
            Ok(r) if r.status().is_success() => {
                tracing::info!(pool = %m.pool_id, kind = %m.kind, "SMS sent by SNS");
                Ok(())
            }
            Ok(r) => {
                let status = r.status().as_u16();
                // SNS's error code only: the body may echo the request.
                let code = crate::aws_call::query_error_code(&r.text().await.unwrap_or_default());
                tracing::warn!(pool = %m.pool_id, kind = %m.kind, status, code = %code, "SNS refused the SMS");
                Err("The SMS message could not be delivered.".to_owned())
            }
            Err(e) => {
                tracing::warn!(pool = %m.pool_id, kind = %m.kind, error = %e.without_url(), "SNS could not be reached");
                Err("The SMS message could not be delivered.".to_owned())
            }
        }
    }
}

/// Emails to one sink, SMS to another.
pub struct SplitSink {
    pub email: Arc<dyn MessageSink>,
    pub sms: Arc<dyn MessageSink>,
}

#[async_trait]
impl MessageSink for SplitSink {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), String> {
        if m.medium == "SMS" {
            self.sms.deliver(m).await
        } else {
            self.email.deliver(m).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_publish_body_is_form_encoded() {
        let body = publish_body("+15555550100", "Your code is 123456 & more");
        assert!(body.starts_with("Action=Publish&Version=2010-03-31&PhoneNumber=%2B15555550100&Message=Your%20code%20is%20123456%20%26%20more&"), "{body}");
        assert!(body.contains("MessageAttributes.entry.1.Value.StringValue=Transactional"));
    }

    #[test]
    fn requests_are_signed_for_sns_in_the_region() {
        let sns = SnsSms::new(
            "http://127.0.0.1:4566/",
            None,
            "us-east-1",
            Credentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: Some("token".into()),
            },
        )
        .unwrap();
        let headers =
            sns.endpoint
                .signed_headers(&sns.region, FORM, &[], "Action=Publish", 1_800_000_000);
        let auth = headers["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20270115/us-east-1/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="),
            "{auth}"
        );
        assert_eq!(headers["host"], "127.0.0.1:4566");
        assert_eq!(headers["x-amz-security-token"], "token");
    }

    #[test]
    fn another_region_is_aws_host_of_that_region_or_the_same_endpoint() {
        let credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        };
        let aws = SnsSms::new(
            "https://sns.us-east-1.amazonaws.com/",
            None,
            "us-east-1",
            credentials.clone(),
        )
        .unwrap();
        let west = aws.endpoint.in_region("eu-west-1");
        assert_eq!(west.url.as_str(), "https://sns.eu-west-1.amazonaws.com/");
        assert_eq!(west.host, "sns.eu-west-1.amazonaws.com");
        let headers = west.signed_headers("eu-west-1", FORM, &[], "Action=Publish", 1_800_000_000);
        assert_eq!(headers["host"], "sns.eu-west-1.amazonaws.com");
        let local = SnsSms::new("http://127.0.0.1:4566/", None, "us-east-1", credentials).unwrap();
        let same = local.endpoint.in_region("eu-west-1");
        assert_eq!(same.url.as_str(), "http://127.0.0.1:4566/");
        assert_eq!(same.host, "127.0.0.1:4566");
    }
}

//! SMS delivery through Amazon SNS (`--sns-endpoint`), as Cognito sends
//! its text messages: an SNS `Publish` to the phone number, signed with
//! SigV4 by the server's AWS credentials (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`), with the
//! `AWS.SNS.SMS.SMSType` attribute `Transactional`. Any SNS-compatible
//! endpoint serves (AWS's `https://sns.<region>.amazonaws.com`, LocalStack,
//! moto). A refused or failed Publish is the operation's
//! CodeDeliveryFailureException; the code is never logged.
//!
//! [`SplitSink`] routes each message by medium: emails to the email sink
//! (SMTP or the development outbox), SMS to this one or to the outbox.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use axum::http::{HeaderMap, HeaderValue};
use cognate_aws_json::sigv4;
use cognate_core::delivery::{MessageSink, OutgoingMessage};
use cognate_core::service::federation::percent_encode;

/// The server's AWS credentials for SNS.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// From the environment, as the AWS SDKs read it.
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
                access_key_id,
                secret_access_key,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            _ => anyhow::bail!(
                "--sns-endpoint needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)"
            ),
        }
    }
}

/// Sends SMS messages by SNS Publish.
pub struct SnsSms {
    client: reqwest::Client,
    url: reqwest::Url,
    host: String,
    region: String,
    credentials: Credentials,
}

/// The region of an AWS SNS endpoint (`sns.<region>.amazonaws.com`).
fn region_of(host: &str) -> Option<&str> {
    let rest = host.strip_prefix("sns.")?;
    let (region, domain) = rest.split_once('.')?;
    domain.starts_with("amazonaws.").then_some(region)
}

impl SnsSms {
    /// `endpoint` is an `http(s)://` URL; the signing region is `region`,
    /// else the endpoint's (for AWS's), else `default_region`.
    pub fn new(
        endpoint: &str,
        region: Option<&str>,
        default_region: &str,
        credentials: Credentials,
    ) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(endpoint)
            .with_context(|| format!("invalid --sns-endpoint `{endpoint}`"))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("invalid --sns-endpoint `{endpoint}`: expected an http(s):// URL");
        }
        let host_name = url
            .host_str()
            .with_context(|| format!("invalid --sns-endpoint `{endpoint}`: no host"))?;
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_owned(),
        };
        let region = region
            .or_else(|| region_of(host_name))
            .unwrap_or(default_region)
            .to_owned();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("cannot build the SNS HTTP client")?;
        Ok(SnsSms {
            client,
            url,
            host,
            region,
            credentials,
        })
    }

    /// The endpoint and signing region, for the start-up banner.
    pub fn describe(&self) -> String {
        format!("SNS {} ({})", self.host, self.region)
    }

    /// The signed headers of a Publish with `body`, at `now` (Unix seconds).
    fn signed_headers(&self, body: &str, now: i64) -> HeaderMap {
        let amz_date = sigv4::format_amz_date(now);
        let date = amz_date.get(..8).unwrap_or_default().to_owned();
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        };
        put(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        );
        put("host", &self.host);
        put("x-amz-date", &amz_date);
        let mut signed = vec![
            "content-type".to_owned(),
            "host".to_owned(),
            "x-amz-date".to_owned(),
        ];
        if let Some(token) = &self.credentials.session_token {
            put("x-amz-security-token", token);
            signed.push("x-amz-security-token".to_owned());
        }
        let payload_hash = cognate_crypto::digest::sha256_hex(body.as_bytes());
        let canonical = sigv4::canonical_request(
            "POST",
            self.url.path(),
            self.url.query().unwrap_or_default(),
            &headers,
            &signed,
            &payload_hash,
        );
        let scope = format!("{date}/{}/sns/aws4_request", self.region);
        let to_sign = sigv4::string_to_sign(&amz_date, &scope, &canonical);
        let signature = sigv4::signature(
            &self.credentials.secret_access_key,
            &date,
            &self.region,
            "sns",
            &to_sign,
        );
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            self.credentials.access_key_id,
            signed.join(";")
        );
        if let Ok(v) = HeaderValue::from_str(&authorization) {
            headers.insert("authorization", v);
        }
        headers
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
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let headers = self.signed_headers(&body, now);
        let answer = self
            .client
            .post(self.url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => {
                tracing::info!(pool = %m.pool_id, kind = %m.kind, "SMS sent by SNS");
                Ok(())
            }
            Ok(r) => {
                let status = r.status().as_u16();
                // SNS's error code only: the body may echo the request.
                let text = r.text().await.unwrap_or_default();
                let code = text
                    .split_once("<Code>")
                    .and_then(|(_, rest)| rest.split_once("</Code>"))
                    .map(|(code, _)| code.chars().take(64).collect::<String>())
                    .unwrap_or_default();
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
    fn the_region_comes_from_aws_endpoints() {
        assert_eq!(region_of("sns.eu-west-1.amazonaws.com"), Some("eu-west-1"));
        assert_eq!(
            region_of("sns.cn-north-1.amazonaws.com.cn"),
            Some("cn-north-1")
        );
        assert_eq!(region_of("127.0.0.1"), None);
        assert_eq!(region_of("sns.example.com"), None);
    }

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
        let headers = sns.signed_headers("Action=Publish", 1_800_000_000);
        let auth = headers["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20270115/us-east-1/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="),
            "{auth}"
        );
        assert_eq!(headers["host"], "127.0.0.1:4566");
        assert_eq!(headers["x-amz-security-token"], "token");
        assert!(format!("{:?}", sns.credentials).contains("AKIDEXAMPLE"));
        assert!(!format!("{:?}", sns.credentials).contains("secret"));
    }
}

//! Invoking the pools' Lambda triggers over HTTP. A function mapped to a
//! URL in the config file (`lambda: {functions: {"<arn>": "http://..."}}`)
//! is called by POSTing the event JSON there; any other goes to the
//! Lambda Invoke API of `--lambda-endpoint`
//! (`POST {endpoint}/2015-03-31/functions/{function}/invocations`, the
//! function percent-encoded as the AWS SDKs encode it). A function error
//! is an `X-Amz-Function-Error` header with an `errorMessage` body (or, from
//! a plain URL, an error status with one).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use cognate_core::triggers::{InvokeError, LambdaInvoker};
use serde::Deserialize;
use serde_json::Value;

/// The config file's `lambda:` section.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaConfig {
    /// Function ARN (or name) to a plain HTTP(S) URL that takes the event.
    #[serde(default)]
    pub functions: BTreeMap<String, String>,
    /// The Lambda Invoke API endpoint, unless `--lambda-endpoint` says otherwise.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// Answers larger than this are refused (Lambda's own limit is 6 MB).
const MAX_ANSWER: usize = 6 * 1024 * 1024;

pub struct HttpLambda {
    client: reqwest::Client,
    endpoint: Option<String>,
    functions: BTreeMap<String, String>,
    timeout: Duration,
}

impl HttpLambda {
    pub fn new(
        endpoint: Option<String>,
        functions: BTreeMap<String, String>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        for (function, url) in &functions {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                anyhow::bail!(
                    "lambda.functions: the URL of {function} must start with http:// or https://"
                );
            }
        }
        if let Some(e) = &endpoint {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                anyhow::bail!("--lambda-endpoint must start with http:// or https://");
            }
        }
        Ok(HttpLambda {
            client: reqwest::Client::builder()
                .connect_timeout(timeout)
                .build()?,
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
            functions,
            timeout,
        })
    }

    /// Where a function is invoked, and whether it is a plain URL.
    fn target(&self, function: &str) -> Option<(String, bool)> {
        if let Some(url) = self.functions.get(function) {
            return Some((url.clone(), true));
        }
        let endpoint = self.endpoint.as_ref()?;
        Some((
            format!(
                "{endpoint}/2015-03-31/functions/{}/invocations",
                encode_label(function)
            ),
            false,
        ))
    }
}

/// Percent-encodes a path label as the AWS SDKs do (all but unreserved characters).
fn encode_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `errorMessage` of a function error's body (the body itself if it has none).
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(1000).collect())
}

#[async_trait]
impl LambdaInvoker for HttpLambda {
    async fn invoke(&self, function: &str, event: &Value) -> Result<Value, InvokeError> {
        let Some((url, plain)) = self.target(function) else {
            return Err(InvokeError::Unavailable(format!(
                "no Lambda endpoint is configured for {function} (--lambda-endpoint or config `lambda.functions`)"
            )));
        };
        let call = async {
            let response = self
                .client
                .post(&url)
                .header("content-type", "application/json")
                .header("x-amz-invocation-type", "RequestResponse")
                .body(event.to_string())
                .send()
                .await
                .map_err(|e| InvokeError::Unavailable(format!("{function}: {e}")))?;
            let status = response.status();
            let function_error = response.headers().contains_key("x-amz-function-error");
            if response
                .content_length()
                .is_some_and(|n| n as usize > MAX_ANSWER)
            {
                return Err(InvokeError::Malformed("answer too large".into()));
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| InvokeError::Unavailable(format!("{function}: {e}")))?;
            if body.len() > MAX_ANSWER {
                return Err(InvokeError::Malformed("answer too large".into()));
            }
            let plain_error = plain
                && (status.is_client_error() || status.is_server_error())
                && serde_json::from_slice::<Value>(&body)
                    .ok()
                    .is_some_and(|v| v.get("errorMessage").is_some());
            if function_error || plain_error {
                return Err(InvokeError::Function(error_message(&body)));
            }
            if !status.is_success() {
                return Err(InvokeError::Unavailable(format!(
                    "{function}: HTTP {status} from {}",
                    if plain {
                        "its URL"
                    } else {
                        "the Lambda endpoint"
                    }
                )));
            }
            serde_json::from_slice::<Value>(&body)
                .map_err(|e| InvokeError::Malformed(format!("{function}: {e}")))
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(InvokeError::Timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_encoded_like_the_sdk() {
        assert_eq!(
            encode_label("arn:aws:lambda:us-east-1:123456789012:function:pre-sign_up.v1"),
            "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Apre-sign_up.v1"
        );
    }

    #[test]
    fn messages_come_from_error_bodies() {
        assert_eq!(
            error_message(br#"{"errorMessage":"no","errorType":"Error"}"#),
            "no"
        );
        assert_eq!(error_message(b"plain"), "plain");
    }
}

//! Calls from cognate to AWS services (SNS for SMS, STS for the role SMS
//! is sent as, KMS for custom senders' codes): an endpoint URL, the server's AWS credentials from the
//! environment, and requests signed with SigV4 as the services check them.

use std::time::Duration;

use anyhow::Context;
use axum::http::{HeaderMap, HeaderValue};
use cognate_aws_json::sigv4;

/// The server's AWS credentials.
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
    /// From the environment, as the AWS SDKs read it; `flag` names the
    /// option that needs them, for the error.
    pub fn from_env(flag: &str) -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
                access_key_id,
                secret_access_key,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            _ => anyhow::bail!(
                "{flag} needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)"
            ),
        }
    }
}

/// The region of an AWS endpoint host (`<service>.<region>.amazonaws.com`).
pub fn region_of<'a>(service: &str, host: &'a str) -> Option<&'a str> {
    let rest = host.strip_prefix(service)?.strip_prefix('.')?;
    let (region, domain) = rest.split_once('.')?;
    domain.starts_with("amazonaws.").then_some(region)
}

/// One AWS service endpoint and the credentials its requests are signed with.
#[derive(Clone)]
pub struct Endpoint {
    pub client: reqwest::Client,
    pub url: reqwest::Url,
    /// `host[:port]`, as signed.
    pub host: String,
    /// The endpoint's own region (AWS's hosts name one), else None.
    pub host_region: Option<String>,
    service: &'static str,
    credentials: Credentials,
}

impl Endpoint {
    /// `endpoint` is an `http(s)://` URL given by `flag`.
    pub fn new(
        flag: &str,
        endpoint: &str,
        service: &'static str,
        credentials: Credentials,
    ) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(endpoint)
            .with_context(|| format!("invalid {flag} `{endpoint}`"))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("invalid {flag} `{endpoint}`: expected an http(s):// URL");
        }
        let host_name = url
            .host_str()
            .with_context(|| format!("invalid {flag} `{endpoint}`: no host"))?;
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_owned(),
        };
        let host_region = region_of(service, host_name).map(str::to_owned);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .with_context(|| format!("cannot build the HTTP client of {flag}"))?;
        Ok(Endpoint {
            client,
            url,
            host,
            host_region,
            service,
            credentials,
        })
    }

    /// The same service in `region`: AWS's own host for that region where
    /// this is an AWS host (`<service>.<region>.amazonaws.com`), else this
    /// endpoint (an AWS-compatible server reads the region from the
    /// signature).
    pub fn in_region(&self, region: &str) -> Endpoint {
        let mut other = self.clone();
        if let Some(own) = &self.host_region {
            let host = self.url.host_str().unwrap_or_default().replacen(
                &format!(".{own}."),
                &format!(".{region}."),
                1,
            );
            if other.url.set_host(Some(&host)).is_ok() {
                other.host = match other.url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                };
                other.host_region = Some(region.to_owned());
            }
        }
        other
    }

    /// The headers of a POST of `body` (with `content_type` and the
    /// `extra` headers, all signed) for `region`, at `now` (Unix seconds),
    /// signed with the endpoint's credentials (the tests' view).
    #[cfg(test)]
    pub fn signed_headers(
        &self,
        region: &str,
        content_type: &str,
        extra: &[(&'static str, &str)],
        body: &str,
        now: i64,
    ) -> HeaderMap {
        self.signed_headers_as(&self.credentials, region, content_type, extra, body, now)
    }

    /// [`signed_headers`](Self::signed_headers) with other credentials.
    fn signed_headers_as(
        &self,
        credentials: &Credentials,
        region: &str,
        content_type: &str,
        extra: &[(&'static str, &str)],
        body: &str,
        now: i64,
    ) -> HeaderMap {
        let amz_date = sigv4::format_amz_date(now);
        let date = amz_date.get(..8).unwrap_or_default().to_owned();
        let mut headers = HeaderMap::new();
        let mut signed = Vec::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
                signed.push(name.to_owned());
            }
        };
        put("content-type", content_type);
        put("host", &self.host);
        put("x-amz-date", &amz_date);
        for (name, value) in extra {
            put(name, value);
        }
        if let Some(token) = &credentials.session_token {
            put("x-amz-security-token", token);
        }
        signed.sort();
        let payload_hash = cognate_crypto::digest::sha256_hex(body.as_bytes());
        let canonical = sigv4::canonical_request(
            "POST",
            self.url.path(),
            self.url.query().unwrap_or_default(),
            &headers,
            &signed,
            &payload_hash,
        );
        let scope = format!("{date}/{region}/{}/aws4_request", self.service);
        let to_sign = sigv4::string_to_sign(&amz_date, &scope, &canonical);
        let signature = sigv4::signature(
            &credentials.secret_access_key,
            &date,
            region,
            self.service,
            &to_sign,
        );
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            credentials.access_key_id,
            signed.join(";")
        );
        if let Ok(v) = HeaderValue::from_str(&authorization) {
            headers.insert("authorization", v);
        }
        headers
    }

    /// POSTs `body`, signed for `region` now.
    pub async fn post(
        &self,
        region: &str,
        content_type: &str,
        extra: &[(&'static str, &str)],
        body: String,
    ) -> reqwest::Result<reqwest::Response> {
        self.post_as(&self.credentials, region, content_type, extra, body)
            .await
    }

    /// [`post`](Self::post), signed with `credentials` (an assumed role's).
    pub async fn post_as(
        &self,
        credentials: &Credentials,
        region: &str,
        content_type: &str,
        extra: &[(&'static str, &str)],
        body: String,
    ) -> reqwest::Result<reqwest::Response> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let headers = self.signed_headers_as(credentials, region, content_type, extra, &body, now);
        self.client
            .post(self.url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await
    }
}

/// The error code of an AWS Query-protocol error answer (never its message,
/// which may echo the request).
pub fn query_error_code(xml: &str) -> String {
    xml.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.chars().take(64).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_aws_endpoints() {
        assert_eq!(
            region_of("sns", "sns.eu-west-1.amazonaws.com"),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of("kms", "kms.cn-north-1.amazonaws.com.cn"),
            Some("cn-north-1")
        );
        assert_eq!(region_of("sns", "127.0.0.1"), None);
        assert_eq!(region_of("sns", "sns.example.com"), None);
        assert_eq!(region_of("kms", "sns.eu-west-1.amazonaws.com"), None);
    }

    #[test]
    fn the_secret_is_never_shown() {
        let c = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
        };
        assert!(format!("{c:?}").contains("AKIDEXAMPLE"));
        assert!(!format!("{c:?}").contains("secret"));
        assert!(!format!("{c:?}").contains("token"));
    }
}

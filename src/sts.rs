//! The IAM role a pool's SMS messages are sent as (`SmsConfiguration`'s
//! `SnsCallerArn` and `ExternalId`): with `--sts-endpoint`, cognate calls
//! STS `AssumeRole` for that role, signed with the server's credentials, as
//! Cognito assumes it to publish through SNS, and signs the SNS Publish with
//! the role's temporary credentials. Credentials are kept per role and
//! external id until ten minutes before they expire; a refused AssumeRole
//! is the message's CodeDeliveryFailureException. No credential is logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cognate_core::delivery::SmsRole;
use cognate_core::service::federation::percent_encode;

use crate::aws_call::{query_error_code, region_of, Credentials, Endpoint};

/// How long the assumed credentials are asked for (every role allows one hour).
const SESSION_SECS: u64 = 3600;
/// They are used until this long before they expire.
const MARGIN: Duration = Duration::from_secs(600);
/// The session name the role's sessions carry (CloudTrail shows it).
const SESSION_NAME: &str = "cognate-sms";

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Assumes SMS roles through an STS endpoint.
pub struct RoleCredentials {
    endpoint: Endpoint,
    region: String,
    cache: tokio::sync::Mutex<HashMap<SmsRole, (Credentials, Instant)>>,
}

impl RoleCredentials {
    /// `endpoint` is an `http(s)://` URL (AWS's `https://sts.<region>.amazonaws.com`,
    /// or an STS-compatible one); requests are signed for its region, the
    /// global endpoint's `us-east-1`, else `default_region`.
    pub fn new(
        endpoint: &str,
        default_region: &str,
        credentials: Credentials,
    ) -> anyhow::Result<Self> {
        let endpoint = Endpoint::new("--sts-endpoint", endpoint, "sts", credentials)?;
        let host_name = endpoint.url.host_str().unwrap_or_default();
        let region = match region_of("sts", host_name) {
            Some(region) => region.to_owned(),
            None if host_name == "sts.amazonaws.com" => "us-east-1".to_owned(),
            None => default_region.to_owned(),
        };
        Ok(RoleCredentials {
            endpoint,
            region,
            cache: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The endpoint and signing region, for the start-up banner.
    pub fn describe(&self) -> String {
        format!("STS {} ({})", self.endpoint.host, self.region)
    }

    /// Temporary credentials of `role`: kept ones while they last, else a
    /// new AssumeRole.
    pub async fn credentials_for(&self, role: &SmsRole) -> Result<Credentials, String> {
        let mut cache = self.cache.lock().await;
        if let Some((credentials, until)) = cache.get(role) {
            if Instant::now() < *until {
                return Ok(credentials.clone());
            }
        }
        let asked = Instant::now();
        let credentials = self.assume(role).await?;
        let until = asked + Duration::from_secs(SESSION_SECS) - MARGIN;
        cache.insert(role.clone(), (credentials.clone(), until));
        Ok(credentials)
    }

    async fn assume(&self, role: &SmsRole) -> Result<Credentials, String> {
        let refused = || "The SMS message could not be delivered.".to_owned();
        let body = assume_role_body(role);
        let answer = self.endpoint.post(&self.region, FORM, &[], body).await;
        let text = match answer {
            Ok(r) if r.status().is_success() => r.text().await.map_err(|e| {
                tracing::warn!(error = %e.without_url(), "reading STS's AssumeRole answer failed");
                refused()
            })?,
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                tracing::warn!(role = %role.role_arn, status, code = %query_error_code(&text), "STS refused to assume the pool's SMS role");
                return Err(refused());
            }
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "STS could not be reached");
                return Err(refused());
            }
        };
        credentials_of(&text).ok_or_else(|| {
            tracing::warn!(role = %role.role_arn, "STS's AssumeRole answer holds no credentials");
            refused()
        })
    }
}

/// The form body of an STS AssumeRole of `role`.
fn assume_role_body(role: &SmsRole) -> String {
    let duration = SESSION_SECS.to_string();
    let mut fields = vec![
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role.role_arn.as_str()),
        ("RoleSessionName", SESSION_NAME),
        ("DurationSeconds", duration.as_str()),
    ];
    if let Some(id) = &role.external_id {
        fields.push(("ExternalId", id.as_str()));
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The credentials of an AssumeRole answer (`AssumeRoleResult/Credentials`).
fn credentials_of(xml: &str) -> Option<Credentials> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let node = doc.descendants().find(|n| {
        n.has_tag_name("Credentials")
            && n.parent()
                .is_some_and(|p| p.has_tag_name("AssumeRoleResult"))
    })?;
    let field = |name: &str| {
        node.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    Some(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assume_role_body_names_the_role_and_its_external_id() {
        let body = assume_role_body(&SmsRole {
            role_arn: "arn:aws:iam::123456789012:role/sms".into(),
            external_id: Some("id with space&more".into()),
        });
        assert_eq!(
            body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fsms&RoleSessionName=cognate-sms&DurationSeconds=3600&ExternalId=id%20with%20space%26more"
        );
        let without = assume_role_body(&SmsRole {
            role_arn: "arn:aws:iam::123456789012:role/sms".into(),
            external_id: None,
        });
        assert!(!without.contains("ExternalId"), "{without}");
    }

    #[test]
    fn the_credentials_are_read_from_the_result() {
        let xml = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleResult>
            <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/sms/cognate-sms</Arn></AssumedRoleUser>
            <Credentials>
              <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
              <SecretAccessKey>se/cr+et</SecretAccessKey>
              <SessionToken>to&amp;ken==</SessionToken>
              <Expiration>2026-12-07T13:00:00Z</Expiration>
            </Credentials>
          </AssumeRoleResult>
        </AssumeRoleResponse>"#;
        let c = credentials_of(xml).unwrap();
        assert_eq!(c.access_key_id, "ASIAEXAMPLE");
        assert_eq!(c.secret_access_key, "se/cr+et");
        assert_eq!(c.session_token.as_deref(), Some("to&ken=="));
        assert!(credentials_of("<AssumeRoleResponse/>").is_none());
        assert!(credentials_of("not xml").is_none());
        let no_token = xml.replace("<SessionToken>to&amp;ken==</SessionToken>", "");
        assert!(credentials_of(&no_token).is_none());
    }

    #[test]
    fn the_signing_region_is_the_endpoints() {
        let creds = || Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "s".into(),
            session_token: None,
        };
        let region = |url: &str| {
            RoleCredentials::new(url, "eu-west-3", creds())
                .unwrap()
                .region
        };
        assert_eq!(region("https://sts.ap-south-1.amazonaws.com"), "ap-south-1");
        assert_eq!(region("https://sts.amazonaws.com"), "us-east-1");
        assert_eq!(region("http://127.0.0.1:4566"), "eu-west-3");
    }
}

//! Custom senders' codes encrypted through AWS KMS (`--kms-endpoint`), as
//! Cognito encrypts them: a KMS `GenerateDataKey` (AES_256) under the
//! pool's `KMSKeyID`, with the message's encryption context, then an AWS
//! Encryption SDK message (`cognate_crypto::esdk`) carrying the `aws-kms`
//! encrypted data key. Requests are signed with SigV4 by the server's AWS
//! credentials, for the region of the key's ARN (else the endpoint's, else
//! `--region`). Any KMS-compatible endpoint serves (AWS's
//! `https://kms.<region>.amazonaws.com`, LocalStack, local-kms, moto).
//! Neither the code nor the data key is ever logged.

use std::collections::BTreeMap;

use async_trait::async_trait;
use base64::Engine;
use cognate_core::triggers::CodeEncryptor;
use cognate_crypto::esdk::{EncryptedDataKey, Sealer};
use serde::Deserialize;
use serde_json::json;

use crate::aws_call::{Credentials, Endpoint};

const JSON_1_1: &str = "application/x-amz-json-1.1";

/// Encrypts codes with data keys from a KMS endpoint.
pub struct Kms {
    endpoint: Endpoint,
    default_region: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DataKey {
    ciphertext_blob: String,
    plaintext: String,
    key_id: String,
}

/// The region of a key ARN (`arn:aws:kms:<region>:<account>:key/...`).
fn arn_region(key_id: &str) -> Option<&str> {
    let mut parts = key_id.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    let _partition = parts.next()?;
    (parts.next() == Some("kms")).then_some(())?;
    parts.next().filter(|r| !r.is_empty())
}

impl Kms {
    pub fn new(
        endpoint: &str,
        default_region: &str,
        credentials: Credentials,
    ) -> anyhow::Result<Self> {
        Ok(Kms {
            endpoint: Endpoint::new("--kms-endpoint", endpoint, "kms", credentials)?,
            default_region: default_region.to_owned(),
        })
    }

    /// The endpoint, for the start-up banner.
    pub fn describe(&self) -> String {
        format!("KMS {}", self.endpoint.host)
    }

    /// GenerateDataKey under `key_id` and `context`.
    async fn data_key(
        &self,
        key_id: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<(Vec<u8>, EncryptedDataKey), String> {
        let region = arn_region(key_id)
            .or(self.endpoint.host_region.as_deref())
            .unwrap_or(&self.default_region);
        let body = json!({
            "KeyId": key_id,
            "KeySpec": "AES_256",
            "EncryptionContext": context,
        })
        .to_string();
        let answer = self
            .endpoint
            .post(
                region,
                JSON_1_1,
                &[("x-amz-target", "TrentService.GenerateDataKey")],
                body,
            )
            .await
            .map_err(|e| format!("KMS could not be reached: {}", e.without_url()))?;
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        if !status.is_success() {
            // KMS's error type only: the message may name the key's policy.
            let kind = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("__type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_default();
            return Err(format!(
                "KMS refused GenerateDataKey: {} {kind}",
                status.as_u16()
            ));
        }
        let key: DataKey = serde_json::from_str(&text)
            .map_err(|_| "KMS answered GenerateDataKey without a data key".to_owned())?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let plaintext = b64
            .decode(&key.plaintext)
            .map_err(|_| "KMS's Plaintext is not base64".to_owned())?;
        let ciphertext = b64
            .decode(&key.ciphertext_blob)
            .map_err(|_| "KMS's CiphertextBlob is not base64".to_owned())?;
        Ok((
            plaintext,
            EncryptedDataKey {
                provider_id: "aws-kms".into(),
                provider_info: key.key_id,
                ciphertext,
            },
        ))
    }
}

#[async_trait]
impl CodeEncryptor for Kms {
    async fn encrypt(&self, key_id: &str, pool_id: &str, code: &str) -> Result<String, String> {
        let sealer = Sealer::new(BTreeMap::from([(
            "userpool-id".to_owned(),
            pool_id.to_owned(),
        )]))
        .map_err(|e| e.to_string())?;
        let (data_key, encrypted) = self.data_key(key_id, sealer.encryption_context()).await?;
        let message = sealer
            .seal(&data_key, &encrypted, code.as_bytes())
            .map_err(|e| e.to_string())?;
        Ok(base64::engine::general_purpose::STANDARD.encode(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_region_is_the_keys() {
        assert_eq!(
            arn_region("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab"),
            Some("eu-west-1")
        );
        assert_eq!(
            arn_region("arn:aws-cn:kms:cn-north-1:123456789012:alias/x"),
            Some("cn-north-1")
        );
        assert_eq!(arn_region("1234abcd-12ab-34cd-56ef-1234567890ab"), None);
        assert_eq!(arn_region("alias/cognito"), None);
        assert_eq!(arn_region("arn:aws:sns:eu-west-1:1:x"), None);
    }
}

//! CreateIdentityProvider, DescribeIdentityProvider, UpdateIdentityProvider,
//! DeleteIdentityProvider, ListIdentityProviders,
//! GetIdentityProviderByIdentifier; TagResource, UntagResource,
//! ListTagsForResource; GetSigningCertificate; GetLogDeliveryConfiguration,
//! SetLogDeliveryConfiguration; DescribeRiskConfiguration,
//! SetRiskConfiguration. The model's constraints are checked before these
//! run (`model::validate`), so the shapes here only parse.

use std::collections::BTreeMap;

use cognate_core::model::{IdentityProvider, LogConfiguration, RiskConfiguration};
use cognate_core::service::{ProviderInput, RiskInput};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::shapes::{parse, timestamp};

/// Details Cognito never shows once set.
const HIDDEN_DETAILS: &[&str] = &[
    "private_key",
    cognate_core::service::saml_metadata::ENCRYPTION_KEY,
    cognate_core::service::saml_metadata::ENTITY_ID,
    cognate_core::service::saml_metadata::SIGNING_CERTIFICATES,
];

/// An IdentityProviderType.
fn provider_out(pool_id: &str, p: &IdentityProvider) -> Value {
    let details: BTreeMap<&String, &String> = p
        .details
        .iter()
        .filter(|(k, _)| !HIDDEN_DETAILS.contains(&k.as_str()))
        .collect();
    let mut m = Map::new();
    m.insert("UserPoolId".into(), json!(pool_id));
    m.insert("ProviderName".into(), json!(p.name));
    m.insert("ProviderType".into(), json!(p.provider_type));
    m.insert("ProviderDetails".into(), json!(details));
    m.insert("AttributeMapping".into(), json!(p.attribute_mapping));
    m.insert("IdpIdentifiers".into(), json!(p.idp_identifiers));
    if let Some(acr) = &p.acr_mapping {
        m.insert("AcrMapping".into(), json!(acr));
    }
    m.insert("LastModifiedDate".into(), timestamp(p.modified));
    m.insert("CreationDate".into(), timestamp(p.created));
    Value::Object(m)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateProviderRequest {
    user_pool_id: String,
    provider_name: String,
    provider_type: String,
    provider_details: BTreeMap<String, String>,
    attribute_mapping: Option<BTreeMap<String, String>>,
    idp_identifiers: Option<Vec<String>>,
    acr_mapping: Option<BTreeMap<String, String>>,
}

pub async fn create_identity_provider(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: CreateProviderRequest = parse(body)?;
    let p = svc
        .create_identity_provider(
            &req.user_pool_id,
            &req.provider_name,
            &req.provider_type,
            ProviderInput {
                details: Some(req.provider_details),
                attribute_mapping: req.attribute_mapping,
                idp_identifiers: req.idp_identifiers,
                acr_mapping: req.acr_mapping,
            },
        )
        .await?;
    Ok(json!({"IdentityProvider": provider_out(&req.user_pool_id, &p)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderNameRequest {
    user_pool_id: String,
    provider_name: String,
}

pub async fn describe_identity_provider(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ProviderNameRequest = parse(body)?;
    let p = svc
        .describe_identity_provider(&req.user_pool_id, &req.provider_name)
        .await?;
    Ok(json!({"IdentityProvider": provider_out(&req.user_pool_id, &p)}))
}

pub async fn delete_identity_provider(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ProviderNameRequest = parse(body)?;
    svc.delete_identity_provider(&req.user_pool_id, &req.provider_name)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateProviderRequest {
    user_pool_id: String,
    provider_name: String,
    provider_details: Option<BTreeMap<String, String>>,
    attribute_mapping: Option<BTreeMap<String, String>>,
    idp_identifiers: Option<Vec<String>>,
    acr_mapping: Option<BTreeMap<String, String>>,
}

pub async fn update_identity_provider(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: UpdateProviderRequest = parse(body)?;
    let p = svc
        .update_identity_provider(
            &req.user_pool_id,
            &req.provider_name,
            ProviderInput {
                details: req.provider_details,
                attribute_mapping: req.attribute_mapping,
                idp_identifiers: req.idp_identifiers,
                acr_mapping: req.acr_mapping,
            },
        )
        .await?;
    Ok(json!({"IdentityProvider": provider_out(&req.user_pool_id, &p)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListProvidersRequest {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub async fn list_identity_providers(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListProvidersRequest = parse(body)?;
    // ListProvidersLimitType is 0..60; 0 (like no value) means a full page.
    let limit = match req.max_results {
        Some(n) if n > 0 => n.min(60) as usize,
        _ => 60,
    };
    let page = svc
        .list_identity_providers(&req.user_pool_id, limit, req.next_token.as_deref())
        .await?;
    let providers: Vec<Value> = page
        .items
        .iter()
        .map(|p| {
            json!({
                "ProviderName": p.name,
                "ProviderType": p.provider_type,
                "LastModifiedDate": timestamp(p.modified),
                "CreationDate": timestamp(p.created),
            })
        })
        .collect();
    let mut out = json!({"Providers": providers});
    if let (Some(next), Some(obj)) = (page.next, out.as_object_mut()) {
        obj.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ByIdentifierRequest {
    user_pool_id: String,
    idp_identifier: String,
}

pub async fn get_identity_provider_by_identifier(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: ByIdentifierRequest = parse(body)?;
    let p = svc
        .get_identity_provider_by_identifier(&req.user_pool_id, &req.idp_identifier)
        .await?;
    Ok(json!({"IdentityProvider": provider_out(&req.user_pool_id, &p)}))
}

// ---------------------------------------------------------------- tags

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagRequest {
    resource_arn: String,
    tags: BTreeMap<String, String>,
}

pub async fn tag_resource(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TagRequest = parse(body)?;
    svc.tag_resource(&req.resource_arn, req.tags).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagRequest {
    resource_arn: String,
    tag_keys: Vec<String>,
}

pub async fn untag_resource(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: UntagRequest = parse(body)?;
    svc.untag_resource(&req.resource_arn, &req.tag_keys).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnRequest {
    resource_arn: String,
}

pub async fn list_tags_for_resource(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ArnRequest = parse(body)?;
    let tags = svc.list_tags_for_resource(&req.resource_arn).await?;
    Ok(json!({"Tags": tags}))
}

// ---------------------------------------------------------------- signing certificate

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolIdRequest {
    user_pool_id: String,
}

pub async fn get_signing_certificate(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolIdRequest = parse(body)?;
    let der = svc.signing_certificate(&req.user_pool_id).await?;
    Ok(json!({"Certificate": cognate_crypto::cert::pem_body(&der)}))
}

// ---------------------------------------------------------------- log delivery

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnMember {
    log_group_arn: Option<String>,
    bucket_arn: Option<String>,
    stream_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LogConfigurationIn {
    log_level: String,
    event_source: String,
    cloud_watch_logs_configuration: Option<ArnMember>,
    s3_configuration: Option<ArnMember>,
    firehose_configuration: Option<ArnMember>,
}

fn log_configuration_out(c: &LogConfiguration) -> Value {
    let mut m = Map::new();
    m.insert("LogLevel".into(), json!(c.log_level));
    m.insert("EventSource".into(), json!(c.event_source));
    if let Some(arn) = &c.cloudwatch_log_group_arn {
        m.insert(
            "CloudWatchLogsConfiguration".into(),
            json!({"LogGroupArn": arn}),
        );
    }
    if let Some(arn) = &c.s3_bucket_arn {
        m.insert("S3Configuration".into(), json!({"BucketArn": arn}));
    }
    if let Some(arn) = &c.firehose_stream_arn {
        m.insert("FirehoseConfiguration".into(), json!({"StreamArn": arn}));
    }
    Value::Object(m)
}

/// A pool's log delivery; with no destination AWS leaves LogConfigurations
/// out (the Terraform provider takes its absence for a deleted setting).
fn log_delivery_out(pool_id: &str, list: &[LogConfiguration]) -> Value {
    let mut out = json!({"UserPoolId": pool_id});
    if !list.is_empty() {
        out["LogConfigurations"] = list.iter().map(log_configuration_out).collect();
    }
    json!({"LogDeliveryConfiguration": out})
}

pub async fn get_log_delivery_configuration(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: PoolIdRequest = parse(body)?;
    let list = svc
        .get_log_delivery_configuration(&req.user_pool_id)
        .await?;
    Ok(log_delivery_out(&req.user_pool_id, &list))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetLogDeliveryRequest {
    user_pool_id: String,
    log_configurations: Vec<LogConfigurationIn>,
}

pub async fn set_log_delivery_configuration(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: SetLogDeliveryRequest = parse(body)?;
    let mut list = Vec::new();
    for c in req.log_configurations {
        let arn = |m: Option<ArnMember>, pick: fn(ArnMember) -> Option<String>, what: &str| match m
        {
            None => Ok(None),
            Some(m) => pick(m)
                .map(Some)
                .ok_or_else(|| ApiError::invalid_parameter(format!("{what} is required."))),
        };
        list.push(LogConfiguration {
            log_level: c.log_level,
            event_source: c.event_source,
            cloudwatch_log_group_arn: arn(
                c.cloud_watch_logs_configuration,
                |m| m.log_group_arn,
                "CloudWatchLogsConfiguration.LogGroupArn",
            )?,
            s3_bucket_arn: arn(
                c.s3_configuration,
                |m| m.bucket_arn,
                "S3Configuration.BucketArn",
            )?,
            firehose_stream_arn: arn(
                c.firehose_configuration,
                |m| m.stream_arn,
                "FirehoseConfiguration.StreamArn",
            )?,
        });
    }
    let list = svc
        .set_log_delivery_configuration(&req.user_pool_id, list)
        .await?;
    Ok(log_delivery_out(&req.user_pool_id, &list))
}

// ---------------------------------------------------------------- risk configuration

fn risk_out(pool_id: &str, r: &RiskConfiguration) -> Value {
    let mut m = Map::new();
    m.insert("UserPoolId".into(), json!(pool_id));
    if let Some(c) = &r.client_id {
        m.insert("ClientId".into(), json!(c));
    }
    if let Some(v) = &r.compromised_credentials {
        m.insert("CompromisedCredentialsRiskConfiguration".into(), v.clone());
    }
    if let Some(v) = &r.account_takeover {
        m.insert("AccountTakeoverRiskConfiguration".into(), v.clone());
    }
    if let Some(v) = &r.risk_exception {
        m.insert("RiskExceptionConfiguration".into(), v.clone());
    }
    // No LastModifiedDate: AWS's answers (its documented examples) carry none.
    json!({"RiskConfiguration": Value::Object(m)})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeRiskRequest {
    user_pool_id: String,
    client_id: Option<String>,
}

pub async fn describe_risk_configuration(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DescribeRiskRequest = parse(body)?;
    let r = svc
        .describe_risk_configuration(&req.user_pool_id, req.client_id.as_deref())
        .await?;
    Ok(risk_out(&req.user_pool_id, &r))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetRiskRequest {
    user_pool_id: String,
    client_id: Option<String>,
    compromised_credentials_risk_configuration: Option<Value>,
    account_takeover_risk_configuration: Option<Value>,
    risk_exception_configuration: Option<Value>,
}

pub async fn set_risk_configuration(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: SetRiskRequest = parse(body)?;
    let r = svc
        .set_risk_configuration(
            &req.user_pool_id,
            RiskInput {
                client_id: req.client_id,
                compromised_credentials: req
                    .compromised_credentials_risk_configuration
                    .filter(|v| !v.is_null()),
                account_takeover: req
                    .account_takeover_risk_configuration
                    .filter(|v| !v.is_null()),
                risk_exception: req.risk_exception_configuration.filter(|v| !v.is_null()),
            },
        )
        .await?;
    Ok(risk_out(&req.user_pool_id, &r))
}

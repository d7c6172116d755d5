//! CreateUserPool, DescribeUserPool, ListUserPools, UpdateUserPool, DeleteUserPool,
//! AddCustomAttributes.

use cognate_core::service::NewPool;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse, PoolSettingsIn, SchemaAttributeType, UsernameConfigurationType};
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserPoolRequest {
    pool_name: String,
    #[serde(flatten)]
    settings: PoolSettingsIn,
    alias_attributes: Option<Vec<String>>,
    username_attributes: Option<Vec<String>>,
    username_configuration: Option<UsernameConfigurationType>,
    schema: Option<Vec<SchemaAttributeType>>,
}

fn pool_name(v: &mut Validator, name: &str) {
    v.len("poolName", name, 1, 128).pattern(
        "poolName",
        name,
        name.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)),
        "[\\w\\s+=,.@-]+",
    );
}

pub async fn create_user_pool(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: CreateUserPoolRequest = parse(body)?;
    let mut v = Validator::new();
    pool_name(&mut v, &req.pool_name);
    v.each_one_of(
        "aliasAttributes",
        req.alias_attributes.as_deref(),
        &["phone_number", "email", "preferred_username"],
    )
    .each_one_of(
        "usernameAttributes",
        req.username_attributes.as_deref(),
        &["phone_number", "email"],
    );
    let refusal = req.settings.refusal(&svc.config().region);
    // CreateUserPool's MFA is SMS MFA: ON or OPTIONAL needs an
    // SmsConfiguration in the same request (the model; AWS's text). Other
    // factors come with SetUserPoolMfaConfig.
    let sms_mfa_unconfigured = matches!(
        req.settings.mfa_configuration.as_deref(),
        Some("ON" | "OPTIONAL")
    ) && req.settings.sms_configuration.is_none();
    let mut settings = req.settings.into_settings(&mut v);
    // ... and turns SMS MFA on.
    settings.sms_mfa_enabled = settings.mfa_configuration != "OFF";
    let schema = shapes::schema_in(req.schema, "schema", &mut v);
    v.finish()?;
    if let Some(e) = refusal {
        return Err(e);
    }
    if sms_mfa_unconfigured {
        return Err(ApiError::invalid_parameter(
            "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
        ));
    }
    let pool = svc
        .create_user_pool(NewPool {
            id: None,
            name: req.pool_name,
            alias_attributes: req.alias_attributes.unwrap_or_default(),
            username_attributes: req.username_attributes.unwrap_or_default(),
            username_case_sensitive: req.username_configuration.map(|u| u.case_sensitive),
            schema,
            settings,
        })
        .await?;
    Ok(json!({"UserPool": shapes::user_pool_out(&pool, &svc.pool_arn(&pool.id), 0)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolIdRequest {
    user_pool_id: String,
}

pub async fn describe_user_pool(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolIdRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.finish()?;
    let (pool, users) = svc.describe_user_pool(&req.user_pool_id).await?;
    let mut out = shapes::user_pool_out(&pool, &svc.pool_arn(&pool.id), users);
    if let (Some(d), Some(obj)) = (svc.domain_of_pool(&pool.id).await?, out.as_object_mut()) {
        let key = if d.certificate_arn.is_some() {
            "CustomDomain"
        } else {
            "Domain"
        };
        obj.insert(key.into(), json!(d.domain));
    }
    Ok(json!({"UserPool": out}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUserPoolsRequest {
    next_token: Option<String>,
    max_results: i64,
}

pub async fn list_user_pools(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListUserPoolsRequest = parse(body)?;
    let mut v = Validator::new();
    v.range("maxResults", Some(req.max_results), 1, 60).opt_len(
        "nextToken",
        req.next_token.as_deref(),
        1,
        131_072,
    );
    v.finish()?;
    let page = svc
        .list_user_pools(req.max_results as usize, req.next_token.as_deref())
        .await?;
    let pools: Vec<Value> = page
        .items
        .iter()
        .map(|p| {
            json!({
                "Id": p.id,
                "Name": p.name,
                "LambdaConfig": p.settings.lambda_config.clone().unwrap_or_else(|| json!({})),
                "LastModifiedDate": shapes::timestamp(p.modified),
                "CreationDate": shapes::timestamp(p.created),
            })
        })
        .collect();
    let mut out = json!({"UserPools": pools});
    if let (Some(next), Some(obj)) = (page.next, out.as_object_mut()) {
        obj.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateUserPoolRequest {
    user_pool_id: String,
    pool_name: Option<String>,
    #[serde(flatten)]
    settings: PoolSettingsIn,
}

pub async fn update_user_pool(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: UpdateUserPoolRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    if let Some(name) = &req.pool_name {
        pool_name(&mut v, name);
    }
    let keep_tags = req.settings.user_pool_tags.is_none();
    let refusal = req.settings.refusal(&svc.config().region);
    let settings = req.settings.into_settings(&mut v);
    v.finish()?;
    if let Some(e) = refusal {
        return Err(e);
    }
    svc.update_user_pool(&req.user_pool_id, req.pool_name, settings, keep_tags)
        .await?;
    Ok(json!({}))
}

pub async fn delete_user_pool(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolIdRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.finish()?;
    svc.delete_user_pool(&req.user_pool_id).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddCustomAttributesRequest {
    user_pool_id: String,
    custom_attributes: Vec<SchemaAttributeType>,
}

pub async fn add_custom_attributes(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AddCustomAttributesRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    let attributes = shapes::schema_in(Some(req.custom_attributes), "customAttributes", &mut v);
    v.finish()?;
    svc.add_custom_attributes(&req.user_pool_id, &attributes)
        .await?;
    Ok(json!({}))
}

//! AdminDisableUser, AdminEnableUser, GlobalSignOut, AdminUserGlobalSignOut,
//! RevokeToken, ForgotPassword, ConfirmForgotPassword, ChangePassword,
//! AdminResetUserPassword, AdminUpdateUserAttributes, UpdateUserAttributes,
//! AdminDeleteUserAttributes, DeleteUserAttributes,
//! GetUserAttributeVerificationCode, VerifyUserAttribute.

use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use super::users::{access_token, delivery_out, password, secret_hash};
use crate::error::ApiError;
use crate::shapes::{self, parse, AttributeType};
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolUserRequest {
    user_pool_id: String,
    username: String,
}

fn pool_user(body: &[u8]) -> Result<PoolUserRequest, ApiError> {
    let req: PoolUserRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    v.finish()?;
    Ok(req)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccessTokenRequest {
    access_token: String,
}

fn token_only(body: &[u8]) -> Result<String, ApiError> {
    let req: AccessTokenRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    v.finish()?;
    Ok(req.access_token)
}

pub async fn admin_disable_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req = pool_user(body)?;
    svc.admin_disable_user(&req.user_pool_id, &req.username)
        .await?;
    Ok(json!({}))
}

pub async fn admin_enable_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req = pool_user(body)?;
    svc.admin_enable_user(&req.user_pool_id, &req.username)
        .await?;
    Ok(json!({}))
}

pub async fn admin_user_global_sign_out(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req = pool_user(body)?;
    svc.admin_user_global_sign_out(&req.user_pool_id, &req.username)
        .await?;
    Ok(json!({}))
}

pub async fn admin_reset_user_password(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req = pool_user(body)?;
    svc.admin_reset_user_password(&req.user_pool_id, &req.username)
        .await?;
    Ok(json!({}))
}

pub async fn global_sign_out(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let token = token_only(body)?;
    svc.global_sign_out(&token).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RevokeTokenRequest {
    token: String,
    client_id: String,
    client_secret: Option<String>,
}

pub async fn revoke_token(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: RevokeTokenRequest = parse(body)?;
    let mut v = Validator::new();
    validate::client_id(&mut v, &req.client_id);
    v.len("token", &req.token, 1, 16_384).opt_len(
        "clientSecret",
        req.client_secret.as_deref(),
        1,
        64,
    );
    v.finish()?;
    svc.revoke_token(&req.token, &req.client_id, req.client_secret.as_deref())
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ForgotPasswordRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
}

pub async fn forgot_password(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ForgotPasswordRequest = parse(body)?;
    let mut v = Validator::new();
    validate::client_id(&mut v, &req.client_id);
    validate::username(&mut v, &req.username);
    secret_hash(&mut v, req.secret_hash.as_deref());
    v.finish()?;
    let d = svc
        .forgot_password(&req.client_id, req.secret_hash.as_deref(), &req.username)
        .await?;
    Ok(json!({"CodeDeliveryDetails": delivery_out(&d)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfirmForgotPasswordRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: String,
    password: String,
}

pub async fn confirm_forgot_password(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ConfirmForgotPasswordRequest = parse(body)?;
    let mut v = Validator::new();
    validate::client_id(&mut v, &req.client_id);
    validate::username(&mut v, &req.username);
    secret_hash(&mut v, req.secret_hash.as_deref());
    password(&mut v, "password", &req.password);
    v.len("confirmationCode", &req.confirmation_code, 1, 2048)
        .pattern(
            "confirmationCode",
            &req.confirmation_code,
            validate::no_whitespace(&req.confirmation_code),
            "[\\S]+",
        );
    v.finish()?;
    svc.confirm_forgot_password(
        &req.client_id,
        req.secret_hash.as_deref(),
        &req.username,
        &req.confirmation_code,
        &req.password,
    )
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangePasswordRequest {
    previous_password: Option<String>,
    proposed_password: String,
    access_token: String,
}

pub async fn change_password(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ChangePasswordRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    password(&mut v, "proposedPassword", &req.proposed_password);
    if let Some(p) = &req.previous_password {
        password(&mut v, "previousPassword", p);
    }
    v.finish()?;
    svc.change_password(
        &req.access_token,
        req.previous_password.as_deref(),
        &req.proposed_password,
    )
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminUpdateUserAttributesRequest {
    user_pool_id: String,
    username: String,
    user_attributes: Vec<AttributeType>,
}

pub async fn admin_update_user_attributes(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminUpdateUserAttributesRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    let attributes = shapes::attributes_in(Some(req.user_attributes), &mut v, "userAttributes");
    v.finish()?;
    svc.admin_update_user_attributes(&req.user_pool_id, &req.username, &attributes)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateUserAttributesRequest {
    user_attributes: Vec<AttributeType>,
    access_token: String,
}

pub async fn update_user_attributes(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: UpdateUserAttributesRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    let attributes = shapes::attributes_in(Some(req.user_attributes), &mut v, "userAttributes");
    v.finish()?;
    let deliveries = svc
        .update_user_attributes(&req.access_token, &attributes)
        .await?;
    let list: Vec<Value> = deliveries.iter().map(delivery_out).collect();
    Ok(json!({"CodeDeliveryDetailsList": list}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminDeleteUserAttributesRequest {
    user_pool_id: String,
    username: String,
    user_attribute_names: Vec<String>,
}

pub async fn admin_delete_user_attributes(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminDeleteUserAttributesRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    v.finish()?;
    svc.admin_delete_user_attributes(&req.user_pool_id, &req.username, &req.user_attribute_names)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteUserAttributesRequest {
    user_attribute_names: Vec<String>,
    access_token: String,
}

pub async fn delete_user_attributes(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DeleteUserAttributesRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    v.finish()?;
    svc.delete_user_attributes(&req.access_token, &req.user_attribute_names)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeCodeRequest {
    access_token: String,
    attribute_name: String,
    code: Option<String>,
}

pub async fn get_user_attribute_verification_code(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: AttributeCodeRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    v.len("attributeName", &req.attribute_name, 1, 32);
    v.finish()?;
    let d = svc
        .get_user_attribute_verification_code(&req.access_token, &req.attribute_name)
        .await?;
    Ok(json!({"CodeDeliveryDetails": delivery_out(&d)}))
}

pub async fn verify_user_attribute(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AttributeCodeRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    v.len("attributeName", &req.attribute_name, 1, 32);
    let code = req.code.clone().unwrap_or_default();
    if req.code.is_none() {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null",
        ));
    }
    v.len("code", &code, 1, 2048)
        .pattern("code", &code, validate::no_whitespace(&code), "[\\S]+");
    v.finish()?;
    svc.verify_user_attribute(&req.access_token, &req.attribute_name, &code)
        .await?;
    Ok(json!({}))
}

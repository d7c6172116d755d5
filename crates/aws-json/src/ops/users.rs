//! SignUp, ConfirmSignUp, ResendConfirmationCode, AdminConfirmSignUp,
//! AdminCreateUser, AdminGetUser, GetUser, ListUsers, AdminDeleteUser,
//! DeleteUser, AdminSetUserPassword.

use cognate_core::service::{AdminCreateUserInput, CodeDelivery, SignUpInput};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse, AttributeType};
use crate::validate::{self, Validator};

/// `MFAOptions`, `UserMFASettingList` and `PreferredMfaSetting` of GetUser / AdminGetUser.
pub(crate) fn mfa_settings(out: &mut Value, user: &cognate_core::model::User) {
    if let Some(obj) = out.as_object_mut() {
        if !user.mfa_options.is_empty() {
            obj.insert(
                "MFAOptions".into(),
                shapes::mfa_options_out(&user.mfa_options),
            );
        }
        let factors = cognate_core::service::user_mfa_setting_list(user);
        if !factors.is_empty() {
            obj.insert("UserMFASettingList".into(), json!(factors));
        }
        if let Some(p) = &user.mfa_preferred {
            obj.insert("PreferredMfaSetting".into(), json!(p));
        }
    }
}

pub(crate) fn delivery_out(d: &CodeDelivery) -> Value {
    json!({"Destination": d.destination, "DeliveryMedium": d.medium, "AttributeName": d.attribute})
}

pub(crate) fn secret_hash(v: &mut Validator, value: Option<&str>) {
    if let Some(h) = value {
        v.len("secretHash", h, 1, 128).pattern(
            "secretHash",
            h,
            h.chars().all(|c| c.is_alphanumeric() || "_+=/".contains(c)),
            "[\\w+=/]+",
        );
    }
}

pub(crate) fn password(v: &mut Validator, member: &str, value: &str) {
    v.len(member, value, 1, 256).pattern(
        member,
        value,
        validate::no_whitespace_ends(value),
        "^[\\S]+.*[\\S]+$",
    );
}

pub(crate) fn access_token(v: &mut Validator, value: &str) {
    v.len("accessToken", value, 1, 16_384).pattern(
        "accessToken",
        value,
        value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=.".contains(c)),
        "[A-Za-z0-9-_=.]+",
    );
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SignUpRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    password: Option<String>,
    user_attributes: Option<Vec<AttributeType>>,
    validation_data: Option<Vec<AttributeType>>,
    client_metadata: Option<std::collections::BTreeMap<String, String>>,
}

pub async fn sign_up(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: SignUpRequest = parse(body)?;
    let mut v = Validator::new();
    validate::client_id(&mut v, &req.client_id);
    validate::username(&mut v, &req.username);
    secret_hash(&mut v, req.secret_hash.as_deref());
    if let Some(p) = &req.password {
        password(&mut v, "password", p);
    }
    let attributes = shapes::attributes_in(req.user_attributes, &mut v, "userAttributes");
    let validation_data = shapes::attributes_in(req.validation_data, &mut v, "validationData");
    v.finish()?;
    let out = svc
        .sign_up(SignUpInput {
            client_id: req.client_id,
            secret_hash: req.secret_hash,
            username: req.username,
            password: req.password,
            attributes,
            validation_data,
            client_metadata: req.client_metadata.unwrap_or_default(),
        })
        .await?;
    let mut body = json!({"UserConfirmed": out.user_confirmed, "UserSub": out.user_sub});
    if let (Some(d), Some(obj)) = (&out.delivery, body.as_object_mut()) {
        obj.insert("CodeDeliveryDetails".into(), delivery_out(d));
    }
    Ok(body)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfirmSignUpRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: String,
    force_alias_creation: Option<bool>,
}

pub async fn confirm_sign_up(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ConfirmSignUpRequest = parse(body)?;
    let mut v = Validator::new();
    validate::client_id(&mut v, &req.client_id);
    validate::username(&mut v, &req.username);
    secret_hash(&mut v, req.secret_hash.as_deref());
    v.len("confirmationCode", &req.confirmation_code, 1, 2048)
        .pattern(
            "confirmationCode",
            &req.confirmation_code,
            validate::no_whitespace(&req.confirmation_code),
            "[\\S]+",
        );
    v.finish()?;
    svc.confirm_sign_up_forcing(
        &req.client_id,
        req.secret_hash.as_deref(),
        &req.username,
        &req.confirmation_code,
        req.force_alias_creation.unwrap_or(false),
    )
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResendConfirmationCodeRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
}

pub async fn resend_confirmation_code(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ResendConfirmationCodeRequest = parse(body)?;
    let mut v = Validator::new();
    validate::client_id(&mut v, &req.client_id);
    validate::username(&mut v, &req.username);
    secret_hash(&mut v, req.secret_hash.as_deref());
    v.finish()?;
    let d = svc
        .resend_confirmation_code(&req.client_id, req.secret_hash.as_deref(), &req.username)
        .await?;
    Ok(json!({"CodeDeliveryDetails": delivery_out(&d)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolUserRequest {
    user_pool_id: String,
    username: String,
}

fn check_pool_user(req: &PoolUserRequest) -> Result<(), ApiError> {
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    v.finish()
}

pub async fn admin_confirm_sign_up(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolUserRequest = parse(body)?;
    check_pool_user(&req)?;
    svc.admin_confirm_sign_up(&req.user_pool_id, &req.username)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUserRequest {
    user_pool_id: String,
    username: String,
    user_attributes: Option<Vec<AttributeType>>,
    temporary_password: Option<String>,
    message_action: Option<String>,
    desired_delivery_mediums: Option<Vec<String>>,
    validation_data: Option<Vec<AttributeType>>,
    client_metadata: Option<std::collections::BTreeMap<String, String>>,
    force_alias_creation: Option<bool>,
}

pub async fn admin_create_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminCreateUserRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    // A blank TemporaryPassword means none (the model's documentation).
    if let Some(p) = req.temporary_password.as_deref().filter(|p| !p.is_empty()) {
        password(&mut v, "temporaryPassword", p);
    }
    v.one_of(
        "messageAction",
        req.message_action.as_deref(),
        &["RESEND", "SUPPRESS"],
    )
    .each_one_of(
        "desiredDeliveryMediums",
        req.desired_delivery_mediums.as_deref(),
        &["SMS", "EMAIL"],
    );
    let attributes = shapes::attributes_in(req.user_attributes, &mut v, "userAttributes");
    let validation_data = shapes::attributes_in(req.validation_data, &mut v, "validationData");
    v.finish()?;
    let user = svc
        .admin_create_user(AdminCreateUserInput {
            validation_data,
            client_metadata: req.client_metadata.unwrap_or_default(),
            pool_id: req.user_pool_id,
            username: req.username,
            attributes,
            temporary_password: req.temporary_password,
            message_action: req.message_action,
            desired_delivery_mediums: req.desired_delivery_mediums.unwrap_or_default(),
            force_alias_creation: req.force_alias_creation.unwrap_or(false),
        })
        .await?;
    Ok(json!({"User": shapes::user_type_out(&user, None)}))
}

pub async fn admin_get_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolUserRequest = parse(body)?;
    check_pool_user(&req)?;
    let user = svc.admin_get_user(&req.user_pool_id, &req.username).await?;
    let mut out = json!({
        "Username": user.username,
        "UserAttributes": shapes::attributes_out(&user.attributes_with_sub()),
        "UserCreateDate": shapes::timestamp(user.created),
        "UserLastModifiedDate": shapes::timestamp(user.modified),
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    });
    mfa_settings(&mut out, &user);
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccessTokenRequest {
    access_token: String,
}

pub async fn get_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AccessTokenRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    v.finish()?;
    let user = svc.get_user(&req.access_token).await?;
    let mut out = json!({
        "Username": user.username,
        "UserAttributes": shapes::attributes_out(&user.attributes_with_sub()),
    });
    mfa_settings(&mut out, &user);
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUsersRequest {
    user_pool_id: String,
    attributes_to_get: Option<Vec<String>>,
    limit: Option<i64>,
    pagination_token: Option<String>,
    filter: Option<String>,
}

pub async fn list_users(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListUsersRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.range("limit", req.limit, 0, 60)
        .opt_len("filter", req.filter.as_deref(), 0, 256)
        .opt_len(
            "paginationToken",
            req.pagination_token.as_deref(),
            1,
            131_072,
        );
    v.finish()?;
    let limit = match req.limit {
        None | Some(0) => 60,
        Some(n) => n as usize,
    };
    let page = svc
        .list_users(
            &req.user_pool_id,
            req.filter.as_deref(),
            req.attributes_to_get.as_deref().unwrap_or_default(),
            limit,
            req.pagination_token.as_deref(),
        )
        .await?;
    let only = req.attributes_to_get.as_deref().filter(|a| !a.is_empty());
    let users: Vec<Value> = page
        .items
        .iter()
        .map(|u| shapes::user_type_out(u, only))
        .collect();
    let mut out = json!({"Users": users});
    if let (Some(next), Some(obj)) = (page.next, out.as_object_mut()) {
        obj.insert("PaginationToken".into(), json!(next));
    }
    Ok(out)
}

pub async fn admin_delete_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolUserRequest = parse(body)?;
    check_pool_user(&req)?;
    svc.admin_delete_user(&req.user_pool_id, &req.username)
        .await?;
    Ok(json!({}))
}

pub async fn delete_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AccessTokenRequest = parse(body)?;
    let mut v = Validator::new();
    access_token(&mut v, &req.access_token);
    v.finish()?;
    svc.delete_user(&req.access_token).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminSetUserPasswordRequest {
    user_pool_id: String,
    username: String,
    password: String,
    permanent: Option<bool>,
}

pub async fn admin_set_user_password(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminSetUserPasswordRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    password(&mut v, "password", &req.password);
    v.finish()?;
    svc.admin_set_user_password(
        &req.user_pool_id,
        &req.username,
        &req.password,
        req.permanent.unwrap_or(false),
    )
    .await?;
    Ok(json!({}))
}

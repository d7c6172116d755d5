//! GetUserAuthFactors and AdminGetUserAuthFactors: the factors a user can
//! sign in with and their MFA settings.

use cognate_core::model::User;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::ops::users::mfa_settings;
use crate::shapes::parse;

/// The answer: `ConfiguredUserAuthFactors` holds the USER_AUTH first
/// factors the pool allows and the user has (PASSWORD, EMAIL_OTP, SMS_OTP,
/// WEB_AUTHN), then the MFA members as GetUser reports them.
fn factors_out(user: &User, factors: Vec<&'static str>) -> Value {
    let mut out = json!({"Username": user.username});
    mfa_settings(&mut out, user);
    if let Some(obj) = out.as_object_mut() {
        obj.insert("ConfiguredUserAuthFactors".into(), json!(factors));
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminRequest {
    user_pool_id: String,
    username: String,
}

pub async fn admin_get_user_auth_factors(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AdminRequest = parse(body)?;
    let user = svc.admin_get_user(&req.user_pool_id, &req.username).await?;
    let factors = svc.configured_user_auth_factors(&user).await?;
    Ok(factors_out(&user, factors))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenRequest {
    access_token: String,
}

pub async fn get_user_auth_factors(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TokenRequest = parse(body)?;
    let user = svc.get_user(&req.access_token).await?;
    let factors = svc.configured_user_auth_factors(&user).await?;
    Ok(factors_out(&user, factors))
}

//! GetUserAuthFactors and AdminGetUserAuthFactors: the factors a user can
//! sign in with and their MFA settings.

use cognate_core::model::User;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::ops::users::mfa_settings;
use crate::shapes::parse;

/// The answer: `ConfiguredUserAuthFactors` holds PASSWORD for a user with a
/// password (cognate has no passwordless first factors, so never EMAIL_OTP,
/// SMS_OTP or WEBAUTHN), then the MFA members as GetUser reports them.
fn factors_out(user: &User) -> Value {
    let mut out = json!({"Username": user.username});
    mfa_settings(&mut out, user);
    if let Some(obj) = out.as_object_mut() {
        let factors: Vec<&str> = user
            .password_hash
            .as_ref()
            .map(|_| "PASSWORD")
            .into_iter()
            .collect();
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
    Ok(factors_out(&user))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenRequest {
    access_token: String,
}

pub async fn get_user_auth_factors(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TokenRequest = parse(body)?;
    let user = svc.get_user(&req.access_token).await?;
    Ok(factors_out(&user))
}

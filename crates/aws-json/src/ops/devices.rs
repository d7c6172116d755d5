//! ConfirmDevice, ListDevices, AdminListDevices, GetDevice, AdminGetDevice,
//! UpdateDeviceStatus, AdminUpdateDeviceStatus, ForgetDevice, AdminForgetDevice.

use cognate_core::service::devices::{DeviceOwner, DeviceView};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse};

fn device_out(view: &DeviceView) -> Value {
    let d = &view.device;
    let attributes: Vec<Value> = view
        .attributes
        .iter()
        .map(|(name, value)| json!({"Name": name, "Value": value}))
        .collect();
    json!({
        "DeviceKey": d.key,
        "DeviceAttributes": attributes,
        "DeviceCreateDate": shapes::timestamp(d.created),
        "DeviceLastModifiedDate": shapes::timestamp(d.modified),
        "DeviceLastAuthenticatedDate": shapes::timestamp(d.last_authenticated),
    })
}

/// The members every device operation may carry; the model has checked
/// which are required for each.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeviceRequest {
    access_token: Option<String>,
    user_pool_id: Option<String>,
    username: Option<String>,
    device_key: Option<String>,
    device_remembered_status: Option<String>,
    limit: Option<usize>,
    pagination_token: Option<String>,
    device_name: Option<String>,
    device_secret_verifier_config: Option<VerifierConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifierConfig {
    password_verifier: Option<String>,
    salt: Option<String>,
}

impl DeviceRequest {
    fn owner(&self) -> DeviceOwner<'_> {
        match (&self.user_pool_id, &self.username) {
            (Some(pool_id), Some(username)) => DeviceOwner::Admin { pool_id, username },
            _ => DeviceOwner::Token(self.access_token.as_deref().unwrap_or_default()),
        }
    }

    fn key(&self) -> &str {
        self.device_key.as_deref().unwrap_or_default()
    }
}

pub async fn confirm_device(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DeviceRequest = parse(body)?;
    let (salt, verifier) = match req.device_secret_verifier_config {
        Some(c) => (c.salt, c.password_verifier),
        None => (None, None),
    };
    let prompt = svc
        .confirm_device(
            req.access_token.as_deref().unwrap_or_default(),
            req.device_key.as_deref().unwrap_or_default(),
            req.device_name,
            salt,
            verifier,
        )
        .await?;
    Ok(json!({"UserConfirmationNecessary": prompt}))
}

/// ListDevices and AdminListDevices.
pub async fn list_devices(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DeviceRequest = parse(body)?;
    let page = svc
        .list_devices(
            req.owner(),
            req.limit.unwrap_or(0),
            req.pagination_token.as_deref(),
        )
        .await?;
    let mut out = json!({"Devices": page.devices.iter().map(device_out).collect::<Vec<_>>()});
    if let Some(next) = page.next {
        out["PaginationToken"] = json!(next);
    }
    Ok(out)
}

/// GetDevice and AdminGetDevice.
pub async fn get_device(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DeviceRequest = parse(body)?;
    let device = svc.get_device(req.owner(), req.key()).await?;
    Ok(json!({"Device": device_out(&device)}))
}

/// UpdateDeviceStatus and AdminUpdateDeviceStatus.
pub async fn update_device_status(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DeviceRequest = parse(body)?;
    let remembered = req.device_remembered_status.as_deref() == Some("remembered");
    svc.update_device_status(req.owner(), req.key(), remembered)
        .await?;
    Ok(json!({}))
}

/// ForgetDevice and AdminForgetDevice.
pub async fn forget_device(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DeviceRequest = parse(body)?;
    svc.forget_device(req.owner(), req.key()).await?;
    Ok(json!({}))
}

//! Device tracking: NewDeviceMetadata at sign-in in pools with a
//! `DeviceConfiguration`, and the device records of a user (ConfirmDevice,
//! (Admin)ListDevices, (Admin)GetDevice, (Admin)UpdateDeviceStatus,
//! (Admin)ForgetDevice), kept in the user document so every change is one
//! compare-and-swap. Device SRP (DEVICE_SRP_AUTH) is not offered yet, so a
//! remembered device does not skip MFA.

use super::{decode_token, encode_token, UserPools};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Device, User, UserPool};

/// What a sign-in hands a client for its new device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDeviceMetadata {
    pub device_key: String,
    pub device_group_key: String,
}

/// A page of devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePage {
    pub devices: Vec<Device>,
    pub next: Option<String>,
}

fn device_tracking(pool: &UserPool) -> Option<(bool, bool)> {
    let config = pool.settings.device_configuration.as_ref()?;
    let flag = |name: &str| config.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
    Some((
        flag("ChallengeRequiredOnNewDevice"),
        flag("DeviceOnlyRememberedOnUserPrompt"),
    ))
}

fn not_found() -> Error {
    Error::new(ErrorKind::ResourceNotFound, "Device does not exist.")
}

fn tracking_required(pool: &UserPool) -> Result<(bool, bool)> {
    device_tracking(pool).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidUserPoolConfiguration,
            "Device tracking is not enabled for this user pool.",
        )
    })
}

impl UserPools {
    /// The device group of a user: fixed per user, as a client expects.
    fn device_group_key(pool: &UserPool, user: &User) -> String {
        let digest =
            cognate_crypto::digest::sha256_hex(format!("{}:{}", pool.id, user.sub).as_bytes());
        format!("-{}", &digest[..9])
    }

    /// The metadata of a new device for a sign-in that ends in tokens, in a
    /// pool that tracks devices, unless the client named (`DEVICE_KEY`) a
    /// device the user has confirmed.
    pub(crate) fn new_device_metadata(
        &self,
        pool: &UserPool,
        user: &User,
        device_key: Option<&str>,
    ) -> Option<NewDeviceMetadata> {
        device_tracking(pool)?;
        if device_key.is_some_and(|k| user.devices.iter().any(|d| d.key == k)) {
            return None;
        }
        Some(NewDeviceMetadata {
            device_key: format!("{}_{}", self.config.region, cognate_crypto::random::uuid()),
            device_group_key: Self::device_group_key(pool, user),
        })
    }

    /// ConfirmDevice: stores the device; answers whether the user must be
    /// asked to remember it (`DeviceOnlyRememberedOnUserPrompt`).
    pub async fn confirm_device(
        &self,
        access_token: &str,
        device_key: &str,
        name: Option<String>,
        salt: Option<String>,
        verifier: Option<String>,
    ) -> Result<bool> {
        let (pool_id, _claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        let (_, on_prompt) = tracking_required(&pool)?;
        if !device_key.starts_with(&format!("{}_", self.config.region)) {
            return Err(Error::invalid_parameter("Invalid device key given."));
        }
        let now = self.now();
        self.update_user(user, |u| {
            if u.devices.iter().any(|d| d.key == device_key) {
                return Err(Error::new(
                    ErrorKind::DeviceKeyExists,
                    "Device key already exists.",
                ));
            }
            u.devices.push(Device {
                key: device_key.to_owned(),
                name: name.clone(),
                remembered: !on_prompt,
                created: now,
                modified: now,
                last_authenticated: now,
                salt: salt.clone(),
                verifier: verifier.clone(),
            });
            Ok(())
        })
        .await?;
        Ok(on_prompt)
    }

    async fn device_owner(&self, who: DeviceOwner<'_>) -> Result<(std::sync::Arc<UserPool>, User)> {
        match who {
            DeviceOwner::Token(token) => {
                let (pool_id, _claims, user) = self.user_from_access_token(token).await?;
                Ok((self.pool(&pool_id).await?, user))
            }
            DeviceOwner::Admin { pool_id, username } => {
                let pool = self.pool(pool_id).await?;
                let user = self.admin_user(&pool, username).await?;
                Ok((pool, user))
            }
        }
    }

    pub async fn list_devices(
        &self,
        who: DeviceOwner<'_>,
        limit: usize,
        next: Option<&str>,
    ) -> Result<DevicePage> {
        let (pool, user) = self.device_owner(who).await?;
        tracking_required(&pool)?;
        let after = next.map(decode_token).transpose()?;
        let start = match &after {
            None => 0,
            Some(key) => user
                .devices
                .iter()
                .position(|d| &d.key == key)
                .map(|i| i + 1)
                .ok_or_else(|| Error::invalid_parameter("Invalid pagination token."))?,
        };
        let limit = if limit == 0 { 60 } else { limit };
        let page: Vec<Device> = user
            .devices
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect();
        let next = (start + page.len() < user.devices.len())
            .then(|| page.last().map(|d| encode_token(&d.key)))
            .flatten();
        Ok(DevicePage {
            devices: page,
            next,
        })
    }

    pub async fn get_device(&self, who: DeviceOwner<'_>, device_key: &str) -> Result<Device> {
        let (pool, user) = self.device_owner(who).await?;
        tracking_required(&pool)?;
        user.devices
            .iter()
            .find(|d| d.key == device_key)
            .cloned()
            .ok_or_else(not_found)
    }

    pub async fn update_device_status(
        &self,
        who: DeviceOwner<'_>,
        device_key: &str,
        remembered: bool,
    ) -> Result<()> {
        let (pool, user) = self.device_owner(who).await?;
        tracking_required(&pool)?;
        let now = self.now();
        self.update_user(user, |u| {
            let device = u
                .devices
                .iter_mut()
                .find(|d| d.key == device_key)
                .ok_or_else(not_found)?;
            device.remembered = remembered;
            device.modified = now;
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn forget_device(&self, who: DeviceOwner<'_>, device_key: &str) -> Result<()> {
        let (pool, user) = self.device_owner(who).await?;
        tracking_required(&pool)?;
        self.update_user(user, |u| {
            let before = u.devices.len();
            u.devices.retain(|d| d.key != device_key);
            if u.devices.len() == before {
                return Err(not_found());
            }
            Ok(())
        })
        .await?;
        Ok(())
    }
}

/// Whose devices: the user of an access token, or a user named by an admin call.
#[derive(Clone, Copy, Debug)]
pub enum DeviceOwner<'a> {
    Token(&'a str),
    Admin { pool_id: &'a str, username: &'a str },
}

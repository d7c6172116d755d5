//! Device tracking: NewDeviceMetadata at sign-in in pools with a
//! `DeviceConfiguration`, the device records of a user (ConfirmDevice,
//! (Admin)ListDevices, (Admin)GetDevice, (Admin)UpdateDeviceStatus,
//! (Admin)ForgetDevice), kept in the user document so every change is one
//! compare-and-swap, and device authentication at sign-in: a sign-in that
//! names (`DEVICE_KEY`) a confirmed device of the user with an SRP verifier
//! proves the device with DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER
//! (Cognito's SRP with the device group key for the pool name and the
//! device key for the user id) before tokens are issued; a remembered
//! device in a pool with `ChallengeRequiredOnNewDevice` takes the place of
//! the MFA step, whatever the factor (SOFTWARE_TOKEN_MFA, SMS_MFA,
//! EMAIL_OTP, SELECT_MFA_TYPE; not MFA_SETUP). A proven password that names a device the
//! user does not have answers ResourceNotFoundException ("Device does not
//! exist."), on which clients sign in again without the key. The
//! DEVICE_SRP_AUTH session and the DEVICE_PASSWORD_VERIFIER exchange (kept
//! under its secret block, as USER_SRP_AUTH's) are challenge sessions in
//! the store, each taken once.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::json;

use super::auth::{param, session_field, ChallengeInput, Channel, SignInStep};
use super::{decode_token, encode_token, UserPools};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, ChallengeSession, Device, User, UserPool};

/// What a sign-in hands a client for its new device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDeviceMetadata {
    pub device_key: String,
    pub device_group_key: String,
}

/// A page of devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePage {
    pub devices: Vec<DeviceView>,
    pub next: Option<String>,
}

/// A device as the device operations describe it: the stored device and
/// its DeviceAttributes, in Cognito's order (`device_status`,
/// `device_name`, `dev:device_arn`, `dev:device_owner`, `last_ip_used`,
/// `dev:device_remembered_status`, `dev:device_sdk`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceView {
    pub device: Device,
    pub attributes: Vec<(&'static str, String)>,
}

fn device_tracking(pool: &UserPool) -> Option<(bool, bool)> {
    let config = pool.settings.device_configuration.as_ref()?;
    let flag = |name: &str| config.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
    Some((
        flag("ChallengeRequiredOnNewDevice"),
        flag("DeviceOnlyRememberedOnUserPrompt"),
    ))
}

/// A device's SRP salt and verifier in hex, from the base64 of their bytes
/// that ConfirmDevice stored (`DeviceSecretVerifierConfig`); `None` when the
/// device has none (or they do not decode), so it cannot be proven.
fn device_secret(device: &Device) -> Option<(String, String)> {
    let decode = |v: &Option<String>| {
        v.as_deref()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|bytes| bytes.iter().any(|b| *b != 0))
            .map(|bytes| cognate_crypto::digest::hex(&bytes))
    };
    Some((decode(&device.salt)?, decode(&device.verifier)?))
}

/// The most bytes a device's SRP salt may have (clients send 16, or 17
/// with a sign byte).
const MAX_SALT_BYTES: usize = 64;

/// ConfirmDevice's `DeviceSecretVerifierConfig`: absent, or both members,
/// each the base64 of a big-endian number: a salt of 1 to 64 bytes, not
/// all zero, and a verifier that is a non-zero element below the SRP
/// group's N. A device stored with a config that cannot be proven would
/// lock its user out of every later sign-in that names it, so a bad one is
/// refused here (InvalidParameterException; AWS does not publish its text).
fn check_verifier_config(salt: Option<&str>, verifier: Option<&str>) -> Result<()> {
    let decode = |v: &str| base64::engine::general_purpose::STANDARD.decode(v).ok();
    match (salt, verifier) {
        (None, None) => Ok(()),
        (Some(salt), Some(verifier)) => {
            let salt_ok = decode(salt).is_some_and(|b| {
                (1..=MAX_SALT_BYTES).contains(&b.len()) && b.iter().any(|x| *x != 0)
            });
            if !salt_ok {
                return Err(Error::invalid_parameter(
                    "DeviceSecretVerifierConfig.Salt must be the base64 of 1 to 64 bytes, not all zero.",
                ));
            }
            if !decode(verifier).is_some_and(|b| cognate_crypto::srp::valid_verifier(&b)) {
                return Err(Error::invalid_parameter(
                    "DeviceSecretVerifierConfig.PasswordVerifier must be the base64 of an SRP verifier.",
                ));
            }
            Ok(())
        }
        _ => Err(Error::invalid_parameter(
            "DeviceSecretVerifierConfig must have both Salt and PasswordVerifier.",
        )),
    }
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
    /// The device group of a user: fixed per user, as a client expects;
    /// `-` and eight letters and digits, as Cognito's (`-wt2ha1Zd`).
    fn device_group_key(pool: &UserPool, user: &User) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let digest = cognate_crypto::digest::sha256(format!("{}:{}", pool.id, user.sub).as_bytes());
        let mut key = String::from("-");
        key.extend(
            digest[..8]
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])),
        );
        key
    }

    /// The device a proven password names (`DEVICE_KEY`) in a pool that
    /// tracks devices: `None` without a key (or tracking), and
    /// ResourceNotFoundException when the user has no such device (another
    /// user's device included).
    pub(crate) fn named_device<'a>(
        pool: &UserPool,
        user: &'a User,
        device_key: Option<&str>,
    ) -> Result<Option<&'a Device>> {
        let Some(key) = device_key.filter(|k| !k.is_empty()) else {
            return Ok(None);
        };
        if device_tracking(pool).is_none() {
            return Ok(None);
        }
        user.devices
            .iter()
            .find(|d| d.key == key)
            .map(Some)
            .ok_or_else(not_found)
    }

    /// Whether a device stands in for the MFA factor: the pool lets a
    /// remembered device skip MFA (`ChallengeRequiredOnNewDevice`: "a
    /// remembered device can sign in with device authentication instead of
    /// SMS and TOTP factors"), the device is remembered and can be proven,
    /// and the sign-in would otherwise be asked for a factor the user has,
    /// whichever it is: SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP or the
    /// SELECT_MFA_TYPE choice between them (no code is sent then). Never
    /// for MFA_SETUP, which a user without a factor must still go through.
    pub(crate) fn device_replaces_mfa(pool: &UserPool, user: &User, device: &Device) -> bool {
        let Some((challenge_required, _)) = device_tracking(pool) else {
            return false;
        };
        challenge_required
            && device.remembered
            && device_secret(device).is_some()
            && matches!(
                Self::mfa_challenge(pool, user),
                Some((
                    "SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP" | "SELECT_MFA_TYPE",
                    _
                ))
            )
    }

    /// The device a finished sign-in must prove before tokens: a device of
    /// the user named by `DEVICE_KEY`, in a pool that tracks devices, with
    /// an SRP verifier. An unknown key is not refused here (the password
    /// step refused it already; later steps just issue a new device).
    pub(crate) fn device_to_prove<'a>(
        pool: &UserPool,
        user: &'a User,
        device_key: Option<&str>,
    ) -> Option<&'a Device> {
        Self::named_device(pool, user, device_key)
            .ok()
            .flatten()
            .filter(|d| device_secret(d).is_some())
    }

    /// Opens a DEVICE_SRP_AUTH challenge for `device`.
    pub(crate) async fn device_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        device: &Device,
    ) -> Result<SignInStep> {
        let session = self
            .open_session(
                pool,
                client,
                user,
                "DEVICE_SRP_AUTH",
                json!({"device_key": device.key}),
                Channel::Api,
            )
            .await?;
        Ok(SignInStep::Challenge {
            name: "DEVICE_SRP_AUTH".into(),
            session,
            parameters: BTreeMap::new(),
            user: user.clone(),
        })
    }

    /// Answers DEVICE_SRP_AUTH (`USERNAME`, `DEVICE_KEY`, `SRP_A`) with the
    /// DEVICE_PASSWORD_VERIFIER challenge: the device's salt, B and a secret
    /// block under which the exchange is stored.
    pub(crate) async fn device_srp_start(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: &ChallengeSession,
        input: &ChallengeInput,
        user: User,
    ) -> Result<SignInStep> {
        let device_key = param(&input.responses, "DEVICE_KEY")?;
        let srp_a = param(&input.responses, "SRP_A")?;
        if !cognate_crypto::srp::valid_a(srp_a) {
            return Err(Error::invalid_parameter("Invalid SRP_A value."));
        }
        let expected = session.data.get("device_key").and_then(|v| v.as_str());
        if expected != Some(device_key) {
            return Err(Error::incorrect_credentials());
        }
        let device = user
            .devices
            .iter()
            .find(|d| d.key == device_key)
            .ok_or_else(not_found)?;
        let (salt, verifier) = device_secret(device).ok_or_else(Error::incorrect_credentials)?;
        let b = cognate_crypto::random::bytes(32);
        let v = verifier.clone();
        let exchange =
            tokio::task::spawn_blocking(move || cognate_crypto::srp::server_start(&v, &b))
                .await
                .map_err(|e| Error::internal(e.to_string()))?
                .ok_or_else(Error::incorrect_credentials)?;
        let expires = self.now() + client.settings.auth_session_validity * 60_000;
        let secret_block = self
            .secret_block(&pool.id, &client.client_id, expires)
            .await?;
        self.store
            .put_session(&ChallengeSession {
                handle_hash: cognate_crypto::digest::sha256_hex(secret_block.as_bytes()),
                pool_id: pool.id.clone(),
                client_id: client.client_id.clone(),
                username: user.username_key.clone(),
                challenge: "DEVICE_PASSWORD_VERIFIER".into(),
                expires,
                data: json!({
                    "a": srp_a,
                    "b": exchange.b,
                    "big_b": exchange.big_b,
                    "verifier": verifier,
                    "device_key": device_key,
                    "device_group_key": Self::device_group_key(pool, &user),
                }),
            })
            .await?;
        let mut parameters = BTreeMap::new();
        parameters.insert("SALT".to_owned(), cognate_crypto::srp::salt_param(&salt));
        parameters.insert("SRP_B".to_owned(), exchange.big_b);
        parameters.insert("SECRET_BLOCK".to_owned(), secret_block.clone());
        parameters.insert("USERNAME".to_owned(), user.username.clone());
        Ok(SignInStep::Challenge {
            name: "DEVICE_PASSWORD_VERIFIER".into(),
            session: secret_block,
            parameters,
            user,
        })
    }

    /// Answers DEVICE_PASSWORD_VERIFIER: checks PASSWORD_CLAIM_SIGNATURE,
    /// HMAC(K, DeviceGroupKey ‖ DeviceKey ‖ secret block ‖ TIMESTAMP), with
    /// the device's verifier. A wrong proof counts as a failed sign-in.
    pub(crate) async fn device_srp_finish(
        &self,
        pool: &UserPool,
        session: &ChallengeSession,
        input: &ChallengeInput,
    ) -> Result<SignInStep> {
        let device_key = param(&input.responses, "DEVICE_KEY")?.to_owned();
        let user = self
            .store
            .get_user(&pool.id, &session.username)
            .await?
            .ok_or_else(Error::incorrect_credentials)?;
        if self.sign_in_locked(&user).await? {
            return Err(Error::not_authorized("Password attempts exceeded"));
        }
        let same_device = cognate_crypto::digest::constant_time_eq(
            device_key.as_bytes(),
            session_field(session, "device_key").as_bytes(),
        );
        let ok = self
            .srp_claim_holds(
                session,
                input,
                session_field(session, "device_group_key"),
                device_key.clone(),
            )
            .await?;
        if !(ok && same_device) {
            return Err(self.failed_sign_in(&user).await);
        }
        self.clear_failures(&user).await?;
        let now = self.now();
        let (user, ()) = self
            .update_user(user, |u| {
                let device = u
                    .devices
                    .iter_mut()
                    .find(|d| d.key == device_key)
                    .ok_or_else(not_found)?;
                device.last_authenticated = now;
                if let Some(ip) = crate::audit::user_ip() {
                    device.last_ip = Some(ip.to_string());
                }
                Ok(())
            })
            .await?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        Ok(SignInStep::Done(user))
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

    /// The device a sign-in that ends in tokens is bound to (the access
    /// token's `device_key`, kept with the refresh token): the new device
    /// handed out, or the confirmed device of the user it named, in a pool
    /// that tracks devices.
    pub(crate) fn bound_device(
        pool: &UserPool,
        user: &User,
        device_key: Option<&str>,
        new_device: Option<&NewDeviceMetadata>,
    ) -> Option<String> {
        device_tracking(pool)?;
        if let Some(new) = new_device {
            return Some(new.device_key.clone());
        }
        device_key
            .filter(|k| user.devices.iter().any(|d| d.key == *k))
            .map(str::to_owned)
    }

    /// A refresh of a token whose sign-in was bound to a device, while the
    /// pool tracks devices: Cognito answers "Invalid Refresh Token" unless
    /// the request names that device (`DEVICE_KEY` / `DeviceKey`) and the
    /// device was confirmed (ConfirmDevice) and not forgotten since.
    pub(crate) fn refresh_device_ok(
        pool: &UserPool,
        user: &User,
        record: &crate::model::RefreshTokenRecord,
        given: Option<&str>,
    ) -> Result<()> {
        let (Some(bound), Some(_)) = (record.device_key.as_deref(), device_tracking(pool)) else {
            return Ok(());
        };
        let named = given.is_some_and(|k| {
            cognate_crypto::digest::constant_time_eq(k.as_bytes(), bound.as_bytes())
        });
        if !named || !user.devices.iter().any(|d| d.key == bound) {
            return Err(Error::not_authorized("Invalid Refresh Token"));
        }
        Ok(())
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
        let (pool_id, claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        let (_, on_prompt) = tracking_required(&pool)?;
        // The key must be the one this sign-in was given (NewDeviceMetadata,
        // carried by the access token as `device_key`): AWS refuses any other
        // with these words.
        let issued = claims.device_key.as_deref().is_some_and(|k| {
            cognate_crypto::digest::constant_time_eq(k.as_bytes(), device_key.as_bytes())
        });
        if !issued {
            return Err(Error::invalid_parameter("Invalid device key given."));
        }
        check_verifier_config(salt.as_deref(), verifier.as_deref())?;
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
                last_ip: crate::audit::user_ip().map(|ip| ip.to_string()),
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
        let page: Vec<DeviceView> = user
            .devices
            .iter()
            .skip(start)
            .take(limit)
            .map(|d| self.device_view(&pool, &user, d))
            .collect();
        let next = (start + page.len() < user.devices.len())
            .then(|| page.last().map(|d| encode_token(&d.device.key)))
            .flatten();
        Ok(DevicePage {
            devices: page,
            next,
        })
    }

    pub async fn get_device(&self, who: DeviceOwner<'_>, device_key: &str) -> Result<DeviceView> {
        let (pool, user) = self.device_owner(who).await?;
        tracking_required(&pool)?;
        user.devices
            .iter()
            .find(|d| d.key == device_key)
            .map(|d| self.device_view(&pool, &user, d))
            .ok_or_else(not_found)
    }

    /// A device of `user` with its attributes. The owner is
    /// `<username>.<pool id>`, and the device's ARN names it.
    fn device_view(&self, pool: &UserPool, user: &User, device: &Device) -> DeviceView {
        let owner = format!("{}.{}", user.username, pool.id);
        let arn = format!(
            "arn:aws:cognito-idp:{}:{}:owner/{owner}/device/{}",
            self.config.region, self.config.account_id, device.key
        );
        let mut attributes = vec![("device_status", "valid".to_owned())];
        if let Some(name) = &device.name {
            attributes.push(("device_name", name.clone()));
        }
        attributes.push(("dev:device_arn", arn));
        attributes.push(("dev:device_owner", owner));
        if let Some(ip) = &device.last_ip {
            attributes.push(("last_ip_used", ip.clone()));
        }
        let remembered = if device.remembered {
            "remembered"
        } else {
            "not_remembered"
        };
        attributes.push(("dev:device_remembered_status", remembered.to_owned()));
        attributes.push(("dev:device_sdk", "aws-sdk".to_owned()));
        DeviceView {
            device: device.clone(),
            attributes,
        }
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

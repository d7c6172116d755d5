//! CreateUserPool, DescribeUserPool, ListUserPools, UpdateUserPool, DeleteUserPool.

use super::{decode_token, Page, UserPools};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{PoolSettings, StoredKey, UserPool};
use crate::schema::{self, SchemaInput};
use crate::tokens::KeyCache;

/// What CreateUserPool (or the config file) asks for.
#[derive(Clone, Debug, Default)]
pub struct NewPool {
    /// An explicit id (config file); otherwise one is generated.
    pub id: Option<String>,
    pub name: String,
    pub alias_attributes: Vec<String>,
    pub username_attributes: Vec<String>,
    pub username_case_sensitive: Option<bool>,
    pub schema: Vec<SchemaInput>,
    pub settings: PoolSettings,
}

/// AWS refuses account recovery by phone while SMS MFA is required: the
/// phone would be both the second factor and the way around the password
/// (its words, as a user captured them).
pub(crate) fn check_recovery_against_sms_mfa(settings: &PoolSettings) -> Result<()> {
    let by_phone = settings
        .account_recovery
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|o| o.name == "verified_phone_number");
    if settings.mfa_configuration == "ON" && settings.sms_mfa_enabled && by_phone {
        return Err(Error::invalid_parameter(
            "Invalid account recovery setting parameter. Account Recovery Setting cannot use verified_phone_number as a recovery mechanism when SMS MFA is configured.",
        ));
    }
    Ok(())
}

fn check_settings(settings: &PoolSettings) -> Result<()> {
    check_recovery_against_sms_mfa(settings)?;
    let p = &settings.password_policy;
    if !(6..=99).contains(&p.minimum_length) {
        return Err(Error::invalid_parameter(
            "Password policy MinimumLength must be between 6 and 99.",
        ));
    }
    for a in &settings.auto_verified_attributes {
        if a != "email" && a != "phone_number" {
            return Err(Error::invalid_parameter(format!(
                "Invalid auto verified attribute: {a}"
            )));
        }
    }
    if !["OFF", "ON", "OPTIONAL"].contains(&settings.mfa_configuration.as_str()) {
        return Err(Error::invalid_parameter("Invalid MfaConfiguration."));
    }
    // Threat protection (AdvancedSecurityMode AUDIT or ENFORCED) is a Plus
    // feature: AWS refuses it on the other plans with this text.
    if settings.threat_protection_on() && settings.user_pool_tier != "PLUS" {
        return Err(Error::new(
            crate::error::ErrorKind::FeatureUnavailableInTier,
            format!(
                "The following features need to be disabled for the {} pricing tier configured: Threat Protection",
                settings.user_pool_tier
            ),
        ));
    }
    // The model: a sign-in policy "must be in the Essentials tier or
    // higher" to take effect; passwordless first factors are refused on
    // LITE (the text is cognate's: AWS publishes none).
    if settings.user_pool_tier == "LITE"
        && super::user_auth::first_auth_factors_of(settings)
            .iter()
            .any(|f| f != "PASSWORD")
    {
        return Err(Error::new(
            crate::error::ErrorKind::FeatureUnavailableInTier,
            "Passwordless sign-in (AllowedFirstAuthFactors other than PASSWORD) is not available in the LITE feature plan.",
        ));
    }
    Ok(())
}

impl UserPools {
    /// A new pool id: `{region}_{9 alphanumerics}`.
    pub fn new_pool_id(&self) -> String {
        format!(
            "{}_{}",
            self.config.region,
            cognate_crypto::random::alnum(9)
        )
    }

    pub async fn create_user_pool(&self, input: NewPool) -> Result<UserPool> {
        check_settings(&input.settings)?;
        super::mfa::check_passkeys_under_required_mfa(
            &input.settings,
            &input.settings.webauthn,
            true,
        )?;
        if !input.alias_attributes.is_empty() && !input.username_attributes.is_empty() {
            return Err(Error::invalid_parameter(
                "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
            ));
        }
        for a in &input.username_attributes {
            if a != "email" && a != "phone_number" {
                return Err(Error::invalid_parameter(format!(
                    "Invalid username attribute: {a}"
                )));
            }
        }
        for a in &input.alias_attributes {
            if !["email", "phone_number", "preferred_username"].contains(&a.as_str()) {
                return Err(Error::invalid_parameter(format!(
                    "Invalid alias attribute: {a}"
                )));
            }
        }
        let schema = schema::build_schema(&input.schema)?;
        let now = self.now();
        let id = input.id.clone().unwrap_or_else(|| self.new_pool_id());
        if !valid_pool_id(&id) {
            return Err(Error::invalid_parameter(format!(
                "Invalid user pool id: {id}"
            )));
        }
        let pool = UserPool {
            id: id.clone(),
            name: input.name,
            created: now,
            modified: now,
            alias_attributes: input.alias_attributes,
            username_attributes: input.username_attributes,
            username_case_sensitive: input.username_case_sensitive,
            schema,
            settings: input.settings,
            sessions: Default::default(),
            terms: Vec::new(),
            managed_login_branding: Vec::new(),
            identity_providers: Vec::new(),
            log_configurations: None,
            risk_configurations: Vec::new(),
            version: 0,
        };
        let keys = tokio::task::spawn_blocking(move || KeyCache::generate_pool_keys(&id, now))
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        match self.store.insert_pool(&pool, &keys).await {
            Ok(()) => {
                crate::audit::admin_event("create_user_pool", &pool.id);
                Ok(pool)
            }
            Err(crate::error::StoreError::Conflict(_)) => Err(Error::invalid_parameter(format!(
                "User pool {} already exists.",
                pool.id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn describe_user_pool(&self, pool_id: &str) -> Result<(UserPool, u64)> {
        let pool = self.pool(pool_id).await?;
        let users = self.store.count_users(pool_id).await?;
        Ok(((*pool).clone(), users))
    }

    pub async fn list_user_pools(&self, max: usize, next: Option<&str>) -> Result<Page<UserPool>> {
        let after = next.map(decode_token).transpose()?;
        let items = self.store.list_pools(after.as_deref(), max + 1).await?;
        Ok(Page::from_overfetch(items, max, |p| &p.id))
    }

    /// Replaces the mutable settings (and the name, when given). Tags are
    /// kept when `settings` leaves them out (`keep_tags`): they are also
    /// TagResource's, and an update that does not name them does not drop them.
    pub async fn update_user_pool(
        &self,
        pool_id: &str,
        name: Option<String>,
        settings: PoolSettings,
        keep_tags: bool,
    ) -> Result<UserPool> {
        check_settings(&settings)?;
        let pool = (*self.pool(pool_id).await?).clone();
        let now = self.now();
        let (pool, ()) = self
            .update_pool(pool, |pool| {
                if let Some(name) = &name {
                    pool.name = name.clone();
                }
                let tags = std::mem::take(&mut pool.settings.user_pool_tags);
                // SetUserPoolMfaConfig's factor configuration is not part of
                // UpdateUserPool's request and stays as it was.
                let totp = pool.settings.software_token_mfa_enabled;
                let totp_stated = pool.settings.software_token_mfa_stated;
                let sms = pool.settings.sms_mfa_enabled;
                let email = pool.settings.email_mfa.take();
                let webauthn = std::mem::take(&mut pool.settings.webauthn);
                pool.settings = settings.clone();
                pool.settings.software_token_mfa_enabled = totp;
                pool.settings.software_token_mfa_stated = totp_stated;
                pool.settings.sms_mfa_enabled = sms;
                pool.settings.email_mfa = email;
                pool.settings.webauthn = webauthn;
                super::mfa::check_passkeys_under_required_mfa(
                    &pool.settings,
                    &pool.settings.webauthn,
                    true,
                )?;
                check_recovery_against_sms_mfa(&pool.settings)?;
                if keep_tags {
                    pool.settings.user_pool_tags = tags;
                }
                pool.modified = now;
                Ok(())
            })
            .await?;
        Ok(pool)
    }

    /// AddCustomAttributes: appends custom attributes to the pool's schema.
    pub async fn add_custom_attributes(&self, pool_id: &str, inputs: &[SchemaInput]) -> Result<()> {
        let pool = (*self.pool(pool_id).await?).clone();
        schema::add_custom_attributes(&pool.schema, inputs)?;
        let now = self.now();
        self.update_pool(pool, |pool| {
            let added = schema::add_custom_attributes(&pool.schema, inputs)?;
            pool.schema.extend(added);
            pool.modified = now;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Sets the fields the config file controls on an existing pool, including
    /// ones the API cannot change after creation; the schema only grows.
    pub async fn reconcile_user_pool(&self, input: NewPool) -> Result<UserPool> {
        let Some(id) = input.id.clone() else {
            return Err(Error::invalid_parameter("pool id required"));
        };
        let Some(pool) = self.store.get_pool(&id).await? else {
            return self.create_user_pool(input).await;
        };
        check_settings(&input.settings)?;
        let schema = schema::build_schema(&input.schema)?;
        let now = self.now();
        let (pool, ()) = self
            .update_pool(pool, |pool| {
                for attr in &schema {
                    match pool.schema.iter_mut().find(|a| a.name == attr.name) {
                        Some(existing) => *existing = attr.clone(),
                        None => pool.schema.push(attr.clone()),
                    }
                }
                let changed = pool.name != input.name
                    || pool.settings != input.settings
                    || pool.alias_attributes != input.alias_attributes
                    || pool.username_attributes != input.username_attributes
                    || pool.username_case_sensitive != input.username_case_sensitive;
                pool.name = input.name.clone();
                pool.settings = input.settings.clone();
                pool.alias_attributes = input.alias_attributes.clone();
                pool.username_attributes = input.username_attributes.clone();
                pool.username_case_sensitive = input.username_case_sensitive;
                if changed {
                    pool.modified = now;
                }
                Ok(())
            })
            .await?;
        Ok(pool)
    }

    pub async fn delete_user_pool(&self, pool_id: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        if pool.settings.deletion_protection {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
            ));
        }
        self.store.delete_pool(pool_id).await?;
        crate::audit::admin_event("delete_user_pool", pool_id);
        self.keys.forget(pool_id);
        self.verifier.forget_issuer(&self.issuer(pool_id));
        self.pools.forget(pool_id);
        Ok(())
    }

    /// The public keys of a pool, for its JWKS: every key not retired,
    /// including a rotation's new keys before they sign.
    pub async fn jwks(&self, pool_id: &str) -> Result<Vec<cognate_crypto::Jwk>> {
        self.pool(pool_id).await?;
        let now = self.now();
        let keys = self.keys.get(self.store.as_ref(), pool_id, now).await?;
        Ok(keys.published(now).map(|k| k.jwk().clone()).collect())
    }

    /// Rotates a pool's signing keys. New ID and access keys are published
    /// at once and sign from `now + lead_ms`, so every JWKS consumer that
    /// refreshes within the lead knows them before it sees a token they
    /// signed (cognate-token refetches for an unknown kid at most every
    /// 30 s; every cognate instance rereads a pool's keys every
    /// [`KEY_REFRESH_MS`](crate::tokens::KEY_REFRESH_MS)).
    /// The old keys stop signing then and stay published until every token
    /// they signed has expired ([`KEY_RETIRE_AFTER_MS`] after). With
    /// `only_if_older_than`, rotates only if no key started signing after
    /// that instant (scheduled rotation; concurrent instances rotate once).
    /// Returns the new keys, or `None` when nothing was due.
    pub async fn rotate_keys(
        &self,
        pool_id: &str,
        lead_ms: i64,
        only_if_older_than: Option<i64>,
    ) -> Result<Option<Vec<StoredKey>>> {
        self.pool(pool_id).await?;
        let now = self.now();
        let signs_from = now + lead_ms.max(0);
        let id = pool_id.to_owned();
        let keys =
            tokio::task::spawn_blocking(move || KeyCache::generate_keys(&id, now, signs_from))
                .await
                .map_err(|e| Error::internal(e.to_string()))??;
        let rotated = self
            .store
            .rotate_keys(
                pool_id,
                &keys,
                signs_from + KEY_RETIRE_AFTER_MS,
                only_if_older_than,
            )
            .await?;
        self.keys.forget(pool_id);
        self.verifier.forget_issuer(&self.issuer(pool_id));
        if rotated {
            crate::audit::admin_event("rotate_signing_keys", pool_id);
        }
        Ok(rotated.then_some(keys))
    }

    /// A pool's signing keys as stored (fresh from the store, not the
    /// cache), without their private parts, newest first: for the admin
    /// console's key list.
    pub async fn signing_keys(&self, pool_id: &str) -> Result<Vec<SigningKeyInfo>> {
        self.pool(pool_id).await?;
        let mut keys: Vec<SigningKeyInfo> = self
            .store
            .list_keys(pool_id)
            .await?
            .into_iter()
            .map(|k| SigningKeyInfo {
                kid: k.kid,
                purpose: k.purpose,
                created: k.created,
                signs_from: k.signs_from,
                signs_until: k.signs_until,
                published_until: k.published_until,
            })
            .collect();
        keys.sort_by(|a, b| (b.signs_from, &b.purpose).cmp(&(a.signs_from, &a.purpose)));
        Ok(keys)
    }
}

/// A signing key's public facts (`UserPools::signing_keys`); times in
/// milliseconds since the epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKeyInfo {
    pub kid: String,
    /// `id` or `access`.
    pub purpose: String,
    pub created: i64,
    pub signs_from: i64,
    /// Set when a rotation replaced it.
    pub signs_until: Option<i64>,
    /// Set when a rotation replaced it: it leaves the JWKS then.
    pub published_until: Option<i64>,
}

/// How long a replaced key stays published after it stopped signing: the
/// longest life of an ID or access token (one day) plus five minutes of
/// clock skew, so no token it signed is refused.
pub const KEY_RETIRE_AFTER_MS: i64 = (24 * 3600 + 300) * 1000;

/// `[\w-]+_[0-9a-zA-Z]+`, at most 55 characters.
pub fn valid_pool_id(id: &str) -> bool {
    let Some((region, rest)) = id.split_once('_') else {
        return false;
    };
    id.len() <= 55
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

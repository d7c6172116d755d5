//! The user-pool service: every Cognito operation as a method that takes
//! domain inputs and returns domain outputs. It reaches storage, time,
//! password hashing and message delivery only through what it was built with.

mod account;
mod auth;
mod auth_events;
mod client_records;
pub mod client_token;
mod clients;
mod custom_sender;
pub mod derived_token;
pub mod devices;
pub mod domains;
pub mod federation;
mod groups;
pub mod hosted;
pub mod identities;
mod import_jobs;
mod mfa;
mod oauth;
mod otp;
pub mod pool_records;
pub mod pools;
pub mod regional;
mod resource_servers;
mod risk;
pub mod saml_metadata;
pub mod saml_response;
mod saml_sign_in;
pub mod sessions;
mod triggers;
mod triggers_auth;
pub mod ui;
pub mod ui_css;
mod user_auth;
pub mod user_sessions;
mod users;
pub mod webauthn;

use std::sync::Arc;

use cognate_crypto::PasswordHasher;

use crate::clock::Clock;
use crate::delivery::MessageSink;
use crate::error::{Error, ErrorKind, Result, StoreError};
use crate::hashing::HashWorkers;
use crate::model::{AppClient, User, UserPool};
use crate::store::{Store, Write};
use crate::tokens::KeyCache;

pub use auth::{
    AuthFlowInput, AuthOutcome, AuthenticationResult, ChallengeInput, RefreshTokensInput,
};
pub use client_records::{merged_style_settings, AddedSecret, BrandingInput, TermsInput};
pub use clients::{NewClient, SYSTEM_SCOPES};
pub use groups::GroupFields;
pub use import_jobs::{NewImportJob, UploadError, MAX_CSV_BYTES};
pub use mfa::{
    user_mfa_setting_list, FactorPreference, MfaCaller, MfaConfig, MfaPreferences, SmsMfaConfig,
};
pub use oauth::{ClientAuth, OAuthError, OAuthTokens, UserInfoError};
pub use pool_records::{ProviderInput, RiskInput};
pub use pools::NewPool;
pub use user_auth::{first_auth_factors, user_auth_factors};
pub use users::{parse_filter, AdminCreateUserInput, CodeDelivery, SignUpInput, SignUpOutput};

/// Server-wide facts the domain needs.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Base of token issuers: `iss` = `{public_url}/{pool_id}`.
    pub public_url: String,
    /// Region used in new pool ids and ARNs.
    pub region: String,
    /// Account id used in ARNs.
    pub account_id: String,
}

/// A page of results and the token of the next page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page from up to `limit + 1` items read in order: the extra item,
    /// if any, only says that there is a next page, whose token is the key
    /// of the page's last item.
    pub(crate) fn from_overfetch(
        mut items: Vec<T>,
        limit: usize,
        key: impl Fn(&T) -> &str,
    ) -> Self {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| encode_token(key(last)))
        } else {
            None
        };
        Page { items, next }
    }
}

/// The user-pool service.
pub struct UserPools {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hashing: HashWorkers,
    pub(crate) sink: Arc<dyn MessageSink>,
    pub(crate) keys: Arc<KeyCache>,
    pub(crate) pools: ShortCache<UserPool>,
    pub(crate) clients: ShortCache<AppClient>,
    /// The one verifier of this server's tokens (`crate::verify`).
    pub(crate) verifier: cognate_token::Verifier,
    pub(crate) config: ServiceConfig,
    /// The key of the hosted UI's signed cookies (a server-wide secret).
    pub(crate) cookie_key: tokio::sync::OnceCell<Vec<u8>>,
    /// Invokes the pools' Lambda triggers.
    pub(crate) lambda: Arc<dyn crate::triggers::LambdaInvoker>,
    /// Encrypts the codes custom sender triggers receive (a KMS endpoint).
    pub(crate) kms: Arc<dyn crate::triggers::CodeEncryptor>,
    /// This instance's rate limits (`crate::ratelimit`).
    pub(crate) limits: crate::ratelimit::RateLimiter,
    /// How failed sign-ins lock an account (Cognito's policy unless configured).
    pub(crate) lockout: crate::store::LockoutPolicy,
    /// Reaches external identity providers (`federation.rs`).
    pub(crate) provider_http: Arc<dyn federation::ProviderHttp>,
    /// Threat protection's list of compromised passwords, if the server
    /// has one (`risk.rs`).
    pub(crate) compromised: Option<Arc<crate::compromised::CompromisedPasswords>>,
    /// The server's geo-IP database, if it has one (`crate::geoip`).
    pub(crate) geoip: Option<Arc<crate::geoip::GeoIp>>,
}

impl UserPools {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        hasher: PasswordHasher,
        sink: Arc<dyn MessageSink>,
        config: ServiceConfig,
    ) -> Self {
        // One hashing thread per core: more could only queue.
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let keys = Arc::new(KeyCache::default());
        let verifier = crate::verify::local_verifier(
            store.clone(),
            clock.clone(),
            keys.clone(),
            &config.public_url,
        );
        UserPools {
            store,
            clock,
            hashing: HashWorkers::new(hasher, cores),
            sink,
            keys,
            pools: ShortCache::default(),
            clients: ShortCache::default(),
            verifier,
            config,
            cookie_key: tokio::sync::OnceCell::new(),
            lambda: Arc::new(crate::triggers::NoLambda),
            kms: Arc::new(crate::triggers::NoKms),
            limits: crate::ratelimit::RateLimiter::default(),
            lockout: crate::ratelimit::LockoutConfig::default().policy(),
            provider_http: Arc::new(federation::NoProviderHttp),
            compromised: None,
            geoip: None,
        }
    }

    /// The service with these rate limits (else the defaults).
    pub fn with_rate_limits(mut self, config: &crate::ratelimit::RateLimitConfig) -> Self {
        self.limits = crate::ratelimit::RateLimiter::new(config);
        self
    }

    /// The service with this lockout policy (else Cognito's).
    pub fn with_lockout(mut self, config: &crate::ratelimit::LockoutConfig) -> Self {
        self.lockout = config.policy();
        self
    }

    /// The per-IP limit of `action` for the request being served.
    pub(crate) fn limit_ip(&self, action: crate::ratelimit::Action) -> Result<()> {
        self.limits.ip(action, self.now())
    }

    /// The per-user limit of `action` for the name a caller gave (known
    /// user or not: the answer must not tell).
    pub(crate) fn limit_user(
        &self,
        action: crate::ratelimit::Action,
        pool: &UserPool,
        name: &str,
    ) -> Result<()> {
        self.limits
            .user(action, &pool.id, &pool.username_key(name), self.now())
    }

    /// The service invoking Lambda triggers through `invoker`.
    pub fn with_lambda(mut self, invoker: Arc<dyn crate::triggers::LambdaInvoker>) -> Self {
        self.lambda = invoker;
        self
    }

    /// The service encrypting custom senders' codes through `kms`.
    pub fn with_kms(mut self, kms: Arc<dyn crate::triggers::CodeEncryptor>) -> Self {
        self.kms = kms;
        self
    }

    /// The service checking passwords against this list of compromised
    /// passwords where a pool's threat protection asks for it.
    pub fn with_compromised_passwords(
        mut self,
        list: Arc<crate::compromised::CompromisedPasswords>,
    ) -> Self {
        self.compromised = Some(list);
        self
    }

    /// The service placing addresses (auth events, risk notifications)
    /// with this geo-IP database.
    pub fn with_geoip(mut self, geoip: Arc<crate::geoip::GeoIp>) -> Self {
        self.geoip = Some(geoip);
        self
    }

    /// Where an address is, as far as the server's geo-IP database tells.
    pub fn locate(&self, ip: Option<std::net::IpAddr>) -> crate::geoip::Place {
        match (&self.geoip, ip) {
            (Some(db), Some(ip)) => db.locate(ip),
            _ => crate::geoip::Place::default(),
        }
    }

    /// The service reaching external identity providers through `http`.
    pub fn with_provider_http(mut self, http: Arc<dyn federation::ProviderHttp>) -> Self {
        self.provider_http = http;
        self
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The issuer of a pool's tokens.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{}", self.config.public_url, pool_id)
    }

    pub fn pool_arn(&self, pool_id: &str) -> String {
        format!(
            "arn:aws:cognito-idp:{}:{}:userpool/{}",
            self.config.region, self.config.account_id, pool_id
        )
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_millis()
    }

    /// The service's clock, in milliseconds since the epoch.
    pub fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }

    /// A pool, from a short-lived in-process cache (see [`ShortCache`]).
    pub(crate) async fn pool(&self, pool_id: &str) -> Result<Arc<UserPool>> {
        if let Some(pool) = self.pools.get(pool_id, self.now()) {
            return Ok(pool);
        }
        self.fresh_pool(pool_id).await
    }

    /// A pool read from the store (refreshing the cache), for decisions
    /// that must not lag behind a change made through another instance.
    pub(crate) async fn fresh_pool(&self, pool_id: &str) -> Result<Arc<UserPool>> {
        let pool = Arc::new(
            self.store
                .get_pool(pool_id)
                .await?
                .ok_or_else(|| Error::pool_not_found(pool_id))?,
        );
        self.pools.put(pool_id.to_owned(), pool.clone(), self.now());
        Ok(pool)
    }

    pub(crate) async fn client(&self, client_id: &str) -> Result<AppClient> {
        self.cached_client(client_id)
            .await?
            .map(|c| (*c).clone())
            .ok_or_else(|| Error::client_not_found(client_id))
    }

    /// A client from the short-lived cache (see [`ShortCache`]), `None` if it does not exist.
    pub(crate) async fn cached_client(&self, client_id: &str) -> Result<Option<Arc<AppClient>>> {
        if let Some(client) = self.clients.get(client_id, self.now()) {
            return Ok(Some(client));
        }
        let Some(client) = self.store.get_client(client_id).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        self.clients
            .put(client_id.to_owned(), client.clone(), self.now());
        Ok(Some(client))
    }

    /// `ip` as the end user's address that a public call stated in its
    /// `UserContextData`, where the app client propagates additional user
    /// context data (AWS allows that only on a client with a secret);
    /// else none: a public client's caller cannot choose the address that
    /// threat protection judges.
    pub async fn propagated_user_ip(
        &self,
        client_id: &str,
        ip: std::net::IpAddr,
    ) -> Option<std::net::IpAddr> {
        let client = self.cached_client(client_id).await.ok().flatten()?;
        (client
            .settings
            .enable_propagate_additional_user_context_data
            && !client.secrets.is_empty())
        .then_some(ip)
    }

    /// The client, checked to belong to `pool_id`.
    pub(crate) async fn client_of(&self, pool_id: &str, client_id: &str) -> Result<AppClient> {
        let client = self.client(client_id).await?;
        if client.pool_id != pool_id {
            return Err(Error::client_not_found(client_id));
        }
        Ok(client)
    }

    /// A password's argon2id hash for password sign-in and an SRP salt and
    /// verifier for USER_SRP_AUTH (of user id `user_id`, the username),
    /// computed on the hashing threads, one hash per core at a time.
    pub(crate) async fn password_material(
        &self,
        pool: &UserPool,
        user_id: &str,
        password: &str,
    ) -> Result<PasswordMaterial> {
        let password = password.to_owned();
        let pool_name = pool.short_name().to_owned();
        let user_id = user_id.to_owned();
        let (hash, (srp_salt, srp_verifier)) = self
            .hashing
            .run(move |hasher, memory| {
                let hash = hasher.hash_with(&password, memory);
                let srp = cognate_crypto::srp::make_verifier(
                    &pool_name,
                    &user_id,
                    &password,
                    &cognate_crypto::random::bytes(16),
                );
                (hash, srp)
            })
            .await?;
        Ok(PasswordMaterial {
            hash: hash.map_err(|e| Error::internal(e.to_string()))?,
            srp_salt,
            srp_verifier,
        })
    }

    /// Sets the password of a user that is not stored yet.
    pub(crate) async fn set_password(
        &self,
        pool: &UserPool,
        user: &mut User,
        password: &str,
    ) -> Result<()> {
        self.password_material(pool, &user.username, password)
            .await?
            .apply(user);
        Ok(())
    }

    /// Verifies a password on a hashing thread. With no stored hash, spends
    /// the same time and answers false, so timing does not reveal the user.
    pub(crate) async fn verify_password(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let password = password.to_owned();
        let hash = hash.map(str::to_owned);
        self.hashing
            .run(move |hasher, memory| match hash {
                Some(h) => hasher.verify_with(&password, &h, memory),
                None => {
                    hasher.verify_dummy(&password, memory);
                    false
                }
            })
            .await
    }

    /// The client and pool of a client-facing call (SignUp, ConfirmSignUp,
    /// ForgotPassword, ...), with its SECRET_HASH checked.
    pub(crate) async fn client_call(
        &self,
        client_id: &str,
        username: &str,
        secret_hash: Option<&str>,
    ) -> Result<(AppClient, Arc<UserPool>)> {
        let client = self.client(client_id).await?;
        let pool = self.pool(&client.pool_id).await?;
        self.check_secret_hash(&client, username, secret_hash)?;
        Ok((client, pool))
    }

    /// Checks SECRET_HASH for a client that has a secret: the `SecretHash`
    /// member of SignUp, ConfirmSignUp, ForgotPassword, ..., and
    /// USER_PASSWORD_AUTH's and REFRESH_TOKEN_AUTH's parameter.
    pub(crate) fn check_secret_hash(
        &self,
        client: &AppClient,
        username: &str,
        provided: Option<&str>,
    ) -> Result<()> {
        self.check_secret_hash_worded(client, username, provided, false)
    }

    /// [`check_secret_hash`](Self::check_secret_hash) for the SECRET_HASH
    /// of the SRP, admin, custom and choice-based flows' AuthParameters and
    /// of ChallengeResponses, whose absence Cognito words differently
    /// (captures of USER_SRP_AUTH, ADMIN_NO_SRP_AUTH and SMS_MFA answers,
    /// 2023-25: "Client <id> is configured with secret but SECRET_HASH was
    /// not received").
    pub(crate) fn check_challenge_secret_hash(
        &self,
        client: &AppClient,
        username: &str,
        provided: Option<&str>,
    ) -> Result<()> {
        self.check_secret_hash_worded(client, username, provided, true)
    }

    fn check_secret_hash_worded(
        &self,
        client: &AppClient,
        username: &str,
        provided: Option<&str>,
        challenge_wording: bool,
    ) -> Result<()> {
        if !client.has_secret() {
            return Ok(());
        }
        let Some(provided) = provided else {
            let id = &client.client_id;
            return Err(Error::not_authorized(if challenge_wording {
                format!("Client {id} is configured with secret but SECRET_HASH was not received")
            } else {
                format!("Client {id} is configured for secret but secret was not received")
            }));
        };
        if client.secret_hash_matches(username, provided) {
            Ok(())
        } else {
            Err(Error::not_authorized(format!(
                "Unable to verify secret hash for client {}",
                client.client_id
            )))
        }
    }

    /// Finds a user by the name a caller gave: the username, an email or
    /// phone number in pools that sign in with them, an alias (a verified
    /// email or phone number, a confirmed user's preferred_username), or
    /// (for admin calls) the `sub`.
    pub(crate) async fn find_user(
        &self,
        pool: &UserPool,
        name: &str,
        allow_sub: bool,
    ) -> Result<Option<User>> {
        if let Some(user) = self
            .store
            .get_user(&pool.id, &pool.username_key(name))
            .await?
        {
            return Ok(Some(user));
        }
        for kind in pool
            .username_attributes
            .iter()
            .chain(pool.alias_attributes.iter())
        {
            let found = self
                .store
                .get_user_by_alias(&pool.id, kind, &pool.alias_value(kind, name))
                .await?;
            if let Some(user) = found.filter(|u| {
                kind != "preferred_username" || u.status == crate::model::UserStatus::Confirmed
            }) {
                return Ok(Some(user));
            }
        }
        if allow_sub {
            if let Some(user) = self.store.get_user_by_sub(&pool.id, name).await? {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    /// Like [`find_user`](Self::find_user) but a missing user is UserNotFoundException.
    pub(crate) async fn admin_user(&self, pool: &UserPool, name: &str) -> Result<User> {
        self.find_user(pool, name, true)
            .await?
            .ok_or_else(Error::user_not_found)
    }

    /// Stores a new user with its aliases. A taken username is
    /// UsernameExistsException; a taken alias is UsernameExistsException in
    /// pools that sign in with it, AliasExistsException where it is an alias.
    pub(crate) async fn insert_user(&self, pool: &UserPool, user: &User) -> Result<()> {
        self.insert_user_taking(pool, user, &[]).await
    }

    /// [`insert_user`](Self::insert_user), taking the aliases of the kinds
    /// `take` from other users (ForceAliasCreation, see
    /// [`forced_alias_kinds`](Self::forced_alias_kinds)).
    pub(crate) async fn insert_user_taking(
        &self,
        pool: &UserPool,
        user: &User,
        take: &[String],
    ) -> Result<()> {
        let aliases = pool.alias_keys(user);
        match self
            .store
            .insert_user_taking_aliases(user, &aliases, take)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict(_)) => {
                Err(Error::new(ErrorKind::UsernameExists, "User already exists"))
            }
            Err(StoreError::AliasTaken(kind)) => Err(Error::new(
                if pool.username_attributes.contains(&kind) {
                    ErrorKind::UsernameExists
                } else {
                    ErrorKind::AliasExists
                },
                format!("An account with the given {kind} already exists."),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Applies `change` to a user and writes it, compare-and-swap on its
    /// version: if someone wrote the user since `user` was read, the change
    /// is applied again to a fresh copy (so `change` must depend only on
    /// the user it is given), and never written over the other write.
    /// Returns the user as written and what `change` returned.
    pub(crate) async fn update_user<T>(
        &self,
        user: User,
        change: impl FnMut(&mut User) -> Result<T>,
    ) -> Result<(User, T)> {
        self.update_user_taking(user, &[], change).await
    }

    /// [`update_user`](Self::update_user), taking the aliases of the kinds
    /// `take` from other users (ForceAliasCreation).
    pub(crate) async fn update_user_taking<T>(
        &self,
        mut user: User,
        take: &[String],
        mut change: impl FnMut(&mut User) -> Result<T>,
    ) -> Result<(User, T)> {
        let pool = self.pool(&user.pool_id).await?;
        for _ in 0..WRITE_ATTEMPTS {
            let out = change(&mut user)?;
            let aliases = pool.alias_keys(&user);
            match self
                .store
                .update_user_taking_aliases(&user, &aliases, take)
                .await
            {
                Ok(Write::Done) => {
                    user.version += 1;
                    return Ok((user, out));
                }
                Ok(Write::Missing) => return Err(Error::user_not_found()),
                Ok(Write::Stale) => {
                    user = self
                        .store
                        .get_user(&user.pool_id, &user.username_key)
                        .await?
                        .ok_or_else(Error::user_not_found)?;
                }
                Err(StoreError::AliasTaken(kind)) => {
                    return Err(Error::new(
                        ErrorKind::AliasExists,
                        format!("An account with the given {kind} already exists."),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(busy())
    }

    /// Like [`update_user`](Self::update_user), for an app client; drops
    /// this instance's cached copy.
    pub(crate) async fn update_client<T>(
        &self,
        mut client: AppClient,
        mut change: impl FnMut(&mut AppClient) -> Result<T>,
    ) -> Result<(AppClient, T)> {
        for _ in 0..WRITE_ATTEMPTS {
            let out = change(&mut client)?;
            let written = self.store.update_client(&client).await;
            self.clients.forget(&client.client_id);
            match written? {
                Write::Done => {
                    client.version += 1;
                    return Ok((client, out));
                }
                Write::Missing => return Err(Error::client_not_found(&client.client_id)),
                Write::Stale => {
                    client = self
                        .store
                        .get_client(&client.client_id)
                        .await?
                        .filter(|c| c.pool_id == client.pool_id)
                        .ok_or_else(|| Error::client_not_found(&client.client_id))?;
                }
            }
        }
        Err(busy())
    }

    /// Like [`update_user`](Self::update_user), for a pool; drops this
    /// instance's cached copy.
    pub(crate) async fn update_pool<T>(
        &self,
        mut pool: UserPool,
        mut change: impl FnMut(&mut UserPool) -> Result<T>,
    ) -> Result<(UserPool, T)> {
        for _ in 0..WRITE_ATTEMPTS {
            let out = change(&mut pool)?;
            let written = self.store.update_pool(&pool).await;
            self.pools.forget(&pool.id);
            match written? {
                Write::Done => {
                    pool.version += 1;
                    return Ok((pool, out));
                }
                Write::Missing => return Err(Error::pool_not_found(&pool.id)),
                Write::Stale => {
                    pool = self
                        .store
                        .get_pool(&pool.id)
                        .await?
                        .ok_or_else(|| Error::pool_not_found(&pool.id))?;
                }
            }
        }
        Err(busy())
    }
}

/// What a password becomes when it is set: computed once, before the
/// user is written, so a retried write does not hash again.
pub(crate) struct PasswordMaterial {
    hash: String,
    srp_salt: String,
    srp_verifier: String,
}

impl PasswordMaterial {
    pub(crate) fn apply(&self, user: &mut User) {
        user.password_hash = Some(self.hash.clone());
        user.srp_salt = Some(self.srp_salt.clone());
        user.srp_verifier = Some(self.srp_verifier.clone());
    }
}

/// Compare-and-swap writes give up after this many lost races (each lost
/// race means another write to the same record succeeded).
const WRITE_ATTEMPTS: usize = 16;

fn busy() -> Error {
    Error::new(
        ErrorKind::ConcurrentModification,
        "This resource was modified concurrently; try again.",
    )
}

/// Parsed pools and app clients kept for a second. Every read of a pool
/// (and the hot paths' reads of a client) goes through it, so AdminGetUser,
/// GetUser and sign-in do not parse those documents on each request. This
/// instance's own writes drop the entry at once; a change made by another
/// instance sharing the database is seen within [`SHORT_CACHE_MS`].
pub(crate) struct ShortCache<T> {
    entries: std::sync::RwLock<std::collections::HashMap<String, (Arc<T>, i64)>>,
}

impl<T> Default for ShortCache<T> {
    fn default() -> Self {
        ShortCache {
            entries: Default::default(),
        }
    }
}

/// How long a cached pool or client is served.
pub(crate) const SHORT_CACHE_MS: i64 = 1000;

impl<T> ShortCache<T> {
    fn get(&self, key: &str, now: i64) -> Option<Arc<T>> {
        let entries = self.entries.read().ok()?;
        let (value, at) = entries.get(key)?;
        (now - at < SHORT_CACHE_MS && now >= *at).then(|| value.clone())
    }

    fn put(&self, key: String, value: Arc<T>, now: i64) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(key, (value, now));
        }
    }

    pub(crate) fn forget(&self, key: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(key);
        }
    }
}

/// Encodes a page token (opaque to clients).
pub(crate) fn encode_token(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// Decodes a page token; a bad one is InvalidParameterException.
pub(crate) fn decode_token(token: &str) -> Result<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| Error::new(ErrorKind::InvalidParameter, "Invalid pagination token."))
}

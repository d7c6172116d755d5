//! The storage interface. Every piece of state lives behind it (pools,
//! clients, users, keys, codes, challenge sessions, refresh tokens), so
//! several cognate instances can share one database. SQLite and PostgreSQL
//! implement it in the `cognate-store` crate.

use async_trait::async_trait;

use crate::clock::Millis;
use crate::error::StoreError;
use crate::model::{
    AppClient, AuthorizationCode, ChallengeSession, CodeRecord, Group, PoolDomain,
    RefreshTokenRecord, ResourceServer, StoredKey, UiCustomization, User, UserFilter, UserPool,
};

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // -- pools and their keys
    /// Inserts a pool with its signing keys; `Conflict` if the id exists.
    async fn insert_pool(&self, pool: &UserPool, keys: &[StoredKey]) -> StoreResult<()>;
    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>>;
    /// Pools ordered by id, starting after `after`.
    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<UserPool>>;
    /// Replaces a pool; false if it does not exist.
    async fn update_pool(&self, pool: &UserPool) -> StoreResult<bool>;
    /// Deletes a pool and everything in it; false if it did not exist.
    async fn delete_pool(&self, pool_id: &str) -> StoreResult<bool>;
    async fn count_users(&self, pool_id: &str) -> StoreResult<u64>;
    async fn list_keys(&self, pool_id: &str) -> StoreResult<Vec<StoredKey>>;

    // -- app clients
    /// `Conflict` if the client id exists.
    async fn insert_client(&self, client: &AppClient) -> StoreResult<()>;
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>>;
    /// Clients of a pool ordered by id, starting after `after`.
    async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AppClient>>;
    async fn update_client(&self, client: &AppClient) -> StoreResult<bool>;
    async fn delete_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool>;

    // -- users
    /// `Conflict` if the username key exists in the pool.
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn get_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Option<User>>;
    async fn get_user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<User>>;
    /// Users whose attribute `name` (email, phone_number or preferred_username)
    /// equals `value`, compared without case when `ignore_case`.
    async fn find_users_by_attribute(
        &self,
        pool_id: &str,
        name: &str,
        value: &str,
        ignore_case: bool,
    ) -> StoreResult<Vec<User>>;
    /// Replaces a user (matched by pool and username key); false if absent.
    async fn update_user(&self, user: &User) -> StoreResult<bool>;
    /// Deletes a user with its codes and refresh tokens; false if absent.
    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool>;
    /// Users ordered by username key, starting after `after`, matching `filter`.
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<User>>;

    // -- one-time codes
    /// Stores a code, replacing any earlier one for the same user and purpose.
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()>;
    async fn get_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<Option<CodeRecord>>;
    /// Counts a wrong try; returns the new count.
    async fn bump_code_attempts(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<u32>;
    async fn delete_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<()>;

    // -- challenge sessions
    async fn put_session(&self, session: &ChallengeSession) -> StoreResult<()>;
    /// Removes and returns a session: each handle answers once.
    async fn take_session(&self, handle_hash: &str) -> StoreResult<Option<ChallengeSession>>;

    // -- refresh tokens
    async fn put_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()>;
    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>>;
    /// Marks one token revoked; false if unknown.
    async fn revoke_refresh_token(&self, token_hash: &str) -> StoreResult<bool>;
    /// Marks every token of a user revoked; returns the origin_jti of each
    /// token that was still live.
    async fn revoke_user_refresh_tokens(
        &self,
        pool_id: &str,
        sub: &str,
    ) -> StoreResult<Vec<String>>;

    // -- groups
    /// `Conflict` if the group exists.
    async fn insert_group(&self, group: &Group) -> StoreResult<()>;
    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>>;
    /// Groups ordered by name, starting after `after`.
    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Group>>;
    async fn update_group(&self, group: &Group) -> StoreResult<bool>;
    /// Deletes a group and its memberships.
    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool>;
    /// Adds a membership (no-op if present).
    async fn add_user_to_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
    ) -> StoreResult<()>;
    async fn remove_user_from_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
    ) -> StoreResult<()>;
    /// The groups of a user, ordered by name.
    async fn groups_of_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Vec<Group>>;
    /// Members of a group ordered by username key, starting after `after`.
    async fn users_in_group(
        &self,
        pool_id: &str,
        name: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<User>>;

    // -- domains
    /// `Conflict` if the domain exists.
    async fn insert_domain(&self, domain: &PoolDomain) -> StoreResult<()>;
    async fn get_domain(&self, domain: &str) -> StoreResult<Option<PoolDomain>>;
    /// The domains of a pool, ordered by name.
    async fn domains_of_pool(&self, pool_id: &str) -> StoreResult<Vec<PoolDomain>>;
    async fn delete_domain(&self, domain: &str) -> StoreResult<bool>;
    /// Replaces a domain's record; false if it does not exist.
    async fn update_domain(&self, domain: &PoolDomain) -> StoreResult<bool>;

    // -- OAuth authorization codes
    async fn put_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()>;
    /// Returns and deletes the code (single use), expired or not.
    async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<AuthorizationCode>>;

    // -- server-wide secrets
    /// The secret stored under `name`; the first caller's `candidate`
    /// becomes it, so every instance on this database agrees.
    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>>;

    // -- UI customization
    /// Creates or replaces the branding of (pool, client or `ALL`).
    async fn put_ui_customization(&self, ui: &UiCustomization) -> StoreResult<()>;
    async fn get_ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<UiCustomization>>;
    async fn delete_ui_customization(&self, pool_id: &str, client_id: &str) -> StoreResult<bool>;

    // -- resource servers
    /// `Conflict` if the identifier exists in the pool.
    async fn insert_resource_server(&self, server: &ResourceServer) -> StoreResult<()>;
    async fn get_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>>;
    /// Resource servers ordered by identifier, starting after `after`.
    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ResourceServer>>;
    async fn update_resource_server(&self, server: &ResourceServer) -> StoreResult<bool>;
    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool>;

    // -- housekeeping
    /// Deletes expired sessions, codes, authorization codes and refresh tokens.
    async fn purge_expired(&self, now: Millis) -> StoreResult<u64>;
}

//! The storage interface. Every piece of state lives behind it (pools,
//! clients, users, keys, codes, challenge sessions, refresh tokens), so
//! several cognate instances can share one database. SQLite and PostgreSQL
//! implement it in the `cognate-store` crate.
//!
//! **The store keeps the rules that span a read and a write.** The domain
//! never reads a record and writes it back blind:
//! - users and pools are written with compare-and-swap on their `version`
//!   ([`Write::Stale`] when someone wrote in between; the caller re-reads and
//!   re-applies its change);
//! - usernames and sign-in aliases are UNIQUE in the database
//!   ([`StoreError::Conflict`], [`StoreError::AliasTaken`]); an alias taken
//!   over with ForceAliasCreation changes owner and unverifies the previous
//!   owner's attribute in one transaction
//!   ([`Store::insert_user_taking_aliases`]);
//! - an external identity is linked to one user at most, and a user has at
//!   most a given number of them ([`Store::link_identity`]);
//! - the hot, small state of a user lives outside its document and changes
//!   by single conditional statements: the failed sign-in counter and lock,
//!   the sign-out instant, revoked sessions, the last accepted TOTP step;
//! - one-time codes, challenge sessions and authorization codes are used
//!   once (`DELETE ... RETURNING`), and a code's wrong guesses are counted
//!   in the same statement that refuses them;
//! - everything that belongs to a user (codes, refresh tokens, SSO
//!   sessions, group memberships, aliases, revocations) goes with it (foreign keys with
//!   cascade), so nothing refers to a deleted user.

use async_trait::async_trait;

use crate::clock::Millis;
use crate::error::StoreError;
use crate::model::{
    AliasKey, AppClient, AuthorizationCode, ChallengeSession, CodeRecord, Group, LinkedIdentity,
    PoolDomain, RefreshTokenRecord, ResourceServer, SsoSession, StoredKey, UiCustomization, User,
    UserFilter, UserImportJob, UserPool, WebAuthnCredential,
};

pub type StoreResult<T> = Result<T, StoreError>;

/// The outcome of a version-checked write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// Written; the record's version is now one more.
    Done,
    /// The record changed since it was read (its version moved on): nothing was written.
    Stale,
    /// The record does not exist.
    Missing,
}

/// The outcome of a guess at a one-time code ([`Store::use_code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeUse {
    /// The code matched and is used up.
    Accepted,
    /// Wrong; this many wrong guesses have now been counted.
    Mismatch(u32),
    /// The code took its last allowed wrong guess earlier: refused unseen.
    LimitExceeded,
    /// No code, or it expired (and is now deleted).
    Expired,
}

/// How failed sign-ins lock an account (see [`Store::record_sign_in_failure`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// From this many consecutive failures on, the account locks.
    pub after: u32,
    /// The first lock; each further failure doubles it...
    pub base_ms: i64,
    /// ...up to this.
    pub max_ms: i64,
    /// A failure this long after the previous one starts the count again.
    pub reset_ms: i64,
}

impl LockoutPolicy {
    /// The lock that `failures` consecutive failures earn, if any.
    pub fn lock_ms(&self, failures: u32) -> Option<i64> {
        (failures >= self.after).then(|| {
            let exponent = (failures - self.after).min(20);
            (self.base_ms << exponent).min(self.max_ms)
        })
    }
}

/// A user's failed sign-ins after one more was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInFailures {
    /// Consecutive failures, this one included.
    pub failures: u32,
    /// Sign-ins are refused until then.
    pub locked_until: Option<Millis>,
}

/// A user as an import or a restore brings it: the document with its hot
/// state (`tokens_valid_after`, `totp_last_step`, `revoked_origins` of
/// `user`), its aliases and the groups it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportUser {
    pub user: User,
    pub aliases: Vec<AliasKey>,
    pub groups: Vec<String>,
}

/// What [`Store::import_users`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub inserted: u64,
    /// Users left out, with why (username exists, alias taken, no such group).
    pub skipped: Vec<(String, String)>,
}

/// What [`Store::link_identity`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityLink {
    /// Linked.
    Done,
    /// The identity is linked already (to this user or another): nothing changed.
    AlreadyLinked,
    /// The user has the most identities allowed: nothing changed.
    LimitReached,
    /// The user does not exist.
    UserMissing,
}

/// What [`Store::add_webauthn_credential`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialAdd {
    /// Stored.
    Done,
    /// A credential with this id is registered in the pool already: nothing changed.
    Exists,
    /// The user has the most credentials allowed: nothing changed.
    LimitReached,
    /// The user does not exist.
    UserMissing,
}

/// A page of users and the cursor after its last one.
#[derive(Clone, Debug, PartialEq)]
pub struct UserPage {
    pub users: Vec<User>,
    /// Opaque to the domain; `None` on the last page.
    pub next: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // -- pools and their keys
    /// Inserts a pool with its signing keys; `Conflict` if the id exists.
    async fn insert_pool(&self, pool: &UserPool, keys: &[StoredKey]) -> StoreResult<()>;
    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>>;
    /// Pools ordered by id, starting after `after`.
    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<UserPool>>;
    /// Replaces a pool read at `pool.version` (compare-and-swap).
    async fn update_pool(&self, pool: &UserPool) -> StoreResult<Write>;
    /// Deletes a pool and everything in it; false if it did not exist.
    async fn delete_pool(&self, pool_id: &str) -> StoreResult<bool>;
    async fn count_users(&self, pool_id: &str) -> StoreResult<u64>;
    /// Every key of a pool not yet retired (purged), oldest first.
    async fn list_keys(&self, pool_id: &str) -> StoreResult<Vec<StoredKey>>;
    /// Rotates a pool's keys in one transaction: each key that signs
    /// `new_keys`' purposes now (`signs_until` unset) stops signing at the
    /// new key's `signs_from` and stays published until `old_published_until`;
    /// the new keys are inserted. With `unless_newer_than`, nothing happens
    /// (false) if some key of the pool started signing after that instant,
    /// so concurrent scheduled rotations rotate once.
    async fn rotate_keys(
        &self,
        pool_id: &str,
        new_keys: &[StoredKey],
        old_published_until: Millis,
        unless_newer_than: Option<Millis>,
    ) -> StoreResult<bool>;

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
    /// Replaces a client read at `client.version` (compare-and-swap).
    async fn update_client(&self, client: &AppClient) -> StoreResult<Write>;
    async fn delete_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool>;

    // -- users
    /// Inserts a user with its sign-in aliases. `Conflict` if the username
    /// key exists in the pool, `AliasTaken` if another user holds an alias.
    async fn insert_user(&self, user: &User, aliases: &[AliasKey]) -> StoreResult<()>;
    /// A user with its hot state (sign-out instant, revoked sessions, last
    /// TOTP step) and its `version`.
    async fn get_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Option<User>>;
    async fn get_user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<User>>;
    /// The user holding a sign-in alias (`kind` email, phone_number or
    /// preferred_username; `value` normalised as in [`AliasKey`]).
    async fn get_user_by_alias(
        &self,
        pool_id: &str,
        kind: &str,
        value: &str,
    ) -> StoreResult<Option<User>>;
    /// Replaces a user's document and aliases if it is still at
    /// `user.version`. The hot state is not written (it has its own calls).
    /// `AliasTaken` if another user holds one of the aliases.
    async fn update_user(&self, user: &User, aliases: &[AliasKey]) -> StoreResult<Write>;
    /// [`insert_user`](Self::insert_user) with ForceAliasCreation: each of
    /// `aliases` whose kind is in `take` and that another user holds moves
    /// to this user in the same transaction. That user keeps the attribute,
    /// but its `<kind>_verified` attribute becomes `"false"`, its `modified`
    /// becomes `user.modified` and its version moves on; so no user is left
    /// with a verified attribute that another user holds as its alias.
    /// Aliases of other kinds conflict as in `insert_user`.
    async fn insert_user_taking_aliases(
        &self,
        user: &User,
        aliases: &[AliasKey],
        take: &[String],
    ) -> StoreResult<()>;
    /// [`update_user`](Self::update_user) with ForceAliasCreation, as in
    /// [`insert_user_taking_aliases`](Self::insert_user_taking_aliases).
    async fn update_user_taking_aliases(
        &self,
        user: &User,
        aliases: &[AliasKey],
        take: &[String],
    ) -> StoreResult<Write>;
    /// Deletes a user and everything that refers to it; false if absent.
    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool>;
    /// Users matching `filter`, in a stable order, starting after `cursor`
    /// (a `UserPage::next` of the same pool and filter).
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<UserPage>;

    /// Inserts many users in one transaction (import, restore, Cognito's
    /// user import jobs), each with its aliases, group memberships and hot
    /// state. A user whose username exists, one of whose aliases another
    /// user holds, or whose group does not exist is skipped (and reported);
    /// the others are inserted.
    async fn import_users(&self, users: &[ImportUser]) -> StoreResult<ImportOutcome>;

    // -- external identities linked to users (AdminLinkProviderForUser)
    /// Links `link`'s identity to its user in one atomic step with its
    /// rules: an identity (pool, provider, attribute name and value) is
    /// linked to one user at most, and a user has at most `max_per_user`.
    async fn link_identity(
        &self,
        link: &LinkedIdentity,
        max_per_user: usize,
    ) -> StoreResult<IdentityLink>;
    /// Removes the link of an identity; false if it was not linked.
    async fn unlink_identity(
        &self,
        pool_id: &str,
        provider_name: &str,
        attribute_name: &str,
        attribute_value: &str,
    ) -> StoreResult<bool>;
    /// The username key of the user an identity is linked to, if any.
    async fn identity_owner(
        &self,
        pool_id: &str,
        provider_name: &str,
        attribute_name: &str,
        attribute_value: &str,
    ) -> StoreResult<Option<String>>;
    /// The identities linked to a user, oldest first.
    async fn identities_of_user(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<LinkedIdentity>>;

    // -- passkeys (WebAuthn credentials)
    /// Stores a user's credential in one atomic step with its rules: a
    /// credential id is registered once in a pool, and a user has at most
    /// `max_per_user` credentials.
    async fn add_webauthn_credential(
        &self,
        credential: &WebAuthnCredential,
        max_per_user: usize,
    ) -> StoreResult<CredentialAdd>;
    /// A user's credentials, oldest first (then by id).
    async fn webauthn_credentials_of_user(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<WebAuthnCredential>>;
    /// Deletes one of a user's credentials; false if the user has none with that id.
    async fn delete_webauthn_credential(
        &self,
        pool_id: &str,
        username_key: &str,
        credential_id: &str,
    ) -> StoreResult<bool>;
    /// Moves a credential's signature counter to `sign_count` in one
    /// conditional statement, if that is above the stored count, or if both
    /// are 0 (an authenticator without a counter); false otherwise (a
    /// repeated or cloned authenticator's count) or if there is no such
    /// credential.
    async fn advance_webauthn_sign_count(
        &self,
        pool_id: &str,
        username_key: &str,
        credential_id: &str,
        sign_count: i64,
    ) -> StoreResult<bool>;

    // -- the hot state of a user
    /// Counts a failed sign-in (starting again at 1 when the previous one
    /// is older than `policy.reset_ms`) and sets the lock it earns, in one
    /// atomic step; `None` if the user does not exist.
    async fn record_sign_in_failure(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
        policy: &LockoutPolicy,
    ) -> StoreResult<Option<SignInFailures>>;
    /// When the user's sign-in lock ends, if one is set.
    async fn sign_in_locked_until(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Option<Millis>>;
    /// Forgets the failed sign-ins after a success, unless a lock is in
    /// force at `now` (then false and nothing changes).
    async fn clear_sign_in_failures(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Signs a user out everywhere at `now` (milliseconds): tokens issued
    /// before it, or in its millisecond, and tokens of sessions that began
    /// by then, are refused (`User::token_revoked`), every live refresh
    /// token is revoked and every SSO session deleted. One transaction;
    /// false if absent.
    async fn sign_out_user(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Accepts a TOTP time step once: true if `step` is later than every
    /// step accepted before for this user (and records it), false otherwise.
    async fn claim_totp_step(
        &self,
        pool_id: &str,
        username_key: &str,
        step: i64,
    ) -> StoreResult<bool>;

    // -- one-time codes
    /// Stores a code, replacing any earlier one for the same user and
    /// purpose; `Conflict` if the user does not exist.
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()>;
    /// A guess at a code, decided atomically: a match uses the code up
    /// (only one of any number of concurrent right guesses is accepted), a
    /// wrong guess is counted, and after `max_attempts` wrong guesses every
    /// guess is refused.
    async fn use_code(
        &self,
        code: &CodeRecord,
        now: Millis,
        max_attempts: u32,
    ) -> StoreResult<CodeUse>;
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
    /// Stores a session only if no live one (`expires` after `now`) has its
    /// handle: `false` when one has. One statement, so of concurrent puts of
    /// one handle exactly one succeeds (a single-use marker, such as an
    /// unsolicited SAML assertion's ID).
    async fn put_session_once(&self, session: &ChallengeSession, now: Millis) -> StoreResult<bool>;

    // -- refresh tokens
    /// `Conflict` if the user does not exist (any more).
    async fn put_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()>;
    /// Stores the refresh token of a new sign-in while keeping its user
    /// within `max_sessions` live token sessions (distinct `origin_jti`s
    /// of tokens neither revoked, rotated out nor expired at `now`): when
    /// the user already has that many, the least recently used ones (the
    /// oldest latest `last_active`) are revoked first, as
    /// [`revoke_refresh_token`](Self::revoke_refresh_token) does (their
    /// sessions revoked until `revoked_until`). One transaction, serialised
    /// per user, so concurrent sign-ins never leave more than
    /// `max_sessions`. Answers how many sessions were evicted. `Conflict`
    /// if the user does not exist (any more).
    async fn put_refresh_token_limited(
        &self,
        token: &RefreshTokenRecord,
        now: Millis,
        max_sessions: usize,
        revoked_until: Millis,
    ) -> StoreResult<usize>;
    /// Records a use of a refresh token at `now` (its `last_active`, kept
    /// at the latest of the instants given) from `ip` and `device` (kept
    /// from the latest use).
    async fn touch_refresh_token(
        &self,
        token_hash: &str,
        now: Millis,
        ip: Option<&str>,
        device: Option<&str>,
    ) -> StoreResult<()>;
    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>>;
    /// A user's refresh tokens that are neither revoked, rotated nor
    /// expired at `now` (one per sign-in session), oldest first, at most
    /// `limit`.
    async fn list_live_refresh_tokens(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
        limit: usize,
    ) -> StoreResult<Vec<RefreshTokenRecord>>;
    /// Rotates a refresh token, in one transaction with a condition: the
    /// old token must be unrevoked and not rotated out at `now` (never
    /// rotated, or rotated less than its grace period ago); it is marked
    /// rotated out from `now + grace_ms` (at its first rotation only) and
    /// `new` is stored. False (and nothing written) when the condition
    /// fails, so that of any number of concurrent rotations of one token
    /// outside its grace period exactly one succeeds. `Conflict` if the
    /// user does not exist (any more).
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        now: Millis,
        grace_ms: Millis,
        new: &RefreshTokenRecord,
    ) -> StoreResult<bool>;
    /// Revokes a refresh token with every token of its rotation family
    /// (same pool and `origin_jti`) and marks its sign-in session revoked
    /// until `revoked_until` (its access tokens are refused), in one
    /// transaction; false if the token is unknown. A rotation racing the
    /// revocation either fails or stores its token before the family is
    /// revoked.
    async fn revoke_refresh_token(
        &self,
        token_hash: &str,
        revoked_until: Millis,
    ) -> StoreResult<bool>;

    // -- SSO sessions
    /// `Conflict` if the user does not exist (any more) or the id is taken.
    async fn put_sso_session(&self, session: &SsoSession) -> StoreResult<()>;
    /// The session, expired or not.
    async fn get_sso_session(
        &self,
        pool_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SsoSession>>;
    /// Records activity on a session at `now` (its `last_active`, kept at
    /// the latest of the instants given) from `ip` and `device`; false if
    /// the session does not exist.
    async fn touch_sso_session(
        &self,
        pool_id: &str,
        session_id: &str,
        now: Millis,
        ip: Option<&str>,
        device: Option<&str>,
    ) -> StoreResult<bool>;
    /// A user's SSO sessions unexpired at `now`, oldest first, at most `limit`.
    async fn list_live_sso_sessions(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
        limit: usize,
    ) -> StoreResult<Vec<SsoSession>>;
    /// Deletes an SSO session of a user; with `linked`, also revokes, in
    /// the same transaction, every refresh token granted through it (as
    /// [`revoke_refresh_token`](Self::revoke_refresh_token) does, their
    /// sessions revoked until `revoked_until`). False if the user has no
    /// such session.
    async fn revoke_sso_session(
        &self,
        pool_id: &str,
        username_key: &str,
        session_id: &str,
        linked: bool,
        revoked_until: Millis,
    ) -> StoreResult<bool>;

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
    /// Adds a membership (no-op if present); `Conflict` if the user or the
    /// group does not exist (any more).
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

    // -- user import jobs
    /// `Conflict` if the job id exists.
    async fn insert_import_job(&self, job: &UserImportJob) -> StoreResult<()>;
    async fn get_import_job(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<UserImportJob>>;
    /// A job by id alone (the upload URL names no pool).
    async fn find_import_job(&self, job_id: &str) -> StoreResult<Option<UserImportJob>>;
    /// Jobs of a pool, newest first, starting after the job `after`.
    async fn list_import_jobs(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<UserImportJob>>;
    /// Replaces a job if its status is one of `from` (a status transition
    /// decided by the store: two Starts or a Stop racing a finish cannot
    /// both win); false otherwise.
    async fn update_import_job(&self, job: &UserImportJob, from: &[&str]) -> StoreResult<bool>;
    /// Stores the CSV of a job still `Created`; false otherwise.
    async fn put_import_csv(&self, pool_id: &str, job_id: &str, csv: &[u8]) -> StoreResult<bool>;
    async fn get_import_csv(&self, pool_id: &str, job_id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Whether a job's CSV was uploaded, without reading it.
    async fn has_import_csv(&self, pool_id: &str, job_id: &str) -> StoreResult<bool>;

    // -- authentication events (AdminListUserAuthEvents)
    /// Adds an event of a user and drops the user's oldest beyond `keep`;
    /// an event with the id of one kept replaces its record (its feedback
    /// stays). A user deleted meanwhile is not an error (nothing is kept).
    async fn add_auth_event(
        &self,
        pool_id: &str,
        username_key: &str,
        event: &crate::audit::AuthEventRecord,
        keep: usize,
    ) -> StoreResult<()>;
    /// A user's events, newest first (with their feedback).
    async fn list_auth_events(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<crate::audit::AuthEventRecord>>;
    /// Sets the feedback of an event (one statement; the last one wins);
    /// false if the user has no such event.
    async fn set_auth_event_feedback(
        &self,
        pool_id: &str,
        username_key: &str,
        event_id: &str,
        feedback: &crate::audit::AuthEventFeedback,
    ) -> StoreResult<bool>;

    // -- housekeeping
    /// Deletes expired sessions, codes, authorization codes, refresh tokens,
    /// SSO sessions and revocation marks, and retires signing keys past `published_until`.
    async fn purge_expired(&self, now: Millis) -> StoreResult<u64>;
}

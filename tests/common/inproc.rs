//! An in-process service over a real store (SQLite, or PostgreSQL with
//! `COGNATE_TEST_ENGINE=postgres`) with a manual clock, for rules that are
//! about time (key rotation, token lifetimes, revocation instants).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use cognate_core::clock::{Clock, ManualClock};
use cognate_core::delivery::{MessageSink, OutgoingMessage};
use cognate_core::model::{ClientSettings, PoolSettings};
use cognate_core::service::pools::NewPool;
use cognate_core::service::{AuthFlowInput, AuthOutcome, NewClient};
use cognate_core::store::Store;
use cognate_core::{ServiceConfig, UserPools};
use cognate_crypto::{PasswordHasher, PasswordParams};

struct NoMail;

#[async_trait]
impl MessageSink for NoMail {
    async fn deliver(&self, _message: &OutgoingMessage) -> Result<(), String> {
        Ok(())
    }
}

/// The manual clock's start (epoch milliseconds).
pub const START: i64 = 1_800_000_000_000;

/// A service in process over a real store, with a manual clock: one pool
/// (`alice` / `Passw0rd!x`, confirmed) and an app client allowing
/// ADMIN_USER_PASSWORD_AUTH and refresh.
pub struct World {
    pub svc: Arc<UserPools>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub pool_id: String,
    pub client_id: String,
    pub _dir: tempfile::TempDir,
    pub _db: Option<super::TestDatabase>,
}

pub async fn world() -> World {
    world_with_limits(&cognate_core::ratelimit::RateLimitConfig::default()).await
}

/// [`world`] with the given rate limits.
pub async fn world_with_limits(limits: &cognate_core::ratelimit::RateLimitConfig) -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = super::TestDatabase::for_engine();
    let store = super::open_store(dir.path(), db.as_ref()).await;
    let clock = Arc::new(ManualClock::new(START));
    let svc = Arc::new(
        UserPools::new(
            store.clone(),
            clock.clone() as Arc<dyn Clock>,
            PasswordHasher::new(PasswordParams {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            })
            .unwrap(),
            Arc::new(NoMail),
            ServiceConfig {
                public_url: "http://cognate.test".into(),
                region: "us-east-1".into(),
                account_id: "000000000000".into(),
            },
        )
        .with_rate_limits(limits),
    );
    let pool = svc
        .create_user_pool(NewPool {
            id: None,
            name: "rotation".into(),
            alias_attributes: vec![],
            username_attributes: vec![],
            username_case_sensitive: None,
            schema: vec![],
            settings: PoolSettings::default(),
        })
        .await
        .unwrap();
    let mut settings = ClientSettings::named("app");
    settings.explicit_auth_flows = Some(vec![
        "ALLOW_ADMIN_USER_PASSWORD_AUTH".into(),
        "ALLOW_REFRESH_TOKEN_AUTH".into(),
    ]);
    let client = svc
        .create_user_pool_client(NewClient {
            pool_id: pool.id.clone(),
            client_id: None,
            generate_secret: false,
            client_secret: None,
            settings,
        })
        .await
        .unwrap();
    svc.seed_user(&pool.id, "alice", Some("Passw0rd!x"), true, vec![])
        .await
        .unwrap();
    World {
        svc,
        store,
        clock,
        pool_id: pool.id,
        client_id: client.client_id,
        _dir: dir,
        _db: db,
    }
}

impl World {
    /// ADMIN_USER_PASSWORD_AUTH as alice: (access token, ID token).
    pub async fn login(&self) -> (String, String) {
        let mut parameters = BTreeMap::new();
        parameters.insert("USERNAME".to_owned(), "alice".to_owned());
        parameters.insert("PASSWORD".to_owned(), "Passw0rd!x".to_owned());
        let outcome = self
            .svc
            .initiate_auth(AuthFlowInput {
                admin_pool_id: Some(self.pool_id.clone()),
                client_id: self.client_id.clone(),
                flow: "ADMIN_USER_PASSWORD_AUTH".into(),
                parameters,
                client_metadata: Default::default(),
            })
            .await
            .unwrap();
        match outcome {
            AuthOutcome::Authenticated(r) => (r.access_token, r.id_token),
            other => panic!("no tokens: {other:?}"),
        }
    }

    pub async fn jwks_kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self
            .svc
            .jwks(&self.pool_id)
            .await
            .unwrap()
            .iter()
            .map(|k| k.kid.clone())
            .collect();
        kids.sort();
        kids
    }
}

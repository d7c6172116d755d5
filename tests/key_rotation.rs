//! Signing-key rotation, in process with a manual clock and a real store
//! (SQLite, or PostgreSQL with `COGNATE_TEST_ENGINE=postgres`): new keys are published before they sign, old keys verify until
//! every token they signed has expired and are then retired, and a
//! scheduled rotation run by several instances at once rotates once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use cognate_core::clock::{Clock, ManualClock};
use cognate_core::delivery::{MessageSink, OutgoingMessage};
use cognate_core::model::{ClientSettings, PoolSettings};
use cognate_core::service::pools::{NewPool, KEY_RETIRE_AFTER_MS};
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

const START: i64 = 1_800_000_000_000;
const LEAD_MS: i64 = 60_000;

struct World {
    svc: Arc<UserPools>,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    pool_id: String,
    client_id: String,
    _dir: tempfile::TempDir,
    _db: Option<common::TestDatabase>,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = common::TestDatabase::for_engine();
    let store = common::open_store(dir.path(), db.as_ref()).await;
    let clock = Arc::new(ManualClock::new(START));
    let svc = Arc::new(UserPools::new(
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
    ));
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
    async fn login(&self) -> (String, String) {
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

    async fn jwks_kids(&self) -> Vec<String> {
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

fn kid_of(token: &str) -> String {
    cognate_crypto::jws::decode(token)
        .unwrap()
        .kid()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_keys_are_published_before_they_sign_and_old_ones_verify_until_retired() {
    let w = world().await;
    let (old_access, old_id) = w.login().await;
    let old_kids = w.jwks_kids().await;
    assert_eq!(old_kids.len(), 2);

    let new_keys = w
        .svc
        .rotate_keys(&w.pool_id, LEAD_MS, None)
        .await
        .unwrap()
        .expect("rotated");
    let new_kids: Vec<String> = new_keys.iter().map(|k| k.kid.clone()).collect();
    // Published at once, next to the old keys...
    let published = w.jwks_kids().await;
    assert_eq!(published.len(), 4);
    for kid in old_kids.iter().chain(new_kids.iter()) {
        assert!(published.contains(kid));
    }
    // ...but nothing is signed with them during the lead.
    w.clock.advance_secs(LEAD_MS / 1000 - 1);
    let (during_access, during_id) = w.login().await;
    assert!(old_kids.contains(&kid_of(&during_access)));
    assert!(old_kids.contains(&kid_of(&during_id)));

    // After the lead, the new keys sign.
    w.clock.advance_secs(1);
    let (new_access, new_id) = w.login().await;
    assert!(new_kids.contains(&kid_of(&new_access)));
    assert!(new_kids.contains(&kid_of(&new_id)));
    // Tokens of both keys verify at the user APIs.
    w.svc.get_user(&old_access).await.expect("old-key token");
    w.svc.get_user(&during_access).await.expect("lead token");
    w.svc.get_user(&new_access).await.expect("new-key token");
    assert_ne!(old_id, new_id);

    // The old keys stay published until every token they signed has
    // expired, then the purge retires them.
    let signs_until = START + LEAD_MS;
    let retire_at = signs_until + KEY_RETIRE_AFTER_MS;
    w.clock
        .advance_secs((retire_at - w.clock.now_millis()) / 1000 - 1);
    assert_eq!(w.jwks_kids().await.len(), 4);
    w.store.purge_expired(w.clock.now_millis()).await.unwrap();
    assert_eq!(w.jwks_kids().await.len(), 4);
    w.clock.advance_secs(1);
    w.store.purge_expired(w.clock.now_millis()).await.unwrap();
    let mut left = w.jwks_kids().await;
    let mut want = new_kids.clone();
    left.sort();
    want.sort();
    assert_eq!(left, want);
    let (latest, _) = w.login().await;
    assert!(new_kids.contains(&kid_of(&latest)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scheduled_rotation_run_by_many_at_once_rotates_once() {
    let w = world().await;
    w.clock.advance_secs(91 * 86_400);
    let due_before = w.clock.now_millis() - 90 * 86_400_000;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (svc, pool_id) = (w.svc.clone(), w.pool_id.clone());
            tokio::spawn(async move { svc.rotate_keys(&pool_id, LEAD_MS, Some(due_before)).await })
        })
        .collect();
    let mut rotated = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().is_some() {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1);
    assert_eq!(w.jwks_kids().await.len(), 4);
    // Not due again until the new keys are old enough.
    assert!(w
        .svc
        .rotate_keys(
            &w.pool_id,
            LEAD_MS,
            Some(w.clock.now_millis() - 90 * 86_400_000)
        )
        .await
        .unwrap()
        .is_none());
}

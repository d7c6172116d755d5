//! What the fuzz targets share: a real `UserPools` service over a SQLite
//! store in a temporary directory, with a manual clock and one pool of
//! fixed ids (so the seed corpus can name them), made once per process.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use cognate_core::clock::{Clock, ManualClock};
use cognate_core::delivery::{MessageSink, OutgoingMessage};
use cognate_core::model::{ClientSettings, PoolSettings};
use cognate_core::service::pools::NewPool;
use cognate_core::service::NewClient;
use cognate_core::{ServiceConfig, UserPools};
use cognate_crypto::{PasswordHasher, PasswordParams};

/// The pool every seed names.
pub const POOL_ID: &str = "us-east-1_Fuzz00001";
/// A public client allowing every flow and the hosted UI.
pub const CLIENT_ID: &str = "fuzzclient000000000000001";
/// A client with a secret.
pub const SECRET_CLIENT_ID: &str = "fuzzsecretclient000000001";
pub const CLIENT_SECRET: &str = "fuzz-client-secret-0123456789abcdef";
/// The pool's hosted-UI domain (`/domains/fuzz-domain/...`).
pub const DOMAIN: &str = "fuzz-domain";
/// A confirmed user and its password.
pub const USERNAME: &str = "alice";
pub const PASSWORD: &str = "Passw0rd!x";
/// The manual clock's instant (epoch milliseconds).
pub const NOW_MS: i64 = 1_800_000_000_000;

struct NoMail;

#[async_trait]
impl MessageSink for NoMail {
    async fn deliver(&self, _message: &OutgoingMessage) -> Result<(), String> {
        Ok(())
    }
}

pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub svc: Arc<UserPools>,
    _dir: tempfile::TempDir,
}

/// The process's service, made at the first call.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(make_world)
}

fn make_world() -> World {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = cognate_store::SqliteStore::open_with(
        &dir.path().join("fuzz.db"),
        cognate_store::Durability::Normal,
    )
    .expect("store");
    let svc = Arc::new(UserPools::new(
        Arc::new(store),
        Arc::new(ManualClock::new(NOW_MS)) as Arc<dyn Clock>,
        PasswordHasher::new(PasswordParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        })
        .expect("hasher"),
        Arc::new(NoMail),
        ServiceConfig {
            public_url: "http://cognate.fuzz".into(),
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        },
    ));
    rt.block_on(seed(&svc));
    World { rt, svc, _dir: dir }
}

async fn seed(svc: &UserPools) {
    svc.create_user_pool(NewPool {
        id: Some(POOL_ID.into()),
        name: "fuzz".into(),
        alias_attributes: vec!["email".into()],
        username_attributes: vec![],
        username_case_sensitive: None,
        schema: vec![],
        settings: PoolSettings::default(),
    })
    .await
    .expect("pool");
    let mut settings = ClientSettings::named("app");
    settings.explicit_auth_flows = Some(
        [
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_CUSTOM_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ]
        .map(String::from)
        .to_vec(),
    );
    settings.supported_identity_providers = Some(vec!["COGNITO".into()]);
    settings.callback_urls = Some(vec!["https://app.example/cb".into()]);
    settings.logout_urls = Some(vec!["https://app.example/out".into()]);
    settings.allowed_oauth_flows = Some(vec!["code".into(), "implicit".into()]);
    settings.allowed_oauth_scopes = Some(
        [
            "openid",
            "email",
            "profile",
            "aws.cognito.signin.user.admin",
        ]
        .map(String::from)
        .to_vec(),
    );
    settings.allowed_oauth_flows_user_pool_client = true;
    svc.create_user_pool_client(NewClient {
        pool_id: POOL_ID.into(),
        client_id: Some(CLIENT_ID.into()),
        generate_secret: false,
        client_secret: None,
        settings: settings.clone(),
    })
    .await
    .expect("client");
    settings.client_name = "secret".into();
    svc.create_user_pool_client(NewClient {
        pool_id: POOL_ID.into(),
        client_id: Some(SECRET_CLIENT_ID.into()),
        generate_secret: false,
        client_secret: Some(CLIENT_SECRET.into()),
        settings,
    })
    .await
    .expect("secret client");
    svc.create_user_pool_domain(POOL_ID, DOMAIN, None, None)
        .await
        .expect("domain");
    svc.seed_user(POOL_ID, USERNAME, Some(PASSWORD), true, vec![])
        .await
        .expect("user");
}

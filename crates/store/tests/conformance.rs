//! The store conformance suite: every rule of `cognate_core::store`, with
//! real concurrent callers (dozens of calls in flight on a multi-threaded
//! runtime), against every engine. Each test is written once as an async
//! function over `Arc<dyn Store>`; `engines!` instantiates it per engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use std::collections::BTreeMap;
use std::sync::Arc;

use cognate_core::error::StoreError;
use cognate_core::model::{
    AliasKey, Attribute, AuthorizationCode, ChallengeSession, CodeRecord, FilterAttribute, Group,
    LinkedIdentity, PoolSettings, RefreshTokenRecord, SsoSession, StoredKey, User, UserFilter,
    UserImportJob, UserPool, UserStatus, WebAuthnCredential,
};
use cognate_core::store::{CodeUse, CredentialAdd, IdentityLink, LockoutPolicy, Store, Write};
use futures_util::future::join_all;

const LOCKOUT: LockoutPolicy = LockoutPolicy {
    after: 5,
    base_ms: 1000,
    max_ms: 15 * 60 * 1000,
    reset_ms: 15 * 60 * 1000,
};
const NOW: i64 = 1_800_000_000_000;

fn pool(id: &str, username_attributes: &[&str], alias_attributes: &[&str]) -> UserPool {
    UserPool {
        id: id.to_owned(),
        name: id.to_owned(),
        created: NOW,
        modified: NOW,
        alias_attributes: alias_attributes.iter().map(|s| s.to_string()).collect(),
        username_attributes: username_attributes.iter().map(|s| s.to_string()).collect(),
        username_case_sensitive: Some(false),
        schema: Vec::new(),
        settings: PoolSettings::default(),
        sessions: Default::default(),
        terms: Vec::new(),
        managed_login_branding: Vec::new(),
        identity_providers: Vec::new(),
        log_configurations: None,
        risk_configurations: Vec::new(),
        version: 0,
    }
}

fn user(pool_id: &str, username: &str, attributes: &[(&str, &str)]) -> User {
    User {
        pool_id: pool_id.to_owned(),
        username: username.to_owned(),
        username_key: username.to_lowercase(),
        sub: uuid(),
        attributes: attributes
            .iter()
            .map(|(n, v)| Attribute::new(*n, *v))
            .collect(),
        status: UserStatus::Confirmed,
        enabled: true,
        created: NOW,
        modified: NOW,
        password_hash: Some("$argon2id$x".into()),
        temporary_password_expires: None,
        tokens_valid_after: None,
        srp_salt: None,
        srp_verifier: None,
        revoked_origins: Vec::new(),
        totp_pending_secret: None,
        totp_secret: None,
        totp_last_step: None,
        totp_enabled: false,
        totp_name: None,
        mfa_preferred: None,
        sms_mfa_enabled: false,
        email_mfa_enabled: false,
        webauthn_mfa_enabled: false,
        password_sign_in_disabled: false,
        devices: Vec::new(),
        mfa_options: Vec::new(),
        version: 0,
    }
}

fn uuid() -> String {
    cognate_crypto::random::uuid()
}

fn unique_pool_id() -> String {
    format!("us-east-1_{}", &uuid().replace('-', "")[..12])
}

async fn new_pool(
    store: &Arc<dyn Store>,
    username_attributes: &[&str],
    alias: &[&str],
) -> UserPool {
    let p = pool(&unique_pool_id(), username_attributes, alias);
    store.insert_pool(&p, &[]).await.expect("insert pool");
    store.get_pool(&p.id).await.expect("get").expect("pool")
}

async fn add_user(store: &Arc<dyn Store>, p: &UserPool, u: &User) {
    store
        .insert_user(u, &p.alias_keys(u))
        .await
        .expect("insert user");
}

fn refresh(p: &UserPool, u: &User, origin: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: uuid(),
        pool_id: p.id.clone(),
        client_id: "client".into(),
        username_key: u.username_key.clone(),
        sub: u.sub.clone(),
        origin_jti: origin.to_owned(),
        auth_time: NOW / 1000,
        created: NOW,
        expires: NOW + 3_600_000,
        revoked: false,
        scope: None,
        rotated_until: None,
        device_key: None,
        last_active: NOW,
        sso_session_id: None,
        last_ip: None,
        last_device: None,
    }
}

fn sso(p: &UserPool, u: &User, id: &str) -> SsoSession {
    SsoSession {
        session_id: id.to_owned(),
        pool_id: p.id.clone(),
        username_key: u.username_key.clone(),
        sub: u.sub.clone(),
        client_id: "client".into(),
        created: NOW,
        last_active: NOW,
        expires: NOW + 3_600_000,
        last_ip: Some("192.0.2.1".into()),
        last_device: Some("Chrome on Linux".into()),
    }
}

// ---------------------------------------------------------------------------
// Users: versions, uniqueness, aliases, cascade
// ---------------------------------------------------------------------------

async fn concurrent_compare_and_swap_loses_no_update(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    add_user(&store, &p, &user(&p.id, "counter", &[("custom:n", "0")])).await;
    // 40 writers each add one, by read / change / compare-and-swap / retry.
    let tasks = (0..40).map(|_| {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move {
            loop {
                let mut u = store
                    .get_user(&p.id, "counter")
                    .await
                    .expect("get")
                    .expect("user");
                let n: i64 = u.attribute("custom:n").unwrap_or("0").parse().expect("n");
                u.set_attribute("custom:n", Some(&(n + 1).to_string()));
                match store
                    .update_user(&u, &p.alias_keys(&u))
                    .await
                    .expect("update")
                {
                    Write::Done => return,
                    Write::Stale => continue,
                    Write::Missing => panic!("user vanished"),
                }
            }
        })
    });
    for t in join_all(tasks).await {
        t.expect("task");
    }
    let u = store
        .get_user(&p.id, "counter")
        .await
        .expect("get")
        .expect("user");
    assert_eq!(u.attribute("custom:n"), Some("40"));
    assert_eq!(u.version, 41);
}

async fn a_stale_write_is_refused_and_a_missing_user_reported(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    add_user(&store, &p, &user(&p.id, "alice", &[])).await;
    let first = store
        .get_user(&p.id, "alice")
        .await
        .expect("get")
        .expect("user");
    let mut second = first.clone();
    let mut disabled = first.clone();
    disabled.enabled = false;
    assert_eq!(
        store.update_user(&disabled, &[]).await.expect("write"),
        Write::Done
    );
    // A copy read before the disable cannot write the user back enabled.
    second.set_attribute("name", Some("Alice"));
    assert_eq!(
        store.update_user(&second, &[]).await.expect("write"),
        Write::Stale
    );
    let now = store
        .get_user(&p.id, "alice")
        .await
        .expect("get")
        .expect("user");
    assert!(!now.enabled);
    assert_eq!(now.attribute("name"), None);
    assert!(store.delete_user(&p.id, "alice").await.expect("delete"));
    assert_eq!(
        store.update_user(&now, &[]).await.expect("write"),
        Write::Missing
    );
}

async fn concurrent_inserts_of_one_username_admit_exactly_one(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let tasks = (0..30).map(|_| {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move { store.insert_user(&user(&p.id, "same", &[]), &[]).await })
    });
    let results: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict(_)))));
}

async fn concurrent_inserts_of_one_alias_admit_exactly_one(store: Arc<dyn Store>) {
    // Email as the sign-in name: unique whether verified or not.
    let p = new_pool(&store, &["email"], &[]).await;
    let tasks = (0..30).map(|i| {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move {
            let u = user(
                &p.id,
                &format!("user-{i}"),
                &[("email", "Same@Example.com")],
            );
            store.insert_user(&u, &p.alias_keys(&u)).await
        })
    });
    let results: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for r in &results {
        assert!(
            match r {
                Ok(()) => true,
                Err(StoreError::AliasTaken(k)) => k == "email",
                Err(_) => false,
            },
            "{r:?}"
        );
    }
    assert_eq!(store.count_users(&p.id).await.expect("count"), 1);
    let found = store
        .get_user_by_alias(&p.id, "email", "same@example.com")
        .await
        .expect("alias")
        .expect("holder");
    assert_eq!(found.attribute("email"), Some("Same@Example.com"));
}

async fn an_alias_is_unique_only_once_verified_and_moves_with_updates(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &["email", "preferred_username"]).await;
    let a = user(
        &p.id,
        "a",
        &[("email", "x@example.com"), ("email_verified", "false")],
    );
    let b = user(
        &p.id,
        "b",
        &[("email", "x@example.com"), ("email_verified", "false")],
    );
    add_user(&store, &p, &a).await;
    add_user(&store, &p, &b).await; // unverified: both may have it
    let mut a = store.get_user(&p.id, "a").await.expect("get").expect("a");
    a.set_attribute("email_verified", Some("true"));
    assert_eq!(
        store
            .update_user(&a, &p.alias_keys(&a))
            .await
            .expect("verify a"),
        Write::Done
    );
    let mut b = store.get_user(&p.id, "b").await.expect("get").expect("b");
    b.set_attribute("email_verified", Some("true"));
    assert!(matches!(
        store.update_user(&b, &p.alias_keys(&b)).await,
        Err(StoreError::AliasTaken(k)) if k == "email"
    ));
    // The refused write left b as it was.
    let b = store.get_user(&p.id, "b").await.expect("get").expect("b");
    assert_eq!(b.attribute("email_verified"), Some("false"));
    // a changes its email: the old value is free for b.
    let mut a = store.get_user(&p.id, "a").await.expect("get").expect("a");
    a.set_attribute("email", Some("new@example.com"));
    assert_eq!(
        store
            .update_user(&a, &p.alias_keys(&a))
            .await
            .expect("move"),
        Write::Done
    );
    let mut b = b;
    b.set_attribute("email_verified", Some("true"));
    assert_eq!(
        store
            .update_user(&b, &p.alias_keys(&b))
            .await
            .expect("verify b"),
        Write::Done
    );
    let holder = store
        .get_user_by_alias(&p.id, "email", "x@example.com")
        .await
        .expect("alias")
        .expect("b");
    assert_eq!(holder.username_key, "b");
}

async fn deleting_a_user_leaves_nothing_that_refers_to_it(store: Arc<dyn Store>) {
    let p = new_pool(&store, &["email"], &[]).await;
    let u = user(&p.id, "gone", &[("email", "gone@example.com")]);
    add_user(&store, &p, &u).await;
    store
        .insert_group(&Group {
            pool_id: p.id.clone(),
            name: "g".into(),
            description: None,
            role_arn: None,
            precedence: None,
            created: NOW,
            modified: NOW,
        })
        .await
        .expect("group");
    store
        .add_user_to_group(&p.id, "g", "gone")
        .await
        .expect("member");
    store
        .put_code(&CodeRecord {
            pool_id: p.id.clone(),
            username_key: "gone".into(),
            purpose: "signup".into(),
            code_hash: "h".into(),
            expires: NOW + 60_000,
            attempts: 0,
        })
        .await
        .expect("code");
    let token = refresh(&p, &u, "o1");
    store.put_refresh_token(&token).await.expect("refresh");
    store
        .put_sso_session(&sso(&p, &u, "ssogone"))
        .await
        .expect("sso");
    store
        .record_sign_in_failure(&p.id, "gone", NOW, &LOCKOUT)
        .await
        .expect("failure");
    assert!(store
        .revoke_refresh_token(&token.token_hash, NOW + 1000)
        .await
        .expect("revoke"));
    assert!(store.delete_user(&p.id, "gone").await.expect("delete"));
    // A new user of the same name starts with nothing of the old one.
    let again = user(&p.id, "gone", &[("email", "gone@example.com")]);
    add_user(&store, &p, &again).await;
    assert!(store
        .groups_of_user(&p.id, "gone")
        .await
        .expect("groups")
        .is_empty());
    assert_eq!(
        store
            .use_code(
                &CodeRecord {
                    pool_id: p.id.clone(),
                    username_key: "gone".into(),
                    purpose: "signup".into(),
                    code_hash: "h".into(),
                    expires: 0,
                    attempts: 0
                },
                NOW,
                5
            )
            .await
            .expect("code"),
        CodeUse::Expired
    );
    assert!(store
        .get_refresh_token(&token.token_hash)
        .await
        .expect("refresh")
        .is_none());
    assert_eq!(
        store
            .sign_in_locked_until(&p.id, "gone")
            .await
            .expect("lock"),
        None
    );
    let fresh = store
        .get_user(&p.id, "gone")
        .await
        .expect("get")
        .expect("user");
    assert!(fresh.revoked_origins.is_empty());
    assert!(store
        .get_sso_session(&p.id, "ssogone")
        .await
        .expect("sso")
        .is_none());
    // Nothing can be attached to a user that is gone.
    assert!(store.delete_user(&p.id, "gone").await.expect("delete"));
    assert!(matches!(
        store.add_user_to_group(&p.id, "g", "gone").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.put_refresh_token(&refresh(&p, &again, "o2")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.put_sso_session(&sso(&p, &again, "ssogone2")).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn sso_sessions_are_listed_touched_revoked_and_signed_out(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let u = user(&p.id, "browser", &[]);
    add_user(&store, &p, &u).await;
    let mut old = sso(&p, &u, "ssoold");
    old.expires = NOW + 10;
    store.put_sso_session(&old).await.expect("put");
    store
        .put_sso_session(&sso(&p, &u, "ssoa"))
        .await
        .expect("put");
    assert!(matches!(
        store.put_sso_session(&sso(&p, &u, "ssoa")).await,
        Err(StoreError::Conflict(_))
    ));
    let ids = |list: Vec<SsoSession>| list.into_iter().map(|s| s.session_id).collect::<Vec<_>>();
    let live = |at: i64| {
        let (store, pool_id) = (store.clone(), p.id.clone());
        async move {
            store
                .list_live_sso_sessions(&pool_id, "browser", at, 10)
                .await
                .expect("list")
        }
    };
    assert_eq!(ids(live(NOW).await), ["ssoa", "ssoold"]);
    assert_eq!(ids(live(NOW + 10).await), ["ssoa"]);
    // Activity keeps the latest instant and its source.
    assert!(store
        .touch_sso_session(&p.id, "ssoa", NOW + 50, Some("192.0.2.7"), Some("Firefox"))
        .await
        .expect("touch"));
    assert!(store
        .touch_sso_session(&p.id, "ssoa", NOW + 20, Some("192.0.2.8"), Some("Safari"))
        .await
        .expect("touch"));
    assert!(!store
        .touch_sso_session(&p.id, "ssonone", NOW, None, None)
        .await
        .expect("touch"));
    let a = store
        .get_sso_session(&p.id, "ssoa")
        .await
        .expect("get")
        .expect("a");
    assert_eq!(
        (
            a.last_active,
            a.last_ip.as_deref(),
            a.last_device.as_deref()
        ),
        (NOW + 50, Some("192.0.2.7"), Some("Firefox"))
    );
    // Tokens granted through a session: NONE leaves them, LINKED revokes them.
    let through = |origin: &str, id: &str| {
        let mut t = refresh(&p, &u, origin);
        t.sso_session_id = Some(id.to_owned());
        t
    };
    let (t1, t2) = (through("via-a", "ssoa"), through("via-b", "ssob"));
    store.put_refresh_token(&t1).await.expect("put");
    store
        .put_sso_session(&sso(&p, &u, "ssob"))
        .await
        .expect("put");
    store.put_refresh_token(&t2).await.expect("put");
    assert!(store
        .revoke_sso_session(&p.id, "browser", "ssoa", false, NOW + 100)
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_sso_session(&p.id, "browser", "ssoa", false, NOW + 100)
        .await
        .expect("revoke"));
    assert!(
        !store
            .get_refresh_token(&t1.token_hash)
            .await
            .expect("get")
            .expect("t1")
            .revoked
    );
    // Another user's session is not this user's to revoke.
    let other = user(&p.id, "other", &[]);
    add_user(&store, &p, &other).await;
    assert!(!store
        .revoke_sso_session(&p.id, "other", "ssob", true, NOW + 100)
        .await
        .expect("revoke"));
    assert!(store
        .revoke_sso_session(&p.id, "browser", "ssob", true, NOW + 100)
        .await
        .expect("revoke"));
    assert!(
        store
            .get_refresh_token(&t2.token_hash)
            .await
            .expect("get")
            .expect("t2")
            .revoked
    );
    let stored = store
        .get_user(&p.id, "browser")
        .await
        .expect("get")
        .expect("u");
    assert!(stored.token_revoked(None, Some("via-b"), NOW + 50));
    assert!(!stored.token_revoked(None, Some("via-a"), NOW + 50));
    // A new sign-in's token through a session that is gone is refused.
    assert!(matches!(
        store.put_refresh_token(&through("late", "ssob")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .put_refresh_token_limited(&through("late", "ssob"), NOW, 5, NOW + 100)
            .await,
        Err(StoreError::Conflict(_))
    ));
    // A global sign-out ends every SSO session; expired ones are purged.
    store
        .put_sso_session(&sso(&p, &u, "ssoc"))
        .await
        .expect("put");
    assert!(store
        .sign_out_user(&p.id, "browser", NOW + 60)
        .await
        .expect("sign out"));
    assert!(live(NOW).await.is_empty());
    let mut expired = sso(&p, &other, "ssoexpired");
    expired.expires = NOW + 1;
    store.put_sso_session(&expired).await.expect("put");
    store.purge_expired(NOW + 2).await.expect("purge");
    assert!(store
        .get_sso_session(&p.id, "ssoexpired")
        .await
        .expect("get")
        .is_none());
}

/// Sign-ins through an SSO session racing its LINKED revocation: every
/// token that was stored is revoked, none outlives the session.
async fn a_linked_revocation_leaves_no_token_of_its_sso_session(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let u = user(&p.id, "racer", &[]);
    add_user(&store, &p, &u).await;
    for round in 0..5 {
        let id = format!("ssorace{round}");
        store.put_sso_session(&sso(&p, &u, &id)).await.expect("put");
        let tokens: Vec<RefreshTokenRecord> = (0..20)
            .map(|i| {
                let mut t = refresh(&p, &u, &format!("{id}-{i}"));
                t.sso_session_id = Some(id.clone());
                t
            })
            .collect();
        let sign_ins = tokens.iter().cloned().enumerate().map(|(i, t)| {
            let store = store.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    store
                        .put_refresh_token_limited(&t, NOW, 100, NOW + 100)
                        .await
                        .map(|_| ())
                } else {
                    store.put_refresh_token(&t).await
                }
            })
        });
        let revoke = {
            let (store, pool_id, id) = (store.clone(), p.id.clone(), id.clone());
            tokio::spawn(async move {
                store
                    .revoke_sso_session(&pool_id, "racer", &id, true, NOW + 100)
                    .await
            })
        };
        for r in join_all(sign_ins).await {
            match r.expect("join") {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("sign-in: {e}"),
            }
        }
        assert!(revoke.await.expect("join").expect("revoke"));
        for t in &tokens {
            if let Some(stored) = store.get_refresh_token(&t.token_hash).await.expect("get") {
                assert!(stored.revoked, "round {round}: {} survived", t.token_hash);
            }
        }
    }
}

async fn a_membership_added_while_the_user_is_deleted_does_not_survive(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    store
        .insert_group(&Group {
            pool_id: p.id.clone(),
            name: "admins".into(),
            description: None,
            role_arn: None,
            precedence: None,
            created: NOW,
            modified: NOW,
        })
        .await
        .expect("group");
    for round in 0..10 {
        let name = format!("victim{round}");
        add_user(&store, &p, &user(&p.id, &name, &[])).await;
        let adds = (0..10).map(|_| {
            let (store, p, name) = (store.clone(), p.clone(), name.clone());
            tokio::spawn(async move { store.add_user_to_group(&p.id, "admins", &name).await })
        });
        let delete = {
            let (store, p, name) = (store.clone(), p.clone(), name.clone());
            tokio::spawn(async move { store.delete_user(&p.id, &name).await })
        };
        let (adds, delete) = tokio::join!(join_all(adds), delete);
        assert!(delete.expect("task").expect("delete"));
        for add in adds {
            assert!(matches!(
                add.expect("task"),
                Ok(()) | Err(StoreError::Conflict(_))
            ));
        }
        add_user(&store, &p, &user(&p.id, &name, &[])).await;
        assert!(
            store
                .groups_of_user(&p.id, &name)
                .await
                .expect("groups")
                .is_empty(),
            "a membership of the deleted {name} passed to the new one"
        );
    }
}

// ---------------------------------------------------------------------------
// Hot state: lockout, sign-out, revocation, TOTP steps
// ---------------------------------------------------------------------------

async fn concurrent_failures_all_count_and_lock(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    add_user(&store, &p, &user(&p.id, "target", &[])).await;
    let tasks = (0..40).map(|_| {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move {
            store
                .record_sign_in_failure(&p.id, "target", NOW, &LOCKOUT)
                .await
        })
    });
    let mut counts: Vec<u32> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("record").expect("user").failures)
        .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=40).collect::<Vec<_>>(),
        "each failure counted once"
    );
    let lock = store
        .sign_in_locked_until(&p.id, "target")
        .await
        .expect("lock")
        .expect("locked");
    assert_eq!(lock, NOW + LOCKOUT.max_ms);
    // A success does not clear an active lock...
    assert!(!store
        .clear_sign_in_failures(&p.id, "target", NOW + 1)
        .await
        .expect("clear"));
    // ...and clears the count once the lock is over.
    assert!(store
        .clear_sign_in_failures(&p.id, "target", lock)
        .await
        .expect("clear"));
    assert_eq!(
        store
            .sign_in_locked_until(&p.id, "target")
            .await
            .expect("lock"),
        None
    );
    // Quiet time starts the count again.
    let f = store
        .record_sign_in_failure(&p.id, "target", NOW, &LOCKOUT)
        .await
        .expect("record")
        .expect("user");
    assert_eq!(f.failures, 1);
    let f = store
        .record_sign_in_failure(&p.id, "target", NOW + LOCKOUT.reset_ms + 1, &LOCKOUT)
        .await
        .expect("record")
        .expect("user");
    assert_eq!(f.failures, 1);
    assert_eq!(
        store
            .record_sign_in_failure(&p.id, "nobody", NOW, &LOCKOUT)
            .await
            .expect("record"),
        None
    );
}

async fn sign_out_and_disable_during_writes_both_stick(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let u = user(&p.id, "busy", &[]);
    add_user(&store, &p, &u).await;
    let tokens: Vec<_> = (0..5)
        .map(|i| refresh(&p, &u, &format!("origin{i}")))
        .collect();
    for t in &tokens {
        store.put_refresh_token(t).await.expect("refresh");
    }
    // Writers that touch the document, a disable and a sign-out, all at once.
    let writers = (0..20).map(|i| {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move {
            loop {
                let mut u = store
                    .get_user(&p.id, "busy")
                    .await
                    .expect("get")
                    .expect("u");
                u.set_attribute("name", Some(&format!("n{i}")));
                if store.update_user(&u, &[]).await.expect("update") == Write::Done {
                    return;
                }
            }
        })
    });
    let disable = {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move {
            loop {
                let mut u = store
                    .get_user(&p.id, "busy")
                    .await
                    .expect("get")
                    .expect("u");
                u.enabled = false;
                if store.update_user(&u, &[]).await.expect("update") == Write::Done {
                    return;
                }
            }
        })
    };
    let sign_out = {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move { store.sign_out_user(&p.id, "busy", NOW).await })
    };
    let (writers, disable, sign_out) = tokio::join!(join_all(writers), disable, sign_out);
    writers.into_iter().for_each(|w| w.expect("writer"));
    disable.expect("disable");
    assert!(sign_out.expect("task").expect("sign out"));
    let u = store
        .get_user(&p.id, "busy")
        .await
        .expect("get")
        .expect("u");
    assert!(!u.enabled, "the disable was lost");
    assert_eq!(u.tokens_valid_after, Some(NOW), "the sign-out was lost");
    assert!(u.signed_out_since(NOW) && u.signed_out_since(NOW - 1));
    assert!(!u.signed_out_since(NOW + 1));
    // Nothing is written per session: the sign-out instant alone refuses
    // the sessions that began by then (`User::token_revoked`).
    assert!(u.revoked_origins.is_empty(), "state grew per session");
    for t in &tokens {
        let r = store
            .get_refresh_token(&t.token_hash)
            .await
            .expect("get")
            .expect("token");
        assert!(r.revoked);
    }
    // A later sign-out moves the instant on, never back.
    store
        .sign_out_user(&p.id, "busy", NOW - 5000)
        .await
        .expect("again");
    let u = store
        .get_user(&p.id, "busy")
        .await
        .expect("get")
        .expect("u");
    assert_eq!(u.tokens_valid_after, Some(NOW));
}

async fn revoking_a_refresh_token_marks_its_session(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let u = user(&p.id, "r", &[]);
    add_user(&store, &p, &u).await;
    let keep = refresh(&p, &u, "keep");
    let drop = refresh(&p, &u, "drop");
    store.put_refresh_token(&keep).await.expect("keep");
    store.put_refresh_token(&drop).await.expect("drop");
    assert!(store
        .revoke_refresh_token(&drop.token_hash, NOW + 1000)
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_refresh_token("unknown", NOW + 1000)
        .await
        .expect("unknown"));
    let u = store.get_user(&p.id, "r").await.expect("get").expect("u");
    assert_eq!(u.revoked_origins.len(), 1);
    assert_eq!(u.revoked_origins[0].origin_jti, "drop");
    assert_eq!(u.revoked_origins[0].until, NOW + 1000);
    assert!(
        u.token_revoked(None, Some("drop"), NOW) && u.token_revoked(None, Some("drop"), NOW + 999)
    );
    assert!(!u.token_revoked(None, Some("keep"), NOW));
    // Marks expire with the tokens they guard.
    store.purge_expired(NOW + 1000).await.expect("purge");
    let u = store.get_user(&p.id, "r").await.expect("get").expect("u");
    assert!(u.revoked_origins.is_empty());
}

async fn concurrent_rotations_of_one_token_admit_exactly_one(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let u = user(&p.id, "rot", &[]);
    add_user(&store, &p, &u).await;
    let first = refresh(&p, &u, "family");
    store.put_refresh_token(&first).await.expect("put");
    // Grace 0: of 30 concurrent rotations exactly one stores a token.
    let tasks = (0..30).map(|i| {
        let store = store.clone();
        let (old, mut next) = (first.token_hash.clone(), refresh(&p, &u, "family"));
        next.token_hash = format!("next-{i}-{}", uuid());
        tokio::spawn(async move {
            store
                .rotate_refresh_token(&old, NOW + i, 0, &next)
                .await
                .map(|won| won.then_some(next.token_hash))
        })
    });
    let results: Vec<_> = join_all(tasks).await.into_iter().collect();
    let winners: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.expect("join").expect("rotate"))
        .collect();
    assert_eq!(winners.len(), 1, "{winners:?}");
    let old = store
        .get_refresh_token(&first.token_hash)
        .await
        .expect("get")
        .expect("old");
    assert!(old.rotated_until.is_some());
    // The rotated token is no session of its own any more.
    let live = store
        .list_live_refresh_tokens(&p.id, "rot", NOW, 100)
        .await
        .expect("live");
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].token_hash, winners[0]);
    // Within a grace period a token may rotate again until it ends.
    let mut graced = refresh(&p, &u, "graced");
    graced.token_hash = format!("graced-{}", uuid());
    store.put_refresh_token(&graced).await.expect("put");
    for (i, at, want) in [
        (0, NOW, true),
        (1, NOW + 4_999, true),
        (2, NOW + 5_000, false),
    ] {
        let mut next = refresh(&p, &u, "graced");
        next.token_hash = format!("g{i}-{}", uuid());
        let won = store
            .rotate_refresh_token(&graced.token_hash, at, 5_000, &next)
            .await
            .expect("rotate");
        assert_eq!(won, want, "rotation at +{}", at - NOW);
    }
}

async fn revoking_a_token_revokes_its_family_under_concurrent_rotations(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let u = user(&p.id, "fam", &[]);
    add_user(&store, &p, &u).await;
    for round in 0..5 {
        let origin = format!("family-{round}");
        let first = refresh(&p, &u, &origin);
        store.put_refresh_token(&first).await.expect("put");
        // Rotations with a long grace (each succeeds unless revoked) race
        // one revocation of the first token.
        let nexts: Vec<RefreshTokenRecord> = (0..10)
            .map(|i| {
                let mut next = refresh(&p, &u, &origin);
                next.token_hash = format!("{origin}-{i}-{}", uuid());
                next
            })
            .collect();
        let rotations = nexts.iter().cloned().map(|next| {
            let (store, old) = (store.clone(), first.token_hash.clone());
            tokio::spawn(async move { store.rotate_refresh_token(&old, NOW, 60_000, &next).await })
        });
        let revoke = {
            let (store, hash) = (store.clone(), first.token_hash.clone());
            tokio::spawn(async move { store.revoke_refresh_token(&hash, NOW + 1000).await })
        };
        for r in join_all(rotations).await {
            r.expect("join").expect("rotate");
        }
        assert!(revoke.await.expect("join").expect("revoke"));
        // Every token of the family that was stored is revoked.
        for t in std::iter::once(&first).chain(&nexts) {
            if let Some(stored) = store.get_refresh_token(&t.token_hash).await.expect("get") {
                assert!(stored.revoked, "round {round}: {} survived", t.token_hash);
            }
        }
    }
}

async fn concurrent_sign_ins_keep_a_user_within_max_sessions(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let u = user(&p.id, "many", &[]);
    add_user(&store, &p, &u).await;
    let live = |store: Arc<dyn Store>, at: i64| {
        let pool_id = p.id.clone();
        async move {
            store
                .list_live_refresh_tokens(&pool_id, "many", at, 1000)
                .await
                .expect("live")
        }
    };
    // Three sessions, used at different instants: "b" is the least
    // recently used once "a" is refreshed.
    for (origin, at) in [("a", NOW), ("b", NOW + 1), ("c", NOW + 2)] {
        let mut t = refresh(&p, &u, origin);
        t.last_active = at;
        store
            .put_refresh_token_limited(&t, NOW + 2, 3, NOW + 10)
            .await
            .expect("put");
    }
    let a = live(store.clone(), NOW + 3).await;
    let a_hash = a
        .iter()
        .find(|t| t.origin_jti == "a")
        .expect("a")
        .token_hash
        .clone();
    store
        .touch_refresh_token(&a_hash, NOW + 5, Some("192.0.2.9"), Some("Boto3"))
        .await
        .expect("touch");
    let d = refresh(&p, &u, "d");
    assert_eq!(
        store
            .put_refresh_token_limited(&d, NOW + 6, 3, NOW + 10)
            .await
            .expect("put"),
        1
    );
    let after = live(store.clone(), NOW + 6).await;
    let touched = after.iter().find(|t| t.origin_jti == "a").expect("a");
    assert_eq!(
        (
            touched.last_active,
            touched.last_ip.as_deref(),
            touched.last_device.as_deref()
        ),
        (NOW + 5, Some("192.0.2.9"), Some("Boto3"))
    );
    let mut origins: Vec<String> = after.into_iter().map(|t| t.origin_jti).collect();
    origins.sort();
    assert_eq!(origins, ["a", "c", "d"]);
    // The evicted session's access tokens are refused with it.
    let stored = store
        .get_user(&p.id, "many")
        .await
        .expect("get")
        .expect("u");
    assert!(stored.token_revoked(None, Some("b"), NOW + 6));
    // Forty concurrent sign-ins with a limit of 5: never more than 5 live.
    let tasks = (0..40).map(|i| {
        let store = store.clone();
        let t = refresh(&p, &u, &format!("concurrent-{i}"));
        tokio::spawn(async move {
            store
                .put_refresh_token_limited(&t, NOW + 7, 5, NOW + 10)
                .await
        })
    });
    for r in join_all(tasks).await {
        r.expect("join").expect("put");
    }
    assert_eq!(live(store.clone(), NOW + 7).await.len(), 5);
}

async fn a_totp_step_is_accepted_once_under_concurrency(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    add_user(&store, &p, &user(&p.id, "otp", &[])).await;
    for step in [100_i64, 101] {
        let tasks = (0..30).map(|_| {
            let (store, p) = (store.clone(), p.clone());
            tokio::spawn(async move { store.claim_totp_step(&p.id, "otp", step).await })
        });
        let accepted = join_all(tasks)
            .await
            .into_iter()
            .filter(|r| *r.as_ref().expect("task").as_ref().expect("claim"))
            .count();
        assert_eq!(accepted, 1, "step {step}");
    }
    // An earlier step never comes back.
    assert!(!store.claim_totp_step(&p.id, "otp", 99).await.expect("old"));
    let u = store.get_user(&p.id, "otp").await.expect("get").expect("u");
    assert_eq!(u.totp_last_step, Some(101));
}

// ---------------------------------------------------------------------------
// Single use: codes, challenge sessions, authorization codes
// ---------------------------------------------------------------------------

fn code(p: &UserPool, hash: &str) -> CodeRecord {
    CodeRecord {
        pool_id: p.id.clone(),
        username_key: "coded".into(),
        purpose: "forgot_password".into(),
        code_hash: hash.into(),
        expires: NOW + 60_000,
        attempts: 0,
    }
}

async fn a_code_is_used_once_by_concurrent_right_guesses(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    add_user(&store, &p, &user(&p.id, "coded", &[])).await;
    store.put_code(&code(&p, "right")).await.expect("put");
    let tasks = (0..30).map(|_| {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move { store.use_code(&code(&p, "right"), NOW, 5).await })
    });
    let outcomes: Vec<CodeUse> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("use"))
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == CodeUse::Accepted).count(),
        1
    );
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, CodeUse::Accepted | CodeUse::Expired)));
}

async fn concurrent_wrong_guesses_stop_at_the_limit(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    add_user(&store, &p, &user(&p.id, "coded", &[])).await;
    store.put_code(&code(&p, "right")).await.expect("put");
    let tasks = (0..30).map(|i| {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move {
            store
                .use_code(&code(&p, &format!("wrong{i}")), NOW, 5)
                .await
        })
    });
    let outcomes: Vec<CodeUse> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("use"))
        .collect();
    let mismatches: Vec<u32> = outcomes
        .iter()
        .filter_map(|o| match o {
            CodeUse::Mismatch(n) => Some(*n),
            _ => None,
        })
        .collect();
    let mut sorted = mismatches.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == CodeUse::LimitExceeded)
            .count(),
        25
    );
    // The right code is refused now too.
    assert_eq!(
        store
            .use_code(&code(&p, "right"), NOW, 5)
            .await
            .expect("use"),
        CodeUse::LimitExceeded
    );
    // An expired code is gone.
    store.put_code(&code(&p, "late")).await.expect("put");
    assert_eq!(
        store
            .use_code(&code(&p, "late"), NOW + 60_000, 5)
            .await
            .expect("use"),
        CodeUse::Expired
    );
}

async fn a_session_put_once_admits_one_of_concurrent_puts(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let marker = |expires: i64, data: &str| ChallengeSession {
        handle_hash: "assertion".into(),
        pool_id: p.id.clone(),
        client_id: String::new(),
        username: String::new(),
        challenge: "SAML_ASSERTION".into(),
        expires,
        data: serde_json::json!(data),
    };
    let tasks = (0..30).map(|i| {
        let store = store.clone();
        let session = marker(NOW + 60_000, &format!("put {i}"));
        tokio::spawn(async move { store.put_session_once(&session, NOW).await })
    });
    let stored = join_all(tasks)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().expect("task").as_ref().expect("put"))
        .count();
    assert_eq!(stored, 1);
    // While it lives, no other put; once expired, a new one.
    assert!(!store
        .put_session_once(&marker(NOW + 120_000, "later"), NOW + 59_999)
        .await
        .expect("put"));
    assert!(store
        .put_session_once(&marker(NOW + 120_000, "after"), NOW + 60_000)
        .await
        .expect("put"));
    let taken = store
        .take_session("assertion")
        .await
        .expect("take")
        .expect("there");
    assert_eq!(taken.data, serde_json::json!("after"));
}

async fn sessions_and_authorization_codes_are_taken_once(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    store
        .put_session(&ChallengeSession {
            handle_hash: "session".into(),
            pool_id: p.id.clone(),
            client_id: "c".into(),
            username: "u".into(),
            challenge: "NEW_PASSWORD_REQUIRED".into(),
            expires: NOW + 60_000,
            data: serde_json::json!({}),
        })
        .await
        .expect("session");
    let tasks = (0..30).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.take_session("session").await })
    });
    let taken = join_all(tasks)
        .await
        .into_iter()
        .filter(|r| r.as_ref().expect("task").as_ref().expect("take").is_some())
        .count();
    assert_eq!(taken, 1);

    store
        .put_authorization_code(&AuthorizationCode {
            code_hash: "code".into(),
            pool_id: p.id.clone(),
            client_id: "c".into(),
            username_key: "u".into(),
            sub: "s".into(),
            redirect_uri: "https://x/cb".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            auth_time: NOW / 1000,
            origin_jti: "o".into(),
            created: NOW,
            expires: NOW + 60_000,
            sso_session_id: None,
        })
        .await
        .expect("code");
    let tasks = (0..30).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.take_authorization_code("code").await })
    });
    let taken = join_all(tasks)
        .await
        .into_iter()
        .filter(|r| r.as_ref().expect("task").as_ref().expect("take").is_some())
        .count();
    assert_eq!(taken, 1);
}

// ---------------------------------------------------------------------------
// Pools and listings
// ---------------------------------------------------------------------------

async fn pools_are_written_with_compare_and_swap(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    assert_eq!(p.version, 1);
    let mut a = p.clone();
    a.name = "a".into();
    let mut b = p.clone();
    b.name = "b".into();
    assert_eq!(store.update_pool(&a).await.expect("a"), Write::Done);
    assert_eq!(store.update_pool(&b).await.expect("b"), Write::Stale);
    let now = store.get_pool(&p.id).await.expect("get").expect("pool");
    assert_eq!((now.name.as_str(), now.version), ("a", 2));
    let mut gone = pool(&unique_pool_id(), &[], &[]);
    gone.version = 1;
    assert_eq!(
        store.update_pool(&gone).await.expect("gone"),
        Write::Missing
    );
}

async fn list_users_pages_by_prefix_and_exact_filters(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    for i in 0..25 {
        let email = format!(
            "{}{i:02}@example.com",
            if i % 2 == 0 { "Even" } else { "odd" }
        );
        add_user(
            &store,
            &p,
            &user(&p.id, &format!("user{i:02}"), &[("email", &email)]),
        )
        .await;
    }
    let collect = |filter: Option<UserFilter>, limit: usize| {
        let store = store.clone();
        let pool_id = p.id.clone();
        async move {
            let mut names = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = store
                    .list_users(&pool_id, filter.as_ref(), cursor.as_deref(), limit)
                    .await
                    .expect("page");
                assert!(page.users.len() <= limit);
                names.extend(page.users.into_iter().map(|u| u.username));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => return names,
                }
            }
        }
    };
    let all = collect(None, 7).await;
    assert_eq!(
        all,
        (0..25).map(|i| format!("user{i:02}")).collect::<Vec<_>>()
    );
    let even = collect(
        Some(UserFilter {
            attribute: FilterAttribute::Email,
            prefix: true,
            value: "Even".into(),
        }),
        4,
    )
    .await;
    assert_eq!(
        even,
        (0..25)
            .step_by(2)
            .map(|i| format!("user{i:02}"))
            .collect::<Vec<_>>()
    );
    // Email compares exactly, as Cognito's filter does.
    let none = collect(
        Some(UserFilter {
            attribute: FilterAttribute::Email,
            prefix: true,
            value: "EVEN".into(),
        }),
        4,
    )
    .await;
    assert!(none.is_empty(), "{none:?}");
    let one = collect(
        Some(UserFilter {
            attribute: FilterAttribute::Email,
            prefix: false,
            value: "odd03@example.com".into(),
        }),
        4,
    )
    .await;
    assert_eq!(one, vec!["user03".to_owned()]);
    let none = collect(
        Some(UserFilter {
            attribute: FilterAttribute::Email,
            prefix: false,
            value: "odd03@EXAMPLE.com".into(),
        }),
        4,
    )
    .await;
    assert!(none.is_empty(), "{none:?}");
    // The username key (case-insensitive pools), exact and by prefix.
    let keyed = collect(
        Some(UserFilter {
            attribute: FilterAttribute::UsernameKey,
            prefix: true,
            value: "user1".into(),
        }),
        3,
    )
    .await;
    assert_eq!(
        keyed,
        (10..20).map(|i| format!("user{i:02}")).collect::<Vec<_>>()
    );
    let enabled = collect(
        Some(UserFilter {
            attribute: FilterAttribute::Enabled,
            prefix: false,
            value: "Enabled".into(),
        }),
        10,
    )
    .await;
    assert_eq!(enabled.len(), 25);
    assert!(matches!(
        store.list_users(&p.id, None, Some("garbage"), 5).await,
        Err(StoreError::InvalidCursor)
    ));
}

async fn listings_are_in_byte_order_whatever_the_locale(store: Arc<dyn Store>) {
    // Both engines compare bytes (SQLite's BINARY, PostgreSQL's COLLATE "C"),
    // never the database's locale: "B" < "a" < "z" < "é", and a prefix range
    // holds exactly the values that start with the prefix.
    let p = new_pool(&store, &[], &[]).await;
    for name in ["zulu", "Émile", "bz", "Bravo", "alpha", "beta"] {
        add_user(&store, &p, &user(&p.id, name, &[])).await;
    }
    let page = store.list_users(&p.id, None, None, 60).await.expect("page");
    let names: Vec<_> = page.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["alpha", "beta", "Bravo", "bz", "zulu", "Émile"]);
    let prefix = |value: &str| UserFilter {
        attribute: FilterAttribute::Username,
        prefix: true,
        value: value.to_owned(),
    };
    let page = store
        .list_users(&p.id, Some(&prefix("B")), None, 60)
        .await
        .expect("page");
    let names: Vec<_> = page.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["Bravo"]);
    let page = store
        .list_users(&p.id, Some(&prefix("É")), None, 60)
        .await
        .expect("page");
    assert_eq!(page.users.len(), 1);
    for name in ["b", "B", "a"] {
        store
            .insert_group(&Group {
                pool_id: p.id.clone(),
                name: name.into(),
                description: None,
                role_arn: None,
                precedence: None,
                created: NOW,
                modified: NOW,
            })
            .await
            .expect("group");
        store
            .add_user_to_group(&p.id, name, "zulu")
            .await
            .expect("member");
    }
    let groups: Vec<_> = store
        .list_groups(&p.id, None, 10)
        .await
        .expect("groups")
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(groups, ["B", "a", "b"]);
    let of_user: Vec<_> = store
        .groups_of_user(&p.id, "zulu")
        .await
        .expect("groups")
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(of_user, groups);
}

async fn aliases_of_a_user_are_listed_by_pool_settings(_store: Arc<dyn Store>) {
    // The alias rule itself (no store involved), checked here beside its use.
    let p = pool("us-east-1_x", &["email"], &[]);
    let u = user(&p.id, "u", &[("email", "A@B.c"), ("phone_number", "+1555")]);
    assert_eq!(
        p.alias_keys(&u),
        vec![AliasKey {
            kind: "email".into(),
            value: "a@b.c".into()
        }]
    );
    let p = pool("us-east-1_y", &[], &["phone_number", "preferred_username"]);
    let mut u = user(
        &p.id,
        "u",
        &[("phone_number", "+1555"), ("preferred_username", "Ann")],
    );
    assert_eq!(p.alias_keys(&u).len(), 1);
    u.set_attribute("phone_number_verified", Some("true"));
    let kinds: BTreeMap<_, _> = p
        .alias_keys(&u)
        .into_iter()
        .map(|k| (k.kind, k.value))
        .collect();
    assert_eq!(kinds.get("phone_number").map(String::as_str), Some("+1555"));
    assert_eq!(
        kinds.get("preferred_username").map(String::as_str),
        Some("ann")
    );
}

fn key(p: &UserPool, kid: &str, purpose: &str, signs_from: i64) -> StoredKey {
    StoredKey {
        pool_id: p.id.clone(),
        kid: kid.to_owned(),
        purpose: purpose.to_owned(),
        pkcs8: vec![1, 2, 3],
        created: signs_from,
        signs_from,
        signs_until: None,
        published_until: None,
    }
}

async fn keys_rotate_in_one_step_and_retire_when_due(store: Arc<dyn Store>) {
    let p = pool(&unique_pool_id(), &[], &[]);
    store
        .insert_pool(
            &p,
            &[key(&p, "id1", "id", NOW), key(&p, "ac1", "access", NOW)],
        )
        .await
        .expect("pool");
    let later = NOW + 90 * 86_400_000;
    let new = [
        key(&p, "id2", "id", later + 60_000),
        key(&p, "ac2", "access", later + 60_000),
    ];
    // Scheduled rotations racing: one wins.
    let tasks = (0..10).map(|_| {
        let (store, p, new) = (store.clone(), p.clone(), new.clone());
        tokio::spawn(async move {
            store
                .rotate_keys(&p.id, &new, later + 86_400_000, Some(later - 1))
                .await
        })
    });
    let wins = join_all(tasks)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(Ok(true))))
        .count();
    assert_eq!(wins, 1);
    let keys = store.list_keys(&p.id).await.expect("keys");
    assert_eq!(keys.len(), 4);
    let by_kid = |kid: &str| keys.iter().find(|k| k.kid == kid).expect("kid").clone();
    assert_eq!(by_kid("id1").signs_until, Some(later + 60_000));
    assert_eq!(by_kid("id1").published_until, Some(later + 86_400_000));
    assert_eq!(by_kid("ac1").signs_until, Some(later + 60_000));
    assert_eq!(by_kid("id2").signs_until, None);
    assert!(by_kid("id1").signs_at(later) && !by_kid("id2").signs_at(later));
    assert!(by_kid("id2").signs_at(later + 60_000) && !by_kid("id1").signs_at(later + 60_000));
    store
        .purge_expired(later + 86_400_000 - 1)
        .await
        .expect("purge");
    assert_eq!(store.list_keys(&p.id).await.expect("keys").len(), 4);
    store
        .purge_expired(later + 86_400_000)
        .await
        .expect("purge");
    let left: Vec<String> = store
        .list_keys(&p.id)
        .await
        .expect("keys")
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&"id2".to_owned()) && left.contains(&"ac2".to_owned()));
}

async fn clients_are_written_with_compare_and_swap(store: Arc<dyn Store>) {
    use cognate_core::model::{AppClient, ClientSettings};
    let p = new_pool(&store, &[], &[]).await;
    let client = AppClient {
        pool_id: p.id.clone(),
        client_id: format!("c{}", &uuid().replace('-', "")[..20]),
        secrets: Vec::new(),
        created: NOW,
        modified: NOW,
        settings: ClientSettings::named("first"),
        version: 0,
    };
    store.insert_client(&client).await.expect("insert");
    let read = store
        .get_client(&client.client_id)
        .await
        .expect("get")
        .expect("client");
    assert_eq!(read.version, 0);
    let mut a = read.clone();
    a.settings.client_name = "a".into();
    let mut b = read.clone();
    b.settings.client_name = "b".into();
    assert_eq!(store.update_client(&a).await.expect("a"), Write::Done);
    assert_eq!(store.update_client(&b).await.expect("b"), Write::Stale);
    let now = store
        .get_client(&client.client_id)
        .await
        .expect("get")
        .expect("client");
    assert_eq!((now.settings.client_name.as_str(), now.version), ("a", 1));
    assert!(store
        .delete_client(&p.id, &client.client_id)
        .await
        .expect("delete"));
    assert_eq!(
        store.update_client(&now).await.expect("gone"),
        Write::Missing
    );
}

// ---------------------------------------------------------------------------
// ForceAliasCreation: an alias changes owner atomically
// ---------------------------------------------------------------------------

fn email_alias_holders(users: &[User], email: &str) -> Vec<String> {
    users
        .iter()
        .filter(|u| {
            u.attribute("email") == Some(email) && u.attribute("email_verified") == Some("true")
        })
        .map(|u| u.username_key.clone())
        .collect()
}

async fn all_users(store: &Arc<dyn Store>, p: &UserPool) -> Vec<User> {
    store
        .list_users(&p.id, None, None, 1000)
        .await
        .expect("list")
        .users
}

async fn concurrent_forced_alias_creations_leave_one_verified_owner(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &["email"]).await;
    let email = "shared@example.com";
    let verified = [("email", email), ("email_verified", "true")];
    add_user(&store, &p, &user(&p.id, "first", &verified)).await;
    // Ten users with the email unverified, to be confirmed with the force.
    for i in 0..10 {
        let u = user(
            &p.id,
            &format!("confirming-{i}"),
            &[("email", email), ("email_verified", "false")],
        );
        add_user(&store, &p, &u).await;
    }
    let take = vec!["email".to_owned()];
    // 20 callers at once: ten create users with the email verified, ten
    // verify it on an existing user (compare-and-swap, retried when stale:
    // a taker may have unverified that user meanwhile).
    let creates = (0..10).map(|i| {
        let (store, p, take) = (store.clone(), p.clone(), take.clone());
        tokio::spawn(async move {
            let mut u = user(&p.id, &format!("created-{i}"), &verified);
            u.modified = NOW + 1;
            store
                .insert_user_taking_aliases(&u, &p.alias_keys(&u), &take)
                .await
                .map(|()| Write::Done)
        })
    });
    let confirms = (0..10).map(|i| {
        let (store, p, take) = (store.clone(), p.clone(), take.clone());
        tokio::spawn(async move {
            loop {
                let mut u = store
                    .get_user(&p.id, &format!("confirming-{i}"))
                    .await?
                    .expect("user");
                u.set_attribute("email_verified", Some("true"));
                u.modified = NOW + 1;
                match store
                    .update_user_taking_aliases(&u, &p.alias_keys(&u), &take)
                    .await?
                {
                    Write::Stale => continue,
                    done => return Ok(done),
                }
            }
        })
    });
    let results: Vec<_> = join_all(creates.chain(confirms))
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert!(
        results.iter().all(|r| matches!(r, Ok(Write::Done))),
        "{results:?}"
    );
    let users = all_users(&store, &p).await;
    assert_eq!(users.len(), 21);
    // Exactly one owner of the alias, and it is the one user whose email
    // is verified: everyone it was taken from kept the email, unverified.
    let owner = store
        .get_user_by_alias(&p.id, "email", email)
        .await
        .expect("alias")
        .expect("owner");
    assert_eq!(
        email_alias_holders(&users, email),
        vec![owner.username_key.clone()]
    );
    assert!(users.iter().all(|u| u.attribute("email") == Some(email)));
    // "first" lost it: its document was rewritten (version moved on, modified now).
    let first = store
        .get_user(&p.id, "first")
        .await
        .expect("get")
        .expect("first");
    if owner.username_key != "first" {
        assert_eq!(first.attribute("email_verified"), Some("false"));
        assert!(first.version > 1);
        assert_eq!(first.modified, NOW + 1);
    }
}

async fn a_forced_alias_creation_that_fails_changes_nothing(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &["email", "preferred_username"]).await;
    let holder = user(
        &p.id,
        "holder",
        &[
            ("email", "e@example.com"),
            ("email_verified", "true"),
            ("preferred_username", "nick"),
        ],
    );
    add_user(&store, &p, &holder).await;
    let newcomer = user(
        &p.id,
        "newcomer",
        &[
            ("email", "e@example.com"),
            ("email_verified", "true"),
            ("preferred_username", "Nick"),
        ],
    );
    // Without the force, the email conflicts as before.
    assert!(matches!(
        store.insert_user(&newcomer, &p.alias_keys(&newcomer)).await,
        Err(StoreError::AliasTaken(k)) if k == "email"
    ));
    // With the force for email only, preferred_username still conflicts,
    // and the whole transaction (the email's move included) is undone.
    assert!(matches!(
        store
            .insert_user_taking_aliases(&newcomer, &p.alias_keys(&newcomer), &["email".to_owned()])
            .await,
        Err(StoreError::AliasTaken(k)) if k == "preferred_username"
    ));
    assert!(store
        .get_user(&p.id, "newcomer")
        .await
        .expect("get")
        .is_none());
    let holder = store
        .get_user(&p.id, "holder")
        .await
        .expect("get")
        .expect("holder");
    assert_eq!(holder.attribute("email_verified"), Some("true"));
    assert_eq!(holder.version, 1);
    let owner = store
        .get_user_by_alias(&p.id, "email", "e@example.com")
        .await
        .expect("alias")
        .expect("owner");
    assert_eq!(owner.username_key, "holder");
    // A user taking its own alias again changes nobody.
    let mut again = holder.clone();
    again.set_attribute("name", Some("n"));
    assert_eq!(
        store
            .update_user_taking_aliases(&again, &p.alias_keys(&again), &["email".to_owned()])
            .await
            .expect("own"),
        Write::Done
    );
    let holder = store
        .get_user(&p.id, "holder")
        .await
        .expect("get")
        .expect("holder");
    assert_eq!(holder.attribute("email_verified"), Some("true"));
}

// ---------------------------------------------------------------------------
// Linked identities (AdminLinkProviderForUser)
// ---------------------------------------------------------------------------

fn link(p: &UserPool, username_key: &str, value: &str) -> LinkedIdentity {
    LinkedIdentity {
        pool_id: p.id.clone(),
        username_key: username_key.to_owned(),
        provider_name: "Google".into(),
        attribute_name: "Cognito_Subject".into(),
        attribute_value: value.to_owned(),
        created: NOW,
    }
}

async fn an_identity_links_to_one_user_and_a_user_to_at_most_five(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    for i in 0..20 {
        add_user(&store, &p, &user(&p.id, &format!("u{i}"), &[])).await;
    }
    // One identity, 20 users at once: one link.
    let tasks = (0..20).map(|i| {
        let (store, l) = (store.clone(), link(&p, &format!("u{i}"), "same-subject"));
        tokio::spawn(async move { store.link_identity(&l, 5).await })
    });
    let results: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("link"))
        .collect();
    assert_eq!(
        results.iter().filter(|r| **r == IdentityLink::Done).count(),
        1
    );
    assert!(results
        .iter()
        .all(|r| matches!(r, IdentityLink::Done | IdentityLink::AlreadyLinked)));
    // 20 identities, one user at once: five links.
    add_user(&store, &p, &user(&p.id, "many", &[])).await;
    let tasks = (0..20).map(|i| {
        let (store, l) = (store.clone(), link(&p, "many", &format!("subject-{i}")));
        tokio::spawn(async move { store.link_identity(&l, 5).await })
    });
    let results: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("link"))
        .collect();
    assert_eq!(
        results.iter().filter(|r| **r == IdentityLink::Done).count(),
        5
    );
    assert!(results
        .iter()
        .all(|r| matches!(r, IdentityLink::Done | IdentityLink::LimitReached)));
    let linked = store.identities_of_user(&p.id, "many").await.expect("list");
    assert_eq!(linked.len(), 5, "{linked:?}");
    // Missing user; unlink once.
    assert_eq!(
        store
            .link_identity(&link(&p, "nobody", "x"), 5)
            .await
            .expect("link"),
        IdentityLink::UserMissing
    );
    let one = &linked[0];
    let owner = |attribute_value: String| {
        let (store, p, one) = (store.clone(), p.id.clone(), one.clone());
        async move {
            store
                .identity_owner(
                    &p,
                    &one.provider_name,
                    &one.attribute_name,
                    &attribute_value,
                )
                .await
                .expect("owner")
        }
    };
    assert_eq!(
        owner(one.attribute_value.clone()).await.as_deref(),
        Some("many")
    );
    assert_eq!(owner("no-such-subject".into()).await, None);
    assert!(store
        .unlink_identity(
            &p.id,
            &one.provider_name,
            &one.attribute_name,
            &one.attribute_value
        )
        .await
        .expect("unlink"));
    assert!(!store
        .unlink_identity(
            &p.id,
            &one.provider_name,
            &one.attribute_name,
            &one.attribute_value
        )
        .await
        .expect("unlink again"));
    assert_eq!(owner(one.attribute_value.clone()).await, None);
    // The links go with the user; its identities are free again.
    assert!(store.delete_user(&p.id, "many").await.expect("delete"));
    assert!(store
        .identities_of_user(&p.id, "many")
        .await
        .expect("list")
        .is_empty());
    for l in &linked[1..] {
        assert_eq!(
            store
                .link_identity(&link(&p, "u1", &l.attribute_value), 10)
                .await
                .expect("relink"),
            IdentityLink::Done
        );
    }
}

// ---------------------------------------------------------------------------
// Passkeys (WebAuthn credentials)
// ---------------------------------------------------------------------------

fn passkey(p: &UserPool, username_key: &str, id: &str) -> WebAuthnCredential {
    WebAuthnCredential {
        pool_id: p.id.clone(),
        username_key: username_key.to_owned(),
        credential_id: id.to_owned(),
        public_key: "pQECAyYgASFYIA".into(),
        sign_count: 0,
        friendly_name: "Roaming passkey".into(),
        relying_party_id: "auth.example.com".into(),
        authenticator_attachment: Some("cross-platform".into()),
        transports: vec!["usb".into(), "nfc".into()],
        created: NOW,
    }
}

async fn a_passkey_is_registered_once_and_a_user_has_at_most_twenty(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    for i in 0..20 {
        add_user(&store, &p, &user(&p.id, &format!("u{i}"), &[])).await;
    }
    // One credential id, 20 users at once: one registration.
    let tasks = (0..20).map(|i| {
        let (store, c) = (store.clone(), passkey(&p, &format!("u{i}"), "same-id"));
        tokio::spawn(async move { store.add_webauthn_credential(&c, 20).await })
    });
    let results: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("add"))
        .collect();
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == CredentialAdd::Done)
            .count(),
        1
    );
    assert!(results
        .iter()
        .all(|r| matches!(r, CredentialAdd::Done | CredentialAdd::Exists)));
    // 30 credentials, one user at once: twenty.
    add_user(&store, &p, &user(&p.id, "many", &[])).await;
    let tasks = (0..30).map(|i| {
        let (store, c) = (store.clone(), passkey(&p, "many", &format!("id-{i:02}")));
        tokio::spawn(async move { store.add_webauthn_credential(&c, 20).await })
    });
    let results: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("add"))
        .collect();
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == CredentialAdd::Done)
            .count(),
        20
    );
    assert!(results
        .iter()
        .all(|r| matches!(r, CredentialAdd::Done | CredentialAdd::LimitReached)));
    let listed = store
        .webauthn_credentials_of_user(&p.id, "many")
        .await
        .expect("list");
    assert_eq!(listed.len(), 20);
    let mut ids: Vec<&str> = listed.iter().map(|c| c.credential_id.as_str()).collect();
    let in_order = ids.clone();
    ids.sort_unstable();
    assert_eq!(ids, in_order, "same created instant: ordered by id");
    assert_eq!(
        listed[0],
        passkey(&p, "many", listed[0].credential_id.as_str())
    );
    assert_eq!(
        store
            .add_webauthn_credential(&passkey(&p, "nobody", "x"), 20)
            .await
            .expect("add"),
        CredentialAdd::UserMissing
    );
    // Deleted once, and only by its user.
    let one = listed[0].credential_id.clone();
    assert!(!store
        .delete_webauthn_credential(&p.id, "u1", &one)
        .await
        .expect("delete"));
    assert!(store
        .delete_webauthn_credential(&p.id, "many", &one)
        .await
        .expect("delete"));
    assert!(!store
        .delete_webauthn_credential(&p.id, "many", &one)
        .await
        .expect("delete again"));
    // The credentials go with the user; their ids are free again.
    assert!(store.delete_user(&p.id, "many").await.expect("delete user"));
    assert!(store
        .webauthn_credentials_of_user(&p.id, "many")
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store
            .add_webauthn_credential(&passkey(&p, "u1", &listed[1].credential_id), 20)
            .await
            .expect("add"),
        CredentialAdd::Done
    );
}

async fn a_sign_count_moves_on_once_under_concurrency(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    add_user(&store, &p, &user(&p.id, "alice", &[])).await;
    store
        .add_webauthn_credential(&passkey(&p, "alice", "key"), 20)
        .await
        .expect("add");
    // An authenticator without a counter (0 then 0) is accepted.
    assert!(store
        .advance_webauthn_sign_count(&p.id, "alice", "key", 0)
        .await
        .expect("advance"));
    // The same count by 30 callers at once: one of them.
    let tasks = (0..30).map(|_| {
        let (store, pool) = (store.clone(), p.id.clone());
        tokio::spawn(async move {
            store
                .advance_webauthn_sign_count(&pool, "alice", "key", 7)
                .await
        })
    });
    let moved = join_all(tasks)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().expect("task").as_ref().expect("advance"))
        .count();
    assert_eq!(moved, 1);
    for (count, ok) in [(7, false), (6, false), (0, false), (8, true)] {
        assert_eq!(
            store
                .advance_webauthn_sign_count(&p.id, "alice", "key", count)
                .await
                .expect("advance"),
            ok,
            "count {count}"
        );
    }
    let listed = store
        .webauthn_credentials_of_user(&p.id, "alice")
        .await
        .expect("list");
    assert_eq!(listed[0].sign_count, 8);
    assert!(!store
        .advance_webauthn_sign_count(&p.id, "alice", "other", 9)
        .await
        .expect("advance"));
}

/// An import job's CSV is accepted only while the job is Created, and the
/// existence check (StartUserImportJob's "No csv file was uploaded")
/// answers without reading the file.
async fn an_import_csv_is_taken_while_created_and_its_presence_known(store: Arc<dyn Store>) {
    let p = new_pool(&store, &[], &[]).await;
    let mut job = UserImportJob {
        pool_id: p.id.clone(),
        job_id: "import-AbCdEfGhIj".into(),
        job_name: "job".into(),
        cloudwatch_logs_role_arn: "arn:aws:iam::111111111111:role/Import".into(),
        status: "Created".into(),
        created: NOW,
        started: None,
        completed: None,
        imported: 0,
        skipped: 0,
        failed: 0,
        completion_message: None,
        password_hashing_algorithm: None,
        upload_secret_hash: "hash".into(),
        presigned_url: String::new(),
    };
    store.insert_import_job(&job).await.expect("insert job");
    assert!(!store.has_import_csv(&p.id, &job.job_id).await.expect("has"));
    assert!(!store
        .has_import_csv(&p.id, "import-unknown")
        .await
        .expect("has"));
    let csv = b"cognito:username,email\nalice,alice@example.com\n";
    assert!(store
        .put_import_csv(&p.id, &job.job_id, csv)
        .await
        .expect("put"));
    assert!(store.has_import_csv(&p.id, &job.job_id).await.expect("has"));
    assert_eq!(
        store
            .get_import_csv(&p.id, &job.job_id)
            .await
            .expect("get")
            .as_deref(),
        Some(&csv[..])
    );
    job.status = "Pending".into();
    assert!(store
        .update_import_job(&job, &["Created"])
        .await
        .expect("start"));
    assert!(!store
        .put_import_csv(&p.id, &job.job_id, b"late")
        .await
        .expect("put"));
    assert_eq!(
        store
            .get_import_csv(&p.id, &job.job_id)
            .await
            .expect("get")
            .as_deref(),
        Some(&csv[..])
    );
}

engines! {
    keys_rotate_in_one_step_and_retire_when_due,
    concurrent_compare_and_swap_loses_no_update,
    a_stale_write_is_refused_and_a_missing_user_reported,
    concurrent_inserts_of_one_username_admit_exactly_one,
    concurrent_inserts_of_one_alias_admit_exactly_one,
    an_alias_is_unique_only_once_verified_and_moves_with_updates,
    deleting_a_user_leaves_nothing_that_refers_to_it,
    a_membership_added_while_the_user_is_deleted_does_not_survive,
    concurrent_failures_all_count_and_lock,
    sign_out_and_disable_during_writes_both_stick,
    revoking_a_refresh_token_marks_its_session,
    concurrent_rotations_of_one_token_admit_exactly_one,
    revoking_a_token_revokes_its_family_under_concurrent_rotations,
    concurrent_sign_ins_keep_a_user_within_max_sessions,
    a_totp_step_is_accepted_once_under_concurrency,
    a_code_is_used_once_by_concurrent_right_guesses,
    concurrent_wrong_guesses_stop_at_the_limit,
    sessions_and_authorization_codes_are_taken_once,
    a_session_put_once_admits_one_of_concurrent_puts,
    pools_are_written_with_compare_and_swap,
    clients_are_written_with_compare_and_swap,
    list_users_pages_by_prefix_and_exact_filters,
    listings_are_in_byte_order_whatever_the_locale,
    aliases_of_a_user_are_listed_by_pool_settings,
    concurrent_forced_alias_creations_leave_one_verified_owner,
    a_forced_alias_creation_that_fails_changes_nothing,
    an_identity_links_to_one_user_and_a_user_to_at_most_five,
    a_passkey_is_registered_once_and_a_user_has_at_most_twenty,
    a_sign_count_moves_on_once_under_concurrency,
    sso_sessions_are_listed_touched_revoked_and_signed_out,
    a_linked_revocation_leaves_no_token_of_its_sso_session,
    an_import_csv_is_taken_while_created_and_its_presence_known,
}

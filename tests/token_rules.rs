//! The rules of this server's tokens at the user APIs, with a manual clock
//! (`common::inproc`): a sign-out revokes everything issued before it to
//! the millisecond (not to the second of `iat`), a deleted app client's
//! tokens stop working, an access token ends at its `exp` exactly, and
//! wrong previous passwords at ChangePassword count toward the lockout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cognate_core::clock::Clock;
use cognate_core::error::ErrorKind;
use common::inproc::{world, START};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_revokes_tokens_of_its_own_second_and_not_later_ones() {
    let w = world().await;
    // START is a whole second: the token's iat equals the sign-out's second.
    assert_eq!(START % 1000, 0);
    let (access, id) = w.login().await;
    w.svc.get_user(&access).await.expect("fresh token");
    w.clock.advance_millis(130);
    w.svc
        .admin_user_global_sign_out(&w.pool_id, "alice")
        .await
        .unwrap();
    let err = w.svc.get_user(&access).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotAuthorized);
    assert_eq!(err.message, "Access Token has been revoked");
    // Still the same second: a new sign-in's tokens work.
    w.clock.advance_millis(370);
    let (fresh, fresh_id) = w.login().await;
    assert_eq!(
        common::jwt_claims(&fresh)["iat"],
        common::jwt_claims(&access)["iat"]
    );
    w.svc
        .get_user(&fresh)
        .await
        .expect("token issued after the sign-out");
    // The ID tokens follow the same rule (the gateway's revocation hook).
    let claims = |t: &str| {
        let c = common::jwt_claims(t);
        (c["iat"].as_i64(), c["jti"].as_str().map(str::to_owned))
    };
    let user = w
        .store
        .get_user(&w.pool_id, "alice")
        .await
        .unwrap()
        .unwrap();
    let (iat, jti) = claims(&id);
    assert!(user.token_revoked(
        cognate_core::tokens::issued_ms(iat, jti.as_deref()),
        None,
        w.clock.now_millis()
    ));
    let (iat, jti) = claims(&fresh_id);
    assert!(!user.token_revoked(
        cognate_core::tokens::issued_ms(iat, jti.as_deref()),
        None,
        w.clock.now_millis()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_a_deleted_app_client_are_refused() {
    let w = world().await;
    let (access, _) = w.login().await;
    w.svc
        .get_user(&access)
        .await
        .expect("works while the client exists");
    w.svc
        .delete_user_pool_client(&w.pool_id, &w.client_id)
        .await
        .unwrap();
    let err = w.svc.get_user(&access).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotAuthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_ends_at_its_exp_exactly_and_an_id_token_is_not_one() {
    let w = world().await;
    let (access, id) = w.login().await;
    let err = w.svc.get_user(&id).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotAuthorized);
    assert_eq!(err.message, "Invalid Access Token");
    let exp = common::jwt_claims(&access)["exp"].as_i64().unwrap();
    w.clock
        .advance_millis(exp * 1000 - w.clock.now_millis() - 1);
    w.svc
        .get_user(&access)
        .await
        .expect("a millisecond before exp");
    w.clock.advance_millis(1);
    let err = w.svc.get_user(&access).await.unwrap_err();
    assert_eq!(err.message, "Access Token has expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_previous_passwords_count_toward_the_lockout() {
    let w = world().await;
    let (access, _) = w.login().await;
    let mut answers = Vec::new();
    for _ in 0..10 {
        let e = w
            .svc
            .change_password(&access, Some("Wrong0ne!x"), "N3w-Passw0rd!")
            .await
            .unwrap_err();
        answers.push(e.kind);
    }
    assert_eq!(answers[0], ErrorKind::NotAuthorized);
    assert_eq!(answers[9], ErrorKind::LimitExceeded, "{answers:?}");
    // Locked: even the right previous password is refused now.
    let e = w
        .svc
        .change_password(&access, Some("Passw0rd!x"), "N3w-Passw0rd!")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded);
    assert_eq!(
        e.message,
        "Attempt limit exceeded, please try after some time."
    );
    // After the lock has run out, the right one works.
    w.clock.advance_millis(16 * 60 * 1000);
    w.svc
        .change_password(&access, Some("Passw0rd!x"), "N3w-Passw0rd!")
        .await
        .expect("after the lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_previous_passwords_in_parallel_all_count() {
    let w = world().await;
    let (access, _) = w.login().await;
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let (svc, access) = (w.svc.clone(), access.clone());
            tokio::spawn(async move {
                svc.change_password(&access, Some("Wrong0ne!x"), "N3w-Passw0rd!")
                    .await
                    .unwrap_err()
                    .kind
            })
        })
        .collect();
    for t in tasks {
        let kind = t.await.unwrap();
        assert!(matches!(
            kind,
            ErrorKind::NotAuthorized | ErrorKind::LimitExceeded
        ));
    }
    let e = w
        .svc
        .change_password(&access, Some("Passw0rd!x"), "N3w-Passw0rd!")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded);
}

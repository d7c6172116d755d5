//! User import jobs and time, in process with a manual clock and a real
//! store (SQLite, or PostgreSQL with `COGNATE_TEST_ENGINE=postgres`): a job
//! not started within 24 hours of its creation is Expired, as Cognito's
//! documentation describes it ("You created a job, but did not start the
//! job within 24-48 hours."), with CompletionDate 24 hours after its
//! creation and "The user import job has expired."; it can no longer be
//! started (even by Starts racing each other), stopped or given a file.
//! A job started in time is not affected.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use cognate_core::clock::Clock;
use cognate_core::error::ErrorKind;
use cognate_core::model::UserImportJob;
use cognate_core::service::{NewImportJob, UploadError};
use common::inproc::{world, World};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const ROLE: &str = "arn:aws:iam::111111111111:role/CognitoImportRole";

async fn create_job(w: &World, name: &str) -> (UserImportJob, String) {
    let job = w
        .svc
        .create_user_import_job(NewImportJob {
            pool_id: w.pool_id.clone(),
            job_name: name.into(),
            cloudwatch_logs_role_arn: ROLE.into(),
            password_hashing_algorithm: None,
        })
        .await
        .unwrap();
    let secret = job
        .presigned_url
        .split_once("X-Amz-Signature=")
        .unwrap()
        .1
        .to_owned();
    (job, secret)
}

fn csv(usernames: &[&str]) -> Vec<u8> {
    let mut out = String::from("email,email_verified,cognito:mfa_enabled,cognito:username\n");
    for u in usernames {
        out.push_str(&format!("{u}@example.com,true,false,{u}\n"));
    }
    out.into_bytes()
}

async fn describe(w: &World, job_id: &str) -> UserImportJob {
    w.svc
        .describe_user_import_job(&w.pool_id, job_id)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_not_started_within_24_hours_expires() {
    let w = world().await;
    let (job, secret) = create_job(&w, "late").await;
    assert_eq!(job.status, "Created");
    assert_eq!(job.created, w.clock.now_millis());
    w.svc
        .upload_import_csv(&job.job_id, &secret, &csv(&["late1"]))
        .await
        .unwrap();

    // One millisecond before the 24 hours: still Created.
    w.clock.advance_millis(DAY_MS - 1);
    let before = describe(&w, &job.job_id).await;
    assert_eq!(before.status, "Created");
    assert_eq!((before.completed, before.completion_message), (None, None));

    // At 24 hours: Expired, completed 24 hours after its creation.
    w.clock.advance_millis(1);
    let expired = describe(&w, &job.job_id).await;
    assert_eq!(expired.status, "Expired");
    assert_eq!(expired.completed, Some(job.created + DAY_MS));
    assert_eq!(
        expired.completion_message.as_deref(),
        Some("The user import job has expired.")
    );
    assert_eq!(expired.started, None);
    let listed = w
        .svc
        .list_user_import_jobs(&w.pool_id, 10, None)
        .await
        .unwrap();
    assert_eq!(listed.items, vec![expired.clone()]);

    // Later still, the same date.
    w.clock.advance_millis(DAY_MS);
    assert_eq!(describe(&w, &job.job_id).await, expired);

    // Its file can no longer change, it cannot be stopped...
    assert_eq!(
        w.svc
            .upload_import_csv(&job.job_id, &secret, &csv(&["late2"]))
            .await,
        Err(UploadError::Conflict)
    );
    let err = w
        .svc
        .stop_user_import_job(&w.pool_id, &job.job_id)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PreconditionNotMet);
    assert!(err.message.contains("its status is Expired"), "{err:?}");

    // ...nor started, by any of several Starts at once.
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let svc = w.svc.clone();
            let (pool_id, job_id) = (w.pool_id.clone(), job.job_id.clone());
            tokio::spawn(async move { svc.start_user_import_job(&pool_id, &job_id).await })
        })
        .collect();
    for start in starts {
        let err = start.await.unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::PreconditionNotMet);
        assert_eq!(
            err.message,
            format!(
                "Import job {} cannot be started: its status is Expired.",
                job.job_id
            )
        );
    }
    // The refused Start recorded the transition, and nothing was imported.
    let stored = w
        .store
        .get_import_job(&w.pool_id, &job.job_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, expired);
    assert_eq!(describe(&w, &job.job_id).await, expired);
    let err = w.svc.admin_get_user(&w.pool_id, "late1").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::UserNotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_started_in_time_does_not_expire() {
    let w = world().await;
    let (job, secret) = create_job(&w, "on time").await;
    w.svc
        .upload_import_csv(&job.job_id, &secret, &csv(&["ontime1", "ontime2"]))
        .await
        .unwrap();
    w.clock.advance_millis(DAY_MS - 1000);
    let started = w
        .svc
        .start_user_import_job(&w.pool_id, &job.job_id)
        .await
        .unwrap();
    assert_eq!(started.status, "Pending");
    let mut done = describe(&w, &job.job_id).await;
    for _ in 0..300 {
        if done.status == "Succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        done = describe(&w, &job.job_id).await;
    }
    assert_eq!(done.status, "Succeeded", "{done:?}");
    assert_eq!(done.imported, 2);
    w.clock.advance_millis(2 * DAY_MS);
    assert_eq!(describe(&w, &job.job_id).await, done);

    // A job created later than another expires on its own clock.
    let (young, _) = create_job(&w, "young").await;
    w.clock.advance_millis(DAY_MS - 1);
    assert_eq!(describe(&w, &young.job_id).await.status, "Created");
    let jobs = w
        .svc
        .list_user_import_jobs(&w.pool_id, 10, None)
        .await
        .unwrap();
    let statuses: Vec<&str> = jobs.items.iter().map(|j| j.status.as_str()).collect();
    assert_eq!(statuses, ["Created", "Succeeded"]);
}

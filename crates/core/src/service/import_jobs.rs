//! Cognito's user import: CreateUserImportJob, GetCSVHeader,
//! StartUserImportJob, StopUserImportJob, DescribeUserImportJob,
//! ListUserImportJobs, and the CSV upload to a job's pre-signed URL.
//!
//! A job (`import-` and 10 letters and digits, as Cognito's) is Created
//! with a pre-signed URL (served by cognate itself, with a secret in the
//! query); the CSV is PUT there; StartUserImportJob makes it Pending and a
//! background task imports it (InProgress, then Succeeded or Failed).
//! Imported users have no password and are RESET_REQUIRED, as in Cognito:
//! their first sign-in answers PasswordResetRequiredException and
//! ForgotPassword sets one.
//!
//! The statuses and completion messages are Cognito's:
//! - StopUserImportJob moves a Pending or InProgress job straight to
//!   Stopped ("The Import Job was stopped by the developer.", with its
//!   CompletionDate), as Cognito answers it; the background task notices at
//!   its next batch boundary and writes no further batch, but the counts of
//!   a batch it was already writing are still added to the Stopped job
//!   (its status, message and date stay). Cognito's `Stopping` is never
//!   used.
//! - A job that imported no user while at least one row failed or was
//!   skipped ends Failed ("Too many users have failed or been skipped
//!   during the import.", as Cognito answered a job of one failed row);
//!   one that imported at least one user Succeeded ("Import Job Completed
//!   Successfully."). Cognito publishes no threshold: "none imported, some
//!   failed or skipped" is cognate's rule.
//! - A Created job not started within 24 hours of its CreationDate (by the
//!   service's clock) is Expired ("The user import job has expired.",
//!   CompletionDate 24 hours after its creation; Cognito's documentation
//!   says 24-48 hours): the status is computed when the job is read, its
//!   file can no longer be uploaded, and StartUserImportJob refuses it
//!   (and records the transition).
//!
//! Every status change is a transition decided by the store, so two Starts
//! (on one instance or two) import once, and a Stop racing the end of an
//! import either stops it or finds it finished.

use std::sync::Arc;

use super::{decode_token, encode_token, Page, UserPools};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Attribute, UserImportJob, UserPool, UserStatus};
use crate::schema;
use crate::store::ImportUser;

/// A CreateUserImportJob call.
#[derive(Clone, Debug)]
pub struct NewImportJob {
    pub pool_id: String,
    pub job_name: String,
    pub cloudwatch_logs_role_arn: String,
    pub password_hashing_algorithm: Option<String>,
}

/// The largest CSV accepted (Cognito's limit is 100 MB).
pub const MAX_CSV_BYTES: usize = 100 * 1024 * 1024;
/// Users written per store transaction; a Stop is noticed between batches.
const BATCH: usize = 500;
/// How long a Created job waits for StartUserImportJob before it expires.
pub const IMPORT_JOB_EXPIRES_AFTER_MS: i64 = 24 * 60 * 60 * 1000;

const COMPLETED: &str = "Import Job Completed Successfully.";
const TOO_MANY_FAILED: &str = "Too many users have failed or been skipped during the import.";
const STOPPED: &str = "The Import Job was stopped by the developer.";
const EXPIRED: &str = "The user import job has expired.";

/// Why an upload to a pre-signed URL was refused (the S3-style answer).
#[derive(Debug, PartialEq, Eq)]
pub enum UploadError {
    /// No such job, or the secret does not match.
    Forbidden,
    /// The job is past Created: the file can no longer change.
    Conflict,
    TooLarge,
    Internal(String),
}

/// The job as it stands at `now`: a Created job 24 hours old is Expired.
fn settle(mut job: UserImportJob, now: i64) -> UserImportJob {
    let expires = job.created.saturating_add(IMPORT_JOB_EXPIRES_AFTER_MS);
    if job.status == "Created" && now >= expires {
        job.status = "Expired".into();
        job.completed = Some(expires);
        job.completion_message = Some(EXPIRED.into());
    }
    job
}

fn job_not_found(job_id: &str) -> Error {
    Error::new(
        ErrorKind::ResourceNotFound,
        format!("Import job {job_id} does not exist."),
    )
}

impl UserPools {
    pub async fn create_user_import_job(&self, input: NewImportJob) -> Result<UserImportJob> {
        self.pool(&input.pool_id).await?;
        if let Some(algorithm) = &input.password_hashing_algorithm {
            return Err(Error::invalid_parameter(format!(
                "cognate does not import password hashes from CSV files (PasswordHashingAlgorithm {algorithm}); imported users reset their password, or move users with their hashes by `cognate export` and `cognate import`."
            )));
        }
        let job_id = format!("import-{}", cognate_crypto::random::alnum(10));
        let secret = cognate_crypto::random::base64url(32);
        let job = UserImportJob {
            pool_id: input.pool_id.clone(),
            job_id: job_id.clone(),
            job_name: input.job_name,
            cloudwatch_logs_role_arn: input.cloudwatch_logs_role_arn,
            status: "Created".into(),
            created: self.now(),
            started: None,
            completed: None,
            imported: 0,
            skipped: 0,
            failed: 0,
            completion_message: None,
            password_hashing_algorithm: None,
            upload_secret_hash: cognate_crypto::digest::sha256_hex(secret.as_bytes()),
            presigned_url: format!(
                "{}/import-jobs/{job_id}?X-Amz-Signature={secret}",
                self.config.public_url
            ),
        };
        self.store.insert_import_job(&job).await?;
        Ok(job)
    }

    /// GetCSVHeader: the pool's attributes (all but `sub`), then
    /// `cognito:mfa_enabled` and `cognito:username`.
    pub async fn csv_header(&self, pool_id: &str) -> Result<Vec<String>> {
        let pool = self.pool(pool_id).await?;
        Ok(csv_header(&pool))
    }

    /// The CSV PUT to a job's pre-signed URL.
    pub async fn upload_import_csv(
        &self,
        job_id: &str,
        secret: &str,
        csv: &[u8],
    ) -> std::result::Result<(), UploadError> {
        let internal = |e: crate::StoreError| UploadError::Internal(e.to_string());
        let job = self
            .store
            .find_import_job(job_id)
            .await
            .map_err(internal)?
            .ok_or(UploadError::Forbidden)?;
        let given = cognate_crypto::digest::sha256_hex(secret.as_bytes());
        if !cognate_crypto::digest::constant_time_eq(
            given.as_bytes(),
            job.upload_secret_hash.as_bytes(),
        ) {
            return Err(UploadError::Forbidden);
        }
        if settle(job.clone(), self.now()).status != "Created" {
            return Err(UploadError::Conflict);
        }
        if csv.len() > MAX_CSV_BYTES {
            return Err(UploadError::TooLarge);
        }
        if self
            .store
            .put_import_csv(&job.pool_id, job_id, csv)
            .await
            .map_err(internal)?
        {
            Ok(())
        } else {
            Err(UploadError::Conflict)
        }
    }

    pub async fn describe_user_import_job(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> Result<UserImportJob> {
        let job = self.stored_import_job(pool_id, job_id).await?;
        Ok(settle(job, self.now()))
    }

    /// A job as stored (a Created job is not yet settled to Expired).
    async fn stored_import_job(&self, pool_id: &str, job_id: &str) -> Result<UserImportJob> {
        self.pool(pool_id).await?;
        self.store
            .get_import_job(pool_id, job_id)
            .await?
            .ok_or_else(|| job_not_found(job_id))
    }

    pub async fn list_user_import_jobs(
        &self,
        pool_id: &str,
        max: usize,
        token: Option<&str>,
    ) -> Result<Page<UserImportJob>> {
        self.pool(pool_id).await?;
        let after = token.map(decode_token).transpose()?;
        let mut items = self
            .store
            .list_import_jobs(pool_id, after.as_deref(), max + 1)
            .await?;
        let next = if items.len() > max {
            items.truncate(max);
            items.last().map(|j| encode_token(&j.job_id))
        } else {
            None
        };
        let now = self.now();
        let items = items.into_iter().map(|j| settle(j, now)).collect();
        Ok(Page { items, next })
    }

    /// StartUserImportJob: Created → Pending, and the import runs in the
    /// background on this instance. An expired job is refused, and its
    /// Expired status is stored (so no instance can start it any more).
    pub async fn start_user_import_job(
        self: &Arc<Self>,
        pool_id: &str,
        job_id: &str,
    ) -> Result<UserImportJob> {
        let stored = self.stored_import_job(pool_id, job_id).await?;
        let mut job = settle(stored.clone(), self.now());
        if job.status == "Expired"
            && stored.status == "Created"
            && !self.store.update_import_job(&job, &["Created"]).await?
        {
            // Started (or expired) by another instance meanwhile.
            job = self.describe_user_import_job(pool_id, job_id).await?;
        }
        if job.status != "Created" {
            return Err(Error::new(
                ErrorKind::PreconditionNotMet,
                format!(
                    "Import job {job_id} cannot be started: its status is {}.",
                    job.status
                ),
            ));
        }
        // Nothing to import yet: AWS's answer, in its words (a user's capture).
        if !self.store.has_import_csv(&job.pool_id, &job.job_id).await? {
            return Err(Error::new(
                ErrorKind::PreconditionNotMet,
                format!("No csv file was uploaded for {job_id}"),
            ));
        }
        job.status = "Pending".into();
        job.started = Some(self.now());
        if !self.store.update_import_job(&job, &["Created"]).await? {
            return Err(Error::new(
                ErrorKind::PreconditionNotMet,
                format!("Import job {job_id} was started already."),
            ));
        }
        let service = self.clone();
        let running = job.clone();
        tokio::spawn(async move {
            let (pool_id, job_id) = (running.pool_id.clone(), running.job_id.clone());
            if let Err(e) = service.run_import_job(running).await {
                tracing::warn!(pool = %pool_id, job = %job_id, error = %e, "user import job failed");
                if let Ok(Some(mut job)) = service.store.get_import_job(&pool_id, &job_id).await {
                    job.status = "Failed".into();
                    job.completed = Some(service.now());
                    job.completion_message = Some(e.message.clone());
                    let _ = service
                        .store
                        .update_import_job(&job, &["Pending", "InProgress"])
                        .await;
                }
            }
        });
        Ok(job)
    }

    /// StopUserImportJob: a Pending or InProgress job is Stopped at once;
    /// the background task stops at its next batch boundary.
    pub async fn stop_user_import_job(&self, pool_id: &str, job_id: &str) -> Result<UserImportJob> {
        for _ in 0..16 {
            let mut job = self.describe_user_import_job(pool_id, job_id).await?;
            if job.status != "Pending" && job.status != "InProgress" {
                return Err(Error::new(
                    ErrorKind::PreconditionNotMet,
                    format!(
                        "Import job {job_id} cannot be stopped: its status is {}.",
                        job.status
                    ),
                ));
            }
            let from = job.status.clone();
            job.status = "Stopped".into();
            job.completed = Some(self.now());
            job.completion_message = Some(STOPPED.into());
            if self.store.update_import_job(&job, &[from.as_str()]).await? {
                return Ok(job);
            }
            // It moved on meanwhile (Pending to InProgress, or finished):
            // look again.
        }
        Err(Error::new(
            ErrorKind::ConcurrentModification,
            format!("Import job {job_id} changed too often to be stopped; try again."),
        ))
    }

    async fn run_import_job(&self, mut job: UserImportJob) -> Result<()> {
        let pool = self.pool(&job.pool_id).await?;
        let from = job.status.clone();
        job.status = "InProgress".into();
        if !self.store.update_import_job(&job, &[from.as_str()]).await? {
            return Ok(()); // stopped before it began
        }
        let csv = self
            .store
            .get_import_csv(&job.pool_id, &job.job_id)
            .await?
            .ok_or_else(|| {
                Error::invalid_parameter("No CSV file was uploaded to the job's pre-signed URL.")
            })?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(csv.as_slice());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| Error::invalid_parameter(format!("The CSV header cannot be read: {e}")))?
            .iter()
            .map(str::to_owned)
            .collect();
        let known = csv_header(&pool);
        if let Some(unknown) = header.iter().find(|h| !known.contains(h)) {
            return Err(Error::invalid_parameter(format!(
                "The CSV header has a column that is not an attribute of the user pool: {unknown}"
            )));
        }
        if !header.iter().any(|h| h == "cognito:username") {
            return Err(Error::invalid_parameter(
                "The CSV header has no cognito:username column.",
            ));
        }
        let mut batch = Vec::with_capacity(BATCH);
        for row in reader.records() {
            match row {
                Ok(row) => match self.user_from_row(&pool, &header, &row) {
                    Ok(user) => batch.push(user),
                    Err(_) => job.failed += 1,
                },
                Err(_) => job.failed += 1,
            }
            if batch.len() >= BATCH && !self.import_batch(&mut job, &mut batch).await? {
                return Ok(());
            }
        }
        if !self.import_batch(&mut job, &mut batch).await? {
            return Ok(());
        }
        let (status, message) = if job.imported == 0 && job.failed + job.skipped > 0 {
            ("Failed", TOO_MANY_FAILED)
        } else {
            ("Succeeded", COMPLETED)
        };
        job.status = status.into();
        job.completed = Some(self.now());
        job.completion_message = Some(message.into());
        if !self.store.update_import_job(&job, &["InProgress"]).await? {
            // A Stop landed after the last batch: it stands, with the counts.
            self.count_into_stopped_job(&job).await?;
        }
        Ok(())
    }

    /// Writes a batch and records the counts; false when the job was
    /// stopped: before the batch began (it is not written), or while it was
    /// written (its counts are added to the Stopped job).
    async fn import_batch(
        &self,
        job: &mut UserImportJob,
        batch: &mut Vec<ImportUser>,
    ) -> Result<bool> {
        if !batch.is_empty() {
            let current = self.store.get_import_job(&job.pool_id, &job.job_id).await?;
            if current.map(|j| j.status).as_deref() != Some("InProgress") {
                self.count_into_stopped_job(job).await?;
                return Ok(false);
            }
            let outcome = self.store.import_users(batch).await?;
            job.imported += outcome.inserted;
            job.skipped += outcome.skipped.len() as u64;
            batch.clear();
        }
        if self.store.update_import_job(job, &["InProgress"]).await? {
            return Ok(true);
        }
        self.count_into_stopped_job(job).await?;
        Ok(false)
    }

    /// Records the counts of `job` (the running task's, which are whole)
    /// in the stored job if it is Stopped, keeping its status, message and
    /// date: the Stop may have replaced the counts by older ones, and a
    /// batch written meanwhile is counted.
    async fn count_into_stopped_job(&self, job: &UserImportJob) -> Result<()> {
        let Some(mut stopped) = self.store.get_import_job(&job.pool_id, &job.job_id).await? else {
            return Ok(());
        };
        if stopped.status != "Stopped"
            || (stopped.imported, stopped.skipped, stopped.failed)
                == (job.imported, job.skipped, job.failed)
        {
            return Ok(());
        }
        stopped.imported = job.imported;
        stopped.skipped = job.skipped;
        stopped.failed = job.failed;
        self.store.update_import_job(&stopped, &["Stopped"]).await?;
        Ok(())
    }

    fn user_from_row(
        &self,
        pool: &UserPool,
        header: &[String],
        row: &csv::StringRecord,
    ) -> Result<ImportUser> {
        let mut username = None;
        let mut mfa_enabled = None;
        let mut attributes = Vec::new();
        for (name, value) in header.iter().zip(row.iter()) {
            match name.as_str() {
                "cognito:username" => username = Some(value.to_owned()),
                "cognito:mfa_enabled" => mfa_enabled = Some(value.trim().to_ascii_lowercase()),
                _ if value.is_empty() => {}
                "email_verified" | "phone_number_verified" => {
                    attributes.push(Attribute::new(name.clone(), value.to_lowercase()))
                }
                _ => attributes.push(Attribute::new(name.clone(), value)),
            }
        }
        let requested = username
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Error::invalid_parameter("cognito:username is empty"))?;
        schema::validate_attributes(pool, &attributes, true)?;
        let username = self.new_username(pool, &requested, &mut attributes)?;
        schema::check_required(pool, &attributes)?;
        let sms_mfa = import_mfa_enabled(pool, mfa_enabled.as_deref())?;
        if sms_mfa && !attributes.iter().any(|a| a.name == "phone_number") {
            return Err(Error::invalid_parameter(
                "cognito:mfa_enabled is true but the user has no phone_number.",
            ));
        }
        let mut user = self.blank_user(pool, username, attributes);
        user.status = UserStatus::ResetRequired;
        user.sms_mfa_enabled = sms_mfa;
        Ok(ImportUser {
            aliases: pool.alias_keys(&user),
            user,
            groups: Vec::new(),
        })
    }
}

/// The row's `cognito:mfa_enabled` as the developer guide states it: it
/// must be given, `true` (SMS MFA on, to the row's phone number) in a pool
/// whose MFA is ON, `false` in a pool whose MFA is OFF, either when it is
/// OPTIONAL (any case, as the guide's sample writes `FALSE`).
fn import_mfa_enabled(pool: &UserPool, value: Option<&str>) -> Result<bool> {
    let enabled = match value {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return Err(Error::invalid_parameter(
                "cognito:mfa_enabled must be true or false.",
            ))
        }
    };
    match pool.settings.mfa_configuration.as_str() {
        "ON" if !enabled => Err(Error::invalid_parameter(
            "cognito:mfa_enabled must be true in a user pool whose MFA is required.",
        )),
        "OFF" if enabled => Err(Error::invalid_parameter(
            "cognito:mfa_enabled must be false in a user pool whose MFA is off.",
        )),
        _ => Ok(enabled),
    }
}

fn csv_header(pool: &UserPool) -> Vec<String> {
    pool.schema
        .iter()
        .filter(|a| a.name != "sub")
        .map(|a| a.name.clone())
        .chain([
            "cognito:mfa_enabled".to_owned(),
            "cognito:username".to_owned(),
        ])
        .collect()
}

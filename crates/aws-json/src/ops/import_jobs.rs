//! CreateUserImportJob, GetCSVHeader, StartUserImportJob,
//! StopUserImportJob, DescribeUserImportJob, ListUserImportJobs.

use std::sync::Arc;

use cognate_core::model::UserImportJob;
use cognate_core::service::NewImportJob;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse};
use crate::validate::{self, Validator};

fn job_out(job: &UserImportJob) -> Value {
    let mut m = Map::new();
    m.insert("JobName".into(), json!(job.job_name));
    m.insert("JobId".into(), json!(job.job_id));
    m.insert("UserPoolId".into(), json!(job.pool_id));
    m.insert("PreSignedUrl".into(), json!(job.presigned_url));
    m.insert("CreationDate".into(), shapes::timestamp(job.created));
    if let Some(t) = job.started {
        m.insert("StartDate".into(), shapes::timestamp(t));
    }
    if let Some(t) = job.completed {
        m.insert("CompletionDate".into(), shapes::timestamp(t));
    }
    m.insert("Status".into(), json!(job.status));
    m.insert(
        "CloudWatchLogsRoleArn".into(),
        json!(job.cloudwatch_logs_role_arn),
    );
    m.insert("ImportedUsers".into(), json!(job.imported));
    m.insert("SkippedUsers".into(), json!(job.skipped));
    m.insert("FailedUsers".into(), json!(job.failed));
    if let Some(msg) = &job.completion_message {
        m.insert("CompletionMessage".into(), json!(msg));
    }
    if let Some(a) = &job.password_hashing_algorithm {
        m.insert("PasswordHashingAlgorithm".into(), json!(a));
    }
    Value::Object(m)
}

/// `import-[0-9a-zA-Z-]+`, 1..55.
fn job_id(v: &mut Validator, id: &str) {
    let ok = id.strip_prefix("import-").is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    v.len("jobId", id, 1, 55)
        .pattern("jobId", id, ok, "import-[0-9a-zA-Z-]+");
}

/// `arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?`
fn is_arn(s: &str) -> bool {
    let word = |p: &str| {
        p.chars()
            .all(|c| c.is_alphanumeric() || "_+=/,.@-".contains(c))
    };
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() >= 6
        && parts.len() <= 8
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && word(parts[1])
        && !parts[2].is_empty()
        && word(parts[2])
        && word(parts[3])
        && !parts[4].is_empty()
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5..].iter().all(|p| !p.is_empty() && word(p))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRequest {
    job_name: String,
    user_pool_id: String,
    cloud_watch_logs_role_arn: String,
    password_hashing_algorithm: Option<String>,
}

pub async fn create_user_import_job(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: CreateRequest = parse(body)?;
    let mut v = Validator::new();
    v.len("jobName", &req.job_name, 1, 128).pattern(
        "jobName",
        &req.job_name,
        req.job_name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)),
        "[\\w\\s+=,.@-]+",
    );
    validate::pool_id(&mut v, &req.user_pool_id);
    v.len(
        "cloudWatchLogsRoleArn",
        &req.cloud_watch_logs_role_arn,
        20,
        2048,
    )
    .pattern(
        "cloudWatchLogsRoleArn",
        &req.cloud_watch_logs_role_arn,
        is_arn(&req.cloud_watch_logs_role_arn),
        "arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?",
    )
    .one_of(
        "passwordHashingAlgorithm",
        req.password_hashing_algorithm.as_deref(),
        &["BCRYPT", "SCRYPT", "ARGON2ID", "PBKDF2_SHA256"],
    );
    v.finish()?;
    let job = svc
        .create_user_import_job(NewImportJob {
            pool_id: req.user_pool_id,
            job_name: req.job_name,
            cloudwatch_logs_role_arn: req.cloud_watch_logs_role_arn,
            password_hashing_algorithm: req.password_hashing_algorithm,
        })
        .await?;
    Ok(json!({"UserImportJob": job_out(&job)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolRequest {
    user_pool_id: String,
}

pub async fn get_csv_header(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: PoolRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.finish()?;
    let header = svc.csv_header(&req.user_pool_id).await?;
    Ok(json!({"UserPoolId": req.user_pool_id, "CSVHeader": header}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JobRequest {
    user_pool_id: String,
    job_id: String,
}

fn check_job_request(req: &JobRequest) -> Result<(), ApiError> {
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    job_id(&mut v, &req.job_id);
    v.finish()
}

pub async fn start_user_import_job(svc: &Arc<UserPools>, body: &[u8]) -> Result<Value, ApiError> {
    let req: JobRequest = parse(body)?;
    check_job_request(&req)?;
    let job = svc
        .start_user_import_job(&req.user_pool_id, &req.job_id)
        .await?;
    Ok(json!({"UserImportJob": job_out(&job)}))
}

pub async fn stop_user_import_job(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: JobRequest = parse(body)?;
    check_job_request(&req)?;
    let job = svc
        .stop_user_import_job(&req.user_pool_id, &req.job_id)
        .await?;
    Ok(json!({"UserImportJob": job_out(&job)}))
}

pub async fn describe_user_import_job(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: JobRequest = parse(body)?;
    check_job_request(&req)?;
    let job = svc
        .describe_user_import_job(&req.user_pool_id, &req.job_id)
        .await?;
    Ok(json!({"UserImportJob": job_out(&job)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    user_pool_id: String,
    max_results: Option<i64>,
    pagination_token: Option<String>,
}

pub async fn list_user_import_jobs(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    match req.max_results {
        None => v.missing("maxResults"),
        Some(_) => v.range("maxResults", req.max_results, 1, 60),
    };
    if let Some(t) = &req.pagination_token {
        v.pattern("paginationToken", t, validate::no_whitespace(t), "[\\S]+");
    }
    v.finish()?;
    let page = svc
        .list_user_import_jobs(
            &req.user_pool_id,
            req.max_results.unwrap_or(60).clamp(1, 60) as usize,
            req.pagination_token.as_deref(),
        )
        .await?;
    let mut out = json!({"UserImportJobs": page.items.iter().map(job_out).collect::<Vec<_>>()});
    if let (Some(next), Some(obj)) = (page.next, out.as_object_mut()) {
        obj.insert("PaginationToken".into(), json!(next));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn arns_as_the_model_reads_them() {
        assert!(super::is_arn(
            "arn:aws:iam::111111111111:role/CognitoCloudWatchLogsRole"
        ));
        assert!(!super::is_arn("arn:aws:iam::abc:role/x"));
        assert!(!super::is_arn("not-an-arn-at-all-really"));
    }
}

//! The pre-signed URL of a user import job (`PUT /import-jobs/{job_id}?
//! X-Amz-Signature=...`), standing in for the S3 bucket Cognito hands out:
//! clients PUT the CSV file there as they would to S3, and are answered as
//! S3 answers (an empty 200, or an XML error).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cognate_core::service::{UploadError, MAX_CSV_BYTES};
use cognate_core::UserPools;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Signature {
    #[serde(rename = "X-Amz-Signature", default)]
    signature: String,
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ),
    )
        .into_response()
}

pub async fn put_csv(
    State(service): State<Arc<UserPools>>,
    Path(job_id): Path<String>,
    Query(query): Query<Signature>,
    body: Body,
) -> Response {
    let Ok(csv) = axum::body::to_bytes(body, MAX_CSV_BYTES).await else {
        return s3_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
        );
    };
    match service
        .upload_import_csv(&job_id, &query.signature, &csv)
        .await
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(UploadError::Forbidden) => {
            s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
        }
        Err(UploadError::Conflict) => s3_error(
            StatusCode::CONFLICT,
            "OperationAborted",
            "The import job has started: its file cannot change.",
        ),
        Err(UploadError::TooLarge) => s3_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
        ),
        Err(UploadError::Internal(e)) => {
            tracing::error!(error = %e, "storing an import CSV failed");
            s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        }
    }
}

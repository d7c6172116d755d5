//! The one table from domain errors to Cognito's wire errors: `__type`,
//! HTTP status and message. Internal faults answer 500 with no detail.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cognate_core::{Error, ErrorKind};
use serde_json::json;

use crate::CONTENT_TYPE;

/// An error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub type_name: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, type_name: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            type_name,
            message: message.into(),
        }
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            message,
        )
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "SerializationException", message)
    }
}

/// Cognito's exception name and HTTP status for a domain error kind.
pub fn wire_type(kind: ErrorKind) -> (StatusCode, &'static str) {
    use ErrorKind::*;
    let name = match kind {
        AliasExists => "AliasExistsException",
        CodeDeliveryFailure => "CodeDeliveryFailureException",
        CodeMismatch => "CodeMismatchException",
        DuplicateProvider => "DuplicateProviderException",
        ConcurrentModification => "ConcurrentModificationException",
        DeviceKeyExists => "DeviceKeyExistsException",
        EnableSoftwareTokenMfa => "EnableSoftwareTokenMFAException",
        ExpiredCode => "ExpiredCodeException",
        FeatureUnavailableInTier => "FeatureUnavailableInTierException",
        GroupExists => "GroupExistsException",
        InvalidLambdaResponse => "InvalidLambdaResponseException",
        InvalidOAuthFlow => "InvalidOAuthFlowException",
        InvalidParameter => "InvalidParameterException",
        InvalidPassword => "InvalidPasswordException",
        InvalidUserPoolConfiguration => "InvalidUserPoolConfigurationException",
        LimitExceeded => "LimitExceededException",
        ManagedLoginBrandingExists => "ManagedLoginBrandingExistsException",
        MfaMethodNotFound => "MFAMethodNotFoundException",
        NotAuthorized => "NotAuthorizedException",
        OperationNotEnabled => "OperationNotEnabledException",
        PasswordHistoryPolicyViolation => "PasswordHistoryPolicyViolationException",
        PasswordResetRequired => "PasswordResetRequiredException",
        PreconditionNotMet => "PreconditionNotMetException",
        RefreshTokenReuse => "RefreshTokenReuseException",
        ResourceNotFound => "ResourceNotFoundException",
        ScopeDoesNotExist => "ScopeDoesNotExistException",
        ServiceQuotaExceeded => "ServiceQuotaExceededException",
        SoftwareTokenMfaNotFound => "SoftwareTokenMFANotFoundException",
        TermsExists => "TermsExistsException",
        TooManyFailedAttempts => "TooManyFailedAttemptsException",
        TooManyRequests => "TooManyRequestsException",
        Unauthorized => "UnauthorizedException",
        UnexpectedLambda => "UnexpectedLambdaException",
        UnsupportedOperation => "UnsupportedOperationException",
        UnsupportedTokenType => "UnsupportedTokenTypeException",
        UnsupportedUserState => "UnsupportedUserStateException",
        UserLambdaValidation => "UserLambdaValidationException",
        UserNotConfirmed => "UserNotConfirmedException",
        UserNotFound => "UserNotFoundException",
        UserPoolAddOnNotEnabled => "UserPoolAddOnNotEnabledException",
        UsernameExists => "UsernameExistsException",
        WebAuthnChallengeNotFound => "WebAuthnChallengeNotFoundException",
        WebAuthnClientMismatch => "WebAuthnClientMismatchException",
        WebAuthnConfigurationMissing => "WebAuthnConfigurationMissingException",
        WebAuthnCredentialNotSupported => "WebAuthnCredentialNotSupportedException",
        WebAuthnNotEnabled => "WebAuthnNotEnabledException",
        WebAuthnOriginNotAllowed => "WebAuthnOriginNotAllowedException",
        WebAuthnRelyingPartyMismatch => "WebAuthnRelyingPartyMismatchException",
        Internal => return (StatusCode::INTERNAL_SERVER_ERROR, "InternalErrorException"),
    };
    (StatusCode::BAD_REQUEST, name)
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (status, type_name) = wire_type(e.kind);
        let message = if e.kind == ErrorKind::Internal {
            tracing::error!(detail = %e.message, "internal error");
            "Internal server error.".to_owned()
        } else {
            e.message
        };
        ApiError {
            status,
            type_name,
            message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"__type": self.type_name, "message": self.message}).to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(CONTENT_TYPE),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("{}:", self.type_name)) {
            headers.insert("x-amzn-ErrorType", v);
        }
        response
    }
}

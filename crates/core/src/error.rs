//! The domain's error type. Its kinds carry Cognito's exception names
//! because those names are the domain's vocabulary; the AWS JSON adapter
//! owns the one table from kind to wire `__type` and HTTP status.

use std::fmt;

/// What went wrong, in Cognito's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    AliasExists,
    CodeDeliveryFailure,
    CodeMismatch,
    DuplicateProvider,
    ConcurrentModification,
    DeviceKeyExists,
    EnableSoftwareTokenMfa,
    ExpiredCode,
    FeatureUnavailableInTier,
    GroupExists,
    InvalidLambdaResponse,
    InvalidOAuthFlow,
    InvalidParameter,
    InvalidPassword,
    InvalidUserPoolConfiguration,
    LimitExceeded,
    ManagedLoginBrandingExists,
    MfaMethodNotFound,
    NotAuthorized,
    OperationNotEnabled,
    PasswordHistoryPolicyViolation,
    PasswordResetRequired,
    PreconditionNotMet,
    /// A refresh token that rotation has retired was used again.
    RefreshTokenReuse,
    ResourceNotFound,
    ScopeDoesNotExist,
    ServiceQuotaExceeded,
    SoftwareTokenMfaNotFound,
    TermsExists,
    TooManyFailedAttempts,
    TooManyRequests,
    UnexpectedLambda,
    Unauthorized,
    UnsupportedOperation,
    UnsupportedTokenType,
    UnsupportedUserState,
    UserLambdaValidation,
    UserNotConfirmed,
    UserNotFound,
    UserPoolAddOnNotEnabled,
    UsernameExists,
    WebAuthnChallengeNotFound,
    WebAuthnClientMismatch,
    WebAuthnConfigurationMissing,
    WebAuthnCredentialNotSupported,
    WebAuthnNotEnabled,
    WebAuthnOriginNotAllowed,
    WebAuthnRelyingPartyMismatch,
    /// A fault of ours (storage, crypto); the message is never shown to clients.
    Internal,
}

/// A domain error: a kind and a client-facing message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }

    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotAuthorized, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn pool_not_found(pool_id: &str) -> Self {
        Self::new(
            ErrorKind::ResourceNotFound,
            format!("User pool {pool_id} does not exist."),
        )
    }

    pub fn client_not_found(client_id: &str) -> Self {
        Self::new(
            ErrorKind::ResourceNotFound,
            format!("User pool client {client_id} does not exist."),
        )
    }

    pub fn user_not_found() -> Self {
        Self::new(ErrorKind::UserNotFound, "User does not exist.")
    }

    pub fn incorrect_credentials() -> Self {
        Self::not_authorized("Incorrect username or password.")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

/// Errors from a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint was violated (the row exists), or a row
    /// refers to one that does not exist (any more).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Another user of the pool holds this sign-in alias (its kind:
    /// email, phone_number or preferred_username).
    #[error("alias taken: {0}")]
    AliasTaken(String),
    /// A listing cursor the store did not make (for this listing).
    #[error("invalid cursor")]
    InvalidCursor,
    /// The backend failed.
    #[error("storage failure: {0}")]
    Backend(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::internal(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

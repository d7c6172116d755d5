//! The outcome of checking a token: one enum shared by the gateway (which
//! counts it in its metrics and maps it to 401/403) and by backends.

/// Why a token was refused. `reason()` is the stable, bounded label used in
/// metrics and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// No token in the configured header.
    Missing,
    /// Not a compact JWS, bad base64 or JSON, a required claim missing or
    /// of the wrong type, or too long.
    Malformed,
    /// The signature does not verify, or the header names an algorithm other
    /// than RS256 (`none`, `HS256`, ...): an unsigned or differently signed
    /// token is, for us, a token without a valid signature.
    BadSignature,
    /// `exp` is in the past (beyond the allowed clock skew).
    Expired,
    /// `nbf` (or `iat`) is in the future (beyond the allowed clock skew).
    NotYetValid,
    /// `iss` is not one of the configured issuers.
    WrongIssuer,
    /// `aud` (ID token) or `client_id` (access token) is not an allowed client.
    WrongAudience,
    /// `token_use` is not the one the route asks for.
    WrongTokenUse,
    /// The token was revoked (sign-out) at its local pool.
    Revoked,
    /// The token lacks the route's scopes.
    InsufficientScope,
    /// The user is in none of the route's groups.
    MissingGroup,
    /// No key of the issuer has the token's `kid`, even after a refetch.
    UnknownKid,
    /// The issuer's keys could not be fetched (network or server trouble).
    KeysUnavailable,
}

impl Rejection {
    /// Every variant, in declaration order (for pre-registering metrics).
    pub const ALL: [Rejection; 13] = [
        Rejection::Missing,
        Rejection::Malformed,
        Rejection::BadSignature,
        Rejection::Expired,
        Rejection::NotYetValid,
        Rejection::WrongIssuer,
        Rejection::WrongAudience,
        Rejection::WrongTokenUse,
        Rejection::Revoked,
        Rejection::InsufficientScope,
        Rejection::MissingGroup,
        Rejection::UnknownKid,
        Rejection::KeysUnavailable,
    ];

    /// A snake_case label, e.g. `bad_signature`.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Missing => "missing",
            Rejection::Malformed => "malformed",
            Rejection::BadSignature => "bad_signature",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::WrongIssuer => "wrong_issuer",
            Rejection::WrongAudience => "wrong_audience",
            Rejection::WrongTokenUse => "wrong_token_use",
            Rejection::Revoked => "revoked",
            Rejection::InsufficientScope => "insufficient_scope",
            Rejection::MissingGroup => "missing_group",
            Rejection::UnknownKid => "unknown_kid",
            Rejection::KeysUnavailable => "keys_unavailable",
        }
    }

    /// True when the token itself is fine but lacks a permission the route
    /// needs (HTTP 403); every other rejection means "not authenticated" (401),
    /// except `KeysUnavailable`, which is the server's fault.
    pub fn is_forbidden(self) -> bool {
        matches!(self, Rejection::InsufficientScope | Rejection::MissingGroup)
    }

    /// A short human sentence, safe to show to the caller (never contains
    /// token contents).
    pub fn detail(self) -> &'static str {
        match self {
            Rejection::Missing => "No access token was provided",
            Rejection::Malformed => "The token is malformed",
            Rejection::BadSignature => "The token signature is invalid",
            Rejection::Expired => "The token has expired",
            Rejection::NotYetValid => "The token is not valid yet",
            Rejection::WrongIssuer => "The token was not issued by a trusted issuer",
            Rejection::WrongAudience => "The token was issued to another client",
            Rejection::WrongTokenUse => "The token is of the wrong type",
            Rejection::Revoked => "The token has been revoked",
            Rejection::InsufficientScope => "The token lacks a required scope",
            Rejection::MissingGroup => "The user is not in a required group",
            Rejection::UnknownKid => "The token was signed by an unknown key",
            Rejection::KeysUnavailable => "The signing keys could not be fetched",
        }
    }
}

impl Rejection {
    /// The `WWW-Authenticate` challenge of a refusal, in the form API
    /// Gateway's JWT authorizer uses (`Bearer scope="" error="invalid_token"
    /// error_description="the token has expired"`): no error code when the
    /// request had no token (RFC 6750, section 3.1), `insufficient_scope`
    /// for a missing scope or group, `invalid_token` with a lower-case
    /// description otherwise. Never contains token contents.
    pub fn www_authenticate(self) -> &'static str {
        match self {
            Rejection::Missing => "Bearer",
            Rejection::Malformed => {
                r#"Bearer scope="" error="invalid_token" error_description="the token is malformed""#
            }
            Rejection::BadSignature => {
                r#"Bearer scope="" error="invalid_token" error_description="the token signature is invalid""#
            }
            Rejection::Expired => {
                r#"Bearer scope="" error="invalid_token" error_description="the token has expired""#
            }
            Rejection::NotYetValid => {
                r#"Bearer scope="" error="invalid_token" error_description="the token is not valid yet""#
            }
            Rejection::WrongIssuer => {
                r#"Bearer scope="" error="invalid_token" error_description="the token does not have a valid issuer""#
            }
            Rejection::WrongAudience => {
                r#"Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience""#
            }
            Rejection::WrongTokenUse => {
                r#"Bearer scope="" error="invalid_token" error_description="the token does not have the required token_use""#
            }
            Rejection::Revoked => {
                r#"Bearer scope="" error="invalid_token" error_description="the token has been revoked""#
            }
            Rejection::UnknownKid => {
                r#"Bearer scope="" error="invalid_token" error_description="the token was signed by an unknown key""#
            }
            Rejection::InsufficientScope => {
                r#"Bearer error="insufficient_scope" error_description="the token does not have a required scope""#
            }
            Rejection::MissingGroup => {
                r#"Bearer error="insufficient_scope" error_description="the user is not in a required group""#
            }
            Rejection::KeysUnavailable => {
                r#"Bearer scope="" error="invalid_token" error_description="the signing keys could not be fetched""#
            }
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for Rejection {}

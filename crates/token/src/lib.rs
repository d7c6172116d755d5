//! Verification of Cognito tokens (and of any issuer's RS256 JWTs) for Rust
//! backends and for cognate's gateway: one implementation of the checks and
//! one outcome enum serve both.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use cognate_token::{IssuerConfig, Policy, TokenUse, Verifier};
//! let verifier = Arc::new(
//!     Verifier::builder()
//!         .issuer(IssuerConfig::cognito(
//!             "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
//!             &["3c4v73qlc19bp0mevm94f5a4co"],
//!         ))
//!         .build(),
//! );
//! let claims = verifier.authorize("eyJ...", &Policy::token_use(TokenUse::Id)).await;
//! # }
//! ```
//!
//! Checks, in order: length and shape (a JSON member named twice in the
//! header or the payload is `Malformed`); `alg` pinned to RS256 (anything
//! else, `none` and `HS256` included, is `BadSignature`; `jku`, `x5u`,
//! `jwk` and `x5c` are never looked at); `iss` one of the configured
//! issuers; the issuer's key named by `kid` (keys fetched and cached,
//! refetched on an unknown kid at most once per 30 s); the RSA signature;
//! `exp`, `nbf` and `iat` with 30 s of skew; the client among the allowed
//! ones: `client_id` of an access token, else `aud` when the token has one,
//! else `client_id` (API Gateway's rule); revocation.
//! Then the route's `Policy`: `token_use`, scopes (any-of by default, like
//! API Gateway; or all-of) and groups (any-of).

pub mod claims;
pub mod extract;
pub mod keys;
pub mod outcome;
pub mod verifier;

pub use claims::{Claims, Derived, TokenUse};
pub use extract::{token_from_header_value, Auth, AuthError, OptionalAuth, StrictAuth};
pub use keys::{HttpJwks, JwksSource, KeyError, KeySet, RefetchPolicy, StaticJwks};
pub use outcome::Rejection;
pub use verifier::{
    now_secs, IssuerConfig, IssuerDirectory, Policy, Revocation, ScopeMatch, TokenMemo, Verifier,
    VerifierBuilder, DEFAULT_CACHE_CAPACITY, DEFAULT_LEEWAY_SECS,
};

//! The verified claims of a token: the registered and Cognito claims typed,
//! and every claim kept as JSON for whoever needs the rest.

use std::any::Any;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::outcome::Rejection;

/// `token_use` of a Cognito token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenUse {
    Id,
    Access,
    /// Any token (for routes of a plain JWT authorizer, like API Gateway's HTTP API).
    Any,
}

/// Claims of a token whose signature, issuer, audience and validity period
/// have been checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub sub: Option<String>,
    /// `token_use` (`id` or `access` for Cognito; absent for other issuers).
    pub token_use: Option<String>,
    pub exp: i64,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
    /// `aud` as a list (a single string becomes one element).
    pub aud: Vec<String>,
    /// `client_id` (Cognito access tokens).
    pub client_id: Option<String>,
    /// `scope` split on spaces (or `scp` as a list).
    pub scopes: Vec<String>,
    /// `cognito:groups`.
    pub groups: Vec<String>,
    pub origin_jti: Option<String>,
    pub jti: Option<String>,
    /// Every claim, as sent.
    pub all: Map<String, Value>,
    /// One value derived from these claims by their user, made once (see
    /// [`Claims::derived`]).
    pub derived: Derived,
}

/// A slot for one value derived from a token's claims (the gateway keeps
/// its prepared claim headers here). It lives exactly as long as the
/// `Claims` it belongs to: for a token in the verifier's cache, as long as
/// the cache entry, and it is only reached through claims that passed the
/// validity period and revocation checks of the current use. A clone of
/// the claims starts with an empty slot; it takes no part in equality.
#[derive(Default)]
pub struct Derived(OnceLock<Box<dyn Any + Send + Sync>>);

impl Clone for Derived {
    fn clone(&self) -> Self {
        Derived::default()
    }
}

impl PartialEq for Derived {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Derived(set)"
        } else {
            "Derived(empty)"
        })
    }
}

impl Claims {
    /// Parses a JWS payload. `iss` and a numeric `exp` are required; a
    /// member name given twice (e.g. two `sub`) is refused, so no parser
    /// keeping the other value can disagree with what was checked.
    pub fn parse(payload: &[u8]) -> Result<Self, Rejection> {
        let value = cognate_crypto::jws::json_without_duplicates(payload)
            .map_err(|_| Rejection::Malformed)?;
        let Value::Object(all) = value else {
            return Err(Rejection::Malformed);
        };
        let string = |name: &str| -> Result<Option<String>, Rejection> {
            match all.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Rejection::Malformed),
            }
        };
        let number = |name: &str| -> Result<Option<i64>, Rejection> {
            match all.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .map(Some)
                    .ok_or(Rejection::Malformed),
                Some(_) => Err(Rejection::Malformed),
            }
        };
        let strings = |name: &str| -> Result<Vec<String>, Rejection> {
            match all.get(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(vec![s.clone()]),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned).ok_or(Rejection::Malformed))
                    .collect(),
                Some(_) => Err(Rejection::Malformed),
            }
        };
        let iss = string("iss")?.ok_or(Rejection::Malformed)?;
        let exp = number("exp")?.ok_or(Rejection::Malformed)?;
        let scopes = match string("scope")? {
            Some(s) => s.split_whitespace().map(str::to_owned).collect(),
            None => strings("scp")?,
        };
        Ok(Claims {
            iss,
            sub: string("sub")?,
            token_use: string("token_use")?,
            exp,
            nbf: number("nbf")?,
            iat: number("iat")?,
            aud: strings("aud")?,
            client_id: string("client_id")?,
            scopes,
            groups: strings("cognito:groups")?,
            origin_jti: string("origin_jti")?,
            jti: string("jti")?,
            all,
            derived: Derived::default(),
        })
    }

    /// The value `make` derives from these claims, made on first use and
    /// kept with them, so a token served from the verifier's cache does not
    /// redo the work. One slot per claims: `None` when it already holds a
    /// value of another type (the caller then derives it itself).
    pub fn derived<T: Any + Send + Sync>(&self, make: impl FnOnce(&Claims) -> T) -> Option<&T> {
        self.derived
            .0
            .get_or_init(|| Box::new(make(self)))
            .downcast_ref::<T>()
    }

    /// The user's name: `cognito:username` (ID token) or `username` (access token).
    pub fn username(&self) -> Option<&str> {
        self.all
            .get("cognito:username")
            .or_else(|| self.all.get("username"))
            .and_then(Value::as_str)
    }

    /// A string claim by name.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.all.get(name).and_then(Value::as_str)
    }

    /// The client the token was issued to: `aud` of an ID token, or
    /// `client_id` of an access token.
    pub fn client(&self) -> Option<&str> {
        self.client_id
            .as_deref()
            .or_else(|| self.aud.first().map(String::as_str))
    }
}

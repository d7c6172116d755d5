//! The verified claims of a token: the registered and Cognito claims typed,
//! and every claim kept as JSON for whoever needs the rest.

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
}

impl Claims {
    /// Parses a JWS payload. `iss` and a numeric `exp` are required.
    pub fn parse(payload: &[u8]) -> Result<Self, Rejection> {
        let value: Value = serde_json::from_slice(payload).map_err(|_| Rejection::Malformed)?;
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
        })
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

//! Member constraints from the service model, checked before any work, with
//! AWS's validation messages (`N validation error(s) detected: ...`).

use crate::error::ApiError;

/// Collects constraint violations of one request.
#[derive(Default)]
pub struct Validator {
    errors: Vec<String>,
}

/// Members whose values are secret or personal: Cognito's validation
/// messages leave their values out (`Value at 'password' failed ...`).
const SENSITIVE: &[&str] = &[
    "password",
    "temporaryPassword",
    "proposedPassword",
    "previousPassword",
    "username",
    "accessToken",
    "refreshToken",
    "token",
    "secretHash",
    "session",
    "clientSecret",
    "userCode",
];

fn is_sensitive(member: &str) -> bool {
    let last = member.rsplit('.').next().unwrap_or(member);
    SENSITIVE.contains(&last)
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, value: Option<&str>, member: &str, constraint: &str) {
        let v = match value {
            Some(_) if is_sensitive(member) => "Value".to_owned(),
            Some(v) => format!("Value '{v}'"),
            None => "Value null".to_owned(),
        };
        self.errors.push(format!(
            "{v} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Length bounds in characters.
    pub fn len(&mut self, member: &str, value: &str, min: usize, max: usize) -> &mut Self {
        let n = value.chars().count();
        if n < min {
            self.fail(
                Some(value),
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        } else if n > max {
            self.fail(
                Some(value),
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
        self
    }

    pub fn opt_len(
        &mut self,
        member: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
    ) -> &mut Self {
        if let Some(v) = value {
            self.len(member, v, min, max);
        }
        self
    }

    /// A pattern check given as a predicate, with the model's pattern text for the message.
    pub fn pattern(&mut self, member: &str, value: &str, ok: bool, pattern: &str) -> &mut Self {
        if !ok {
            self.fail(
                Some(value),
                member,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
        self
    }

    pub fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: i64) -> &mut Self {
        if let Some(v) = value {
            if v < min {
                self.fail(
                    Some(&v.to_string()),
                    member,
                    &format!("Member must have value greater than or equal to {min}"),
                );
            } else if v > max {
                self.fail(
                    Some(&v.to_string()),
                    member,
                    &format!("Member must have value less than or equal to {max}"),
                );
            }
        }
        self
    }

    pub fn one_of(&mut self, member: &str, value: Option<&str>, allowed: &[&str]) -> &mut Self {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                self.fail(
                    Some(v),
                    member,
                    &format!(
                        "Member must satisfy enum value set: [{}]",
                        crate::java_order::hash_set_order(allowed).join(", ")
                    ),
                );
            }
        }
        self
    }

    pub fn each_one_of(
        &mut self,
        member: &str,
        values: Option<&[String]>,
        allowed: &[&str],
    ) -> &mut Self {
        for v in values.unwrap_or_default() {
            self.one_of(member, Some(v), allowed);
        }
        self
    }

    /// A required member that is absent.
    pub fn missing(&mut self, member: &str) -> &mut Self {
        self.fail(None, member, "Member must not be null");
        self
    }

    pub fn finish(&mut self) -> Result<(), ApiError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(ApiError::invalid_parameter(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

/// `[\w-]+_[0-9a-zA-Z]+`
pub fn is_pool_id(s: &str) -> bool {
    cognate_core::valid_pool_id(s)
}

/// `[\w+]+`
pub fn is_client_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '+')
}

/// `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`: visible characters, no whitespace or controls.
pub fn is_username(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `[\S]+`
pub fn no_whitespace(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

pub const POOL_ID_PATTERN: &str = "[\\w-]+_[0-9a-zA-Z]+";
pub const CLIENT_ID_PATTERN: &str = "[\\w+]+";
pub const USERNAME_PATTERN: &str = "[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+";

/// Checks a UserPoolId member.
pub fn pool_id(v: &mut Validator, value: &str) {
    v.len("userPoolId", value, 1, 55).pattern(
        "userPoolId",
        value,
        is_pool_id(value),
        POOL_ID_PATTERN,
    );
}

/// Checks a ClientId member.
pub fn client_id(v: &mut Validator, value: &str) {
    v.len("clientId", value, 1, 128).pattern(
        "clientId",
        value,
        is_client_id(value),
        CLIENT_ID_PATTERN,
    );
}

/// Checks a Username member.
pub fn username(v: &mut Validator, value: &str) {
    v.len("username", value, 1, 128).pattern(
        "username",
        value,
        is_username(value),
        USERNAME_PATTERN,
    );
}

/// Passwords: not empty, no leading or trailing whitespace (`^[\S]+.*[\S]+$` in older models).
pub fn no_whitespace_ends(s: &str) -> bool {
    !s.is_empty() && s.trim() == s
}

//! The botocore service model's member constraints (`model.json`, made by
//! `scripts/gen-model.py` from the botocore that the e2e suite pins), and
//! the one check that applies them to every request before anything else:
//! required members, string lengths, patterns and enums, number ranges,
//! list and map sizes, nested structures and list members. Failures are
//! reported in AWS's words (`N validation error(s) detected: Value '…' at
//! 'member.1.member.name' failed to satisfy constraint: …`), and the value
//! of a member whose shape the model marks sensitive is never echoed.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;

#[derive(Deserialize)]
struct Model {
    operations: HashMap<String, Operation>,
    shapes: HashMap<String, Shape>,
}

#[derive(Deserialize)]
struct Operation {
    input: Option<String>,
    #[serde(default)]
    auth: Option<String>,
}

#[derive(Deserialize)]
struct Shape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default, rename = "enum")]
    values: Option<Vec<String>>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    members: Vec<(String, String)>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    member: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// Enum values that AWS's API reference documents and the pinned botocore
/// model does not list yet: GetClientToken needs an app client with
/// `ALLOW_CLIENT_TOKEN_AUTH`, which ExplicitAuthFlowsType lacks.
const DOCUMENTED_ENUM_VALUES: &[(&str, &str)] =
    &[("ExplicitAuthFlowsType", "ALLOW_CLIENT_TOKEN_AUTH")];

struct Compiled {
    model: Model,
    patterns: HashMap<String, Option<regex::Regex>>,
    /// PATTERN_AS_ENFORCED, compiled by shape name.
    enforced: HashMap<&'static str, regex::Regex>,
}

fn compiled() -> Option<&'static Compiled> {
    static MODEL: OnceLock<Option<Compiled>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let mut model: Model = serde_json::from_str(include_str!("model.json")).ok()?;
            for (shape, value) in DOCUMENTED_ENUM_VALUES {
                if let Some(values) = model.shapes.get_mut(*shape).and_then(|s| s.values.as_mut()) {
                    values.push((*value).to_owned());
                }
            }
            let patterns = model
                .shapes
                .values()
                .filter_map(|s| s.pattern.clone())
                .map(|p| {
                    let re = java_regex(&p);
                    (p, re)
                })
                .collect();
            let enforced = PATTERN_AS_ENFORCED
                .iter()
                .map(|(shape, p)| Some((*shape, regex::Regex::new(&format!("^(?:{p})$")).ok()?)))
                .collect::<Option<_>>()?;
            Some(Compiled {
                model,
                patterns,
                enforced,
            })
        })
        .as_ref()
}

/// A Java pattern as a fully anchored Rust regex (AWS matches the whole
/// value). `\w` is ASCII in Java; a negative look-behind at the end (the
/// only one in the model: "must not end with '.'") is checked apart.
fn java_regex(pattern: &str) -> Option<regex::Regex> {
    let p = pattern
        .trim_start_matches('^')
        .trim_end_matches('$')
        .replace("(?<!\\.)", "")
        .replace("[\\w", "[0-9A-Za-z_")
        .replace("\\w", "[0-9A-Za-z_]");
    regex::Regex::new(&format!("^(?:{p})$")).ok()
}

/// Whether the model knows the operation.
pub fn knows(operation: &str) -> bool {
    compiled().is_some_and(|c| c.model.operations.contains_key(operation))
}

/// Whether the model marks the operation as callable without AWS credentials.
/// GetClientToken is one too, though the model has botocore sign it: AWS
/// documents that it authorizes the app client by its secret and evaluates
/// no IAM credentials.
pub fn unauthenticated(operation: &str) -> bool {
    operation == "GetClientToken"
        || compiled()
            .and_then(|c| c.model.operations.get(operation))
            .is_some_and(|o| o.auth.as_deref() == Some("none"))
}

/// Whether the operation's input has a `UserPoolId` member (the pool it acts on).
pub fn names_pool(operation: &str) -> bool {
    compiled()
        .and_then(|c| {
            let input = c.model.operations.get(operation)?.input.as_ref()?;
            c.model.shapes.get(input)
        })
        .is_some_and(|s| s.members.iter().any(|(name, _)| name == "UserPoolId"))
}

/// Checks a request body against the operation's input shape. Bodies that
/// are not JSON objects, and members of the wrong JSON type, are left to
/// the operation's parser (a SerializationException).
pub fn validate(operation: &str, body: &[u8]) -> Result<(), ApiError> {
    let Some(c) = compiled() else {
        return Ok(());
    };
    let Some(input) = c
        .model
        .operations
        .get(operation)
        .and_then(|o| o.input.as_deref())
    else {
        return Ok(());
    };
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return Ok(()),
        }
    };
    if !value.is_object() {
        return Ok(());
    }
    // AdminCreateUser's TemporaryPassword may be blank, which means none
    // (the member's documentation), though the model's pattern says `[\S]+`.
    let mut value = value;
    if operation == "AdminCreateUser" && value["TemporaryPassword"] == "" {
        if let Some(o) = value.as_object_mut() {
            o.remove("TemporaryPassword");
        }
    }
    let mut errors: Vec<(String, String)> = Vec::new();
    check(c, input, Some(&value), "", &mut errors);
    // AWS lists the failures by member path in a Java hash set's order
    // (captured: `password` before `username` in SignUp, `logoutURLs` before
    // `callbackURLs` in UpdateUserPoolClient), a member's own failures in
    // the order length, pattern, enum.
    let mut paths: Vec<&str> = Vec::new();
    for (path, _) in &errors {
        if !paths.contains(&path.as_str()) {
            paths.push(path);
        }
    }
    let order = crate::java_order::hash_set_order(&paths);
    let rank = |path: &str| order.iter().position(|p| p == path).unwrap_or(usize::MAX);
    errors.sort_by_key(|(path, _)| rank(path));
    let errors: Vec<String> = errors.into_iter().map(|(_, e)| e).collect();
    match errors.len() {
        0 => Ok(()),
        1 => Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: {}",
            errors[0]
        ))),
        n => Err(ApiError::invalid_parameter(format!(
            "{n} validation errors detected: {}",
            errors.join("; ")
        ))),
    }
}

/// `Name` → `name` (AWS's member paths are lowerCamelCase).
fn member_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member_name(member)
    } else {
        format!("{path}.{}", member_name(member))
    }
}

type Errors = Vec<(String, String)>;

fn fail(errors: &mut Errors, shown: Option<String>, path: &str, constraint: String) {
    let value = match shown {
        Some(v) => format!("Value '{v}'"),
        None => "Value".to_owned(),
    };
    errors.push((
        path.to_owned(),
        format!("{value} at '{path}' failed to satisfy constraint: {constraint}"),
    ));
}

/// The constraints of a scalar shape that `value` breaks, in AWS's words.
fn scalar_failures(c: &Compiled, shape_name: &str, shape: &Shape, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as f64;
        if let Some(min) = shape.min.filter(|m| len < *m) {
            out.push(format!(
                "Member must have length greater than or equal to {}",
                number(min)
            ));
        }
        if let Some(max) = shape.max.filter(|m| len > *m) {
            out.push(format!(
                "Member must have length less than or equal to {}",
                number(max)
            ));
        }
        if let Some(pattern) = shape
            .pattern
            .as_ref()
            .filter(|_| !PATTERN_NOT_ENFORCED.contains(&shape_name))
        {
            let matches = match c
                .enforced
                .get(shape_name)
                .or_else(|| c.patterns.get(pattern).and_then(Option::as_ref))
            {
                Some(re) => re.is_match(s) && !(pattern.contains("(?<!\\.)") && s.ends_with('.')),
                _ => true,
            };
            if !matches {
                out.push(format!(
                    "Member must satisfy regular expression pattern: {pattern}"
                ));
            }
        }
        if let Some(values) = &shape.values {
            if !values.iter().any(|v| v == s) {
                out.push(format!(
                    "Member must satisfy enum value set: [{}]",
                    crate::java_order::hash_set_order(values).join(", ")
                ));
            }
        }
    } else if let Some(n) = value.as_f64() {
        if let Some(min) = shape.min.filter(|m| n < *m) {
            out.push(format!(
                "Member must have value greater than or equal to {}",
                number(min)
            ));
        }
        if let Some(max) = shape.max.filter(|m| n > *m) {
            out.push(format!(
                "Member must have value less than or equal to {}",
                number(max)
            ));
        }
    }
    out
}

/// Every constraint of a scalar shape, as AWS lists them for map values.
fn scalar_constraints(shape: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(max) = shape.max {
        out.push(format!(
            "Member must have length less than or equal to {}",
            number(max)
        ));
    }
    if let Some(min) = shape.min {
        out.push(format!(
            "Member must have length greater than or equal to {}",
            number(min)
        ));
    }
    if let Some(pattern) = &shape.pattern {
        out.push(format!(
            "Member must satisfy regular expression pattern: {pattern}"
        ));
    }
    if let Some(values) = &shape.values {
        out.push(format!(
            "Member must satisfy enum value set: [{}]",
            crate::java_order::hash_set_order(values).join(", ")
        ));
    }
    out
}

/// How AWS shows a list or map value in a message: `[a, b]`, `{k=v}`.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}={}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Shapes whose model pattern AWS does not enforce: `DomainType`'s pattern is
/// a prefix domain's, and CreateUserPoolDomain takes custom domains
/// (`auth.example.com`) in the same member.
const PATTERN_NOT_ENFORCED: &[&str] = &["DomainType"];

/// Shapes whose values AWS matches against a wider pattern than the model's
/// (the refusal still names the model's pattern). `PasswordType` is `[\S]+`
/// in the model, yet Cognito's password rules count a space that neither
/// leads nor trails as a special character (the developer guide's password
/// policy), as the model's earlier pattern `^[\S]+.*[\S]+$` allowed.
const PATTERN_AS_ENFORCED: &[(&str, &str)] = &[("PasswordType", r"\S(?:.*\S)?")];

/// Shapes the model marks sensitive whose values AWS still shows: a client
/// id (users' captures from 2023 on: `Value 'ap-northeast-1_xxxxxxxxx' at
/// 'clientId' failed to satisfy constraint: ...`, and `Value ''` for empty).
const SHOWN_THOUGH_SENSITIVE: &[&str] = &["ClientIdType"];

/// Whether a value of this shape is left out of messages.
fn hidden(shape_name: &str, shape: &Shape) -> bool {
    shape.sensitive && !SHOWN_THOUGH_SENSITIVE.contains(&shape_name)
}

fn check(c: &Compiled, shape_name: &str, value: Option<&Value>, path: &str, errors: &mut Errors) {
    let Some(shape) = c.model.shapes.get(shape_name) else {
        return;
    };
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return;
    };
    // The value as AWS shows it, unless the shape is sensitive.
    let shown = |text: String| (!hidden(shape_name, shape)).then_some(text);
    match shape.kind.as_str() {
        "structure" => {
            let Some(obj) = value.as_object() else { return };
            for (member, target) in &shape.members {
                let child = join(path, member);
                match obj.get(member).filter(|v| !v.is_null()) {
                    None if shape.required.contains(member) => errors.push((
                        child.clone(),
                        format!(
                            "Value null at '{child}' failed to satisfy constraint: Member must not be null"
                        ),
                    )),
                    None => {}
                    Some(v) => check(c, target, Some(v), &child, errors),
                }
            }
        }
        "string" | "integer" | "long" => {
            let text = match value {
                Value::String(v) => v.clone(),
                Value::Number(_) => number(value.as_f64().unwrap_or_default()),
                _ => return,
            };
            for failure in scalar_failures(c, shape_name, shape, value) {
                fail(errors, shown(text.clone()), path, failure);
            }
        }
        "list" => {
            let Some(items) = value.as_array() else {
                return;
            };
            let len = items.len() as f64;
            if let Some(min) = shape.min.filter(|m| len < *m) {
                fail(
                    errors,
                    shown(show(value)),
                    path,
                    format!(
                        "Member must have length greater than or equal to {}",
                        number(min)
                    ),
                );
            }
            if let Some(max) = shape.max.filter(|m| len > *m) {
                fail(
                    errors,
                    shown(show(value)),
                    path,
                    format!(
                        "Member must have length less than or equal to {}",
                        number(max)
                    ),
                );
            }
            let Some(member) = &shape.member else { return };
            let Some(member_shape) = c.model.shapes.get(member) else {
                return;
            };
            if matches!(member_shape.kind.as_str(), "string" | "integer" | "long") {
                // A list of scalars: one failure for the list that names every
                // constraint of its members, as AWS words it (captured:
                // `Member must satisfy constraint: [Member must have length
                // less than or equal to 1024, Member must have length greater
                // than or equal to 1, Member must satisfy regular expression
                // pattern: ...]`, or `[Member must satisfy enum value set: [...]]`).
                let broken = items
                    .iter()
                    .any(|item| !scalar_failures(c, member, member_shape, item).is_empty());
                if broken {
                    let inner = scalar_constraints(member_shape);
                    let shown_list =
                        (!member_shape.sensitive && !shape.sensitive).then(|| show(value));
                    fail(
                        errors,
                        shown_list,
                        path,
                        format!("Member must satisfy constraint: [{}]", inner.join(", ")),
                    );
                }
            } else {
                for (i, item) in items.iter().enumerate() {
                    check(
                        c,
                        member,
                        Some(item),
                        &format!("{path}.{}.member", i + 1),
                        errors,
                    );
                }
            }
        }
        "map" => {
            let Some(entries) = value.as_object() else {
                return;
            };
            let len = entries.len() as f64;
            if let Some(max) = shape.max.filter(|m| len > *m) {
                fail(
                    errors,
                    None,
                    path,
                    format!(
                        "Member must have length less than or equal to {}",
                        number(max)
                    ),
                );
            }
            let part = |which: &Option<String>,
                        label: &str,
                        pick: &dyn Fn(&String, &Value) -> Value,
                        errors: &mut Errors| {
                let Some(name) = which else { return };
                let Some(part_shape) = c.model.shapes.get(name) else {
                    return;
                };
                if !matches!(part_shape.kind.as_str(), "string" | "integer" | "long") {
                    return;
                }
                let broken = entries
                    .iter()
                    .any(|(k, v)| !scalar_failures(c, name, part_shape, &pick(k, v)).is_empty());
                if broken {
                    let sensitive = shape.sensitive || part_shape.sensitive;
                    fail(
                        errors,
                        (!sensitive).then(|| show(value)),
                        path,
                        format!(
                            "{label} must satisfy constraint: [{}]",
                            scalar_constraints(part_shape).join(", ")
                        ),
                    );
                }
            };
            part(
                &shape.key,
                "Map key",
                &|k, _| Value::String(k.clone()),
                errors,
            );
            part(&shape.value, "Map value", &|_, v| v.clone(), errors);
            if let Some(value_shape) = &shape.value {
                if c.model
                    .shapes
                    .get(value_shape)
                    .is_some_and(|s| s.kind == "structure")
                {
                    for (k, v) in entries {
                        check(c, value_shape, Some(v), &format!("{path}.{k}"), errors);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(op: &str, body: Value) -> Option<String> {
        validate(op, body.to_string().as_bytes())
            .err()
            .map(|e| e.message)
    }

    #[test]
    fn the_model_loads_and_every_pattern_compiles() {
        let c = compiled().expect("model.json loads");
        assert!(c.model.operations.len() > 100);
        for (pattern, re) in &c.patterns {
            assert!(re.is_some(), "pattern {pattern} does not compile");
        }
    }

    #[test]
    fn constraints_in_aws_words() {
        assert_eq!(
            message("SetUserPoolMfaConfig", serde_json::json!({"UserPoolId": "us-east-1_abc", "MfaConfiguration": "false"})).as_deref(),
            Some("1 validation error detected: Value 'false' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OPTIONAL, OFF, ON]")
        );
        assert_eq!(
            message("CreateUserPool", serde_json::json!({"PoolName": "p", "Schema": [{"Name": "phone_number_verified_too_long_x"}]})).as_deref(),
            Some("1 validation error detected: Value 'phone_number_verified_too_long_x' at 'schema.1.member.name' failed to satisfy constraint: Member must have length less than or equal to 20")
        );
        let two = message(
            "ListUsers",
            serde_json::json!({"UserPoolId": "bad id", "Limit": 100}),
        )
        .unwrap_or_default();
        assert!(two.starts_with("2 validation errors detected: "), "{two}");
        assert_eq!(
            message("DescribeUserPool", serde_json::json!({})).as_deref(),
            Some("1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null")
        );
    }

    #[test]
    fn aws_captured_forms() {
        // The form of a captured SignUp answer (its model had a minimum
        // password length; today's has none): paths in order, length before
        // pattern, no values of sensitive members.
        assert_eq!(
            message("SignUp", serde_json::json!({"ClientId": "c", "Username": "", "Password": ""})).as_deref(),
            Some("3 validation errors detected: Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+; Value at 'username' failed to satisfy constraint: Member must have length greater than or equal to 1; Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+")
        );
        // A list of enum values is judged whole, as in a captured answer.
        let m = message("CreateUserPoolClient", serde_json::json!({"UserPoolId": "us-east-1_abc", "ClientName": "c", "ExplicitAuthFlows": ["ADMIN_USER_PASSWORD_AUTH"]})).unwrap_or_default();
        assert!(m.starts_with("1 validation error detected: Value '[ADMIN_USER_PASSWORD_AUTH]' at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: ["), "{m}");
    }

    #[test]
    fn sensitive_values_are_not_echoed() {
        let m = message(
            "SignUp",
            serde_json::json!({"ClientId": "c", "Username": "u", "Password": " Leaked"}),
        )
        .unwrap_or_default();
        assert!(!m.contains("Leaked"), "{m}");
        assert!(m.contains("Value at 'password'"), "{m}");
    }

    #[test]
    fn a_password_may_hold_a_space_that_neither_leads_nor_trails() {
        let signup = |password: &str| {
            message(
                "SignUp",
                serde_json::json!({"ClientId": "c", "Username": "u", "Password": password}),
            )
        };
        assert_eq!(signup("Pass w0rd!"), None);
        assert_eq!(signup("x"), None);
        for bad in [" Passw0rd!", "Passw0rd! ", " ", ""] {
            assert_eq!(
                signup(bad).as_deref(),
                Some("1 validation error detected: Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn java_classes_are_ascii_and_anchored() {
        let re = java_regex("[\\w-]+_[0-9a-zA-Z]+").expect("compiles");
        assert!(re.is_match("us-east-1_abc"));
        assert!(!re.is_match("us-east-1_abc def"));
        assert!(!re.is_match("é_x"));
    }
}

//! Pool schemas: the standard attribute set, custom attributes, and the
//! checks an attribute list must pass on sign-up and user creation.

use crate::error::Error;
use crate::model::{Attribute, AttributeDataType, SchemaAttribute, UserPool};

/// Standard attributes and their (type, mutable, required) defaults.
const STANDARD: &[(&str, AttributeDataType)] = &[
    ("sub", AttributeDataType::String),
    ("name", AttributeDataType::String),
    ("given_name", AttributeDataType::String),
    ("family_name", AttributeDataType::String),
    ("middle_name", AttributeDataType::String),
    ("nickname", AttributeDataType::String),
    ("preferred_username", AttributeDataType::String),
    ("profile", AttributeDataType::String),
    ("picture", AttributeDataType::String),
    ("website", AttributeDataType::String),
    ("email", AttributeDataType::String),
    ("email_verified", AttributeDataType::Boolean),
    ("gender", AttributeDataType::String),
    ("birthdate", AttributeDataType::String),
    ("zoneinfo", AttributeDataType::String),
    ("locale", AttributeDataType::String),
    ("phone_number", AttributeDataType::String),
    ("phone_number_verified", AttributeDataType::Boolean),
    ("address", AttributeDataType::String),
    ("updated_at", AttributeDataType::Number),
];

pub fn is_standard(name: &str) -> bool {
    STANDARD.iter().any(|(n, _)| *n == name)
}

fn standard_attribute(name: &str, data_type: AttributeDataType) -> SchemaAttribute {
    let (min_length, max_length, min_value) = match (name, data_type) {
        ("sub", _) => (Some("1"), Some("2048"), None),
        ("birthdate", _) => (Some("10"), Some("10"), None),
        (_, AttributeDataType::String) => (Some("0"), Some("2048"), None),
        (_, AttributeDataType::Number) => (None, None, Some("0")),
        _ => (None, None, None),
    };
    SchemaAttribute {
        name: name.to_owned(),
        data_type,
        developer_only: false,
        mutable: name != "sub",
        required: name == "sub",
        min_length: min_length.map(str::to_owned),
        max_length: max_length.map(str::to_owned),
        min_value: min_value.map(str::to_owned),
        max_value: None,
    }
}

/// A schema entry as a creator supplies it (CreateUserPool `Schema`,
/// AddCustomAttributes): name without `custom:`, everything optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaInput {
    pub name: String,
    pub data_type: Option<AttributeDataType>,
    pub developer_only: Option<bool>,
    pub mutable: Option<bool>,
    pub required: Option<bool>,
    pub min_length: Option<String>,
    pub max_length: Option<String>,
    pub min_value: Option<String>,
    pub max_value: Option<String>,
}

/// The full schema of a new pool: the standard set adjusted by `inputs`, then custom attributes.
pub fn build_schema(inputs: &[SchemaInput]) -> Result<Vec<SchemaAttribute>, Error> {
    let mut schema: Vec<SchemaAttribute> = STANDARD
        .iter()
        .map(|(n, t)| standard_attribute(n, *t))
        .collect();
    let mut custom = Vec::new();
    for input in inputs {
        if let Some(existing) = schema.iter_mut().find(|a| a.name == input.name) {
            if input.data_type.is_some_and(|t| t != existing.data_type)
                || input.developer_only == Some(true)
            {
                return Err(Error::invalid_parameter(format!(
                    "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {}",
                    input.name
                )));
            }
            if input.name == "sub" {
                continue;
            }
            if let Some(r) = input.required {
                existing.required = r;
            }
            if let Some(m) = input.mutable {
                existing.mutable = m;
            }
            if input.min_length.is_some() {
                existing.min_length = input.min_length.clone();
            }
            if input.max_length.is_some() {
                existing.max_length = input.max_length.clone();
            }
            continue;
        }
        custom.push(custom_attribute(input)?);
    }
    let mut seen = std::collections::HashSet::new();
    for a in &custom {
        if !seen.insert(a.name.clone()) {
            return Err(Error::invalid_parameter(format!(
                "Duplicate attribute name: {}",
                a.name
            )));
        }
    }
    if custom.len() > 50 {
        return Err(Error::invalid_parameter(
            "A user pool can have at most 50 custom attributes.",
        ));
    }
    schema.extend(custom);
    Ok(schema)
}

/// A custom attribute from its input (name gets `custom:` or `dev:custom:`).
pub fn custom_attribute(input: &SchemaInput) -> Result<SchemaAttribute, Error> {
    let bare = input
        .name
        .strip_prefix("custom:")
        .unwrap_or(&input.name)
        .to_owned();
    if bare.is_empty() || bare.chars().count() > 20 {
        return Err(Error::invalid_parameter(format!(
            "Custom attribute name {} must be 1 to 20 characters long.",
            input.name
        )));
    }
    if input.required == Some(true) {
        return Err(Error::invalid_parameter(
            "Required custom attributes are not supported currently.",
        ));
    }
    let data_type = input.data_type.unwrap_or(AttributeDataType::String);
    let developer_only = input.developer_only.unwrap_or(false);
    let name = if developer_only {
        format!("dev:custom:{bare}")
    } else {
        format!("custom:{bare}")
    };
    let is_string = data_type == AttributeDataType::String;
    let is_number = data_type == AttributeDataType::Number;
    Ok(SchemaAttribute {
        name,
        data_type,
        developer_only,
        mutable: input.mutable.unwrap_or(true),
        required: false,
        min_length: if is_string {
            input.min_length.clone().or(Some("0".into()))
        } else {
            None
        },
        max_length: if is_string {
            input.max_length.clone().or(Some("2048".into()))
        } else {
            None
        },
        min_value: if is_number {
            input.min_value.clone()
        } else {
            None
        },
        max_value: if is_number {
            input.max_value.clone()
        } else {
            None
        },
    })
}

const EMAIL_MAX: usize = 2048;

/// Whether `value` looks like an email address (one `@`, text on both sides, a dot in the domain).
pub fn looks_like_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.chars().any(char::is_whitespace)
                && value.len() <= EMAIL_MAX
        }
        None => false,
    }
}

/// Whether `value` is an E.164 phone number (`+` then 1..15 digits).
pub fn looks_like_phone(value: &str) -> bool {
    match value.strip_prefix('+') {
        Some(digits) => {
            (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Checks attributes a caller supplies against the pool's schema: known
/// names, types, lengths and formats. `admin` allows developer-only attributes.
pub fn validate_attributes(
    pool: &UserPool,
    attributes: &[Attribute],
    admin: bool,
) -> Result<(), Error> {
    for attr in attributes {
        if attr.name == "sub" {
            return Err(Error::invalid_parameter(
                "Attributes did not conform to the schema: sub: cannot modify an immutable attribute",
            ));
        }
        let Some(def) = pool.schema_attribute(&attr.name) else {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{}}} could not be determined",
                attr.name
            )));
        };
        if def.developer_only && !admin {
            return Err(Error::not_authorized(
                "A client attempted to write unauthorized attribute",
            ));
        }
        if attr.value.len() > 2048 {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {}: String must be no longer than 2048 characters",
                attr.name
            )));
        }
        match def.data_type {
            AttributeDataType::Boolean => {
                if attr.value != "true" && attr.value != "false" {
                    return Err(Error::invalid_parameter(format!(
                        "Attributes did not conform to the schema: {}: Boolean value must be 'true' or 'false'",
                        attr.name
                    )));
                }
            }
            AttributeDataType::Number => {
                let Ok(n) = attr.value.parse::<f64>() else {
                    return Err(Error::invalid_parameter(format!(
                        "Attributes did not conform to the schema: {}: Number must be a number",
                        attr.name
                    )));
                };
                let min = def.min_value.as_deref().and_then(|v| v.parse::<f64>().ok());
                let max = def.max_value.as_deref().and_then(|v| v.parse::<f64>().ok());
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    return Err(Error::invalid_parameter(format!(
                        "Attributes did not conform to the schema: {}: Number is out of range",
                        attr.name
                    )));
                }
            }
            AttributeDataType::String | AttributeDataType::DateTime => {
                let len = attr.value.chars().count();
                let min = def
                    .min_length
                    .as_deref()
                    .and_then(|v| v.parse::<usize>().ok());
                let max = def
                    .max_length
                    .as_deref()
                    .and_then(|v| v.parse::<usize>().ok());
                if min.is_some_and(|m| len < m) && !attr.value.is_empty() {
                    return Err(Error::invalid_parameter(format!(
                        "Attributes did not conform to the schema: {}: String must be at least {} characters long",
                        attr.name,
                        min.unwrap_or(0)
                    )));
                }
                if max.is_some_and(|m| len > m) {
                    return Err(Error::invalid_parameter(format!(
                        "Attributes did not conform to the schema: {}: String must be no longer than {} characters",
                        attr.name,
                        max.unwrap_or(0)
                    )));
                }
            }
        }
        if attr.name == "email" && !looks_like_email(&attr.value) {
            return Err(Error::invalid_parameter("Invalid email address format."));
        }
        if attr.name == "phone_number" && !looks_like_phone(&attr.value) {
            return Err(Error::invalid_parameter("Invalid phone number format."));
        }
    }
    Ok(())
}

/// Checks that every required attribute has a value in `attributes`.
pub fn check_required(pool: &UserPool, attributes: &[Attribute]) -> Result<(), Error> {
    let missing: Vec<String> = pool
        .schema
        .iter()
        .filter(|a| a.required && a.name != "sub")
        .filter(|a| {
            !attributes
                .iter()
                .any(|x| x.name == a.name && !x.value.is_empty())
        })
        .map(|a| format!("{}: The attribute is required", a.name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_parameter(format!(
            "Attributes did not conform to the schema: {}",
            missing.join(" ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_schema_and_custom_attributes() {
        let schema = build_schema(&[
            SchemaInput {
                name: "email".into(),
                required: Some(true),
                ..Default::default()
            },
            SchemaInput {
                name: "team".into(),
                data_type: Some(AttributeDataType::String),
                ..Default::default()
            },
        ])
        .unwrap();
        let email = schema.iter().find(|a| a.name == "email").unwrap();
        assert!(email.required && email.mutable);
        assert!(schema.iter().any(|a| a.name == "custom:team"));
        assert_eq!(schema.iter().filter(|a| a.name == "sub").count(), 1);
        assert!(build_schema(&[SchemaInput {
            name: "x".into(),
            required: Some(true),
            ..Default::default()
        }])
        .is_err());
    }

    #[test]
    fn formats() {
        assert!(looks_like_email("a@b.c"));
        assert!(!looks_like_email("joe_bloggs"));
        assert!(looks_like_phone("+14325551212"));
        assert!(!looks_like_phone("14325551212"));
    }
}

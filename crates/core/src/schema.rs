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

/// The type of a standard attribute.
pub fn standard_type(name: &str) -> Option<AttributeDataType> {
    STANDARD.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
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
        number_constraints_given: false,
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
    /// Whether NumberAttributeConstraints was in the request (even empty).
    pub number_constraints: bool,
}

/// The full schema of a new pool: the standard set adjusted by `inputs`, then custom attributes.
pub fn build_schema(inputs: &[SchemaInput]) -> Result<Vec<SchemaAttribute>, Error> {
    let mut schema: Vec<SchemaAttribute> = STANDARD
        .iter()
        .map(|(n, t)| standard_attribute(n, *t))
        .collect();
    let mut custom: Vec<SchemaAttribute> = Vec::new();
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
            // Cognito reads a standard attribute's constraints only when the
            // entry names its AttributeDataType; given ones replace the defaults.
            if input.data_type.is_some() {
                apply_constraints(existing, input)?;
            }
            continue;
        }
        let attr = custom_attribute(input)?;
        if let Some(other) = custom
            .iter()
            .find(|a| bare_custom(&a.name) == bare_custom(&attr.name))
        {
            return Err(existing_attribute(&attr, other));
        }
        custom.push(attr);
    }
    if custom.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(too_many_custom_attributes());
    }
    schema.extend(custom);
    Ok(schema)
}

/// At most this many custom attributes per pool.
pub const MAX_CUSTOM_ATTRIBUTES: usize = 50;

fn too_many_custom_attributes() -> Error {
    Error::invalid_parameter("A user pool can have at most 50 custom attributes.")
}

/// `custom:x` and `dev:custom:x` name the same attribute `x`.
fn bare_custom(name: &str) -> &str {
    let name = name.strip_prefix("dev:").unwrap_or(name);
    name.strip_prefix("custom:").unwrap_or(name)
}

/// Cognito's answer for a custom attribute whose name is taken.
fn existing_attribute(new: &SchemaAttribute, existing: &SchemaAttribute) -> Error {
    Error::invalid_parameter(format!(
        "custom:{}: Existing attribute already has name {}.",
        bare_custom(&new.name),
        existing.name
    ))
}

/// The custom attributes AddCustomAttributes adds to `current`: each
/// checked as CreateUserPool checks one, none named like an attribute the
/// pool has, and at most [`MAX_CUSTOM_ATTRIBUTES`] in all.
pub fn add_custom_attributes(
    current: &[SchemaAttribute],
    inputs: &[SchemaInput],
) -> Result<Vec<SchemaAttribute>, Error> {
    let mut added: Vec<SchemaAttribute> = Vec::new();
    for input in inputs {
        let attr = custom_attribute(input)?;
        let taken = current
            .iter()
            .filter(|a| a.name.starts_with("custom:") || a.name.starts_with("dev:custom:"))
            .chain(added.iter())
            .find(|a| bare_custom(&a.name) == bare_custom(&attr.name));
        if let Some(other) = taken {
            return Err(existing_attribute(&attr, other));
        }
        added.push(attr);
    }
    let existing_custom = current
        .iter()
        .filter(|a| a.name.starts_with("custom:") || a.name.starts_with("dev:custom:"))
        .count();
    if existing_custom + added.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(too_many_custom_attributes());
    }
    Ok(added)
}

/// A constraint number as Cognito accepts it: a non-negative integer.
fn limit(value: Option<&String>, kind: &str, name: &str) -> Result<Option<u64>, Error> {
    match value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            Error::invalid_parameter(format!("Invalid {kind} for schema attribute {name}"))
        }),
    }
}

/// Checks the constraints an entry gives for its type and sets them on
/// `attr` (replacing what it had): string lengths are numbers of at most
/// 2048 with min <= max, number bounds are numbers with min <= max.
fn apply_constraints(attr: &mut SchemaAttribute, input: &SchemaInput) -> Result<(), Error> {
    match attr.data_type {
        AttributeDataType::String => {
            if input.min_length.is_none() && input.max_length.is_none() {
                return Ok(());
            }
            let kind = "StringAttributeConstraints";
            let min = limit(input.min_length.as_ref(), kind, &attr.name)?;
            let max = limit(input.max_length.as_ref(), kind, &attr.name)?;
            if min.is_some_and(|n| n > 2048) || max.is_some_and(|n| n > 2048) {
                return Err(Error::invalid_parameter(format!(
                    "user.{}: String attributes cannot have a length of more than 2048",
                    attr.name
                )));
            }
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    return Err(Error::invalid_parameter(format!(
                        "user.{}: Max length cannot be less than min length.",
                        attr.name
                    )));
                }
            }
            attr.min_length = input.min_length.clone();
            attr.max_length = input.max_length.clone();
        }
        AttributeDataType::Number => {
            if input.min_value.is_none() && input.max_value.is_none() {
                return Ok(());
            }
            let kind = "NumberAttributeConstraints";
            let min = limit(input.min_value.as_ref(), kind, &attr.name)?;
            let max = limit(input.max_value.as_ref(), kind, &attr.name)?;
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    return Err(Error::invalid_parameter(format!(
                        "user.{}: Max value cannot be less than min value.",
                        attr.name
                    )));
                }
            }
            attr.min_value = input.min_value.clone();
            attr.max_value = input.max_value.clone();
        }
        AttributeDataType::Boolean | AttributeDataType::DateTime => {}
    }
    Ok(())
}

/// A custom attribute from its input: the name is given `custom:` (and
/// `dev:` for a developer-only attribute) as Cognito does, even when it
/// already starts with `custom:`; only the constraints given are kept.
pub fn custom_attribute(input: &SchemaInput) -> Result<SchemaAttribute, Error> {
    let Some(data_type) = input.data_type else {
        return Err(Error::invalid_parameter(
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
        ));
    };
    if input.name.is_empty() || input.name.chars().count() > 20 {
        return Err(Error::invalid_parameter(format!(
            "Custom attribute name {} must be 1 to 20 characters long.",
            input.name
        )));
    }
    let developer_only = input.developer_only.unwrap_or(false);
    let name = if developer_only {
        format!("dev:custom:{}", input.name)
    } else {
        format!("custom:{}", input.name)
    };
    if input.required == Some(true) {
        return Err(Error::invalid_parameter(
            "Required custom attributes are not supported currently.",
        ));
    }
    let mut attr = SchemaAttribute {
        name,
        data_type,
        developer_only,
        mutable: input.mutable.unwrap_or(true),
        required: false,
        min_length: None,
        max_length: None,
        min_value: None,
        max_value: None,
        number_constraints_given: data_type == AttributeDataType::Number
            && input.number_constraints,
    };
    apply_constraints(&mut attr, input)?;
    Ok(attr)
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

/// The attributes with Boolean values spelled as Cognito stores them:
/// `True`, `TRUE`, `False`, ... (any case) become `true` / `false`.
pub fn normalized(pool: &UserPool, attributes: &[Attribute]) -> Vec<Attribute> {
    attributes
        .iter()
        .map(|a| {
            let boolean = pool
                .schema_attribute(&a.name)
                .is_some_and(|d| d.data_type == AttributeDataType::Boolean);
            let value = if boolean && a.value.eq_ignore_ascii_case("true") {
                "true".to_owned()
            } else if boolean && a.value.eq_ignore_ascii_case("false") {
                "false".to_owned()
            } else {
                a.value.clone()
            };
            Attribute::new(a.name.clone(), value)
        })
        .collect()
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
                if !attr.value.eq_ignore_ascii_case("true")
                    && !attr.value.eq_ignore_ascii_case("false")
                {
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

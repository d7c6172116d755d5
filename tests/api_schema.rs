//! Pool schemas and the defaults of new pools and clients, over HTTP against
//! the real server: CreateUserPool `Schema`, AddCustomAttributes, Boolean
//! attribute spellings, DeleteUserAttributes of unknown names, app clients'
//! ReadAttributes / WriteAttributes, and the members DescribeUserPool and
//! DescribeUserPoolClient report for a bare pool and client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{attr, Server};
use serde_json::{json, Value};

fn schema_attr<'a>(pool: &'a Value, name: &str) -> Option<&'a Value> {
    pool["SchemaAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
}

fn create_err(s: &Server, schema: Value, message: &str) {
    s.err_msg(
        "CreateUserPool",
        json!({"PoolName": "p", "Schema": schema}),
        "InvalidParameterException",
        message,
    );
}

#[test]
fn custom_attributes_need_a_data_type_and_keep_only_the_constraints_given() {
    let s = Server::start();
    create_err(
        &s,
        json!([{"Name": "team"}]),
        "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
    );
    create_err(
        &s,
        json!([{"Name": "team", "AttributeDataType": "String", "Required": true}]),
        "Required custom attributes are not supported currently.",
    );
    let v = s.ok(
        "CreateUserPool",
        json!({"PoolName": "p", "Schema": [
            {"Name": "team", "AttributeDataType": "String"},
            {"Name": "short", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "10"}},
            {"Name": "age", "AttributeDataType": "Number"},
            {"Name": "level", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "5"}},
            {"Name": "flag", "AttributeDataType": "Boolean", "StringAttributeConstraints": {"MaxLength": "10"}},
            {"Name": "secret", "AttributeDataType": "String", "DeveloperOnlyAttribute": true},
            {"Name": "locked", "AttributeDataType": "String", "Mutable": false}
        ]}),
    );
    let p = &v["UserPool"];
    let team = schema_attr(p, "custom:team").unwrap();
    assert_eq!(team["StringAttributeConstraints"], json!({}), "{team}");
    assert_eq!(team["Mutable"], true);
    assert_eq!(team["Required"], false);
    assert_eq!(team["DeveloperOnlyAttribute"], false);
    let short = schema_attr(p, "custom:short").unwrap();
    assert_eq!(
        short["StringAttributeConstraints"],
        json!({"MaxLength": "10"})
    );
    let age = schema_attr(p, "custom:age").unwrap();
    assert!(age.get("NumberAttributeConstraints").is_none(), "{age}");
    assert!(age.get("StringAttributeConstraints").is_none(), "{age}");
    let level = schema_attr(p, "custom:level").unwrap();
    assert_eq!(
        level["NumberAttributeConstraints"],
        json!({"MinValue": "1", "MaxValue": "5"})
    );
    let flag = schema_attr(p, "custom:flag").unwrap();
    assert!(flag.get("StringAttributeConstraints").is_none(), "{flag}");
    let secret = schema_attr(p, "dev:custom:secret").unwrap();
    assert_eq!(secret["DeveloperOnlyAttribute"], true);
    assert_eq!(schema_attr(p, "custom:locked").unwrap()["Mutable"], false);
    // DescribeUserPool says the same.
    let id = p["Id"].as_str().unwrap();
    let d = s.ok("DescribeUserPool", json!({"UserPoolId": id}));
    assert_eq!(
        schema_attr(&d["UserPool"], "custom:team").unwrap(),
        team,
        "{d}"
    );
}

#[test]
fn constraints_are_checked_for_standard_and_custom_attributes() {
    let s = Server::start();
    for (schema, message) in [
        (
            json!([{"Name": "email", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "x"}}]),
            "Invalid StringAttributeConstraints for schema attribute email",
        ),
        (
            json!([{"Name": "team", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "ten"}}]),
            "Invalid StringAttributeConstraints for schema attribute custom:team",
        ),
        (
            json!([{"Name": "updated_at", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MaxValue": "many"}}]),
            "Invalid NumberAttributeConstraints for schema attribute updated_at",
        ),
        (
            json!([{"Name": "age", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "-1"}}]),
            "Invalid NumberAttributeConstraints for schema attribute custom:age",
        ),
        (
            json!([{"Name": "email", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "2049"}}]),
            "user.email: String attributes cannot have a length of more than 2048",
        ),
        (
            json!([{"Name": "team", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "2049"}}]),
            "user.custom:team: String attributes cannot have a length of more than 2048",
        ),
        (
            json!([{"Name": "email", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "2", "MaxLength": "1"}}]),
            "user.email: Max length cannot be less than min length.",
        ),
        (
            json!([{"Name": "updated_at", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "2", "MaxValue": "1"}}]),
            "user.updated_at: Max value cannot be less than min value.",
        ),
        (
            json!([{"Name": "level", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "9", "MaxValue": "3"}}]),
            "user.custom:level: Max value cannot be less than min value.",
        ),
        (
            json!([{"Name": "email", "AttributeDataType": "Number"}]),
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email",
        ),
    ] {
        create_err(&s, schema, message);
    }
    // The boundaries are accepted, and standard constraints replace the defaults.
    let v = s.ok(
        "CreateUserPool",
        json!({"PoolName": "p", "Schema": [
            {"Name": "given_name", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "2", "MaxLength": "2048"}},
            {"Name": "updated_at", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "5", "MaxValue": "5"}},
            {"Name": "team", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "0"}}
        ]}),
    );
    let p = &v["UserPool"];
    assert_eq!(
        schema_attr(p, "given_name").unwrap()["StringAttributeConstraints"],
        json!({"MinLength": "2", "MaxLength": "2048"})
    );
    assert_eq!(
        schema_attr(p, "updated_at").unwrap()["NumberAttributeConstraints"],
        json!({"MinValue": "5", "MaxValue": "5"})
    );
    // Untouched standard attributes keep Cognito's defaults.
    assert_eq!(
        schema_attr(p, "birthdate").unwrap()["StringAttributeConstraints"],
        json!({"MinLength": "10", "MaxLength": "10"})
    );
    assert_eq!(
        schema_attr(p, "sub").unwrap()["StringAttributeConstraints"],
        json!({"MinLength": "1", "MaxLength": "2048"})
    );
    assert!(schema_attr(p, "email_verified")
        .unwrap()
        .get("StringAttributeConstraints")
        .is_none());
    // A standard attribute's number constraints are enforced on users.
    let id = p["Id"].as_str().unwrap();
    let m = s.err(
        "AdminCreateUser",
        json!({"UserPoolId": id, "Username": "u", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "updated_at", "Value": "4"}]}),
        "InvalidParameterException",
    );
    assert!(m.contains("updated_at"), "{m}");
    let m = s.err(
        "AdminCreateUser",
        json!({"UserPoolId": id, "Username": "u", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "given_name", "Value": "A"}]}),
        "InvalidParameterException",
    );
    assert!(m.contains("given_name"), "{m}");
}

#[test]
fn list_member_paths_carry_their_one_based_index() {
    let s = Server::start();
    create_err(
        &s,
        json!([{"Name": "a", "AttributeDataType": "String"}, {"Name": "b", "AttributeDataType": "Banana"}]),
        "1 validation error detected: Value 'Banana' at 'schema.2.member.attributeDataType' failed to satisfy constraint: Member must satisfy enum value set: [Number, String, Boolean, DateTime]",
    );
    let pool = s.create_pool("p", json!({}));
    let long = "n".repeat(33);
    s.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "u",
               "UserAttributes": [{"Name": "email", "Value": "a@b.co"}, {"Name": long, "Value": "x"}]}),
        "InvalidParameterException",
        &format!("1 validation error detected: Value '{long}' at 'userAttributes.2.member.name' failed to satisfy constraint: Member must have length less than or equal to 32"),
    );
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "x".repeat(21), "AttributeDataType": "String"}]}),
        "InvalidParameterException",
        &format!("1 validation error detected: Value '{}' at 'customAttributes.1.member.name' failed to satisfy constraint: Member must have length less than or equal to 20", "x".repeat(21)),
    );
}

#[test]
fn add_custom_attributes() {
    let s = Server::start();
    let pool = s.create_pool(
        "p",
        json!({"Schema": [{"Name": "team", "AttributeDataType": "String", "DeveloperOnlyAttribute": true}]}),
    );
    let before = s.ok("DescribeUserPool", json!({"UserPoolId": pool}))["UserPool"].clone();
    assert_eq!(
        s.ok(
            "AddCustomAttributes",
            json!({"UserPoolId": pool, "CustomAttributes": [
                {"Name": "level", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MaxValue": "9"}},
                {"Name": "custom:nick", "AttributeDataType": "String"}
            ]}),
        ),
        json!({})
    );
    let p = s.ok("DescribeUserPool", json!({"UserPoolId": pool}))["UserPool"].clone();
    assert_eq!(
        schema_attr(&p, "custom:level").unwrap()["NumberAttributeConstraints"],
        json!({"MaxValue": "9"})
    );
    // The name always gets `custom:`, as Cognito does.
    assert!(schema_attr(&p, "custom:custom:nick").is_some(), "{p}");
    assert_eq!(
        p["SchemaAttributes"].as_array().unwrap().len(),
        before["SchemaAttributes"].as_array().unwrap().len() + 2
    );
    // The attribute is usable at once.
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "u", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "custom:level", "Value": "3"}]}),
    );
    // A taken name, developer-only or not.
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "team", "AttributeDataType": "String"}]}),
        "InvalidParameterException",
        "custom:team: Existing attribute already has name dev:custom:team.",
    );
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "level", "AttributeDataType": "String"}]}),
        "InvalidParameterException",
        "custom:level: Existing attribute already has name custom:level.",
    );
    // The same rules as CreateUserPool.
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "x"}]}),
        "InvalidParameterException",
        "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
    );
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "x", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "5", "MaxLength": "4"}}]}),
        "InvalidParameterException",
        "user.custom:x: Max length cannot be less than min length.",
    );
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "x", "AttributeDataType": "String", "Required": true}]}),
        "InvalidParameterException",
        "Required custom attributes are not supported currently.",
    );
    // Nothing of a refused call is added.
    let after = s.ok("DescribeUserPool", json!({"UserPoolId": pool}))["UserPool"].clone();
    assert!(schema_attr(&after, "custom:x").is_none());
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": "us-east-1_NoSuchPool1", "CustomAttributes": [{"Name": "x", "AttributeDataType": "String"}]}),
        "ResourceNotFoundException",
        "User pool us-east-1_NoSuchPool1 does not exist.",
    );
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": []}),
        "InvalidParameterException",
        "1 validation error detected: Value '[]' at 'customAttributes' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
}

#[test]
fn at_most_fifty_custom_attributes() {
    let s = Server::start();
    let first: Vec<Value> = (0..25)
        .map(|i| json!({"Name": format!("a{i}"), "AttributeDataType": "String"}))
        .collect();
    let second: Vec<Value> = (0..25)
        .map(|i| json!({"Name": format!("b{i}"), "AttributeDataType": "String"}))
        .collect();
    let pool = s.create_pool("p", json!({"Schema": first}));
    s.ok(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": second}),
    );
    s.err_msg(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "c", "AttributeDataType": "String"}]}),
        "InvalidParameterException",
        "A user pool can have at most 50 custom attributes.",
    );
}

#[test]
fn boolean_attributes_accept_any_case_and_are_stored_lowercase() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, common::password_flows());
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "u", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "u@example.com"},
                                  {"Name": "email_verified", "Value": "True"}]}),
    );
    let u = s.ok("AdminGetUser", json!({"UserPoolId": pool, "Username": "u"}));
    assert_eq!(attr(&u["UserAttributes"], "email_verified"), Some("true"));
    s.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "u",
               "UserAttributes": [{"Name": "phone_number", "Value": "+15555550100"},
                                  {"Name": "phone_number_verified", "Value": "TRUE"},
                                  {"Name": "email_verified", "Value": "FALSE"}]}),
    );
    let u = s.ok("AdminGetUser", json!({"UserPoolId": pool, "Username": "u"}));
    assert_eq!(
        attr(&u["UserAttributes"], "phone_number_verified"),
        Some("true")
    );
    assert_eq!(attr(&u["UserAttributes"], "email_verified"), Some("false"));
    let m = s.err(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "u",
               "UserAttributes": [{"Name": "email_verified", "Value": "yes"}]}),
        "InvalidParameterException",
    );
    assert!(m.contains("email_verified"), "{m}");
    // SignUp accepts the spelling too (the flag itself is not taken from a sign-up).
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "v", "Password": common::PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "v@example.com"},
                                  {"Name": "email_verified", "Value": "tRuE"}]}),
    );
}

#[test]
fn deleting_unknown_attributes_names_every_one() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, common::password_flows());
    s.admin_user(
        &pool,
        "u",
        json!([{"Name": "email", "Value": "u@example.com"}, {"Name": "name", "Value": "U"}]),
    );
    s.err_msg(
        "AdminDeleteUserAttributes",
        json!({"UserPoolId": pool, "Username": "u",
               "UserAttributeNames": ["nope", "name", "custom:gone"]}),
        "InvalidParameterException",
        "user.nope: Attribute does not exist in the schema.\nuser.custom:gone: Attribute does not exist in the schema.\n",
    );
    // Nothing was deleted.
    let u = s.ok("AdminGetUser", json!({"UserPoolId": pool, "Username": "u"}));
    assert_eq!(attr(&u["UserAttributes"], "name"), Some("U"));
    let token = s.login(&client, "u", common::PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    s.err_msg(
        "DeleteUserAttributes",
        json!({"AccessToken": token, "UserAttributeNames": ["x1"]}),
        "InvalidParameterException",
        "user.x1: Attribute does not exist in the schema.\n",
    );
}

#[test]
fn client_read_and_write_attributes_must_exist_in_the_pool() {
    let s = Server::start();
    let pool = s.create_pool(
        "p",
        json!({"Schema": [{"Name": "team", "AttributeDataType": "String"}]}),
    );
    s.err_msg(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "c", "ReadAttributes": ["email", "custom:nope"]}),
        "InvalidParameterException",
        "Invalid read attributes specified while creating a client",
    );
    s.err_msg(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "c", "WriteAttributes": ["shoe_size"]}),
        "InvalidParameterException",
        "Invalid write attributes specified while creating a client",
    );
    let c = s.create_client_full(
        &pool,
        json!({"ReadAttributes": ["email", "email_verified", "custom:team"], "WriteAttributes": ["email", "custom:team"]}),
    );
    // Cognito answers the set in a Java hash set's order.
    assert_eq!(
        c["ReadAttributes"],
        json!(["email_verified", "custom:team", "email"])
    );
    let id = c["ClientId"].as_str().unwrap();
    s.err_msg(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "ReadAttributes": ["custom:nope"]}),
        "InvalidParameterException",
        "Invalid read attributes specified while updating a client",
    );
    s.err_msg(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "WriteAttributes": ["custom:nope"]}),
        "InvalidParameterException",
        "Invalid write attributes specified while updating a client",
    );
    // An attribute added later can be granted.
    s.ok(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "nope", "AttributeDataType": "String"}]}),
    );
    s.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "ReadAttributes": ["custom:nope"]}),
    );
}

#[test]
fn a_bare_client_reports_what_cognito_reports() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let c = s.create_client_full(&pool, json!({}));
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec![
            "AllowedOAuthFlowsUserPoolClient",
            "AuthSessionValidity",
            "ClientId",
            "ClientName",
            "CreationDate",
            "EnablePropagateAdditionalUserContextData",
            "EnableTokenRevocation",
            "LastModifiedDate",
            "RefreshTokenValidity",
            "TokenValidityUnits",
            "UserPoolId",
        ],
        "{c}"
    );
    assert_eq!(c["RefreshTokenValidity"], 30);
    assert_eq!(c["TokenValidityUnits"], json!({}));
    assert_eq!(c["AllowedOAuthFlowsUserPoolClient"], false);
    assert_eq!(c["EnableTokenRevocation"], true);
    assert_eq!(c["EnablePropagateAdditionalUserContextData"], false);
    assert_eq!(c["AuthSessionValidity"], 3);
    let d = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": c["ClientId"]}),
    )["UserPoolClient"]
        .clone();
    assert_eq!(d, c);
    // Members given are reported.
    let c = s.create_client_full(&pool, json!({"PreventUserExistenceErrors": "LEGACY"}));
    assert_eq!(c["PreventUserExistenceErrors"], "LEGACY");
}

#[test]
fn a_bare_pool_reports_what_cognito_reports() {
    let s = Server::start();
    let v = s.ok("CreateUserPool", json!({"PoolName": "bare"}));
    let p = &v["UserPool"];
    let mut keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec![
            "AdminCreateUserConfig",
            "Arn",
            "CreationDate",
            "DeletionProtection",
            "EmailConfiguration",
            "EstimatedNumberOfUsers",
            "Id",
            "LambdaConfig",
            "LastModifiedDate",
            "MfaConfiguration",
            "Name",
            "Policies",
            "SchemaAttributes",
            "UserPoolTags",
            "UserPoolTier",
            "VerificationMessageTemplate",
        ],
        "{p}"
    );
    assert_eq!(
        p["Policies"],
        json!({"PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": true,
               "RequireLowercase": true, "RequireNumbers": true, "RequireSymbols": true,
               "TemporaryPasswordValidityDays": 7},
               "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}})
    );
    assert_eq!(
        p["AdminCreateUserConfig"],
        json!({"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7})
    );
    assert_eq!(
        p["VerificationMessageTemplate"],
        json!({"DefaultEmailOption": "CONFIRM_WITH_CODE"})
    );
    assert_eq!(
        p["EmailConfiguration"],
        json!({"EmailSendingAccount": "COGNITO_DEFAULT"})
    );
    assert_eq!(p["LambdaConfig"], json!({}));
    assert_eq!(p["UserPoolTags"], json!({}));
    assert_eq!(p["MfaConfiguration"], "OFF");
    assert_eq!(p["DeletionProtection"], "INACTIVE");
    assert_eq!(p["UserPoolTier"], "ESSENTIALS");
    assert_eq!(p["EstimatedNumberOfUsers"], 0);
    assert_eq!(p["SchemaAttributes"].as_array().unwrap().len(), 20);
    let id = p["Id"].as_str().unwrap();
    let d = s.ok("DescribeUserPool", json!({"UserPoolId": id}))["UserPool"].clone();
    assert_eq!(&d, p);
}

#[test]
fn verification_template_and_legacy_messages_mirror_each_other() {
    let s = Server::start();
    let v = s.ok(
        "CreateUserPool",
        json!({"PoolName": "p", "VerificationMessageTemplate": {
            "SmsMessage": "SMS {####}", "EmailMessage": "Mail {####}", "EmailSubject": "Subject"}}),
    );
    let p = &v["UserPool"];
    assert_eq!(p["SmsVerificationMessage"], "SMS {####}");
    assert_eq!(p["EmailVerificationMessage"], "Mail {####}");
    assert_eq!(p["EmailVerificationSubject"], "Subject");
    let id = p["Id"].as_str().unwrap();
    let d = s.ok("DescribeUserPool", json!({"UserPoolId": id}))["UserPool"].clone();
    assert_eq!(d["EmailVerificationMessage"], "Mail {####}");
    assert_eq!(
        d["VerificationMessageTemplate"]["EmailMessage"],
        "Mail {####}"
    );
    // The other way round.
    let v = s.ok(
        "CreateUserPool",
        json!({"PoolName": "q", "EmailVerificationMessage": "Legacy {####}",
               "EmailVerificationSubject": "Old"}),
    );
    let t = &v["UserPool"]["VerificationMessageTemplate"];
    assert_eq!(t["EmailMessage"], "Legacy {####}");
    assert_eq!(t["EmailSubject"], "Old");
    assert_eq!(t["DefaultEmailOption"], "CONFIRM_WITH_CODE");
    assert!(v["UserPool"].get("SmsVerificationMessage").is_none());
    // UpdateUserPool too.
    let q = v["UserPool"]["Id"].as_str().unwrap();
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": q, "VerificationMessageTemplate": {"SmsMessage": "New {####}"}}),
    );
    let d = s.ok("DescribeUserPool", json!({"UserPoolId": q}))["UserPool"].clone();
    assert_eq!(d["SmsVerificationMessage"], "New {####}");
    assert!(d.get("EmailVerificationMessage").is_none(), "{d}");
}

//! MFA and user-listing rules as Cognito applies them, over HTTP against the
//! real server: SetUserPoolMfaConfig's checks, TOTP after MFA_SETUP, a TOTP
//! code used twice, factors without delivery, AdminDeleteSoftwareToken,
//! (Admin)SetUserSettings, and ListUsers' Filter and AttributesToGet.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{password_flows, Server, PASSWORD};
use serde_json::{json, Value};

/// The TOTP step of now (30-second steps since the epoch).
fn step_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 30
}

fn code(secret: &str, step: i64) -> String {
    let key = cognate_crypto::totp::base32_decode(secret).unwrap();
    cognate_crypto::totp::code_at(&key, step)
}

fn start(s: &Server, client: &str, user: &str) -> Value {
    s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD}}),
    )
}

#[test]
fn set_user_pool_mfa_config_rules() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    for mode in ["ON", "OPTIONAL"] {
        s.err_msg(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool, "MfaConfiguration": mode}),
            "InvalidParameterException",
            "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.",
        );
        s.err_msg(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool, "MfaConfiguration": mode,
                   "SoftwareTokenMfaConfiguration": {"Enabled": false}}),
            "InvalidParameterException",
            "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.",
        );
    }
    s.err_msg(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
        "InvalidParameterException",
        "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
    );
    s.err_msg(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "code {####}"}}),
        "InvalidParameterException",
        "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
    );
    s.err_msg(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": "us-east-1_NoSuchPool1", "MfaConfiguration": "ON",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
        "ResourceNotFoundException",
        "User pool us-east-1_NoSuchPool1 does not exist.",
    );
    let v = s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    assert_eq!(v["MfaConfiguration"], "OPTIONAL");
    assert_eq!(v["SoftwareTokenMfaConfiguration"]["Enabled"], true);
    // OFF alone is accepted, and turns the factor off: a factor the call
    // leaves out is not enabled.
    let v = s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF"}),
    );
    assert_eq!(v["MfaConfiguration"], "OFF");
    // A factor the call does not name is not shown (as AWS does)...
    assert!(v.get("SoftwareTokenMfaConfiguration").is_none(), "{v}");
    let got = s.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(got, v);
    // ... and one named off is shown off.
    let v = s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF",
               "SoftwareTokenMfaConfiguration": {"Enabled": false}}),
    );
    assert_eq!(v["SoftwareTokenMfaConfiguration"]["Enabled"], false);
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    // UpdateUserPool keeps the factor configuration; both views agree.
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON"}),
    );
    let got = s.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(got["MfaConfiguration"], "ON");
    assert_eq!(got["SoftwareTokenMfaConfiguration"]["Enabled"], true);
    let described = s.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(described["UserPool"]["MfaConfiguration"], "ON");
}

#[test]
fn totp_after_mfa_setup_and_a_code_used_once() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, password_flows());
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    s.admin_user(&pool, "mia", json!([]));
    let first = start(&s, &client, "mia");
    assert_eq!(first["ChallengeName"], "MFA_SETUP");
    let assoc = s.ok(
        "AssociateSoftwareToken",
        json!({"Session": first["Session"]}),
    );
    let secret = assoc["SecretCode"].as_str().unwrap().to_owned();
    let step = step_now();
    let verified = s.ok(
        "VerifySoftwareToken",
        json!({"Session": assoc["Session"], "UserCode": code(&secret, step)}),
    );
    assert_eq!(verified["Status"], "SUCCESS");
    // A new sign-in, without answering MFA_SETUP, is challenged for the token.
    let second = start(&s, &client, "mia");
    assert_eq!(second["ChallengeName"], "SOFTWARE_TOKEN_MFA", "{second}");
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "mia"}),
    );
    assert_eq!(user["UserMFASettingList"], json!(["SOFTWARE_TOKEN_MFA"]));
    let next = code(&secret, step + 1);
    let ok = s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": second["Session"],
               "ChallengeResponses": {"USERNAME": "mia", "SOFTWARE_TOKEN_MFA_CODE": next}}),
    );
    assert!(ok["AuthenticationResult"]["AccessToken"].is_string());
    // The same code again: its time step was used.
    let third = start(&s, &client, "mia");
    s.err_msg(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": third["Session"],
               "ChallengeResponses": {"USERNAME": "mia", "SOFTWARE_TOKEN_MFA_CODE": next}}),
        "ExpiredCodeException",
        "Your software token has already been used once.",
    );
    // A wrong code is still a mismatch, in the TOTP text clients match.
    let wrong = if code(&secret, step + 2) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let fourth = start(&s, &client, "mia");
    s.err_msg(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": fourth["Session"],
               "ChallengeResponses": {"USERNAME": "mia", "SOFTWARE_TOKEN_MFA_CODE": wrong}}),
        "CodeMismatchException",
        "Invalid code received for user",
    );

    // AdminDeleteSoftwareToken: the registration and preference go, and the
    // pool (MFA ON) asks for MFA_SETUP again.
    s.ok(
        "AdminDeleteSoftwareToken",
        json!({"UserPoolId": pool, "Username": "mia"}),
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "mia"}),
    );
    assert!(user.get("UserMFASettingList").is_none(), "{user}");
    assert!(user.get("PreferredMfaSetting").is_none(), "{user}");
    assert_eq!(start(&s, &client, "mia")["ChallengeName"], "MFA_SETUP");
    s.err_msg(
        "AdminDeleteSoftwareToken",
        json!({"UserPoolId": pool, "Username": "nobody"}),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.err_msg(
        "AdminDeleteSoftwareToken",
        json!({"UserPoolId": "us-east-1_NoSuchPool1", "Username": "mia"}),
        "ResourceNotFoundException",
        "User pool us-east-1_NoSuchPool1 does not exist.",
    );
}

#[test]
fn factors_without_delivery_are_refused() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, password_flows());
    s.admin_user(&pool, "noah", json!([]));
    let token = s.login(&client, "noah", PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    s.err_msg(
        "SetUserMFAPreference",
        json!({"AccessToken": token, "SoftwareTokenMfaSettings": {"Enabled": true}}),
        "InvalidParameterException",
        "User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA",
    );
    s.err_msg(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "noah",
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
        "InvalidParameterException",
        "User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA",
    );
    s.err_msg(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "noah", "SMSMfaSettings": {"Enabled": true}}),
        "InvalidParameterException",
        "User does not have delivery config set to turn on SMS_MFA",
    );
    // Turning factors off needs no delivery.
    s.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": token, "SoftwareTokenMfaSettings": {"Enabled": false},
               "SMSMfaSettings": {"Enabled": false}}),
    );
}

#[test]
fn user_settings_store_legacy_mfa_options() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, password_flows());
    s.admin_user(
        &pool,
        "olga",
        json!([{"Name": "phone_number", "Value": "+15555550100"}]),
    );
    let sms = json!([{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]);
    s.ok(
        "AdminSetUserSettings",
        json!({"UserPoolId": pool, "Username": "olga", "MFAOptions": sms}),
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "olga"}),
    );
    assert_eq!(user["MFAOptions"], sms);
    let token = s.login(&client, "olga", PASSWORD)["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.ok("GetUser", json!({"AccessToken": token}))["MFAOptions"],
        sms
    );
    s.err_msg(
        "SetUserSettings",
        json!({"AccessToken": token,
               "MFAOptions": [{"DeliveryMedium": "EMAIL", "AttributeName": "email"}]}),
        "InvalidParameterException",
        "Only phone_number attribute is currently supported as a MFA option.",
    );
    // The model's checks come first.
    let m = s.err(
        "SetUserSettings",
        json!({"AccessToken": token,
               "MFAOptions": [{"DeliveryMedium": "PIGEON", "AttributeName": "phone_number"}]}),
        "InvalidParameterException",
    );
    assert!(m.starts_with("1 validation error detected"), "{m}");
    s.err(
        "SetUserSettings",
        json!({"AccessToken": token}),
        "InvalidParameterException",
    );
    // An empty list clears the options.
    s.ok(
        "SetUserSettings",
        json!({"AccessToken": token, "MFAOptions": []}),
    );
    let user = s.ok("GetUser", json!({"AccessToken": token}));
    assert!(user.get("MFAOptions").is_none(), "{user}");
    s.err_msg(
        "AdminSetUserSettings",
        json!({"UserPoolId": pool, "Username": "nobody", "MFAOptions": sms}),
        "UserNotFoundException",
        "User does not exist.",
    );
}

fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Username"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn list_users_filter_as_cognito() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    s.admin_user(
        &pool,
        "Alice",
        json!([{"Name": "email", "Value": "Alice@Example.com"},
               {"Name": "family_name", "Value": "O\"Brien"}]),
    );
    s.admin_user(
        &pool,
        "bob",
        json!([{"Name": "email", "Value": "bob@example.com"}]),
    );
    let list = |filter: &str| s.ok("ListUsers", json!({"UserPoolId": pool, "Filter": filter}));
    // Email compares exactly.
    assert_eq!(names(&list(r#"email = "Alice@Example.com""#)), ["Alice"]);
    assert!(names(&list(r#"email = "alice@example.com""#)).is_empty());
    assert_eq!(names(&list(r#"email ^= "Alice""#)), ["Alice"]);
    // Usernames compare exactly in a case-sensitive pool.
    assert_eq!(names(&list(r#"username = "Alice""#)), ["Alice"]);
    assert!(names(&list(r#"username = "alice""#)).is_empty());
    // Quoted names, no spaces, escaped quotes.
    assert_eq!(names(&list(r#""username"^="b""#)), ["bob"]);
    assert_eq!(names(&list(r#"family_name = "O\"Brien""#)), ["Alice"]);
    assert_eq!(
        names(&list(r#"cognito:user_status = "confirmed""#)),
        ["Alice", "bob"]
    );
    assert_eq!(names(&list(r#"status = "Enabled""#)), ["Alice", "bob"]);
    for bad in [r#"email = alice"#, r#"email == "a""#, r#"email = "a" and"#] {
        s.err_msg(
            "ListUsers",
            json!({"UserPoolId": pool, "Filter": bad}),
            "InvalidParameterException",
            "Error while parsing filter.",
        );
    }
    s.err_msg(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "custom:tier = \"gold\""}),
        "InvalidParameterException",
        "Invalid search attribute: custom:tier",
    );
    s.err_msg(
        "ListUsers",
        json!({"UserPoolId": pool, "AttributesToGet": ["email", "no_such"]}),
        "InvalidParameterException",
        "One or more requested attributes do not exist.",
    );
    let v = s.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "AttributesToGet": ["email"], "Filter": "username = \"bob\""}),
    );
    assert_eq!(
        v["Users"][0]["Attributes"],
        json!([{"Name": "email", "Value": "bob@example.com"}])
    );
    s.err_msg(
        "ListUsers",
        json!({"UserPoolId": "us-east-1_NoSuchPool1", "Filter": "email = \"x\""}),
        "ResourceNotFoundException",
        "User pool us-east-1_NoSuchPool1 does not exist.",
    );

    // In a case-insensitive pool, usernames compare without case, by prefix too.
    let ci = s.create_pool(
        "ci",
        json!({"UsernameConfiguration": {"CaseSensitive": false}}),
    );
    s.admin_user(&ci, "Carol", json!([]));
    s.admin_user(&ci, "carl", json!([]));
    let ci_list = |filter: &str| s.ok("ListUsers", json!({"UserPoolId": ci, "Filter": filter}));
    assert_eq!(names(&ci_list(r#"username = "CAROL""#)), ["Carol"]);
    assert_eq!(names(&ci_list(r#"username ^= "CAR""#)), ["Carol", "carl"]);
}

#[test]
fn resend_checks_the_user_before_the_password() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    s.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "nobody", "MessageAction": "RESEND",
               "TemporaryPassword": "weak"}),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.admin_user(&pool, "rita", json!([]));
    s.err(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "rita", "MessageAction": "RESEND"}),
        "UnsupportedUserStateException",
    );
}

#[test]
fn a_config_file_pool_with_mfa_has_totp_enabled() {
    let yaml = r#"
pools:
  - id: us-east-1_MfaConf01
    name: mfa-from-config
    mfa_configuration: OPTIONAL
"#;
    let s = Server::start_with_config(yaml);
    let v = s.ok(
        "GetUserPoolMfaConfig",
        json!({"UserPoolId": "us-east-1_MfaConf01"}),
    );
    assert_eq!(v["MfaConfiguration"], "OPTIONAL");
    assert_eq!(v["SoftwareTokenMfaConfiguration"]["Enabled"], true);
    let d = s.ok(
        "DescribeUserPool",
        json!({"UserPoolId": "us-east-1_MfaConf01"}),
    );
    assert_eq!(d["UserPool"]["MfaConfiguration"], "OPTIONAL");
}

/// SOFTWARE_TOKEN_MFA's ChallengeParameters as AWS's examples show them:
/// the token's FriendlyDeviceName and USER_ID_FOR_SRP when the sign-in goes
/// straight to it, the name alone after SELECT_MFA_TYPE.
#[test]
fn software_token_challenges_name_the_token() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, password_flows());
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SoftwareTokenMfaConfiguration": {"Enabled": true},
               "EmailMfaConfiguration": {"Message": "Code {####}", "Subject": "Code"}}),
    );
    s.admin_user(
        &pool,
        "noa",
        json!([{"Name": "email", "Value": "noa@example.com"},
               {"Name": "email_verified", "Value": "true"}]),
    );
    let token = start(&s, &client, "noa")["AuthenticationResult"]["AccessToken"].clone();
    let secret = s.ok("AssociateSoftwareToken", json!({"AccessToken": token}))["SecretCode"]
        .as_str()
        .unwrap()
        .to_owned();
    s.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": token, "UserCode": code(&secret, step_now()),
               "FriendlyDeviceName": "work phone"}),
    );
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "noa",
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    let direct = start(&s, &client, "noa");
    assert_eq!(direct["ChallengeName"], "SOFTWARE_TOKEN_MFA", "{direct}");
    assert_eq!(
        direct["ChallengeParameters"],
        json!({"FRIENDLY_DEVICE_NAME": "work phone", "USER_ID_FOR_SRP": "noa"})
    );
    // Two factors and no preference: the choice, then the token by name.
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "noa",
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": false},
               "EmailMfaSettings": {"Enabled": true, "PreferredMfa": false}}),
    );
    let choice = start(&s, &client, "noa");
    assert_eq!(choice["ChallengeName"], "SELECT_MFA_TYPE", "{choice}");
    let chosen = s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SELECT_MFA_TYPE", "Session": choice["Session"],
               "ChallengeResponses": {"USERNAME": "noa", "ANSWER": "SOFTWARE_TOKEN_MFA"}}),
    );
    assert_eq!(chosen["ChallengeName"], "SOFTWARE_TOKEN_MFA");
    assert_eq!(
        chosen["ChallengeParameters"],
        json!({"FRIENDLY_DEVICE_NAME": "work phone"})
    );
}

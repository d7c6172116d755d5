//! Users over HTTP against the real server: SignUp, ConfirmSignUp,
//! ResendConfirmationCode, AdminConfirmSignUp, AdminCreateUser, AdminGetUser,
//! GetUser, ListUsers, AdminDeleteUser, DeleteUser, AdminSetUserPassword,
//! plus email-username and case-insensitive pools.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{attr, jwt_claims, Server, PASSWORD};
use serde_json::{json, Value};

fn sign_up_body(client: &str, username: &str, email: &str) -> Value {
    json!({"ClientId": client, "Username": username, "Password": PASSWORD,
           "UserAttributes": [{"Name": "email", "Value": email}]})
}

fn status_of(s: &Server, pool: &str, username: &str) -> String {
    s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": username}),
    )["UserStatus"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

// ---------------------------------------------------------------- SignUp

#[test]
fn sign_up_sends_a_code_and_confirm_sign_up_confirms() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    let v = s.ok(
        "SignUp",
        sign_up_body(&client, "alice", "alice@example.com"),
    );
    assert_eq!(v["UserConfirmed"], false);
    let sub = v["UserSub"].as_str().unwrap();
    assert!(is_uuid(sub), "UserSub {sub}");
    let d = &v["CodeDeliveryDetails"];
    assert_eq!(d["DeliveryMedium"], "EMAIL");
    assert_eq!(d["AttributeName"], "email");
    let dest = d["Destination"].as_str().unwrap();
    assert_ne!(dest, "alice@example.com", "destination should be masked");
    assert!(dest.contains('@'), "{dest}");

    let msgs = s.messages_for(&pool, "alice");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let m = &msgs[0];
    assert_eq!(m["destination"], "alice@example.com");
    assert_eq!(m["medium"], "EMAIL");
    let code = m["code"].as_str().unwrap();
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    assert!(m["body"].as_str().unwrap().contains(code));

    let u = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "alice"}),
    );
    assert_eq!(u["UserStatus"], "UNCONFIRMED");
    assert_eq!(attr(&u["UserAttributes"], "sub"), Some(sub));
    // Stated unverified until confirmed, as Cognito shows it.
    assert_eq!(attr(&u["UserAttributes"], "email_verified"), Some("false"));
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
        "UserNotConfirmedException",
        "User is not confirmed.",
    );

    let v = s.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "alice", "ConfirmationCode": code}),
    );
    assert_eq!(v, json!({}));
    let u = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "alice"}),
    );
    assert_eq!(u["UserStatus"], "CONFIRMED");
    assert_eq!(attr(&u["UserAttributes"], "email_verified"), Some("true"));
    s.login(&client, "alice", PASSWORD);

    // A confirmed user cannot be confirmed again, and the code is spent.
    s.err_msg(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "alice", "ConfirmationCode": code}),
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
    );
}

#[test]
fn sign_up_without_auto_verification_sends_nothing() {
    let s = Server::start();
    let pool = s.create_pool("plain", json!({}));
    let client = s.create_client(&pool, common::password_flows());
    let v = s.ok("SignUp", sign_up_body(&client, "bob", "bob@example.com"));
    assert_eq!(v["UserConfirmed"], false);
    assert!(v.get("CodeDeliveryDetails").is_none(), "{v}");
    assert!(s.messages_for(&pool, "bob").is_empty());
    // Nothing to confirm with: the code is "expired".
    s.err_msg(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "bob", "ConfirmationCode": "123456"}),
        "ExpiredCodeException",
        "Invalid code provided, please request a code again.",
    );
    s.err_msg(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "bob"}),
        "InvalidParameterException",
        "Cannot resend codes. Auto verification not turned on.",
    );
}

#[test]
fn sign_up_refused_when_only_admins_create_users() {
    let s = Server::start();
    let pool = s.create_pool(
        "closed",
        json!({"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": true}}),
    );
    let client = s.create_client(&pool, json!({}));
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Username": "x", "Password": PASSWORD}),
        "NotAuthorizedException",
        "SignUp is not permitted for this user pool",
    );
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "x", "MessageAction": "SUPPRESS"}),
    );
}

#[test]
fn required_attributes_are_enforced() {
    let s = Server::start();
    let pool = s.create_pool(
        "req",
        json!({"Schema": [{"Name": "email", "AttributeDataType": "String", "Mutable": true, "Required": true}]}),
    );
    let client = s.create_client(&pool, json!({}));
    let msg = "Attributes did not conform to the schema: email: The attribute is required";
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Username": "x", "Password": PASSWORD}),
        "InvalidParameterException",
        msg,
    );
    s.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "x", "MessageAction": "SUPPRESS"}),
        "InvalidParameterException",
        msg,
    );
    s.ok("SignUp", sign_up_body(&client, "x", "x@example.com"));
}

#[test]
fn sign_up_errors() {
    let s = Server::start();
    let (_pool, client) = s.pool_and_client();
    s.ok("SignUp", sign_up_body(&client, "taken", "t@example.com"));
    s.err_msg(
        "SignUp",
        sign_up_body(&client, "taken", "t2@example.com"),
        "UsernameExistsException",
        "User already exists",
    );
    for (password, why) in [
        ("Ab1!", "Password not long enough"),
        ("passw0rd!", "Password must have uppercase characters"),
        ("PASSW0RD!", "Password must have lowercase characters"),
        ("Password!", "Password must have numeric characters"),
        ("Passw0rd1", "Password must have symbol characters"),
    ] {
        s.err_msg(
            "SignUp",
            json!({"ClientId": client, "Username": format!("weak{}", password.len()), "Password": password}),
            "InvalidPasswordException",
            &format!("Password did not conform with policy: {why}"),
        );
    }
    s.err_msg(
        "SignUp",
        sign_up_body("nosuchclient00000000000000", "x", "x@example.com"),
        "ResourceNotFoundException",
        "User pool client nosuchclient00000000000000 does not exist.",
    );
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Password": PASSWORD}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'username' failed to satisfy constraint: Member must not be null",
    );
    s.err_msg(
        "SignUp",
        json!({"Username": "u", "Password": PASSWORD}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null",
    );
    let m = s.err(
        "SignUp",
        json!({"ClientId": client, "Username": "has space", "Password": PASSWORD}),
        "InvalidParameterException",
    );
    assert!(m.contains("'username'"), "{m}");
    s.err(
        "SignUp",
        json!({"ClientId": client, "Username": "nopassword"}),
        "InvalidParameterException",
    );
    let m = s.err(
        "SignUp",
        json!({"ClientId": client, "Username": "padded", "Password": " Passw0rd!"}),
        "InvalidParameterException",
    );
    assert!(m.contains("'password'"), "{m}");
    let m = s.err(
        "SignUp",
        json!({"ClientId": client, "Username": "a".repeat(129), "Password": PASSWORD}),
        "InvalidParameterException",
    );
    assert!(
        m.contains("'username' failed to satisfy constraint: Member must have length less than or equal to 128"),
        "{m}"
    );
    let m = s.err(
        "SignUp",
        json!({"ClientId": client, "Username": "badattr", "Password": PASSWORD,
               "UserAttributes": [{"Name": "custom:nope", "Value": "x"}]}),
        "InvalidParameterException",
    );
    assert!(m.contains("custom:nope"), "{m}");
}

// ---------------------------------------------------------------- ConfirmSignUp / Resend

#[test]
fn confirm_sign_up_errors() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.ok(
        "SignUp",
        sign_up_body(&client, "carol", "carol@example.com"),
    );
    let code = s.last_code(&pool, "carol");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    s.err_msg(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "carol", "ConfirmationCode": wrong}),
        "CodeMismatchException",
        "Invalid verification code provided, please try again.",
    );
    s.err_msg(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "nobody", "ConfirmationCode": code}),
        "UserNotFoundException",
        "Username/client id combination not found.",
    );
    s.err(
        "ConfirmSignUp",
        json!({"ClientId": "nosuchclient00000000000000", "Username": "carol", "ConfirmationCode": code}),
        "ResourceNotFoundException",
    );
    let m = s.err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "carol", "ConfirmationCode": "1 12 123"}),
        "InvalidParameterException",
    );
    assert_eq!(
        m,
        "1 validation error detected: Value '1 12 123' at 'confirmationCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+"
    );
    s.err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "carol"}),
        "InvalidParameterException",
    );
    // A wrong try does not spend the code.
    s.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "carol", "ConfirmationCode": code}),
    );
    assert_eq!(status_of(&s, &pool, "carol"), "CONFIRMED");
}

#[test]
fn resend_confirmation_code_replaces_the_code() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.ok("SignUp", sign_up_body(&client, "dave", "dave@example.com"));
    let first = s.last_code(&pool, "dave");
    let v = s.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "dave"}),
    );
    let d = &v["CodeDeliveryDetails"];
    assert_eq!(d["DeliveryMedium"], "EMAIL");
    assert_eq!(d["AttributeName"], "email");
    assert!(d["Destination"].is_string());
    let msgs = s.messages_for(&pool, "dave");
    assert_eq!(msgs.len(), 2);
    let second = s.last_code(&pool, "dave");
    if first != second {
        s.err(
            "ConfirmSignUp",
            json!({"ClientId": client, "Username": "dave", "ConfirmationCode": first}),
            "CodeMismatchException",
        );
    }
    s.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "dave", "ConfirmationCode": second}),
    );
    s.err_msg(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "dave"}),
        "InvalidParameterException",
        "User is already confirmed.",
    );
    s.err_msg(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "ghost"}),
        "UserNotFoundException",
        "Username/client id combination not found.",
    );
    s.err(
        "ResendConfirmationCode",
        json!({"ClientId": "nosuchclient00000000000000", "Username": "dave"}),
        "ResourceNotFoundException",
    );
    s.err(
        "ResendConfirmationCode",
        json!({"ClientId": client}),
        "InvalidParameterException",
    );
}

#[test]
fn admin_confirm_sign_up() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.ok("SignUp", sign_up_body(&client, "erin", "erin@example.com"));
    assert_eq!(
        s.ok(
            "AdminConfirmSignUp",
            json!({"UserPoolId": pool, "Username": "erin"})
        ),
        json!({})
    );
    assert_eq!(status_of(&s, &pool, "erin"), "CONFIRMED");
    s.login(&client, "erin", PASSWORD);
    s.err_msg(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "erin"}),
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
    );
    s.err_msg(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "nobody"}),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.err_msg(
        "AdminConfirmSignUp",
        json!({"UserPoolId": "us-east-1_none", "Username": "erin"}),
        "ResourceNotFoundException",
        "User pool us-east-1_none does not exist.",
    );
    s.err(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool}),
        "InvalidParameterException",
    );
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "invited", "MessageAction": "SUPPRESS"}),
    );
    s.err_msg(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "invited"}),
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is FORCE_CHANGE_PASSWORD",
    );
}

// ---------------------------------------------------------------- AdminCreateUser / AdminGetUser

#[test]
fn admin_create_user_returns_the_user_and_invites() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, common::password_flows());
    let v = s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "frank", "DesiredDeliveryMediums": ["EMAIL"],
               "UserAttributes": [{"Name": "email", "Value": "frank@example.com"},
                                  {"Name": "given_name", "Value": "Frank"}]}),
    );
    let u = &v["User"];
    assert_eq!(u["Username"], "frank");
    assert_eq!(u["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(u["Enabled"], true);
    assert!(u["UserCreateDate"].is_number());
    assert!(u["UserLastModifiedDate"].is_number());
    assert_eq!(attr(&u["Attributes"], "email"), Some("frank@example.com"));
    assert_eq!(attr(&u["Attributes"], "given_name"), Some("Frank"));
    assert!(is_uuid(attr(&u["Attributes"], "sub").unwrap()));

    let msgs = s.messages_for(&pool, "frank");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["medium"], "EMAIL");
    assert_eq!(msgs[0]["destination"], "frank@example.com");
    let temp = msgs[0]["code"].as_str().unwrap();
    assert!(msgs[0]["body"].as_str().unwrap().contains(temp));
    // The generated temporary password signs in, with a new password required.
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "frank", "PASSWORD": temp}}),
    );
    assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");

    // SUPPRESS sends nothing; a given temporary password is used.
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "grace", "MessageAction": "SUPPRESS",
               "TemporaryPassword": "Temp0rary!", "DesiredDeliveryMediums": ["EMAIL"],
               "UserAttributes": [{"Name": "email", "Value": "grace@example.com"}]}),
    );
    assert!(s.messages_for(&pool, "grace").is_empty());
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "grace", "PASSWORD": "Temp0rary!"}}),
    );
    assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");

    // RESEND re-sends the invitation to an existing FORCE_CHANGE_PASSWORD user.
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "frank", "MessageAction": "RESEND",
               "DesiredDeliveryMediums": ["EMAIL"]}),
    );
    assert_eq!(s.messages_for(&pool, "frank").len(), 2);
}

#[test]
fn admin_create_user_errors() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "henry", "MessageAction": "SUPPRESS"}),
    );
    s.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "henry", "MessageAction": "SUPPRESS"}),
        "UsernameExistsException",
        "User account already exists",
    );
    s.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": "us-east-1_none", "Username": "henry"}),
        "ResourceNotFoundException",
        "User pool us-east-1_none does not exist.",
    );
    let m = s.err(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "ivy", "TemporaryPassword": "short",
               "MessageAction": "SUPPRESS"}),
        "InvalidPasswordException",
    );
    assert!(
        m.starts_with("Password did not conform with password policy: "),
        "{m}"
    );
    let m = s.err(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "ivy", "MessageAction": "SHOUT"}),
        "InvalidParameterException",
    );
    assert!(m.starts_with("1 validation error detected: "), "{m}");
    assert!(m.contains("messageAction"), "{m}");
    let m = s.err(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "ivy", "DesiredDeliveryMediums": ["PIGEON"]}),
        "InvalidParameterException",
    );
    assert!(m.contains("desiredDeliveryMediums"), "{m}");
    s.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'username' failed to satisfy constraint: Member must not be null",
    );
    s.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "nobody", "MessageAction": "RESEND"}),
        "UserNotFoundException",
        "User does not exist.",
    );
}

#[test]
fn admin_get_user_shape_and_errors() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    s.admin_user(
        &pool,
        "jack",
        json!([{"Name": "email", "Value": "jack@example.com"}]),
    );
    let v = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "jack"}),
    );
    assert_eq!(v["Username"], "jack");
    assert_eq!(v["UserStatus"], "CONFIRMED");
    assert_eq!(v["Enabled"], true);
    assert!(v["UserCreateDate"].is_number());
    assert!(v["UserLastModifiedDate"].is_number());
    assert_eq!(
        attr(&v["UserAttributes"], "email"),
        Some("jack@example.com")
    );
    assert!(attr(&v["UserAttributes"], "sub").is_some());
    s.err_msg(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "jill"}),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.err_msg(
        "AdminGetUser",
        json!({"UserPoolId": "us-east-1_none", "Username": "jack"}),
        "ResourceNotFoundException",
        "User pool us-east-1_none does not exist.",
    );
    s.err_msg(
        "AdminGetUser",
        json!({"Username": "jack"}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
    );
    // Usernames are case-sensitive by default.
    s.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "JACK"}),
        "UserNotFoundException",
    );
}

// ---------------------------------------------------------------- GetUser / DeleteUser

#[test]
fn get_user_with_an_access_token() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(
        &pool,
        "kate",
        json!([{"Name": "email", "Value": "kate@example.com"},
               {"Name": "family_name", "Value": "Smith"}]),
    );
    let tokens = s.login(&client, "kate", PASSWORD);
    let v = s.ok("GetUser", json!({"AccessToken": tokens["AccessToken"]}));
    assert_eq!(v["Username"], "kate");
    assert_eq!(
        attr(&v["UserAttributes"], "email"),
        Some("kate@example.com")
    );
    assert_eq!(attr(&v["UserAttributes"], "family_name"), Some("Smith"));
    assert!(attr(&v["UserAttributes"], "sub").is_some());

    // Not an access token.
    s.err(
        "GetUser",
        json!({"AccessToken": tokens["IdToken"]}),
        "NotAuthorizedException",
    );
    s.err(
        "GetUser",
        json!({"AccessToken": "abc.def.ghi"}),
        "NotAuthorizedException",
    );
    // A token whose signature does not match.
    let at = tokens["AccessToken"].as_str().unwrap();
    let (head, sig) = at.rsplit_once('.').unwrap();
    let mut sig = sig.to_owned();
    let last = sig.pop().unwrap();
    sig.push(if last == 'A' { 'B' } else { 'A' });
    s.err(
        "GetUser",
        json!({"AccessToken": format!("{head}.{sig}")}),
        "NotAuthorizedException",
    );
    s.err_msg(
        "GetUser",
        json!({}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'accessToken' failed to satisfy constraint: Member must not be null",
    );
}

#[test]
fn get_user_honours_read_attributes() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let mut extra = common::password_flows();
    extra["ReadAttributes"] = json!(["email"]);
    let client = s.create_client(&pool, extra);
    s.admin_user(
        &pool,
        "leo",
        json!([{"Name": "email", "Value": "leo@example.com"},
               {"Name": "family_name", "Value": "Hidden"}]),
    );
    let tokens = s.login(&client, "leo", PASSWORD);
    let v = s.ok("GetUser", json!({"AccessToken": tokens["AccessToken"]}));
    assert_eq!(attr(&v["UserAttributes"], "email"), Some("leo@example.com"));
    assert_eq!(attr(&v["UserAttributes"], "family_name"), None, "{v}");
}

#[test]
fn delete_user_with_an_access_token() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "mia", json!([]));
    let tokens = s.login(&client, "mia", PASSWORD);
    assert_eq!(
        s.ok("DeleteUser", json!({"AccessToken": tokens["AccessToken"]})),
        json!({})
    );
    s.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "mia"}),
        "UserNotFoundException",
    );
    let (status, v) = s.call("GetUser", json!({"AccessToken": tokens["AccessToken"]}));
    assert_eq!(status, 400);
    assert!(
        v["__type"] == "NotAuthorizedException" || v["__type"] == "UserNotFoundException",
        "{v}"
    );
    let (status, v) = s.call("DeleteUser", json!({"AccessToken": tokens["AccessToken"]}));
    assert_eq!(status, 400, "{v}");
    s.err(
        "DeleteUser",
        json!({"AccessToken": "not-a-jwt"}),
        "NotAuthorizedException",
    );
    // The username is free again.
    s.admin_user(&pool, "mia", json!([]));
}

#[test]
fn admin_delete_user() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "ned", json!([]));
    assert_eq!(
        s.ok(
            "AdminDeleteUser",
            json!({"UserPoolId": pool, "Username": "ned"})
        ),
        json!({})
    );
    s.err_msg(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "ned"}),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.err_msg(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "ned"}),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "ned", "PASSWORD": PASSWORD}}),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.err_msg(
        "AdminDeleteUser",
        json!({"UserPoolId": "us-east-1_none", "Username": "ned"}),
        "ResourceNotFoundException",
        "User pool us-east-1_none does not exist.",
    );
}

// ---------------------------------------------------------------- AdminSetUserPassword

#[test]
fn admin_set_user_password_permanent_and_temporary() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.ok("SignUp", sign_up_body(&client, "olga", "olga@example.com"));
    assert_eq!(status_of(&s, &pool, "olga"), "UNCONFIRMED");

    // Permanent: the user is confirmed and the new password works, the old does not.
    assert_eq!(
        s.ok(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": "olga", "Password": "N3w-Password", "Permanent": true}),
        ),
        json!({})
    );
    assert_eq!(status_of(&s, &pool, "olga"), "CONFIRMED");
    s.login(&client, "olga", "N3w-Password");
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "olga", "PASSWORD": PASSWORD}}),
        "NotAuthorizedException",
        "Incorrect username or password.",
    );

    // Not permanent (the default): a new password is required at next sign-in.
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "olga", "Password": "Temp-Passw0rd"}),
    );
    assert_eq!(status_of(&s, &pool, "olga"), "FORCE_CHANGE_PASSWORD");
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "olga", "PASSWORD": "Temp-Passw0rd"}}),
    );
    assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "olga", "Password": "Temp-Passw0rd", "Permanent": false}),
    );
    assert_eq!(status_of(&s, &pool, "olga"), "FORCE_CHANGE_PASSWORD");
}

#[test]
fn admin_set_user_password_errors() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    s.admin_user(&pool, "pat", json!([]));
    s.err_msg(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "pat", "Password": "weak", "Permanent": true}),
        "InvalidPasswordException",
        "Password does not conform to policy: Password not long enough",
    );
    s.err_msg(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "nobody", "Password": PASSWORD, "Permanent": true}),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.err(
        "AdminSetUserPassword",
        json!({"UserPoolId": "us-east-1_none", "Username": "pat", "Password": PASSWORD}),
        "ResourceNotFoundException",
    );
    s.err_msg(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "pat"}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null",
    );
    let m = s.err(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "pat", "Password": PASSWORD, "Permanent": "yes"}),
        "SerializationException",
    );
    assert!(!m.is_empty());
}

#[test]
fn password_policy_of_the_pool_applies() {
    let s = Server::start();
    let pool = s.create_pool(
        "lenient",
        json!({"Policies": {"PasswordPolicy": {"MinimumLength": 6, "RequireUppercase": false,
               "RequireLowercase": false, "RequireNumbers": false, "RequireSymbols": false}}}),
    );
    let client = s.create_client(&pool, common::password_flows());
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "simple", "Password": "abcdef"}),
    );
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Username": "simple2", "Password": "abcde"}),
        "InvalidPasswordException",
        "Password did not conform with policy: Password not long enough",
    );
}

// ---------------------------------------------------------------- ListUsers

fn usernames(v: &Value) -> BTreeSet<String> {
    v["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Username"].as_str().unwrap().to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn seed_list_pool(s: &Server) -> String {
    let pool = s.create_pool("listing", json!({}));
    for (name, email, given) in [
        ("user-anna", "anna@example.com", "Anna"),
        ("user-andy", "andy@example.org", "Andy"),
        ("user-bert", "bert@example.com", "Bert"),
        ("other-carl", "carl@example.com", "Carl"),
    ] {
        s.ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS",
                   "UserAttributes": [{"Name": "email", "Value": email},
                                      {"Name": "given_name", "Value": given}]}),
        );
    }
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "user-bert", "Password": PASSWORD, "Permanent": true}),
    );
    pool
}

#[test]
fn list_users_filters() {
    let s = Server::start();
    let pool = seed_list_pool(&s);
    let all = s.ok("ListUsers", json!({"UserPoolId": pool}));
    assert_eq!(
        usernames(&all),
        set(&["user-anna", "user-andy", "user-bert", "other-carl"])
    );
    for u in all["Users"].as_array().unwrap() {
        assert!(u["Attributes"].is_array());
        assert!(u["UserStatus"].is_string());
        assert_eq!(u["Enabled"], true);
        assert!(u["UserCreateDate"].is_number());
    }
    let q = |filter: &str| -> BTreeSet<String> {
        usernames(&s.ok("ListUsers", json!({"UserPoolId": pool, "Filter": filter})))
    };
    assert_eq!(q(r#"email = "anna@example.com""#), set(&["user-anna"]));
    assert_eq!(q(r#"email="anna@example.com""#), set(&["user-anna"]));
    assert_eq!(q(r#"email = "nobody@example.com""#), set(&[]));
    assert_eq!(
        q(r#"username ^= "user-""#),
        set(&["user-anna", "user-andy", "user-bert"])
    );
    assert_eq!(q(r#"given_name ^= "An""#), set(&["user-anna", "user-andy"]));
    assert_eq!(q(r#"username = "other-carl""#), set(&["other-carl"]));
    assert_eq!(
        q(r#"cognito:user_status = "CONFIRMED""#),
        set(&["user-bert"])
    );
    assert_eq!(q(r#"status = "Enabled""#).len(), 4);
    let sub = attr(
        &s.ok(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "user-andy"}),
        )["UserAttributes"],
        "sub",
    )
    .unwrap()
    .to_owned();
    assert_eq!(q(&format!(r#"sub = "{sub}""#)), set(&["user-andy"]));
    // An empty filter lists everyone.
    assert_eq!(q("").len(), 4);
}

#[test]
fn list_users_limit_pagination_and_attributes_to_get() {
    let s = Server::start();
    let pool = seed_list_pool(&s);
    let mut seen = BTreeSet::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"UserPoolId": pool, "Limit": 3});
        if let Some(t) = &token {
            body["PaginationToken"] = json!(t);
        }
        let v = s.ok("ListUsers", body);
        let page = usernames(&v);
        assert!(page.len() <= 3, "{v}");
        for u in page {
            assert!(seen.insert(u), "duplicate across pages");
        }
        pages += 1;
        match v.get("PaginationToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 4);

    // Pagination combined with a filter.
    let v = s.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Limit": 2, "Filter": "username ^= \"user-\""}),
    );
    assert_eq!(usernames(&v).len(), 2);
    let t = v["PaginationToken"].as_str().expect("a second page");
    let v2 = s.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Limit": 2, "Filter": "username ^= \"user-\"", "PaginationToken": t}),
    );
    assert_eq!(usernames(&v2).len(), 1);
    assert!(v2.get("PaginationToken").is_none());

    let v = s.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "AttributesToGet": ["email"], "Filter": "username = \"user-anna\""}),
    );
    let attrs = v["Users"][0]["Attributes"].as_array().unwrap();
    assert_eq!(
        attrs,
        &vec![json!({"Name": "email", "Value": "anna@example.com"})]
    );
    // An empty AttributesToGet returns every attribute.
    let v = s.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "AttributesToGet": [], "Filter": "username = \"user-anna\""}),
    );
    assert!(v["Users"][0]["Attributes"].as_array().unwrap().len() >= 3);
}

#[test]
fn list_users_errors() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    for bad in [
        "email == \"x\"",
        "email = x",
        "email = \"unterminated",
        "email",
    ] {
        s.err_msg(
            "ListUsers",
            json!({"UserPoolId": pool, "Filter": bad}),
            "InvalidParameterException",
            "Error while parsing filter.",
        );
    }
    s.err_msg(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "x = \"y\""}),
        "InvalidParameterException",
        "Invalid search attribute: x",
    );
    s.err_msg(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "custom:role = \"y\""}),
        "InvalidParameterException",
        "Invalid search attribute: custom:role",
    );
    let m = s.err(
        "ListUsers",
        json!({"UserPoolId": pool, "Limit": 61}),
        "InvalidParameterException",
    );
    assert!(m.contains("'limit'"), "{m}");
    s.err(
        "ListUsers",
        json!({"UserPoolId": pool, "PaginationToken": "bogus"}),
        "InvalidParameterException",
    );
    s.err_msg(
        "ListUsers",
        json!({"UserPoolId": "us-east-1_none"}),
        "ResourceNotFoundException",
        "User pool us-east-1_none does not exist.",
    );
    s.err("ListUsers", json!({}), "InvalidParameterException");
}

// ---------------------------------------------------------------- username attributes, case

#[test]
fn email_as_username_pool() {
    let s = Server::start();
    let pool = s.create_pool(
        "email-login",
        json!({"UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"]}),
    );
    let client = s.create_client(&pool, common::password_flows());
    let v = s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "zoe@example.com", "Password": PASSWORD}),
    );
    let sub = v["UserSub"].as_str().unwrap().to_owned();
    assert!(is_uuid(&sub));
    // The stored username is the sub; the email became an attribute.
    let listed = s.ok("ListUsers", json!({"UserPoolId": pool}));
    let user = &listed["Users"][0];
    assert_eq!(user["Username"], sub.as_str());
    assert_eq!(attr(&user["Attributes"], "email"), Some("zoe@example.com"));
    assert_eq!(attr(&user["Attributes"], "sub"), Some(sub.as_str()));
    // The code is addressed to the real username.
    let code = s.last_code(&pool, &sub);
    // Confirm by email.
    s.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "zoe@example.com", "ConfirmationCode": code}),
    );
    // Admin operations accept the email or the sub.
    let by_email = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "zoe@example.com"}),
    );
    assert_eq!(by_email["Username"], sub.as_str());
    assert_eq!(by_email["UserStatus"], "CONFIRMED");
    let by_sub = s.ok("AdminGetUser", json!({"UserPoolId": pool, "Username": sub}));
    assert_eq!(by_sub["Username"], sub.as_str());
    // Sign-in by email works; tokens carry the real username.
    let tokens = s.login(&client, "zoe@example.com", PASSWORD);
    let access = jwt_claims(tokens["AccessToken"].as_str().unwrap());
    assert_eq!(access["username"], sub.as_str());
    assert_eq!(access["sub"], sub.as_str());
    let id = jwt_claims(tokens["IdToken"].as_str().unwrap());
    assert_eq!(id["cognito:username"], sub.as_str());
    assert_eq!(id["email"], "zoe@example.com");

    // Resend and delete accept the email too.
    s.err_msg(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "zoe@example.com"}),
        "InvalidParameterException",
        "User is already confirmed.",
    );
    s.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "zoe@example.com", "MessageAction": "SUPPRESS"}),
        "UsernameExistsException",
        "An account with the given email already exists.",
    );
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Username": "zoe@example.com", "Password": PASSWORD}),
        "UsernameExistsException",
        "An account with the given email already exists.",
    );
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Username": "plainname", "Password": PASSWORD}),
        "InvalidParameterException",
        "Username should be an email.",
    );
    s.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "zoe@example.com"}),
    );
    s.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": sub}),
        "UserNotFoundException",
    );
}

#[test]
fn case_insensitive_usernames() {
    let s = Server::start();
    let pool = s.create_pool(
        "ci",
        json!({"UsernameConfiguration": {"CaseSensitive": false}}),
    );
    let client = s.create_client(&pool, common::password_flows());
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "Alice", "Password": PASSWORD}),
    );
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Username": "alice", "Password": PASSWORD}),
        "UsernameExistsException",
        "User already exists",
    );
    s.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "ALICE"}),
    );
    let u = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "aLiCe"}),
    );
    assert_eq!(u["UserStatus"], "CONFIRMED");
    s.login(&client, "alice", PASSWORD);
    s.login(&client, "ALICE", PASSWORD);
    s.err(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "ALICE", "MessageAction": "SUPPRESS"}),
        "UsernameExistsException",
    );
    s.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "alICE"}),
    );
    s.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "Alice"}),
        "UserNotFoundException",
    );
}

#[test]
fn case_sensitive_usernames() {
    let s = Server::start();
    let pool = s.create_pool(
        "cs",
        json!({"UsernameConfiguration": {"CaseSensitive": true}}),
    );
    let client = s.create_client(&pool, common::password_flows());
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "Bob", "Password": PASSWORD}),
    );
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "bob", "Password": PASSWORD}),
    );
    let v = s.ok("ListUsers", json!({"UserPoolId": pool}));
    assert_eq!(usernames(&v), set(&["Bob", "bob"]));
    s.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "BOB"}),
        "UserNotFoundException",
    );
}

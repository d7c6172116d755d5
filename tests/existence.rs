//! No user-existence oracle where the app client prevents user-existence
//! errors (`PreventUserExistenceErrors: ENABLED`): ForgotPassword answers
//! every username with a delivery of the same shape and sends mail only
//! after it has answered; ConfirmForgotPassword answers an unknown user as
//! a known one with no code pending; USER_SRP_AUTH challenges an unknown
//! user, or one without a verifier, and stores nothing for it; a locked
//! user's refusal costs the hash time an unknown user's does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{Server, PASSWORD};
use serde_json::{json, Value};

/// A pool whose client prevents user-existence errors, with users in every
/// state ForgotPassword distinguishes: confirmed with a verified email,
/// disabled, FORCE_CHANGE_PASSWORD, and without a verified email.
fn hidden_pool(s: &Server) -> (String, String) {
    let pool = s.create_pool("hidden", json!({"AutoVerifiedAttributes": ["email"]}));
    let flows = json!({"PreventUserExistenceErrors": "ENABLED", "ExplicitAuthFlows": [
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]});
    let client = s.create_client(&pool, flows);
    s.sign_up_confirmed(&pool, &client, "known", "known@example.com");
    s.sign_up_confirmed(&pool, &client, "disabled", "disabled@example.com");
    s.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "disabled"}),
    );
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "forced", "MessageAction": "SUPPRESS",
               "TemporaryPassword": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "forced@example.com"},
                                  {"Name": "email_verified", "Value": "true"}]}),
    );
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "unverified", "MessageAction": "SUPPRESS",
               "TemporaryPassword": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "unverified@example.com"}]}),
    );
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "unverified", "Password": PASSWORD, "Permanent": true}),
    );
    (pool, client)
}

fn is_masked_email(d: &str) -> bool {
    let b = d.as_bytes();
    d.len() == 9 && d.is_char_boundary(1) && &d[1..5] == "***@" && &d[6..] == "***" && b[0] != b'*'
}

#[test]
fn forgot_password_answers_every_username_alike() {
    let s = Server::start();
    let (_pool, client) = hidden_pool(&s);
    let forgot = |user: &str| {
        let (status, body) = s.call(
            "ForgotPassword",
            json!({"ClientId": client, "Username": user}),
        );
        assert_eq!(status, 200, "{user}: {body}");
        body["CodeDeliveryDetails"].clone()
    };
    for user in [
        "known",
        "disabled",
        "forced",
        "unverified",
        "nobody",
        "nobody-else",
    ] {
        let d = forgot(user);
        assert_eq!(d["DeliveryMedium"], "EMAIL", "{user}: {d}");
        assert_eq!(d["AttributeName"], "email", "{user}: {d}");
        let dest = d["Destination"].as_str().unwrap();
        assert!(is_masked_email(dest), "{user}: {dest}");
        // The same answer at every call.
        assert_eq!(forgot(user), d, "{user}");
    }
    // Simulated destinations are not one fixed value.
    let distinct: std::collections::BTreeSet<String> = (0..12)
        .map(|i| {
            forgot(&format!("ghost{i}"))["Destination"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(distinct.len() > 1, "{distinct:?}");
    // An email-shaped unknown username looks like its own mask.
    assert_eq!(forgot("who@example.org")["Destination"], "w***@e***");
}

#[test]
fn confirm_forgot_password_answers_an_unknown_user_as_a_known_one_without_a_code() {
    // CodeMismatchException for both: AWS's answer for an unknown or
    // disabled user (its developer guide on managing errors).
    let s = Server::start();
    let (_pool, client) = hidden_pool(&s);
    let confirm = |user: &str, password: &str| {
        let (status, body) = s.call(
            "ConfirmForgotPassword",
            json!({"ClientId": client, "Username": user, "ConfirmationCode": "123456",
                   "Password": password}),
        );
        assert_eq!(status, 400);
        (body["__type"].clone(), body["message"].clone())
    };
    assert_eq!(
        confirm("nobody", "N3w-Passw0rd!"),
        confirm("known", "N3w-Passw0rd!")
    );
    assert_eq!(
        confirm("nobody", "N3w-Passw0rd!").0,
        "CodeMismatchException"
    );
    // The password policy is judged first for both.
    assert_eq!(confirm("nobody", "short"), confirm("known", "short"));
}

/// A TCP server that accepts SMTP connections and never answers: a mail
/// send to it hangs until the sender gives up.
fn stalled_smtp() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        l.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            match l.accept() {
                Ok((mut c, _)) => {
                    c.set_read_timeout(Some(Duration::from_millis(10))).ok();
                    let mut buf = [0u8; 64];
                    let _ = c.read(&mut buf);
                    held.push(c);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (port, h)
}

#[test]
fn forgot_password_does_not_wait_for_the_mail_server() {
    let (port, _smtp) = stalled_smtp();
    let url = format!("smtp://127.0.0.1:{port}");
    let s = Server::start_with_flags(&["--smtp-url", &url]);
    let pool = s.create_pool("hidden", json!({}));
    let mut flows = common::password_flows();
    common::merge(&mut flows, json!({"PreventUserExistenceErrors": "ENABLED"}));
    let client = s.create_client(&pool, flows);
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "known", "MessageAction": "SUPPRESS",
               "TemporaryPassword": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "known@example.com"},
                                  {"Name": "email_verified", "Value": "true"}]}),
    );
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "known", "Password": PASSWORD, "Permanent": true}),
    );
    let started = Instant::now();
    let (status, body) = s.call(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "known"}),
    );
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(
        took < Duration::from_secs(2),
        "waited {took:?} for the mail server"
    );
}

/// Under PreventUserExistenceErrors an unknown user's EMAIL_OTP challenge
/// (a stand-in's) sends nothing, so a known user's must not wait for the
/// mail server either: with a server that never answers, both answer at
/// once, and the known user's challenge is a real one.
#[test]
fn a_passwordless_code_challenge_does_not_wait_for_the_mail_server() {
    let (port, _smtp) = stalled_smtp();
    let url = format!("smtp://127.0.0.1:{port}");
    let s = Server::start_with_flags(&["--smtp-url", &url]);
    let pool = s.create_pool(
        "hidden-otp",
        json!({"UserPoolTier": "ESSENTIALS",
               "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}}),
    );
    let mut flows = json!({"ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]});
    common::merge(&mut flows, json!({"PreventUserExistenceErrors": "ENABLED"}));
    let client = s.create_client(&pool, flows);
    s.admin_user(
        &pool,
        "known",
        json!([{"Name": "email", "Value": "known@example.com"},
               {"Name": "email_verified", "Value": "true"}]),
    );
    let challenge = |name: &str| -> Value {
        let started = Instant::now();
        let (status, body) = s.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_AUTH",
                   "AuthParameters": {"USERNAME": name, "PREFERRED_CHALLENGE": "EMAIL_OTP"}}),
        );
        let took = started.elapsed();
        assert_eq!(status, 200, "{body}");
        assert!(
            took < Duration::from_secs(2),
            "{name}: waited {took:?} for the mail server"
        );
        body
    };
    assert_eq!(challenge("known")["ChallengeName"], "EMAIL_OTP");
    // A stand-in offers EMAIL_OTP to some unknown names (its choice of the
    // pool's factors holds per name): one of them answers alike.
    let offered = (0..16)
        .map(|i| challenge(&format!("nobody{i}")))
        .filter(|b| b["ChallengeName"] == "EMAIL_OTP")
        .count();
    assert!(offered > 0, "no unknown name was offered EMAIL_OTP");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn a_locked_user_costs_the_hash_time_of_an_unknown_one() {
    let s = Server::start();
    let (_pool, client) = hidden_pool(&s);
    let login = |user: &str, password: &str| -> (Duration, Value) {
        let started = Instant::now();
        let (_, body) = s.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": user, "PASSWORD": password}}),
        );
        (started.elapsed(), body)
    };
    // Lock `known` out.
    for _ in 0..8 {
        login("known", "Wrong-passw0rd!");
    }
    assert_eq!(
        login("known", "Wrong-passw0rd!").1["message"],
        "Password attempts exceeded"
    );
    let mut locked = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..15 {
        locked.push(login("known", "Wrong-passw0rd!").0);
        unknown.push(login("nobody", "Wrong-passw0rd!").0);
    }
    let (locked, unknown) = (median(locked), median(unknown));
    // Before, a locked user answered without hashing: many times faster.
    assert!(
        locked * 2 > unknown,
        "locked {locked:?} vs unknown {unknown:?}: the refusal skips the hash"
    );
}

#[test]
fn srp_for_an_unknown_user_is_challenged_and_refused_like_a_wrong_password() {
    let s = Server::start();
    let (_pool, client) = hidden_pool(&s);
    let srp_a = "a".repeat(768);
    let start = |user: &str| {
        let (status, body) = s.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_SRP_AUTH",
                   "AuthParameters": {"USERNAME": user, "SRP_A": srp_a}}),
        );
        assert_eq!(status, 200, "{user}: {body}");
        assert_eq!(body["ChallengeName"], "PASSWORD_VERIFIER");
        body["ChallengeParameters"].clone()
    };
    let answer = |user: &str, params: &Value| {
        let mut responses = BTreeMap::new();
        responses.insert("USERNAME", user.to_owned());
        responses.insert(
            "PASSWORD_CLAIM_SECRET_BLOCK",
            params["SECRET_BLOCK"].as_str().unwrap().to_owned(),
        );
        responses.insert("PASSWORD_CLAIM_SIGNATURE", "AAAA".to_owned());
        responses.insert("TIMESTAMP", srp_timestamp());
        let (status, body) = s.call(
            "RespondToAuthChallenge",
            json!({"ClientId": client, "ChallengeName": "PASSWORD_VERIFIER",
                   "ChallengeResponses": responses}),
        );
        assert_eq!(status, 400);
        (body["__type"].clone(), body["message"].clone())
    };
    let known = start("known");
    let unknown = start("nobody");
    assert_eq!(
        known["SECRET_BLOCK"].as_str().unwrap().len(),
        unknown["SECRET_BLOCK"].as_str().unwrap().len()
    );
    // "The same salt and internal user id in UUID format for the same user
    // name" (AWS's developer guide): stable, UUID-shaped, not the name.
    let id = unknown["USER_ID_FOR_SRP"].as_str().unwrap().to_owned();
    assert!(
        id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4,
        "{id}"
    );
    let again = start("nobody");
    assert_eq!(again["USER_ID_FOR_SRP"], id.as_str());
    assert_eq!(again["SALT"], unknown["SALT"]);
    assert_ne!(start("nobody2")["USER_ID_FOR_SRP"], id.as_str());
    let known_answer = answer("known", &known);
    assert_eq!(known_answer.1, "Incorrect username or password.");
    assert_eq!(answer("nobody", &unknown), known_answer);
    // A block we did not make is no session at all.
    let mut forged = unknown.clone();
    let mut block: Vec<char> = unknown["SECRET_BLOCK"].as_str().unwrap().chars().collect();
    block[10] = if block[10] == 'A' { 'B' } else { 'A' };
    forged["SECRET_BLOCK"] = json!(block.into_iter().collect::<String>());
    assert_ne!(answer("nobody", &forged), known_answer);
}

/// USER_SRP_AUTH's start costs about the same for a known user (the
/// exchange computed and its session stored) as for an unknown one (a
/// simulated verifier, then the same exchange, nothing stored): medians of
/// interleaved calls within a factor of three of each other. Before, an
/// unknown user cost an extra modular exponentiation that a known one did
/// not; the bound is loose enough for a shared machine and still catches a
/// path that skips the exchange (or adds one more) on either side.
#[test]
fn srp_start_costs_a_known_user_what_it_costs_an_unknown_one() {
    let s = Server::start();
    let (_pool, client) = hidden_pool(&s);
    let srp_a = "a".repeat(768);
    let start = |user: &str| -> Duration {
        let started = Instant::now();
        let (status, body) = s.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_SRP_AUTH",
                   "AuthParameters": {"USERNAME": user, "SRP_A": srp_a}}),
        );
        let took = started.elapsed();
        assert_eq!(status, 200, "{user}: {body}");
        took
    };
    // Warm up both paths.
    for _ in 0..5 {
        start("known");
        start("nobody");
    }
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..41 {
        known.push(start("known"));
        unknown.push(start(&format!("nobody{}", i % 7)));
    }
    let (known, unknown) = (median(known), median(unknown));
    println!("SRP start medians: known {known:?}, unknown {unknown:?}");
    assert!(
        known < unknown * 3 && unknown < known * 3,
        "SRP start: known {known:?} vs unknown {unknown:?}"
    );
}

/// TIMESTAMP as Cognito's SRP clients send it: `Tue Sep 3 09:05:07 UTC 2024`.
fn srp_timestamp() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%a %b %-d %H:%M:%S UTC %Y"])
        .output()
        .expect("date");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srp_for_an_unknown_user_stores_nothing() {
    use cognate_core::model::ClientSettings;
    use cognate_core::service::{AuthFlowInput, AuthOutcome, NewClient};
    let w = common::inproc::world().await;
    let mut settings = ClientSettings::named("hidden");
    settings.explicit_auth_flows = Some(vec!["ALLOW_USER_SRP_AUTH".into()]);
    settings.prevent_user_existence_errors = Some("ENABLED".into());
    let client = w
        .svc
        .create_user_pool_client(NewClient {
            pool_id: w.pool_id.clone(),
            client_id: None,
            generate_secret: false,
            client_secret: None,
            settings,
        })
        .await
        .unwrap();
    let mut blocks = Vec::new();
    for user in ["alice", "nobody"] {
        let mut parameters = BTreeMap::new();
        parameters.insert("USERNAME".to_owned(), user.to_owned());
        parameters.insert("SRP_A".to_owned(), "a".repeat(768));
        let outcome = w
            .svc
            .initiate_auth(AuthFlowInput {
                admin_pool_id: None,
                client_id: client.client_id.clone(),
                flow: "USER_SRP_AUTH".into(),
                parameters,
                client_metadata: Default::default(),
            })
            .await
            .unwrap();
        let AuthOutcome::Challenge { parameters, .. } = outcome else {
            panic!("{user}: no challenge");
        };
        blocks.push(parameters["SECRET_BLOCK"].clone());
    }
    let stored = |block: &str| {
        let hash = cognate_crypto::digest::sha256_hex(block.as_bytes());
        let store = w.store.clone();
        async move { store.take_session(&hash).await.unwrap().is_some() }
    };
    assert!(
        stored(&blocks[0]).await,
        "the known user's exchange is stored"
    );
    assert!(
        !stored(&blocks[1]).await,
        "nothing is stored for an unknown user"
    );
}

/// USER_AUTH (choice-based sign-in) where the client prevents
/// user-existence errors: as the developer guide says, an unknown user is
/// challenged too, with a choice of the pool's factors that is the same at
/// every attempt; its code challenge shows a destination and sends nothing,
/// and every answer fails as a known user's wrong answer does.
#[test]
fn user_auth_challenges_an_unknown_user_and_never_signs_it_in() {
    let s = Server::start();
    let pool = s.create_pool(
        "choice",
        json!({"Policies": {"SignInPolicy": {
            "AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]}}}),
    );
    let flows = json!({"PreventUserExistenceErrors": "ENABLED", "ExplicitAuthFlows": [
        "ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]});
    let client = s.create_client(&pool, flows);
    s.admin_user(
        &pool,
        "pat",
        json!([{"Name": "email", "Value": "pat@example.com"},
               {"Name": "email_verified", "Value": "true"}]),
    );
    let start = |params: Value| {
        s.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_AUTH", "ClientId": client, "AuthParameters": params}),
        )
    };
    let respond = |name: &str, session: &Value, responses: Value| {
        s.call(
            "RespondToAuthChallenge",
            json!({"ClientId": client, "ChallengeName": name, "Session": session,
                   "ChallengeResponses": responses}),
        )
    };
    let outbox_before = s.outbox().len();

    // The known user's choice, for comparison.
    let (status, known) = start(json!({"USERNAME": "pat"}));
    assert_eq!(status, 200, "{known}");
    assert_eq!(known["ChallengeName"], "SELECT_CHALLENGE");

    // Unknown users: SELECT_CHALLENGE too, the password factors always,
    // the others a choice that holds per username and varies between them.
    let allowed = ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP"];
    let mut choices = std::collections::BTreeSet::new();
    let mut with_email = None;
    for i in 0..16 {
        let name = format!("ghost{i}");
        let (status, v) = start(json!({"USERNAME": name}));
        assert_eq!(status, 200, "{name}: {v}");
        assert_eq!(v["ChallengeName"], "SELECT_CHALLENGE", "{v}");
        assert_eq!(v["ChallengeParameters"], json!({}));
        assert!(v["Session"].is_string());
        let available: Vec<String> =
            serde_json::from_value(v["AvailableChallenges"].clone()).unwrap();
        assert_eq!(
            available[..2],
            ["PASSWORD", "PASSWORD_SRP"],
            "{available:?}"
        );
        assert!(available.iter().all(|c| allowed.contains(&c.as_str())));
        let (_, again) = start(json!({"USERNAME": name}));
        assert_eq!(again["AvailableChallenges"], v["AvailableChallenges"]);
        if with_email.is_none() && available.iter().any(|c| c == "EMAIL_OTP") {
            with_email = Some((name.clone(), v["Session"].clone()));
        }
        choices.insert(available);
    }
    assert!(choices.len() > 1, "{choices:?}");
    let (ghost, session) = with_email.expect("an unknown user offered EMAIL_OTP");

    // A code "sent" to a simulated address; three wrong codes, as for a
    // known user, then the session is spent.
    let (status, code_step) = respond(
        "SELECT_CHALLENGE",
        &session,
        json!({"USERNAME": ghost, "ANSWER": "EMAIL_OTP"}),
    );
    assert_eq!(status, 200, "{code_step}");
    assert_eq!(code_step["ChallengeName"], "EMAIL_OTP");
    let params = &code_step["ChallengeParameters"];
    assert_eq!(params["CODE_DELIVERY_DELIVERY_MEDIUM"], "EMAIL");
    assert!(is_masked_email(
        params["CODE_DELIVERY_DESTINATION"].as_str().unwrap()
    ));
    let (_, known_code) = start(json!({"USERNAME": "pat", "PREFERRED_CHALLENGE": "EMAIL_OTP"}));
    assert_eq!(known_code["ChallengeName"], "EMAIL_OTP", "{known_code}");
    // Under PreventUserExistenceErrors the known user's code is sent after
    // the answer (as the stand-in's answer sends nothing): wait for it.
    let outbox_known = s.outbox_of_at_least(outbox_before + 1).len();
    let wrong_codes = |name: &str, session: &Value| -> Vec<(Value, Value)> {
        (0..4)
            .map(|_| {
                let (_, v) = respond(
                    "EMAIL_OTP",
                    session,
                    json!({"USERNAME": name, "EMAIL_OTP_CODE": "000000"}),
                );
                (v["__type"].clone(), v["message"].clone())
            })
            .collect()
    };
    let ghost_answers = wrong_codes(&ghost, &code_step["Session"]);
    assert_eq!(ghost_answers[0].0, "CodeMismatchException");
    assert_eq!(ghost_answers, wrong_codes("pat", &known_code["Session"]));

    // A password or an SRP exchange: the answers a stranger gets.
    let (_, v) = start(json!({"USERNAME": ghost}));
    let (status, body) = respond(
        "SELECT_CHALLENGE",
        &v["Session"],
        json!({"USERNAME": ghost, "ANSWER": "PASSWORD", "PASSWORD": PASSWORD}),
    );
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "NotAuthorizedException");
    assert_eq!(body["message"], "Incorrect username or password.");
    let (_, v) = start(json!({"USERNAME": ghost}));
    let a = cognate_crypto::srp::client_public(&cognate_crypto::random::bytes(32));
    let (status, body) = respond(
        "SELECT_CHALLENGE",
        &v["Session"],
        json!({"USERNAME": ghost, "ANSWER": "PASSWORD_SRP", "SRP_A": a}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ChallengeName"], "PASSWORD_VERIFIER");
    assert!(body["ChallengeParameters"]["SALT"].is_string());
    // Another name cannot answer the session.
    let (_, v) = start(json!({"USERNAME": ghost, "PREFERRED_CHALLENGE": "EMAIL_OTP"}));
    let (_, body) = respond(
        "EMAIL_OTP",
        &v["Session"],
        json!({"USERNAME": "pat", "EMAIL_OTP_CODE": "000000"}),
    );
    assert_eq!(body["__type"], "NotAuthorizedException", "{body}");

    // Nothing went out for the unknown users: only the known user's code.
    assert_eq!(outbox_known, outbox_before + 1);
    assert_eq!(s.outbox().len(), outbox_known);

    // A client without the setting still says so.
    let legacy = s.create_client(&pool, json!({"ExplicitAuthFlows": ["ALLOW_USER_AUTH"]}));
    let (_, v) = s.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_AUTH", "ClientId": legacy,
               "AuthParameters": {"USERNAME": "ghost0"}}),
    );
    assert_eq!(v["__type"], "UserNotFoundException", "{v}");
}

#[test]
fn a_user_who_must_reset_the_password_is_refused_like_a_wrong_password() {
    let s = Server::start();
    let (pool, client) = hidden_pool(&s);
    s.ok(
        "AdminResetUserPassword",
        json!({"UserPoolId": pool, "Username": "known"}),
    );
    // AWS's developer guide: NotAuthorizedException where the client
    // prevents user-existence errors (PasswordResetRequired otherwise).
    for password in [PASSWORD, "Wr0ng-Password!"] {
        let (status, body) = s.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "known", "PASSWORD": password}}),
        );
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
        assert_eq!(body["message"], "Incorrect username or password.");
    }
}

#[test]
fn resend_confirmation_code_answers_an_unknown_user_with_a_real_looking_delivery() {
    let s = Server::start();
    let (_pool, client) = hidden_pool(&s);
    let resend = |user: &str| {
        s.ok(
            "ResendConfirmationCode",
            json!({"ClientId": client, "Username": user}),
        )["CodeDeliveryDetails"]
            .clone()
    };
    let first = resend("nobody");
    assert_eq!(first["DeliveryMedium"], "EMAIL");
    assert_eq!(first["AttributeName"], "email");
    assert!(
        is_masked_email(first["Destination"].as_str().unwrap()),
        "{first}"
    );
    assert_eq!(resend("nobody"), first);
}

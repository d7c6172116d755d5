//! Lambda triggers end to end: the real `cognate` binary invokes functions
//! served by a small HTTP server on 127.0.0.1 that speaks the Lambda
//! Invoke API (`POST /2015-03-31/functions/{function}/invocations`, errors
//! with `X-Amz-Function-Error`) and, for the config file's plain-URL map,
//! takes the event at `/hook/{function}`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use common::{attr, jwt_claims, password_flows, Server, PASSWORD};
use serde_json::{json, Value};

/// What the fake function does with one event.
pub enum Answer {
    /// Answer the event with this `response`.
    Respond(Value),
    /// Fail (`X-Amz-Function-Error: Unhandled`) with this errorMessage.
    Fail(String),
    /// Answer after this long.
    Slow(Duration, Value),
    /// Answer this text (not a Lambda answer).
    Raw(String),
}

type Behaviour = dyn Fn(&str, &Value) -> Answer + Send + Sync;

#[derive(Clone)]
struct FakeState {
    behaviour: Arc<Behaviour>,
    events: Arc<Mutex<Vec<(String, Value)>>>,
}

/// A fake Lambda service on its own thread and runtime.
pub struct FakeLambda {
    pub url: String,
    events: Arc<Mutex<Vec<(String, Value)>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn invoke(
    State(state): State<FakeState>,
    Path(function): Path<String>,
    body: String,
) -> axum::response::Response {
    let event: Value = serde_json::from_str(&body).expect("event is JSON");
    state
        .events
        .lock()
        .unwrap()
        .push((function.clone(), event.clone()));
    let answer = (state.behaviour)(&function, &event);
    let reply = |response: Value| {
        let mut e = event.clone();
        e["response"] = response;
        (StatusCode::OK, e.to_string()).into_response()
    };
    match answer {
        Answer::Respond(r) => reply(r),
        Answer::Slow(d, r) => {
            tokio::time::sleep(d).await;
            reply(r)
        }
        Answer::Fail(message) => {
            let mut headers = HeaderMap::new();
            headers.insert("x-amz-function-error", "Unhandled".parse().unwrap());
            (
                StatusCode::OK,
                headers,
                json!({"errorMessage": message, "errorType": "Error"}).to_string(),
            )
                .into_response()
        }
        Answer::Raw(text) => (StatusCode::OK, text).into_response(),
    }
}

impl FakeLambda {
    pub fn start(behaviour: impl Fn(&str, &Value) -> Answer + Send + Sync + 'static) -> Self {
        let events = Arc::new(Mutex::new(Vec::new()));
        let state = FakeState {
            behaviour: Arc::new(behaviour),
            events: events.clone(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = axum::Router::new()
                    .route("/2015-03-31/functions/{function}/invocations", post(invoke))
                    .route("/hook/{function}", post(invoke))
                    .with_state(state);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        FakeLambda {
            url,
            events,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Every event received so far, with the function it was sent to.
    pub fn events(&self) -> Vec<(String, Value)> {
        self.events.lock().unwrap().clone()
    }

    /// Events of one triggerSource.
    pub fn events_of(&self, source: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|(_, e)| e["triggerSource"] == source)
            .map(|(_, e)| e)
            .collect()
    }

    /// Stops serving (connections are refused from now on).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for FakeLambda {
    fn drop(&mut self) {
        self.stop();
    }
}

pub const ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

pub fn arn(name: &str) -> String {
    format!("{ARN_PREFIX}{name}")
}

/// A server invoking functions through the fake's Lambda Invoke API.
pub fn server_for(lambda: &FakeLambda, timeout_ms: u64) -> Server {
    Server::start_with_args(
        &[
            "--lambda-endpoint".into(),
            lambda.url.clone(),
            "--lambda-timeout-ms".into(),
            timeout_ms.to_string(),
        ],
        None,
    )
}

/// A pool with these LambdaConfig members (function names become ARNs)
/// verifying email, and a client allowing the password flows.
pub fn pool_with(srv: &Server, triggers: &[(&str, &str)]) -> (String, String) {
    let mut config = serde_json::Map::new();
    for (trigger, function) in triggers {
        config.insert((*trigger).into(), json!(arn(function)));
    }
    let pool = srv.create_pool(
        "triggers",
        json!({"AutoVerifiedAttributes": ["email"], "LambdaConfig": config}),
    );
    let client = srv.create_client(&pool, password_flows());
    (pool, client)
}

fn sign_up(srv: &Server, client: &str, username: &str, email: &str) -> (u16, Value) {
    srv.call(
        "SignUp",
        json!({"ClientId": client, "Username": username, "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": email}],
               "ValidationData": [{"Name": "invite", "Value": "xyz"}],
               "ClientMetadata": {"source": "test"}}),
    )
}

// ------------------------------------------------- PreSignUp, PostConfirmation

#[test]
fn pre_sign_up_refusal_creates_no_user_and_auto_confirm_confirms() {
    let lambda = FakeLambda::start(|_, event| {
        let email = event["request"]["userAttributes"]["email"]
            .as_str()
            .unwrap_or_default();
        if email.ends_with("@blocked.example") {
            Answer::Fail("Sign-ups from this domain are closed".into())
        } else if email.ends_with("@trusted.example") {
            Answer::Respond(json!({"autoConfirmUser": true, "autoVerifyEmail": true}))
        } else {
            Answer::Respond(json!({}))
        }
    });
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(&srv, &[("PreSignUp", "pre-sign-up")]);

    // A refusal answers Cognito's error and leaves no user behind.
    let (status, v) = sign_up(&srv, &client, "mallory", "m@blocked.example");
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["__type"], "UserLambdaValidationException");
    assert_eq!(
        v["message"],
        "PreSignUp failed with error Sign-ups from this domain are closed."
    );
    srv.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "mallory"}),
        "UserNotFoundException",
    );
    assert!(srv.messages_for(&pool, "mallory").is_empty());
    // The name is free: a later allowed sign-up takes it.
    let (status, v) = sign_up(&srv, &client, "mallory", "m@example.com");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["UserConfirmed"], false);

    // autoConfirmUser + autoVerifyEmail: confirmed, verified, no code sent.
    let (status, v) = sign_up(&srv, &client, "trudy", "t@trusted.example");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["UserConfirmed"], true);
    assert!(v.get("CodeDeliveryDetails").is_none(), "{v}");
    let user = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "trudy"}),
    );
    assert_eq!(user["UserStatus"], "CONFIRMED");
    assert_eq!(attr(&user["UserAttributes"], "email_verified"), Some("true"));
    assert!(srv.messages_for(&pool, "trudy").is_empty());
    srv.login(&client, "trudy", PASSWORD);

    // The event as Cognito sends it, through the Invoke API path of the ARN.
    let events = lambda.events();
    let (function, event) = events.last().unwrap();
    assert_eq!(function, &arn("pre-sign-up"));
    assert_eq!(event["version"], "1");
    assert_eq!(event["triggerSource"], "PreSignUp_SignUp");
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(event["userPoolId"], pool.as_str());
    assert_eq!(event["userName"], "trudy");
    assert_eq!(event["callerContext"]["clientId"], client.as_str());
    assert!(event["callerContext"]["awsSdkVersion"].is_string());
    assert_eq!(event["request"]["userAttributes"]["email"], "t@trusted.example");
    assert_eq!(event["request"]["validationData"]["invite"], "xyz");
    assert_eq!(event["request"]["clientMetadata"]["source"], "test");
    assert_eq!(event["response"]["autoConfirmUser"], false);

    // AdminCreateUser runs it too (PreSignUp_AdminCreateUser), and a refusal creates nothing.
    srv.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "eve", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "e@blocked.example"}]}),
        "UserLambdaValidationException",
        "PreSignUp failed with error Sign-ups from this domain are closed.",
    );
    srv.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "eve"}),
        "UserNotFoundException",
    );
    srv.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "victor", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "v@trusted.example"}]}),
    );
    let user = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "victor"}),
    );
    assert_eq!(user["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(attr(&user["UserAttributes"], "email_verified"), Some("true"));
    let admin_events = lambda.events_of("PreSignUp_AdminCreateUser");
    assert_eq!(admin_events.len(), 2);
    assert_eq!(
        admin_events[1]["callerContext"]["clientId"],
        "CLIENT_ID_NOT_APPLICABLE"
    );
}

#[test]
fn post_confirmation_runs_after_confirm_sign_up_and_forgot_password() {
    let lambda = FakeLambda::start(|_, _| Answer::Respond(json!({})));
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(&srv, &[("PostConfirmation", "post-confirmation")]);
    srv.sign_up_confirmed(&pool, &client, "carol", "carol@example.com");
    let events = lambda.events_of("PostConfirmation_ConfirmSignUp");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["userName"], "carol");
    assert_eq!(e["callerContext"]["clientId"], client.as_str());
    assert_eq!(e["request"]["userAttributes"]["cognito:user_status"], "CONFIRMED");
    assert_eq!(e["request"]["userAttributes"]["email_verified"], "true");
    assert!(e["request"]["userAttributes"]["sub"].is_string());

    srv.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "carol"}),
    );
    let code = srv.last_code(&pool, "carol");
    srv.ok(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "carol", "ConfirmationCode": code,
               "Password": "N3w-Passw0rd!"}),
    );
    assert_eq!(
        lambda
            .events_of("PostConfirmation_ConfirmForgotPassword")
            .len(),
        1
    );

    // AdminConfirmSignUp runs it as well.
    sign_up(&srv, &client, "dave", "dave@example.com");
    srv.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "dave"}),
    );
    let events = lambda.events_of("PostConfirmation_ConfirmSignUp");
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["userName"], "dave");
}

#[test]
fn timeouts_unreachable_functions_and_malformed_answers() {
    let lambda = FakeLambda::start(|function, _| match function {
        f if f.ends_with(":slow") => Answer::Slow(Duration::from_millis(1500), json!({})),
        f if f.ends_with(":garbled") => Answer::Raw("this is not JSON".into()),
        f if f.ends_with(":wrong-type") => Answer::Respond(json!({"autoConfirmUser": "yes"})),
        _ => Answer::Respond(json!({})),
    });
    let srv = server_for(&lambda, 300);
    for (function, error) in [
        ("slow", "UnexpectedLambdaException"),
        ("garbled", "InvalidLambdaResponseException"),
        ("wrong-type", "InvalidLambdaResponseException"),
    ] {
        let (pool, client) = pool_with(&srv, &[("PreSignUp", function)]);
        let (status, v) = sign_up(&srv, &client, "frank", "f@example.com");
        assert_eq!(status, 400, "{function}: {v}");
        assert_eq!(v["__type"], error, "{function}: {v}");
        if function == "slow" {
            assert_eq!(
                v["message"],
                "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."
            );
        }
        srv.err(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "frank"}),
            "UserNotFoundException",
        );
    }
    // A server without a Lambda endpoint cannot run a trigger: UnexpectedLambdaException.
    let bare = Server::start();
    let (_pool, client) = pool_with(&bare, &[("PreSignUp", "anything")]);
    let (_, v) = sign_up(&bare, &client, "gina", "g@example.com");
    assert_eq!(v["__type"], "UnexpectedLambdaException", "{v}");
}

#[test]
fn lambda_config_is_stored_and_echoed_as_cognito_does() {
    let lambda = FakeLambda::start(|_, _| Answer::Respond(json!({})));
    let srv = server_for(&lambda, 5000);
    let pool = srv.create_pool(
        "cfg",
        json!({"LambdaConfig": {"PreTokenGeneration": arn("legacy"), "PreSignUp": arn("p")}}),
    );
    let described = srv.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    let config = &described["UserPool"]["LambdaConfig"];
    assert_eq!(config["PreSignUp"], arn("p"));
    assert_eq!(
        config["PreTokenGenerationConfig"],
        json!({"LambdaVersion": "V1_0", "LambdaArn": arn("legacy")})
    );
    srv.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "LambdaConfig": {
            "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": arn("v2")}}}),
    );
    let described = srv.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    let config = &described["UserPool"]["LambdaConfig"];
    assert_eq!(config["PreTokenGeneration"], arn("v2"));
    assert_eq!(config["PreTokenGenerationConfig"]["LambdaVersion"], "V2_0");
    assert!(config.get("PreSignUp").is_none(), "{config}");
}

#[test]
fn concurrent_sign_ups_through_a_trigger_create_one_user() {
    let lambda = FakeLambda::start(|_, _| {
        Answer::Slow(Duration::from_millis(20), json!({"autoConfirmUser": true}))
    });
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(&srv, &[("PreSignUp", "pre")]);
    let url = srv.url.clone();
    let results: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let url = url.clone();
                let client = client.clone();
                s.spawn(move || {
                    let r = reqwest::blocking::Client::new()
                        .post(format!("{url}/"))
                        .header("Content-Type", common::CONTENT_TYPE)
                        .header(
                            "X-Amz-Target",
                            format!("{}SignUp", common::TARGET_PREFIX),
                        )
                        .body(
                            json!({"ClientId": client, "Username": "same", "Password": PASSWORD,
                                   "UserAttributes": [{"Name": "email", "Value": format!("s{i}@example.com")}]})
                            .to_string(),
                        )
                        .send()
                        .unwrap();
                    let status = r.status().as_u16();
                    (status, r.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, v) in &results {
        if *status != 200 {
            assert_eq!(v["__type"], "UsernameExistsException", "{v}");
        }
    }
    let user = srv.ok("AdminGetUser", json!({"UserPoolId": pool, "Username": "same"}));
    assert_eq!(user["UserStatus"], "CONFIRMED");
}

#[allow(dead_code)]
fn claims(token: &Value) -> Value {
    jwt_claims(token.as_str().unwrap())
}

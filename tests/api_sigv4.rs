//! SigV4 on the IAM operations, against the real binary: credentials from
//! the config file and from the environment, AWS's refusals (unsigned,
//! unknown key, wrong secret, stale date, tampered body), session tokens,
//! pool-limited keys, public operations left unsigned, many requests in
//! flight, and the start-up rules (development mode on loopback, refusal
//! on other addresses without credentials, `--insecure-unsigned-admin`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{amz_date_now, Server, Signer, PASSWORD, TARGET_PREFIX};
use serde_json::{json, Value};

const ADMIN: (&str, &str) = ("AKIDADMIN0001", "admin-secret-0001");
const LIMITED: (&str, &str) = ("AKIDLIMITED01", "limited-secret-01");
const SESSION: (&str, &str, &str) = ("ASIASESSION01", "session-secret-01", "the-session-token");
const MINE: &str = "us-east-1_Mine1";
const OTHER: &str = "us-east-1_Other1";

fn config() -> String {
    format!(
        r#"
admin:
  credentials:
    - access_key_id: {}
      secret_access_key: {}
    - access_key_id: {}
      secret_access_key: {}
      pools: [{MINE}]
    - access_key_id: {}
      secret_access_key: {}
      session_token: {}
pools:
  - id: {MINE}
    name: mine
    clients:
      - id: mineclient1
        name: app
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
  - id: {OTHER}
    name: other
"#,
        ADMIN.0, ADMIN.1, LIMITED.0, LIMITED.1, SESSION.0, SESSION.1, SESSION.2
    )
}

fn host(s: &Server) -> String {
    format!("127.0.0.1:{}", s.port)
}

/// `op` with `body` signed by `signer` (now).
fn signed(s: &Server, signer: &Signer, op: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string().into_bytes();
    let headers = signer.sign(&host(s), &format!("{TARGET_PREFIX}{op}"), &body);
    s.post_with(&headers, body)
}

#[track_caller]
fn refused(got: (u16, Value), status: u16, error_type: &str) -> String {
    assert_eq!(
        (got.0, got.1["__type"].as_str()),
        (status, Some(error_type)),
        "{}",
        got.1
    );
    got.1["message"].as_str().unwrap().to_owned()
}

#[test]
fn config_file_credentials_are_checked() {
    let admin = Signer::new(ADMIN.0, ADMIN.1);
    let s = Server::start_signed(Some(&config()), &[], admin.clone());
    let list = json!({"MaxResults": 60});

    // The right key works (through the harness's signing helper too).
    let (status, v) = signed(&s, &admin, "ListUserPools", &list);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["UserPools"].as_array().unwrap().len(), 2, "{v}");
    s.ok("DescribeUserPool", json!({"UserPoolId": OTHER}));

    // Unsigned.
    let target = format!("{TARGET_PREFIX}ListUserPools");
    let plain = vec![
        ("content-type".to_owned(), common::CONTENT_TYPE.to_owned()),
        ("x-amz-target".to_owned(), target.clone()),
    ];
    let msg = refused(
        s.post_with(&plain, list.to_string().into_bytes()),
        403,
        "MissingAuthenticationTokenException",
    );
    assert_eq!(msg, "Missing Authentication Token");

    // The dummy signature of development mode names an unknown key.
    let mut dummy = plain.clone();
    dummy.push(("authorization".into(), common::DUMMY_AUTHORIZATION.into()));
    dummy.push(("x-amz-date".into(), amz_date_now(0)));
    let msg = refused(
        s.post_with(&dummy, list.to_string().into_bytes()),
        400,
        "UnrecognizedClientException",
    );
    assert_eq!(
        msg,
        "The security token included in the request is invalid."
    );
    let msg = refused(
        signed(
            &s,
            &Signer::new("AKIDUNKNOWN", ADMIN.1),
            "ListUserPools",
            &list,
        ),
        400,
        "UnrecognizedClientException",
    );
    assert_eq!(
        msg,
        "The security token included in the request is invalid."
    );

    // The wrong secret.
    let msg = refused(
        signed(
            &s,
            &Signer::new(ADMIN.0, "not-the-secret"),
            "ListUserPools",
            &list,
        ),
        400,
        "InvalidSignatureException",
    );
    assert!(
        msg.starts_with("The request signature we calculated does not match"),
        "{msg}"
    );

    // A body changed after signing, and a header changed after signing.
    let body = list.to_string().into_bytes();
    let headers = admin.sign(&host(&s), &target, &body);
    refused(
        s.post_with(&headers, br#"{"MaxResults": 1}"#.to_vec()),
        400,
        "InvalidSignatureException",
    );
    let retargeted: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| match k.as_str() {
            "x-amz-target" => (k.clone(), format!("{TARGET_PREFIX}DeleteUserPool")),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    refused(
        s.post_with(
            &retargeted,
            json!({"UserPoolId": OTHER}).to_string().into_bytes(),
        ),
        400,
        "InvalidSignatureException",
    );
    s.ok("DescribeUserPool", json!({"UserPoolId": OTHER}));

    // Signed ten minutes ago, or ten minutes ahead.
    let stale = admin.sign_at(&host(&s), &target, &body, &amz_date_now(-600));
    let msg = refused(
        s.post_with(&stale, body.clone()),
        400,
        "InvalidSignatureException",
    );
    assert!(
        msg.starts_with("Signature expired: ") && msg.ends_with(" - 5 min.)"),
        "{msg}"
    );
    let ahead = admin.sign_at(&host(&s), &target, &body, &amz_date_now(600));
    let msg = refused(
        s.post_with(&ahead, body.clone()),
        400,
        "InvalidSignatureException",
    );
    assert!(msg.starts_with("Signature not yet current: "), "{msg}");

    // The wrong region.
    let mut elsewhere = admin.clone();
    elsewhere.region = "eu-west-1".into();
    refused(
        signed(&s, &elsewhere, "ListUserPools", &list),
        400,
        "InvalidSignatureException",
    );

    // A malformed Authorization header.
    let mut malformed = plain.clone();
    malformed.push((
        "authorization".into(),
        "AWS4-HMAC-SHA256 Credential=x".into(),
    ));
    refused(
        s.post_with(&malformed, body.clone()),
        400,
        "IncompleteSignatureException",
    );
}

#[test]
fn session_tokens_must_be_the_configured_one() {
    let mut session = Signer::new(SESSION.0, SESSION.1);
    session.session_token = Some(SESSION.2.into());
    let s = Server::start_signed(Some(&config()), &[], session.clone());
    s.ok("ListUserPools", json!({"MaxResults": 10}));
    let mut without = session.clone();
    without.session_token = None;
    refused(
        signed(&s, &without, "ListUserPools", &json!({"MaxResults": 10})),
        400,
        "UnrecognizedClientException",
    );
    let mut other = session.clone();
    other.session_token = Some("another-token".into());
    refused(
        signed(&s, &other, "ListUserPools", &json!({"MaxResults": 10})),
        400,
        "UnrecognizedClientException",
    );
    // A long-term key given a token.
    let mut admin = Signer::new(ADMIN.0, ADMIN.1);
    admin.session_token = Some(SESSION.2.into());
    refused(
        signed(&s, &admin, "ListUserPools", &json!({"MaxResults": 10})),
        400,
        "UnrecognizedClientException",
    );
}

#[test]
fn pool_limited_keys_see_and_manage_only_their_pools() {
    let limited = Signer::new(LIMITED.0, LIMITED.1);
    let s = Server::start_signed(Some(&config()), &[], limited.clone());
    let v = s.ok("ListUserPools", json!({"MaxResults": 60}));
    let ids: Vec<&str> = v["UserPools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![MINE]);
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": MINE, "Username": "alice", "TemporaryPassword": PASSWORD}),
    );
    let msg = s.err(
        "AdminCreateUser",
        json!({"UserPoolId": OTHER, "Username": "alice"}),
        "AccessDeniedException",
    );
    assert!(
        msg.contains(&format!("cognito-idp:AdminCreateUser on resource: arn:aws:cognito-idp:us-east-1:000000000000:userpool/{OTHER}")),
        "{msg}"
    );
    s.err(
        "DescribeUserPool",
        json!({"UserPoolId": OTHER}),
        "AccessDeniedException",
    );
    s.err(
        "CreateUserPool",
        json!({"PoolName": "new"}),
        "AccessDeniedException",
    );
    s.err(
        "ListTagsForResource",
        json!({"ResourceArn": format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{OTHER}")}),
        "AccessDeniedException",
    );
    s.ok(
        "ListTagsForResource",
        json!({"ResourceArn": format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{MINE}")}),
    );
    // The unrestricted key manages both; the other pool is untouched.
    let admin = Signer::new(ADMIN.0, ADMIN.1);
    let (status, v) = signed(&s, &admin, "ListUsers", &json!({"UserPoolId": OTHER}));
    assert_eq!(
        (status, v["Users"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{v}"
    );
}

#[test]
fn public_operations_need_no_signature() {
    let admin = Signer::new(ADMIN.0, ADMIN.1);
    let s = Server::start_signed(Some(&config()), &[], admin.clone());
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": MINE, "Username": "bob", "MessageAction": "SUPPRESS"}),
    );
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": MINE, "Username": "bob", "Password": PASSWORD, "Permanent": true}),
    );
    let unsigned = |op: &str, body: Value| {
        let headers = vec![
            ("content-type".to_owned(), common::CONTENT_TYPE.to_owned()),
            ("x-amz-target".to_owned(), format!("{TARGET_PREFIX}{op}")),
        ];
        s.post_with(&headers, body.to_string().into_bytes())
    };
    let (status, v) = unsigned(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "mineclient1",
               "AuthParameters": {"USERNAME": "bob", "PASSWORD": PASSWORD}}),
    );
    assert_eq!(status, 200, "{v}");
    let token = v["AuthenticationResult"]["AccessToken"].as_str().unwrap();
    let (status, v) = unsigned("GetUser", json!({"AccessToken": token}));
    assert_eq!((status, v["Username"].as_str()), (200, Some("bob")), "{v}");
    let (status, v) = unsigned(
        "SignUp",
        json!({"ClientId": "mineclient1", "Username": "carol", "Password": PASSWORD}),
    );
    assert_eq!(status, 200, "{v}");
    // A signature on a public operation is ignored, even a wrong one.
    let (status, v) = signed(
        &s,
        &Signer::new("AKIDUNKNOWN", "x"),
        "GetUser",
        &json!({"AccessToken": token}),
    );
    assert_eq!(status, 200, "{v}");
}

#[test]
fn environment_credentials_are_checked() {
    let env_key = Signer::new("AKIDFROMENV01", "env-secret-0001");
    let s = Server::start_signed(
        None,
        &[
            ("COGNATE_ADMIN_ACCESS_KEY_ID", "AKIDFROMENV01"),
            ("COGNATE_ADMIN_SECRET_ACCESS_KEY", "env-secret-0001"),
        ],
        env_key.clone(),
    );
    let pool = s.create_pool("from-env", json!({}));
    s.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    refused(
        signed(
            &s,
            &Signer::new("AKIDFROMENV01", "wrong"),
            "DescribeUserPool",
            &json!({"UserPoolId": pool}),
        ),
        400,
        "InvalidSignatureException",
    );
    refused(
        signed(
            &s,
            &Signer::new("test", "test"),
            "DescribeUserPool",
            &json!({"UserPoolId": pool}),
        ),
        400,
        "UnrecognizedClientException",
    );
}

/// Many signed requests in flight at once, good and bad interleaved: each
/// gets its own answer.
#[test]
fn signatures_hold_under_concurrency() {
    let admin = Signer::new(ADMIN.0, ADMIN.1);
    let s = Server::start_signed(Some(&config()), &[], admin.clone());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..48)
            .map(|i| {
                let s = &s;
                let admin = admin.clone();
                scope.spawn(move || {
                    let body = json!({"UserPoolId": MINE, "GroupName": format!("g{i}")});
                    match i % 3 {
                        0 => {
                            let (status, v) = signed(s, &admin, "CreateGroup", &body);
                            assert_eq!(status, 200, "{v}");
                            0
                        }
                        1 => refused(
                            signed(s, &Signer::new(ADMIN.0, "wrong"), "CreateGroup", &body),
                            400,
                            "InvalidSignatureException",
                        )
                        .len(),
                        _ => refused(
                            signed(
                                s,
                                &Signer::new(LIMITED.0, LIMITED.1),
                                "CreateGroup",
                                &json!({"UserPoolId": OTHER, "GroupName": format!("g{i}")}),
                            ),
                            400,
                            "AccessDeniedException",
                        )
                        .len(),
                    };
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    let v = s.ok("ListGroups", json!({"UserPoolId": MINE, "Limit": 60}));
    assert_eq!(v["Groups"].as_array().unwrap().len(), 16, "{v}");
    let v = s.ok("ListGroups", json!({"UserPoolId": OTHER, "Limit": 60}));
    assert_eq!(v["Groups"].as_array().unwrap().len(), 0, "{v}");
}

// ------------------------------------------------------------ start-up rules

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn serve(listen: &str, extra: &[&str], env: &[(&str, &str)]) -> (Child, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
    cmd.args(["serve", "--listen", listen, "--log", "warn"])
        .arg("--data-dir")
        .arg(tmp.path())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "COGNATE_CONFIG",
        "COGNATE_DATABASE_URL",
        "COGNATE_ADMIN_ACCESS_KEY_ID",
        "COGNATE_ADMIN_SECRET_ACCESS_KEY",
        "COGNATE_INSECURE_UNSIGNED_ADMIN",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    (cmd.spawn().unwrap(), tmp)
}

/// The banner (stdout up to "Try it:"), or the exit status and stderr.
fn banner(child: &mut Child) -> String {
    let out = child.stdout.take().unwrap();
    let mut text = String::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("Try it:") {
            return text;
        }
    }
    panic!("no banner: {text}");
}

/// Whether a process that must exit on its own succeeded, and its stderr;
/// killed (and the test failed) when it is still running after 20 s.
fn exit_of(mut child: Child) -> (bool, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("still running: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stop(child: Child) -> String {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn loopback_without_credentials_is_development_mode() {
    let port = free_port();
    let (mut child, _tmp) = serve(&format!("127.0.0.1:{port}"), &[], &[]);
    let text = banner(&mut child);
    assert!(
        text.contains("development mode: admin calls are not signature-checked"),
        "{text}"
    );
    stop(child);
}

#[test]
fn non_loopback_without_credentials_refuses_to_start() {
    let port = free_port();
    let (child, _tmp) = serve(&format!("0.0.0.0:{port}"), &[], &[]);
    let (success, stderr) = exit_of(child);
    assert!(!success, "{stderr}");
    for part in [
        "admin.credentials",
        "COGNATE_ADMIN_ACCESS_KEY_ID",
        "COGNATE_ADMIN_SECRET_ACCESS_KEY",
        "--insecure-unsigned-admin",
    ] {
        assert!(stderr.contains(part), "{part} not in: {stderr}");
    }
}

#[test]
fn insecure_flag_starts_and_warns() {
    let port = free_port();
    let (mut child, _tmp) = serve(
        &format!("0.0.0.0:{port}"),
        &["--insecure-unsigned-admin"],
        &[],
    );
    let text = banner(&mut child);
    assert!(text.contains("INSECURE"), "{text}");
    // It serves, accepting any well-formed signature.
    let r = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/"))
        .header("content-type", common::CONTENT_TYPE)
        .header("x-amz-target", format!("{TARGET_PREFIX}ListUserPools"))
        .header("authorization", common::DUMMY_AUTHORIZATION)
        .body(r#"{"MaxResults": 10}"#)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let stderr = stop(child);
    assert!(stderr.contains("--insecure-unsigned-admin"), "{stderr}");
}

#[test]
fn non_loopback_with_credentials_starts_checked() {
    let port = free_port();
    let (mut child, _tmp) = serve(
        &format!("0.0.0.0:{port}"),
        &[],
        &[
            ("COGNATE_ADMIN_ACCESS_KEY_ID", "AKIDFROMENV01"),
            ("COGNATE_ADMIN_SECRET_ACCESS_KEY", "env-secret-0001"),
        ],
    );
    let text = banner(&mut child);
    assert!(text.contains("SigV4-checked (1 access key(s)"), "{text}");
    assert!(!text.contains("env-secret-0001"), "{text}");
    let stderr = stop(child);
    assert!(!stderr.contains("env-secret-0001"), "{stderr}");
}

#[test]
fn bad_admin_configuration_is_refused_with_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.yaml");
    for (yaml, want) in [
        (
            "admin:\n  credentials:\n    - access_key_id: a/b\n      secret_access_key: s\n",
            "admin.credentials[0].access_key_id",
        ),
        (
            "admin:\n  credentials:\n    - access_key_id: k\n      secret_access_key: ''\n",
            "admin.credentials[0].secret_access_key",
        ),
        (
            "admin:\n  credentials:\n    - access_key_id: k\n      secret_access_key: s\n    - access_key_id: k\n      secret_access_key: t\n",
            "admin.credentials[1].access_key_id",
        ),
        (
            "admin:\n  credentials:\n    - access_key_id: k\n      secret_access_key: s\n      pools: [nope]\n",
            "admin.credentials[0].pools",
        ),
    ] {
        std::fs::write(&cfg, yaml).unwrap();
        let port = free_port();
        let (child, _tmp) = serve(
            &format!("127.0.0.1:{port}"),
            &["--config", cfg.to_str().unwrap()],
            &[],
        );
        let (success, stderr) = exit_of(child);
        assert!(!success && stderr.contains(want), "{want}: {stderr}");
    }
    // Only one of the two variables.
    let port = free_port();
    let (child, _tmp) = serve(
        &format!("127.0.0.1:{port}"),
        &[],
        &[("COGNATE_ADMIN_ACCESS_KEY_ID", "k")],
    );
    let (success, stderr) = exit_of(child);
    assert!(
        !success && stderr.contains("must be set together"),
        "{stderr}"
    );
}

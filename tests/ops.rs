//! Operations of the main listener, with real sockets against the real
//! binary: connection cap, idle and header-read timeouts (slowloris), 431,
//! 413, the request timeout, `/health` and `/ready` (on the engine of
//! `COGNATE_TEST_ENGINE`; the 503 case on PostgreSQL, which needs
//! `COGNATE_TEST_POSTGRES_URL`), graceful shutdown on SIGTERM and JSON logs.
//! Timeouts are set short by flag; no test sleeps for a rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::TestDatabase;
use serde_json::{json, Value};

/// A `cognate serve` with extra flags, its output in files of its data directory.
struct Proc {
    child: Child,
    port: u16,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
    _db: Option<TestDatabase>,
}

impl Proc {
    fn start(flags: &[&str]) -> Proc {
        Self::start_on(flags, TestDatabase::for_engine())
    }

    fn start_on(flags: &[&str], db: Option<TestDatabase>) -> Proc {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
            cmd.arg("serve")
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--data-dir")
                .arg(&dir)
                .args(flags)
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(dir.join("stdout")).expect("stdout file"))
                .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr file"));
            if let Some(db) = &db {
                cmd.arg("--database").arg(&db.url);
            }
            for (var, _) in std::env::vars() {
                if var.starts_with("COGNATE_") && !var.starts_with("COGNATE_TEST_") {
                    cmd.env_remove(var);
                }
            }
            let child = cmd.spawn().expect("spawn cognate");
            let mut p = Proc {
                child,
                port,
                dir: dir.clone(),
                _tmp: tempfile::tempdir().expect("tempdir"),
                _db: None,
            };
            if p.wait_healthy() {
                p._tmp = tmp;
                p._db = db;
                return p;
            }
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        panic!(
            "cognate did not start: {}",
            std::fs::read_to_string(dir.join("stderr")).unwrap_or_default()
        );
    }

    fn wait_healthy(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ =
                    s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                if out.starts_with("HTTP/1.1 200") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits (at most `within`) for the process to exit.
    fn wait_exit(&mut self, within: Duration) -> Option<(ExitStatus, Duration)> {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some((status, start.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// A whole exchange on a new connection; returns status, headers and body.
    fn exchange(&self, request: &[u8]) -> (u16, String, String) {
        let mut s = self.connect();
        s.write_all(request).unwrap();
        read_response(&mut s)
    }

    fn get(&self, path: &str) -> (u16, String, String) {
        self.exchange(
            format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
        )
    }

    /// `POST /` with an operation and a JSON body.
    fn call(&self, op: &str, body: Value) -> (u16, Value) {
        let body = body.to_string();
        let mut request = api_head(op, body.len()).into_bytes();
        request.extend_from_slice(body.as_bytes());
        let (status, _, text) = self.exchange(&request);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A well-formed SigV4 `Authorization` header (the IAM operations need one;
/// on loopback without admin credentials it is not checked).
const AUTHORIZATION: &str =
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/cognito-idp/aws4_request, \
     SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
     Signature=0000000000000000000000000000000000000000000000000000000000000000";

fn api_head(op: &str, len: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSCognitoIdentityProviderService.{op}\r\nAuthorization: {AUTHORIZATION}\r\n\
         Content-Length: {len}\r\n\r\n"
    )
}

/// Reads one response (status line, headers, a Content-Length body).
fn read_response(s: &mut TcpStream) -> (u16, String, String) {
    read_response_to(s, false)
}

fn read_response_to(s: &mut TcpStream, request_was_head: bool) -> (u16, String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).expect("read a response");
        assert!(
            n > 0,
            "connection closed before a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status: u16 = head[9..12].parse().expect("status");
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    // A response to HEAD has a length and no body.
    let len = if request_was_head { 0 } else { len };
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).expect("read the body");
        assert!(n > 0, "connection closed in the body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
    (status, head, body)
}

/// Whether the server closed the connection (EOF or reset) before `within`;
/// returns how long it took. Fails if a response arrives.
fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 1024];
    match s.read(&mut buf) {
        Ok(0) => Some(start.elapsed()),
        Ok(n) => panic!("unexpected bytes: {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(_) => Some(start.elapsed()),
    }
}

/// Sends `head`, then a body of `len` bytes of `fill` from another thread
/// (ignoring write errors: the server may stop reading), and reads the response.
fn send_big(p: &Proc, head: String, len: usize, fill: u8) -> (u16, String, String) {
    let mut s = p.connect();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(head.as_bytes());
        let chunk = vec![fill; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            let n = chunk.len().min(len - sent);
            if w.write_all(&chunk[..n]).is_err() {
                return;
            }
            sent += n;
        }
    });
    let response = read_response(&mut s);
    let _ = s.shutdown(Shutdown::Both);
    let _ = writer.join();
    response
}

#[test]
fn a_slowloris_head_is_cut_off_at_the_header_read_timeout() {
    let p = Proc::start(&[
        "--header-read-timeout-ms",
        "500",
        "--idle-timeout-ms",
        "60000",
    ]);
    // One header byte every 100 ms: disconnected 500 ms after the first byte.
    let mut s = p.connect();
    let start = Instant::now();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .unwrap();
    let mut closed = None;
    while start.elapsed() < Duration::from_secs(5) {
        if s.write_all(b"a").is_err() {
            closed = Some(start.elapsed());
            break;
        }
        if closed_within(&mut s, Duration::from_millis(100)).is_some() {
            closed = Some(start.elapsed());
            break;
        }
    }
    let closed = closed.expect("a slowloris connection stays open");
    assert!(
        closed >= Duration::from_millis(450) && closed < Duration::from_millis(1500),
        "closed after {closed:?}"
    );
    // A head that trickles in but is whole within the limit is served.
    let mut s = p.connect();
    for part in [
        &b"GET /health HTTP/1.1\r\n"[..],
        b"Host: t\r\n",
        b"Connection: close\r\n",
        b"\r\n",
    ] {
        s.write_all(part).unwrap();
        std::thread::sleep(Duration::from_millis(60));
    }
    assert_eq!(read_response(&mut s).0, 200);
}

#[test]
fn idle_connections_are_closed_at_the_idle_timeout() {
    let p = Proc::start(&[
        "--idle-timeout-ms",
        "400",
        "--header-read-timeout-ms",
        "60000",
    ]);
    // A connection that never sends anything.
    let mut silent = p.connect();
    let waited =
        closed_within(&mut silent, Duration::from_secs(5)).expect("a silent connection stays open");
    assert!(
        waited >= Duration::from_millis(350) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    // A kept-alive connection after its response: two requests within the
    // timeout are served on it, then it is closed once idle that long.
    let mut kept = p.connect();
    for _ in 0..2 {
        kept.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut kept).0, 200);
        std::thread::sleep(Duration::from_millis(150));
    }
    let waited = closed_within(&mut kept, Duration::from_secs(5))
        .expect("an idle kept-alive connection stays open");
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[test]
fn an_oversize_head_answers_431() {
    let p = Proc::start(&["--max-header-bytes", "4096"]);
    let big = |n: usize| {
        format!(
            "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
            "a".repeat(n)
        )
    };
    assert_eq!(p.exchange(big(2000).as_bytes()).0, 200);
    assert_eq!(p.exchange(big(5000).as_bytes()).0, 431);
    let many: String = (0..101).map(|i| format!("X-H{i}: v\r\n")).collect();
    let req = format!("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{many}\r\n");
    assert_eq!(p.exchange(req.as_bytes()).0, 431);
    // The default limit (32 KiB) is far above a real client's head.
    let p = Proc::start(&[]);
    assert_eq!(p.exchange(big(16 * 1024).as_bytes()).0, 200);
    assert_eq!(p.exchange(big(40 * 1024).as_bytes()).0, 431);
}

#[test]
fn bodies_over_the_limit_answer_413_on_every_route() {
    let p = Proc::start(&[]);
    let (status, pool) = p.call("CreateUserPool", json!({"PoolName": "ops"}));
    assert_eq!(status, 200, "{pool}");
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let (status, v) = p.call(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool_id, "Domain": "ops-limits"}),
    );
    assert_eq!(status, 200, "{v}");
    let two_mib = 2 * 1024 * 1024;
    // The JSON API (bounded at 2 MiB): Cognito's error shape.
    let over = two_mib + 1;
    let (status, _, body) = send_big(&p, api_head("CreateUserPool", over), over, b' ');
    assert_eq!(status, 413, "{body}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["__type"], "SerializationException");
    // The token endpoint and the hosted UI's forms.
    for path in [
        "/domains/ops-limits/oauth2/token",
        "/domains/ops-limits/login",
        "/domains/ops-limits/signup",
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {two_mib}\r\n\r\n"
        );
        let (status, _, body) = send_big(&p, head, two_mib, b'a');
        assert_eq!(status, 413, "{path}: {body}");
    }
    // Below the listener's limit a form is still bounded by its handler (16 KiB).
    let form = "a".repeat(64 * 1024);
    let req = format!(
        "POST /domains/ops-limits/oauth2/token HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let (status, _, body) = p.exchange(req.as_bytes());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_request"), "{body}");
}

#[test]
fn connections_over_the_cap_wait_for_a_free_one() {
    let p = Proc::start(&["--max-connections", "2"]);
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = p.connect();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                .unwrap();
            assert_eq!(read_response(&mut s).0, 200);
            s
        })
        .collect();
    // A third connection is not accepted while both are open...
    let mut third = p.connect();
    third
        .write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let err = third.read(&mut byte).expect_err("answered over the cap");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    // ...and is served as soon as one closes.
    drop(held.pop());
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(read_response(&mut third).0, 200);
    drop(held);

    // Dozens of clients at once through a cap of 2: every one is served.
    let clients: Vec<_> = (0..40)
        .map(|i| {
            let port = p.port;
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let body = json!({"PoolName": format!("p{i}")}).to_string();
                let mut req = api_head("CreateUserPool", body.len()).into_bytes();
                req.extend_from_slice(body.as_bytes());
                s.write_all(&req).unwrap();
                read_response(&mut s).0
            })
        })
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), 200);
    }
    let (_, v) = p.call("ListUserPools", json!({"MaxResults": 60}));
    assert_eq!(v["UserPools"].as_array().map(Vec::len), Some(40));
}

#[test]
fn a_request_over_the_timeout_answers_504_in_cognitos_shape() {
    let p = Proc::start(&["--request-timeout-ms", "300"]);
    // A body that never arrives in full.
    let mut s = p.connect();
    let start = Instant::now();
    s.write_all(api_head("CreateUserPool", 100).as_bytes())
        .unwrap();
    s.write_all(b"{\"PoolName\":").unwrap();
    let (status, head, body) = read_response(&mut s);
    let took = start.elapsed();
    assert_eq!(status, 504, "{body}");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["__type"], "InternalErrorException", "{v}");
    assert!(v["message"].as_str().unwrap().contains("300 ms"), "{v}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: application/x-amz-json-1.1"),
        "{head}"
    );
    assert!(head.contains("x-amzn-requestid:"), "{head}");
    // Requests within the limit are unaffected.
    let (status, v) = p.call("ListUserPools", json!({"MaxResults": 10}));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn health_and_ready_answer_on_this_engine() {
    let p = Proc::start(&[]);
    for path in ["/health", "/ready"] {
        let (status, head, body) = p.get(path);
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"status":"ok"}"#),
            "{path}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
    }
    // Not taken by a pool domain served by host name, nor by pool-id routes.
    let (status, pool) = p.call("CreateUserPool", json!({"PoolName": "ops"}));
    assert_eq!(status, 200);
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap();
    let (status, v) = p.call(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool_id, "Domain": "ready"}),
    );
    assert_eq!(status, 200, "{v}");
    for path in ["/health", "/ready"] {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: ready.auth.localhost\r\nConnection: close\r\n\r\n"
        );
        let (status, _, body) = p.exchange(req.as_bytes());
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"status":"ok"}"#),
            "{path} by host"
        );
    }
    // (That host does reach the domain's pages.)
    let req = b"GET /login HTTP/1.1\r\nHost: ready.auth.localhost\r\nConnection: close\r\n\r\n";
    assert_ne!(p.exchange(req).0, 404);
    let (status, _, _) = p.get(&format!("/{pool_id}/.well-known/jwks.json"));
    assert_eq!(status, 200);
    let mut s = p.connect();
    s.write_all(b"HEAD /ready HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_response_to(&mut s, true).0, 200);
}

/// The database under a running server goes away: `/ready` says so, `/health` does not.
#[test]
fn ready_answers_503_when_the_database_is_gone() {
    let db = TestDatabase::create();
    let url = db.url.clone();
    let p = Proc::start_on(&[], Some(db));
    assert_eq!(p.get("/ready").0, 200);
    let (server, name) = url.rsplit_once('/').unwrap();
    let name = name.split('?').next().unwrap().to_owned();
    let admin = format!("{server}/postgres");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .unwrap();
            let task = tokio::spawn(conn);
            client
                .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .await
                .unwrap();
            drop(client);
            let _ = task.await;
        })
    })
    .join()
    .unwrap();
    let (status, _, body) = p.get("/ready");
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"status":"unavailable"}"#)
    );
    assert_eq!(p.get("/health").0, 200);
    assert!(!p.stderr().contains("password"), "{}", p.stderr());
}

#[test]
fn sigterm_lets_an_open_request_finish_and_refuses_new_connections() {
    let mut p = Proc::start(&["--shutdown-grace-secs", "10"]);
    // A request in flight: its body is half sent.
    let body = json!({"PoolName": "in-flight"}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut s = p.connect();
    s.write_all(api_head("CreateUserPool", body.len()).as_bytes())
        .unwrap();
    s.write_all(first.as_bytes()).unwrap();
    // Let the server start reading that body before the signal.
    std::thread::sleep(Duration::from_millis(100));
    p.sigterm();
    // New connections are refused while the request is still open.
    let start = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", p.port)) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => break,
            _ if start.elapsed() > Duration::from_secs(1) => {
                panic!("still accepting 1 s after SIGTERM")
            }
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    assert!(
        p.child.try_wait().unwrap().is_none(),
        "exited with a request open"
    );
    // The open request completes, then the process exits 0.
    s.write_all(rest.as_bytes()).unwrap();
    let (status, head, body) = read_response(&mut s);
    assert_eq!(status, 200, "{body}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["UserPool"]["Name"], "in-flight");
    let (status, took) = p
        .wait_exit(Duration::from_secs(2))
        .expect("no exit after the last request");
    assert!(status.success(), "{status}: {}", p.stderr());
    eprintln!("exit {took:?} after the last response");
}

#[test]
fn the_grace_period_bounds_the_shutdown() {
    let mut p = Proc::start(&[
        "--shutdown-grace-secs",
        "1",
        "--request-timeout-ms",
        "60000",
    ]);
    // A request whose body never comes, and a head that never ends.
    let mut stuck = p.connect();
    stuck
        .write_all(api_head("CreateUserPool", 100).as_bytes())
        .unwrap();
    stuck.write_all(b"{").unwrap();
    let mut half = p.connect();
    half.write_all(b"GET /health HTTP/1.1\r\nHo").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    p.sigterm();
    let (status, took) = p
        .wait_exit(Duration::from_secs(5))
        .expect("no exit 5 s after SIGTERM");
    assert!(status.success(), "{status}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "exit after {took:?}"
    );
    assert!(p.stderr().contains("shutdown grace over"), "{}", p.stderr());
}

#[test]
fn an_idle_server_exits_at_once_on_sigterm() {
    let mut p = Proc::start(&[]);
    // Idle connections: one kept alive after a request, one that never sent anything.
    let mut kept = p.connect();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut kept).0, 200);
    let _silent = p.connect();
    std::thread::sleep(Duration::from_millis(50));
    p.sigterm();
    let (status, took) = p
        .wait_exit(Duration::from_secs(5))
        .expect("no exit 5 s after SIGTERM");
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(1), "exit after {took:?}");
    eprintln!("idle exit after {took:?}");
}

#[test]
fn json_logs_are_one_object_a_line() {
    let mut p = Proc::start(&[
        "--log-format",
        "json",
        "--log",
        "info",
        "--request-timeout-ms",
        // Long enough for a first call on a busy PostgreSQL.
        "1500",
    ]);
    let (status, _) = p.call("ListUserPools", json!({"MaxResults": 5}));
    assert_eq!(status, 200);
    // A warning with fields: a request over the timeout.
    let mut s = p.connect();
    s.write_all(api_head("ListUserPools", 50).as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut s).0, 504);
    p.sigterm();
    p.wait_exit(Duration::from_secs(5)).expect("exit");
    let stdout = std::fs::read_to_string(p.dir.join("stdout")).unwrap();
    let stderr = p.stderr();
    let mut messages = Vec::new();
    for line in stdout.lines().chain(stderr.lines()) {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                .contains(&v["level"].as_str().unwrap_or("")),
            "{line}"
        );
        messages.push(
            v["message"]
                .as_str()
                .unwrap_or_else(|| panic!("no message: {line}"))
                .to_owned(),
        );
        if v["message"] == "request timed out" {
            assert_eq!(v["level"], "WARN");
            assert_eq!(v["timeout_ms"], 1500);
        }
    }
    for expected in [
        "listening on",
        "ready",
        "request timed out",
        "shutting down",
        "stopped",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "no {expected:?} in {messages:?}"
        );
    }
}

//! Shared harness of the HTTP integration tests: starts the real `cognate`
//! binary on a free port with its own data directory (and, when
//! `COGNATE_TEST_ENGINE=postgres`, its own PostgreSQL database: see
//! `database.rs`), speaks AWS JSON 1.1 to it, and reads codes from the
//! development outbox. Every request carries a SigV4 `Authorization`
//! header: a well-formed dummy one (enough for a server without admin
//! credentials, in development mode), or a real signature when the server
//! was started with a `Signer` (`Server::start_signed`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

pub mod background;
mod database;
pub mod inproc;
pub mod lambda;
pub mod mmdb;

pub use database::{open_store, TestDatabase};

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// A password that satisfies the default policy.
pub const PASSWORD: &str = "Passw0rd!";

/// A SAML identity provider's metadata (HTTP-Redirect single sign-on and
/// logout), for SAML providers' `MetadataFile`.
pub const SAML_METADATA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/slo/saml"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/saml/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/saml"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#;
/// A well-formed SigV4 `Authorization` header, as the aws CLI sends it with
/// dummy credentials; a server without admin credentials accepts it unchecked.
pub const DUMMY_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/cognito-idp/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// AWS credentials that sign requests with SigV4 (written here from the
/// specification, independently of the server's checker).
#[derive(Clone, Debug)]
pub struct Signer {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex(&Sha256::digest(data))
}

impl Signer {
    pub fn new(access_key_id: &str, secret_access_key: &str) -> Signer {
        Signer {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            region: "us-east-1".into(),
        }
    }

    /// The headers of `POST /` to `host` with `target` and `body`, signed at
    /// `amz_date` (`YYYYMMDDTHHMMSSZ`): every header given is signed.
    pub fn sign_at(
        &self,
        host: &str,
        target: &str,
        body: &[u8],
        amz_date: &str,
    ) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = vec![
            ("content-type".into(), CONTENT_TYPE.into()),
            ("host".into(), host.into()),
            ("x-amz-date".into(), amz_date.into()),
            ("x-amz-target".into(), target.into()),
        ];
        if let Some(t) = &self.session_token {
            headers.push(("x-amz-security-token".into(), t.clone()));
        }
        headers.sort();
        let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        let signed = signed.join(";");
        let canonical = format!(
            "POST\n/\n\n{canonical_headers}\n{signed}\n{}",
            sha256_hex(body)
        );
        let day = &amz_date[..8];
        let scope = format!("{day}/{}/cognito-idp/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            sha256_hex(canonical.as_bytes())
        );
        let mut key = hmac(
            format!("AWS4{}", self.secret_access_key).as_bytes(),
            day.as_bytes(),
        );
        for part in [self.region.as_str(), "cognito-idp", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(&key, to_sign.as_bytes()));
        headers.push((
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
                self.access_key_id
            ),
        ));
        headers.retain(|(k, _)| k != "host");
        headers
    }

    /// As `sign_at`, signed now.
    pub fn sign(&self, host: &str, target: &str, body: &[u8]) -> Vec<(String, String)> {
        self.sign_at(host, target, body, &amz_date_now(0))
    }
}

/// `YYYYMMDDTHHMMSSZ` of now plus `offset_secs`.
pub fn amz_date_now(offset_secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    cognate_aws_json::sigv4::format_amz_date(now + offset_secs)
}

/// A running `cognate serve` process. Killed on drop; its data directory
/// lives as long as this value (or the `TempDir` handed to `restart`).
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub url: String,
    pub data_dir: PathBuf,
    config: Option<PathBuf>,
    /// Extra `serve` flags, kept for `restart`.
    flags: Vec<String>,
    tmp: Option<tempfile::TempDir>,
    /// The PostgreSQL database (when the tests run on PostgreSQL).
    database: Option<TestDatabase>,
    http: reqwest::blocking::Client,
    /// Extra environment of the process (kept across restarts).
    env: Vec<(String, String)>,
    /// Signs every request when set; else the dummy `Authorization`.
    pub signer: Option<Signer>,
}

/// In a server's extra environment: the server logs at debug level, as
/// JSON lines, with its standard output and error appended to this file
/// (the log scanner of `tests/audit.rs`).
pub const LOG_FILE_ENV: &str = "COGNATE_TEST_LOG_FILE";

/// Whether process `pid` holds a listening TCP socket on `port` (Linux:
/// the socket inodes of `/proc/net/tcp{,6}` against the process's fds;
/// where there is no `/proc`, it cannot be told, and counts as yes).
pub fn listens_on(pid: u32, port: u16) -> bool {
    if !std::path::Path::new("/proc/net/tcp").exists() {
        return true;
    }
    let suffix = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9 && fields[1].ends_with(&suffix) && fields[3] == "0A" {
                inodes.push(format!("socket:[{}]", fields[9]));
            }
        }
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
    })
}

/// Writes a list of compromised passwords (`serve --compromised-passwords`)
/// holding the digests of `passwords` and of `filler` other ones, sorted,
/// as `HASH:count` lines with CRLF, as Pwned Passwords publishes them.
pub fn pwned_list(dir: &std::path::Path, passwords: &[&str], filler: usize) -> PathBuf {
    let digest = |p: &str| {
        cognate_crypto::digest::hex(&cognate_crypto::digest::sha1(p.as_bytes())).to_uppercase()
    };
    let mut keys: Vec<String> = (0..filler).map(|i| digest(&format!("other-{i}"))).collect();
    keys.extend(passwords.iter().map(|p| digest(p)));
    keys.sort();
    let text: String = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k}:{}\r\n", i + 1))
        .collect();
    let path = dir.join("pwned-passwords.txt");
    std::fs::write(&path, text).expect("write the list");
    path
}

/// Runs `cognate serve` on loopback and a fresh data directory with
/// `flags`, without the environment variables `unset`, expecting it to
/// refuse to start; returns what it printed on stderr.
pub fn refused_start(flags: &[&str], unset: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(flags);
    for var in unset {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("run cognate serve");
    assert!(
        !out.status.success(),
        "cognate serve started with {flags:?}"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl Server {
    /// A fresh server with an empty data directory.
    pub fn start() -> Server {
        Self::fresh(None, &[], Vec::new(), None)
    }

    /// A fresh server started with extra `serve` flags.
    pub fn start_with_flags(flags: &[&str]) -> Server {
        let flags = flags.iter().map(|f| (*f).to_owned()).collect();
        Self::fresh(None, &[], flags, None)
    }

    /// A fresh server with an optional config file and extra environment
    /// (e.g. `COGNATE_ADMIN_ACCESS_KEY_ID`), whose requests `signer` signs.
    pub fn start_signed(yaml: Option<&str>, env: &[(&str, &str)], signer: Signer) -> Server {
        let mut s = Self::fresh(yaml, env, Vec::new(), None);
        s.signer = Some(signer);
        s
    }

    /// A fresh server with extra environment and `serve` flags.
    pub fn start_with_env(env: &[(&str, &str)], flags: &[&str]) -> Server {
        let flags = flags.iter().map(|f| (*f).to_owned()).collect();
        Self::fresh(None, env, flags, None)
    }

    /// A fresh server applying a YAML config file at start.
    pub fn start_with_config(yaml: &str) -> Server {
        Self::fresh(Some(yaml), &[], Vec::new(), None)
    }

    /// A fresh server with further `serve` flags and, optionally, a config file.
    pub fn start_with_args(args: &[String], yaml: Option<&str>) -> Server {
        Self::fresh(yaml, &[], args.to_vec(), None)
    }

    /// A fresh server on `port` (public URL `http://127.0.0.1:<port>`)
    /// applying a YAML config file: for a config that names the server's
    /// own URL (e.g. a gateway `jwt` authorizer of a local pool).
    pub fn start_with_config_on(port: u16, yaml: &str) -> Server {
        Self::fresh(Some(yaml), &[], Vec::new(), Some(port))
    }

    /// A fresh server in a new temporary directory (data in `data/`, the
    /// config file, when given, beside it).
    fn fresh(
        yaml: Option<&str>,
        env: &[(&str, &str)],
        flags: Vec<String>,
        port: Option<u16>,
    ) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        let cfg = yaml.map(|yaml| {
            let cfg = tmp.path().join("cognate.yaml");
            std::fs::write(&cfg, yaml).expect("write config");
            cfg
        });
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::launch(
            Some(tmp),
            dir,
            cfg,
            port,
            TestDatabase::for_engine(),
            env,
            flags,
        )
    }

    /// Stops this server (SIGTERM, then waits) and starts a new one on the
    /// same data directory and, so that token issuers stay valid, the same port.
    pub fn restart(mut self) -> Server {
        self.stop();
        let tmp = self.tmp.take();
        let database = self.database.take();
        let dir = self.data_dir.clone();
        let cfg = self.config.clone();
        let flags = std::mem::take(&mut self.flags);
        let env = std::mem::take(&mut self.env);
        let signer = self.signer.take();
        let mut s = Self::launch(tmp, dir, cfg, Some(self.port), database, env, flags);
        s.signer = signer;
        s
    }

    fn launch(
        tmp: Option<tempfile::TempDir>,
        data_dir: PathBuf,
        config: Option<PathBuf>,
        fixed_port: Option<u16>,
        database: Option<TestDatabase>,
        env: Vec<(String, String)>,
        flags: Vec<String>,
    ) -> Server {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        // The port is free when probed; another process may take it before the
        // server binds it, so retry a few times with a new port.
        let log_file = env
            .iter()
            .find(|(k, _)| k == LOG_FILE_ENV)
            .map(|(_, v)| PathBuf::from(v));
        let mut last_err = String::new();
        for attempt in 0..5 {
            let port = match fixed_port {
                Some(p) => p,
                None => free_port(),
            };
            let url = format!("http://127.0.0.1:{port}");
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
            cmd.arg("serve")
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--data-dir")
                .arg(&data_dir)
                .arg("--public-url")
                .arg(&url)
                .stdin(Stdio::null());
            match &log_file {
                Some(path) => {
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .expect("open the log file");
                    cmd.args(["--log", "debug", "--log-format", "json"])
                        .stdout(file.try_clone().expect("log file"))
                        .stderr(file);
                }
                None => {
                    cmd.args(["--log", "warn"])
                        .stdout(Stdio::null())
                        .stderr(Stdio::piped());
                }
            }
            if let Some(c) = &config {
                cmd.arg("--config").arg(c);
            }
            if let Some(db) = &database {
                cmd.arg("--database").arg(&db.url);
            }
            cmd.args(&flags);
            // Environment variables must not leak into the flags.
            for var in [
                "COGNATE_LISTEN",
                "COGNATE_DATA_DIR",
                "COGNATE_CONFIG",
                "COGNATE_PUBLIC_URL",
                "COGNATE_LOG",
                "COGNATE_DATABASE_URL",
                "COGNATE_SQLITE_SYNCHRONOUS",
                "COGNATE_ADMIN_ACCESS_KEY_ID",
                "COGNATE_ADMIN_SECRET_ACCESS_KEY",
                "COGNATE_INSECURE_UNSIGNED_ADMIN",
                "COGNATE_LAMBDA_ENDPOINT",
                "COGNATE_LAMBDA_TIMEOUT_MS",
            ] {
                cmd.env_remove(var);
            }
            cmd.envs(env.iter().map(|(k, v)| (k, v)));
            let child = cmd.spawn().expect("spawn cognate");
            let mut server = Server {
                child: Some(child),
                port,
                url,
                data_dir: data_dir.clone(),
                config: config.clone(),
                flags: flags.clone(),
                tmp: None,
                database: None,
                http: http.clone(),
                env: env.clone(),
                signer: None,
            };
            match server.wait_healthy() {
                Ok(()) => {
                    server.tmp = tmp;
                    server.database = database;
                    return server;
                }
                Err(e) => {
                    last_err = e;
                    server.stop();
                    if fixed_port.is_some() && attempt < 4 {
                        // The same port may still be in TIME_WAIT or briefly held.
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
            }
        }
        panic!("cognate did not start: {last_err}");
    }

    fn wait_healthy(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut stderr = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
                    }
                    return Err(format!("exited with {status}: {stderr}"));
                }
            }
            if let Ok(r) = self
                .http
                .get(format!("{}/health", self.url))
                .timeout(Duration::from_millis(500))
                .send()
            {
                // The answer must come from this process: another test's
                // server may hold the port this one failed to bind (the
                // port was free when probed), and then this one exits.
                let ours = self
                    .child
                    .as_ref()
                    .is_some_and(|c| listens_on(c.id(), self.port));
                if r.status().as_u16() == 200 && ours {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err("no 200 from /health within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM (graceful shutdown), falling back to SIGKILL after 5 s.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => return,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return;
                    }
                }
            }
        }
    }

    /// The store of this server's database, opened in the caller's runtime
    /// (to read or write it beside the server).
    pub async fn store(&self) -> Arc<dyn cognate_core::store::Store> {
        open_store(&self.data_dir, self.database.as_ref()).await
    }

    pub fn http(&self) -> &reqwest::blocking::Client {
        &self.http
    }

    /// `POST /` with an arbitrary target (None: no X-Amz-Target) and raw
    /// body, signed by the server's `signer` or with the dummy signature.
    pub fn post_raw(&self, target: Option<&str>, body: Vec<u8>) -> reqwest::blocking::Response {
        let mut req = self.http.post(format!("{}/", self.url));
        match (&self.signer, target) {
            (Some(signer), Some(t)) => {
                for (k, v) in signer.sign(&format!("127.0.0.1:{}", self.port), t, &body) {
                    req = req.header(k, v);
                }
            }
            _ => {
                req = req
                    .header("Content-Type", CONTENT_TYPE)
                    .header("Authorization", DUMMY_AUTHORIZATION);
                if let Some(t) = target {
                    req = req.header("X-Amz-Target", t);
                }
            }
        }
        req.body(body).send().expect("request")
    }

    /// `POST /` with exactly these headers (besides Host and Content-Length).
    pub fn post_with(&self, headers: &[(String, String)], body: Vec<u8>) -> (u16, Value) {
        let mut req = self.http.post(format!("{}/", self.url));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let r = req.body(body).send().expect("request");
        let status = r.status().as_u16();
        let text = r.text().expect("body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("response is not JSON: {status} {text}"));
        (status, value)
    }

    /// Calls an operation; returns the HTTP status and the JSON body.
    pub fn call(&self, op: &str, body: Value) -> (u16, Value) {
        let r = self.post_raw(
            Some(&format!("{TARGET_PREFIX}{op}")),
            body.to_string().into_bytes(),
        );
        let status = r.status().as_u16();
        let text = r.text().expect("body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{op}: response is not JSON: {status} {text}"));
        (status, value)
    }

    /// Calls an operation that must succeed; returns its body.
    #[track_caller]
    pub fn ok(&self, op: &str, body: Value) -> Value {
        let (status, v) = self.call(op, body.clone());
        assert_eq!(status, 200, "{op} {body} failed: {v}");
        v
    }

    /// Calls an operation that must fail with HTTP 400 and `__type`; returns the message.
    #[track_caller]
    pub fn err(&self, op: &str, body: Value, error_type: &str) -> String {
        let (status, v) = self.call(op, body.clone());
        assert_eq!(
            v["__type"], error_type,
            "{op} {body}: expected {error_type}, got HTTP {status} {v}"
        );
        assert_eq!(status, 400, "{op} {body}: status for {v}");
        v["message"].as_str().expect("message").to_owned()
    }

    /// Calls an operation that must fail with `__type` and exactly `message`.
    #[track_caller]
    pub fn err_msg(&self, op: &str, body: Value, error_type: &str, message: &str) {
        let got = self.err(op, body.clone(), error_type);
        assert_eq!(got, message, "{op} {body}: message");
    }

    /// Creates a pool with extra CreateUserPool members; returns its id.
    pub fn create_pool(&self, name: &str, extra: Value) -> String {
        let mut body = json!({"PoolName": name});
        merge(&mut body, extra);
        let v = self.ok("CreateUserPool", body);
        v["UserPool"]["Id"].as_str().expect("pool id").to_owned()
    }

    /// Creates an app client with extra CreateUserPoolClient members; returns the client object.
    pub fn create_client_full(&self, pool_id: &str, extra: Value) -> Value {
        let mut body = json!({"UserPoolId": pool_id, "ClientName": "app"});
        merge(&mut body, extra);
        self.ok("CreateUserPoolClient", body)["UserPoolClient"].clone()
    }

    /// Creates an app client; returns its id.
    pub fn create_client(&self, pool_id: &str, extra: Value) -> String {
        self.create_client_full(pool_id, extra)["ClientId"]
            .as_str()
            .expect("client id")
            .to_owned()
    }

    /// A pool verifying email and a client allowing the password and refresh flows.
    pub fn pool_and_client(&self) -> (String, String) {
        let pool = self.create_pool("test-pool", json!({"AutoVerifiedAttributes": ["email"]}));
        let client = self.create_client(&pool, password_flows());
        (pool, client)
    }

    /// Every outbox message, oldest first. A line the server is still
    /// writing (a message sent after its answer, as a passwordless code of
    /// PreventUserExistenceErrors is) has no newline yet and is not read.
    pub fn outbox(&self) -> Vec<Value> {
        let path = self.data_dir.join("outbox.jsonl");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let complete = match text.rfind('\n') {
            Some(end) => &text[..=end],
            None => "",
        };
        complete
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("outbox line is JSON"))
            .collect()
    }

    /// The outbox once it holds at least `n` messages (a message sent after
    /// the answer lands a moment later); panics after five seconds.
    pub fn outbox_of_at_least(&self, n: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let outbox = self.outbox();
            if outbox.len() >= n {
                return outbox;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the outbox holds {} messages, not {n}",
                outbox.len()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Outbox messages for a user of a pool.
    pub fn messages_for(&self, pool_id: &str, username: &str) -> Vec<Value> {
        self.outbox()
            .into_iter()
            .filter(|m| m["pool_id"] == pool_id && m["username"] == username)
            .collect()
    }

    /// The code of the latest outbox message for a user of a pool.
    #[track_caller]
    pub fn last_code(&self, pool_id: &str, username: &str) -> String {
        let msgs = self.messages_for(pool_id, username);
        let m = msgs
            .last()
            .unwrap_or_else(|| panic!("no outbox message for {username} in {pool_id}"));
        m["code"].as_str().expect("code").to_owned()
    }

    /// Signs a user up with an email and confirms them with the emailed code.
    pub fn sign_up_confirmed(&self, pool_id: &str, client_id: &str, username: &str, email: &str) {
        self.ok(
            "SignUp",
            json!({"ClientId": client_id, "Username": username, "Password": PASSWORD,
                   "UserAttributes": [{"Name": "email", "Value": email}]}),
        );
        let code = self.last_code(pool_id, username);
        self.ok(
            "ConfirmSignUp",
            json!({"ClientId": client_id, "Username": username, "ConfirmationCode": code}),
        );
    }

    /// Creates a CONFIRMED user with `PASSWORD` through the admin API (no message).
    pub fn admin_user(&self, pool_id: &str, username: &str, attrs: Value) -> Value {
        let v = self.ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool_id, "Username": username, "MessageAction": "SUPPRESS",
                   "UserAttributes": attrs}),
        );
        self.ok(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool_id, "Username": username, "Password": PASSWORD,
                   "Permanent": true}),
        );
        v["User"].clone()
    }

    /// USER_PASSWORD_AUTH sign-in that must succeed; returns AuthenticationResult.
    #[track_caller]
    pub fn login(&self, client_id: &str, username: &str, password: &str) -> Value {
        let v = self.ok(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
                   "AuthParameters": {"USERNAME": username, "PASSWORD": password}}),
        );
        assert!(
            v["AuthenticationResult"]["AccessToken"].is_string(),
            "no tokens: {v}"
        );
        v["AuthenticationResult"].clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An operation called with no Authorization header at all, as the public
/// operations (and GetClientToken / GetDerivedToken with a client secret)
/// are called.
pub fn unsigned(s: &Server, op: &str, body: Value) -> (u16, Value) {
    let headers = vec![
        ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
        ("x-amz-target".to_owned(), format!("{TARGET_PREFIX}{op}")),
    ];
    s.post_with(&headers, body.to_string().into_bytes())
}

/// Asserts an HTTP 400 answer of `error_type`; returns its message.
#[track_caller]
pub fn refused(got: (u16, Value), error_type: &str) -> String {
    assert_eq!(
        (got.0, got.1["__type"].as_str()),
        (400, Some(error_type)),
        "{}",
        got.1
    );
    got.1["message"].as_str().unwrap().to_owned()
}

/// ExplicitAuthFlows enabling password sign-in (user and admin) and refresh.
pub fn password_flows() -> Value {
    json!({"ExplicitAuthFlows": [
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"
    ]})
}

/// Shallow-merges the members of `extra` (an object) into `base`.
pub fn merge(base: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
}

/// SECRET_HASH = base64(HMAC-SHA256(secret, username + client_id)).
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The decoded payload (claims) of a JWT, unverified.
pub fn jwt_claims(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .expect("payload is base64url");
    serde_json::from_slice(&bytes).expect("payload is JSON")
}

/// The decoded header of a JWT.
pub fn jwt_header(token: &str) -> Value {
    let part = token.split('.').next().expect("JWT has a header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .expect("header is base64url");
    serde_json::from_slice(&bytes).expect("header is JSON")
}

/// The value of attribute `name` in a Cognito `[{Name, Value}]` list.
pub fn attr<'a>(attrs: &'a Value, name: &str) -> Option<&'a str> {
    attrs
        .as_array()?
        .iter()
        .find(|a| a["Name"] == name)
        .and_then(|a| a["Value"].as_str())
}

/// Serves `app` on a free loopback port from a thread of its own, for as
/// long as the test process lives; returns `http://127.0.0.1:<port>`.
pub fn serve_in_background(app: axum::Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    url
}

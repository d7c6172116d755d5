//! Command-line interface. Every `serve` flag can also be set by an
//! environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cognate",
    version,
    about = "A self-hosted, Cognito-compatible user pool service.",
    long_about = "cognate speaks the Amazon Cognito user pools API (cognito-idp, AWS JSON 1.1) so that the aws CLI, boto3, the AWS SDKs and OIDC libraries work against it unchanged."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service.
    Serve(Box<ServeArgs>),
    /// Parse a config file and report the first error (file, line, key), without starting.
    CheckConfig {
        /// The YAML config file.
        #[arg(env = "COGNATE_CONFIG")]
        file: PathBuf,
    },
    /// Measure one argon2id password hash with the configured cost (for benchmarks).
    HashBench(HashArgs),
    /// Rotate a pool's signing keys: the new keys are published now and sign
    /// after the lead; the old ones stay published until their tokens expire.
    RotateKeys(RotateKeysArgs),
    /// Write every pool with its keys, clients, groups, domains and users
    /// (password hashes and MFA secrets included) as JSON Lines.
    Export(ExportArgs),
    /// Read a file written by `export` into the database; what exists already is kept.
    Import(ImportArgs),
}

/// The database a tool command works on (the server's).
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The data directory of the server (its SQLite database, when --database is not given).
    #[arg(long, env = "COGNATE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The server's database: `sqlite:PATH` or `postgres://user@host:port/db`
    /// (default: sqlite:<data-dir>/cognate.db).
    #[arg(long, env = "COGNATE_DATABASE_URL")]
    pub database: Option<String>,
}

impl StoreArgs {
    pub fn database(&self) -> Result<DatabaseUrl, String> {
        match &self.database {
            Some(text) => DatabaseUrl::parse(text),
            None => Ok(DatabaseUrl::Sqlite(self.data_dir.join("cognate.db"))),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct RotateKeysArgs {
    /// The pool whose ID- and access-token keys are replaced.
    #[arg(long)]
    pub pool: String,
    /// Seconds the new keys are published before they sign (every JWKS
    /// consumer must refresh within it).
    #[arg(long, default_value_t = crate::keys::DEFAULT_LEAD_SECS)]
    pub lead_secs: u32,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Where to write (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// A file written by `cognate export`.
    pub file: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct HashArgs {
    /// argon2id memory cost in KiB (OWASP: 19456).
    #[arg(long, env = "COGNATE_ARGON2_MEMORY_KIB", default_value_t = 19 * 1024)]
    pub argon2_memory_kib: u32,
    /// argon2id passes over memory (OWASP: 2).
    #[arg(long, env = "COGNATE_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// argon2id lanes (OWASP: 1).
    #[arg(long, env = "COGNATE_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "COGNATE_LISTEN", default_value = "127.0.0.1:9229")]
    pub listen: SocketAddr,
    /// Directory for the SQLite database and the development outbox (created if missing).
    #[arg(long, env = "COGNATE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The database: `sqlite:PATH` or `postgres://user[:password]@host[:port]/db`
    /// (also `postgresql://`). Default: `sqlite:<data-dir>/cognate.db`.
    // Checked by `DatabaseUrl::parse` at start-up rather than by clap, whose
    // message would repeat the URL with its password.
    #[arg(long, env = "COGNATE_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// How SQLite commits: `full` (on disk at every commit) or `normal`
    /// (survives a crash of the process; a power loss may lose the last commits).
    #[arg(
        long,
        env = "COGNATE_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_synchronous: SqliteSynchronous,
    /// YAML file declaring pools, clients and seed users, applied at every start.
    #[arg(long, env = "COGNATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Base URL clients use to reach this server; token issuers are `<public-url>/<pool-id>`.
    /// Defaults to http://<listen>.
    #[arg(long, env = "COGNATE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Region used in new pool ids and ARNs.
    #[arg(long, env = "COGNATE_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Account id used in ARNs.
    #[arg(long, env = "COGNATE_ACCOUNT_ID", default_value = "000000000000")]
    pub account_id: String,
    /// Address of the API gateway (overrides `gateway.listen` of the config
    /// file; starts the gateway, with no routes, even without a `gateway:` section).
    #[arg(long, env = "COGNATE_GATEWAY_LISTEN")]
    pub gateway_listen: Option<SocketAddr>,
    /// SMTP server for emails (confirmation, invitation, reset codes), e.g.
    /// `smtp://127.0.0.1:25`, `smtp://user:pass@host:587?tls=required` or
    /// `smtps://user:pass@host:465`. Without it, messages go to the development outbox.
    #[arg(long, env = "COGNATE_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Amazon SNS (or an SNS-compatible endpoint) for SMS messages, e.g.
    /// `https://sns.us-east-1.amazonaws.com`: each SMS is a Publish to the
    /// phone number, signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    /// (and AWS_SESSION_TOKEN). Without it, SMS goes to the development outbox.
    #[arg(long, env = "COGNATE_SNS_ENDPOINT", value_name = "URL")]
    pub sns_endpoint: Option<String>,
    /// The region SNS requests are signed for (default: the endpoint's
    /// for AWS's `sns.<region>.amazonaws.com`, else `--region`).
    #[arg(long, env = "COGNATE_SNS_REGION")]
    pub sns_region: Option<String>,
    /// AWS STS (or an STS-compatible endpoint), e.g.
    /// `https://sts.us-east-1.amazonaws.com`: SMS messages of a pool whose
    /// SmsConfiguration names an SnsCallerArn are published as that role,
    /// assumed by AssumeRole (with its ExternalId) under AWS_ACCESS_KEY_ID /
    /// AWS_SECRET_ACCESS_KEY, as Cognito does. Needs --sns-endpoint.
    #[arg(long, env = "COGNATE_STS_ENDPOINT", value_name = "URL")]
    pub sts_endpoint: Option<String>,
    /// Sender address of emails.
    #[arg(
        long,
        env = "COGNATE_MAIL_FROM",
        default_value = "no-reply@verificationemail.com"
    )]
    pub mail_from: String,
    /// Start on a non-loopback address without admin credentials: the IAM
    /// operations then accept any well-formed signature, from anyone who can
    /// reach the server. Without credentials cognate refuses to listen
    /// beyond loopback unless this is given (credentials: the config file's
    /// `admin.credentials`, or COGNATE_ADMIN_ACCESS_KEY_ID and
    /// COGNATE_ADMIN_SECRET_ACCESS_KEY). No effect when credentials are configured.
    #[arg(long, env = "COGNATE_INSECURE_UNSIGNED_ADMIN")]
    pub insecure_unsigned_admin: bool,
    /// What serves the Lambda Invoke API for the pools' Lambda triggers
    /// (`sam local start-lambda`, the Runtime Interface Emulator, LocalStack),
    /// e.g. `http://127.0.0.1:3001`. Functions mapped to a URL in the config
    /// file (`lambda: {functions: ...}`) are called there instead.
    #[arg(long, env = "COGNATE_LAMBDA_ENDPOINT")]
    pub lambda_endpoint: Option<String>,
    /// AWS KMS (or a KMS-compatible endpoint: LocalStack, local-kms), e.g.
    /// `https://kms.us-east-1.amazonaws.com`, for the pools' custom sender
    /// triggers (CustomEmailSender, CustomSMSSender): each code they receive
    /// is encrypted under the pool's KMSKeyID with a data key from
    /// GenerateDataKey, signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    /// (and AWS_SESSION_TOKEN). Without it, a pool's custom senders fail
    /// with CodeDeliveryFailureException.
    #[arg(long, env = "COGNATE_KMS_ENDPOINT", value_name = "URL")]
    pub kms_endpoint: Option<String>,
    /// A list of compromised passwords for threat protection's
    /// compromised-credentials check (pools with AdvancedSecurityMode AUDIT
    /// or ENFORCED): SHA-1 digests, one a line as `<40 hex digits>` or
    /// `<40 hex digits>:<count>`, sorted by digest, as Have I Been Pwned's
    /// Pwned Passwords list is published. Searched on disk, so the whole
    /// list needs no memory. Without it, no password counts as compromised.
    #[arg(long, env = "COGNATE_COMPROMISED_PASSWORDS", value_name = "FILE")]
    pub compromised_passwords: Option<PathBuf>,
    /// A geo-IP database in MaxMind DB format, of the City kind
    /// (GeoLite2-City, GeoIP2-City, DB-IP City Lite): where threat
    /// protection's auth events and risk notifications place an address
    /// (City, Country, Timezone), session listings their LastLocation,
    /// and a country the account-takeover score compares. Without it,
    /// places are unknown.
    #[arg(long, env = "COGNATE_GEOIP_DATABASE", value_name = "FILE")]
    pub geoip_database: Option<PathBuf>,
    /// How long a Lambda trigger may take before the call fails with
    /// UnexpectedLambdaException (Cognito waits 5 seconds).
    #[arg(long, env = "COGNATE_LAMBDA_TIMEOUT_MS", default_value_t = 5000)]
    pub lambda_timeout_ms: u64,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `cognate=debug`.
    #[arg(long, env = "COGNATE_LOG", default_value = "info")]
    pub log: String,
    /// Log lines as `human` text or `json` (one object a line with
    /// `timestamp`, `level`, `message` and the event's fields; the start-up
    /// banner too).
    #[arg(long, env = "COGNATE_LOG_FORMAT", value_enum, default_value = "human")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub listener: ListenerArgs,
    #[command(flatten)]
    pub hash: HashArgs,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Limits of the main listener (the API, OAuth endpoints, hosted UI, JWKS);
/// the defaults are far above what a single-tenant deployment reaches.
#[derive(Debug, Clone, Args)]
pub struct ListenerArgs {
    /// Open client connections at most; when full, new connections wait in
    /// the listen backlog until one closes.
    #[arg(long, env = "COGNATE_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Milliseconds a client has, from its first byte, to send a whole
    /// request line and headers (slowloris); then it is disconnected.
    #[arg(long, env = "COGNATE_HEADER_READ_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub header_read_timeout_ms: u64,
    /// Milliseconds a connection may stay open without sending a request
    /// (before its first one, or kept alive after a response). Above the
    /// idle timeout of a load balancer in front (60 s on AWS ALB).
    #[arg(long, env = "COGNATE_IDLE_TIMEOUT_MS", default_value_t = 75_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub idle_timeout_ms: u64,
    /// Bytes of a request line and headers at most; more (or more than 100
    /// headers) answers 431.
    #[arg(long, env = "COGNATE_MAX_HEADER_BYTES", default_value_t = 32_768,
          value_parser = clap::value_parser!(u32).range(1024..=1_048_576))]
    pub max_header_bytes: u32,
    /// Milliseconds a request may take, reading its body included; then it
    /// answers 504 (`InternalErrorException` on the API).
    #[arg(long, env = "COGNATE_REQUEST_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub request_timeout_ms: u64,
    /// Seconds that SIGTERM (or Ctrl-C) leaves open requests to finish;
    /// new connections are refused at once and the process then exits.
    #[arg(long, env = "COGNATE_SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace_secs: u64,
    /// cognate runs behind a proxy that sets X-Forwarded-For: the client
    /// address (for rate limits and the audit log) is the last address of
    /// that header, not the peer's. Off by default: a client could claim
    /// any address.
    #[arg(long, env = "COGNATE_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
}

/// Where the service keeps its state (`--database`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite:PATH` (or `sqlite://PATH`).
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`, as given.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `--database`; the error names the flag and never the password.
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        Self::parse_inner(text).map_err(|e| {
            format!(
                "invalid --database (COGNATE_DATABASE_URL) {}: {e}",
                redact_url(text.trim())
            )
        })
    }

    fn parse_inner(text: &str) -> Result<DatabaseUrl, String> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("sqlite: needs a path, e.g. sqlite:data/cognate.db".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            cognate_store::PostgresStore::check_url(text)?;
            return Ok(DatabaseUrl::Postgres(text.to_owned()));
        }
        Err("expected sqlite:PATH or postgres://user@host:port/db (or postgresql://...)".into())
    }

    /// The URL without its password, for the banner and messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            DatabaseUrl::Postgres(url) => redact_url(url),
        }
    }
}

/// A URL without the password of its user info and without `password=` parameters.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    let query = query
        .map(|q| {
            q.split('&')
                .filter(|kv| !kv.to_ascii_lowercase().starts_with("password="))
                .collect::<Vec<_>>()
                .join("&")
        })
        .filter(|q| !q.is_empty());
    match query {
        Some(q) => format!("{scheme}://{authority}{path}?{q}"),
        None => format!("{scheme}://{authority}{path}"),
    }
}

/// `--sqlite-synchronous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

impl From<SqliteSynchronous> for cognate_store::Durability {
    fn from(s: SqliteSynchronous) -> Self {
        match s {
            SqliteSynchronous::Full => cognate_store::Durability::Full,
            SqliteSynchronous::Normal => cognate_store::Durability::Normal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:data/x.db"),
            Ok(DatabaseUrl::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/x.db"),
            Ok(DatabaseUrl::Sqlite("/var/x.db".into()))
        );
        assert!(DatabaseUrl::parse("sqlite:").is_err());
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("data/x.db").is_err());
        let bad = DatabaseUrl::parse("postgres://u:s3cret@h:notaport/db").expect_err("port");
        assert!(
            bad.contains("--database") && !bad.contains("s3cret"),
            "{bad}"
        );
        let pg = DatabaseUrl::parse(
            "postgresql://app:s3cret@db.internal:5433/cognate?sslmode=disable&password=x",
        )
        .expect("url");
        assert_eq!(
            pg.redacted(),
            "postgresql://app@db.internal:5433/cognate?sslmode=disable"
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1:5432/postgres")
                .expect("url")
                .redacted(),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
    }
}

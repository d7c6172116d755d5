//! Command-line interface. Every `serve` flag can also be set by an
//! environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// The data directory of the server (its SQLite database).
    #[arg(long, env = "COGNATE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
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
    /// Sender address of emails.
    #[arg(
        long,
        env = "COGNATE_MAIL_FROM",
        default_value = "no-reply@verificationemail.com"
    )]
    pub mail_from: String,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `cognate=debug`.
    #[arg(long, env = "COGNATE_LOG", default_value = "info")]
    pub log: String,
    #[command(flatten)]
    pub hash: HashArgs,
}

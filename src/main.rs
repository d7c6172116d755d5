//! The `cognate` binary: parses the command line and hands over to the
//! server or a tool command. All behaviour lives in the library crates.

mod aws_call;
mod cli;
mod config;
mod delivery;
mod gateway;
mod health;
mod keys;
mod kms;
mod lambda;
mod listener;
mod server;
mod sms;
mod sts;
mod transfer;

use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, LogFormat};

/// Set when logs are JSON lines: the banner is logged too (see `banner_line`).
static JSON_LOGS: AtomicBool = AtomicBool::new(false);

fn init_logging(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // tokio-postgres logs every statement's parameters at debug level:
    // client secrets, TOTP secrets, hashes. Never below info, whatever the
    // filter (tests/audit.rs scans a debug log on PostgreSQL for secrets).
    let filter = match "tokio_postgres=info".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => {
            JSON_LOGS.store(true, Ordering::Relaxed);
            // {"timestamp":..,"level":"INFO","message":..,<fields>}
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .init()
        }
    }
}

/// A line of the start-up banner: printed on standard output, or with
/// `--log-format json` logged as an event (so every line of output parses).
pub fn banner_line(line: String) {
    if JSON_LOGS.load(Ordering::Relaxed) {
        tracing::info!(target: "cognate::banner", "{}", line.trim());
    } else {
        // Not `println!`: a reader that has gone away (`cognate serve | head`)
        // must not take the server down with a panic on a closed pipe.
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{line}");
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            init_logging(&args.log, args.log_format);
            match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => {
                    let result = rt.block_on(server::serve(*args));
                    // Blocking work still running (a key generation, an SRP
                    // step) is not waited for past the grace period.
                    rt.shutdown_timeout(std::time::Duration::from_millis(500));
                    result
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::CheckConfig { file } => check_config(&file),
        Command::HashBench(args) => hash_bench(&args),
        Command::RotateKeys(args) => run_tool(server::rotate_keys(args)),
        Command::Export(args) => run_tool(server::export(args)),
        Command::Import(args) => run_tool(server::import(args)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Runs a tool command (one that works on the database) to its end.
fn run_tool(work: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    init_logging("warn", LogFormat::Human);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

/// Parses a config file and validates its gateway section.
fn check_config(file: &std::path::Path) -> anyhow::Result<()> {
    let f = config::load(file)?;
    config::admin_credentials(Some((file, &f)), None, None)?;
    if let Some(database) = &f.database {
        cli::DatabaseUrl::parse(database)
            .map_err(|e| anyhow::anyhow!("{}: key `database`: {e}", file.display()))?;
    }
    if let Some(g) = &f.gateway {
        gateway::check(g).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    }
    println!("{}: ok ({} pool(s))", file.display(), f.pools.len());
    Ok(())
}

/// Prints the mean time of one argon2id hash with the given cost.
fn hash_bench(args: &cli::HashArgs) -> anyhow::Result<()> {
    let hasher = server::password_hasher(args)?;
    let hash = hasher.hash("Warm-up-1")?;
    let n = 20;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let _ = hasher.verify("Benchmark-Passw0rd!", &hash);
    }
    let per = start.elapsed().as_secs_f64() / n as f64;
    println!("{{\"argon2id_verify_ms\": {:.3}, \"memory_kib\": {}, \"iterations\": {}, \"parallelism\": {}}}",
        per * 1000.0, args.argon2_memory_kib, args.argon2_iterations, args.argon2_parallelism);
    Ok(())
}

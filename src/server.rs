//! Wiring: opens the store, builds the service, applies the config file,
//! assembles the HTTP routes and serves until SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use cognate_aws_json::sigv4::AdminAuth;
use cognate_core::clock::{Clock, SystemClock};
use cognate_core::store::Store;
use cognate_core::{ServiceConfig, UserPools};
use cognate_crypto::{PasswordHasher, PasswordParams};
use cognate_store::{Durability, PostgresStore, SqliteStore};

use crate::cli::{DatabaseUrl, HashArgs, ServeArgs};
use crate::config;
use crate::delivery::DevOutbox;

// The banner below is this module's only standard output: with
// `--log-format json` its lines are logged as JSON events instead.
macro_rules! println {
    ($($arg:tt)*) => {
        crate::banner_line(format!($($arg)*))
    };
}

pub fn password_hasher(args: &HashArgs) -> anyhow::Result<PasswordHasher> {
    PasswordHasher::new(PasswordParams {
        memory_kib: args.argon2_memory_kib,
        iterations: args.argon2_iterations,
        parallelism: args.argon2_parallelism,
    })
    .context("invalid argon2 parameters")
}

/// All HTTP routes of the service.
pub fn app(
    service: Arc<UserPools>,
    admin: Arc<AdminAuth>,
    gateway: Vec<cognate_console::gateway::GatewayRoute>,
) -> Router {
    Router::new()
        .merge(crate::health::routes(service.clone()))
        .merge(cognate_aws_json::router(service.clone(), admin.clone()))
        .merge(cognate_console::router(service.clone(), admin, gateway))
        .merge(cognate_oauth::router(service))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [("content-type", "application/json")],
                r#"{"message":"Not found"}"#,
            )
                .into_response()
        })
        // Every body is bounded: 1 MiB unless a route says otherwise (the
        // CSV upload of import jobs); the JSON API bounds its own at 2 MiB.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
}

/// The body limit of every route that does not set its own.
const MAX_BODY: usize = 1024 * 1024;

/// Opens (creating or migrating as needed) the store `database` names; also
/// the banner's description of it, without any password.
pub async fn open_store(
    database: &DatabaseUrl,
    durability: Durability,
) -> anyhow::Result<(Arc<dyn Store>, String)> {
    match database {
        DatabaseUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the directory of {}", path.display())
                })?;
            }
            let store = SqliteStore::open_with(path, durability)
                .with_context(|| format!("cannot open database {}", path.display()))?;
            let synchronous = match durability {
                Durability::Full => "full",
                Durability::Normal => "normal",
            };
            Ok((
                Arc::new(store),
                format!("{} (SQLite, synchronous {synchronous})", path.display()),
            ))
        }
        DatabaseUrl::Postgres(url) => {
            let shown = database.redacted();
            let store = PostgresStore::connect(url)
                .await
                .with_context(|| format!("cannot open database {shown} (--database)"))?;
            Ok((Arc::new(store), format!("{shown} (PostgreSQL)")))
        }
    }
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Parse the config before touching the database: a bad file changes nothing.
    let config_file = match &args.config {
        Some(path) => Some((path.clone(), config::load(path)?)),
        None => None,
    };
    let admin = admin_auth(&args, config_file.as_ref())?;
    // --database (or COGNATE_DATABASE_URL), else the config file's `database:`,
    // else SQLite in the data directory.
    let database = match (
        &args.database,
        config_file.as_ref().and_then(|(_, f)| f.database.as_ref()),
    ) {
        (Some(text), _) => DatabaseUrl::parse(text).map_err(anyhow::Error::msg)?,
        (None, Some(text)) => DatabaseUrl::parse(text).map_err(|e| {
            let file = args.config.as_ref().map(|p| p.display().to_string());
            anyhow::anyhow!("{}: key `database`: {e}", file.unwrap_or_default())
        })?,
        (None, None) => DatabaseUrl::Sqlite(args.data_dir.join("cognate.db")),
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let (store, database_line) = open_store(&database, args.sqlite_synchronous.into()).await?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen))
        .trim_end_matches('/')
        .to_owned();
    let outbox_path = args.data_dir.join("outbox.jsonl");
    // Emails by SMTP or to the development outbox; SMS by SNS or to the
    // outbox (one outbox writer for both when neither has a transport).
    type Sink = Arc<dyn cognate_core::delivery::MessageSink>;
    let outbox: Sink = Arc::new(DevOutbox::new(outbox_path.clone()));
    let (email, email_line): (Sink, String) = match &args.smtp_url {
        Some(url) => (
            Arc::new(crate::delivery::SmtpSink::new(url, &args.mail_from)?),
            format!("SMTP {} from {}", smtp_host(url), args.mail_from),
        ),
        None => (
            outbox.clone(),
            format!(
                "development outbox {} (codes are also logged)",
                outbox_path.display()
            ),
        ),
    };
    if args.sts_endpoint.is_some() && args.sns_endpoint.is_none() {
        anyhow::bail!(
            "--sts-endpoint needs --sns-endpoint: the role it assumes publishes SMS through SNS"
        );
    }
    let (sms, sms_line): (Sink, String) = match (&args.sns_endpoint, &args.smtp_url) {
        (Some(endpoint), _) => {
            let sns = crate::sms::SnsSms::new(
                endpoint,
                args.sns_region.as_deref(),
                &args.region,
                crate::aws_call::Credentials::from_env("--sns-endpoint")?,
            )?;
            let mut line = format!("; SMS by {}", sns.describe());
            let sns = match &args.sts_endpoint {
                Some(sts) => {
                    let roles = crate::sts::RoleCredentials::new(
                        sts,
                        &args.region,
                        crate::aws_call::Credentials::from_env("--sts-endpoint")?,
                    )?;
                    line.push_str(&format!(
                        " as the pools' SMS roles, by {}",
                        roles.describe()
                    ));
                    sns.with_roles(Arc::new(roles))
                }
                None => sns,
            };
            (Arc::new(sns), line)
        }
        (None, Some(_)) => (
            Arc::new(DevOutbox::for_undeliverable_sms(outbox_path.clone())),
            format!(
                " (no SMS transport: SMS is written to {}, not logged)",
                outbox_path.display()
            ),
        ),
        (None, None) => (outbox, String::new()),
    };
    let sink: Sink = Arc::new(crate::sms::SplitSink { email, sms });
    let mail_line = format!("{email_line}{sms_line}");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let lambda_config = config_file
        .as_ref()
        .and_then(|(_, f)| f.lambda.clone())
        .unwrap_or_default();
    let lambda = crate::lambda::HttpLambda::new(
        args.lambda_endpoint.clone().or(lambda_config.endpoint),
        lambda_config.functions,
        Duration::from_millis(args.lambda_timeout_ms),
    )?;
    let kms: Arc<dyn cognate_core::triggers::CodeEncryptor> = match &args.kms_endpoint {
        Some(endpoint) => {
            let kms = crate::kms::Kms::new(
                endpoint,
                &args.region,
                crate::aws_call::Credentials::from_env("--kms-endpoint")?,
            )?;
            tracing::info!("custom senders' codes are encrypted by {}", kms.describe());
            Arc::new(kms)
        }
        None => Arc::new(cognate_core::triggers::NoKms),
    };
    let compromised = match &args.compromised_passwords {
        Some(path) => {
            let list = cognate_core::compromised::CompromisedPasswords::open(path)
                .map_err(anyhow::Error::msg)?;
            tracing::info!(
                "threat protection checks passwords against {}",
                list.path().display()
            );
            Some(Arc::new(list))
        }
        None => None,
    };
    let service = UserPools::new(
        store.clone(),
        clock.clone(),
        password_hasher(&args.hash)?,
        sink,
        ServiceConfig {
            public_url: public_url.clone(),
            region: args.region.clone(),
            account_id: args.account_id.clone(),
        },
    )
    .with_lambda(Arc::new(lambda))
    .with_kms(kms)
    .with_provider_http(Arc::new(
        cognate_oauth::federation::HttpProviders::new().map_err(anyhow::Error::msg)?,
    ))
    .with_rate_limits(
        &config_file
            .as_ref()
            .and_then(|(_, f)| f.rate_limits)
            .unwrap_or_default(),
    )
    .with_lockout(
        &config_file
            .as_ref()
            .and_then(|(_, f)| f.lockout)
            .unwrap_or_default(),
    );
    let service = match compromised {
        Some(list) => service.with_compromised_passwords(list),
        None => service,
    };
    let service = Arc::new(match &args.geoip_database {
        Some(path) => {
            let geoip = cognate_core::geoip::GeoIp::open(path).map_err(anyhow::Error::msg)?;
            tracing::info!("addresses are placed with {}", geoip.path().display());
            service.with_geoip(Arc::new(geoip))
        }
        None => service,
    });
    // The gateway is built (validated) before the file is applied.
    let gateway_config = config_file.as_ref().and_then(|(_, f)| f.gateway.clone());
    let gateway = match (&gateway_config, args.gateway_listen) {
        (None, None) => None,
        (config, flag) => {
            let config = config.clone().unwrap_or_default();
            let built = cognate_gateway::Gateway::build(
                &config,
                Some(Arc::new(crate::gateway::LocalPoolKeys(service.clone()))),
            )
            .map_err(|e| {
                let file = args.config.as_ref().map(|p| p.display().to_string());
                anyhow::anyhow!("{}: {e}", file.unwrap_or_else(|| "gateway".into()))
            })?;
            let addr = match flag.or(config.listen) {
                Some(a) => a,
                None => cognate_gateway::DEFAULT_LISTEN.parse()?,
            };
            Some((built, addr, config.workers.unwrap_or(0), config.apis.len()))
        }
    };
    if let Some((path, file)) = &config_file {
        config::apply(&service, path, file).await?;
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let mut gateway_banner = None;
    let (stop_gateway, gateway_stop) = tokio::sync::watch::channel(false);
    let mut gateway_running = None;
    let mut gateway_routes = Vec::new();
    if let Some((gateway, addr, gateway_workers, apis)) = gateway {
        let running = cognate_gateway::spawn(gateway, addr, gateway_workers, gateway_stop)
            .with_context(|| format!("cannot listen on {addr} (gateway)"))?;
        if let Some(config) = &gateway_config {
            gateway_routes = crate::gateway::console_routes(config, running.local_addr);
        }
        gateway_banner = Some(format!(
            "  gateway:       http://{} ({apis} API(s), metrics at /metrics)",
            running.local_addr
        ));
        gateway_running = Some(running);
    }

    if let Some(keys) = config_file
        .as_ref()
        .and_then(|(_, f)| f.signing_keys.clone())
    {
        crate::keys::schedule(service.clone(), keys);
    }

    // Expired sessions, codes and refresh tokens are purged in the background
    // (and signing keys retired once every token they signed has expired).
    let purge_store = store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = purge_store.purge_expired(clock.now_millis()).await {
                tracing::warn!(error = %e, "purging expired state failed");
            }
        }
    });

    println!(
        "cognate {} listening on http://{local}",
        env!("CARGO_PKG_VERSION")
    );
    println!("  database:      {database_line}");
    println!("  token issuers: {public_url}/<pool-id>");
    println!("  mail:          {mail_line}");
    if let Some((path, file)) = &config_file {
        println!(
            "  config:        {} ({} pool(s))",
            path.display(),
            file.pools.len()
        );
    }
    if let Some(line) = gateway_banner {
        println!("{line}");
    }
    println!("  admin calls:   {}", admin.banner);
    if let Some(warning) = &admin.warning {
        tracing::warn!("{warning}");
    }
    println!("Try it:");
    if admin.auth.is_development() {
        println!(
            "  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION={}",
            args.region
        );
    } else {
        println!(
            "  export AWS_ACCESS_KEY_ID=<an admin access key> AWS_SECRET_ACCESS_KEY=<its secret> AWS_DEFAULT_REGION={}",
            args.region
        );
    }
    println!("  aws cognito-idp create-user-pool --pool-name demo --endpoint-url http://{local}");
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "ready");

    let stop = async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_gateway.send(true);
    };
    crate::listener::serve(
        listener,
        app(service, admin.auth, gateway_routes),
        (&args.listener).into(),
        stop,
    )
    .await;
    if let Some(running) = gateway_running {
        // The workers finish their open requests on their own threads.
        let _ = tokio::task::spawn_blocking(move || running.join()).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// How the IAM operations are checked, and what the banner says of it.
struct Admin {
    auth: Arc<AdminAuth>,
    banner: String,
    warning: Option<String>,
}

/// The admin credentials of the config file and the environment; without
/// any, development mode on loopback, a refusal to start elsewhere unless
/// `--insecure-unsigned-admin`.
fn admin_auth(
    args: &ServeArgs,
    config_file: Option<&(std::path::PathBuf, config::ConfigFile)>,
) -> anyhow::Result<Admin> {
    let credentials = config::admin_credentials(
        config_file.map(|(p, f)| (p.as_path(), f)),
        std::env::var(config::ADMIN_KEY_ENV).ok(),
        std::env::var(config::ADMIN_SECRET_ENV).ok(),
    )?;
    if !credentials.is_empty() {
        let limited = credentials.iter().filter(|c| c.pools.is_some()).count();
        let banner = format!(
            "SigV4-checked ({} access key(s){}, region {})",
            credentials.len(),
            if limited > 0 {
                format!(", {limited} limited to some pools")
            } else {
                String::new()
            },
            args.region
        );
        return Ok(Admin {
            auth: Arc::new(AdminAuth::checked(
                credentials,
                &args.region,
                &args.account_id,
            )),
            banner,
            warning: None,
        });
    }
    if args.listen.ip().is_loopback() {
        return Ok(Admin {
            auth: Arc::new(AdminAuth::development(&args.region, &args.account_id)),
            banner: "development mode: admin calls are not signature-checked (any well-formed SigV4 signature is accepted; configure admin.credentials to check them)".into(),
            warning: None,
        });
    }
    if !args.insecure_unsigned_admin {
        anyhow::bail!(
            "refusing to listen on {} without admin credentials: anyone who can reach it could manage every pool. \
             Configure `admin.credentials` (access_key_id, secret_access_key) in the config file (--config), \
             or set {} and {}; or pass --insecure-unsigned-admin to accept any well-formed signature",
            args.listen,
            config::ADMIN_KEY_ENV,
            config::ADMIN_SECRET_ENV
        );
    }
    Ok(Admin {
        // Admin calls are served unsigned; the console stays closed.
        auth: Arc::new(AdminAuth::insecure_unsigned(&args.region, &args.account_id)),
        banner: "INSECURE: admin calls are not signature-checked on a non-loopback address (--insecure-unsigned-admin)".into(),
        warning: Some(format!(
            "--insecure-unsigned-admin: admin calls on {} accept any well-formed signature; anyone who can reach this address can manage every pool. Configure admin.credentials or {}/{}",
            args.listen,
            config::ADMIN_KEY_ENV,
            config::ADMIN_SECRET_ENV
        )),
    })
}

/// The store of a tool command: the server's database. Export and
/// rotate-keys want one that exists (`must_exist`); import creates it.
async fn open_tool_store(
    args: &crate::cli::StoreArgs,
    must_exist: bool,
) -> anyhow::Result<Arc<dyn Store>> {
    let database = args.database().map_err(anyhow::Error::msg)?;
    if let DatabaseUrl::Sqlite(path) = &database {
        if must_exist && !path.is_file() {
            anyhow::bail!(
                "no database at {} (--data-dir or --database)",
                path.display()
            );
        }
    }
    Ok(open_store(&database, Durability::Full).await?.0)
}

/// `cognate rotate-keys`: the service on the server's database, and one rotation.
pub async fn rotate_keys(args: crate::cli::RotateKeysArgs) -> anyhow::Result<()> {
    let store = open_tool_store(&args.store, true).await?;
    let service = UserPools::new(
        store,
        Arc::new(SystemClock),
        PasswordHasher::new(PasswordParams::default()).context("argon2 parameters")?,
        Arc::new(DevOutbox::new(args.store.data_dir.join("outbox.jsonl"))),
        ServiceConfig {
            public_url: String::new(),
            region: String::new(),
            account_id: String::new(),
        },
    );
    crate::keys::rotate_now(&service, &args.pool, args.lead_secs).await
}

/// `cognate export`.
pub async fn export(args: crate::cli::ExportArgs) -> anyhow::Result<()> {
    let store = open_tool_store(&args.store, true).await?;
    let now = SystemClock.now_millis();
    let (pools, users) = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            crate::transfer::export(&store, now, &mut out).await?
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            crate::transfer::export(&store, now, &mut out).await?
        }
    };
    eprintln!("exported {pools} pool(s) and {users} user(s)");
    Ok(())
}

/// `cognate import`.
pub async fn import(args: crate::cli::ImportArgs) -> anyhow::Result<()> {
    let store = open_tool_store(&args.store, false).await?;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let report = crate::transfer::import(&store, &mut std::io::BufReader::new(file))
        .await
        .with_context(|| args.file.display().to_string())?;
    for line in &report.skipped {
        eprintln!("skipped {line}");
    }
    eprintln!(
        "imported {} pool(s) and {} user(s); {} record(s) skipped",
        report.pools,
        report.users,
        report.skipped.len()
    );
    Ok(())
}

/// The host and port of an SMTP URL, without credentials, for the banner.
fn smtp_host(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    rest.split(['/', '?']).next().unwrap_or_default().to_owned()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

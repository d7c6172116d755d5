//! `header-service --issuer http://127.0.0.1:9229/us-east-1_TodoPool1 --client-id ...`

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use cognate_token::{IssuerConfig, Verifier};

#[derive(Parser)]
#[command(about = "The seeds' header microfrontend: validates Cognito tokens itself.")]
struct Args {
    #[arg(long, env = "HEADER_SERVICE_LISTEN", default_value = "127.0.0.1:9002")]
    listen: SocketAddr,
    /// Token issuer (a pool's URL: `<cognate public url>/<pool id>` or
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`); repeatable.
    #[arg(long, env = "COGNITO_ISSUER", value_delimiter = ',', required = true)]
    issuer: Vec<String>,
    /// Allowed app client ids; repeatable; none allows any.
    #[arg(long, env = "COGNITO_CLIENT_ID", value_delimiter = ',')]
    client_id: Vec<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let clients: Vec<&str> = args.client_id.iter().map(String::as_str).collect();
    let mut builder = Verifier::builder();
    for issuer in &args.issuer {
        builder = builder.issuer(IssuerConfig::cognito(issuer, &clients));
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::from(2);
        }
    };
    println!("header-service listening on http://{}", args.listen);
    match axum::serve(listener, header_service::app(Arc::new(builder.build()))).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

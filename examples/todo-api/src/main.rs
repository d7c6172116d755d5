//! `todo-api --listen 127.0.0.1:9001`

use std::net::SocketAddr;

use clap::Parser;

#[derive(Parser)]
#[command(
    about = "The seeds' TODO API; put it behind cognate's gateway with a Cognito authorizer."
)]
struct Args {
    #[arg(long, env = "TODO_API_LISTEN", default_value = "127.0.0.1:9001")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::from(2);
        }
    };
    println!("todo-api listening on http://{}", args.listen);
    match axum::serve(listener, todo_api::app()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! `shinyfleet`: the ShinyFleet console. `shinyfleet serve` (the default) runs it.

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use server::config::{one_line, ServeConfig};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "shinyfleet", version, about = "A self-hosted console for R Shiny apps on AWS Fargate")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the console (the default).
    Serve(ServeConfig),
    /// Manage admins.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Make EMAIL an admin (invites them; the first admin of a new installation).
    Invite {
        email: String,
        #[command(flatten)]
        config: ServeConfig,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token and print it (once).
    Create {
        /// A name saying what the token is for, e.g. "ci-deploy".
        #[arg(long)]
        name: String,
        /// admin or viewer.
        #[arg(long, value_parser = ["admin", "viewer"])]
        role: String,
        #[command(flatten)]
        config: ServeConfig,
    },
}

/// What to do once the command line parsed.
enum Job {
    Serve(ServeConfig),
    AdminInvite(ServeConfig, String),
    TokenCreate(ServeConfig, String, String),
}

impl Job {
    fn config(&self) -> &ServeConfig {
        match self {
            Job::Serve(c) | Job::AdminInvite(c, _) | Job::TokenCreate(c, _, _) => c,
        }
    }
}

#[derive(Parser)]
struct DefaultServe {
    #[command(flatten)]
    config: ServeConfig,
}

fn main() -> ExitCode {
    let parsed = Cli::try_parse().and_then(|cli| match cli.command {
        Some(Command::Serve(config)) => Ok(Job::Serve(config)),
        Some(Command::Admin(AdminCommand::Invite { email, config })) => Ok(Job::AdminInvite(config, email)),
        Some(Command::Token(TokenCommand::Create { name, role, config })) => Ok(Job::TokenCreate(config, name, role)),
        None => DefaultServe::try_parse_from(["shinyfleet"]).map(|d| Job::Serve(d.config)),
    });
    let job = match parsed {
        Ok(job) => job,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => e.exit(),
        Err(e) => {
            eprintln!("shinyfleet: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(job.config().log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shinyfleet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let done = runtime.block_on(async {
        match job {
            Job::Serve(config) => server::run(config).await.map_err(|e| e.to_string()),
            Job::AdminInvite(config, email) => {
                server::cli::admin_invite(&config, &email).await.map(|m| println!("{m}")).map_err(|e| e.to_string())
            }
            Job::TokenCreate(config, name, role) => server::cli::token_create(&config, &name, &role)
                .await
                .map(|token| {
                    eprintln!("Created the API token {name:?} ({role}). It is shown only now:");
                    println!("{token}");
                })
                .map_err(|e| e.to_string()),
        }
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shinyfleet: {e}");
            ExitCode::from(2)
        }
    }
}

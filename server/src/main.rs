//! `shinyfleet`: the ShinyFleet console. `shinyfleet serve` (the default) runs it.

use clap::error::{ContextKind, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};
use server::config::ServeConfig;
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
}

#[derive(Parser)]
struct DefaultServe {
    #[command(flatten)]
    config: ServeConfig,
}

fn main() -> ExitCode {
    let parsed = Cli::try_parse().and_then(|cli| match cli.command {
        Some(Command::Serve(config)) => Ok(config),
        None => DefaultServe::try_parse_from(["shinyfleet"]).map(|d| d.config),
    });
    let config = match parsed {
        Ok(config) => config,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => e.exit(),
        Err(e) => {
            eprintln!("shinyfleet: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shinyfleet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shinyfleet: {e}");
            ExitCode::from(2)
        }
    }
}

/// A command-line or environment error as one line that names the setting, e.g.
/// `invalid value 'azure' for '--cloud <CLOUD>' (SHINYFLEET_CLOUD) [possible values: sandbox, aws]`.
fn one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut text: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:"))
        .collect();
    if let Some(first) = text.first_mut() {
        *first = first.trim_start_matches("error: ");
    }
    let mut line = text.join(" ");
    let arg = e.get(ContextKind::InvalidArg).map(|a| a.to_string()).unwrap_or_default();
    let env = DefaultServe::command()
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|l| arg.starts_with(&format!("--{l}"))))
        .and_then(|a| a.get_env().map(|v| v.to_string_lossy().into_owned()));
    if let Some(env) = env {
        line.push_str(&format!(" (environment variable {env})"));
    }
    line
}

//! Typed configuration from flags and environment variables (`shinyfleet serve --help`).
//! Every setting is checked before anything starts; a wrong one stops start-up with one
//! line that names it.

use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Which cloud the console talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudBackend {
    /// An in-process simulated AWS account with demo apps: no AWS account needed.
    Sandbox,
    /// AWS through the official SDK and the default credential chain.
    Aws,
}

impl CloudBackend {
    pub fn as_str(&self) -> &'static str {
        match self {
            CloudBackend::Sandbox => "sandbox",
            CloudBackend::Aws => "aws",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `shinyfleet serve`: run the console.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "SHINYFLEET_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// SQLite database URL; the folder is created when missing.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/shinyfleet.db")]
    pub database_url: String,

    /// Cloud backend.
    #[arg(long, env = "SHINYFLEET_CLOUD", value_enum, default_value_t = CloudBackend::Sandbox)]
    pub cloud: CloudBackend,

    /// ECS cluster the apps run in.
    #[arg(long, env = "SHINYFLEET_CLUSTER", default_value = "shinyfleet")]
    pub cluster: String,

    /// Subnets for the apps' tasks (comma-separated); required with the aws backend.
    #[arg(long, env = "SHINYFLEET_SUBNETS", value_delimiter = ',')]
    pub subnets: Vec<String>,

    /// Security groups for the apps' tasks (comma-separated); required with the aws backend.
    #[arg(long, env = "SHINYFLEET_SECURITY_GROUPS", value_delimiter = ',')]
    pub security_groups: Vec<String>,

    /// Cognito user pool id; required with the aws backend.
    #[arg(long, env = "SHINYFLEET_USER_POOL_ID")]
    pub user_pool_id: Option<String>,

    /// Cognito app client id (without a secret, USER_PASSWORD_AUTH allowed); required with the aws backend.
    #[arg(long, env = "SHINYFLEET_CLIENT_ID")]
    pub client_id: Option<String>,

    /// Log format.
    #[arg(long, env = "SHINYFLEET_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Seconds between refreshes of the cached fleet status.
    #[arg(long, env = "SHINYFLEET_REFRESH_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub refresh_secs: u64,

    /// Seed the sandbox with demo apps (sandbox backend only; idempotent).
    #[arg(long, env = "SHINYFLEET_DEMO", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo: bool,

    /// Folder holding the compiled site (`pkg/` with the wasm, JS and CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Mark session cookies `Secure` (set when the console is served over https).
    #[arg(long, env = "SHINYFLEET_SECURE_COOKIES", default_value_t = false, action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "SHINYFLEET_SESSION_IDLE_MINUTES", default_value_t = 480, value_parser = clap::value_parser!(i64).range(1..=43_200))]
    pub session_idle_minutes: i64,
}

/// Settings that only make sense together, checked after parsing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub problem: String,
}

impl ServeConfig {
    /// Parses flags alone, ignoring the process environment: for tests and tools that must
    /// not pick up the settings of the machine they run on.
    pub fn from_flags<'a>(flags: impl IntoIterator<Item = &'a str>) -> Result<Self, clap::Error> {
        use clap::{FromArgMatches, Parser};
        #[derive(Parser)]
        struct Flags {
            #[command(flatten)]
            config: ServeConfig,
        }
        let command = <Flags as clap::CommandFactory>::command().mut_args(|a| a.env(None::<&str>));
        let matches = command.try_get_matches_from(std::iter::once("shinyfleet").chain(flags))?;
        Flags::from_arg_matches(&matches).map(|f| f.config)
    }

    /// Checks the settings clap cannot check on its own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let required = |setting: &'static str, present: bool| {
            if present {
                Ok(())
            } else {
                Err(ConfigError { setting, problem: "is required when SHINYFLEET_CLOUD=aws".into() })
            }
        };
        if self.cluster.trim().is_empty() {
            return Err(ConfigError { setting: "SHINYFLEET_CLUSTER", problem: "must not be empty".into() });
        }
        if self.cloud == CloudBackend::Aws {
            required("SHINYFLEET_USER_POOL_ID", self.user_pool_id.as_deref().is_some_and(|s| !s.is_empty()))?;
            required("SHINYFLEET_CLIENT_ID", self.client_id.as_deref().is_some_and(|s| !s.is_empty()))?;
            required("SHINYFLEET_SUBNETS", self.subnets.iter().any(|s| !s.is_empty()))?;
            required("SHINYFLEET_SECURITY_GROUPS", self.security_groups.iter().any(|s| !s.is_empty()))?;
        }
        crate::db::parse_url(&self.database_url).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ServeConfig, String> {
        ServeConfig::from_flags(args.iter().copied()).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_run_the_sandbox_locally() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.cloud, CloudBackend::Sandbox);
        assert_eq!(c.database_url, "sqlite://data/shinyfleet.db");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn the_aws_backend_names_each_missing_setting() {
        let c = parse(&["--cloud", "aws"]).unwrap();
        assert_eq!(c.validate().unwrap_err().setting, "SHINYFLEET_USER_POOL_ID");
        let c = parse(&["--cloud", "aws", "--user-pool-id", "p", "--client-id", "c", "--subnets", "s1,s2"]).unwrap();
        assert_eq!(c.subnets, ["s1", "s2"]);
        assert_eq!(c.validate().unwrap_err().setting, "SHINYFLEET_SECURITY_GROUPS");
        let c = parse(&[
            "--cloud",
            "aws",
            "--user-pool-id",
            "p",
            "--client-id",
            "c",
            "--subnets",
            "s1",
            "--security-groups",
            "g",
        ])
        .unwrap();
        assert!(c.validate().is_ok());
    }

    #[test]
    fn unknown_values_are_refused_by_name() {
        assert!(parse(&["--cloud", "azure"]).unwrap_err().contains("--cloud"));
        assert!(parse(&["--listen", "localhost"]).unwrap_err().contains("--listen"));
        assert!(parse(&["--refresh-secs", "0"]).unwrap_err().contains("--refresh-secs"));
        let c = parse(&["--database-url", "postgres://x/y"]).unwrap();
        assert_eq!(c.validate().unwrap_err().setting, "DATABASE_URL");
    }
}

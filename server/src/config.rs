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

    /// Give the apps' tasks a public IP (needed in public subnets without a NAT gateway).
    #[arg(long, env = "SHINYFLEET_ASSIGN_PUBLIC_IP", default_value_t = false, action = clap::ArgAction::Set)]
    pub assign_public_ip: bool,

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

    /// Hours after sign-in at which a session ends, however active.
    #[arg(long, env = "SHINYFLEET_SESSION_MAX_HOURS", default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=720))]
    pub session_max_hours: i64,

    /// The pool group whose members are admins.
    #[arg(long, env = "SHINYFLEET_ADMIN_GROUP", default_value = "shinyfleet-admins")]
    pub admin_group: String,

    /// The pool group whose members are viewers.
    #[arg(long, env = "SHINYFLEET_VIEWER_GROUP", default_value = "shinyfleet-viewers")]
    pub viewer_group: String,

    /// The time zone whose days the Costs page counts (an IANA name, e.g. Europe/Berlin).
    #[arg(long, env = "SHINYFLEET_DISPLAY_TIMEZONE", default_value = "UTC")]
    pub display_timezone: String,

    /// The region whose Fargate prices apply. Default: the console's AWS region (us-east-1 on
    /// the sandbox).
    #[arg(long, env = "SHINYFLEET_PRICE_REGION")]
    pub price_region: Option<String>,

    /// Prices in dollars per hour that replace the built-in table's, e.g.
    /// `x86_64.vcpu_hour=0.04048,x86_64.gb_hour=0.004445,arm64.vcpu_hour=0.03238,arm64.gb_hour=0.00356`.
    #[arg(long, env = "SHINYFLEET_PRICE_OVERRIDES", default_value = "")]
    pub price_overrides: String,

    /// Fixed costs shared by the apps that run, in dollars per hour: `name=0.0225,…` (e.g. the
    /// load balancer). Each day's is shared in proportion to the apps' task-seconds.
    #[arg(long, env = "SHINYFLEET_FIXED_COSTS", default_value = "")]
    pub fixed_costs: String,

    /// Monthly budgets in dollars: `fleet=300,sales-dashboard=50` (`fleet` for the whole
    /// fleet, otherwise an app's slug). A projection above its budget shows a warning.
    #[arg(long, env = "SHINYFLEET_BUDGETS", default_value = "")]
    pub budgets: String,

    /// The console's public URL (e.g. https://shiny.example.org): the only origin allowed to
    /// send it changes. Default: the scheme and `Host` of each request.
    #[arg(long, env = "SHINYFLEET_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The console sits behind a proxy or load balancer: take the client's address from the
    /// last `X-Forwarded-For` entry and the scheme from `X-Forwarded-Proto`.
    #[arg(long, env = "SHINYFLEET_TRUST_PROXY", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_proxy: bool,

    /// The `iss` of the pool's ID tokens. Default: https://cognito-idp.REGION.amazonaws.com/POOL_ID.
    #[arg(long, env = "SHINYFLEET_TOKEN_ISSUER")]
    pub token_issuer: Option<String>,

    /// Where the pool's signing keys are served. Default: ISSUER/.well-known/jwks.json.
    #[arg(long, env = "SHINYFLEET_JWKS_URL")]
    pub jwks_url: Option<String>,

    /// Sign users in through an Application Load Balancer's Cognito authentication: the URL
    /// of its public keys with `{kid}`, e.g. https://public-keys.auth.elb.eu-west-1.amazonaws.com/{kid}.
    /// The `x-amzn-oidc-data` header is trusted only when its signature verifies with them.
    #[arg(long, env = "SHINYFLEET_ALB_KEY_URL")]
    pub alb_key_url: Option<String>,

    /// The load balancer's ARN; required with SHINYFLEET_ALB_KEY_URL: headers signed by any other
    /// load balancer are refused.
    #[arg(long, env = "SHINYFLEET_ALB_ARN")]
    pub alb_arn: Option<String>,

    /// Where sign-out sends users behind the load balancer, e.g. the Cognito domain's
    /// `/logout?client_id=…&logout_uri=…` (default: the console's home, which signs in again).
    #[arg(long, env = "SHINYFLEET_ALB_SIGN_OUT_URL")]
    pub alb_sign_out_url: Option<String>,

    /// Password of the sandbox's demo users (sandbox only). Default: a new random one at every
    /// start, printed with the demo users.
    #[arg(long, env = "SHINYFLEET_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
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
    /// The Costs page's settings; `region` is the cloud's (the sandbox's: none).
    pub fn cost_settings(&self, region: Option<&str>) -> Result<service::costs::CostSettings, ConfigError> {
        service::costs::CostSettings::parse(
            &self.display_timezone,
            self.price_region.as_deref().or(region).unwrap_or("us-east-1"),
            &self.price_overrides,
            &self.fixed_costs,
            &self.budgets,
        )
        .map_err(|(setting, problem)| ConfigError { setting, problem })
    }

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
        for (setting, group) in
            [("SHINYFLEET_ADMIN_GROUP", &self.admin_group), ("SHINYFLEET_VIEWER_GROUP", &self.viewer_group)]
        {
            if group.is_empty() || group.chars().count() > 128 || group.chars().any(char::is_whitespace) {
                return Err(ConfigError {
                    setting,
                    problem: "must be a group name: 1 to 128 characters without spaces".into(),
                });
            }
        }
        if self.admin_group == self.viewer_group {
            return Err(ConfigError {
                setting: "SHINYFLEET_VIEWER_GROUP",
                problem: "must differ from SHINYFLEET_ADMIN_GROUP".into(),
            });
        }
        self.cost_settings(None)?;
        if let Some(url) = &self.public_url {
            public_origin(url).map_err(|problem| ConfigError { setting: "SHINYFLEET_PUBLIC_URL", problem })?;
        }
        for (setting, url) in [
            ("SHINYFLEET_TOKEN_ISSUER", &self.token_issuer),
            ("SHINYFLEET_JWKS_URL", &self.jwks_url),
            ("SHINYFLEET_ALB_KEY_URL", &self.alb_key_url),
            ("SHINYFLEET_ALB_SIGN_OUT_URL", &self.alb_sign_out_url),
        ] {
            if let Some(url) = url {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(ConfigError { setting, problem: "must be an http(s) URL".into() });
                }
            }
        }
        if self.alb_key_url.as_deref().is_some_and(|u| !u.contains("{kid}")) {
            return Err(ConfigError {
                setting: "SHINYFLEET_ALB_KEY_URL",
                problem: "must contain {kid}, where the key id goes".into(),
            });
        }
        if self.alb_arn.is_some() && self.alb_key_url.is_none() {
            return Err(ConfigError { setting: "SHINYFLEET_ALB_ARN", problem: "needs SHINYFLEET_ALB_KEY_URL".into() });
        }
        if self.alb_key_url.is_some() && self.alb_arn.as_deref().is_none_or(str::is_empty) {
            // The key URL serves the keys of every load balancer in the region: without the
            // ARN, a header from someone else's load balancer would be trusted.
            return Err(ConfigError {
                setting: "SHINYFLEET_ALB_ARN",
                problem: "is required with SHINYFLEET_ALB_KEY_URL (the load balancer whose headers to trust)".into(),
            });
        }
        if let Some(pw) = &self.demo_password {
            if pw.chars().count() < 8 {
                return Err(ConfigError {
                    setting: "SHINYFLEET_DEMO_PASSWORD",
                    problem: "needs at least 8 characters".into(),
                });
            }
        }
        crate::db::parse_url(&self.database_url).map(|_| ())
    }

    /// The groups that grant the console's roles.
    pub fn role_groups(&self) -> domain::RoleGroups {
        domain::RoleGroups { admins: self.admin_group.clone(), viewers: self.viewer_group.clone() }
    }
}

/// The origin (`scheme://host[:port]`) of a public URL, lower-cased, without a trailing slash.
pub fn public_origin(url: &str) -> Result<String, String> {
    let (scheme, rest) = url.split_once("://").ok_or("must be a URL such as https://shiny.example.org")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err("must start with https:// or http://".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') || authority.chars().any(|c| c.is_whitespace()) {
        return Err("must name a host, e.g. https://shiny.example.org".into());
    }
    Ok(format!("{scheme}://{authority}"))
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
    fn sign_in_settings_are_checked_by_name() {
        let setting = |args: &[&str]| parse(args).unwrap().validate().err().map(|e| e.setting);
        assert_eq!(setting(&["--viewer-group", "shinyfleet-admins"]), Some("SHINYFLEET_VIEWER_GROUP"));
        assert_eq!(setting(&["--admin-group", "data team"]), Some("SHINYFLEET_ADMIN_GROUP"));
        assert_eq!(setting(&["--public-url", "shiny.example.org"]), Some("SHINYFLEET_PUBLIC_URL"));
        assert_eq!(setting(&["--alb-key-url", "https://keys.example/"]), Some("SHINYFLEET_ALB_KEY_URL"));
        assert_eq!(setting(&["--alb-arn", "arn:aws:elasticloadbalancing:x"]), Some("SHINYFLEET_ALB_ARN"));
        assert_eq!(setting(&["--alb-key-url", "https://keys.example/{kid}"]), Some("SHINYFLEET_ALB_ARN"));
        assert_eq!(setting(&["--alb-key-url", "https://keys.example/{kid}", "--alb-arn", "arn:aws:x"]), None);
        assert_eq!(setting(&["--jwks-url", "file:///etc/keys"]), Some("SHINYFLEET_JWKS_URL"));
        assert_eq!(setting(&["--demo-password", "short"]), Some("SHINYFLEET_DEMO_PASSWORD"));
        assert_eq!(setting(&["--public-url", "https://Shiny.Example.org:8443/console/"]), None);
        assert_eq!(public_origin("https://Shiny.Example.org:8443/console/").unwrap(), "https://shiny.example.org:8443");
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

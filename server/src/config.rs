//! Typed configuration from flags and environment variables (`shinyfleet serve --help`).
//! Every setting is read once, by its value parser, into its type before anything starts; a
//! wrong one stops start-up with one line that names it ([`one_line`]). Settings that only
//! make sense together are checked by [`ServeConfig::validate`].

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser, ValueEnum};
use domain::cost::{CostSettings, FixedCost, Money, PriceOverrides, Prices};
use secrecy::SecretString;
use sqlx::sqlite::SqliteConnectOptions;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

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
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/shinyfleet.db", value_parser = crate::db::parse_url)]
    pub database_url: SqliteConnectOptions,

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

    /// Mark session cookies `Secure` (and `__Host-` prefixed) although SHINYFLEET_PUBLIC_URL
    /// is not https, e.g. behind a TLS proxy without a public URL. An https public URL implies it.
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
    #[arg(long, env = "SHINYFLEET_DISPLAY_TIMEZONE", default_value = "UTC", value_parser = parse_timezone)]
    pub display_timezone: chrono_tz::Tz,

    /// The region whose Fargate prices apply. Default: the console's AWS region (us-east-1 on
    /// the sandbox).
    #[arg(long, env = "SHINYFLEET_PRICE_REGION")]
    pub price_region: Option<String>,

    /// Prices in dollars per hour that replace the built-in table's, e.g.
    /// `x86_64.vcpu_hour=0.04048,x86_64.gb_hour=0.004445,arm64.vcpu_hour=0.03238,arm64.gb_hour=0.00356`.
    #[arg(long, env = "SHINYFLEET_PRICE_OVERRIDES", default_value = "", value_parser = parse_price_overrides)]
    pub price_overrides: PriceOverrides,

    /// Fixed costs shared by the apps that run, in dollars per hour: `name=0.0225,…` (e.g. the
    /// load balancer). Each day's is shared in proportion to the apps' task-seconds.
    #[arg(long, env = "SHINYFLEET_FIXED_COSTS", default_value = "", value_parser = parse_fixed_costs)]
    pub fixed_costs: FixedCosts,

    /// Monthly budgets in dollars: `fleet=300,sales-dashboard=50` (`fleet` for the whole
    /// fleet, otherwise an app's slug). A projection above its budget shows a warning.
    #[arg(long, env = "SHINYFLEET_BUDGETS", default_value = "", value_parser = parse_budgets)]
    pub budgets: BTreeMap<String, Money>,

    /// The console's public URL (e.g. https://shiny.example.org): the only origin allowed to
    /// send it changes. Default: the scheme and `Host` of each request.
    #[arg(long, env = "SHINYFLEET_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<Url>,

    /// The console sits behind a proxy or load balancer: take the client's address from the
    /// last `X-Forwarded-For` entry and the scheme from `X-Forwarded-Proto`.
    #[arg(long, env = "SHINYFLEET_TRUST_PROXY", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_proxy: bool,

    /// The `iss` of the pool's ID tokens. Default: https://cognito-idp.REGION.amazonaws.com/POOL_ID.
    // Kept as given: tokens must carry exactly this `iss`, which a `Url` would normalise.
    #[arg(long, env = "SHINYFLEET_TOKEN_ISSUER", value_parser = parse_token_issuer)]
    pub token_issuer: Option<String>,

    /// Where the pool's signing keys are served. Default: ISSUER/.well-known/jwks.json.
    #[arg(long, env = "SHINYFLEET_JWKS_URL", value_parser = parse_http_url)]
    pub jwks_url: Option<Url>,

    /// Sign users in through an Application Load Balancer's Cognito authentication: the URL
    /// of its public keys with `{kid}`, e.g. https://public-keys.auth.elb.eu-west-1.amazonaws.com/{kid}.
    /// The `x-amzn-oidc-data` header is trusted only when its signature verifies with them.
    // A template rather than a `Url`: a `Url` would percent-encode `{kid}`.
    #[arg(long, env = "SHINYFLEET_ALB_KEY_URL", value_parser = parse_alb_key_url)]
    pub alb_key_url: Option<String>,

    /// The load balancer's ARN; required with SHINYFLEET_ALB_KEY_URL: headers signed by any other
    /// load balancer are refused.
    #[arg(long, env = "SHINYFLEET_ALB_ARN")]
    pub alb_arn: Option<String>,

    /// Where sign-out sends users behind the load balancer, e.g. the Cognito domain's
    /// `/logout?client_id=…&logout_uri=…` (default: the console's home, which signs in again).
    #[arg(long, env = "SHINYFLEET_ALB_SIGN_OUT_URL", value_parser = parse_http_url)]
    pub alb_sign_out_url: Option<Url>,

    /// Password of the sandbox's demo users (sandbox only; at least 8 characters). Default: a
    /// new random one at every start, printed with the demo users.
    #[arg(long, env = "SHINYFLEET_DEMO_PASSWORD", hide_env_values = true, value_parser = DemoPassword)]
    pub demo_password: Option<SecretString>,
}

/// Shared fixed costs. An alias because clap reads a field spelled `Vec<…>` as a repeated
/// flag, where this is one comma-separated value.
pub type FixedCosts = Vec<FixedCost>;

/// `serve`'s settings as a command of their own: for [`ServeConfig::from_flags`] and for
/// naming a setting's environment variable in [`one_line`].
#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: ServeConfig,
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
        let command = Flags::command().mut_args(|a| a.env(None::<&str>));
        let matches = command.try_get_matches_from(std::iter::once("shinyfleet").chain(flags))?;
        Flags::from_arg_matches(&matches).map(|f| f.config)
    }

    /// The Costs page's settings; `region` is the cloud's (the sandbox's: none). Only the
    /// region is checked here: its prices depend on the cloud and on the overrides.
    pub fn cost_settings(&self, region: Option<&str>) -> Result<CostSettings, ConfigError> {
        let region = self.price_region.as_deref().or(region).unwrap_or("us-east-1");
        let prices = Prices::resolve(region, &self.price_overrides)
            .map_err(|e| ConfigError { setting: "SHINYFLEET_PRICE_REGION", problem: e.message })?;
        Ok(CostSettings {
            tz: self.display_timezone,
            prices,
            fixed: self.fixed_costs.clone(),
            budgets: self.budgets.clone(),
        })
    }

    /// Whether session cookies are `Secure`: an https SHINYFLEET_PUBLIC_URL, or
    /// SHINYFLEET_SECURE_COOKIES. Plain http (local use) keeps plain cookies.
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies || self.public_url.as_ref().is_some_and(|url| url.scheme() == "https")
    }

    /// The session cookie's name: `__Host-` prefixed when it is `Secure`, so the browser takes
    /// it only from an https origin, for the whole host (path `/`, no `Domain`), and a sibling
    /// domain or an http page cannot set or shadow it.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.cookies_secure() {
            "__Host-shinyfleet_session"
        } else {
            "shinyfleet_session"
        }
    }

    /// Checks the settings that only make sense together (each alone was read by its parser).
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
        Ok(())
    }

    /// The groups that grant the console's roles.
    pub fn role_groups(&self) -> domain::RoleGroups {
        domain::RoleGroups { admins: self.admin_group.clone(), viewers: self.viewer_group.clone() }
    }
}

/// A command-line or environment error as one line that names the setting, e.g.
/// `invalid value 'azure' for '--cloud <CLOUD>' [possible values: sandbox, aws] (environment variable SHINYFLEET_CLOUD)`.
pub fn one_line(e: &clap::Error) -> String {
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
    if let Some(env) = env_of(e) {
        line.push_str(&format!(" (environment variable {env})"));
    }
    line
}

/// The environment variable of the setting a command-line error is about.
pub fn env_of(e: &clap::Error) -> Option<String> {
    // The flag as clap shows it (`--demo-password <DEMO_PASSWORD>`): its name, whole (not `--demo`).
    let arg = e.get(ContextKind::InvalidArg).map(|a| a.to_string()).unwrap_or_default();
    let long = arg.split([' ', '=']).next().and_then(|flag| flag.strip_prefix("--"));
    Flags::command()
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|l| Some(l) == long))
        .and_then(|a| a.get_env().map(|v| v.to_string_lossy().into_owned()))
}

// The value parsers: each reads one setting into its type; an error says what is wrong
// with the value, and clap names the flag (and `one_line` its environment variable).

/// One cost setting read by the domain's [`CostSettings::parse`], the others left blank, so
/// each keeps the domain's rules and messages.
fn cost_setting(zone: &str, fixed: &str, budgets: &str) -> Result<CostSettings, String> {
    CostSettings::parse(zone, "us-east-1", "", fixed, budgets).map_err(|(_, problem)| problem)
}

fn parse_timezone(raw: &str) -> Result<chrono_tz::Tz, String> {
    cost_setting(raw, "", "").map(|s| s.tz)
}

fn parse_fixed_costs(raw: &str) -> Result<FixedCosts, String> {
    cost_setting("UTC", raw, "").map(|s| s.fixed)
}

fn parse_budgets(raw: &str) -> Result<BTreeMap<String, Money>, String> {
    cost_setting("UTC", "", raw).map(|s| s.budgets)
}

fn parse_price_overrides(raw: &str) -> Result<PriceOverrides, String> {
    PriceOverrides::parse(raw).map_err(|e| e.message)
}

/// An `http://` or `https://` URL.
fn parse_http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("is not a URL ({e}), e.g. https://shiny.example.org"))?;
    match url.scheme() {
        "https" | "http" => Ok(url),
        _ => Err("must be an http(s) URL".into()),
    }
}

fn parse_public_url(raw: &str) -> Result<Url, String> {
    public_origin(raw)?;
    parse_http_url(raw)
}

fn parse_token_issuer(raw: &str) -> Result<String, String> {
    parse_http_url(raw).map(|_| raw.to_owned())
}

fn parse_alb_key_url(raw: &str) -> Result<String, String> {
    parse_http_url(raw)?;
    if !raw.contains("{kid}") {
        return Err("must contain {kid}, where the key id goes".into());
    }
    Ok(raw.to_owned())
}

/// Reads the demo password into a [`SecretString`]; unlike a function parser, its error
/// does not repeat the value.
#[derive(Clone)]
struct DemoPassword;

impl clap::builder::TypedValueParser for DemoPassword {
    type Value = SecretString;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SecretString, clap::Error> {
        match value.to_str() {
            Some(pw) if pw.chars().count() >= 8 => Ok(SecretString::from(pw.to_owned())),
            _ => {
                let flag = arg.map(ToString::to_string).unwrap_or_else(|| "--demo-password".into());
                let mut e = clap::Error::raw(
                    ErrorKind::ValueValidation,
                    format!("invalid value for '{flag}': needs at least 8 characters\n"),
                )
                .with_cmd(cmd);
                e.insert(ContextKind::InvalidArg, ContextValue::String(flag));
                Err(e)
            }
        }
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

    /// The setting a configuration is refused for: by its value parser (clap) or, for
    /// settings that only make sense together, by `validate`.
    fn refused(args: &[&str]) -> Option<String> {
        match ServeConfig::from_flags(args.iter().copied()) {
            Err(e) => Some(env_of(&e).unwrap_or_else(|| e.to_string())),
            Ok(c) => c.validate().err().map(|e| e.setting.to_owned()),
        }
    }

    /// What start-up prints for a refused value.
    fn refusal(args: &[&str]) -> String {
        one_line(&ServeConfig::from_flags(args.iter().copied()).expect_err("refused"))
    }

    #[test]
    fn defaults_run_the_sandbox_locally() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.cloud, CloudBackend::Sandbox);
        assert_eq!(c.database_url.get_filename(), std::path::Path::new("data/shinyfleet.db"));
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
        let setting = |args: &[&str]| refused(args);
        assert_eq!(setting(&["--viewer-group", "shinyfleet-admins"]).as_deref(), Some("SHINYFLEET_VIEWER_GROUP"));
        assert_eq!(setting(&["--admin-group", "data team"]).as_deref(), Some("SHINYFLEET_ADMIN_GROUP"));
        assert_eq!(setting(&["--public-url", "shiny.example.org"]).as_deref(), Some("SHINYFLEET_PUBLIC_URL"));
        assert_eq!(setting(&["--alb-key-url", "https://keys.example/"]).as_deref(), Some("SHINYFLEET_ALB_KEY_URL"));
        assert_eq!(setting(&["--alb-arn", "arn:aws:elasticloadbalancing:x"]).as_deref(), Some("SHINYFLEET_ALB_ARN"));
        assert_eq!(setting(&["--alb-key-url", "https://keys.example/{kid}"]).as_deref(), Some("SHINYFLEET_ALB_ARN"));
        assert_eq!(setting(&["--alb-key-url", "https://keys.example/{kid}", "--alb-arn", "arn:aws:x"]), None);
        assert_eq!(setting(&["--jwks-url", "file:///etc/keys"]).as_deref(), Some("SHINYFLEET_JWKS_URL"));
        assert_eq!(setting(&["--demo-password", "short"]).as_deref(), Some("SHINYFLEET_DEMO_PASSWORD"));
        assert_eq!(setting(&["--public-url", "https://Shiny.Example.org:8443/console/"]), None);
        assert_eq!(public_origin("https://Shiny.Example.org:8443/console/").unwrap(), "https://shiny.example.org:8443");
    }

    #[test]
    fn unknown_values_are_refused_by_name() {
        assert!(parse(&["--cloud", "azure"]).unwrap_err().contains("--cloud"));
        assert!(parse(&["--listen", "localhost"]).unwrap_err().contains("--listen"));
        assert!(parse(&["--refresh-secs", "0"]).unwrap_err().contains("--refresh-secs"));
        assert_eq!(refused(&["--database-url", "postgres://x/y"]).as_deref(), Some("DATABASE_URL"));
    }

    #[test]
    fn each_setting_is_read_into_its_type() {
        let c = parse(&[
            "--display-timezone",
            "Europe/Berlin",
            "--price-overrides",
            "arm64.gb_hour=0.004",
            "--fixed-costs",
            "load-balancer=0.0225",
            "--budgets",
            "fleet=300,sales=50",
            "--public-url",
            "https://Shiny.Example.org/console/",
            "--jwks-url",
            "https://keys.example/jwks.json",
            "--token-issuer",
            "https://issuer.example",
            "--database-url",
            "sqlite://console.db",
        ])
        .unwrap();
        assert_eq!(c.display_timezone, chrono_tz::Europe::Berlin);
        assert_eq!(c.price_overrides.arm64_gb_hour_nanos, Some(4_000_000));
        assert_eq!(c.fixed_costs[0].micros_per_hour, 22_500);
        assert_eq!(c.budgets["fleet"].micros(), 300_000_000);
        assert_eq!(c.public_url.as_ref().unwrap().host_str(), Some("shiny.example.org"));
        assert_eq!(c.jwks_url.as_ref().unwrap().as_str(), "https://keys.example/jwks.json");
        assert_eq!(c.token_issuer.as_deref(), Some("https://issuer.example"), "tokens' iss, exactly as given");
        assert_eq!(c.database_url.get_filename(), std::path::Path::new("console.db"));
        let costs = c.cost_settings(None).unwrap();
        assert_eq!(
            (costs.tz, costs.prices.arm64.gb_hour_nanos, costs.budgets.len()),
            (c.display_timezone, 4_000_000, 2)
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_flag_the_variable_and_what_is_wrong() {
        for (args, says) in [
            (["--display-timezone", "Mars/Base"], "\"Mars/Base\" is not an IANA time zone"),
            (["--price-overrides", "x86_64.vcpu_hour=abc"], "is not a price in dollars per hour"),
            (["--price-overrides", "gpu.hour=1"], "unknown price \"gpu.hour\""),
            (["--fixed-costs", "alb"], "\"alb\" must be name=value"),
            (["--fixed-costs", "alb=-1"], "alb: must not be negative"),
            (["--budgets", "fleet=0"], "fleet: must be more than zero"),
            (["--budgets", "fleet=1,fleet=2"], "fleet is given twice"),
            (["--database-url", "postgres://x/y"], "only sqlite: URLs are supported (got \"postgres\")"),
            (["--public-url", "shiny.example.org"], "must be a URL such as https://shiny.example.org"),
            (["--public-url", "https://user@shiny.example.org"], "must name a host"),
            (["--jwks-url", "file:///etc/keys"], "must be an http(s) URL"),
            (["--token-issuer", "cognito"], "is not a URL"),
            (["--alb-sign-out-url", "ftp://x.example/"], "must be an http(s) URL"),
            (["--alb-key-url", "https://keys.example/"], "must contain {kid}"),
        ] {
            let line = refusal(&args);
            let env = refused(&args).unwrap();
            assert!(line.starts_with(&format!("invalid value '{}' for '{}", args[1], args[0])), "{line}");
            assert!(line.contains(says), "{args:?}: {line}");
            assert!(env.starts_with("SHINYFLEET_") || env == "DATABASE_URL", "{args:?}: {env}");
            assert!(line.ends_with(&format!("(environment variable {env})")), "{line}");
        }
    }

    #[test]
    fn the_demo_password_is_never_printed() {
        let line = refusal(&["--demo-password", "hunter2"]);
        assert_eq!(
            line,
            "invalid value for '--demo-password <DEMO_PASSWORD>': needs at least 8 characters \
             (environment variable SHINYFLEET_DEMO_PASSWORD)"
        );
        let c = parse(&["--demo-password", "correct-horse"]).unwrap();
        assert!(!format!("{c:?}").contains("correct-horse"), "Debug shows the password");
        use secrecy::ExposeSecret;
        assert_eq!(c.demo_password.unwrap().expose_secret(), "correct-horse");
    }

    #[test]
    fn serve_help_names_every_settings_environment_variable() {
        let mut command = Flags::command();
        let help = command.render_long_help().to_string();
        for arg in command.get_arguments().filter(|a| a.get_id() != "help") {
            let env = arg.get_env().unwrap_or_else(|| panic!("--{} has no environment variable", arg.get_id()));
            assert!(help.contains(&format!("[env: {}", env.to_string_lossy())), "{env:?} missing from --help");
        }
    }
}

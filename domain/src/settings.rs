//! The rest of an app's definition, validated at the edge like the slug and the image:
//! environment variables, container port, health-check path and command, desired count,
//! IAM role ARNs and tags. Each parser names the field it refuses, with a message fit to show
//! next to it in a form or in an API's 422.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

fn refuse<T>(field: &str, message: impl Into<String>) -> Result<T, ValidationError> {
    Err(ValidationError::new(field, message))
}

/// An app's environment: variable names as POSIX shells and ECS accept them (a letter or `_`,
/// then letters, digits and `_`; at most 255 characters), no name twice, values on one line
/// (the form edits them as `NAME=value` lines) without NUL, all of it at most 32 KiB.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment(Vec<(String, String)>);

impl Environment {
    /// The most variables an app may set.
    pub const MAX_VARIABLES: usize = 200;
    /// The most bytes all names and values may take together.
    pub const MAX_BYTES: usize = 32 * 1024;

    pub fn parse(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, ValidationError> {
        let mut vars: Vec<(String, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut bytes = 0;
        for (name, value) in pairs {
            // The limits first, so an oversized request costs no more than the limit's work.
            if vars.len() == Self::MAX_VARIABLES {
                return refuse("env", format!("at most {} variables", Self::MAX_VARIABLES));
            }
            let name = name.trim().to_owned();
            let valid_start = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if !valid_start || name.len() > 255 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return refuse(
                    "env",
                    format!("{name:?} is not a variable name: use letters, digits and _, not starting with a digit"),
                );
            }
            if !seen.insert(name.clone()) {
                return refuse("env", format!("{name} is set twice"));
            }
            if value.contains('\0') {
                return refuse("env", format!("the value of {name} contains a NUL character"));
            }
            if value.contains(['\n', '\r']) {
                return refuse("env", format!("the value of {name} spans several lines; keep it on one"));
            }
            bytes += name.len() + value.len();
            if bytes > Self::MAX_BYTES {
                return refuse("env", "the variables take more than 32 KiB together");
            }
            vars.push((name, value));
        }
        vars.sort();
        Ok(Self(vars))
    }

    /// The variables, sorted by name.
    pub fn vars(&self) -> &[(String, String)] {
        &self.0
    }
}

/// The container's port: 1–65535 (Shiny's default is 3838).
pub fn container_port(raw: i64) -> Result<u16, ValidationError> {
    match u16::try_from(raw) {
        Ok(port) if port > 0 => Ok(port),
        _ => refuse("port", "a port is between 1 and 65535"),
    }
}

/// The desired number of tasks: 0–100 (0 keeps the app registered but stopped).
pub fn desired_count(raw: i64) -> Result<u32, ValidationError> {
    match u32::try_from(raw) {
        Ok(n) if n <= 100 => Ok(n),
        _ => refuse("desired_count", "between 0 and 100 tasks"),
    }
}

/// The path the load balancer's target group (and an optional container check) requests:
/// it starts with `/`, has at most 1024 characters, and only the characters a target group
/// accepts (letters, digits and `-._~!$&()*+,;=:@/%?`) except `'`, which would end the quoted
/// URL of the container's health-check command.
pub fn health_check_path(raw: &str) -> Result<String, ValidationError> {
    let path = raw.trim();
    if !path.starts_with('/') {
        return refuse("health_check_path", "a path starts with /, e.g. / or /health");
    }
    if path.len() > 1024 {
        return refuse("health_check_path", "at most 1024 characters");
    }
    if !path.chars().all(|c| c.is_ascii_alphanumeric() || "-._~!$&()*+,;=:@/%?".contains(c)) {
        return refuse("health_check_path", "only letters, digits and -._~!$&()*+,;=:@/%? in a path");
    }
    Ok(path.to_owned())
}

/// A container health check for images that ship a web client. Rocker's Shiny images have
/// neither curl nor wget, so no check is the default: a check that cannot run marks every
/// task unhealthy and trips the deployment circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthCheckTool {
    Curl,
    Wget,
}

impl HealthCheckTool {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthCheckTool::Curl => "curl",
            HealthCheckTool::Wget => "wget",
        }
    }

    /// The `CMD-SHELL` command checking `path` on the container's own port.
    pub fn command(self, port: u16, path: &str) -> String {
        let url = format!("http://localhost:{port}{path}");
        match self {
            HealthCheckTool::Curl => format!("curl -fsS -o /dev/null '{url}' || exit 1"),
            HealthCheckTool::Wget => format!("wget -q -O /dev/null '{url}' || exit 1"),
        }
    }
}

/// An IAM role ARN for the task or its execution: `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
pub fn role_arn(field: &str, raw: &str) -> Result<String, ValidationError> {
    let arn = raw.trim();
    let message = "an IAM role ARN looks like arn:aws:iam::123456789012:role/shiny-task";
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return refuse(field, message);
    };
    let partition_ok = matches!(partition, "aws" | "aws-cn" | "aws-us-gov");
    let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    let name = resource.strip_prefix("role/").unwrap_or_default();
    let name_ok = !name.is_empty()
        && arn.len() <= 2048
        && name.split('/').all(|s| !s.is_empty())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
    if partition_ok && account_ok && name_ok {
        Ok(arn.to_owned())
    } else {
        refuse(field, message)
    }
}

/// Resource tags as AWS accepts them: at most 50 (ShinyFleet adds its own within that);
/// keys of 1–128 and values of 0–256 characters among letters, digits, spaces and
/// `+-=._:/@`; keys not starting with `aws:` (reserved); no key twice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    /// Leaves room for the tags ShinyFleet itself sets on what it creates.
    pub const MAX_TAGS: usize = 45;

    pub fn parse(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, ValidationError> {
        let allowed = |s: &str| s.chars().all(|c| c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c));
        let mut tags: Vec<(String, String)> = Vec::new();
        for (key, value) in pairs {
            if tags.len() == Self::MAX_TAGS {
                return refuse("tags", format!("at most {} tags", Self::MAX_TAGS));
            }
            let (key, value) = (key.trim().to_owned(), value.trim().to_owned());
            if key.is_empty() || key.chars().count() > 128 || !allowed(&key) {
                return refuse("tags", format!("{key:?} is not a tag key: 1–128 letters, digits, spaces or +-=._:/@"));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                return refuse("tags", format!("{key}: keys starting with aws: are reserved"));
            }
            if value.chars().count() > 256 || !allowed(&value) {
                return refuse("tags", format!("the value of {key}: at most 256 letters, digits, spaces or +-=._:/@"));
            }
            if tags.iter().any(|(k, _)| *k == key) {
                return refuse("tags", format!("{key} is set twice"));
            }
            tags.push((key, value));
        }
        tags.sort();
        Ok(Self(tags))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn environment_names_follow_posix_and_appear_once() {
        let env =
            Environment::parse(pairs(&[("SHINY_LOG", "debug"), ("_private", ""), ("R_LIBS", "/opt/r:/x")])).unwrap();
        assert_eq!(env.vars()[0].0, "R_LIBS", "sorted by name");
        for (bad, why) in [
            (pairs(&[("1ST", "x")]), "not a variable name"),
            (pairs(&[("MY-VAR", "x")]), "not a variable name"),
            (pairs(&[("MY VAR", "x")]), "not a variable name"),
            (pairs(&[("", "x")]), "not a variable name"),
            (pairs(&[("ÄPFEL", "x")]), "not a variable name"),
            (pairs(&[("A", "1"), ("A", "2")]), "set twice"),
            (pairs(&[("A", "x\0y")]), "NUL"),
            (pairs(&[("A", "x\ny")]), "several lines"),
            (pairs(&[("A", "x\r")]), "several lines"),
            (pairs(&[("A", &"x".repeat(33 * 1024))]), "32 KiB"),
        ] {
            let e = Environment::parse(bad.clone()).unwrap_err();
            assert_eq!(e.field, "env");
            assert!(e.message.contains(why), "{bad:?}: {}", e.message);
        }
        let many: Vec<_> = (0..201).map(|i| (format!("V{i}"), String::new())).collect();
        assert!(Environment::parse(many).unwrap_err().message.contains("at most 200"));
    }

    #[test]
    fn ports_and_counts_have_bounds() {
        assert_eq!(container_port(3838), Ok(3838));
        assert_eq!(container_port(65535), Ok(65535));
        for bad in [0, -1, 65536, i64::MAX] {
            assert_eq!(container_port(bad).unwrap_err().field, "port");
        }
        assert_eq!(desired_count(0), Ok(0));
        assert_eq!(desired_count(100), Ok(100));
        for bad in [-1, 101, i64::MIN] {
            assert_eq!(desired_count(bad).unwrap_err().field, "desired_count");
        }
    }

    #[test]
    fn health_check_paths_are_target_group_paths() {
        for ok in ["/", "/health", "/app/?ready=1", "/%7Euser"] {
            assert_eq!(health_check_path(ok).unwrap(), ok);
        }
        assert_eq!(health_check_path("  /  ").unwrap(), "/");
        for bad in ["", "health", "/a b", "/<script>", "/\"x", "/x';reboot;'", &format!("/{}", "a".repeat(1024))] {
            assert_eq!(health_check_path(bad).unwrap_err().field, "health_check_path", "{bad:?}");
        }
    }

    #[test]
    fn health_check_commands_check_the_containers_own_port() {
        assert_eq!(
            HealthCheckTool::Curl.command(3838, "/health"),
            "curl -fsS -o /dev/null 'http://localhost:3838/health' || exit 1"
        );
        assert_eq!(HealthCheckTool::Wget.command(8080, "/"), "wget -q -O /dev/null 'http://localhost:8080/' || exit 1");
    }

    #[test]
    fn role_arns_name_an_iam_role() {
        for ok in [
            "arn:aws:iam::123456789012:role/shiny-task",
            "arn:aws:iam::123456789012:role/service-role/ecsTaskExecutionRole",
            "arn:aws-cn:iam::123456789012:role/a+b=c,d.e@f_g-h",
        ] {
            assert_eq!(role_arn("task_role_arn", ok).unwrap(), ok);
        }
        for bad in [
            "",
            "shiny-task",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a//b",
            "arn:aws:s3:::bucket",
            "arn:azure:iam::123456789012:role/x",
            "arn:aws:iam:eu-west-1:123456789012:role/x",
            "arn:aws:iam::123456789012:role/x y",
        ] {
            assert_eq!(role_arn("execution_role_arn", bad).unwrap_err().field, "execution_role_arn", "{bad:?}");
        }
    }

    #[test]
    fn tags_follow_the_aws_rules() {
        let tags = Tags::parse(pairs(&[("team", "data science"), ("cost-center", "42"), ("owner", "ada@example.org")]))
            .unwrap();
        assert_eq!(tags.pairs()[0].0, "cost-center", "sorted by key");
        assert!(Tags::parse(pairs(&[("empty", "")])).is_ok());
        for (bad, why) in [
            (pairs(&[("", "x")]), "not a tag key"),
            (pairs(&[("a|b", "x")]), "not a tag key"),
            (pairs(&[("aws:createdBy", "x")]), "reserved"),
            (pairs(&[("AWS:x", "x")]), "reserved"),
            (pairs(&[("k", "<b>")]), "the value of k"),
            (pairs(&[("k", &"v".repeat(257))]), "the value of k"),
            (pairs(&[("k", "1"), ("k", "2")]), "set twice"),
        ] {
            let e = Tags::parse(bad.clone()).unwrap_err();
            assert_eq!(e.field, "tags");
            assert!(e.message.contains(why), "{bad:?}: {}", e.message);
        }
        let many: Vec<_> = (0..46).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(Tags::parse(many).unwrap_err().message.contains("at most 45"));
    }
}

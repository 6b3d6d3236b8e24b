//! An app's whole definition: [`AppInput`], the raw fields a form or the HTTP API sends, and
//! [`AppDefinition`], the validated value built from it with every bad field reported at
//! once (a form shows each message next to its field). From a definition come the exact
//! task-definition and service specs a deploy sends to the [`Fleet`](crate::fleet::Fleet).

use crate::fleet::{ServiceSpec, TaskDefinitionSpec};
use crate::settings::{container_port, desired_count, health_check_path, role_arn};
use crate::{AppSlug, Architecture, Environment, FargateSize, HealthCheckTool, ImageRef, Tags, ValidationError};
use serde::{Deserialize, Serialize};

/// The tag ShinyFleet puts on every task definition and service it creates: the app's slug.
pub const APP_TAG: &str = "shinyfleet:app";

/// How long the load balancer's failed health checks are ignored after a task starts: R and
/// its packages load slowly.
pub const HEALTH_CHECK_GRACE_SECS: u32 = 120;

/// An app's fields as sent, before validation. Text fields are as typed; optional ones are
/// `None` or blank when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInput {
    pub slug: String,
    pub name: String,
    pub image: String,
    pub cpu: i64,
    pub memory: i64,
    pub architecture: String,
    pub port: i64,
    /// Variables in the order given; names are checked (valid, none twice) when parsed.
    pub env: Vec<(String, String)>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub health_check_path: String,
    /// `curl`, `wget`, or none (no container health check).
    pub health_check_tool: Option<String>,
    pub desired_count: i64,
    pub tags: Vec<(String, String)>,
    /// The load balancer's target group the service registers its tasks with.
    pub target_group_arn: Option<String>,
}

impl AppInput {
    /// A new app's defaults: Shiny's port, `/` checked, one small x86 task, no extras.
    pub fn defaults() -> Self {
        Self {
            cpu: 256,
            memory: 512,
            architecture: Architecture::X86_64.as_str().to_owned(),
            port: 3838,
            health_check_path: "/".to_owned(),
            desired_count: 1,
            ..Self::default()
        }
    }
}

impl AppInput {
    /// What stands in for an environment variable's value shown to someone who may not read it.
    pub const HIDDEN_VALUE: &'static str = "********";

    /// The same input with every environment variable's value hidden (for viewers: a value
    /// may be a credential, even though a secret belongs in a secret store).
    pub fn with_env_hidden(mut self) -> Self {
        for (_, value) in &mut self.env {
            *value = Self::HIDDEN_VALUE.to_owned();
        }
        self
    }
}

/// A valid app definition; only [`AppDefinition::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppDefinition {
    pub slug: AppSlug,
    pub name: String,
    pub image: ImageRef,
    pub size: FargateSize,
    pub architecture: Architecture,
    pub port: u16,
    pub env: Environment,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub health_check_path: String,
    pub health_check_tool: Option<HealthCheckTool>,
    pub desired_count: u32,
    pub tags: Tags,
    pub target_group_arn: Option<String>,
}

/// Where a service's tasks run: the console's configured network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}

impl AppDefinition {
    /// Validates every field; on failure returns one error per bad field, in form order.
    pub fn parse(input: &AppInput) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let mut check = |r: Result<(), ValidationError>| {
            if let Err(e) = r {
                errors.push(e);
            }
        };
        let slug = AppSlug::parse(input.slug.trim());
        let name = app_name(&input.name);
        let image = ImageRef::parse(&input.image);
        let size = FargateSize::new(to_u32(input.cpu), to_u32(input.memory));
        let architecture = Architecture::parse(input.architecture.trim());
        let port = container_port(input.port);
        let env = Environment::parse(input.env.iter().cloned());
        let task_role = optional(&input.task_role_arn).map(|a| role_arn("task_role_arn", a)).transpose();
        let execution_role = optional(&input.execution_role_arn).map(|a| role_arn("execution_role_arn", a)).transpose();
        let path = health_check_path(&input.health_check_path);
        let tool = optional(&input.health_check_tool).map(health_check_tool).transpose();
        let count = desired_count(input.desired_count);
        let tags = Tags::parse(input.tags.iter().cloned());
        let target_group = optional(&input.target_group_arn).map(target_group_arn).transpose();
        for r in [
            slug.as_ref().map(drop),
            name.as_ref().map(drop),
            image.as_ref().map(drop),
            size.as_ref().map(drop),
            architecture.as_ref().map(drop),
            port.as_ref().map(drop),
            env.as_ref().map(drop),
            task_role.as_ref().map(drop),
            execution_role.as_ref().map(drop),
            path.as_ref().map(drop),
            tool.as_ref().map(drop),
            count.as_ref().map(drop),
            tags.as_ref().map(drop),
            target_group.as_ref().map(drop),
        ] {
            check(r.map_err(Clone::clone));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let ok = "every field was checked above";
        Ok(Self {
            slug: slug.expect(ok),
            name: name.expect(ok),
            image: image.expect(ok),
            size: size.expect(ok),
            architecture: architecture.expect(ok),
            port: port.expect(ok),
            env: env.expect(ok),
            task_role_arn: task_role.expect(ok),
            execution_role_arn: execution_role.expect(ok),
            health_check_path: path.expect(ok),
            health_check_tool: tool.expect(ok),
            desired_count: count.expect(ok),
            tags: tags.expect(ok),
            target_group_arn: target_group.expect(ok),
        })
    }

    /// The definition as raw fields again (to fill an edit form, or to patch a few fields).
    pub fn to_input(&self) -> AppInput {
        AppInput {
            slug: self.slug.to_string(),
            name: self.name.clone(),
            image: self.image.to_string(),
            cpu: i64::from(self.size.cpu()),
            memory: i64::from(self.size.memory()),
            architecture: self.architecture.as_str().to_owned(),
            port: i64::from(self.port),
            env: self.env.vars().to_vec(),
            task_role_arn: self.task_role_arn.clone(),
            execution_role_arn: self.execution_role_arn.clone(),
            health_check_path: self.health_check_path.clone(),
            health_check_tool: self.health_check_tool.map(|t| t.as_str().to_owned()),
            desired_count: i64::from(self.desired_count),
            tags: self.tags.pairs().to_vec(),
            target_group_arn: self.target_group_arn.clone(),
        }
    }

    /// The CloudWatch Logs group the app's containers log to.
    pub fn log_group(&self) -> String {
        format!("/shinyfleet/{}", self.slug)
    }

    /// The app's own tags plus ShinyFleet's [`APP_TAG`].
    fn all_tags(&self) -> Vec<(String, String)> {
        let mut tags = self.tags.pairs().to_vec();
        tags.push((APP_TAG.to_owned(), self.slug.to_string()));
        tags
    }

    /// The task-definition revision a deploy registers: family = slug, the `image` to run
    /// (the definition's image, pinned to its digest when it was resolved), logs to the app's
    /// group in `log_region`, and a container health check only when the app asks for one.
    pub fn task_definition(&self, image: &str, log_region: &str) -> TaskDefinitionSpec {
        TaskDefinitionSpec {
            family: self.slug.to_string(),
            image: image.to_owned(),
            cpu: self.size.cpu(),
            memory: self.size.memory(),
            architecture: self.architecture,
            container_port: self.port,
            environment: self.env.vars().to_vec(),
            task_role_arn: self.task_role_arn.clone(),
            execution_role_arn: self.execution_role_arn.clone(),
            health_check_command: self.health_check_tool.map(|t| t.command(self.port, &self.health_check_path)),
            log_group: self.log_group(),
            log_region: log_region.to_owned(),
            tags: self.all_tags(),
        }
    }

    /// Where the app's tasks are registered, if it has a target group.
    pub fn service_target(&self) -> Option<crate::fleet::ServiceTarget> {
        self.target_group_arn.as_ref().map(|arn| crate::fleet::ServiceTarget {
            target_group_arn: arn.clone(),
            container_port: self.port,
            health_check_grace_period_secs: HEALTH_CHECK_GRACE_SECS,
        })
    }

    /// The service a first deploy creates, running `task_definition` in `network`.
    pub fn service(&self, task_definition: &str, network: &Network) -> ServiceSpec {
        ServiceSpec {
            name: self.slug.to_string(),
            task_definition: task_definition.to_owned(),
            desired_count: self.desired_count,
            subnets: network.subnets.clone(),
            security_groups: network.security_groups.clone(),
            assign_public_ip: network.assign_public_ip,
            target_group_arn: self.target_group_arn.clone(),
            health_check_grace_period_secs: self.target_group_arn.as_ref().map(|_| HEALTH_CHECK_GRACE_SECS),
            container_port: self.port,
            tags: self.all_tags(),
        }
    }
}

fn optional(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn to_u32(raw: i64) -> u32 {
    u32::try_from(raw).unwrap_or(0)
}

/// An app's display name: 1–200 characters on one line.
pub fn app_name(raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationError::new("name", "is required"));
    }
    // Control characters, and the line and paragraph separators renderers break lines at.
    if name.chars().count() > 200 || name.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
        return Err(ValidationError::new("name", "at most 200 characters, on one line"));
    }
    Ok(name.to_owned())
}

/// `curl` or `wget` (see [`HealthCheckTool`]).
pub fn health_check_tool(raw: &str) -> Result<HealthCheckTool, ValidationError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "curl" => Ok(HealthCheckTool::Curl),
        "wget" => Ok(HealthCheckTool::Wget),
        _ => Err(ValidationError::new("health_check_tool", "curl, wget, or none")),
    }
}

/// An Elastic Load Balancing target group ARN:
/// `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`.
pub fn target_group_arn(raw: &str) -> Result<String, ValidationError> {
    let arn = raw.trim();
    let refuse = || {
        Err(ValidationError::new(
            "target_group_arn",
            "a target group ARN looks like arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales/0123456789abcdef",
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "elasticloadbalancing", region, account, resource] = parts[..] else {
        return refuse();
    };
    let resource: Vec<&str> = resource.split('/').collect();
    let ["targetgroup", name, id] = resource[..] else {
        return refuse();
    };
    let ok = matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && !region.is_empty()
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(arn.to_owned())
    } else {
        refuse()
    }
}

/// `NAME=value` lines (a form's text area) as pairs, in order. Blank lines are skipped; a
/// value may contain `=`; a line without `=` is refused with its number.
pub fn parse_lines(field: &str, text: &str) -> Result<Vec<(String, String)>, ValidationError> {
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(ValidationError::new(field, format!("line {}: write NAME=value", n + 1)));
        };
        pairs.push((name.trim().to_owned(), value.to_owned()));
    }
    Ok(pairs)
}

/// Pairs as `NAME=value` lines, the inverse of [`parse_lines`].
pub fn format_lines(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AppInput {
        AppInput {
            slug: "sales".into(),
            name: "Sales dashboard".into(),
            image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sales:v1".into(),
            env: vec![("SHINY_LOG".into(), "debug".into()), ("A_FIRST".into(), "1".into())],
            tags: vec![("team".into(), "finance".into())],
            ..AppInput::defaults()
        }
    }

    #[test]
    fn a_valid_input_round_trips_through_the_definition() {
        let def = AppDefinition::parse(&input()).expect("valid");
        assert_eq!((def.size.cpu(), def.size.memory(), def.port, def.desired_count), (256, 512, 3838, 1));
        assert_eq!(def.env.vars()[0].0, "A_FIRST", "variables are kept sorted");
        assert_eq!(AppDefinition::parse(&def.to_input()).expect("still valid"), def);
    }

    #[test]
    fn every_bad_field_is_reported_at_once_in_form_order() {
        let bad = AppInput {
            slug: "Sales!".into(),
            name: " ".into(),
            image: "rocker/shiny".into(),
            cpu: 256,
            memory: 4096,
            architecture: "sparc".into(),
            port: 0,
            env: vec![("1X".into(), "y".into())],
            task_role_arn: Some("arn:aws:iam::1:role/x".into()),
            execution_role_arn: Some("  ".into()),
            health_check_path: "health".into(),
            health_check_tool: Some("nc".into()),
            desired_count: 101,
            tags: vec![("aws:x".into(), "y".into())],
            target_group_arn: Some("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/1".into()),
        };
        let fields: Vec<String> = AppDefinition::parse(&bad).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "slug",
                "name",
                "image",
                "memory",
                "architecture",
                "port",
                "env",
                "task_role_arn",
                "health_check_path",
                "health_check_tool",
                "desired_count",
                "tags",
                "target_group_arn"
            ],
            "a blank optional field is unset, not invalid"
        );
    }

    #[test]
    fn target_group_arns_name_a_target_group() {
        for ok in [
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales/0123456789abcdef",
            "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:targetgroup/a-b/ab",
        ] {
            assert_eq!(target_group_arn(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "sales",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/sales/0123",
            "arn:aws:elasticloadbalancing:eu-west-1:12345:targetgroup/sales/0123",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales_x/0123",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales/xyz",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales",
            "arn:gcp:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales/01",
        ] {
            assert_eq!(target_group_arn(bad).unwrap_err().field, "target_group_arn", "{bad}");
        }
    }

    #[test]
    fn viewers_see_variable_names_but_not_values() {
        let hidden = input().with_env_hidden();
        assert_eq!(hidden.env, [("SHINY_LOG".into(), "********".into()), ("A_FIRST".into(), "********".into())]);
        assert_eq!(hidden.slug, "sales");
    }

    #[test]
    fn names_and_tools_are_checked() {
        assert_eq!(app_name("  Sales  ").as_deref(), Ok("Sales"));
        assert!(app_name("a\nb").is_err());
        assert!(app_name(&"x".repeat(201)).is_err());
        assert_eq!(health_check_tool("CURL"), Ok(HealthCheckTool::Curl));
        assert_eq!(health_check_tool("wget"), Ok(HealthCheckTool::Wget));
        assert!(health_check_tool("").is_err());
    }

    #[test]
    fn lines_become_pairs_and_back() {
        let pairs = parse_lines("env", "A=1\n\n  B = x=y \r\nC=").unwrap();
        assert_eq!(pairs, [("A".into(), "1".into()), ("B".into(), " x=y ".into()), ("C".into(), String::new())]);
        assert_eq!(format_lines(&pairs[..1]), "A=1");
        let e = parse_lines("tags", "team=x\njust text").unwrap_err();
        assert_eq!((e.field.as_str(), e.message.as_str()), ("tags", "line 2: write NAME=value"));
    }

    #[test]
    fn the_task_definition_and_service_carry_the_definition() {
        let mut raw = input();
        raw.health_check_tool = Some("curl".into());
        raw.health_check_path = "/health".into();
        raw.target_group_arn =
            Some("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales/0123456789abcdef".into());
        let def = AppDefinition::parse(&raw).unwrap();
        let td = def.task_definition("repo@sha256:00", "eu-west-1");
        assert_eq!(
            (td.family.as_str(), td.image.as_str(), td.log_group.as_str()),
            ("sales", "repo@sha256:00", "/shinyfleet/sales")
        );
        assert_eq!(
            td.health_check_command.as_deref(),
            Some("curl -fsS -o /dev/null 'http://localhost:3838/health' || exit 1")
        );
        assert!(td.tags.contains(&(APP_TAG.into(), "sales".into())));
        let network =
            Network { subnets: vec!["subnet-1".into()], security_groups: vec!["sg-1".into()], assign_public_ip: false };
        let svc = def.service("arn:td:1", &network);
        assert_eq!((svc.name.as_str(), svc.desired_count, svc.health_check_grace_period_secs), ("sales", 1, Some(120)));
        assert_eq!(svc.subnets, ["subnet-1"]);

        let plain = AppDefinition::parse(&input()).unwrap();
        assert_eq!(plain.task_definition("x:1", "eu-west-1").health_check_command, None, "no check unless asked");
        assert_eq!(plain.service("td", &network).health_check_grace_period_secs, None);
    }
}

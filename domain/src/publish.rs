//! Publishing an app: its https URL behind the load balancer, signed in by the invite-only
//! Cognito pool. This module holds the pure parts: the apps' base URL ([`AppsUrl`]), what a
//! publication creates ([`PublicationSpec`]: a target group and two listener rules), where its
//! rules go in the listener's order ([`choose_priorities`]), the load balancer's limits
//! ([`check_limits`]), the record a page shows ([`Publication`]), and the [`Frontdoor`] port
//! through which an adapter creates and removes those resources.

use crate::definition::APP_TAG;
use crate::{AppSlug, CloudError, ValidationError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The tag naming the listener a target group or rule was made for: a sweep removes only
/// what this console made, even when another one shares the account.
pub const LISTENER_TAG: &str = "shinyfleet:listener";
/// The tag saying which of an app's rules a rule is (`forward` or `redirect`).
pub const RULE_TAG: &str = "shinyfleet:rule";
/// How every target group ShinyFleet names starts ([`target_group_name`]).
pub const TARGET_GROUP_PREFIX: &str = "sf-";

/// The first path segments the console serves on its own origin (its pages, server
/// functions, API, assets), and the load balancer's own sign-in callback. Apps on the
/// console's host need a prefix outside these.
pub const CONSOLE_PATHS: &[&str] = &[
    "apps",
    "api",
    "sfn",
    "pkg",
    "sign-in",
    "schedules",
    "costs",
    "people",
    "audit",
    "settings",
    "healthz",
    "favicon.svg",
    "oauth2",
];

/// The public base of the published apps, from `SHINYFLEET_APPS_URL`: `https://HOST` or
/// `https://HOST/PREFIX`, where an app's URL is `<base>/<slug>/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppsUrl {
    /// Lowercase, without a port.
    host: String,
    /// Empty, or `/seg[/seg…]` without a trailing slash.
    prefix: String,
}

impl AppsUrl {
    /// Parses the setting. `console_url`, the console's own public URL when it has one, is
    /// what the apps must not collide with: on the console's host the apps need a prefix
    /// whose first segment is none of [`CONSOLE_PATHS`].
    pub fn parse(raw: &str, console_url: Option<&str>) -> Result<Self, ValidationError> {
        let refuse = |m: String| Err(ValidationError::new("apps_url", m));
        let Some(rest) = raw.trim().strip_prefix("https://") else {
            return refuse("must start with https:// (the load balancer signs people in over https)".into());
        };
        if rest.contains(['?', '#']) {
            return refuse("must have no query or fragment".into());
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.to_ascii_lowercase();
        if host.contains(['@', ':']) {
            return refuse("must name a host only (no user, no port)".into());
        }
        if !is_host(&host) {
            return refuse(format!("{authority:?} is not a host name"));
        }
        let prefix = path.trim_end_matches('/');
        let segments: Vec<&str> = prefix.split('/').skip(1).collect();
        if let Some(bad) = segments.iter().find(|s| !is_segment(s)) {
            return refuse(format!(
                "{bad:?} is not a path segment: use letters, digits and - _ . ~ (no wildcard, no . or ..)"
            ));
        }
        let url = Self { host, prefix: prefix.to_owned() };
        if let Some(console) = console_url {
            url.beside(console)?;
        }
        Ok(url)
    }

    /// Refuses a base that would take over the console's addresses.
    fn beside(&self, console_url: &str) -> Result<(), ValidationError> {
        let console_host = console_url
            .split_once("://")
            .map_or(console_url, |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        let console_host = console_host.rsplit_once('@').map_or(console_host, |(_, h)| h);
        let console_host = console_host.split(':').next().unwrap_or_default().to_ascii_lowercase();
        if console_host != self.host {
            return Ok(());
        }
        let first = self.prefix.split('/').nth(1);
        match first {
            None => Err(ValidationError::new(
                "apps_url",
                "is the console's own origin: give the apps their own host or a path prefix",
            )),
            Some(segment) if CONSOLE_PATHS.contains(&segment) => Err(ValidationError::new(
                "apps_url",
                format!("/{segment} is one of the console's own paths on this host: choose another prefix"),
            )),
            Some(_) => Ok(()),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Empty, or `/seg…` without a trailing slash.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The app's path without a trailing slash: `<prefix>/<slug>`.
    pub fn path_of(&self, slug: &AppSlug) -> String {
        format!("{}/{}", self.prefix, slug.as_str())
    }

    /// The app's URL: `https://<host><prefix>/<slug>/`.
    pub fn url_of(&self, slug: &AppSlug) -> String {
        format!("https://{}{}/", self.host, self.path_of(slug))
    }
}

impl std::fmt::Display for AppsUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "https://{}{}", self.host, self.prefix)
    }
}

/// A DNS name: dot-separated labels of letters, digits and hyphens (no wildcard; the load
/// balancer's host condition takes at most 128 characters).
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 128
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn is_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// The settings every publication shares (the AWS-setup issue creates them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontdoorSettings {
    pub apps_url: AppsUrl,
    /// The load balancer's HTTPS listener (`SHINYFLEET_LISTENER_ARN`).
    pub listener_arn: String,
    /// The VPC of the target groups (the tasks' subnets' VPC).
    pub vpc_id: String,
    pub cognito: CognitoSignIn,
}

/// The Cognito sign-in the load balancer performs before forwarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CognitoSignIn {
    pub user_pool_arn: String,
    /// `SHINYFLEET_APPS_CLIENT_ID`: a client with a secret, OAuth code flow.
    pub client_id: String,
    /// `SHINYFLEET_COGNITO_DOMAIN`: the hosted sign-in domain's prefix.
    pub domain: String,
    /// How long a sign-in lasts before the load balancer asks again.
    pub session_timeout_secs: u64,
}

impl CognitoSignIn {
    /// The scopes the load balancer asks for.
    pub const SCOPE: &'static str = "openid email";
    /// A week, the load balancer's default.
    pub const DEFAULT_SESSION_TIMEOUT_SECS: u64 = 604_800;
}

/// One target group: the app's tasks, by IP, on its container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroupSpec {
    /// At most 32 characters ([`target_group_name`]).
    pub name: String,
    pub port: u16,
    pub vpc_id: String,
    /// The app's own health-check path (health checks are not rewritten).
    pub health_check_path: String,
    /// The HTTP codes a healthy app answers.
    pub matcher: String,
    /// `lb_cookie` stickiness: a Shiny session lives in one R process.
    pub stickiness_secs: u32,
    /// Short: a stopping task's sessions are lost anyway.
    pub deregistration_delay_secs: u32,
    /// Includes [`APP_TAG`] and [`LISTENER_TAG`].
    pub tags: Vec<(String, String)>,
}

impl TargetGroupSpec {
    pub const MATCHER: &'static str = "200-399";
    pub const STICKINESS_SECS: u32 = 86_400;
    pub const DEREGISTRATION_DELAY_SECS: u32 = 15;
}

/// Which of an app's two rules a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleRole {
    /// `<prefix>/<slug>/*`: sign in, then forward.
    Forward,
    /// `<prefix>/<slug>`: redirect to `<prefix>/<slug>/`.
    Redirect,
}

impl RuleRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Forward => "forward",
            Self::Redirect => "redirect",
        }
    }
}

/// What a rule does, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleAction {
    /// Sign in through the pool; an unauthenticated request is sent to sign in.
    AuthenticateCognito(CognitoSignIn),
    Forward {
        target_group_arn: String,
    },
    /// A permanent redirect to this path, keeping host, port and query.
    Redirect {
        path: String,
    },
}

/// A `url-rewrite` transform: `regex` on the path, replaced by `replace` (`$1`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlRewrite {
    pub regex: String,
    pub replace: String,
}

/// One listener rule to create or converge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSpec {
    pub role: RuleRole,
    pub priority: u32,
    /// The host-header condition.
    pub host: String,
    /// The path-pattern condition.
    pub path: String,
    pub actions: Vec<RuleAction>,
    pub rewrite: Option<UrlRewrite>,
    pub tags: Vec<(String, String)>,
}

/// Everything publishing one app creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationSpec {
    pub slug: AppSlug,
    pub url: String,
    pub target_group: TargetGroupSpec,
    host: String,
    path: String,
    cognito: CognitoSignIn,
    rule_tags: Vec<(String, String)>,
}

impl PublicationSpec {
    /// The publication of `slug`, serving container port `port` and checked on
    /// `health_check_path`; `tags` are the console's own tags for what it creates.
    pub fn new(
        slug: &AppSlug,
        port: u16,
        health_check_path: &str,
        settings: &FrontdoorSettings,
        tags: &[(String, String)],
    ) -> Self {
        let mut owned: Vec<(String, String)> =
            tags.iter().filter(|(k, _)| k != APP_TAG && k != LISTENER_TAG && k != RULE_TAG).cloned().collect();
        owned.push((APP_TAG.to_owned(), slug.as_str().to_owned()));
        owned.push((LISTENER_TAG.to_owned(), settings.listener_arn.clone()));
        Self {
            slug: slug.clone(),
            url: settings.apps_url.url_of(slug),
            target_group: TargetGroupSpec {
                name: target_group_name(slug),
                port,
                vpc_id: settings.vpc_id.clone(),
                health_check_path: health_check_path.to_owned(),
                matcher: TargetGroupSpec::MATCHER.to_owned(),
                stickiness_secs: TargetGroupSpec::STICKINESS_SECS,
                deregistration_delay_secs: TargetGroupSpec::DEREGISTRATION_DELAY_SECS,
                tags: owned.clone(),
            },
            host: settings.apps_url.host().to_owned(),
            path: settings.apps_url.path_of(slug),
            cognito: settings.cognito.clone(),
            rule_tags: owned,
        }
    }

    /// The app's two rules, the forward rule sending to `target_group_arn`.
    pub fn rules(&self, target_group_arn: &str, priorities: Priorities) -> [RuleSpec; 2] {
        let tags = |role: RuleRole| {
            let mut tags = self.rule_tags.clone();
            tags.push((RULE_TAG.to_owned(), role.as_str().to_owned()));
            tags
        };
        [
            RuleSpec {
                role: RuleRole::Forward,
                priority: priorities.forward,
                host: self.host.clone(),
                path: format!("{}/*", self.path),
                actions: vec![
                    RuleAction::AuthenticateCognito(self.cognito.clone()),
                    RuleAction::Forward { target_group_arn: target_group_arn.to_owned() },
                ],
                rewrite: Some(UrlRewrite {
                    regex: format!("^{}/(.*)$", regex_escape(&self.path)),
                    replace: "/$1".into(),
                }),
                tags: tags(RuleRole::Forward),
            },
            RuleSpec {
                role: RuleRole::Redirect,
                priority: priorities.redirect,
                host: self.host.clone(),
                path: self.path.clone(),
                actions: vec![RuleAction::Redirect { path: format!("{}/", self.path) }],
                rewrite: None,
                tags: tags(RuleRole::Redirect),
            },
        ]
    }

    /// Which of the app's rules `rule` is, judged by its conditions.
    pub fn role_of(&self, rule: &ListenerRule) -> Option<RuleRole> {
        if !rule.hosts.iter().any(|h| h.eq_ignore_ascii_case(&self.host)) {
            return None;
        }
        let forward = format!("{}/*", self.path);
        if rule.paths.contains(&forward) {
            Some(RuleRole::Forward)
        } else if rule.paths.contains(&self.path) {
            Some(RuleRole::Redirect)
        } else {
            None
        }
    }
}

/// A target group's name for an app: `sf-<slug>`, or for a long slug its first 20 characters
/// and a hash of the whole, so it stays within 32 characters and unique.
pub fn target_group_name(slug: &AppSlug) -> String {
    const MAX: usize = 32;
    let slug = slug.as_str();
    if TARGET_GROUP_PREFIX.len() + slug.len() <= MAX {
        return format!("{TARGET_GROUP_PREFIX}{slug}");
    }
    let head = slug[..20].trim_end_matches('-');
    format!("{TARGET_GROUP_PREFIX}{head}-{:08x}", fnv1a(slug.as_bytes()))
}

/// FNV-1a (32 bits): stable across builds and platforms, unlike the std hasher.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

fn regex_escape(raw: &str) -> String {
    raw.chars().fold(String::new(), |mut out, c| {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// The priorities of an app's two rules, and the slot they came from (store it with the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priorities {
    pub slot: u32,
    pub forward: u32,
    pub redirect: u32,
}

/// Priorities come in slots of this many: slot `n` holds `10n+1 ..= 10n+10`, so an app keeps
/// its place and a priority someone else took inside it is stepped over.
pub const SLOT_SIZE: u32 = 10;
/// The highest rule priority a listener accepts.
pub const MAX_PRIORITY: u32 = 50_000;

/// Chooses the app's priorities. `taken` are the listener's priorities held by rules that are
/// not the app's own; `stored_slot` is the slot the app had. The stored slot is kept when two
/// of its priorities are free (a taken one is skipped, never swapped); otherwise the lowest
/// slot with two free priorities is chosen.
pub fn choose_priorities(taken: &BTreeSet<u32>, stored_slot: Option<u32>) -> Result<Priorities, ValidationError> {
    let in_slot = |slot: u32| {
        let free: Vec<u32> = (slot * SLOT_SIZE + 1..=slot * SLOT_SIZE + SLOT_SIZE)
            .filter(|p| *p <= MAX_PRIORITY && !taken.contains(p))
            .take(2)
            .collect();
        match free[..] {
            [forward, redirect] => Some(Priorities { slot, forward, redirect }),
            _ => None,
        }
    };
    stored_slot
        .and_then(in_slot)
        .or_else(|| (0..MAX_PRIORITY / SLOT_SIZE).find_map(in_slot))
        .ok_or_else(|| ValidationError::new("priority", "the listener has no two free rule priorities left"))
}

/// The most target groups one load balancer may send to.
pub const MAX_TARGET_GROUPS_PER_LOAD_BALANCER: usize = 100;
/// The most rules one listener may hold (besides its default), the default quota.
pub const MAX_RULES_PER_LISTENER: usize = 100;
/// The rules one publication adds.
pub const RULES_PER_APP: usize = 2;

/// Says, before AWS refuses, whether one more publication fits: `target_groups` the load
/// balancer already sends to and `rules` the listener holds, neither counting the app's own.
pub fn check_limits(target_groups: usize, rules: usize) -> Result<(), ValidationError> {
    if target_groups + 1 > MAX_TARGET_GROUPS_PER_LOAD_BALANCER {
        return Err(ValidationError::new(
            "publication",
            format!(
                "the load balancer already sends to {target_groups} target groups, \
                 and AWS allows {MAX_TARGET_GROUPS_PER_LOAD_BALANCER}: unpublish an app first"
            ),
        ));
    }
    if rules + RULES_PER_APP > MAX_RULES_PER_LISTENER {
        return Err(ValidationError::new(
            "publication",
            format!(
                "the listener already holds {rules} rules, a publication adds {RULES_PER_APP} \
                 and AWS allows {MAX_RULES_PER_LISTENER}: unpublish an app or raise the quota"
            ),
        ));
    }
    Ok(())
}

/// Where an app's publication stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicationState {
    Publishing,
    Published,
    Unpublishing,
    /// Published, but the cloud no longer matches (a rule or the target group is gone).
    Drifted,
    /// The last publish or unpublish was refused; the record says why.
    Failed,
}

/// Who may open a published app. Every person invited to the pool may today; a per-app
/// group comes later as another variant.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Access {
    #[default]
    EveryoneInvited,
}

/// An app's publication as the pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub url: String,
    pub state: PublicationState,
    pub access: Access,
    pub target_health: Vec<TargetHealth>,
}

/// The load balancer's view of one target (a task's IP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealth {
    /// The task's IP address.
    pub target: String,
    pub port: Option<u16>,
    pub state: TargetState,
    /// The load balancer's reason code (`Target.FailedHealthChecks`, …).
    pub reason: Option<String>,
    pub description: Option<String>,
}

/// A target's state, as the load balancer names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    Initial,
    Healthy,
    Unhealthy,
    UnhealthyDraining,
    Unused,
    Draining,
    Unavailable,
}

impl TargetState {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "initial" => Self::Initial,
            "healthy" => Self::Healthy,
            "unhealthy" => Self::Unhealthy,
            "unhealthy.draining" => Self::UnhealthyDraining,
            "unused" => Self::Unused,
            "draining" => Self::Draining,
            "unavailable" => Self::Unavailable,
            _ => return None,
        })
    }
}

/// A created or found target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroupRef {
    pub arn: String,
    pub name: String,
}

/// A listener rule as read back: enough to tell whose it is and whether it drifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerRule {
    pub arn: String,
    /// `None` for the listener's default rule.
    pub priority: Option<u32>,
    pub hosts: Vec<String>,
    pub paths: Vec<String>,
    /// The action types in order (`authenticate-cognito`, `forward`, `redirect`, …).
    pub actions: Vec<String>,
    /// The target groups its forward action sends to.
    pub target_groups: Vec<String>,
}

/// The listener and its load balancer, read once per cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerState {
    /// Every rule, the default one included.
    pub rules: Vec<ListenerRule>,
    /// Target groups the load balancer sends to (counted against its limit).
    pub target_groups: usize,
    /// The load balancer's idle timeout; Shiny's websockets need more than the 60 s default.
    pub idle_timeout_secs: Option<u32>,
}

impl ListenerState {
    /// Priorities held by rules that are not `spec`'s.
    pub fn taken_except(&self, spec: &PublicationSpec) -> BTreeSet<u32> {
        self.rules.iter().filter(|r| spec.role_of(r).is_none()).filter_map(|r| r.priority).collect()
    }

    /// Rules besides the default one that are not `spec`'s (counted against the limit).
    pub fn other_rules(&self, spec: &PublicationSpec) -> usize {
        self.rules.iter().filter(|r| r.priority.is_some() && spec.role_of(r).is_none()).count()
    }
}

/// The targets of one target group, or its absence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupHealth {
    pub target_group_arn: String,
    /// `None` when the target group does not exist (deleted by hand).
    pub targets: Option<Vec<TargetHealth>>,
}

/// What a sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swept {
    pub rules: Vec<String>,
    pub target_groups: Vec<String>,
    /// Target groups still in use, left for the next sweep.
    pub in_use: Vec<String>,
}

/// Removing a target group failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoveError {
    /// A rule or a service still sends to it, after the adapter's retries.
    #[error("target group {0} is still in use")]
    InUse(String),
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// The load balancer's front door, as ShinyFleet uses it: one HTTPS listener.
#[async_trait]
pub trait Frontdoor: Send + Sync + 'static {
    /// Creates the target group, or finds the one of that name and converges its health
    /// check, stickiness and deregistration delay. `Conflict` when a group of that name is
    /// tagged for another app or listener.
    async fn ensure_target_group(&self, spec: &TargetGroupSpec) -> Result<TargetGroupRef, CloudError>;

    /// Creates each rule, or converges the rule with the same host and path (its priority
    /// kept). `Conflict` when a priority is taken meanwhile (read again and choose again).
    /// Returns the rules' ARNs, in order.
    async fn ensure_rules(&self, rules: &[RuleSpec]) -> Result<Vec<String>, CloudError>;

    /// Reads every rule of the listener (all pages), the count of target groups of its load
    /// balancer and its idle timeout.
    async fn read_listener(&self) -> Result<ListenerState, CloudError>;

    /// The target health of any number of target groups; a missing one is reported as such.
    async fn target_health(&self, target_group_arns: &[String]) -> Result<Vec<GroupHealth>, CloudError>;

    /// Deletes rules; one already gone is not an error.
    async fn delete_rules(&self, rule_arns: &[String]) -> Result<(), CloudError>;

    /// Deletes a target group once nothing sends to it, retrying a while when it is still in
    /// use; one already gone is not an error.
    async fn delete_target_group(&self, arn: &str) -> Result<(), RemoveError>;

    /// Deletes the rules, then the target groups, tagged for this listener whose app is not
    /// in `keep`: what a publish cut short left behind.
    async fn sweep(&self, keep: &BTreeSet<AppSlug>) -> Result<Swept, CloudError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(raw: &str) -> AppSlug {
        AppSlug::parse(raw).unwrap()
    }

    fn settings() -> FrontdoorSettings {
        FrontdoorSettings {
            apps_url: AppsUrl::parse("https://example.org/shiny", None).unwrap(),
            listener_arn: "arn:listener".into(),
            vpc_id: "vpc-1".into(),
            cognito: CognitoSignIn {
                user_pool_arn: "arn:pool".into(),
                client_id: "client".into(),
                domain: "sign-in".into(),
                session_timeout_secs: 3600,
            },
        }
    }

    #[test]
    fn apps_urls_are_https_hosts_with_an_optional_prefix() {
        let ok = [
            ("https://apps.example.org", "apps.example.org", "", "https://apps.example.org/sales/"),
            ("https://Apps.Example.org/", "apps.example.org", "", "https://apps.example.org/sales/"),
            ("https://example.org/shiny", "example.org", "/shiny", "https://example.org/shiny/sales/"),
            ("https://example.org/a/b/", "example.org", "/a/b", "https://example.org/a/b/sales/"),
        ];
        for (raw, host, prefix, url) in ok {
            let parsed = AppsUrl::parse(raw, None).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert_eq!((parsed.host(), parsed.prefix()), (host, prefix), "{raw}");
            assert_eq!(parsed.url_of(&slug("sales")), url, "{raw}");
        }
        let bad = [
            ("http://apps.example.org", "https"),
            ("apps.example.org", "https"),
            ("https://", "host"),
            ("https://apps.example.org?x=1", "query"),
            ("https://apps.example.org/#top", "fragment"),
            ("https://apps.example.org:8443", "port"),
            ("https://user@apps.example.org", "host only"),
            ("https://*.example.org", "host name"),
            ("https://apps..example.org", "host name"),
            ("https://example.org/a//b", "path segment"),
            ("https://example.org/a/../b", "path segment"),
            ("https://example.org/ap*", "path segment"),
        ];
        for (raw, says) in bad {
            let e = AppsUrl::parse(raw, None).expect_err(raw);
            assert_eq!(e.field, "apps_url");
            assert!(e.message.contains(says), "{raw}: {}", e.message);
        }
    }

    #[test]
    fn apps_urls_keep_clear_of_the_console() {
        let console = Some("https://example.org");
        for (raw, console, ok) in [
            ("https://example.org", console, false),
            ("https://EXAMPLE.org/", Some("https://example.org:443/"), false),
            ("https://example.org/apps", console, false),
            ("https://example.org/api/x", console, false),
            ("https://example.org/oauth2", console, false),
            ("https://example.org/shiny", console, true),
            ("https://apps.example.org", console, true),
            ("https://example.org", Some("http://console.example.org"), true),
            ("https://example.org", None, true),
        ] {
            assert_eq!(AppsUrl::parse(raw, console).is_ok(), ok, "{raw} beside {console:?}");
        }
    }

    #[test]
    fn target_group_names_fit_in_32_characters() {
        assert_eq!(target_group_name(&slug("sales")), "sf-sales");
        let long = "a".repeat(29);
        assert_eq!(target_group_name(&slug(&long)), format!("sf-{long}"));
        let a = target_group_name(&slug(&format!("{}-x", "b".repeat(40))));
        let b = target_group_name(&slug(&format!("{}-y", "b".repeat(40))));
        assert!(a.len() <= 32 && b.len() <= 32, "{a} {b}");
        assert_ne!(a, b, "long slugs sharing a head keep distinct names");
        let hyphen_at_cut = target_group_name(&slug(&format!("{}-{}", "c".repeat(19), "d".repeat(20))));
        assert!(!hyphen_at_cut.contains("--"), "{hyphen_at_cut}");
    }

    #[test]
    fn a_publication_signs_in_then_forwards_and_redirects_the_bare_path() {
        let spec = PublicationSpec::new(&slug("sales"), 3838, "/health", &settings(), &[("team".into(), "x".into())]);
        assert_eq!(spec.url, "https://example.org/shiny/sales/");
        let tg = &spec.target_group;
        assert_eq!((tg.name.as_str(), tg.port, tg.matcher.as_str()), ("sf-sales", 3838, "200-399"));
        assert_eq!(tg.health_check_path, "/health");
        assert!(tg.tags.contains(&(APP_TAG.into(), "sales".into())));
        assert!(tg.tags.contains(&(LISTENER_TAG.into(), "arn:listener".into())));
        let [forward, redirect] = spec.rules("arn:tg", Priorities { slot: 3, forward: 31, redirect: 33 });
        assert_eq!(
            (forward.priority, forward.host.as_str(), forward.path.as_str()),
            (31, "example.org", "/shiny/sales/*")
        );
        assert!(matches!(&forward.actions[0], RuleAction::AuthenticateCognito(c) if c.client_id == "client"));
        assert_eq!(forward.actions[1], RuleAction::Forward { target_group_arn: "arn:tg".into() });
        assert_eq!(forward.rewrite, Some(UrlRewrite { regex: "^/shiny/sales/(.*)$".into(), replace: "/$1".into() }));
        assert!(forward.tags.contains(&(RULE_TAG.into(), "forward".into())));
        assert_eq!((redirect.priority, redirect.path.as_str()), (33, "/shiny/sales"));
        assert_eq!(redirect.actions, vec![RuleAction::Redirect { path: "/shiny/sales/".into() }]);
        assert_eq!(redirect.rewrite, None);
    }

    #[test]
    fn rules_are_recognised_by_host_and_path() {
        let spec = PublicationSpec::new(&slug("sales"), 3838, "/", &settings(), &[]);
        let rule = |host: &str, path: &str, priority| ListenerRule {
            arn: format!("{host}{path}"),
            priority,
            hosts: vec![host.into()],
            paths: vec![path.into()],
            actions: vec![],
            target_groups: vec![],
        };
        assert_eq!(spec.role_of(&rule("Example.org", "/shiny/sales/*", Some(1))), Some(RuleRole::Forward));
        assert_eq!(spec.role_of(&rule("example.org", "/shiny/sales", Some(2))), Some(RuleRole::Redirect));
        assert_eq!(spec.role_of(&rule("example.org", "/shiny/salesx/*", Some(3))), None);
        assert_eq!(spec.role_of(&rule("other.org", "/shiny/sales/*", Some(4))), None);
        let state = ListenerState {
            rules: vec![
                rule("example.org", "/shiny/sales/*", Some(11)),
                rule("example.org", "/shiny/other/*", Some(12)),
                rule("x", "/", None),
            ],
            target_groups: 1,
            idle_timeout_secs: Some(60),
        };
        assert_eq!(state.taken_except(&spec), BTreeSet::from([12]));
        assert_eq!(state.other_rules(&spec), 1);
    }

    #[test]
    fn priorities_keep_their_slot_and_step_over_taken_ones() {
        let set = |ps: &[u32]| ps.iter().copied().collect::<BTreeSet<u32>>();
        let p = |slot, forward, redirect| Priorities { slot, forward, redirect };
        let cases = [
            (set(&[]), None, p(0, 1, 2)),
            (set(&[1]), None, p(0, 2, 3)),
            (set(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), None, p(1, 11, 12)),
            (set(&[]), Some(7), p(7, 71, 72)),
            (set(&[71, 73]), Some(7), p(7, 72, 74)),
            (set(&(71..=79).collect::<Vec<_>>()), Some(7), p(0, 1, 2)),
            (set(&(1..=10).collect::<Vec<_>>()), Some(0), p(1, 11, 12)),
            (set(&[]), Some(MAX_PRIORITY / SLOT_SIZE - 1), p(4999, 49_991, 49_992)),
            (set(&[]), Some(MAX_PRIORITY / SLOT_SIZE), p(0, 1, 2)),
        ];
        for (taken, stored, want) in cases {
            assert_eq!(choose_priorities(&taken, stored), Ok(want), "{taken:?} {stored:?}");
        }
        let full: BTreeSet<u32> = (1..=MAX_PRIORITY).filter(|p| p % SLOT_SIZE != 0).collect();
        let e = choose_priorities(&full, None).unwrap_err();
        assert_eq!(e.field, "priority");
    }

    #[test]
    fn limits_are_said_before_aws_refuses() {
        for (groups, rules, ok) in
            [(0, 0, true), (99, 98, true), (100, 0, false), (0, 99, false), (50, 98, true), (99, 99, false)]
        {
            assert_eq!(check_limits(groups, rules).is_ok(), ok, "{groups} groups, {rules} rules");
        }
        assert!(check_limits(100, 0).unwrap_err().message.contains("100 target groups"));
        assert!(check_limits(0, 99).unwrap_err().message.contains("99 rules"));
    }

    #[test]
    fn target_states_read_as_the_load_balancer_names_them() {
        for raw in ["initial", "healthy", "unhealthy", "unhealthy.draining", "unused", "draining", "unavailable"] {
            assert!(TargetState::parse(raw).is_some(), "{raw}");
        }
        assert_eq!(TargetState::parse("sick"), None);
    }
}

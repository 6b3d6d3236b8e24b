//! The sandbox's load balancer behind the `Frontdoor` port: one Application Load Balancer
//! with one HTTPS listener, [`LISTENER_ARN`], whose rules and target groups follow the rules
//! AWS enforces: a priority holds one rule (`PriorityInUse` → `Conflict`), a listener holds
//! at most 100 rules besides its default one and a load balancer forwards to at most 100
//! target groups (refused with the message `domain::publish::check_limits` gives), a target
//! group a rule forwards to cannot be deleted (`InUse`), a forward to a missing target group
//! is refused (`NotFound`), and deleting what is gone succeeds. Tags are kept as created.
//!
//! Target health follows the simulated ECS: the tasks of a service created with a target
//! group are registered once RUNNING (`initial` until their health check passes 5 s later,
//! then `healthy`), `draining` for the group's deregistration delay once they start
//! stopping, then gone; every target of a group no rule forwards to is `unused`.
//!
//! Nothing here moves with time on its own: only target health reads the clock, through ECS.
//! Paging is irrelevant (every call answers in full), and deleting a target group still in
//! use is refused at once (nothing would change while the adapter waited).

use super::ecs::{Target, ACCOUNT, REGION};
use super::rng::Rng;
use super::Sandbox;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::definition::APP_TAG;
use domain::publish::{
    check_limits, Frontdoor, GroupHealth, ListenerRule, ListenerState, RemoveError, RuleAction, RuleSpec, Swept,
    TargetGroupRef, TargetGroupSpec, TargetHealth, TargetState, UrlRewrite, LISTENER_TAG, MAX_PRIORITY,
    MAX_RULES_PER_LISTENER, MAX_TARGET_GROUPS_PER_LOAD_BALANCER, TARGET_GROUP_PREFIX,
};
use domain::{AppSlug, CloudError};
use std::collections::{BTreeMap, BTreeSet};

/// The sandbox load balancer's one HTTPS listener: the `SHINYFLEET_LISTENER_ARN` of a sandbox.
pub const LISTENER_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/shinyfleet-sandbox/50dc6c495c0c9188/f2f7dc8efc522ab2";
/// A load balancer's idle timeout until someone changes it.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u32 = 60;

/// One target group and what it was made with.
#[derive(Debug, Clone)]
struct TargetGroup {
    spec: TargetGroupSpec,
    tags: BTreeMap<String, String>,
}

/// One listener rule besides the default one (one host and one path, as ShinyFleet makes them).
#[derive(Debug, Clone)]
struct Rule {
    arn: String,
    priority: u32,
    host: String,
    path: String,
    actions: Vec<RuleAction>,
    rewrite: Option<UrlRewrite>,
    tags: BTreeMap<String, String>,
}

impl Rule {
    fn target_groups(&self) -> impl Iterator<Item = &str> {
        forwards(&self.actions)
    }

    fn matches(&self, spec: &RuleSpec) -> bool {
        self.host.eq_ignore_ascii_case(&spec.host) && self.path == spec.path
    }

    fn read(&self) -> ListenerRule {
        ListenerRule {
            arn: self.arn.clone(),
            priority: Some(self.priority),
            hosts: vec![self.host.clone()],
            paths: vec![self.path.clone()],
            actions: self
                .actions
                .iter()
                .map(|a| match a {
                    RuleAction::AuthenticateCognito(_) => "authenticate-cognito",
                    RuleAction::Forward { .. } => "forward",
                    RuleAction::Redirect { .. } => "redirect",
                })
                .map(str::to_owned)
                .collect(),
            target_groups: self.target_groups().map(str::to_owned).collect::<BTreeSet<_>>().into_iter().collect(),
        }
    }
}

fn forwards(actions: &[RuleAction]) -> impl Iterator<Item = &str> {
    actions.iter().filter_map(|a| match a {
        RuleAction::Forward { target_group_arn } => Some(target_group_arn.as_str()),
        _ => None,
    })
}

/// Tagged for this listener and an app not in `keep`.
fn is_stray(tags: &BTreeMap<String, String>, keep: &BTreeSet<AppSlug>) -> bool {
    let app = tags.get(APP_TAG);
    tags.get(LISTENER_TAG).is_some_and(|l| l == LISTENER_ARN)
        && app.is_some_and(|a| keep.iter().all(|k| k.as_str() != a))
}

/// The load balancer, its listener's rules and the account's target groups.
#[derive(Debug)]
pub(crate) struct Elb {
    rng: Rng,
    /// By ARN.
    target_groups: BTreeMap<String, TargetGroup>,
    /// In priority order.
    rules: Vec<Rule>,
    idle_timeout_secs: u32,
    /// The listener's rule quota (AWS's default unless a test raises it).
    rule_quota: usize,
}

impl Elb {
    pub(crate) fn new(rng: Rng) -> Self {
        Self {
            rng,
            target_groups: BTreeMap::new(),
            rules: Vec::new(),
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            rule_quota: MAX_RULES_PER_LISTENER,
        }
    }

    pub(crate) fn set_idle_timeout(&mut self, secs: u32) {
        self.idle_timeout_secs = secs;
    }

    fn ensure_target_group(&mut self, spec: &TargetGroupSpec) -> Result<TargetGroupRef, CloudError> {
        check_target_group(spec)?;
        if let Some((arn, group)) = self.target_groups.iter_mut().find(|(_, g)| g.spec.name == spec.name) {
            let owner = |tags: &BTreeMap<String, String>| [APP_TAG, LISTENER_TAG].map(|k| tags.get(k).cloned());
            if owner(&group.tags) != owner(&spec.tags.iter().cloned().collect()) {
                return Err(CloudError::Conflict(format!("target group {} belongs to something else", spec.name)));
            }
            // Name, port, protocol, VPC and tags stay as created; the rest converges.
            let kept = &mut group.spec;
            kept.health_check_path.clone_from(&spec.health_check_path);
            kept.matcher.clone_from(&spec.matcher);
            kept.stickiness_secs = spec.stickiness_secs;
            kept.deregistration_delay_secs = spec.deregistration_delay_secs;
            return Ok(TargetGroupRef { arn: arn.clone(), name: spec.name.clone() });
        }
        let arn =
            format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{}/{}", spec.name, self.rng.hex(16));
        let group = TargetGroup { spec: spec.clone(), tags: spec.tags.iter().cloned().collect() };
        self.target_groups.insert(arn.clone(), group);
        Ok(TargetGroupRef { arn, name: spec.name.clone() })
    }

    /// The target groups the load balancer forwards to, with `replacing` left out and `adding`
    /// counted in.
    fn associated<'a>(&'a self, replacing: Option<&str>, adding: &'a [RuleAction]) -> BTreeSet<&'a str> {
        self.rules
            .iter()
            .filter(|r| Some(r.arn.as_str()) != replacing)
            .flat_map(Rule::target_groups)
            .chain(forwards(adding))
            .collect()
    }

    /// What AWS checks of a rule's actions before creating or modifying it.
    fn check_actions(&self, spec: &RuleSpec, replacing: Option<&str>) -> Result<(), CloudError> {
        let terminal = matches!(spec.actions.last(), Some(RuleAction::Forward { .. } | RuleAction::Redirect { .. }));
        let terminals = spec.actions.iter().filter(|a| !matches!(a, RuleAction::AuthenticateCognito(_))).count();
        if !terminal || terminals != 1 {
            return Err(CloudError::Invalid("a rule needs exactly one forward or redirect action, last".into()));
        }
        if let Some(missing) = forwards(&spec.actions).find(|arn| !self.target_groups.contains_key(*arn)) {
            return Err(CloudError::NotFound(format!("target group {missing}")));
        }
        let groups = self.associated(replacing, &spec.actions).len();
        if groups > MAX_TARGET_GROUPS_PER_LOAD_BALANCER {
            return Err(over_limit(groups - 1, 0));
        }
        Ok(())
    }

    fn ensure_rule(&mut self, spec: &RuleSpec) -> Result<String, CloudError> {
        let same = self.rules.iter().position(|r| r.matches(spec));
        self.check_actions(spec, same.map(|i| self.rules[i].arn.as_str()))?;
        if let Some(i) = same {
            let rule = &mut self.rules[i];
            rule.actions.clone_from(&spec.actions);
            rule.rewrite.clone_from(&spec.rewrite);
            return Ok(rule.arn.clone());
        }
        if !(1..=MAX_PRIORITY).contains(&spec.priority) {
            return Err(CloudError::Invalid(format!("priority {} is not between 1 and {MAX_PRIORITY}", spec.priority)));
        }
        if self.rules.iter().any(|r| r.priority == spec.priority) {
            return Err(CloudError::Conflict(format!("priority '{}' is currently in use", spec.priority)));
        }
        if self.rules.len() >= self.rule_quota {
            return Err(over_limit(0, self.rules.len()));
        }
        let listener = LISTENER_ARN.rsplit_once(":listener/").map_or("", |(_, rest)| rest);
        let rule = Rule {
            arn: format!(
                "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/{listener}/{}",
                self.rng.hex(16)
            ),
            priority: spec.priority,
            host: spec.host.clone(),
            path: spec.path.clone(),
            actions: spec.actions.clone(),
            rewrite: spec.rewrite.clone(),
            tags: spec.tags.iter().cloned().collect(),
        };
        let arn = rule.arn.clone();
        let at = self.rules.partition_point(|r| r.priority < spec.priority);
        self.rules.insert(at, rule);
        Ok(arn)
    }

    fn read_listener(&self) -> ListenerState {
        let default = ListenerRule {
            arn: format!("{}/{}", LISTENER_ARN.replacen(":listener/", ":listener-rule/", 1), "0000000000000000"),
            priority: None,
            hosts: vec![],
            paths: vec![],
            actions: vec!["fixed-response".to_owned()],
            target_groups: vec![],
        };
        ListenerState {
            rules: self.rules.iter().map(Rule::read).chain([default]).collect(),
            target_groups: self.associated(None, &[]).len(),
            idle_timeout_secs: Some(self.idle_timeout_secs),
        }
    }

    fn delete_rules(&mut self, arns: &[String]) {
        self.rules.retain(|r| !arns.contains(&r.arn));
    }

    /// `Ok(false)` when a rule still forwards to it; one already gone is deleted.
    fn delete_target_group(&mut self, arn: &str) -> bool {
        if self.rules.iter().flat_map(Rule::target_groups).any(|tg| tg == arn) {
            return false;
        }
        self.target_groups.remove(arn);
        true
    }

    fn sweep(&mut self, keep: &BTreeSet<AppSlug>) -> Swept {
        let rules: Vec<String> = self.rules.iter().filter(|r| is_stray(&r.tags, keep)).map(|r| r.arn.clone()).collect();
        self.delete_rules(&rules);
        let groups: Vec<String> = self
            .target_groups
            .iter()
            .filter(|(_, g)| g.spec.name.starts_with(TARGET_GROUP_PREFIX) && is_stray(&g.tags, keep))
            .map(|(arn, _)| arn.clone())
            .collect();
        let (target_groups, in_use) = groups.into_iter().partition(|arn| self.delete_target_group(arn));
        Swept { rules, target_groups, in_use }
    }
}

/// AWS's refusal of one more rule or target group, in the words the console uses.
fn over_limit(target_groups: usize, rules: usize) -> CloudError {
    let message = check_limits(target_groups, rules).err().map(|e| e.message);
    CloudError::Invalid(message.unwrap_or_else(|| "a load balancer limit was reached".to_owned()))
}

/// What AWS checks of a new target group: a name of 1 to 32 letters, digits and inner
/// hyphens, a port, a VPC and a health-check path.
fn check_target_group(spec: &TargetGroupSpec) -> Result<(), CloudError> {
    let name = &spec.name;
    let valid_name = (1..=32).contains(&name.len())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.starts_with("internal-")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid_name {
        return Err(CloudError::Invalid(format!(
            "target group name {name:?} must be 1 to 32 letters, digits and inner hyphens"
        )));
    }
    if spec.port == 0 || spec.vpc_id.is_empty() || !spec.health_check_path.starts_with('/') {
        return Err(CloudError::Invalid("a target group needs a port, a VPC and a health-check path".into()));
    }
    Ok(())
}

/// How the load balancer sees a task of an attached service at `now`; `None` while it is not
/// (or no longer) registered. `in_use`: a rule forwards to the group.
fn target_state(
    target: &Target,
    now: DateTime<Utc>,
    deregistration_delay_secs: u32,
    in_use: bool,
) -> Option<(TargetState, Option<&'static str>, Option<&'static str>)> {
    target.started_at.filter(|at| *at <= now)?;
    if let Some(stopping) = target.stopping_at.filter(|at| *at <= now) {
        let drained = stopping + Duration::seconds(i64::from(deregistration_delay_secs));
        return (in_use && now < drained).then_some((
            TargetState::Draining,
            Some("Target.DeregistrationInProgress"),
            Some("Target deregistration is in progress"),
        ));
    }
    Some(if !in_use {
        (
            TargetState::Unused,
            Some("Target.NotInUse"),
            Some("Target group is not configured to receive traffic from the load balancer"),
        )
    } else if target.healthy_at.is_some_and(|at| at <= now) {
        (TargetState::Healthy, None, None)
    } else {
        (TargetState::Initial, Some("Elb.InitialHealthChecking"), Some("Initial health checks in progress"))
    })
}

impl Sandbox {
    /// Sets the load balancer's idle timeout ([`DEFAULT_IDLE_TIMEOUT_SECS`] until then), as an
    /// admin would in the console.
    pub fn set_idle_timeout(&self, secs: u32) {
        self.with_elb(|elb| elb.set_idle_timeout(secs));
    }
}

#[async_trait]
impl Frontdoor for Sandbox {
    async fn ensure_target_group(&self, spec: &TargetGroupSpec) -> Result<TargetGroupRef, CloudError> {
        self.with_elb(|elb| elb.ensure_target_group(spec))
    }

    async fn ensure_rules(&self, rules: &[RuleSpec]) -> Result<Vec<String>, CloudError> {
        self.with_elb(|elb| rules.iter().map(|rule| elb.ensure_rule(rule)).collect())
    }

    async fn read_listener(&self) -> Result<ListenerState, CloudError> {
        Ok(self.with_elb(|elb| elb.read_listener()))
    }

    async fn target_health(&self, target_group_arns: &[String]) -> Result<Vec<GroupHealth>, CloudError> {
        let groups: Vec<Option<(u32, bool)>> = self.with_elb(|elb| {
            let in_use = elb.associated(None, &[]);
            target_group_arns
                .iter()
                .map(|arn| {
                    let group = elb.target_groups.get(arn)?;
                    Some((group.spec.deregistration_delay_secs, in_use.contains(arn.as_str())))
                })
                .collect()
        });
        Ok(self.with_ecs(|ecs| {
            target_group_arns
                .iter()
                .zip(groups)
                .map(|(arn, group)| GroupHealth {
                    target_group_arn: arn.clone(),
                    targets: group.map(|(delay, in_use)| {
                        ecs.targets(arn)
                            .into_iter()
                            .filter_map(|t| {
                                let (state, reason, description) = target_state(&t, ecs.now(), delay, in_use)?;
                                Some(TargetHealth {
                                    target: t.ip,
                                    port: Some(t.port),
                                    state,
                                    reason: reason.map(str::to_owned),
                                    description: description.map(str::to_owned),
                                })
                            })
                            .collect()
                    }),
                })
                .collect()
        }))
    }

    async fn delete_rules(&self, rule_arns: &[String]) -> Result<(), CloudError> {
        self.with_elb(|elb| elb.delete_rules(rule_arns));
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> Result<(), RemoveError> {
        if self.with_elb(|elb| elb.delete_target_group(arn)) {
            Ok(())
        } else {
            Err(RemoveError::InUse(arn.to_owned()))
        }
    }

    async fn sweep(&self, keep: &BTreeSet<AppSlug>) -> Result<Swept, CloudError> {
        Ok(self.with_elb(|elb| elb.sweep(keep)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::publish::RuleRole;

    fn group(elb: &mut Elb, n: usize) -> String {
        let spec = TargetGroupSpec {
            name: format!("sf-app-{n}"),
            port: 3838,
            vpc_id: "vpc-1".into(),
            health_check_path: "/".into(),
            matcher: TargetGroupSpec::MATCHER.into(),
            stickiness_secs: TargetGroupSpec::STICKINESS_SECS,
            deregistration_delay_secs: TargetGroupSpec::DEREGISTRATION_DELAY_SECS,
            tags: vec![],
        };
        elb.ensure_target_group(&spec).expect("target group created").arn
    }

    fn forward(n: usize, target_group_arn: String) -> RuleSpec {
        RuleSpec {
            role: RuleRole::Forward,
            priority: u32::try_from(n + 1).expect("a small priority"),
            host: "apps.example.org".into(),
            path: format!("/app-{n}/*"),
            actions: vec![RuleAction::Forward { target_group_arn }],
            rewrite: None,
            tags: vec![],
        }
    }

    #[test]
    fn a_load_balancer_forwards_to_at_most_100_target_groups_even_with_a_raised_rule_quota() {
        let mut elb = Elb::new(Rng::new(1));
        elb.rule_quota = 200;
        for n in 0..MAX_TARGET_GROUPS_PER_LOAD_BALANCER {
            let tg = group(&mut elb, n);
            elb.ensure_rule(&forward(n, tg)).expect("within the limit");
        }
        let n = MAX_TARGET_GROUPS_PER_LOAD_BALANCER;
        let tg = group(&mut elb, n);
        let refused = elb.ensure_rule(&forward(n, tg.clone())).expect_err("a 101st target group");
        let said = check_limits(100, 0).expect_err("the console refuses too").message;
        assert_eq!(refused, CloudError::Invalid(said));
        let first = elb.rules[0].target_groups().next().expect("a forward").to_owned();
        elb.ensure_rule(&forward(n, first)).expect("a 101st rule to a group already forwarded to");
        assert_eq!(elb.read_listener().target_groups, 100);
    }

    #[test]
    fn targets_are_initial_then_healthy_then_draining_and_unused_without_a_rule() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let at = |s: i64| t0 + Duration::seconds(s);
        let target = Target {
            ip: "10.0.0.5".into(),
            port: 3838,
            started_at: Some(at(10)),
            healthy_at: Some(at(15)),
            stopping_at: Some(at(100)),
        };
        let state = |now: i64, in_use: bool| target_state(&target, at(now), 15, in_use).map(|(s, _, _)| s);
        let cases = [
            (5, true, None),
            (10, true, Some(TargetState::Initial)),
            (15, true, Some(TargetState::Healthy)),
            (99, true, Some(TargetState::Healthy)),
            (100, true, Some(TargetState::Draining)),
            (114, true, Some(TargetState::Draining)),
            (115, true, None),
            (12, false, Some(TargetState::Unused)),
            (50, false, Some(TargetState::Unused)),
            (100, false, None),
        ];
        for (now, in_use, want) in cases {
            assert_eq!(state(now, in_use), want, "at {now} s, in use {in_use}");
        }
    }
}

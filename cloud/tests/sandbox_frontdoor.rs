//! The sandbox's load balancer through the `Frontdoor` port only: publishing twice changes
//! nothing, priorities are unique and a taken one is refused, the listener's rule limit is
//! refused in the console's words, unpublishing goes rules first, a sweep removes what no
//! published app owns, and target health follows the simulated ECS tasks as the clock moves.
//!
//! Run with `cargo test -p cloud --test sandbox_frontdoor`.

use chrono::{Duration, TimeZone, Utc};
use cloud::sandbox::{ManualClock, Sandbox, DEFAULT_IDLE_TIMEOUT_SECS, LISTENER_ARN};
use domain::definition::{AppInput, Network, APP_TAG};
use domain::fleet::{Fleet, ServiceUpdate};
use domain::publish::{
    check_limits, choose_priorities, AppsUrl, CognitoSignIn, Frontdoor, FrontdoorSettings, Priorities, PublicationSpec,
    RemoveError, TargetState, MAX_RULES_PER_LISTENER, RULES_PER_APP,
};
use domain::{AppDefinition, AppSlug, CloudError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

struct World {
    clock: Arc<ManualClock>,
    sandbox: Arc<Sandbox>,
    settings: FrontdoorSettings,
}

fn world() -> World {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 3, 8, 0, 0).single().expect("a valid instant"));
    let sandbox = Sandbox::new(clock.clone(), 7);
    let settings = FrontdoorSettings {
        apps_url: AppsUrl::parse("https://apps.example.org/shiny", None).expect("a valid apps URL"),
        listener_arn: LISTENER_ARN.into(),
        vpc_id: "vpc-sandbox".into(),
        cognito: CognitoSignIn {
            user_pool_arn: "arn:aws:cognito-idp:us-east-1:000000000000:userpool/sandbox-pool".into(),
            client_id: "apps-client".into(),
            domain: "shinyfleet-sign-in".into(),
            session_timeout_secs: CognitoSignIn::DEFAULT_SESSION_TIMEOUT_SECS,
        },
    };
    World { clock, sandbox, settings }
}

impl World {
    fn frontdoor(&self) -> &dyn Frontdoor {
        self.sandbox.as_ref()
    }

    fn spec(&self, slug: &str) -> PublicationSpec {
        let slug = AppSlug::parse(slug).expect("a valid slug");
        PublicationSpec::new(&slug, 3838, "/healthz", &self.settings, &[("team".into(), "data".into())])
    }

    /// Publishes as the use case does: target group, limits, priorities, rules.
    async fn publish(&self, spec: &PublicationSpec) -> Result<(String, Vec<String>), CloudError> {
        let group = self.frontdoor().ensure_target_group(&spec.target_group).await?;
        let state = self.frontdoor().read_listener().await?;
        check_limits(state.target_groups, state.other_rules(spec)).map_err(|e| CloudError::Invalid(e.message))?;
        let priorities = choose_priorities(&state.taken_except(spec), None).expect("free priorities");
        let rules = self.frontdoor().ensure_rules(&spec.rules(&group.arn, priorities)).await?;
        Ok((group.arn, rules))
    }

    async fn priorities(&self) -> BTreeMap<String, u32> {
        let state = self.frontdoor().read_listener().await.expect("listener read");
        state.rules.into_iter().filter_map(|r| Some((r.arn, r.priority?))).collect()
    }

    /// The target states of one group, by IP.
    async fn health(&self, group: &str) -> BTreeMap<String, TargetState> {
        let health = self.frontdoor().target_health(&[group.to_owned()]).await.expect("health read");
        let targets = health[0].targets.clone().expect("the group exists");
        assert!(targets.iter().all(|t| t.port == Some(3838)), "{targets:?}");
        targets.into_iter().map(|t| (t.target, t.state)).collect()
    }

    /// The app `name` deployed as a first deploy does, its service sending the container
    /// port of `desired` tasks to `group`.
    async fn service(&self, name: &str, group: &str, desired: i64) {
        let input = AppInput {
            slug: name.into(),
            name: name.into(),
            image: "rocker/shiny:4.4.1".into(),
            desired_count: desired,
            target_group_arn: Some(group.into()),
            ..AppInput::defaults()
        };
        let app = AppDefinition::parse(&input).expect("a valid app");
        let td = app.task_definition("rocker/shiny:4.4.1", "us-east-1");
        let td = self.sandbox.register_task_definition(&td).await.expect("registered");
        let network = Network { subnets: vec!["subnet-1".into()], ..Network::default() };
        self.sandbox.create_service(&app.service(&td.arn, &network)).await.expect("service created");
    }
}

#[tokio::test]
async fn publishing_twice_changes_nothing() {
    let w = world();
    let spec = w.spec("sales");
    let first = w.publish(&spec).await.expect("published");
    let before = w.frontdoor().read_listener().await.expect("listener read");
    let second = w.publish(&spec).await.expect("published again");
    let after = w.frontdoor().read_listener().await.expect("listener read");
    assert_eq!(first, second, "the same target group and rules");
    assert_eq!(before, after, "no rule added or moved");
    assert_eq!(after.target_groups, 1);
    assert_eq!(after.rules.len(), 3, "two rules and the default one");

    let forward = after.rules.iter().find(|r| r.arn == first.1[0]).expect("the forward rule");
    assert_eq!(forward.actions, ["authenticate-cognito", "forward"]);
    assert_eq!(forward.target_groups, [first.0.as_str()]);
    assert_eq!(
        (forward.hosts.as_slice(), forward.paths.as_slice()),
        (&["apps.example.org".to_owned()][..], &["/shiny/sales/*".to_owned()][..])
    );
    let redirect = after.rules.iter().find(|r| r.arn == first.1[1]).expect("the redirect rule");
    assert_eq!(redirect.actions, ["redirect"]);
    assert_eq!(after.rules.last().map(|r| r.priority), Some(None), "the default rule is read last");
}

#[tokio::test]
async fn a_target_group_of_the_same_name_made_for_another_app_is_a_conflict() {
    let w = world();
    let spec = w.spec("sales");
    w.frontdoor().ensure_target_group(&spec.target_group).await.expect("created");
    let mut theirs = spec.target_group.clone();
    for (key, value) in &mut theirs.tags {
        if key == APP_TAG {
            *value = "someone-else".into();
        }
    }
    let refused = w.frontdoor().ensure_target_group(&theirs).await;
    assert!(matches!(refused, Err(CloudError::Conflict(_))), "{refused:?}");
}

#[tokio::test]
async fn priorities_are_unique_and_a_taken_one_is_refused() {
    let w = world();
    let (sales, census) = (w.spec("sales"), w.spec("census"));
    let (_, sales_rules) = w.publish(&sales).await.expect("sales published");
    let (_, census_rules) = w.publish(&census).await.expect("census published");
    let priorities = w.priorities().await;
    assert_eq!(sales_rules.iter().map(|arn| priorities[arn]).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(census_rules.iter().map(|arn| priorities[arn]).collect::<Vec<_>>(), [3, 4]);

    let late = w.spec("late");
    let group = w.frontdoor().ensure_target_group(&late.target_group).await.expect("group").arn;
    let stale = Priorities { slot: 0, forward: 4, redirect: 5 };
    let refused = w.frontdoor().ensure_rules(&late.rules(&group, stale)).await;
    assert!(matches!(refused, Err(CloudError::Conflict(ref m)) if m.contains('4')), "{refused:?}");

    // Read again and choose again, as the port says; the stored slot steps over the taken 4.
    let state = w.frontdoor().read_listener().await.expect("listener read");
    let chosen = choose_priorities(&state.taken_except(&late), Some(0)).expect("free priorities");
    assert_eq!((chosen.forward, chosen.redirect), (5, 6));
    w.frontdoor().ensure_rules(&late.rules(&group, chosen)).await.expect("rules created");
    let all: Vec<u32> = w.priorities().await.into_values().collect();
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len(), "every priority holds one rule: {all:?}");
}

#[tokio::test]
async fn a_full_listener_is_refused_in_the_consoles_words() {
    let w = world();
    let fit = MAX_RULES_PER_LISTENER / RULES_PER_APP;
    for n in 0..fit {
        w.publish(&w.spec(&format!("app-{n}"))).await.expect("within the limit");
    }
    let spec = w.spec("one-too-many");
    let refused = w.publish(&spec).await.expect_err("the listener is full");
    let said = check_limits(fit, MAX_RULES_PER_LISTENER).expect_err("over the limit").message;
    assert_eq!(refused, CloudError::Invalid(said.clone()));
    assert!(said.contains("already holds 100 rules"), "{said}");

    // Past the console's check, the load balancer refuses the 101st rule the same way.
    let group = w.frontdoor().ensure_target_group(&spec.target_group).await.expect("group").arn;
    let state = w.frontdoor().read_listener().await.expect("listener read");
    let priorities = choose_priorities(&state.taken_except(&spec), None).expect("free priorities");
    let refused = w.frontdoor().ensure_rules(&spec.rules(&group, priorities)).await;
    assert_eq!(refused, Err(CloudError::Invalid(said)));
    let after = w.frontdoor().read_listener().await.expect("listener read");
    assert_eq!(after.rules.len(), MAX_RULES_PER_LISTENER + 1, "nothing added beside the default rule");
}

#[tokio::test]
async fn unpublishing_removes_the_rules_then_the_target_group() {
    let w = world();
    let spec = w.spec("gone");
    let (group, rules) = w.publish(&spec).await.expect("published");

    let early = w.frontdoor().delete_target_group(&group).await;
    assert_eq!(early, Err(RemoveError::InUse(group.clone())), "a rule still forwards to it");

    w.frontdoor().delete_rules(&rules).await.expect("rules deleted");
    w.frontdoor().delete_rules(&rules).await.expect("deleting them again is not an error");
    w.frontdoor().delete_target_group(&group).await.expect("target group deleted");
    w.frontdoor().delete_target_group(&group).await.expect("deleting it again is not an error");

    let state = w.frontdoor().read_listener().await.expect("listener read");
    assert!(state.rules.iter().all(|r| spec.role_of(r).is_none()), "no rule of the app left");
    assert_eq!(state.target_groups, 0);
    let health = w.frontdoor().target_health(std::slice::from_ref(&group)).await.expect("health read");
    assert_eq!(health[0].targets, None, "the target group is gone");
}

#[tokio::test]
async fn a_sweep_removes_what_no_published_app_owns() {
    let w = world();
    let kept = w.spec("kept");
    let (kept_group, kept_rules) = w.publish(&kept).await.expect("kept published");
    let (stray_group, stray_rules) = w.publish(&w.spec("stray")).await.expect("stray published");
    let lonely = w.frontdoor().ensure_target_group(&w.spec("lonely").target_group).await.expect("lonely").arn;
    let mut elsewhere = w.spec("elsewhere");
    elsewhere.target_group.tags.retain(|(k, _)| k != domain::publish::LISTENER_TAG);
    let other = w.frontdoor().ensure_target_group(&elsewhere.target_group).await.expect("another listener's").arn;

    let swept = w.frontdoor().sweep(&BTreeSet::from([kept.slug.clone()])).await.expect("swept");
    assert_eq!(swept.rules.iter().collect::<BTreeSet<_>>(), stray_rules.iter().collect());
    assert_eq!(swept.target_groups.iter().collect::<BTreeSet<_>>(), BTreeSet::from([&stray_group, &lonely]));
    assert!(swept.in_use.is_empty(), "{swept:?}");

    let groups = [kept_group, stray_group, lonely, other];
    let health = w.frontdoor().target_health(&groups).await.expect("health read");
    let exists: Vec<bool> = health.iter().map(|g| g.targets.is_some()).collect();
    assert_eq!(exists, [true, false, false, true], "only the kept app's and another listener's groups stay");
    let state = w.frontdoor().read_listener().await.expect("listener read");
    let left: BTreeSet<&String> = state.rules.iter().filter(|r| r.priority.is_some()).map(|r| &r.arn).collect();
    assert_eq!(left, kept_rules.iter().collect());
    assert_eq!(w.frontdoor().sweep(&BTreeSet::from([kept.slug.clone()])).await.expect("swept"), Default::default());
}

#[tokio::test]
async fn target_health_follows_the_tasks_as_the_clock_moves() {
    let w = world();
    let spec = w.spec("census");
    let group = w.frontdoor().ensure_target_group(&spec.target_group).await.expect("group").arn;
    w.service("census", &group, 2).await;
    assert!(w.health(&group).await.is_empty(), "no task runs yet");

    w.clock.advance(Duration::seconds(20));
    let unused = w.health(&group).await;
    assert_eq!(unused.len(), 2, "{unused:?}");
    assert!(unused.values().all(|s| *s == TargetState::Unused), "no rule forwards to the group yet: {unused:?}");

    let (_, rules) = w.publish(&spec).await.expect("published");
    assert!(w.health(&group).await.values().all(|s| *s == TargetState::Healthy));

    // A third task: registered once RUNNING, initial until its health check passes.
    w.sandbox
        .update_service(&ServiceUpdate { name: "census".into(), desired_count: Some(3), ..Default::default() })
        .await
        .expect("scaled up");
    let mut seen: Vec<TargetState> = Vec::new();
    for _ in 0..20 {
        w.clock.advance(Duration::seconds(1));
        let health = w.health(&group).await;
        for state in health.values().copied().filter(|s| *s != TargetState::Healthy) {
            if seen.last() != Some(&state) {
                seen.push(state);
            }
        }
        if health.len() == 3 && health.values().all(|s| *s == TargetState::Healthy) {
            break;
        }
    }
    assert_eq!(seen, [TargetState::Initial], "the new task passed through initial only");
    assert_eq!(w.health(&group).await.len(), 3);

    // Scaling in deregisters a task: draining for the group's 15 s, then gone.
    w.sandbox
        .update_service(&ServiceUpdate { name: "census".into(), desired_count: Some(2), ..Default::default() })
        .await
        .expect("scaled in");
    let draining = w.health(&group).await;
    assert_eq!(draining.values().filter(|s| **s == TargetState::Draining).count(), 1, "{draining:?}");
    w.clock.advance(Duration::seconds(16));
    let settled = w.health(&group).await;
    assert_eq!(settled.len(), 2, "{settled:?}");
    assert!(settled.values().all(|s| *s == TargetState::Healthy), "{settled:?}");

    // Without its rules the group serves no one: its targets are unused.
    w.frontdoor().delete_rules(&rules).await.expect("rules deleted");
    assert!(w.health(&group).await.values().all(|s| *s == TargetState::Unused));
}

#[tokio::test]
async fn the_idle_timeout_is_60_seconds_until_changed() {
    let w = world();
    let state = w.frontdoor().read_listener().await.expect("listener read");
    assert_eq!(state.idle_timeout_secs, Some(DEFAULT_IDLE_TIMEOUT_SECS));
    assert_eq!(DEFAULT_IDLE_TIMEOUT_SECS, 60);
    w.sandbox.set_idle_timeout(3600);
    let state = w.frontdoor().read_listener().await.expect("listener read");
    assert_eq!(state.idle_timeout_secs, Some(3600));
}

//! [`ElbFrontdoor`] against moto's server: each test makes its own load balancer and listener
//! in the default VPC, publishes through the port and reads the result back with the raw
//! client: the target group's settings and attributes, the rules with `authenticate-cognito`
//! then `forward`, the redirect, rules over more than one page, unpublishing in order, a
//! second publish changing nothing, and a sweep by tag.
//!
//! moto drops a rule's `Transforms` silently, so the url-rewrite is checked against
//! `aws-smithy-mocks` (`aws_mocks_elb`).
//!
//! Run with `cargo test -p cloud --test aws_moto_elb` (moto starts by itself; set
//! `MOTO_ENDPOINT` to use a running one).

mod support;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, ProtocolEnum, RuleCondition, TargetTypeEnum,
};
use aws_sdk_elasticloadbalancingv2::Client;
use cloud::aws::ElbFrontdoor;
use domain::publish::{
    choose_priorities, AppsUrl, CognitoSignIn, Frontdoor, FrontdoorSettings, PublicationSpec, RemoveError,
};
use domain::AppSlug;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use support::moto;

/// A load balancer with one listener of its own, and the port on it.
struct Listener {
    raw: Client,
    frontdoor: ElbFrontdoor,
    settings: FrontdoorSettings,
}

async fn listener() -> Listener {
    let config = moto::sdk_config().await;
    let raw = Client::new(&config);
    let network = moto::default_network().await;
    let lb = raw
        .create_load_balancer()
        .name(moto::unique("lb"))
        .set_subnets(Some(network.subnets.iter().take(2).cloned().collect()))
        .send()
        .await
        .expect("load balancer created");
    let lb = lb.load_balancers().first().expect("a load balancer").clone();
    let default_action = Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(FixedResponseActionConfig::builder().status_code("404").build())
        .build();
    let created = raw
        .create_listener()
        .load_balancer_arn(lb.load_balancer_arn().expect("an ARN"))
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(default_action)
        .send()
        .await
        .expect("listener created");
    let listener_arn = created.listeners().first().and_then(|l| l.listener_arn()).expect("a listener ARN").to_owned();
    let settings = FrontdoorSettings {
        apps_url: AppsUrl::parse("https://apps.example.org/shiny", None).expect("a valid apps URL"),
        listener_arn: listener_arn.clone(),
        vpc_id: lb.vpc_id().expect("a VPC").to_owned(),
        cognito: CognitoSignIn {
            user_pool_arn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Example".into(),
            client_id: "apps-client".into(),
            domain: "shinyfleet-sign-in".into(),
            session_timeout_secs: 28_800,
        },
    };
    let frontdoor = ElbFrontdoor::new(&config, listener_arn).with_in_use_retry(2, Duration::from_millis(10));
    Listener { raw, frontdoor, settings }
}

fn spec(listener: &Listener, slug: &str) -> PublicationSpec {
    let slug = AppSlug::parse(slug).expect("a valid slug");
    PublicationSpec::new(&slug, 3838, "/healthz", &listener.settings, &[("team".into(), "data".into())])
}

/// Publishes through the port as the use case will: target group, priorities, rules.
async fn publish(listener: &Listener, spec: &PublicationSpec) -> (String, Vec<String>) {
    let group = listener.frontdoor.ensure_target_group(&spec.target_group).await.expect("target group ensured");
    let state = listener.frontdoor.read_listener().await.expect("listener read");
    let priorities = choose_priorities(&state.taken_except(spec), None).expect("free priorities");
    let rules = listener.frontdoor.ensure_rules(&spec.rules(&group.arn, priorities)).await.expect("rules ensured");
    (group.arn, rules)
}

#[tokio::test]
async fn a_target_group_is_created_with_its_health_check_and_stickiness() {
    let listener = listener().await;
    let spec = spec(&listener, &moto::unique("tg"));
    let first = listener.frontdoor.ensure_target_group(&spec.target_group).await.expect("created");
    let again = listener.frontdoor.ensure_target_group(&spec.target_group).await.expect("found again");
    assert_eq!(first, again, "the same target group, found by name");

    let described =
        listener.raw.describe_target_groups().target_group_arns(&first.arn).send().await.expect("described");
    let group = described.target_groups().first().expect("the group");
    assert_eq!(group.port(), Some(3838));
    assert_eq!(group.protocol(), Some(&ProtocolEnum::Http));
    assert_eq!(group.target_type(), Some(&TargetTypeEnum::Ip));
    assert_eq!(group.health_check_path(), Some("/healthz"));
    assert_eq!(group.matcher().and_then(|m| m.http_code()), Some("200-399"));

    let attributes = listener
        .raw
        .describe_target_group_attributes()
        .target_group_arn(&first.arn)
        .send()
        .await
        .expect("attributes read");
    let attributes: BTreeMap<&str, &str> =
        attributes.attributes().iter().filter_map(|a| Some((a.key()?, a.value()?))).collect();
    assert_eq!(attributes.get("stickiness.enabled"), Some(&"true"));
    assert_eq!(attributes.get("stickiness.type"), Some(&"lb_cookie"));
    assert_eq!(attributes.get("deregistration_delay.timeout_seconds"), Some(&"15"));

    let tags = listener.raw.describe_tags().resource_arns(&first.arn).send().await.expect("tags read");
    let tags: BTreeMap<&str, &str> =
        tags.tag_descriptions()[0].tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
    assert_eq!(tags.get("shinyfleet:app"), Some(&spec.slug.as_str()));
    assert_eq!(tags.get("team"), Some(&"data"));
}

#[tokio::test]
async fn a_publication_signs_in_then_forwards_and_redirects_the_bare_path() {
    let listener = listener().await;
    let spec = spec(&listener, &moto::unique("app"));
    let (group, rules) = publish(&listener, &spec).await;
    assert_eq!(rules.len(), 2);

    let state = listener.frontdoor.read_listener().await.expect("listener read");
    let forward = state.rules.iter().find(|r| r.arn == rules[0]).expect("the forward rule read back");
    assert_eq!(forward.actions, ["authenticate-cognito", "forward"]);
    assert_eq!(forward.target_groups, [group.as_str()]);
    assert_eq!(forward.hosts, ["apps.example.org"]);
    assert_eq!(forward.paths, [format!("/shiny/{}/*", spec.slug.as_str())]);
    let redirect = state.rules.iter().find(|r| r.arn == rules[1]).expect("the redirect rule read back");
    assert_eq!(redirect.actions, ["redirect"]);
    assert_eq!((forward.priority, redirect.priority), (Some(1), Some(2)));

    let raw = listener.raw.describe_rules().rule_arns(&rules[0]).send().await.expect("rule described");
    let cognito = raw.rules()[0]
        .actions()
        .iter()
        .find_map(|a| a.authenticate_cognito_config())
        .expect("an authenticate-cognito action");
    assert_eq!(cognito.user_pool_client_id(), Some("apps-client"));
    assert_eq!(cognito.user_pool_domain(), Some("shinyfleet-sign-in"));
    assert_eq!(cognito.scope(), Some("openid email"));
    assert_eq!(cognito.session_timeout(), Some(28_800));
}

#[tokio::test]
async fn publishing_again_changes_nothing() {
    let listener = listener().await;
    let spec = spec(&listener, &moto::unique("again"));
    let first = publish(&listener, &spec).await;
    let before = listener.frontdoor.read_listener().await.expect("listener read");
    let second = publish(&listener, &spec).await;
    let after = listener.frontdoor.read_listener().await.expect("listener read");
    assert_eq!(first, second, "the same target group and rules");
    assert_eq!(before.rules, after.rules, "no rule added or moved");
}

#[tokio::test]
async fn every_page_of_rules_is_read() {
    let listener = listener().await;
    let condition = |path: String| RuleCondition::builder().field("path-pattern").values(path).build();
    let fixed = Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(FixedResponseActionConfig::builder().status_code("200").build())
        .build();
    for priority in 1..=405 {
        listener
            .raw
            .create_rule()
            .listener_arn(&listener.settings.listener_arn)
            .priority(priority)
            .conditions(condition(format!("/other/{priority}")))
            .actions(fixed.clone())
            .send()
            .await
            .expect("rule created");
    }
    let state = listener.frontdoor.read_listener().await.expect("listener read");
    let priorities: BTreeSet<u32> = state.rules.iter().filter_map(|r| r.priority).collect();
    assert_eq!(priorities.len(), 405, "every rule read, past the first page of 400");
    assert_eq!(state.rules.len(), 406, "and the default rule");
}

#[tokio::test]
async fn unpublishing_removes_the_rules_then_the_target_group() {
    let listener = listener().await;
    let spec = spec(&listener, &moto::unique("gone"));
    let (group, rules) = publish(&listener, &spec).await;

    let early = listener.frontdoor.delete_target_group(&group).await;
    assert_eq!(early, Err(RemoveError::InUse(group.clone())), "a rule still forwards to it");

    listener.frontdoor.delete_rules(&rules).await.expect("rules deleted");
    listener.frontdoor.delete_rules(&rules).await.expect("deleting them again is not an error");
    listener.frontdoor.delete_target_group(&group).await.expect("target group deleted");
    listener.frontdoor.delete_target_group(&group).await.expect("deleting it again is not an error");

    let state = listener.frontdoor.read_listener().await.expect("listener read");
    assert!(state.rules.iter().all(|r| spec.role_of(r).is_none()), "no rule of the app left");
    let health = listener.frontdoor.target_health(std::slice::from_ref(&group)).await.expect("health read");
    assert_eq!(health[0].targets, None, "the target group is gone");
}

#[tokio::test]
async fn a_sweep_removes_what_no_published_app_owns() {
    let listener = listener().await;
    let kept = spec(&listener, &moto::unique("kept"));
    let stray = spec(&listener, &moto::unique("stray"));
    let (kept_group, kept_rules) = publish(&listener, &kept).await;
    let stray_group = listener.frontdoor.ensure_target_group(&stray.target_group).await.expect("stray group").arn;

    let swept = listener.frontdoor.sweep(&BTreeSet::from([kept.slug.clone()])).await.expect("swept");
    assert_eq!(swept.target_groups, [stray_group.as_str()]);
    assert!(swept.rules.is_empty() && swept.in_use.is_empty(), "{swept:?}");

    let health = listener.frontdoor.target_health(&[kept_group, stray_group]).await.expect("health read");
    assert!(health[0].targets.is_some(), "the published app's group stays");
    assert_eq!(health[1].targets, None, "the stray group is gone");
    let state = listener.frontdoor.read_listener().await.expect("listener read");
    assert!(kept_rules.iter().all(|arn| state.rules.iter().any(|r| &r.arn == arn)), "the published rules stay");
}

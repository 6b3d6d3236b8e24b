//! [`ElbFrontdoor`] against `aws-smithy-mocks`, for what moto cannot show: the url-rewrite
//! transform a rule is sent with (moto drops `Transforms` silently), and a publish cut short
//! by throttling, whose tagged target group a sweep then removes.
//!
//! Run with `cargo test -p cloud --test aws_mocks_elb`.

use aws_sdk_elasticloadbalancingv2::operation::create_rule::CreateRuleOutput;
use aws_sdk_elasticloadbalancingv2::operation::create_rule::{CreateRuleError, CreateRuleInput};
use aws_sdk_elasticloadbalancingv2::operation::create_target_group::CreateTargetGroupOutput;
use aws_sdk_elasticloadbalancingv2::operation::delete_target_group::{DeleteTargetGroupInput, DeleteTargetGroupOutput};
use aws_sdk_elasticloadbalancingv2::operation::describe_rules::DescribeRulesOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_tags::DescribeTagsOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::{
    DescribeTargetGroupsError, DescribeTargetGroupsInput, DescribeTargetGroupsOutput,
};
use aws_sdk_elasticloadbalancingv2::operation::modify_target_group_attributes::ModifyTargetGroupAttributesOutput;
use aws_sdk_elasticloadbalancingv2::types::error::TargetGroupNotFoundException;
use aws_sdk_elasticloadbalancingv2::types::{Rule as ElbRule, Tag, TagDescription, TargetGroup, TransformTypeEnum};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use cloud::aws::ElbFrontdoor;
use domain::definition::APP_TAG;
use domain::publish::{
    AppsUrl, CognitoSignIn, Frontdoor, FrontdoorSettings, Priorities, PublicationSpec, LISTENER_TAG,
};
use domain::{AppSlug, CloudError};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/1/2";
const GROUP: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/sf-sales/3";

fn frontdoor(rules: &[&Rule]) -> ElbFrontdoor {
    let client = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, rules, |c| c
        .retry_config(aws_sdk_elasticloadbalancingv2::config::retry::RetryConfig::disabled()));
    ElbFrontdoor::from_client(client, LISTENER.into())
}

fn spec() -> PublicationSpec {
    let settings = FrontdoorSettings {
        apps_url: AppsUrl::parse("https://example.org/shiny", None).expect("a valid apps URL"),
        listener_arn: LISTENER.into(),
        vpc_id: "vpc-1".into(),
        cognito: CognitoSignIn {
            user_pool_arn: "arn:pool".into(),
            client_id: "client".into(),
            domain: "sign-in".into(),
            session_timeout_secs: 3600,
        },
    };
    PublicationSpec::new(&AppSlug::parse("sales").expect("a slug"), 3838, "/", &settings, &[])
}

fn no_rules() -> Rule {
    mock!(aws_sdk_elasticloadbalancingv2::Client::describe_rules)
        .then_output(|| DescribeRulesOutput::builder().rules(ElbRule::builder().is_default(true).build()).build())
}

fn no_group_named() -> Rule {
    mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups)
        .match_requests(|input: &DescribeTargetGroupsInput| !input.names().is_empty())
        .then_error(|| {
            DescribeTargetGroupsError::TargetGroupNotFoundException(TargetGroupNotFoundException::builder().build())
        })
}

fn created_group() -> [Rule; 2] {
    [
        mock!(aws_sdk_elasticloadbalancingv2::Client::create_target_group).then_output(|| {
            CreateTargetGroupOutput::builder()
                .target_groups(TargetGroup::builder().target_group_arn(GROUP).target_group_name("sf-sales").build())
                .build()
        }),
        mock!(aws_sdk_elasticloadbalancingv2::Client::modify_target_group_attributes)
            .then_output(|| ModifyTargetGroupAttributesOutput::builder().build()),
    ]
}

#[tokio::test]
async fn the_forward_rule_is_sent_with_a_url_rewrite_stripping_the_prefix() {
    let sent: Arc<Mutex<Vec<CreateRuleInput>>> = Arc::default();
    let record = sent.clone();
    let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_rule)
        .match_requests(move |input: &CreateRuleInput| {
            record.lock().expect("an unpoisoned lock").push(input.clone());
            true
        })
        .then_output(|| CreateRuleOutput::builder().rules(ElbRule::builder().rule_arn("arn:rule").build()).build());
    let frontdoor = frontdoor(&[&no_rules(), &create]);
    let rules = spec().rules(GROUP, Priorities { slot: 0, forward: 1, redirect: 2 });
    frontdoor.ensure_rules(&rules).await.expect("rules created");

    let sent = sent.lock().expect("an unpoisoned lock").clone();
    assert_eq!(sent.len(), 2);
    let transform = &sent[0].transforms()[0];
    assert_eq!(transform.r#type(), Some(&TransformTypeEnum::UrlRewrite));
    let rewrite = &transform.url_rewrite_config().expect("a url-rewrite config").rewrites()[0];
    assert_eq!((rewrite.regex(), rewrite.replace()), (Some("^/shiny/sales/(.*)$"), Some("/$1")));
    assert!(sent[1].transforms().is_empty(), "the redirect rule rewrites nothing");
    let tagged = |input: &CreateRuleInput, key: &str| input.tags().iter().any(|t| t.key() == Some(key));
    assert!(sent.iter().all(|input| tagged(input, APP_TAG) && tagged(input, LISTENER_TAG)), "tagged as created");
}

#[tokio::test]
async fn throttling_mid_publish_leaves_a_tagged_group_that_a_sweep_removes() {
    let [create_group, attributes] = created_group();
    let throttled = mock!(aws_sdk_elasticloadbalancingv2::Client::create_rule).then_error(|| {
        CreateRuleError::generic(ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build())
    });
    let spec = spec();
    let publishing = frontdoor(&[&no_group_named(), &create_group, &attributes, &no_rules(), &throttled]);
    let group = publishing.ensure_target_group(&spec.target_group).await.expect("target group created");
    let rules = spec.rules(&group.arn, Priorities { slot: 0, forward: 1, redirect: 2 });
    assert_eq!(publishing.ensure_rules(&rules).await, Err(CloudError::Throttled));

    let all_groups = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups).then_output(|| {
        DescribeTargetGroupsOutput::builder()
            .target_groups(TargetGroup::builder().target_group_arn(GROUP).target_group_name("sf-sales").build())
            .target_groups(TargetGroup::builder().target_group_arn("arn:other").target_group_name("other").build())
            .build()
    });
    let tags = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_tags).then_output(|| {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        DescribeTagsOutput::builder()
            .tag_descriptions(
                TagDescription::builder()
                    .resource_arn(GROUP)
                    .tags(tag(APP_TAG, "sales"))
                    .tags(tag(LISTENER_TAG, LISTENER))
                    .build(),
            )
            .build()
    });
    let deleted: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = deleted.clone();
    let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_target_group)
        .match_requests(move |input: &DeleteTargetGroupInput| {
            record.lock().expect("an unpoisoned lock").extend(input.target_group_arn().map(str::to_owned));
            true
        })
        .then_output(|| DeleteTargetGroupOutput::builder().build());
    let sweeping = frontdoor(&[&no_rules(), &all_groups, &tags, &delete]);
    let swept = sweeping.sweep(&BTreeSet::new()).await.expect("swept");
    assert_eq!(swept.target_groups, [GROUP]);
    assert_eq!(*deleted.lock().expect("an unpoisoned lock"), [GROUP], "only the tagged group is deleted");
}

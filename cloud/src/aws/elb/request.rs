//! The request shapes of [`ElbFrontdoor`](super::ElbFrontdoor): ShinyFleet's rule and target
//! group specs as the SDK's types, and the answers read back into the port's types.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, AuthenticateCognitoActionConditionalBehaviorEnum, AuthenticateCognitoActionConfig,
    HostHeaderConditionConfig, Matcher, PathPatternConditionConfig, RedirectActionConfig, RedirectActionStatusCodeEnum,
    RewriteConfig, Rule, RuleCondition, RuleTransform, Tag, TargetGroupAttribute, TargetHealthDescription,
    TransformTypeEnum, UrlRewriteConfig,
};
use domain::publish::{ListenerRule, RuleAction, RuleSpec, TargetGroupSpec, TargetHealth, TargetState};

pub(super) fn tags(pairs: &[(String, String)]) -> Option<Vec<Tag>> {
    Some(pairs.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
}

pub(super) fn matcher(spec: &TargetGroupSpec) -> Matcher {
    Matcher::builder().http_code(&spec.matcher).build()
}

/// Stickiness by the load balancer's cookie and the deregistration delay.
pub(super) fn target_group_attributes(spec: &TargetGroupSpec) -> Vec<TargetGroupAttribute> {
    [
        ("stickiness.enabled", "true".to_owned()),
        ("stickiness.type", "lb_cookie".to_owned()),
        ("stickiness.lb_cookie.duration_seconds", spec.stickiness_secs.to_string()),
        ("deregistration_delay.timeout_seconds", spec.deregistration_delay_secs.to_string()),
    ]
    .into_iter()
    .map(|(key, value)| TargetGroupAttribute::builder().key(key).value(value).build())
    .collect()
}

/// Host and path conditions.
pub(super) fn conditions(rule: &RuleSpec) -> Vec<RuleCondition> {
    vec![
        RuleCondition::builder()
            .field("host-header")
            .host_header_config(HostHeaderConditionConfig::builder().values(&rule.host).build())
            .build(),
        RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(PathPatternConditionConfig::builder().values(&rule.path).build())
            .build(),
    ]
}

/// The rule's actions, numbered in order.
pub(super) fn actions(rule: &RuleSpec) -> Vec<Action> {
    rule.actions
        .iter()
        .zip(1..)
        .map(|(action, order)| {
            let built = Action::builder().order(order);
            match action {
                RuleAction::AuthenticateCognito(cognito) => {
                    built.r#type(ActionTypeEnum::AuthenticateCognito).authenticate_cognito_config(
                        AuthenticateCognitoActionConfig::builder()
                            .user_pool_arn(&cognito.user_pool_arn)
                            .user_pool_client_id(&cognito.client_id)
                            .user_pool_domain(&cognito.domain)
                            .scope(domain::publish::CognitoSignIn::SCOPE)
                            .on_unauthenticated_request(AuthenticateCognitoActionConditionalBehaviorEnum::Authenticate)
                            .session_timeout(i64::try_from(cognito.session_timeout_secs).unwrap_or(i64::MAX))
                            .build(),
                    )
                }
                RuleAction::Forward { target_group_arn } => {
                    built.r#type(ActionTypeEnum::Forward).target_group_arn(target_group_arn)
                }
                RuleAction::Redirect { path } => built.r#type(ActionTypeEnum::Redirect).redirect_config(
                    RedirectActionConfig::builder()
                        .path(path)
                        .status_code(RedirectActionStatusCodeEnum::Http301)
                        .build(),
                ),
            }
            .build()
        })
        .collect()
}

/// The `url-rewrite` transform, when the rule has one.
pub(super) fn transforms(rule: &RuleSpec) -> Option<Vec<RuleTransform>> {
    rule.rewrite.as_ref().map(|rewrite| {
        let config = UrlRewriteConfig::builder()
            .rewrites(RewriteConfig::builder().regex(&rewrite.regex).replace(&rewrite.replace).build())
            .build();
        vec![RuleTransform::builder().r#type(TransformTypeEnum::UrlRewrite).url_rewrite_config(config).build()]
    })
}

/// A rule as the port reads it; both the condition configs and the legacy `Values` are read.
pub(super) fn listener_rule(rule: &Rule) -> ListenerRule {
    let values = |field: &str| -> Vec<String> {
        rule.conditions()
            .iter()
            .filter(|c| c.field() == Some(field))
            .flat_map(|c| {
                let config = match field {
                    "host-header" => c.host_header_config().map(|h| h.values().to_vec()),
                    _ => c.path_pattern_config().map(|p| p.values().to_vec()),
                };
                config.filter(|v| !v.is_empty()).unwrap_or_else(|| c.values().to_vec())
            })
            .collect()
    };
    let mut actions: Vec<&Action> = rule.actions().iter().collect();
    actions.sort_by_key(|a| a.order());
    ListenerRule {
        arn: rule.rule_arn().unwrap_or_default().to_owned(),
        priority: rule.priority().and_then(|p| p.parse().ok()),
        hosts: values("host-header"),
        paths: values("path-pattern"),
        actions: actions.iter().filter_map(|a| a.r#type()).map(|t| t.as_str().to_owned()).collect(),
        target_groups: actions
            .iter()
            .flat_map(|a| {
                let mut arns: Vec<String> = a.target_group_arn().map(str::to_owned).into_iter().collect();
                if let Some(forward) = a.forward_config() {
                    arns.extend(forward.target_groups().iter().filter_map(|t| t.target_group_arn()).map(str::to_owned));
                }
                arns
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

pub(super) fn target_health(description: &TargetHealthDescription) -> TargetHealth {
    let health = description.target_health();
    TargetHealth {
        target: description.target().and_then(|t| t.id()).unwrap_or_default().to_owned(),
        port: description.target().and_then(|t| t.port()).and_then(|p| u16::try_from(p).ok()),
        state: health
            .and_then(|h| h.state())
            .and_then(|s| TargetState::parse(s.as_str()))
            .unwrap_or(TargetState::Unavailable),
        reason: health.and_then(|h| h.reason()).map(|r| r.as_str().to_owned()),
        description: health.and_then(|h| h.description()).map(str::to_owned),
    }
}

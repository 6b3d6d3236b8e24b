//! [`ElbFrontdoor`]: the `Frontdoor` port on an Application Load Balancer's HTTPS listener.
//!
//! Everything it creates carries its tags from the first call (`CreateTargetGroup` and
//! `CreateRule` take them), so a publish cut short leaves nothing a sweep by tag cannot find.
//! The adapter owns paging and batching: rules and target groups are read 400 a page, tags 20
//! resources a call. Request shapes and answer mapping live in [`request`].

mod request;

use crate::aws::error::{from_sdk, malformed};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, Rule, TargetGroup, TargetTypeEnum};
use aws_sdk_elasticloadbalancingv2::Client;
use domain::definition::APP_TAG;
use domain::publish::{
    Frontdoor, GroupHealth, ListenerState, RemoveError, RuleSpec, Swept, TargetGroupRef, TargetGroupSpec, LISTENER_TAG,
    TARGET_GROUP_PREFIX,
};
use domain::{AppSlug, CloudError};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The largest page of `DescribeRules` and `DescribeTargetGroups`.
const PAGE_SIZE: i32 = 400;
/// The most resources one `DescribeTags` call accepts.
const TAGS_PER_CALL: usize = 20;
/// The load balancer attribute holding its idle timeout.
const IDLE_TIMEOUT: &str = "idle_timeout.timeout_seconds";

/// One HTTPS listener of an Application Load Balancer, and the target groups of its apps.
#[derive(Debug, Clone)]
pub struct ElbFrontdoor {
    client: Client,
    listener_arn: String,
    in_use_attempts: u32,
    in_use_delay: Duration,
}

impl ElbFrontdoor {
    /// An adapter for `listener_arn`, using the shared SDK configuration.
    pub fn new(config: &SdkConfig, listener_arn: String) -> Self {
        Self::from_client(Client::new(config), listener_arn)
    }

    /// An adapter around a ready client (a mocked one in tests). A target group still in use
    /// is tried 5 times, 3 s apart.
    pub fn from_client(client: Client, listener_arn: String) -> Self {
        Self { client, listener_arn, in_use_attempts: 5, in_use_delay: Duration::from_secs(3) }
    }

    /// How often, and how far apart, deleting a target group still in use is tried.
    pub fn with_in_use_retry(mut self, attempts: u32, delay: Duration) -> Self {
        self.in_use_attempts = attempts.max(1);
        self.in_use_delay = delay;
        self
    }

    async fn rules(&self) -> Result<Vec<Rule>, CloudError> {
        let mut rules = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .client
                .describe_rules()
                .listener_arn(&self.listener_arn)
                .page_size(PAGE_SIZE)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| from_sdk("DescribeRules", e))?;
            rules.extend(out.rules().iter().cloned());
            marker = out.next_marker().filter(|m| !m.is_empty()).map(str::to_owned);
            if marker.is_none() {
                return Ok(rules);
            }
        }
    }

    /// Every target group, of the load balancer or of the account and region.
    async fn target_groups(&self, load_balancer_arn: Option<&str>) -> Result<Vec<TargetGroup>, CloudError> {
        let mut groups = Vec::new();
        let mut marker = None;
        loop {
            let answer = self
                .client
                .describe_target_groups()
                .set_load_balancer_arn(load_balancer_arn.map(str::to_owned))
                .page_size(PAGE_SIZE)
                .set_marker(marker)
                .send()
                .await;
            let out = match answer {
                Ok(out) => out,
                // moto answers a load balancer without target groups so.
                Err(e) if e.as_service_error().is_some_and(|e| e.is_target_group_not_found_exception()) => {
                    return Ok(groups)
                }
                Err(e) => return Err(from_sdk("DescribeTargetGroups", e)),
            };
            groups.extend(out.target_groups().iter().cloned());
            marker = out.next_marker().filter(|m| !m.is_empty()).map(str::to_owned);
            if marker.is_none() {
                return Ok(groups);
            }
        }
    }

    async fn target_group_named(&self, name: &str) -> Result<Option<TargetGroup>, CloudError> {
        match self.client.describe_target_groups().names(name).send().await {
            Ok(out) => Ok(out.target_groups().first().cloned()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_target_group_not_found_exception()) => Ok(None),
            Err(e) => Err(from_sdk("DescribeTargetGroups", e)),
        }
    }

    /// The tags of any number of resources, by ARN.
    async fn tags(&self, arns: &[String]) -> Result<BTreeMap<String, BTreeMap<String, String>>, CloudError> {
        let mut tags = BTreeMap::new();
        for batch in arns.chunks(TAGS_PER_CALL) {
            let out = self
                .client
                .describe_tags()
                .set_resource_arns(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| from_sdk("DescribeTags", e))?;
            for description in out.tag_descriptions() {
                let pairs = description
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
                    .collect();
                tags.insert(description.resource_arn().unwrap_or_default().to_owned(), pairs);
            }
        }
        Ok(tags)
    }

    /// Of `arns`, those tagged for this listener and an app not in `keep`.
    async fn strays(&self, arns: Vec<String>, keep: &BTreeSet<AppSlug>) -> Result<Vec<String>, CloudError> {
        let tags = self.tags(&arns).await?;
        Ok(arns
            .into_iter()
            .filter(|arn| {
                tags.get(arn).is_some_and(|t| {
                    t.get(LISTENER_TAG) == Some(&self.listener_arn)
                        && t.get(APP_TAG).is_some_and(|app| !keep.iter().any(|k| k.as_str() == app))
                })
            })
            .collect())
    }

    async fn converge_target_group(&self, arn: &str, spec: &TargetGroupSpec) -> Result<(), CloudError> {
        self.client
            .modify_target_group()
            .target_group_arn(arn)
            .health_check_path(&spec.health_check_path)
            .matcher(request::matcher(spec))
            .send()
            .await
            .map_err(|e| from_sdk("ModifyTargetGroup", e))?;
        self.set_attributes(arn, spec).await
    }

    async fn set_attributes(&self, arn: &str, spec: &TargetGroupSpec) -> Result<(), CloudError> {
        self.client
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .set_attributes(Some(request::target_group_attributes(spec)))
            .send()
            .await
            .map_err(|e| from_sdk("ModifyTargetGroupAttributes", e))?;
        Ok(())
    }

    /// One attempt: `Ok(false)` when the group is still in use.
    async fn try_delete_target_group(&self, arn: &str) -> Result<bool, CloudError> {
        match self.client.delete_target_group().target_group_arn(arn).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => Ok(false),
            Err(e) => match from_sdk("DeleteTargetGroup", e) {
                CloudError::NotFound(_) => Ok(true),
                other => Err(other),
            },
        }
    }

    async fn load_balancer_arn(&self) -> Result<String, CloudError> {
        let out = self
            .client
            .describe_listeners()
            .listener_arns(&self.listener_arn)
            .send()
            .await
            .map_err(|e| from_sdk("DescribeListeners", e))?;
        out.listeners()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .map(str::to_owned)
            .ok_or_else(|| malformed("DescribeListeners", "loadBalancerArn"))
    }
}

#[async_trait]
impl Frontdoor for ElbFrontdoor {
    async fn ensure_target_group(&self, spec: &TargetGroupSpec) -> Result<TargetGroupRef, CloudError> {
        if let Some(existing) = self.target_group_named(&spec.name).await? {
            let arn = existing.target_group_arn().ok_or_else(|| malformed("DescribeTargetGroups", "targetGroupArn"))?;
            let tags = self.tags(&[arn.to_owned()]).await?;
            let wanted: BTreeMap<&str, &str> = spec.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let ours = tags.get(arn).is_some_and(|t| {
                [APP_TAG, LISTENER_TAG].iter().all(|key| t.get(*key).map(String::as_str) == wanted.get(key).copied())
            });
            if !ours {
                return Err(CloudError::Conflict(format!("target group {} belongs to something else", spec.name)));
            }
            self.converge_target_group(arn, spec).await?;
            return Ok(TargetGroupRef { arn: arn.to_owned(), name: spec.name.clone() });
        }
        let out = self
            .client
            .create_target_group()
            .name(&spec.name)
            .protocol(ProtocolEnum::Http)
            .port(i32::from(spec.port))
            .vpc_id(&spec.vpc_id)
            .target_type(TargetTypeEnum::Ip)
            .health_check_enabled(true)
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_path(&spec.health_check_path)
            .matcher(request::matcher(spec))
            .set_tags(request::tags(&spec.tags))
            .send()
            .await
            .map_err(|e| from_sdk("CreateTargetGroup", e))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .ok_or_else(|| malformed("CreateTargetGroup", "targetGroupArn"))?
            .to_owned();
        self.set_attributes(&arn, spec).await?;
        Ok(TargetGroupRef { arn, name: spec.name.clone() })
    }

    async fn ensure_rules(&self, rules: &[RuleSpec]) -> Result<Vec<String>, CloudError> {
        let existing: Vec<_> = self.rules().await?.iter().map(request::listener_rule).collect();
        let mut arns = Vec::with_capacity(rules.len());
        for rule in rules {
            let same = existing
                .iter()
                .find(|r| r.hosts.iter().any(|h| h.eq_ignore_ascii_case(&rule.host)) && r.paths.contains(&rule.path));
            let arn = match same {
                Some(found) => {
                    let transforms = request::transforms(rule);
                    self.client
                        .modify_rule()
                        .rule_arn(&found.arn)
                        .set_conditions(Some(request::conditions(rule)))
                        .set_actions(Some(request::actions(rule)))
                        .reset_transforms(transforms.is_none())
                        .set_transforms(transforms)
                        .send()
                        .await
                        .map_err(|e| from_sdk("ModifyRule", e))?;
                    found.arn.clone()
                }
                None => {
                    let priority = i32::try_from(rule.priority)
                        .map_err(|_| CloudError::Invalid(format!("priority {} is out of range", rule.priority)))?;
                    let out = self
                        .client
                        .create_rule()
                        .listener_arn(&self.listener_arn)
                        .priority(priority)
                        .set_conditions(Some(request::conditions(rule)))
                        .set_actions(Some(request::actions(rule)))
                        .set_transforms(request::transforms(rule))
                        .set_tags(request::tags(&rule.tags))
                        .send()
                        .await
                        .map_err(|e| from_sdk("CreateRule", e))?;
                    out.rules()
                        .first()
                        .and_then(|r| r.rule_arn())
                        .ok_or_else(|| malformed("CreateRule", "ruleArn"))?
                        .to_owned()
                }
            };
            arns.push(arn);
        }
        Ok(arns)
    }

    async fn read_listener(&self) -> Result<ListenerState, CloudError> {
        let rules = self.rules().await?.iter().map(request::listener_rule).collect();
        let load_balancer = self.load_balancer_arn().await?;
        let target_groups = self.target_groups(Some(&load_balancer)).await?.len();
        let attributes = self
            .client
            .describe_load_balancer_attributes()
            .load_balancer_arn(&load_balancer)
            .send()
            .await
            .map_err(|e| from_sdk("DescribeLoadBalancerAttributes", e))?;
        let idle_timeout_secs = attributes
            .attributes()
            .iter()
            .find(|a| a.key() == Some(IDLE_TIMEOUT))
            .and_then(|a| a.value())
            .and_then(|v| v.parse().ok());
        Ok(ListenerState { rules, target_groups, idle_timeout_secs })
    }

    async fn target_health(&self, target_group_arns: &[String]) -> Result<Vec<GroupHealth>, CloudError> {
        let mut groups = Vec::with_capacity(target_group_arns.len());
        for arn in target_group_arns {
            let targets = match self.client.describe_target_health().target_group_arn(arn).send().await {
                Ok(out) => Some(out.target_health_descriptions().iter().map(request::target_health).collect()),
                Err(e) if e.as_service_error().is_some_and(|e| e.is_target_group_not_found_exception()) => None,
                Err(e) => return Err(from_sdk("DescribeTargetHealth", e)),
            };
            groups.push(GroupHealth { target_group_arn: arn.clone(), targets });
        }
        Ok(groups)
    }

    async fn delete_rules(&self, rule_arns: &[String]) -> Result<(), CloudError> {
        for arn in rule_arns {
            match self.client.delete_rule().rule_arn(arn).send().await.map_err(|e| from_sdk("DeleteRule", e)) {
                Ok(_) | Err(CloudError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> Result<(), RemoveError> {
        for attempt in 1..=self.in_use_attempts {
            if self.try_delete_target_group(arn).await? {
                return Ok(());
            }
            if attempt < self.in_use_attempts {
                tokio::time::sleep(self.in_use_delay).await;
            }
        }
        Err(RemoveError::InUse(arn.to_owned()))
    }

    async fn sweep(&self, keep: &BTreeSet<AppSlug>) -> Result<Swept, CloudError> {
        let rules: Vec<String> = self
            .rules()
            .await?
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .filter_map(|r| r.rule_arn().map(str::to_owned))
            .collect();
        let mut swept = Swept { rules: self.strays(rules, keep).await?, ..Swept::default() };
        self.delete_rules(&swept.rules).await?;
        let groups: Vec<String> = self
            .target_groups(None)
            .await?
            .iter()
            .filter(|g| g.target_group_name().is_some_and(|n| n.starts_with(TARGET_GROUP_PREFIX)))
            .filter_map(|g| g.target_group_arn().map(str::to_owned))
            .collect();
        for arn in self.strays(groups, keep).await? {
            if self.try_delete_target_group(&arn).await? {
                swept.target_groups.push(arn);
            } else {
                swept.in_use.push(arn);
            }
        }
        Ok(swept)
    }
}

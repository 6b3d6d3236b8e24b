//! Following a deploy to its end. A deploy starts one ECS deployment; the background
//! refresher describes the app's service and [`verdict`] decides, from that answer alone,
//! whether the deploy is still rolling out, completed, or failed (and why). Pure, so every
//! case is a row of a table test.

use crate::fleet::{RolloutState, ServiceStatus};
use chrono::{DateTime, Duration, Utc};

/// What is known of a deploy still in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight<'a> {
    /// The task definition it rolls out; `None` while the console is still talking to the
    /// cloud to start it.
    pub task_definition: Option<&'a str>,
    /// The ECS deployment it started, when the cloud named it.
    pub deployment_id: Option<&'a str>,
    pub started_at: DateTime<Utc>,
}

/// How long a deploy may stay unstarted before it is given up: the console must have
/// stopped while starting it.
pub fn start_timeout() -> Duration {
    Duration::minutes(10)
}

/// How long a deploy's service or deployment may be missing from ECS's answers before the
/// deploy is given up: ECS's reads lag its writes by a little while.
pub fn missing_grace() -> Duration {
    Duration::minutes(2)
}

/// Where a deploy stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    InProgress,
    Completed,
    Failed(String),
}

impl Verdict {
    pub fn state(&self) -> RolloutState {
        match self {
            Verdict::InProgress => RolloutState::InProgress,
            Verdict::Completed => RolloutState::Completed,
            Verdict::Failed(_) => RolloutState::Failed,
        }
    }
}

/// The deploy's state given its service as ECS describes it now (`None`: no such service).
///
/// ECS reports each deployment's `rolloutState`; a deployment is ours by id, or (when the
/// id is unknown) by task definition. When the circuit breaker rolls back, our deployment is
/// reported FAILED with the breaker's reason while a new PRIMARY restores the previous
/// revision. A deployment no longer listed ended as the service's events say, or else was
/// replaced by a newer one before it finished.
pub fn verdict(deploy: &InFlight<'_>, service: Option<&ServiceStatus>, now: DateTime<Utc>) -> Verdict {
    let Some(task_definition) = deploy.task_definition else {
        return if now - deploy.started_at > start_timeout() {
            Verdict::Failed("the console stopped before the deploy reached the cloud".into())
        } else {
            Verdict::InProgress
        };
    };
    // ECS answers describe calls from a view that may lag a change by a little while; a
    // deploy it does not show yet is not judged before this grace period.
    let young = now - deploy.started_at < missing_grace();
    let Some(service) = service.filter(|s| s.status == "ACTIVE") else {
        return if young { Verdict::InProgress } else { Verdict::Failed("the service no longer exists".into()) };
    };
    let ours = service.deployments.iter().find(|d| match deploy.deployment_id {
        Some(id) => d.id == id,
        None => d.task_definition == task_definition,
    });
    let Some(ours) = ours else {
        let ended = deploy.deployment_id.and_then(|id| ended_as(service, id));
        return match ended {
            Some(verdict) => verdict,
            None if young => Verdict::InProgress,
            None => Verdict::Failed(
                "ECS shows no deployment of this revision: it did not start, or another deployment replaced it".into(),
            ),
        };
    };
    match ours.rollout_state {
        Some(RolloutState::Completed) => Verdict::Completed,
        Some(RolloutState::Failed) => {
            Verdict::Failed(ours.rollout_reason.clone().unwrap_or_else(|| "the rollout failed".into()))
        }
        Some(RolloutState::InProgress) if ours.status == "PRIMARY" => Verdict::InProgress,
        Some(RolloutState::InProgress) => Verdict::Failed("replaced by another deployment before it completed".into()),
        // Without a rollout state (circuit breaker off, older services): done when it is the
        // only deployment left and runs every task it wants.
        None if ours.status == "PRIMARY"
            && service.deployments.len() == 1
            && ours.running_count == ours.desired_count
            && ours.pending_count == 0 =>
        {
            Verdict::Completed
        }
        None if ours.status == "PRIMARY" => Verdict::InProgress,
        None => Verdict::Failed("replaced by another deployment before it completed".into()),
    }
}

/// How the service's events say a deployment ended, for one no longer listed: ECS drops a
/// replaced deployment (after the circuit breaker's rollback, as soon as the rollback
/// completes), so a deploy followed late — the console was stopped, the cloud did not
/// answer for a while — would otherwise lose the reason it failed.
fn ended_as(service: &ServiceStatus, deployment_id: &str) -> Option<Verdict> {
    service.events.iter().find_map(|e| {
        let (_, after) = e.message.split_once(deployment_id)?;
        if after.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return None; // another deployment whose id starts with ours
        }
        if let Some(at) = after.find("deployment failed") {
            Some(Verdict::Failed(after[at..].trim_end_matches('.').to_owned()))
        } else if after.contains("deployment completed") {
            Some(Verdict::Completed)
        } else {
            None
        }
    })
}

/// The revision number in a task-definition ARN or `family:revision`.
pub fn revision_of(task_definition: &str) -> Option<i64> {
    task_definition.rsplit_once(':')?.1.parse().ok().filter(|r| *r > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{Deployment, ServiceEvent};

    const TD: &str = "arn:aws:ecs:us-east-1:000000000000:task-definition/sales:2";
    const OLD: &str = "arn:aws:ecs:us-east-1:000000000000:task-definition/sales:1";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z").unwrap().with_timezone(&Utc) + Duration::seconds(secs)
    }

    fn deployment(
        id: &str,
        status: &str,
        td: &str,
        rollout: Option<RolloutState>,
        counts: (u32, u32, u32),
    ) -> Deployment {
        Deployment {
            id: id.into(),
            status: status.into(),
            task_definition: td.into(),
            desired_count: counts.0,
            running_count: counts.1,
            pending_count: counts.2,
            failed_tasks: 0,
            rollout_state: rollout,
            rollout_reason: rollout.map(|r| format!("reason {}", r.as_str())),
            created_at: None,
            updated_at: None,
        }
    }

    fn service(status: &str, deployments: Vec<Deployment>) -> ServiceStatus {
        ServiceStatus {
            name: "sales".into(),
            arn: "arn:svc".into(),
            status: status.into(),
            task_definition: TD.into(),
            desired_count: 2,
            running_count: 2,
            pending_count: 0,
            deployments,
            events: vec![],
        }
    }

    fn with_events(mut s: ServiceStatus, messages: &[&str]) -> ServiceStatus {
        s.events = messages
            .iter()
            .enumerate()
            .map(|(i, m)| ServiceEvent { id: i.to_string(), at: at(0), message: (*m).to_owned() })
            .collect();
        s
    }

    #[test]
    fn deploys_follow_their_own_deployment() {
        use RolloutState::*;
        let ours = |status, rollout, counts| deployment("ecs-svc/2", status, TD, rollout, counts);
        let old = |status, rollout| deployment("ecs-svc/1", status, OLD, rollout, (2, 2, 0));
        let failed = Verdict::Failed("reason FAILED".into());
        let replaced = Verdict::Failed("replaced by another deployment before it completed".into());
        let absent = Verdict::Failed(
            "ECS shows no deployment of this revision: it did not start, or another deployment replaced it".into(),
        );
        let cases: Vec<(&str, Option<ServiceStatus>, Verdict)> = vec![
            (
                "rolling out",
                Some(service(
                    "ACTIVE",
                    vec![ours("PRIMARY", Some(InProgress), (2, 1, 1)), old("ACTIVE", Some(Completed))],
                )),
                Verdict::InProgress,
            ),
            (
                "completed",
                Some(service("ACTIVE", vec![ours("PRIMARY", Some(Completed), (2, 2, 0))])),
                Verdict::Completed,
            ),
            (
                "circuit breaker rolled back",
                Some(service(
                    "ACTIVE",
                    vec![old("PRIMARY", Some(InProgress)), ours("ACTIVE", Some(Failed), (2, 0, 0))],
                )),
                failed,
            ),
            (
                "overtaken",
                Some(service(
                    "ACTIVE",
                    vec![
                        deployment("ecs-svc/3", "PRIMARY", OLD, Some(InProgress), (2, 0, 2)),
                        ours("ACTIVE", Some(InProgress), (2, 1, 0)),
                    ],
                )),
                replaced.clone(),
            ),
            ("vanished", Some(service("ACTIVE", vec![old("PRIMARY", Some(Completed))])), absent.clone()),
            (
                "vanished after the circuit breaker's rollback",
                Some(with_events(
                    service("ACTIVE", vec![old("PRIMARY", Some(Completed))]),
                    &[
                        "(service sales) deployment ecs-svc/23 deployment completed.",
                        "(service sales) deployment ecs-svc/1 deployment completed.",
                        "(service sales) (deployment ecs-svc/2) deployment failed: tasks failed to start.",
                    ],
                )),
                Verdict::Failed("deployment failed: tasks failed to start".into()),
            ),
            (
                "vanished after it completed",
                Some(with_events(
                    service("ACTIVE", vec![old("PRIMARY", Some(Completed))]),
                    &["(service sales) deployment ecs-svc/2 deployment completed."],
                )),
                Verdict::Completed,
            ),
            (
                "no rollout state, settled",
                Some(service("ACTIVE", vec![ours("PRIMARY", None, (2, 2, 0))])),
                Verdict::Completed,
            ),
            (
                "no rollout state, starting",
                Some(service("ACTIVE", vec![ours("PRIMARY", None, (2, 1, 1))])),
                Verdict::InProgress,
            ),
            (
                "no rollout state, old one draining",
                Some(service("ACTIVE", vec![ours("PRIMARY", None, (2, 2, 0)), old("ACTIVE", None)])),
                Verdict::InProgress,
            ),
            ("no rollout state, replaced", Some(service("ACTIVE", vec![ours("ACTIVE", None, (2, 2, 0))])), replaced),
            (
                "service deleted",
                Some(service("DRAINING", vec![])),
                Verdict::Failed("the service no longer exists".into()),
            ),
            ("service missing", None, Verdict::Failed("the service no longer exists".into())),
        ];
        let deploy = InFlight { task_definition: Some(TD), deployment_id: Some("ecs-svc/2"), started_at: at(0) };
        for (case, svc, want) in cases {
            assert_eq!(verdict(&deploy, svc.as_ref(), at(600)), want, "{case}");
        }
    }

    #[test]
    fn a_deployment_ecs_does_not_show_yet_is_given_two_minutes() {
        let deploy = InFlight { task_definition: Some(TD), deployment_id: Some("ecs-svc/2"), started_at: at(0) };
        let before =
            service("ACTIVE", vec![deployment("ecs-svc/1", "PRIMARY", OLD, Some(RolloutState::Completed), (2, 2, 0))]);
        for svc in [None, Some(&before)] {
            assert_eq!(verdict(&deploy, svc, at(119)), Verdict::InProgress);
            assert_eq!(verdict(&deploy, svc, at(121)).state(), RolloutState::Failed);
        }
    }

    #[test]
    fn without_a_deployment_id_the_task_definition_identifies_the_deployment() {
        let deploy = InFlight { task_definition: Some(TD), deployment_id: None, started_at: at(0) };
        let svc = service(
            "ACTIVE",
            vec![
                deployment("a", "PRIMARY", TD, Some(RolloutState::Completed), (1, 1, 0)),
                deployment("b", "ACTIVE", OLD, Some(RolloutState::InProgress), (1, 1, 0)),
            ],
        );
        assert_eq!(verdict(&deploy, Some(&svc), at(5)), Verdict::Completed);
    }

    #[test]
    fn a_deploy_that_never_reached_the_cloud_is_given_up_after_ten_minutes() {
        let deploy = InFlight { task_definition: None, deployment_id: None, started_at: at(0) };
        assert_eq!(verdict(&deploy, None, at(600)), Verdict::InProgress);
        assert_eq!(verdict(&deploy, None, at(601)).state(), RolloutState::Failed);
    }

    #[test]
    fn revisions_are_read_from_arns() {
        assert_eq!(revision_of(TD), Some(2));
        assert_eq!(revision_of("sales:17"), Some(17));
        for bad in ["sales", "sales:0", "sales:x", ""] {
            assert_eq!(revision_of(bad), None, "{bad}");
        }
    }
}

//! The rules of the simulated ECS, kept pure so they can be read and tested as tables: which
//! status a Fargate task takes next and how long it stays, how the deployment circuit
//! breaker counts, and which tasks a scale-in stops first. The stateful simulation in
//! [`super::ecs`] only applies these rules.

/// A task's `lastStatus`, in the order ECS walks through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum LastStatus {
    Provisioning,
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Deprovisioning,
    Stopped,
}

impl LastStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "PROVISIONING",
            Self::Pending => "PENDING",
            Self::Activating => "ACTIVATING",
            Self::Running => "RUNNING",
            Self::Deactivating => "DEACTIVATING",
            Self::Stopping => "STOPPING",
            Self::Deprovisioning => "DEPROVISIONING",
            Self::Stopped => "STOPPED",
        }
    }

    /// Still on its way to RUNNING (ECS counts these as pending).
    pub(crate) fn is_starting(self) -> bool {
        matches!(self, Self::Provisioning | Self::Pending | Self::Activating)
    }

    /// On its way to STOPPED.
    pub(crate) fn is_stopping(self) -> bool {
        matches!(self, Self::Deactivating | Self::Stopping | Self::Deprovisioning)
    }

    /// How long a task stays in this status, as an inclusive range of milliseconds from
    /// which the sandbox draws its jitter; `None` for the resting statuses.
    pub(crate) fn dwell_ms(self) -> Option<(u64, u64)> {
        match self {
            Self::Provisioning => Some((1_000, 2_000)),
            Self::Pending => Some((2_000, 4_000)),
            Self::Activating => Some((1_000, 2_000)),
            Self::Deactivating => Some((1_000, 2_000)),
            Self::Stopping => Some((2_000, 4_000)),
            Self::Deprovisioning => Some((1_000, 2_000)),
            Self::Running | Self::Stopped => None,
        }
    }
}

/// Seconds between a task reaching RUNNING and its health check first passing.
pub(crate) const HEALTHY_AFTER_SECS: i64 = 5;

/// What a task's container will do once its image is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Starts and keeps running.
    Starts,
    /// The essential container exits at once (the sandbox's stand-in for a bad image).
    ExitsOnStart,
}

/// How the sandbox's registry marks the digest of a `broken` tag, so that a deploy pinned
/// to that digest is just as broken.
pub(crate) const BROKEN_DIGEST_PREFIX: &str = "sha256:0bad0bad";

impl Fate {
    /// The sandbox's convention: an image whose reference contains `broken`, or that is
    /// pinned to the digest the sandbox's registry gave a `broken` tag, never starts.
    pub(crate) fn of_image(image: &str) -> Self {
        if image.contains("broken") || image.contains(&format!("@{BROKEN_DIGEST_PREFIX}")) {
            Self::ExitsOnStart
        } else {
            Self::Starts
        }
    }
}

/// What happens when a task's timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The task moves on to this status.
    To(LastStatus),
    /// The essential container exited: the task fails and starts stopping.
    Exits,
}

/// The step a task in `status` takes when its dwell time is over; `None` at rest.
pub(crate) fn step(status: LastStatus, fate: Fate) -> Option<Step> {
    use LastStatus::*;
    match (status, fate) {
        (Provisioning, _) => Some(Step::To(Pending)),
        (Pending, Fate::Starts) => Some(Step::To(Activating)),
        (Pending, Fate::ExitsOnStart) => Some(Step::Exits),
        (Activating, _) => Some(Step::To(Running)),
        (Deactivating, _) => Some(Step::To(Stopping)),
        (Stopping, _) => Some(Step::To(Deprovisioning)),
        (Deprovisioning, _) => Some(Step::To(Stopped)),
        (Running | Stopped, _) => None,
    }
}

/// How many failed tasks trip the deployment circuit breaker: half the desired count,
/// at least 3 and at most 200, as ECS documents it.
pub(crate) fn failure_threshold(desired: u32) -> u32 {
    desired.div_ceil(2).clamp(3, 200)
}

/// Which of a deployment's tasks a scale-in stops, in order: first those that have not yet
/// started (nobody uses them), least advanced first, then running ones, newest first, so
/// the longest-running Shiny sessions survive. Tasks are given as (launch order, status).
pub(crate) fn scale_in_order(tasks: &[(u64, LastStatus)], count: usize) -> Vec<u64> {
    let mut order = tasks.to_vec();
    order.sort_by(|(seq_a, a), (seq_b, b)| a.cmp(b).then(seq_b.cmp(seq_a)));
    order.into_iter().take(count).map(|(seq, _)| seq).collect()
}

#[cfg(test)]
mod tests {
    use super::LastStatus::*;
    use super::*;

    #[test]
    fn a_healthy_task_walks_from_provisioning_to_running_and_stays() {
        let cases = [
            (Provisioning, Some(Step::To(Pending))),
            (Pending, Some(Step::To(Activating))),
            (Activating, Some(Step::To(Running))),
            (Running, None),
        ];
        for (status, want) in cases {
            assert_eq!(step(status, Fate::Starts), want, "{status:?}");
        }
    }

    #[test]
    fn a_broken_image_exits_while_pending_and_every_stop_ends_stopped() {
        assert_eq!(step(Provisioning, Fate::ExitsOnStart), Some(Step::To(Pending)));
        assert_eq!(step(Pending, Fate::ExitsOnStart), Some(Step::Exits));
        let cases = [
            (Deactivating, Some(Step::To(Stopping))),
            (Stopping, Some(Step::To(Deprovisioning))),
            (Deprovisioning, Some(Step::To(Stopped))),
            (Stopped, None),
        ];
        for (status, want) in cases {
            for fate in [Fate::Starts, Fate::ExitsOnStart] {
                assert_eq!(step(status, fate), want, "{status:?} {fate:?}");
            }
        }
        assert_eq!(Fate::of_image("123.dkr.ecr.us-east-1.amazonaws.com/app:broken-1"), Fate::ExitsOnStart);
        assert_eq!(Fate::of_image("rocker/shiny-verse:4.4.1"), Fate::Starts);
        let pinned = format!("123.dkr.ecr.us-east-1.amazonaws.com/app@{BROKEN_DIGEST_PREFIX}{}", "0".repeat(56));
        assert_eq!(Fate::of_image(&pinned), Fate::ExitsOnStart);
    }

    #[test]
    fn only_moving_statuses_have_a_dwell_time_of_a_few_seconds() {
        for status in [Provisioning, Pending, Activating, Deactivating, Stopping, Deprovisioning] {
            let (lo, hi) = status.dwell_ms().expect("a moving status has a dwell time");
            assert!(1_000 <= lo && lo < hi && hi <= 4_000, "{status:?}");
        }
        assert_eq!(Running.dwell_ms(), None);
        assert_eq!(Stopped.dwell_ms(), None);
        assert!(Pending.is_starting() && !Running.is_starting() && Stopping.is_stopping() && !Stopped.is_stopping());
    }

    #[test]
    fn the_circuit_breaker_threshold_is_half_the_desired_count_within_3_and_200() {
        let cases = [(0, 3), (1, 3), (2, 3), (6, 3), (7, 4), (10, 5), (399, 200), (1000, 200)];
        for (desired, want) in cases {
            assert_eq!(failure_threshold(desired), want, "desired {desired}");
        }
    }

    #[test]
    fn scale_in_stops_the_least_started_first_then_the_newest_running() {
        let tasks = [(1, Running), (2, Running), (3, Pending), (4, Running), (5, Provisioning)];
        let cases: [(usize, &[u64]); 4] = [(0, &[]), (1, &[5]), (3, &[5, 3, 4]), (9, &[5, 3, 4, 2, 1])];
        for (count, want) in cases {
            assert_eq!(scale_in_order(&tasks, count), want, "count {count}");
        }
    }
}

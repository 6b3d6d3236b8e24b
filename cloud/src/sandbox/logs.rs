//! The sandbox's CloudWatch Logs, behind the `Logs` port: what a Shiny app's container would
//! have written, made up from what the simulated ECS knows of the task.
//!
//! A task that reached RUNNING logs R's start-up lines when it starts, then, in most
//! five-minute slots of its running time, one Shiny session opening and closing (now and
//! then with a warning in between), until it begins stopping. A task whose `broken` image
//! made its container exit logs R's error for a missing `shiny` package and halts. Every
//! line is a pure function of (seed, task id, slot) and of the task's start and stop, so
//! the lines already written never change, however often and whenever they are read; the
//! clock only decides how many there are.

use super::ecs::TaskLog;
use super::rng::{hash, mix};
use super::Sandbox;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::logs::{task_id_in_stream, LogLine, LogQuery, Logs, MAX_SCANNED};
use domain::CloudError;

/// Each slot of a task's running time holds at most one session.
const SLOT_MS: i64 = 5 * 60 * 1000;
/// The first slot starts this long after the container.
const FIRST_SLOT_AFTER_MS: i64 = 30 * 1000;
/// A session starts within the first minute of its slot and lasts 30 s to 3 min 50 s, so it
/// ends before the next slot begins and lines never interleave.
const SESSION_START_WITHIN_MS: u64 = 60 * 1000;
const SESSION_MIN_MS: u64 = 30 * 1000;
const SESSION_SPREAD_MS: u64 = 200 * 1000;

const WARNINGS: [&str; 2] = [
    "Warning: Error in filter: object 'region' not found",
    "Warning in mean.default(x) : argument is not numeric or logical: returning NA",
];

#[async_trait]
impl Logs for Sandbox {
    async fn tail(&self, query: &LogQuery) -> Result<Vec<LogLine>, CloudError> {
        let found = self.with_ecs(|ecs| {
            let id = task_id_in_stream(query.stream())?;
            let task = ecs.task_log(id).filter(|t| t.log_group == query.group())?;
            Some((id.to_owned(), task, ecs.now()))
        });
        let Some((id, task, now)) = found else {
            return Err(query.not_found());
        };
        let mut lines = newest_first(self.seed, &id, &task, now).take(MAX_SCANNED).peekable();
        if lines.peek().is_none() {
            // awslogs makes the stream when the container first writes to it.
            return Err(query.not_found());
        }
        Ok(lines.filter(|line| query.matches(&line.message)).take(query.limit()).collect())
    }
}

/// Every line the container of task `id` wrote by `now`, newest first.
fn newest_first(seed: u64, id: &str, task: &TaskLog, now: DateTime<Utc>) -> impl Iterator<Item = LogLine> {
    let key = hash(hash(seed, "logs"), id);
    let exit = match (task.exited, task.stopping_at) {
        (true, Some(at)) => vec![
            line(at - Duration::milliseconds(40), "Error in library(shiny) : there is no package called 'shiny'"),
            line(at - Duration::milliseconds(20), "Execution halted"),
        ],
        _ => Vec::new(),
    };
    let (startup, slots, base, end) = match task.started_at {
        Some(t0) => {
            let startup = vec![
                line(t0, "Loading required package: shiny"),
                line(t0 + Duration::milliseconds(1_200), &format!("Listening on http://0.0.0.0:{}", task.port)),
            ];
            let base = t0 + Duration::milliseconds(FIRST_SLOT_AFTER_MS);
            let end = task.stopping_at.map_or(now, |stop| stop.min(now));
            let slots = if end >= base { (end - base).num_milliseconds() / SLOT_MS + 1 } else { 0 };
            (startup, slots, base, end)
        }
        None => (Vec::new(), 0, now, now),
    };
    let sessions = (0..slots).rev().flat_map(move |k| session(key, base, k).into_iter().rev());
    exit.into_iter()
        .rev()
        .chain(sessions.chain(startup.into_iter().rev()).filter(move |line| line.at <= end))
        .filter(move |line| line.at <= now)
}

/// The lines of slot `k`'s session, oldest first; none when the slot is quiet (one in four).
fn session(key: u64, base: DateTime<Utc>, k: i64) -> Vec<LogLine> {
    let h = mix(key ^ mix(k as u64));
    if h.is_multiple_of(4) {
        return Vec::new();
    }
    let ms = |n: u64| Duration::milliseconds(i64::try_from(n).unwrap_or(0));
    let start = base + Duration::milliseconds(SLOT_MS * k) + ms((h >> 8) % SESSION_START_WITHIN_MS);
    let length = SESSION_MIN_MS + (h >> 24) % SESSION_SPREAD_MS;
    let id = format!("{:08x}", h >> 32);
    let mut lines = vec![line(start, &format!("Session {id} started"))];
    let warn = mix(h);
    if warn.is_multiple_of(6) {
        lines.push(line(start + ms(length / 2), WARNINGS[(warn >> 32) as usize % WARNINGS.len()]));
    }
    lines.push(line(start + ms(length), &format!("Session {id} ended")));
    lines
}

fn line(at: DateTime<Utc>, message: &str) -> LogLine {
    LogLine { at, message: message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::super::ManualClock;
    use super::*;
    use chrono::TimeZone;
    use domain::fleet::{Fleet, ServiceSpec, TaskDefinitionSpec, TaskFilter, TaskInfo};
    use domain::logs::stream_for;
    use domain::Architecture;
    use std::sync::Arc;

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 3, 8, 0, 0).single().expect("a valid instant")
    }

    struct World {
        clock: Arc<ManualClock>,
        sandbox: Arc<Sandbox>,
    }

    fn world(seed: u64) -> World {
        let clock = ManualClock::new(start());
        World { sandbox: Sandbox::new(clock.clone(), seed), clock }
    }

    impl World {
        fn advance(&self, secs: i64) {
            self.clock.advance(Duration::seconds(secs));
        }

        /// Runs `desired` tasks of `image` as the service `name` (its log group
        /// `/shinyfleet/<name>`, port 8080).
        async fn deploy(&self, name: &str, image: &str, desired: u32) {
            let spec = TaskDefinitionSpec {
                family: name.to_owned(),
                image: image.to_owned(),
                cpu: 256,
                memory: 512,
                architecture: Architecture::X86_64,
                container_port: 8080,
                environment: vec![],
                task_role_arn: None,
                execution_role_arn: None,
                health_check_command: None,
                log_group: format!("/shinyfleet/{name}"),
                log_region: "us-east-1".to_owned(),
                tags: vec![],
            };
            let td = self.sandbox.register_task_definition(&spec).await.expect("registered");
            let service = ServiceSpec {
                name: name.to_owned(),
                task_definition: td.arn,
                desired_count: desired,
                subnets: vec!["subnet-1".to_owned()],
                security_groups: vec!["sg-1".to_owned()],
                assign_public_ip: true,
                target_group_arn: None,
                health_check_grace_period_secs: None,
                container_port: 8080,
                tags: vec![],
            };
            self.sandbox.create_service(&service).await.expect("created");
        }

        async fn tasks(&self, name: &str, filter: TaskFilter) -> Vec<TaskInfo> {
            let arns = self.sandbox.list_tasks(name, filter).await.expect("listed");
            self.sandbox.describe_tasks(&arns).await.expect("described")
        }

        async fn tail(&self, name: &str, task_arn: &str, limit: usize, filter: Option<&str>) -> Vec<LogLine> {
            self.try_tail(&format!("/shinyfleet/{name}"), task_arn, limit, filter).await.expect("a tail")
        }

        async fn try_tail(
            &self,
            group: &str,
            task_arn: &str,
            limit: usize,
            filter: Option<&str>,
        ) -> Result<Vec<LogLine>, CloudError> {
            let query = LogQuery::for_task(group, task_arn, limit, filter).expect("a valid query");
            self.sandbox.tail(&query).await
        }
    }

    fn messages(lines: &[LogLine]) -> Vec<&str> {
        lines.iter().map(|l| l.message.as_str()).collect()
    }

    fn assert_newest_first(lines: &[LogLine]) {
        assert!(lines.windows(2).all(|w| w[0].at >= w[1].at), "not newest first: {lines:#?}");
    }

    #[tokio::test]
    async fn a_running_task_logs_shiny_start_up_then_sessions_newest_first_within_its_lifetime() {
        let w = world(7);
        w.deploy("census", "rocker/shiny-verse:4.4.1", 1).await;
        w.advance(2 * 60 * 60);
        let task = w.tasks("census", TaskFilter::Running).await.remove(0);
        let started = task.started_at.expect("the task is running");

        let lines = w.tail("census", &task.arn, 500, None).await;
        assert_newest_first(&lines);
        let oldest_two: Vec<_> = messages(&lines).into_iter().rev().take(2).collect();
        assert_eq!(oldest_two, ["Loading required package: shiny", "Listening on http://0.0.0.0:8080"]);
        assert_eq!(lines.last().map(|l| l.at), Some(started));
        let now = start() + Duration::hours(2);
        assert!(lines.iter().all(|l| started <= l.at && l.at <= now), "{lines:#?}");
        assert!(
            lines.iter().all(|l| l.at.timestamp_subsec_nanos() % 1_000_000 == 0),
            "whole milliseconds, as CloudWatch"
        );

        let opened = lines.iter().filter(|l| l.message.ends_with(" started")).count();
        let closed = lines.iter().filter(|l| l.message.ends_with(" ended")).count();
        assert!((12..=24).contains(&opened), "about one session per five minutes in two hours, got {opened}");
        assert!(closed == opened || closed + 1 == opened, "{opened} opened, {closed} closed");
        for session in lines.iter().filter(|l| l.message.starts_with("Session ")) {
            let words: Vec<_> = session.message.split(' ').collect();
            assert!(words.len() == 3 && words[1].len() == 8 && ["started", "ended"].contains(&words[2]), "{session:?}");
        }
    }

    #[tokio::test]
    async fn the_limit_keeps_the_newest_lines_and_the_filter_ignores_case() {
        let w = world(7);
        w.deploy("census", "rocker/shiny-verse:4.4.1", 1).await;
        w.advance(6 * 60 * 60);
        let arn = w.tasks("census", TaskFilter::Running).await.remove(0).arn;

        let all = w.tail("census", &arn, 500, None).await;
        let newest = w.tail("census", &arn, 5, None).await;
        assert_eq!(newest, all[..5]);

        let ended = w.tail("census", &arn, 500, Some("ENDED")).await;
        assert!(!ended.is_empty() && ended.iter().all(|l| l.message.ends_with(" ended")), "{ended:#?}");
        let want: Vec<_> = all.iter().filter(|l| l.message.ends_with(" ended")).cloned().collect();
        assert_eq!(ended[..want.len()], want[..], "the same lines, filtered");
        assert_newest_first(&ended);

        let warnings = w.tail("census", &arn, 500, Some("warning")).await;
        assert!(!warnings.is_empty(), "six hours of sessions log a warning now and then");
        assert!(w.tail("census", &arn, 500, Some("no such text")).await.is_empty());
    }

    #[tokio::test]
    async fn lines_once_written_never_change_and_the_same_seed_writes_the_same_lines() {
        let (a, b, other) = (world(3), world(3), world(4));
        for w in [&a, &b, &other] {
            w.deploy("census", "rocker/shiny-verse:4.4.1", 1).await;
            w.advance(60 * 60);
        }
        let arn = a.tasks("census", TaskFilter::Running).await.remove(0).arn;
        let earlier = a.tail("census", &arn, 500, None).await;
        assert_eq!(b.tail("census", &arn, 500, None).await, earlier);
        let other_arn = other.tasks("census", TaskFilter::Running).await.remove(0).arn;
        assert_ne!(messages(&other.tail("census", &other_arn, 500, None).await), messages(&earlier));

        a.advance(60 * 60);
        let later = a.tail("census", &arn, 500, None).await;
        let cutoff = start() + Duration::hours(1);
        let old_part: Vec<_> = later.into_iter().filter(|l| l.at <= cutoff).collect();
        assert_eq!(old_part, earlier);
    }

    #[tokio::test]
    async fn a_stopped_task_logs_nothing_after_it_began_stopping() {
        let w = world(5);
        w.deploy("census", "rocker/shiny-verse:4.4.1", 1).await;
        w.advance(90 * 60);
        let arn = w.tasks("census", TaskFilter::Running).await.remove(0).arn;
        w.sandbox.stop_task(&arn, "").await.expect("stopped");
        let stopping = start() + Duration::minutes(90);
        w.advance(30 * 60);

        let lines = w.tail("census", &arn, 500, None).await;
        assert!(lines.len() > 10, "{lines:#?}");
        assert!(lines.iter().all(|l| l.at <= stopping), "{lines:#?}");
    }

    #[tokio::test]
    async fn a_broken_image_logs_the_missing_shiny_package_and_halts() {
        let w = world(9);
        w.deploy("census", "acme/census:broken", 1).await;
        w.advance(30);
        let failed = w.tasks("census", TaskFilter::Stopped).await;
        let task = failed.first().expect("a task failed to start");
        assert_eq!(task.stop_code.as_deref(), Some("EssentialContainerExited"));
        let stopping = task.stopping_at.expect("the task stopped");

        let lines = w.tail("census", &task.arn, 500, None).await;
        assert_eq!(
            messages(&lines),
            ["Execution halted", "Error in library(shiny) : there is no package called 'shiny'"]
        );
        let created = task.created_at.expect("a creation time");
        assert!(lines.iter().all(|l| created < l.at && l.at < stopping), "{lines:#?}");
        let errors = w.tail("census", &task.arn, 500, Some("error in library")).await;
        assert_eq!(messages(&errors), ["Error in library(shiny) : there is no package called 'shiny'"]);
    }

    #[tokio::test]
    async fn an_unknown_task_another_group_or_a_task_not_started_yet_has_no_stream() {
        let w = world(1);
        w.deploy("census", "rocker/shiny-verse:4.4.1", 1).await;
        let arn = w.tasks("census", TaskFilter::Running).await.remove(0).arn;
        let not_found = |group: &str, arn: &str| -> Result<Vec<LogLine>, CloudError> {
            Err(LogQuery::for_task(group, arn, 10, None).expect("a valid query").not_found())
        };

        assert_eq!(w.try_tail("/shinyfleet/census", &arn, 10, None).await, not_found("/shinyfleet/census", &arn));
        w.advance(60);
        assert!(w.try_tail("/shinyfleet/census", &arn, 10, None).await.is_ok());
        assert_eq!(w.try_tail("/shinyfleet/births", &arn, 10, None).await, not_found("/shinyfleet/births", &arn));
        let unknown = format!("arn:aws:ecs:us-east-1:000000000000:task/shinyfleet-sandbox/{}", "0".repeat(32));
        assert_eq!(
            w.try_tail("/shinyfleet/census", &unknown, 10, None).await,
            not_found("/shinyfleet/census", &unknown)
        );

        let other_stream = LogQuery::new("/shinyfleet/census", "ecs/other/abc", 10, None).expect("a valid query");
        assert_eq!(w.sandbox.tail(&other_stream).await, Err(other_stream.not_found()));
        assert_eq!(stream_for(&arn).map(|s| s.starts_with("shiny/shiny/")), Ok(true));
    }

    #[test]
    fn a_task_running_for_a_year_gives_its_newest_lines_in_order() {
        let task = TaskLog {
            log_group: "/shinyfleet/census".to_owned(),
            port: 3838,
            started_at: Some(start()),
            stopping_at: None,
            exited: false,
        };
        let now = start() + Duration::days(400);
        let newest: Vec<_> = newest_first(1, "abc", &task, now).take(MAX_SCANNED).collect();
        assert_eq!(newest.len(), MAX_SCANNED);
        assert_newest_first(&newest);
        assert!(newest.iter().all(|l| l.at <= now) && newest[0].at > now - Duration::minutes(10), "{:?}", newest[0]);
    }
}

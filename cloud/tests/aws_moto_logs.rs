//! [`CloudWatchLogs`] against moto's server: streams filled with the raw CloudWatch Logs
//! client (`PutLogEvents`, one event a second), then tailed through the port. These check
//! the request shape and moto's reading of `startFromHead=false` and `nextBackwardToken`,
//! including the end of a stream (the token handed back unchanged) and a filtered tail that
//! needs several pages. Each test makes its own log group, so the tests share one server and
//! run in parallel.
//!
//! Run with `cargo test -p cloud --test aws_moto_logs` (moto starts by itself; set
//! `MOTO_ENDPOINT` to use a running one).

mod support;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use chrono::{Duration, DurationRound, Utc};
use cloud::aws::CloudWatchLogs;
use domain::logs::{LogLine, LogQuery, Logs};
use domain::CloudError;
use support::moto::{self, unique};

/// A task ARN of the format ECS uses, with an id of its own.
fn task_arn() -> String {
    let id: String = unique("t").bytes().map(|b| format!("{b:02x}")).collect();
    format!("arn:aws:ecs:us-east-1:123456789012:task/shinyfleet/{id:0>32}")
}

/// A task's stream in a group of its own, holding `messages` written a little over a second
/// apart (so milliseconds show), the last one about a minute ago (CloudWatch refuses events
/// too far in the past or the future).
struct Stream {
    logs: CloudWatchLogs,
    group: String,
    task: String,
    /// What was written, oldest first.
    written: Vec<LogLine>,
}

async fn stream(messages: impl IntoIterator<Item = String>) -> Stream {
    let config = moto::sdk_config().await;
    let raw = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = format!("/shinyfleet/{}", unique("sales"));
    let task = task_arn();
    let name = domain::logs::stream_for(&task).expect("a valid task ARN");
    raw.create_log_group().log_group_name(&group).send().await.expect("group created");
    raw.create_log_stream().log_group_name(&group).log_stream_name(&name).send().await.expect("stream created");

    let messages: Vec<String> = messages.into_iter().collect();
    let last = Utc::now().duration_trunc(Duration::seconds(1)).expect("a whole second") - Duration::minutes(1);
    let first = last - Duration::seconds(i64::try_from(messages.len()).expect("a small count") * 2);
    let written: Vec<LogLine> = messages
        .into_iter()
        .enumerate()
        .map(|(i, message)| LogLine { at: first + Duration::milliseconds(i as i64 * 1_001 + 7), message })
        .collect();
    for batch in written.chunks(5_000) {
        let events = batch.iter().map(|line| {
            InputLogEvent::builder()
                .timestamp(line.at.timestamp_millis())
                .message(&line.message)
                .build()
                .expect("a complete event")
        });
        let out = raw
            .put_log_events()
            .log_group_name(&group)
            .log_stream_name(&name)
            .set_log_events(Some(events.collect()))
            .send()
            .await
            .expect("events written");
        // Events too old or too new are refused in the answer, not with an error.
        assert_eq!(out.rejected_log_events_info(), None, "every event is kept");
    }
    Stream { logs: CloudWatchLogs::new(&config), group, task, written }
}

impl Stream {
    async fn tail(&self, limit: usize, filter: Option<&str>) -> Result<Vec<LogLine>, CloudError> {
        let query = LogQuery::for_task(&self.group, &self.task, limit, filter).expect("a valid query");
        self.logs.tail(&query).await
    }

    /// What a tail should give: the newest `limit` written lines `keep` accepts, newest first.
    fn newest(&self, limit: usize, keep: impl Fn(&str) -> bool) -> Vec<LogLine> {
        self.written.iter().rev().filter(|l| keep(&l.message)).take(limit).cloned().collect()
    }
}

/// Shiny-like lines: `n` of them, every seventh a warning.
fn shiny_lines(n: usize) -> impl Iterator<Item = String> {
    (0..n).map(|i| {
        if i % 7 == 3 {
            format!("Warning: Error in filter: object 'region{i}' not found")
        } else {
            format!("Session {i:08x} started")
        }
    })
}

#[tokio::test]
async fn the_newest_lines_come_first_up_to_the_limit() {
    let stream = stream(shiny_lines(300)).await;

    let newest = stream.tail(50, None).await.expect("a tail");
    assert_eq!(newest, stream.newest(50, |_| true));
    assert_eq!(newest[0].message, "Session 0000012b started");

    let one = stream.tail(1, None).await.expect("a tail");
    assert_eq!(one, stream.newest(1, |_| true));
}

#[tokio::test]
async fn a_short_stream_is_read_back_to_its_first_line() {
    let stream = stream(shiny_lines(30)).await;
    let all = stream.tail(500, None).await.expect("a tail");
    assert_eq!(all.len(), 30);
    assert_eq!(all, stream.newest(500, |_| true));
}

#[tokio::test]
async fn the_filter_is_a_case_insensitive_substring() {
    let stream = stream(shiny_lines(300)).await;
    let warnings = stream.tail(20, Some("error IN FILTER")).await.expect("a tail");
    assert_eq!(warnings.len(), 20);
    assert_eq!(warnings, stream.newest(20, |m| m.contains("Error in filter")));

    let every_one = stream.tail(500, Some("warning")).await.expect("a tail");
    assert_eq!(every_one, stream.newest(500, |m| m.starts_with("Warning")));
    assert_eq!(every_one.len(), 43);

    assert_eq!(stream.tail(10, Some("no such text")).await, Ok(vec![]));
}

#[tokio::test]
async fn a_filtered_tail_pages_back_to_old_matches() {
    let old = ["Loading required package: shiny".to_owned(), "Listening on http://0.0.0.0:3838".to_owned()];
    let stream = stream(old.into_iter().chain(shiny_lines(2_500).filter(|m| !m.starts_with("Warning")))).await;
    let found = stream.tail(10, Some("listening on")).await.expect("a tail");
    assert_eq!(found, stream.newest(10, |m| m.starts_with("Listening")));
    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn an_empty_stream_has_no_lines() {
    let stream = stream(Vec::new()).await;
    assert_eq!(stream.tail(100, None).await, Ok(vec![]));
    assert_eq!(stream.tail(100, Some("error")).await, Ok(vec![]));
}

#[tokio::test]
async fn a_missing_stream_or_group_is_not_found() {
    let stream = stream(shiny_lines(3)).await;
    let logs = &stream.logs;

    let other_task = LogQuery::for_task(&stream.group, &task_arn(), 10, None).expect("a valid query");
    assert_eq!(logs.tail(&other_task).await, Err(other_task.not_found()));

    let other_group =
        LogQuery::for_task(&format!("/shinyfleet/{}", unique("gone")), &stream.task, 10, None).expect("a valid query");
    assert_eq!(logs.tail(&other_group).await, Err(other_group.not_found()));
}

//! [`CloudWatchLogs`] against `aws-smithy-mocks`: the paging moto cannot show (pages cut
//! short as CloudWatch's 1 MB cap cuts them, an empty page before the end, a stream longer
//! than a tail may search), and the failures it cannot produce (throttling, server errors,
//! access denied). A small fake stream answers `GetLogEvents` the way CloudWatch does:
//! newest page first, each page oldest event first, and the end of the stream signalled by
//! handing back the token it was given.
//!
//! Run with `cargo test -p cloud --test aws_mocks_logs`.

use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::operation::get_log_events::{GetLogEventsError, GetLogEventsInput, GetLogEventsOutput};
use aws_sdk_cloudwatchlogs::types::error::{ResourceNotFoundException, ServiceUnavailableException};
use aws_sdk_cloudwatchlogs::types::OutputLogEvent;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use chrono::{DateTime, Duration, TimeZone, Utc};
use cloud::aws::CloudWatchLogs;
use domain::logs::{LogLine, LogQuery, Logs};
use domain::CloudError;
use std::sync::{Arc, Mutex};

const GROUP: &str = "/shinyfleet/sales";
const TASK: &str = "arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/0123456789abcdef0123456789abcdef";
const STREAM: &str = "shiny/shiny/0123456789abcdef0123456789abcdef";

fn query(limit: usize, filter: Option<&str>) -> LogQuery {
    LogQuery::for_task(GROUP, TASK, limit, filter).expect("a valid query")
}

fn logs(rules: &[&Rule]) -> CloudWatchLogs {
    let client =
        mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, rules, |c| c.retry_config(RetryConfig::disabled()));
    CloudWatchLogs::from_client(client)
}

fn http_status(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(StatusCode::try_from(status).expect("a valid status"), SdkBody::from(body))
}

/// When event `i` of a fake stream was written: one a second from noon.
fn at(i: usize) -> DateTime<Utc> {
    let noon = Utc.with_ymd_and_hms(2025, 3, 3, 12, 0, 0).single().expect("a valid instant");
    noon + Duration::seconds(i64::try_from(i).expect("a small index"))
}

/// Event `i` of a fake stream: every hundredth says "Error", the others "Session".
fn message(i: usize) -> String {
    if i.is_multiple_of(100) {
        format!("Error in render: event {i}")
    } else {
        format!("Session event {i}")
    }
}

/// Lines `from..to` of a fake stream, newest first: what a tail of them should give.
fn newest(from: usize, to: usize) -> Vec<LogLine> {
    (from..to).rev().map(|i| LogLine { at: at(i), message: message(i) }).collect()
}

/// A stream of `len` events answering at most `cap` per page (CloudWatch stops a page at
/// 1 MB whatever the limit), its backward tokens `b/<index of the page's oldest event>`.
/// Every request is recorded.
fn stream(len: usize, cap: usize, requests: &Arc<Mutex<Vec<GetLogEventsInput>>>) -> Rule {
    let requests = requests.clone();
    mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_compute_output(move |input: &GetLogEventsInput| {
        requests.lock().expect("an unpoisoned lock").push(input.clone());
        let end = match input.next_token() {
            None => len,
            Some(token) => token.strip_prefix("b/").and_then(|i| i.parse().ok()).expect("a token this stream made"),
        };
        let wanted = usize::try_from(input.limit().unwrap_or(10_000)).expect("a positive limit");
        let start = end.saturating_sub(wanted.min(cap));
        let events = (start..end).map(|i| {
            let millis = at(i).timestamp_millis();
            OutputLogEvent::builder().timestamp(millis).message(message(i)).ingestion_time(millis + 5).build()
        });
        GetLogEventsOutput::builder()
            .set_events(Some(events.collect()))
            .next_backward_token(format!("b/{start}"))
            .next_forward_token(format!("f/{end}"))
            .build()
    })
}

fn recorder() -> Arc<Mutex<Vec<GetLogEventsInput>>> {
    Arc::new(Mutex::new(Vec::new()))
}

/// The token, limit and direction of each recorded request.
fn asked(requests: &Arc<Mutex<Vec<GetLogEventsInput>>>) -> Vec<(Option<String>, Option<i32>, Option<bool>)> {
    let requests = requests.lock().expect("an unpoisoned lock");
    requests.iter().map(|r| (r.next_token().map(str::to_owned), r.limit(), r.start_from_head())).collect()
}

#[tokio::test]
async fn pages_are_read_backwards_from_the_end_until_the_limit_is_reached() {
    let requests = recorder();
    let logs = logs(&[&stream(1_000, 100, &requests)]);

    assert_eq!(logs.tail(&query(250, None)).await, Ok(newest(750, 1_000)));
    assert_eq!(
        asked(&requests),
        [
            (None, Some(250), Some(false)),
            (Some("b/900".into()), Some(250), Some(false)),
            (Some("b/800".into()), Some(250), Some(false)),
        ]
    );
    let first = requests.lock().expect("an unpoisoned lock")[0].clone();
    assert_eq!((first.log_group_name(), first.log_stream_name()), (Some(GROUP), Some(STREAM)));
}

#[tokio::test]
async fn the_token_handed_back_unchanged_ends_the_stream() {
    let requests = recorder();
    let logs = logs(&[&stream(150, 100, &requests)]);

    assert_eq!(logs.tail(&query(500, None)).await, Ok(newest(0, 150)));
    let tokens: Vec<_> = asked(&requests).into_iter().map(|(token, _, _)| token).collect();
    assert_eq!(tokens, [None, Some("b/50".into()), Some("b/0".into())]);
}

#[tokio::test]
async fn an_empty_page_before_the_end_is_not_the_end() {
    // Events 8–9, then an empty page, then events 3–4, then the end (token b/3 handed back).
    let rule =
        mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_compute_output(|input: &GetLogEventsInput| {
            let (events, token): (&[usize], &str) = match input.next_token() {
                None => (&[8, 9], "b/8"),
                Some("b/8") => (&[], "b/5"),
                Some("b/5") => (&[3, 4], "b/3"),
                _ => (&[], "b/3"),
            };
            let events = events
                .iter()
                .map(|&i| OutputLogEvent::builder().timestamp(at(i).timestamp_millis()).message(message(i)).build());
            GetLogEventsOutput::builder().set_events(Some(events.collect())).next_backward_token(token).build()
        });

    let lines = logs(&[&rule]).tail(&query(500, None)).await;
    let want: Vec<_> = [9, 8, 4, 3].map(|i| LogLine { at: at(i), message: message(i) }).into();
    assert_eq!(lines, Ok(want));
    assert_eq!(rule.num_calls(), 4);
}

#[tokio::test]
async fn a_filter_reads_large_pages_and_keeps_only_matching_lines() {
    let requests = recorder();
    let logs = logs(&[&stream(5_000, 10_000, &requests)]);

    let errors = logs.tail(&query(3, Some("ERROR IN"))).await;
    let want: Vec<_> = [4_900, 4_800, 4_700].map(|i| LogLine { at: at(i), message: message(i) }).into();
    assert_eq!(errors, Ok(want));
    assert_eq!(asked(&requests), [(None, Some(1_000), Some(false))]);
}

#[tokio::test]
async fn a_filtered_tail_searches_the_newest_ten_thousand_events_and_no_further() {
    // 20,000 events; only events 10,000 and 9,999 contain "needle".
    let requests = recorder();
    let rule = {
        let requests = requests.clone();
        mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_compute_output(move |input: &GetLogEventsInput| {
            requests.lock().expect("an unpoisoned lock").push(input.clone());
            let end: usize = input.next_token().and_then(|t| t.strip_prefix("b/")?.parse().ok()).unwrap_or(20_000);
            let start = end.saturating_sub(1_000);
            let events = (start..end).map(|i| {
                let text = if i == 10_000 || i == 9_999 { format!("needle {i}") } else { format!("hay {i}") };
                OutputLogEvent::builder().timestamp(at(i).timestamp_millis()).message(text).build()
            });
            GetLogEventsOutput::builder()
                .set_events(Some(events.collect()))
                .next_backward_token(format!("b/{start}"))
                .build()
        })
    };

    let found = logs(&[&rule]).tail(&query(10, Some("needle"))).await;
    assert_eq!(found, Ok(vec![LogLine { at: at(10_000), message: "needle 10000".into() }]));
    assert_eq!(rule.num_calls(), 10, "ten pages of a thousand, then no more");
}

#[tokio::test]
async fn an_event_without_a_timestamp_is_skipped() {
    let rule =
        mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_compute_output(|input: &GetLogEventsInput| {
            let page = GetLogEventsOutput::builder().next_backward_token("b/0");
            match input.next_token() {
                None => page
                    .events(OutputLogEvent::builder().timestamp(at(1).timestamp_millis()).message("kept").build())
                    .events(OutputLogEvent::builder().message("no timestamp").build())
                    .build(),
                Some(_) => page.build(),
            }
        });
    let lines = logs(&[&rule]).tail(&query(10, None)).await;
    assert_eq!(lines, Ok(vec![LogLine { at: at(1), message: "kept".into() }]));
}

#[tokio::test]
async fn throttling_is_reported_as_throttled() {
    let modeled = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_error(|| {
        GetLogEventsError::generic(
            ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build(),
        )
    });
    assert_eq!(logs(&[&modeled]).tail(&query(10, None)).await, Err(CloudError::Throttled));

    let on_the_wire = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events)
        .then_http_response(|| http_status(400, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#));
    assert_eq!(logs(&[&on_the_wire]).tail(&query(10, None)).await, Err(CloudError::Throttled));
}

#[tokio::test]
async fn server_errors_are_reported_as_unavailable() {
    let modeled = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_error(|| {
        GetLogEventsError::ServiceUnavailableException(
            ServiceUnavailableException::builder().message("internal detail").build(),
        )
    });
    let failed = logs(&[&modeled]).tail(&query(10, None)).await;
    assert!(matches!(failed, Err(CloudError::Unavailable(ref m)) if !m.contains("internal detail")), "{failed:?}");

    let on_the_wire = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_http_response(|| {
        http_status(400, r#"{"__type":"ServiceUnavailableException","message":"internal detail"}"#)
    });
    assert_eq!(
        logs(&[&on_the_wire]).tail(&query(10, None)).await,
        Err(CloudError::Unavailable("the service failed (HTTP 400)".into()))
    );

    let gateway = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events)
        .then_http_response(|| http_status(503, "<html>busy</html>"));
    assert_eq!(
        logs(&[&gateway]).tail(&query(10, None)).await,
        Err(CloudError::Unavailable("the service failed (HTTP 503)".into()))
    );
}

#[tokio::test]
async fn a_missing_group_or_stream_is_not_found_by_name() {
    let missing = CloudError::NotFound(format!("log stream {STREAM} in group {GROUP}"));

    let modeled = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_error(|| {
        GetLogEventsError::ResourceNotFoundException(
            ResourceNotFoundException::builder().message("The specified log group does not exist.").build(),
        )
    });
    assert_eq!(logs(&[&modeled]).tail(&query(10, None)).await, Err(missing.clone()));

    let on_the_wire = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_http_response(|| {
        http_status(
            400,
            r#"{"__type":"ResourceNotFoundException","message":"The specified log stream does not exist."}"#,
        )
    });
    assert_eq!(logs(&[&on_the_wire]).tail(&query(10, None)).await, Err(missing));
}

#[tokio::test]
async fn a_refusal_is_invalid_with_the_services_message() {
    let denied = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events).then_http_response(|| {
        http_status(400, r#"{"__type":"AccessDeniedException","message":"not allowed to read /shinyfleet/sales"}"#)
    });
    assert_eq!(
        logs(&[&denied]).tail(&query(10, None)).await,
        Err(CloudError::Invalid("not allowed to read /shinyfleet/sales".into()))
    );
}

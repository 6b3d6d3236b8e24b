//! [`CloudWatchLogs`]: the `Logs` port on Amazon CloudWatch Logs, reading a task's stream
//! backwards from its end with `GetLogEvents`.
//!
//! The first call asks for the newest events (`startFromHead=false`); each answer holds one
//! page, oldest event first, and a `nextBackwardToken` for the page before it. The adapter
//! walks the pages newest first, keeps the lines the query's filter matches, and stops once
//! it has `limit` lines, has searched [`MAX_SCANNED`] events, has read [`MAX_PAGES`] pages, or
//! CloudWatch hands back the token it was given, which is how it says the stream has no
//! earlier events. An empty page is not the end: CloudWatch may answer one mid-stream.
//!
//! Without a filter a page holds `limit` events, so one call usually suffices; with one, a
//! page holds [`FILTERED_PAGE`] events, so the [`MAX_PAGES`] pages cover [`MAX_SCANNED`].
//! CloudWatch also caps a page at 1 MB, so with long lines fewer events are searched. The
//! SDK's own paginator is not used: it follows `nextForwardToken`, towards newer events.

use crate::aws::error::from_sdk;
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::error::SdkError;
use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsError;
use aws_sdk_cloudwatchlogs::types::OutputLogEvent;
use aws_sdk_cloudwatchlogs::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use chrono::DateTime;
use domain::logs::{LogLine, LogQuery, Logs, MAX_SCANNED};
use domain::CloudError;

const GET_LOG_EVENTS: &str = "GetLogEvents";

/// The most `GetLogEvents` calls one tail makes.
const MAX_PAGES: usize = 10;

/// Events asked for per page when a filter is set.
const FILTERED_PAGE: usize = MAX_SCANNED / MAX_PAGES;

/// CloudWatch Logs, for the streams of any group the credentials may read.
#[derive(Debug, Clone)]
pub struct CloudWatchLogs {
    client: Client,
}

impl CloudWatchLogs {
    /// An adapter using the shared SDK configuration.
    pub fn new(config: &SdkConfig) -> Self {
        Self::from_client(Client::new(config))
    }

    /// An adapter around a ready client (a mocked one in tests).
    pub fn from_client(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Logs for CloudWatchLogs {
    async fn tail(&self, query: &LogQuery) -> Result<Vec<LogLine>, CloudError> {
        let page = if query.filter().is_some() { FILTERED_PAGE } else { query.limit() };
        let page = i32::try_from(page).unwrap_or(i32::MAX);
        let mut lines = Vec::new();
        let mut scanned = 0;
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let out = self
                .client
                .get_log_events()
                .log_group_name(query.group())
                .log_stream_name(query.stream())
                .start_from_head(false)
                .limit(page)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|err| get_error(query, err))?;
            for event in out.events().iter().rev() {
                if scanned == MAX_SCANNED {
                    return Ok(lines);
                }
                scanned += 1;
                let Some(line) = line(event) else { continue };
                if query.matches(&line.message) {
                    lines.push(line);
                    if lines.len() == query.limit() {
                        return Ok(lines);
                    }
                }
            }
            match out.next_backward_token() {
                Some(next) if !next.is_empty() && token.as_deref() != Some(next) => token = Some(next.to_owned()),
                _ => return Ok(lines),
            }
        }
        tracing::debug!(group = query.group(), stream = query.stream(), scanned, "GetLogEvents: page limit reached");
        Ok(lines)
    }
}

/// An event as a line; `None` for one without the timestamp CloudWatch always sets.
fn line(event: &OutputLogEvent) -> Option<LogLine> {
    let Some(at) = event.timestamp().and_then(DateTime::from_timestamp_millis) else {
        tracing::warn!(timestamp = event.timestamp(), "GetLogEvents: an event without a usable timestamp, skipped");
        return None;
    };
    Some(LogLine { at, message: event.message().unwrap_or_default().to_owned() })
}

/// A missing group or stream is named after the query; CloudWatch Logs' own "unavailable"
/// code is transient (the shared mapping knows only the other services' codes); anything
/// else takes the shared mapping.
fn get_error(query: &LogQuery, err: SdkError<GetLogEventsError, HttpResponse>) -> CloudError {
    match err.as_service_error() {
        Some(GetLogEventsError::ResourceNotFoundException(_)) => {
            tracing::debug!(group = query.group(), stream = query.stream(), "GetLogEvents: no such group or stream");
            query.not_found()
        }
        Some(GetLogEventsError::ServiceUnavailableException(_)) => {
            let status = err.raw_response().map_or(0, |r| r.status().as_u16());
            tracing::warn!(operation = GET_LOG_EVENTS, status, "CloudWatch Logs is unavailable");
            CloudError::Unavailable(format!("the service failed (HTTP {status})"))
        }
        _ => from_sdk(GET_LOG_EVENTS, err),
    }
}

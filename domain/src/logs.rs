//! The `Logs` port: the last lines an app's container wrote, read from CloudWatch Logs, so an
//! admin can see why a task failed or what it is doing without an AWS console.
//!
//! Every task definition ShinyFleet registers logs with the `awslogs` driver to the app's
//! group (`/shinyfleet/<slug>`, [`AppDefinition::log_group`](crate::AppDefinition::log_group))
//! with stream prefix [`LOG_STREAM_PREFIX`], and its one container is [`CONTAINER_NAME`], so
//! a task writes to the stream [`stream_for`] names: `shiny/shiny/<task id>`.
//!
//! A filter is a plain, case-insensitive substring, applied by ShinyFleet (see
//! [`LogQuery::matches`]) to the newest events read backwards from the end of the stream.
//! CloudWatch's own `FilterLogEvents` was not used: its patterns are case-sensitive terms
//! rather than substrings, and it reads forwards from the oldest event, so "the last N
//! matches" would mean reading the whole stream. The price is a bound: only the newest
//! [`MAX_SCANNED`] events are searched.

use crate::{CloudError, ValidationError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The name of the app's container in every task definition ShinyFleet registers.
pub const CONTAINER_NAME: &str = "shiny";

/// The `awslogs-stream-prefix` of every task definition ShinyFleet registers.
pub const LOG_STREAM_PREFIX: &str = "shiny";

/// The most lines one [`Logs::tail`] returns.
pub const MAX_LIMIT: usize = 500;

/// The most events one [`Logs::tail`] searches, newest first, for lines matching a filter.
pub const MAX_SCANNED: usize = 10_000;

/// The longest filter text accepted, in characters.
pub const MAX_FILTER_CHARS: usize = 200;

/// One line the container wrote, with the time CloudWatch recorded for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub message: String,
}

/// What to read: a stream of a group, how many lines at most, and which ones. Only
/// [`LogQuery::new`] and [`LogQuery::for_task`] make one, so its limit and filter are valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    group: String,
    stream: String,
    limit: usize,
    /// As given, trimmed; `None` when blank.
    filter: Option<String>,
    /// The filter in lower case, which messages in lower case are searched for.
    needle: Option<String>,
}

impl LogQuery {
    /// A query for `stream` in `group`: at most `limit` lines (1 to [`MAX_LIMIT`]), only
    /// those containing `filter` (ignoring case; blank means every line, at most
    /// [`MAX_FILTER_CHARS`] characters). Group and stream names follow CloudWatch's rules.
    pub fn new(group: &str, stream: &str, limit: usize, filter: Option<&str>) -> Result<Self, ValidationError> {
        check_group(group)?;
        check_stream(stream)?;
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ValidationError::new("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let filter = filter.map(str::trim).filter(|f| !f.is_empty());
        if filter.is_some_and(|f| f.chars().count() > MAX_FILTER_CHARS) {
            return Err(ValidationError::new("filter", format!("must be at most {MAX_FILTER_CHARS} characters")));
        }
        Ok(Self {
            group: group.to_owned(),
            stream: stream.to_owned(),
            limit,
            filter: filter.map(str::to_owned),
            needle: filter.map(str::to_lowercase),
        })
    }

    /// A query for the stream of the task `task_arn` in its app's `group`; see [`stream_for`].
    pub fn for_task(group: &str, task_arn: &str, limit: usize, filter: Option<&str>) -> Result<Self, ValidationError> {
        Self::new(group, &stream_for(task_arn)?, limit, filter)
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The filter text as given (trimmed), or `None` for every line.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// Whether `message` is wanted: it contains the filter, ignoring case (every message
    /// when there is no filter).
    pub fn matches(&self, message: &str) -> bool {
        self.needle.as_deref().is_none_or(|needle| message.to_lowercase().contains(needle))
    }

    /// The error for a group or stream that does not exist, the same from every adapter.
    pub fn not_found(&self) -> CloudError {
        CloudError::NotFound(format!("log stream {} in group {}", self.stream, self.group))
    }
}

/// The log stream of the task `task_arn`: `shiny/shiny/<task id>`, the task id being the last
/// segment of its ARN. Both ARN formats are accepted,
/// `arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID` and the older `…:task/ID`; anything else is
/// refused, so a stream name is never built from arbitrary text.
pub fn stream_for(task_arn: &str) -> Result<String, ValidationError> {
    let id = task_id(task_arn).ok_or_else(|| ValidationError::new("task", "must be an ECS task ARN"))?;
    Ok(format!("{LOG_STREAM_PREFIX}/{CONTAINER_NAME}/{id}"))
}

/// The task id a stream [`stream_for`] named belongs to; `None` for any other stream.
pub fn task_id_in_stream(stream: &str) -> Option<&str> {
    let id =
        stream.strip_prefix(LOG_STREAM_PREFIX)?.strip_prefix('/')?.strip_prefix(CONTAINER_NAME)?.strip_prefix('/')?;
    is_task_id(id).then_some(id)
}

/// The last segment of a task ARN, once every part of the ARN checked out.
fn task_id(arn: &str) -> Option<&str> {
    let ["arn", partition, "ecs", region, account, resource] = arn.split(':').collect::<Vec<_>>()[..] else {
        return None;
    };
    let lower_words =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !partition.starts_with("aws") || !lower_words(partition) || !lower_words(region) {
        return None;
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id = match resource.strip_prefix("task/")?.split('/').collect::<Vec<_>>()[..] {
        [id] => id,
        [cluster, id] if is_cluster(cluster) => id,
        _ => return None,
    };
    is_task_id(id).then_some(id)
}

/// ECS task ids: 32 lowercase hex digits, or a UUID in older ARNs.
fn is_task_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// ECS cluster names: 1–255 letters, digits, hyphens and underscores.
fn is_cluster(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// CloudWatch log groups: 1–512 letters, digits and `_ - / . #`.
fn check_group(group: &str) -> Result<(), ValidationError> {
    let valid = !group.is_empty()
        && group.len() <= 512
        && group.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-/.#".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new("group", "must be 1 to 512 letters, digits or _ - / . #"))
    }
}

/// CloudWatch log streams: 1–512 characters, without `:` or `*`.
fn check_stream(stream: &str) -> Result<(), ValidationError> {
    let valid = !stream.is_empty() && stream.chars().count() <= 512 && !stream.contains([':', '*']);
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new("stream", "must be 1 to 512 characters without : or *"))
    }
}

/// CloudWatch Logs, as the console reads a task's container output.
#[async_trait]
pub trait Logs: Send + Sync + 'static {
    /// The newest lines of `query`'s stream that match its filter (see [`LogQuery::matches`]),
    /// newest first, at most `query.limit()` of them.
    ///
    /// - Lines are in the stream's order (by timestamp, then as written), reversed.
    /// - Only the newest [`MAX_SCANNED`] events of the stream are searched (fewer when they
    ///   are large: the AWS adapter reads at most 10 pages). With a filter, fewer than
    ///   `limit` lines therefore does not prove that no older line matches. Without one,
    ///   the bound never shows: `limit` is at most [`MAX_LIMIT`].
    /// - An existing stream with no matching line: `Ok` with no lines.
    /// - `NotFound` ([`LogQuery::not_found`]) when the group or the stream does not exist: the
    ///   task's container never started (so never logged), or its logs expired.
    /// - `Invalid` when the cloud refuses the request (access denied, say), with its message.
    /// - `Throttled` and `Unavailable` when the cloud asks to slow down, fails or cannot be
    ///   reached; the same call may succeed later.
    async fn tail(&self, query: &LogQuery) -> Result<Vec<LogLine>, CloudError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_task_arn_names_the_stream_of_its_shiny_container() {
        let cases = [
            (format!("arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/{ID}"), format!("shiny/shiny/{ID}")),
            (format!("arn:aws:ecs:us-east-1:000000000000:task/my_cluster-2/{ID}"), format!("shiny/shiny/{ID}")),
            (
                "arn:aws:ecs:us-east-1:123456789012:task/8f58de2b-0f7a-4a3e-9d6d-1b2c3d4e5f60".to_owned(),
                "shiny/shiny/8f58de2b-0f7a-4a3e-9d6d-1b2c3d4e5f60".to_owned(),
            ),
            (format!("arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task/c/{ID}"), format!("shiny/shiny/{ID}")),
            (format!("arn:aws-cn:ecs:cn-north-1:123456789012:task/c/{ID}"), format!("shiny/shiny/{ID}")),
        ];
        for (arn, want) in cases {
            assert_eq!(stream_for(&arn), Ok(want.clone()), "{arn}");
            assert_eq!(task_id_in_stream(&want), arn.rsplit('/').next(), "{want}");
        }
    }

    #[test]
    fn anything_but_an_ecs_task_arn_is_refused() {
        for bad in [
            "",
            ID,
            "task/shinyfleet/0123",
            "arn:aws:ecs:eu-west-1:123456789012:service/shinyfleet/sales",
            "arn:aws:ecs:eu-west-1:123456789012:task-definition/sales:3",
            "arn:aws:ecs:eu-west-1:123456789012:task/",
            "arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/",
            "arn:aws:ecs:eu-west-1:123456789012:task/a/b/0123",
            "arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/../../etc",
            "arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/ABCDEF",
            "arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/0123 4567",
            "arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/-0123",
            "arn:aws:ecs:eu-west-1:123456789012:task/shi ny/0123",
            "arn:aws:ecs:eu-west-1:12345678901:task/shinyfleet/0123",
            "arn:aws:ecs:eu-west-1:1234567890ab:task/shinyfleet/0123",
            "arn:aws:ecs::123456789012:task/shinyfleet/0123",
            "arn:aws:ec2:eu-west-1:123456789012:task/shinyfleet/0123",
            "arn:azure:ecs:eu-west-1:123456789012:task/shinyfleet/0123",
            "arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/0123:extra",
            "xarn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/0123",
        ] {
            assert_eq!(stream_for(bad), Err(ValidationError::new("task", "must be an ECS task ARN")), "{bad:?}");
        }
        let too_long = format!("arn:aws:ecs:eu-west-1:123456789012:task/c/{}", "a".repeat(65));
        assert!(stream_for(&too_long).is_err());
    }

    #[test]
    fn only_streams_named_for_a_task_give_a_task_id() {
        for other in
            ["", "shiny/shiny/", "shiny/other/0123", "other/shiny/0123", "shiny/shiny/01/23", "shinyshiny/0123"]
        {
            assert_eq!(task_id_in_stream(other), None, "{other:?}");
        }
        assert_eq!(task_id_in_stream("shiny/shiny/0a1b"), Some("0a1b"));
    }

    #[test]
    fn a_query_takes_a_limit_from_1_to_500_and_a_blank_filter_means_every_line() {
        let query = |limit, filter| LogQuery::new("/shinyfleet/sales", "shiny/shiny/0a1b", limit, filter);
        let long_but_fine = "é".repeat(200);
        let accepted = [
            (1, None, None),
            (500, Some("  "), None),
            (100, Some(""), None),
            (100, Some("  Error in "), Some("Error in")),
            (100, Some(long_but_fine.as_str()), Some(long_but_fine.as_str())),
        ];
        for (limit, filter, want) in accepted {
            let got = query(limit, filter).expect("a valid query");
            assert_eq!((got.limit(), got.filter()), (limit, want), "{limit} {filter:?}");
        }
        let too_long = "x".repeat(201);
        let refused = [(0, None, "limit"), (501, None, "limit"), (100, Some(too_long.as_str()), "filter")];
        for (limit, filter, field) in refused {
            assert_eq!(query(limit, filter).map_err(|e| e.field), Err(field.to_owned()), "{limit} {filter:?}");
        }
    }

    #[test]
    fn group_and_stream_names_follow_cloudwatch_rules() {
        let cases = [
            ("/shinyfleet/sales", "shiny/shiny/0a1b", None),
            ("/aws/ecs/my_app.v2#1", "any stream name", None),
            ("", "shiny/shiny/0a1b", Some("group")),
            ("/shinyfleet/sa les", "shiny/shiny/0a1b", Some("group")),
            ("/shinyfleet/sales*", "shiny/shiny/0a1b", Some("group")),
            (&"g".repeat(513), "shiny/shiny/0a1b", Some("group")),
            ("/shinyfleet/sales", "", Some("stream")),
            ("/shinyfleet/sales", "shiny:shiny", Some("stream")),
            ("/shinyfleet/sales", "shiny/*", Some("stream")),
        ];
        for (group, stream, want) in cases {
            let got = LogQuery::new(group, stream, 10, None).err().map(|e| e.field);
            assert_eq!(got.as_deref(), want, "{group} {stream}");
        }
    }

    #[test]
    fn a_filter_is_a_substring_that_ignores_case() {
        let query = LogQuery::for_task(
            "/shinyfleet/sales",
            &format!("arn:aws:ecs:eu-west-1:123456789012:task/shinyfleet/{ID}"),
            50,
            Some("error IN"),
        )
        .expect("a valid query");
        assert_eq!(
            (query.group(), query.stream(), query.limit()),
            ("/shinyfleet/sales", &*format!("shiny/shiny/{ID}"), 50)
        );
        let cases = [
            ("Error in library(shiny) : there is no package called 'shiny'", true),
            ("Warning: ERROR IN filter: object 'region' not found", true),
            ("errorin", false),
            ("Listening on http://0.0.0.0:3838", false),
            ("", false),
        ];
        for (message, want) in cases {
            assert_eq!(query.matches(message), want, "{message}");
        }
        let unicode = LogQuery::new("/g", "s", 1, Some("ÉTÉ")).expect("a valid query");
        assert!(unicode.matches("un été chaud"));
        let every = LogQuery::new("/g", "s", 1, None).expect("a valid query");
        assert!(every.matches("") && every.matches("anything"));
    }

    #[test]
    fn a_missing_stream_is_named_with_its_group() {
        let query = LogQuery::new("/shinyfleet/sales", "shiny/shiny/0a1b", 10, None).expect("a valid query");
        assert_eq!(
            query.not_found(),
            CloudError::NotFound("log stream shiny/shiny/0a1b in group /shinyfleet/sales".into())
        );
    }
}

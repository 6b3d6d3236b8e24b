//! The Audit page: every change, newest first, filtered by who, what, which and when, a page
//! at a time, and exportable as CSV with the same filter.

use crate::api::audit::load_audit;
use crate::error::AppError;
use crate::model::{AuditPage as Page, AuditRow};
use crate::pages::{instant, interactive, query_string, ErrorNotice};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

/// The filter as typed: empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filter {
    actor: String,
    action: String,
    target: String,
    from: String,
    to: String,
}

impl Filter {
    /// The filter named in the page's address (`/audit?actor=ada&from=2026-11-01`).
    fn from_query(query: &ParamsMap) -> Self {
        let get = |key: &str| query.get(key).unwrap_or_default();
        Self { actor: get("actor"), action: get("action"), target: get("target"), from: get("from"), to: get("to") }
    }

    /// The filter as query parameters (without `?`), for the CSV export.
    fn to_query(&self) -> String {
        query_string(&[
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
        ])
    }
}

/// Which page of which filter is shown; `newer` keeps the `before` of the pages before it.
#[derive(Debug, Clone, Default, PartialEq)]
struct Position {
    filter: Filter,
    before: Option<i64>,
    newer: Vec<Option<i64>>,
}

fn some(s: String) -> Option<String> {
    let s = s.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let initial = use_query_map().with_untracked(Filter::from_query);
    let position = RwSignal::new(Position { filter: initial.clone(), ..Position::default() });
    let entries = Resource::new(
        move || position.with(|p| (p.filter.clone(), p.before)),
        |(f, before)| load_audit(some(f.actor), some(f.action), some(f.target), some(f.from), some(f.to), before),
    );
    // The fields are read when the form is sent (before the browser code runs, the form is a
    // plain GET of this page, whose address the filter is read from).
    let [actor, action, target, from, to] = [(); 5].map(|()| NodeRef::<leptos::html::Input>::new());
    let value = |field: NodeRef<leptos::html::Input>| field.get_untracked().map(|i| i.value()).unwrap_or_default();
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let filter = Filter {
            actor: value(actor),
            action: value(action),
            target: value(target),
            from: value(from),
            to: value(to),
        };
        position.set(Position { filter, ..Position::default() });
    };
    let clear = move |_| {
        for field in [actor, action, target, from, to] {
            if let Some(input) = field.get_untracked() {
                input.set_value("");
            }
        }
        position.set(Position::default());
    };
    let ready = interactive();
    let csv_href = move || format!("/api/v1/audit.csv?{}", position.with(|p| p.filter.to_query()));
    let (refreshing, set_refreshing) = signal(false);

    view! {
        <Title text="Audit" />
        <section class="page">
            <div class="page-head">
                <h1>"Audit"</h1>
                <a class="button button-secondary" href=csv_href download="shinyfleet-audit.csv" data-testid="export-csv">
                    "Export CSV"
                </a>
            </div>
            <form class="card filter-card" role="search" aria-label="Filter the audit log" method="get" action="/audit" on:submit=apply>
                <div class="filter-grid">
                    <div class="field">
                        <label for="audit-actor">"Actor"</label>
                        <input id="audit-actor" class="input" type="text" name="actor" placeholder="ada@example.org" value=initial.actor node_ref=actor />
                    </div>
                    <div class="field">
                        <label for="audit-action">"Action"</label>
                        <input id="audit-action" class="input" type="text" name="action" placeholder="user.invite" value=initial.action node_ref=action />
                    </div>
                    <div class="field">
                        <label for="audit-target">"Target"</label>
                        <input id="audit-target" class="input" type="text" name="target" placeholder="sales-dashboard" value=initial.target node_ref=target />
                    </div>
                    <div class="field">
                        <label for="audit-from">"From date"</label>
                        <input id="audit-from" class="input" type="date" name="from" value=initial.from node_ref=from />
                    </div>
                    <div class="field">
                        <label for="audit-to">"To date"</label>
                        <input id="audit-to" class="input" type="date" name="to" value=initial.to node_ref=to />
                    </div>
                    <div class="field field-action">
                        <div class="action-buttons">
                            <button type="submit" class="button">"Filter"</button>
                            <button type="button" class="button button-secondary" disabled=move || !ready.get() on:click=clear>
                                "Clear"
                            </button>
                        </div>
                    </div>
                </div>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> } set_pending=set_refreshing>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(page) => view! { <AuditTable page position refreshing /> }.into_any(),
                        Err(AppError::Invalid { field, message }) => view! {
                            <div class="notice notice-error" role="alert">
                                <strong>{format!("{}: ", field_label(&field))}</strong>
                                {message}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

fn field_label(field: &str) -> &str {
    match field {
        "actor" => "Actor",
        "action" => "Action",
        "target" => "Target",
        "from" => "From date",
        "to" => "To date",
        other => other,
    }
}

#[component]
fn AuditTable(page: Page, position: RwSignal<Position>, refreshing: ReadSignal<bool>) -> impl IntoView {
    let Page { rows, next_before } = page;
    let has_newer = position.with_untracked(|p| !p.newer.is_empty());
    let count = rows.len();
    let ready = interactive();
    let older = move |_| {
        position.update(|p| {
            let current = p.before.take();
            p.newer.push(current);
            p.before = next_before;
        })
    };
    let newer = move |_| position.update(|p| p.before = p.newer.pop().flatten());
    let pager = (has_newer || next_before.is_some()).then(|| {
        view! {
            <span class="pager-buttons">
                {has_newer.then(|| view! {
                    <button type="button" class="button button-secondary button-small" disabled=move || !ready.get() on:click=newer>
                        "Newer entries"
                    </button>
                })}
                {next_before.is_some().then(|| view! {
                    <button type="button" class="button button-secondary button-small" disabled=move || !ready.get() on:click=older>
                        "Older entries"
                    </button>
                })}
            </span>
        }
    });
    if rows.is_empty() {
        return view! {
            <div class="card table-card">
                <div class="empty-state"><p class="lead">"No audit entries match."</p></div>
                {pager.map(|p| view! { <div class="table-foot pager"><span></span>{p}</div> })}
            </div>
        }
        .into_any();
    }
    let rows = rows.into_iter().map(|row| view! { <AuditLine row /> }).collect_view();
    view! {
        <div class="card table-card">
            <table class="table audit-table">
                <thead>
                    <tr>
                        <th>"When (UTC)"</th>
                        <th>"Who"</th>
                        <th>"From"</th>
                        <th>"Action"</th>
                        <th>"Target"</th>
                        <th>"Change"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <div class="table-foot pager">
                <span class="muted" data-testid="audit-count">
                    {if count == 1 { "1 entry".to_owned() } else { format!("{count} entries") }}
                    {move || refreshing.get().then_some(" · updating…")}
                </span>
                {pager}
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn AuditLine(row: AuditRow) -> impl IntoView {
    let change = change(row.before.as_deref(), row.after.as_deref());
    view! {
        <tr data-id=row.id>
            <td class="nowrap mono">{instant(row.at)}</td>
            <td class="break">{row.actor}</td>
            <td class="nowrap mono muted">{row.source.unwrap_or_else(|| "—".to_owned())}</td>
            <td class="nowrap"><code>{row.action}</code></td>
            <td class="break">{row.target}</td>
            <td class="change">{change.unwrap_or_default()}</td>
        </tr>
    }
    .into_any()
}

/// A stored JSON value on one line (the text as stored if it is not JSON).
fn compact(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw).map(|v| v.to_string()).unwrap_or_else(|_| raw.to_owned())
}

/// `before → after`, a missing side shown as `—`; `None` when neither is recorded.
fn change(before: Option<&str>, after: Option<&str>) -> Option<String> {
    if before.is_none() && after.is_none() {
        return None;
    }
    let side = |v: Option<&str>| v.map(compact).unwrap_or_else(|| "—".to_owned());
    Some(format!("{} → {}", side(before), side(after)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_compact_json_from_before_to_after() {
        assert_eq!(
            change(Some("{\n  \"enabled\": true\n}"), Some(r#"{"enabled": false}"#)).as_deref(),
            Some(r#"{"enabled":true} → {"enabled":false}"#)
        );
        assert_eq!(change(None, Some(r#"{"role": "admin"}"#)).as_deref(), Some(r#"— → {"role":"admin"}"#));
        assert_eq!(change(Some("not json"), None).as_deref(), Some("not json → —"));
        assert_eq!(change(None, None), None);
    }

    #[test]
    fn the_csv_export_carries_the_filter() {
        let filter = Filter {
            actor: "ada@example.org".into(),
            action: "user.invite".into(),
            target: String::new(),
            from: "2026-11-01".into(),
            to: " ".into(),
        };
        assert_eq!(filter.to_query(), "actor=ada%40example.org&action=user.invite&from=2026-11-01");
        assert_eq!(Filter::default().to_query(), "");
    }
}

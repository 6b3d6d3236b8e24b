//! One module per page, plus the small components and helpers they share.

pub mod app;
pub mod app_form;
pub mod audit;
pub mod chart;
pub mod costs;
pub mod fleet;
pub mod not_found;
pub mod people;
pub mod schedule;
pub mod settings;
pub mod sign_in;
pub mod tokens;

use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The badge class of a deploy's state.
pub fn rollout_class(state: domain::fleet::RolloutState) -> &'static str {
    use domain::fleet::RolloutState;
    match state {
        RolloutState::InProgress => "badge badge-info",
        RolloutState::Completed => "badge badge-ok",
        RolloutState::Failed => "badge badge-bad",
    }
}

/// A deploy's state in words: `in progress`, `completed`, `failed`.
pub fn rollout_words(state: domain::fleet::RolloutState) -> String {
    state.as_str().to_lowercase().replace('_', " ")
}

/// A failed load, shown in place of the page's content. Shows only the error's public text;
/// an ended session offers the way back in.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    if error == AppError::Unauthorized {
        let location = use_location();
        let here = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
        let href = format!("/sign-in?next={}", url_encode(&here));
        return view! {
            <div class="notice notice-warn" role="alert">
                <strong>"Your session has ended. "</strong>
                <a href=href>"Sign in again"</a>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="notice notice-error" role="alert">
            <strong>"Could not load this page. "</strong>
            {error.to_string()}
        </div>
    }
    .into_any()
}

/// What to tell the user about an error: a field error's message alone (the field is shown
/// next to it), any other error's own text.
pub fn error_message(error: &AppError) -> String {
    match error {
        AppError::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The message of `result`'s error when it is a field error about `field`.
pub fn field_error<T>(result: &Option<Result<T, AppError>>, field: &str) -> Option<String> {
    match result {
        Some(Err(e)) => e.field_message(field).map(str::to_owned),
        _ => None,
    }
}

/// The message of `result`'s error unless it is a field error about one of `fields` (those
/// are shown next to their field).
pub fn form_error<T>(result: &Option<Result<T, AppError>>, fields: &[&str]) -> Option<String> {
    match result {
        Some(Err(AppError::Invalid { field, .. })) if fields.contains(&field.as_str()) => None,
        Some(Err(AppError::InvalidFields(all))) if all.iter().all(|(f, _)| fields.contains(&f.as_str())) => None,
        Some(Err(e)) => Some(error_message(e)),
        _ => None,
    }
}

/// A field's error under the field; `id` is what the input's `aria-describedby` names.
#[component]
pub fn FieldError(id: &'static str, message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <p class="field-error" id=id>{m}</p> })
}

/// A red notice above a form, for errors that belong to no single field.
#[component]
pub fn FormError(message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <div class="notice notice-error" role="alert">{m}</div> })
}

/// Calls `on_ok` after each success of `action` and keeps its latest failure in `error`
/// (cleared by a success). For actions whose outcome is shown where they were started.
pub fn on_done<I, O>(
    action: impl Into<Action<I, Result<O, AppError>>>,
    error: RwSignal<Option<String>>,
    on_ok: impl Fn(O) + 'static,
) where
    I: Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let action = action.into();
    Effect::new(move |_| match action.value().get() {
        Some(Ok(out)) => {
            error.set(None);
            on_ok(out);
        }
        Some(Err(e)) => error.set(Some(error_message(&e))),
        None => {}
    });
}

/// Moves the focus to the first field marked invalid inside the element with id `scope`, or
/// else to its first error message, once the page shows them: after a refused submit, the
/// keyboard is where the problem is.
pub fn focus_first_error(scope: &'static str) {
    focus_later(move || {
        let scope = document().get_element_by_id(scope)?;
        let first = |selector: &str| scope.query_selector(selector).ok().flatten();
        first("[aria-invalid=\"true\"]").or_else(|| first(".notice-error, .field-error"))
    });
}

/// [`focus_first_error`] after each failure of `action`.
pub fn focus_errors_of<I, O>(action: impl Into<Action<I, Result<O, AppError>>>, scope: &'static str)
where
    I: Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let action = action.into();
    Effect::new(move |_| {
        if action.value().with(|r| matches!(r, Some(Err(_)))) {
            focus_first_error(scope);
        }
    });
}

/// Moves the focus to the first element matching the CSS `selector`, once the page shows it
/// (a confirmation, a new row, the button a dialog returns to).
pub fn focus_selector(selector: String) {
    focus_later(move || document().query_selector(&selector).ok().flatten());
}

/// Focuses what `find` finds on the next frame (after the views that show it are drawn).
/// An element that is not a control (a notice) takes the focus without joining the Tab order.
fn focus_later(find: impl FnOnce() -> Option<leptos::web_sys::Element> + 'static) {
    use leptos::wasm_bindgen::JsCast;
    request_animation_frame(move || {
        if let Some(el) = find().and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
            if el.tab_index() < 0 && !el.has_attribute("tabindex") {
                let _ = el.set_attribute("tabindex", "-1");
            }
            let _ = el.focus();
        }
    });
}

/// `false` while the component is only server-rendered HTML, `true` once its browser code
/// runs. Controls that need that code are disabled until then: an early click then waits
/// (as people and Playwright do) instead of submitting a form the page cannot handle yet.
/// One per component, so the server's HTML and the hydrating browser agree on the start.
pub fn interactive() -> ReadSignal<bool> {
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready
}

/// Leaves this page for `to` with a full page load (after sign-in and sign-out, so every
/// request and every cached answer belongs to the new session).
pub fn full_navigation(to: &str) {
    let _ = window().location().set_href(to);
}

/// `2026-11-30`
pub fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// `2026-11-30 09:41:07` (UTC)
pub fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Percent-encodes a query parameter's value: everything but RFC 3986's unreserved characters.
pub fn url_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string (without `?`) of the pairs whose value is not blank, values trimmed.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| (k, v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_except_unreserved_characters() {
        for (raw, want) in [
            ("ada@example.org", "ada%40example.org"),
            ("user.invite", "user.invite"),
            ("a b&c=d/e?f#g+h", "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh"),
            ("token:ci-bot_1~", "token%3Aci-bot_1~"),
            ("Zoë", "Zo%C3%AB"),
            ("", ""),
        ] {
            assert_eq!(url_encode(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn query_strings_leave_out_blank_values() {
        let qs = query_string(&[("actor", " ada "), ("action", ""), ("target", "  "), ("from", "2026-11-30")]);
        assert_eq!(qs, "actor=ada&from=2026-11-30");
        assert_eq!(query_string(&[("actor", "")]), "");
    }

    #[test]
    fn field_errors_go_next_to_their_field_and_the_rest_above_the_form() {
        let invalid: Option<Result<(), AppError>> = Some(Err(AppError::invalid("email", "Not an email address.")));
        assert_eq!(field_error(&invalid, "email").as_deref(), Some("Not an email address."));
        assert_eq!(field_error(&invalid, "password"), None);
        assert_eq!(form_error(&invalid, &["email", "password"]), None);
        assert_eq!(form_error(&invalid, &["password"]).as_deref(), Some("Not an email address."));
        let bad: Option<Result<(), AppError>> = Some(Err(AppError::BadCredentials));
        assert_eq!(form_error(&bad, &["email"]).as_deref(), Some("Incorrect email or password."));
        assert_eq!(field_error(&bad, "email"), None);
        assert_eq!(form_error::<()>(&Some(Ok(())), &[]), None);
    }
}

//! The People page: the pool's users, searched by the start of their email, a page at a
//! time. Admins also invite colleagues and change users (resend, disable, delete, groups);
//! viewers get the list without a single control that changes anything.

use crate::api::people::{load_people, DeletePerson, InvitePerson, ResendInvitation, SetPersonEnabled, SetPersonGroup};
use crate::error::AppError;
use crate::model::{PeoplePage as Page, Person};
use crate::pages::{
    day, field_error, focus_errors_of, focus_selector, form_error, interactive, on_done, ErrorNotice, FieldError,
    FormError,
};
use crate::shell::CurrentUser;
use domain::directory::UserStatus;
use domain::RoleGroups;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Which page of which search is shown. Page tokens are opaque: going back means going back
/// to a token seen before, so the tokens of the pages before this one are kept.
#[derive(Debug, Clone, Default, PartialEq)]
struct Paging {
    q: String,
    page: Option<String>,
    previous: Vec<Option<String>>,
}

/// What every row and the invite card share: refetching the list and the success notice.
#[derive(Clone, Copy)]
struct Changes {
    reload: RwSignal<u32>,
    done: RwSignal<Option<String>>,
}

impl Changes {
    /// After a successful change: say so and show the list as it is now.
    fn changed(self, message: String) {
        self.done.set(Some(message));
        self.reload.update(|n| *n += 1);
    }
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    let user = CurrentUser::get();
    let initial_q = use_query_map().with_untracked(|q| q.get("q")).unwrap_or_default();
    let paging = RwSignal::new(Paging { q: initial_q.clone(), ..Paging::default() });
    let changes = Changes { reload: RwSignal::new(0), done: RwSignal::new(None) };
    let people = Resource::new(
        move || (paging.with(|p| (p.q.clone(), p.page.clone())), changes.reload.get()),
        |((q, page), _)| load_people(Some(q).filter(|q| !q.trim().is_empty()), page),
    );
    // The invitation outlives the list's refetch (its notice stays), so it lives here. The
    // refetch renders the card again, with an empty form.
    let invite = ServerAction::<InvitePerson>::new();
    Effect::new(move |_| {
        // Also after a conflict: the user was invited (only their group is missing).
        if let Some(Ok(_) | Err(AppError::Conflict(_))) = invite.value().get() {
            changes.reload.update(|n| *n += 1);
        }
    });

    // Before the browser code runs the form searches with a plain GET (`?q=` is read above).
    let search = NodeRef::<leptos::html::Input>::new();
    let on_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = search.get_untracked().map(|input| input.value()).unwrap_or_default();
        changes.done.set(None);
        paging.set(Paging { q: q.trim().to_owned(), ..Paging::default() });
    };
    let (refreshing, set_refreshing) = signal(false);

    view! {
        <Title text="People" />
        <section class="page">
            <div class="page-head">
                <h1>"People"</h1>
                <form class="search-form" role="search" method="get" action="/people" on:submit=on_search>
                    <input
                        class="filter"
                        type="search"
                        name="q"
                        placeholder="Search by the start of an email"
                        aria-label="Search people"
                        value=initial_q
                        node_ref=search
                    />
                    <button type="submit" class="button button-secondary">"Search"</button>
                </form>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> } set_pending=set_refreshing>
                {move || Suspend::new(async move {
                    let viewer = user.viewer().await;
                    match people.await {
                        Ok(page) => {
                            let admin = viewer.as_ref().is_some_and(|v| v.is_admin());
                            let me = viewer.map(|v| v.email).unwrap_or_default();
                            view! {
                                {admin.then(|| view! {
                                    <InviteCard action=invite groups=page.groups.clone() role_groups=page.role_groups.clone() />
                                })}
                                <PeopleTable page admin me paging changes refreshing />
                            }.into_any()
                        }
                        Err(AppError::Invalid { message, .. }) => {
                            view! { <div class="notice notice-error" role="alert">{message}</div> }.into_any()
                        }
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// The invitation form, with the outcome of the last invitation.
#[component]
fn InviteCard(action: ServerAction<InvitePerson>, groups: Vec<String>, role_groups: RoleGroups) -> impl IntoView {
    let result = action.value();
    let pending = action.pending();
    let ready = interactive();
    let email_error = Signal::derive(move || result.with(|r| field_error(r, "email")));
    let group_error = Signal::derive(move || result.with(|r| field_error(r, "group")));
    let other_error = Signal::derive(move || result.with(|r| form_error(r, &["email", "group"])));
    focus_errors_of(action, "invite-card");
    // An invitation sent empties the field, so a second click cannot send it twice.
    let email_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(input)) = (result.get(), email_input.get()) {
            input.set_value("");
        }
    });
    let options = groups
        .into_iter()
        .map(|g| {
            let selected = g == role_groups.viewers;
            let label = if g == role_groups.admins {
                format!("{g} (admins)")
            } else if g == role_groups.viewers {
                format!("{g} (viewers)")
            } else {
                g.clone()
            };
            view! { <option value=g selected=selected>{label}</option> }
        })
        .collect_view();
    // The last invitation's outcome, hidden while the next one is on its way.
    let sent = move || match result.get().filter(|_| !pending.get()) {
        Some(Ok(invited)) => Some(view! {
            <div class="notice notice-ok" role="status" data-testid="invite-notice">
                <p class="notice-text">{format!("Invitation sent to {}.", invited.person.email)}</p>
                {invited.sandbox_temporary_password.map(|password| view! {
                    <p class="notice-text">
                        "Sandbox: their temporary password is "
                        <code class="secret" data-testid="temporary-password">{password}</code>
                    </p>
                    <p class="notice-text small">"The sandbox sends no email: pass it on yourself."</p>
                })}
            </div>
        }),
        _ => None,
    };
    view! {
        <section class="card form-card" id="invite-card" aria-labelledby="invite-heading">
            <h2 id="invite-heading">"Invite a colleague"</h2>
            <p class="muted card-lead">"They get an email with a temporary password and choose their own at first sign-in."</p>
            <FormError message=other_error />
            {sent}
            <ActionForm action attr:class="inline-form-fields">
                <div class="field field-grow">
                    <label for="invite-email">"Email address"</label>
                    <input
                        id="invite-email"
                        class="input"
                        type="email"
                        name="email"
                        required
                        autocomplete="off"
                        placeholder="colleague@example.org"
                        node_ref=email_input
                        aria-invalid=move || email_error.get().map(|_| "true")
                        aria-describedby="invite-email-error"
                    />
                    <FieldError id="invite-email-error" message=email_error />
                </div>
                <div class="field">
                    <label for="invite-group">"Group"</label>
                    <select
                        id="invite-group"
                        class="input"
                        name="group"
                        aria-invalid=move || group_error.get().map(|_| "true")
                        aria-describedby="invite-group-error"
                    >
                        {options}
                        <option value="">"No group"</option>
                    </select>
                    <FieldError id="invite-group-error" message=group_error />
                </div>
                <div class="field field-action">
                    <button type="submit" class="button" disabled=move || !ready.get() || pending.get()>
                        {move || if pending.get() { "Sending…" } else { "Send invitation" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn PeopleTable(
    page: Page,
    admin: bool,
    me: String,
    paging: RwSignal<Paging>,
    changes: Changes,
    refreshing: ReadSignal<bool>,
) -> impl IntoView {
    let Page { people, next, groups, role_groups } = page;
    let has_previous = paging.with_untracked(|p| !p.previous.is_empty());
    let searched = paging.with_untracked(|p| p.q.clone());
    let count = people.len();
    let ready = interactive();
    let go_next = {
        let next = next.clone();
        move |_| {
            changes.done.set(None);
            paging.update(|p| {
                let current = p.page.take();
                p.previous.push(current);
                p.page = next.clone();
            });
        }
    };
    let go_previous = move |_| {
        changes.done.set(None);
        paging.update(|p| p.page = p.previous.pop().flatten());
    };
    let done = move || {
        changes.done.get().map(|message| {
            view! {
                <div class="notice notice-ok notice-dismissable" role="status" data-testid="people-notice">
                    <span>{message}</span>
                    <button type="button" class="notice-close" aria-label="Dismiss" on:click=move |_| changes.done.set(None)>
                        "×"
                    </button>
                </div>
            }
        })
    };
    let footer = view! {
        <div class="table-foot pager">
            <span class="muted" data-testid="people-count">
                {if count == 1 { "1 person on this page".to_owned() } else { format!("{count} people on this page") }}
                {move || refreshing.get().then_some(" · updating…")}
            </span>
            <span class="pager-buttons">
                {has_previous.then(|| view! {
                    <button type="button" class="button button-secondary button-small" disabled=move || !ready.get() on:click=go_previous>
                        "Previous page"
                    </button>
                })}
                {next.is_some().then(|| view! {
                    <button type="button" class="button button-secondary button-small" disabled=move || !ready.get() on:click=go_next>
                        "Next page"
                    </button>
                })}
            </span>
        </div>
    };
    if people.is_empty() {
        let message = if searched.is_empty() {
            "No people in the user pool yet.".to_owned()
        } else {
            format!("No one's email starts with “{searched}”.")
        };
        return view! {
            {done}
            <div class="card table-card">
                <div class="empty-state">
                    <p class="lead">{message}</p>
                </div>
                {(has_previous || next.is_some()).then_some(footer)}
            </div>
        }
        .into_any();
    }
    let rows = people
        .into_iter()
        .map(|person| {
            let is_me = person.email == me;
            view! { <PersonRow person admin is_me groups=groups.clone() role_groups=role_groups.clone() changes /> }
        })
        .collect_view();
    view! {
        {done}
        <div class="card table-card">
            <table class="table people-table">
                <thead>
                    <tr>
                        <th>"Email"</th>
                        <th>"Status"</th>
                        <th>"Groups"</th>
                        <th>"Created"</th>
                        {admin.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {footer}
        </div>
    }
    .into_any()
}

fn status_badge(status: UserStatus) -> impl IntoView {
    let (class, label) = match status {
        UserStatus::Invited => ("badge badge-info", "invited"),
        UserStatus::Active => ("badge badge-ok", "active"),
        UserStatus::Disabled => ("badge badge-muted", "disabled"),
    };
    view! { <span class=class>{label}</span> }
}

/// One user. For admins each change has its own action, so pending states and errors show
/// on the row they belong to; a success refetches the list.
#[component]
fn PersonRow(
    person: Person,
    admin: bool,
    is_me: bool,
    groups: Vec<String>,
    role_groups: RoleGroups,
    changes: Changes,
) -> impl IntoView {
    let Person { username, email, status, groups: member_of, created_at } = person;
    let created = created_at.map(day).unwrap_or_else(|| "—".to_owned());
    let error = RwSignal::new(None::<String>);

    let group_action = ServerAction::<SetPersonGroup>::new();
    let group_pending = group_action.pending();
    let ready = interactive();
    let group_busy = Signal::derive(move || !ready.get() || group_pending.get());
    if admin {
        // The message needs the change's input, which the action forgets when it resolves.
        let last_group = RwSignal::new(None::<(String, bool)>);
        Effect::new(move |_| {
            if let Some(input) = group_action.input().get() {
                last_group.set(Some((input.group, input.member)));
            }
        });
        let email = email.clone();
        on_done(group_action, error, move |()| {
            if let Some((group, member)) = last_group.get_untracked() {
                changes.changed(if member {
                    format!("{email} added to {group}.")
                } else {
                    format!("{email} removed from {group}.")
                });
            }
        });
    }

    let chips = member_of
        .iter()
        .map(|g| {
            let role = if *g == role_groups.admins {
                " chip-role"
            } else if *g == role_groups.viewers {
                " chip-role-viewer"
            } else {
                ""
            };
            let remove = admin.then(|| {
                let (username, group) = (username.clone(), g.clone());
                let label = format!("Remove from {g}");
                view! {
                    <ActionForm action=group_action attr:class="chip-form">
                        <input type="hidden" name="username" value=username />
                        <input type="hidden" name="group" value=group />
                        <input type="hidden" name="member" value="false" />
                        <button type="submit" class="chip-remove" aria-label=label.clone() title=label disabled=group_busy>
                            "×"
                        </button>
                    </ActionForm>
                }
            });
            view! { <div class=format!("chip{role}")><span>{g.clone()}</span> {remove}</div> }
        })
        .collect_view();
    let addable: Vec<String> = groups.into_iter().filter(|g| !member_of.contains(g)).collect();
    let add = (admin && !addable.is_empty()).then(|| {
        let username = username.clone();
        // Back to "Add to group…" once the change is on its way (or refused).
        let choice = RwSignal::new(String::new());
        let options =
            addable.into_iter().map(|g| view! { <option value=g.clone()>{g.clone()}</option> }).collect_view();
        view! {
            <select
                class="input input-small add-group"
                aria-label="Add to group"
                disabled=group_busy
                prop:value=choice
                on:change=move |ev| {
                    let group = event_target_value(&ev);
                    if !group.is_empty() {
                        group_action.dispatch(SetPersonGroup { username: username.clone(), group, member: true });
                    }
                    choice.set(String::new());
                }
            >
                <option value="" selected=true>"Add to group…"</option>
                {options}
            </select>
        }
    });
    let no_groups = (member_of.is_empty() && !admin).then(|| view! { <span class="muted">"—"</span> });

    let actions =
        admin.then(|| view! { <PersonActions username=username.clone() email=email.clone() status error changes /> });

    view! {
        <tr data-email=email.clone()>
            <td class="person-email">
                <span class="app-name">{email.clone()}</span>
                {is_me.then(|| view! { <span class="badge badge-muted you">"you"</span> })}
            </td>
            <td>{status_badge(status)}</td>
            <td>
                <div class="chips">{chips} {no_groups} {add}</div>
            </td>
            <td class="nowrap">{created}</td>
            {actions}
        </tr>
    }
    .into_any()
}

/// An admin's buttons for one user: resend the invitation, disable or enable, delete (after
/// typing the email again).
#[component]
fn PersonActions(
    username: String,
    email: String,
    status: UserStatus,
    error: RwSignal<Option<String>>,
    changes: Changes,
) -> impl IntoView {
    let resend = ServerAction::<ResendInvitation>::new();
    let enable = ServerAction::<SetPersonEnabled>::new();
    let delete = ServerAction::<DeletePerson>::new();
    {
        let email = email.clone();
        on_done(resend, error, move |()| changes.changed(format!("Invitation sent again to {email}.")));
    }
    let disabled = status == UserStatus::Disabled;
    {
        let email = email.clone();
        on_done(enable, error, move |()| {
            changes.changed(if disabled {
                format!("{email} is enabled and can sign in again.")
            } else {
                format!("{email} is disabled; their sessions have ended.")
            })
        });
    }
    {
        let email = email.clone();
        on_done(delete, error, move |()| changes.changed(format!("{email} was deleted.")));
    }
    let (resend_pending, enable_pending, delete_pending) = (resend.pending(), enable.pending(), delete.pending());
    let ready = interactive();
    let confirming = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    // The confirmation takes the focus; cancelling it (also with Escape) gives it back.
    let (delete_id, confirm_id) = (format!("delete-{username}"), format!("confirm-{username}"));
    let open = {
        let confirm_id = confirm_id.clone();
        move |_| {
            confirming.set(true);
            focus_selector(format!("[id='{confirm_id}']"));
        }
    };
    let cancel = {
        let delete_id = delete_id.clone();
        move || {
            confirming.set(false);
            typed.set(String::new());
            focus_selector(format!("[id='{delete_id}']"));
        }
    };
    let cancel_key = cancel.clone();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            cancel_key();
        }
    };
    let matches = {
        let email = email.to_lowercase();
        Memo::new(move |_| typed.with(|t| t.trim().to_lowercase() == email))
    };

    let resend_form = (status == UserStatus::Invited).then(|| {
        let username = username.clone();
        view! {
            <ActionForm action=resend attr:class="inline-form">
                <input type="hidden" name="username" value=username />
                <button type="submit" class="button button-secondary button-small" disabled=move || !ready.get() || resend_pending.get()>
                    {move || if resend_pending.get() { "Sending…" } else { "Resend invitation" }}
                </button>
            </ActionForm>
        }
    });
    let (enable_label, enable_pending_label) =
        if disabled { ("Enable", "Enabling…") } else { ("Disable", "Disabling…") };
    let enable_form = {
        let username = username.clone();
        view! {
            <ActionForm action=enable attr:class="inline-form">
                <input type="hidden" name="username" value=username />
                <input type="hidden" name="enabled" value=if disabled { "true" } else { "false" } />
                <button type="submit" class="button button-secondary button-small" disabled=move || !ready.get() || enable_pending.get()>
                    {move || if enable_pending.get() { enable_pending_label } else { enable_label }}
                </button>
            </ActionForm>
        }
    };
    view! {
        <td class="row-actions">
            <div class="action-buttons">
                {resend_form}
                {enable_form}
                <button
                    type="button"
                    id=delete_id
                    class="button button-danger-quiet button-small"
                    class:hidden=move || confirming.get()
                    aria-expanded=move || confirming.get().to_string()
                    disabled=move || !ready.get()
                    on:click=open
                >
                    "Delete…"
                </button>
            </div>
            {move || error.get().map(|message| view! { <p class="row-error" role="alert">{message}</p> })}
            {move || confirming.get().then(|| {
                let (username, email) = (username.clone(), email.clone());
                let id = confirm_id.clone();
                let (cancel, on_key) = (cancel.clone(), on_key.clone());
                view! {
                    <ActionForm action=delete attr:class="confirm-delete" on:keydown=on_key>
                        <input type="hidden" name="username" value=username />
                        <label class="small" for=id.clone()>
                            "Type " <strong class="text">{email}</strong> " to delete this user for good."
                        </label>
                        <input
                            id=id
                            class="input input-small"
                            type="text"
                            name="confirm"
                            autocomplete="off"
                            spellcheck="false"
                            aria-label="Type the email to confirm"
                            bind:value=typed
                        />
                        <div class="action-buttons">
                            <button
                                type="submit"
                                class="button button-danger button-small"
                                disabled=move || !matches.get() || delete_pending.get()
                            >
                                {move || if delete_pending.get() { "Deleting…" } else { "Delete user" }}
                            </button>
                            <button
                                type="button"
                                class="button button-secondary button-small"
                                on:click=move |_| cancel()
                            >
                                "Cancel"
                            </button>
                        </div>
                    </ActionForm>
                }
            })}
        </td>
    }
    .into_any()
}

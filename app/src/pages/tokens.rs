//! The API tokens card of Settings (admins only): the tokens, revoking one, and creating one
//! — whose secret is shown once, right after it was created.

use crate::api::tokens::{load_tokens, CreateToken, RevokeToken};
use crate::error::AppError;
use crate::model::{CreatedToken, TokenInfo};
use crate::pages::{field_error, form_error, instant, interactive, on_done, ErrorNotice, FieldError, FormError};
use domain::Role;
use leptos::prelude::*;

#[component]
pub fn TokensCard() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let tokens = Resource::new(move || reload.get(), |_| load_tokens());
    let create = ServerAction::<CreateToken>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            reload.update(|n| *n += 1);
        }
    });
    view! {
        <section class="card section-card" aria-labelledby="tokens-heading">
            <div class="card-head">
                <h2 id="tokens-heading">"API tokens"</h2>
                <p class="muted card-lead">
                    "For scripts and CI jobs: each token acts with its role on " <code>"/api/v1"</code>
                    ". Revoke a token as soon as it is no longer needed."
                </p>
            </div>
            <CreateTokenForm action=create />
            <Transition fallback=|| view! { <p class="muted card-pad">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <TokenTable list reload /> }.into_any(),
                        Err(e) => view! { <div class="card-pad"><ErrorNotice error=e /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn CreateTokenForm(action: ServerAction<CreateToken>) -> impl IntoView {
    let result = action.value();
    let pending = action.pending();
    let ready = interactive();
    // Empty again after a token was created.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(form)) = (result.get(), form.get_untracked()) {
            form.reset();
            // The keyboard goes to the token to copy.
            crate::pages::focus_selector(".new-token".to_owned());
        }
    });
    let name_error = Signal::derive(move || result.with(|r| field_error(r, "name")));
    let role_error = Signal::derive(move || result.with(|r| field_error(r, "role")));
    let other_error = Signal::derive(move || result.with(|r| form_error(r, &["name", "role"])));
    crate::pages::focus_errors_of(action, "token-form");
    // Hidden while the next token is being created, so two secrets are never confused.
    let created = move || match result.get().filter(|_| !pending.get()) {
        Some(Ok(created)) => Some(view! { <NewToken created on_dismiss=Callback::new(move |()| action.clear()) /> }),
        _ => None,
    };
    view! {
        <div class="card-pad" id="token-form">
            <FormError message=other_error />
            {created}
            <ActionForm action node_ref=form attr:class="inline-form-fields">
                <div class="field field-grow">
                    <label for="token-name">"Token name"</label>
                    <input
                        id="token-name"
                        class="input"
                        type="text"
                        name="name"
                        required
                        maxlength="64"
                        autocomplete="off"
                        placeholder="ci-deploy"
                        aria-invalid=move || name_error.get().map(|_| "true")
                        aria-describedby="token-name-error"
                    />
                    <FieldError id="token-name-error" message=name_error />
                </div>
                <div class="field">
                    <label for="token-role">"Role"</label>
                    <select
                        id="token-role"
                        class="input"
                        name="role"
                        aria-invalid=move || role_error.get().map(|_| "true")
                        aria-describedby="token-role-error"
                    >
                        <option value="viewer" selected=true>"viewer (read only)"</option>
                        <option value="admin">"admin (read and change)"</option>
                    </select>
                    <FieldError id="token-role-error" message=role_error />
                </div>
                <div class="field field-action">
                    <button type="submit" class="button" disabled=move || !ready.get() || pending.get()>
                        {move || if pending.get() { "Creating…" } else { "Create token" }}
                    </button>
                </div>
            </ActionForm>
        </div>
    }
    .into_any()
}

/// The secret of a token just created, with how to use it. Shown once: it is not stored.
#[component]
fn NewToken(created: CreatedToken, on_dismiss: Callback<()>) -> impl IntoView {
    let CreatedToken { info, token } = created;
    let usage = format!("curl -H \"Authorization: Bearer …\" {}/api/v1/users", console_origin());
    view! {
        <div class="new-token" role="status">
            <p class="new-token-title">
                <strong>{format!("Token “{}” created ({}).", info.name, info.role.as_str())}</strong>
                " Copy this token now; it will not be shown again."
            </p>
            <code class="secret token-value" data-testid="new-token">{token}</code>
            <p class="muted small new-token-usage">"Send it as a bearer token, for example:"</p>
            <pre class="usage"><code>{usage}</code></pre>
            <button type="button" class="button button-secondary button-small" on:click=move |_| on_dismiss.run(())>
                "I have copied it"
            </button>
        </div>
    }
    .into_any()
}

/// This console's address, for the usage example (the example is only ever shown in the
/// browser, right after a token was created).
fn console_origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        window().origin()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        "…".to_owned()
    }
}

#[component]
fn TokenTable(list: Vec<TokenInfo>, reload: RwSignal<u32>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <div class="empty-state empty-compact">
                <p class="muted">"No API tokens yet."</p>
            </div>
        }
        .into_any();
    }
    let rows = list.into_iter().map(|token| view! { <TokenRow token reload /> }).collect_view();
    view! {
        <div class="table-scroll">
            <table class="table tokens-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Role"</th>
                        <th>"Created by"</th>
                        <th>"Created (UTC)"</th>
                        <th>"Last used (UTC)"</th>
                        <th>"Status"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn TokenRow(token: TokenInfo, reload: RwSignal<u32>) -> impl IntoView {
    let TokenInfo { id, name, role, created_by, created_at, last_used_at, revoked_at } = token;
    let revoke = ServerAction::<RevokeToken>::new();
    let pending = revoke.pending();
    let ready = interactive();
    let error = RwSignal::new(None::<String>);
    on_done(revoke, error, move |()| reload.update(|n| *n += 1));
    // Revoked meanwhile by someone else: show the list as it is now.
    Effect::new(move |_| {
        if let Some(Err(AppError::NotFound)) = revoke.value().get() {
            reload.update(|n| *n += 1);
        }
    });
    let role_badge = match role {
        Role::Admin => view! { <span class="badge badge-role-admin">"admin"</span> },
        Role::Viewer => view! { <span class="badge badge-muted">"viewer"</span> },
    };
    let status = match revoked_at {
        Some(at) => {
            view! { <span class="badge badge-muted" title=format!("Revoked {} UTC", instant(at))>"revoked"</span> }
                .into_any()
        }
        None => view! { <span class="badge badge-ok">"active"</span> }.into_any(),
    };
    let action = revoked_at.is_none().then(|| {
        let question = format!("Revoke the token “{name}”? Anything that uses it stops working at once.");
        view! {
            <button
                type="button"
                class="button button-danger-quiet button-small"
                disabled=move || !ready.get() || pending.get()
                on:click=move |_| {
                    if window().confirm_with_message(&question).unwrap_or(false) {
                        revoke.dispatch(RevokeToken { id });
                    }
                }
            >
                {move || if pending.get() { "Revoking…" } else { "Revoke" }}
            </button>
        }
    });
    let key = name.clone();
    view! {
        <tr data-token=key class:revoked=revoked_at.is_some()>
            <td class="app-name">{name}</td>
            <td>{role_badge}</td>
            <td class="break">{created_by}</td>
            <td class="nowrap">{instant(created_at)}</td>
            <td class="nowrap">{last_used_at.map(instant).unwrap_or_else(|| "never".to_owned())}</td>
            <td>{status}</td>
            <td class="row-actions">
                {action}
                {move || error.get().map(|message| view! { <p class="row-error" role="alert">{message}</p> })}
            </td>
        </tr>
    }
    .into_any()
}

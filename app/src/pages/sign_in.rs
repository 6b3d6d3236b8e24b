//! The sign-in page: email and password, then — at an invited user's first sign-in — a new
//! password. A successful sign-in leaves with a full page load to `?next=` (default `/`).

use crate::api::auth::{SetNewPassword, SignIn};
use crate::error::AppError;
use crate::model::SignInOutcome;
use crate::pages::{field_error, form_error, full_navigation, interactive, url_encode, FieldError, FormError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where the sign-in stands; the page shows one form (or panel) per stage.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Credentials,
    NewPassword { email: String, rules: Vec<String> },
    NoAccess(String),
    SignedIn,
}

fn stage(
    sign_in: Option<Result<SignInOutcome, AppError>>,
    new_password: Option<Result<SignInOutcome, AppError>>,
) -> Stage {
    match (sign_in, new_password) {
        (_, Some(Err(e @ AppError::NoAccess { .. }))) | (Some(Err(e @ AppError::NoAccess { .. })), _) => {
            Stage::NoAccess(e.to_string())
        }
        (_, Some(Ok(SignInOutcome::SignedIn { .. }))) | (Some(Ok(SignInOutcome::SignedIn { .. })), _) => {
            Stage::SignedIn
        }
        (Some(Ok(SignInOutcome::NewPasswordRequired { email, rules })), _) => Stage::NewPassword { email, rules },
        _ => Stage::Credentials,
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let next =
        use_query_map().with_untracked(|q| q.get("next")).filter(|n| !n.is_empty()).unwrap_or_else(|| "/".into());
    let sign_in = ServerAction::<SignIn>::new();
    let new_password = ServerAction::<SetNewPassword>::new();
    for action in [sign_in.value(), new_password.value()] {
        Effect::new(move |_| {
            if let Some(Ok(SignInOutcome::SignedIn { next })) = action.get() {
                full_navigation(&next);
            }
        });
    }
    let current = Memo::new(move |_| stage(sign_in.value().get(), new_password.value().get()));
    // A refused attempt: the keyboard goes to what to correct.
    crate::pages::focus_errors_of(sign_in, "sign-in-card");
    crate::pages::focus_errors_of(new_password, "sign-in-card");
    let start_again = Callback::new(move |()| {
        new_password.clear();
        sign_in.clear();
    });
    let again_href = format!("/sign-in?next={}", url_encode(&next));
    view! {
        <Title text="Sign in" />
        <section class="auth-page">
            <div class="card auth-card" id="sign-in-card">
                {move || {
                    let next = next.clone();
                    match current.get() {
                        Stage::Credentials => view! { <CredentialsForm action=sign_in next /> }.into_any(),
                        Stage::NewPassword { email, rules } => {
                            view! { <NewPasswordForm action=new_password next email rules start_again /> }.into_any()
                        }
                        Stage::NoAccess(message) => view! {
                            <div class="auth-panel" data-testid="no-access">
                                <h1>"No access"</h1>
                                <p>{message}</p>
                                // A full load: a fresh page, with no trace of this attempt.
                                <p><a class="button" href=again_href.clone() rel="external">"Sign in as someone else"</a></p>
                            </div>
                        }.into_any(),
                        Stage::SignedIn => view! {
                            <div class="auth-panel" role="status">
                                <h1>"Signed in"</h1>
                                <p class="muted">"Opening the console…"</p>
                            </div>
                        }.into_any(),
                    }
                }}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn CredentialsForm(action: ServerAction<SignIn>, next: String) -> impl IntoView {
    let result = action.value();
    let pending = action.pending();
    let ready = interactive();
    let email_error = Signal::derive(move || result.with(|r| field_error(r, "email")));
    let password_error = Signal::derive(move || result.with(|r| field_error(r, "password")));
    let other_error = Signal::derive(move || result.with(|r| form_error(r, &["email", "password"])));
    view! {
        <h1>"Sign in to ShinyFleet"</h1>
        <p class="muted auth-lead">"Use the email address your invitation was sent to."</p>
        <FormError message=other_error />
        <ActionForm action attr:class="stack-form">
            <input type="hidden" name="next" value=next />
            <div class="field">
                <label for="sign-in-email">"Email"</label>
                <input
                    id="sign-in-email"
                    class="input"
                    type="email"
                    name="email"
                    autocomplete="username"
                    required
                    autofocus
                    aria-invalid=move || email_error.get().map(|_| "true")
                    aria-describedby="sign-in-email-error"
                />
                <FieldError id="sign-in-email-error" message=email_error />
            </div>
            <div class="field">
                <label for="sign-in-password">"Password"</label>
                <input
                    id="sign-in-password"
                    class="input"
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                    aria-invalid=move || password_error.get().map(|_| "true")
                    aria-describedby="sign-in-password-error"
                />
                <FieldError id="sign-in-password-error" message=password_error />
            </div>
            <button type="submit" class="button button-wide" disabled=move || !ready.get() || pending.get()>
                {move || if pending.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn NewPasswordForm(
    action: ServerAction<SetNewPassword>,
    next: String,
    email: String,
    rules: Vec<String>,
    start_again: Callback<()>,
) -> impl IntoView {
    let result = action.value();
    let pending = action.pending();
    let ready = interactive();
    let password_error = Signal::derive(move || result.with(|r| field_error(r, "password")));
    let confirm_error = Signal::derive(move || result.with(|r| field_error(r, "confirm")));
    let expired = Signal::derive(move || result.with(|r| field_error(r, "session")));
    let other_error = Signal::derive(move || result.with(|r| form_error(r, &["password", "confirm", "session"])));
    let rules = rules.into_iter().map(|rule| view! { <li>{rule}</li> }).collect_view();
    view! {
        <h1>"Choose a new password"</h1>
        <p class="muted auth-lead">
            "Welcome, " <strong class="text">{email}</strong>
            ". Your invitation's password was temporary: choose your own to finish signing in."
        </p>
        {move || expired.get().map(|message| view! {
            <div class="notice notice-error" role="alert">
                <p class="notice-text">{message}</p>
                <button type="button" class="button button-secondary button-small" on:click=move |_| start_again.run(())>
                    "Start again"
                </button>
            </div>
        })}
        <FormError message=other_error />
        <ActionForm action attr:class="stack-form">
            <input type="hidden" name="next" value=next />
            <div class="field">
                <label for="new-password">"New password"</label>
                <input
                    id="new-password"
                    class="input"
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    required
                    autofocus
                    aria-invalid=move || password_error.get().map(|_| "true")
                    aria-describedby="new-password-rules new-password-error"
                />
                <FieldError id="new-password-error" message=password_error />
                <ul class="rules" id="new-password-rules" aria-label="Password rules">{rules}</ul>
            </div>
            <div class="field">
                <label for="confirm-password">"Confirm new password"</label>
                <input
                    id="confirm-password"
                    class="input"
                    type="password"
                    name="confirm"
                    autocomplete="new-password"
                    required
                    aria-invalid=move || confirm_error.get().map(|_| "true")
                    aria-describedby="confirm-password-error"
                />
                <FieldError id="confirm-password-error" message=confirm_error />
            </div>
            <button type="submit" class="button button-wide" disabled=move || !ready.get() || pending.get()>
                {move || if pending.get() { "Setting password…" } else { "Set password and sign in" }}
            </button>
        </ActionForm>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_follows_the_latest_decisive_answer() {
        let challenge =
            Some(Ok(SignInOutcome::NewPasswordRequired { email: "ada@example.org".into(), rules: vec!["8+".into()] }));
        let no_access =
            || Some(Err(AppError::NoAccess { email: "a@b.c".into(), admins: "x".into(), viewers: "y".into() }));
        let signed_in = || Some(Ok(SignInOutcome::SignedIn { next: "/".into() }));
        assert_eq!(stage(None, None), Stage::Credentials);
        assert_eq!(stage(Some(Err(AppError::BadCredentials)), None), Stage::Credentials);
        assert!(matches!(stage(challenge.clone(), None), Stage::NewPassword { .. }));
        // A wrong confirmation keeps the new-password form.
        assert!(matches!(
            stage(challenge.clone(), Some(Err(AppError::invalid("confirm", "x")))),
            Stage::NewPassword { .. }
        ));
        assert!(matches!(stage(challenge.clone(), no_access()), Stage::NoAccess(_)));
        assert!(matches!(stage(no_access(), None), Stage::NoAccess(_)));
        assert_eq!(stage(challenge, signed_in()), Stage::SignedIn);
        assert_eq!(stage(signed_in(), None), Stage::SignedIn);
    }
}

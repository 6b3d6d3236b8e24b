//! The HTML document, the top bar (navigation and the signed-in user), the routes, and the
//! [`CurrentUser`] every page can ask for (defined in [`crate::current_user`], re-exported here).

use crate::api::auth::{whoami, SignOut};
use crate::model::Viewer;
use crate::pages::app::AppPage;
use crate::pages::app_form::{EditAppPage, NewAppPage};
use crate::pages::fleet::FleetPage;
use crate::pages::{
    audit::AuditPage, full_navigation, interactive, not_found::NotFound, people::PeoplePage, settings::SettingsPage,
    sign_in::SignInPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

pub use crate::current_user::CurrentUser;

/// The whole document, rendered on the server around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: the top bar around the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let user = CurrentUser(Resource::new(|| (), |_| whoami()));
    provide_context(user);
    view! {
        <Stylesheet id="leptos" href="/pkg/shinyfleet.css" />
        <Title formatter=|page: String| if page.is_empty() { "ShinyFleet".to_owned() } else { format!("{page} · ShinyFleet") } />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    "ShinyFleet"
                </a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.viewer().await.map(|viewer| view! {
                            <nav class="mainnav" aria-label="Main">
                                <A href="/" exact=true>"Fleet"</A>
                                <A href="/schedules">"Schedules"</A>
                                <A href="/costs">"Costs"</A>
                                <A href="/people">"People"</A>
                                <A href="/audit">"Audit"</A>
                                <A href="/settings">"Settings"</A>
                            </nav>
                            <UserMenu viewer />
                        })
                    })}
                </Suspense>
            </header>
            <main class="content" id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=FleetPage />
                    <Route path=path!("/sign-in") view=SignInPage />
                    <Route path=path!("/apps/new") view=NewAppPage />
                    <Route path=path!("/apps/:slug") view=AppPage />
                    <Route path=path!("/apps/:slug/edit") view=EditAppPage />
                    <Route path=path!("/schedules") view=crate::pages::schedule::SchedulesPage />
                    <Route path=path!("/costs") view=crate::pages::costs::CostsPage />
                    <Route path=path!("/people") view=PeoplePage />
                    <Route path=path!("/audit") view=AuditPage />
                    <Route path=path!("/settings") view=SettingsPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The signed-in user's email and role, and sign-out (a full page load to where the server
/// says: the sign-in page, or the load balancer's sign-out).
#[component]
fn UserMenu(viewer: Viewer) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(next)) = sign_out.value().get() {
            full_navigation(&next);
        }
    });
    let pending = sign_out.pending();
    let ready = interactive();
    let failed = move || matches!(sign_out.value().get(), Some(Err(_)));
    let (role, badge) =
        if viewer.is_admin() { ("admin", "badge badge-role-admin") } else { ("viewer", "badge badge-role-viewer") };
    view! {
        <div class="usermenu">
            <span class="user-email" title=viewer.email.clone() data-testid="user-email">{viewer.email.clone()}</span>
            <span class=badge data-testid="user-role">{role}</span>
            {viewer.sandbox.then(|| view! { <span class="badge badge-sandbox" title="Simulated AWS account">"sandbox"</span> })}
            <ActionForm action=sign_out attr:class="inline-form">
                <button type="submit" class="button button-topbar" disabled=move || !ready.get() || pending.get()>
                    {move || if pending.get() { "Signing out…" } else { "Sign out" }}
                </button>
            </ActionForm>
            {move || failed().then(|| view! { <span class="topbar-error" role="alert">"Sign-out failed; try again."</span> })}
        </div>
    }
    .into_any()
}

//! The HTML document, the top navigation and the routes.

use crate::pages::{fleet::FleetPage, not_found::NotFound, placeholder::Placeholder, settings::SettingsPage};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

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

/// The application: navigation around the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/shinyfleet.css" />
        <Title formatter=|page: String| if page.is_empty() { "ShinyFleet".to_owned() } else { format!("{page} · ShinyFleet") } />
        <Router>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    "ShinyFleet"
                </a>
                <nav class="mainnav" aria-label="Main">
                    <A href="/" exact=true>"Fleet"</A>
                    <A href="/schedules">"Schedules"</A>
                    <A href="/costs">"Costs"</A>
                    <A href="/people">"People"</A>
                    <A href="/audit">"Audit"</A>
                    <A href="/settings">"Settings"</A>
                </nav>
            </header>
            <main class="content">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=FleetPage />
                    <Route path=path!("/schedules") view=|| view! { <Placeholder title="Schedules" what="Start and stop each app on office hours, with holidays and temporary overrides." /> } />
                    <Route path=path!("/costs") view=|| view! { <Placeholder title="Costs" what="What each app costs per day and month to date, its projection and what its schedule saves." /> } />
                    <Route path=path!("/people") view=|| view! { <Placeholder title="People" what="Invite colleagues to the user pool, resend invitations, disable or remove users, manage groups." /> } />
                    <Route path=path!("/audit") view=|| view! { <Placeholder title="Audit" what="Every change: who, what, when, before and after; searchable and exportable." /> } />
                    <Route path=path!("/settings") view=SettingsPage />
                </Routes>
            </main>
        </Router>
    }
}

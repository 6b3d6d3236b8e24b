//! The page for any unknown address (answered with HTTP 404).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <section class="page empty-state">
            <h1>"Page not found"</h1>
            <p class="muted">"There is nothing at this address."</p>
            <p><a class="button" href="/">"Back to the fleet"</a></p>
        </section>
    }
}

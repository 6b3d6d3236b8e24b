//! A section of the console that is planned but not built yet: says so plainly.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Placeholder(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <section class="page">
            <div class="page-head"><h1>{title}</h1></div>
            <div class="empty-state card">
                <p class="lead">{what}</p>
                <p class="muted">"This section is not available in this version of ShinyFleet yet."</p>
            </div>
        </section>
    }
}

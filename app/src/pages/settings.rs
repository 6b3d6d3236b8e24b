//! Settings: what this console is connected to, and (for admins) the API tokens.

use crate::api::load_console_info;
use crate::pages::tokens::TokensCard;
use crate::pages::ErrorNotice;
use crate::shell::CurrentUser;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let info = Resource::new(|| (), |_| load_console_info());
    let user = CurrentUser::get();
    view! {
        <Title text="Settings" />
        <section class="page">
            <div class="page-head"><h1>"Settings"</h1></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(i) => view! {
                            <dl class="card facts">
                                <dt>"Version"</dt><dd>{i.version}</dd>
                                <dt>"Cloud"</dt><dd>{i.cloud}</dd>
                                <dt>"ECS cluster"</dt><dd><code>{i.cluster}</code></dd>
                                <dt>"Region"</dt><dd>{i.region.unwrap_or_else(|| "—".to_owned())}</dd>
                                <dt>"Status refresh"</dt><dd>{format!("every {} s", i.refresh_secs)}</dd>
                            </dl>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move { user.is_admin().await.then(|| view! { <TokensCard /> }) })}
            </Suspense>
        </section>
    }
}

//! One module per page, plus the small components they share.

pub mod fleet;
pub mod not_found;
pub mod placeholder;
pub mod settings;

use crate::error::AppError;
use leptos::prelude::*;

/// A failed load, shown in place of the page's content. Shows only the error's public text.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! {
        <div class="notice notice-error" role="alert">
            <strong>"Could not load this page. "</strong>
            {error.to_string()}
        </div>
    }
}

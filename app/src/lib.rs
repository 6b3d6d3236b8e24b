//! ShinyFleet's user interface: the HTML shell, pages, components and the server functions
//! they call. Rendered on the server (feature `ssr`) and hydrated in the browser (feature
//! `hydrate`); everything that only runs on the server lives in [`ssr`].

pub mod api;
pub mod error;
pub mod model;
pub mod pages;
pub mod shell;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use shell::{shell, App};

/// The browser entry point: attaches the server-rendered page to the reactive runtime.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}

//! ShinyFleet's user interface: the HTML shell, pages, components and the server functions
//! they call. Rendered on the server (feature `ssr`) and hydrated in the browser (feature
//! `hydrate`); server functions reach the use cases of the `service` crate through [`request`] (server only).

pub mod api;
pub mod current_user;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod request;
pub mod shell;

pub use shell::{shell, App};

/// The browser entry point: attaches the server-rendered page to the reactive runtime.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}

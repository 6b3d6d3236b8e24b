//! [`CurrentUser`]: who is signed in, as every page can ask for it. It lives apart from the
//! shell that provides it so that pages depend on this small handle rather than on the
//! document, top bar and routes.

use crate::error::AppError;
use crate::model::Viewer;
use leptos::prelude::*;

/// Who is signed in (`None` on the sign-in page), loaded once per page load; provided as
/// context so pages can show admins their controls and viewers none.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Viewer>, AppError>>);

impl CurrentUser {
    /// The context [`App`](crate::shell::App) provides.
    pub fn get() -> Self {
        expect_context()
    }

    /// The signed-in user, once known; `None` when nobody is signed in or it could not be told.
    pub async fn viewer(self) -> Option<Viewer> {
        self.0.await.ok().flatten()
    }

    /// Whether the signed-in user is an admin (`false` when nobody is).
    pub async fn is_admin(self) -> bool {
        self.viewer().await.is_some_and(|v| v.is_admin())
    }
}

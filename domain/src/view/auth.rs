//! Who is signed in and what the console is connected to.

use super::*;

/// What the Settings page shows about this console (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleInfo {
    pub version: String,
    pub cloud: String,
    pub cluster: String,
    pub region: Option<String>,
    pub refresh_secs: u64,
}

/// The signed-in user, as the pages see them (no token, no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub email: String,
    pub role: Role,
    /// Whether the console runs on the sandbox (its pages then show demo hints).
    pub sandbox: bool,
    /// Signed in by the load balancer: sign-out goes through it.
    pub via_load_balancer: bool,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// What a password sign-in led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInOutcome {
    /// Signed in; go to `next`.
    SignedIn { next: String },
    /// First sign-in of an invited user: a new password must be set first.
    NewPasswordRequired { email: String, rules: Vec<String> },
}

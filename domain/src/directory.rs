//! The `Directory` port: the user pool (Cognito) that holds the console's users and the
//! colleagues it invites. The pool is invite-only: users are created by an admin and sign in
//! the first time with a temporary password they must replace.

use crate::CloudError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a user stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invited, has not yet replaced the temporary password.
    Invited,
    /// Signed in at least once and set a password.
    Active,
    /// Disabled by an admin: cannot sign in.
    Disabled,
}

/// A user of the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The pool's user name (immutable id).
    pub username: String,
    pub email: String,
    pub status: UserStatus,
    pub created_at: Option<DateTime<Utc>>,
}

/// One page of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub users: Vec<User>,
    /// Pass back to get the next page; `None` on the last page.
    pub next: Option<String>,
}

/// An invitation: the email becomes the user's sign-in name and contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub email: String,
    /// A temporary password to set instead of letting the pool generate one (bootstrap and
    /// tests); the pool still sends its invitation message.
    pub temporary_password: Option<String>,
}

/// Tokens issued at sign-in. They are secrets: never log them or send them to the browser.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    pub expires_in_secs: i64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("expires_in_secs", &self.expires_in_secs).finish_non_exhaustive()
    }
}

/// The answer to a password sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in.
    Authenticated(Tokens),
    /// An invited user signing in for the first time must set a new password; answer with
    /// [`Directory::complete_new_password`] and this opaque challenge session.
    NewPasswordRequired { session: String },
}

/// The pool's rules for passwords, shown next to the new-password form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

impl Default for PasswordPolicy {
    /// Cognito's default policy.
    fn default() -> Self {
        Self {
            min_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
        }
    }
}

impl PasswordPolicy {
    /// The rules in words, one per line.
    pub fn describe(&self) -> Vec<String> {
        let mut rules = vec![format!("At least {} characters", self.min_length)];
        match (self.require_uppercase, self.require_lowercase) {
            (true, true) => rules.push("An upper-case and a lower-case letter".to_owned()),
            (true, false) => rules.push("An upper-case letter".to_owned()),
            (false, true) => rules.push("A lower-case letter".to_owned()),
            (false, false) => {}
        }
        if self.require_numbers {
            rules.push("A digit".to_owned());
        }
        if self.require_symbols {
            rules.push("A symbol, such as ! ? # or %".to_owned());
        }
        rules
    }
}

/// Cognito, as ShinyFleet uses it.
#[async_trait]
pub trait Directory: Send + Sync + 'static {
    /// A cheap call proving the pool answers (`NotFound` when it does not exist).
    async fn probe(&self) -> Result<(), CloudError>;

    /// The pool's password rules.
    async fn password_policy(&self) -> Result<PasswordPolicy, CloudError>;

    /// One page of users, at most `limit` (1–60), optionally only those whose email starts
    /// with `email_prefix`.
    async fn list_users(
        &self,
        email_prefix: Option<&str>,
        limit: u32,
        next: Option<&str>,
    ) -> Result<UserPage, CloudError>;

    /// Invites a user by email; the pool sends the invitation. `Conflict` when a user with
    /// that email exists, `Invalid` for an address the pool refuses.
    async fn invite(&self, invitation: &Invitation) -> Result<User, CloudError>;

    /// Sends the invitation again (with a new temporary password) to a user who has not
    /// signed in yet. `Invalid` for a user who already set a password, `NotFound` for an
    /// unknown user.
    async fn resend_invitation(&self, username: &str) -> Result<(), CloudError>;

    /// Prevents a user from signing in (existing sessions are not the pool's business).
    async fn disable(&self, username: &str) -> Result<(), CloudError>;

    /// Lets a disabled user sign in again.
    async fn enable(&self, username: &str) -> Result<(), CloudError>;

    /// Removes a user for good.
    async fn delete(&self, username: &str) -> Result<(), CloudError>;

    /// The pool's group names, sorted.
    async fn list_groups(&self) -> Result<Vec<String>, CloudError>;

    /// Creates a group if it does not exist yet (idempotent).
    async fn ensure_group(&self, group: &str) -> Result<(), CloudError>;

    /// The groups a user belongs to, sorted.
    async fn groups_of(&self, username: &str) -> Result<Vec<String>, CloudError>;

    /// Every member of a group (all pages). `NotFound` for an unknown group.
    async fn members_of(&self, group: &str) -> Result<Vec<User>, CloudError>;

    /// Adds a user to a group (idempotent). `NotFound` for an unknown user or group.
    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), CloudError>;

    /// Removes a user from a group (idempotent).
    async fn remove_from_group(&self, username: &str, group: &str) -> Result<(), CloudError>;

    /// Password sign-in. `NotAuthorized` for a wrong password, an unknown or disabled user
    /// (one message for all, so the answer does not reveal which) and an expired temporary
    /// password; `Invalid` for an account that needs a step the console does not offer (MFA,
    /// a password reset, an unconfirmed account).
    async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn, CloudError>;

    /// Answers the new-password challenge of a first sign-in. `Invalid` when the password
    /// breaks the pool's rules, `NotAuthorized` when the challenge session expired.
    async fn complete_new_password(&self, email: &str, new_password: &str, session: &str)
        -> Result<Tokens, CloudError>;

    /// Signs the user out of every device (revokes their refresh tokens) with the admin's
    /// credentials, so the console never keeps a user's token to do it. `NotFound` for an
    /// unknown user.
    async fn sign_out_everywhere(&self, username: &str) -> Result<(), CloudError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_are_described_as_the_pool_sets_them() {
        assert_eq!(
            PasswordPolicy::default().describe(),
            [
                "At least 8 characters",
                "An upper-case and a lower-case letter",
                "A digit",
                "A symbol, such as ! ? # or %"
            ]
        );
        let lax = PasswordPolicy {
            min_length: 12,
            require_uppercase: false,
            require_lowercase: true,
            require_numbers: false,
            require_symbols: false,
        };
        assert_eq!(lax.describe(), ["At least 12 characters", "A lower-case letter"]);
    }
}

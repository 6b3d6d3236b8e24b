//! Who is signed in, and what they may do.
//!
//! A sign-in through the [`Directory`](crate::directory::Directory) port yields tokens; an
//! [`IdentityVerifier`] checks the ID token (signature against the pool's keys, issuer,
//! audience, expiry, use) and only then says who the user is. The console's two roles come
//! from the user's groups, whose names are configurable ([`RoleGroups`]).

use crate::CloudError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A user proven by a verified token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The pool's stable subject id (`sub`).
    pub subject: String,
    /// The pool's user name (`cognito:username`), the key of every admin operation.
    pub username: String,
    pub email: String,
    /// Groups named in the token (`cognito:groups`), sorted; empty when the token names none.
    pub groups: Vec<String>,
}

/// Verifies the ID tokens the directory issues.
#[async_trait]
pub trait IdentityVerifier: Send + Sync + 'static {
    /// The identity in `id_token` once its signature, issuer, audience, expiry and `token_use`
    /// check out. `NotAuthorized` for any token that does not (forged, expired, for another
    /// client, `alg: none`, malformed); `Unavailable` when the signing keys cannot be fetched.
    async fn verify_id_token(&self, id_token: &str) -> Result<Identity, CloudError>;
}

/// What a signed-in user may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees everything, changes nothing.
    Viewer,
    /// Sees and changes everything.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }

    /// `admin` or `viewer`.
    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// Whether this role includes everything `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pool groups that grant the console's roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGroups {
    pub admins: String,
    pub viewers: String,
}

impl Default for RoleGroups {
    fn default() -> Self {
        Self { admins: "shinyfleet-admins".to_owned(), viewers: "shinyfleet-viewers".to_owned() }
    }
}

impl RoleGroups {
    /// The strongest role the groups grant; `None` for a user in neither group.
    pub fn role_of(&self, groups: &[String]) -> Option<Role> {
        if groups.contains(&self.admins) {
            Some(Role::Admin)
        } else if groups.contains(&self.viewers) {
            Some(Role::Viewer)
        } else {
            None
        }
    }

    /// The group that grants `role`.
    pub fn group_for(&self, role: Role) -> &str {
        match role {
            Role::Admin => &self.admins,
            Role::Viewer => &self.viewers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_admin_group_wins_over_the_viewer_group_and_other_groups_grant_nothing() {
        let rg = RoleGroups::default();
        assert_eq!(rg.role_of(&groups(&["shinyfleet-viewers", "shinyfleet-admins"])), Some(Role::Admin));
        assert_eq!(rg.role_of(&groups(&["shinyfleet-viewers"])), Some(Role::Viewer));
        assert_eq!(rg.role_of(&groups(&["analysts", "Shinyfleet-Admins"])), None);
        assert_eq!(rg.role_of(&[]), None);
    }

    #[test]
    fn configured_group_names_are_the_ones_that_count() {
        let rg = RoleGroups { admins: "ops".into(), viewers: "data".into() };
        assert_eq!(rg.role_of(&groups(&["data"])), Some(Role::Viewer));
        assert_eq!(rg.role_of(&groups(&["shinyfleet-admins"])), None);
        assert_eq!(rg.group_for(Role::Admin), "ops");
    }

    #[test]
    fn an_admin_may_do_what_a_viewer_may_but_not_the_reverse() {
        assert!(Role::Admin.allows(Role::Viewer) && Role::Admin.allows(Role::Admin));
        assert!(Role::Viewer.allows(Role::Viewer) && !Role::Viewer.allows(Role::Admin));
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("Admin"), None);
    }
}

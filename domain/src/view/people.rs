//! The People page: the pool's users and invitations.

use super::*;

/// A user of the pool with their groups, as the People page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub username: String,
    pub email: String,
    pub status: UserStatus,
    pub groups: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// One page of the People list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub people: Vec<Person>,
    /// Opaque: pass back for the next page.
    pub next: Option<String>,
    /// Every group of the pool, for the group pickers.
    pub groups: Vec<String>,
    pub role_groups: RoleGroups,
}

/// The answer to an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invited {
    pub person: Person,
    /// Only on the sandbox, which sends no email: the invitee's temporary password.
    pub sandbox_temporary_password: Option<String>,
}

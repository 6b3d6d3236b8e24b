//! The People page and `/api/v1/users`: the pool's users with their groups, invitations and
//! user changes. Every change is made in the directory first and recorded in the audit log
//! as soon as the directory accepted it; changes that take access away also end the user's
//! sessions (in the same transaction as the audit row).

use crate::audit::{self, Entry};
use crate::auth::{revoke_sessions, Caller};
use crate::Error;
use crate::Services;
use domain::directory::{Invitation, User, UserStatus};
use domain::view::{Invited, PeoplePage, Person};
use domain::{CloudError, EmailAddress};
use serde_json::json;

/// Users per page.
pub const PAGE_SIZE: u32 = 25;

/// Checks a user name taken from a URL or a form before it reaches the directory.
pub fn parse_username(raw: &str) -> Result<String, Error> {
    let ok = !raw.is_empty() && raw.chars().count() <= 128 && !raw.chars().any(|c| c.is_control() || c == '/');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid("username", "Not a user name of this pool."))
    }
}

/// The search box: the start of an email address.
fn parse_query(raw: Option<&str>) -> Result<Option<String>, Error> {
    let q = raw.map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
    match q {
        Some(q) if q.chars().count() > 128 || q.chars().any(char::is_control) => {
            Err(Error::invalid("q", "Search for the start of an email address (at most 128 characters)."))
        }
        other => Ok(other),
    }
}

/// One page of users (searched by the start of their email) with their groups.
pub async fn list(state: &Services, query: Option<&str>, next: Option<&str>) -> Result<PeoplePage, Error> {
    let query = parse_query(query)?;
    let next = next.filter(|n| !n.is_empty());
    if next.is_some_and(|n| n.len() > 4096) {
        return Err(Error::invalid("next", "Not a page of this list."));
    }
    let directory = &state.cloud.directory;
    let page = match directory.list_users(query.as_deref(), PAGE_SIZE, next).await {
        Ok(page) => page,
        Err(CloudError::Invalid(_)) if next.is_some() => {
            return Err(Error::invalid("next", "Not a page of this list."))
        }
        Err(e) => return Err(Error::cloud(e)),
    };
    let groups = directory.list_groups().await.map_err(Error::cloud)?;
    let mut people = Vec::with_capacity(page.users.len());
    // One call per user shown (at most a page): Cognito has no batch call for memberships.
    let memberships = futures::future::join_all(page.users.iter().map(|u| directory.groups_of(&u.username))).await;
    for (user, groups) in page.users.into_iter().zip(memberships) {
        let groups = match groups {
            Ok(g) => g,
            // Deleted between the two calls: leave them out.
            Err(CloudError::NotFound(_)) => continue,
            Err(e) => return Err(Error::cloud(e)),
        };
        people.push(person(user, groups));
    }
    Ok(PeoplePage { people, next: page.next, groups, role_groups: state.auth.role_groups.clone() })
}

fn person(user: User, groups: Vec<String>) -> Person {
    Person { username: user.username, email: user.email, status: user.status, groups, created_at: user.created_at }
}

/// Invites `email` into `group` (optional; must be a group of the pool). Nothing changes when
/// the email is malformed or taken or the group unknown.
pub async fn invite(state: &Services, caller: &Caller, email: &str, group: Option<&str>) -> Result<Invited, Error> {
    let email = EmailAddress::parse(email)?;
    let group = group.map(str::trim).filter(|g| !g.is_empty());
    let directory = &state.cloud.directory;
    if let Some(group) = group {
        let groups = directory.list_groups().await.map_err(Error::cloud)?;
        if !groups.iter().any(|g| g == group) {
            return Err(Error::invalid("group", format!("There is no group named {group}.")));
        }
    }
    let invitation = Invitation { email: email.to_string(), temporary_password: None };
    let user = match directory.invite(&invitation).await {
        Ok(user) => user,
        Err(CloudError::Conflict(_)) => {
            return Err(Error::invalid("email", "A user with this email already exists."));
        }
        Err(CloudError::Invalid(message)) => return Err(Error::invalid("email", message)),
        Err(e) => return Err(Error::cloud(e)),
    };
    let mut groups = vec![];
    let mut not_grouped = None;
    if let Some(group) = group {
        match directory.add_to_group(&user.username, group).await {
            Ok(()) => groups.push(group.to_owned()),
            Err(e) => not_grouped = Some((group, e)),
        }
    }
    let after = json!({ "email": email, "groups": groups });
    record(state, caller, "user.invite", email.as_str(), None, Some(after), false).await?;
    if let Some((group, e)) = not_grouped {
        // The invitation went out; say what is missing rather than pretend nothing happened.
        tracing::warn!(error = %e, "an invited user could not be added to their group");
        return Err(Error::Conflict(format!(
            "{email} was invited, but could not be added to {group}; add the group from the list."
        )));
    }
    let sandbox_temporary_password = state.sandbox_hints.as_ref().and_then(|h| h.temporary_password(email.as_str()));
    Ok(Invited { person: person(user, groups), sandbox_temporary_password })
}

/// Sends the invitation again to a user who has not signed in yet.
pub async fn resend(state: &Services, caller: &Caller, username: &str) -> Result<(), Error> {
    let username = parse_username(username)?;
    match state.cloud.directory.resend_invitation(&username).await {
        Ok(()) => record(state, caller, "user.resend_invitation", &username, None, None, false).await,
        Err(e) => Err(user_error(e)),
    }
}

/// Disables or enables a user. Disabling ends their sessions. An admin cannot disable
/// themselves (they would lock themselves out).
pub async fn set_enabled(state: &Services, caller: &Caller, username: &str, enabled: bool) -> Result<(), Error> {
    let username = parse_username(username)?;
    if !enabled {
        not_self(caller, &username, "You cannot disable your own account.")?;
    }
    let directory = &state.cloud.directory;
    let _serialised = state.auth.admin_changes.lock().await;
    if !enabled {
        keep_an_admin(state, &username).await?;
    }
    let done = if enabled { directory.enable(&username).await } else { directory.disable(&username).await };
    done.map_err(user_error)?;
    let action = if enabled { "user.enable" } else { "user.disable" };
    record(state, caller, action, &username, None, Some(json!({ "enabled": enabled })), !enabled).await
}

/// Deletes a user for good; `confirm` must repeat their user name or email.
pub async fn delete(state: &Services, caller: &Caller, username: &str, confirm: &str) -> Result<(), Error> {
    let username = parse_username(username)?;
    not_self(caller, &username, "You cannot delete your own account.")?;
    let confirm = confirm.trim().to_lowercase();
    if confirm.is_empty() {
        return Err(Error::invalid("confirm", "Type the user's email to confirm."));
    }
    let directory = &state.cloud.directory;
    if confirm != username.to_lowercase() {
        // The email is what the page shows: accept it, after checking it names this user.
        let users = directory.list_users(Some(&confirm), 60, None).await.map_err(Error::cloud)?;
        if !users.users.iter().any(|u| u.username == username && u.email.to_lowercase() == confirm) {
            return Err(Error::invalid("confirm", "That is not this user's email."));
        }
    }
    let _serialised = state.auth.admin_changes.lock().await;
    keep_an_admin(state, &username).await?;
    directory.delete(&username).await.map_err(user_error)?;
    let (before, after) = (json!({ "exists": true }), json!({ "exists": false }));
    record(state, caller, "user.delete", &username, Some(before), Some(after), true).await
}

/// Adds a user to a group or removes them from it. Group changes end the user's sessions, so
/// their new role applies from their next request. An admin cannot remove themselves from
/// the admins' group.
pub async fn set_group(
    state: &Services,
    caller: &Caller,
    username: &str,
    group: &str,
    member: bool,
) -> Result<(), Error> {
    let username = parse_username(username)?;
    let group = group.trim();
    if !member && group == state.auth.role_groups.admins {
        not_self(caller, &username, "You cannot remove yourself from the admins' group.")?;
    }
    let directory = &state.cloud.directory;
    let groups = directory.list_groups().await.map_err(Error::cloud)?;
    if !groups.iter().any(|g| g == group) {
        return Err(Error::invalid("group", format!("There is no group named {group}.")));
    }
    let _serialised = state.auth.admin_changes.lock().await;
    let before = directory.groups_of(&username).await.map_err(user_error)?;
    if before.iter().any(|g| g == group) == member {
        // Nothing to change, so nothing to record.
        return Ok(());
    }
    if !member && group == state.auth.role_groups.admins {
        keep_an_admin(state, &username).await?;
    }
    let done = if member {
        directory.add_to_group(&username, group).await
    } else {
        directory.remove_from_group(&username, group).await
    };
    done.map_err(user_error)?;
    let mut after: Vec<String> = before.iter().filter(|g| *g != group).cloned().collect();
    if member {
        after.push(group.to_owned());
        after.sort();
    }
    let action = if member { "user.add_group" } else { "user.remove_group" };
    let (before, after) = (json!({ "groups": before }), json!({ "groups": after }));
    record(state, caller, action, &username, Some(before), Some(after), true).await
}

/// Refuses a change that would leave no active admin (disabling, deleting or demoting the
/// last one): nobody could then manage the console but `shinyfleet admin invite`. Call it
/// holding `state.auth.admin_changes`.
async fn keep_an_admin(state: &Services, username: &str) -> Result<(), Error> {
    let admins = match state.cloud.directory.members_of(&state.auth.role_groups.admins).await {
        Ok(admins) => admins,
        Err(CloudError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(Error::cloud(e)),
    };
    let active: Vec<_> = admins.iter().filter(|u| u.status == UserStatus::Active).collect();
    let is_target = |u: &&User| u.username.eq_ignore_ascii_case(username) || u.email.eq_ignore_ascii_case(username);
    if active.len() <= 1 && active.iter().any(is_target) {
        return Err(Error::Conflict(format!("{username} is the last active admin: make someone else an admin first.")));
    }
    Ok(())
}

/// Refuses a change of the caller's own account. The pool takes user names without case and
/// also accepts the email in their place, so both are compared without case.
fn not_self(caller: &Caller, username: &str, message: &str) -> Result<(), Error> {
    let target = username.to_lowercase();
    let p = &caller.principal;
    let is_self = p.username.as_deref().is_some_and(|u| u.to_lowercase() == target) || p.name.to_lowercase() == target;
    if is_self {
        return Err(Error::Conflict(message.to_owned()));
    }
    Ok(())
}

/// A directory error about one user, for the person asking.
fn user_error(e: CloudError) -> Error {
    match e {
        CloudError::NotFound(_) => Error::NotFound,
        CloudError::Invalid(message) => Error::Conflict(message),
        e => Error::cloud(e),
    }
}

/// Records a change the directory accepted about user `username` and, when it takes access
/// away (`revoke`), ends the user's sessions in the same transaction.
async fn record(
    state: &Services,
    caller: &Caller,
    action: &str,
    username: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    revoke: bool,
) -> Result<(), Error> {
    let now = state.clock.now();
    let actor = caller.actor();
    let entry = Entry { actor: &actor, source: caller.source(), action, target: username, before, after };
    let mut tx = crate::begin_write(&state.pool).await?;
    audit::record(&mut tx, &entry, now).await?;
    if revoke {
        revoke_sessions(&mut tx, username, now).await?;
    }
    Ok(tx.commit().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_from_urls_are_checked() {
        assert!(parse_username("ada@example.org").is_ok());
        assert!(parse_username("6f1c-42").is_ok());
        for bad in ["", "a/b", "a\u{0}b", &"x".repeat(129)] {
            assert_eq!(parse_username(bad).unwrap_err().code(), "invalid");
        }
    }

    #[test]
    fn searches_are_trimmed_lower_cased_and_bounded() {
        assert_eq!(parse_query(Some("  Ada ")).unwrap(), Some("ada".to_owned()));
        assert_eq!(parse_query(Some("   ")).unwrap(), None);
        assert!(parse_query(Some(&"a".repeat(129))).is_err());
        assert!(parse_query(Some("a\nb")).is_err());
    }
}

//! The sandbox's user pool, behind the `Directory` port: an invite-only Cognito pool kept
//! in memory, so the console's people pages and sign-in work without AWS.
//!
//! It follows Cognito where the console can tell: the email is the user name (compared in
//! lower case), an invited user signs in with a temporary password (valid 7 days) and must
//! set a new one through a challenge session (valid 3 minutes), wrong passwords, unknown
//! and disabled users all get the same refusal, and users are listed by email with an
//! opaque page token, and ID tokens are ES256 JWTs with Cognito's claims (`sub`,
//! `cognito:username`, `email`, `cognito:groups`, `token_use: id`, …) signed with the
//! sandbox's key. It differs where nothing observable depends on it: access tokens are opaque
//! random strings; passwords are kept as given (it is a simulation holding demo accounts);
//! and no email is sent — [`super::Sandbox::temporary_password`] reads the invitation instead.

use super::idtoken::IdTokenSigner;
use super::rng::Rng;
use super::{Sandbox, SANDBOX_CLIENT_ID, SANDBOX_ISSUER};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::directory::{Directory, Invitation, PasswordPolicy, SignIn, Tokens, User, UserPage, UserStatus};
use domain::CloudError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

const TEMPORARY_PASSWORD_DAYS: i64 = 7;
const CHALLENGE_SECS: i64 = 3 * 60;
const TOKEN_SECS: i64 = 60 * 60;
const MAX_PAGE: u32 = 60;
const PAGE_TOKEN_PREFIX: &str = "sbx1.";

pub(crate) const PASSWORD_RULE: &str =
    "Password must be at least 8 characters long and contain an upper-case letter, a lower-case letter and a digit.";
const SIGN_IN_REFUSED: &str = "Incorrect username or password.";
const TEMPORARY_PASSWORD_EXPIRED: &str = "Temporary password has expired and must be reset by an administrator.";
const CHALLENGE_REFUSED: &str = "Invalid session for the user, session is expired.";

#[derive(Debug)]
struct Account {
    /// The stable subject id (`sub`), drawn when the user is created.
    sub: String,
    email: String,
    password: String,
    /// Invited: signed in with the temporary password only, must replace it.
    invited: bool,
    enabled: bool,
    groups: BTreeSet<String>,
    created_at: DateTime<Utc>,
    temporary_expires_at: Option<DateTime<Utc>>,
}

impl Account {
    fn status(&self) -> UserStatus {
        match (self.enabled, self.invited) {
            (false, _) => UserStatus::Disabled,
            (true, true) => UserStatus::Invited,
            (true, false) => UserStatus::Active,
        }
    }

    fn user(&self) -> User {
        User {
            username: self.email.clone(),
            email: self.email.clone(),
            status: self.status(),
            created_at: Some(self.created_at),
        }
    }
}

/// Something handed out that names a user until it expires (challenge session, token).
#[derive(Debug)]
struct Grant {
    username: String,
    expires_at: DateTime<Utc>,
}

/// The claims of a sandbox ID token, named as Cognito names them.
#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    token_use: &'a str,
    sub: &'a str,
    #[serde(rename = "cognito:username")]
    username: &'a str,
    email: &'a str,
    email_verified: bool,
    #[serde(rename = "cognito:groups", skip_serializing_if = "Vec::is_empty")]
    groups: Vec<&'a str>,
    auth_time: i64,
    iat: i64,
    exp: i64,
    jti: String,
}

#[derive(Debug)]
pub(crate) struct Pool {
    rng: Rng,
    signer: Arc<IdTokenSigner>,
    users: BTreeMap<String, Account>,
    groups: BTreeSet<String>,
    challenges: BTreeMap<String, Grant>,
    access_tokens: BTreeMap<String, Grant>,
}

impl Pool {
    pub(crate) fn new(rng: Rng, signer: Arc<IdTokenSigner>) -> Self {
        Self {
            rng,
            signer,
            users: BTreeMap::new(),
            groups: BTreeSet::new(),
            challenges: BTreeMap::new(),
            access_tokens: BTreeMap::new(),
        }
    }

    /// Drops challenge sessions and tokens that expired.
    pub(crate) fn forget_expired(&mut self, now: DateTime<Utc>) {
        self.challenges.retain(|_, g| g.expires_at > now);
        self.access_tokens.retain(|_, g| g.expires_at > now);
    }

    /// A confirmed user with a permanent password, in the given groups (created if needed).
    pub(crate) fn add_user(
        &mut self,
        email: &str,
        password: &str,
        groups: &[&str],
        now: DateTime<Utc>,
    ) -> Result<(), CloudError> {
        let email = normalise_email(email)?;
        check_password(password)?;
        for group in groups {
            check_group(group)?;
        }
        if self.users.contains_key(&email) {
            return Err(CloudError::Conflict(format!("user {email}")));
        }
        self.groups.extend(groups.iter().map(|g| (*g).to_owned()));
        let account = Account {
            sub: self.rng.uuid(),
            email: email.clone(),
            password: password.to_owned(),
            invited: false,
            enabled: true,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            created_at: now,
            temporary_expires_at: None,
        };
        self.users.insert(email, account);
        Ok(())
    }

    /// The temporary password of an invited user: what the invitation email would say.
    pub(crate) fn temporary_password(&self, email: &str) -> Option<String> {
        self.users.get(&email.trim().to_lowercase()).filter(|a| a.invited).map(|a| a.password.clone())
    }

    fn list_users(&self, email_prefix: Option<&str>, limit: u32, next: Option<&str>) -> Result<UserPage, CloudError> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(CloudError::Invalid(format!("limit must be between 1 and {MAX_PAGE}")));
        }
        let after = next.map(decode_page_token).transpose()?;
        let prefix = email_prefix.map(|p| p.trim().to_lowercase()).unwrap_or_default();
        let lower = match &after {
            Some(last) => Bound::Excluded(last.clone()),
            None => Bound::Unbounded,
        };
        let mut matching = self
            .users
            .range::<String, _>((lower, Bound::Unbounded))
            .filter(|(email, _)| email.starts_with(&prefix))
            .map(|(_, account)| account.user());
        let users: Vec<User> = matching.by_ref().take(limit as usize).collect();
        let next = match (matching.next(), users.last()) {
            (Some(_), Some(last)) => Some(encode_page_token(&last.username)),
            _ => None,
        };
        Ok(UserPage { users, next })
    }

    fn invite(&mut self, invitation: &Invitation, now: DateTime<Utc>) -> Result<User, CloudError> {
        let email = normalise_email(&invitation.email)?;
        let password = match &invitation.temporary_password {
            Some(given) => {
                check_password(given)?;
                given.clone()
            }
            None => generate_password(&mut self.rng),
        };
        if self.users.contains_key(&email) {
            return Err(CloudError::Conflict(format!("user {email}")));
        }
        let account = Account {
            sub: self.rng.uuid(),
            email: email.clone(),
            password,
            invited: true,
            enabled: true,
            groups: BTreeSet::new(),
            created_at: now,
            temporary_expires_at: Some(now + Duration::days(TEMPORARY_PASSWORD_DAYS)),
        };
        let user = account.user();
        self.users.insert(email, account);
        tracing::info!(user = %user.email, "sandbox directory: invitation sent (read with Sandbox::temporary_password)");
        Ok(user)
    }

    /// Like Cognito's RESEND: a new temporary password, valid for another 7 days.
    fn resend_invitation(&mut self, username: &str, now: DateTime<Utc>) -> Result<(), CloudError> {
        let password = generate_password(&mut self.rng);
        let account = self.account_mut(username)?;
        if !(account.invited && account.enabled) {
            return Err(CloudError::Invalid(format!(
                "user {} is not waiting for an invitation: only invited users who never signed in can be sent it again",
                account.email
            )));
        }
        account.password = password;
        account.temporary_expires_at = Some(now + Duration::days(TEMPORARY_PASSWORD_DAYS));
        tracing::info!(user = %account.email, "sandbox directory: invitation sent again");
        Ok(())
    }

    fn set_enabled(&mut self, username: &str, enabled: bool) -> Result<(), CloudError> {
        self.account_mut(username)?.enabled = enabled;
        Ok(())
    }

    fn delete(&mut self, username: &str) -> Result<(), CloudError> {
        let key = username.trim().to_lowercase();
        self.users.remove(&key).ok_or_else(|| user_not_found(username))?;
        self.challenges.retain(|_, g| g.username != key);
        self.access_tokens.retain(|_, g| g.username != key);
        Ok(())
    }

    fn ensure_group(&mut self, group: &str) -> Result<(), CloudError> {
        check_group(group)?;
        self.groups.insert(group.to_owned());
        Ok(())
    }

    fn groups_of(&self, username: &str) -> Result<Vec<String>, CloudError> {
        let account = self.users.get(&username.trim().to_lowercase()).ok_or_else(|| user_not_found(username))?;
        Ok(account.groups.iter().cloned().collect())
    }

    fn members_of(&self, group: &str) -> Result<Vec<User>, CloudError> {
        if !self.groups.contains(group) {
            return Err(CloudError::NotFound(format!("group {group}")));
        }
        Ok(self.users.values().filter(|a| a.groups.contains(group)).map(Account::user).collect())
    }

    fn set_membership(&mut self, username: &str, group: &str, member: bool) -> Result<(), CloudError> {
        if !self.groups.contains(group) {
            return Err(CloudError::NotFound(format!("group {group}")));
        }
        let account = self.account_mut(username)?;
        if member {
            account.groups.insert(group.to_owned());
        } else {
            account.groups.remove(group);
        }
        Ok(())
    }

    fn sign_in(&mut self, email: &str, password: &str, now: DateTime<Utc>) -> Result<SignIn, CloudError> {
        let username = email.trim().to_lowercase();
        let (invited, temporary_expires_at) = self
            .users
            .get(&username)
            .filter(|a| a.enabled && a.password == password)
            .map(|a| (a.invited, a.temporary_expires_at))
            .ok_or_else(|| CloudError::NotAuthorized(SIGN_IN_REFUSED.to_owned()))?;
        if !invited {
            return Ok(SignIn::Authenticated(self.issue_tokens(&username, now)?));
        }
        if temporary_expires_at.is_some_and(|at| at <= now) {
            return Err(CloudError::NotAuthorized(TEMPORARY_PASSWORD_EXPIRED.to_owned()));
        }
        let session = format!("sbx-session-{}", self.rng.hex(64));
        let grant = Grant { username, expires_at: now + Duration::seconds(CHALLENGE_SECS) };
        self.challenges.insert(session.clone(), grant);
        Ok(SignIn::NewPasswordRequired { session })
    }

    fn complete_new_password(
        &mut self,
        email: &str,
        new_password: &str,
        session: &str,
        now: DateTime<Utc>,
    ) -> Result<Tokens, CloudError> {
        let username = email.trim().to_lowercase();
        let valid = self.challenges.get(session).is_some_and(|g| g.username == username && g.expires_at > now)
            && self.users.get(&username).is_some_and(|a| a.enabled && a.invited);
        if !valid {
            return Err(CloudError::NotAuthorized(CHALLENGE_REFUSED.to_owned()));
        }
        check_password(new_password)?;
        self.challenges.remove(session);
        let account = self.account_mut(&username)?;
        account.password = new_password.to_owned();
        account.invited = false;
        account.temporary_expires_at = None;
        self.issue_tokens(&username, now)
    }

    /// Revokes every access token of the user, as AdminUserGlobalSignOut does.
    fn sign_out_everywhere(&mut self, username: &str) -> Result<(), CloudError> {
        let key = username.trim().to_lowercase();
        if !self.users.contains_key(&key) {
            return Err(user_not_found(username));
        }
        self.access_tokens.retain(|_, g| g.username != key);
        Ok(())
    }

    /// An opaque access token and a signed ID token naming the user and their groups now.
    fn issue_tokens(&mut self, username: &str, now: DateTime<Utc>) -> Result<Tokens, CloudError> {
        let jti = self.rng.uuid();
        let account = self.users.get(username).ok_or_else(|| user_not_found(username))?;
        let claims = IdClaims {
            iss: SANDBOX_ISSUER,
            aud: SANDBOX_CLIENT_ID,
            token_use: "id",
            sub: &account.sub,
            username: &account.email,
            email: &account.email,
            email_verified: true,
            groups: account.groups.iter().map(String::as_str).collect(),
            auth_time: now.timestamp(),
            iat: now.timestamp(),
            exp: now.timestamp() + TOKEN_SECS,
            jti,
        };
        let id_token = self.signer.sign(&claims)?;
        let access_token = format!("sbx-access-{}", self.rng.hex(64));
        let grant = Grant { username: username.to_owned(), expires_at: now + Duration::seconds(TOKEN_SECS) };
        self.access_tokens.insert(access_token.clone(), grant);
        Ok(Tokens { id_token, access_token, expires_in_secs: TOKEN_SECS })
    }

    fn account_mut(&mut self, username: &str) -> Result<&mut Account, CloudError> {
        self.users.get_mut(&username.trim().to_lowercase()).ok_or_else(|| user_not_found(username))
    }
}

fn user_not_found(username: &str) -> CloudError {
    CloudError::NotFound(format!("user {username}"))
}

/// The pool's key for an email: trimmed and lower-cased; refuses what is not an address.
fn normalise_email(raw: &str) -> Result<String, CloudError> {
    let email = raw.trim().to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && email.len() <= 254
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err(CloudError::Invalid("Invalid email address format.".to_owned()))
    }
}

/// The pool's password policy: at least 8 characters with an upper-case letter, a
/// lower-case letter and a digit.
pub(crate) fn check_password(password: &str) -> Result<(), CloudError> {
    let ok = password.chars().count() >= 8
        && password.chars().any(|c| c.is_uppercase())
        && password.chars().any(|c| c.is_lowercase())
        && password.chars().any(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(CloudError::Invalid(PASSWORD_RULE.to_owned()))
    }
}

/// Cognito group names: 1–128 characters without white space.
fn check_group(group: &str) -> Result<(), CloudError> {
    if group.is_empty() || group.chars().count() > 128 || group.chars().any(char::is_whitespace) {
        return Err(CloudError::Invalid("a group name is 1 to 128 characters without spaces".to_owned()));
    }
    Ok(())
}

/// A 12-character temporary password that satisfies the policy (and avoids look-alikes).
fn generate_password(rng: &mut Rng) -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"!#$%&*+-=?@^_";
    let mut pick = |set: &[u8]| set[rng.below(set.len() as u64) as usize];
    let mut chars = vec![pick(UPPER), pick(LOWER), pick(DIGIT), pick(SYMBOL)];
    let all: Vec<u8> = [UPPER, LOWER, DIGIT, SYMBOL].concat();
    chars.extend((0..8).map(|_| pick(&all)));
    for i in (1..chars.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        chars.swap(i, j);
    }
    chars.into_iter().map(char::from).collect()
}

fn encode_page_token(last_username: &str) -> String {
    let hex: String = last_username.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{PAGE_TOKEN_PREFIX}{hex}")
}

fn decode_page_token(token: &str) -> Result<String, CloudError> {
    let invalid = || CloudError::Invalid("invalid pagination token".to_owned());
    let hex = token.strip_prefix(PAGE_TOKEN_PREFIX).ok_or_else(invalid)?;
    if hex.len() % 2 != 0 {
        return Err(invalid());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[async_trait]
impl Directory for Sandbox {
    async fn probe(&self) -> Result<(), CloudError> {
        Ok(())
    }

    async fn password_policy(&self) -> Result<PasswordPolicy, CloudError> {
        Ok(PasswordPolicy { require_symbols: false, ..PasswordPolicy::default() })
    }

    async fn list_users(
        &self,
        email_prefix: Option<&str>,
        limit: u32,
        next: Option<&str>,
    ) -> Result<UserPage, CloudError> {
        self.with_pool(|pool, _| pool.list_users(email_prefix, limit, next))
    }

    async fn invite(&self, invitation: &Invitation) -> Result<User, CloudError> {
        self.with_pool(|pool, now| pool.invite(invitation, now))
    }

    async fn resend_invitation(&self, username: &str) -> Result<(), CloudError> {
        self.with_pool(|pool, now| pool.resend_invitation(username, now))
    }

    async fn disable(&self, username: &str) -> Result<(), CloudError> {
        self.with_pool(|pool, _| pool.set_enabled(username, false))
    }

    async fn enable(&self, username: &str) -> Result<(), CloudError> {
        self.with_pool(|pool, _| pool.set_enabled(username, true))
    }

    async fn delete(&self, username: &str) -> Result<(), CloudError> {
        self.with_pool(|pool, _| pool.delete(username))
    }

    async fn list_groups(&self) -> Result<Vec<String>, CloudError> {
        self.with_pool(|pool, _| Ok(pool.groups.iter().cloned().collect()))
    }

    async fn ensure_group(&self, group: &str) -> Result<(), CloudError> {
        self.with_pool(|pool, _| pool.ensure_group(group))
    }

    async fn groups_of(&self, username: &str) -> Result<Vec<String>, CloudError> {
        self.with_pool(|pool, _| pool.groups_of(username))
    }

    async fn members_of(&self, group: &str) -> Result<Vec<User>, CloudError> {
        self.with_pool(|pool, _| pool.members_of(group))
    }

    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), CloudError> {
        self.with_pool(|pool, _| pool.set_membership(username, group, true))
    }

    async fn remove_from_group(&self, username: &str, group: &str) -> Result<(), CloudError> {
        self.with_pool(|pool, _| pool.set_membership(username, group, false))
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn, CloudError> {
        self.with_pool(|pool, now| pool.sign_in(email, password, now))
    }

    async fn complete_new_password(
        &self,
        email: &str,
        new_password: &str,
        session: &str,
    ) -> Result<Tokens, CloudError> {
        self.with_pool(|pool, now| pool.complete_new_password(email, new_password, session, now))
    }

    async fn sign_out_everywhere(&self, username: &str) -> Result<(), CloudError> {
        self.with_pool(|pool, _| pool.sign_out_everywhere(username))
    }
}

#[cfg(test)]
mod tests {
    use super::super::ManualClock;
    use super::*;
    use chrono::TimeZone;
    use domain::IdentityVerifier;
    use std::sync::Arc;

    fn world() -> (Arc<ManualClock>, Arc<Sandbox>) {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 3, 8, 0, 0).single().expect("a valid instant"));
        let sandbox = Sandbox::new(clock.clone(), 21);
        (clock, sandbox)
    }

    fn invitation(email: &str, temporary_password: Option<&str>) -> Invitation {
        Invitation { email: email.to_owned(), temporary_password: temporary_password.map(str::to_owned) }
    }

    fn refused(result: Result<impl std::fmt::Debug, CloudError>) -> String {
        match result {
            Err(CloudError::NotAuthorized(message)) => message,
            other => panic!("expected NotAuthorized, got {other:?}"),
        }
    }

    async fn session_of(sandbox: &Sandbox, email: &str, password: &str) -> String {
        match sandbox.sign_in(email, password).await {
            Ok(SignIn::NewPasswordRequired { session }) => session,
            other => panic!("expected a new-password challenge, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_invited_user_signs_in_sets_a_new_password_and_becomes_active() {
        let (_, sandbox) = world();
        let user = sandbox.invite(&invitation("Ada@Example.org", Some("Temp1234"))).await.expect("invited");
        assert_eq!((user.username.as_str(), user.email.as_str()), ("ada@example.org", "ada@example.org"));
        assert_eq!(user.status, UserStatus::Invited);
        assert_eq!(sandbox.temporary_password("ada@example.org").as_deref(), Some("Temp1234"));

        let session = session_of(&sandbox, "ada@example.org", "Temp1234").await;
        let tokens = sandbox.complete_new_password("ada@example.org", "Lovelace1815", &session).await.expect("set");
        assert!(tokens.access_token.starts_with("sbx-access-") && tokens.expires_in_secs == 3600);
        assert_ne!(tokens.access_token, tokens.id_token);
        let page = sandbox.list_users(None, 60, None).await.expect("listed");
        assert_eq!(page.users[0].status, UserStatus::Active);
        assert_eq!(sandbox.temporary_password("ada@example.org"), None);

        assert!(matches!(sandbox.sign_in("ada@example.org", "Lovelace1815").await, Ok(SignIn::Authenticated(_))));
        refused(sandbox.sign_in("ada@example.org", "Temp1234").await);
        let reused = sandbox.complete_new_password("ada@example.org", "Lovelace1816", &session).await;
        refused(reused);
    }

    #[tokio::test]
    async fn a_weak_new_password_is_refused_with_the_rule_and_the_session_survives() {
        let (_, sandbox) = world();
        sandbox.invite(&invitation("ada@example.org", None)).await.expect("invited");
        let temporary = sandbox.temporary_password("ada@example.org").expect("an invitation");
        assert!(check_password(&temporary).is_ok(), "{temporary}");
        let session = session_of(&sandbox, "ada@example.org", &temporary).await;
        for weak in ["Short1", "alllower1", "ALLUPPER1", "NoDigitsHere"] {
            let result = sandbox.complete_new_password("ada@example.org", weak, &session).await;
            assert_eq!(result, Err(CloudError::Invalid(PASSWORD_RULE.to_owned())), "{weak}");
        }
        assert!(sandbox.complete_new_password("ada@example.org", "Lovelace1815", &session).await.is_ok());
    }

    #[tokio::test]
    async fn a_wrong_or_expired_challenge_session_is_not_authorized() {
        let (clock, sandbox) = world();
        sandbox.invite(&invitation("ada@example.org", Some("Temp1234"))).await.expect("invited");
        sandbox.invite(&invitation("bob@example.org", Some("Temp1234"))).await.expect("invited");
        let session = session_of(&sandbox, "ada@example.org", "Temp1234").await;
        refused(sandbox.complete_new_password("ada@example.org", "Lovelace1815", "made-up").await);
        refused(sandbox.complete_new_password("bob@example.org", "Lovelace1815", &session).await);
        clock.advance(Duration::minutes(4));
        let expired = refused(sandbox.complete_new_password("ada@example.org", "Lovelace1815", &session).await);
        assert_eq!(expired, CHALLENGE_REFUSED);
    }

    #[tokio::test]
    async fn wrong_passwords_unknown_and_disabled_users_get_the_same_refusal() {
        let (_, sandbox) = world();
        sandbox.add_user("admin@example.org", "Admin1234", &["admins"]).expect("added");
        let wrong = refused(sandbox.sign_in("admin@example.org", "admin1234").await);
        let unknown = refused(sandbox.sign_in("nobody@example.org", "Admin1234").await);
        sandbox.disable("admin@example.org").await.expect("disabled");
        let disabled = refused(sandbox.sign_in("admin@example.org", "Admin1234").await);
        assert_eq!(
            (wrong.as_str(), unknown.as_str(), disabled.as_str()),
            (SIGN_IN_REFUSED, SIGN_IN_REFUSED, SIGN_IN_REFUSED)
        );
        let page = sandbox.list_users(None, 10, None).await.expect("listed");
        assert_eq!(page.users[0].status, UserStatus::Disabled);
        sandbox.enable("admin@example.org").await.expect("enabled");
        assert!(matches!(sandbox.sign_in("ADMIN@example.org", "Admin1234").await, Ok(SignIn::Authenticated(_))));
        assert!(matches!(sandbox.disable("nobody@example.org").await, Err(CloudError::NotFound(_))));
        assert!(matches!(sandbox.add_user("admin@example.org", "Admin1234", &[]), Err(CloudError::Conflict(_))));
        assert!(matches!(sandbox.add_user("new@example.org", "weak", &[]), Err(CloudError::Invalid(_))));
    }

    #[tokio::test]
    async fn invitations_conflict_on_a_taken_email_and_refuse_a_bad_one() {
        let (_, sandbox) = world();
        sandbox.invite(&invitation("ada@example.org", None)).await.expect("invited");
        let again = sandbox.invite(&invitation(" ADA@example.org ", None)).await;
        assert!(matches!(again, Err(CloudError::Conflict(_))), "{again:?}");
        for bad in ["ada", "ada@", "@example.org", "ada@example", "a da@example.org", "ada@@example.org"] {
            let result = sandbox.invite(&invitation(bad, None)).await;
            assert!(matches!(result, Err(CloudError::Invalid(_))), "{bad}: {result:?}");
        }
        let weak = sandbox.invite(&invitation("bob@example.org", Some("weak"))).await;
        assert_eq!(weak, Err(CloudError::Invalid(PASSWORD_RULE.to_owned())));
    }

    #[tokio::test]
    async fn an_invitation_is_resent_only_to_invited_users_with_a_fresh_password() {
        let (clock, sandbox) = world();
        sandbox.invite(&invitation("ada@example.org", Some("Temp1234"))).await.expect("invited");
        clock.advance(Duration::days(8));
        let expired = refused(sandbox.sign_in("ada@example.org", "Temp1234").await);
        assert_eq!(expired, TEMPORARY_PASSWORD_EXPIRED);

        sandbox.resend_invitation("ada@example.org").await.expect("resent");
        let fresh = sandbox.temporary_password("ada@example.org").expect("an invitation");
        assert_ne!(fresh, "Temp1234");
        let session = session_of(&sandbox, "ada@example.org", &fresh).await;
        sandbox.complete_new_password("ada@example.org", "Lovelace1815", &session).await.expect("set");

        let active = sandbox.resend_invitation("ada@example.org").await;
        assert!(matches!(active, Err(CloudError::Invalid(_))), "{active:?}");
        let unknown = sandbox.resend_invitation("nobody@example.org").await;
        assert!(matches!(unknown, Err(CloudError::NotFound(_))), "{unknown:?}");
    }

    #[tokio::test]
    async fn groups_are_idempotent_and_unknown_names_are_not_found() {
        let (_, sandbox) = world();
        sandbox.add_user("ada@example.org", "Lovelace1815", &["viewers"]).expect("added");
        sandbox.ensure_group("admins").await.expect("created");
        sandbox.ensure_group("admins").await.expect("still there");
        assert_eq!(sandbox.list_groups().await.expect("groups"), ["admins", "viewers"]);
        sandbox.add_to_group("ada@example.org", "admins").await.expect("added");
        sandbox.add_to_group("ada@example.org", "admins").await.expect("added again");
        assert_eq!(sandbox.groups_of("ada@example.org").await.expect("groups"), ["admins", "viewers"]);
        sandbox.remove_from_group("ada@example.org", "viewers").await.expect("removed");
        sandbox.remove_from_group("ada@example.org", "viewers").await.expect("removed again");
        assert_eq!(sandbox.groups_of("ada@example.org").await.expect("groups"), ["admins"]);

        let not_found = |r: Result<_, CloudError>| matches!(r, Err(CloudError::NotFound(_)));
        assert!(not_found(sandbox.add_to_group("nobody@example.org", "admins").await));
        assert!(not_found(sandbox.add_to_group("ada@example.org", "owners").await));
        assert!(not_found(sandbox.remove_from_group("ada@example.org", "owners").await));
        assert!(not_found(sandbox.groups_of("nobody@example.org").await.map(|_| ())));
        assert!(matches!(sandbox.ensure_group("two words").await, Err(CloudError::Invalid(_))));
    }

    #[tokio::test]
    async fn users_are_listed_by_email_in_pages_with_a_prefix_filter() {
        let (_, sandbox) = world();
        for name in ["erin", "ada", "dan", "bob", "carl", "adele"] {
            sandbox.invite(&invitation(&format!("{name}@example.org"), None)).await.expect("invited");
        }
        let mut emails = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = sandbox.list_users(None, 4, next.as_deref()).await.expect("listed");
            pages += 1;
            emails.extend(page.users.into_iter().map(|u| u.email));
            next = page.next;
            if next.is_none() {
                break;
            }
        }
        assert_eq!(pages, 2);
        let names: Vec<&str> = emails.iter().map(|e| e.trim_end_matches("@example.org")).collect();
        assert_eq!(names, ["ada", "adele", "bob", "carl", "dan", "erin"]);

        let ad = sandbox.list_users(Some("Ad"), 1, None).await.expect("listed");
        assert_eq!(ad.users[0].email, "ada@example.org");
        let rest = sandbox.list_users(Some("ad"), 1, ad.next.as_deref()).await.expect("listed");
        assert_eq!((rest.users[0].email.as_str(), rest.next), ("adele@example.org", None));

        let full = sandbox.list_users(None, 6, None).await.expect("listed");
        assert_eq!((full.users.len(), full.next), (6, None));
        for limit in [0, 61] {
            assert!(matches!(sandbox.list_users(None, limit, None).await, Err(CloudError::Invalid(_))));
        }
        assert!(matches!(sandbox.list_users(None, 10, Some("garbage")).await, Err(CloudError::Invalid(_))));
    }

    async fn tokens_of(sandbox: &Sandbox, email: &str, password: &str) -> Tokens {
        match sandbox.sign_in(email, password).await {
            Ok(SignIn::Authenticated(tokens)) => tokens,
            other => panic!("expected tokens, got {other:?}"),
        }
    }

    fn live_access_tokens(sandbox: &Sandbox, username: &str) -> usize {
        sandbox.with_pool(|pool, _| pool.access_tokens.values().filter(|g| g.username == username).count())
    }

    #[tokio::test]
    async fn signing_out_everywhere_revokes_every_access_token_of_the_user_only() {
        let (_, sandbox) = world();
        sandbox.add_user("ada@example.org", "Lovelace1815", &[]).expect("added");
        sandbox.add_user("bob@example.org", "Babbage1791", &[]).expect("added");
        tokens_of(&sandbox, "ada@example.org", "Lovelace1815").await;
        tokens_of(&sandbox, "ada@example.org", "Lovelace1815").await;
        tokens_of(&sandbox, "bob@example.org", "Babbage1791").await;
        assert_eq!(live_access_tokens(&sandbox, "ada@example.org"), 2);

        assert_eq!(sandbox.sign_out_everywhere("Ada@Example.org").await, Ok(()));
        assert_eq!(live_access_tokens(&sandbox, "ada@example.org"), 0);
        assert_eq!(live_access_tokens(&sandbox, "bob@example.org"), 1);
        assert_eq!(sandbox.sign_out_everywhere("ada@example.org").await, Ok(()), "signing out twice is harmless");
        let unknown = sandbox.sign_out_everywhere("nobody@example.org").await;
        assert!(matches!(unknown, Err(CloudError::NotFound(_))), "{unknown:?}");
        assert!(matches!(sandbox.sign_in("ada@example.org", "Lovelace1815").await, Ok(SignIn::Authenticated(_))));
    }

    #[tokio::test]
    async fn deleting_a_user_removes_them_and_their_tokens() {
        let (_, sandbox) = world();
        sandbox.add_user("ada@example.org", "Lovelace1815", &[]).expect("added");
        tokens_of(&sandbox, "ada@example.org", "Lovelace1815").await;
        sandbox.delete("ada@example.org").await.expect("deleted");
        assert_eq!(live_access_tokens(&sandbox, "ada@example.org"), 0);
        refused(sandbox.sign_in("ada@example.org", "Lovelace1815").await);
        assert!(sandbox.list_users(None, 10, None).await.expect("listed").users.is_empty());
        assert!(matches!(sandbox.delete("ada@example.org").await, Err(CloudError::NotFound(_))));
        assert!(matches!(sandbox.sign_out_everywhere("ada@example.org").await, Err(CloudError::NotFound(_))));
        assert_eq!(Directory::probe(sandbox.as_ref()).await, Ok(()));
    }

    #[tokio::test]
    async fn id_tokens_are_jwts_the_sandbox_verifier_accepts_with_the_current_groups() {
        let (clock, sandbox) = world();
        sandbox.add_user("ada@example.org", "Lovelace1815", &["viewers", "admins"]).expect("added");
        let verifier = sandbox.identity_verifier();
        let first = tokens_of(&sandbox, "ada@example.org", "Lovelace1815").await;
        let header = jsonwebtoken::decode_header(&first.id_token).expect("a JWT");
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
        assert!(sandbox.jwks_json().contains(header.kid.as_deref().expect("a kid")));

        let ada = verifier.verify_id_token(&first.id_token).await.expect("verified");
        assert_eq!((ada.username.as_str(), ada.email.as_str()), ("ada@example.org", "ada@example.org"));
        assert_eq!(ada.groups, ["admins", "viewers"]);
        assert!(!ada.subject.is_empty());

        sandbox.remove_from_group("ada@example.org", "admins").await.expect("removed");
        let second = tokens_of(&sandbox, "ada@example.org", "Lovelace1815").await;
        let again = verifier.verify_id_token(&second.id_token).await.expect("verified");
        assert_eq!(
            (again.subject.as_str(), again.groups.as_slice()),
            (ada.subject.as_str(), &["viewers".to_owned()][..])
        );

        // An invited user's first tokens, with no group: none named.
        sandbox.invite(&invitation("bob@example.org", Some("Temp1234"))).await.expect("invited");
        let session = session_of(&sandbox, "bob@example.org", "Temp1234").await;
        let bob = sandbox.complete_new_password("bob@example.org", "Babbage1791", &session).await.expect("set");
        let bob = verifier.verify_id_token(&bob.id_token).await.expect("verified");
        assert!(bob.groups.is_empty() && bob.subject != ada.subject);

        let (_, elsewhere) = world();
        let foreign = elsewhere.identity_verifier().verify_id_token(&first.id_token).await;
        assert!(matches!(foreign, Err(CloudError::NotAuthorized(_))), "another sandbox's key: {foreign:?}");
        let access = verifier.verify_id_token(&first.access_token).await;
        assert!(matches!(access, Err(CloudError::NotAuthorized(_))), "{access:?}");

        clock.advance(Duration::seconds(TOKEN_SECS + 31));
        let expired = verifier.verify_id_token(&first.id_token).await;
        assert!(matches!(expired, Err(CloudError::NotAuthorized(_))), "{expired:?}");
    }

    #[test]
    fn page_tokens_round_trip_and_passwords_follow_the_rule() {
        assert_eq!(decode_page_token(&encode_page_token("ada@example.org")), Ok("ada@example.org".to_owned()));
        assert!(decode_page_token("sbx1.zz").is_err());
        let cases =
            [("Abcdefg1", true), ("Abcdef1", false), ("abcdefg1", false), ("ABCDEFG1", false), ("Abcdefgh", false)];
        for (password, ok) in cases {
            assert_eq!(check_password(password).is_ok(), ok, "{password}");
        }
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            assert!(check_password(&generate_password(&mut rng)).is_ok());
        }
    }
}

//! Who is asking, and may they: principals, sessions, sign-in and sign-out.
//!
//! The server's gatekeeper (in `server`) resolves every request to a [`RequestCtx`] — the
//! principal from a session cookie, an API token or the load balancer's header, and the
//! client's address — before any handler runs. Server functions read it back with
//! [`require`], which also refuses callers without the needed [`Role`].
//!
//! Sessions hold a [`Principal`] (user name, email, groups, role, when they signed in): no
//! token and no password. A pending new-password challenge lives in memory only.

use crate::audit::{self, Entry};
use crate::Error;
use crate::Services;
use chrono::{DateTime, Duration, Utc};
use domain::directory::{PasswordPolicy, SignIn, Tokens};
use domain::view::{SignInOutcome, Viewer};
use domain::{CloudError, EmailAddress, Role, RoleGroups};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{SqliteConnection, SqlitePool};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower_sessions::Session;

/// The session key of the signed-in [`Principal`].
pub const PRINCIPAL_KEY: &str = "principal";
/// The session key of the nonce naming a pending new-password challenge.
const CHALLENGE_KEY: &str = "challenge";

/// How a principal proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Password sign-in, then the session cookie.
    Session,
    /// An API token.
    Token,
    /// The load balancer's signed `x-amzn-oidc-data` header.
    LoadBalancer,
}

/// A caller the console knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub via: Via,
    /// The user's email, or the token's name.
    pub name: String,
    /// The pool's user name (users only).
    pub username: Option<String>,
    pub groups: Vec<String>,
    pub role: Role,
    /// When the user signed in (the token's creation for tokens).
    pub since: DateTime<Utc>,
}

impl Principal {
    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        match self.via {
            Via::Token => format!("token:{}", self.name),
            Via::Session | Via::LoadBalancer => self.name.clone(),
        }
    }
}

/// What the gatekeeper learnt about a request; in the request's extensions.
#[derive(Debug, Clone, Default)]
pub struct RequestCtx {
    pub principal: Option<Principal>,
    /// The client's address (the proxy's `X-Forwarded-For` when the console is behind one).
    pub source: Option<String>,
}

/// The principal calling a server function or route, with their address.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub source: Option<String>,
}

impl Caller {
    pub fn actor(&self) -> String {
        self.principal.actor()
    }

    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }
}

/// Sign-in settings and the in-memory state sign-in needs; part of [`Services`].
#[derive(Clone)]
pub struct Auth {
    pub role_groups: RoleGroups,
    /// A session ends this long after sign-in, however active (the idle limit is the cookie's).
    pub session_max_age: Duration,
    /// Set when users are signed in by a load balancer (`x-amzn-oidc-data`), not by the
    /// sign-in page.
    pub load_balancer: Option<LoadBalancer>,
    /// The console runs on the sandbox.
    pub sandbox: bool,
    pub throttle: Arc<SignInThrottle>,
    pub challenges: Arc<Challenges>,
    /// Held while a change that could take the last admin away is checked and made, so two
    /// admins demoting each other at once cannot leave none.
    pub admin_changes: Arc<futures::lock::Mutex<()>>,
}

/// Sign-in by a load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    /// Where sign-out sends users (e.g. Cognito's `/logout`); the console's home when `None`.
    pub sign_out_url: Option<String>,
}

impl Auth {
    pub fn new(
        role_groups: RoleGroups,
        session_max_age: Duration,
        load_balancer: Option<LoadBalancer>,
        sandbox: bool,
    ) -> Self {
        Self {
            role_groups,
            session_max_age,
            load_balancer,
            sandbox,
            throttle: Arc::new(SignInThrottle::default()),
            challenges: Arc::new(Challenges::default()),
            admin_changes: Arc::default(),
        }
    }

    /// The page-facing view of a principal.
    pub fn viewer(&self, p: &Principal) -> Viewer {
        Viewer { email: p.actor(), role: p.role, sandbox: self.sandbox, via_load_balancer: p.via == Via::LoadBalancer }
    }
}

/// The one role rule, for server functions, the gatekeeper and the API's routes:
/// `Unauthorized` without a principal, `Forbidden` when its role is weaker than `needed`.
pub fn check_role(principal: Option<&Principal>, needed: Role) -> Result<(), Error> {
    match principal {
        None => Err(Error::Unauthorized),
        Some(p) if !p.role.allows(needed) => Err(Error::Forbidden),
        Some(_) => Ok(()),
    }
}

/// The principal a session holds, if it is still good: not past the absolute limit and not
/// signed in before an admin revoked the user's sessions. A session that is no longer good
/// is emptied.
pub async fn session_principal(
    pool: &SqlitePool,
    session: &Session,
    auth: &Auth,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, Error> {
    let principal = match session.get::<Principal>(PRINCIPAL_KEY).await {
        Ok(p) => p,
        Err(e) => {
            // Written by another version of the console, say: treat it as signed out.
            tracing::warn!(error = %e, "an unreadable session was ended");
            session.flush().await?;
            None
        }
    };
    let Some(principal) = principal else { return Ok(None) };
    let expired = now - principal.since > auth.session_max_age;
    let revoked = match &principal.username {
        Some(username) => revoked_at(pool, username).await?.is_some_and(|at| at >= principal.since),
        None => false,
    };
    if expired || revoked {
        session.flush().await?;
        return Ok(None);
    }
    Ok(Some(principal))
}

/// When the sessions of `username` were last revoked (names compared without case, as the
/// pool compares them).
pub async fn revoked_at(pool: &SqlitePool, username: &str) -> sqlx::Result<Option<DateTime<Utc>>> {
    let username = username.to_lowercase();
    sqlx::query_scalar!(
        r#"SELECT revoked_at AS "revoked_at: DateTime<Utc>" FROM user_revocations WHERE username = ?"#,
        username
    )
    .fetch_optional(pool)
    .await
}

/// Ends every session of `username` that began before `now` (disable, delete, group change,
/// sign-out). User names are compared without case, as the pool does.
pub async fn revoke_sessions(conn: &mut SqliteConnection, username: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    let username = username.to_lowercase();
    sqlx::query!(
        "INSERT INTO user_revocations (username, revoked_at) VALUES (?, ?)
         ON CONFLICT (username) DO UPDATE SET revoked_at = excluded.revoked_at",
        username,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A password sign-in. On success the session id is renewed and the session holds the
/// principal; a first sign-in of an invited user asks for a new password instead.
pub async fn sign_in(
    state: &Services,
    session: &Session,
    email: &str,
    password: &str,
    next: &str,
    source: Option<&str>,
) -> Result<SignInOutcome, Error> {
    let email = EmailAddress::parse(email)?;
    if password.is_empty() {
        return Err(Error::invalid("password", "Enter your password."));
    }
    if password.len() > 256 {
        return Err(Error::BadCredentials);
    }
    let now = state.clock.now();
    let throttle = &state.auth.throttle;
    throttle.reserve(email.as_str(), source, now)?;
    let answer = state.cloud.directory.sign_in(email.as_str(), password).await;
    if !matches!(answer, Err(CloudError::NotAuthorized(_))) {
        // The password was right, or the directory did not say: not a failed attempt.
        throttle.release(email.as_str(), source, now);
    }
    match answer {
        Ok(SignIn::Authenticated(tokens)) => {
            let outcome = establish(state, session, &email, &tokens, next, source).await?;
            throttle.succeeded(email.as_str());
            Ok(outcome)
        }
        Ok(SignIn::NewPasswordRequired { session: challenge }) => {
            let nonce = state.auth.challenges.put(email.as_str(), challenge, now)?;
            // A fresh id for the session that carries the challenge, as for a signed-in one.
            session.cycle_id().await?;
            session.insert(CHALLENGE_KEY, nonce).await?;
            let policy = state.cloud.directory.password_policy().await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read the pool's password rules; showing Cognito's defaults");
                PasswordPolicy::default()
            });
            Ok(SignInOutcome::NewPasswordRequired { email: email.to_string(), rules: policy.describe() })
        }
        Err(CloudError::NotAuthorized(_)) => {
            let entry = Entry::new(email.as_str(), source, "auth.sign_in_failed", email.as_str());
            audit::record_alone(&state.pool, &entry, now).await?;
            Err(Error::BadCredentials)
        }
        Err(CloudError::Invalid(reason)) => {
            tracing::info!(%reason, "a sign-in needs a step the console does not offer");
            Err(Error::Conflict(
                "This account cannot sign in here yet (it needs a password reset, a confirmation or a second factor). Ask an admin."
                    .to_owned(),
            ))
        }
        Err(e) => Err(Error::cloud(e)),
    }
}

/// Answers the new-password challenge of the pending first sign-in in this session.
pub async fn complete_new_password(
    state: &Services,
    session: &Session,
    new_password: &str,
    confirm: &str,
    next: &str,
    source: Option<&str>,
) -> Result<SignInOutcome, Error> {
    let expired = || Error::invalid("session", "This sign-in expired. Sign in again with your temporary password.");
    let nonce: Option<String> = session.get(CHALLENGE_KEY).await?;
    let now = state.clock.now();
    let (email, challenge) = nonce.and_then(|n| state.auth.challenges.get(&n, now)).ok_or_else(expired)?;
    if new_password != confirm {
        return Err(Error::invalid("confirm", "The two passwords differ."));
    }
    if new_password.is_empty() || new_password.len() > 256 {
        return Err(Error::invalid("password", "Choose a password that follows the rules below."));
    }
    let email = EmailAddress::parse(&email)?;
    match state.cloud.directory.complete_new_password(email.as_str(), new_password, &challenge).await {
        Ok(tokens) => {
            if let Some(nonce) = session.remove::<String>(CHALLENGE_KEY).await? {
                state.auth.challenges.remove(&nonce);
            }
            establish(state, session, &email, &tokens, next, source).await
        }
        Err(CloudError::Invalid(rule)) => Err(Error::invalid("password", rule)),
        Err(CloudError::NotAuthorized(_)) => Err(expired()),
        Err(e) => Err(Error::cloud(e)),
    }
}

/// Verifies the ID token and, for a user in one of the console's groups, starts the session.
async fn establish(
    state: &Services,
    session: &Session,
    email: &EmailAddress,
    tokens: &Tokens,
    next: &str,
    source: Option<&str>,
) -> Result<SignInOutcome, Error> {
    let now = state.clock.now();
    let identity = match state.cloud.identity.verify_id_token(&tokens.id_token).await {
        Ok(identity) => identity,
        Err(CloudError::NotAuthorized(reason)) => {
            tracing::warn!(%reason, "an ID token from the directory failed verification");
            let entry = Entry::new(email.as_str(), source, "auth.sign_in_failed", email.as_str())
                .after(json!({ "reason": "token verification failed" }));
            audit::record_alone(&state.pool, &entry, now).await?;
            return Err(Error::BadCredentials);
        }
        Err(e) => return Err(Error::cloud(e)),
    };
    let groups = &state.auth.role_groups;
    let Some(role) = groups.role_of(&identity.groups) else {
        let entry = Entry::new(&identity.email, source, "auth.sign_in_refused", &identity.email)
            .after(json!({ "groups": identity.groups }));
        audit::record_alone(&state.pool, &entry, now).await?;
        return Err(Error::NoAccess {
            email: identity.email,
            admins: groups.admins.clone(),
            viewers: groups.viewers.clone(),
        });
    };
    let principal = Principal {
        via: Via::Session,
        name: identity.email.clone(),
        username: Some(identity.username.clone()),
        groups: identity.groups.clone(),
        role,
        since: now,
    };
    // A new id for the signed-in session: an id planted before sign-in is worth nothing.
    session.cycle_id().await?;
    session.insert(PRINCIPAL_KEY, &principal).await?;
    let entry = Entry::new(&principal.name, source, "auth.sign_in", &principal.name).after(json!({ "role": role }));
    audit::record_alone(&state.pool, &entry, now).await?;
    Ok(SignInOutcome::SignedIn { next: safe_next(next) })
}

/// Ends the session and signs the user out of the directory on every device. Answers where
/// the browser goes next: the sign-in page, or behind a load balancer its sign-out address
/// (the load balancer signs users in again on their next request).
pub async fn sign_out(state: &Services, session: &Session, ctx: &RequestCtx) -> Result<String, Error> {
    if ctx.principal.as_ref().is_some_and(|p| p.via == Via::LoadBalancer) {
        let sign_out_url = state.auth.load_balancer.as_ref().and_then(|lb| lb.sign_out_url.clone());
        return Ok(sign_out_url.unwrap_or_else(|| "/".to_owned()));
    }
    let Some(principal) = ctx.principal.as_ref().filter(|p| p.via == Via::Session) else {
        session.flush().await?;
        return Ok("/sign-in".to_owned());
    };
    session.flush().await?;
    if let Some(username) = &principal.username {
        // The console's session is over either way; the directory's tokens were never kept.
        if let Err(e) = state.cloud.directory.sign_out_everywhere(username).await {
            tracing::warn!(error = %e, "global sign-out in the directory failed");
        }
    }
    let now = state.clock.now();
    let entry = Entry::new(&principal.name, ctx.source.as_deref(), "auth.sign_out", &principal.name);
    let mut tx = crate::begin_write(&state.pool).await?;
    audit::record(&mut tx, &entry, now).await?;
    if let Some(username) = &principal.username {
        // Signed out everywhere: the user's other console sessions end too.
        revoke_sessions(&mut tx, username, now).await?;
    }
    tx.commit().await?;
    Ok("/sign-in".to_owned())
}

/// Where to go after signing in: a path on this console, never another site.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !next.starts_with("/sign-in");
    if ok {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

/// Sign-in attempts per account and per client address, in a sliding window. An attempt is
/// counted before the directory is asked (so parallel guesses cannot slip through between the
/// check and the answer) and forgotten again unless the password was wrong.
#[derive(Default)]
pub struct SignInThrottle {
    attempts: Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl SignInThrottle {
    /// The window attempts are counted in.
    pub const WINDOW_MINUTES: i64 = 15;
    /// Failed attempts per account in the window before its sign-ins are refused.
    pub const PER_ACCOUNT: usize = 5;
    /// Failed attempts per client address in the window before its sign-ins are refused.
    pub const PER_ADDRESS: usize = 20;
    /// Keys kept at most; the oldest are dropped beyond this, so a flood cannot exhaust memory.
    const MAX_KEYS: usize = 100_000;

    fn keys(email: &str, source: Option<&str>) -> [(String, usize); 2] {
        [
            (format!("account:{email}"), Self::PER_ACCOUNT),
            (format!("address:{}", source.unwrap_or("unknown")), Self::PER_ADDRESS),
        ]
    }

    /// Counts an attempt, or refuses it when the account or the address failed too often.
    pub fn reserve(&self, email: &str, source: Option<&str>, now: DateTime<Utc>) -> Result<(), Error> {
        let window = Duration::minutes(Self::WINDOW_MINUTES);
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        for (key, limit) in Self::keys(email, source) {
            let recent: Vec<DateTime<Utc>> = attempts
                .get(&key)
                .map(|v| v.iter().copied().filter(|t| now - *t < window).collect())
                .unwrap_or_default();
            if recent.len() >= limit {
                let oldest = recent.iter().min().copied().unwrap_or(now);
                let minutes = ((oldest + window - now).num_seconds() + 59) / 60;
                return Err(Error::TooManyAttempts { minutes: minutes.max(1) });
            }
        }
        if attempts.len() >= Self::MAX_KEYS {
            attempts.retain(|_, v| v.iter().any(|t| now - *t < window));
        }
        for (key, _) in Self::keys(email, source) {
            let entry = attempts.entry(key).or_default();
            entry.retain(|t| now - *t < window);
            entry.push(now);
        }
        Ok(())
    }

    /// Forgets an attempt reserved at `now` that was not a wrong password.
    pub fn release(&self, email: &str, source: Option<&str>, now: DateTime<Utc>) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        for (key, _) in Self::keys(email, source) {
            if let Some(entry) = attempts.get_mut(&key) {
                if let Some(i) = entry.iter().rposition(|t| *t == now) {
                    entry.remove(i);
                }
            }
        }
    }

    /// A successful sign-in forgets the account's failures (not the address's); its own
    /// attempt was given back with [`release`](Self::release) when the directory said yes.
    pub fn succeeded(&self, email: &str) {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner()).remove(&format!("account:{email}"));
    }
}

/// Pending new-password challenges, by a random nonce kept in the user's session: the
/// directory's challenge session never reaches the browser or the database.
#[derive(Default)]
pub struct Challenges {
    pending: Mutex<HashMap<String, Pending>>,
}

/// A pending challenge: the email, the directory's challenge session, when it expires.
type Pending = (String, String, DateTime<Utc>);

impl Challenges {
    /// Cognito's challenge sessions last three minutes.
    const TTL_SECS: i64 = 180;

    fn put(&self, email: &str, challenge: String, now: DateTime<Utc>) -> Result<String, Error> {
        let nonce = crate::random_url_safe::<24>()?;
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|_, (_, _, expires)| *expires > now);
        pending.insert(nonce.clone(), (email.to_owned(), challenge, now + Duration::seconds(Self::TTL_SECS)));
        Ok(nonce)
    }

    fn get(&self, nonce: &str, now: DateTime<Utc>) -> Option<(String, String)> {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.get(nonce).filter(|(_, _, expires)| *expires > now).map(|(e, c, _)| (e.clone(), c.clone()))
    }

    fn remove(&self, nonce: &str) {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(nonce);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn only_paths_on_this_console_are_followed_after_sign_in() {
        for (next, want) in [
            ("/", "/"),
            ("/people?q=ann", "/people?q=ann"),
            ("//evil.example/x", "/"),
            ("https://evil.example", "/"),
            ("/\\evil.example", "/"),
            ("", "/"),
            ("/sign-in", "/"),
            ("/a\nb", "/"),
        ] {
            assert_eq!(safe_next(next), want, "{next:?}");
        }
    }

    #[test]
    fn an_account_is_locked_after_five_failures_for_the_rest_of_the_window() {
        let t = SignInThrottle::default();
        let start = at("2026-11-30T09:00:00Z");
        for i in 0..5 {
            assert!(t.reserve("ada@example.org", Some("10.0.0.1"), start + Duration::seconds(i)).is_ok());
        }
        assert!(matches!(
            t.reserve("ada@example.org", Some("10.0.0.2"), start + Duration::minutes(1)),
            Err(Error::TooManyAttempts { minutes: 14 })
        ));
        // Another account from the same address is still allowed; the window ends.
        assert!(t.reserve("bob@example.org", Some("10.0.0.1"), start + Duration::minutes(1)).is_ok());
        assert!(t.reserve("ada@example.org", Some("10.0.0.1"), start + Duration::minutes(16)).is_ok());
    }

    #[test]
    fn attempts_in_flight_count_so_parallel_guesses_cannot_slip_through() {
        let t = SignInThrottle::default();
        let now = at("2026-11-30T09:00:00Z");
        // Five guesses sent at once, none answered yet: the sixth is refused.
        for _ in 0..5 {
            t.reserve("ada@example.org", Some("10.0.0.1"), now).unwrap();
        }
        assert!(t.reserve("ada@example.org", Some("10.0.0.1"), now).is_err());
        // Attempts that turn out not to be wrong passwords are given back.
        t.release("ada@example.org", Some("10.0.0.1"), now);
        assert!(t.reserve("ada@example.org", Some("10.0.0.1"), now).is_ok());
    }

    #[test]
    fn an_address_is_locked_after_twenty_failures_across_accounts_and_success_clears_the_account() {
        let t = SignInThrottle::default();
        let now = at("2026-11-30T09:00:00Z");
        for i in 0..20 {
            t.reserve(&format!("user{i}@example.org"), Some("10.0.0.9"), now).unwrap();
        }
        assert!(matches!(t.reserve("new@example.org", Some("10.0.0.9"), now), Err(Error::TooManyAttempts { .. })));
        assert!(t.reserve("new@example.org", Some("10.0.0.8"), now).is_ok());
        for _ in 0..4 {
            t.reserve("ada@example.org", Some("10.0.0.1"), now).unwrap();
        }
        t.reserve("ada@example.org", Some("10.0.0.1"), now).unwrap();
        t.release("ada@example.org", Some("10.0.0.1"), now);
        t.succeeded("ada@example.org");
        assert!(t.reserve("ada@example.org", Some("10.0.0.1"), now).is_ok());
    }

    #[test]
    fn challenges_expire_after_three_minutes() {
        let c = Challenges::default();
        let now = at("2026-11-30T09:00:00Z");
        let nonce = c.put("ada@example.org", "cognito-session".into(), now).unwrap();
        assert_eq!(c.get(&nonce, now + Duration::seconds(179)).map(|(e, _)| e), Some("ada@example.org".into()));
        assert_eq!(c.get(&nonce, now + Duration::seconds(180)), None);
        assert_eq!(c.get("made-up", now), None);
    }
}

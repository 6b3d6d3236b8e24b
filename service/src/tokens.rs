//! API tokens for automation (CI jobs, scripts): `Authorization: Bearer sft_…`.
//!
//! A token is 32 random bytes, shown once when created. Only its SHA-256 is stored: a token
//! has far more entropy than a password, so a fast hash is enough and lets every request be
//! authenticated with one indexed lookup.

use crate::audit::{self, Entry};
use crate::auth::{Principal, Via};
use crate::{on_constraint, Error};
use chrono::{DateTime, Utc};
use domain::view::TokenInfo;
use domain::Role;
use serde_json::json;
use sqlx::SqlitePool;

/// Every token starts with this, so leaked tokens are easy to recognise (and to scan for).
pub const PREFIX: &str = "sft_";

/// A token's `last_used_at` is written at most this often, so reads stay reads.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// A new random token.
pub fn generate() -> Result<String, Error> {
    Ok(format!("{PREFIX}{}", crate::random_url_safe::<32>()?))
}

/// The stored form of a token: lowercase hex SHA-256.
pub fn hash(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A token name: 1–64 letters, digits, spaces, `.`, `_` or `-`, trimmed.
pub fn parse_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(Error::invalid("name", "A token name has 1 to 64 characters."));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-')) {
        return Err(Error::invalid("name", "Use letters, digits, spaces, dots, dashes and underscores."));
    }
    Ok(name.to_owned())
}

/// Creates a token and records it in the audit log, in one transaction. Returns the token's
/// listing and the token itself.
pub async fn create(
    pool: &SqlitePool,
    name: &str,
    role: Role,
    actor: &str,
    source: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(TokenInfo, String), Error> {
    let name = parse_name(name)?;
    let token = generate()?;
    let token_hash = hash(&token);
    let role_str = role.as_str();
    let mut tx = crate::begin_write(pool).await?;
    let inserted = sqlx::query!(
        "INSERT INTO api_tokens (name, role, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
        name,
        role_str,
        token_hash,
        actor,
        now
    )
    .execute(&mut *tx)
    .await;
    let id = inserted
        .map_err(on_constraint("api_tokens.name", || {
            Error::invalid("name", "A token with this name exists; revoke it or pick another name.")
        }))?
        .last_insert_rowid();
    let entry = Entry::new(actor, source, "token.create", &name).after(json!({ "name": name, "role": role_str }));
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    let info = TokenInfo {
        id,
        name: name.clone(),
        role,
        created_by: actor.to_owned(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    Ok((info, token))
}

/// Every token, active ones first, newest first.
pub async fn list(pool: &SqlitePool) -> Result<Vec<TokenInfo>, Error> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", name, role, created_by, created_at AS "created_at: DateTime<Utc>",
                  last_used_at AS "last_used_at: DateTime<Utc>", revoked_at AS "revoked_at: DateTime<Utc>"
           FROM api_tokens ORDER BY revoked_at IS NOT NULL, id DESC"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TokenInfo {
            id: r.id,
            name: r.name,
            role: Role::parse(&r.role).unwrap_or(Role::Viewer),
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}

/// Revokes an active token, with its audit row, in one transaction. `NotFound` for an
/// unknown or already revoked token.
pub async fn revoke(
    pool: &SqlitePool,
    id: i64,
    actor: &str,
    source: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut tx = crate::begin_write(pool).await?;
    let revoked = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING name, role",
        now,
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = revoked else {
        return Err(Error::NotFound);
    };
    let entry = Entry::new(actor, source, "token.revoke", &row.name)
        .before(json!({ "name": row.name, "role": row.role }))
        .after(json!({ "revoked": true }));
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The principal a bearer token stands for, or `None` for an unknown or revoked token.
pub async fn authenticate(pool: &SqlitePool, token: &str, now: DateTime<Utc>) -> sqlx::Result<Option<Principal>> {
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let token_hash = hash(token);
    let row = sqlx::query!(
        r#"SELECT id AS "id!", name, role, created_at AS "created_at: DateTime<Utc>",
                  last_used_at AS "last_used_at: DateTime<Utc>"
           FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"#,
        token_hash
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let Some(role) = Role::parse(&row.role) else { return Ok(None) };
    if row.last_used_at.is_none_or(|t| (now - t).num_seconds() >= LAST_USED_RESOLUTION_SECS) {
        sqlx::query!("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", now, row.id).execute(pool).await?;
    }
    Ok(Some(Principal { via: Via::Token, name: row.name, username: None, groups: vec![], role, since: row.created_at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_stored_only_as_their_hash() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn token_names_are_short_and_plain() {
        assert_eq!(parse_name("  CI deploy (main)  ").unwrap_err().code(), "invalid");
        assert_eq!(parse_name(" ci-deploy.main_1 ").unwrap(), "ci-deploy.main_1");
        assert_eq!(parse_name(&"x".repeat(65)).unwrap_err().code(), "invalid");
        assert!(parse_name("").is_err() && parse_name("<script>").is_err());
    }
}

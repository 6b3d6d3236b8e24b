//! The command line's tools besides `serve`: bootstrap the first admin and create API tokens.
//! Both write the audit log as actor `cli`.

use crate::config::{CloudBackend, ServeConfig};
use domain::directory::Invitation;
use domain::{Clock, CloudError, EmailAddress, Role, SystemClock};
use serde_json::json;
use service::audit::{self, Entry};
use std::sync::Arc;

/// How the command line names itself in the audit log.
const ACTOR: &str = "cli";

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("{0}")]
    Invalid(String),
    #[error("the directory refused: {0}")]
    Cloud(#[from] CloudError),
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
}

/// `shinyfleet admin invite EMAIL`: makes EMAIL an admin. On AWS, Cognito emails them a
/// temporary password (an existing user is just added to the admins' group); on the sandbox,
/// whose directory lives in the console's memory, they are invited at every start and the
/// console prints their temporary password.
pub async fn admin_invite(config: &ServeConfig, email: &str) -> Result<String, CliError> {
    config.validate()?;
    let email = EmailAddress::parse(email).map_err(|e| CliError::Invalid(format!("EMAIL: {}", e.message)))?;
    let pool = crate::db::connect(&config.database_url).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let now = clock.now();
    let message = match config.cloud {
        CloudBackend::Sandbox => {
            let mut tx = service::begin_write(&pool).await?;
            let email_str = email.as_str();
            sqlx::query!(
                "INSERT INTO sandbox_admins (email, added_at) VALUES (?, ?) ON CONFLICT (email) DO NOTHING",
                email_str,
                now
            )
            .execute(&mut *tx)
            .await?;
            let entry = Entry::new(ACTOR, None, "user.invite", email_str)
                .after(json!({ "email": email_str, "groups": [config.admin_group] }));
            audit::record(&mut tx, &entry, now).await?;
            tx.commit().await?;
            format!(
                "{email} will be an admin of the sandbox: start the console (make run) and it prints their temporary password."
            )
        }
        CloudBackend::Aws => {
            let chosen = crate::choose_cloud(config, clock).await;
            let directory = &chosen.cloud.directory;
            for group in [&config.admin_group, &config.viewer_group] {
                directory.ensure_group(group).await?;
            }
            let invitation = Invitation { email: email.to_string(), temporary_password: None };
            let (username, invited) = match directory.invite(&invitation).await {
                Ok(user) => (user.username, true),
                Err(CloudError::Conflict(_)) => {
                    let page = directory.list_users(Some(email.as_str()), 60, None).await?;
                    let user = page.users.into_iter().find(|u| u.email == email.as_str()).ok_or_else(|| {
                        CliError::Invalid(format!("{email} exists in the pool but could not be found by email"))
                    })?;
                    (user.username, false)
                }
                Err(e) => return Err(e.into()),
            };
            if invited {
                // Recorded before the group change, which may fail on its own.
                let entry = Entry::new(ACTOR, None, "user.invite", email.as_str())
                    .after(json!({ "email": email.as_str(), "groups": [] }));
                audit::record_alone(&pool, &entry, now).await?;
            }
            directory.add_to_group(&username, &config.admin_group).await?;
            let entry =
                Entry::new(ACTOR, None, "user.add_group", &username).after(json!({ "groups": [config.admin_group] }));
            audit::record_alone(&pool, &entry, now).await?;
            if invited {
                format!("Invited {email} as an admin: Cognito emails them a temporary password.")
            } else {
                format!("{email} already had an account and is now in {}.", config.admin_group)
            }
        }
    };
    pool.close().await;
    Ok(message)
}

/// `shinyfleet token create --name NAME --role ROLE`: returns the new token (shown once).
pub async fn token_create(config: &ServeConfig, name: &str, role: &str) -> Result<String, CliError> {
    config.validate()?;
    let role = Role::parse(role).ok_or_else(|| CliError::Invalid("--role: admin or viewer".into()))?;
    let pool = crate::db::connect(&config.database_url).await?;
    let now = SystemClock.now();
    let created = service::tokens::create(&pool, name, role, ACTOR, None, now).await;
    pool.close().await;
    match created {
        Ok((_, token)) => Ok(token),
        Err(service::Error::Invalid { field, message }) => Err(CliError::Invalid(format!("--{field}: {message}"))),
        Err(e) => Err(CliError::Invalid(e.to_string())),
    }
}

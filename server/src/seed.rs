//! The sandbox's demo fleet. The sandbox is an in-memory cloud, so at every start it is
//! given a service for each app in the database; with `--demo` (the default for the
//! sandbox) a few demo apps are first added to the database, once.

use chrono::{DateTime, Utc};
use cloud::sandbox::Sandbox;
use domain::definition::Network;
use domain::fleet::Fleet;
use domain::{AppDefinition, AppInput, Architecture};
use service::apps;
use sqlx::SqlitePool;

const ECR: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

/// (slug, display name, image, cpu, memory, architecture, desired count)
const DEMO_APPS: &[(&str, &str, &str, u32, u32, Architecture, u32)] = &[
    ("sales-dashboard", "Sales dashboard", "sales-dashboard:2026.11.2", 512, 1024, Architecture::X86_64, 2),
    ("forecast-explorer", "Forecast explorer", "forecast-explorer:v3.1.0", 1024, 2048, Architecture::Arm64, 1),
    ("trial-monitor", "Clinical trial monitor", "trial-monitor:1.8.0", 256, 512, Architecture::X86_64, 1),
    ("ops-report", "Monthly ops report", "ops-report:2026.10", 256, 1024, Architecture::X86_64, 0),
];

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("demo app: {0}")]
    Invalid(#[from] domain::ValidationError),
    #[error("sandbox: {0}")]
    Cloud(#[from] domain::CloudError),
    #[error("{0}")]
    Random(String),
    #[error("the app registry could not be read (see the log above)")]
    Registry,
}

/// The demo apps, validated like any other app.
pub fn demo_apps() -> Result<Vec<AppDefinition>, domain::ValidationError> {
    DEMO_APPS
        .iter()
        .map(|&(slug, name, image, cpu, memory, architecture, desired_count)| {
            let input = AppInput {
                slug: slug.to_owned(),
                name: name.to_owned(),
                image: format!("{ECR}/{image}"),
                cpu: i64::from(cpu),
                memory: i64::from(memory),
                architecture: architecture.as_str().to_owned(),
                desired_count: i64::from(desired_count),
                tags: vec![("team".to_owned(), "analytics".to_owned())],
                ..AppInput::defaults()
            };
            AppDefinition::parse(&input).map_err(|mut errors| errors.remove(0))
        })
        .collect()
}

/// Adds the demo apps (if `demo`) and gives the sandbox a service for every app, as its last
/// deploy left it (the sandbox forgets everything when the console stops).
pub async fn prepare_sandbox(
    pool: &SqlitePool,
    sandbox: &Sandbox,
    demo: bool,
    now: DateTime<Utc>,
) -> Result<(), SeedError> {
    if demo {
        for app in demo_apps()? {
            if apps::insert_if_missing(pool, &app, now).await? {
                tracing::info!(slug = %app.slug, "added demo app");
            }
        }
    }
    let network = Network {
        subnets: vec!["subnet-sandbox".into()],
        security_groups: vec!["sg-sandbox".into()],
        assign_public_ip: false,
    };
    let registered = apps::list(pool).await.map_err(|_| SeedError::Registry)?;
    for app in registered {
        let def = &app.definition;
        // What ran last: the image of the last completed deploy (a failed one was rolled back).
        let image =
            service::deploys::last_completed_image(pool, app.id).await?.unwrap_or_else(|| def.image.to_string());
        let revision = sandbox.register_task_definition(&def.task_definition(&image, "us-east-1")).await?;
        sandbox.create_service(&def.service(&revision.arn, &network)).await?;
    }
    Ok(())
}

/// A user of the sandbox's directory, printed at start so the demo can be signed into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUser {
    pub role: &'static str,
    pub email: String,
    pub password: String,
    /// The password is temporary: the first sign-in asks for a new one.
    pub temporary: bool,
}

/// The demo admin and viewer.
pub const DEMO_ADMIN: &str = "admin@example.org";
pub const DEMO_VIEWER: &str = "viewer@example.org";

/// Creates the role groups in the sandbox's directory, the demo users (with `--demo`) and
/// the admins added with `shinyfleet admin invite`, and returns who can sign in.
pub async fn prepare_sandbox_users(
    pool: &SqlitePool,
    sandbox: &Sandbox,
    config: &crate::config::ServeConfig,
) -> Result<Vec<SandboxUser>, SeedError> {
    use domain::directory::{Directory, Invitation};
    for group in [&config.admin_group, &config.viewer_group] {
        sandbox.ensure_group(group).await?;
    }
    let mut users = vec![];
    if config.demo {
        let password = match &config.demo_password {
            Some(p) => secrecy::ExposeSecret::expose_secret(p).to_owned(),
            None => random_password()?,
        };
        for (role, email, group) in
            [("admin", DEMO_ADMIN, &config.admin_group), ("viewer", DEMO_VIEWER, &config.viewer_group)]
        {
            sandbox.add_user(email, &password, &[group.as_str()])?;
            users.push(SandboxUser { role, email: email.to_owned(), password: password.clone(), temporary: false });
        }
    }
    let admins = sqlx::query_scalar!("SELECT email FROM sandbox_admins ORDER BY email").fetch_all(pool).await?;
    for email in admins {
        let user = match sandbox.invite(&Invitation { email: email.clone(), temporary_password: None }).await {
            Ok(user) => user,
            // A demo user of the same address: they are an admin already.
            Err(domain::CloudError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        sandbox.add_to_group(&user.username, &config.admin_group).await?;
        if let Some(password) = sandbox.temporary_password(&email) {
            users.push(SandboxUser { role: "admin", email, password, temporary: true });
        }
    }
    Ok(users)
}

/// Prints the sandbox's users on standard output (never in the logs): the sandbox is a demo,
/// and its passwords are worth nothing outside this process.
pub fn print_sandbox_users(users: &[SandboxUser], listen: std::net::SocketAddr) {
    if users.is_empty() {
        return;
    }
    let mut text = format!("\nSandbox sign-in at http://{listen}/sign-in\n");
    for u in users {
        let note = if u.temporary { "  (temporary: choose a new one at first sign-in)" } else { "" };
        text.push_str(&format!("  {:<7} {:<28} password: {}{note}\n", u.role, u.email, u.password));
    }
    println!("{text}");
}

/// A 16-character password that satisfies the directory's rules.
fn random_password() -> Result<String, SeedError> {
    use ring::rand::SecureRandom;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 13];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SeedError::Random("the system random generator failed".into()))?;
    let body: String = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    // One of each class the rules ask for, whatever the random part holds.
    Ok(format!("Sf{body}7"))
}

//! The sandbox's demo fleet. The sandbox is an in-memory cloud, so at every start it is
//! given a service for each app in the database; with `--demo` (the default for the
//! sandbox) a few demo apps are first added to the database, once.

use app::ssr::apps::{self, NewApp};
use chrono::{DateTime, Utc};
use cloud::sandbox::Sandbox;
use domain::fleet::{Fleet, ServiceSpec, TaskDefinitionSpec};
use domain::{AppSlug, Architecture, FargateSize, ImageRef};
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
}

/// The demo apps, validated like any other app.
pub fn demo_apps() -> Result<Vec<NewApp>, domain::ValidationError> {
    DEMO_APPS
        .iter()
        .map(|&(slug, name, image, cpu, memory, architecture, desired_count)| {
            Ok(NewApp {
                slug: AppSlug::parse(slug)?,
                name: name.to_owned(),
                image: ImageRef::parse(&format!("{ECR}/{image}"))?,
                size: FargateSize::new(cpu, memory)?,
                architecture,
                desired_count,
            })
        })
        .collect()
}

/// Adds the demo apps (if `demo`) and gives the sandbox a service for every app.
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
    for app in apps::watched(pool).await? {
        let architecture = Architecture::parse(&app.architecture)?;
        let revision = sandbox
            .register_task_definition(&TaskDefinitionSpec {
                family: app.slug.clone(),
                image: app.image.clone(),
                cpu: app.cpu,
                memory: app.memory,
                architecture,
                container_port: app.port,
                environment: vec![],
                task_role_arn: None,
                execution_role_arn: None,
                health_check_command: None,
                log_group: format!("/shinyfleet/{}", app.slug),
                log_region: "us-east-1".into(),
                tags: vec![],
            })
            .await?;
        sandbox
            .create_service(&ServiceSpec {
                name: app.slug.clone(),
                task_definition: revision.arn,
                desired_count: app.desired_count,
                subnets: vec!["subnet-sandbox".into()],
                security_groups: vec!["sg-sandbox".into()],
                assign_public_ip: false,
                target_group_arn: None,
                container_port: app.port,
                tags: vec![],
            })
            .await?;
    }
    Ok(())
}

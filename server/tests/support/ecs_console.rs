//! A test console whose fleet and registry are the real AWS adapters on a new moto cluster in
//! moto's default network (the sandbox still signs people in, keeps metrics and logs), with
//! the admin signed in and moto's own ECS client to look behind the console.
//!
//! Include it next to `moto.rs` and `support`: `#[path = "support/ecs_console.rs"] mod ecs_console;`

#![allow(dead_code)]

use crate::moto::{self, unique};
use crate::support::{TestConsole, ADMIN};
use aws_config::SdkConfig;
use cloud::aws::{EcrRegistry, EcsFleet};
use service::Cloud;
use std::sync::Arc;

pub struct EcsConsole {
    pub c: TestConsole,
    /// Signed in as [`ADMIN`].
    pub admin: reqwest::Client,
    /// moto's ECS, straight (not through the console's endpoint).
    pub ecs: aws_sdk_ecs::Client,
    pub cluster: String,
    /// The console's `--subnets` (the default VPC's first two) and `--security-groups`.
    pub subnets: Vec<String>,
    pub security_group: String,
}

/// A console whose AWS adapters are built from `console_sdk` (moto, or a proxy in front of
/// it), on a new cluster named `prefix-…`.
pub async fn start(console_sdk: &SdkConfig, prefix: &str) -> EcsConsole {
    let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config().await);
    let cluster = unique(prefix);
    ecs.create_cluster().cluster_name(&cluster).send().await.expect("cluster created");
    let network = moto::default_network().await;
    let subnets = network.subnets[..2].to_vec();
    let joined = subnets.join(",");
    let flags = ["--cluster", &cluster, "--subnets", &joined, "--security-groups", &network.security_group];
    let c = TestConsole::with_cloud(&flags, |sandbox, _| Cloud {
        fleet: Arc::new(EcsFleet::new(console_sdk, cluster.clone())),
        // The sandbox's directory signs the admin in; the cloud under test is ECS and ECR.
        directory: sandbox.clone(),
        metrics: sandbox.clone(),
        registry: Arc::new(EcrRegistry::new(console_sdk)),
        logs: sandbox.clone(),
        identity: Arc::new(sandbox.identity_verifier()),
    })
    .await;
    let admin = c.client_for(ADMIN).await;
    EcsConsole { c, admin, ecs, cluster, subnets, security_group: network.security_group }
}

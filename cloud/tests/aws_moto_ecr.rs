//! [`EcrRegistry`] against moto's server: images pushed with the raw ECR client (`PutImage`
//! with a small manifest) and resolved through the port, by tag and by digest, in the
//! configured region and in another one, with the digests compared to what `DescribeImages`
//! reports. Each test makes its own repositories, so the tests share one server and run in
//! parallel.
//!
//! moto computes an image's digest its own way (the SHA-256 of its layers' digests, where ECR
//! hashes the manifest), so the tests read it back rather than computing it.
//!
//! Run with `cargo test -p cloud --test aws_moto_ecr` (moto starts by itself; set
//! `MOTO_ENDPOINT` to use a running one).

mod support;

use cloud::aws::EcrRegistry;
use domain::registry::Registry;
use domain::{CloudError, ImageRef};
use support::ecr::{sha256_hex, Repository};
use support::moto;

/// The region of [`moto::sdk_config`].
const HOME: &str = "us-east-1";
/// Another region of the same account.
const AWAY: &str = "eu-west-1";

async fn repository(region: &str) -> Repository {
    Repository::in_region(&moto::sdk_config().await, region).await
}

async fn registry() -> EcrRegistry {
    EcrRegistry::new(&moto::sdk_config().await)
}

/// `repo`'s repository followed by `suffix` (`:tag` or `@digest`).
fn image(repo: &Repository, suffix: &str) -> ImageRef {
    ImageRef::parse(&format!("{}{suffix}", repo.repository())).expect("a valid image reference")
}

#[tokio::test]
async fn a_tag_resolves_to_the_digest_the_registry_reports() {
    let repo = repository(HOME).await;
    repo.push("v1").await;
    let reported = repo.reported_digest("v1").await;

    let resolved = registry().await.resolve(&image(&repo, ":v1")).await.expect("resolved");
    assert_eq!(resolved.as_deref(), Some(reported.as_str()));
    assert!(ImageRef::parse(&format!("sales@{reported}")).is_ok(), "a well-formed digest: {reported}");
}

#[tokio::test]
async fn a_moved_tag_resolves_to_its_new_image() {
    let repo = repository(HOME).await;
    let registry = registry().await;
    repo.push("latest").await;
    let first = registry.resolve(&image(&repo, ":latest")).await.expect("resolved").expect("an ECR image");

    repo.push("latest").await;
    let second = registry.resolve(&image(&repo, ":latest")).await.expect("resolved").expect("an ECR image");
    assert_ne!(first, second);
    assert_eq!(second, repo.reported_digest("latest").await);
}

#[tokio::test]
async fn a_digest_resolves_to_itself_once_the_registry_holds_it() {
    let repo = repository(HOME).await;
    repo.push("v1").await;
    let reported = repo.reported_digest("v1").await;
    let registry = registry().await;

    let pinned = image(&repo, &format!("@{reported}"));
    assert_eq!(registry.resolve(&pinned).await, Ok(Some(reported)));

    let unknown = format!("sha256:{}", sha256_hex("never pushed"));
    assert_eq!(
        registry.resolve(&image(&repo, &format!("@{unknown}"))).await,
        Err(CloudError::NotFound(format!("image {}@{unknown}", repo.name)))
    );
}

#[tokio::test]
async fn a_missing_tag_is_not_found_by_name() {
    let repo = repository(HOME).await;
    repo.push("v1").await;
    let missing = registry().await.resolve(&image(&repo, ":v2")).await;
    assert_eq!(missing, Err(CloudError::NotFound(format!("image {}:v2", repo.name))));
}

#[tokio::test]
async fn a_missing_repository_is_not_found_by_name() {
    let repo = repository(HOME).await;
    let image = ImageRef::parse(&format!("{}.dkr.ecr.{HOME}.amazonaws.com/team/no-such-app:v1", repo.account))
        .expect("a valid image reference");
    let missing = registry().await.resolve(&image).await;
    assert_eq!(missing, Err(CloudError::NotFound("repository team/no-such-app".into())));
}

#[tokio::test]
async fn an_image_in_another_region_resolves_there() {
    let away = repository(AWAY).await;
    away.push("v1").await;
    let reported = away.reported_digest("v1").await;
    let registry = registry().await;

    assert_eq!(registry.resolve(&image(&away, ":v1")).await, Ok(Some(reported.clone())));
    // The regional client is kept: a second image there resolves through it.
    away.push("v2").await;
    assert_eq!(registry.resolve(&image(&away, ":v2")).await, Ok(Some(away.reported_digest("v2").await)));
    // The region is the host's, not the configuration's: the home region has no such repository.
    let at_home = Repository { region: HOME.into(), ..away };
    assert_eq!(
        registry.resolve(&image(&at_home, ":v1")).await,
        Err(CloudError::NotFound(format!("repository {}", at_home.name)))
    );
}

#[tokio::test]
async fn the_account_in_the_host_is_the_registry_asked() {
    let repo = repository(HOME).await;
    repo.push("v1").await;
    // moto keeps every repository in its one account and refuses any other `registryId`.
    let other_account = Repository { account: "210987654321".into(), ..repo };
    assert_eq!(
        registry().await.resolve(&image(&other_account, ":v1")).await,
        Err(CloudError::NotFound(format!("repository {}", other_account.name)))
    );
}

#[tokio::test]
async fn images_outside_ecr_are_not_resolved() {
    let registry = registry().await;
    for other in ["rocker/shiny-verse:4.4.1", "ghcr.io/acme/sales:1.2.3", "public.ecr.aws/acme/sales:1"] {
        let image = ImageRef::parse(other).expect("a valid image reference");
        assert_eq!(registry.resolve(&image).await, Ok(None), "{other}");
    }
}

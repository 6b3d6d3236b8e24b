//! An ECR repository in moto for the tests that push images: images are pushed as manifests
//! (moto keeps no layers) and their digests read back as moto reports them (it hashes the
//! layers' digests, where ECR hashes the manifest).
//!
//! The cloud crate's tests reach it as `support::ecr`; the server's include it next to
//! `moto.rs`: `#[path = "../../cloud/tests/support/ecr.rs"] mod ecr;`.

#![allow(dead_code)]

use super::moto::unique;
use aws_config::SdkConfig;
use aws_sdk_ecr::config::Region;
use aws_sdk_ecr::types::ImageIdentifier;
use ring::digest::{digest, SHA256};

/// An ECR repository in moto, the raw client of its region, and the account moto keeps it in
/// (its `registryId`).
pub struct Repository {
    pub raw: aws_sdk_ecr::Client,
    pub name: String,
    pub account: String,
    pub region: String,
}

impl Repository {
    /// A new repository in `config`'s region.
    pub async fn new(config: &SdkConfig) -> Self {
        let region = config.region().expect("a region").to_string();
        Self::in_region(config, &region).await
    }

    /// A new repository in `region`.
    pub async fn in_region(config: &SdkConfig, region: &str) -> Self {
        let regional = aws_sdk_ecr::config::Builder::from(config).region(Region::new(region.to_owned())).build();
        let raw = aws_sdk_ecr::Client::from_conf(regional);
        let name = format!("team/{}", unique("shiny"));
        let out = raw.create_repository().repository_name(&name).send().await.expect("repository created");
        let account = out.repository().and_then(|r| r.registry_id()).expect("a registry id").to_owned();
        Self { raw, name, account, region: region.to_owned() }
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO`
    pub fn repository(&self) -> String {
        format!("{}.dkr.ecr.{}.amazonaws.com/{}", self.account, self.region, self.name)
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:tag`
    pub fn image(&self, tag: &str) -> String {
        format!("{}:{tag}", self.repository())
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO@sha256:…`
    pub fn pinned(&self, digest: &str) -> String {
        format!("{}@{digest}", self.repository())
    }

    /// Pushes a new image under `tag` (moving the tag if it exists); the digest moto reports.
    pub async fn push(&self, tag: &str) -> String {
        self.raw
            .put_image()
            .repository_name(&self.name)
            .image_manifest(manifest())
            .image_tag(tag)
            .send()
            .await
            .expect("image pushed");
        self.reported_digest(tag).await
    }

    /// The digest moto reports for `tag`.
    pub async fn reported_digest(&self, tag: &str) -> String {
        let out = self
            .raw
            .describe_images()
            .repository_name(&self.name)
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await
            .expect("image described");
        let [detail] = out.image_details() else { panic!("one image for {tag}") };
        detail.image_digest().expect("a digest").to_owned()
    }
}

/// A Docker image manifest with one layer of its own, so every pushed image differs.
fn manifest() -> String {
    let layer = sha256_hex(&unique("layer"));
    let config = sha256_hex(&unique("config"));
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"sha256:{config}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":31357311,"digest":"sha256:{layer}"}}]}}"#
    )
}

/// The SHA-256 of `text`, in lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    digest(&SHA256, text.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

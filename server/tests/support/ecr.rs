//! An ECR repository in moto for the tests that deploy through the real adapters: images are
//! pushed as manifests (moto keeps no layers) and their digests read back as moto reports them
//! (it hashes the layers, not the manifest).
//!
//! Include it next to `moto.rs`, which it uses for unique names:
//! `#[path = "support/ecr.rs"] mod ecr;`

#![allow(dead_code)]

use crate::moto::unique;
use aws_sdk_ecr::types::ImageIdentifier;
use ring::digest::{digest, SHA256};

const REGION: &str = "us-east-1";

/// An ECR repository in moto and the account moto keeps it in.
pub struct Repository {
    raw: aws_sdk_ecr::Client,
    pub name: String,
    account: String,
}

impl Repository {
    pub async fn new(config: &aws_config::SdkConfig) -> Self {
        let raw = aws_sdk_ecr::Client::new(config);
        let name = format!("team/{}", unique("shiny"));
        let out = raw.create_repository().repository_name(&name).send().await.expect("repository created");
        let account = out.repository().and_then(|r| r.registry_id()).expect("a registry id").to_owned();
        Self { raw, name, account }
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO`
    pub fn repository(&self) -> String {
        format!("{}.dkr.ecr.{REGION}.amazonaws.com/{}", self.account, self.name)
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:tag`
    pub fn image(&self, tag: &str) -> String {
        format!("{}:{tag}", self.repository())
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO@sha256:…`
    pub fn pinned(&self, digest: &str) -> String {
        format!("{}@{digest}", self.repository())
    }

    /// Pushes a new image under `tag` and returns the digest moto reports for it.
    pub async fn push(&self, tag: &str) -> String {
        let layer = sha256_hex(&unique("layer"));
        let config = sha256_hex(&unique("config"));
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"sha256:{config}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":31357311,"digest":"sha256:{layer}"}}]}}"#
        );
        self.raw
            .put_image()
            .repository_name(&self.name)
            .image_manifest(manifest)
            .image_tag(tag)
            .send()
            .await
            .expect("image pushed");
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

fn sha256_hex(text: &str) -> String {
    digest(&SHA256, text.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

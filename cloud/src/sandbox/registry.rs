//! The sandbox's ECR behind the `Registry` port. It holds no images: every ECR image exists,
//! and a tag's digest is `sha256:` and the SHA-256 of the image reference, so the same
//! reference always resolves to the same digest and two references never share one. For the
//! console's tests and demo to show the errors, an image whose tag contains `missing` is not
//! found, nor is any image of a repository whose name contains `missing`; the digest of a tag
//! containing `broken` starts with [`BROKEN_DIGEST_PREFIX`], so the image pinned to it stays
//! broken in the sandbox's ECS.

use super::lifecycle::BROKEN_DIGEST_PREFIX;
use super::Sandbox;
use async_trait::async_trait;
use domain::registry::{EcrImage, ImageId, Registry};
use domain::{CloudError, ImageRef};
use ring::digest::{digest, SHA256};
use std::fmt::Write;

/// The word that makes a tag or a repository missing.
const MISSING: &str = "missing";

#[async_trait]
impl Registry for Sandbox {
    async fn resolve(&self, image: &ImageRef) -> Result<Option<String>, CloudError> {
        let Some(ecr) = EcrImage::parse(image) else {
            return Ok(None);
        };
        if ecr.repository.contains(MISSING) {
            return Err(ecr.repository_not_found());
        }
        match &ecr.reference {
            ImageId::Tag(tag) if tag.contains(MISSING) => Err(ecr.image_not_found()),
            ImageId::Tag(tag) if tag.contains("broken") => {
                let digest = fake_digest(&image.to_string());
                Ok(Some(format!("{BROKEN_DIGEST_PREFIX}{}", &digest[BROKEN_DIGEST_PREFIX.len()..])))
            }
            ImageId::Tag(_) => Ok(Some(fake_digest(&image.to_string()))),
            ImageId::Digest(digest) => Ok(Some(digest.clone())),
        }
    }
}

/// `sha256:` and the lowercase hex SHA-256 of `reference`.
fn fake_digest(reference: &str) -> String {
    let hash = digest(&SHA256, reference.as_bytes());
    hash.as_ref().iter().fold(String::from("sha256:"), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::super::ManualClock;
    use super::*;
    use chrono::{TimeZone, Utc};
    use std::sync::Arc;

    const ECR: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

    fn sandbox() -> Arc<Sandbox> {
        let start = Utc.with_ymd_and_hms(2025, 3, 3, 8, 0, 0).single().expect("a valid instant");
        Sandbox::new(ManualClock::new(start), 7)
    }

    async fn resolve(raw: &str) -> Result<Option<String>, CloudError> {
        sandbox().resolve(&ImageRef::parse(raw).expect("a valid image reference")).await
    }

    #[test]
    fn the_digest_is_the_sha256_of_the_reference() {
        assert_eq!(fake_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(fake_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[tokio::test]
    async fn a_tag_resolves_to_the_same_digest_every_time() {
        let image = format!("{ECR}/team/sales:v1");
        let digest = resolve(&image).await.expect("resolved").expect("an ECR image");
        assert_eq!(digest, fake_digest(&image));
        assert_eq!(resolve(&image).await, Ok(Some(digest.clone())));
        assert_ne!(resolve(&format!("{ECR}/team/sales:v2")).await, Ok(Some(digest.clone())));

        let pinned = format!("{ECR}/team/sales@{digest}");
        assert_eq!(resolve(&pinned).await, Ok(Some(digest)));
    }

    #[tokio::test]
    async fn a_broken_tags_digest_is_marked_broken() {
        let digest = resolve(&format!("{ECR}/team/sales:broken")).await.expect("resolved").expect("an ECR image");
        assert!(digest.starts_with(BROKEN_DIGEST_PREFIX), "{digest}");
        assert_eq!(digest.len(), "sha256:".len() + 64);
        let fine = resolve(&format!("{ECR}/team/sales:v1")).await.expect("resolved").expect("an ECR image");
        assert!(!fine.starts_with(BROKEN_DIGEST_PREFIX));
    }

    #[tokio::test]
    async fn missing_tags_and_repositories_are_not_found() {
        assert_eq!(
            resolve(&format!("{ECR}/team/sales:missing-v3")).await,
            Err(CloudError::NotFound("image team/sales:missing-v3".into()))
        );
        assert_eq!(
            resolve(&format!("{ECR}/team/missing-app:v1")).await,
            Err(CloudError::NotFound("repository team/missing-app".into()))
        );
    }

    #[tokio::test]
    async fn images_outside_ecr_are_not_resolved() {
        for other in ["rocker/shiny-verse:4.4.1", "ghcr.io/acme/sales:missing", "public.ecr.aws/acme/sales:1"] {
            assert_eq!(resolve(other).await, Ok(None), "{other}");
        }
    }
}

//! The `Registry` port: turning an image's tag into the digest it points to, so that a deploy
//! pins the digest in its task definition and the same revision always runs the same image,
//! however the tag moves afterwards.
//!
//! Only Amazon ECR images are resolved: the console's AWS credentials can read the account's
//! own registries, while Docker Hub, GHCR and other registries would need credentials of
//! their own. [`EcrImage`] is the one definition of "an image in ECR" every adapter shares.

use crate::{CloudError, ImageRef};
use async_trait::async_trait;

/// An image in an ECR registry, taken apart: `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG`
/// or `…/REPO@sha256:…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EcrImage {
    /// The registry's account id (12 digits), ECR's `registryId`.
    pub account: String,
    /// The registry's region, e.g. `eu-west-1`.
    pub region: String,
    /// The repository's name inside the registry, e.g. `team/sales`.
    pub repository: String,
    /// The tag or digest the image is pinned by.
    pub reference: ImageId,
}

/// How an image is named inside its repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImageId {
    Tag(String),
    /// `sha256:<64 hex>`.
    Digest(String),
}

impl EcrImage {
    /// The ECR parts of `image`, or `None` when its registry host is not exactly
    /// `<12 digits>.dkr.ecr.<region>.amazonaws.com` or it names no repository in it. This is
    /// stricter than [`ImageRef::is_ecr`]: a host it accepts but this refuses is not resolved.
    pub fn parse(image: &ImageRef) -> Option<Self> {
        let (host, repository) = image.repository().split_once('/')?;
        let [account, "dkr", "ecr", region, "amazonaws", "com"] = host.split('.').collect::<Vec<_>>()[..] else {
            return None;
        };
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) || !is_region(region) {
            return None;
        }
        let reference = match (image.tag(), image.digest()) {
            (Some(tag), _) => ImageId::Tag(tag.to_owned()),
            (None, Some(digest)) => ImageId::Digest(digest.to_owned()),
            (None, None) => return None,
        };
        Some(Self {
            account: account.to_owned(),
            region: region.to_owned(),
            repository: repository.to_owned(),
            reference,
        })
    }

    /// `REPO:TAG` or `REPO@sha256:…`: the image as its registry knows it, for messages.
    pub fn name(&self) -> String {
        match &self.reference {
            ImageId::Tag(tag) => format!("{}:{tag}", self.repository),
            ImageId::Digest(digest) => format!("{}@{digest}", self.repository),
        }
    }

    /// The error for an image (tag or digest) the repository does not hold.
    pub fn image_not_found(&self) -> CloudError {
        CloudError::NotFound(format!("image {}", self.name()))
    }

    /// The error for a repository the registry does not hold (or the caller cannot see).
    pub fn repository_not_found(&self) -> CloudError {
        CloudError::NotFound(format!("repository {}", self.repository))
    }
}

/// An AWS region name: lowercase words joined by hyphens, ending in a number
/// (`us-east-1`, `us-gov-west-1`, `ap-southeast-5`).
fn is_region(raw: &str) -> bool {
    let parts: Vec<&str> = raw.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words.iter().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// A container registry, as a deploy uses it: to pin an image's tag to its digest.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// The digest (`sha256:…`) of `image`.
    ///
    /// - An ECR image (see [`EcrImage::parse`]) pinned by tag: the digest the tag points to
    ///   now. Pinned by digest: that same digest, once the registry confirmed it holds it.
    /// - `Ok(None)` for any other image (Docker Hub, GHCR, a private registry): those are not
    ///   resolvable without credentials for that registry, so the deploy uses the reference
    ///   as given.
    /// - `NotFound("image REPO:TAG")` (or `REPO@sha256:…`) when the repository does not hold
    ///   the image, `NotFound("repository REPO")` when the registry has no such repository
    ///   (or does not let the console see it), `REPO` being the name inside the registry.
    /// - `Invalid` when the registry refuses the request (access denied, a repository name
    ///   it does not accept), with its message.
    /// - `Throttled` and `Unavailable` when the registry asks to slow down, fails, or answers
    ///   without a digest; the same call may succeed later.
    async fn resolve(&self, image: &ImageRef) -> Result<Option<String>, CloudError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parse(raw: &str) -> Option<EcrImage> {
        EcrImage::parse(&ImageRef::parse(raw).expect("a valid image reference"))
    }

    #[test]
    fn ecr_images_are_taken_apart() {
        let image = parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/sales:v1.2").expect("an ECR image");
        assert_eq!(
            image,
            EcrImage {
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                repository: "team/sales".into(),
                reference: ImageId::Tag("v1.2".into()),
            }
        );
        assert_eq!(image.name(), "team/sales:v1.2");
        assert_eq!(image.image_not_found(), CloudError::NotFound("image team/sales:v1.2".into()));
        assert_eq!(image.repository_not_found(), CloudError::NotFound("repository team/sales".into()));

        let pinned = parse(&format!("000000000000.dkr.ecr.us-gov-west-1.amazonaws.com/sales@{DIGEST}"))
            .expect("an ECR image by digest");
        assert_eq!(
            (pinned.region.as_str(), pinned.reference.clone()),
            ("us-gov-west-1", ImageId::Digest(DIGEST.into()))
        );
        assert_eq!(pinned.name(), format!("sales@{DIGEST}"));
    }

    #[test]
    fn anything_but_the_exact_ecr_host_is_not_ecr() {
        for other in [
            "rocker/shiny-verse:4.4.1",
            "ghcr.io/acme/sales:1",
            "public.ecr.aws/acme/sales:1",
            "localhost:5000/sales:1",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:v1",
            "12345678901.dkr.ecr.eu-west-1.amazonaws.com/sales:1",
            "1234567890123.dkr.ecr.eu-west-1.amazonaws.com/sales:1",
            "12345678901a.dkr.ecr.eu-west-1.amazonaws.com/sales:1",
            "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/sales:1",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/sales:1",
            "123456789012.dkr.ecr.evil.eu-west-1.amazonaws.com/sales:1",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com.example.org/sales:1",
            "123456789012.dkr.ecr.eu-west.amazonaws.com/sales:1",
            "123456789012.dkr.ecr.euwest1.amazonaws.com/sales:1",
            "123456789012.dkr.ecr.eu-west-100.amazonaws.com/sales:1",
            "123456789012.dkr.ecr.eu--1.amazonaws.com/sales:1",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:443/sales:1",
            "x.123456789012.dkr.ecr.eu-west-1.amazonaws.com/sales:1",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }
}

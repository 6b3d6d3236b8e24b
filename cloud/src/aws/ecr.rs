//! [`EcrRegistry`]: the `Registry` port on Amazon ECR, resolving an image's tag to its digest
//! with one `DescribeImages` call.
//!
//! The image's host names the registry: its account becomes `registryId` (so a registry of
//! another account works once its repository policy lets ours read it) and its region picks
//! the client. A client for a region other than the SDK configuration's is derived from the
//! configured one (same credentials, endpoint, retries and timeouts), made on first use and
//! kept for the adapter's lifetime.

use crate::aws::error::{from_sdk, malformed};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_ecr::config::Region;
use aws_sdk_ecr::error::SdkError;
use aws_sdk_ecr::operation::describe_images::DescribeImagesError;
use aws_sdk_ecr::types::ImageIdentifier;
use aws_sdk_ecr::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use domain::registry::{EcrImage, ImageId, Registry};
use domain::{CloudError, ImageRef};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const DESCRIBE_IMAGES: &str = "DescribeImages";

/// ECR, for images in any region of the SDK's partition.
#[derive(Debug, Clone)]
pub struct EcrRegistry {
    /// The client of the configured region.
    client: Client,
    /// Clients for the other regions images were resolved in, by region name.
    regional: Arc<Mutex<HashMap<String, Client>>>,
}

impl EcrRegistry {
    /// An adapter using the shared SDK configuration.
    pub fn new(config: &SdkConfig) -> Self {
        Self::from_client(Client::new(config))
    }

    /// An adapter around a ready client (a mocked one in tests); clients for other regions
    /// are derived from its configuration.
    pub fn from_client(client: Client) -> Self {
        Self { client, regional: Arc::default() }
    }

    /// The client for `region`: the configured one, or one derived from it.
    fn client_for(&self, region: &str) -> Client {
        if self.client.config().region().is_some_and(|r| r.as_ref() == region) {
            return self.client.clone();
        }
        let mut regional = self.regional.lock().unwrap_or_else(|e| e.into_inner());
        regional
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = self.client.config().to_builder().region(Region::new(region.to_owned())).build();
                Client::from_conf(config)
            })
            .clone()
    }
}

#[async_trait]
impl Registry for EcrRegistry {
    async fn resolve(&self, image: &ImageRef) -> Result<Option<String>, CloudError> {
        let Some(ecr) = EcrImage::parse(image) else {
            return Ok(None);
        };
        let id = match &ecr.reference {
            ImageId::Tag(tag) => ImageIdentifier::builder().image_tag(tag),
            ImageId::Digest(digest) => ImageIdentifier::builder().image_digest(digest),
        };
        let out = self
            .client_for(&ecr.region)
            .describe_images()
            .registry_id(&ecr.account)
            .repository_name(&ecr.repository)
            .image_ids(id.build())
            .send()
            .await
            .map_err(|err| describe_error(&ecr, err))?;
        let digest = out.image_details().first().and_then(|detail| detail.image_digest()).filter(|d| !d.is_empty());
        match digest {
            Some(digest) => Ok(Some(digest.to_owned())),
            None => Err(malformed(DESCRIBE_IMAGES, "an image digest")),
        }
    }
}

/// ECR's two "not found" answers name the image or the repository; anything else takes the
/// shared mapping.
fn describe_error(ecr: &EcrImage, err: SdkError<DescribeImagesError, HttpResponse>) -> CloudError {
    match err.as_service_error() {
        Some(DescribeImagesError::ImageNotFoundException(_)) => {
            tracing::debug!(image = %ecr.name(), "DescribeImages: no such image");
            ecr.image_not_found()
        }
        Some(DescribeImagesError::RepositoryNotFoundException(_)) => {
            tracing::debug!(repository = %ecr.repository, "DescribeImages: no such repository");
            ecr.repository_not_found()
        }
        _ => from_sdk(DESCRIBE_IMAGES, err),
    }
}

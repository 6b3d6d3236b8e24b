//! [`EcrRegistry`] against `aws-smithy-mocks`: the answers moto cannot give (throttling,
//! server errors, an answer without a digest), the request itself (registry, repository,
//! tag or digest), and the regional endpoint each image is looked up at, read from the
//! requests as they leave.
//!
//! Run with `cargo test -p cloud --test aws_mocks_ecr`.

use aws_sdk_ecr::operation::describe_images::{DescribeImagesError, DescribeImagesInput, DescribeImagesOutput};
use aws_sdk_ecr::types::error::{ImageNotFoundException, RepositoryNotFoundException, ServerException};
use aws_sdk_ecr::types::{ImageDetail, ImageIdentifier};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::ErrorMetadata;
use cloud::aws::EcrRegistry;
use domain::registry::Registry;
use domain::{CloudError, ImageRef};
use std::sync::{Arc, Mutex};

const ACCOUNT: &str = "123456789012";
const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn image(region: &str, suffix: &str) -> ImageRef {
    ImageRef::parse(&format!("{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/team/sales{suffix}"))
        .expect("a valid image reference")
}

/// The hosts the requests were sent to, in order.
#[derive(Debug, Clone, Default)]
struct Hosts(Arc<Mutex<Vec<String>>>);

impl Hosts {
    fn sent(&self) -> Vec<String> {
        self.0.lock().expect("an unpoisoned lock").clone()
    }
}

impl Intercept for Hosts {
    fn name(&self) -> &'static str {
        "Hosts"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        let host = uri.trim_start_matches("https://").split('/').next().unwrap_or_default().to_owned();
        self.0.lock().expect("an unpoisoned lock").push(host);
        Ok(())
    }
}

fn registry_with(rules: &[&Rule], hosts: Hosts) -> EcrRegistry {
    let client = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, rules, move |c| c
        .retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled())
        .interceptor(hosts.clone()));
    EcrRegistry::from_client(client)
}

fn registry(rules: &[&Rule]) -> EcrRegistry {
    registry_with(rules, Hosts::default())
}

fn http_status(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(StatusCode::try_from(status).expect("a valid status"), SdkBody::from(body))
}

/// Answers every `DescribeImages` with one image of digest [`DIGEST`], recording the request.
fn found(requests: &Arc<Mutex<Vec<DescribeImagesInput>>>) -> Rule {
    let requests = requests.clone();
    mock!(aws_sdk_ecr::Client::describe_images).then_compute_output(move |input: &DescribeImagesInput| {
        requests.lock().expect("an unpoisoned lock").push(input.clone());
        DescribeImagesOutput::builder()
            .image_details(ImageDetail::builder().image_digest(DIGEST).image_tags("v1").build())
            .build()
    })
}

#[tokio::test]
async fn the_request_names_the_registry_the_repository_and_the_tag_or_digest() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let registry = registry(&[&found(&requests)]);

    assert_eq!(registry.resolve(&image("us-east-1", ":v1")).await, Ok(Some(DIGEST.to_owned())));
    assert_eq!(registry.resolve(&image("us-east-1", &format!("@{DIGEST}"))).await, Ok(Some(DIGEST.to_owned())));

    let requests = requests.lock().expect("an unpoisoned lock").clone();
    let asked: Vec<_> = requests.iter().map(|r| (r.registry_id(), r.repository_name(), r.image_ids())).collect();
    assert_eq!(
        asked,
        [
            (Some(ACCOUNT), Some("team/sales"), &[ImageIdentifier::builder().image_tag("v1").build()][..]),
            (Some(ACCOUNT), Some("team/sales"), &[ImageIdentifier::builder().image_digest(DIGEST).build()][..]),
        ]
    );
}

#[tokio::test]
async fn each_image_is_looked_up_in_its_own_region() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let hosts = Hosts::default();
    let registry = registry_with(&[&found(&requests)], hosts.clone());

    for region in ["eu-west-1", "us-east-1", "eu-west-1", "ap-southeast-2"] {
        assert_eq!(registry.resolve(&image(region, ":v1")).await, Ok(Some(DIGEST.to_owned())), "{region}");
    }
    assert_eq!(
        hosts.sent(),
        [
            "api.ecr.eu-west-1.amazonaws.com",
            "api.ecr.us-east-1.amazonaws.com",
            "api.ecr.eu-west-1.amazonaws.com",
            "api.ecr.ap-southeast-2.amazonaws.com",
        ]
    );
}

#[tokio::test]
async fn throttling_is_reported_as_throttled() {
    let modeled = mock!(aws_sdk_ecr::Client::describe_images).then_error(|| {
        DescribeImagesError::generic(
            ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build(),
        )
    });
    assert_eq!(registry(&[&modeled]).resolve(&image("eu-west-1", ":v1")).await, Err(CloudError::Throttled));

    let on_the_wire = mock!(aws_sdk_ecr::Client::describe_images)
        .then_http_response(|| http_status(400, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#));
    assert_eq!(registry(&[&on_the_wire]).resolve(&image("eu-west-1", ":v1")).await, Err(CloudError::Throttled));
}

#[tokio::test]
async fn server_errors_are_reported_as_unavailable() {
    let modeled = mock!(aws_sdk_ecr::Client::describe_images).then_error(|| {
        DescribeImagesError::ServerException(ServerException::builder().message("internal detail").build())
    });
    let failed = registry(&[&modeled]).resolve(&image("eu-west-1", ":v1")).await;
    assert!(matches!(failed, Err(CloudError::Unavailable(ref m)) if !m.contains("internal detail")), "{failed:?}");

    let on_the_wire =
        mock!(aws_sdk_ecr::Client::describe_images).then_http_response(|| http_status(503, "<html>busy</html>"));
    assert_eq!(
        registry(&[&on_the_wire]).resolve(&image("eu-west-1", ":v1")).await,
        Err(CloudError::Unavailable("the service failed (HTTP 503)".into()))
    );
}

#[tokio::test]
async fn missing_images_and_repositories_are_not_found_by_name() {
    let no_image = mock!(aws_sdk_ecr::Client::describe_images).then_error(|| {
        DescribeImagesError::ImageNotFoundException(
            ImageNotFoundException::builder().message("The image with imageId … does not exist").build(),
        )
    });
    assert_eq!(
        registry(&[&no_image]).resolve(&image("eu-west-1", ":v9")).await,
        Err(CloudError::NotFound("image team/sales:v9".into()))
    );
    assert_eq!(
        registry(&[&no_image]).resolve(&image("eu-west-1", &format!("@{DIGEST}"))).await,
        Err(CloudError::NotFound(format!("image team/sales@{DIGEST}")))
    );

    let no_repository = mock!(aws_sdk_ecr::Client::describe_images)
        .then_http_response(|| http_status(400, r#"{"__type":"RepositoryNotFoundException","message":"no"}"#));
    assert_eq!(
        registry(&[&no_repository]).resolve(&image("eu-west-1", ":v1")).await,
        Err(CloudError::NotFound("repository team/sales".into()))
    );
    let modeled = mock!(aws_sdk_ecr::Client::describe_images).then_error(|| {
        DescribeImagesError::RepositoryNotFoundException(RepositoryNotFoundException::builder().build())
    });
    assert_eq!(
        registry(&[&modeled]).resolve(&image("eu-west-1", ":v1")).await,
        Err(CloudError::NotFound("repository team/sales".into()))
    );
}

#[tokio::test]
async fn an_answer_without_a_digest_is_an_error_not_a_guess() {
    let without_digest = CloudError::Unavailable("DescribeImages answered without an image digest".into());

    let no_details =
        mock!(aws_sdk_ecr::Client::describe_images).then_output(|| DescribeImagesOutput::builder().build());
    assert_eq!(registry(&[&no_details]).resolve(&image("eu-west-1", ":v1")).await, Err(without_digest.clone()));

    let detail_without_digest = mock!(aws_sdk_ecr::Client::describe_images).then_output(|| {
        DescribeImagesOutput::builder().image_details(ImageDetail::builder().image_tags("v1").build()).build()
    });
    assert_eq!(
        registry(&[&detail_without_digest]).resolve(&image("eu-west-1", ":v1")).await,
        Err(without_digest.clone())
    );

    let empty_digest = mock!(aws_sdk_ecr::Client::describe_images).then_http_response(|| {
        http_status(200, r#"{"imageDetails":[{"repositoryName":"team/sales","imageDigest":"","imageTags":["v1"]}]}"#)
    });
    assert_eq!(registry(&[&empty_digest]).resolve(&image("eu-west-1", ":v1")).await, Err(without_digest));
}

#[tokio::test]
async fn images_outside_ecr_are_not_looked_up() {
    let rule = mock!(aws_sdk_ecr::Client::describe_images).then_output(|| DescribeImagesOutput::builder().build());
    let registry = registry(&[&rule]);
    for other in [
        "rocker/shiny-verse:4.4.1",
        "ghcr.io/acme/sales:1.2.3",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example/sales:1",
    ] {
        let image = ImageRef::parse(other).expect("a valid image reference");
        assert_eq!(registry.resolve(&image).await, Ok(None), "{other}");
    }
    assert_eq!(rule.num_calls(), 0);
}

//! A moto server for the tests of one test binary, and the SDK configuration that points at it.
//!
//! `MOTO_ENDPOINT` names a running server to use; otherwise the workspace's
//! `.venv/bin/moto_server` (installed by `scripts/ensure-moto.sh`) is started once, on a free
//! port, by a thread that lives as long as the test process. The child is spawned with
//! `PR_SET_PDEATHSIG`, which fires when the spawning *thread* ends: that thread only waits for
//! the child, so the server dies exactly when the test process does, however it ends.
//!
//! Tests share the server and run in parallel, so each one names its resources with
//! [`unique`] and nothing ever resets moto's state.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

const REGION: &str = "us-east-1";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

static ENDPOINT: OnceCell<String> = OnceCell::const_new();

/// The base URL of the shared moto server, started on first use.
pub async fn endpoint() -> &'static str {
    ENDPOINT.get_or_init(start_or_reuse).await
}

/// An SDK configuration for moto: its endpoint, `us-east-1`, static test credentials (never
/// the default chain, so no real account can be reached), one attempt and short timeouts.
pub async fn sdk_config() -> SdkConfig {
    let endpoint = endpoint().await;
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::builder().operation_timeout(Duration::from_secs(20)).build())
        .load()
        .await
}

/// A name no other test of any run against the same server uses: `prefix-<run>-<n>`.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let run = (u64::from(std::process::id()) << 20) ^ (secs & 0xf_ffff);
    format!("{prefix}-{run:x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A new Cognito user pool (passwords: at least 12 characters with upper- and lower-case
/// letters, digits and symbols) and an app client like the console's (no secret,
/// `USER_PASSWORD_AUTH`): `(pool id, client id)`.
pub async fn user_pool(config: &SdkConfig) -> (String, String) {
    use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, PasswordPolicyType, UserPoolPolicyType};
    let raw = aws_sdk_cognitoidentityprovider::Client::new(config);
    let policy = PasswordPolicyType::builder()
        .minimum_length(12)
        .require_uppercase(true)
        .require_lowercase(true)
        .require_numbers(true)
        .require_symbols(true)
        .build();
    let created = raw
        .create_user_pool()
        .pool_name(unique("pool"))
        .policies(UserPoolPolicyType::builder().password_policy(policy).build())
        .send()
        .await
        .expect("pool created");
    let pool_id = created.user_pool().and_then(|p| p.id()).expect("a pool id").to_owned();
    let app = raw
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("shinyfleet")
        .generate_secret(false)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        // Cognito lets a client without read attributes read them all; moto puts only the
        // listed ones in the ID token.
        .read_attributes("email")
        .read_attributes("email_verified")
        .send()
        .await
        .expect("app client created");
    let client_id = app.user_pool_client().and_then(|c| c.client_id()).expect("a client id").to_owned();
    (pool_id, client_id)
}

/// How to verify the ID tokens of `pool_id` for `audience`: moto's tokens carry the real AWS
/// issuer, while moto itself serves the pool's keys.
pub async fn jwt_config(pool_id: &str, audience: &str) -> cloud::jwt::JwtConfig {
    let endpoint = endpoint().await;
    let region = pool_id.split_once('_').map(|(region, _)| region).expect("a pool id starts with its region");
    cloud::jwt::JwtConfig {
        issuer: format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}"),
        audience: audience.to_owned(),
        jwks: cloud::jwt::JwksSource::Url(format!("{endpoint}/{pool_id}/.well-known/jwks.json")),
    }
}

/// The default VPC's subnets and its `default` security group, which moto's ECS insists exist.
pub struct Network {
    pub subnets: Vec<String>,
    pub security_group: String,
}

/// Reads the default network through moto's EC2 query API (no EC2 SDK needed for two calls).
pub async fn default_network() -> Network {
    let subnets = ec2_query("Action=DescribeSubnets&Version=2016-11-15").await;
    let groups =
        ec2_query("Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=group-name&Filter.1.Value.1=default")
            .await;
    let subnets = xml_values(&subnets, "subnetId");
    let security_group = xml_values(&groups, "groupId").into_iter().next().expect("a default security group");
    assert!(!subnets.is_empty(), "moto's default VPC has subnets");
    Network { subnets, security_group }
}

async fn ec2_query(form: &str) -> String {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20240101/{REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0"
    );
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", auth.as_str())];
    let (status, body) = http(endpoint().await, "POST", "/", &headers, form).await.expect("moto answers EC2 queries");
    assert_eq!(status, 200, "EC2 query {form} failed: {body}");
    body
}

fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).filter_map(|rest| rest.split_once(&close).map(|(value, _)| value.to_owned())).collect()
}

/// One HTTP/1.0 request (no chunked answers to decode): the status and the body.
pub async fn http(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).await?;
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Ok((status, body))
}

async fn start_or_reuse() -> String {
    let endpoint = match std::env::var("MOTO_ENDPOINT") {
        Ok(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
        _ => start().await,
    };
    hold_tasks_in_their_state(&endpoint).await;
    endpoint
}

/// moto advances a task's status each time it is described; tests want it to stay put.
async fn hold_tasks_in_their_state(endpoint: &str) {
    let body = r#"{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}"#;
    let headers = [("Content-Type", "application/json")];
    let (status, answer) = http(endpoint, "POST", "/moto-api/state-manager/set-transition", &headers, body)
        .await
        .expect("moto's state manager answers");
    assert!(status < 300, "set-transition failed ({status}): {answer}");
}

async fn start() -> String {
    let port = free_port();
    let binary = moto_server();
    assert!(binary.exists(), "{} is missing: run `bash scripts/ensure-moto.sh`", binary.display());
    let (spawned, outcome) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("moto_server".into())
        .spawn(move || {
            let child = Command::new(&binary)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .die_with_parent()
                .spawn();
            match child {
                Ok(mut child) => {
                    let _ = spawned.send(Ok(()));
                    let _ = child.wait();
                }
                Err(err) => {
                    let _ = spawned.send(Err(err));
                }
            }
        })
        .expect("a thread for moto_server");
    outcome.await.expect("the moto thread reports").expect("moto_server starts");
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_until_answering(&endpoint).await;
    endpoint
}

async fn wait_until_answering(endpoint: &str) {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok((status, _)) = http(endpoint, "GET", "/moto-api/", &[], "").await {
            if status > 0 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not answer at {endpoint} within {STARTUP_TIMEOUT:?}");
}

fn moto_server() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a bound address").port()
}

trait DieWithParent {
    fn die_with_parent(&mut self) -> &mut Self;
}

impl DieWithParent for Command {
    /// Asks the kernel to kill the child when the thread that spawned it ends.
    fn die_with_parent(&mut self) -> &mut Self {
        // SAFETY: the closure runs in the forked child before `exec` and only calls `prctl`
        // and `getppid`, both async-signal-safe; it touches no memory shared with the parent.
        unsafe {
            self.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() == 1 {
                    return Err(std::io::Error::other("the test process ended before moto started"));
                }
                Ok(())
            })
        }
    }
}

//! The sandbox: an in-process simulated AWS account behind the same ports as the real
//! adapters (`Fleet` for ECS, `Directory` for Cognito, `Metrics` for CloudWatch, `Registry`
//! for ECR, `Logs` for CloudWatch Logs, `Frontdoor` for the load balancer), so the console
//! runs with no AWS account and tests run without a network.
//!
//! It is deterministic: everything random is drawn from the seed, and all time comes from
//! the injected [`Clock`]. The simulation is lazy — nothing runs in the background; each
//! call first replays what happened since the previous call, in time order — so the same
//! seed, the same clock readings and the same calls give the same ARNs, ids, timings,
//! events and metrics. Drive it with [`ManualClock`] in tests, `SystemClock` in a demo.
//!
//! Conventions a demo or a test can rely on:
//! - one cluster, [`CLUSTER`], in `us-east-1`, account `000000000000`;
//! - an image whose reference contains `broken` never starts, so its deployment trips the
//!   circuit breaker after 3 failed tasks and rolls back to the last completed revision;
//! - an ECR image's digest is the SHA-256 of its reference (for a `broken` tag, with its first
//!   hex digits replaced by `0bad0bad`, so the image pinned to it is broken too); a tag or
//!   repository containing `missing` does not exist;
//! - a task is PROVISIONING for 1–2 s, PENDING 2–4 s, ACTIVATING 1–2 s, so RUNNING 4–8 s
//!   after launch, and HEALTHY 5 s later; stopping takes DEACTIVATING 1–2 s, STOPPING 2–4 s,
//!   DEPROVISIONING 1–2 s; stopped tasks are listed for an hour;
//! - scaling in stops the tasks that are not running yet first, then the newest running
//!   ones (the longest Shiny sessions survive); a service runs at most 100 tasks;
//! - ID tokens are ES256 JWTs shaped like Cognito's (issuer [`SANDBOX_ISSUER`], audience
//!   [`SANDBOX_CLIENT_ID`]), signed with a key made at start-up from the system's randomness
//!   (not the seed), so they are the one output that differs between runs; check them with
//!   [`Sandbox::identity_verifier`]. Access tokens are opaque random strings;
//! - no email is sent: read an invited user's temporary password with
//!   [`Sandbox::temporary_password`];
//! - a task's container logs to `shiny/shiny/<task id>` in its task definition's group: R's
//!   start-up lines, then a Shiny session opening and closing in most five-minute slots while
//!   it runs; a `broken` image's container logs R's missing-`shiny` error and halts; the
//!   stream exists from the first line until the task is no longer listed;
//! - one load balancer with one HTTPS listener, [`LISTENER_ARN`], idle timeout 60 s until
//!   [`Sandbox::set_idle_timeout`]; a service created with a target group has its running
//!   tasks registered there by IP (`10.0.x.y`, from their launch order), healthy 5 s after
//!   RUNNING and draining for the group's deregistration delay once they stop.

mod clock;
mod directory;
mod ecs;
mod fleet;
mod frontdoor;
mod idtoken;
mod lifecycle;
mod logs;
mod metrics;
mod registry;
mod rng;

pub use clock::ManualClock;
pub use ecs::CLUSTER;
pub use frontdoor::{DEFAULT_IDLE_TIMEOUT_SECS, LISTENER_ARN};

use crate::jwt::{JwksSource, JwtConfig, JwtVerifier};
use chrono::{DateTime, Utc};
use directory::Pool;
use domain::{Clock, CloudError};
use ecs::Ecs;
use frontdoor::Elb;
use idtoken::IdTokenSigner;
use rng::Rng;
use std::sync::{Arc, Mutex};

/// The `iss` of the sandbox pool's ID tokens (a Cognito-shaped URL under a reserved domain).
pub const SANDBOX_ISSUER: &str = "https://cognito-idp.sandbox.shinyfleet.invalid/sandbox-pool";

/// The `aud` of the sandbox pool's ID tokens: its one app client.
pub const SANDBOX_CLIENT_ID: &str = "sandbox-console";

/// The simulated account. Hold it as `Arc<Sandbox>` and hand it out as `Arc<dyn Fleet>`,
/// `Arc<dyn Directory>`, `Arc<dyn Metrics>`, `Arc<dyn Frontdoor>` and so on.
pub struct Sandbox {
    clock: Arc<dyn Clock>,
    seed: u64,
    ecs: Mutex<Ecs>,
    pool: Mutex<Pool>,
    elb: Mutex<Elb>,
    signer: Arc<IdTokenSigner>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("seed", &self.seed).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// An empty account whose simulation starts at the clock's present. Each capability
    /// draws from its own stream of the seed, so calls to one never shift another's ids. The
    /// pool's token signing key is made here, from the system's randomness.
    pub fn new(clock: Arc<dyn Clock>, seed: u64) -> Arc<Self> {
        let now = clock.now();
        let signer = Arc::new(IdTokenSigner::generate());
        Arc::new(Self {
            ecs: Mutex::new(Ecs::new(now, Rng::fork(seed, "ecs"))),
            pool: Mutex::new(Pool::new(Rng::fork(seed, "directory"), signer.clone())),
            elb: Mutex::new(Elb::new(Rng::fork(seed, "elb"))),
            signer,
            clock,
            seed,
        })
    }

    /// The pool's public signing keys as a JWKS document (what Cognito serves at
    /// `<issuer>/.well-known/jwks.json`).
    pub fn jwks_json(&self) -> String {
        self.signer.jwks_json().to_owned()
    }

    /// A verifier for this pool's ID tokens: its keys, [`SANDBOX_ISSUER`],
    /// [`SANDBOX_CLIENT_ID`], and the sandbox's clock.
    pub fn identity_verifier(&self) -> JwtVerifier {
        let config = JwtConfig {
            issuer: SANDBOX_ISSUER.to_owned(),
            audience: SANDBOX_CLIENT_ID.to_owned(),
            jwks: JwksSource::Static(self.jwks_json()),
        };
        JwtVerifier::new(config, self.clock.clone())
    }

    /// A confirmed user with a known password and groups (created when missing), for the
    /// demo admin and tests. The password must satisfy the pool's policy (at least 8
    /// characters with an upper-case letter, a lower-case letter and a digit); `Conflict`
    /// when the email is taken.
    pub fn add_user(&self, email: &str, password: &str, groups: &[&str]) -> Result<(), CloudError> {
        self.with_pool(|pool, now| pool.add_user(email, password, groups, now))
    }

    /// The temporary password in an invited user's (unsent) invitation; `None` for anyone
    /// who is not waiting to sign in for the first time.
    pub fn temporary_password(&self, email: &str) -> Option<String> {
        self.with_pool(|pool, _| pool.temporary_password(email))
    }

    /// Runs `f` on the ECS simulation after replaying it up to the clock's present.
    fn with_ecs<R>(&self, f: impl FnOnce(&mut Ecs) -> R) -> R {
        let now = self.clock.now();
        let mut ecs = self.ecs.lock().expect("sandbox ECS state lock poisoned");
        ecs.advance_to(now);
        f(&mut ecs)
    }

    /// Runs `f` on the user pool with the clock's present, expired grants forgotten.
    fn with_pool<R>(&self, f: impl FnOnce(&mut Pool, DateTime<Utc>) -> R) -> R {
        let now = self.clock.now();
        let mut pool = self.pool.lock().expect("sandbox user pool lock poisoned");
        pool.forget_expired(now);
        f(&mut pool, now)
    }

    /// Runs `f` on the load balancer (its state does not move with time).
    fn with_elb<R>(&self, f: impl FnOnce(&mut Elb) -> R) -> R {
        f(&mut self.elb.lock().expect("sandbox load balancer lock poisoned"))
    }
}

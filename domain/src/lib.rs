//! ShinyFleet's domain: the values it validates at the edge, the records it keeps, and the
//! narrow ports through which it talks to a cloud (ECS, Cognito, CloudWatch).
//!
//! Nothing here performs I/O or knows an AWS SDK type, so the same types serve the server,
//! the browser bundle and the tests, and every cloud adapter (AWS SDK, sandbox) is swappable.

pub mod app;
pub mod backoff;
pub mod clock;
pub mod cost;
pub mod definition;
pub mod deploy;
pub mod directory;
pub mod email;
pub mod error;
pub mod fleet;
pub mod identity;
pub mod logs;
pub mod metrics;
pub mod publish;
pub mod registry;
pub mod schedule;
pub mod settings;
pub mod view;

pub use app::{AppSlug, Architecture, FargateSize, ImageRef, ValidationError};
pub use clock::{Clock, SystemClock};
pub use definition::{AppDefinition, AppInput};
pub use email::EmailAddress;
pub use error::CloudError;
pub use identity::{Identity, IdentityVerifier, Role, RoleGroups};
pub use settings::{Environment, HealthCheckTool, Tags};

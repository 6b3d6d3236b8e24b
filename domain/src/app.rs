//! Validated values of an app's definition. Each is parsed once at the edge (form, API,
//! configuration) and cannot exist in an invalid state past it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A rejected value: which field, and a message fit to show next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

/// An app's identifier. It names the ECS service, the task-definition family and later a
/// host name, so it follows the strictest of those rules: 1–63 characters of lowercase
/// letters, digits and hyphens, starting with a letter and not ending with a hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppSlug(String);

impl AppSlug {
    /// Slugs the console's own addresses use (`/apps/new`).
    pub const RESERVED: &'static [&'static str] = &["new"];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let err = |m: &str| Err(ValidationError::new("slug", m));
        if raw.is_empty() {
            return err("is required");
        }
        if raw.len() > 63 {
            return err("must be at most 63 characters");
        }
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return err("may contain only lowercase letters, digits and hyphens");
        }
        if !raw.as_bytes()[0].is_ascii_lowercase() {
            return err("must start with a lowercase letter");
        }
        if raw.ends_with('-') {
            return err("must not end with a hyphen");
        }
        if Self::RESERVED.contains(&raw) {
            return err("is reserved by the console; pick another");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AppSlug {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AppSlug> for String {
    fn from(value: AppSlug) -> Self {
        value.0
    }
}

impl fmt::Display for AppSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A container image pinned by tag or digest: `registry/repo:tag` or
/// `registry/repo@sha256:<64 hex>`. An image without either would silently mean `latest`,
/// which makes deploys irreproducible, so it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageRef {
    repository: String,
    reference: ImageReference,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ImageReference {
    Tag(String),
    Digest(String),
}

impl ImageRef {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let err = |m: &str| Err(ValidationError::new("image", m));
        let raw = raw.trim();
        if raw.is_empty() {
            return err("is required");
        }
        if raw.len() > 255 {
            return err("must be at most 255 characters");
        }
        let (repository, reference) = if let Some((repo, digest)) = raw.split_once('@') {
            let Some(hex) = digest.strip_prefix("sha256:") else {
                return err("digest must look like sha256:<64 hex digits>");
            };
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return err("digest must look like sha256:<64 hex digits>");
            }
            (repo, ImageReference::Digest(digest.to_owned()))
        } else {
            let last_slash = raw.rfind('/').map_or(0, |i| i + 1);
            let Some(colon) = raw[last_slash..].rfind(':').map(|i| i + last_slash) else {
                return err("needs a tag (repo:tag) or a digest (repo@sha256:…)");
            };
            let tag = &raw[colon + 1..];
            let tag_ok = !tag.is_empty()
                && tag.len() <= 128
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                && !tag.starts_with(['.', '-']);
            if !tag_ok {
                return err("tag may contain letters, digits, '_', '.' and '-' (at most 128)");
            }
            (&raw[..colon], ImageReference::Tag(tag.to_owned()))
        };
        let mut parts = repository.split('/');
        let first = parts.next().unwrap_or_default();
        let more = repository.contains('/');
        // The first of several components is a registry host when it looks like one (has a
        // dot or a port); a repository of one component is a path (`shiny`, never a host).
        let registry_ok = more
            && first.contains(['.', ':'])
            && first.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b));
        let path_ok = |p: &str| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        };
        if !(registry_ok || path_ok(first)) || !parts.all(path_ok) {
            return err("repository may contain only lowercase letters, digits, '.', '_', '-' and '/'");
        }
        Ok(Self { repository: repository.to_owned(), reference })
    }

    /// The repository without tag or digest, e.g. `123.dkr.ecr.eu-west-1.amazonaws.com/sales`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, when the image is pinned by tag.
    pub fn tag(&self) -> Option<&str> {
        match &self.reference {
            ImageReference::Tag(t) => Some(t),
            ImageReference::Digest(_) => None,
        }
    }

    /// The digest (`sha256:…`), when the image is pinned by digest.
    pub fn digest(&self) -> Option<&str> {
        match &self.reference {
            ImageReference::Digest(d) => Some(d),
            ImageReference::Tag(_) => None,
        }
    }

    /// Whether the image lives in an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`).
    pub fn is_ecr(&self) -> bool {
        let host = self.repository.split('/').next().unwrap_or_default();
        let labels: Vec<&str> = host.split('.').collect();
        labels.len() >= 6
            && labels[0].len() == 12
            && labels[0].bytes().all(|b| b.is_ascii_digit())
            && labels[1] == "dkr"
            && labels[2] == "ecr"
            && host.ends_with(".amazonaws.com")
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reference {
            ImageReference::Tag(t) => write!(f, "{}:{}", self.repository, t),
            ImageReference::Digest(d) => write!(f, "{}@{}", self.repository, d),
        }
    }
}

impl TryFrom<String> for ImageRef {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ImageRef> for String {
    fn from(value: ImageRef) -> Self {
        value.to_string()
    }
}

/// CPU units and memory (MiB) of a Fargate task: only the pairs Fargate accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FargateSize {
    cpu: u32,
    memory: u32,
}

impl FargateSize {
    pub fn new(cpu: u32, memory: u32) -> Result<Self, ValidationError> {
        let Some(memories) = Self::memories_for(cpu) else {
            return Err(ValidationError::new(
                "cpu",
                "must be one of 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units",
            ));
        };
        if !memories.contains(&memory) {
            let (lo, hi) = (memories[0], memories[memories.len() - 1]);
            return Err(ValidationError::new(
                "memory",
                format!("with {cpu} CPU units, memory must be one of the Fargate sizes from {lo} to {hi} MiB"),
            ));
        }
        Ok(Self { cpu, memory })
    }

    /// The memory sizes (MiB) Fargate accepts with `cpu` units, or `None` for an invalid CPU.
    pub fn memories_for(cpu: u32) -> Option<Vec<u32>> {
        let range = |lo: u32, hi: u32, step: u32| (lo..=hi).step_by(step as usize).collect();
        Some(match cpu {
            256 => vec![512, 1024, 2048],
            512 => range(1024, 4096, 1024),
            1024 => range(2048, 8192, 1024),
            2048 => range(4096, 16384, 1024),
            4096 => range(8192, 30720, 1024),
            8192 => range(16384, 61440, 4096),
            16384 => range(32768, 122880, 8192),
            _ => return None,
        })
    }

    /// Every valid pair, smallest first: what a form should offer.
    pub fn all() -> Vec<FargateSize> {
        [256, 512, 1024, 2048, 4096, 8192, 16384]
            .into_iter()
            .flat_map(|cpu| {
                Self::memories_for(cpu).unwrap_or_default().into_iter().map(move |memory| FargateSize { cpu, memory })
            })
            .collect()
    }

    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    pub fn memory(&self) -> u32 {
        self.memory
    }
}

/// The CPU architecture a task runs on (Fargate prices them differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.to_ascii_lowercase().as_str() {
            "x86_64" => Ok(Self::X86_64),
            "arm64" => Ok(Self::Arm64),
            _ => Err(ValidationError::new("architecture", "must be x86_64 or arm64")),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_service_and_host_name_rules() {
        let long = "a".repeat(63);
        for ok in ["a", "sales", "sales-2024", "a1-b2", long.as_str()] {
            assert_eq!(AppSlug::parse(ok).unwrap().as_str(), ok);
        }
        let too_long = "a".repeat(64);
        for (bad, why) in [
            ("", "required"),
            (too_long.as_str(), "at most 63"),
            ("Sales", "lowercase"),
            ("sales_app", "lowercase"),
            ("sales app", "lowercase"),
            ("1sales", "start with a lowercase letter"),
            ("-sales", "start with a lowercase letter"),
            ("sales-", "end with a hyphen"),
            ("säles", "lowercase"),
            ("new", "reserved"),
        ] {
            let e = AppSlug::parse(bad).unwrap_err();
            assert_eq!(e.field, "slug");
            assert!(e.message.contains(why), "{bad:?}: {}", e.message);
        }
    }

    #[test]
    fn images_need_a_tag_or_a_digest() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sales";
        let by_tag = ImageRef::parse(&format!("{ecr}:v1.2")).unwrap();
        assert_eq!((by_tag.repository(), by_tag.tag(), by_tag.digest()), (ecr, Some("v1.2"), None));
        assert!(by_tag.is_ecr());
        let by_digest = ImageRef::parse(&format!("{ecr}@{digest}")).unwrap();
        assert_eq!(by_digest.digest(), Some(digest.as_str()));
        assert_eq!(by_digest.to_string(), format!("{ecr}@{digest}"));
        let hub = ImageRef::parse("rocker/shiny-verse:4.4.1").unwrap();
        assert!(!hub.is_ecr());
        assert_eq!(ImageRef::parse("localhost:5000/team/app:1").unwrap().tag(), Some("1"));

        for bad in [
            "",
            "rocker/shiny-verse",
            "localhost:5000/team/app",
            "rocker/shiny-verse:",
            "rocker/Shiny:1",
            "rocker/shiny:bad tag",
            "rocker/shiny@sha256:123",
            "rocker/shiny@md5:0123",
            "rocker//shiny:1",
        ] {
            assert_eq!(ImageRef::parse(bad).unwrap_err().field, "image", "{bad:?}");
        }
    }

    #[test]
    fn only_fargate_cpu_memory_pairs_exist() {
        for (cpu, mem) in
            [(256, 512), (256, 2048), (512, 4096), (1024, 8192), (4096, 30720), (8192, 61440), (16384, 122880)]
        {
            assert!(FargateSize::new(cpu, mem).is_ok(), "{cpu}/{mem}");
        }
        for (cpu, mem, field) in
            [(256, 4096, "memory"), (300, 512, "cpu"), (512, 512, "memory"), (8192, 17408, "memory"), (0, 0, "cpu")]
        {
            assert_eq!(FargateSize::new(cpu, mem).unwrap_err().field, field, "{cpu}/{mem}");
        }
        let all = FargateSize::all();
        assert_eq!(all.len(), 3 + 4 + 7 + 13 + 23 + 12 + 12);
        assert!(all.iter().all(|s| FargateSize::new(s.cpu(), s.memory()).is_ok()));
    }

    #[test]
    fn architectures_parse_case_insensitively() {
        assert_eq!(Architecture::parse("ARM64").unwrap(), Architecture::Arm64);
        assert_eq!(Architecture::parse("x86_64").unwrap().as_str(), "x86_64");
        assert!(Architecture::parse("riscv").is_err());
    }
}

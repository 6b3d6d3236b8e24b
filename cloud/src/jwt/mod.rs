//! Checking the signed tokens that say who a user is, before the console believes them.
//!
//! A sign-in hands the console an ID token; whoever holds a session could otherwise claim any
//! name and group by editing it. [`JwtVerifier`] (the [`IdentityVerifier`] port) checks an ID
//! token issued by a Cognito user pool — or by the sandbox, which signs its tokens the same
//! way — against the pool's published keys (JWKS): the signature (RS256 or ES256 only, and the
//! algorithm the key is for), the issuer, the audience (the app client), `token_use: id` and
//! the expiry read from the injected [`Clock`]. [`AlbVerifier`] checks the `x-amzn-oidc-data`
//! header an AWS Application Load Balancer adds once it has signed the user in with Cognito:
//! an ES256 token whose segments may carry base64 `=` padding, which standard JWT decoders
//! refuse, so its signature is checked over the bytes exactly as received.
//!
//! The cryptography is `jsonwebtoken`'s (on `ring`); this module only picks keys and rules.
//! Every bad token is `NotAuthorized` with a short reason, keys that cannot be fetched are
//! `Unavailable`, and no token is ever logged.
//!
//! The ID-token verifier lives in `jwks.rs`, the load balancer's in `alb.rs`; this file holds
//! the limits and the rules both share (times, identity, key sets, base64, refusals).
//!
//! [`IdentityVerifier`]: domain::IdentityVerifier
//! [`Clock`]: domain::Clock

mod alb;
mod jwks;
#[cfg(test)]
mod tests;

pub use alb::AlbVerifier;
pub use jwks::{JwksSource, JwtConfig, JwtVerifier};

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use chrono::{DateTime, Utc};
use domain::{CloudError, Identity};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use jwks::VerifyingKey;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;

/// How far past `exp` a token is still accepted, for clocks that disagree a little.
const LEEWAY_SECS: i64 = 30;
/// The shortest interval between two key fetches caused by tokens naming an unknown key.
const REFETCH_INTERVAL_SECS: i64 = 30;
/// How long one key fetch may take.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Larger tokens are refused unread (Cognito's are a few kilobytes).
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Larger key documents are refused.
const MAX_KEY_DOCUMENT_BYTES: usize = 256 * 1024;
/// The load balancer's key cache is emptied when it reaches this size.
const MAX_CACHED_ALB_KEYS: usize = 64;
/// The longest `kid` put into a key URL.
const MAX_KID_LEN: usize = 128;

/// The identity in checked claims: the user name falls back through `candidates` to `sub`;
/// an email is required; groups are sorted.
fn identity(
    subject: String,
    email: Option<String>,
    candidates: [Option<String>; 2],
    mut groups: Vec<String>,
) -> Result<Identity, CloudError> {
    if subject.is_empty() {
        return Err(refused("the token has no subject"));
    }
    let email = email.filter(|e| !e.is_empty()).ok_or_else(|| refused("the token carries no email"))?;
    let username = candidates.into_iter().flatten().find(|u| !u.is_empty()).unwrap_or_else(|| subject.clone());
    groups.sort();
    Ok(Identity { subject, username, email, groups })
}

/// Refuses a token past `exp` (or before `nbf`) by more than the leeway.
fn check_times(now: DateTime<Utc>, exp: i64, nbf: Option<i64>) -> Result<(), CloudError> {
    let now = now.timestamp();
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(refused("the token has expired"));
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS)) {
        return Err(refused("the token is not valid yet"));
    }
    Ok(())
}

/// The usable keys of a JWKS document: RSA keys for RS256 and P-256 keys for ES256, each with
/// a `kid`, meant for signatures, and not declared for another algorithm. Others are skipped.
fn parse_jwks(document: &[u8]) -> Result<HashMap<String, VerifyingKey>, CloudError> {
    #[derive(Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(document).map_err(|_| {
        tracing::warn!("the signing keys are not a JWKS document");
        CloudError::Unavailable("the signing keys are not a JWKS document".into())
    })?;
    let keys: HashMap<_, _> =
        document.keys.into_iter().filter_map(|v| serde_json::from_value::<Jwk>(v).ok()).filter_map(usable).collect();
    if keys.is_empty() {
        tracing::warn!("the JWKS document holds no usable signing key");
    }
    Ok(keys)
}

fn usable(jwk: Jwk) -> Option<(String, VerifyingKey)> {
    let kid = jwk.common.key_id.clone().filter(|k| !k.is_empty())?;
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature) {
        return None;
    }
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(params) if params.curve == EllipticCurve::P256 => Algorithm::ES256,
        _ => return None,
    };
    let declared = match jwk.common.key_algorithm {
        None => alg,
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(_) => return None,
    };
    if declared != alg {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some((kid, VerifyingKey { key, alg }))
}

async fn read_body(response: reqwest::Response) -> Result<Vec<u8>, CloudError> {
    let status = response.status();
    if !status.is_success() {
        tracing::warn!(status = status.as_u16(), "a signing key could not be fetched");
        return Err(CloudError::Unavailable(format!(
            "the signing key could not be fetched (HTTP {})",
            status.as_u16()
        )));
    }
    if response.content_length().is_some_and(|n| n > MAX_KEY_DOCUMENT_BYTES as u64) {
        return Err(CloudError::Unavailable("the signing keys are too large".into()));
    }
    let body = response.bytes().await.map_err(fetch_failed)?;
    if body.len() > MAX_KEY_DOCUMENT_BYTES {
        return Err(CloudError::Unavailable("the signing keys are too large".into()));
    }
    Ok(body.to_vec())
}

fn fetch_failed(err: reqwest::Error) -> CloudError {
    tracing::warn!(error = %err, "the signing keys could not be fetched");
    if err.is_timeout() {
        CloudError::Unavailable("fetching the signing keys timed out".into())
    } else {
        CloudError::Unavailable("the signing keys could not be fetched".into())
    }
}

/// Base64url with or without `=` padding, as the load balancer sends it.
const PADDING_TOLERANT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn padded_json<T: DeserializeOwned>(segment: &str) -> Result<T, CloudError> {
    let bytes = PADDING_TOLERANT.decode(segment).map_err(|_| refused("malformed token"))?;
    serde_json::from_slice(&bytes).map_err(|_| refused("malformed token"))
}

/// Why `decode_header` failed: an algorithm it does not know (`none`) or a malformed header.
fn header_rejection(token: &str) -> CloudError {
    #[derive(Deserialize)]
    struct RawHeader {
        alg: String,
    }
    let raw = token.split('.').next().and_then(|h| padded_json::<RawHeader>(h).ok());
    match raw {
        Some(RawHeader { alg }) if alg.len() <= 16 && alg != "RS256" && alg != "ES256" => {
            refused(&format!("the {alg:?} algorithm is not accepted"))
        }
        _ => refused("malformed token"),
    }
}

fn rejection(err: jsonwebtoken::errors::Error) -> CloudError {
    let reason = match err.kind() {
        ErrorKind::InvalidSignature => "invalid signature".to_owned(),
        ErrorKind::InvalidIssuer => "the token is from another issuer".to_owned(),
        ErrorKind::InvalidAudience => "the token is for another client".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim:?} claim"),
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not the one of its key".to_owned(),
        _ => "malformed token".to_owned(),
    };
    refused(&reason)
}

fn refused(reason: &str) -> CloudError {
    tracing::debug!(reason, "token refused");
    CloudError::NotAuthorized(reason.to_owned())
}

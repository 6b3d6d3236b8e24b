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

use async_trait::async_trait;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use domain::{Clock, CloudError, Identity, IdentityVerifier};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

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

/// Where and for whom ID tokens are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// The `iss` the tokens must carry, e.g. `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    pub issuer: String,
    /// The `aud` the tokens must carry: the app client id.
    pub audience: String,
    pub jwks: JwksSource,
}

/// Where the signing keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Fetched over HTTP(S) on first use, e.g. `<issuer>/.well-known/jwks.json`.
    Url(String),
    /// A JWKS JSON document held in memory (the sandbox, tests).
    Static(String),
}

/// A key from the set, with the one algorithm it verifies.
#[derive(Clone)]
struct VerifyingKey {
    key: DecodingKey,
    alg: Algorithm,
}

#[derive(Default)]
struct KeyCache {
    /// The usable keys by `kid`; `None` until the first successful load.
    keys: Option<HashMap<String, VerifyingKey>>,
    /// When a token with an unknown `kid` last caused a fetch.
    last_refetch: Option<DateTime<Utc>>,
}

/// Verifies ID tokens against a user pool's JWKS; see the [module documentation](self).
pub struct JwtVerifier {
    issuer: String,
    audience: String,
    source: JwksSource,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    /// Held across a fetch, so concurrent verifications do not fetch the same keys twice.
    cache: tokio::sync::Mutex<KeyCache>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            JwksSource::Url(url) => url.as_str(),
            JwksSource::Static(_) => "static",
        };
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks", &source)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for the tokens `config` describes; keys are loaded on first use, and time
    /// is read from `clock`.
    pub fn new(config: JwtConfig, clock: Arc<dyn Clock>) -> Self {
        let http = matches!(config.jwks, JwksSource::Url(_)).then(reqwest::Client::new);
        Self {
            issuer: config.issuer,
            audience: config.audience,
            source: config.jwks,
            clock,
            http,
            cache: tokio::sync::Mutex::new(KeyCache::default()),
        }
    }

    /// The key named `kid`: from the cache, else from a first load, else — at most once per
    /// [`REFETCH_INTERVAL_SECS`] — from a fresh fetch (the pool may have rotated its keys).
    async fn key(&self, kid: &str) -> Result<VerifyingKey, CloudError> {
        let mut cache = self.cache.lock().await;
        let keys = match cache.keys.take() {
            Some(keys) => keys,
            None => self.load().await?,
        };
        let found = keys.get(kid).cloned();
        cache.keys = Some(keys);
        if let Some(key) = found {
            return Ok(key);
        }
        let JwksSource::Url(_) = self.source else {
            return Err(refused("the token is signed with an unknown key"));
        };
        let now = self.clock.now();
        if cache.last_refetch.is_some_and(|at| now - at < Duration::seconds(REFETCH_INTERVAL_SECS)) {
            return Err(refused("the token is signed with an unknown key"));
        }
        cache.last_refetch = Some(now);
        tracing::debug!("a token names an unknown signing key: fetching the keys again");
        let keys = self.load().await?;
        let found = keys.get(kid).cloned();
        cache.keys = Some(keys);
        found.ok_or_else(|| refused("the token is signed with an unknown key"))
    }

    async fn load(&self) -> Result<HashMap<String, VerifyingKey>, CloudError> {
        match (&self.source, &self.http) {
            (JwksSource::Static(document), _) => parse_jwks(document.as_bytes()),
            (JwksSource::Url(url), Some(http)) => parse_jwks(&fetch(http, url).await?),
            (JwksSource::Url(_), None) => Err(CloudError::Unavailable("no HTTP client for the signing keys".into())),
        }
    }

    fn claims(&self, token: &str, key: &VerifyingKey) -> Result<IdClaims, CloudError> {
        let mut validation = Validation::new(key.alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        let data = jsonwebtoken::decode::<IdClaims>(token, &key.key, &validation).map_err(rejection)?;
        Ok(data.claims)
    }
}

#[async_trait]
impl IdentityVerifier for JwtVerifier {
    async fn verify_id_token(&self, id_token: &str) -> Result<Identity, CloudError> {
        if id_token.is_empty() || id_token.len() > MAX_TOKEN_BYTES {
            return Err(refused("malformed token"));
        }
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| header_rejection(id_token))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(refused(&format!("the {:?} algorithm is not accepted", header.alg)));
        }
        let kid = header.kid.filter(|k| !k.is_empty()).ok_or_else(|| refused("the token names no signing key"))?;
        let key = self.key(&kid).await?;
        if key.alg != header.alg {
            return Err(refused("the token's algorithm is not the one of its key"));
        }
        let claims = self.claims(id_token, &key)?;
        if claims.token_use.as_deref() != Some("id") {
            return Err(refused("not an ID token"));
        }
        let exp = claims.exp.ok_or_else(|| refused("the token has no \"exp\" claim"))?;
        check_times(self.clock.now(), exp, claims.nbf)?;
        let sub = claims.sub.ok_or_else(|| refused("the token has no \"sub\" claim"))?;
        // A user may change their own email through the pool's public client; until it is
        // verified again it must not become who they are in the console and its audit log.
        let unverified = match &claims.email_verified {
            Some(serde_json::Value::Bool(verified)) => !verified,
            Some(serde_json::Value::String(verified)) => verified != "true",
            Some(_) => true,
            None => false,
        };
        if unverified {
            return Err(refused("the email address is not verified"));
        }
        identity(sub, claims.email, [claims.cognito_username, claims.username], claims.groups.unwrap_or_default())
    }
}

/// The claims of a Cognito ID token the console reads (`iss` and `aud` are checked by
/// `jsonwebtoken`, which also requires `sub` and `exp`: optional here only so that their
/// absence is reported as such).
#[derive(Deserialize)]
struct IdClaims {
    sub: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    token_use: Option<String>,
    email: Option<String>,
    #[serde(rename = "cognito:username")]
    cognito_username: Option<String>,
    username: Option<String>,
    #[serde(rename = "cognito:groups")]
    groups: Option<Vec<String>>,
    /// `true`, or `"true"` from some issuers; Cognito clears it when a user changes their email.
    email_verified: Option<serde_json::Value>,
}

/// Verifies the `x-amzn-oidc-data` header of an Application Load Balancer that authenticates
/// users with Cognito; see the [module documentation](self).
pub struct AlbVerifier {
    key_url_template: String,
    expected_signer: Option<String>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    keys: std::sync::Mutex<HashMap<String, DecodingKey>>,
}

impl std::fmt::Debug for AlbVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlbVerifier")
            .field("key_url_template", &self.key_url_template)
            .field("expected_signer", &self.expected_signer)
            .finish_non_exhaustive()
    }
}

/// The header of a load balancer's token.
#[derive(Deserialize)]
struct AlbHeader {
    alg: String,
    kid: Option<String>,
    signer: Option<String>,
    exp: Option<i64>,
}

/// The claims of a load balancer's token: the user-info answer of the pool, plus `exp`.
#[derive(Deserialize)]
struct AlbClaims {
    sub: Option<String>,
    email: Option<String>,
    username: Option<String>,
    #[serde(rename = "cognito:username")]
    cognito_username: Option<String>,
    exp: Option<i64>,
}

impl AlbVerifier {
    /// A verifier fetching each public key (PEM) from `key_url_template` with `{kid}` replaced
    /// by the token's key id — `https://public-keys.auth.elb.<region>.amazonaws.com/{kid}` —
    /// and, when `expected_signer` is set, accepting only tokens whose `signer` is that load
    /// balancer's ARN.
    pub fn new(key_url_template: String, expected_signer: Option<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            key_url_template,
            expected_signer,
            clock,
            http: reqwest::Client::new(),
            keys: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The user the header value names, once its signature, signer and expiry check out.
    /// `NotAuthorized` for any value that does not; `Unavailable` when the key cannot be
    /// fetched. The groups are left empty: the token does not carry them.
    pub async fn verify(&self, header_value: &str) -> Result<Identity, CloudError> {
        let value = header_value.trim();
        if value.is_empty() || value.len() > MAX_TOKEN_BYTES {
            return Err(refused("malformed token"));
        }
        let segments: Vec<&str> = value.split('.').collect();
        let [header_segment, payload_segment, signature] = segments[..] else {
            return Err(refused("malformed token"));
        };
        if header_segment.is_empty() || payload_segment.is_empty() || signature.is_empty() {
            return Err(refused("malformed token"));
        }
        let header: AlbHeader = padded_json(header_segment)?;
        if header.alg != "ES256" {
            return Err(refused("the load balancer's token must be signed with ES256"));
        }
        if let Some(expected) = &self.expected_signer {
            if header.signer.as_deref() != Some(expected.as_str()) {
                return Err(refused("the token was signed by another load balancer"));
            }
        }
        let kid = header.kid.ok_or_else(|| refused("the token names no signing key"))?;
        let kid_is_safe =
            !kid.is_empty() && kid.len() <= MAX_KID_LEN && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !kid_is_safe {
            return Err(refused("the token's key id is malformed"));
        }
        let claims: AlbClaims = padded_json(payload_segment)?;
        let exp = match (claims.exp, header.exp) {
            (Some(a), Some(b)) => a.min(b),
            (Some(exp), None) | (None, Some(exp)) => exp,
            (None, None) => return Err(refused("the token has no expiry")),
        };
        check_times(self.clock.now(), exp, None)?;

        let key = self.key(&kid).await?;
        let message = &value[..header_segment.len() + 1 + payload_segment.len()];
        let verified =
            jsonwebtoken::crypto::verify(signature.trim_end_matches('='), message.as_bytes(), &key, Algorithm::ES256)
                .map_err(|_| refused("malformed signature"))?;
        if !verified {
            return Err(refused("invalid signature"));
        }
        let sub = claims.sub.ok_or_else(|| refused("the token has no subject"))?;
        identity(sub, claims.email, [claims.username, claims.cognito_username], Vec::new())
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, CloudError> {
        if let Some(key) = self.cached_keys().get(kid) {
            return Ok(key.clone());
        }
        let url = self.key_url_template.replace("{kid}", kid);
        let response = self.http.get(&url).timeout(FETCH_TIMEOUT).send().await.map_err(fetch_failed)?;
        let status = response.status();
        if status.is_client_error() {
            return Err(refused("the token is signed with an unknown key"));
        }
        let pem = read_body(response).await?;
        let key = DecodingKey::from_ec_pem(&pem).map_err(|_| {
            tracing::warn!(url, "the load balancer's key URL answered with something other than an EC public key");
            CloudError::Unavailable("the load balancer's signing key is unreadable".into())
        })?;
        let mut keys = self.cached_keys();
        if keys.len() >= MAX_CACHED_ALB_KEYS {
            keys.clear();
        }
        keys.insert(kid.to_owned(), key.clone());
        Ok(key)
    }

    fn cached_keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, DecodingKey>> {
        self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

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

async fn fetch(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, CloudError> {
    let response = http.get(url).timeout(FETCH_TIMEOUT).send().await.map_err(fetch_failed)?;
    let status = response.status();
    if !status.is_success() {
        tracing::warn!(url, status = status.as_u16(), "the signing keys could not be fetched");
        return Err(CloudError::Unavailable(format!(
            "the signing keys could not be fetched (HTTP {})",
            status.as_u16()
        )));
    }
    read_body(response).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::ManualClock;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    use chrono::TimeZone;
    use jsonwebtoken::{EncodingKey, Header};
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::{json, Value};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test";
    const AUDIENCE: &str = "console-client";
    const SIGNER: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/console/50dc6c495c0c9188";

    /// An ES256 key pair.
    struct EcKey {
        pkcs8: Vec<u8>,
        /// The public point: 0x04, x, y.
        point: Vec<u8>,
    }

    impl EcKey {
        fn generate() -> Self {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("a key");
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("a key pair");
            Self { pkcs8: pkcs8.as_ref().to_vec(), point: pair.public_key().as_ref().to_vec() }
        }

        fn jwk(&self, kid: &str) -> Value {
            json!({
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&self.point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&self.point[33..]),
            })
        }

        /// The public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as the ALB serves it.
        fn pem(&self) -> String {
            const P256_SPKI_PREFIX: &[u8] = &[
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
                0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
            ];
            let der = [P256_SPKI_PREFIX, &self.point].concat();
            let body = STANDARD.encode(der);
            let lines: Vec<&str> =
                body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("base64 is ASCII")).collect();
            format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
        }

        fn sign_jwt(&self, kid: &str, claims: &Value) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(kid.to_owned());
            jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&self.pkcs8)).expect("signed")
        }

        /// A raw ES256 signature (r ‖ s) of `message`.
        fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
            let rng = SystemRandom::new();
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.pkcs8, &rng).expect("a key pair");
            pair.sign(&rng, message).expect("signed").as_ref().to_vec()
        }
    }

    fn jwks(keys: &[Value]) -> String {
        json!({ "keys": keys }).to_string()
    }

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 3, 8, 0, 0).single().expect("a valid instant")
    }

    fn claims(now: DateTime<Utc>) -> Value {
        json!({
            "iss": ISSUER, "aud": AUDIENCE, "token_use": "id",
            "sub": "8f1c2d3e-0000-4000-8000-000000000001",
            "cognito:username": "ada@example.org", "email": "ada@example.org", "email_verified": true,
            "cognito:groups": ["viewers", "admins"],
            "iat": now.timestamp(), "auth_time": now.timestamp(), "exp": now.timestamp() + 3600,
        })
    }

    fn with(mut value: Value, key: &str, replacement: Value) -> Value {
        value[key] = replacement;
        value
    }

    fn without(mut value: Value, key: &str) -> Value {
        value.as_object_mut().expect("an object").remove(key);
        value
    }

    /// A verifier over a static key set, with a manual clock at [`start`].
    fn verifier(keys: &[Value]) -> (Arc<ManualClock>, JwtVerifier) {
        let clock = ManualClock::new(start());
        let config =
            JwtConfig { issuer: ISSUER.into(), audience: AUDIENCE.into(), jwks: JwksSource::Static(jwks(keys)) };
        (clock.clone(), JwtVerifier::new(config, clock))
    }

    fn reason(result: Result<Identity, CloudError>) -> String {
        match result {
            Err(CloudError::NotAuthorized(reason)) => reason,
            other => panic!("expected NotAuthorized, got {other:?}"),
        }
    }

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[tokio::test]
    async fn a_valid_token_gives_the_identity_with_sorted_groups() {
        let key = EcKey::generate();
        let (_, verifier) = verifier(&[key.jwk("k1")]);
        let identity = verifier.verify_id_token(&key.sign_jwt("k1", &claims(start()))).await.expect("verified");
        assert_eq!(
            identity,
            Identity {
                subject: "8f1c2d3e-0000-4000-8000-000000000001".into(),
                username: "ada@example.org".into(),
                email: "ada@example.org".into(),
                groups: vec!["admins".into(), "viewers".into()],
            }
        );
    }

    #[tokio::test]
    async fn the_user_name_falls_back_to_username_then_sub_and_groups_may_be_absent() {
        let key = EcKey::generate();
        let (_, verifier) = verifier(&[key.jwk("k1")]);
        let base = without(without(claims(start()), "cognito:username"), "cognito:groups");
        let plain = key.sign_jwt("k1", &with(base.clone(), "username", json!("ada")));
        let identity = verifier.verify_id_token(&plain).await.expect("verified");
        assert_eq!((identity.username.as_str(), identity.groups.len()), ("ada", 0));
        let bare = verifier.verify_id_token(&key.sign_jwt("k1", &base)).await.expect("verified");
        assert_eq!(bare.username, bare.subject);
        let no_email = key.sign_jwt("k1", &without(claims(start()), "email"));
        assert_eq!(reason(verifier.verify_id_token(&no_email).await), "the token carries no email");
    }

    #[tokio::test]
    async fn a_token_signed_by_another_key_with_the_same_kid_is_refused() {
        let (key, forger) = (EcKey::generate(), EcKey::generate());
        let (_, verifier) = verifier(&[key.jwk("k1")]);
        let forged = forger.sign_jwt("k1", &claims(start()));
        assert_eq!(reason(verifier.verify_id_token(&forged).await), "invalid signature");
        let unknown = forger.sign_jwt("k2", &claims(start()));
        reason(verifier.verify_id_token(&unknown).await);
    }

    #[tokio::test]
    async fn expiry_is_read_from_the_clock_with_thirty_seconds_of_leeway() {
        let key = EcKey::generate();
        let (clock, verifier) = verifier(&[key.jwk("k1")]);
        let token = key.sign_jwt("k1", &claims(start()));
        clock.advance(Duration::seconds(3600 + 20));
        verifier.verify_id_token(&token).await.expect("within the leeway");
        clock.advance(Duration::seconds(11));
        assert_eq!(reason(verifier.verify_id_token(&token).await), "the token has expired");

        let future = key.sign_jwt("k1", &with(claims(start()), "nbf", json!(clock.now().timestamp() + 600)));
        reason(verifier.verify_id_token(&future).await);
    }

    #[tokio::test]
    async fn wrong_audience_issuer_or_use_is_refused() {
        let key = EcKey::generate();
        let (_, verifier) = verifier(&[key.jwk("k1")]);
        let cases = [
            (with(claims(start()), "aud", json!("another-client")), "the token is for another client"),
            (with(claims(start()), "aud", json!([AUDIENCE, "x"])), ""),
            (
                with(claims(start()), "iss", json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other")),
                "the token is from another issuer",
            ),
            (with(claims(start()), "token_use", json!("access")), "not an ID token"),
            (without(claims(start()), "token_use"), "not an ID token"),
            (without(claims(start()), "aud"), "the token has no \"aud\" claim"),
            (without(claims(start()), "iss"), "the token has no \"iss\" claim"),
            (without(claims(start()), "exp"), "the token has no \"exp\" claim"),
            (without(claims(start()), "sub"), "the token has no \"sub\" claim"),
            (with(claims(start()), "sub", json!("")), "the token has no subject"),
            (with(claims(start()), "exp", json!("tomorrow")), "malformed token"),
            (with(claims(start()), "email_verified", json!(false)), "the email address is not verified"),
            (with(claims(start()), "email_verified", json!("false")), "the email address is not verified"),
            (with(claims(start()), "email_verified", json!(true)), ""),
            (with(claims(start()), "email_verified", json!("true")), ""),
        ];
        for (claims, want) in cases {
            let token = key.sign_jwt("k1", &claims);
            let result = verifier.verify_id_token(&token).await;
            if want.is_empty() {
                result.expect("an audience list naming the client, or a verified email, is accepted");
            } else {
                assert_eq!(reason(result), want, "{claims}");
            }
        }
    }

    #[tokio::test]
    async fn unsigned_hmac_and_mismatched_algorithms_are_refused() {
        let key = EcKey::generate();
        let (_, verifier) = verifier(&[key.jwk("k1")]);
        let payload = b64(&claims(start()));

        let none = format!("{}.{payload}.", b64(&json!({"alg": "none", "kid": "k1"})));
        assert_eq!(reason(verifier.verify_id_token(&none).await), "the \"none\" algorithm is not accepted");

        // Alg confusion: an HMAC keyed with the public key's bytes.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        for secret in [key.point.clone(), key.jwk("k1").to_string().into_bytes()] {
            let hs = jsonwebtoken::encode(&header, &claims(start()), &EncodingKey::from_secret(&secret)).expect("hs");
            assert_eq!(reason(verifier.verify_id_token(&hs).await), "the HS256 algorithm is not accepted");
        }

        // An RS256 header on an ES256 signature by the right key.
        let rs_header = b64(&json!({"alg": "RS256", "kid": "k1"}));
        let message = format!("{rs_header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(key.sign_raw(message.as_bytes()));
        let mismatched = format!("{message}.{signature}");
        assert!(reason(verifier.verify_id_token(&mismatched).await).contains("algorithm"));

        let no_kid = jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims(start()),
            &EncodingKey::from_ec_der(&key.pkcs8),
        )
        .expect("signed");
        reason(verifier.verify_id_token(&no_kid).await);
    }

    #[tokio::test]
    async fn malformed_tokens_are_not_authorized() {
        let key = EcKey::generate();
        let (_, verifier) = verifier(&[key.jwk("k1")]);
        let good = key.sign_jwt("k1", &claims(start()));
        let (message, _) = good.rsplit_once('.').expect("three segments");
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        let cases = [
            "",
            "abc",
            "a.b",
            "a.b.c",
            "...",
            "é.ü.ö",
            &long,
            message,
            &format!("{good}.extra"),
            &format!("{message}.!!!"),
            &format!("{message}.{}", URL_SAFE.encode(b"xx")),
            &format!("{}.bm90IGpzb24.sig", b64(&json!({"alg": "ES256", "kid": "k1"}))),
        ];
        for case in cases {
            reason(verifier.verify_id_token(case).await);
        }
        let mut tampered = good.clone().into_bytes();
        let middle = message.len() - 10;
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ASCII");
        reason(verifier.verify_id_token(&tampered).await);
    }

    #[tokio::test]
    async fn a_bad_static_key_set_is_unavailable_and_unusable_keys_are_skipped() {
        let clock = ManualClock::new(start());
        let config =
            JwtConfig { issuer: ISSUER.into(), audience: AUDIENCE.into(), jwks: JwksSource::Static("not json".into()) };
        let broken = JwtVerifier::new(config, clock);
        let key = EcKey::generate();
        let token = key.sign_jwt("k1", &claims(start()));
        assert!(matches!(broken.verify_id_token(&token).await, Err(CloudError::Unavailable(_))));

        let declared_rsa = with(key.jwk("k1"), "alg", json!("RS256"));
        let encryption = with(key.jwk("k1"), "use", json!("enc"));
        let odd = json!({"kty": "weird", "kid": "k1"});
        for keys in [vec![declared_rsa], vec![encryption], vec![odd, json!({"kty": "EC"})]] {
            let (_, verifier) = verifier(&keys);
            reason(verifier.verify_id_token(&token).await);
        }
        let (_, verifier) = verifier(&[json!({"kty": "weird", "kid": "k0"}), key.jwk("k1")]);
        verifier.verify_id_token(&token).await.expect("the usable key is found");
    }

    /// A local HTTP server for keys: `/jwks.json` answers the current document, `/keys/{kid}`
    /// a PEM; every request is counted.
    struct KeyServer {
        base: String,
        hits: Arc<AtomicUsize>,
        document: Arc<std::sync::Mutex<String>>,
        pems: Arc<std::sync::Mutex<HashMap<String, String>>>,
    }

    impl KeyServer {
        async fn start(document: String) -> Self {
            use axum::extract::{Path, State};
            use axum::http::StatusCode;
            use axum::routing::get;

            #[derive(Clone)]
            struct Shared {
                hits: Arc<AtomicUsize>,
                document: Arc<std::sync::Mutex<String>>,
                pems: Arc<std::sync::Mutex<HashMap<String, String>>>,
            }
            async fn jwks(State(s): State<Shared>) -> String {
                s.hits.fetch_add(1, Ordering::SeqCst);
                s.document.lock().expect("unpoisoned").clone()
            }
            async fn pem(State(s): State<Shared>, Path(kid): Path<String>) -> Result<String, StatusCode> {
                s.hits.fetch_add(1, Ordering::SeqCst);
                s.pems.lock().expect("unpoisoned").get(&kid).cloned().ok_or(StatusCode::NOT_FOUND)
            }

            let shared = Shared {
                hits: Arc::default(),
                document: Arc::new(std::sync::Mutex::new(document)),
                pems: Arc::default(),
            };
            let app = axum::Router::new()
                .route("/jwks.json", get(jwks))
                .route("/keys/{kid}", get(pem))
                .fallback(|State(s): State<Shared>| async move {
                    s.hits.fetch_add(1, Ordering::SeqCst);
                    StatusCode::NOT_FOUND
                })
                .with_state(shared.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
            let base = format!("http://{}", listener.local_addr().expect("an address"));
            tokio::spawn(async move { axum::serve(listener, app).await.expect("the key server runs") });
            Self { base, hits: shared.hits, document: shared.document, pems: shared.pems }
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }

        fn verifier(&self, clock: Arc<ManualClock>) -> JwtVerifier {
            let config = JwtConfig {
                issuer: ISSUER.into(),
                audience: AUDIENCE.into(),
                jwks: JwksSource::Url(format!("{}/jwks.json", self.base)),
            };
            JwtVerifier::new(config, clock)
        }
    }

    #[tokio::test]
    async fn fetched_keys_are_cached() {
        let key = EcKey::generate();
        let server = KeyServer::start(jwks(&[key.jwk("k1")])).await;
        let verifier = server.verifier(ManualClock::new(start()));
        let token = key.sign_jwt("k1", &claims(start()));
        verifier.verify_id_token(&token).await.expect("verified");
        verifier.verify_id_token(&token).await.expect("verified again");
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_once_per_thirty_seconds() {
        let (old, new) = (EcKey::generate(), EcKey::generate());
        let server = KeyServer::start(jwks(&[old.jwk("old")])).await;
        let clock = ManualClock::new(start());
        let verifier = server.verifier(clock.clone());
        verifier.verify_id_token(&old.sign_jwt("old", &claims(start()))).await.expect("verified");
        assert_eq!(server.hits(), 1);

        // The pool rotates its keys: the first token with the new kid fetches them again.
        *server.document.lock().expect("unpoisoned") = jwks(&[old.jwk("old"), new.jwk("new")]);
        verifier.verify_id_token(&new.sign_jwt("new", &claims(start()))).await.expect("the new key is fetched");
        assert_eq!(server.hits(), 2);

        // Forged kids within 30 s fetch nothing more.
        reason(verifier.verify_id_token(&new.sign_jwt("forged-1", &claims(start()))).await);
        clock.advance(Duration::seconds(10));
        reason(verifier.verify_id_token(&new.sign_jwt("forged-2", &claims(start()))).await);
        assert_eq!(server.hits(), 2);
        verifier.verify_id_token(&new.sign_jwt("new", &claims(start()))).await.expect("known keys still work");
        assert_eq!(server.hits(), 2);

        clock.advance(Duration::seconds(21));
        reason(verifier.verify_id_token(&new.sign_jwt("forged-3", &claims(start()))).await);
        assert_eq!(server.hits(), 3);
    }

    #[tokio::test]
    async fn an_unreachable_or_broken_key_endpoint_is_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address").port();
        let config = JwtConfig {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks: JwksSource::Url(format!("http://127.0.0.1:{port}/jwks.json")),
        };
        let verifier = JwtVerifier::new(config, ManualClock::new(start()));
        let key = EcKey::generate();
        let token = key.sign_jwt("k1", &claims(start()));
        let result = verifier.verify_id_token(&token).await;
        assert!(matches!(result, Err(CloudError::Unavailable(_))), "{result:?}");

        let server = KeyServer::start("<html>".into()).await;
        let broken = server.verifier(ManualClock::new(start()));
        assert!(matches!(broken.verify_id_token(&token).await, Err(CloudError::Unavailable(_))));
        let missing = JwtVerifier::new(
            JwtConfig {
                issuer: ISSUER.into(),
                audience: AUDIENCE.into(),
                jwks: JwksSource::Url(format!("{}/nowhere", server.base)),
            },
            ManualClock::new(start()),
        );
        assert!(matches!(missing.verify_id_token(&token).await, Err(CloudError::Unavailable(_))));
    }

    // -----------------------------------------------------------------------------------
    // The load balancer's header
    // -----------------------------------------------------------------------------------

    /// Base64url with `=` padding, made to need padding by trailing JSON white space.
    fn padded(value: &Value) -> String {
        let mut json = value.to_string();
        while json.len().is_multiple_of(3) {
            json.push(' ');
        }
        URL_SAFE.encode(json)
    }

    fn alb_header(kid: &str, now: DateTime<Utc>) -> Value {
        json!({
            "typ": "JWT", "kid": kid, "alg": "ES256", "iss": ISSUER, "client": AUDIENCE,
            "signer": SIGNER, "exp": now.timestamp() + 120,
        })
    }

    fn alb_claims(now: DateTime<Utc>) -> Value {
        json!({
            "sub": "8f1c2d3e-0000-4000-8000-000000000001", "email_verified": "true",
            "email": "ada@example.org", "username": "ada@example.org",
            "exp": now.timestamp() + 120, "iss": ISSUER,
        })
    }

    fn alb_token(key: &EcKey, header: &Value, claims: &Value) -> String {
        let message = format!("{}.{}", padded(header), padded(claims));
        let signature = URL_SAFE.encode(key.sign_raw(message.as_bytes()));
        format!("{message}.{signature}")
    }

    async fn alb(key: &EcKey, kid: &str) -> (KeyServer, Arc<ManualClock>, AlbVerifier) {
        let server = KeyServer::start(String::new()).await;
        server.pems.lock().expect("unpoisoned").insert(kid.to_owned(), key.pem());
        let clock = ManualClock::new(start());
        let verifier = AlbVerifier::new(format!("{}/keys/{{kid}}", server.base), Some(SIGNER.into()), clock.clone());
        (server, clock, verifier)
    }

    #[tokio::test]
    async fn a_load_balancer_token_with_padding_gives_the_identity_and_its_key_is_cached() {
        let key = EcKey::generate();
        let (server, _, verifier) = alb(&key, "c2f80c8b-c05c-4068-af14-17299f7896b1").await;
        let token = alb_token(&key, &alb_header("c2f80c8b-c05c-4068-af14-17299f7896b1", start()), &alb_claims(start()));
        let segments: Vec<&str> = token.split('.').collect();
        assert!(segments.iter().all(|s| s.ends_with('=')), "every segment is padded: {token}");

        let identity = verifier.verify(&token).await.expect("verified");
        assert_eq!(
            identity,
            Identity {
                subject: "8f1c2d3e-0000-4000-8000-000000000001".into(),
                username: "ada@example.org".into(),
                email: "ada@example.org".into(),
                groups: Vec::new(),
            }
        );
        verifier.verify(&token).await.expect("verified again");
        assert_eq!(server.hits(), 1);

        let unpinned = AlbVerifier::new(format!("{}/keys/{{kid}}", server.base), None, ManualClock::new(start()));
        let other_signer = with(alb_header("c2f80c8b-c05c-4068-af14-17299f7896b1", start()), "signer", json!("x"));
        unpinned.verify(&alb_token(&key, &other_signer, &alb_claims(start()))).await.expect("any signer");
    }

    #[tokio::test]
    async fn a_load_balancer_token_from_another_signer_tampered_or_expired_is_refused() {
        let key = EcKey::generate();
        let (server, clock, verifier) = alb(&key, "k1").await;

        let other = with(alb_header("k1", start()), "signer", json!(format!("{SIGNER}0")));
        assert!(reason(verifier.verify(&alb_token(&key, &other, &alb_claims(start()))).await).contains("balancer"));

        let token = alb_token(&key, &alb_header("k1", start()), &alb_claims(start()));
        let [header, _, signature] = token.split('.').collect::<Vec<_>>()[..] else { panic!("three segments") };
        let forged = padded(&with(alb_claims(start()), "email", json!("eve@example.org")));
        assert_eq!(reason(verifier.verify(&format!("{header}.{forged}.{signature}")).await), "invalid signature");
        let forger = EcKey::generate();
        let foreign = alb_token(&forger, &alb_header("k1", start()), &alb_claims(start()));
        assert_eq!(reason(verifier.verify(&foreign).await), "invalid signature");
        let hs = with(alb_header("k1", start()), "alg", json!("HS256"));
        reason(verifier.verify(&alb_token(&key, &hs, &alb_claims(start()))).await);
        let no_email = without(alb_claims(start()), "email");
        reason(verifier.verify(&alb_token(&key, &alb_header("k1", start()), &no_email)).await);
        for malformed in ["", "a.b", "a.b.c.d", "..", &format!("{header}..{signature}")] {
            reason(verifier.verify(malformed).await);
        }

        clock.advance(Duration::seconds(120 + 31));
        assert_eq!(reason(verifier.verify(&token).await), "the token has expired");
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn a_load_balancer_kid_that_is_not_a_plain_name_is_refused_without_a_fetch() {
        let key = EcKey::generate();
        let (server, _, verifier) = alb(&key, "k1").await;
        for kid in ["../k1", "a/b", "..", "k1?x=1", "k1#", "%2e%2e", "", &"k".repeat(MAX_KID_LEN + 1)] {
            let token = alb_token(&key, &alb_header(kid, start()), &alb_claims(start()));
            reason(verifier.verify(&token).await);
        }
        let no_kid = without(alb_header("k1", start()), "kid");
        reason(verifier.verify(&alb_token(&key, &no_kid, &alb_claims(start()))).await);
        assert_eq!(server.hits(), 0);

        let unknown = alb_token(&key, &alb_header("k2", start()), &alb_claims(start()));
        reason(verifier.verify(&unknown).await);
        assert_eq!(server.hits(), 1);
    }
}

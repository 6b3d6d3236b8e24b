//! The verifier of Cognito ID tokens: it exists because a session's ID token is the console's
//! only word for who a user is and which groups they are in, so its signature, issuer,
//! audience, use and expiry are checked against the user pool's published keys (JWKS), fetched
//! and cached here, before any of it is believed. The shared rules live in the
//! [parent module](super).

use super::{
    check_times, fetch_failed, header_rejection, identity, parse_jwks, read_body, refused, rejection, FETCH_TIMEOUT,
    MAX_TOKEN_BYTES, REFETCH_INTERVAL_SECS,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::{Clock, CloudError, Identity, IdentityVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

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
pub(super) struct VerifyingKey {
    pub(super) key: DecodingKey,
    pub(super) alg: Algorithm,
}

#[derive(Default)]
struct KeyCache {
    /// The usable keys by `kid`; `None` until the first successful load.
    keys: Option<HashMap<String, VerifyingKey>>,
    /// When a token with an unknown `kid` last caused a fetch.
    last_refetch: Option<DateTime<Utc>>,
}

/// Verifies ID tokens against a user pool's JWKS; see the [module documentation](super).
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

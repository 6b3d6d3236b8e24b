//! The verifier of the `x-amzn-oidc-data` header: it exists because behind an AWS Application
//! Load Balancer that signs users in with Cognito, the console learns who a user is from that
//! header rather than from its own session, and the header's ES256 token may carry base64 `=`
//! padding that standard JWT decoders refuse — so its signature is checked here over the bytes
//! exactly as received, with the balancer's public keys fetched by key id and cached. The
//! shared rules live in the [parent module](super).

use super::{
    check_times, fetch_failed, identity, padded_json, read_body, refused, FETCH_TIMEOUT, MAX_CACHED_ALB_KEYS,
    MAX_KID_LEN, MAX_TOKEN_BYTES,
};
use domain::{Clock, CloudError, Identity};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Verifies the `x-amzn-oidc-data` header of an Application Load Balancer that authenticates
/// users with Cognito; see the [module documentation](super).
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

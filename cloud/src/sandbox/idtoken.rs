//! The sandbox pool's signing key: an ES256 key pair made when the sandbox starts, so its ID
//! tokens are real JWTs that the console checks with the same [`JwtVerifier`] as Cognito's.
//!
//! The key and its `kid` come from the operating system's randomness, not from the seed (a
//! key derived from a public seed would let anyone forge tokens), and ECDSA signatures are
//! randomised too: ID tokens are the one thing a sandbox does not reproduce byte for byte.
//!
//! [`JwtVerifier`]: crate::jwt::JwtVerifier

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::CloudError;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::Serialize;

pub(crate) struct IdTokenSigner {
    kid: String,
    key: EncodingKey,
    jwks: String,
}

impl std::fmt::Debug for IdTokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenSigner").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl IdTokenSigner {
    /// A fresh key pair. Panics only when the operating system has no randomness to give.
    pub(crate) fn generate() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("the system random generator makes a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("a freshly made P-256 key parses");
        // The uncompressed point: 0x04, then x and y (32 bytes each).
        let point = pair.public_key().as_ref();
        let mut kid = [0_u8; 12];
        rng.fill(&mut kid).expect("the system random generator fills a key id");
        let kid: String = kid.iter().map(|b| format!("{b:02x}")).collect();
        let jwks = serde_json::json!({
            "keys": [{
                "kty": "EC",
                "crv": "P-256",
                "alg": "ES256",
                "use": "sig",
                "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }]
        })
        .to_string();
        Self { kid, key: EncodingKey::from_ec_der(pkcs8.as_ref()), jwks }
    }

    /// The public key set, as a pool publishes it at `/.well-known/jwks.json`.
    pub(crate) fn jwks_json(&self) -> &str {
        &self.jwks
    }

    /// `claims` signed as an ES256 JWT naming this key.
    pub(crate) fn sign(&self, claims: &impl Serialize) -> Result<String, CloudError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| {
            tracing::error!(error = %e, "the sandbox could not sign an ID token");
            CloudError::Unavailable("the sandbox could not sign an ID token".into())
        })
    }
}

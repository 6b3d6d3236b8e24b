use super::*;
use crate::sandbox::ManualClock;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{Duration, TimeZone};
use domain::{Clock, IdentityVerifier};
use jsonwebtoken::{EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test";
const AUDIENCE: &str = "console-client";
const SIGNER: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/console/50dc6c495c0c9188";

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
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
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
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.pkcs8, &rng).expect("a key pair");
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
    let config = JwtConfig { issuer: ISSUER.into(), audience: AUDIENCE.into(), jwks: JwksSource::Static(jwks(keys)) };
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

    let no_kid =
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims(start()), &EncodingKey::from_ec_der(&key.pkcs8))
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

        let shared =
            Shared { hits: Arc::default(), document: Arc::new(std::sync::Mutex::new(document)), pems: Arc::default() };
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

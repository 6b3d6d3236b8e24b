//! Behind an Application Load Balancer with Cognito authentication, the console trusts the
//! `x-amzn-oidc-data` header only when its ES256 signature verifies with the balancer's key.

mod support;

use axum::routing::get;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::directory::Directory;
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;
use support::{TestConsole, ADMIN, OUTSIDER};

/// The load balancer's signing key, with its public half served as PEM on 127.0.0.1.
struct Balancer {
    key: EcdsaKeyPair,
    key_url: String,
}

impl Balancer {
    async fn start() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        // SubjectPublicKeyInfo of a P-256 key: a fixed prefix, then the uncompressed point.
        let mut spki = hex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
        spki.extend_from_slice(key.public_key().as_ref());
        let b64 = base64::engine::general_purpose::STANDARD.encode(spki);
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n");
        let app = axum::Router::new().route("/{kid}", get(move || async move { pem.clone() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { key, key_url: format!("http://{addr}/{{kid}}") }
    }

    /// The header the balancer adds for `email`, valid for two minutes from `now`.
    fn header(&self, email: &str, now: i64) -> String {
        let header =
            json!({ "alg": "ES256", "kid": "key-1", "signer": "arn:aws:elasticloadbalancing:test", "exp": now + 120 });
        let claims = json!({ "sub": format!("sub-{email}"), "email": email, "username": email, "exp": now + 120 });
        // The balancer pads its base64 segments.
        let pad = |s: String| {
            let n = (4 - s.len() % 4) % 4;
            s + &"=".repeat(n)
        };
        let message = format!(
            "{}.{}",
            pad(URL_SAFE_NO_PAD.encode(header.to_string())),
            pad(URL_SAFE_NO_PAD.encode(claims.to_string()))
        );
        let signature = self.key.sign(&SystemRandom::new(), message.as_bytes()).unwrap();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[tokio::test]
async fn the_load_balancers_signed_header_signs_users_in_and_nothing_else_does() {
    let balancer = Balancer::start().await;
    let flags = [
        "--alb-key-url",
        &balancer.key_url,
        "--alb-arn",
        "arn:aws:elasticloadbalancing:test",
        "--alb-sign-out-url",
        "https://auth.example.org/logout?client_id=x",
    ];
    let c = TestConsole::with_cloud(&flags, |sandbox, _| server::sandbox_cloud(sandbox)).await;
    let now = domain::Clock::now(c.clock.as_ref()).timestamp();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |header: Option<String>| {
        let mut req = client.get(c.url("/"));
        if let Some(h) = header {
            req = req.header("x-amzn-oidc-data", h);
        }
        req.send()
    };
    assert_eq!(get(Some(balancer.header(ADMIN, now))).await.unwrap().status(), 200);
    let me: serde_json::Value = client
        .post(c.url("/sfn/whoami"))
        .header("x-amzn-oidc-data", balancer.header(ADMIN, now))
        .header("origin", &c.base)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["email"].as_str(), me["role"].as_str(), me["via_load_balancer"].as_bool()),
        (Some(ADMIN), Some("admin"), Some(true))
    );

    // No header, a tampered one, an expired one, or a user in neither group: no access.
    assert_eq!(get(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    let good = balancer.header(ADMIN, now);
    let (head, rest) = good.split_once('.').unwrap();
    let tampered = format!("{head}.{}", rest.replacen('e', "f", 1));
    assert_eq!(get(Some(tampered)).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(get(Some(balancer.header(ADMIN, now - 3600))).await.unwrap().status(), StatusCode::FORBIDDEN);
    let refused = get(Some(balancer.header(OUTSIDER, now))).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("No access"));
    // A header signed by another key (same kid) is refused.
    let impostor = Balancer::start().await;
    assert_eq!(get(Some(impostor.header(ADMIN, now))).await.unwrap().status(), StatusCode::FORBIDDEN);
    // A viewer the directory disables loses access at their next request, cache or not.
    assert_eq!(get(Some(balancer.header(support::VIEWER, now))).await.unwrap().status(), 200);
    c.sandbox.disable(support::VIEWER).await.unwrap();
    let mut tx = c.state.pool.begin().await.unwrap();
    service::auth::revoke_sessions(&mut tx, support::VIEWER, domain::Clock::now(c.clock.as_ref())).await.unwrap();
    tx.commit().await.unwrap();
    c.advance(1);
    assert_eq!(get(Some(balancer.header(support::VIEWER, now))).await.unwrap().status(), StatusCode::FORBIDDEN);

    // Password sign-in is off in this mode; sign-out clears the balancer's session cookies.
    let res = client
        .post(c.url("/sfn/sign_in"))
        .header("origin", &c.base)
        .form(&[("email", ADMIN), ("password", support::PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .post(c.url("/sfn/sign_out"))
        .header("x-amzn-oidc-data", balancer.header(ADMIN, now))
        .header("origin", &c.base)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cleared_headers = res.headers().clone();
    assert_eq!(res.json::<serde_json::Value>().await.unwrap(), "https://auth.example.org/logout?client_id=x");
    let res = cleared_headers;
    let cleared: Vec<_> = res.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(
        cleared.iter().any(|v| v.starts_with("AWSELBAuthSessionCookie-0=;") && v.contains("Max-Age=0")),
        "{cleared:?}"
    );
}

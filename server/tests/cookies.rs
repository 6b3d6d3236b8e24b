//! The session cookie as a browser receives it: `Secure` and `__Host-` prefixed whenever the
//! console's public URL is https, with no further setting; plain for local http.

mod support;

use reqwest::StatusCode;
use support::{TestConsole, ADMIN, PASSWORD};

/// Signs the admin in with `origin` as the page's origin: the sign-in's `Set-Cookie` headers.
async fn sign_in_cookies(c: &TestConsole, origin: &str) -> Vec<String> {
    let res = reqwest::Client::new()
        .post(c.url("/sfn/sign_in"))
        .header("origin", origin)
        .form(&[("email", ADMIN), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 200, "the admin could not sign in");
    res.headers().get_all("set-cookie").iter().map(|v| v.to_str().expect("ASCII").to_owned()).collect()
}

/// The one session cookie among `cookies`, as (`name=value`, its attributes lower-cased).
fn session_cookie(cookies: &[String]) -> (String, Vec<String>) {
    let [cookie] = &cookies.iter().filter(|c| c.contains("shinyfleet_session=")).collect::<Vec<_>>()[..] else {
        panic!("one session cookie: {cookies:?}")
    };
    let mut parts = cookie.split(';').map(str::trim);
    let pair = parts.next().expect("name=value").to_owned();
    (pair, parts.map(str::to_ascii_lowercase).collect())
}

/// The Fleet page's status with `cookie`: 200 signed in, 303 to the sign-in page otherwise.
async fn fleet_page_with(c: &TestConsole, cookie: &str) -> StatusCode {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    client.get(c.url("/")).header("cookie", cookie).send().await.expect("request").status()
}

#[tokio::test]
async fn an_https_public_url_makes_the_session_cookie_secure_and_host_prefixed() {
    let c = TestConsole::with_cloud(&["--public-url", "https://shiny.example.org"], |sandbox, _| {
        server::sandbox_cloud(sandbox)
    })
    .await;
    let (pair, attributes) = session_cookie(&sign_in_cookies(&c, "https://shiny.example.org").await);
    assert!(pair.starts_with("__Host-shinyfleet_session="), "{pair}");
    for wanted in ["secure", "httponly", "path=/", "samesite=lax"] {
        assert!(attributes.iter().any(|a| a == wanted), "{wanted} missing: {attributes:?}");
    }
    // `__Host-` cookies must not name a domain (browsers drop them otherwise).
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "{attributes:?}");

    // The prefixed cookie is the session; the same value under the plain name is nobody.
    assert_eq!(fleet_page_with(&c, &pair).await, StatusCode::OK);
    let plain = pair.replacen("__Host-", "", 1);
    assert_eq!(fleet_page_with(&c, &plain).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn local_http_keeps_plain_cookies_with_or_without_a_public_url() {
    for (args, origin) in
        [(&[][..], None), (&["--public-url", "http://localhost:3000"][..], Some("http://localhost:3000"))]
    {
        let c = TestConsole::with_cloud(args, |sandbox, _| server::sandbox_cloud(sandbox)).await;
        let origin = origin.map(str::to_owned).unwrap_or_else(|| c.base.clone());
        let (pair, attributes) = session_cookie(&sign_in_cookies(&c, &origin).await);
        assert!(pair.starts_with("shinyfleet_session="), "{args:?}: {pair}");
        assert!(!attributes.iter().any(|a| a == "secure"), "{args:?}: {attributes:?}");
        assert_eq!(fleet_page_with(&c, &pair).await, StatusCode::OK, "{args:?}");
    }
}

#[tokio::test]
async fn secure_cookies_can_still_be_asked_for_without_a_public_url() {
    let c = TestConsole::with_cloud(&["--secure-cookies", "true"], |sandbox, _| server::sandbox_cloud(sandbox)).await;
    // Served over https by a proxy in front, which the origin check expects too.
    let origin = c.base.replacen("http://", "https://", 1);
    let (pair, attributes) = session_cookie(&sign_in_cookies(&c, &origin).await);
    assert!(pair.starts_with("__Host-shinyfleet_session="), "{pair}");
    assert!(attributes.iter().any(|a| a == "secure"), "{attributes:?}");
}

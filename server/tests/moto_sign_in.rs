//! Sign-in through the console against moto's Cognito: an invited user signs in with the
//! temporary password, sets a new one, the ID token is verified against moto's key set, the
//! session works, sign-out ends it; a disabled user is refused.

#[allow(dead_code)]
#[path = "../../cloud/tests/support/moto.rs"]
mod moto;
mod support;

use cloud::aws::CognitoDirectory;
use cloud::jwt::JwtVerifier;
use domain::directory::{Directory, Invitation};
use domain::SystemClock;
use reqwest::StatusCode;
use serde_json::Value;
use service::Cloud;
use std::sync::Arc;
use support::TestConsole;

const TEMPORARY: &str = "Temporary-Pass-1";
const CHOSEN: &str = "Chosen-Pass-2026";

/// A new pool and app client in moto, and the directory and verifier the console uses for it.
async fn moto_pool() -> (Arc<CognitoDirectory>, Arc<JwtVerifier>) {
    let config = moto::sdk_config().await;
    let (pool_id, client_id) = moto::user_pool(&config).await;
    let verifier = JwtVerifier::new(moto::jwt_config(&pool_id, &client_id).await, Arc::new(SystemClock));
    (Arc::new(CognitoDirectory::new(&config, pool_id, client_id)), Arc::new(verifier))
}

#[tokio::test]
async fn an_invited_colleague_signs_in_through_cognito_sets_a_password_and_signs_out() {
    let (directory, verifier) = moto_pool().await;
    for group in ["shinyfleet-admins", "shinyfleet-viewers"] {
        directory.ensure_group(group).await.expect("group");
    }
    let email = format!("{}@example.com", moto::unique("colleague"));
    // The invitation Cognito would email carries this temporary password.
    let invitation = Invitation { email: email.clone(), temporary_password: Some(TEMPORARY.into()) };
    let user = directory.invite(&invitation).await.expect("invited");
    directory.add_to_group(&user.username, "shinyfleet-viewers").await.expect("grouped");

    let c = {
        let (directory, verifier) = (directory.clone(), verifier.clone());
        TestConsole::with_cloud(&[], move |sandbox, _| Cloud {
            fleet: sandbox.clone(),
            directory,
            metrics: sandbox.clone(),
            registry: sandbox.clone(),
            logs: sandbox.clone(),
            identity: verifier,
        })
        .await
    };
    let client = c.new_client();
    let answer = c.sign_in(&client, &email, TEMPORARY).await;
    assert_eq!(answer["NewPasswordRequired"]["email"], email.as_str(), "{answer}");
    let (status, signed_in) =
        c.call(&client, "set_new_password", &[("password", CHOSEN), ("confirm", CHOSEN), ("next", "/")]).await;
    assert_eq!(status, 200, "{signed_in}");
    assert_eq!(signed_in["SignedIn"]["next"], "/");

    assert_eq!(client.get(c.url("/")).send().await.unwrap().status(), 200);
    let (_, me) = c.call(&client, "whoami", &[]).await;
    assert_eq!((me["email"].as_str(), me["role"].as_str()), (Some(email.as_str()), Some("viewer")));
    assert_eq!(c.call(&client, "sign_out", &[]).await.0, 200);
    assert_eq!(client.get(c.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);

    // The new password works; once disabled, the same sign-in is refused.
    let again = c.new_client();
    assert_eq!(c.sign_in(&again, &email, CHOSEN).await["SignedIn"]["next"], "/");
    directory.disable(&user.username).await.expect("disabled");
    assert_eq!(c.sign_in(&c.new_client(), &email, CHOSEN).await, Value::from("BadCredentials"));
    let actions: Vec<String> = c.audit_actions().await.into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(actions, ["auth.sign_in", "auth.sign_out", "auth.sign_in", "auth.sign_in_failed"]);
}

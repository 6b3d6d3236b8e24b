//! The console makes a session only from an ID token that verifies: a directory handing back
//! a tampered, unsigned, expired or foreign token signs nobody in.

mod support;

use async_trait::async_trait;
use base64::Engine;
use cloud::jwt::{JwksSource, JwtConfig, JwtVerifier};
use cloud::sandbox::{Sandbox, SANDBOX_ISSUER};
use domain::directory::{Directory, Invitation, PasswordPolicy, SignIn, Tokens, User, UserPage};
use domain::CloudError;
use reqwest::StatusCode;
use serde_json::Value;
use service::Cloud;
use std::sync::{Arc, Mutex};
use support::{TestConsole, ADMIN, PASSWORD};

/// What the forger does to the ID token of a successful sign-in.
#[derive(Clone, Copy)]
enum Forgery {
    /// Leaves the token as the directory issued it.
    Keep,
    /// Changes one character of the payload.
    Tamper,
    /// Replaces the header by `{"alg":"none"}` and drops the signature.
    Unsigned,
    /// Hands back the token of the first sign-in on every later one.
    Replay,
}

/// The sandbox's directory, with forged ID tokens.
struct Forger {
    sandbox: Arc<Sandbox>,
    forgery: Forgery,
    first: Mutex<Option<String>>,
}

impl Forger {
    fn forge(&self, tokens: Tokens) -> Tokens {
        let id_token = match self.forgery {
            Forgery::Keep => tokens.id_token.clone(),
            Forgery::Tamper => {
                let mut parts: Vec<String> = tokens.id_token.split('.').map(str::to_owned).collect();
                let mut payload = parts[1].clone().into_bytes();
                let at = payload.len() / 2;
                payload[at] = if payload[at] == b'A' { b'B' } else { b'A' };
                parts[1] = String::from_utf8(payload).unwrap();
                parts.join(".")
            }
            Forgery::Unsigned => {
                let payload = tokens.id_token.split('.').nth(1).unwrap().to_owned();
                let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
                format!("{header}.{payload}.")
            }
            Forgery::Replay => {
                let mut first = self.first.lock().unwrap();
                first.get_or_insert_with(|| tokens.id_token.clone()).clone()
            }
        };
        Tokens { id_token, ..tokens }
    }
}

#[async_trait]
impl Directory for Forger {
    async fn probe(&self) -> Result<(), CloudError> {
        self.sandbox.probe().await
    }
    async fn password_policy(&self) -> Result<PasswordPolicy, CloudError> {
        self.sandbox.password_policy().await
    }
    async fn list_users(&self, p: Option<&str>, l: u32, n: Option<&str>) -> Result<UserPage, CloudError> {
        self.sandbox.list_users(p, l, n).await
    }
    async fn invite(&self, i: &Invitation) -> Result<User, CloudError> {
        self.sandbox.invite(i).await
    }
    async fn resend_invitation(&self, u: &str) -> Result<(), CloudError> {
        self.sandbox.resend_invitation(u).await
    }
    async fn disable(&self, u: &str) -> Result<(), CloudError> {
        self.sandbox.disable(u).await
    }
    async fn enable(&self, u: &str) -> Result<(), CloudError> {
        self.sandbox.enable(u).await
    }
    async fn delete(&self, u: &str) -> Result<(), CloudError> {
        self.sandbox.delete(u).await
    }
    async fn list_groups(&self) -> Result<Vec<String>, CloudError> {
        self.sandbox.list_groups().await
    }
    async fn ensure_group(&self, g: &str) -> Result<(), CloudError> {
        self.sandbox.ensure_group(g).await
    }
    async fn groups_of(&self, u: &str) -> Result<Vec<String>, CloudError> {
        self.sandbox.groups_of(u).await
    }
    async fn members_of(&self, g: &str) -> Result<Vec<User>, CloudError> {
        self.sandbox.members_of(g).await
    }
    async fn add_to_group(&self, u: &str, g: &str) -> Result<(), CloudError> {
        self.sandbox.add_to_group(u, g).await
    }
    async fn remove_from_group(&self, u: &str, g: &str) -> Result<(), CloudError> {
        self.sandbox.remove_from_group(u, g).await
    }
    async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn, CloudError> {
        match self.sandbox.sign_in(email, password).await? {
            SignIn::Authenticated(tokens) => Ok(SignIn::Authenticated(self.forge(tokens))),
            other => Ok(other),
        }
    }
    async fn complete_new_password(&self, e: &str, p: &str, s: &str) -> Result<Tokens, CloudError> {
        Ok(self.forge(self.sandbox.complete_new_password(e, p, s).await?))
    }
    async fn sign_out_everywhere(&self, u: &str) -> Result<(), CloudError> {
        self.sandbox.sign_out_everywhere(u).await
    }
}

/// A console whose sign-ins go through the forger, its ID tokens verified for `audience`
/// (the sandbox's own client when `None`).
async fn console(forgery: Forgery, audience: Option<&'static str>) -> TestConsole {
    TestConsole::with_cloud(&[], move |sandbox, clock| {
        let identity: Arc<dyn domain::IdentityVerifier> = match audience {
            None => Arc::new(sandbox.identity_verifier()),
            Some(audience) => Arc::new(JwtVerifier::new(
                JwtConfig {
                    issuer: SANDBOX_ISSUER.to_owned(),
                    audience: audience.to_owned(),
                    jwks: JwksSource::Static(sandbox.jwks_json()),
                },
                clock.clone(),
            )),
        };
        Cloud {
            fleet: sandbox.clone(),
            directory: Arc::new(Forger { sandbox: sandbox.clone(), forgery, first: Mutex::new(None) }),
            metrics: sandbox.clone(),
            registry: sandbox.clone(),
            logs: sandbox.clone(),
            identity,
        }
    })
    .await
}

#[tokio::test]
async fn the_same_directory_without_forgery_signs_the_user_in() {
    let c = console(Forgery::Keep, None).await;
    let client = c.new_client();
    assert_eq!(c.sign_in(&client, ADMIN, PASSWORD).await["SignedIn"]["next"], "/");
    assert_eq!(client.get(c.url("/")).send().await.unwrap().status(), 200);
}

async fn refused(c: &TestConsole) {
    let client = c.new_client();
    assert_eq!(c.sign_in(&client, ADMIN, PASSWORD).await, Value::from("BadCredentials"));
    assert_eq!(client.get(c.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "no session was made");
    let failures = c.audit_actions().await.into_iter().filter(|(_, a, _)| a == "auth.sign_in_failed").count();
    assert_eq!(failures, 1);
}

#[tokio::test]
async fn a_tampered_id_token_signs_nobody_in() {
    refused(&console(Forgery::Tamper, None).await).await;
}

#[tokio::test]
async fn an_unsigned_id_token_signs_nobody_in() {
    refused(&console(Forgery::Unsigned, None).await).await;
}

#[tokio::test]
async fn an_id_token_for_another_client_signs_nobody_in() {
    refused(&console(Forgery::Keep, Some("another-console")).await).await;
}

#[tokio::test]
async fn an_expired_id_token_signs_nobody_in() {
    let c = console(Forgery::Replay, None).await;
    // The first sign-in's token is good and makes a session.
    let first = c.new_client();
    assert_eq!(c.sign_in(&first, ADMIN, PASSWORD).await["SignedIn"]["next"], "/");
    // Two hours later the directory hands back that same, now expired, token.
    c.advance(2 * 3600);
    refused(&c).await;
}

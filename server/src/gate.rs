//! The gatekeeper: every request passes here before any handler.
//!
//! 1. **Who**: an API token (`Authorization: Bearer …`), else the load balancer's signed
//!    header (when the console sits behind an ALB with Cognito authentication), else the
//!    session cookie. The result, with the client's address, goes into the request's
//!    extensions as a [`RequestCtx`] for server functions, pages and API handlers.
//! 2. **From where**: a request that changes something (any method but GET, HEAD, OPTIONS)
//!    must come from the console's own origin (`Origin`, else `Referer`); only token requests,
//!    which no browser sends on its own, may carry neither.
//! 3. **May they**: pages need a signed-in user (anonymous visitors are sent to the sign-in
//!    page); server functions need what [`app::api::ACCESS`] says, and unlisted ones are
//!    refused; `/api/v1` routes check their role themselves (see [`crate::api`]).

use app::api::{access_of, Access};
use app::error::AppError;
use app::ssr::auth::{session_principal, Principal, RequestCtx, Via};
use app::ssr::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use cloud::jwt::AlbVerifier;
use domain::CloudError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tower_sessions::Session;

/// How the gatekeeper decides; built once from the configuration.
pub struct Gate {
    /// The configured public origin; `None` to take each request's scheme and `Host`.
    pub public_origin: Option<String>,
    /// Trust `X-Forwarded-For` and `X-Forwarded-Proto`.
    pub trust_proxy: bool,
    /// The console is served over https (secure cookies).
    pub https: bool,
    /// Users signed in by a load balancer.
    pub load_balancer: Option<LoadBalancerSignIn>,
}

/// Sign-in by an Application Load Balancer: its header is verified on every request; the
/// user's groups (which the header does not carry) are looked up in the directory and kept
/// for a minute.
pub struct LoadBalancerSignIn {
    pub verifier: AlbVerifier,
    groups: Mutex<HashMap<String, CachedGroups>>,
}

/// A user's groups and when they were looked up.
type CachedGroups = (Vec<String>, DateTime<Utc>);

impl LoadBalancerSignIn {
    /// How long a user's groups are trusted before they are looked up again.
    const GROUPS_TTL_SECS: i64 = 60;

    pub fn new(verifier: AlbVerifier) -> Self {
        Self { verifier, groups: Mutex::new(HashMap::new()) }
    }

    async fn principal(&self, state: &AppState, header: &str) -> Result<Option<Principal>, CloudError> {
        let identity = match self.verifier.verify(header).await {
            Ok(identity) => identity,
            Err(CloudError::NotAuthorized(reason)) => {
                tracing::warn!(%reason, "a load balancer header failed verification");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let now = state.clock.now();
        let cached = {
            let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
            groups
                .get(&identity.username)
                .filter(|(_, at)| now - *at < Duration::seconds(Self::GROUPS_TTL_SECS))
                .cloned()
        };
        let groups = match cached {
            Some((groups, _)) => groups,
            None => {
                let groups = match state.cloud.directory.groups_of(&identity.username).await {
                    Ok(groups) => groups,
                    Err(CloudError::NotFound(_)) => vec![],
                    Err(e) => return Err(e),
                };
                let mut cache = self.groups.lock().unwrap_or_else(|e| e.into_inner());
                if cache.len() > 10_000 {
                    cache.clear();
                }
                cache.insert(identity.username.clone(), (groups.clone(), now));
                groups
            }
        };
        let Some(role) = state.auth.role_groups.role_of(&groups) else { return Ok(None) };
        Ok(Some(Principal {
            via: Via::LoadBalancer,
            name: identity.email,
            username: Some(identity.username),
            groups,
            role,
            since: now,
        }))
    }
}

/// The gatekeeper's state: the console's and its own.
#[derive(Clone)]
pub struct GateState {
    pub app: AppState,
    pub gate: Arc<Gate>,
}

/// Paths anyone may fetch: health, the compiled site, the sign-in page.
fn is_public(path: &str) -> bool {
    path == "/healthz" || path == "/favicon.svg" || path.starts_with("/pkg/") || path == "/sign-in"
}

/// The middleware.
pub async fn gatekeeper(State(gs): State<GateState>, mut req: Request<Body>, next: Next) -> Response {
    let (app, gate) = (&gs.app, &gs.gate);
    let source = client_address(&req, gate.trust_proxy);
    let bearer = match bearer_token(req.headers()) {
        Ok(token) => token,
        Err(()) => return api_error(AppError::Unauthorized),
    };
    let session = req.extensions().get::<Session>().cloned();
    let principal = match authenticate(app, gate, req.headers(), session, bearer.as_deref()).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    if bearer.is_some() && principal.is_none() {
        return api_error(AppError::Unauthorized);
    }
    let ctx = RequestCtx { principal, source };
    let path = req.uri().path().to_owned();

    let mutation = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if mutation && !same_origin(gate, req.headers(), bearer.is_some()) {
        tracing::warn!(%path, "refused a cross-origin request");
        return refuse(&path, AppError::Forbidden);
    }

    if path.starts_with(app::api::SERVER_FN_PREFIX) {
        match access_of(&path) {
            Some(Access::Public) => {}
            Some(Access::Role(needed)) => match &ctx.principal {
                None => return refuse(&path, AppError::Unauthorized),
                Some(p) if !p.role.allows(needed) => return refuse(&path, AppError::Forbidden),
                Some(_) => {}
            },
            None => {
                tracing::error!(%path, "a server function missing from app::api::ACCESS was refused");
                return refuse(&path, AppError::NotFound);
            }
        }
    } else if path.starts_with("/api/") {
        // Each API route checks its role (crate::api).
    } else if path == "/sign-in" && ctx.principal.is_some() {
        return Redirect::to("/").into_response();
    } else if !is_public(&path) && ctx.principal.is_none() {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            let next = req.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            return Redirect::to(&format!("/sign-in?next={}", encode_component(next))).into_response();
        }
        return refuse(&path, AppError::Unauthorized);
    }
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

async fn authenticate(
    app: &AppState,
    gate: &Gate,
    headers: &HeaderMap,
    session: Option<Session>,
    bearer: Option<&str>,
) -> Result<Option<Principal>, Response> {
    let now = app.clock.now();
    if let Some(token) = bearer {
        return app::ssr::tokens::authenticate(&app.pool, token, now).await.map_err(|e| {
            tracing::error!(error = %e, "token lookup failed");
            api_error(AppError::Internal)
        });
    }
    if let Some(lb) = &gate.load_balancer {
        let Some(header) = headers.get("x-amzn-oidc-data").and_then(|v| v.to_str().ok()) else {
            return Ok(None);
        };
        return lb.principal(app, header).await.map_err(|e| {
            tracing::warn!(error = %e, "cannot verify the load balancer's header now");
            api_error(AppError::Unavailable)
        });
    }
    let Some(session) = session else {
        tracing::error!("the session layer must wrap the gatekeeper");
        return Err(api_error(AppError::Internal));
    };
    session_principal(&app.pool, &session, &app.auth, now).await.map_err(api_error)
}

/// `Some(token)` for `Authorization: Bearer token`, `None` without the header, `Err` for any
/// other use of it.
fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, ()> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ())?;
    let (scheme, token) = value.split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(());
    }
    Ok(Some(token.trim().to_owned()))
}

fn client_address(req: &Request<Body>, trust_proxy: bool) -> Option<String> {
    if trust_proxy {
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        if let Some(last) = forwarded.and_then(|v| v.rsplit(',').next()).map(str::trim).filter(|s| !s.is_empty()) {
            return Some(last.to_owned());
        }
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Whether a changing request comes from the console's own origin.
fn same_origin(gate: &Gate, headers: &HeaderMap, by_token: bool) -> bool {
    let claimed =
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| *o != "null").map(str::to_owned).or_else(
            || {
                let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok())?;
                crate::config::public_origin(referer).ok()
            },
        );
    let Some(claimed) = claimed else {
        // Browsers send Origin on every cross-site POST; a request without one is a script's,
        // and only token requests come from scripts.
        return by_token;
    };
    let expected = match &gate.public_origin {
        Some(origin) => origin.clone(),
        None => {
            let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
            let forwarded_proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
            let scheme = match forwarded_proto {
                Some(proto) if gate.trust_proxy => proto.to_ascii_lowercase(),
                _ if gate.https => "https".to_owned(),
                _ => "http".to_owned(),
            };
            format!("{scheme}://{}", host.to_ascii_lowercase())
        }
    };
    claimed.to_ascii_lowercase() == expected
}

/// A refusal in the format the caller reads: server functions decode an [`AppError`] from
/// JSON, everything else gets the API's JSON error.
fn refuse(path: &str, e: AppError) -> Response {
    if path.starts_with(app::api::SERVER_FN_PREFIX) {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&e).unwrap_or_default();
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    api_error(e)
}

/// The API's JSON error.
pub fn api_error(e: AppError) -> Response {
    crate::api::ApiError(e).into_response()
}

/// Percent-encodes everything but unreserved characters and `/`.
pub fn encode_component(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(public_origin: Option<&str>, trust_proxy: bool) -> Gate {
        Gate { public_origin: public_origin.map(str::to_owned), trust_proxy, https: false, load_balancer: None }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn changes_must_come_from_the_consoles_own_origin() {
        let g = gate(None, false);
        let host = ("host", "console.example:3000");
        assert!(same_origin(&g, &headers(&[host, ("origin", "http://console.example:3000")]), false));
        assert!(!same_origin(&g, &headers(&[host, ("origin", "http://evil.example")]), false));
        assert!(!same_origin(&g, &headers(&[host, ("origin", "https://console.example:3000")]), false));
        assert!(!same_origin(&g, &headers(&[host, ("origin", "null")]), false));
        assert!(same_origin(&g, &headers(&[host, ("referer", "http://console.example:3000/people?q=a")]), false));
        assert!(!same_origin(&g, &headers(&[host, ("referer", "http://console.example:3000.evil.example/")]), false));
        // Neither header: only token requests.
        assert!(!same_origin(&g, &headers(&[host]), false));
        assert!(same_origin(&g, &headers(&[host]), true));
        // A token request that names a foreign origin is still refused.
        assert!(!same_origin(&g, &headers(&[host, ("origin", "http://evil.example")]), true));
    }

    #[test]
    fn the_configured_public_url_and_a_trusted_proxy_decide_the_origin() {
        let g = gate(Some("https://shiny.example.org"), false);
        let h = headers(&[("host", "10.0.0.5:3000"), ("origin", "https://shiny.example.org")]);
        assert!(same_origin(&g, &h, false));
        let g = gate(None, true);
        let h = headers(&[
            ("host", "shiny.example.org"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://shiny.example.org"),
        ]);
        assert!(same_origin(&g, &h, false));
        let g = gate(None, false);
        assert!(!same_origin(&g, &h, false));
    }

    #[test]
    fn only_bearer_authorization_is_understood() {
        assert_eq!(bearer_token(&headers(&[])), Ok(None));
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer sft_abc")])), Ok(Some("sft_abc".into())));
        assert_eq!(bearer_token(&headers(&[("authorization", "bearer  sft_abc ")])), Ok(Some("sft_abc".into())));
        assert_eq!(bearer_token(&headers(&[("authorization", "Basic YTpi")])), Err(()));
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer ")])), Err(()));
    }

    #[test]
    fn the_next_page_survives_the_trip_through_sign_in() {
        assert_eq!(encode_component("/people?q=ada&x=1"), "/people%3Fq%3Dada%26x%3D1");
    }
}

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

use crate::error::AppError;
use crate::AppState;
use app::api::{access_of, Access};
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use cloud::jwt::AlbVerifier;
use domain::directory::UserStatus;
use domain::CloudError;
use service::auth::{check_role, session_principal, Principal, RequestCtx, Via};
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
/// user's groups and whether they are enabled (which the header does not say) are looked up
/// in the directory and kept for a minute, or until an admin changes the user.
pub struct LoadBalancerSignIn {
    pub verifier: AlbVerifier,
    groups: Mutex<HashMap<String, CachedGroups>>,
}

/// A user's groups (empty when disabled or gone) and when they were looked up.
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
        let groups = match self.cached_groups(state, &identity.username, now).await? {
            Some(groups) => groups,
            None => {
                let groups = self.look_up_groups(state, &identity).await?;
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

    /// The cached groups of `username`, unless they are older than a minute or an admin
    /// changed the user (disable, delete, groups) since they were looked up.
    async fn cached_groups(
        &self,
        state: &AppState,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<String>>, CloudError> {
        let cached = {
            let cache = self.groups.lock().unwrap_or_else(|e| e.into_inner());
            cache.get(username).filter(|(_, at)| now - *at < Duration::seconds(Self::GROUPS_TTL_SECS)).cloned()
        };
        let Some((groups, at)) = cached else { return Ok(None) };
        let revoked = service::auth::revoked_at(&state.pool, username)
            .await
            .map_err(|e| CloudError::Unavailable(format!("database: {e}")))?;
        Ok(revoked.is_none_or(|r| r < at).then_some(groups))
    }

    /// The user's groups from the directory; none for a disabled or unknown user (the pool
    /// still lists a disabled user's groups).
    async fn look_up_groups(&self, state: &AppState, identity: &domain::Identity) -> Result<Vec<String>, CloudError> {
        let directory = &state.cloud.directory;
        let groups = match directory.groups_of(&identity.username).await {
            Ok(groups) => groups,
            Err(CloudError::NotFound(_)) => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let page = directory.list_users(Some(&identity.email), 60, None).await?;
        let enabled = page.users.iter().any(|u| u.username == identity.username && u.status != UserStatus::Disabled);
        Ok(if enabled { groups } else { vec![] })
    }
}

/// The gatekeeper's state: the console's and its own.
#[derive(Clone)]
pub struct GateState {
    pub app: AppState,
    pub gate: Arc<Gate>,
}

/// Paths anyone may fetch: health (strangers get its status word only, see
/// [`crate::health`]), the compiled site, the sign-in page.
fn is_public(path: &str) -> bool {
    let site_file = path.starts_with("/pkg/") && !path.contains("..") && !path.contains("//");
    path == "/healthz" || path == "/favicon.svg" || site_file || path == "/sign-in"
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
            Some(Access::Role(needed)) => {
                if let Err(e) = check_role(ctx.principal.as_ref(), needed) {
                    return refuse(&path, e.into());
                }
            }
            None => {
                tracing::error!(%path, "a server function missing from app::api::ACCESS was refused");
                return refuse(&path, AppError::NotFound);
            }
        }
    } else if path.starts_with("/api/") {
        // Each API route checks its role (crate::api).
    } else if path == "/sign-in" && (ctx.principal.is_some() || gate.load_balancer.is_some()) {
        // Signed in already, or signed in by the load balancer: nothing to do here.
        return Redirect::to("/").into_response();
    } else if !is_public(&path) && ctx.principal.is_none() {
        if gate.load_balancer.is_some() {
            // The load balancer signed the user in, but they may not use the console.
            return no_access_page();
        }
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
        return service::tokens::authenticate(&app.pool, token, now).await.map_err(|e| {
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
    session_principal(&app.pool, &session, &app.auth, now).await.map_err(|e| api_error(e.into()))
}

/// `Some(token)` for `Authorization: Bearer token`, `Err` for a Bearer header without a
/// token, `None` otherwise (another scheme belongs to a proxy in front, not to the console).
fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, ()> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ())?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    if token.trim().is_empty() {
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

/// Behind the load balancer there is no sign-in page to go to: say why plainly.
fn no_access_page() -> Response {
    let html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>No access · ShinyFleet</title>\
        <link rel=\"stylesheet\" href=\"/pkg/shinyfleet.css\"></head><body><main class=\"content\"><section class=\"page\">\
        <h1>No access</h1><p>Your account may not use this console: it is disabled, or in neither the admins' nor \
        the viewers' group. Ask an admin.</p></section></main></body></html>";
    (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
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
    crate::error::ApiError(e).into_response()
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
        assert_eq!(bearer_token(&headers(&[("authorization", "Basic YTpi")])), Ok(None));
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer ")])), Err(()));
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer")])), Err(()));
    }

    #[test]
    fn only_health_the_compiled_site_and_the_sign_in_page_are_public() {
        for public in ["/healthz", "/favicon.svg", "/pkg/shinyfleet.wasm", "/pkg/shinyfleet.css", "/sign-in"] {
            assert!(is_public(public), "{public}");
        }
        for private in ["/", "/people", "/pkg/../people", "/pkg//people", "/sign-in/x", "/healthz/x", "/pkg"] {
            assert!(!is_public(private), "{private}");
        }
    }

    #[test]
    fn the_next_page_survives_the_trip_through_sign_in() {
        assert_eq!(encode_component("/people?q=ada&x=1"), "/people%3Fq%3Dada%26x%3D1");
    }
}

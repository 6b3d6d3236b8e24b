//! A fault-injecting proxy in front of moto's server: the console's real AWS SDK clients talk
//! to it as their endpoint, it forwards what it is not told to break, and it breaks what it is
//! told to, the ways AWS does — throttling, 500s, slow answers, connections closed without an
//! answer, refused connections — or holds an answer back so a test can kill the console while
//! a call is in flight.
//!
//! Operations are named as AWS names them (`DescribeServices`, `GetMetricData`): from the
//! `X-Amz-Target` header of the JSON protocols (ECS, ECR, Cognito, Logs) and from the `Action`
//! field of the query protocol (CloudWatch).

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpSocket;
use tokio::sync::{watch, Notify};

/// What the proxy does to a request it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `ThrottlingException` (JSON protocols) or `Throttling` (query protocol), HTTP 400.
    Throttle,
    /// HTTP 500 `InternalFailure`.
    ServerError,
    /// Waits this long, then forwards.
    Slow(Duration),
    /// Closes the connection without an answer; the request never reaches moto.
    Drop,
    /// Forwards the request (so moto applies it), then closes the connection without an
    /// answer: the caller cannot know whether its change happened.
    LoseAnswer,
    /// Forwards the request (so moto applies it) and never answers until [`FaultProxy::release`].
    HoldAnswer,
    /// Never forwards nor answers until [`FaultProxy::release`], then forwards.
    HoldRequest,
}

/// One request the proxy received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub operation: String,
    /// The fault it met, if any.
    pub fault: Option<Fault>,
    /// The request body (JSON for the JSON protocols, a form for the query protocol).
    pub body: Bytes,
}

struct Rule {
    /// An operation name, or `*` for every operation.
    operation: String,
    fault: Fault,
    /// How many more requests it applies to; `None`: until cleared.
    remaining: Option<usize>,
}

struct Inner {
    upstream: String,
    http: reqwest::Client,
    rules: Mutex<Vec<Rule>>,
    seen: Mutex<Vec<Seen>>,
    /// Woken whenever a request arrives or is held.
    arrived: Notify,
    held: Mutex<usize>,
    release: watch::Sender<u64>,
    /// `true` while the proxy refuses connections.
    refusing: watch::Sender<bool>,
}

/// The proxy; dropping it leaves it running until the test process ends.
#[derive(Clone)]
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`: the endpoint to give the SDK.
    pub url: String,
    addr: SocketAddr,
    inner: Arc<Inner>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (moto's base URL) on a free loopback port.
    pub async fn start(upstream: &str) -> Self {
        let listener = bind("127.0.0.1:0".parse().expect("addr"));
        let addr = listener.local_addr().expect("addr");
        let (release, _) = watch::channel(0);
        let (refusing, _) = watch::channel(false);
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            rules: Mutex::new(vec![]),
            seen: Mutex::new(vec![]),
            arrived: Notify::new(),
            held: Mutex::new(0),
            release,
            refusing,
        });
        tokio::spawn(accept_loop(listener, addr, inner.clone()));
        Self { url: format!("http://{addr}"), addr, inner }
    }

    /// Applies `fault` to the next `times` requests of `operation` (`*`: any operation).
    pub fn inject(&self, operation: &str, fault: Fault, times: usize) {
        self.rule(operation, fault, Some(times));
    }

    /// Applies `fault` to every request of `operation` (`*`: any) until [`Self::clear`].
    pub fn inject_always(&self, operation: &str, fault: Fault) {
        self.rule(operation, fault, None);
    }

    fn rule(&self, operation: &str, fault: Fault, remaining: Option<usize>) {
        self.inner.rules.lock().expect("rules").push(Rule { operation: operation.to_owned(), fault, remaining });
    }

    /// Forgets every rule; held requests stay held until [`Self::release`].
    pub fn clear(&self) {
        self.inner.rules.lock().expect("rules").clear();
    }

    /// Lets every held request go on.
    pub fn release(&self) {
        self.inner.release.send_modify(|generation| *generation += 1);
    }

    /// Refuses connections (nothing listens on the port) until [`Self::accept_connections`];
    /// open connections are closed at their next request.
    pub fn refuse_connections(&self) {
        self.inner.refusing.send_replace(true);
    }

    pub fn accept_connections(&self) {
        self.inner.refusing.send_replace(false);
    }

    /// Every request received so far, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().expect("seen").clone()
    }

    /// How many requests of `operation` arrived (faulted or not).
    pub fn count(&self, operation: &str) -> usize {
        self.seen().iter().filter(|s| s.operation == operation).count()
    }

    /// How many requests of `operation` moto received (no fault, or slow, or held answers).
    pub fn forwarded(&self, operation: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.operation == operation)
            .filter(|s| {
                matches!(
                    s.fault,
                    None | Some(Fault::Slow(_) | Fault::LoseAnswer | Fault::HoldAnswer | Fault::HoldRequest)
                )
            })
            .count()
    }

    /// Waits (up to `timeout`) until `n` requests are held.
    pub async fn wait_held(&self, n: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.arrived.notified();
            if *self.inner.held.lock().expect("held") >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("no {n} held request(s) within {timeout:?}; seen: {:?}", self.operations());
            }
        }
    }

    /// Waits (up to `timeout`) until `n` requests of `operation` arrived.
    pub async fn wait_for(&self, operation: &str, n: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.arrived.notified();
            if self.count(operation) >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("no {n} {operation} request(s) within {timeout:?}; seen: {:?}", self.operations());
            }
        }
    }

    /// The JSON bodies of the requests of `operation` (JSON protocols), oldest first.
    pub fn bodies(&self, operation: &str) -> Vec<serde_json::Value> {
        self.seen()
            .iter()
            .filter(|s| s.operation == operation)
            .map(|s| serde_json::from_slice(&s.body).unwrap_or(serde_json::Value::Null))
            .collect()
    }

    /// The operations seen, oldest first.
    pub fn operations(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.operation).collect()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(addr).expect("bind the proxy");
    socket.listen(128).expect("listen")
}

/// Accepts connections while not refusing; while refusing, the listening socket is closed so
/// connecting fails with `ECONNREFUSED`, and it is bound again on the same port afterwards.
async fn accept_loop(listener: tokio::net::TcpListener, addr: SocketAddr, inner: Arc<Inner>) {
    let mut refusing = inner.refusing.subscribe();
    let mut listener = Some(listener);
    loop {
        match listener.as_ref() {
            Some(open) => {
                tokio::select! {
                    accepted = open.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let inner = inner.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| handle(req, inner.clone()));
                            let io = hyper_util::rt::TokioIo::new(stream);
                            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                        });
                    }
                    _ = refusing.changed() => {
                        if *refusing.borrow_and_update() {
                            listener = None;
                        }
                    }
                }
            }
            None => {
                if refusing.changed().await.is_err() {
                    return;
                }
                if !*refusing.borrow_and_update() {
                    listener = Some(bind(addr));
                }
            }
        }
    }
}

/// The error a handler returns to make hyper close the connection without an answer.
#[derive(Debug)]
struct Hangup;

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by the fault proxy")
    }
}

impl std::error::Error for Hangup {}

async fn handle(req: Request<Incoming>, inner: Arc<Inner>) -> Result<Response<Full<Bytes>>, Hangup> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Hangup)?.to_bytes();
    let json_protocol = parts.headers.contains_key("x-amz-target");
    let operation = operation(&parts.headers, &body);
    let fault = next_fault(&inner, &operation);
    inner.seen.lock().expect("seen").push(Seen { operation, fault: fault.clone(), body: body.clone() });
    inner.arrived.notify_waiters();
    if *inner.refusing.borrow() {
        return Err(Hangup);
    }
    match fault {
        None => Ok(forward(&inner, parts, body).await),
        Some(Fault::Throttle) => Ok(error(json_protocol, StatusCode::BAD_REQUEST, "ThrottlingException", "Throttling")),
        Some(Fault::ServerError) => {
            Ok(error(json_protocol, StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "InternalFailure"))
        }
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(forward(&inner, parts, body).await)
        }
        Some(Fault::Drop) => Err(Hangup),
        Some(Fault::LoseAnswer) => {
            forward(&inner, parts, body).await;
            Err(Hangup)
        }
        Some(Fault::HoldAnswer) => {
            let answer = forward(&inner, parts, body).await;
            wait_release(&inner).await;
            Ok(answer)
        }
        Some(Fault::HoldRequest) => {
            wait_release(&inner).await;
            Ok(forward(&inner, parts, body).await)
        }
    }
}

async fn wait_release(inner: &Inner) {
    let mut release = inner.release.subscribe();
    release.borrow_and_update();
    *inner.held.lock().expect("held") += 1;
    inner.arrived.notify_waiters();
    let _ = release.changed().await;
    *inner.held.lock().expect("held") -= 1;
}

fn next_fault(inner: &Inner, operation: &str) -> Option<Fault> {
    let mut rules = inner.rules.lock().expect("rules");
    let index = rules.iter().position(|r| r.operation == "*" || r.operation == operation)?;
    let fault = rules[index].fault.clone();
    if let Some(remaining) = rules[index].remaining.as_mut() {
        *remaining -= 1;
        if *remaining == 0 {
            rules.remove(index);
        }
    }
    Some(fault)
}

/// `AmazonEC2ContainerServiceV20141113.DescribeServices` → `DescribeServices`; a query
/// protocol form's `Action`; otherwise the path.
fn operation(headers: &hyper::HeaderMap, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    url_form(body).into_iter().find(|(k, _)| k == "Action").map(|(_, v)| v).unwrap_or_else(|| "?".into())
}

fn url_form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn forward(inner: &Inner, parts: hyper::http::request::Parts, body: Bytes) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers.clone();
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    let answer = inner
        .http
        .request(parts.method, format!("{}{path}", inner.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("moto answers");
    let status = answer.status();
    let mut headers = answer.headers().clone();
    for framing in [header::CONTENT_LENGTH, header::TRANSFER_ENCODING, header::CONNECTION] {
        headers.remove(framing);
    }
    let body = answer.bytes().await.expect("moto's answer");
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// An AWS error answer in the request's protocol.
fn error(json_protocol: bool, status: StatusCode, json_type: &str, query_code: &str) -> Response<Full<Bytes>> {
    let (content_type, body) = if json_protocol {
        ("application/x-amz-json-1.1", format!(r#"{{"__type":"{json_type}","message":"injected by the fault proxy"}}"#))
    } else {
        let kind = if status.is_server_error() { "Receiver" } else { "Sender" };
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>{kind}</Type><Code>{query_code}</Code>\
                 <Message>injected by the fault proxy</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
            ),
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert("x-amzn-requestid", HeaderValue::from_static("fault"));
    response
}

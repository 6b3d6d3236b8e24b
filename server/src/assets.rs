//! How responses travel: pages and JSON compressed per request (gzip, when the client accepts
//! it), the site's files under `/pkg` served from their precompressed `.br`/`.gz` copies when
//! the build made them (`scripts/precompress.sh`; the router's `/pkg` service picks the copy
//! the client accepts), and those files revalidated rather than fetched again.

use axum::body::Body;
use axum::http::{header, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel, DefaultPredicate};

/// Compresses what the console renders (gzip, fastest level). Files that already carry an encoding (the
/// precompressed copies) pass untouched, and so do the bundle's own files without one: their
/// copies are made at build time, and a development build is not worth compressing per request.
pub fn compression() -> CompressionLayer<impl Predicate> {
    let predicate = DefaultPredicate::new()
        .and(SizeAbove::new(1024))
        .and(NotForContentType::const_new("application/wasm"))
        .and(NotForContentType::const_new("text/javascript"))
        .and(NotForContentType::const_new("text/css"));
    // The fastest level: a page is compressed on every view, and HTML shrinks well even so.
    CompressionLayer::new().gzip(true).quality(CompressionLevel::Fastest).compress_when(predicate)
}

/// The site's files keep their names from build to build (they are not content-hashed yet),
/// so a browser must ask whether its copy is current; `Last-Modified` makes the answer a
/// bodiless 304 when it is.
pub async fn revalidate(req: Request<Body>, next: Next) -> Response {
    let pkg = req.uri().path().starts_with("/pkg/");
    let mut response = next.run(req).await;
    if pkg && response.status().is_success() {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

//! How responses travel: pages and JSON compressed per request (gzip, when the client accepts
//! it), the site's files under `/pkg` served from their precompressed `.br`/`.gz` copies when
//! the build made them (`scripts/precompress.sh`; the router's `/pkg` service picks the copy
//! the client accepts), and those files revalidated rather than fetched again.

use axum::http::{header, HeaderValue};
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel, DefaultPredicate};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;

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

/// The bundle's files, from the site's folder: the `.br`/`.gz` copy the client accepts, and
/// revalidated on each use, since their names stay the same from build to build (they are not
/// content-hashed yet): `Last-Modified` makes the answer a bodiless 304 while a copy is current.
pub fn bundle(options: &leptos::config::LeptosOptions) -> SetResponseHeader<ServeDir, HeaderValue> {
    SetResponseHeader::overriding(
        leptos_axum::site_pkg_dir_service(options),
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    )
}

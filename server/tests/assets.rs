//! How responses travel: pages compressed when the client accepts it, the site's bundle from
//! its precompressed copies, revalidated rather than fetched again.

mod support;

use support::TestConsole;

#[tokio::test]
async fn pages_and_json_are_gzip_compressed_for_clients_that_accept_it() {
    let c = TestConsole::with_demo().await;
    let page = c.client.get(c.url("/")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-encoding"], "gzip");
    let zipped = page.bytes().await.unwrap();
    let plain = c.client.get(c.url("/")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none(), "no encoding unless asked");
    let plain = plain.bytes().await.unwrap();
    assert!(zipped.len() * 2 < plain.len(), "{} bytes gzip vs {} plain", zipped.len(), plain.len());
    let json = c.client.get(c.url("/api/v1/apps")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(json.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn the_bundle_is_served_from_its_precompressed_copy_and_revalidated() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let js = "console.log('hydrate');\n".repeat(200);
    std::fs::write(pkg.join("shinyfleet.js"), &js).unwrap();
    std::fs::write(pkg.join("shinyfleet.js.gz"), b"the gzip copy").unwrap();
    let root = site.path().to_str().unwrap();
    let c = TestConsole::with(&["--site-root", root]).await;

    let res = c.anon.get(c.url("/pkg/shinyfleet.js")).header("accept-encoding", "gzip, br").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let modified = res.headers()["last-modified"].to_str().unwrap().to_owned();
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"the gzip copy", "the copy, not compressed again");

    // Without a copy the client accepts, the file itself, not compressed per request.
    let res = c.anon.get(c.url("/pkg/shinyfleet.js")).header("accept-encoding", "br").send().await.unwrap();
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.text().await.unwrap(), js);

    // A browser's copy that is current costs a bodiless 304.
    let res = c.anon.get(c.url("/pkg/shinyfleet.js")).header("if-modified-since", modified).send().await.unwrap();
    assert_eq!(res.status(), 304);
}

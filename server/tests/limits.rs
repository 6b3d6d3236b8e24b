//! Request bodies over their route's limit are refused with 413 in the console's error shape,
//! before anything reads them, and a huge upload costs the real binary no memory.

mod support;

use server::limits::{API_BYTES, SERVER_FN_BYTES};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::TestConsole;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn a_server_function_answers_an_oversized_form_with_413_and_its_error() {
    let c = TestConsole::with_demo().await;
    let body = format!("email=a%40example.org&next=%2F&password={}", "x".repeat(SERVER_FN_BYTES));
    let res = c.anon.post(c.url("/sfn/sign_in")).header("content-type", FORM).body(body).send().await.unwrap();
    assert_eq!(res.status(), 413);
    let error: serde_json::Value = res.json().await.unwrap();
    assert_eq!(error, serde_json::json!({ "TooLarge": { "limit_kb": SERVER_FN_BYTES / 1024 } }));
    // Just under the limit the request is read and answered on its merits.
    let body = format!("email=a%40example.org&next=%2F&password={}", "x".repeat(SERVER_FN_BYTES - 100));
    let res = c.anon.post(c.url("/sfn/sign_in")).header("content-type", FORM).body(body).send().await.unwrap();
    assert_eq!(res.status(), 401, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn the_api_answers_an_oversized_body_with_413_in_its_json_shape_and_changes_nothing() {
    let c = TestConsole::with_demo().await;
    let before = c.get("/api/v1/apps").await.text().await.unwrap();
    let name = "n".repeat(API_BYTES);
    let body = serde_json::json!({ "slug": "big", "name": name, "image": "rocker/shiny:4.4" });
    let res = c.client.post(c.url("/api/v1/apps")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 413);
    let error: serde_json::Value = res.json().await.unwrap();
    assert_eq!(error["error"]["code"], "too_large");
    assert!(error["error"]["message"].as_str().unwrap().contains("256 KB"), "{error}");
    assert_eq!(c.get("/api/v1/apps").await.text().await.unwrap(), before);
}

#[tokio::test]
async fn a_body_without_a_length_is_cut_at_the_limit() {
    let c = TestConsole::with_demo().await;
    // 1 MB sent chunked (no Content-Length): read up to the limit, then refused.
    let port = c.addr.port();
    let status = tokio::task::spawn_blocking(move || upload(port, 1024 * 1024, true)).await.unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    // Pages read no body at all.
    let res = c.client.post(c.url("/")).body(vec![b'x'; 64 * 1024]).send().await.unwrap();
    assert_eq!(res.status(), 413);
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sends `total` bytes to `/sfn/sign_in` on the real binary, chunked or with a length, and
/// returns the answer's status line.
fn upload(port: u16, total: usize, chunked: bool) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let length = if chunked { "Transfer-Encoding: chunked".to_owned() } else { format!("Content-Length: {total}") };
    write!(s, "POST /sfn/sign_in HTTP/1.1\r\nHost: localhost\r\nContent-Type: {FORM}\r\n{length}\r\n\r\n").unwrap();
    let chunk = vec![b'x'; 1024 * 1024];
    let mut sent = 0;
    // The console answers and closes once the limit is read: writing then fails, which ends it.
    while sent < total {
        let ok = if chunked {
            write!(s, "{:x}\r\n", chunk.len()).and_then(|_| s.write_all(&chunk)).and_then(|_| s.write_all(b"\r\n"))
        } else {
            s.write_all(&chunk)
        };
        if ok.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_real_binary_refuses_200_mb_uploads_without_growing() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let db = format!("sqlite://{}/console.db", dir.path().display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_shinyfleet"))
        .env_clear()
        .env("DATABASE_URL", &db)
        .env("SHINYFLEET_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "the console did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = rss_kib(child.id());
    for chunked in [false, true] {
        let status = upload(port, 200 * 1024 * 1024, chunked);
        assert!(status.starts_with("HTTP/1.1 413"), "chunked: {chunked}: {status}");
    }
    let after = rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    // 400 MB went in; the console kept at most a limit's worth of each (plus allocator noise).
    assert!(after < before + 32 * 1024, "RSS grew from {before} KiB to {after} KiB");
}

//! Start-up as an operator sees it: the real binary, real settings, one clear line on error.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn shinyfleet(env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shinyfleet"));
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

fn fails_with_one_line(env: &[(&str, &str)], args: &[&str], naming: &str) {
    let out = shinyfleet(env, args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "exit code");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line, got: {stderr}");
    assert!(stderr.contains(naming), "{stderr:?} should name {naming}");
}

#[test]
fn a_bad_database_url_stops_start_up_with_one_line() {
    fails_with_one_line(&[("DATABASE_URL", "postgres://db/shinyfleet")], &[], "DATABASE_URL");
    fails_with_one_line(&[("DATABASE_URL", "sqlite:///proc/no-such-dir/x.db")], &["serve"], "DATABASE_URL");
}

#[test]
fn an_unknown_cloud_backend_stops_start_up_with_one_line() {
    fails_with_one_line(&[("SHINYFLEET_CLOUD", "azure")], &[], "SHINYFLEET_CLOUD");
    fails_with_one_line(&[], &["serve", "--cloud", "azure"], "--cloud");
}

#[test]
fn the_aws_backend_names_its_missing_settings() {
    fails_with_one_line(&[("SHINYFLEET_CLOUD", "aws")], &[], "SHINYFLEET_USER_POOL_ID");
}

#[test]
fn serve_help_lists_every_setting() {
    let out = shinyfleet(&[], &["serve", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for env in [
        "SHINYFLEET_LISTEN",
        "DATABASE_URL",
        "SHINYFLEET_CLOUD",
        "SHINYFLEET_CLUSTER",
        "SHINYFLEET_SUBNETS",
        "SHINYFLEET_SECURITY_GROUPS",
        "SHINYFLEET_USER_POOL_ID",
        "SHINYFLEET_CLIENT_ID",
        "SHINYFLEET_LOG_FORMAT",
    ] {
        assert!(help.contains(env), "{env} missing from --help");
    }
}

#[test]
fn the_console_starts_answers_healthz_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let db = format!("sqlite://{}/nested/folder/console.db", dir.path().display());
    let listen = format!("127.0.0.1:{port}");
    let mut child =
        shinyfleet(&[("DATABASE_URL", &db), ("SHINYFLEET_LISTEN", &listen), ("SHINYFLEET_LOG_FORMAT", "json")], &[])
            .spawn()
            .unwrap();
    let started = Instant::now();
    let body = loop {
        assert!(started.elapsed() < Duration::from_secs(20), "no answer from /healthz");
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            write!(s, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            break out;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("\"database\":{\"ok\":true"), "{body}");
    assert!(dir.path().join("nested/folder/console.db").exists(), "database folder created");
    // SIGTERM: a graceful stop with exit code 0.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let code = child.wait().unwrap();
    assert!(code.success(), "{code:?}");
}

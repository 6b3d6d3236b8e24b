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
fn a_bad_setting_stops_start_up_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/console.db", dir.path().display());
    for (setting, value) in [
        ("SHINYFLEET_DISPLAY_TIMEZONE", "Mars/Base"),
        ("SHINYFLEET_BUDGETS", "fleet=lots"),
        ("SHINYFLEET_PRICE_OVERRIDES", "x86_64.vcpu_hour=abc"),
        ("SHINYFLEET_PUBLIC_URL", "shiny.example.org"),
        ("SHINYFLEET_DEMO_PASSWORD", "hunter2"),
    ] {
        fails_with_one_line(&[("DATABASE_URL", &db), (setting, value)], &[], setting);
        assert!(!dir.path().join("console.db").exists(), "{setting}: the database was created");
    }
    let out = shinyfleet(&[("SHINYFLEET_DEMO_PASSWORD", "hunter2")], &["serve"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"), "the password was printed");
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
    let healthz = |authorization: &str| -> Option<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(s, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n{authorization}Connection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        Some(out)
    };
    let started = Instant::now();
    let body = loop {
        assert!(started.elapsed() < Duration::from_secs(20), "no answer from /healthz");
        if let Some(out) = healthz("") {
            break out;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    // Anonymous (a load balancer, `curl -fsS`): the status word only.
    assert!(body.ends_with("\r\n\r\n{\"status\":\"ok\"}"), "{body}");
    assert!(dir.path().join("nested/folder/console.db").exists(), "database folder created");
    // An admin's token: each check.
    let out = shinyfleet(&[("DATABASE_URL", &db)], &["token", "create", "--name", "probe", "--role", "admin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let body = healthz(&format!("Authorization: Bearer {token}\r\n")).expect("an answer");
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("\"database\":{\"ok\":true"), "{body}");
    // SIGTERM: a graceful stop with exit code 0.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let code = child.wait().unwrap();
    assert!(code.success(), "{code:?}");
}

#[test]
fn token_create_prints_the_token_once_and_stores_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/console.db", dir.path().display());
    let out = shinyfleet(&[("DATABASE_URL", &db)], &["token", "create", "--name", "ci-deploy", "--role", "admin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("sft_") && token.len() > 40, "{token}");
    let file = std::fs::read(dir.path().join("console.db")).unwrap();
    assert!(!file.windows(token.len()).any(|w| w == token.as_bytes()), "the token itself was stored");
    fails_with_one_line(
        &[("DATABASE_URL", &db)],
        &["token", "create", "--name", "ci-deploy", "--role", "viewer"],
        "--name",
    );
    fails_with_one_line(&[("DATABASE_URL", &db)], &["token", "create", "--name", "x", "--role", "owner"], "--role");
}

#[tokio::test]
async fn admin_invite_on_the_sandbox_makes_an_admin_whose_password_the_console_prints() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/console.db", dir.path().display());
    let out = shinyfleet(&[("DATABASE_URL", &db)], &["admin", "invite", "Boss@Example.org"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("boss@example.org"));
    fails_with_one_line(&[("DATABASE_URL", &db)], &["admin", "invite", "not-an-email"], "EMAIL");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut child =
        shinyfleet(&[("DATABASE_URL", &db), ("SHINYFLEET_LISTEN", &listen), ("SHINYFLEET_DEMO", "false")], &[])
            .spawn()
            .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let password = loop {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() > 0, "the console printed no password");
        if line.contains("boss@example.org") {
            assert!(line.contains("temporary"), "{line}");
            break line.split("password: ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        }
    };
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    let answer: serde_json::Value = client
        .post(format!("{base}/sfn/sign_in"))
        .header("origin", &base)
        .form(&[("email", "boss@example.org"), ("password", password.as_str()), ("next", "/")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["NewPasswordRequired"]["email"], "boss@example.org", "{answer}");
    child.kill().unwrap();
    child.wait().unwrap();
}

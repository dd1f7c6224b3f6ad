//! The `termin` binary as an operator runs it: configuration precedence and errors, exit
//! codes, `migrate`, `setup`, and `serve` with signals and logs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::json;

fn termin(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_termin"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("--data-dir")
        .arg(data_dir);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("termin runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_check_prints_the_effective_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(termin(dir.path()).args(["config", "check"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("listen = \"127.0.0.1:8443\""), "{shown}");
    assert!(
        shown.contains(&format!("sqlite://{}/termin.db", dir.path().display())),
        "{shown}"
    );
}

#[test]
fn precedence_is_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("termin.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9001\"\n[log]\nlevel = \"warn\"\n",
    )
    .unwrap();
    let with_file = run(termin(dir.path())
        .args(["--config"])
        .arg(&file)
        .args(["config", "check"]));
    assert!(text(&with_file.stdout).contains("listen = \"127.0.0.1:9001\""));

    let with_env = run(termin(dir.path())
        .env("TERMIN_CONFIG", &file)
        .env("TERMIN_LISTEN", "127.0.0.1:9002")
        .args(["config", "check"]));
    let shown = text(&with_env.stdout);
    assert!(shown.contains("listen = \"127.0.0.1:9002\""), "{shown}");
    assert!(
        shown.contains("level = \"warn\""),
        "the file still applies: {shown}"
    );

    let with_flag = run(termin(dir.path())
        .env("TERMIN_CONFIG", &file)
        .env("TERMIN_LISTEN", "127.0.0.1:9002")
        .args(["--listen", "127.0.0.1:9003", "config", "check"]));
    assert!(text(&with_flag.stdout).contains("listen = \"127.0.0.1:9003\""));
}

#[test]
fn an_invalid_value_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(termin(dir.path())
        .env("TERMIN_LISTEN", "everywhere")
        .args(["config", "check"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("`listen`") && err.contains("TERMIN_"), "{err}");
    assert_eq!(err.lines().count(), 1, "one sentence: {err}");

    let out = run(termin(dir.path())
        .env("TERMIN_TLS_RELOAD_INTERVAL_SECS", "0")
        .arg("serve"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`tls.reload_interval_secs`"));
}

#[test]
fn an_unknown_database_scheme_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(termin(&data).args(["--database-url", "mysql://root@localhost/termin", "serve"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("`database_url`") && err.contains("'mysql'"),
        "{err}"
    );
    assert!(!data.exists(), "nothing was created");
}

#[test]
fn secrets_in_the_database_url_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(termin(dir.path())
        .env(
            "TERMIN_DATABASE_URL",
            "postgres://termin:Sup3rGeheim@db.example/termin",
        )
        .args(["config", "check"]));
    assert_eq!(out.status.code(), Some(0));
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(!all.contains("Sup3rGeheim"), "{all}");
    assert!(
        all.contains("postgres://termin:***@db.example/termin"),
        "{all}"
    );
}

#[test]
fn operator_tls_files_are_checked_at_start_and_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca = termin_testkit::pki::TestCa::new();
    let (cert, key) = (dir.path().join("chain.pem"), dir.path().join("key.pem"));
    ca.issue_localhost(&cert, &key);
    let (other_cert, other_key) = (dir.path().join("c2.pem"), dir.path().join("k2.pem"));
    ca.issue_localhost(&other_cert, &other_key);
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();

    let check = |cert: &std::path::Path, key: &std::path::Path| {
        run(termin(&dir.path().join("data"))
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .args(["config", "check"]))
    };
    let good = check(&cert, &key);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
    assert!(text(&good.stdout).contains(&format!("cert = \"{}\"", cert.display())));

    let mismatched = check(&cert, &other_key);
    assert_eq!(mismatched.status.code(), Some(2));
    assert!(
        text(&mismatched.stderr).contains("`tls.key`"),
        "{}",
        text(&mismatched.stderr)
    );

    let not_pem = check(&garbage, &key);
    assert_eq!(not_pem.status.code(), Some(2));
    assert!(
        text(&not_pem.stderr).contains("`tls.cert`"),
        "{}",
        text(&not_pem.stderr)
    );
}

#[test]
fn the_data_directory_and_database_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new-data-dir");
    let out = run(termin(&data).arg("migrate"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("termin.db")), 0o600);
}

#[test]
fn migrate_applies_the_schema_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(termin(dir.path()).arg("migrate"));
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let applied = |out: &Output| -> (u32, u32) {
        // "… is at schema version V (N migration(s) applied now)"
        let line = text(&out.stdout);
        let version = line
            .split("schema version ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let count = line.split('(').nth(1).unwrap().split(' ').next().unwrap();
        (version.parse().unwrap(), count.parse().unwrap())
    };
    let (version, count) = applied(&first);
    assert!(version >= 1 && count >= 1, "{}", text(&first.stdout));
    let second = run(termin(dir.path()).arg("migrate"));
    assert_eq!(applied(&second), (version, 0));
    assert!(dir.path().join("termin.db").is_file());
}

fn setup(dir: &std::path::Path, email: &str, password: &str) -> Output {
    let mut child = termin(dir)
        .args([
            "setup",
            "--org-name",
            "Praxis am See",
            "--owner-email",
            email,
        ])
        .args(["--owner-phone", "+4915123456789", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn setup_prints_the_slug_and_refuses_weak_passwords_and_taken_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let weak = setup(dir.path(), "owner@see.example", "password");
    assert_eq!(weak.status.code(), Some(2));
    let err = text(&weak.stderr);
    assert!(
        err.contains("upper-case") && err.contains("digit") && err.contains("special"),
        "{err}"
    );

    let ok = setup(dir.path(), "owner@see.example", "Kx7!vbnq-Ahorn");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "praxis-am-see\n");

    let second = setup(dir.path(), "other@see.example", "Kx7!vbnq-Ahorn");
    assert_eq!(
        text(&second.stdout),
        "praxis-am-see-2\n",
        "a second practice gets its own slug"
    );

    let taken = setup(dir.path(), "OWNER@see.example", "Kx7!vbnq-Ahorn");
    assert_eq!(taken.status.code(), Some(1));
    assert!(text(&taken.stderr).contains("already exists"));
}

#[test]
fn setup_without_password_stdin_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(termin(dir.path()).args([
        "setup",
        "--org-name",
        "Praxis",
        "--owner-email",
        "a@b.example",
        "--owner-phone",
        "+4915123456789",
    ]));
    assert_eq!(out.status.code(), Some(2));
}

/// A running `termin serve` with its banner read from stdout; its stderr (the logs) is
/// drained by a thread so that a chatty server never blocks on a full pipe.
struct Served {
    child: Child,
    logs: std::thread::JoinHandle<String>,
    port: u16,
    setup_link: String,
    fingerprint: String,
    cert: std::path::PathBuf,
}

fn serve(dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Served {
    let mut cmd = termin(dir);
    cmd.args(["--listen", "127.0.0.1:0", "serve"]);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut logs = String::new();
        let _ = stderr.read_to_string(&mut logs);
        logs
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut port, mut link, mut fingerprint) = (0, String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("Termin listens on https://127.0.0.1:") {
            port = rest.split_whitespace().next().unwrap().parse().unwrap();
        }
        if let Some(fp) = line.trim().strip_prefix("SHA-256 fingerprint: ") {
            fingerprint = fp.to_owned();
        }
        if line.trim().starts_with("https://") && line.contains("/setup/") {
            link = line.trim().to_owned();
        }
        if line.starts_with("(or run") {
            break;
        }
    }
    assert!(port > 0 && !link.is_empty(), "banner read");
    Served {
        child,
        logs,
        port,
        setup_link: link,
        fingerprint,
        cert: dir.join("tls/self-signed-cert.pem"),
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process without blocking the test's runtime: the client's connection
/// tasks must keep running to answer the server's graceful HTTP/2 GOAWAY.
async fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "termin did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn client_for(served: &Served) -> reqwest::Client {
    let pem = std::fs::read(&served.cert).unwrap();
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .resolve("localhost", ([127, 0, 0, 1], served.port).into())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test]
async fn serve_runs_a_full_flow_logs_no_secrets_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(
        dir.path(),
        &[("TERMIN_LOG_LEVEL", "debug"), ("TERMIN_LOG_FORMAT", "json")],
    );
    let der = termin::tls::self_signed::leaf_der(&served.cert).unwrap();
    assert_eq!(served.fingerprint, termin::tls::fingerprint(&der));
    let client = client_for(&served);
    let base = format!("https://localhost:{}", served.port);
    let token = served.setup_link.rsplit('/').next().unwrap().to_owned();
    let password = "Kx7!vbnq-Ahorn-Geheim";
    let weak_password = "weakling";

    let page = client.get(served.setup_link.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let mut body = json!({
        "token": token, "org_name": "Praxis am See", "owner_email": "owner@see.example",
        "owner_phone": "+4915123456789", "password": weak_password,
    });
    let refused = client
        .post(format!("{base}/api/v1/setup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    body["password"] = json!(password);
    let created = client
        .post(format!("{base}/api/v1/setup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let again = client
        .post(format!("{base}/api/v1/setup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);

    // Log in: wrong password, then right; verify e-mail and phone with the codes the
    // running server's outbox worker wrote to the file transport.
    let mut secrets: Vec<String> = vec![password.into(), weak_password.into(), token.clone()];
    let login = |pw: &str| {
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "owner@see.example", "password": pw}))
            .send()
    };
    assert_eq!(login("Kx7!vbnq-Falsch-Geheim").await.unwrap().status(), 401);
    secrets.push("Kx7!vbnq-Falsch-Geheim".into());
    let started = login(password).await.unwrap();
    let mut cookie = session_cookie_of(&started);
    let started: serde_json::Value = started.json().await.unwrap();
    let mut csrf = started["csrf_token"].as_str().unwrap().to_owned();
    secrets.extend([cookie.clone(), csrf.clone()]);
    for (method, file) in [("email", "email.jsonl"), ("sms", "sms.jsonl")] {
        let code = wait_for_code(&dir.path().join("outbox").join(file)).await;
        let step = client
            .post(format!("{base}/api/v1/auth/verify"))
            .header("cookie", format!("__Host-termin_session={cookie}"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"method": method, "code": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(step.status(), 200);
        cookie = session_cookie_of(&step);
        let step: serde_json::Value = step.json().await.unwrap();
        csrf = step["csrf_token"].as_str().unwrap().to_owned();
        secrets.extend([code, cookie.clone(), csrf.clone()]);
    }
    let me = client
        .get(format!("{base}/api/v1/me"))
        .header("cookie", format!("__Host-termin_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    sigterm(&served.child);
    let status = wait_with_timeout(&mut served.child, Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0));

    let logs = served.logs.join().unwrap();
    assert!(secrets.len() >= 10);
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret appears in the logs"
        );
    }
    assert!(
        !logs.contains("owner@see.example"),
        "no e-mail addresses in the logs"
    );
    assert!(
        !logs.contains("+4915123456789"),
        "no phone numbers in the logs"
    );
    assert!(
        logs.contains("\"route\":\"/setup/{token}\""),
        "routes are logged as patterns"
    );
    assert!(logs.contains("\"status\":201"));
    assert!(logs.contains("stopped"));
    for line in logs.lines() {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("JSON log line: {line}"));
        if parsed["message"] == "request finished" {
            assert!(parsed["span"]["request_id"].is_string(), "{line}");
        }
    }
}

/// The value of the session cookie a response sets.
fn session_cookie_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("__Host-termin_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// The six-digit code in the newest line of an outbox file, once the server wrote it.
async fn wait_for_code(path: &std::path::Path) -> String {
    for _ in 0..100 {
        if let Ok(content) = std::fs::read_to_string(path)
            && let Some(line) = content.lines().last()
        {
            let body: serde_json::Value = serde_json::from_str(line).unwrap();
            let body = body["body"].as_str().unwrap().to_owned();
            if let Some(code) = body
                .split(|c: char| !c.is_ascii_digit())
                .find(|run| run.len() == 6)
            {
                return code.to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no code arrived in {}", path.display());
}

#[test]
fn serve_refuses_a_port_in_use_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(termin(dir.path()).args(["--listen", &addr, "serve"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot listen on"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_unverified_remote_postgres_connection_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let remote = run(termin(dir.path()).args([
        "--database-url",
        "postgres://termin@db.example/termin",
        "config",
        "check",
    ]));
    assert_eq!(remote.status.code(), Some(0));
    assert!(
        text(&remote.stderr).contains("sslmode=verify-full"),
        "{}",
        text(&remote.stderr)
    );
    let verified = run(termin(dir.path()).args([
        "--database-url",
        "postgres://termin@db.example/termin?sslmode=verify-full",
        "config",
        "check",
    ]));
    let warned = text(&verified.stderr);
    assert!(!warned.contains("sslmode"), "{warned}");
    // No backup target is configured either: that is said too.
    assert!(
        warned.contains("no backup target is configured"),
        "{warned}"
    );
}

#[tokio::test]
async fn the_operator_lifts_a_block_and_unlocks_an_account() {
    use termin_domain::guard::{AccountGuard, LoginSubject, SourceKind};
    let dir = tempfile::tempdir().unwrap();
    let email = "owner@praxis.example";
    let created = setup(dir.path(), email, "Kx7!vbnq-Ahorn");
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let url = termin_storage::DatabaseUrl::sqlite_in(dir.path());
    let store = termin_storage::Store::connect(&url, &termin_storage::PoolSettings::default())
        .await
        .unwrap();
    let now = jiff::Timestamp::now();
    let mut tx = store.begin().await.unwrap();
    tx.put_source_block(&termin_storage::SourceBlock {
        source: "203.0.113.7".to_owned(),
        kind: SourceKind::Ip,
        reason: "too_many_failures".to_owned(),
        level: 1,
        blocked_at: now,
        blocked_until: now
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap(),
    })
    .await
    .unwrap();
    let subject = LoginSubject::for_email(email);
    tx.lock_guard(&subject, None, now).await.unwrap();
    tx.save_guard(
        &subject,
        &AccountGuard {
            failures: 100,
            locked_permanently: true,
            ..AccountGuard::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    let lifted = run(termin(dir.path()).args(["unblock", "203.0.113.7"]));
    assert_eq!(lifted.status.code(), Some(0), "{}", text(&lifted.stderr));
    assert!(text(&lifted.stdout).contains("lifted"));
    let again = run(termin(dir.path()).args(["unblock", "203.0.113.7"]));
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("is not blocked"));

    let unlocked = run(termin(dir.path()).args(["unlock", email]));
    assert_eq!(
        unlocked.status.code(),
        Some(0),
        "{}",
        text(&unlocked.stderr)
    );
    let again = run(termin(dir.path()).args(["unlock", email]));
    assert_eq!(again.status.code(), Some(1));
}

#[tokio::test]
async fn audit_verify_passes_an_intact_chain_and_names_the_first_broken_entry() {
    let dir = tempfile::tempdir().unwrap();
    let created = setup(dir.path(), "owner@praxis.example", "Kx7!vbnq-Ahorn");
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let url = termin_storage::DatabaseUrl::sqlite_in(dir.path());
    let store = termin_storage::Store::connect(&url, &termin_storage::PoolSettings::default())
        .await
        .unwrap();
    let (org, slug) = store.audited_orgs().await.unwrap().remove(0);
    let mut tx = store.begin().await.unwrap();
    for action in ["login_succeeded", "role_changed", "network_rule_changed"] {
        tx.append_audit(
            org,
            &termin_storage::NewAuditEntry {
                at: jiff::Timestamp::now(),
                actor_id: None,
                action,
                target: String::new(),
                source: "127.0.0.1",
                outcome: "ok",
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let intact = run(termin(dir.path()).args(["audit", "verify"]));
    assert_eq!(intact.status.code(), Some(0), "{}", text(&intact.stderr));
    assert!(text(&intact.stdout).contains(&format!("{slug}: intact (3 entries)")));

    store.close().await;
    let raw_url = format!("sqlite://{}", dir.path().join("termin.db").display());
    sqlx_update(
        &raw_url,
        "UPDATE audit_log SET target = 'user:someone' WHERE seq = 2",
    )
    .await;
    let broken = run(termin(dir.path()).args(["audit", "verify", "--org", &slug]));
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        text(&broken.stderr).contains("entry 2 was altered"),
        "{}",
        text(&broken.stderr)
    );
    let unknown = run(termin(dir.path()).args(["audit", "verify", "--org", "nirgendwo"]));
    assert_eq!(unknown.status.code(), Some(2));
}

/// Tampering as someone with database access would.
async fn sqlx_update(url: &str, sql: &str) {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_operator_clears_a_network_rule_that_shuts_everybody_out() {
    let dir = tempfile::tempdir().unwrap();
    let created = setup(dir.path(), "owner@praxis.example", "Kx7!vbnq-Ahorn");
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let slug = text(&created.stdout).trim().to_owned();
    let raw_url = format!("sqlite://{}", dir.path().join("termin.db").display());
    sqlx_update(
        &raw_url,
        "UPDATE organizations SET network_allowed = '192.0.2.0/24'",
    )
    .await;
    let cleared = run(termin(dir.path()).args(["network", "clear", "--org", &slug]));
    assert_eq!(cleared.status.code(), Some(0), "{}", text(&cleared.stderr));
    assert!(text(&cleared.stdout).contains("lifted"));
    let url = termin_storage::DatabaseUrl::sqlite_in(dir.path());
    let store = termin_storage::Store::connect(&url, &termin_storage::PoolSettings::default())
        .await
        .unwrap();
    let (org, _) = store.audited_orgs().await.unwrap().remove(0);
    let ((_, _), entries) = store.audit_chain(org).await.unwrap();
    assert_eq!(entries.last().unwrap().action, "network_rule_changed");
    let owner = store
        .find_user_by_email(&termin_domain::user::Email::parse("owner@praxis.example").unwrap())
        .await
        .unwrap()
        .unwrap();
    let memberships = store.memberships_of(owner.id).await.unwrap();
    assert!(memberships[0].network.allowed.is_empty());
    store.close().await;
    let unknown = run(termin(dir.path()).args(["network", "clear", "--org", "nirgendwo"]));
    assert_eq!(unknown.status.code(), Some(2));
}

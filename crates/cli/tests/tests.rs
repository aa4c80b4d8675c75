//! The `lectern` binary as a user runs it.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed; the panic says where"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn lectern() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lectern"))
}

/// Start `lectern serve ARGS`, wait for its ready line, return the child and its base URL.
fn serve(args: &[&str]) -> (Child, String, String) {
    let mut child = lectern()
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    let base = ready
        .strip_prefix("Lectern listening on ")
        .expect(&ready)
        .to_owned();
    let studio = lines.next().unwrap().unwrap();
    (child, base, studio)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    child.wait().unwrap()
}

#[tokio::test]
async fn serve_demo_prints_its_address_serves_and_stops_cleanly() {
    let (mut child, base, studio) = serve(&["--demo", "--port", "0"]);
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with('/'),
        "{base}"
    );
    assert!(
        studio.starts_with("studio: http://127.0.0.1:") && studio.contains("/studio#key="),
        "{studio}"
    );
    let key = studio.split("#key=").nth(1).unwrap();
    assert_eq!(key.len(), 64);

    let health: serde_json::Value = reqwest::get(format!("{base}healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let overview: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}api/v1/overview"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overview["school"]["isDemo"], true);
    let db_path = overview["school"]["dbPath"].as_str().unwrap().to_owned();
    assert!(std::path::Path::new(&db_path).exists());

    assert!(terminate(&mut child).success());
    // The temporary demo folder goes with the process.
    assert!(
        !std::path::Path::new(&db_path).exists(),
        "{db_path} was left behind"
    );
}

#[test]
fn demo_backup_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = lectern().args(["demo", "--db"]).arg(&db).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Writing the demo over an existing file is refused.
    let out = lectern().args(["demo", "--db"]).arg(&db).output().unwrap();
    assert!(!out.status.success());

    let backup = dir.path().join("copy.sqlite");
    let out = lectern()
        .args(["backup", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(backup.exists());

    let target = dir.path().join("restored.sqlite");
    std::fs::copy(&db, &target).unwrap();
    let out = lectern()
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--db")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A garbage backup is refused and the target is left as it was.
    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
    let before = std::fs::read(&target).unwrap();
    let out = lectern()
        .args(["restore", "--from"])
        .arg(&garbage)
        .arg("--db")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(std::fs::read(&target).unwrap(), before);
}

#[test]
fn serving_a_file_that_is_not_a_school_fails_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.sqlite");
    std::fs::write(&path, vec![0xFFu8; 4096]).unwrap();
    let out = lectern()
        .args(["serve", "--port", "0", "--db"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not_a_database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

//! The `lectern` binary as a user runs it.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed; the panic says where"
)]

mod full_disk;
mod soak;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn lectern() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lectern"))
}

/// Run a `lectern` command, require that it succeeds, and return what it printed.
fn run_ok(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The demo school, written by `lectern demo` into `dir`.
fn demo_school(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("demo.sqlite");
    run_ok(lectern().args(["demo", "--db"]).arg(&db));
    db
}

/// Start `lectern serve ARGS`, wait for its ready line, return the child and its base URL.
type Lines = std::io::Lines<BufReader<std::process::ChildStdout>>;

fn serve(args: &[&str]) -> (Child, String, String, Lines) {
    serve_with_env(args, &[])
}

/// [`serve`] with environment variables (secrets are never arguments).
fn serve_with_env(args: &[&str], env: &[(&str, &str)]) -> (Child, String, String, Lines) {
    let mut child = lectern()
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
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
    (child, base, studio, lines)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    child.wait().unwrap()
}

#[tokio::test]
async fn serve_demo_prints_its_address_serves_and_stops_cleanly() {
    let (mut child, base, studio, mut lines) = serve(&["--demo", "--port", "0"]);
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
    let rest: Vec<String> = lines.by_ref().take(3).map(|l| l.unwrap()).collect();
    assert_eq!(rest[0], format!("watch: {base}watch"));
    assert_eq!(rest[1], format!("whip: {base}whip"));
    let publish_key = rest[2].strip_prefix("publish key: ").expect(&rest[2]);
    assert_eq!(publish_key.len(), 32, "a 128-bit key in hex: {publish_key}");

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
    // The demo goes live at once with the built-in test card, under the printed publish key.
    let broadcast: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}api/v1/broadcast_status"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(broadcast["source"], "test_card", "{broadcast}");
    assert_eq!(broadcast["publishKey"], publish_key);
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
    let db = demo_school(dir.path());

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

#[test]
fn eval_recs_prints_one_line_per_method_and_the_blend_beats_popularity() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_school(dir.path());
    let stdout = run_ok(lectern().args(["eval", "recs", "--db"]).arg(&db));
    assert_blend_beats_the_best_baseline(&stdout, "catalog_order");

    let out = lectern()
        .args(["eval", "recs", "--split-date", "1999-01-01", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a split before every purchase leaves nothing to score"
    );
}

/// The warm learners' table: every simple baseline beside the blend, and the blend's NDCG@10
/// above the best baseline with its whole 95% interval.
fn assert_blend_beats_the_best_baseline(stdout: &str, best: &str) {
    let warm: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Warm learners"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(
        warm.iter()
            .any(|l| l.contains(&format!("best simple baseline: {best}"))),
        "{stdout}"
    );
    for method in [
        "popularity ",
        "recent_popularity ",
        "co_purchase ",
        "catalog_order ",
        "tag_affinity ",
        "blend *",
    ] {
        assert!(
            warm.iter().any(|l| l.trim_start().starts_with(method)),
            "no {method} in\n{stdout}"
        );
    }
    let blend = warm
        .iter()
        .find(|l| l.trim_start().starts_with("blend *"))
        .unwrap();
    // "+0.0583 [+0.0483, +0.0681] better": the interval's low end is above zero.
    let low: f64 = blend
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(','))
        .map(|(low, _)| low.trim().parse().unwrap())
        .unwrap();
    assert!(low > 0.0 && blend.contains("better"), "{blend}");
}

#[test]
fn a_generated_school_of_another_structure_imports_and_is_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tag-led.sqlite");
    let stdout = run_ok(
        lectern()
            .args(["generate", "--shape", "tag-led", "--seed", "7", "--db"])
            .arg(&db),
    );
    assert!(stdout.contains("through the CSV imports"), "{stdout}");
    // Learners here shop by topic: tag affinity is the baseline to beat, and new courses are
    // judged apart.
    let stdout = run_ok(lectern().args(["eval", "recs", "--db"]).arg(&db));
    assert_blend_beats_the_best_baseline(&stdout, "tag_affinity");
    assert!(
        stdout.contains("New courses (no buyer before the cut)"),
        "{stdout}"
    );
    // An unknown shape is refused in words; an existing file is never overwritten.
    let out = lectern()
        .args(["generate", "--shape", "spiral", "--db"])
        .arg(dir.path().join("x.sqlite"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no school shape"));
    let out = lectern()
        .args(["generate", "--shape", "bundled", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
}

#[test]
fn eval_propensity_prints_auc_brier_and_the_calibration_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_school(dir.path());
    let stdout = run_ok(lectern().args(["eval", "propensity", "--db"]).arg(&db));
    let mut lines = stdout.lines();
    let first = lines.next().unwrap();
    let field = |name: &str| -> &str {
        first
            .split(' ')
            .find_map(|kv| kv.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {first}"))
    };
    let auc: f64 = field("auc=").parse().unwrap();
    let brier: f64 = field("brier=").parse().unwrap();
    let interval = first
        .split_once("auc_95ci=[")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(inside, _)| inside)
        .unwrap();
    let (low, high) = interval.split_once(", ").unwrap();
    let (low, high): (f64, f64) = (low.parse().unwrap(), high.parse().unwrap());
    // Engaged demo viewers buy more after class: a model that learned anything beats chance,
    // and its interval says how sure that is.
    assert!(auc > 0.6 && auc <= 1.0, "{first}");
    assert!(low < auc && auc < high && low > 0.5, "{first}");
    assert!(brier > 0.0 && brier < 0.25, "{first}");
    let rest: Vec<&str> = lines.collect();
    assert_eq!(
        rest.len(),
        12,
        "a header, ten bins and the summary:\n{stdout}"
    );
    assert!(rest[11].contains("95% interval"), "{stdout}");

    // A school with no sessions is refused, saying what is missing.
    let empty = dir.path().join("empty.sqlite");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        lectern_store::Store::open(&empty)
            .unwrap()
            .close()
            .await
            .unwrap()
    });
    let out = lectern()
        .args(["eval", "propensity", "--db"])
        .arg(&empty)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("too_little_data") && stderr.contains("at least 90 of each"),
        "{stderr}"
    );
}

/// Run `lectern stats ab` with `input` on stdin; (exit code, parsed stdout).
fn stats_ab(input: &str) -> (i32, serde_json::Value) {
    use std::io::Write;
    let mut child = lectern()
        .args(["stats", "ab"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), value)
}

/// Every number in `expected` matches `actual` within 1e-9 (absolute, or relative for large values).
fn same_numbers(path: &str, expected: &serde_json::Value, actual: &serde_json::Value) {
    use serde_json::Value;
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            let diff = (e - a).abs();
            assert!(
                diff <= 1e-9 || diff / e.abs() <= 1e-9,
                "{path}: expected {e}, got {a}"
            );
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{path}: lengths");
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                same_numbers(&format!("{path}[{i}]"), e, a);
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (key, e) in e {
                let a = a
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} is missing"));
                same_numbers(&format!("{path}.{key}"), e, a);
            }
        }
        (e, a) => assert_eq!(e, a, "{path}"),
    }
}

#[test]
fn stats_ab_reproduces_the_reference_vectors() {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("../../insights/reference/vectors.json")).unwrap();
    let vectors = reference["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 30);
    for vector in vectors {
        let id = vector["id"].as_str().unwrap();
        let (code, output) = stats_ab(&vector["input"].to_string());
        assert_eq!(code, 0, "{id}: {output}");
        same_numbers(id, &vector["output"], &output);
    }
}

#[test]
fn stats_ab_refuses_bad_input_with_exit_2_and_a_code() {
    let cases = [
        (
            r#"{"metric": "binomial", "arms": [{"name": "control", "n": 10, "conversions": 11}, {"name": "B", "n": 10, "conversions": 1}]}"#,
            "conversions_exceed_n",
        ),
        (
            r#"{"metric": "binomial", "arms": [{"name": "control", "n": 10, "conversions": 1}]}"#,
            "too_few_arms",
        ),
        (r#"{"metric": "median", "arms": []}"#, "unknown_metric"),
        (
            r#"{"metric": "binomial", "weights": [0.7, 0.7], "arms": [{"name": "control", "n": 10, "conversions": 1}, {"name": "B", "n": 10, "conversions": 1}]}"#,
            "weights_sum",
        ),
        (
            r#"{"metric": "binomial", "arms": [{"name": "control", "n": -3, "conversions": 1}, {"name": "B", "n": 10, "conversions": 1}]}"#,
            "negative_count",
        ),
        ("not json at all", "invalid_input"),
    ];
    for (input, code) in cases {
        let (exit, output) = stats_ab(input);
        assert_eq!(exit, 2, "{input}");
        assert_eq!(output["error"]["code"], code, "{input}: {output}");
        assert!(
            output["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

async fn broadcast_status(base: &str, key: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}api/v1/broadcast_status"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Poll `f` every 200 ms until it returns true or 30 s pass.
async fn eventually(mut f: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..150 {
        if f().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_studio_relays_its_stream_to_another_over_whip() {
    // B plays the external server: no source of its own, a known publish key.
    let (mut b, b_base, b_studio, _b_lines) = serve_with_env(
        &["--demo", "--port", "0", "--no-test-card"],
        &[("LECTERN_PUBLISH_KEY", "relay-test-key-0001")],
    );
    let b_key = b_studio.split("#key=").nth(1).unwrap().to_owned();
    assert_eq!(
        broadcast_status(&b_base, &b_key).await["source"],
        serde_json::Value::Null
    );

    // A loops its test card and relays it to B's WHIP endpoint.
    let relay_url = format!("{b_base}whip");
    // A reads the relay server's token from a file, never from its command line.
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("relay-token");
    std::fs::write(&token_file, "relay-test-key-0001\n").unwrap();
    let (mut a, a_base, a_studio, _a_lines) = serve(&[
        "--demo",
        "--port",
        "0",
        "--relay",
        &relay_url,
        "--relay-allow-private",
        "--relay-token-file",
        token_file.to_str().unwrap(),
    ]);
    let a_key = a_studio.split("#key=").nth(1).unwrap().to_owned();
    let live = eventually(async || {
        broadcast_status(&a_base, &a_key).await["relay"]["state"] == "live"
            && broadcast_status(&b_base, &b_key).await["source"] == "publisher"
    })
    .await;
    assert!(
        live,
        "A: {} / B: {}",
        broadcast_status(&a_base, &a_key).await["relay"],
        broadcast_status(&b_base, &b_key).await
    );
    let a_status = broadcast_status(&a_base, &a_key).await;
    assert!(
        !a_status.to_string().contains("relay-test-key-0001"),
        "the token is never shown"
    );

    // A wrong token: the relay reports it, typed.
    let response = reqwest::Client::new()
        .post(format!("{a_base}api/v1/set_relay"))
        .bearer_auth(&a_key)
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"url": relay_url, "token": "wrong-token-00000", "allowPrivateAddress": true})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let refused = eventually(async || {
        broadcast_status(&a_base, &a_key).await["relay"]["lastError"] == "relay_unauthorized"
    })
    .await;
    assert!(
        refused,
        "{}",
        broadcast_status(&a_base, &a_key).await["relay"]
    );
    assert!(terminate(&mut a).success());
    assert!(terminate(&mut b).success());
}

/// The external server dies (`kill -9`) and comes back on the same port: the relay says it is
/// retrying, then reconnects by itself, and the server has the stream again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_reconnects_when_the_external_server_is_killed_and_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("external.sqlite");
    let db = db.to_str().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let b_args = |port: &str| {
        [
            "--demo",
            "--db",
            db,
            "--data-dir",
            data,
            "--port",
            port,
            "--no-test-card",
        ]
        .map(str::to_owned)
    };
    let b_env = [("LECTERN_PUBLISH_KEY", "relay-test-key-0002")];
    let args = b_args("0");
    let (mut b, b_base, _b_studio, _b_lines) =
        serve_with_env(&args.each_ref().map(String::as_str), &b_env);
    let port = b_base
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let relay_url = format!("{b_base}whip");
    let (mut a, a_base, a_studio, _a_lines) = serve_with_env(
        &[
            "--demo",
            "--port",
            "0",
            "--relay",
            &relay_url,
            "--relay-allow-private",
        ],
        &[("LECTERN_RELAY_TOKEN", "relay-test-key-0002")],
    );
    let a_key = a_studio.split("#key=").nth(1).unwrap().to_owned();
    let relay = async || broadcast_status(&a_base, &a_key).await["relay"].clone();
    assert!(
        eventually(async || relay().await["state"] == "live").await,
        "{}",
        relay().await
    );

    Command::new("kill")
        .args(["-KILL", &b.id().to_string()])
        .status()
        .unwrap();
    b.wait().unwrap();
    // A notices: the connection is lost and it retries with backoff.
    assert!(
        eventually(async || matches!(
            relay().await["state"].as_str(),
            Some("retrying" | "connecting")
        ))
        .await,
        "{}",
        relay().await
    );

    // B comes back on the same port and school; A's relay finds it without anyone's help.
    let args = b_args(&port);
    let (mut b, b_base2, b_studio2, _b_lines2) =
        serve_with_env(&args.each_ref().map(String::as_str), &b_env);
    assert_eq!(b_base2, b_base);
    let b_key2 = b_studio2.split("#key=").nth(1).unwrap().to_owned();
    // Up to a minute: the backoff may have reached its 30 s step.
    let mut back = false;
    for _ in 0..2 {
        back = back
            || eventually(async || {
                relay().await["state"] == "live"
                    && broadcast_status(&b_base, &b_key2).await["source"] == "publisher"
            })
            .await;
    }
    assert!(
        back,
        "A: {} / B: {}",
        relay().await,
        broadcast_status(&b_base, &b_key2).await
    );
    // The loss stays on record for the studio to show.
    assert_eq!(relay().await["lastError"], "relay_connection_lost");

    assert!(terminate(&mut a).success());
    assert!(terminate(&mut b).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_chat_loses_no_acknowledged_message_and_clients_resume() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("school.sqlite");
    let db = db.to_str().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let (mut first, base, studio, _lines) = serve(&[
        "--demo",
        "--db",
        db,
        "--data-dir",
        data,
        "--port",
        "0",
        "--no-test-card",
    ]);
    let key = studio.split("#key=").nth(1).unwrap().to_owned();
    let started = reqwest::Client::new()
        .post(format!("{base}api/v1/start_class"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(r#"{"title":"Crash course"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    let ws_url = format!("{}room", base.replacen("http", "ws", 1));
    // The first hello has no key: the welcome brings the one the school issued.
    let hello = |key: &str, last: Option<(i64, i64)>| {
        let mut h = serde_json::json!({"type": "hello", "v": 1, "name": "Ann", "browser_key": key});
        if let Some((session, seq)) = last {
            h["session"] = session.into();
            h["last_seq"] = seq.into();
        }
        Message::text(h.to_string())
    };
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    ws.send(hello("", None)).await.unwrap();
    let welcome: serde_json::Value = loop {
        if let Some(Ok(Message::Text(t))) = ws.next().await {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "welcome" {
                break v;
            }
        }
    };
    let session = welcome["session"].as_i64().unwrap();
    let browser_key = welcome["browser_key"].as_str().unwrap().to_owned();
    // Four messages (within the burst of 5), each acknowledged before the kill.
    let mut acked = vec![];
    for n in 0..4 {
        let frame = serde_json::json!({"v": 1, "client_id": format!("k{n}"), "action": {"type": "send_chat", "text": format!("message {n} before the crash")}});
        ws.send(Message::text(frame.to_string())).await.unwrap();
        loop {
            if let Some(Ok(Message::Text(t))) = ws.next().await {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "ack" {
                    acked.push(v["seqs"][0].as_i64().unwrap());
                    break;
                }
            }
        }
    }
    let port = base
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    Command::new("kill")
        .args(["-KILL", &first.id().to_string()])
        .status()
        .unwrap();
    first.wait().unwrap();

    // The studio comes back on the same port and file: the class is live again.
    let (mut second, base2, studio2, _lines2) = serve(&[
        "--db",
        db,
        "--data-dir",
        data,
        "--port",
        &port,
        "--no-test-card",
    ]);
    assert_eq!(base2, base);
    let key2 = studio2.split("#key=").nth(1).unwrap().to_owned();
    let overview: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}api/v1/overview"))
        .bearer_auth(&key2)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overview["live"]["state"], "live", "{}", overview["live"]);
    // The client resumes from before its messages and gets every one of them back, in order.
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    ws.send(hello(&browser_key, Some((session, acked[0] - 1))))
        .await
        .unwrap();
    let mut replayed = vec![];
    loop {
        let Some(Ok(Message::Text(t))) = ws.next().await else {
            panic!("closed")
        };
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        if v["type"] == "event" && v["record"]["event"]["type"] == "chat_sent" {
            replayed.push(v["seq"].as_i64().unwrap());
        }
        if v["type"] == "caught_up" {
            break;
        }
    }
    assert_eq!(
        replayed, acked,
        "every acknowledged message survived the kill, once, in order"
    );
    assert!(terminate(&mut second).success());
}

/// `lectern report class|segments|repurchase` and `lectern eval faq` on the demo school, as a
/// school's staff would run them: the lines the docs promise, numbers that add up, PNGs that
/// are PNGs, and a clear error for a class that does not exist.
#[test]
fn the_reports_and_the_answer_assistant_run_on_a_school_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_school(dir.path());
    let learners: usize = {
        let conn = lectern_store::rusqlite::Connection::open(&db).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM learners", [], |r| r.get(0))
            .unwrap();
        n as usize
    };

    let segments = run_ok(lectern().args(["report", "segments", "--db"]).arg(&db));
    let sizes: Vec<usize> = segments
        .lines()
        .filter(|l| l.starts_with("segment="))
        .map(|l| {
            let size = l.split(" size=").nth(1).unwrap();
            size.split(' ').next().unwrap().parse().unwrap()
        })
        .collect();
    assert!(sizes.len() >= 2, "{segments}");
    assert_eq!(sizes.iter().sum::<usize>(), learners, "{segments}");

    let repurchase = run_ok(lectern().args(["report", "repurchase", "--db"]).arg(&db));
    let first = repurchase.lines().next().unwrap();
    let rate = |key: &str| -> f64 {
        let value = first.split(&format!("{key}=")).nth(1).unwrap();
        value.split(' ').next().unwrap().parse().unwrap()
    };
    let (r30, r90, r180) = (
        rate("repurchase_30d"),
        rate("repurchase_90d"),
        rate("repurchase_180d"),
    );
    assert!(
        (0.0..=1.0).contains(&r30) && (0.0..=1.0).contains(&r180),
        "{first}"
    );
    assert!(first.contains(" learners="), "{first}");
    assert!(r90 > 0.0, "{first}");
    assert!(
        repurchase.contains("\ncohort,learners,month_0"),
        "{repurchase}"
    );

    let out = dir.path().join("class-report");
    let written = run_ok(
        lectern()
            .args(["report", "class", "--db"])
            .arg(&db)
            .args(["--session", "1", "--out"])
            .arg(&out),
    );
    assert!(
        written.contains("report.html") && written.contains("summary.png"),
        "{written}"
    );
    for line in written.lines().filter(|l| l.ends_with(".png")) {
        let bytes = std::fs::read(line).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{line}");
    }
    let missing = lectern()
        .args(["report", "class", "--db"])
        .arg(&db)
        .args(["--session", "99999", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not_found"));

    let faq = run_ok(lectern().args(["eval", "faq", "--db"]).arg(&db));
    let overall = faq
        .lines()
        .find(|l| l.starts_with("faq top1="))
        .unwrap_or_else(|| panic!("{faq}"));
    let top = |key: &str| -> f64 {
        let value = overall.split(&format!("{key}=")).nth(1).unwrap();
        value.split(' ').next().unwrap().parse().unwrap()
    };
    assert!(top("top3") >= top("top1") && top("top1") > 0.3, "{overall}");
}

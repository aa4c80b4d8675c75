//! Crash safety of the whole studio: `lectern serve` with a live class and 20 students chatting
//! over `/room`, killed with `kill -9` at random moments and restarted on the same school file
//! and port. Every acknowledged message must be in the log exactly once (students resend what
//! was not acknowledged, with the same client id), the file must pass `PRAGMA integrity_check`,
//! the class must be live again after each restart, and students dropped by the crash must be
//! recorded as leaving.
//!
//! CI runs [`KILLS_IN_TESTS`] kills; `cargo xtask soak` runs 200 (`LECTERN_SOAK_KILLS`). Prints
//! the restart-to-healthy times.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::{serve, terminate};

/// Kills in `cargo xtask test`.
const KILLS_IN_TESTS: usize = 30;
const STUDENTS: usize = 20;

/// A small xorshift: the kill moments differ run to run, and the seed is printed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// One student's messages.
#[derive(Default)]
struct Ledger {
    /// Sent (or to send) and not yet acknowledged: client id -> text.
    unacked: BTreeMap<String, String>,
    /// Acknowledged client ids (an ack, or "already applied" for a resend).
    acked: BTreeSet<String>,
    next: u32,
}

struct Shared {
    ledgers: Vec<Mutex<Ledger>>,
    /// Students stop writing new messages when this is set (resends go on).
    winding_down: std::sync::atomic::AtomicBool,
    stop: std::sync::atomic::AtomicBool,
}

async fn student(index: usize, ws_url: String, shared: Arc<Shared>) {
    use std::sync::atomic::Ordering::SeqCst;
    // Issued by the school in the first welcome, kept for every reconnect (the same viewer,
    // so resent client ids are recognised).
    let mut key = String::new();
    let mut last: Option<(i64, i64)> = None;
    while !shared.stop.load(SeqCst) {
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&ws_url).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut hello = serde_json::json!({"type": "hello", "v": 1, "name": format!("Student {index}"), "browser_key": key});
        if let Some((session, seq)) = last {
            hello["session"] = session.into();
            hello["last_seq"] = seq.into();
        }
        if ws.send(Message::text(hello.to_string())).await.is_err() {
            continue;
        }
        // Unacknowledged messages are resent once per connection, with their client ids.
        let mut resend: Vec<(String, String)> = {
            let ledger = shared.ledgers[index].lock().unwrap();
            ledger
                .unacked
                .iter()
                .map(|(c, t)| (c.clone(), t.clone()))
                .collect()
        };
        let mut joined = false;
        let mut tick = tokio::time::interval(Duration::from_millis(1_200 + 40 * index as u64));
        loop {
            tokio::select! {
                frame = ws.next() => {
                    let Some(Ok(frame)) = frame else { break };
                    let Message::Text(text) = frame else { continue };
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    match v["type"].as_str() {
                        Some("welcome") => {
                            joined = true;
                            if let Some(issued) = v["browser_key"].as_str() {
                                key = issued.to_owned();
                            }
                            let session = v["session"].as_i64().unwrap();
                            let seq = v["seq"].as_i64().unwrap_or(0);
                            last = Some((session, last.map_or(seq, |(_, s)| s)));
                        }
                        Some("event") => {
                            if let Some((session, _)) = last {
                                last = Some((session, v["seq"].as_i64().unwrap()));
                            }
                        }
                        Some("ack") => {
                            if let Some(cid) = v["client_id"].as_str() {
                                let mut ledger = shared.ledgers[index].lock().unwrap();
                                ledger.unacked.remove(cid);
                                ledger.acked.insert(cid.to_owned());
                            }
                        }
                        Some("reply") => {
                            let reply = &v["reply"];
                            let cid = reply["client_id"].as_str().map(str::to_owned);
                            match (reply["type"].as_str(), cid) {
                                // Applied before the crash; its ack was lost with the connection.
                                (Some("duplicate"), Some(cid)) => {
                                    let mut ledger = shared.ledgers[index].lock().unwrap();
                                    ledger.unacked.remove(&cid);
                                    ledger.acked.insert(cid);
                                }
                                // Too fast: it stays unacknowledged and goes again later.
                                (Some("rejected"), Some(cid)) => {
                                    let ledger = shared.ledgers[index].lock().unwrap();
                                    if let Some(text) = ledger.unacked.get(&cid) {
                                        resend.push((cid, text.clone()));
                                    }
                                }
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
                _ = tick.tick(), if joined => {
                    if shared.stop.load(SeqCst) {
                        let _ = ws.close(None).await;
                        return;
                    }
                    let next = match resend.pop() {
                        Some(m) => Some(m),
                        None if !shared.winding_down.load(SeqCst) => {
                            let mut ledger = shared.ledgers[index].lock().unwrap();
                            let n = ledger.next;
                            ledger.next += 1;
                            let cid = format!("s{index}-m{n}");
                            let text = format!("student {index} message {n}");
                            ledger.unacked.insert(cid.clone(), text.clone());
                            Some((cid, text))
                        }
                        None => {
                            let ledger = shared.ledgers[index].lock().unwrap();
                            ledger.unacked.iter().next().map(|(c, t)| (c.clone(), t.clone()))
                        }
                    };
                    if let Some((cid, text)) = next {
                        let frame = serde_json::json!({"v": 1, "client_id": cid, "action": {"type": "send_chat", "text": text}});
                        if ws.send(Message::text(frame.to_string())).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    }
}

fn port_of(base: &str) -> String {
    base.trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned()
}

async fn is_live(base: &str, key: &str) -> bool {
    let Ok(response) = reqwest::Client::new()
        .post(format!("{base}api/v1/overview"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
    else {
        return false;
    };
    let Ok(overview) = response.json::<serde_json::Value>().await else {
        return false;
    };
    overview["live"]["state"] == "live"
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_at_random_moments_loses_no_acknowledged_message_and_closes_presence() {
    use std::sync::atomic::Ordering::SeqCst;
    let kills: usize = std::env::var("LECTERN_SOAK_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(KILLS_IN_TESTS);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut dice = Dice(seed);
    println!("soak: {kills} kills, {STUDENTS} students, seed {seed}");

    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("school.sqlite");
    let db = db_path.to_str().unwrap().to_owned();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap().to_owned();
    let args = |port: &str| {
        [
            "--db",
            &db,
            "--data-dir",
            &data,
            "--port",
            port,
            "--no-test-card",
        ]
        .map(str::to_owned)
    };
    let first = args("0");
    let (mut server, base, studio, _lines) = serve(&first.each_ref().map(String::as_str));
    let port = port_of(&base);
    let key = studio.split("#key=").nth(1).unwrap().to_owned();
    let started = reqwest::Client::new()
        .post(format!("{base}api/v1/start_class"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(r#"{"title":"Soak"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);

    let shared = Arc::new(Shared {
        ledgers: (0..STUDENTS).map(|_| Mutex::default()).collect(),
        winding_down: false.into(),
        stop: false.into(),
    });
    let ws_url = format!("{}room", base.replacen("http", "ws", 1));
    let students: Vec<_> = (0..STUDENTS)
        .map(|i| tokio::spawn(student(i, ws_url.clone(), shared.clone())))
        .collect();

    let mut restarts = vec![];
    let mut last_studio = studio.clone();
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(dice.between(300, 1_500))).await;
        let pid = server.id().to_string();
        std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap();
        server.wait().unwrap();
        let again = args(&port);
        let t = Instant::now();
        let (next, base2, studio2, _lines) = serve(&again.each_ref().map(String::as_str));
        assert_eq!(base2, base);
        let key2 = studio2.split("#key=").nth(1).unwrap().to_owned();
        while !is_live(&base, &key2).await {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        restarts.push(t.elapsed());
        server = next;
        last_studio = studio2;
    }

    // No new messages; everything unacknowledged is resent until it is acknowledged.
    shared.winding_down.store(true, SeqCst);
    let drained = Instant::now();
    loop {
        let unacked: usize = (shared.ledgers.iter())
            .map(|l| l.lock().unwrap().unacked.len())
            .sum();
        if unacked == 0 {
            break;
        }
        assert!(
            drained.elapsed() < Duration::from_secs(120),
            "{unacked} messages were never acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shared.stop.store(true, SeqCst);
    for s in students {
        s.await.unwrap();
    }
    let key = last_studio.split("#key=").nth(1).unwrap().to_owned();
    let ended = reqwest::Client::new()
        .post(format!("{base}api/v1/end_class"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    assert!(terminate(&mut server).success());

    // The log: every acknowledged message exactly once; nothing else from the students.
    let conn = lectern_store::rusqlite::Connection::open(&db_path).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut in_log: BTreeMap<String, usize> = BTreeMap::new();
    let mut statement = conn
        .prepare(
            "SELECT json_extract(payload, '$.client_id') FROM events
             WHERE kind IN ('chat_sent', 'chat_held')",
        )
        .unwrap();
    for cid in statement
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
    {
        if let Some(cid) = cid.unwrap() {
            *in_log.entry(cid).or_default() += 1;
        }
    }
    let acked: BTreeSet<String> = (shared.ledgers.iter())
        .flat_map(|l| l.lock().unwrap().acked.clone())
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|c| !in_log.contains_key(*c)).collect();
    let duplicated: Vec<(&String, &usize)> = in_log.iter().filter(|(_, n)| **n > 1).collect();
    let unknown: Vec<&String> = in_log.keys().filter(|c| !acked.contains(*c)).collect();

    // Presence: every join is closed by a leave (the crash's, the student's own, or the end).
    let count = |kind: &str| -> i64 {
        conn.query_row("SELECT count(*) FROM events WHERE kind = ?1", [kind], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let (joined, left) = (count("viewer_joined"), count("viewer_left"));

    restarts.sort();
    if !restarts.is_empty() {
        println!(
            "soak: kills={kills} acknowledged={} lost={} duplicated={} joins={joined} leaves={left} restart_to_healthy_ms p50={} max={}",
            acked.len(),
            lost.len(),
            duplicated.len(),
            percentile(&restarts, 0.5).as_millis(),
            restarts.last().unwrap().as_millis(),
        );
    }
    assert!(lost.is_empty(), "acknowledged but not in the log: {lost:?}");
    assert!(duplicated.is_empty(), "in the log twice: {duplicated:?}");
    assert!(
        unknown.is_empty(),
        "in the log, never acknowledged: {unknown:?}"
    );
    assert!(
        acked.len() >= STUDENTS,
        "the students chatted: {}",
        acked.len()
    );
    // The studio stopped cleanly last (SIGTERM): those still connected were closed too.
    assert_eq!(joined, left, "every join has its leave");
}

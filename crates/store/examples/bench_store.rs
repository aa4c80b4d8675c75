//! `cargo xtask bench store`: the write path of the school file, measured on a temp file.
//!
//! Prints one line per scenario. The interesting ratio is grouped vs one-at-a-time: with
//! `synchronous=FULL` each commit costs an fsync, so the writer's grouping is what lets a busy
//! class log hundreds of events per second.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark that cannot run should stop loudly"
)]

use std::sync::Arc;
use std::time::Instant;

use lectern_store::{NewEvent, Store};

fn event(session_id: i64, n: usize, tag: &str) -> NewEvent {
    NewEvent {
        session_id,
        kind: "chat".into(),
        actor: Some(format!("lrn_{:012x}", n % 500)),
        at_ms: 1_793_491_200_000 + n as i64,
        payload: serde_json::json!({ "text": "Could you show that example again, please?" }),
        client_id: format!("{tag}-{n}"),
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(&dir.path().join("bench.sqlite")).expect("open");
    let session = store.create_session("bench", None, 0).await.unwrap();

    // One request at a time: every event waits for its own commit (fsync).
    let n = 500;
    let start = Instant::now();
    for i in 0..n {
        store.append(vec![event(session, i, "seq")]).await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sequential appends: {n} events in {:.0} ms = {:.0} events/s",
        secs * 1e3,
        n as f64 / secs
    );

    // Many senders at once, as in a lively class: the writer groups what is queued.
    let before = store.writer_stats();
    let tasks = 200;
    let per_task = 100;
    let store = Arc::new(store);
    let start = Instant::now();
    let mut handles = vec![];
    for t in 0..tasks {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..per_task {
                store
                    .append(vec![event(session, t * per_task + i, "conc")])
                    .await
                    .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let after = store.writer_stats();
    let events = tasks * per_task;
    let commits = after.commits - before.commits;
    println!(
        "concurrent appends ({tasks} senders): {events} events in {:.0} ms = {:.0} events/s, {commits} commits ({:.1} requests per commit)",
        secs * 1e3,
        events as f64 / secs,
        (after.requests - before.requests) as f64 / commits.max(1) as f64
    );

    // Batches of 100 events per request (an import, a replay).
    let batches = 200;
    let start = Instant::now();
    for b in 0..batches {
        let batch = (0..100)
            .map(|i| event(session, b * 100 + i, "batch"))
            .collect();
        store.append(batch).await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "batched appends (100 per request): {} rows in {:.0} ms = {:.0} rows/s",
        batches * 100,
        secs * 1e3,
        (batches * 100) as f64 / secs
    );

    let start = Instant::now();
    let read = store.events_after(session, 0, 10_000).await.unwrap();
    println!(
        "read back: {} events in {:.1} ms",
        read.len(),
        start.elapsed().as_secs_f64() * 1e3
    );

    let demo = dir.path().join("demo.sqlite");
    let start = Instant::now();
    let summary = lectern_store::demo::generate(&demo, 2026).unwrap();
    println!(
        "demo school: {} events, {} purchases in {:.0} ms",
        summary.events,
        summary.purchases,
        start.elapsed().as_secs_f64() * 1e3
    );

    Arc::try_unwrap(store)
        .expect("the only handle")
        .close()
        .await
        .unwrap();
}

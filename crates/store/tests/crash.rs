//! `kill -9` in the middle of writes loses no acknowledged row.
//!
//! The parent re-executes this test binary, selecting the ignored `crash_child` test by its
//! exact name; the child appends in a loop and prints each client_id after its ack. The parent
//! kills it with SIGKILL after a few hundred acks and checks every printed id is stored. This
//! works under `cargo test` and `cargo nextest run` alike (both run libtest binaries).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use lectern_store::Store;

use super::{all_seqs, assert_contiguous, event, school};

const DB_ENV: &str = "LECTERN_STORE_CRASH_DB";
const RUN_ENV: &str = "LECTERN_STORE_CRASH_RUN";
const ACK: &str = "ACKED ";

/// The child: appends forever (bounded) from several tasks, printing each ack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run only by crash::kill_9_loses_no_acknowledged_row"]
async fn crash_child() {
    let (Ok(db), Ok(run)) = (std::env::var(DB_ENV), std::env::var(RUN_ENV)) else {
        return; // run by hand with --ignored: nothing to do
    };
    let store = Store::open(std::path::Path::new(&db)).unwrap();
    let session = match store.recent_sessions(1).await.unwrap().first() {
        Some(s) => s.id,
        None => store.create_session("Crash", None, 0).await.unwrap(),
    };
    let mut tasks = Vec::new();
    for task in 0..8 {
        let store = store.clone();
        let run = run.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..20_000 {
                // Batches of 1 to 3 events, so a torn batch would show.
                let size = n % 3 + 1;
                let batch = (0..size)
                    .map(|k| event(session, &format!("r{run}-t{task}-n{n}-k{k}")))
                    .collect();
                let records = store.append(batch).await.unwrap();
                let mut out = std::io::stdout().lock();
                for r in records {
                    use std::io::Write;
                    writeln!(out, "{ACK}{}", r.client_id).unwrap();
                }
                std::io::Write::flush(&mut out).unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Kills the child if the parent test fails half-way, so no writer is left running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_row() {
    let (_dir, path) = school();
    let exe = std::env::current_exe().unwrap();
    let mut expected = Vec::new();
    for run in 0..5 {
        let mut child = KillOnDrop(
            Command::new(&exe)
                .args([
                    "--exact",
                    "crash::crash_child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(DB_ENV, &path)
                .env(RUN_ENV, run.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let stdout = child.0.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let target = 200 + 70 * run;
        let mut seen = 0;
        while seen < target {
            let Some(line) = lines.next() else {
                panic!("the child exited after {seen} acks");
            };
            if let Some(id) = line.unwrap().strip_prefix(ACK) {
                expected.push(id.to_owned());
                seen += 1;
            }
        }
        child.0.kill().unwrap(); // SIGKILL on Unix
        // Acks printed before the kill landed are still in the pipe: they count too.
        for line in lines {
            let Ok(line) = line else { break };
            if let Some(id) = line.strip_prefix(ACK) {
                expected.push(id.to_owned());
            }
        }
        child.0.wait().unwrap();

        let store = Store::open_existing(&path).unwrap();
        let ids: std::collections::HashSet<String> = store
            .read(|conn| {
                let mut stmt = conn.prepare("SELECT client_id FROM events")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
            .unwrap();
        let missing: Vec<&String> = expected.iter().filter(|id| !ids.contains(*id)).collect();
        assert!(
            missing.is_empty(),
            "run {run}: {} acknowledged rows lost: {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        assert_contiguous(&all_seqs(&store).await);
        // Batches are whole: every k of a stored (task, n) is there.
        for id in &ids {
            let (stem, _k) = id.rsplit_once("-k").unwrap();
            let n: usize = stem.rsplit_once("-n").unwrap().1.parse().unwrap();
            for kk in 0..(n % 3 + 1) {
                assert!(ids.contains(&format!("{stem}-k{kk}")), "torn batch at {id}");
            }
        }
        store.close().await.unwrap();
    }
    eprintln!("{} acknowledged rows survived 5 kills", expected.len());
}

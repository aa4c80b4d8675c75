//! Many viewers joining and leaving: nothing accumulates (sockets, tasks, memory, stats).
//!
//! `LECTERN_MEDIA_CYCLES` sets the number of measured cycles (default below); each cycle is a
//! full WHEP subscribe, ICE + DTLS, at least one forwarded packet, DELETE and close.

use crate::support::TestViewer;
use lectern_media::{EngineConfig, MediaEngine, TestCard};
use std::time::{Duration, Instant};

const DEFAULT_CYCLES: usize = 1_000;
const WARM_UP: usize = 20;
/// Viewers cycling at the same time.
const CONCURRENT: usize = 4;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

async fn cycle(engine: &MediaEngine) {
    let viewer = TestViewer::join(engine, None).await;
    viewer.wait_for(0, 1).await;
    engine.stop(viewer.id).await.unwrap();
    viewer.close().await;
}

async fn cycles(engine: &MediaEngine, n: usize) {
    let mut done = 0;
    while done < n {
        let batch = CONCURRENT.min(n - done);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch {
            let engine = engine.clone();
            set.spawn(async move { cycle(&engine).await });
        }
        while let Some(result) = set.join_next().await {
            result.unwrap();
        }
        done += batch;
    }
}

/// Waits (bounded) for the counts to come back down after closes finish in the background.
async fn settled(fds_limit: usize, tasks_limit: usize) -> (usize, usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (fds, tasks) = (open_fds(), alive_tasks());
        if (fds <= fds_limit && tasks <= tasks_limit) || Instant::now() > deadline {
            return (fds, tasks);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_viewer_cycles_leave_no_sockets_tasks_or_memory_behind() {
    let _serial = crate::support::serial().await;
    let measured: usize = std::env::var("LECTERN_MEDIA_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CYCLES);
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    // Warm up: lazily created process-wide resources and allocator arenas are not a leak.
    cycles(&engine, WARM_UP).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (fds_before, tasks_before) = settled(usize::MAX, usize::MAX).await;
    let rss_before = rss_kib();

    let started = Instant::now();
    cycles(&engine, measured).await;
    let elapsed = started.elapsed();
    let (fds_after, tasks_after) = settled(fds_before + 4, tasks_before + 4).await;
    let rss_after = rss_kib();
    println!(
        "{measured} viewer cycles ({CONCURRENT} at a time) in {elapsed:?} ({:?} each): \
         fds {fds_before} -> {fds_after}, tokio tasks {tasks_before} -> {tasks_after}, \
         RSS {rss_before} -> {rss_after} KiB",
        elapsed / u32::try_from(measured.max(1)).unwrap()
    );
    assert!(engine.status().viewers.is_empty(), "{:?}", engine.status());
    assert!(
        fds_after <= fds_before + 4,
        "fds {fds_before} -> {fds_after}"
    );
    assert!(
        tasks_after <= tasks_before + 4,
        "tasks {tasks_before} -> {tasks_after}"
    );
    // One leaked viewer session costs ~300-600 KiB (see docs/benchmarks.md); a leak of even a
    // tenth of that per cycle would pass this bound after ~300 cycles.
    let growth = rss_after.saturating_sub(rss_before);
    assert!(
        growth < 12 * 1024,
        "RSS grew {growth} KiB over {measured} cycles"
    );
    engine.shutdown().await;
}

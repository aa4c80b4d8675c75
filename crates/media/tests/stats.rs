//! Per-viewer live stats from real peers: bytes, bitrate, reported loss, round-trip time, and
//! the engine's total outgoing bitrate.

use crate::support::TestViewer;
use lectern_media::{EngineConfig, MediaEngine, TestCard};
use rtc::shared::marshal::MarshalSize;
use std::time::{Duration, Instant};

fn received_bytes(viewer: &TestViewer, since: Instant) -> u64 {
    viewer
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.at >= since)
        .map(|r| (r.packet.header.marshal_size() + r.packet.payload.len()) as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_each_viewers_bitrate_loss_and_round_trip_time() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    let a = TestViewer::join(&engine, None).await;
    let b = TestViewer::join(&engine, None).await;
    a.wait_for(1, 1).await;
    b.wait_for(1, 1).await;
    // Receiver reports and sender reports go out about once a second.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let first = engine.status();
    let from = Instant::now();
    assert_eq!(first.outgoing_bitrate_bps, 0, "no interval yet");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let status = engine.status();
    let elapsed = from.elapsed().as_secs_f64();

    assert_eq!(status.viewers.len(), 2);
    let mut total = 0;
    for viewer in [&a, &b] {
        let stats = status.viewers.iter().find(|v| v.id == viewer.id).unwrap();
        println!("{stats:?}");
        // What the viewer itself received over (about) the same interval.
        let seen_bps = received_bytes(viewer, from) as f64 * 8.0 / elapsed;
        let ratio = stats.bitrate_bps as f64 / seen_bps;
        assert!(
            (0.8..1.25).contains(&ratio),
            "engine says {} bit/s, viewer saw {seen_bps:.0}",
            stats.bitrate_bps
        );
        assert!(
            stats.bytes_sent >= received_bytes(viewer, Instant::now() - Duration::from_secs(60))
        );
        assert_eq!(stats.packets_lost_reported, 0, "loopback: {stats:?}");
        assert_eq!(stats.video_loss_permille, 0);
        let rtt = stats
            .rtt_us
            .expect("a receiver report named a sender report");
        assert!(rtt < 1_000_000, "loopback RTT {rtt} us");
        total += stats.bitrate_bps;
    }
    assert_eq!(status.outgoing_bitrate_bps, total);
    println!(
        "uplink use: {} bit/s for {} viewers",
        status.outgoing_bitrate_bps,
        status.viewers.len()
    );
    a.close().await;
    b.close().await;
    engine.shutdown().await;
}

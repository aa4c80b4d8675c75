//! The typed errors the HTTP layer maps to WHIP/WHEP statuses.

use crate::support::{TestPublisher, TestViewer};
use lectern_media::{EngineConfig, MediaEngine, MediaError, SessionId, SourceKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_stable_codes_and_stop_removes_a_viewer() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    let publisher = TestPublisher::start(&engine).await;
    let offer = publisher.pc.local_description().await.unwrap().sdp;

    let second = engine.publish(&offer, false).await.unwrap_err();
    assert!(matches!(second, MediaError::PublisherExists), "{second}");
    assert_eq!(second.code(), "publisher_exists");

    let huge = format!("{offer}{}", "a=x-padding\r\n".repeat(6_000));
    assert!(huge.len() > 64 * 1024);
    let too_large = engine.publish(&huge, true).await.unwrap_err();
    assert!(
        matches!(too_large, MediaError::TooLarge { .. }),
        "{too_large}"
    );
    assert_eq!(too_large.code(), "sdp_too_large");
    assert!(matches!(
        engine.subscribe(&huge).await.unwrap_err(),
        MediaError::TooLarge { .. }
    ));

    for garbage in ["", "hello", "v=0\r\nthis is not sdp\r\n", "\u{0}\u{1}\u{2}"] {
        let bad = engine.subscribe(garbage).await.unwrap_err();
        assert!(matches!(bad, MediaError::BadSdp(_)), "{garbage:?}: {bad}");
        assert_eq!(bad.code(), "bad_sdp");
        assert!(!bad.to_string().is_empty());
        let bad = engine.publish(garbage, true).await.unwrap_err();
        assert!(matches!(bad, MediaError::BadSdp(_)), "{garbage:?}: {bad}");
    }

    let viewer = TestViewer::join(&engine, None).await;
    viewer.wait_for(5, 5).await;
    assert_eq!(engine.status().viewers.len(), 1);
    engine.stop(viewer.id).await.unwrap();
    assert!(
        engine.status().viewers.is_empty(),
        "stop removes the viewer and its stats"
    );
    let again = engine.stop(viewer.id).await.unwrap_err();
    assert_eq!(again.code(), "unknown_session");
    let candidate = engine
        .add_ice_candidate(
            SessionId::Viewer(viewer.id),
            "candidate:1 1 udp 1 127.0.0.1 9 typ host",
        )
        .await
        .unwrap_err();
    assert_eq!(candidate.code(), "unknown_session");

    // The instructor chooses "replace": the new publisher takes over.
    let (replacement, answer) = engine.publish(&offer, true).await.unwrap();
    assert!(answer.starts_with("v=0"));
    assert_ne!(replacement, publisher.id);
    assert_eq!(
        engine.status().source.map(|s| s.kind),
        Some(SourceKind::Publisher(replacement))
    );
    engine.stop(replacement).await.unwrap();
    assert!(engine.status().source.is_none());

    viewer.close().await;
    publisher.close().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_takes_a_bounded_number_of_trickled_candidates() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    let viewer = TestViewer::join(&engine, None).await;
    let id = SessionId::Viewer(viewer.id);
    for i in 0..lectern_media::MAX_TRICKLED_CANDIDATES {
        // Accepted or refused on its own merits; each one counts.
        let line = format!("candidate:{i} 1 udp 1 127.0.0.1 {} typ host", 20_000 + i);
        if let Err(err) = engine.add_ice_candidate(id, &line).await {
            assert!(!err.to_string().contains("at most"), "{i}: {err}");
        }
    }
    let err = engine
        .add_ice_candidate(id, "candidate:999 1 udp 1 127.0.0.1 29999 typ host")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bad_candidate");
    assert!(err.to_string().contains("at most 64"), "{err}");
    viewer.close().await;
    engine.shutdown().await;
}

#[test]
fn ids_round_trip_as_hex_strings() {
    use lectern_media::{EngineStatus, SourceStatus, ViewerId, ViewerStats};
    let id = ViewerId(u64::MAX - 1);
    assert_eq!(id.to_string().parse::<ViewerId>().unwrap(), id);
    assert_eq!(
        "zz".parse::<ViewerId>().unwrap_err().code(),
        "unknown_session"
    );
    let status = EngineStatus {
        source: Some(SourceStatus {
            kind: SourceKind::TestCard,
            codecs: vec!["video/VP8".into()],
        }),
        viewers: vec![ViewerStats {
            id,
            packets_forwarded: 1,
            packets_dropped: 0,
            packets_skipped: 0,
            keyframe_requests: 0,
            packets_retransmitted: 0,
            packets_simulated_lost: 0,
            bytes_sent: 0,
            bitrate_bps: 0,
            packets_lost_reported: 0,
            video_loss_permille: 0,
            rtt_us: None,
        }],
        upstream_keyframe_requests: 0,
        outgoing_bitrate_bps: 0,
        relay: None,
    };
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["viewers"][0]["id"], "fffffffffffffffe");
    assert_eq!(json["source"]["kind"], "test_card");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_that_never_connect_are_removed() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig {
        connect_timeout: std::time::Duration::from_millis(500),
        ..EngineConfig::loopback()
    });
    // Take answers but never apply them: nothing connects.
    let publisher = TestPublisher::start(&engine).await;
    let offer = publisher.pc.local_description().await.unwrap().sdp;
    publisher.close().await;
    let ghost = MediaEngine::new(EngineConfig::loopback());
    let viewer = TestViewer::join(&ghost, None).await;
    let viewer_offer = viewer.pc.local_description().await.unwrap().sdp;
    viewer.close().await;
    ghost.shutdown().await;

    let (_, _) = engine.publish(&offer, true).await.unwrap();
    let (_, _) = engine.subscribe(&viewer_offer).await.unwrap();
    assert!(engine.status().source.is_some());
    assert_eq!(engine.status().viewers.len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let status = engine.status();
    assert!(status.source.is_none(), "{status:?}");
    assert!(status.viewers.is_empty(), "{status:?}");
    engine.shutdown().await;
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_cycles_do_not_leak_sockets() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_test_card(lectern_media::TestCard::embedded().unwrap())
        .await
        .unwrap();
    // Warm up once so lazily created process-wide resources are not counted as a leak.
    let first = TestViewer::join(&engine, None).await;
    first.wait_for(1, 1).await;
    engine.stop(first.id).await.unwrap();
    first.close().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = open_fds();
    for _ in 0..20 {
        let viewer = TestViewer::join(&engine, None).await;
        viewer.wait_for(0, 1).await;
        engine.stop(viewer.id).await.unwrap();
        viewer.close().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = open_fds();
    println!("open fds: {before} before 20 viewer cycles, {after} after");
    assert!(engine.status().viewers.is_empty());
    assert!(after <= before + 4, "{before} -> {after}");
    engine.shutdown().await;
}

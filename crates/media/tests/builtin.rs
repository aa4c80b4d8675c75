//! The built-in test card as the source.

use crate::support::{TestViewer, assert_increasing, vp8_keyframe_start};
use lectern_media::{EngineConfig, MediaEngine, SourceKind, TestCard, TrackKind};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_receives_the_test_card_from_a_keyframe_at_real_time_pace() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    assert_eq!(
        engine.status().source.map(|s| s.kind),
        Some(SourceKind::TestCard)
    );
    let viewer = TestViewer::join(&engine, None).await;
    viewer.wait_for(1, 1).await;
    tokio::time::sleep(Duration::from_millis(2_000)).await;

    let video = viewer.packets(TrackKind::Video);
    let audio = viewer.packets(TrackKind::Audio);
    assert!(vp8_keyframe_start(&video[0].packet.payload));
    assert_eq!(
        video[0].packet.header.payload_type,
        viewer.negotiated_pt("VP8")
    );
    assert_eq!(
        audio[0].packet.header.payload_type,
        viewer.negotiated_pt("opus")
    );
    assert_increasing(&video, 1);
    assert_increasing(&audio, 1);
    println!(
        "test card: first video packet {:?} after subscribing",
        video[0].at - viewer.subscribed_at
    );

    // Timestamps advance with the wall clock: 90 kHz video, 48 kHz audio, 20 ms per Opus packet.
    for (packets, clock) in [(&video, 90_000.0), (&audio, 48_000.0)] {
        let (first, last) = (&packets[0], &packets[packets.len() - 1]);
        let media = f64::from(
            last.packet
                .header
                .timestamp
                .wrapping_sub(first.packet.header.timestamp),
        ) / clock;
        let wall = (last.at - first.at).as_secs_f64();
        assert!(wall > 1.5, "{wall}");
        assert!(
            (media - wall).abs() < 0.25,
            "media {media:.3}s vs wall {wall:.3}s"
        );
    }
    let audio_steps: Vec<u32> = audio
        .windows(2)
        .map(|w| {
            w[1].packet
                .header
                .timestamp
                .wrapping_sub(w[0].packet.header.timestamp)
        })
        .collect();
    assert!(audio_steps.iter().all(|s| *s == 960), "20 ms Opus frames");

    viewer.close().await;
    assert!(engine.stop_test_card().await);
    assert!(engine.status().source.is_none());
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn going_live_replaces_the_test_card_without_a_break_in_numbering() {
    let _serial = crate::support::serial().await;
    use crate::support::TestPublisher;
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    let viewer = TestViewer::join(&engine, None).await;
    viewer.wait_for(20, 20).await;
    let before = viewer.count(TrackKind::Video);

    // The instructor goes live: a publisher replaces the card (no `replace` needed for it).
    let publisher = TestPublisher::start(&engine).await;
    assert_eq!(
        engine.status().source.map(|s| s.kind),
        Some(SourceKind::Publisher(publisher.id))
    );
    viewer.wait_for(before + 60, 100).await;

    let video = viewer.packets(TrackKind::Video);
    let audio = viewer.packets(TrackKind::Audio);
    // One continuous stream for the viewer: same SSRC, no sequence gap across the switch
    // (video skipped while waiting for the publisher's keyframe is not numbered).
    assert!(
        video
            .iter()
            .all(|r| r.packet.header.ssrc == video[0].packet.header.ssrc)
    );
    assert_increasing(&video, 1);
    assert_increasing(&audio, 1);
    // Timestamps never go backwards across the switch (the publisher's are unrelated to the
    // card's; the engine offsets them), and video after the switch starts at a keyframe.
    for packets in [&video, &audio] {
        for pair in packets.windows(2) {
            let step = pair[1]
                .packet
                .header
                .timestamp
                .wrapping_sub(pair[0].packet.header.timestamp);
            assert!(step < 90_000, "timestamp jumped by {step}");
        }
    }
    assert!(
        video[before..]
            .iter()
            .any(|r| vp8_keyframe_start(&r.packet.payload))
    );

    viewer.close().await;
    publisher.close().await;
    engine.shutdown().await;
}

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
    tokio::time::sleep(Duration::from_millis(2_300)).await;

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
    // Video is judged from 300 ms in: it starts with the cached GOP, replayed in one burst.
    let live_video: Vec<_> = video
        .iter()
        .filter(|r| r.at >= video[0].at + Duration::from_millis(300))
        .cloned()
        .collect();
    for (packets, clock) in [(&live_video, 90_000.0), (&audio, 48_000.0)] {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_viewer_of_the_test_card_starts_from_the_cached_keyframe() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    let early = TestViewer::join(&engine, None).await;
    early.wait_for(1, 1).await;
    let keyframes = |viewer: &TestViewer| -> Vec<(std::time::Instant, u32)> {
        viewer
            .packets(TrackKind::Video)
            .iter()
            .filter(|r| vp8_keyframe_start(&r.packet.payload))
            .map(|r| (r.at, r.packet.header.timestamp))
            .collect()
    };
    // Join some way into a GOP; retry if the join outlasted it (a slow machine), since then
    // the late viewer's first keyframe is a live one either way.
    for attempt in 0..3 {
        let seen = keyframes(&early).len();
        while keyframes(&early).len() == seen {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, current) = *keyframes(&early).last().unwrap();
        let late = TestViewer::join(&engine, None).await;
        late.wait_for(1, 0).await;
        let first = late.packets(TrackKind::Video)[0].clone();
        let next_keyframe_seen_by_early = keyframes(&early)
            .into_iter()
            .find(|(_, ts)| ts.wrapping_sub(current) as i32 > 0);
        let subscribed_at = late.subscribed_at;
        late.close().await;
        if let Some((at, _)) = next_keyframe_seen_by_early
            && at <= first.at
        {
            println!("attempt {attempt}: the join took longer than a GOP; again");
            continue;
        }
        assert!(vp8_keyframe_start(&first.packet.payload));
        assert_eq!(
            first.packet.header.timestamp, current,
            "the late viewer starts from the GOP in progress, not the next keyframe"
        );
        println!(
            "late viewer: cached keyframe {:?} after subscribing",
            first.at - subscribed_at
        );
        early.close().await;
        engine.shutdown().await;
        return;
    }
    panic!("every join took longer than a GOP");
}

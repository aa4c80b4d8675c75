//! Viewers' keyframe requests reach the publisher, coalesced.

use crate::support::{TestPublisher, TestViewer, vp8_keyframe_start};
use lectern_media::{EngineConfig, MediaEngine, TrackKind};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_viewer_pli_reaches_publisher_and_bursts_coalesce() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    let publisher = TestPublisher::start(&engine).await;
    let early = TestViewer::join(&engine, None).await;
    early.wait_for(30, 10).await;
    // Join in the middle of a GOP so the keyframe gate has something to hold back.
    tokio::time::sleep(Duration::from_millis(1_400)).await;

    let late = TestViewer::join(&engine, None).await;
    late.wait_for(1, 1).await;
    let first_video = late.packets(TrackKind::Video)[0].clone();
    assert!(
        vp8_keyframe_start(&first_video.packet.payload),
        "a late viewer's first video packet starts a keyframe"
    );
    let time_to_first_frame = first_video.at - late.subscribed_at;
    println!("late joiner: first keyframe packet {time_to_first_frame:?} after subscribing");

    // The viewer's own PLI, as a browser sends when it joins or loses a frame.
    let asked = Instant::now();
    late.send_pli().await;
    // A generous deadline: this checks that the request arrives; how fast is printed.
    let deadline = asked + Duration::from_secs(5);
    while publisher.pli_count_since(asked) == 0 {
        assert!(
            Instant::now() < deadline,
            "no PLI reached the publisher within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "viewer PLI -> publisher PLI in {:?} (includes any throttle wait)",
        asked.elapsed()
    );

    // Let the throttle's window pass, then 40 PLIs from two viewers as fast as they go. The
    // throttle lets one through per 500 ms window and at most one trailing request after it,
    // so however long the burst takes on a loaded machine (it is measured, not assumed), the
    // publisher is asked at most once per window it spans plus one.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let burst = Instant::now();
    for _ in 0..20 {
        late.send_pli().await;
        early.send_pli().await;
    }
    let spread = burst.elapsed();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let upstream = publisher.pli_count_since(burst);
    let windows = usize::try_from(spread.as_millis() / 500).unwrap_or(usize::MAX);
    println!("40 viewer PLIs over {spread:?} -> {upstream} upstream");
    assert!(
        (1..=windows + 2).contains(&upstream),
        "{upstream} upstream PLIs for 40 viewer PLIs over {spread:?}"
    );
    let status = engine.status();
    let asked_by_viewers: u64 = status.viewers.iter().map(|v| v.keyframe_requests).sum();
    assert!(
        asked_by_viewers >= 40,
        "engine counted {asked_by_viewers} viewer PLIs"
    );

    late.close().await;
    early.close().await;
    publisher.close().await;
    engine.shutdown().await;
}

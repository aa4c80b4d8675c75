//! A WHIP publisher's VP8 + Opus reaches two WHEP viewers, each with its own payload types.

use crate::support::{PUBLISHER_PTS, PayloadTypes, TestPublisher, TestViewer, assert_increasing};
use lectern_media::{EngineConfig, MediaEngine, SourceKind, TrackKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_reaches_two_viewers_with_their_own_payload_types() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    let publisher = TestPublisher::start(&engine).await;
    // Viewer A takes the crate's default numbering; viewer B numbers VP8 and Opus unlike the
    // publisher (96/111), so forwarding with the publisher's PTs would be rejected or misread.
    let remapped = PayloadTypes {
        vp8: 100,
        opus: 109,
    };
    let a = TestViewer::join(&engine, None).await;
    let b = TestViewer::join(&engine, Some(remapped)).await;
    assert_eq!(b.negotiated_pt("VP8"), 100);
    assert_eq!(b.negotiated_pt("opus"), 109);
    assert_ne!(remapped.vp8, PUBLISHER_PTS.vp8);

    a.wait_for(60, 25).await;
    b.wait_for(60, 25).await;

    for viewer in [&a, &b] {
        let video = viewer.packets(TrackKind::Video);
        let audio = viewer.packets(TrackKind::Audio);
        let (vp8_pt, opus_pt) = (viewer.negotiated_pt("VP8"), viewer.negotiated_pt("opus"));
        assert!(video.iter().all(|r| r.packet.header.payload_type == vp8_pt));
        assert!(
            audio
                .iter()
                .all(|r| r.packet.header.payload_type == opus_pt)
        );
        // Loopback loses nothing: consecutive numbers.
        assert_increasing(&video, 1);
        assert_increasing(&audio, 1);
    }

    let status = engine.status();
    let source = status.source.expect("a source");
    assert_eq!(source.kind, SourceKind::Publisher(publisher.id));
    assert!(
        source
            .codecs
            .iter()
            .any(|c| c.eq_ignore_ascii_case("video/VP8"))
    );
    assert!(
        source
            .codecs
            .iter()
            .any(|c| c.eq_ignore_ascii_case("audio/opus"))
    );
    assert_eq!(status.viewers.len(), 2);
    for stats in &status.viewers {
        assert!(stats.packets_forwarded >= 85, "{stats:?}");
        assert_eq!(
            stats.packets_dropped, 0,
            "loopback loses nothing: {stats:?}"
        );
    }

    a.close().await;
    b.close().await;
    publisher.close().await;
    engine.shutdown().await;
}

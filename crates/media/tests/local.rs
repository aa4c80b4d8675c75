//! A local source (frames encoded on this machine, as the desktop window sends them) fanned out
//! to real WebRTC viewers: fed here with the test card's own VP8 and Opus frames.

use crate::support::{TestViewer, assert_increasing, vp8_keyframe_start};
use bytes::Bytes;
use lectern_media::local::EncodedFrame;
use lectern_media::{EngineConfig, MediaEngine, RtpStreamParams, SourceKind, TestCard, TrackKind};
use std::time::Duration;

/// RFC 7741: the VP8 payload descriptor's length (1 byte, plus the extension byte and the fields
/// it announces: a 7- or 15-bit picture id, TL0PICIDX, TID/KEYIDX).
fn vp8_descriptor_len(payload: &[u8]) -> usize {
    if payload[0] & 0x80 == 0 {
        return 1;
    }
    let flags = payload[1];
    let mut len = 2;
    if flags & 0x80 != 0 {
        len += if payload[len] & 0x80 != 0 { 2 } else { 1 };
    }
    if flags & 0x40 != 0 {
        len += 1;
    }
    if flags & 0x30 != 0 {
        len += 1;
    }
    len
}

/// The test card's frames as an encoder would hand them over: the bytes of each frame, with
/// its capture time, in time order.
fn card_frames(count: usize) -> Vec<EncodedFrame> {
    let card = TestCard::embedded().unwrap();
    let params = RtpStreamParams {
        ssrc: 1,
        payload_type: 96,
    };
    card.player(params, params)
        .take(count)
        .map(|frame| {
            // Undo the packetizing: VP8 packets carry a payload descriptor, Opus none.
            let data: Vec<u8> = frame
                .packets
                .iter()
                .flat_map(|p| match frame.kind {
                    TrackKind::Video => p.payload[vp8_descriptor_len(&p.payload)..].to_vec(),
                    TrackKind::Audio => p.payload.to_vec(),
                })
                .collect();
            EncodedFrame {
                kind: frame.kind,
                timestamp_us: frame.at.as_micros() as u64,
                keyframe: frame.kind == TrackKind::Audio || data[0] & 0x01 == 0,
                data: Bytes::from(data),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_pushed_by_the_window_reach_viewers_as_rtp_from_a_keyframe() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    // The test card was live; the window's capture replaces it.
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    let mut keyframes = engine.start_local().await.unwrap();
    assert_eq!(
        engine.status().source.map(|s| s.kind),
        Some(SourceKind::Local)
    );
    let viewer = TestViewer::join(&engine, None).await;
    // Pace the frames at real time, as capture would.
    let frames = card_frames(400);
    let started = tokio::time::Instant::now();
    let first_us = frames[0].timestamp_us;
    let feeder = {
        let engine = engine.clone();
        tokio::spawn(async move {
            for frame in frames {
                let due = Duration::from_micros(frame.timestamp_us - first_us);
                tokio::time::sleep_until(started + due).await;
                engine.push_local(&frame).unwrap();
            }
        })
    };
    viewer.wait_for(20, 20).await;
    let video = viewer.packets(TrackKind::Video);
    let audio = viewer.packets(TrackKind::Audio);
    // The viewer starts on a keyframe, with its own payload types, with no gaps.
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

    // A viewer's picture-loss report reaches the window's encoder as a keyframe request.
    let asked = *keyframes.borrow_and_update();
    viewer.send_pli().await;
    tokio::time::timeout(Duration::from_secs(5), keyframes.changed())
        .await
        .expect("a keyframe request within 5 s")
        .unwrap();
    assert!(*keyframes.borrow() > asked);
    assert!(engine.status().upstream_keyframe_requests >= 1);

    feeder.abort();
    // A bad frame is refused with its code and nothing is sent.
    let err = engine
        .push_local(&EncodedFrame {
            kind: TrackKind::Video,
            timestamp_us: u64::MAX,
            keyframe: true,
            data: Bytes::from_static(&[0x11, 0, 0]),
        })
        .unwrap_err();
    assert_eq!(err.code(), "keyframe_mismatch");

    viewer.close().await;
    assert!(engine.stop_local().await);
    assert!(engine.status().source.is_none());
    // Once stopped, the window's frames are refused: it is not the source any more.
    let err = engine.push_local(&card_frames(1)[0]).unwrap_err();
    assert_eq!(err.code(), "no_local_source");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whip_publisher_is_not_pre_empted_by_the_window() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    let publisher = crate::support::TestPublisher::start(&engine).await;
    let err = engine.start_local().await.unwrap_err();
    assert_eq!(err.code(), "publisher_exists");
    publisher.close().await;
    engine.shutdown().await;
}

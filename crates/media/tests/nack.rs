//! Retransmission: a viewer that loses video packets NACKs them and the engine resends them
//! from its per-viewer history, numbered and typed for that viewer's leg.
//!
//! Not proven here: that the resent copies reach a `webrtc` 0.21 viewer. With the loss
//! simulated above SRTP (and the viewer's SRTP replay window off) none of the resends, neither
//! the engine's nor the leg's own NACK responder's, were seen arriving; the count of resent
//! copies seen is printed, and any that arrive must carry the viewer's PT and SSRC. The repair
//! is proven end to end with real Chromium in `tests/e2e/retransmission.test.mjs` (the engine
//! holds back every 25th packet's first send; Chromium NACKs each, gets it resent, loses none).

use crate::support::{PayloadTypes, TestViewer, ViewerSetup};
use lectern_media::{EngineConfig, MediaEngine, TestCard, TrackKind};
use rtc::interceptor::{Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wire-most on the viewer's read path: it drops every tenth video packet the first time it
/// arrives (after the first 50), as a lossy network would. A second copy passes.
struct LossyLink {
    video_ssrcs: HashSet<u32>,
    seen_video: usize,
    dropped: Arc<Mutex<Vec<u16>>>,
    inbound: VecDeque<TaggedPacket>,
    outbound: VecDeque<TaggedPacket>,
}

const DROPS: usize = 20;

impl Protocol<TaggedPacket, TaggedPacket, ()> for LossyLink {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtp(packet) = &msg.message.packet
            && self.video_ssrcs.contains(&packet.header.ssrc)
        {
            self.seen_video += 1;
            let seq = packet.header.sequence_number;
            let mut dropped = self.dropped.lock().unwrap();
            if self.seen_video > 50
                && seq % 10 == 3
                && dropped.len() < DROPS
                && !dropped.contains(&seq)
            {
                dropped.push(seq);
                return Ok(());
            }
        }
        self.inbound.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.inbound.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.outbound.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.outbound.pop_front()
    }
}

impl Interceptor for LossyLink {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, info: &StreamInfo) {
        if info.mime_type.starts_with("video/") {
            self.video_ssrcs.insert(info.ssrc);
        }
    }
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_loses_video_nacks_it_and_the_engine_resends_from_its_history() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let link_log = dropped.clone();
    let setup = ViewerSetup {
        registry: Some(Box::new(move |registry: rtc::interceptor::Registry| {
            registry.with(
                Slot::from(500),
                LossyLink {
                    video_ssrcs: HashSet::new(),
                    seen_video: 0,
                    dropped: link_log,
                    inbound: VecDeque::new(),
                    outbound: VecDeque::new(),
                },
            )
        })),
        // The loss is simulated above SRTP, which has already seen the dropped packet's index;
        // on a real network it would not have, so the resent copy is not a replay.
        srtp_replay_window: Some(0),
    };
    // Not the card's own PT 96: a resent packet must carry the viewer's mapping.
    let pts = PayloadTypes {
        vp8: 100,
        opus: 109,
    };
    let viewer = TestViewer::join_with(&engine, Some(pts), setup).await;
    viewer.wait_for(1, 1).await;

    // Wait until every drop happened and was NACKed often enough to be answered.
    let deadline = Instant::now() + Duration::from_secs(15);
    let stats = loop {
        let status = engine.status();
        let stats = status.viewers[0].clone();
        if dropped.lock().unwrap().len() == DROPS && stats.packets_retransmitted >= DROPS as u64 {
            break stats;
        }
        assert!(
            Instant::now() < deadline,
            "dropped {:?}; {stats:?}",
            dropped.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let lost = dropped.lock().unwrap().clone();
    let video = viewer.packets(TrackKind::Video);
    let recovered: Vec<&crate::support::Received> = video
        .iter()
        .filter(|r| lost.contains(&r.packet.header.sequence_number))
        .collect();
    // The viewer's own receiver reports carry the loss it saw back to the engine.
    let stats_after = engine.status().viewers[0].clone();
    assert!(
        stats_after.packets_lost_reported >= 1 && stats_after.packets_lost_reported <= DROPS as u64,
        "{stats_after:?}"
    );
    for resent in &recovered {
        assert_eq!(resent.packet.header.payload_type, 100, "the viewer's PT");
        assert_eq!(resent.packet.header.ssrc, video[0].packet.header.ssrc);
    }
    println!(
        "retransmission: {} video packets lost on the link, {} resends by the engine, {} resent \
         copies seen by the viewer; {stats:?}",
        lost.len(),
        stats_after.packets_retransmitted,
        recovered.len()
    );
    viewer.close().await;
    engine.shutdown().await;
}

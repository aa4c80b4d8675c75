//! An offer shaped like OBS Studio's WHIP output: H.264 (packetization-mode 1) on PT 96 and
//! Opus on PT 111, with its own extension ids.

use crate::support::{TestViewer, codec, opus};
use lectern_media::{EngineConfig, MediaEngine, SourceKind};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::media_engine::MediaEngine as CodecTable;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use std::sync::Arc;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler};

/// `webrtc` 0.21 refuses to build a peer connection without a handler.
struct Quiet;

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Quiet {}

const H264_FMTP: &str = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";

fn track(kind: RtpCodecKind, ssrc: u32, codec: RTCRtpCodec) -> Arc<dyn TrackLocal> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "obs".into(),
        format!("obs-{ssrc}"),
        "obs".into(),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_an_obs_shaped_h264_offer_and_maps_viewers_to_h264() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    let h264 = codec("video/H264", 90_000, 0, H264_FMTP);
    let mut table = CodecTable::default();
    table
        .register_codec(
            RTCRtpCodecParameters {
                rtp_codec: h264.clone(),
                payload_type: 96,
            },
            RtpCodecKind::Video,
        )
        .unwrap();
    table
        .register_codec(
            RTCRtpCodecParameters {
                rtp_codec: opus(),
                payload_type: 111,
            },
            RtpCodecKind::Audio,
        )
        .unwrap();
    let pc: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(table)
            .with_handler(Arc::new(Quiet))
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await
            .unwrap(),
    );
    pc.add_track(track(RtpCodecKind::Audio, 11, opus()))
        .await
        .unwrap();
    pc.add_track(track(RtpCodecKind::Video, 12, h264))
        .await
        .unwrap();
    let offer = pc.create_offer(None).await.unwrap();
    pc.set_local_description(offer).await.unwrap();
    let offer = pc.local_description().await.unwrap().sdp;
    assert!(offer.contains("a=rtpmap:96 H264/90000"));

    let (id, answer) = engine.publish(&offer, false).await.unwrap();
    assert!(answer.contains("a=rtpmap:96 H264/90000"), "{answer}");
    assert!(answer.contains("a=rtpmap:111 opus/48000"), "{answer}");
    let source = engine.status().source.unwrap();
    assert_eq!(source.kind, SourceKind::Publisher(id));
    assert!(
        source
            .codecs
            .iter()
            .any(|c| c.eq_ignore_ascii_case("video/H264"))
    );

    // A viewer offering every default codec gets an H.264 leg in packetization mode 1.
    let viewer = TestViewer::join(&engine, None).await;
    let h264_pts: Vec<&str> = viewer
        .answer
        .lines()
        .filter_map(|l| l.strip_prefix("a=rtpmap:"))
        .filter(|l| l.contains("H264/90000"))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(!h264_pts.is_empty(), "{}", viewer.answer);
    assert!(
        h264_pts
            .iter()
            .any(|pt| viewer.answer.contains(&format!("a=fmtp:{pt} "))
                && viewer
                    .answer
                    .lines()
                    .any(|l| l.starts_with(&format!("a=fmtp:{pt} "))
                        && l.contains("packetization-mode=1"))),
        "{}",
        viewer.answer
    );

    viewer.close().await;
    let _ = pc.close().await;
    engine.shutdown().await;
}

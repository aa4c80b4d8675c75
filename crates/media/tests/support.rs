//! Real `webrtc` peers on 127.0.0.1 that play a WHIP publisher and WHEP viewers.

use lectern_media::{
    KEYFRAME_TAP_SLOT, KeyframeRequestTap, MediaEngine, PublisherId, RtpStreamParams, TestCard,
    TrackKind, ViewerId,
};
use rtc::interceptor::Slot;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine as CodecTable;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    Registry,
};

pub const WAIT: Duration = Duration::from_secs(10);

/// What a test peer does with each remote track.
type OnTrack = Arc<dyn Fn(Arc<dyn TrackRemote>) + Send + Sync>;

pub fn codec(mime: &str, clock_rate: u32, channels: u16, fmtp: &str) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: mime.to_owned(),
        clock_rate,
        channels,
        sdp_fmtp_line: fmtp.to_owned(),
        rtcp_feedback: vec![],
    }
}

pub fn vp8() -> RTCRtpCodec {
    codec("video/VP8", 90_000, 0, "")
}

pub fn opus() -> RTCRtpCodec {
    codec("audio/opus", 48_000, 2, "minptime=10;useinbandfec=1")
}

/// Payload types a test peer registers; `None` means the crate's defaults.
#[derive(Clone, Copy)]
pub struct PayloadTypes {
    pub vp8: u8,
    pub opus: u8,
}

fn codec_table(pts: Option<PayloadTypes>) -> CodecTable {
    let mut table = CodecTable::default();
    match pts {
        None => table.register_default_codecs().unwrap(),
        Some(pts) => {
            table
                .register_codec(
                    RTCRtpCodecParameters {
                        rtp_codec: vp8(),
                        payload_type: pts.vp8,
                    },
                    RtpCodecKind::Video,
                )
                .unwrap();
            table
                .register_codec(
                    RTCRtpCodecParameters {
                        rtp_codec: opus(),
                        payload_type: pts.opus,
                    },
                    RtpCodecKind::Audio,
                )
                .unwrap();
        }
    }
    table
}

struct Events {
    gathered: Arc<Notify>,
    on_track: Option<OnTrack>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.notify_one();
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        if let Some(f) = &self.on_track {
            f(track);
        }
    }
}

async fn build_peer(
    pts: Option<PayloadTypes>,
    keyframe_tap: bool,
    on_track: Option<OnTrack>,
) -> (Arc<dyn PeerConnection>, Arc<Notify>) {
    build_custom_peer(pts, keyframe_tap, on_track, ViewerSetup::default()).await
}

/// Extra wiring for a test viewer: an interceptor of its own, SRTP settings.
#[derive(Default)]
pub struct ViewerSetup {
    /// Adds interceptors to the viewer's registry (after the defaults).
    pub registry: Option<Box<dyn FnOnce(Registry) -> Registry + Send>>,
    /// The viewer's SRTP replay window; `Some(0)` turns replay protection off.
    pub srtp_replay_window: Option<usize>,
}

async fn build_custom_peer(
    pts: Option<PayloadTypes>,
    keyframe_tap: bool,
    on_track: Option<OnTrack>,
    setup: ViewerSetup,
) -> (Arc<dyn PeerConnection>, Arc<Notify>) {
    let mut table = codec_table(pts);
    let mut registry = register_default_interceptors(Registry::new(), &mut table).unwrap();
    if keyframe_tap {
        registry = registry.with(Slot::from(KEYFRAME_TAP_SLOT), KeyframeRequestTap::default());
    }
    if let Some(customize) = setup.registry {
        registry = customize(registry);
    }
    let mut settings = SettingEngineBuilder::new();
    if let Some(window) = setup.srtp_replay_window {
        settings = settings.with_srtp_replay_protection_window(window);
    }
    let gathered = Arc::new(Notify::new());
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(table)
        .with_setting_engine(settings.build())
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(Events {
            gathered: gathered.clone(),
            on_track,
        }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
        .build()
        .await
        .unwrap();
    (Arc::new(pc), gathered)
}

/// Creates the offer and waits for all candidates: WHIP/WHEP without trickle.
async fn full_offer(pc: &Arc<dyn PeerConnection>, gathered: &Notify) -> String {
    let offer = pc.create_offer(None).await.unwrap();
    pc.set_local_description(offer).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(3), gathered.notified()).await;
    pc.local_description().await.unwrap().sdp
}

/// A WHIP publisher that plays the test card with PT 96 (VP8) / 111 (Opus), as OBS numbers them.
pub struct TestPublisher {
    pub id: PublisherId,
    pub pc: Arc<dyn PeerConnection>,
    /// When each PLI from the engine arrived.
    pub plis: Arc<Mutex<Vec<Instant>>>,
    media: tokio::task::JoinHandle<()>,
}

pub const PUBLISHER_PTS: PayloadTypes = PayloadTypes { vp8: 96, opus: 111 };

impl TestPublisher {
    pub async fn start(engine: &MediaEngine) -> Self {
        let (pc, gathered) = build_peer(Some(PUBLISHER_PTS), true, None).await;
        let video_ssrc = 0x1111_0001;
        let audio_ssrc = 0x1111_0002;
        let video = local_track(TrackKind::Video, video_ssrc, vp8());
        let audio = local_track(TrackKind::Audio, audio_ssrc, opus());
        pc.add_track(video.clone() as Arc<dyn TrackLocal>)
            .await
            .unwrap();
        pc.add_track(audio.clone() as Arc<dyn TrackLocal>)
            .await
            .unwrap();
        let offer = full_offer(&pc, &gathered).await;
        let (id, answer) = engine.publish(&offer, false).await.unwrap();
        pc.set_remote_description(RTCSessionDescription::answer(answer).unwrap())
            .await
            .unwrap();

        let plis = Arc::new(Mutex::new(Vec::new()));
        let pli_log = plis.clone();
        let pli_track = video.clone();
        tokio::spawn(async move {
            loop {
                match pli_track.poll().await {
                    Some(TrackLocalEvent::OnRtcpPacket(packets)) => {
                        let n = packets
                            .iter()
                            .filter(|p| p.as_any().is::<PictureLossIndication>())
                            .count();
                        let now = Instant::now();
                        pli_log.lock().unwrap().extend(std::iter::repeat_n(now, n));
                    }
                    Some(_) => {}
                    None => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        });

        let card = TestCard::embedded().unwrap();
        let media = tokio::spawn(async move {
            let player = card.player(
                RtpStreamParams {
                    ssrc: video_ssrc,
                    payload_type: PUBLISHER_PTS.vp8,
                },
                RtpStreamParams {
                    ssrc: audio_ssrc,
                    payload_type: PUBLISHER_PTS.opus,
                },
            );
            let start = tokio::time::Instant::now();
            for frame in player {
                tokio::time::sleep_until(start + frame.at).await;
                let track = match frame.kind {
                    TrackKind::Video => &video,
                    TrackKind::Audio => &audio,
                };
                for packet in frame.packets {
                    // Before DTLS is up writes fail; the card just keeps playing.
                    let _ = track.write_rtp(packet).await;
                }
            }
        });
        Self {
            id,
            pc,
            plis,
            media,
        }
    }

    pub fn pli_count_since(&self, since: Instant) -> usize {
        self.plis
            .lock()
            .unwrap()
            .iter()
            .filter(|t| **t >= since)
            .count()
    }

    pub async fn close(self) {
        self.media.abort();
        let _ = self.pc.close().await;
    }
}

fn local_track(kind: TrackKind, ssrc: u32, codec: RTCRtpCodec) -> Arc<TrackLocalStaticRTP> {
    let rtc_kind = match kind {
        TrackKind::Audio => RtpCodecKind::Audio,
        TrackKind::Video => RtpCodecKind::Video,
    };
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "test-publisher".to_owned(),
        format!("test-{}", kind.as_str()),
        format!("test-{}", kind.as_str()),
        rtc_kind,
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

/// One RTP packet as a viewer saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub kind: TrackKind,
    pub packet: rtp::Packet,
}

/// A receive-only WHEP viewer.
pub struct TestViewer {
    pub id: ViewerId,
    pub pc: Arc<dyn PeerConnection>,
    pub answer: String,
    pub subscribed_at: Instant,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub video_track: Arc<Mutex<Option<Arc<dyn TrackRemote>>>>,
}

impl TestViewer {
    pub async fn join(engine: &MediaEngine, pts: Option<PayloadTypes>) -> Self {
        Self::join_with(engine, pts, ViewerSetup::default()).await
    }

    /// A viewer with its own interceptors or SRTP settings.
    pub async fn join_with(
        engine: &MediaEngine,
        pts: Option<PayloadTypes>,
        setup: ViewerSetup,
    ) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::new(Mutex::new(Vec::new()));
        let video_track: Arc<Mutex<Option<Arc<dyn TrackRemote>>>> = Arc::new(Mutex::new(None));
        let sink = received.clone();
        let video_slot = video_track.clone();
        let on_track: OnTrack = Arc::new(move |track: Arc<dyn TrackRemote>| {
            let sink = sink.clone();
            let video_slot = video_slot.clone();
            tokio::spawn(async move {
                let kind = match track.kind().await {
                    RtpCodecKind::Audio => TrackKind::Audio,
                    _ => TrackKind::Video,
                };
                if kind == TrackKind::Video {
                    *video_slot.lock().unwrap() = Some(track.clone());
                }
                while let Some(event) = track.poll().await {
                    if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                        sink.lock().unwrap().push(Received {
                            at: Instant::now(),
                            kind,
                            packet,
                        });
                    }
                }
            });
        });
        let (pc, gathered) = build_custom_peer(pts, false, Some(on_track), setup).await;
        for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
            pc.add_transceiver_from_kind(
                kind,
                Some(RTCRtpTransceiverInit {
                    direction: RTCRtpTransceiverDirection::Recvonly,
                    ..Default::default()
                }),
            )
            .await
            .unwrap();
        }
        let offer = full_offer(&pc, &gathered).await;
        let subscribed_at = Instant::now();
        let (id, answer) = engine.subscribe(&offer).await.unwrap();
        pc.set_remote_description(RTCSessionDescription::answer(answer.clone()).unwrap())
            .await
            .unwrap();
        Self {
            id,
            pc,
            answer,
            subscribed_at,
            received,
            video_track,
        }
    }

    pub fn count(&self, kind: TrackKind) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.kind == kind)
            .count()
    }

    pub fn packets(&self, kind: TrackKind) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.kind == kind)
            .cloned()
            .collect()
    }

    /// Waits until this viewer has at least `video` video and `audio` audio packets.
    pub async fn wait_for(&self, video: usize, audio: usize) {
        let deadline = Instant::now() + WAIT;
        while self.count(TrackKind::Video) < video || self.count(TrackKind::Audio) < audio {
            assert!(
                Instant::now() < deadline,
                "viewer got {} video / {} audio packets, wanted {video} / {audio}",
                self.count(TrackKind::Video),
                self.count(TrackKind::Audio)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a PLI about the video it receives.
    pub async fn send_pli(&self) {
        let track = self.video_track.lock().unwrap().clone();
        let track = track.expect("video track arrived");
        let media_ssrc = self
            .packets(TrackKind::Video)
            .first()
            .map(|r| r.packet.header.ssrc)
            .unwrap_or_default();
        track
            .write_rtcp(vec![Box::new(PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc,
            })])
            .await
            .unwrap();
    }

    /// The payload type the engine's answer gives this encoding name (e.g. "VP8", "opus").
    pub fn negotiated_pt(&self, encoding: &str) -> u8 {
        self.answer
            .lines()
            .filter_map(|l| l.trim_end().strip_prefix("a=rtpmap:"))
            .find_map(|rest| {
                let (pt, enc) = rest.split_once(' ')?;
                enc.split('/')
                    .next()?
                    .eq_ignore_ascii_case(encoding)
                    .then(|| pt.parse().ok())?
            })
            .expect("codec in the answer")
    }

    pub async fn close(self) {
        let _ = self.pc.close().await;
    }
}

/// Independent of the engine's own parser: RFC 7741 descriptor, then the VP8 frame tag.
pub fn vp8_keyframe_start(payload: &[u8]) -> bool {
    let Some(&b0) = payload.first() else {
        return false;
    };
    if b0 & 0x10 == 0 || b0 & 0x0f != 0 {
        return false;
    }
    let mut i = 1;
    if b0 & 0x80 != 0 {
        let x = payload[1];
        i = 2;
        if x & 0x80 != 0 {
            i += if payload[i] & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            i += 1;
        }
        if x & 0x30 != 0 {
            i += 1;
        }
    }
    payload.get(i).is_some_and(|t| t & 1 == 0)
}

/// Sequence numbers strictly increase (mod 2^16) with no step larger than `max_gap`.
pub fn assert_increasing(packets: &[Received], max_gap: u16) {
    for pair in packets.windows(2) {
        let step = pair[1]
            .packet
            .header
            .sequence_number
            .wrapping_sub(pair[0].packet.header.sequence_number);
        assert!(
            step >= 1 && step <= max_gap,
            "sequence {} then {}",
            pair[0].packet.header.sequence_number,
            pair[1].packet.header.sequence_number
        );
    }
}

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Network tests take turns: on two cores, parallel peers skew the timing checks, and the
/// socket-leak check counts the whole process's descriptors.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// [`serial`] for a test that is not async.
pub fn serial_blocking() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.blocking_lock()
}

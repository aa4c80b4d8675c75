//! The engine: one source (a WHIP publisher or the built-in test card) fanned out to WHEP
//! viewers, each with its own queue, payload-type and extension mapping, and keyframe gate.

use crate::error::MediaError;
use crate::interceptor::{KEYFRAME_TAP_SLOT, KeyframeRequestTap, is_keyframe_request};
use crate::keyframe::{KeyframeDecision, KeyframeThrottle, starts_keyframe};
use crate::sdp::{self, MediaSection, NegotiatedCodec};
use crate::testcard::{RtpStreamParams, TestCard};
use crate::{
    EngineConfig, EngineStatus, PublisherId, SessionId, SourceKind, SourceStatus, TrackKind,
    ViewerId, ViewerStats,
};
use rtc::interceptor::Slot;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine as CodecTable;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCPeerConnectionState, Registry,
};

/// Header extensions that describe one transport leg, not the media: forwarding the
/// publisher's values to a viewer would be wrong (the viewer's leg writes its own or none).
const PER_LEG_EXTENSIONS: &[&str] = &[
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
];

/// A process-unique, unpredictable number: SipHash with per-process random keys over a counter.
/// Session ids are built from it, so one viewer cannot guess another's DELETE URL.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    KEYS.get_or_init(std::collections::hash_map::RandomState::new)
        .hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub(crate) fn random_u32() -> u32 {
    (random_u64() >> 32) as u32
}

/// The codec a source sends on one payload type, with the extension ids of its leg.
#[derive(Debug)]
pub(crate) struct SourceCodec {
    pub(crate) mime_type: String,
    pub(crate) clock_rate: u32,
    fmtp: String,
    /// `(id, uri)` as negotiated with the source.
    extensions: Vec<(u8, String)>,
}

/// One RTP packet from the source, shared by every viewer queue.
#[derive(Debug)]
pub(crate) struct SourcePacket {
    pub(crate) kind: TrackKind,
    pub(crate) codec: Arc<SourceCodec>,
    /// Which source produced it; a change means sequence numbers and timestamps jump.
    pub(crate) generation: u64,
    /// `Some(true)` on the first packet of a keyframe; `None` for codecs that are not gated.
    keyframe_start: Option<bool>,
    pub(crate) packet: rtp::Packet,
}

/// Why a keyframe is wanted; all of them go through one throttle.
#[derive(Debug, Clone, Copy)]
enum KeyframeRequest {
    /// A viewer's connection came up; its video is held until a keyframe.
    Joined,
    /// A viewer sent PLI or FIR.
    Asked,
    /// A viewer's queue overflowed and it lost video; it waits for a keyframe again.
    Resync,
    /// A viewer's video switched to a new source and waits for its first keyframe.
    SourceChanged,
    /// The recording lost video, met a new source, or has gone 2 s without a keyframe.
    Recording,
}

#[derive(Debug, Default)]
pub(crate) struct ViewerCounters {
    pub(crate) forwarded: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Held back on purpose: before the connection is up, or video until a keyframe.
    skipped: AtomicU64,
    keyframe_requests: AtomicU64,
    /// Set by the fan-out when it had to drop video for this viewer.
    resync: AtomicBool,
    /// Reached `Connected` at least once; read by the connect watchdog.
    ever_connected: AtomicBool,
    /// DTLS is up. Before that `write_rtp` may accept a packet that never leaves (the track is
    /// bound but SRTP is not ready), so a keyframe written then would be silently lost.
    pub(crate) connected: AtomicBool,
    /// Video packets resent from [`ViewerCounters::history`] in answer to this viewer's NACKs.
    retransmitted: AtomicU64,
    /// Fault injection: hold back every this-many-th video packet's first send (0: never).
    simulate_loss_every: u64,
    /// Video packets held back by the fault injection.
    pub(crate) simulated_losses: AtomicU64,
    /// RTP bytes (header and payload, before SRTP) handed to the connection.
    pub(crate) bytes_sent: AtomicU64,
    /// From the viewer's latest receiver report: cumulative packets lost, summed over tracks.
    reported_lost: Mutex<HashMap<u32, u32>>,
    /// Latest `fraction lost` (of 256) about the video track.
    fraction_lost: AtomicU64,
    /// Round-trip time from the latest receiver report that names one of our sender reports;
    /// `u64::MAX` until then.
    rtt_us: AtomicU64,
    /// The last [`HISTORY_PACKETS`] video packets exactly as this leg sent them (payloads are
    /// shared with the source packet), by sequence number, for NACKs.
    history: Mutex<Vec<Option<rtp::Packet>>>,
    /// `(when, bytes_sent then, bit/s over the interval before)` for the studio's bitrate.
    rate: Mutex<Option<(Instant, u64, u64)>>,
}

/// Video packets kept per viewer for retransmission: more than 1 s at 1.5 Mbit/s (~200/s).
const HISTORY_PACKETS: usize = 512;

impl ViewerCounters {
    pub(crate) fn new() -> Self {
        Self {
            rtt_us: AtomicU64::new(u64::MAX),
            ..Self::default()
        }
    }

    fn remember(&self, packet: &rtp::Packet) {
        let slot = usize::from(packet.header.sequence_number) % HISTORY_PACKETS;
        let mut history = lock(&self.history);
        if history.len() < HISTORY_PACKETS {
            history.resize(HISTORY_PACKETS, None);
        }
        history[slot] = Some(packet.clone());
    }

    fn recall(&self, sequence_number: u16) -> Option<rtp::Packet> {
        let history = lock(&self.history);
        history
            .get(usize::from(sequence_number) % HISTORY_PACKETS)?
            .as_ref()
            .filter(|p| p.header.sequence_number == sequence_number)
            .cloned()
    }

    /// Bit/s over the last interval of at least one second (0 before the first full one).
    pub(crate) fn bitrate(&self, now: Instant) -> u64 {
        let bytes = self.bytes_sent.load(Ordering::Relaxed);
        let mut rate = lock(&self.rate);
        match *rate {
            None => {
                *rate = Some((now, bytes, 0));
                0
            }
            Some((at, before, bps)) => {
                let elapsed = now.duration_since(at);
                if elapsed < Duration::from_secs(1) {
                    return bps;
                }
                let bps =
                    (bytes.saturating_sub(before) as f64 * 8.0 / elapsed.as_secs_f64()) as u64;
                *rate = Some((now, bytes, bps));
                bps
            }
        }
    }

    fn on_receiver_report(&self, report: &ReceiverReport, video_ssrc: Option<u32>) {
        for block in &report.reports {
            lock(&self.reported_lost).insert(block.ssrc, block.total_lost);
            if Some(block.ssrc) == video_ssrc {
                self.fraction_lost
                    .store(u64::from(block.fraction_lost), Ordering::Relaxed);
            }
            if block.last_sender_report != 0 {
                // RFC 3550 6.4.1, in 1/65536 s: arrival - LSR - DLSR.
                let units = ntp_middle_now()
                    .wrapping_sub(block.last_sender_report)
                    .wrapping_sub(block.delay);
                if units < 0x8000_0000 {
                    self.rtt_us
                        .store(u64::from(units) * 1_000_000 / 65_536, Ordering::Relaxed);
                }
            }
        }
    }
}

/// The middle 32 bits of the current NTP time, as in RTCP's LSR field.
fn ntp_middle_now() -> u32 {
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since_unix.as_secs() + 2_208_988_800;
    let fraction = u64::from(since_unix.subsec_nanos()) * 65_536 / 1_000_000_000;
    (((seconds & 0xffff) << 16) | fraction) as u32
}

/// What the fan-out needs of a viewer, cheap to clone.
#[derive(Clone)]
struct ViewerSink {
    id: ViewerId,
    queue: mpsc::Sender<Arc<SourcePacket>>,
    counters: Arc<ViewerCounters>,
}

struct Viewer {
    pc: Arc<dyn PeerConnection>,
    /// Candidates trickled to it so far (bounded by [`MAX_TRICKLED_CANDIDATES`]).
    trickled: Arc<AtomicU32>,
    counters: Arc<ViewerCounters>,
    stopped: Arc<AtomicBool>,
    forward_task: JoinHandle<()>,
    /// The never-connected watchdog; aborted on close so it does not outlive the viewer.
    watchdog: JoinHandle<()>,
}

/// The publisher's video track, once it arrives, so keyframe requests can reach it.
type UpstreamVideo = Arc<Mutex<Option<(Arc<dyn TrackRemote>, u32)>>>;

struct Publisher {
    id: PublisherId,
    pc: Arc<dyn PeerConnection>,
    /// Candidates trickled to it so far (bounded by [`MAX_TRICKLED_CANDIDATES`]).
    trickled: Arc<AtomicU32>,
    codecs: Vec<String>,
    video: UpstreamVideo,
}

struct TestCardSource {
    codecs: Vec<String>,
    task: JoinHandle<()>,
}

/// Frames encoded on this machine (the desktop window's capture), packetized here.
struct LocalSource {
    codecs: Vec<String>,
    generation: u64,
    packetizer: crate::local::Packetizer,
    video_codec: Arc<SourceCodec>,
    audio_codec: Arc<SourceCodec>,
    /// Counts the keyframes viewers asked for (coalesced), for the encoder to answer.
    keyframes: tokio::sync::watch::Sender<u64>,
}

enum Source {
    Publisher(Publisher),
    TestCard(TestCardSource),
    Local(LocalSource),
}

#[derive(Default)]
struct State {
    source: Option<Source>,
    viewers: HashMap<ViewerId, Viewer>,
}

pub(crate) struct Inner {
    config: EngineConfig,
    /// The relay to an external WHIP server, if one is running (see `relay.rs`).
    pub(crate) relay: Mutex<Option<crate::relay::RelayHandle>>,
    /// Where new peer connections bind; starts as `config.udp_addrs`, changed by
    /// [`MediaEngine::set_udp_addrs`] when the studio opens to (or closes from) the network.
    udp_addrs: Mutex<Vec<String>>,
    state: Mutex<State>,
    /// Copy-on-write list read once per packet by the fan-out.
    sinks: RwLock<Arc<Vec<ViewerSink>>>,
    keyframe_tx: mpsc::Sender<KeyframeRequest>,
    current_generation: AtomicU64,
    next_generation: AtomicU64,
    upstream_keyframe_requests: AtomicU64,
    /// The test card's current GOP, replayed to a viewer when it connects.
    gop: Arc<Mutex<Gop>>,
    /// Viewers removed (stopped, failed, never connected), for the host's presence.
    gone: tokio::sync::broadcast::Sender<ViewerId>,
    /// The recording, if one runs: it sees every packet the fan-out passes (`recording.rs`).
    pub(crate) recording: crate::recording::RecordingSlot,
}

/// At most this many packets of a GOP are cached; a longer GOP is not cached at all.
const GOP_CACHE_PACKETS: usize = 1_024;

/// The video packets from the latest keyframe on, so a new viewer can start at once.
#[derive(Default)]
struct Gop {
    generation: u64,
    packets: Vec<Arc<SourcePacket>>,
}

impl Gop {
    fn record(&mut self, packet: &Arc<SourcePacket>) {
        if packet.kind != TrackKind::Video {
            return;
        }
        match packet.keyframe_start {
            Some(true) => {
                self.generation = packet.generation;
                self.packets.clear();
                self.packets.push(packet.clone());
            }
            Some(false)
                if self.generation == packet.generation
                    && !self.packets.is_empty()
                    && self.packets.len() < GOP_CACHE_PACKETS =>
            {
                self.packets.push(packet.clone());
            }
            _ => self.packets.clear(),
        }
    }

    /// The cached packets of `next`'s source that come before it.
    fn before(&self, next: &SourcePacket) -> Vec<Arc<SourcePacket>> {
        if self.generation != next.generation {
            return Vec::new();
        }
        let seq = next.packet.header.sequence_number;
        self.packets
            .iter()
            .filter(|p| (1..0x8000).contains(&seq.wrapping_sub(p.packet.header.sequence_number)))
            .cloned()
            .collect()
    }
}

/// The handle the HTTP layer holds: cheap to clone, all methods `&self`.
///
/// Must be created inside a tokio runtime (it spawns its keyframe-request task).
#[derive(Clone)]
pub struct MediaEngine {
    inner: Arc<Inner>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MediaEngine {
    /// An engine with no source and no viewers.
    pub fn new(config: EngineConfig) -> Self {
        let (keyframe_tx, keyframe_rx) = mpsc::channel(1024);
        let inner = Arc::new(Inner {
            relay: Mutex::new(None),
            udp_addrs: Mutex::new(config.udp_addrs.clone()),
            config,
            state: Mutex::new(State::default()),
            sinks: RwLock::new(Arc::new(Vec::new())),
            keyframe_tx,
            current_generation: AtomicU64::new(0),
            next_generation: AtomicU64::new(1),
            upstream_keyframe_requests: AtomicU64::new(0),
            gop: Arc::new(Mutex::new(Gop::default())),
            gone: tokio::sync::broadcast::channel(1024).0,
            recording: crate::recording::RecordingSlot::default(),
        });
        tokio::spawn(keyframe_loop(
            Arc::downgrade(&inner),
            keyframe_rx,
            inner.config.keyframe_request_interval,
        ));
        Self { inner }
    }

    /// Viewers as they go (stopped by DELETE, failed, or never connected): subscribe before
    /// [`MediaEngine::subscribe`] to learn when the viewer it creates is gone.
    pub fn viewers_gone(&self) -> tokio::sync::broadcast::Receiver<ViewerId> {
        self.inner.gone.subscribe()
    }

    /// Where new publishers and viewers bind their UDP sockets from now on (sessions already
    /// connected keep theirs): loopback only, or also every interface when the studio is open to
    /// its local network.
    pub fn set_udp_addrs(&self, addrs: Vec<String>) {
        if let Ok(mut current) = self.inner.udp_addrs.lock() {
            *current = addrs;
        }
    }

    /// Where new sessions bind now.
    pub fn udp_addrs(&self) -> Vec<String> {
        self.inner
            .udp_addrs
            .lock()
            .map(|a| a.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// WHIP ingest: answer a publisher's offer and make it the source.
    ///
    /// With `replace` false, a live publisher makes this fail with
    /// [`MediaError::PublisherExists`]; the built-in test card is always replaced.
    ///
    /// # Errors
    /// `TooLarge`, `BadSdp`, `UnsupportedCodec`, `PublisherExists`, `WebRtc`.
    pub async fn publish(
        &self,
        offer_sdp: &str,
        replace: bool,
    ) -> Result<(PublisherId, String), MediaError> {
        let sections = self.check_offer(offer_sdp)?;
        if !replace && self.publisher_live() {
            return Err(MediaError::PublisherExists);
        }
        let id = PublisherId(random_u64());
        let generation = self.inner.next_generation.fetch_add(1, Ordering::Relaxed);
        let codecs_cell: Arc<OnceLock<SourceCodecs>> = Arc::new(OnceLock::new());
        let video: UpstreamVideo = Arc::new(Mutex::new(None));
        let gathered = Arc::new(Notify::new());
        let connected = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(PublisherEvents {
            engine: Arc::downgrade(&self.inner),
            id,
            connected: connected.clone(),
            generation,
            codecs: codecs_cell.clone(),
            video: video.clone(),
            gathered: gathered.clone(),
        });
        let mut table = CodecTable::default();
        table
            .register_default_codecs()
            .map_err(|e| MediaError::webrtc("codecs", e))?;
        let registry = register_default_interceptors(Registry::new(), &mut table)
            .map_err(|e| MediaError::webrtc("interceptors", e))?;
        let pc = self.build_pc(table, registry, handler).await?;
        let answer = async {
            for kind in [TrackKind::Audio, TrackKind::Video] {
                if sdp::section_of(&sections, kind).is_some() {
                    pc.add_transceiver_from_kind(
                        kind.codec_kind(),
                        Some(RTCRtpTransceiverInit {
                            direction: RTCRtpTransceiverDirection::Recvonly,
                            ..Default::default()
                        }),
                    )
                    .await
                    .map_err(|e| MediaError::webrtc("add transceiver", e))?;
                }
            }
            self.negotiate(&pc, offer_sdp, &gathered).await
        }
        .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) => {
                let _ = pc.close().await;
                return Err(err);
            }
        };
        let negotiated = SourceCodecs::from_sections(&sdp::media_sections(&answer));
        let codecs = negotiated.names();
        let _ = codecs_cell.set(negotiated);

        let old = {
            let mut state = lock(&self.inner.state);
            // Checked again here: another publisher may have gone live while we negotiated.
            if !replace && matches!(state.source, Some(Source::Publisher(_))) {
                Err(MediaError::PublisherExists)
            } else {
                self.inner
                    .current_generation
                    .store(generation, Ordering::Release);
                Ok(state.source.replace(Source::Publisher(Publisher {
                    id,
                    pc: pc.clone(),
                    trickled: Arc::default(),
                    codecs,
                    video,
                })))
            }
        };
        match old {
            Ok(old) => {
                if let Some(old) = old {
                    retire(old).await;
                }
                tracing::info!(publisher = %id, "publisher live");
                tokio::spawn(expire_if_never_connected(
                    Arc::downgrade(&self.inner),
                    SessionId::Publisher(id),
                    connected,
                    self.inner.config.connect_timeout,
                ));
                Ok((id, answer))
            }
            Err(err) => {
                let _ = pc.close().await;
                Err(err)
            }
        }
    }

    /// WHEP egress: answer a receive-only viewer's offer and add it to the fan-out.
    ///
    /// A viewer may arrive before the source; it then receives nothing until one goes live.
    ///
    /// # Errors
    /// `TooLarge`, `BadSdp`, `UnsupportedCodec`, `WebRtc`.
    pub async fn subscribe(&self, offer_sdp: &str) -> Result<(ViewerId, String), MediaError> {
        let sections = self.check_offer(offer_sdp)?;
        let id = ViewerId(random_u64());
        let gathered = Arc::new(Notify::new());
        let stopped = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(ViewerCounters {
            simulate_loss_every: self
                .inner
                .config
                .simulate_video_loss_every
                .map_or(0, u64::from),
            ..ViewerCounters::new()
        });
        let handler = Arc::new(ViewerEvents {
            engine: Arc::downgrade(&self.inner),
            id,
            gathered: gathered.clone(),
            counters: counters.clone(),
        });
        let mut table = CodecTable::default();
        table
            .register_default_codecs()
            .map_err(|e| MediaError::webrtc("codecs", e))?;
        let registry = register_default_interceptors(Registry::new(), &mut table)
            .map_err(|e| MediaError::webrtc("interceptors", e))?
            .with(Slot::from(KEYFRAME_TAP_SLOT), KeyframeRequestTap::default());
        let pc = self.build_pc(table, registry, handler).await?;

        let mut tracks: Vec<(TrackKind, Arc<TrackLocalStaticRTP>, u32)> = Vec::new();
        let source_codecs = self.source_codec_names();
        let negotiated = async {
            for kind in [TrackKind::Audio, TrackKind::Video] {
                if sdp::section_of(&sections, kind).is_none() {
                    continue;
                }
                let ssrc = random_u32();
                let codec = track_codec(kind, source_codecs.get(&kind));
                let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                    "lectern".to_owned(),
                    format!("lectern-{}", kind.as_str()),
                    format!("lectern-{}", kind.as_str()),
                    kind.codec_kind(),
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(ssrc),
                            ..Default::default()
                        },
                        codec,
                        ..Default::default()
                    }],
                )));
                pc.add_track(track.clone() as Arc<dyn TrackLocal>)
                    .await
                    .map_err(|e| MediaError::webrtc("add track", e))?;
                tracks.push((kind, track, ssrc));
            }
            self.negotiate(&pc, offer_sdp, &gathered).await
        }
        .await;
        let answer = match negotiated {
            Ok(answer) => answer,
            Err(err) => {
                let _ = pc.close().await;
                return Err(err);
            }
        };

        let answer_sections = sdp::media_sections(&answer);
        let mut legs: Vec<ViewerTrack> = Vec::new();
        for (kind, track, ssrc) in tracks {
            let section = sdp::section_of(&answer_sections, kind)
                .cloned()
                .unwrap_or_default();
            tokio::spawn(watch_viewer_rtcp(
                kind,
                track.clone(),
                ssrc,
                self.inner.keyframe_tx.clone(),
                stopped.clone(),
                counters.clone(),
                Arc::downgrade(&self.inner),
            ));
            legs.push(ViewerTrack::new(kind, track, ssrc, section));
        }

        let (queue, queue_rx) = mpsc::channel(self.inner.config.viewer_queue_packets.max(1));
        let forward_task = tokio::spawn(forward_to_viewer(
            queue_rx,
            legs,
            counters.clone(),
            self.inner.keyframe_tx.clone(),
            self.inner.gop.clone(),
        ));
        let watchdog = tokio::spawn(expire_viewer_if_never_connected(
            Arc::downgrade(&self.inner),
            id,
            self.inner.config.connect_timeout,
        ));
        {
            let mut state = lock(&self.inner.state);
            state.viewers.insert(
                id,
                Viewer {
                    pc,
                    trickled: Arc::default(),
                    counters: counters.clone(),
                    stopped,
                    forward_task,
                    watchdog,
                },
            );
            let mut sinks = self
                .inner
                .sinks
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut list: Vec<ViewerSink> = sinks.as_ref().clone();
            list.push(ViewerSink {
                id,
                queue,
                counters,
            });
            *sinks = Arc::new(list);
        }
        tracing::info!(viewer = %id, "viewer joined");
        Ok((id, answer))
    }

    /// Trickle ICE (WHIP/WHEP PATCH): one `candidate:...` line, with or without `a=`.
    ///
    /// # Errors
    /// `UnknownSession`, `BadCandidate`.
    pub async fn add_ice_candidate(
        &self,
        id: impl Into<SessionId>,
        candidate: &str,
    ) -> Result<(), MediaError> {
        let id = id.into();
        let (pc, trickled) = self
            .peer_connection(id)
            .ok_or_else(|| MediaError::UnknownSession(id.to_string()))?;
        // A peer gathers a handful per interface; thousands are an attack on memory and CPU.
        if trickled.fetch_add(1, Ordering::Relaxed) >= MAX_TRICKLED_CANDIDATES {
            return Err(MediaError::BadCandidate(format!(
                "at most {MAX_TRICKLED_CANDIDATES} candidates per session"
            )));
        }
        let line = candidate.trim();
        let line = line.strip_prefix("a=").unwrap_or(line);
        if !line.starts_with("candidate:") {
            return Err(MediaError::BadCandidate(
                "expected a line starting with candidate:".into(),
            ));
        }
        pc.add_ice_candidate(RTCIceCandidateInit {
            candidate: line.to_owned(),
            sdp_mline_index: Some(0),
            ..Default::default()
        })
        .await
        .map_err(|e| MediaError::BadCandidate(e.to_string()))
    }

    /// End a session (WHIP/WHEP DELETE): a publisher stops being the source, a viewer leaves
    /// the fan-out and its stats go with it.
    ///
    /// # Errors
    /// `UnknownSession`.
    pub async fn stop(&self, id: impl Into<SessionId>) -> Result<(), MediaError> {
        let id = id.into();
        match id {
            SessionId::Viewer(viewer) => {
                let removed = self.inner.remove_viewer(viewer);
                match removed {
                    Some(viewer) => {
                        close_viewer(viewer).await;
                        Ok(())
                    }
                    None => Err(MediaError::UnknownSession(id.to_string())),
                }
            }
            SessionId::Publisher(publisher) => match self.inner.remove_publisher(publisher) {
                Some(source) => {
                    retire(source).await;
                    Ok(())
                }
                None => Err(MediaError::UnknownSession(id.to_string())),
            },
        }
    }

    /// Loop the built-in test card into the fan-out, replacing a previous test card.
    ///
    /// # Errors
    /// `PublisherExists` while a publisher is live (the card never pre-empts a person);
    /// `TestCard` if the card does not parse.
    pub async fn start_test_card(&self, card: TestCard) -> Result<(), MediaError> {
        self.install_own_source(|inner, generation| {
            let (video_codec, audio_codec) = vp8_and_opus();
            let task = tokio::spawn(play_test_card(
                Arc::downgrade(inner),
                card,
                generation,
                video_codec,
                audio_codec,
            ));
            Source::TestCard(TestCardSource {
                codecs: vec!["video/VP8".into(), "audio/opus".into()],
                task,
            })
        })
        .await
    }

    /// Make a source this engine feeds itself (the test card, the local source) the source,
    /// under a new generation, retiring the one before; never over a WHIP publisher (a person).
    async fn install_own_source(
        &self,
        make: impl FnOnce(&Arc<Inner>, u64) -> Source,
    ) -> Result<(), MediaError> {
        let generation = self.inner.next_generation.fetch_add(1, Ordering::Relaxed);
        let old = {
            let mut state = lock(&self.inner.state);
            if matches!(state.source, Some(Source::Publisher(_))) {
                return Err(MediaError::PublisherExists);
            }
            self.inner
                .current_generation
                .store(generation, Ordering::Release);
            state.source.replace(make(&self.inner, generation))
        };
        if let Some(old) = old {
            retire(old).await;
        }
        Ok(())
    }

    /// Make frames encoded on this machine the source (the desktop window's capture), replacing
    /// the test card or a previous local source. Feed it with [`MediaEngine::push_local`]. The
    /// returned counter rises each time viewers need a keyframe (coalesced like a publisher's
    /// PLI): the encoder should make its next video frame a keyframe then.
    ///
    /// # Errors
    /// `PublisherExists` while a WHIP publisher is live (stop it first).
    pub async fn start_local(&self) -> Result<tokio::sync::watch::Receiver<u64>, MediaError> {
        let (keyframes, wanted) = tokio::sync::watch::channel(0);
        self.install_own_source(|_, generation| {
            let (video_codec, audio_codec) = vp8_and_opus();
            let packetizer = crate::local::Packetizer::new(
                crate::RtpStreamParams {
                    ssrc: random_u32(),
                    payload_type: 96,
                },
                crate::RtpStreamParams {
                    ssrc: random_u32(),
                    payload_type: 111,
                },
                random_u32(),
            );
            Source::Local(LocalSource {
                codecs: vec!["video/VP8".into(), "audio/opus".into()],
                generation,
                packetizer,
                video_codec,
                audio_codec,
                keyframes,
            })
        })
        .await?;
        Ok(wanted)
    }

    /// Fan out one locally encoded frame.
    ///
    /// # Errors
    /// `NoLocalSource` when the local source is not the source (stopped, or replaced by a
    /// publisher); `BadFrame` when the frame is refused (nothing of it is sent).
    pub fn push_local(&self, frame: &crate::local::EncodedFrame) -> Result<(), MediaError> {
        let (packets, codec, generation) = {
            let mut state = lock(&self.inner.state);
            let Some(Source::Local(local)) = state.source.as_mut() else {
                return Err(MediaError::NoLocalSource);
            };
            let packets = local
                .packetizer
                .packetize(frame)
                .map_err(|e| MediaError::BadFrame(e.code(), e.to_string()))?;
            let codec = match frame.kind {
                TrackKind::Video => local.video_codec.clone(),
                TrackKind::Audio => local.audio_codec.clone(),
            };
            (packets, codec, local.generation)
        };
        for packet in packets {
            let keyframe_start = starts_keyframe(&codec.mime_type, &packet.payload);
            self.inner.fan_out_cached(SourcePacket {
                kind: frame.kind,
                codec: codec.clone(),
                generation,
                keyframe_start,
                packet,
            });
        }
        Ok(())
    }

    /// Stop the local source if it is the source. Returns whether it was.
    pub async fn stop_local(&self) -> bool {
        self.stop_source_if(|source| matches!(source, Source::Local(_)))
            .await
    }

    /// Stop the built-in source if it is the source. Returns whether it was.
    pub async fn stop_test_card(&self) -> bool {
        self.stop_source_if(|source| matches!(source, Source::TestCard(_)))
            .await
    }

    /// Retire the source if it is of the kind `is` picks. Returns whether it was.
    async fn stop_source_if(&self, is: impl Fn(&Source) -> bool) -> bool {
        let old = {
            let mut state = lock(&self.inner.state);
            if state.source.as_ref().is_some_and(&is) {
                self.inner.current_generation.store(0, Ordering::Release);
                state.source.take()
            } else {
                None
            }
        };
        match old {
            Some(old) => {
                retire(old).await;
                true
            }
            None => false,
        }
    }

    /// A snapshot for the studio: the source, its codecs, and per-viewer counters.
    pub fn status(&self) -> EngineStatus {
        let state = lock(&self.inner.state);
        let source = state.source.as_ref().map(|source| match source {
            Source::Publisher(p) => SourceStatus {
                kind: SourceKind::Publisher(p.id),
                codecs: p.codecs.clone(),
            },
            Source::TestCard(card) => SourceStatus {
                kind: SourceKind::TestCard,
                codecs: card.codecs.clone(),
            },
            Source::Local(local) => SourceStatus {
                kind: SourceKind::Local,
                codecs: local.codecs.clone(),
            },
        });
        let now = Instant::now();
        let mut viewers: Vec<ViewerStats> = state
            .viewers
            .iter()
            .map(|(id, v)| {
                let c = &v.counters;
                let rtt = c.rtt_us.load(Ordering::Relaxed);
                ViewerStats {
                    id: *id,
                    packets_forwarded: c.forwarded.load(Ordering::Relaxed),
                    packets_dropped: c.dropped.load(Ordering::Relaxed),
                    packets_skipped: c.skipped.load(Ordering::Relaxed),
                    keyframe_requests: c.keyframe_requests.load(Ordering::Relaxed),
                    packets_retransmitted: c.retransmitted.load(Ordering::Relaxed),
                    packets_simulated_lost: c.simulated_losses.load(Ordering::Relaxed),
                    bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
                    bitrate_bps: c.bitrate(now),
                    packets_lost_reported: lock(&c.reported_lost)
                        .values()
                        .map(|lost| u64::from(*lost))
                        .sum(),
                    video_loss_permille: u32::try_from(
                        c.fraction_lost.load(Ordering::Relaxed) * 1000 / 256,
                    )
                    .unwrap_or(1000),
                    rtt_us: (rtt != u64::MAX).then_some(rtt),
                }
            })
            .collect();
        viewers.sort_by_key(|v| v.id.0);
        drop(state);
        let relay = crate::relay::relay_status(&self.inner, now);
        EngineStatus {
            source,
            outgoing_bitrate_bps: viewers.iter().map(|v| v.bitrate_bps).sum::<u64>()
                + relay.as_ref().map_or(0, |r| r.bitrate_bps),
            viewers,
            relay,
            upstream_keyframe_requests: self
                .inner
                .upstream_keyframe_requests
                .load(Ordering::Relaxed),
        }
    }

    /// Close every peer connection (and stop the relay); the engine keeps working for new
    /// sessions.
    pub async fn shutdown(&self) {
        self.stop_relay().await;
        let (source, viewers) = {
            let mut state = lock(&self.inner.state);
            self.inner.current_generation.store(0, Ordering::Release);
            let viewers: Vec<Viewer> = state.viewers.drain().map(|(_, v)| v).collect();
            *self
                .inner
                .sinks
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(Vec::new());
            (state.source.take(), viewers)
        };
        if let Some(source) = source {
            retire(source).await;
        }
        for viewer in viewers {
            close_viewer(viewer).await;
        }
    }

    fn check_offer(&self, offer_sdp: &str) -> Result<Vec<MediaSection>, MediaError> {
        let limit = self.inner.config.max_sdp_bytes;
        if offer_sdp.len() > limit {
            return Err(MediaError::TooLarge {
                size: offer_sdp.len(),
                limit,
            });
        }
        RTCSessionDescription::offer(offer_sdp.to_owned())
            .map_err(|e| MediaError::BadSdp(e.to_string()))?;
        let sections = sdp::media_sections(offer_sdp);
        if !sections.iter().any(|s| s.kind.is_some()) {
            return Err(MediaError::BadSdp("no audio or video section".into()));
        }
        let supported = sections.iter().flat_map(|s| s.codecs.iter()).any(|c| {
            SUPPORTED_MIME_TYPES
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&c.mime_type))
        });
        if !supported {
            return Err(MediaError::UnsupportedCodec(
                "offer Opus, VP8, VP9, H.264 or AV1".into(),
            ));
        }
        Ok(sections)
    }

    fn publisher_live(&self) -> bool {
        matches!(lock(&self.inner.state).source, Some(Source::Publisher(_)))
    }

    fn source_codec_names(&self) -> HashMap<TrackKind, String> {
        let state = lock(&self.inner.state);
        let names = match &state.source {
            Some(Source::Publisher(p)) => p.codecs.clone(),
            Some(Source::TestCard(c)) => c.codecs.clone(),
            Some(Source::Local(l)) => l.codecs.clone(),
            None => Vec::new(),
        };
        names
            .into_iter()
            .map(|name| {
                let kind = if name.starts_with("audio/") {
                    TrackKind::Audio
                } else {
                    TrackKind::Video
                };
                (kind, name)
            })
            .collect()
    }

    /// A session's peer connection and its count of trickled candidates.
    fn peer_connection(&self, id: SessionId) -> Option<(Arc<dyn PeerConnection>, Arc<AtomicU32>)> {
        let state = lock(&self.inner.state);
        match id {
            SessionId::Viewer(v) => state
                .viewers
                .get(&v)
                .map(|v| (v.pc.clone(), v.trickled.clone())),
            SessionId::Publisher(p) => match &state.source {
                Some(Source::Publisher(publisher)) if publisher.id == p => {
                    Some((publisher.pc.clone(), publisher.trickled.clone()))
                }
                _ => None,
            },
        }
    }

    async fn build_pc(
        &self,
        table: CodecTable,
        registry: Registry,
        handler: Arc<dyn PeerConnectionEventHandler>,
    ) -> Result<Arc<dyn PeerConnection>, MediaError> {
        let pc = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(table)
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(self.udp_addrs())
            .build()
            .await
            .map_err(|e| MediaError::webrtc("peer connection", e))?;
        Ok(Arc::new(pc))
    }

    /// Offer in, complete answer (all host candidates gathered) out: WHIP and WHEP clients
    /// expect the answer in the 201 response, and trickle from our side is optional.
    async fn negotiate(
        &self,
        pc: &Arc<dyn PeerConnection>,
        offer_sdp: &str,
        gathered: &Notify,
    ) -> Result<String, MediaError> {
        let offer = RTCSessionDescription::offer(offer_sdp.to_owned())
            .map_err(|e| MediaError::BadSdp(e.to_string()))?;
        pc.set_remote_description(offer)
            .await
            .map_err(|e| MediaError::BadSdp(e.to_string()))?;
        let answer = pc
            .create_answer(None)
            .await
            .map_err(|e| MediaError::UnsupportedCodec(e.to_string()))?;
        pc.set_local_description(answer)
            .await
            .map_err(|e| MediaError::webrtc("set local description", e))?;
        // Host candidates on loopback gather in milliseconds; a timeout still returns what
        // there is, and the client can trickle.
        let _ = tokio::time::timeout(self.inner.config.gather_timeout, gathered.notified()).await;
        pc.local_description()
            .await
            .map(|d| d.sdp)
            .ok_or_else(|| MediaError::WebRtc("no local description after answering".into()))
    }
}

const SUPPORTED_MIME_TYPES: &[&str] = &[
    "audio/opus",
    "video/VP8",
    "video/VP9",
    "video/H264",
    "video/AV1",
];

/// The codec a viewer's track is created with: the live source's, else the test card's.
fn track_codec(kind: TrackKind, source: Option<&String>) -> RTCRtpCodec {
    match kind {
        TrackKind::Audio => RTCRtpCodec {
            mime_type: "audio/opus".into(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
            rtcp_feedback: vec![],
        },
        TrackKind::Video => {
            let mime = source.cloned().unwrap_or_else(|| "video/VP8".into());
            let fmtp = if mime.eq_ignore_ascii_case("video/H264") {
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".into()
            } else {
                String::new()
            };
            RTCRtpCodec {
                mime_type: mime,
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: fmtp,
                rtcp_feedback: vec![],
            }
        }
    }
}

impl Inner {
    fn remove_viewer(&self, id: ViewerId) -> Option<Viewer> {
        let mut state = lock(&self.state);
        let viewer = state.viewers.remove(&id)?;
        let mut sinks = self
            .sinks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list: Vec<ViewerSink> = sinks.iter().filter(|s| s.id != id).cloned().collect();
        *sinks = Arc::new(list);
        drop(sinks);
        drop(state);
        let _ = self.gone.send(id);
        Some(viewer)
    }

    fn remove_publisher(&self, id: PublisherId) -> Option<Source> {
        let mut state = lock(&self.state);
        match &state.source {
            Some(Source::Publisher(p)) if p.id == id => {
                self.current_generation.store(0, Ordering::Release);
                state.source.take()
            }
            _ => None,
        }
    }

    /// Ask the source for a keyframe on the recording's behalf (coalesced with the viewers').
    pub(crate) fn request_keyframe_for_recording(&self) {
        let _ = self.keyframe_tx.try_send(KeyframeRequest::Recording);
    }

    /// Hand one packet to every viewer's queue; a full queue costs only that viewer.
    fn fan_out(&self, packet: SourcePacket) {
        if self.current_generation.load(Ordering::Acquire) != packet.generation {
            return;
        }
        self.fan_out_shared(Arc::new(packet));
    }

    /// As [`Inner::fan_out`], first caching the packet in the current GOP.
    fn fan_out_cached(&self, packet: SourcePacket) {
        if self.current_generation.load(Ordering::Acquire) != packet.generation {
            return;
        }
        let packet = Arc::new(packet);
        lock(&self.gop).record(&packet);
        self.fan_out_shared(packet);
    }

    fn fan_out_shared(&self, packet: Arc<SourcePacket>) {
        self.recording.offer(&packet);
        let sinks = self
            .sinks
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for sink in sinks.iter() {
            match sink.queue.try_send(packet.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    sink.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    if packet.kind == TrackKind::Video {
                        sink.counters.resync.store(true, Ordering::Relaxed);
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
    }
}

/// A client that took an answer and never connected must not hold sockets and tasks forever.
async fn expire_if_never_connected(
    engine: Weak<Inner>,
    id: SessionId,
    connected: Arc<AtomicBool>,
    timeout: Duration,
) {
    tokio::time::sleep(timeout).await;
    if connected.load(Ordering::Acquire) {
        return;
    }
    let Some(engine) = engine.upgrade() else {
        return;
    };
    if let SessionId::Publisher(publisher) = id
        && let Some(source) = engine.remove_publisher(publisher)
    {
        tracing::info!(%id, "never connected; removed");
        retire(source).await;
    }
}

async fn expire_viewer_if_never_connected(engine: Weak<Inner>, id: ViewerId, timeout: Duration) {
    tokio::time::sleep(timeout).await;
    let Some(engine) = engine.upgrade() else {
        return;
    };
    let never = lock(&engine.state)
        .viewers
        .get(&id)
        .is_some_and(|v| !v.counters.ever_connected.load(Ordering::Acquire));
    if never && let Some(viewer) = engine.remove_viewer(id) {
        tracing::info!(viewer = %id, "never connected; removed");
        // Its own task: closing aborts this watchdog.
        tokio::spawn(close_viewer(viewer));
    }
}

async fn retire(source: Source) {
    match source {
        Source::Publisher(p) => {
            tracing::info!(publisher = %p.id, "publisher retired");
            let _ = p.pc.close().await;
        }
        Source::TestCard(card) => card.task.abort(),
        Source::Local(_) => tracing::info!("the local source stopped"),
    }
}

async fn close_viewer(viewer: Viewer) {
    viewer.stopped.store(true, Ordering::Relaxed);
    viewer.forward_task.abort();
    viewer.watchdog.abort();
    let _ = viewer.pc.close().await;
}

/// The codecs a publisher negotiated, by payload type, per kind.
#[derive(Debug, Default)]
struct SourceCodecs {
    by_payload_type: HashMap<(TrackKind, u8), Arc<SourceCodec>>,
    /// Per kind, the first supported codec in `m=` line order: the one the publisher sends.
    preferred: Vec<String>,
}

impl SourceCodecs {
    fn from_sections(sections: &[MediaSection]) -> Self {
        let mut by_payload_type = HashMap::new();
        let mut preferred = Vec::new();
        for section in sections {
            let Some(kind) = section.kind else { continue };
            for codec in &section.codecs {
                by_payload_type.insert(
                    (kind, codec.payload_type),
                    Arc::new(SourceCodec {
                        mime_type: codec.mime_type.clone(),
                        clock_rate: codec.clock_rate,
                        fmtp: codec.fmtp.clone(),
                        extensions: section.extensions.clone(),
                    }),
                );
            }
            let first_supported = section.formats.iter().find_map(|pt| {
                let codec = section.codecs.iter().find(|c| c.payload_type == *pt)?;
                SUPPORTED_MIME_TYPES
                    .iter()
                    .find(|m| m.eq_ignore_ascii_case(&codec.mime_type))
            });
            if let Some(mime) = first_supported {
                preferred.push((*mime).to_owned());
            }
        }
        Self {
            by_payload_type,
            preferred,
        }
    }

    /// The media codecs (not RTX/FEC), one name per kind, for status and viewer tracks.
    fn names(&self) -> Vec<String> {
        self.preferred.clone()
    }
}

struct PublisherEvents {
    engine: Weak<Inner>,
    id: PublisherId,
    /// Ever reached `Connected`; read by the connect watchdog.
    connected: Arc<AtomicBool>,
    generation: u64,
    codecs: Arc<OnceLock<SourceCodecs>>,
    video: UpstreamVideo,
    gathered: Arc<Notify>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for PublisherEvents {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.notify_one();
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(publisher = %self.id, %state, "publisher connection");
        if state == RTCPeerConnectionState::Connected {
            self.connected.store(true, Ordering::Release);
        }
        if matches!(
            state,
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
        ) && let Some(engine) = self.engine.upgrade()
            && let Some(source) = engine.remove_publisher(self.id)
        {
            tokio::spawn(retire(source));
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let kind = match track.kind().await {
            RtpCodecKind::Audio => TrackKind::Audio,
            _ => TrackKind::Video,
        };
        let engine = self.engine.clone();
        let codecs = self.codecs.clone();
        let video = self.video.clone();
        let generation = self.generation;
        tokio::spawn(async move {
            let mut announced = false;
            while let Some(event) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(packet) = event else {
                    if matches!(event, TrackRemoteEvent::OnEnded) {
                        break;
                    }
                    continue;
                };
                let Some(engine) = engine.upgrade() else {
                    break;
                };
                if kind == TrackKind::Video && !announced {
                    // The SSRC comes from the packet: `ssrcs()` can be empty this early.
                    *lock(&video) = Some((track.clone(), packet.header.ssrc));
                    announced = true;
                }
                let Some(codec) = codecs
                    .get()
                    .and_then(|c| c.by_payload_type.get(&(kind, packet.header.payload_type)))
                    .cloned()
                else {
                    continue;
                };
                let keyframe_start = starts_keyframe(&codec.mime_type, &packet.payload);
                engine.fan_out(SourcePacket {
                    kind,
                    codec,
                    generation,
                    keyframe_start,
                    packet,
                });
            }
        });
    }
}

struct ViewerEvents {
    engine: Weak<Inner>,
    id: ViewerId,
    gathered: Arc<Notify>,
    counters: Arc<ViewerCounters>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for ViewerEvents {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.notify_one();
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(viewer = %self.id, %state, "viewer connection");
        self.counters.connected.store(
            state == RTCPeerConnectionState::Connected,
            Ordering::Release,
        );
        let Some(engine) = self.engine.upgrade() else {
            return;
        };
        match state {
            RTCPeerConnectionState::Connected => {
                self.counters.ever_connected.store(true, Ordering::Release);
                let _ = engine.keyframe_tx.try_send(KeyframeRequest::Joined);
            }
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                if let Some(viewer) = engine.remove_viewer(self.id) {
                    tokio::spawn(close_viewer(viewer));
                }
            }
            _ => {}
        }
    }
}

/// Reads the RTCP a viewer sends about one track (surfaced by [`KeyframeRequestTap`]): passes
/// PLI/FIR upstream, answers NACKs from the engine's history, records receiver reports.
async fn watch_viewer_rtcp(
    kind: TrackKind,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    keyframe_tx: mpsc::Sender<KeyframeRequest>,
    stopped: Arc<AtomicBool>,
    counters: Arc<ViewerCounters>,
    engine: Weak<Inner>,
) {
    let video_ssrc = (kind == TrackKind::Video).then_some(ssrc);
    while !stopped.load(Ordering::Relaxed) && engine.strong_count() > 0 {
        match track.poll().await {
            Some(TrackLocalEvent::OnRtcpPacket(packets)) => {
                let mut resend = Vec::new();
                for packet in &packets {
                    let any = packet.as_any();
                    if let Some(report) = any.downcast_ref::<ReceiverReport>() {
                        counters.on_receiver_report(report, video_ssrc);
                    } else if let Some(nack) = any.downcast_ref::<TransportLayerNack>()
                        && nack.media_ssrc == ssrc
                    {
                        resend.extend(
                            nack.nacks
                                .iter()
                                .flat_map(|pair| pair.packet_list())
                                .filter_map(|seq| counters.recall(seq)),
                        );
                    }
                }
                for packet in resend {
                    if track.write_rtp(packet).await.is_ok() {
                        counters.retransmitted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if kind == TrackKind::Video
                    && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
                {
                    counters.keyframe_requests.fetch_add(1, Ordering::Relaxed);
                    let _ = keyframe_tx.try_send(KeyframeRequest::Asked);
                }
            }
            Some(_) => {}
            // Not bound yet (before DTLS) or unbound: look again shortly.
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Coalesces keyframe requests and sends at most one PLI upstream per interval.
async fn keyframe_loop(
    engine: Weak<Inner>,
    mut requests: mpsc::Receiver<KeyframeRequest>,
    interval: Duration,
) {
    let mut throttle = KeyframeThrottle::new(interval);
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let decision = tokio::select! {
            request = requests.recv() => match request {
                Some(request) => {
                    tracing::trace!(?request, "keyframe request");
                    throttle.request(Instant::now())
                }
                None => break,
            },
            () = sleep_until(deadline), if deadline.is_some() => throttle.poll(Instant::now()),
        };
        match decision {
            KeyframeDecision::SendNow => {
                deadline = None;
                let Some(engine) = engine.upgrade() else {
                    break;
                };
                send_upstream_keyframe_request(&engine).await;
            }
            KeyframeDecision::WaitUntil(at) => deadline = Some(tokio::time::Instant::from_std(at)),
            KeyframeDecision::Idle => deadline = None,
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    if let Some(at) = deadline {
        tokio::time::sleep_until(at).await;
    }
}

async fn send_upstream_keyframe_request(engine: &Inner) {
    let upstream = {
        let state = lock(&engine.state);
        match &state.source {
            Some(Source::Publisher(p)) => lock(&p.video).clone(),
            // The local encoder is asked through its counter.
            Some(Source::Local(local)) => {
                local.keyframes.send_modify(|n| *n += 1);
                engine
                    .upstream_keyframe_requests
                    .fetch_add(1, Ordering::Relaxed);
                None
            }
            // The test card has a keyframe every second; nothing to ask.
            _ => None,
        }
    };
    if let Some((track, media_ssrc)) = upstream {
        let pli = PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc,
        };
        if track.write_rtcp(vec![Box::new(pli)]).await.is_ok() {
            engine
                .upstream_keyframe_requests
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The codecs of the sources this engine makes itself (the test card, the local source).
fn vp8_and_opus() -> (Arc<SourceCodec>, Arc<SourceCodec>) {
    let video = Arc::new(SourceCodec {
        mime_type: "video/VP8".into(),
        clock_rate: 90_000,
        fmtp: String::new(),
        extensions: Vec::new(),
    });
    let audio = Arc::new(SourceCodec {
        mime_type: "audio/opus".into(),
        clock_rate: 48_000,
        fmtp: "minptime=10;useinbandfec=1".into(),
        extensions: Vec::new(),
    });
    (video, audio)
}

/// Most ICE candidates one session may trickle (WHIP/WHEP `PATCH`).
pub const MAX_TRICKLED_CANDIDATES: u32 = 64;

/// Plays the test card into the fan-out at real-time pace until aborted.
async fn play_test_card(
    engine: Weak<Inner>,
    card: TestCard,
    generation: u64,
    video_codec: Arc<SourceCodec>,
    audio_codec: Arc<SourceCodec>,
) {
    let player = card.player(
        RtpStreamParams {
            ssrc: random_u32(),
            payload_type: 96,
        },
        RtpStreamParams {
            ssrc: random_u32(),
            payload_type: 111,
        },
    );
    let start = tokio::time::Instant::now();
    for frame in player {
        tokio::time::sleep_until(start + frame.at).await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        for packet in frame.packets {
            let codec = match frame.kind {
                TrackKind::Video => video_codec.clone(),
                TrackKind::Audio => audio_codec.clone(),
            };
            let keyframe_start = starts_keyframe(&codec.mime_type, &packet.payload);
            engine.fan_out_cached(SourcePacket {
                kind: frame.kind,
                codec,
                generation,
                keyframe_start,
                packet,
            });
        }
    }
}

/// One of a viewer's tracks and what its leg negotiated.
struct ViewerTrack {
    kind: TrackKind,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    codecs: Vec<NegotiatedCodec>,
    extensions: Vec<(u8, String)>,
    /// Mapping for the last source codec seen (held, so its identity cannot be reused):
    /// the viewer's payload type and source-extension-id -> viewer-extension-id (0 = drop).
    cached: Option<(Arc<SourceCodec>, Option<u8>, [u8; 256])>,
    awaiting_keyframe: bool,
    generation: u64,
    sequence_offset: u16,
    timestamp_offset: u32,
    last_out: Option<(u16, u32)>,
}

impl ViewerTrack {
    fn new(
        kind: TrackKind,
        track: Arc<TrackLocalStaticRTP>,
        ssrc: u32,
        section: MediaSection,
    ) -> Self {
        Self {
            kind,
            track,
            ssrc,
            codecs: section.codecs,
            extensions: section.extensions,
            cached: None,
            awaiting_keyframe: kind == TrackKind::Video,
            generation: 0,
            sequence_offset: 0,
            timestamp_offset: 0,
            last_out: None,
        }
    }
}

impl ViewerTrack {
    fn mapping(&mut self, codec: &Arc<SourceCodec>) -> (Option<u8>, [u8; 256]) {
        if let Some((cached, pt, ids)) = &self.cached
            && Arc::ptr_eq(cached, codec)
        {
            return (*pt, *ids);
        }
        let pt = sdp::matching_payload_type(
            &self.codecs,
            &codec.mime_type,
            codec.clock_rate,
            &codec.fmtp,
        );
        let mut ids = [0u8; 256];
        for (source_id, uri) in &codec.extensions {
            if PER_LEG_EXTENSIONS.contains(&uri.as_str()) {
                continue;
            }
            if let Some((viewer_id, _)) = self.extensions.iter().find(|(_, u)| u == uri) {
                ids[usize::from(*source_id)] = *viewer_id;
            }
        }
        self.cached = Some((codec.clone(), pt, ids));
        (pt, ids)
    }

    /// Rewrites a source packet for this leg; `None` when the leg cannot carry it.
    fn rewrite(&mut self, source: &SourcePacket) -> Option<rtp::Packet> {
        let (payload_type, ids) = self.mapping(&source.codec);
        let payload_type = payload_type?;
        if source.generation != self.generation {
            // A new source: continue this leg's numbering so the viewer sees one stream.
            self.generation = source.generation;
            if let Some((seq, ts)) = self.last_out {
                let step = if self.kind == TrackKind::Video {
                    3_000
                } else {
                    960
                };
                self.sequence_offset = seq
                    .wrapping_add(1)
                    .wrapping_sub(source.packet.header.sequence_number);
                self.timestamp_offset = ts
                    .wrapping_add(step)
                    .wrapping_sub(source.packet.header.timestamp);
            }
            if self.kind == TrackKind::Video {
                self.awaiting_keyframe = true;
            }
        }
        let mut packet = source.packet.clone();
        packet.header.ssrc = self.ssrc;
        packet.header.payload_type = payload_type;
        packet.header.sequence_number = packet
            .header
            .sequence_number
            .wrapping_add(self.sequence_offset);
        packet.header.timestamp = packet.header.timestamp.wrapping_add(self.timestamp_offset);
        packet.header.extensions.retain_mut(|ext| {
            let mapped = ids[usize::from(ext.id)];
            ext.id = mapped;
            mapped != 0
        });
        packet.header.extension = !packet.header.extensions.is_empty();
        Some(packet)
    }
}

/// A viewer's own task: drains its queue, holds video until a keyframe, rewrites and writes.
/// On its first video packet after connecting it first replays the cached GOP (test card).
async fn forward_to_viewer(
    mut queue: mpsc::Receiver<Arc<SourcePacket>>,
    mut tracks: Vec<ViewerTrack>,
    counters: Arc<ViewerCounters>,
    keyframe_tx: mpsc::Sender<KeyframeRequest>,
    gop: Arc<Mutex<Gop>>,
) {
    let mut replayed = false;
    while let Some(source) = queue.recv().await {
        if !replayed
            && source.kind == TrackKind::Video
            && counters.connected.load(Ordering::Acquire)
        {
            replayed = true;
            let cached = lock(&gop).before(&source);
            for packet in cached {
                forward_one(&mut tracks, &packet, &counters, &keyframe_tx).await;
            }
        }
        forward_one(&mut tracks, &source, &counters, &keyframe_tx).await;
    }
}

async fn forward_one(
    tracks: &mut [ViewerTrack],
    source: &SourcePacket,
    counters: &ViewerCounters,
    keyframe_tx: &mpsc::Sender<KeyframeRequest>,
) {
    let Some(track) = tracks.iter_mut().find(|t| t.kind == source.kind) else {
        return;
    };
    if track.kind == TrackKind::Video && counters.resync.swap(false, Ordering::Relaxed) {
        track.awaiting_keyframe = true;
        let _ = keyframe_tx.try_send(KeyframeRequest::Resync);
    }
    if !counters.connected.load(Ordering::Acquire) {
        counters.skipped.fetch_add(1, Ordering::Relaxed);
        if track.kind == TrackKind::Video {
            track.awaiting_keyframe = true;
        }
        return;
    }
    let was_awaiting = track.awaiting_keyframe;
    let Some(packet) = track.rewrite(source) else {
        counters.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if track.awaiting_keyframe && !was_awaiting {
        // A new source took over: ask it for a keyframe rather than wait for one.
        let _ = keyframe_tx.try_send(KeyframeRequest::SourceChanged);
    }
    if track.awaiting_keyframe && source.keyframe_start == Some(false) {
        // Skipped on purpose: close the sequence gap so the viewer does not NACK it.
        track.sequence_offset = track.sequence_offset.wrapping_sub(1);
        counters.skipped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let (seq, ts) = (packet.header.sequence_number, packet.header.timestamp);
    let size =
        rtc::shared::marshal::MarshalSize::marshal_size(&packet.header) + packet.payload.len();
    if track.kind == TrackKind::Video {
        counters.remember(&packet);
        let every = counters.simulate_loss_every;
        if every > 0 && counters.forwarded.load(Ordering::Relaxed) % every == every - 1 {
            // Fault injection: "lost on the way" (kept in the history for the NACK).
            counters.simulated_losses.fetch_add(1, Ordering::Relaxed);
            counters.forwarded.fetch_add(1, Ordering::Relaxed);
            track.last_out = Some((seq, ts));
            return;
        }
    }
    match track.track.write_rtp(packet).await {
        Ok(()) => {
            counters
                .bytes_sent
                .fetch_add(size as u64, Ordering::Relaxed);
            if source.keyframe_start == Some(true) {
                track.awaiting_keyframe = false;
            }
            track.last_out = Some((seq, ts));
            counters.forwarded.fetch_add(1, Ordering::Relaxed);
        }
        // Before DTLS completes the track is unbound; the packet is lost for this viewer.
        Err(_) => {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A leg the engine offers itself (the relay to an external WHIP server): the peer connection,
/// its send-only tracks, and the complete offer. Media flows once [`MediaEngine::attach_leg`]
/// has read the answer.
pub(crate) struct OfferedLeg {
    pub(crate) pc: Arc<dyn PeerConnection>,
    tracks: Vec<(TrackKind, Arc<TrackLocalStaticRTP>, u32)>,
    pub(crate) offer: String,
}

/// A leg in the fan-out that is not a WHEP viewer: its own queue, forward task and counters,
/// exactly like a viewer's, but not listed in [`EngineStatus::viewers`].
pub(crate) struct Leg {
    sink: ViewerId,
    stopped: Arc<AtomicBool>,
    forward_task: JoinHandle<()>,
}

impl MediaEngine {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    pub(crate) fn downgrade(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// What an offered leg sends: exactly the live source's codecs (else the test card's), so
    /// the remote cannot pick one the source does not send.
    fn offered_codecs(&self) -> Vec<(TrackKind, RTCRtpCodec)> {
        let names = self.source_codec_names();
        let kinds: Vec<TrackKind> = if names.is_empty() {
            vec![TrackKind::Audio, TrackKind::Video]
        } else {
            [TrackKind::Audio, TrackKind::Video]
                .into_iter()
                .filter(|k| names.contains_key(k))
                .collect()
        };
        kinds
            .into_iter()
            .map(|kind| {
                let mut codec = track_codec(kind, names.get(&kind));
                if kind == TrackKind::Video {
                    codec.rtcp_feedback = [("ccm", "fir"), ("nack", ""), ("nack", "pli")]
                        .into_iter()
                        .map(|(typ, parameter)| RTCPFeedback {
                            typ: typ.to_owned(),
                            parameter: parameter.to_owned(),
                        })
                        .collect();
                }
                (kind, codec)
            })
            .collect()
    }

    /// Builds a send-only peer connection with one track per kind the source has and returns
    /// its complete offer (all host candidates gathered: WHIP without trickle).
    pub(crate) async fn offer_leg(
        &self,
        handler: Arc<dyn PeerConnectionEventHandler>,
        gathered: &Notify,
    ) -> Result<OfferedLeg, MediaError> {
        let codecs = self.offered_codecs();
        let mut table = CodecTable::default();
        for (kind, codec) in &codecs {
            let payload_type = match kind {
                TrackKind::Audio => 111,
                TrackKind::Video => 96,
            };
            table
                .register_codec(
                    RTCRtpCodecParameters {
                        rtp_codec: codec.clone(),
                        payload_type,
                    },
                    kind.codec_kind(),
                )
                .map_err(|e| MediaError::webrtc("codecs", e))?;
        }
        let registry = register_default_interceptors(Registry::new(), &mut table)
            .map_err(|e| MediaError::webrtc("interceptors", e))?
            .with(Slot::from(KEYFRAME_TAP_SLOT), KeyframeRequestTap::default());
        let pc = self.build_pc(table, registry, handler).await?;
        let mut tracks = Vec::new();
        let offer = async {
            for (kind, codec) in codecs {
                let ssrc = random_u32();
                let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                    "lectern".to_owned(),
                    format!("lectern-{}", kind.as_str()),
                    format!("lectern-{}", kind.as_str()),
                    kind.codec_kind(),
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(ssrc),
                            ..Default::default()
                        },
                        codec,
                        ..Default::default()
                    }],
                )));
                pc.add_transceiver_from_track(
                    track.clone() as Arc<dyn TrackLocal>,
                    Some(RTCRtpTransceiverInit {
                        direction: RTCRtpTransceiverDirection::Sendonly,
                        ..Default::default()
                    }),
                )
                .await
                .map_err(|e| MediaError::webrtc("add transceiver", e))?;
                tracks.push((kind, track, ssrc));
            }
            let offer = pc
                .create_offer(None)
                .await
                .map_err(|e| MediaError::webrtc("create offer", e))?;
            pc.set_local_description(offer)
                .await
                .map_err(|e| MediaError::webrtc("set local description", e))?;
            let _ =
                tokio::time::timeout(self.inner.config.gather_timeout, gathered.notified()).await;
            pc.local_description()
                .await
                .map(|d| d.sdp)
                .ok_or_else(|| MediaError::WebRtc("no local description after offering".into()))
        }
        .await;
        match offer {
            Ok(offer) => Ok(OfferedLeg { pc, tracks, offer }),
            Err(err) => {
                let _ = pc.close().await;
                Err(err)
            }
        }
    }

    /// Puts an offered leg into the fan-out, mapped to what the remote's answer negotiated
    /// (payload types, extension ids), with its own bounded queue, NACK history and PLI tap.
    /// `counters.connected` gates it exactly as a viewer's.
    pub(crate) fn attach_leg(
        &self,
        offered: &OfferedLeg,
        answer_sdp: &str,
        counters: Arc<ViewerCounters>,
    ) -> Leg {
        let answer_sections = sdp::media_sections(answer_sdp);
        let stopped = Arc::new(AtomicBool::new(false));
        let mut legs = Vec::new();
        for (kind, track, ssrc) in &offered.tracks {
            let section = sdp::section_of(&answer_sections, *kind)
                .cloned()
                .unwrap_or_default();
            tokio::spawn(watch_viewer_rtcp(
                *kind,
                track.clone(),
                *ssrc,
                self.inner.keyframe_tx.clone(),
                stopped.clone(),
                counters.clone(),
                Arc::downgrade(&self.inner),
            ));
            legs.push(ViewerTrack::new(*kind, track.clone(), *ssrc, section));
        }
        let (queue, queue_rx) = mpsc::channel(self.inner.config.viewer_queue_packets.max(1));
        let forward_task = tokio::spawn(forward_to_viewer(
            queue_rx,
            legs,
            counters.clone(),
            self.inner.keyframe_tx.clone(),
            self.inner.gop.clone(),
        ));
        let sink = ViewerId(random_u64());
        {
            let mut sinks = self
                .inner
                .sinks
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut list: Vec<ViewerSink> = sinks.as_ref().clone();
            list.push(ViewerSink {
                id: sink,
                queue,
                counters,
            });
            *sinks = Arc::new(list);
        }
        Leg {
            sink,
            stopped,
            forward_task,
        }
    }

    /// Takes a leg out of the fan-out and stops its tasks (its peer connection is the caller's).
    pub(crate) fn detach_leg(&self, leg: Leg) {
        {
            let mut sinks = self
                .inner
                .sinks
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let list: Vec<ViewerSink> =
                sinks.iter().filter(|s| s.id != leg.sink).cloned().collect();
            *sinks = Arc::new(list);
        }
        leg.stopped.store(true, Ordering::Relaxed);
        leg.forward_task.abort();
    }

    /// Asks the source for a keyframe (through the same throttle as viewers' requests).
    pub(crate) fn request_keyframe(&self) {
        let _ = self.inner.keyframe_tx.try_send(KeyframeRequest::Joined);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn sink(
        engine: &MediaEngine,
        capacity: usize,
    ) -> (mpsc::Receiver<Arc<SourcePacket>>, Arc<ViewerCounters>) {
        let (queue, rx) = mpsc::channel(capacity);
        let counters = Arc::new(ViewerCounters::new());
        let mut sinks = engine.inner.sinks.write().unwrap();
        let mut list = sinks.as_ref().clone();
        list.push(ViewerSink {
            id: ViewerId(random_u64()),
            queue,
            counters: counters.clone(),
        });
        *sinks = Arc::new(list);
        (rx, counters)
    }

    #[tokio::test]
    async fn a_stalled_viewer_loses_only_its_own_packets() {
        let engine = MediaEngine::new(EngineConfig::loopback());
        engine.inner.current_generation.store(7, Ordering::Release);
        let (mut stalled_rx, stalled) = sink(&engine, 8);
        let (mut fast_rx, fast) = sink(&engine, 1_000);
        let codec = Arc::new(SourceCodec {
            mime_type: "video/VP8".into(),
            clock_rate: 90_000,
            fmtp: String::new(),
            extensions: Vec::new(),
        });
        for seq in 0..200u16 {
            engine.inner.fan_out(SourcePacket {
                kind: TrackKind::Video,
                codec: codec.clone(),
                generation: 7,
                keyframe_start: Some(false),
                packet: rtp::Packet {
                    header: rtp::Header {
                        sequence_number: seq,
                        ..Default::default()
                    },
                    payload: bytes::Bytes::from_static(&[0x10, 0x01]),
                },
            });
        }
        // The fan-out never waited on the stalled queue: everything else was delivered.
        let mut delivered = 0;
        while fast_rx.try_recv().is_ok() {
            delivered += 1;
        }
        assert_eq!(delivered, 200);
        assert_eq!(fast.dropped.load(Ordering::Relaxed), 0);
        assert_eq!(stalled.dropped.load(Ordering::Relaxed), 192);
        assert!(
            stalled.resync.load(Ordering::Relaxed),
            "it must wait for a keyframe"
        );
        let first = stalled_rx.try_recv().unwrap();
        assert_eq!(first.packet.header.sequence_number, 0);
        // A packet of an old source is not forwarded at all.
        engine.inner.fan_out(SourcePacket {
            kind: TrackKind::Video,
            codec,
            generation: 6,
            keyframe_start: None,
            packet: rtp::Packet::default(),
        });
        assert!(fast_rx.try_recv().is_err());
    }

    #[test]
    fn viewer_leg_maps_payload_type_extensions_and_continues_numbering() {
        let section = sdp::media_sections(
            "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n\
             a=extmap:3 urn:3gpp:video-orientation\r\n\
             a=extmap:5 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
             a=rtpmap:102 VP8/90000\r\n",
        )
        .remove(0);
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "s".into(),
            "t".into(),
            "l".into(),
            RtpCodecKind::Video,
            vec![],
        )));
        let mut leg = ViewerTrack::new(TrackKind::Video, track, 42, section);
        let codec = Arc::new(SourceCodec {
            mime_type: "video/VP8".into(),
            clock_rate: 90_000,
            fmtp: String::new(),
            extensions: vec![
                (13, "urn:3gpp:video-orientation".into()),
                (
                    4,
                    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
                        .into(),
                ),
                (9, "urn:example:unknown-to-viewer".into()),
            ],
        });
        let packet = |generation, seq: u16, ts: u32| SourcePacket {
            kind: TrackKind::Video,
            codec: codec.clone(),
            generation,
            keyframe_start: Some(true),
            packet: rtp::Packet {
                header: rtp::Header {
                    payload_type: 96,
                    sequence_number: seq,
                    timestamp: ts,
                    ssrc: 1,
                    extension: true,
                    extension_profile: 0xBEDE,
                    extensions: vec![
                        rtp::header::Extension {
                            id: 13,
                            payload: bytes::Bytes::from_static(&[1]),
                        },
                        rtp::header::Extension {
                            id: 4,
                            payload: bytes::Bytes::from_static(&[0, 1]),
                        },
                        rtp::header::Extension {
                            id: 9,
                            payload: bytes::Bytes::from_static(&[2]),
                        },
                    ],
                    ..Default::default()
                },
                payload: bytes::Bytes::from_static(&[0x10, 0x00]),
            },
        };
        let out = leg.rewrite(&packet(1, 500, 9_000)).unwrap();
        assert_eq!(out.header.payload_type, 102);
        assert_eq!(out.header.ssrc, 42);
        // Orientation remapped 13 -> 3; the publisher's transport-cc and unknown ids dropped.
        let ids: Vec<u8> = out.header.extensions.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![3]);
        leg.last_out = Some((out.header.sequence_number, out.header.timestamp));
        // A new source with unrelated numbering continues where the leg left off.
        let next = leg.rewrite(&packet(2, 40_000, 123)).unwrap();
        assert_eq!(next.header.sequence_number, 501);
        assert_eq!(next.header.timestamp, 12_000);
    }
}

//! `lectern-media`: the WebRTC media engine of Lectern.
//!
//! **What it is for.** One source at a time — an instructor's WHIP publisher (a browser, OBS,
//! the studio window) or the built-in looping test card — fanned out to many receive-only WHEP
//! viewers on the laptop itself. [`MediaEngine`] is the one handle; its methods are what the
//! HTTP layer calls for `POST/PATCH/DELETE /whip` and `/whep`:
//!
//! | call | HTTP |
//! |------|------|
//! | [`MediaEngine::publish`] | WHIP POST: offer in, `(PublisherId, answer)` out |
//! | [`MediaEngine::subscribe`] | WHEP POST: offer in, `(ViewerId, answer)` out |
//! | [`MediaEngine::add_ice_candidate`] | PATCH (trickle ICE) |
//! | [`MediaEngine::stop`] | DELETE |
//! | [`MediaEngine::status`] | the studio's live stats |
//! | [`MediaEngine::start_test_card`] | `lectern serve --demo` |
//! | [`MediaEngine::start_relay`] / [`MediaEngine::stop_relay`] | the studio's "Relay for big classes" |
//! | [`MediaEngine::start_recording`] / [`MediaEngine::stop_recording`] | the class's recording |
//!
//! Per viewer the engine maps payload types and header-extension ids to what that viewer
//! negotiated, keeps a bounded queue (a slow viewer loses only its own packets, then waits for
//! the next keyframe), holds video back until a keyframe, and forwards PLI/FIR upstream
//! coalesced to one per [`EngineConfig::keyframe_request_interval`]. It answers a viewer's NACK
//! from that viewer's own history of the last 512 video packets as its leg sent them (viewer
//! PT, SSRC and numbering; payloads shared with the source packet), and reads the viewer's
//! receiver reports for [`ViewerStats`] (loss, round-trip time) next to bytes and bitrate.
//!
//! **The relay** pushes the live source by WHIP to one external server (Galène, LiveKit
//! ingress, Cloudflare, Broadcast Box, another Lectern) so an SFU does the fan-out past the
//! laptop. It is a viewer leg that makes the offer: its own queue in the fan-out, mapped to
//! what the remote answered; its send-only offer (the source's codecs only) is POSTed as
//! `application/sdp` with `Authorization: Bearer`, `201` + `Location` + answer expected, the
//! `Location` DELETEd on stop. Failures (HTTP, ICE/DTLS, a connection lost or `disconnected`
//! for [`RelayConfig::disconnected_grace`]) are retried after 1 s, 2 s, 4 s ... 30 s; each
//! connection asks the source for a keyframe. [`EngineStatus::relay`] shows its
//! [`RelayState`], failures in a row, the last [`RelayError`] (`relay_unauthorized` for 401,
//! `relay_refused` other 4xx, `relay_unreachable` 5xx/network/timeout, `relay_bad_answer`,
//! `relay_connect_failed`, `relay_connection_lost`), bytes and bitrate. The token is never
//! logged or shown; status shows the URL without query string.
//!
//! **What it is not for.** No HTTP server (the relay's WHIP client is its only HTTP), no
//! authentication, no publish keys: the server crate owns those and maps [`MediaError::code`]
//! to statuses. No transcoding or simulcast layer selection: packets are forwarded as they
//! come. One relay at a time.
//!
//! ```no_run
//! # async fn demo(viewer_offer: String) -> Result<(), lectern_media::MediaError> {
//! use lectern_media::{EngineConfig, MediaEngine, TestCard};
//!
//! let engine = MediaEngine::new(EngineConfig::default());
//! engine.start_test_card(TestCard::embedded()?).await?;
//! let (viewer, answer_sdp) = engine.subscribe(&viewer_offer).await?;
//! // ... return `answer_sdp` with 201 Created and `Location: /whep/{viewer}` ...
//! println!("{} viewer(s)", engine.status().viewers.len());
//! engine.stop(viewer).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - `engine`: the handle, publisher and viewer sessions, the fan-out and per-viewer tasks.
//! - `sdp`: reads negotiated payload types and extension ids out of SDP text (pure).
//! - `keyframe`: keyframe recognition (VP8, H.264) and the request throttle (pure).
//! - `interceptor`: surfaces viewers' PLI/FIR, NACK and receiver reports, which `webrtc` 0.21
//!   otherwise keeps to itself.
//! - `testcard`: the built-in source's IVF/Ogg reading and RTP pacing.
//! - `relay`: the WHIP client that pushes the source to an external server, its reconnect
//!   loop and status.
//! - `recording`: what viewers get, written to WebM ([`MediaEngine::start_recording`]) by a
//!   thread the fan-out hands packets to without waiting; [`recover`] finalizes a file a crash
//!   left behind.
//!
//! **Invariant:** the fan-out never awaits: it `try_send`s into each viewer's queue (and the
//! recording's), so one stalled viewer or a slow disk cannot delay the source or the others.
//!
//! Not yet:
//! - Retransmission is unproven end to end: the engine answers NACKs from its per-viewer
//!   history (and the leg's own `webrtc` NACK responder answers too, so a NACK is answered
//!   twice), but in `tests/nack.rs`, with loss simulated above SRTP, no resent copy was seen
//!   arriving at a `webrtc` 0.21 viewer; not yet tried with a browser or real packet loss. No
//!   RTX; the history is per viewer, not one shared per source.
//! - The keyframe (GOP) cache serves the test card only: a new viewer of it gets the GOP in
//!   progress replayed at once (a burst, then live). A publisher's viewer still waits for the
//!   keyframe the engine asks for on join (coalesced with other requests). The cache is not
//!   freed when the card stops (at most 1,024 packets).
//! - Keyframe gating and detection for VP9 and AV1 (they are forwarded ungated).
//! - A viewer's track codec is fixed at subscribe time (the live source's, else VP8); switching
//!   a viewer from a VP8 source to an H.264 one mid-session is untested.
//! - An uplink budget (refusing viewers above a bitrate): status reports the use
//!   ([`EngineStatus::outgoing_bitrate_bps`]) but nothing acts on it. Bitrate is measured
//!   between `status()` calls, so two callers polling at once each see shorter intervals.
//! - Forwarding delay under keyframe bursts: ~13 us of CPU per forwarded packet means a
//!   40-packet keyframe to 100 viewers takes ~50 ms of CPU, so p99 delay is ~50 ms at 100
//!   viewers on 2 cores (target 2 ms); see `docs/benchmarks.md`.
//! - The relay is tested against another Lectern only (real HTTP and WebRTC on loopback), not
//!   against Galène, LiveKit, Cloudflare or Broadcast Box. It ignores `Link: rel="ice-server"`
//!   (no STUN/TURN is configured, so it needs a remote reachable by host candidates), does not
//!   trickle, and its H.264 offer always says `profile-level-id=42e01f` whatever the source
//!   sends. Its codecs are fixed when it connects: a source that later goes live with another
//!   codec (VP8 card, then an H.264 publisher) is not carried until the relay reconnects. A
//!   lost connection is noticed after ICE's 5 s `disconnected` plus the 5 s grace. The uplink
//!   budget counts the relay's bitrate in [`EngineStatus::outgoing_bitrate_bps`] but admission
//!   of viewers is decided elsewhere.
//! - ICE/TURN servers and `Link: rel="ice-server"` (none are configured); a single-port UDP mux.
//! - Audio/video sync across a source switch is approximate (timestamps are made continuous per
//!   track, not re-aligned to each other).
//! - One audio and one video section per session; simulcast, extra tracks and data channels
//!   are not forwarded.
//! - Recording writes WebM only: an H.264 source (OBS) is not recorded (fragmented MP4 is not
//!   written yet), nor VP9/AV1 video; more in `recording.rs`'s own list.
//! - [`EngineConfig::default`] binds `0.0.0.0:0` plus `127.0.0.1:0`; tests only ever bind
//!   loopback, so the LAN-facing default is unexercised.
//! - The two Chromium tests in
//!   `tests/browser.rs` (a WHEP viewer of the test card; a WHIP publisher to a Rust viewer) are
//!   `#[ignore]`d: they need `/usr/bin/chromium` and `playwright-core`.

#![deny(missing_docs)]

mod engine;
mod error;
mod interceptor;
mod keyframe;
pub mod local;
pub mod outbound;
pub mod recording;
mod relay;
mod sdp;
mod testcard;

pub use engine::{MAX_TRICKLED_CANDIDATES, MediaEngine};
pub use error::MediaError;
pub use interceptor::{KEYFRAME_TAP_SLOT, KeyframeRequestTap};
pub use keyframe::{KeyframeDecision, KeyframeThrottle};
pub use recording::{
    RecordingConfig, RecordingError, RecordingEvent, RecordingState, RecordingStatus, Recovery,
    StopReason, finalized_duration_ms, recover, recover_folder,
};
pub use relay::{
    MAX_RELAY_ANSWER, MAX_RELAY_URL, RelayConfig, RelayError, RelayErrorCode, RelayState,
    RelayStatus, relay_backoff, same_origin_redirects,
};
pub use testcard::{PacedFrame, RtpStreamParams, TestCard, TestCardPlayer};

use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// Engine settings; [`Default`] suits a studio serving its own network.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// UDP addresses each peer connection binds, e.g. `"0.0.0.0:0"` or `"127.0.0.1:0"`.
    /// `webrtc` 0.21 expands `0.0.0.0` to one socket per interface but skips loopback, so tests
    /// and a localhost-only studio use `127.0.0.1:0`.
    pub udp_addrs: Vec<String>,
    /// Packets a viewer may have waiting before it starts losing them (about 1 s of 1.5 Mbit/s
    /// video plus audio at the default).
    pub viewer_queue_packets: usize,
    /// At most one keyframe request goes upstream per interval.
    pub keyframe_request_interval: Duration,
    /// Offers above this size are refused (WHIP 413).
    pub max_sdp_bytes: usize,
    /// How long to wait for our ICE candidates before answering anyway.
    pub gather_timeout: Duration,
    /// A publisher or viewer that has not connected this long after its answer is removed.
    pub connect_timeout: Duration,
    /// Fault injection for diagnostics and tests (`lectern serve --simulate-video-loss N`):
    /// every Nth video packet is not sent to a WHEP viewer the first time, as a lossy network
    /// would lose it; it stays in the viewer's history, so the viewer's NACK brings it back.
    /// `None` (the default) sends everything.
    pub simulate_video_loss_every: Option<u32>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            udp_addrs: vec!["0.0.0.0:0".to_owned(), "127.0.0.1:0".to_owned()],
            viewer_queue_packets: 512,
            keyframe_request_interval: Duration::from_millis(500),
            max_sdp_bytes: 64 * 1024,
            gather_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(30),
            simulate_video_loss_every: None,
        }
    }
}

impl EngineConfig {
    /// Loopback only: what tests and a localhost-only studio use.
    pub fn loopback() -> Self {
        Self {
            udp_addrs: vec!["127.0.0.1:0".to_owned()],
            ..Self::default()
        }
    }
}

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    /// An audio track (Opus).
    Audio,
    /// A video track (VP8, VP9, H.264, AV1).
    Video,
}

impl TrackKind {
    /// `"audio"` or `"video"`, as in SDP and MIME types.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Audio => "audio",
            TrackKind::Video => "video",
        }
    }

    pub(crate) fn codec_kind(self) -> rtc::rtp_transceiver::rtp_sender::RtpCodecKind {
        match self {
            TrackKind::Audio => rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Audio,
            TrackKind::Video => rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Video,
        }
    }
}

/// A WHIP publisher session; shown and serialized as 16 hex digits (unguessable, it goes in
/// the Location URL; a string because JSON numbers lose precision above 2^53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublisherId(pub u64);

/// A WHEP viewer session; shown and serialized as 16 hex digits, like [`PublisherId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ViewerId(pub u64);

impl Serialize for PublisherId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for ViewerId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for PublisherId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Display for ViewerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl std::str::FromStr for PublisherId {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16)
            .map(PublisherId)
            .map_err(|_| MediaError::UnknownSession(s.to_owned()))
    }
}

impl std::str::FromStr for ViewerId {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16)
            .map(ViewerId)
            .map_err(|_| MediaError::UnknownSession(s.to_owned()))
    }
}

/// Either kind of session, for the calls both WHIP and WHEP make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionId {
    /// A WHIP publisher.
    Publisher(PublisherId),
    /// A WHEP viewer.
    Viewer(ViewerId),
}

impl From<PublisherId> for SessionId {
    fn from(id: PublisherId) -> Self {
        SessionId::Publisher(id)
    }
}

impl From<ViewerId> for SessionId {
    fn from(id: ViewerId) -> Self {
        SessionId::Viewer(id)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionId::Publisher(id) => write!(f, "publisher {id}"),
            SessionId::Viewer(id) => write!(f, "viewer {id}"),
        }
    }
}

/// What is feeding the fan-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A WHIP publisher.
    Publisher(PublisherId),
    /// The built-in test card.
    TestCard,
    /// Frames encoded on this machine (the desktop window's capture).
    Local,
}

/// The live source and its codecs (`video/VP8`, `audio/opus`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    /// Publisher or test card.
    pub kind: SourceKind,
    /// One MIME type per track kind.
    pub codecs: Vec<String>,
}

/// One viewer's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewerStats {
    /// The viewer.
    pub id: ViewerId,
    /// RTP packets handed to this viewer's connection.
    pub packets_forwarded: u64,
    /// RTP packets this viewer lost: its queue was full, its leg could not carry the codec, or
    /// its connection refused the write.
    pub packets_dropped: u64,
    /// RTP packets held back on purpose: before its connection was up, and video until the
    /// next keyframe after joining or after a loss.
    pub packets_skipped: u64,
    /// PLI/FIR received from this viewer.
    pub keyframe_requests: u64,
    /// Video packets resent in answer to this viewer's NACKs (from the engine's history).
    pub packets_retransmitted: u64,
    /// Video packets held back by `EngineConfig::simulate_video_loss_every` (fault injection).
    pub packets_simulated_lost: u64,
    /// RTP bytes (headers and payloads, before SRTP) sent to this viewer.
    pub bytes_sent: u64,
    /// Bit/s sent to this viewer over the last interval of at least 1 s between two
    /// [`MediaEngine::status`] calls (0 on the first call).
    pub bitrate_bps: u64,
    /// Packets lost as this viewer's RTCP receiver reports say (cumulative, all tracks).
    pub packets_lost_reported: u64,
    /// The viewer's latest reported video loss, in thousandths.
    pub video_loss_permille: u32,
    /// Round-trip time from the viewer's receiver reports, once one names a sender report.
    pub rtt_us: Option<u64>,
}

/// A snapshot of the engine for the studio (serializes to JSON with ids as hex strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineStatus {
    /// `None` when nothing is live.
    pub source: Option<SourceStatus>,
    /// Every connected or connecting viewer.
    pub viewers: Vec<ViewerStats>,
    /// PLIs sent to the publisher after coalescing.
    pub upstream_keyframe_requests: u64,
    /// The sum of the viewers' [`ViewerStats::bitrate_bps`] and the relay's
    /// [`RelayStatus::bitrate_bps`]: the uplink the fan-out uses.
    pub outgoing_bitrate_bps: u64,
    /// The relay to an external WHIP server, while one is started ([`MediaEngine::start_relay`]).
    pub relay: Option<RelayStatus>,
}

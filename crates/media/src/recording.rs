//! Recording: the stream viewers get, written to one WebM file (VP8 + Opus) without
//! re-encoding, whatever the source (a WHIP publisher, the window's capture, the test card).
//!
//! The fan-out hands every packet it passes to [`RecordingSlot::offer`], which `try_send`s it
//! with its arrival time into a bounded queue: when the queue is full the packet is dropped and
//! counted, the fan-out never waits. One thread per recording drains the queue:
//!
//! 1. depacketizes: VP8 (RFC 7741 payload descriptor; a frame is the packets of one RTP
//!    timestamp from a partition head to the marker; a gap in sequence numbers drops the frame
//!    and the video waits for the next keyframe); Opus is one packet, one frame;
//! 2. puts both tracks on one timeline ([`TrackClock`]): each track's RTP time counts from the
//!    arrival of its first packet of a source, so a source switch (new SSRC, new RTP
//!    timestamps) or a jump of RTP time by more than [`MAX_DRIFT`] from arrival time (a reset,
//!    a long gap without RTP time advancing) re-anchors that track on arrival time, and time
//!    never goes back;
//! 3. orders frames of both tracks by time (a [`REORDER`] window) and muxes them with libwebm
//!    (the `webm` crate) in live mode: unknown-size segment, each cluster's size written when
//!    the next cluster starts (on each video keyframe; the source is asked for a keyframe when
//!    2 s pass without one); each frame reaches the OS as it is muxed, and `fdatasync` runs at
//!    least every [`SYNC_EVERY`]. A `kill -9` loses the frames still in the reorder window and
//!    the audio libwebm holds until the next video frame;
//! 4. on stop, [`recover`] rewrites the file in file mode (duration, cues). The same call, at
//!    the next start, finalizes a file a crash left behind.
//!
//! Disk space is checked before start and every [`RecordingConfig::disk_check_interval`]:
//! [`RecordingEvent::LowDisk`] under [`RecordingConfig::warn_below_bytes`], a clean stop under
//! [`RecordingConfig::stop_below_bytes`].
//!
//! Why libwebm (`webm` 2.x): it is the WebM project's own muxer (Chrome's MediaRecorder and
//! ffmpeg's `libwebm` path write with it), its live mode writes unknown-size elements so a
//! truncated file still plays, and its file mode writes cues and duration, which [`recover`]
//! uses. The pure-Rust WebM writers found (`ebml-webm`, `oxideav-mkv`) call themselves early
//! development. Reading back is `matroska-demuxer` (pure Rust).
//!
//! Not yet (unfinished):
//! - H.264 sources (OBS) are not recorded: their video needs fragmented MP4, not WebM; their
//!   video frames are counted in [`RecordingStatus::frames_discarded`]. VP9 and AV1 video too
//!   (their RTP depacketizing is not written here).
//! - A source that sends no video for a long time (audio only, video stopped) keeps its audio
//!   in libwebm's queue until video returns: on disk only then.
//! - A/V sync within one publisher relies on both tracks' first packets arriving together
//!   (RTCP sender reports are not read); the test card and the local source send them together.
//! - A source whose RTP clock stops during a pause shorter than [`MAX_DRIFT`] (1 s) has that
//!   track placed up to that much early after it (libwebrtc and OBS keep RTP time running
//!   through a mute, which is placed exactly); a longer one is re-anchored on arrival.
//! - The track's width and height are the first keyframe's; a later source of another size is
//!   written as is (VP8 carries its size in each keyframe; players follow it).
//! - Free space on Windows is not checked (`free_space` reports unlimited there).

use crate::engine::{Inner, SourcePacket, lock};
use crate::{MediaEngine, TrackKind};
use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp::packetizer::Depacketizer;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak, mpsc};
use std::time::{Duration, Instant};

/// Warn when less than this is free (2 GB).
pub const DEFAULT_WARN_BELOW_BYTES: u64 = 2_000_000_000;
/// Stop cleanly when less than this is free (500 MB).
pub const DEFAULT_STOP_BELOW_BYTES: u64 = 500_000_000;
/// Frames are held this long to be written in time order across the two tracks.
pub const REORDER: Duration = Duration::from_millis(200);
/// A track whose RTP time strays this far from arrival time is re-anchored on arrival time.
pub const MAX_DRIFT: Duration = Duration::from_secs(1);
/// `fdatasync` at least this often while frames are written.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);
/// Ask the source for a keyframe when the video has gone this long without one, so a
/// cluster (and what a crash can cost) stays within it.
pub const MAX_CLUSTER: Duration = Duration::from_secs(2);

/// The recording thread's name (at most 15 bytes, as Linux keeps it), for profilers and the
/// benchmark that reads its CPU time.
pub const THREAD_NAME: &str = "lectern-record";

/// How free space is measured: bytes available to this user on the file system holding the
/// path. A parameter so tests can run the thresholds without filling a disk.
pub type FreeSpace = Arc<dyn Fn(&Path) -> io::Result<u64> + Send + Sync>;

/// Where and how to record.
#[derive(Clone)]
pub struct RecordingConfig {
    /// The file to write (created; an existing file is never overwritten).
    pub path: PathBuf,
    /// [`RecordingEvent::LowDisk`] when free space falls under this.
    pub warn_below_bytes: u64,
    /// No start, or a clean stop, under this.
    pub stop_below_bytes: u64,
    /// How often free space is measured while recording.
    pub disk_check_interval: Duration,
    /// Packets waiting for the recording thread before new ones are dropped (about 10 s of
    /// 1.5 Mbit/s video plus audio at the default).
    pub queue_packets: usize,
    /// The free-space probe ([`free_space`] by default).
    pub free_space: FreeSpace,
}

impl RecordingConfig {
    /// Record into `path` with the default thresholds (warn under 2 GB, stop under 500 MB).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            warn_below_bytes: DEFAULT_WARN_BELOW_BYTES,
            stop_below_bytes: DEFAULT_STOP_BELOW_BYTES,
            disk_check_interval: Duration::from_secs(5),
            queue_packets: 4_096,
            free_space: Arc::new(free_space),
        }
    }
}

impl std::fmt::Debug for RecordingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingConfig")
            .field("path", &self.path)
            .field("warn_below_bytes", &self.warn_below_bytes)
            .field("stop_below_bytes", &self.stop_below_bytes)
            .field("disk_check_interval", &self.disk_check_interval)
            .field("queue_packets", &self.queue_packets)
            .finish_non_exhaustive()
    }
}

/// Why a recording failed, or a file could not be finalized.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordingError {
    /// [`MediaEngine::start_recording`] while one runs.
    #[error("a recording is already running")]
    AlreadyRecording,
    /// Too little free space to start (or to go on).
    #[error("only {free_bytes} bytes are free, under the {limit_bytes}-byte floor")]
    LowDisk {
        /// Bytes free.
        free_bytes: u64,
        /// The floor ([`RecordingConfig::stop_below_bytes`]).
        limit_bytes: u64,
    },
    /// A file or file-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// libwebm refused a track or a frame.
    #[error("the WebM muxer refused {0}")]
    Mux(String),
    /// The file is not WebM as far as it can be read.
    #[error("the file cannot be read as WebM: {0}")]
    Demux(String),
    /// A track whose codec WebM (or this recorder) does not carry.
    #[error("codec {0} cannot be written to WebM here")]
    UnsupportedCodec(String),
    /// A file with no frame in it.
    #[error("the file holds no frames")]
    Empty,
}

impl RecordingError {
    /// A stable code for APIs (`{ code, message }`).
    pub fn code(&self) -> &'static str {
        match self {
            RecordingError::AlreadyRecording => "recording_running",
            RecordingError::LowDisk { .. } => "recording_low_disk",
            RecordingError::Io { .. } => "recording_io",
            RecordingError::Mux(_) => "recording_mux",
            RecordingError::Demux(_) => "recording_unreadable",
            RecordingError::UnsupportedCodec(_) => "recording_unsupported_codec",
            RecordingError::Empty => "recording_empty",
        }
    }

    fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| RecordingError::Io { context, source }
    }
}

/// Why a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// [`MediaEngine::stop_recording`], or the engine was dropped.
    Requested,
    /// Free space fell under [`RecordingConfig::stop_below_bytes`].
    LowDisk,
    /// Writing failed (see the [`RecordingEvent::Failed`] before it).
    Failed,
}

/// What the recording tells the studio, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordingEvent {
    /// The file is open; frames follow from the first video keyframe.
    Started {
        /// The file.
        path: String,
    },
    /// Free space is under [`RecordingConfig::warn_below_bytes`] (once per crossing).
    LowDisk {
        /// Bytes free.
        free_bytes: u64,
    },
    /// Writing or finalizing failed.
    Failed {
        /// [`RecordingError::code`].
        code: &'static str,
        /// What happened.
        message: String,
    },
    /// The recording ended.
    Stopped {
        /// The file (absent if nothing was ever written to it).
        path: String,
        /// Why.
        reason: StopReason,
        /// Rewritten with duration and cues; `false` leaves a live-mode file that still plays
        /// and that [`recover`] finalizes later.
        finalized: bool,
        /// Media time written.
        duration_ms: u64,
        /// File size.
        bytes: u64,
    },
}

impl RecordingEvent {
    fn failed(error: &RecordingError) -> Self {
        RecordingEvent::Failed {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

/// Where a recording is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    /// Open, waiting for the first video keyframe.
    #[default]
    WaitingForKeyframe,
    /// Writing frames.
    Recording,
    /// Ended (see [`RecordingEvent::Stopped`]).
    Stopped,
}

/// A snapshot of the recording for the studio.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordingStatus {
    /// The file.
    pub path: String,
    /// Where it is.
    pub state: RecordingState,
    /// Media time written.
    pub duration_ms: u64,
    /// File size at the last check (about once a second).
    pub bytes_written: u64,
    /// Video frames written.
    pub video_frames: u64,
    /// Audio frames written.
    pub audio_frames: u64,
    /// Packets lost because the recording thread was behind (queue full).
    pub packets_dropped: u64,
    /// Frames not written: broken by a lost packet, before a keyframe, of a codec WebM does
    /// not carry here.
    pub frames_discarded: u64,
    /// Frames written with a time clamped to keep time monotonic (they came late).
    pub frames_late: u64,
    /// Free space at the last check.
    pub free_bytes: Option<u64>,
    /// Finalized (duration, cues) after it stopped.
    pub finalized: bool,
}

/// Bytes available to this user on the file system holding `path`.
///
/// # Errors
/// The `statvfs` call's.
#[cfg(unix)]
#[allow(
    clippy::useless_conversion,
    reason = "fsblkcnt_t and c_ulong are u64 on Linux, not on every unix"
)]
pub fn free_space(path: &Path) -> io::Result<u64> {
    let stat = nix::sys::statvfs::statvfs(path).map_err(io::Error::from)?;
    let blocks = u64::try_from(stat.blocks_available()).unwrap_or(u64::MAX);
    let size = u64::try_from(stat.fragment_size()).unwrap_or(u64::MAX);
    Ok(blocks.saturating_mul(size))
}

/// Unfinished: free space is not measured on this platform.
///
/// # Errors
/// None.
#[cfg(not(unix))]
pub fn free_space(_path: &Path) -> io::Result<u64> {
    Ok(u64::MAX)
}

/// One packet for the recording thread, with when it reached the fan-out.
struct Arrival {
    at: Instant,
    packet: Arc<SourcePacket>,
}

struct Tap {
    queue: mpsc::SyncSender<Arrival>,
    dropped: Arc<AtomicU64>,
}

struct Running {
    thread: std::thread::JoinHandle<()>,
    status: Arc<Mutex<RecordingStatus>>,
    dropped: Arc<AtomicU64>,
}

/// The engine's place for a recording: the tap the fan-out offers packets to, and the thread.
pub(crate) struct RecordingSlot {
    tap: RwLock<Option<Tap>>,
    running: Mutex<Option<Running>>,
    events: tokio::sync::broadcast::Sender<RecordingEvent>,
}

impl Default for RecordingSlot {
    fn default() -> Self {
        Self {
            tap: RwLock::new(None),
            running: Mutex::new(None),
            events: tokio::sync::broadcast::channel(64).0,
        }
    }
}

impl RecordingSlot {
    /// Called by the fan-out for every packet it passes: never waits.
    pub(crate) fn offer(&self, packet: &Arc<SourcePacket>) {
        let tap = self
            .tap
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(tap) = tap.as_ref() else {
            return;
        };
        // tokio's clock, so a test with paused time records on the simulated timeline.
        let at = tokio::time::Instant::now().into_std();
        let arrival = Arrival {
            at,
            packet: packet.clone(),
        };
        if let Err(mpsc::TrySendError::Full(_)) = tap.queue.try_send(arrival) {
            tap.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl MediaEngine {
    /// Record what viewers get into `config.path` (WebM), from the next video keyframe on,
    /// until [`MediaEngine::stop_recording`], low disk space, or a write error. Sources may
    /// come and go meanwhile; time runs on.
    ///
    /// # Errors
    /// `AlreadyRecording`; `LowDisk` under [`RecordingConfig::stop_below_bytes`]; `Io` when the
    /// folder or file cannot be created (an existing file is an error: nothing is overwritten).
    pub fn start_recording(&self, config: RecordingConfig) -> Result<(), RecordingError> {
        let slot = &self.inner().recording;
        let mut running = lock(&slot.running);
        if running.as_ref().is_some_and(|r| !r.thread.is_finished()) {
            return Err(RecordingError::AlreadyRecording);
        }
        let folder = match config.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&folder)
            .map_err(RecordingError::io(format!("creating {}", folder.display())))?;
        let free = (config.free_space)(&folder).map_err(RecordingError::io(format!(
            "measuring free space in {}",
            folder.display()
        )))?;
        if free < config.stop_below_bytes {
            return Err(RecordingError::LowDisk {
                free_bytes: free,
                limit_bytes: config.stop_below_bytes,
            });
        }
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&config.path)
            .map_err(RecordingError::io(format!(
                "creating {}",
                config.path.display()
            )))?;
        let (queue, packets) = mpsc::sync_channel(config.queue_packets.max(16));
        let dropped = Arc::new(AtomicU64::new(0));
        let status = Arc::new(Mutex::new(RecordingStatus {
            path: config.path.display().to_string(),
            free_bytes: Some(free),
            ..RecordingStatus::default()
        }));
        let recorder = Recorder::new(
            config,
            folder,
            file,
            self.downgrade(),
            status.clone(),
            dropped.clone(),
            slot.events.clone(),
        );
        let path = recorder.config.path.clone();
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || recorder.run(&packets))
            .map_err(|e| {
                // Nothing was written to the file this call created.
                let _ = std::fs::remove_file(&path);
                RecordingError::io("starting the recording thread")(e)
            })?;
        *running = Some(Running {
            thread,
            status,
            dropped: dropped.clone(),
        });
        *slot
            .tap
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Tap { queue, dropped });
        Ok(())
    }

    /// Stop the recording: write what is queued, finalize the file (duration, cues), and
    /// return its last status; `None` when none was started.
    pub async fn stop_recording(&self) -> Option<RecordingStatus> {
        let slot = &self.inner().recording;
        // Dropping the tap closes the queue; the thread drains it and finishes.
        slot.tap
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let running = lock(&slot.running).take()?;
        let status = running.status.clone();
        let _ = tokio::task::spawn_blocking(move || running.thread.join()).await;
        let status = lock(&status).clone();
        Some(status)
    }

    /// The recording's status (also after it stopped by itself), `None` if none was started.
    pub fn recording_status(&self) -> Option<RecordingStatus> {
        let running = lock(&self.inner().recording.running);
        let running = running.as_ref()?;
        let mut status = lock(&running.status).clone();
        status.packets_dropped = running.dropped.load(Ordering::Relaxed);
        Some(status)
    }

    /// The recordings' events: started, low disk, failed, stopped.
    pub fn recording_events(&self) -> tokio::sync::broadcast::Receiver<RecordingEvent> {
        self.inner().recording.events.subscribe()
    }
}

/// The file as libwebm's writer: unbuffered (each write reaches the OS at once), with the
/// position kept here so libwebm's frequent position queries cost no system call.
struct SharedFile {
    file: Arc<File>,
    position: u64,
}

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = (&*self.file).write(buf)?;
        self.position += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.position = (&*self.file).seek(pos)?;
        Ok(self.position)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.position)
    }
}

/// One track's RTP time on the recording's timeline (nanoseconds since its first packet).
#[derive(Debug, Default)]
pub(crate) struct TrackClock {
    anchor: Option<Anchor>,
    last_ns: i64,
}

#[derive(Debug)]
struct Anchor {
    generation: u64,
    ssrc: u32,
    clock_rate: i64,
    base_ns: i64,
    last_rtp: u32,
    /// RTP ticks since `base_ns`, unwrapped.
    ticks: i64,
}

impl TrackClock {
    /// The time of a frame with RTP timestamp `rtp` that arrived at `arrival_ns`: RTP time
    /// from the anchor while the source, its SSRC and its pace hold; else arrival time.
    /// Never earlier than the track's previous frame.
    pub(crate) fn map(
        &mut self,
        generation: u64,
        ssrc: u32,
        rtp: u32,
        clock_rate: u32,
        arrival_ns: i64,
    ) -> i64 {
        let max_drift = i64::try_from(MAX_DRIFT.as_nanos()).unwrap_or(i64::MAX);
        let from_rtp = match &mut self.anchor {
            Some(a) if a.generation == generation && a.ssrc == ssrc => {
                // The signed difference unwraps the 32-bit RTP clock.
                a.ticks += i64::from(rtp.wrapping_sub(a.last_rtp) as i32);
                a.last_rtp = rtp;
                let ns = a.base_ns + a.ticks * 1_000_000_000 / a.clock_rate;
                ((ns - arrival_ns).abs() <= max_drift).then_some(ns)
            }
            _ => None,
        };
        let ns = match from_rtp {
            Some(ns) => ns,
            None => {
                let base_ns = arrival_ns.max(self.last_ns);
                self.anchor = Some(Anchor {
                    generation,
                    ssrc,
                    clock_rate: i64::from(clock_rate.max(1)),
                    base_ns,
                    last_rtp: rtp,
                    ticks: 0,
                });
                base_ns
            }
        };
        let ns = ns.max(self.last_ns);
        self.last_ns = ns;
        ns
    }
}

/// A VP8 frame put back together from its RTP packets.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Vp8Frame {
    pub(crate) rtp_timestamp: u32,
    pub(crate) data: Vec<u8>,
    pub(crate) keyframe: bool,
}

/// VP8 depacketizer (RFC 7741): one frame per RTP timestamp, from a packet starting partition
/// 0 to the marker. A lost packet drops the frame and every frame up to the next keyframe.
#[derive(Debug, Default)]
pub(crate) struct Vp8Assembler {
    current: Option<(u32, u16, Vec<u8>)>,
    generation: u64,
    awaiting_keyframe: bool,
    /// Frames dropped (broken, or waiting for a keyframe).
    pub(crate) discarded: u64,
}

impl Vp8Assembler {
    /// Feed one packet; a whole frame comes out with its last packet. `true` in the second
    /// place when a frame was lost (time to ask for a keyframe).
    pub(crate) fn push(
        &mut self,
        generation: u64,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: &bytes::Bytes,
    ) -> (Option<Vp8Frame>, bool) {
        let mut lost = false;
        if generation != self.generation {
            self.generation = generation;
            self.current = None;
            self.awaiting_keyframe = true;
        }
        let mut descriptor = Vp8Packet::default();
        let Ok(data) = descriptor.depacketize(payload) else {
            lost |= self.break_frame();
            return (None, lost);
        };
        let starts = descriptor.s == 1 && descriptor.pid == 0;
        if starts {
            if self.current.is_some() {
                // The previous frame's marker never came.
                lost |= self.break_frame();
            }
            self.current = Some((timestamp, sequence, data.to_vec()));
        } else {
            match &mut self.current {
                Some((ts, last_seq, buf))
                    if *ts == timestamp && sequence == last_seq.wrapping_add(1) =>
                {
                    *last_seq = sequence;
                    buf.extend_from_slice(&data);
                }
                Some(_) => {
                    lost |= self.break_frame();
                    return (None, lost);
                }
                // The middle of a frame whose start we never saw.
                None => return (None, lost),
            }
        }
        if !marker {
            return (None, lost);
        }
        let Some((rtp_timestamp, _, data)) = self.current.take() else {
            return (None, lost);
        };
        let keyframe = data.first().is_some_and(|tag| tag & 0x01 == 0);
        if keyframe {
            self.awaiting_keyframe = false;
        }
        if self.awaiting_keyframe {
            self.discarded += 1;
            return (None, lost);
        }
        (
            Some(Vp8Frame {
                rtp_timestamp,
                data,
                keyframe,
            }),
            lost,
        )
    }

    fn break_frame(&mut self) -> bool {
        if self.current.take().is_some() {
            self.discarded += 1;
        }
        let newly = !self.awaiting_keyframe;
        self.awaiting_keyframe = true;
        newly
    }
}

/// Width and height from a VP8 keyframe's header (RFC 6386 9.1).
fn vp8_size(frame: &[u8]) -> Option<(u32, u32)> {
    if frame.len() < 10 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let width = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let height = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    (width > 0 && height > 0).then_some((u32::from(width), u32::from(height)))
}

/// `OpusHead` (RFC 7845 5.1), WebM's `CodecPrivate` for Opus; 3840 samples of pre-skip as
/// WebRTC encoders use.
fn opus_head(channels: u8) -> [u8; 19] {
    let mut head = [0u8; 19];
    head[..8].copy_from_slice(b"OpusHead");
    head[8] = 1;
    head[9] = channels;
    head[10..12].copy_from_slice(&3840u16.to_le_bytes());
    head[12..16].copy_from_slice(&48_000u32.to_le_bytes());
    head
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Track {
    Video,
    Audio,
}

/// A frame waiting in the reorder window; ordered by time, then arrival.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    ns: i64,
    order: u64,
    track: Track,
    keyframe: bool,
    data: Vec<u8>,
}

struct Mux {
    segment: webm::mux::Segment<SharedFile>,
    video: webm::mux::VideoTrack,
    audio: webm::mux::AudioTrack,
}

struct Recorder {
    config: RecordingConfig,
    folder: PathBuf,
    file: Arc<File>,
    engine: Weak<Inner>,
    status: Arc<Mutex<RecordingStatus>>,
    dropped: Arc<AtomicU64>,
    events: tokio::sync::broadcast::Sender<RecordingEvent>,
    origin: Option<Instant>,
    video_clock: TrackClock,
    audio_clock: TrackClock,
    vp8: Vp8Assembler,
    opus_channels: Option<u8>,
    pending: BinaryHeap<Reverse<Pending>>,
    order: u64,
    newest_ns: i64,
    mux: Option<Mux>,
    start_ns: i64,
    last_out_ns: i64,
    last_keyframe_ns: i64,
    last_keyframe_request: Option<Instant>,
    last_sync: Instant,
    last_disk_check: Option<Instant>,
    warned: bool,
    unsupported_seen: bool,
    stop: Option<StopReason>,
}

impl Recorder {
    fn new(
        config: RecordingConfig,
        folder: PathBuf,
        file: File,
        engine: Weak<Inner>,
        status: Arc<Mutex<RecordingStatus>>,
        dropped: Arc<AtomicU64>,
        events: tokio::sync::broadcast::Sender<RecordingEvent>,
    ) -> Self {
        Self {
            config,
            folder,
            file: Arc::new(file),
            engine,
            status,
            dropped,
            events,
            origin: None,
            video_clock: TrackClock::default(),
            audio_clock: TrackClock::default(),
            vp8: Vp8Assembler::default(),
            opus_channels: None,
            pending: BinaryHeap::new(),
            order: 0,
            newest_ns: 0,
            mux: None,
            start_ns: 0,
            last_out_ns: 0,
            last_keyframe_ns: 0,
            last_keyframe_request: None,
            last_sync: Instant::now(),
            last_disk_check: None,
            warned: false,
            unsupported_seen: false,
            stop: None,
        }
    }

    fn run(mut self, packets: &mpsc::Receiver<Arrival>) {
        let _ = self.events.send(RecordingEvent::Started {
            path: self.config.path.display().to_string(),
        });
        let reason = loop {
            match packets.recv_timeout(Duration::from_millis(250)) {
                Ok(arrival) => self.on_packet(&arrival),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break StopReason::Requested,
            }
            self.housekeeping();
            if let Some(reason) = self.stop {
                break reason;
            }
        };
        self.finish(reason);
    }

    fn on_packet(&mut self, arrival: &Arrival) {
        let origin = *self.origin.get_or_insert(arrival.at);
        let arrival_ns =
            i64::try_from(arrival.at.saturating_duration_since(origin).as_nanos()).unwrap_or(0);
        let source = &arrival.packet;
        let header = &source.packet.header;
        let mime = source.codec.mime_type.as_str();
        match source.kind {
            TrackKind::Video if mime.eq_ignore_ascii_case("video/VP8") => {
                let (frame, lost) = self.vp8.push(
                    source.generation,
                    header.sequence_number,
                    header.timestamp,
                    header.marker,
                    &source.packet.payload,
                );
                if lost {
                    self.want_keyframe();
                }
                if let Some(frame) = frame {
                    let ns = self.video_clock.map(
                        source.generation,
                        header.ssrc,
                        frame.rtp_timestamp,
                        source.codec.clock_rate,
                        arrival_ns,
                    );
                    self.queue(Track::Video, ns, frame.keyframe, frame.data);
                }
            }
            TrackKind::Audio if mime.eq_ignore_ascii_case("audio/opus") => {
                let Some(toc) = source.packet.payload.first() else {
                    return;
                };
                self.opus_channels
                    .get_or_insert(if toc & 0x04 != 0 { 2 } else { 1 });
                let ns = self.audio_clock.map(
                    source.generation,
                    header.ssrc,
                    header.timestamp,
                    source.codec.clock_rate,
                    arrival_ns,
                );
                self.queue(Track::Audio, ns, true, source.packet.payload.to_vec());
            }
            _ => {
                // Unfinished: H.264 (fragmented MP4), VP9 and AV1 are not recorded.
                if header.marker || source.kind == TrackKind::Audio {
                    lock(&self.status).frames_discarded += 1;
                }
                if !self.unsupported_seen {
                    self.unsupported_seen = true;
                    let error = RecordingError::UnsupportedCodec(mime.to_owned());
                    tracing::warn!(%error, "recording skips a track");
                    let _ = self.events.send(RecordingEvent::failed(&error));
                }
            }
        }
    }

    fn queue(&mut self, track: Track, ns: i64, keyframe: bool, data: Vec<u8>) {
        self.order += 1;
        self.pending.push(Reverse(Pending {
            ns,
            order: self.order,
            track,
            keyframe,
            data,
        }));
        self.newest_ns = self.newest_ns.max(ns);
        let window = i64::try_from(REORDER.as_nanos()).unwrap_or(i64::MAX);
        while self
            .pending
            .peek()
            .is_some_and(|Reverse(p)| p.ns + window <= self.newest_ns)
        {
            if let Some(Reverse(frame)) = self.pending.pop() {
                self.write(frame);
            }
        }
    }

    fn write(&mut self, frame: Pending) {
        if self.stop.is_some() {
            return;
        }
        if self.mux.is_none() {
            if frame.track != Track::Video || !frame.keyframe {
                lock(&self.status).frames_discarded += 1;
                return;
            }
            match self.open_mux(&frame.data) {
                Ok(mux) => {
                    self.mux = Some(mux);
                    self.start_ns = frame.ns;
                    self.last_keyframe_ns = frame.ns;
                    lock(&self.status).state = RecordingState::Recording;
                }
                Err(error) => return self.fail(&error),
            }
        }
        let Some(mux) = self.mux.as_mut() else {
            return;
        };
        if frame.ns < self.start_ns {
            lock(&self.status).frames_discarded += 1;
            return;
        }
        let mut out_ns = frame.ns - self.start_ns;
        let late = out_ns < self.last_out_ns;
        if late {
            out_ns = self.last_out_ns;
        }
        let track: webm::mux::TrackNum = match frame.track {
            Track::Video => webm::mux::Track::track_number(&mux.video),
            Track::Audio => webm::mux::Track::track_number(&mux.audio),
        };
        let at = u64::try_from(out_ns).unwrap_or(0);
        if let Err(e) = mux
            .segment
            .add_frame(track, &frame.data, at, frame.keyframe)
        {
            return self.fail(&RecordingError::Mux(format!("a frame at {at} ns: {e}")));
        }
        self.last_out_ns = out_ns;
        {
            let mut status = lock(&self.status);
            status.duration_ms = at / 1_000_000;
            status.frames_late += u64::from(late);
            match frame.track {
                Track::Video => status.video_frames += 1,
                Track::Audio => status.audio_frames += 1,
            }
        }
        if frame.track == Track::Video {
            if frame.keyframe {
                self.last_keyframe_ns = frame.ns;
            } else if frame.ns - self.last_keyframe_ns
                >= i64::try_from(MAX_CLUSTER.as_nanos()).unwrap_or(i64::MAX)
            {
                self.want_keyframe();
            }
        }
    }

    fn open_mux(&self, keyframe: &[u8]) -> Result<Mux, RecordingError> {
        use webm::mux::{AudioCodecId, SegmentBuilder, SegmentMode, VideoCodecId, Writer};
        let (width, height) = vp8_size(keyframe).unwrap_or((1280, 720));
        let channels = self.opus_channels.unwrap_or(2);
        let mux_error =
            |what: &str, e: webm::mux::Error| RecordingError::Mux(format!("{what}: {e}"));
        let writer = Writer::new(SharedFile {
            file: self.file.clone(),
            position: 0,
        });
        let builder = SegmentBuilder::new(writer)
            .and_then(|b| b.set_mode(SegmentMode::Live))
            .map_err(|e| mux_error("the segment", e))?
            .set_writing_app("Lectern")
            .map_err(|e| mux_error("the writing app", e))?;
        let (builder, video) = builder
            .add_video_track(width, height, VideoCodecId::VP8, None)
            .map_err(|e| mux_error("the video track", e))?;
        let (builder, audio) = builder
            .add_audio_track(48_000, u32::from(channels), AudioCodecId::Opus, None)
            .map_err(|e| mux_error("the audio track", e))?;
        let builder = builder
            .set_codec_private(audio, &opus_head(channels))
            .map_err(|e| mux_error("OpusHead", e))?;
        Ok(Mux {
            segment: builder.build(),
            video,
            audio,
        })
    }

    fn want_keyframe(&mut self) {
        let now = Instant::now();
        if self
            .last_keyframe_request
            .is_some_and(|at| now.duration_since(at) < Duration::from_secs(1))
        {
            return;
        }
        self.last_keyframe_request = Some(now);
        if let Some(engine) = self.engine.upgrade() {
            engine.request_keyframe_for_recording();
        }
    }

    /// Sync to disk, measure free space, publish counters.
    fn housekeeping(&mut self) {
        let now = Instant::now();
        if self.mux.is_some() && now.duration_since(self.last_sync) >= SYNC_EVERY {
            self.last_sync = now;
            if let Err(e) = self.file.sync_data() {
                return self.fail(&RecordingError::io("syncing the recording")(e));
            }
            if let Ok(meta) = self.file.metadata() {
                lock(&self.status).bytes_written = meta.len();
            }
        }
        let due = self
            .last_disk_check
            .is_none_or(|at| now.duration_since(at) >= self.config.disk_check_interval);
        if !due {
            return;
        }
        self.last_disk_check = Some(now);
        let free = match (self.config.free_space)(&self.folder) {
            Ok(free) => free,
            Err(e) => {
                tracing::warn!(error = %e, "recording: free space unknown");
                return;
            }
        };
        lock(&self.status).free_bytes = Some(free);
        if free < self.config.stop_below_bytes {
            let error = RecordingError::LowDisk {
                free_bytes: free,
                limit_bytes: self.config.stop_below_bytes,
            };
            tracing::warn!(%error, "recording stops");
            let _ = self.events.send(RecordingEvent::failed(&error));
            self.stop = Some(StopReason::LowDisk);
        } else if free < self.config.warn_below_bytes {
            if !self.warned {
                self.warned = true;
                let _ = self
                    .events
                    .send(RecordingEvent::LowDisk { free_bytes: free });
            }
        } else {
            self.warned = false;
        }
    }

    fn fail(&mut self, error: &RecordingError) {
        tracing::warn!(%error, "recording failed");
        let _ = self.events.send(RecordingEvent::failed(error));
        self.stop = Some(StopReason::Failed);
    }

    /// Write what is pending, close the segment, finalize the file when there is room.
    fn finish(mut self, reason: StopReason) {
        if reason == StopReason::Requested {
            while let Some(Reverse(frame)) = self.pending.pop() {
                self.write(frame);
            }
        }
        let reason = self.stop.unwrap_or(reason);
        let wrote = self
            .mux
            .take()
            .map(|mux| mux.segment.finalize(None).is_ok());
        let _ = self.file.sync_all();
        let path = self.config.path.clone();
        let bytes = self.file.metadata().map(|m| m.len()).unwrap_or(0);
        let finalized = match wrote {
            // Nothing was written: no file to keep.
            None => {
                let _ = std::fs::remove_file(&path);
                false
            }
            Some(_) => {
                // Rewriting needs about the file's size again; under the floor, keep the
                // live-mode file (it plays; `recover` finalizes it at the next start).
                let room = (self.config.free_space)(&self.folder)
                    .is_ok_and(|free| free >= bytes.saturating_add(self.config.stop_below_bytes));
                room && match recover(&path) {
                    Ok(_) => true,
                    Err(error) => {
                        let _ = self.events.send(RecordingEvent::failed(&error));
                        false
                    }
                }
            }
        };
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let duration_ms = {
            let mut status = lock(&self.status);
            status.state = RecordingState::Stopped;
            status.finalized = finalized;
            status.bytes_written = bytes;
            status.packets_dropped = self.dropped.load(Ordering::Relaxed);
            status.frames_discarded += self.vp8.discarded;
            status.duration_ms
        };
        let _ = self.events.send(RecordingEvent::Stopped {
            path: path.display().to_string(),
            reason,
            finalized,
            duration_ms,
            bytes,
        });
    }
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// The file already had its duration (finalized): left untouched.
    pub already_final: bool,
    /// The file ended inside a frame or an element (a crash); frames up to there were kept.
    pub truncated: bool,
    /// Frames in the finalized file.
    pub frames: u64,
    /// Media time in the finalized file (the last frame's time).
    pub duration_ms: u64,
}

/// A reader for `matroska-demuxer` 0.8 over a live-mode file. The demuxer knows only the
/// 1-byte form of EBML's "unknown size"; the 8-byte form libwebm writes (valid EBML, read by
/// browsers and ffmpeg) it takes for a size of 2^56 and seeks past it, which the OS refuses
/// (`EINVAL`) and the demuxer then takes for the end of the file. Here a seek past the end
/// succeeds and reads nothing, as at the end of a short file, and the demuxer goes on into the
/// unknown-size cluster.
#[derive(Debug)]
pub struct PastEndSeek<R> {
    inner: R,
    len: u64,
    past_end: Option<u64>,
}

impl<R: Seek> PastEndSeek<R> {
    /// Wrap a reader (its length is measured once).
    ///
    /// # Errors
    /// The seeks' that measure it.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(Self {
            inner,
            len,
            past_end: None,
        })
    }
}

impl<R: io::Read> io::Read for PastEndSeek<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.past_end.is_some() {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for PastEndSeek<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let current = match self.past_end {
            Some(at) => at,
            None => self.inner.stream_position()?,
        };
        let target = match pos {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::Current(by) => current.checked_add_signed(by),
            SeekFrom::End(by) => self.len.checked_add_signed(by),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target > self.len {
            self.inner.seek(SeekFrom::End(0))?;
            self.past_end = Some(target);
        } else {
            self.inner.seek(SeekFrom::Start(target))?;
            self.past_end = None;
        }
        Ok(target)
    }
}

/// What [`recover`] gives for one file.
pub type RecoveryResult = Result<Recovery, RecordingError>;

/// A finalized recording's duration in milliseconds; `None` while it is still written (live
/// mode has no duration) or when the file is not a readable WebM.
pub fn finalized_duration_ms(path: &Path) -> Option<u64> {
    let file = File::open(path).ok()?;
    let mkv = matroska_demuxer::MatroskaFile::open(io::BufReader::new(file)).ok()?;
    let duration = mkv.info().duration()?;
    let scale = mkv.info().timestamp_scale().get() as f64;
    let ms = duration * scale / 1e6;
    // Rounded to whole milliseconds; a broken header's NaN or negative value reads as none.
    (ms.is_finite() && ms >= 0.0).then(|| ms.round() as u64)
}

/// Finalize a recording: read it with a demuxer as far as it is readable and write it again in
/// file mode (duration, cues) beside it, then rename it over the original. The original is
/// kept if anything fails. A file that already has a duration is left as it is.
///
/// # Errors
/// `Io`, `Demux` when the start of the file is not WebM, `UnsupportedCodec`, `Mux`, `Empty`.
pub fn recover(path: &Path) -> Result<Recovery, RecordingError> {
    use matroska_demuxer::{Frame, MatroskaFile, TrackType};
    use webm::mux::{AudioCodecId, SegmentBuilder, SegmentMode, VideoCodecId, Writer};

    let input =
        File::open(path).map_err(RecordingError::io(format!("opening {}", path.display())))?;
    let input = PastEndSeek::new(input)
        .map_err(RecordingError::io(format!("reading {}", path.display())))?;
    let mut mkv = MatroskaFile::open(io::BufReader::new(input))
        .map_err(|e| RecordingError::Demux(e.to_string()))?;
    if mkv.info().duration().is_some() {
        return Ok(Recovery {
            already_final: true,
            truncated: false,
            frames: 0,
            duration_ms: 0,
        });
    }
    let scale = mkv.info().timestamp_scale().get();
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    let partial = PathBuf::from(name);
    let mut write = || -> Result<Recovery, RecordingError> {
        let out = File::create(&partial).map_err(RecordingError::io(format!(
            "creating {}",
            partial.display()
        )))?;
        let mux_error = |e: webm::mux::Error| RecordingError::Mux(e.to_string());
        let mut builder = SegmentBuilder::new(Writer::new(io::BufWriter::new(out)))
            .and_then(|b| b.set_mode(SegmentMode::File))
            .map_err(mux_error)?
            .set_writing_app("Lectern")
            .map_err(mux_error)?;
        let mut video_tracks = Vec::new();
        for track in mkv.tracks() {
            let number = track.track_number().get();
            match (track.track_type(), track.codec_id()) {
                (TrackType::Video, codec @ ("V_VP8" | "V_VP9" | "V_AV1")) => {
                    let codec = match codec {
                        "V_VP8" => VideoCodecId::VP8,
                        "V_VP9" => VideoCodecId::VP9,
                        _ => VideoCodecId::AV1,
                    };
                    let (w, h) = track.video().map_or((1280, 720), |v| {
                        (
                            u32::try_from(v.pixel_width().get()).unwrap_or(1280),
                            u32::try_from(v.pixel_height().get()).unwrap_or(720),
                        )
                    });
                    builder = builder
                        .add_video_track(w, h, codec, Some(number))
                        .map_err(mux_error)?
                        .0;
                    video_tracks.push(number);
                }
                (TrackType::Audio, "A_OPUS") => {
                    let (rate, channels) = track.audio().map_or((48_000, 2), |a| {
                        (
                            a.sampling_frequency() as u32,
                            u32::try_from(a.channels().get()).unwrap_or(2),
                        )
                    });
                    builder = builder
                        .add_audio_track(
                            rate.max(8_000),
                            channels,
                            AudioCodecId::Opus,
                            Some(number),
                        )
                        .map_err(mux_error)?
                        .0;
                }
                (_, codec) => return Err(RecordingError::UnsupportedCodec(codec.to_owned())),
            }
            if let Some(private) = track.codec_private() {
                builder = builder
                    .set_codec_private(number, private)
                    .map_err(mux_error)?;
            }
        }
        let mut segment = builder.build();
        let mut frame = Frame::default();
        let mut frames = 0u64;
        let mut last_ns = 0u64;
        let mut truncated = false;
        loop {
            match mkv.next_frame(&mut frame) {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => {
                    truncated = true;
                    break;
                }
            }
            let ns = frame.timestamp.saturating_mul(scale).max(last_ns);
            let keyframe = frame.is_keyframe.unwrap_or_else(|| {
                !video_tracks.contains(&frame.track)
                    || frame.data.first().is_some_and(|t| t & 1 == 0)
            });
            segment
                .add_frame(frame.track, &frame.data, ns, keyframe)
                .map_err(mux_error)?;
            frames += 1;
            last_ns = ns;
        }
        if frames == 0 {
            return Err(RecordingError::Empty);
        }
        let writer = segment
            .finalize(None)
            .map_err(|_| RecordingError::Mux("finalizing the segment".into()))?;
        let file = writer
            .into_inner()
            .into_inner()
            .map_err(|e| RecordingError::io("writing the finalized file")(e.into_error()))?;
        file.sync_all()
            .map_err(RecordingError::io("syncing the finalized file"))?;
        Ok(Recovery {
            already_final: false,
            truncated,
            frames,
            duration_ms: last_ns / 1_000_000,
        })
    };
    match write() {
        Ok(recovery) => {
            std::fs::rename(&partial, path)
                .map_err(RecordingError::io(format!("replacing {}", path.display())))?;
            if let Some(folder) = path.parent()
                && let Ok(dir) = File::open(folder)
            {
                let _ = dir.sync_all();
            }
            Ok(recovery)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// Finalize every unfinished recording (`*.webm` without a duration) in `folder`, and remove
/// leftovers of an interrupted finalization (`*.webm.partial`) and empty files. Run once at
/// startup, before any recording starts in `folder`.
///
/// # Errors
/// `Io` when the folder cannot be read (a missing folder is not an error).
pub fn recover_folder(folder: &Path) -> Result<Vec<(PathBuf, RecoveryResult)>, RecordingError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(RecordingError::io(format!("reading {}", folder.display()))(
                e,
            ));
        }
    };
    let mut results = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".webm.partial") {
            let _ = std::fs::remove_file(&path);
        } else if name.ends_with(".webm") {
            // A recording killed before its first keyframe left an empty file: nothing to keep.
            if entry.metadata().is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            let result = recover(&path);
            results.push((path, result));
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_track_clock_follows_rtp_time_and_reanchors_on_a_new_source() {
        let mut clock = TrackClock::default();
        let ms = 1_000_000;
        assert_eq!(clock.map(1, 7, 1_000, 90_000, 5 * ms), 5 * ms);
        // 3,000 ticks at 90 kHz are 33.3 ms, whatever the arrival jitter.
        assert_eq!(clock.map(1, 7, 4_000, 90_000, 40 * ms), 5 * ms + 33_333_333);
        // RTP time wraps around 2^32.
        let mut wrap = TrackClock::default();
        wrap.map(1, 7, u32::MAX - 1_499, 90_000, 0);
        assert_eq!(wrap.map(1, 7, 1_500, 90_000, 30 * ms), 33_333_333);
        // A new source with unrelated timestamps starts at its arrival time.
        assert_eq!(clock.map(2, 9, 77, 90_000, 500 * ms), 500 * ms);
        assert_eq!(clock.map(2, 9, 77 + 9_000, 90_000, 600 * ms), 600 * ms);
        // A jump of RTP time (a reset inside one SSRC) is not believed: arrival time instead.
        assert_eq!(clock.map(2, 9, 77 + 900_000, 90_000, 640 * ms), 640 * ms);
        assert_eq!(clock.map(2, 9, 77 + 903_000, 90_000, 680 * ms), 673_333_333);
        // Time never goes back, even when arrival does not move.
        assert_eq!(clock.map(3, 1, 0, 90_000, 100 * ms), 673_333_333);
    }

    fn vp8_payload(start: bool, body: &[u8]) -> bytes::Bytes {
        // X=1, I=1 with a 15-bit picture id; S marks the partition head.
        let mut p = vec![if start { 0x90 } else { 0x80 }, 0x80, 0x80, 0x01];
        p.extend_from_slice(body);
        bytes::Bytes::from(p)
    }

    #[test]
    fn vp8_frames_are_put_together_and_a_loss_waits_for_a_keyframe() {
        let mut vp8 = Vp8Assembler::default();
        let key = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01];
        assert_eq!(
            vp8.push(1, 10, 100, false, &vp8_payload(true, &key)).0,
            None
        );
        let (frame, lost) = vp8.push(1, 11, 100, true, &vp8_payload(false, &[7, 7]));
        let frame = frame.unwrap();
        assert!(frame.keyframe && !lost);
        assert_eq!(frame.data.len(), key.len() + 2);
        assert_eq!(vp8_size(&frame.data), Some((640, 360)));
        // A delta frame whose second packet is lost: dropped, and so is the next delta frame.
        assert_eq!(
            vp8.push(1, 12, 200, false, &vp8_payload(true, &[0x11, 1]))
                .0,
            None
        );
        let (frame, lost) = vp8.push(1, 14, 200, true, &vp8_payload(false, &[2]));
        assert!(frame.is_none() && lost);
        assert!(
            vp8.push(1, 15, 300, true, &vp8_payload(true, &[0x11, 3]))
                .0
                .is_none()
        );
        // The next keyframe resumes.
        assert!(
            vp8.push(1, 16, 400, true, &vp8_payload(true, &key))
                .0
                .unwrap()
                .keyframe
        );
        // A new source waits for its keyframe too.
        assert!(
            vp8.push(2, 1, 9, true, &vp8_payload(true, &[0x11, 3]))
                .0
                .is_none()
        );
        assert_eq!(vp8.discarded, 3);
    }

    #[test]
    fn opus_head_is_nineteen_bytes_of_rfc_7845() {
        let head = opus_head(1);
        assert_eq!(&head[..8], b"OpusHead");
        assert_eq!(head[9], 1);
        assert_eq!(
            u32::from_le_bytes([head[12], head[13], head[14], head[15]]),
            48_000
        );
    }
}

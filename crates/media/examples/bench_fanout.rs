//! Fan-out benchmark: one synthetic WHIP publisher, N receive-only WHEP viewers, all on
//! 127.0.0.1.
//!
//! ```text
//! cargo run --release -p lectern-media --example bench_fanout -- [--viewers 10,50,100,200,400] [--seconds N] [--pacing 2.5] [--recording]
//! ```
//!
//! With `--recording` each point runs twice, without and with a recording of the stream
//! (WebM in a temporary folder), and prints the recording thread's own CPU time as a share of
//! the engine's (read from `/proc/self/task/*/stat`), beside the engine's cores with and without.
//!
//! This process runs only the [`MediaEngine`]; the publisher and the viewers are real `webrtc`
//! peers in a second process (this binary re-executed with `--peers-process`), so the CPU time
//! and memory read from `/proc/self` are the engine's alone. The two talk JSON lines over the
//! child's stdin/stdout: the child sends WHIP/WHEP offers, the engine answers, then the engine
//! opens and closes the measurement window.
//!
//! The publisher sends about 1.5 Mbit/s of VP8-shaped video (30 fps, a keyframe every 2 s eight
//! times the size of a delta frame, packetized to 1,100-byte payloads, sent as a burst per
//! frame, or with `--pacing F` spread at F times the bitrate as libwebrtc's pacer does) plus
//! 20 ms Opus-sized packets. Every payload carries its send time (wall clock,
//! nanoseconds) in its last 8 bytes; a viewer subtracts it from its receive time, so the delay
//! is end to end: publisher SRTP + UDP, the engine, UDP + SRTP into the viewer's process.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on stdout"
)]

use lectern_media::{
    EngineConfig, KEYFRAME_TAP_SLOT, KeyframeRequestTap, MediaEngine, RecordingConfig, TrackKind,
};
use rtc::interceptor::Slot;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine as CodecTable;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::error::Error;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, mpsc, oneshot};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    Registry,
};

type BoxError = Box<dyn Error + Send + Sync>;
/// What a peer does with each remote track.
type OnTrack = Arc<dyn Fn(Arc<dyn TrackRemote>) + Send + Sync>;

const VIDEO_BITRATE: u64 = 1_500_000;
const FPS: u64 = 30;
const GOP_FRAMES: u64 = 60;
const KEYFRAME_WEIGHT: u64 = 8;
const RTP_PAYLOAD: usize = 1_100;
const OPUS_BYTES: usize = 120;
/// Subscribes in flight at once while viewers join.
const JOIN_CONCURRENCY: usize = 8;

struct Args {
    viewers: Vec<usize>,
    seconds: u64,
    peers_process: bool,
    /// Pace the publisher's packets at this multiple of its bitrate (libwebrtc's pacer uses 2.5),
    /// instead of sending each frame as one burst.
    pacing: Option<f64>,
    /// Run each point without and with a recording.
    recording: bool,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        viewers: vec![10, 50, 100, 200, 400],
        seconds: 10,
        peers_process: false,
        pacing: None,
        recording: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--viewers" => {
                let list = it.next().ok_or("--viewers needs a list like 10,50,100")?;
                args.viewers = list
                    .split(',')
                    .map(|n| n.trim().parse::<usize>())
                    .collect::<Result<_, _>>()?;
            }
            "--seconds" => {
                args.seconds = it.next().ok_or("--seconds needs a number")?.parse()?;
            }
            "--peers-process" => args.peers_process = true,
            "--recording" => args.recording = true,
            "--pacing" => {
                let factor: f64 = it
                    .next()
                    .ok_or("--pacing needs a factor like 2.5")?
                    .parse()?;
                if !(factor.is_finite() && factor >= 1.0) {
                    return Err("--pacing is at least 1 (the bitrate itself)".into());
                }
                args.pacing = Some(factor);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(args)
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.peers_process {
        let n = args.viewers.first().copied().unwrap_or(0);
        runtime.block_on(peers_process(n, args.pacing))
    } else {
        runtime.block_on(engine_process(&args))
    }
}

// ---------------------------------------------------------------------------------------------
// The engine's side.

/// One row of the result table.
struct Row {
    viewers: usize,
    joined: usize,
    cpu_us_per_packet: f64,
    engine_cores: f64,
    viewers_per_core: f64,
    forwarded_per_s: f64,
    delay_p50_us: u64,
    delay_p99_us: u64,
    delay_max_us: u64,
    lost: u64,
    expected: u64,
    engine_dropped: u64,
    rss_per_viewer_kib: f64,
    join_p50_ms: u64,
    join_max_ms: u64,
    peers_cores: f64,
    /// The recording thread's CPU seconds per second, when one ran.
    recording_cores: Option<f64>,
}

async fn engine_process(args: &Args) -> Result<(), BoxError> {
    let mut rows = Vec::new();
    let mut recording_lines = Vec::new();
    for &n in &args.viewers {
        eprintln!("-- {n} viewers");
        let row = run_point(n, args.seconds, args.pacing, false).await?;
        print_table(std::slice::from_ref(&row));
        let off_cores = row.engine_cores;
        rows.push(row);
        if args.recording {
            eprintln!("-- {n} viewers, recording");
            let with = run_point(n, args.seconds, args.pacing, true).await?;
            print_table(std::slice::from_ref(&with));
            let thread = with.recording_cores.unwrap_or(0.0);
            let line = format!(
                "| {n} | {:.3} | {:.3} | {:.4} | {:.1}% |",
                off_cores,
                with.engine_cores,
                thread,
                100.0 * thread / with.engine_cores.max(1e-9),
            );
            println!("{line}");
            recording_lines.push(line);
            rows.push(with);
        }
    }
    println!();
    match args.pacing {
        Some(factor) => println!(
            "## fan-out, {} s per point, publisher paced at {factor} x its bitrate, all rows",
            args.seconds
        ),
        None => println!(
            "## fan-out, {} s per point, each frame sent as one burst, all rows",
            args.seconds
        ),
    }
    print_table(&rows);
    if args.recording {
        println!();
        println!(
            "## recording on vs off (each point's second row above ran with a recording; the \
             recording thread's CPU against the whole engine's)"
        );
        println!(
            "| viewers | engine cores, off | engine cores, on | recording thread cores | recording / engine |"
        );
        println!("|---|---|---|---|---|");
        for line in recording_lines {
            println!("{line}");
        }
    }
    Ok(())
}

fn print_table(rows: &[Row]) {
    println!(
        "| viewers | joined | CPU us/fwd pkt | engine cores | viewers/core | fwd pkt/s | delay p50 / p99 / max (ms) | lost / expected | engine drops | RSS/viewer KiB | join p50 / max (ms) | peers-process cores |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {:.1} | {:.2} | {:.0} | {:.0} | {:.2} / {:.2} / {:.1} | {} / {} | {} | {:.0} | {} / {} | {:.2} |",
            r.viewers,
            r.joined,
            r.cpu_us_per_packet,
            r.engine_cores,
            r.viewers_per_core,
            r.forwarded_per_s,
            r.delay_p50_us as f64 / 1000.0,
            r.delay_p99_us as f64 / 1000.0,
            r.delay_max_us as f64 / 1000.0,
            r.lost,
            r.expected,
            r.engine_dropped,
            r.rss_per_viewer_kib,
            r.join_p50_ms,
            r.join_max_ms,
            r.peers_cores,
        );
    }
}

/// Process CPU time (user + system) in microseconds, from `/proc/self/stat` (USER_HZ = 100).
fn cpu_micros() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit(')').next() else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) * 10_000
}

/// CPU time (user + system) in microseconds of this process's thread named `name`, from
/// `/proc/self/task/*/stat`; 0 when there is none.
fn thread_cpu_micros(name: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        return (ticks(11) + ticks(12)) * 10_000;
    }
    0
}

/// Resident set size in KiB, from `/proc/self/status`.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn totals(engine: &MediaEngine) -> (u64, u64) {
    let status = engine.status();
    let forwarded = status.viewers.iter().map(|v| v.packets_forwarded).sum();
    let dropped = status.viewers.iter().map(|v| v.packets_dropped).sum();
    (forwarded, dropped)
}

async fn run_point(
    n: usize,
    seconds: u64,
    pacing: Option<f64>,
    record: bool,
) -> Result<Row, BoxError> {
    let engine = MediaEngine::new(EngineConfig::loopback());
    let folder =
        std::env::temp_dir().join(format!("lectern-bench-recording-{}", std::process::id()));
    let recording_path = folder.join(format!("{n}.webm"));
    if record {
        let _ = std::fs::remove_file(&recording_path);
        engine.start_recording(RecordingConfig::new(&recording_path))?;
    }
    let exe = std::env::current_exe()?;
    let mut child_args = vec![
        "--peers-process".to_owned(),
        "--viewers".to_owned(),
        n.to_string(),
    ];
    if let Some(factor) = pacing {
        child_args.extend(["--pacing".to_owned(), factor.to_string()]);
    }
    let mut child = tokio::process::Command::new(exe)
        .args(&child_args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut child_in = child.stdin.take().ok_or("no stdin")?;
    let child_out = child.stdout.take().ok_or("no stdout")?;
    let (reply_tx, mut reply_rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        while let Some(msg) = reply_rx.recv().await {
            let line = format!("{msg}\n");
            if child_in.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });

    let mut lines = BufReader::new(child_out).lines();
    let mut rss_baseline: Option<u64> = None;
    let mut report: Option<Value> = None;
    let mut window: Option<(u64, u64, u64, u64, Instant)> = None;
    let mut end: Option<(u64, u64, u64, Instant)> = None;
    let mut recording_cpu = (0, 0);
    while let Some(line) = lines.next_line().await? {
        let msg: Value = serde_json::from_str(&line)?;
        match msg["op"].as_str() {
            Some(op @ ("publish" | "subscribe")) => {
                if op == "subscribe" && rss_baseline.is_none() {
                    rss_baseline = Some(rss_kib());
                }
                let engine = engine.clone();
                let reply = reply_tx.clone();
                let id = msg["id"].clone();
                let sdp = msg["sdp"].as_str().unwrap_or_default().to_owned();
                let publish = op == "publish";
                tokio::spawn(async move {
                    let answer = if publish {
                        engine.publish(&sdp, true).await.map(|(_, a)| a)
                    } else {
                        engine.subscribe(&sdp).await.map(|(_, a)| a)
                    };
                    let msg = match answer {
                        Ok(sdp) => json!({"id": id, "sdp": sdp}),
                        Err(e) => json!({"id": id, "error": e.to_string()}),
                    };
                    let _ = reply.send(msg);
                });
            }
            Some("ready") => {
                // Let joins settle, then open the window.
                tokio::time::sleep(Duration::from_secs(1)).await;
                let (forwarded, dropped) = totals(&engine);
                recording_cpu.0 = thread_cpu_micros(lectern_media::recording::THREAD_NAME);
                window = Some((cpu_micros(), forwarded, dropped, rss_kib(), Instant::now()));
                let _ = reply_tx.send(json!({"op": "start"}));
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                let (forwarded, dropped) = totals(&engine);
                end = Some((cpu_micros(), forwarded, dropped, Instant::now()));
                recording_cpu.1 = thread_cpu_micros(lectern_media::recording::THREAD_NAME);
                let _ = reply_tx.send(json!({"op": "stop"}));
            }
            Some("report") => {
                report = Some(msg);
                break;
            }
            _ => eprintln!("peers process said: {line}"),
        }
    }
    let rss_end = rss_kib();
    drop(reply_tx);
    let _ = writer.await;
    let _ = child.wait().await;
    let recording = engine.stop_recording().await;
    engine.shutdown().await;
    if let Some(status) = &recording {
        eprintln!(
            "recording: {} ms, {} bytes, {} video + {} audio frames, {} packets dropped",
            status.duration_ms,
            status.bytes_written,
            status.video_frames,
            status.audio_frames,
            status.packets_dropped
        );
        let _ = std::fs::remove_dir_all(&folder);
    }

    let report = report.ok_or("the peers process ended without a report")?;
    let ((cpu0, fwd0, drop0, _rss_window, t0), (cpu1, fwd1, drop1, t1)) =
        (window.ok_or("no window")?, end.ok_or("no window end")?);
    let wall = t1.duration_since(t0).as_secs_f64();
    let cpu_s = (cpu1 - cpu0) as f64 / 1e6;
    let forwarded = fwd1.saturating_sub(fwd0);
    let engine_cores = cpu_s / wall;
    let get = |k: &str| report[k].as_u64().unwrap_or(0);
    Ok(Row {
        viewers: n,
        joined: usize::try_from(get("joined")).unwrap_or(0),
        cpu_us_per_packet: (cpu1 - cpu0) as f64 / forwarded.max(1) as f64,
        engine_cores,
        viewers_per_core: if engine_cores > 0.0 {
            n as f64 / engine_cores
        } else {
            f64::INFINITY
        },
        forwarded_per_s: forwarded as f64 / wall,
        delay_p50_us: get("delay_p50_us"),
        delay_p99_us: get("delay_p99_us"),
        delay_max_us: get("delay_max_us"),
        lost: get("lost"),
        expected: get("expected"),
        engine_dropped: drop1.saturating_sub(drop0),
        rss_per_viewer_kib: rss_end.saturating_sub(rss_baseline.unwrap_or(rss_end)) as f64
            / n.max(1) as f64,
        join_p50_ms: get("join_p50_ms"),
        join_max_ms: get("join_max_ms"),
        peers_cores: report["cores"].as_f64().unwrap_or(0.0),
        recording_cores: recording
            .map(|_| recording_cpu.1.saturating_sub(recording_cpu.0) as f64 / 1e6 / wall.max(1e-3)),
    })
}

// ---------------------------------------------------------------------------------------------
// The peers' side: a publisher and N viewers, talking to the engine through stdin/stdout.

/// Sends offers to the engine process and routes its answers back by id.
#[derive(Clone)]
struct Signal {
    out: mpsc::UnboundedSender<String>,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
    next: Arc<AtomicU64>,
}

impl Signal {
    async fn ask(&self, op: &str, sdp: String) -> Result<String, BoxError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        self.out
            .send(json!({"op": op, "id": id, "sdp": sdp}).to_string())?;
        let reply = rx.await?;
        match reply["sdp"].as_str() {
            Some(sdp) => Ok(sdp.to_owned()),
            None => Err(format!("{op} refused: {}", reply["error"]).into()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What one viewer saw of one track inside the window.
#[derive(Default)]
struct TrackTally {
    received: u64,
    first_seq: Option<u64>,
    last_seq: u64,
    /// Extended sequence number state.
    cycles: u64,
    prev: u16,
}

impl TrackTally {
    fn record(&mut self, seq: u16) {
        if self.first_seq.is_none() {
            self.prev = seq;
        } else if seq < 0x1000 && self.prev > 0xf000 {
            self.cycles += 1 << 16;
        }
        let ext = self.cycles + u64::from(seq);
        if self.first_seq.is_none() {
            self.first_seq = Some(ext);
        }
        if ext > self.last_seq {
            self.last_seq = ext;
        }
        self.prev = seq;
        self.received += 1;
    }

    fn expected(&self) -> u64 {
        self.first_seq.map_or(0, |f| self.last_seq - f + 1)
    }
}

#[derive(Default)]
struct ViewerTally {
    video: TrackTally,
    audio: TrackTally,
    delays_us: Vec<u32>,
    first_video: Option<Instant>,
}

struct PeerEvents {
    gathered: Arc<Notify>,
    on_track: Option<OnTrack>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for PeerEvents {
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

fn codec(mime: &str, clock_rate: u32, channels: u16, fmtp: &str) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: mime.to_owned(),
        clock_rate,
        channels,
        sdp_fmtp_line: fmtp.to_owned(),
        rtcp_feedback: vec![],
    }
}

fn vp8() -> RTCRtpCodec {
    codec("video/VP8", 90_000, 0, "")
}

fn opus() -> RTCRtpCodec {
    codec("audio/opus", 48_000, 2, "minptime=10;useinbandfec=1")
}

async fn peer(
    default_codecs: bool,
    keyframe_tap: bool,
    on_track: Option<OnTrack>,
) -> Result<(Arc<dyn PeerConnection>, Arc<Notify>), BoxError> {
    let mut table = CodecTable::default();
    if default_codecs {
        table.register_default_codecs()?;
    } else {
        table.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: vp8(),
                payload_type: 96,
            },
            RtpCodecKind::Video,
        )?;
        table.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: opus(),
                payload_type: 111,
            },
            RtpCodecKind::Audio,
        )?;
    }
    let mut registry = register_default_interceptors(Registry::new(), &mut table)?;
    if keyframe_tap {
        registry = registry.with(Slot::from(KEYFRAME_TAP_SLOT), KeyframeRequestTap::default());
    }
    let gathered = Arc::new(Notify::new());
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(table)
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(PeerEvents {
            gathered: gathered.clone(),
            on_track,
        }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
        .build()
        .await?;
    Ok((Arc::new(pc), gathered))
}

async fn offer(pc: &Arc<dyn PeerConnection>, gathered: &Notify) -> Result<String, BoxError> {
    let offer = pc.create_offer(None).await?;
    pc.set_local_description(offer).await?;
    let _ = tokio::time::timeout(Duration::from_secs(3), gathered.notified()).await;
    Ok(pc.local_description().await.ok_or("no offer")?.sdp)
}

fn local_track(kind: RtpCodecKind, ssrc: u32, codec: RTCRtpCodec) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "bench".to_owned(),
        format!("bench-{ssrc}"),
        format!("bench-{ssrc}"),
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

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A payload of `len` bytes: `head`, filler, then the send time in the last 8 bytes.
fn stamped(head: &[u8], len: usize) -> bytes::Bytes {
    let mut buf = vec![0x5a_u8; len.max(head.len() + 8)];
    buf[..head.len()].copy_from_slice(head);
    let at = buf.len() - 8;
    buf[at..].copy_from_slice(&now_nanos().to_be_bytes());
    bytes::Bytes::from(buf)
}

/// The synthetic publisher: VP8-shaped frame bursts and Opus-sized packets at real-time pace;
/// a PLI from the engine makes the next frame a keyframe.
async fn run_publisher(
    signal: Signal,
    pacing: Option<f64>,
) -> Result<Arc<dyn PeerConnection>, BoxError> {
    let (pc, gathered) = peer(false, true, None).await?;
    let video = local_track(RtpCodecKind::Video, 0x2222_0001, vp8());
    let audio = local_track(RtpCodecKind::Audio, 0x2222_0002, opus());
    pc.add_track(video.clone() as Arc<dyn TrackLocal>).await?;
    pc.add_track(audio.clone() as Arc<dyn TrackLocal>).await?;
    let sdp = offer(&pc, &gathered).await?;
    let answer = signal.ask("publish", sdp).await?;
    pc.set_remote_description(RTCSessionDescription::answer(answer)?)
        .await?;

    let want_keyframe = Arc::new(AtomicBool::new(false));
    let pli_flag = want_keyframe.clone();
    let pli_track = video.clone();
    tokio::spawn(async move {
        loop {
            match pli_track.poll().await {
                Some(TrackLocalEvent::OnRtcpPacket(packets)) => {
                    if packets
                        .iter()
                        .any(|p| p.as_any().is::<PictureLossIndication>())
                    {
                        pli_flag.store(true, Ordering::Relaxed);
                    }
                }
                Some(_) => {}
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    });

    let bytes_per_gop = VIDEO_BITRATE / 8 * GOP_FRAMES / FPS;
    let delta_bytes = usize::try_from(bytes_per_gop / (GOP_FRAMES - 1 + KEYFRAME_WEIGHT))?;
    let key_bytes = delta_bytes * usize::try_from(KEYFRAME_WEIGHT)?;
    // A paced sender spreads a frame's packets: one every `gap`, as libwebrtc's pacer does.
    let gap = pacing.map(|factor| {
        Duration::from_secs_f64(RTP_PAYLOAD as f64 * 8.0 / (factor * VIDEO_BITRATE as f64))
    });
    tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        let mut next_send = start;
        let mut video_seq: u16 = 0;
        let mut audio_seq: u16 = 0;
        let mut frame: u64 = 0;
        let mut audio_packet: u64 = 0;
        loop {
            let video_at = start + Duration::from_micros(frame * 1_000_000 / FPS);
            let audio_at = start + Duration::from_millis(audio_packet * 20);
            if audio_at <= video_at {
                tokio::time::sleep_until(audio_at).await;
                let packet = rtp::Packet {
                    header: rtp::Header {
                        version: 2,
                        payload_type: 111,
                        sequence_number: audio_seq,
                        timestamp: u32::try_from((audio_packet * 960) & 0xffff_ffff)
                            .unwrap_or_default(),
                        ssrc: 0x2222_0002,
                        marker: false,
                        ..Default::default()
                    },
                    payload: stamped(&[0xfc], OPUS_BYTES),
                };
                audio_seq = audio_seq.wrapping_add(1);
                audio_packet += 1;
                let _ = audio.write_rtp(packet).await;
                continue;
            }
            tokio::time::sleep_until(video_at).await;
            let key =
                frame.is_multiple_of(GOP_FRAMES) || want_keyframe.swap(false, Ordering::Relaxed);
            let size = if key { key_bytes } else { delta_bytes };
            let count = size.div_ceil(RTP_PAYLOAD);
            let timestamp = u32::try_from((frame * 90_000 / FPS) & 0xffff_ffff).unwrap_or_default();
            for i in 0..count {
                if let Some(gap) = gap {
                    next_send = next_send.max(tokio::time::Instant::now());
                    tokio::time::sleep_until(next_send).await;
                    next_send += gap;
                }
                let len = if i + 1 == count {
                    size - RTP_PAYLOAD * (count - 1)
                } else {
                    RTP_PAYLOAD
                };
                // RFC 7741 descriptor (S bit on the first packet), then the VP8 frame tag whose
                // low bit is 0 on a keyframe.
                let head: &[u8] = match (i, key) {
                    (0, true) => &[0x10, 0x00],
                    (0, false) => &[0x10, 0x01],
                    _ => &[0x00, 0x00],
                };
                let packet = rtp::Packet {
                    header: rtp::Header {
                        version: 2,
                        payload_type: 96,
                        sequence_number: video_seq,
                        timestamp,
                        ssrc: 0x2222_0001,
                        marker: i + 1 == count,
                        ..Default::default()
                    },
                    payload: stamped(head, len),
                };
                video_seq = video_seq.wrapping_add(1);
                let _ = video.write_rtp(packet).await;
            }
            frame += 1;
        }
    });
    Ok(pc)
}

struct JoinedViewer {
    _pc: Arc<dyn PeerConnection>,
    asked_at: Instant,
    tally: Arc<Mutex<ViewerTally>>,
}

async fn join_viewer(signal: Signal, measuring: Arc<AtomicBool>) -> Result<JoinedViewer, BoxError> {
    let tally = Arc::new(Mutex::new(ViewerTally::default()));
    let sink = tally.clone();
    let on_track: OnTrack = Arc::new(move |track: Arc<dyn TrackRemote>| {
        let sink = sink.clone();
        let measuring = measuring.clone();
        tokio::spawn(async move {
            let kind = match track.kind().await {
                RtpCodecKind::Audio => TrackKind::Audio,
                _ => TrackKind::Video,
            };
            while let Some(event) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(packet) = event else {
                    continue;
                };
                let now = now_nanos();
                let mut t = lock(&sink);
                if kind == TrackKind::Video && t.first_video.is_none() {
                    t.first_video = Some(Instant::now());
                }
                if !measuring.load(Ordering::Relaxed) {
                    continue;
                }
                let p = &packet.payload;
                if p.len() >= 8 {
                    let mut sent = [0u8; 8];
                    sent.copy_from_slice(&p[p.len() - 8..]);
                    let delay = now.saturating_sub(u64::from_be_bytes(sent)) / 1_000;
                    t.delays_us.push(u32::try_from(delay).unwrap_or(u32::MAX));
                }
                let seq = packet.header.sequence_number;
                match kind {
                    TrackKind::Video => t.video.record(seq),
                    TrackKind::Audio => t.audio.record(seq),
                }
            }
        });
    });
    let (pc, gathered) = peer(true, false, Some(on_track)).await?;
    for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
        pc.add_transceiver_from_kind(
            kind,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                ..Default::default()
            }),
        )
        .await?;
    }
    let sdp = offer(&pc, &gathered).await?;
    let asked_at = Instant::now();
    let answer = signal.ask("subscribe", sdp).await?;
    pc.set_remote_description(RTCSessionDescription::answer(answer)?)
        .await?;
    Ok(JoinedViewer {
        _pc: pc,
        asked_at,
        tally,
    })
}

fn percentile(sorted: &[u32], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    u64::from(sorted[i.min(sorted.len() - 1)])
}

async fn peers_process(n: usize, pacing: Option<f64>) -> Result<(), BoxError> {
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    // Plain threads for the pipe: this workspace's tokio has no `io-std`.
    std::thread::spawn(move || {
        use std::io::Write;
        let mut stdout = std::io::stdout();
        while let Some(line) = out_rx.blocking_recv() {
            if writeln!(stdout, "{line}")
                .and_then(|()| stdout.flush())
                .is_err()
            {
                break;
            }
        }
    });
    let signal = Signal {
        out: out_tx.clone(),
        pending: Arc::new(Mutex::new(HashMap::new())),
        next: Arc::new(AtomicU64::new(0)),
    };
    let (control_tx, mut control_rx) = mpsc::unbounded_channel::<String>();
    let pending = signal.pending.clone();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some(op) = msg["op"].as_str() {
                let _ = control_tx.send(op.to_owned());
            } else if let Some(id) = msg["id"].as_u64()
                && let Some(tx) = lock(&pending).remove(&id)
            {
                let _ = tx.send(msg);
            }
        }
    });

    let _publisher = run_publisher(signal.clone(), pacing).await?;
    // Let the publisher connect and its media flow before viewers arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let measuring = Arc::new(AtomicBool::new(false));
    let mut viewers: Vec<JoinedViewer> = Vec::with_capacity(n);
    let mut failures = 0;
    let mut joins = tokio::task::JoinSet::new();
    let mut started = 0;
    while viewers.len() + failures < n {
        while started < n && joins.len() < JOIN_CONCURRENCY {
            joins.spawn(join_viewer(signal.clone(), measuring.clone()));
            started += 1;
        }
        match joins.join_next().await {
            Some(Ok(Ok(v))) => viewers.push(v),
            Some(Ok(Err(e))) => {
                eprintln!("viewer failed to join: {e}");
                failures += 1;
            }
            Some(Err(e)) => {
                eprintln!("viewer task failed: {e}");
                failures += 1;
            }
            None => break,
        }
    }
    // Wait (bounded) for every viewer's first video frame.
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline && viewers.iter().any(|v| lock(&v.tally).first_video.is_none())
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = out_tx.send(json!({"op": "ready"}).to_string());

    let mut window_cpu = (0, Instant::now());
    while let Some(op) = control_rx.recv().await {
        match op.as_str() {
            "start" => {
                measuring.store(true, Ordering::Relaxed);
                window_cpu = (cpu_micros(), Instant::now());
            }
            "stop" => {
                measuring.store(false, Ordering::Relaxed);
                break;
            }
            _ => {}
        }
    }
    let cores =
        (cpu_micros() - window_cpu.0) as f64 / 1e6 / window_cpu.1.elapsed().as_secs_f64().max(1e-3);

    let mut delays = Vec::new();
    let mut joins_ms: Vec<u32> = Vec::new();
    let (mut lost, mut expected) = (0u64, 0u64);
    let mut joined = 0u64;
    for v in &viewers {
        let t = lock(&v.tally);
        delays.extend_from_slice(&t.delays_us);
        for track in [&t.video, &t.audio] {
            expected += track.expected();
            lost += track.expected().saturating_sub(track.received);
        }
        if let Some(first) = t.first_video {
            joined += 1;
            joins_ms.push(
                u32::try_from(first.duration_since(v.asked_at).as_millis()).unwrap_or(u32::MAX),
            );
        }
    }
    delays.sort_unstable();
    joins_ms.sort_unstable();
    let report = json!({
        "op": "report",
        "joined": joined,
        "delay_p50_us": percentile(&delays, 0.50),
        "delay_p99_us": percentile(&delays, 0.99),
        "delay_max_us": delays.last().copied().unwrap_or(0),
        "lost": lost,
        "expected": expected,
        "join_p50_ms": percentile(&joins_ms, 0.50),
        "join_max_ms": joins_ms.last().copied().unwrap_or(0),
        "cores": cores,
    });
    let _ = out_tx.send(report.to_string());
    // Give the writer a moment to flush before the process ends.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

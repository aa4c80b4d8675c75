//! Recording: what viewers get, written to WebM and read back with a real demuxer
//! (`matroska-demuxer`), never with our own parser.
//!
//! The test card's own pipeline (paced RTP into the fan-out) feeds the recorder; tokio's clock
//! is paused, so 20 s of card take well under 20 s of wall time. The kill test runs the
//! recording in a child process (this test binary, re-invoked) at real pace and kills it.
//! Each test takes the `serial` turn: its files and threads would count in `cycles.rs`'s
//! descriptor-leak check.

use bytes::Bytes;
use lectern_media::local::EncodedFrame;
use lectern_media::recording::{FreeSpace, PastEndSeek};
use lectern_media::{
    EngineConfig, MediaEngine, RecordingConfig, RecordingError, RecordingEvent, RecordingState,
    RtpStreamParams, StopReason, TestCard, TrackKind, recover,
};
use matroska_demuxer::{Frame, MatroskaFile, TrackType};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The file as the demuxer reads it.
struct Demuxed {
    duration_ms: Option<f64>,
    video: Vec<(u64, bool)>,
    audio: Vec<u64>,
    video_size: (u64, u64),
    opus_private: Option<Vec<u8>>,
    /// The demuxer stopped on an error before the end.
    error: Option<String>,
}

fn demux(path: &Path) -> Demuxed {
    // A live-mode file's last cluster has libwebm's 8-byte unknown size (see PastEndSeek).
    let file = PastEndSeek::new(std::fs::File::open(path).unwrap()).unwrap();
    let file = std::io::BufReader::new(file);
    let mut mkv = MatroskaFile::open(file).unwrap();
    let scale_ns = mkv.info().timestamp_scale().get();
    let duration_ms = mkv
        .info()
        .duration()
        .map(|d| d * scale_ns as f64 / 1_000_000.0);
    let mut video_track = 0;
    let mut audio_track = 0;
    let mut video_size = (0, 0);
    let mut opus_private = None;
    for track in mkv.tracks() {
        match (track.track_type(), track.codec_id()) {
            (TrackType::Video, "V_VP8") => {
                video_track = track.track_number().get();
                let v = track.video().unwrap();
                video_size = (v.pixel_width().get(), v.pixel_height().get());
            }
            (TrackType::Audio, "A_OPUS") => {
                audio_track = track.track_number().get();
                opus_private = track.codec_private().map(<[u8]>::to_vec);
            }
            other => panic!("unexpected track {other:?}"),
        }
    }
    assert!(video_track != 0 && audio_track != 0, "VP8 and Opus tracks");
    let mut video = Vec::new();
    let mut audio = Vec::new();
    let mut frame = Frame::default();
    let mut error = None;
    loop {
        match mkv.next_frame(&mut frame) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
        let ms = frame.timestamp * scale_ns / 1_000_000;
        if frame.track == video_track {
            video.push((ms, frame.data.first().is_some_and(|t| t & 1 == 0)));
        } else if frame.track == audio_track {
            audio.push(ms);
        }
    }
    Demuxed {
        duration_ms,
        video,
        audio,
        video_size,
        opus_private,
        error,
    }
}

fn strictly_increasing(times: &[u64]) {
    for pair in times.windows(2) {
        assert!(pair[1] > pair[0], "time goes back or repeats: {pair:?}");
    }
}

fn largest_gap(times: &[u64]) -> u64 {
    times.windows(2).map(|p| p[1] - p[0]).max().unwrap_or(0)
}

/// Checks that hold for any recording of the card: both tracks, time monotonic, the file
/// starting on a keyframe, audio and video starting and ending together.
fn check_tracks_in_sync(file: &Demuxed, expected_ms: u64, tolerance_ms: u64) {
    let video: Vec<u64> = file.video.iter().map(|(t, _)| *t).collect();
    strictly_increasing(&video);
    strictly_increasing(&file.audio);
    assert_eq!(file.video[0], (0, true), "starts on a keyframe at 0");
    assert_eq!(file.video_size, (640, 360));
    assert!(
        file.opus_private
            .as_deref()
            .is_some_and(|p| p.starts_with(b"OpusHead")),
        "Opus CodecPrivate"
    );
    let first_audio = file.audio[0];
    assert!(first_audio <= 100, "first audio at {first_audio} ms");
    let last_video = *video.last().unwrap();
    let last_audio = *file.audio.last().unwrap();
    assert!(
        last_video.abs_diff(last_audio) <= 100,
        "the tracks end together: video {last_video} ms, audio {last_audio} ms"
    );
    assert!(
        last_video.abs_diff(expected_ms) <= tolerance_ms,
        "{last_video} ms recorded, {expected_ms} expected"
    );
    // Frame counts match the time they cover (a track squeezed or stretched would not).
    let video_expected = last_video * 30 / 1000;
    let audio_expected = last_audio / 20;
    assert!(video.len() as u64 >= video_expected - video_expected / 20);
    assert!(file.audio.len() as u64 >= audio_expected - audio_expected / 20);
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("lectern-recording")
        .tempdir()
        .unwrap()
}

/// Let simulated time run for `span` in 10 ms steps, giving the recording thread (real time)
/// a moment at each step so its queue never has to hold more than a few packets.
async fn run_for(span: Duration, mut each_step: impl FnMut(Duration)) {
    let start = tokio::time::Instant::now();
    while start.elapsed() < span {
        tokio::time::sleep(Duration::from_millis(10)).await;
        each_step(start.elapsed());
        std::thread::sleep(Duration::from_micros(300));
    }
}

fn fake_disk(free: &Arc<AtomicU64>) -> FreeSpace {
    let free = free.clone();
    Arc::new(move |_: &Path| Ok(free.load(Ordering::Relaxed)))
}

#[tokio::test(start_paused = true)]
async fn twenty_seconds_of_the_test_card_demux_with_both_tracks_in_sync() {
    let _serial = crate::support::serial().await;
    let dir = temp_dir();
    let path = dir.path().join("recordings").join("class-1.webm");
    let engine = MediaEngine::new(EngineConfig::loopback());
    let mut events = engine.recording_events();
    engine.start_recording(RecordingConfig::new(&path)).unwrap();
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    run_for(Duration::from_secs(20), |_| {}).await;
    let status = engine.stop_recording().await.unwrap();
    assert_eq!(status.state, RecordingState::Stopped);
    assert!(status.finalized);
    assert_eq!(status.packets_dropped, 0);
    assert_eq!(status.frames_late, 0);

    let file = demux(&path);
    assert_eq!(file.error, None);
    let duration = file.duration_ms.expect("a finalized file has a duration");
    assert!(
        (duration - 20_000.0).abs() < 500.0,
        "duration {duration} ms"
    );
    check_tracks_in_sync(&file, 20_000, 500);
    assert!(largest_gap(&file.audio) <= 21, "audio is continuous");
    // The card has a keyframe every second: about 20 of them, each starting a cluster.
    let keyframes = file.video.iter().filter(|(_, key)| *key).count();
    assert!((19..=21).contains(&keyframes), "{keyframes} keyframes");

    let bytes = std::fs::metadata(&path).unwrap().len();
    println!(
        "recording: 20 s of the test card (~500 kbit/s VP8 + 48 kbit/s Opus) = {bytes} bytes, \
         {:.1} MB per minute",
        bytes as f64 * 3.0 / 1e6
    );
    let seen: Vec<RecordingEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert!(matches!(seen.first(), Some(RecordingEvent::Started { .. })));
    assert!(matches!(
        seen.last(),
        Some(RecordingEvent::Stopped {
            reason: StopReason::Requested,
            finalized: true,
            ..
        })
    ));
    // Stopping twice is harmless.
    assert_eq!(engine.stop_recording().await, None);
}

/// The test card's frames as an encoder hands them over (bytes of each frame, capture time).
fn card_frames(count: usize) -> Vec<EncodedFrame> {
    fn descriptor_len(payload: &[u8]) -> usize {
        if payload[0] & 0x80 == 0 {
            return 1;
        }
        let flags = payload[1];
        let mut len = 2;
        if flags & 0x80 != 0 {
            len += if payload[len] & 0x80 != 0 { 2 } else { 1 };
        }
        len + usize::from(flags & 0x40 != 0) + usize::from(flags & 0x30 != 0)
    }
    let params = RtpStreamParams {
        ssrc: 1,
        payload_type: 96,
    };
    TestCard::embedded()
        .unwrap()
        .player(params, params)
        .take(count)
        .map(|frame| {
            let data: Vec<u8> = frame
                .packets
                .iter()
                .flat_map(|p| match frame.kind {
                    TrackKind::Video => p.payload[descriptor_len(&p.payload)..].to_vec(),
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

#[tokio::test(start_paused = true)]
async fn a_source_switch_mid_recording_keeps_time_running_and_tracks_in_sync() {
    let _serial = crate::support::serial().await;
    let dir = temp_dir();
    let path = dir.path().join("switch.webm");
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine.start_recording(RecordingConfig::new(&path)).unwrap();
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    run_for(Duration::from_millis(6_000), |_| {}).await;

    // The window's capture takes over: new SSRCs, RTP timestamps from another origin.
    let _keyframes = engine.start_local().await.unwrap();
    let frames = card_frames(800);
    let mut next = 0;
    run_for(Duration::from_millis(6_000), |elapsed| {
        while next < frames.len() && frames[next].timestamp_us <= elapsed.as_micros() as u64 {
            engine.push_local(&frames[next]).unwrap();
            next += 1;
        }
    })
    .await;
    let status = engine.stop_recording().await.unwrap();
    assert!(status.finalized);
    assert_eq!(status.packets_dropped, 0);

    let file = demux(&path);
    assert_eq!(file.error, None);
    check_tracks_in_sync(&file, 12_000, 300);
    // No hole and no overlap at the switch: audio stays 20 ms apart give or take the switch's
    // own moment, video never waits more than a frame or two.
    let audio_gap = largest_gap(&file.audio);
    let video: Vec<u64> = file.video.iter().map(|(t, _)| *t).collect();
    let video_gap = largest_gap(&video);
    assert!(audio_gap <= 40, "largest audio gap {audio_gap} ms");
    assert!(video_gap <= 70, "largest video gap {video_gap} ms");
}

/// The first time at or after `from` ms.
fn first_from(times: &[u64], from: u64) -> u64 {
    *times.iter().find(|t| **t >= from).unwrap()
}

#[tokio::test(start_paused = true)]
async fn mute_and_gaps_keep_audio_and_video_in_sync() {
    let _serial = crate::support::serial().await;
    let dir = temp_dir();
    let path = dir.path().join("gaps.webm");
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine.start_recording(RecordingConfig::new(&path)).unwrap();
    let _keyframes = engine.start_local().await.unwrap();
    // 0-3 s both tracks; 3-5 s audio muted (its capture clock runs on); 5-6 s both; 6-8 s
    // nothing (the encoder paused, its clock too); 8-11 s both, capture times 2 s behind.
    let frames = card_frames(1_000);
    let mut next = 0;
    run_for(Duration::from_millis(11_000), |elapsed| {
        let now_us = elapsed.as_micros() as u64;
        while next < frames.len() && frames[next].timestamp_us <= now_us {
            let mut frame = frames[next].clone();
            next += 1;
            let at_ms = frame.timestamp_us / 1_000;
            let audio = frame.kind == TrackKind::Audio;
            if (audio && (3_000..5_000).contains(&at_ms)) || (6_000..8_000).contains(&at_ms) {
                continue;
            }
            if at_ms >= 8_000 {
                frame.timestamp_us -= 2_000_000;
            }
            engine.push_local(&frame).unwrap();
        }
    })
    .await;
    let status = engine.stop_recording().await.unwrap();
    assert!(status.finalized);
    assert_eq!(status.packets_dropped, 0);

    let file = demux(&path);
    assert_eq!(file.error, None);
    let video: Vec<u64> = file.video.iter().map(|(t, _)| *t).collect();
    strictly_increasing(&video);
    strictly_increasing(&file.audio);
    // Audio comes back from its mute where its own clock says: at 5 s.
    let audio_back = first_from(&file.audio, 3_100);
    assert!(
        audio_back.abs_diff(5_000) <= 40,
        "audio back at {audio_back} ms"
    );
    // After the pause both come back together, where they were heard and seen: at 8 s,
    // although their capture times say 6 s.
    let video_back = first_from(&video, 6_100);
    let audio_back = first_from(&file.audio, 6_100);
    assert!(
        video_back.abs_diff(8_000) <= 100,
        "video back at {video_back} ms"
    );
    assert!(
        audio_back.abs_diff(video_back) <= 100,
        "audio {audio_back} ms, video {video_back} ms"
    );
    let (last_video, last_audio) = (*video.last().unwrap(), *file.audio.last().unwrap());
    assert!(
        last_video.abs_diff(11_000) <= 150,
        "video ends at {last_video} ms"
    );
    assert!(
        last_audio.abs_diff(last_video) <= 100,
        "audio ends at {last_audio} ms"
    );
}

#[tokio::test(start_paused = true)]
async fn disk_space_is_checked_before_and_during() {
    let _serial = crate::support::serial().await;
    let dir = temp_dir();
    let free = Arc::new(AtomicU64::new(100_000_000));
    let config = |name: &str| RecordingConfig {
        disk_check_interval: Duration::ZERO,
        free_space: fake_disk(&free),
        ..RecordingConfig::new(dir.path().join(name))
    };
    let engine = MediaEngine::new(EngineConfig::loopback());

    // Under the 500 MB floor: refused, nothing created.
    let refused = engine.start_recording(config("refused.webm")).unwrap_err();
    assert!(matches!(
        refused,
        RecordingError::LowDisk {
            free_bytes: 100_000_000,
            limit_bytes: 500_000_000
        }
    ));
    assert_eq!(refused.code(), "recording_low_disk");
    assert!(!dir.path().join("refused.webm").exists());

    // Under 2 GB: a warning, once.
    free.store(1_500_000_000, Ordering::Relaxed);
    let mut events = engine.recording_events();
    engine.start_recording(config("low.webm")).unwrap();
    assert!(matches!(
        engine.start_recording(config("second.webm")),
        Err(RecordingError::AlreadyRecording)
    ));
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    run_for(Duration::from_secs(3), |_| {}).await;

    // Under the floor while recording: a clean stop, the file left playable.
    free.store(400_000_000, Ordering::Relaxed);
    run_for(Duration::from_secs(1), |_| {}).await;
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen.extend(std::iter::from_fn(|| events.try_recv().ok()));
        if matches!(seen.last(), Some(RecordingEvent::Stopped { .. })) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let warnings = seen
        .iter()
        .filter(|e| matches!(e, RecordingEvent::LowDisk { .. }))
        .count();
    assert_eq!(warnings, 1, "{seen:?}");
    assert!(
        seen.iter().any(|e| matches!(
            e,
            RecordingEvent::Failed {
                code: "recording_low_disk",
                ..
            }
        )),
        "{seen:?}"
    );
    // Too little room to rewrite it: kept in live mode, finalized at the next start.
    assert!(
        matches!(
            seen.last(),
            Some(RecordingEvent::Stopped {
                reason: StopReason::LowDisk,
                finalized: false,
                ..
            })
        ),
        "{seen:?}"
    );
    let status = engine.recording_status().unwrap();
    assert_eq!(status.state, RecordingState::Stopped);
    let path = dir.path().join("low.webm");
    let live = demux(&path);
    assert_eq!(live.duration_ms, None);
    assert!(live.video.len() > 60);
    let recovery = recover(&path).unwrap();
    assert!(!recovery.already_final);
    let finalized = demux(&path);
    assert!(finalized.duration_ms.is_some());
    assert_eq!(finalized.video.len(), live.video.len());
    // A new recording may start once that one stopped by itself.
    free.store(10_000_000_000, Ordering::Relaxed);
    engine.start_recording(config("after.webm")).unwrap();
    engine.stop_recording().await.unwrap();
}

#[test]
fn recover_keeps_a_file_it_cannot_read() {
    let dir = temp_dir();
    let path = dir.path().join("garbage.webm");
    std::fs::write(&path, b"not a webm file at all").unwrap();
    let err = recover(&path).unwrap_err();
    assert_eq!(err.code(), "recording_unreadable");
    assert_eq!(std::fs::read(&path).unwrap(), b"not a webm file at all");
    assert!(!dir.path().join("garbage.webm.partial").exists());
}

const CHILD_ENV: &str = "LECTERN_RECORDING_CHILD_PATH";
const STARTED: &str = "lectern-recording-child: recording";

/// Not a test by itself: the kill test runs it in a child process, which it kills mid-recording.
#[test]
#[ignore = "run by kill_9_mid_recording_leaves_a_file_that_recover_finalizes, in a child process"]
fn recording_child_process() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let engine = MediaEngine::new(EngineConfig::loopback());
        engine
            .start_recording(RecordingConfig::new(PathBuf::from(path)))
            .unwrap();
        engine
            .start_test_card(TestCard::embedded().unwrap())
            .await
            .unwrap();
        println!("{STARTED}");
        // Killed long before this ends.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
}

#[test]
fn kill_9_mid_recording_leaves_a_file_that_recover_finalizes() {
    let _serial = crate::support::serial_blocking();
    use std::io::BufRead;
    let dir = temp_dir();
    let path = dir.path().join("killed.webm");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "recording::recording_child_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    assert!(
        lines.any(|line| line.is_ok_and(|l| l.contains(STARTED))),
        "the child started recording"
    );
    let recorded = Duration::from_secs(6);
    std::thread::sleep(recorded);
    // SIGKILL: no chance to finish anything.
    child.kill().unwrap();
    child.wait().unwrap();

    // Live mode: what reached the OS plays as it is, without a duration.
    let live = demux(&path);
    assert_eq!(live.duration_ms, None);
    let recovery = recover(&path).unwrap();
    assert!(!recovery.already_final);
    let file = demux(&path);
    assert_eq!(file.error, None);
    let duration = file.duration_ms.expect("finalized");
    let lost_at_most_ms = 2_000;
    let expected_ms = recorded.as_millis() as u64 - lost_at_most_ms;
    println!(
        "kill -9 after {} ms: {} ms recovered ({} frames, truncated: {})",
        recorded.as_millis(),
        recovery.duration_ms,
        recovery.frames,
        recovery.truncated
    );
    assert!(
        recovery.duration_ms >= expected_ms,
        "{} ms kept",
        recovery.duration_ms
    );
    assert!(duration >= expected_ms as f64);
    assert_eq!(file.video.len(), live.video.len());
    check_tracks_in_sync(&file, recovery.duration_ms, 100);
    // Once finalized, it is left alone; the folder's check removes what a crash left empty and
    // a finalization's leftover, and reports the rest.
    assert!(recover(&path).unwrap().already_final);
    std::fs::write(dir.path().join("empty.webm"), b"").unwrap();
    std::fs::write(dir.path().join("x.webm.partial"), b"half").unwrap();
    let checked = lectern_media::recover_folder(dir.path()).unwrap();
    assert_eq!(checked.len(), 1);
    assert!(checked[0].1.as_ref().unwrap().already_final);
    assert!(!dir.path().join("empty.webm").exists());
    assert!(!dir.path().join("x.webm.partial").exists());
}

#[test]
#[ignore = "needs Chromium and playwright-core"]
fn chromium_plays_a_recording_cut_by_a_crash_and_its_finalized_copy() {
    let _serial = crate::support::serial_blocking();
    let dir = temp_dir();
    let cut = dir.path().join("cut.webm");
    let finalized = dir.path().join("finalized.webm");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let writing = dir.path().join("writing.webm");
        let engine = MediaEngine::new(EngineConfig::loopback());
        engine
            .start_recording(RecordingConfig::new(&writing))
            .unwrap();
        engine
            .start_test_card(TestCard::embedded().unwrap())
            .await
            .unwrap();
        run_for(Duration::from_secs(5), |_| {}).await;
        // What a crash leaves: the file as it is while it is being written.
        std::fs::copy(&writing, &cut).unwrap();
        engine.stop_recording().await.unwrap();
    });
    std::fs::copy(&cut, &finalized).unwrap();
    recover(&finalized).unwrap();

    let output = std::process::Command::new("node")
        .arg(crate::browser::script("recording-player.mjs"))
        .arg(dir.path())
        .args(["cut.webm", "finalized.webm"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("chromium: {stdout}");
    let results: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        results.len(),
        2,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for r in &results {
        assert!(r["error"].is_null(), "{r}");
        assert_eq!(r["width"], 640, "{r}");
        assert!(r["framesDecoded"].as_u64().unwrap() > 20, "{r}");
        assert!(r["audioBytes"].as_u64().unwrap() > 0, "Opus decoded: {r}");
    }
    // The cut file plays as a live stream; the finalized one knows its length and seeks.
    assert_eq!(results[0]["duration"], "infinite", "{}", results[0]);
    let duration = results[1]["duration"].as_f64().unwrap();
    assert!((4.0..=5.5).contains(&duration), "{}", results[1]);
    assert!(results[1]["seekedTo"].as_f64().unwrap() >= duration - 1.5);
}

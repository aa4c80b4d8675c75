//! Each class is recorded while it is live, and a recording a crash left unfinished is
//! finalized at the next start; read back with `matroska-demuxer`.

use lectern_engine::api::{LiveStatus, NoArgs, StartClass};
use lectern_engine::recording::recordings_dir;
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_media::{EngineConfig, MediaEngine, RecordingConfig, TestCard};
use matroska_demuxer::{Frame, MatroskaFile};
use std::path::Path;
use std::time::Duration;

/// The file's duration (ms) if it has one, and its frame count.
fn read(path: &Path) -> (Option<f64>, usize) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut mkv = MatroskaFile::open(file).unwrap();
    let duration = mkv.info().duration();
    let mut frame = Frame::default();
    let mut frames = 0;
    while mkv.next_frame(&mut frame).unwrap_or(false) {
        frames += 1;
    }
    (duration, frames)
}

async fn studio_with_test_card(dir: &Path, record: bool) -> Studio {
    let mut options = StudioOptions::new(dir, SchoolSource::Demo);
    options.broadcast.test_card = true;
    options.broadcast.record_classes = record;
    Studio::open(options).await.unwrap()
}

/// Starts a class (`record: None` records it, as the form's ticked box does) and returns its id.
async fn start(studio: &Studio, title: &str, record: Option<bool>) -> i64 {
    let live = studio
        .start_class(StartClass {
            title: title.into(),
            course_id: None,
            instructor: None,
            record,
        })
        .await
        .unwrap();
    let LiveStatus::Live { session_id, .. } = live else {
        panic!("not live: {live:?}")
    };
    session_id
}

async fn class(studio: &Studio, seconds: u64) -> i64 {
    let session_id = start(studio, "Recorded", None).await;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    studio.end_class(NoArgs {}).await.unwrap();
    session_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_class_is_recorded_to_its_own_finalized_file() {
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with_test_card(dir.path(), true).await;
    let session_id = start(&studio, "Recorded", None).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The Broadcast screen shows it while it runs.
    let shown = studio.broadcast_status(NoArgs {}).await.unwrap();
    assert!(shown.record_classes);
    let recording = shown.recording.expect("the class is being recorded");
    assert_eq!(recording.state, "recording");
    assert_eq!(recording.file, format!("{session_id}.webm"));
    assert!(recording.duration_ms > 1_000, "{recording:?}");
    assert!(recording.bytes > 0, "{recording:?}");
    studio.end_class(NoArgs {}).await.unwrap();
    let path = recordings_dir(dir.path()).join(format!("{session_id}.webm"));
    let (duration, frames) = read(&path);
    let duration = duration.expect("finalized when the class ended");
    assert!((2_000.0..=3_500.0).contains(&duration), "{duration} ms");
    assert!(frames > 100, "{frames} frames");
    studio.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with_test_card(dir.path(), false).await;
    class(&studio, 1).await;
    let files = std::fs::read_dir(recordings_dir(dir.path()))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0);
    studio.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_class_is_kept_out_of_the_recordings_even_when_it_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with_test_card(dir.path(), true).await;
    let session_id = start(&studio, "Office hours", Some(false)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let shown = studio.broadcast_status(NoArgs {}).await.unwrap();
    assert!(
        shown.record_classes,
        "the studio records; this class does not"
    );
    assert_eq!(shown.recording, None);
    // The studio stops with the class on air (a crash is the same for the class): at the next
    // start it resumes, still unrecorded.
    studio.close().await.unwrap();
    let studio = studio_with_test_card(dir.path(), true).await;
    let overview = studio.overview(NoArgs {}).await.unwrap();
    assert!(
        matches!(overview.live, LiveStatus::Live { session_id: s, .. } if s == session_id),
        "{:?}",
        overview.live
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        studio.broadcast_status(NoArgs {}).await.unwrap().recording,
        None
    );
    studio.end_class(NoArgs {}).await.unwrap();
    let files = std::fs::read_dir(recordings_dir(dir.path()))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0, "nothing of the unrecorded class is on disk");
    // The next class is recorded again: the choice was for one class.
    let next = class(&studio, 2).await;
    assert!(
        recordings_dir(dir.path())
            .join(format!("{next}.webm"))
            .exists()
    );
    studio.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_recording_is_finalized_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    // What a crash leaves: a copy of a recording taken while it is being written.
    let scratch = tempfile::tempdir().unwrap();
    let writing = scratch.path().join("writing.webm");
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_recording(RecordingConfig::new(&writing))
        .unwrap();
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let left = recordings_dir(dir.path()).join("99.webm");
    std::fs::create_dir_all(left.parent().unwrap()).unwrap();
    std::fs::copy(&writing, &left).unwrap();
    engine.stop_recording().await.unwrap();
    let (duration, _) = read(&left);
    assert_eq!(duration, None, "a live-mode file has no duration");

    let studio = studio_with_test_card(dir.path(), true).await;
    let (duration, frames) = read(&left);
    assert!(duration.is_some_and(|d| d >= 1_000.0), "{duration:?}");
    assert!(frames > 50, "{frames} frames");
    studio.close().await.unwrap();
}

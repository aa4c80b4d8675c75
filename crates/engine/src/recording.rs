//! Each class's recording: while a class is live, what viewers get is written to
//! `<data folder>/recordings/<session id>.webm` (the media engine's `recording`), on by default
//! ([`crate::BroadcastOptions::record_classes`]). At start the studio finalizes what a crash
//! left in that folder, before a resumed class starts its next file.
//!
//! Its start time is noted in the school (`recordings`), so the replay (`crate::replay`) places
//! the log's events in the video; listing, deleting and retention are in `crate::replay`.
//!
//! The instructor turns it off for one class as they start it (`start_class {record: false}`,
//! kept in the school so a resumed class keeps the choice), or for the whole studio
//! (`lectern serve --no-record`). While a class is live the Broadcast screen shows the
//! recording ([`RecordingInfo`] in `broadcast_status`), and what goes wrong with it (low disk,
//! a stop under 500 MB free, a failed write) reaches every screen as a [`RecordingNotice`]
//! (`StudioEvent::RecordingNotice`, `Overview.recordingNotice`).

use std::path::{Path, PathBuf};
use std::sync::Weak;

use lectern_media::{RecordingConfig, RecordingEvent, RecordingState, StopReason};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::StudioEvent;
use crate::{ApiError, Studio};

/// The class's recording as the Broadcast screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecordingInfo {
    /// `waiting` (for the first video keyframe), `recording` or `stopped`.
    pub state: String,
    /// The file's name in the recordings folder.
    pub file: String,
    /// Media time written, ms.
    pub duration_ms: u64,
    /// File size, bytes.
    pub bytes: u64,
    /// Free space on its disk at the last check, bytes.
    pub free_bytes: Option<u64>,
}

/// What went wrong with the class's recording, in words, for every screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordingNoticeKind {
    /// Free space is low; the recording goes on.
    LowDisk,
    /// The recording stopped itself: too little free space. What was written plays.
    StoppedLowDisk,
    /// The recording could not start, or a write failed and it stopped.
    Failed,
}

/// A problem with the class's recording; the class itself goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecordingNotice {
    /// Which.
    pub kind: RecordingNoticeKind,
    /// In words, for the instructor.
    pub message: String,
    /// Free space on the recordings' disk, bytes, when known.
    pub free_bytes: Option<u64>,
}

/// `1.4 GB`, `820 MB`: free space in words.
fn size_in_words(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let gb = bytes as f64 / 1e9;
    if gb >= 1.0 {
        format!("{gb:.1} GB")
    } else {
        format!("{} MB", bytes / 1_000_000)
    }
}

/// The notice for one recording event, if it is one the instructor must see. Pure.
fn notice_of(event: &RecordingEvent, stop_below_bytes: u64) -> Option<RecordingNotice> {
    match event {
        RecordingEvent::LowDisk { free_bytes } => Some(RecordingNotice {
            kind: RecordingNoticeKind::LowDisk,
            message: format!(
                "Only {} free on the disk that holds the recordings. The recording stops by \
                 itself under {} (the class goes on); free some space to keep recording.",
                size_in_words(*free_bytes),
                size_in_words(stop_below_bytes)
            ),
            free_bytes: Some(*free_bytes),
        }),
        RecordingEvent::Failed { code, message } => Some(RecordingNotice {
            kind: RecordingNoticeKind::Failed,
            message: format!(
                "The recording failed ({code}): {message}. What was recorded until then is \
                 kept and plays; the class goes on."
            ),
            free_bytes: None,
        }),
        RecordingEvent::Stopped {
            reason: StopReason::LowDisk,
            ..
        } => Some(RecordingNotice {
            kind: RecordingNoticeKind::StoppedLowDisk,
            message: format!(
                "The recording stopped: less than {} free on its disk. What was recorded until \
                 then is kept and plays; the class goes on.",
                size_in_words(stop_below_bytes)
            ),
            free_bytes: None,
        }),
        _ => None,
    }
}

/// The folder of the recordings, inside the data folder.
pub fn recordings_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("recordings")
}

/// `<session>.webm`, or `<session>-2.webm` ... when a class resumed after a crash already has
/// one (a recording never overwrites a file).
fn free_name(folder: &Path, session_id: i64) -> PathBuf {
    let first = folder.join(format!("{session_id}.webm"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| folder.join(format!("{session_id}-{n}.webm")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

impl Studio {
    /// Finalize the recordings a crash or a kill left unfinished (duration, cues); a file that
    /// cannot be read is left as it is and logged.
    pub(crate) async fn recover_recordings(&self) {
        let folder = recordings_dir(self.data_dir());
        let results =
            tokio::task::spawn_blocking(move || lectern_media::recover_folder(&folder)).await;
        let Ok(results) = results else { return };
        match results {
            Ok(files) => {
                for (path, result) in files {
                    match result {
                        Ok(r) if r.already_final => {}
                        Ok(r) => tracing::info!(
                            path = %path.display(),
                            duration_ms = r.duration_ms,
                            truncated = r.truncated,
                            "an unfinished recording was finalized"
                        ),
                        Err(e) => tracing::warn!(
                            path = %path.display(),
                            code = e.code(),
                            "an unfinished recording could not be finalized: {e}"
                        ),
                    }
                }
            }
            Err(e) => tracing::warn!(code = e.code(), "recordings not checked: {e}"),
        }
    }

    /// Start recording the class `session_id` (when recording is on). A recording that cannot
    /// start (low disk, a folder it cannot write) never stops the class: it is logged.
    pub(crate) async fn start_class_recording(&self, session_id: i64) {
        self.set_recording_notice(None);
        if !self.inner.options.broadcast.record_classes {
            return;
        }
        let folder = recordings_dir(self.data_dir());
        if let Err(e) = std::fs::create_dir_all(&folder) {
            tracing::warn!(
                "the class is not recorded: creating {}: {e}",
                folder.display()
            );
            self.set_recording_notice(Some(RecordingNotice {
                kind: RecordingNoticeKind::Failed,
                message: format!(
                    "The class is not being recorded: the recordings folder {} cannot be \
                     created ({e}).",
                    folder.display()
                ),
                free_bytes: None,
            }));
            return;
        }
        let path = free_name(&folder, session_id);
        let media = self.media();
        let events = media.recording_events();
        let started_at_ms = crate::studio::now_ms();
        let config = RecordingConfig::new(&path);
        let stop_below_bytes = config.stop_below_bytes;
        match media.start_recording(config) {
            Ok(()) => {
                tokio::spawn(follow_recording_events(
                    events,
                    std::sync::Arc::downgrade(&self.inner),
                    stop_below_bytes,
                ));
                // The replay places the log's events by this start.
                let file = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let noted = match self.store().await {
                    Ok(store) => store
                        .add_recording(lectern_store::RecordingStart {
                            file,
                            session_id,
                            started_at_ms,
                        })
                        .await
                        .map_err(ApiError::from),
                    Err(e) => Err(e),
                };
                if let Err(e) = noted {
                    tracing::warn!(
                        "the recording's start was not noted (its replay is placed from the class's start): {}",
                        e.message
                    );
                }
            }
            Err(e) => {
                tracing::warn!(code = e.code(), "the class is not recorded: {e}");
                self.set_recording_notice(Some(match e {
                    lectern_media::RecordingError::LowDisk {
                        free_bytes,
                        limit_bytes,
                    } => RecordingNotice {
                        kind: RecordingNoticeKind::StoppedLowDisk,
                        message: format!(
                            "The class is not being recorded: only {} free on the disk that \
                             holds the recordings, under the {} a recording needs. The class \
                             goes on.",
                            size_in_words(free_bytes),
                            size_in_words(limit_bytes)
                        ),
                        free_bytes: Some(free_bytes),
                    },
                    e => RecordingNotice {
                        kind: RecordingNoticeKind::Failed,
                        message: format!(
                            "The class is not being recorded ({}): {e}. The class goes on.",
                            e.code()
                        ),
                        free_bytes: None,
                    },
                }));
            }
        }
    }

    /// The class's recording now, for the Broadcast screen.
    pub(crate) fn recording_info(&self) -> Option<RecordingInfo> {
        let status = self.media().recording_status()?;
        let file = Path::new(&status.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Some(RecordingInfo {
            state: match status.state {
                RecordingState::WaitingForKeyframe => "waiting",
                RecordingState::Recording => "recording",
                RecordingState::Stopped => "stopped",
            }
            .to_owned(),
            file,
            duration_ms: status.duration_ms,
            bytes: status.bytes_written,
            free_bytes: status.free_bytes,
        })
    }

    /// What went wrong with the class's recording, while it matters (until the next class).
    pub(crate) fn recording_notice(&self) -> Option<RecordingNotice> {
        self.inner
            .recording_notice
            .lock()
            .ok()
            .and_then(|n| n.clone())
    }

    fn set_recording_notice(&self, notice: Option<RecordingNotice>) {
        let changed = match self.inner.recording_notice.lock() {
            Ok(mut slot) if *slot != notice => {
                (*slot).clone_from(&notice);
                true
            }
            _ => false,
        };
        if changed {
            self.emit(StudioEvent::RecordingNotice { notice });
        }
    }

    /// Stop the class's recording and finalize its file.
    pub(crate) async fn stop_class_recording(&self) {
        self.set_recording_notice(None);
        if let Some(status) = self.media().stop_recording().await {
            tracing::info!(
                path = %status.path,
                duration_ms = status.duration_ms,
                bytes = status.bytes_written,
                finalized = status.finalized,
                "the class's recording stopped"
            );
        }
    }
}

/// One recording's events, to the log and, those the instructor must see, to the studio's
/// screens, until it stops. Holds the studio weakly: a closed studio is not kept alive.
async fn follow_recording_events(
    mut events: tokio::sync::broadcast::Receiver<RecordingEvent>,
    studio: Weak<crate::studio::Inner>,
    stop_below_bytes: u64,
) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        };
        tracing::info!(?event, "recording");
        let stopped = matches!(event, RecordingEvent::Stopped { .. });
        if let Some(notice) = notice_of(&event, stop_below_bytes) {
            let Some(inner) = studio.upgrade() else { break };
            Studio { inner }.set_recording_notice(Some(notice));
        }
        if stopped {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instructor_is_told_of_low_disk_stops_and_failures_only() {
        let stop = 500_000_000;
        let low = notice_of(
            &RecordingEvent::LowDisk {
                free_bytes: 1_400_000_000,
            },
            stop,
        )
        .unwrap_or_else(|| panic!("low disk is told"));
        assert_eq!(low.kind, RecordingNoticeKind::LowDisk);
        assert!(low.message.contains("Only 1.4 GB free"), "{}", low.message);
        assert!(low.message.contains("under 500 MB"), "{}", low.message);
        let stopped = notice_of(
            &RecordingEvent::Stopped {
                path: "7.webm".into(),
                reason: StopReason::LowDisk,
                finalized: true,
                duration_ms: 1,
                bytes: 1,
            },
            stop,
        )
        .unwrap_or_else(|| panic!("a low-disk stop is told"));
        assert_eq!(stopped.kind, RecordingNoticeKind::StoppedLowDisk);
        let failed = notice_of(
            &RecordingEvent::Failed {
                code: "recording_io",
                message: "writing: broken pipe".into(),
            },
            stop,
        )
        .unwrap_or_else(|| panic!("a failure is told"));
        assert!(
            failed.message.contains("recording_io"),
            "{}",
            failed.message
        );
        // The ordinary start and the requested stop at the class's end are not problems.
        assert_eq!(
            notice_of(
                &RecordingEvent::Started {
                    path: "7.webm".into()
                },
                stop
            ),
            None
        );
        assert_eq!(
            notice_of(
                &RecordingEvent::Stopped {
                    path: "7.webm".into(),
                    reason: StopReason::Requested,
                    finalized: true,
                    duration_ms: 1,
                    bytes: 1,
                },
                stop,
            ),
            None
        );
    }

    #[test]
    fn a_resumed_class_gets_a_new_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(free_name(dir.path(), 7), dir.path().join("7.webm"));
        std::fs::write(dir.path().join("7.webm"), b"x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(free_name(dir.path(), 7), dir.path().join("7-2.webm"));
    }
}

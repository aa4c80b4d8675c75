//! Each class's recording: while a class is live, what viewers get is written to
//! `<data folder>/recordings/<session id>.webm` (the media engine's `recording`), on by default
//! ([`crate::BroadcastOptions::record_classes`]). At start the studio finalizes what a crash
//! left in that folder, before a resumed class starts its next file.
//!
//! Its start time is noted in the school (`recordings`), so the replay (`crate::replay`) places
//! the log's events in the video; listing, deleting and retention are in `crate::replay`.
//!
//! Not yet (unfinished): the recording's events and status reach the log only, not
//! `StudioEvent`s or the Broadcast screen; no CLI flag or setting turns it off yet (only the
//! option).

use std::path::{Path, PathBuf};

use lectern_media::{RecordingConfig, RecordingEvent};

use crate::{ApiError, Studio};

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
        if !self.inner.options.broadcast.record_classes {
            return;
        }
        let folder = recordings_dir(self.data_dir());
        if let Err(e) = std::fs::create_dir_all(&folder) {
            tracing::warn!(
                "the class is not recorded: creating {}: {e}",
                folder.display()
            );
            return;
        }
        let path = free_name(&folder, session_id);
        let media = self.media();
        let events = media.recording_events();
        let started_at_ms = crate::studio::now_ms();
        match media.start_recording(RecordingConfig::new(&path)) {
            Ok(()) => {
                tokio::spawn(log_recording_events(events));
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
            Err(e) => tracing::warn!(code = e.code(), "the class is not recorded: {e}"),
        }
    }

    /// Stop the class's recording and finalize its file.
    pub(crate) async fn stop_class_recording(&self) {
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

/// One recording's events, to the log, until it stops.
async fn log_recording_events(mut events: tokio::sync::broadcast::Receiver<RecordingEvent>) {
    loop {
        match events.recv().await {
            Ok(RecordingEvent::Stopped { .. }) | Err(_) => break,
            Ok(event) => tracing::info!(?event, "recording"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_class_gets_a_new_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(free_name(dir.path(), 7), dir.path().join("7.webm"));
        std::fs::write(dir.path().join("7.webm"), b"x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(free_name(dir.path(), 7), dir.path().join("7-2.webm"));
    }
}

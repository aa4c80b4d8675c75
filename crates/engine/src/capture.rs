//! The desktop window as the broadcast's source: the window captures the camera, microphone or
//! screen, encodes them with WebCodecs (VP8, Opus) and hands each encoded chunk here; the media
//! engine packetizes it (`lectern_media::local`) and fans it out like any other source, with its
//! GOP cache, NACK history, relay and stats.
//!
//! A chunk crosses IPC as raw bytes in one small binary frame ([`WindowFrame::parse`]):
//!
//! ```text
//! byte 0      kind: 1 = video (VP8), 2 = audio (Opus)
//! byte 1      flags: bit 0 = keyframe
//! bytes 2-9   capture time in microseconds, unsigned little-endian
//! bytes 10-   the encoded chunk
//! ```
//!
//! Viewers' keyframe requests (coalesced, at most one per 500 ms) reach the window through the
//! callback given to [`Studio::start_window_source`], so its encoder makes the next frame a
//! keyframe.
//!
//! Not yet: H.264 (RFC 6184) next to VP8; tested on Linux (WebKitGTK) only, not in macOS's
//! WKWebView or Windows' WebView2; the whole studio at 50 viewers measured 96-109% of one core
//! (`cargo xtask bench capture`), most of it WebKitGTK's software VP8 encoder at 720p30.

use bytes::Bytes;
use lectern_media::TrackKind;
use lectern_media::local::EncodedFrame;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ApiError, BroadcastStatus, ErrorCode, Studio};

/// Bytes before the chunk in a window frame.
pub const WINDOW_FRAME_HEADER: usize = 10;

/// The window's capture, as it tells the studio when it goes live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartWindowSource {
    /// What is captured: `camera`, `screen`, `screen_and_camera` or `audio_only`.
    pub capture: String,
}

/// The kinds of capture the window offers.
pub const CAPTURE_KINDS: &[&str] = &["camera", "screen", "screen_and_camera", "audio_only"];

/// One chunk from the window, checked.
#[derive(Debug, Clone)]
pub struct WindowFrame(EncodedFrame);

impl WindowFrame {
    /// Reads a window frame (see the module's format).
    ///
    /// # Errors
    /// `invalid_input` for a frame shorter than its header or of an unknown kind.
    pub fn parse(bytes: &[u8]) -> Result<WindowFrame, ApiError> {
        if bytes.len() <= WINDOW_FRAME_HEADER {
            return Err(ApiError::invalid(format!(
                "a window frame has a {WINDOW_FRAME_HEADER}-byte header and a chunk; got {} bytes",
                bytes.len()
            )));
        }
        let kind = match bytes[0] {
            1 => TrackKind::Video,
            2 => TrackKind::Audio,
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown window frame kind {other} (1 video, 2 audio)"
                )));
            }
        };
        let mut time = [0u8; 8];
        time.copy_from_slice(&bytes[2..WINDOW_FRAME_HEADER]);
        Ok(WindowFrame(EncodedFrame {
            kind,
            timestamp_us: u64::from_le_bytes(time),
            keyframe: bytes[1] & 0x01 != 0,
            data: Bytes::copy_from_slice(&bytes[WINDOW_FRAME_HEADER..]),
        }))
    }
}

fn media_refusal(err: lectern_media::MediaError) -> ApiError {
    let code = match &err {
        lectern_media::MediaError::BadFrame(..) => ErrorCode::InvalidInput,
        lectern_media::MediaError::NoLocalSource | lectern_media::MediaError::PublisherExists => {
            ErrorCode::Conflict
        }
        _ => ErrorCode::Internal,
    };
    ApiError::new(code, format!("{err} ({})", err.code()))
}

impl Studio {
    /// Make the window's capture the broadcast's source, replacing the test card (a WHIP
    /// publisher keeps the stream: stop it first). `keyframe_wanted` is called each time
    /// viewers need a keyframe; it returns false once the window is gone.
    ///
    /// # Errors
    /// `invalid_input` for an unknown capture kind; `conflict` while a publisher is live.
    pub async fn start_window_source(
        &self,
        args: StartWindowSource,
        keyframe_wanted: impl Fn() -> bool + Send + 'static,
    ) -> Result<BroadcastStatus, ApiError> {
        if !CAPTURE_KINDS.contains(&args.capture.as_str()) {
            return Err(ApiError::invalid(format!(
                "capture is one of {}",
                CAPTURE_KINDS.join(", ")
            )));
        }
        let mut wanted = self.media().start_local().await.map_err(media_refusal)?;
        tracing::info!(capture = %args.capture, "the window's capture is the source");
        tokio::spawn(async move {
            while wanted.changed().await.is_ok() {
                if !keyframe_wanted() {
                    break;
                }
            }
        });
        self.record_source(Some(args.capture)).await;
        self.broadcast_status(crate::api::NoArgs {}).await
    }

    /// Fan out one chunk from the window.
    ///
    /// # Errors
    /// `invalid_input` for a malformed or refused frame (nothing of it is sent); `conflict`
    /// when the window's capture is not the source (stopped, or replaced by a publisher).
    pub fn push_window_frame(&self, bytes: &[u8]) -> Result<(), ApiError> {
        let WindowFrame(frame) = WindowFrame::parse(bytes)?;
        self.media().push_local(&frame).map_err(media_refusal)
    }

    /// Stop the window's capture as the source.
    pub async fn stop_window_source(
        &self,
        _args: crate::api::NoArgs,
    ) -> Result<BroadcastStatus, ApiError> {
        if self.media().stop_local().await {
            tracing::info!("the window's capture stopped");
            self.record_source(None).await;
        }
        self.broadcast_status(crate::api::NoArgs {}).await
    }
}

impl Studio {
    /// The live class's log says what the broadcast's source became.
    async fn record_source(&self, capture: Option<String>) {
        if let Some(room) = self.live_room().await
            && let Err(err) = room.submit(lectern_room::Input::Source { capture }).await
        {
            tracing::warn!(
                code = err.code.as_str(),
                "the source change was not recorded: {}",
                err.message
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_window_frame_reads_its_kind_flags_time_and_chunk() {
        let mut bytes = vec![1, 1];
        bytes.extend_from_slice(&1_234_567u64.to_le_bytes());
        bytes.extend_from_slice(&[0x10, 0x02, 0x00]);
        let WindowFrame(frame) = WindowFrame::parse(&bytes).unwrap();
        assert_eq!(frame.kind, TrackKind::Video);
        assert!(frame.keyframe);
        assert_eq!(frame.timestamp_us, 1_234_567);
        assert_eq!(&frame.data[..], &[0x10, 0x02, 0x00]);

        let mut audio = vec![2, 0];
        audio.extend_from_slice(&9u64.to_le_bytes());
        audio.push(0x78);
        let WindowFrame(frame) = WindowFrame::parse(&audio).unwrap();
        assert_eq!((frame.kind, frame.keyframe), (TrackKind::Audio, false));
    }

    #[test]
    fn short_or_unknown_frames_are_refused_with_a_code() {
        assert_eq!(
            WindowFrame::parse(&[1, 0, 0]).unwrap_err().code,
            ErrorCode::InvalidInput
        );
        let mut bytes = vec![3, 0];
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.push(1);
        assert_eq!(
            WindowFrame::parse(&bytes).unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }
}

//! The built-in source's material: a looping VP8 + Opus test card, turned into paced RTP.

use crate::{MediaError, TrackKind};
use rtc::media::io::ivf_reader::IVFReader;
use rtc::media::io::ogg_reader::OggReader;
use rtc::rtp;
use rtc::rtp::codec::vp8::Vp8Payloader;
use std::sync::Arc;
use std::time::Duration;

/// The committed test card, embedded so that a fresh install can go live without files.
const EMBEDDED_IVF: &[u8] = include_bytes!("../../../assets/media/test-card.ivf");
const EMBEDDED_OGG: &[u8] = include_bytes!("../../../assets/media/test-card.ogg");

const VIDEO_CLOCK: u64 = 90_000;
const AUDIO_CLOCK: u64 = 48_000;

/// One encoded frame of the card, with when it is due from the start of a loop.
#[derive(Debug, Clone)]
struct TimedFrame {
    at: Duration,
    kind: TrackKind,
    data: bytes::Bytes,
}

/// A decoded-from-container (not decoded media) test card: VP8 frames from IVF, Opus packets
/// from Ogg, merged in time order, looping with period [`TestCard::period`].
#[derive(Debug, Clone)]
pub struct TestCard {
    frames: Arc<[TimedFrame]>,
    period: Duration,
}

impl TestCard {
    /// The card committed in `assets/media/` (10 s, 640x360 VP8, 440 Hz Opus).
    ///
    /// # Errors
    /// [`MediaError::TestCard`] if the embedded files do not parse (a build defect).
    pub fn embedded() -> Result<Self, MediaError> {
        Self::from_bytes(EMBEDDED_IVF, EMBEDDED_OGG)
    }

    /// A card from VP8-in-IVF and Opus-in-Ogg bytes; the Ogg file must carry one Opus packet per
    /// page (ffmpeg's `-page_duration 20000`), see `assets/media/README.md`.
    ///
    /// # Errors
    /// [`MediaError::TestCard`] when either container is malformed, the IVF is not VP8, or the
    /// card does not start on a keyframe.
    pub fn from_bytes(ivf: &[u8], ogg: &[u8]) -> Result<Self, MediaError> {
        let bad = |what: &str, err: &dyn std::fmt::Display| {
            MediaError::TestCard(format!("{what}: {err}"))
        };
        let (mut video, header) = IVFReader::new(ivf).map_err(|e| bad("IVF header", &e))?;
        if &header.four_cc != b"VP80" {
            return Err(MediaError::TestCard("the IVF file is not VP8".into()));
        }
        let (num, den) = (
            u64::from(header.timebase_numerator),
            u64::from(header.timebase_denominator),
        );
        if num == 0 || den == 0 {
            return Err(MediaError::TestCard("the IVF timebase is zero".into()));
        }
        let mut frames = Vec::new();
        let mut video_end = Duration::ZERO;
        let mut frame_step = Duration::from_millis(33);
        // The reader reports the end of the file as an error; stop at the first one.
        while let Ok((data, frame)) = video.parse_next_frame() {
            let at = Duration::from_micros(frame.timestamp * num * 1_000_000 / den);
            if frames.is_empty() && data.first().is_none_or(|tag| tag & 0x01 != 0) {
                return Err(MediaError::TestCard(
                    "the IVF does not start on a keyframe".into(),
                ));
            }
            if let Some(prev) = frames.last().map(|f: &TimedFrame| f.at) {
                frame_step = at.saturating_sub(prev).max(Duration::from_millis(1));
            }
            video_end = at + frame_step;
            frames.push(TimedFrame {
                at,
                kind: TrackKind::Video,
                data: data.freeze(),
            });
        }
        if frames.is_empty() {
            return Err(MediaError::TestCard("the IVF file has no frames".into()));
        }

        let (mut audio, _head) = OggReader::new(ogg, true).map_err(|e| bad("Ogg header", &e))?;
        let mut samples: u64 = 0;
        while let Ok((payload, page)) = audio.parse_next_page() {
            if payload.starts_with(b"OpusTags") || payload.starts_with(b"OpusHead") {
                continue;
            }
            if payload.is_empty() {
                continue;
            }
            let at = Duration::from_micros(samples * 1_000_000 / AUDIO_CLOCK);
            // The granule position counts samples up to the end of the page.
            let end = page.granule_position.max(samples + 960);
            samples = end;
            frames.push(TimedFrame {
                at,
                kind: TrackKind::Audio,
                data: payload.freeze(),
            });
        }
        let audio_end = Duration::from_micros(samples * 1_000_000 / AUDIO_CLOCK);
        frames.sort_by_key(|f| f.at);
        // One period for both tracks keeps them in sync across loops; the shorter track is
        // silent (or frozen) for the difference.
        let period = video_end.max(audio_end);
        Ok(Self {
            frames: frames.into(),
            period,
        })
    }

    /// How long one loop of the card lasts.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Plays the card as RTP with these SSRCs and payload types.
    pub fn player(&self, video: RtpStreamParams, audio: RtpStreamParams) -> TestCardPlayer {
        TestCardPlayer {
            card: self.clone(),
            video: StreamState::new(video),
            audio: StreamState::new(audio),
            index: 0,
            lap: 0,
            vp8: {
                let mut vp8 = Vp8Payloader::default();
                // A picture id lets receivers detect a lost frame start.
                vp8.enable_picture_id = true;
                vp8
            },
        }
    }
}

/// SSRC and payload type of one RTP stream the player writes.
#[derive(Debug, Clone, Copy)]
pub struct RtpStreamParams {
    /// The stream's SSRC.
    pub ssrc: u32,
    /// The payload type to put in each packet.
    pub payload_type: u8,
}

#[derive(Debug)]
struct StreamState {
    params: RtpStreamParams,
    sequence: u16,
    timestamp_base: u32,
}

impl StreamState {
    fn new(params: RtpStreamParams) -> Self {
        // Random-looking starts (RFC 3550) without a randomness dependency.
        let seed = crate::engine::random_u32();
        Self {
            params,
            sequence: (seed & 0x7fff) as u16,
            timestamp_base: seed.rotate_left(16),
        }
    }
}

/// One frame's worth of RTP, due at `at` after the player started.
#[derive(Debug)]
pub struct PacedFrame {
    /// When to send, measured from the start of playback.
    pub at: Duration,
    /// Audio or video.
    pub kind: TrackKind,
    /// The frame's packets, in order; the last carries the marker bit for video.
    pub packets: Vec<rtp::Packet>,
}

/// Endless iterator of paced RTP frames over a [`TestCard`]; timestamps keep increasing across
/// loops, so a receiver sees one continuous stream.
#[derive(Debug)]
pub struct TestCardPlayer {
    card: TestCard,
    video: StreamState,
    audio: StreamState,
    index: usize,
    lap: u32,
    vp8: Vp8Payloader,
}

impl Iterator for TestCardPlayer {
    type Item = PacedFrame;

    fn next(&mut self) -> Option<PacedFrame> {
        if self.index >= self.card.frames.len() {
            self.index = 0;
            self.lap = self.lap.wrapping_add(1);
        }
        let frame = self.card.frames.get(self.index)?.clone();
        self.index += 1;
        let at = frame.at + self.card.period * self.lap;
        let micros = at.as_micros() as u64;
        let (stream, clock) = match frame.kind {
            TrackKind::Video => (&mut self.video, VIDEO_CLOCK),
            TrackKind::Audio => (&mut self.audio, AUDIO_CLOCK),
        };
        let timestamp = stream
            .timestamp_base
            .wrapping_add((micros * clock / 1_000_000) as u32);
        let payloads = crate::local::payloads(&mut self.vp8, frame.kind, &frame.data);
        let packets = crate::local::frame_packets(
            frame.kind,
            payloads,
            stream.params,
            &mut stream.sequence,
            timestamp,
        );
        Some(PacedFrame {
            at,
            kind: frame.kind,
            packets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_card_loops_with_increasing_timestamps() {
        let card = TestCard::embedded().expect("embedded card parses");
        assert!(
            card.period() >= Duration::from_secs(9) && card.period() <= Duration::from_secs(11)
        );
        let video = RtpStreamParams {
            ssrc: 1,
            payload_type: 96,
        };
        let audio = RtpStreamParams {
            ssrc: 2,
            payload_type: 111,
        };
        let frames: Vec<PacedFrame> = card.player(video, audio).take(2_000).collect();
        let first_video = frames
            .iter()
            .find(|f| f.kind == TrackKind::Video)
            .expect("video");
        let first_packet = first_video.packets.first().expect("a packet");
        assert_eq!(
            crate::keyframe::starts_keyframe("video/VP8", &first_packet.payload),
            Some(true)
        );
        // 2,000 frames (about 300 video + 500 audio per 10 s) cross at least one loop.
        assert!(frames.last().expect("frames").at > card.period());
        let mut last_at = Duration::ZERO;
        for frame in &frames {
            assert!(frame.at >= last_at);
            last_at = frame.at;
        }
    }
}

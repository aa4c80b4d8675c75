//! A source fed by encoded frames made on this machine: the desktop window captures the camera,
//! microphone or screen and encodes them with WebCodecs (VP8, Opus), and hands each chunk to the
//! engine, which turns it into RTP here and fans it out like any other source.
//!
//! [`Packetizer`] is pure: an [`EncodedFrame`] in (its kind, its capture time in microseconds,
//! whether it is a keyframe, its bytes), RTP packets out. VP8 follows RFC 7741 (payload
//! descriptor with a 15-bit picture id, S bit on a frame's first packet, the marker bit on its
//! last); Opus follows RFC 7587 (one packet per Opus frame, 48 kHz timestamps). Timestamps come
//! from the frame's own capture time, so audio and video stay in step whatever the IPC delay.

use bytes::Bytes;
use rtc::rtp;
use rtc::rtp::codec::opus::OpusPayloader;
use rtc::rtp::codec::vp8::Vp8Payloader;
use rtc::rtp::packetizer::Payloader;

use crate::TrackKind;
use crate::testcard::RtpStreamParams;

/// Payload size that stays under a 1,280-byte path MTU with SRTP, header and extensions.
pub const RTP_PAYLOAD_MTU: usize = 1_100;
/// The largest encoded video frame taken (a 4K keyframe at a high bitrate is well under it).
pub const MAX_VIDEO_FRAME: usize = 2 * 1024 * 1024;
/// The largest Opus packet (RFC 6716: 1,275 bytes per frame, up to 120 ms of frames).
pub const MAX_AUDIO_FRAME: usize = 8 * 1024;
const VIDEO_CLOCK: u64 = 90_000;
const AUDIO_CLOCK: u64 = 48_000;

/// One encoded chunk from the local encoder.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    /// Audio (Opus) or video (VP8).
    pub kind: TrackKind,
    /// When it was captured, in microseconds on the encoder's clock (any origin; only
    /// differences matter).
    pub timestamp_us: u64,
    /// The encoder says it is a keyframe (video).
    pub keyframe: bool,
    /// The encoded bytes.
    pub data: Bytes,
}

/// Why a frame was refused. Nothing of it was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// An empty chunk.
    #[error("an encoded frame is empty")]
    Empty,
    /// Larger than [`MAX_VIDEO_FRAME`] or [`MAX_AUDIO_FRAME`].
    #[error("an encoded {kind} frame of {size} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// Audio or video.
        kind: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The frame's keyframe flag does not match its VP8 header.
    #[error("the frame says keyframe={said} but its VP8 header says otherwise")]
    KeyframeMismatch {
        /// What the caller said.
        said: bool,
    },
    /// A capture time before the track's previous one.
    #[error("a {kind} frame went back in time ({timestamp_us} us after {previous_us} us)")]
    OutOfOrder {
        /// Audio or video.
        kind: &'static str,
        /// This frame's time.
        timestamp_us: u64,
        /// The previous frame's.
        previous_us: u64,
    },
}

impl FrameError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::Empty => "empty_frame",
            FrameError::TooLarge { .. } => "frame_too_large",
            FrameError::KeyframeMismatch { .. } => "keyframe_mismatch",
            FrameError::OutOfOrder { .. } => "frame_out_of_order",
        }
    }
}

#[derive(Debug)]
struct Track {
    params: RtpStreamParams,
    clock: u64,
    sequence: u16,
    timestamp_base: u32,
    /// The first frame's capture time: RTP time counts from it.
    origin_us: Option<u64>,
    last_us: Option<u64>,
}

impl Track {
    fn new(params: RtpStreamParams, clock: u64, seed: u32) -> Self {
        Self {
            params,
            clock,
            sequence: (seed & 0x7fff) as u16,
            timestamp_base: seed.rotate_left(16),
            origin_us: None,
            last_us: None,
        }
    }

    fn timestamp(&mut self, us: u64) -> u32 {
        let origin = *self.origin_us.get_or_insert(us);
        let ticks = (us - origin) as u128 * u128::from(self.clock) / 1_000_000;
        self.timestamp_base.wrapping_add(ticks as u32)
    }
}

/// Frames in, RTP out, for one local source (one video and one audio stream).
#[derive(Debug)]
pub struct Packetizer {
    video: Track,
    audio: Track,
    vp8: Vp8Payloader,
}

impl Packetizer {
    /// A packetizer writing these SSRCs and payload types; `seed` picks the random starts of
    /// sequence numbers and timestamps (RFC 3550).
    pub fn new(video: RtpStreamParams, audio: RtpStreamParams, seed: u32) -> Self {
        let mut vp8 = Vp8Payloader::default();
        // A picture id lets receivers see that a frame's start was lost.
        vp8.enable_picture_id = true;
        Self {
            video: Track::new(video, VIDEO_CLOCK, seed),
            audio: Track::new(audio, AUDIO_CLOCK, seed.rotate_left(7) ^ 0x5bd1_e995),
            vp8,
        }
    }

    /// The RTP packets of one frame, in order. A refused frame changes nothing.
    ///
    /// # Errors
    /// [`FrameError`]: empty, too large, a keyframe flag its VP8 header contradicts, or a
    /// capture time earlier than the track's previous frame.
    pub fn packetize(&mut self, frame: &EncodedFrame) -> Result<Vec<rtp::Packet>, FrameError> {
        let (name, limit) = match frame.kind {
            TrackKind::Video => ("video", MAX_VIDEO_FRAME),
            TrackKind::Audio => ("audio", MAX_AUDIO_FRAME),
        };
        if frame.data.is_empty() {
            return Err(FrameError::Empty);
        }
        if frame.data.len() > limit {
            return Err(FrameError::TooLarge {
                kind: name,
                size: frame.data.len(),
                limit,
            });
        }
        if frame.kind == TrackKind::Video {
            // RFC 6386: bit 0 of the first byte is 0 on a key frame.
            let is_key = frame.data[0] & 0x01 == 0;
            if is_key != frame.keyframe {
                return Err(FrameError::KeyframeMismatch {
                    said: frame.keyframe,
                });
            }
        }
        let track = match frame.kind {
            TrackKind::Video => &mut self.video,
            TrackKind::Audio => &mut self.audio,
        };
        if let Some(previous_us) = track.last_us
            && frame.timestamp_us < previous_us
        {
            return Err(FrameError::OutOfOrder {
                kind: name,
                timestamp_us: frame.timestamp_us,
                previous_us,
            });
        }
        track.last_us = Some(frame.timestamp_us);
        let timestamp = track.timestamp(frame.timestamp_us);
        let payloads = payloads(&mut self.vp8, frame.kind, &frame.data);
        let track = match frame.kind {
            TrackKind::Video => &mut self.video,
            TrackKind::Audio => &mut self.audio,
        };
        Ok(frame_packets(
            frame.kind,
            payloads,
            track.params,
            &mut track.sequence,
            timestamp,
        ))
    }
}

/// A frame's RTP payloads: VP8 split at the MTU behind its payload descriptors (RFC 7741), or
/// the Opus packet as it is (RFC 7587).
pub(crate) fn payloads(vp8: &mut Vp8Payloader, kind: TrackKind, data: &Bytes) -> Vec<Bytes> {
    match kind {
        TrackKind::Video => vp8.payload(RTP_PAYLOAD_MTU, data).unwrap_or_default(),
        TrackKind::Audio => OpusPayloader
            .payload(RTP_PAYLOAD_MTU, data)
            .unwrap_or_default(),
    }
}

/// One frame's payloads as RTP packets of one stream, numbered from `sequence` (advanced).
pub(crate) fn frame_packets(
    kind: TrackKind,
    payloads: Vec<Bytes>,
    params: RtpStreamParams,
    sequence: &mut u16,
    timestamp: u32,
) -> Vec<rtp::Packet> {
    let count = payloads.len();
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            let sequence_number = *sequence;
            *sequence = sequence.wrapping_add(1);
            rtp::Packet {
                header: rtp::Header {
                    version: 2,
                    // RFC 7741: the marker is set on the last packet of a video frame; Opus
                    // (RFC 7587) leaves it clear except after silence, which is never sent.
                    marker: kind == TrackKind::Video && i + 1 == count,
                    payload_type: params.payload_type,
                    sequence_number,
                    timestamp,
                    ssrc: params.ssrc,
                    ..Default::default()
                },
                payload,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    const VIDEO: RtpStreamParams = RtpStreamParams {
        ssrc: 0x1111,
        payload_type: 96,
    };
    const AUDIO: RtpStreamParams = RtpStreamParams {
        ssrc: 0x2222,
        payload_type: 111,
    };

    /// A VP8 frame of `len` bytes: a keyframe header (bit 0 clear) or an interframe.
    fn vp8(len: usize, key: bool) -> Bytes {
        let mut data = vec![0xAB; len];
        data[0] = if key { 0x10 } else { 0x11 };
        Bytes::from(data)
    }

    fn video(us: u64, len: usize, key: bool) -> EncodedFrame {
        EncodedFrame {
            kind: TrackKind::Video,
            timestamp_us: us,
            keyframe: key,
            data: vp8(len, key),
        }
    }

    fn audio(us: u64, len: usize) -> EncodedFrame {
        EncodedFrame {
            kind: TrackKind::Audio,
            timestamp_us: us,
            keyframe: true,
            data: Bytes::from(vec![0x78; len]),
        }
    }

    /// RFC 7741 section 4.2: X|R|N|S|R|PID, then I|L|T|K|RSV, then the picture id (7 bits, or
    /// 15 with M set). Returns (S, picture id, descriptor length).
    fn descriptor(payload: &[u8]) -> (bool, u16, usize) {
        let start = payload[0] & 0x10 != 0;
        assert_eq!(payload[0] & 0x80, 0x80, "X: the extension byte follows");
        assert_eq!(payload[1] & 0x80, 0x80, "I: a picture id follows");
        let (picture_id, len) = if payload[2] & 0x80 != 0 {
            (u16::from(payload[2] & 0x7f) << 8 | u16::from(payload[3]), 4)
        } else {
            (u16::from(payload[2]), 3)
        };
        (start, picture_id, len)
    }

    #[test]
    fn a_large_frame_splits_at_the_mtu_with_the_start_bit_first_and_the_marker_last() {
        let mut p = Packetizer::new(VIDEO, AUDIO, 42);
        let packets = p.packetize(&video(0, 3_000, true)).unwrap();
        assert_eq!(packets.len(), 3, "3,000 bytes in 1,100-byte payloads");
        let starts: Vec<bool> = packets.iter().map(|p| descriptor(&p.payload).0).collect();
        assert_eq!(starts, [true, false, false]);
        let markers: Vec<bool> = packets.iter().map(|p| p.header.marker).collect();
        assert_eq!(markers, [false, false, true]);
        // Every packet of a frame shares its timestamp and picture id; sequence numbers follow.
        assert!(
            packets
                .windows(2)
                .all(|w| w[0].header.timestamp == w[1].header.timestamp)
        );
        assert!(
            packets
                .windows(2)
                .all(|w| w[1].header.sequence_number == w[0].header.sequence_number.wrapping_add(1))
        );
        let ids: Vec<u16> = packets.iter().map(|p| descriptor(&p.payload).1).collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]));
        // The bytes after the descriptors are the frame, in order.
        let body: Vec<u8> = packets
            .iter()
            .flat_map(|p| p.payload[descriptor(&p.payload).2..].to_vec())
            .collect();
        assert_eq!(body, vp8(3_000, true).to_vec());
        assert!(
            packets
                .iter()
                .all(|p| p.header.ssrc == 0x1111 && p.header.payload_type == 96)
        );
    }

    #[test]
    fn video_timestamps_follow_capture_time_at_90_khz_and_picture_ids_count_frames() {
        let mut p = Packetizer::new(VIDEO, AUDIO, 7);
        let first = p.packetize(&video(1_000_000, 500, true)).unwrap();
        let second = p.packetize(&video(1_033_333, 200, false)).unwrap();
        let third = p.packetize(&video(1_100_000, 200, false)).unwrap();
        let ts = |packets: &[rtp::Packet]| packets[0].header.timestamp;
        assert_eq!(
            ts(&second).wrapping_sub(ts(&first)),
            2_999,
            "33,333 us at 90 kHz"
        );
        assert_eq!(
            ts(&third).wrapping_sub(ts(&first)),
            9_000,
            "100 ms at 90 kHz"
        );
        let id = |packets: &[rtp::Packet]| descriptor(&packets[0].payload).1;
        // 7-bit ids wrap at 128 into the 15-bit form; either way they count up by one.
        assert_eq!(id(&second), id(&first) + 1);
        assert_eq!(id(&third), id(&second) + 1);
        // A one-packet frame is both the start and the end.
        assert!(descriptor(&third[0].payload).0 && third[0].header.marker);
    }

    #[test]
    fn opus_is_one_packet_per_frame_at_48_khz_without_a_marker() {
        let mut p = Packetizer::new(VIDEO, AUDIO, 9);
        let a = p.packetize(&audio(5_000_000, 120)).unwrap();
        let b = p.packetize(&audio(5_020_000, 130)).unwrap();
        assert_eq!((a.len(), b.len()), (1, 1));
        assert_eq!(
            b[0].header.timestamp.wrapping_sub(a[0].header.timestamp),
            960
        );
        assert_eq!(
            b[0].header.sequence_number,
            a[0].header.sequence_number.wrapping_add(1)
        );
        assert!(!a[0].header.marker && !b[0].header.marker);
        assert_eq!(
            &a[0].payload[..],
            &[0x78; 120][..],
            "RFC 7587: the payload is the Opus packet"
        );
        assert!(
            a.iter()
                .all(|p| p.header.ssrc == 0x2222 && p.header.payload_type == 111)
        );
    }

    #[test]
    fn audio_and_video_keep_their_own_sequence_numbers_and_clocks() {
        let mut p = Packetizer::new(VIDEO, AUDIO, 3);
        let v1 = p.packetize(&video(0, 100, true)).unwrap();
        let a1 = p.packetize(&audio(0, 100)).unwrap();
        let v2 = p.packetize(&video(40_000, 100, false)).unwrap();
        let a2 = p.packetize(&audio(40_000, 100)).unwrap();
        assert_eq!(
            v2[0].header.sequence_number,
            v1[0].header.sequence_number.wrapping_add(1)
        );
        assert_eq!(
            a2[0].header.sequence_number,
            a1[0].header.sequence_number.wrapping_add(1)
        );
        assert_eq!(
            v2[0].header.timestamp.wrapping_sub(v1[0].header.timestamp),
            3_600
        );
        assert_eq!(
            a2[0].header.timestamp.wrapping_sub(a1[0].header.timestamp),
            1_920
        );
    }

    #[test]
    fn bad_frames_are_refused_and_change_nothing() {
        let mut p = Packetizer::new(VIDEO, AUDIO, 5);
        let first = p.packetize(&video(100_000, 100, true)).unwrap();
        let empty = EncodedFrame {
            data: Bytes::new(),
            ..video(120_000, 1, false)
        };
        assert_eq!(p.packetize(&empty).unwrap_err().code(), "empty_frame");
        assert_eq!(
            p.packetize(&video(130_000, MAX_VIDEO_FRAME + 1, false))
                .unwrap_err()
                .code(),
            "frame_too_large"
        );
        assert_eq!(
            p.packetize(&audio(0, MAX_AUDIO_FRAME + 1))
                .unwrap_err()
                .code(),
            "frame_too_large"
        );
        // Says keyframe, but the VP8 header is an interframe's.
        let lying = EncodedFrame {
            keyframe: true,
            ..video(140_000, 100, false)
        };
        assert_eq!(p.packetize(&lying).unwrap_err().code(), "keyframe_mismatch");
        assert_eq!(
            p.packetize(&video(50_000, 100, false)).unwrap_err().code(),
            "frame_out_of_order"
        );
        // The next good frame continues where the first left off.
        let next = p.packetize(&video(133_333, 100, false)).unwrap();
        assert_eq!(
            next[0].header.sequence_number,
            first[0].header.sequence_number.wrapping_add(1)
        );
        assert_eq!(
            next[0]
                .header
                .timestamp
                .wrapping_sub(first[0].header.timestamp),
            2_999
        );
    }

    #[test]
    fn the_test_cards_frames_packetize_like_the_test_card_player_does() {
        // The same VP8 bitstream through both paths gives the same payloads (descriptors aside).
        let card = crate::TestCard::embedded().unwrap();
        let player = card.player(VIDEO, AUDIO);
        let mut p = Packetizer::new(VIDEO, AUDIO, 11);
        for frame in player.take(60).filter(|f| f.kind == TrackKind::Video) {
            let data: Vec<u8> = frame
                .packets
                .iter()
                .flat_map(|p| p.payload[descriptor(&p.payload).2..].to_vec())
                .collect();
            let key = data[0] & 0x01 == 0;
            let ours = p
                .packetize(&EncodedFrame {
                    kind: TrackKind::Video,
                    timestamp_us: frame.at.as_micros() as u64,
                    keyframe: key,
                    data: Bytes::from(data),
                })
                .unwrap();
            assert_eq!(ours.len(), frame.packets.len());
            for (a, b) in ours.iter().zip(&frame.packets) {
                assert_eq!(
                    a.payload[descriptor(&a.payload).2..],
                    b.payload[descriptor(&b.payload).2..]
                );
                assert_eq!(a.header.marker, b.header.marker);
            }
        }
    }
}

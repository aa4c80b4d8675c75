//! Keyframes: recognising the first packet of one, and coalescing viewers' requests for one.
//! Pure: time is a parameter.

use std::time::{Duration, Instant};

/// Whether this RTP payload starts a keyframe, for the codecs whose viewers we hold back until
/// one arrives. `None` means "this codec is not gated": forward everything.
pub(crate) fn starts_keyframe(mime_type: &str, payload: &[u8]) -> Option<bool> {
    if mime_type.eq_ignore_ascii_case("video/VP8") {
        Some(vp8_starts_keyframe(payload))
    } else if mime_type.eq_ignore_ascii_case("video/H264") {
        Some(h264_starts_keyframe(payload))
    } else {
        None
    }
}

/// RFC 7741: the payload descriptor, then (on the first packet of a partition 0) the VP8 frame
/// tag whose lowest bit is 0 for a keyframe.
fn vp8_starts_keyframe(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else {
        return false;
    };
    let start_of_partition = first & 0x10 != 0;
    let partition_id = first & 0x0f;
    if !start_of_partition || partition_id != 0 {
        return false;
    }
    let mut offset = 1;
    if first & 0x80 != 0 {
        let Some(&ext) = payload.get(1) else {
            return false;
        };
        offset = 2;
        if ext & 0x80 != 0 {
            // PictureID: 15 bits when its M bit is set, else 7.
            let Some(&pid) = payload.get(offset) else {
                return false;
            };
            offset += if pid & 0x80 != 0 { 2 } else { 1 };
        }
        if ext & 0x40 != 0 {
            offset += 1; // TL0PICIDX
        }
        if ext & 0x30 != 0 {
            offset += 1; // TID / KEYIDX
        }
    }
    payload.get(offset).is_some_and(|tag| tag & 0x01 == 0)
}

/// RFC 6184: an IDR or SPS alone, inside a STAP-A, or at the start of an FU-A.
fn h264_starts_keyframe(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else {
        return false;
    };
    match first & 0x1f {
        5 | 7 => true,
        24 => {
            let mut offset = 1;
            while let (Some(&hi), Some(&lo)) = (payload.get(offset), payload.get(offset + 1)) {
                let size = usize::from(hi) << 8 | usize::from(lo);
                if let Some(&nal) = payload.get(offset + 2)
                    && matches!(nal & 0x1f, 5 | 7)
                {
                    return true;
                }
                offset += 2 + size;
            }
            false
        }
        28 => payload
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && fu & 0x1f == 5),
        _ => false,
    }
}

/// Coalesces keyframe requests (PLI/FIR from many viewers, joins) into at most one upstream
/// request per interval, without losing the last one: a request that arrives during the quiet
/// period is sent when it ends, so a late joiner is never left waiting for the next natural
/// keyframe.
#[derive(Debug, Clone)]
pub struct KeyframeThrottle {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: bool,
}

/// What the throttle decided about a request or a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyframeDecision {
    /// Send a keyframe request upstream now.
    SendNow,
    /// Hold it; call [`KeyframeThrottle::poll`] at this instant.
    WaitUntil(Instant),
    /// Nothing to do.
    Idle,
}

impl KeyframeThrottle {
    /// A throttle that lets one request through per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_sent: None,
            pending: false,
        }
    }

    /// A viewer asked for a keyframe at `now`.
    pub fn request(&mut self, now: Instant) -> KeyframeDecision {
        self.pending = true;
        self.poll(now)
    }

    /// Re-evaluate at `now` (after a [`KeyframeDecision::WaitUntil`] deadline).
    pub fn poll(&mut self, now: Instant) -> KeyframeDecision {
        if !self.pending {
            return KeyframeDecision::Idle;
        }
        match self.last_sent {
            Some(last) if now < last + self.interval => {
                KeyframeDecision::WaitUntil(last + self.interval)
            }
            _ => {
                self.pending = false;
                self.last_sent = Some(now);
                KeyframeDecision::SendNow
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_becomes_one_request_then_one_trailing() {
        let t0 = Instant::now();
        let mut throttle = KeyframeThrottle::new(Duration::from_millis(500));
        assert_eq!(throttle.request(t0), KeyframeDecision::SendNow);
        let mut sent = 1;
        for ms in 1..100 {
            match throttle.request(t0 + Duration::from_millis(ms)) {
                KeyframeDecision::SendNow => sent += 1,
                KeyframeDecision::WaitUntil(at) => assert_eq!(at, t0 + Duration::from_millis(500)),
                KeyframeDecision::Idle => unreachable!("a request is pending"),
            }
        }
        assert_eq!(sent, 1);
        assert_eq!(
            throttle.poll(t0 + Duration::from_millis(499)),
            KeyframeDecision::WaitUntil(t0 + Duration::from_millis(500))
        );
        assert_eq!(
            throttle.poll(t0 + Duration::from_millis(500)),
            KeyframeDecision::SendNow
        );
        assert_eq!(
            throttle.poll(t0 + Duration::from_millis(900)),
            KeyframeDecision::Idle
        );
        assert_eq!(
            throttle.request(t0 + Duration::from_secs(2)),
            KeyframeDecision::SendNow
        );
    }

    #[test]
    fn recognises_vp8_and_h264_keyframe_starts() {
        // VP8: S=1, PID=0, no extension, frame tag with P=0.
        assert_eq!(
            starts_keyframe("video/VP8", &[0x10, 0x50, 0x2a]),
            Some(true)
        );
        // Interframe tag (P=1).
        assert_eq!(starts_keyframe("video/VP8", &[0x10, 0x51]), Some(false));
        // Continuation packet.
        assert_eq!(starts_keyframe("video/VP8", &[0x00, 0x50]), Some(false));
        // Extended descriptor with a 15-bit picture id.
        assert_eq!(
            starts_keyframe("video/VP8", &[0x90, 0x80, 0x81, 0x02, 0x50]),
            Some(true)
        );
        assert_eq!(starts_keyframe("video/H264", &[0x65, 0x88]), Some(true));
        assert_eq!(starts_keyframe("video/H264", &[0x7c, 0x85]), Some(true));
        assert_eq!(starts_keyframe("video/H264", &[0x7c, 0x05]), Some(false));
        assert_eq!(
            starts_keyframe("video/H264", &[0x78, 0x00, 0x02, 0x67, 0x42]),
            Some(true)
        );
        assert_eq!(starts_keyframe("video/H264", &[0x41, 0x9a]), Some(false));
        assert_eq!(starts_keyframe("audio/opus", &[0x00]), None);
        assert_eq!(starts_keyframe("video/VP8", &[]), Some(false));
    }
}

//! Reads what was negotiated out of SDP text: payload types and header-extension ids per
//! media section. Pure; the engine maps each viewer's leg with it.

use crate::TrackKind;

/// One codec line of a media section (`a=rtpmap` plus its `a=fmtp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NegotiatedCodec {
    pub payload_type: u8,
    /// `video/VP8`, `audio/opus`: the kind, a slash, the encoding name as written.
    pub mime_type: String,
    pub clock_rate: u32,
    pub fmtp: String,
}

/// What one `m=audio` or `m=video` section negotiated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MediaSection {
    pub kind: Option<TrackKind>,
    pub codecs: Vec<NegotiatedCodec>,
    /// `(id, uri)` from `a=extmap`.
    pub extensions: Vec<(u8, String)>,
    /// Payload types in the `m=` line's order: the first is the one in use (RFC 3264 §6.1).
    pub formats: Vec<u8>,
}

/// Splits SDP into media sections; sessions-level lines are ignored.
pub(crate) fn media_sections(sdp: &str) -> Vec<MediaSection> {
    let mut sections: Vec<MediaSection> = Vec::new();
    for raw in sdp.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix("m=") {
            let kind = match rest.split(' ').next() {
                Some("audio") => Some(TrackKind::Audio),
                Some("video") => Some(TrackKind::Video),
                _ => None,
            };
            let formats = rest
                .split(' ')
                .skip(3)
                .filter_map(|f| f.trim().parse().ok())
                .collect();
            sections.push(MediaSection {
                kind,
                formats,
                ..MediaSection::default()
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        let Some(kind) = section.kind else { continue };
        if let Some(rest) = line.strip_prefix("a=rtpmap:") {
            let mut parts = rest.splitn(2, ' ');
            let (Some(pt), Some(encoding)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Ok(payload_type) = pt.trim().parse::<u8>() else {
                continue;
            };
            let mut enc = encoding.trim().split('/');
            let name = enc.next().unwrap_or_default();
            let clock_rate = enc.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            section.codecs.push(NegotiatedCodec {
                payload_type,
                mime_type: format!("{}/{}", kind.as_str(), name),
                clock_rate,
                fmtp: String::new(),
            });
        } else if let Some(rest) = line.strip_prefix("a=fmtp:") {
            let mut parts = rest.splitn(2, ' ');
            let (Some(pt), Some(params)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Ok(payload_type) = pt.trim().parse::<u8>() else {
                continue;
            };
            if let Some(codec) = section
                .codecs
                .iter_mut()
                .find(|c| c.payload_type == payload_type)
            {
                codec.fmtp = params.trim().to_owned();
            }
        } else if let Some(rest) = line.strip_prefix("a=extmap:") {
            let mut parts = rest.split_whitespace();
            let (Some(id), Some(uri)) = (parts.next(), parts.next()) else {
                continue;
            };
            // `id/direction` is allowed by RFC 8285.
            let id = id.split('/').next().unwrap_or_default();
            if let Ok(id) = id.parse::<u8>() {
                section.extensions.push((id, uri.to_owned()));
            }
        }
    }
    sections
}

/// The first section of this kind.
pub(crate) fn section_of(sections: &[MediaSection], kind: TrackKind) -> Option<&MediaSection> {
    sections.iter().find(|s| s.kind == Some(kind))
}

/// The value of one `key=value` parameter in an fmtp line.
pub(crate) fn fmtp_param<'a>(fmtp: &'a str, key: &str) -> Option<&'a str> {
    fmtp.split(';').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then_some(v.trim())
    })
}

/// Picks the viewer's payload type for a codec the source sends: same encoding and clock, and
/// for H.264 the same packetization mode (a decoder cannot reassemble FU-A in mode 0), preferring
/// the same profile.
pub(crate) fn matching_payload_type(
    viewer: &[NegotiatedCodec],
    mime_type: &str,
    clock_rate: u32,
    fmtp: &str,
) -> Option<u8> {
    let candidates = viewer
        .iter()
        .filter(|c| c.mime_type.eq_ignore_ascii_case(mime_type) && c.clock_rate == clock_rate);
    if !mime_type.eq_ignore_ascii_case("video/H264") {
        return candidates.map(|c| c.payload_type).next();
    }
    let mode = fmtp_param(fmtp, "packetization-mode").unwrap_or("0");
    let profile = fmtp_param(fmtp, "profile-level-id").map(|p| p.get(..4).unwrap_or(p));
    let same_mode: Vec<&NegotiatedCodec> = candidates
        .filter(|c| fmtp_param(&c.fmtp, "packetization-mode").unwrap_or("0") == mode)
        .collect();
    same_mode
        .iter()
        .find(|c| {
            let theirs = fmtp_param(&c.fmtp, "profile-level-id").map(|p| p.get(..4).unwrap_or(p));
            profile.is_some()
                && theirs.map(str::to_ascii_lowercase) == profile.map(str::to_ascii_lowercase)
        })
        .or_else(|| same_mode.first())
        .map(|c| c.payload_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBS_LIKE: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
a=extmap:13/sendonly urn:3gpp:video-orientation\r\n\
a=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n\
a=rtpmap:97 H264/90000\r\na=fmtp:97 profile-level-id=42e01f;packetization-mode=0\r\n";

    #[test]
    fn reads_codecs_and_extensions_per_section() {
        let sections = media_sections(OBS_LIKE);
        assert_eq!(sections.len(), 2);
        let audio = section_of(&sections, TrackKind::Audio).expect("audio");
        assert_eq!(audio.codecs[0].mime_type, "audio/opus");
        assert_eq!(audio.codecs[0].clock_rate, 48000);
        let video = section_of(&sections, TrackKind::Video).expect("video");
        assert_eq!(
            video.extensions,
            vec![
                (4, "urn:ietf:params:rtp-hdrext:sdes:mid".to_owned()),
                (13, "urn:3gpp:video-orientation".to_owned())
            ]
        );
        assert_eq!(
            video.codecs[1].fmtp,
            "profile-level-id=42e01f;packetization-mode=0"
        );
    }

    #[test]
    fn h264_maps_by_packetization_mode() {
        let video = media_sections(OBS_LIKE)
            .into_iter()
            .find(|s| s.kind == Some(TrackKind::Video))
            .expect("video");
        let mode1 = "profile-level-id=42e01f;packetization-mode=1";
        assert_eq!(
            matching_payload_type(&video.codecs, "video/H264", 90000, mode1),
            Some(96)
        );
        let mode0 = "profile-level-id=42e01f";
        assert_eq!(
            matching_payload_type(&video.codecs, "video/H264", 90000, mode0),
            Some(97)
        );
        assert_eq!(
            matching_payload_type(&video.codecs, "video/VP8", 90000, ""),
            None
        );
    }
}

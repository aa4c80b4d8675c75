//! The engine's one error type.

/// Why the media engine refused or failed an operation.
///
/// Each variant has a stable [`code`](MediaError::code) for the HTTP and IPC layers, so that a
/// UI never matches message strings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// A publisher is already live and the caller did not ask to replace it (HTTP 409).
    #[error("a publisher is already live; publish with replace to take over")]
    PublisherExists,
    /// The SDP offer is larger than the engine accepts (HTTP 413).
    #[error("the SDP offer is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Size of the offer in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The SDP offer could not be parsed or has nothing the engine can use (HTTP 400).
    #[error("malformed SDP: {0}")]
    BadSdp(String),
    /// The offer is well formed but shares no codec with the engine (HTTP 422 / 406).
    #[error("no supported codec in the offer: {0}")]
    UnsupportedCodec(String),
    /// No publisher or viewer session has this id (HTTP 404).
    #[error("no session {0}")]
    UnknownSession(String),
    /// A trickled ICE candidate was rejected (HTTP 400).
    #[error("bad ICE candidate: {0}")]
    BadCandidate(String),
    /// The test card files could not be read or parsed.
    #[error("test card: {0}")]
    TestCard(String),
    /// The WebRTC stack failed while negotiating (HTTP 500).
    #[error("webrtc: {0}")]
    WebRtc(String),
    /// The relay's URL is not an http(s) URL the relay can use (HTTP 400).
    #[error("relay URL: {0}")]
    BadRelayUrl(String),
    /// The relay's URL names this machine or a private network, and private addresses were not
    /// allowed for it (HTTP 400).
    #[error("relay URL: {0}")]
    PrivateAddress(String),
    /// The relay's bearer token cannot go in an HTTP header (HTTP 400).
    #[error("relay token: {0}")]
    BadRelayToken(String),
    /// A locally encoded frame came while the local source is not the source.
    #[error("the window's camera is not the broadcast's source now")]
    NoLocalSource,
    /// A locally encoded frame was refused (its code, and why); nothing of it was sent.
    #[error("{1}")]
    BadFrame(&'static str, String),
}

impl MediaError {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::PublisherExists => "publisher_exists",
            MediaError::TooLarge { .. } => "sdp_too_large",
            MediaError::BadSdp(_) => "bad_sdp",
            MediaError::UnsupportedCodec(_) => "unsupported_codec",
            MediaError::UnknownSession(_) => "unknown_session",
            MediaError::BadCandidate(_) => "bad_candidate",
            MediaError::TestCard(_) => "test_card",
            MediaError::WebRtc(_) => "webrtc",
            MediaError::BadRelayUrl(_) => "relay_bad_url",
            MediaError::PrivateAddress(_) => "private_address",
            MediaError::BadRelayToken(_) => "relay_bad_token",
            MediaError::NoLocalSource => "no_local_source",
            MediaError::BadFrame(code, _) => code,
        }
    }

    pub(crate) fn webrtc(context: &str, err: impl std::fmt::Display) -> Self {
        MediaError::WebRtc(format!("{context}: {err}"))
    }
}

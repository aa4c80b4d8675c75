//! The relay: the live source pushed by WHIP (RFC 9725) to an external server (Galène, LiveKit
//! ingress, Cloudflare, Broadcast Box, another Lectern) so that its SFU does the fan-out.
//!
//! The relay is a viewer leg that makes the offer instead of answering one: a send-only peer
//! connection fed from the fan-out through its own bounded queue (a slow relay never delays
//! viewers), mapped to the payload types and extension ids the remote answered. Its offer is
//! POSTed as `application/sdp` with `Authorization: Bearer`; `201` + `Location` + the answer
//! bring it up; stopping DELETEs the `Location`. Any failure (HTTP, ICE/DTLS, a lost
//! connection) is retried after 1 s, 2 s, 4 s ... up to 30 s; each (re)connection asks the
//! source for a keyframe.

use crate::engine::{Inner, Leg, ViewerCounters, lock};
use crate::{MediaEngine, MediaError};
use serde::Serialize;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

/// At most 3 redirects, each to the same origin as the address it left: a server elsewhere
/// (another site, an address on the school's network) is never asked on the studio's behalf.
pub fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .last()
            .is_some_and(|from| from.origin() == attempt.url().origin());
        if attempt.previous().len() > 3 || !same {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// The longest relay URL accepted.
pub const MAX_RELAY_URL: usize = 2048;
/// The largest SDP answer read from the remote.
pub const MAX_RELAY_ANSWER: usize = 64 * 1024;
/// The longest bearer token accepted.
const MAX_TOKEN: usize = 4096;
/// The shortest wait between attempts, whatever the config says.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// How long `stop_relay` waits for the DELETE before giving up on it.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to relay. Build it with [`RelayConfig::new`] or a struct literal with
/// `..Default::default()`; the defaults are the production timings.
#[derive(Clone)]
pub struct RelayConfig {
    /// The remote's WHIP endpoint, `http://` or `https://`, at most [`MAX_RELAY_URL`]
    /// characters, without `user:password@` (put credentials in the token).
    pub url: String,
    /// Sent as `Authorization: Bearer <token>`; never logged nor shown in status.
    pub bearer_token: Option<String>,
    /// The wait after the first failure (at least 100 ms); doubled after each further one.
    pub initial_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// Give up (state [`RelayState::Failed`]) after this many failures in a row; `None`
    /// retries for as long as the relay is started.
    pub max_attempts: Option<u32>,
    /// Each HTTP request (POST, DELETE) is abandoned after this long.
    pub http_timeout: Duration,
    /// ICE and DTLS must be up this long after the answer, else the attempt failed.
    pub connect_timeout: Duration,
    /// A connection that stays `disconnected` this long is treated as lost.
    pub disconnected_grace: Duration,
    /// The server may be on this machine or a private network (the instructor said so): off by
    /// default, so a URL or a name that points inside is refused (see [`crate::outbound`]).
    pub allow_private: bool,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            bearer_token: None,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_attempts: None,
            http_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(15),
            disconnected_grace: Duration::from_secs(5),
            allow_private: false,
        }
    }
}

impl RelayConfig {
    /// A relay to `url` without a token, with the default timings.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// The same with a bearer token.
    #[must_use]
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// The same, allowed to reach this machine or a private network.
    pub fn allowing_private(mut self) -> Self {
        self.allow_private = true;
        self
    }
}

impl fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayConfig")
            .field("url", &display_url_str(&self.url))
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// Where the relay is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayState {
    /// Offering, waiting for the remote's answer, or for ICE/DTLS.
    Connecting,
    /// Media flows to the remote.
    Live,
    /// An attempt failed; the next one starts after [`RelayStatus::backoff_ms`].
    Retrying,
    /// Gave up after [`RelayConfig::max_attempts`] failures; stop or restart it.
    Failed,
}

/// Why the last attempt failed; serialized as the stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum RelayErrorCode {
    /// The remote answered 401: the bearer token is missing or wrong.
    #[serde(rename = "relay_unauthorized")]
    Unauthorized,
    /// The remote answered another 4xx (e.g. 403, 404, 409 a stream already live).
    #[serde(rename = "relay_refused")]
    Refused,
    /// A network error, a timeout, or a 5xx.
    #[serde(rename = "relay_unreachable")]
    Unreachable,
    /// The remote answered but not with `201` and a usable SDP answer of at most 64 KiB.
    #[serde(rename = "relay_bad_answer")]
    BadAnswer,
    /// ICE or DTLS did not come up (or the local WebRTC stack failed).
    #[serde(rename = "relay_connect_failed")]
    ConnectFailed,
    /// The connection was up and then failed, closed, or stayed disconnected.
    #[serde(rename = "relay_connection_lost")]
    ConnectionLost,
}

impl RelayErrorCode {
    /// The stable code, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayErrorCode::Unauthorized => "relay_unauthorized",
            RelayErrorCode::Refused => "relay_refused",
            RelayErrorCode::Unreachable => "relay_unreachable",
            RelayErrorCode::BadAnswer => "relay_bad_answer",
            RelayErrorCode::ConnectFailed => "relay_connect_failed",
            RelayErrorCode::ConnectionLost => "relay_connection_lost",
        }
    }
}

impl fmt::Display for RelayErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last failure: its code, the HTTP status if there was one, and a message for people
/// (never the token; the URL only as [`RelayStatus::url`] shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelayError {
    /// Stable code.
    pub code: RelayErrorCode,
    /// The remote's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// What happened.
    pub message: String,
}

/// The relay in [`crate::EngineStatus::relay`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelayStatus {
    /// The endpoint without its query string or fragment (user info is refused at start).
    pub url: String,
    /// Connecting, live, retrying or failed.
    pub state: RelayState,
    /// When the current state began, in milliseconds since the Unix epoch.
    pub since_unix_ms: u64,
    /// Failed attempts in a row (0 once live).
    pub attempts: u32,
    /// How many times the relay went live since it was started.
    pub connects: u32,
    /// While retrying: the wait before the next attempt, in milliseconds.
    pub backoff_ms: Option<u64>,
    /// The latest failure, kept after the relay recovers.
    pub last_error: Option<RelayError>,
    /// RTP packets handed to the relay's connection (all sessions).
    pub packets_forwarded: u64,
    /// RTP packets the relay lost (its queue full, or refused by its connection).
    pub packets_dropped: u64,
    /// RTP bytes (before SRTP) sent to the remote (all sessions).
    pub bytes_sent: u64,
    /// Bit/s over the last interval of at least 1 s between `status()` calls (0 when not live).
    pub bitrate_bps: u64,
}

/// The wait before attempt `failures + 1`: `initial * 2^(failures - 1)`, at most `max`.
pub fn relay_backoff(failures: u32, initial: Duration, max: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    initial.saturating_mul(1u32 << doublings).min(max)
}

/// The running relay, held by the engine.
pub(crate) struct RelayHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    progress: Arc<Mutex<Progress>>,
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        // The engine went away without `stop_relay`: no DELETE, but no task left behind.
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// What status shows; written by the relay task.
struct Progress {
    url: String,
    state: RelayState,
    since_unix_ms: u64,
    attempts: u32,
    connects: u32,
    backoff_ms: Option<u64>,
    last_error: Option<RelayError>,
    /// Totals of finished sessions.
    forwarded_before: u64,
    dropped_before: u64,
    bytes_before: u64,
    /// The session in progress.
    current: Option<Arc<ViewerCounters>>,
}

impl Progress {
    fn enter(&mut self, state: RelayState) {
        if self.state != state {
            self.state = state;
            self.since_unix_ms = unix_ms();
        }
    }

    fn end_session(&mut self) {
        if let Some(c) = self.current.take() {
            self.forwarded_before += c.forwarded.load(Ordering::Relaxed);
            self.dropped_before += c.dropped.load(Ordering::Relaxed);
            self.bytes_before += c.bytes_sent.load(Ordering::Relaxed);
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

pub(crate) fn relay_status(inner: &Inner, now: Instant) -> Option<RelayStatus> {
    let progress = lock(&inner.relay).as_ref()?.progress.clone();
    let p = lock(&progress);
    let (forwarded, dropped, bytes, bitrate) = match &p.current {
        Some(c) => (
            c.forwarded.load(Ordering::Relaxed),
            c.dropped.load(Ordering::Relaxed),
            c.bytes_sent.load(Ordering::Relaxed),
            if p.state == RelayState::Live {
                c.bitrate(now)
            } else {
                0
            },
        ),
        None => (0, 0, 0, 0),
    };
    Some(RelayStatus {
        url: p.url.clone(),
        state: p.state,
        since_unix_ms: p.since_unix_ms,
        attempts: p.attempts,
        connects: p.connects,
        backoff_ms: p.backoff_ms,
        last_error: p.last_error.clone(),
        packets_forwarded: p.forwarded_before + forwarded,
        packets_dropped: p.dropped_before + dropped,
        bytes_sent: p.bytes_before + bytes,
        bitrate_bps: bitrate,
    })
}

/// The URL as status shows it: no query string or fragment, which often carry secrets.
fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

fn display_url_str(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| display_url(&u))
        .unwrap_or_else(|_| "<not a URL>".to_owned())
}

fn check_config(config: &RelayConfig) -> Result<reqwest::Url, MediaError> {
    let raw = config.url.trim();
    if raw.len() > MAX_RELAY_URL {
        return Err(MediaError::BadRelayUrl(format!(
            "at most {MAX_RELAY_URL} characters"
        )));
    }
    let url =
        reqwest::Url::parse(raw).map_err(|e| MediaError::BadRelayUrl(format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(MediaError::BadRelayUrl("only http and https URLs".into()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(MediaError::BadRelayUrl("the URL has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(MediaError::BadRelayUrl(
            "put credentials in the bearer token, not in the URL".into(),
        ));
    }
    if !config.allow_private && crate::outbound::names_private_host(&url) {
        return Err(MediaError::PrivateAddress(
            "it is on this machine or a private network: allow private addresses for this server to use it".into(),
        ));
    }
    if let Some(token) = &config.bearer_token
        && (token.is_empty()
            || token.len() > MAX_TOKEN
            || token.chars().any(|c| c.is_control() || c == ' '))
    {
        return Err(MediaError::BadRelayToken(format!(
            "1 to {MAX_TOKEN} printable characters without spaces"
        )));
    }
    Ok(url)
}

impl MediaEngine {
    /// Push the live source by WHIP to an external server, and keep it there: reconnects
    /// with backoff after any failure, until [`MediaEngine::stop_relay`]. A relay already
    /// running is stopped first (its session DELETEd). Progress shows in
    /// [`crate::EngineStatus::relay`].
    ///
    /// The relay sends whatever is live (publisher or test card) with the codecs the source
    /// had when it connected; started with no source, it offers VP8 and Opus and sends once
    /// one goes live.
    ///
    /// # Errors
    /// `BadRelayUrl` (not http(s), too long, no host, user info), `BadRelayToken`. Network
    /// and remote failures are not errors here: they show in status and are retried.
    pub async fn start_relay(&self, mut config: RelayConfig) -> Result<(), MediaError> {
        let url = check_config(&config)?;
        // A zero wait would be a retry storm against someone else's server.
        config.initial_backoff = config.initial_backoff.max(MIN_BACKOFF);
        config.max_backoff = config.max_backoff.max(config.initial_backoff);
        let client = crate::outbound::client_builder(config.allow_private)
            .timeout(config.http_timeout)
            .build()
            .map_err(|e| MediaError::BadRelayUrl(format!("HTTP client: {e}")))?;
        self.stop_relay().await;
        let progress = Arc::new(Mutex::new(Progress {
            url: display_url(&url),
            state: RelayState::Connecting,
            since_unix_ms: unix_ms(),
            attempts: 0,
            connects: 0,
            backoff_ms: None,
            last_error: None,
            forwarded_before: 0,
            dropped_before: 0,
            bytes_before: 0,
            current: None,
        }));
        let (stop, stop_rx) = watch::channel(false);
        tracing::info!(host = url.host_str().unwrap_or_default(), "relay started");
        let task = tokio::spawn(run_relay(
            self.downgrade(),
            Relay {
                url,
                token: config.bearer_token.clone(),
                config,
                client,
                progress: progress.clone(),
            },
            stop_rx,
        ));
        let old = lock(&self.inner().relay).replace(RelayHandle {
            stop,
            task: Some(task),
            progress,
        });
        if let Some(old) = old {
            // Another start raced this one; the later wins.
            finish(old).await;
        }
        Ok(())
    }

    /// Stop the relay, DELETE its session at the remote (waiting at most 5 s), and remove it
    /// from status. Returns whether one was running.
    pub async fn stop_relay(&self) -> bool {
        let handle = lock(&self.inner().relay).take();
        match handle {
            Some(handle) => {
                finish(handle).await;
                true
            }
            None => false,
        }
    }
}

async fn finish(mut handle: RelayHandle) {
    let _ = handle.stop.send(true);
    if let Some(mut task) = handle.task.take()
        && tokio::time::timeout(STOP_TIMEOUT, &mut task).await.is_err()
    {
        task.abort();
    }
}

/// What the relay task owns.
struct Relay {
    url: reqwest::Url,
    token: Option<String>,
    config: RelayConfig,
    client: reqwest::Client,
    progress: Arc<Mutex<Progress>>,
}

/// One attempt's resources, released by [`Relay::teardown`] however the attempt ended.
#[derive(Default)]
struct Session {
    pc: Option<Arc<dyn PeerConnection>>,
    location: Option<reqwest::Url>,
    leg: Option<Leg>,
}

enum Outcome {
    Failed(RelayError),
    Stopped,
}

fn failure(code: RelayErrorCode, http_status: Option<u16>, message: impl Into<String>) -> Outcome {
    Outcome::Failed(RelayError {
        code,
        http_status,
        message: message.into(),
    })
}

async fn run_relay(engine: Weak<Inner>, relay: Relay, mut stop: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    loop {
        lock(&relay.progress).enter(RelayState::Connecting);
        let mut session = Session::default();
        let outcome = tokio::select! {
            biased;
            _ = stop.changed() => Outcome::Stopped,
            outcome = relay.attempt(&engine, &mut session, &mut failures) => outcome,
        };
        relay.teardown(&engine, session).await;
        let error = match outcome {
            Outcome::Stopped => return,
            Outcome::Failed(error) => error,
        };
        failures = failures.saturating_add(1);
        tracing::info!(code = %error.code, failures, "relay attempt failed: {}", error.message);
        let backoff = relay_backoff(
            failures,
            relay.config.initial_backoff,
            relay.config.max_backoff,
        );
        {
            let mut p = lock(&relay.progress);
            p.attempts = failures;
            p.last_error = Some(error);
            if relay.config.max_attempts.is_some_and(|max| failures >= max) {
                p.backoff_ms = None;
                p.enter(RelayState::Failed);
                return;
            }
            p.backoff_ms = Some(u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX));
            p.enter(RelayState::Retrying);
        }
        tokio::select! {
            biased;
            _ = stop.changed() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        lock(&relay.progress).backoff_ms = None;
    }
}

impl Relay {
    /// Offer, POST, connect, then stay live until something fails. Only returns a failure;
    /// stopping is the caller's `select!`.
    async fn attempt(
        &self,
        weak: &Weak<Inner>,
        session: &mut Session,
        failures: &mut u32,
    ) -> Outcome {
        let Some(engine) = weak.upgrade().map(MediaEngine::from_inner) else {
            return Outcome::Stopped;
        };
        let counters = Arc::new(ViewerCounters::new());
        let gathered = Arc::new(Notify::new());
        let (state_tx, mut state_rx) = watch::channel(RTCPeerConnectionState::New);
        let handler = Arc::new(RelayEvents {
            gathered: gathered.clone(),
            counters: counters.clone(),
            state: state_tx,
        });
        let offered = match engine.offer_leg(handler, &gathered).await {
            Ok(offered) => offered,
            Err(err) => return failure(RelayErrorCode::ConnectFailed, None, err.to_string()),
        };
        session.pc = Some(offered.pc.clone());
        let answer = match self.post_offer(&offered.offer, session).await {
            Ok(answer) => answer,
            Err(outcome) => return outcome,
        };
        let description =
            match rtc::peer_connection::sdp::RTCSessionDescription::answer(answer.clone()) {
                Ok(d) => d,
                Err(e) => {
                    return failure(
                        RelayErrorCode::BadAnswer,
                        Some(201),
                        format!("the answer is not SDP: {e}"),
                    );
                }
            };
        if let Err(e) = offered.pc.set_remote_description(description).await {
            return failure(
                RelayErrorCode::BadAnswer,
                Some(201),
                format!("the answer was refused: {e}"),
            );
        }
        session.leg = Some(engine.attach_leg(&offered, &answer, counters.clone()));
        lock(&self.progress).current = Some(counters);
        drop(engine);

        // ICE and DTLS.
        let connected = tokio::time::timeout(self.config.connect_timeout, async {
            loop {
                let state = *state_rx.borrow_and_update();
                match state {
                    RTCPeerConnectionState::Connected => return Ok(()),
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                        return Err(state);
                    }
                    _ => {}
                }
                if state_rx.changed().await.is_err() {
                    return Err(RTCPeerConnectionState::Closed);
                }
            }
        })
        .await;
        match connected {
            Ok(Ok(())) => {}
            Ok(Err(state)) => {
                return failure(
                    RelayErrorCode::ConnectFailed,
                    None,
                    format!("the connection went {state} before it was up"),
                );
            }
            Err(_) => {
                return failure(
                    RelayErrorCode::ConnectFailed,
                    None,
                    format!(
                        "ICE/DTLS not up after {} s",
                        self.config.connect_timeout.as_secs()
                    ),
                );
            }
        }

        // Live.
        *failures = 0;
        {
            let mut p = lock(&self.progress);
            p.attempts = 0;
            p.connects = p.connects.saturating_add(1);
            p.enter(RelayState::Live);
        }
        tracing::info!(host = self.url.host_str().unwrap_or_default(), "relay live");
        if let Some(engine) = weak.upgrade().map(MediaEngine::from_inner) {
            engine.request_keyframe();
        }
        loop {
            let state = *state_rx.borrow_and_update();
            match state {
                RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                    return failure(
                        RelayErrorCode::ConnectionLost,
                        None,
                        format!("the connection went {state}"),
                    );
                }
                RTCPeerConnectionState::Disconnected => {
                    match tokio::time::timeout(self.config.disconnected_grace, state_rx.changed())
                        .await
                    {
                        Ok(Ok(())) => continue,
                        Ok(Err(_)) => {}
                        Err(_) => {
                            return failure(
                                RelayErrorCode::ConnectionLost,
                                None,
                                format!(
                                    "disconnected for {} s",
                                    self.config.disconnected_grace.as_secs()
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
            if state_rx.changed().await.is_err() {
                return failure(RelayErrorCode::ConnectionLost, None, "the connection ended");
            }
        }
    }

    /// POSTs the offer; on `201` remembers the `Location` and returns the answer.
    async fn post_offer(&self, offer: &str, session: &mut Session) -> Result<String, Outcome> {
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/sdp")
            .header(reqwest::header::ACCEPT, "application/sdp")
            .body(offer.to_owned());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let mut response = request.send().await.map_err(|err| {
            failure(
                RelayErrorCode::Unreachable,
                None,
                format!("the server could not be reached: {}", without_url(&err)),
            )
        })?;
        let status = response.status();
        let code = Some(status.as_u16());
        if status != reqwest::StatusCode::CREATED {
            let detail = read_limited(&mut response, 512)
                .await
                .map(|b| printable(&b, 200))
                .unwrap_or_default();
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            };
            let code_for = if status == reqwest::StatusCode::UNAUTHORIZED {
                RelayErrorCode::Unauthorized
            } else if status.is_client_error() {
                RelayErrorCode::Refused
            } else if status.is_server_error() {
                RelayErrorCode::Unreachable
            } else {
                RelayErrorCode::BadAnswer
            };
            return Err(failure(
                code_for,
                code,
                format!("the server answered {status}{detail}"),
            ));
        }
        // Remembered before the body is read, so a bad answer still gets its DELETE.
        session.location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| response.url().join(v).ok())
            // Only on the relay server's own site: a Location elsewhere (another host, an
            // address on the school's network) is never sent a DELETE.
            .filter(|u| u.origin() == self.url.origin());
        if session.location.is_none() {
            tracing::warn!(
                "relay: the 201 had no Location on the relay server's site; the session cannot be deleted"
            );
        }
        let body = read_limited(&mut response, MAX_RELAY_ANSWER)
            .await
            .map_err(|message| failure(RelayErrorCode::BadAnswer, code, message))?;
        String::from_utf8(body)
            .map_err(|_| failure(RelayErrorCode::BadAnswer, code, "the answer is not UTF-8"))
    }

    /// Releases an attempt: out of the fan-out, connection closed, session DELETEd.
    async fn teardown(&self, engine: &Weak<Inner>, session: Session) {
        lock(&self.progress).end_session();
        if let Some(leg) = session.leg
            && let Some(engine) = engine.upgrade().map(MediaEngine::from_inner)
        {
            engine.detach_leg(leg);
        }
        if let Some(pc) = session.pc {
            let _ = pc.close().await;
        }
        if let Some(location) = session.location {
            // The Location is on the offer's origin (checked when it was read): the token goes
            // where the offer went.
            let mut request = self.client.delete(location.clone());
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            match request.send().await {
                Ok(response) => {
                    tracing::debug!(status = %response.status(), "relay session deleted");
                }
                Err(err) => {
                    tracing::debug!("relay DELETE failed: {}", without_url(&err));
                }
            }
        }
    }
}

/// Reads at most `limit` bytes of a body; more is an error.
async fn read_limited(response: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(format!("the answer is over {limit} bytes"));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(format!("the answer is over {limit} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(err) => return Err(format!("the answer broke off: {}", without_url(&err))),
        }
    }
}

/// At most `max` characters of a remote's text, without control characters.
fn printable(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A reqwest error without its URL (the URL may carry a stream key).
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "<relay>");
    }
    text
}

struct RelayEvents {
    gathered: Arc<Notify>,
    counters: Arc<ViewerCounters>,
    state: watch::Sender<RTCPeerConnectionState>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for RelayEvents {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.notify_one();
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(%state, "relay connection");
        // Set here, not in the relay task, so no packet is written before DTLS is up.
        self.counters.connected.store(
            state == RTCPeerConnectionState::Connected,
            Ordering::Release,
        );
        self.state.send_replace(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_thirty() {
        let waits: Vec<u64> = (1..=8)
            .map(|n| relay_backoff(n, Duration::from_secs(1), Duration::from_secs(30)).as_secs())
            .collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(
            relay_backoff(u32::MAX, Duration::from_secs(1), Duration::from_secs(30)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn urls_and_tokens_are_checked_and_secrets_never_shown() {
        let ok = |url: &str| check_config(&RelayConfig::new(url));
        assert!(ok("https://sfu.example/whip/room").is_ok());
        // A server on this machine only when allowed (see `outbound`).
        assert_eq!(
            ok("http://127.0.0.1:8080/whip").unwrap_err().code(),
            "private_address"
        );
        assert!(
            check_config(&RelayConfig::new("http://127.0.0.1:8080/whip").allowing_private())
                .is_ok()
        );
        for bad in [
            "ftp://x/whip",
            "not a url",
            "https://user:pw@sfu.example/whip",
            "file:///etc/passwd",
        ] {
            assert_eq!(ok(bad).unwrap_err().code(), "relay_bad_url", "{bad}");
        }
        let long = format!("https://x/{}", "a".repeat(MAX_RELAY_URL));
        assert_eq!(ok(&long).unwrap_err().code(), "relay_bad_url");
        let bad_token = RelayConfig::new("https://x/whip").with_bearer_token("a\r\nX-Evil: 1");
        assert_eq!(
            check_config(&bad_token).unwrap_err().code(),
            "relay_bad_token"
        );

        let config = RelayConfig::new("https://sfu.example/whip?key=s3cret#frag")
            .with_bearer_token("t0ken-secret");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0ken-secret"),
            "{shown}"
        );
        assert_eq!(display_url_str(&config.url), "https://sfu.example/whip");
    }
}

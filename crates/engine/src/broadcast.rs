//! The studio's broadcast: the media engine, who may publish into it, and what the studio shows
//! about it.
//!
//! The HTTP host turns `/whip` and `/whep` requests into calls on [`Broadcast::media`] after
//! checking the publish key with [`Studio::check_publish_key`]; everything that is a policy
//! (the key, whether a new publisher replaces the live one, the built-in source) lives here.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use lectern_media::{EngineConfig, MediaEngine, SourceKind, TestCard};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::NoArgs;
use crate::{ApiError, ErrorCode, Studio};

/// How the broadcast starts.
#[derive(Debug, Clone)]
pub struct BroadcastOptions {
    /// Bind media to loopback only (the default, and all tests). `false` also binds every
    /// interface, for a studio open to its local network.
    pub loopback_only: bool,
    /// Go live at once with the built-in test card (`lectern serve --demo`).
    pub test_card: bool,
    /// A fixed publish key (`LECTERN_PUBLISH_KEY`, `--publish-key-file`); otherwise the
    /// studio's own (see [`Studio::publish_key`]).
    pub publish_key: Option<String>,
    /// Relay the stream at start to this WHIP endpoint (`--relay`), with this Bearer token.
    pub relay: Option<(String, Option<String>)>,
    /// The relay at start may be on this machine or a private network (`--relay-allow-private`).
    pub relay_allow_private: bool,
    /// The relay server's WHEP URL for viewers (`--relay-playback`).
    pub relay_playback: Option<String>,
    /// STUN/TURN server URLs (`--ice-server`) that this studio's own pages give their peer
    /// connections (the server also offers them to every WHIP/WHEP client in `Link` headers).
    pub ice_servers: Vec<String>,
    /// Fault injection: hold back every Nth video packet's first send to each viewer
    /// (`--simulate-video-loss N`, for diagnostics and the retransmission test).
    pub simulate_video_loss_every: Option<u32>,
    /// Record each class to `<data folder>/recordings/<session id>.webm` while it is live (on
    /// by default; see `recording.rs`).
    pub record_classes: bool,
}

impl Default for BroadcastOptions {
    fn default() -> Self {
        BroadcastOptions {
            loopback_only: true,
            test_card: false,
            publish_key: None,
            relay: None,
            relay_allow_private: false,
            relay_playback: None,
            simulate_video_loss_every: None,
            ice_servers: Vec::new(),
            record_classes: true,
        }
    }
}

/// The broadcast part of a running studio.
pub(crate) struct Broadcast {
    media: MediaEngine,
    replace_publisher: AtomicBool,
    /// The instructor's upload budget in kbit/s (0: none set).
    uplink_kbps: AtomicU32,
    /// The external server's WHEP URL that viewer pages play from while the relay is live.
    playback: std::sync::RwLock<Option<Playback>>,
    /// The studio's own publish key once read or made (see [`Studio::publish_key`]).
    publish_key: tokio::sync::Mutex<Option<String>>,
}

/// The bitrate assumed per viewer before any viewer has been measured (OBS's advice for 720p).
pub const ASSUMED_VIEWER_KBPS: u32 = 2_500;
/// The share of the budget at which the studio warns.
pub const UPLINK_WARNING: f64 = 0.8;

/// Where media binds: loopback only, or every interface plus loopback.
pub(crate) fn media_addrs(loopback_only: bool) -> Vec<String> {
    if loopback_only {
        EngineConfig::loopback().udp_addrs
    } else {
        EngineConfig::default().udp_addrs
    }
}

impl Broadcast {
    pub(crate) fn media(&self) -> &MediaEngine {
        &self.media
    }

    pub(crate) fn new(options: &BroadcastOptions) -> Broadcast {
        let mut config = if options.loopback_only {
            EngineConfig::loopback()
        } else {
            EngineConfig::default()
        };
        config.simulate_video_loss_every = options.simulate_video_loss_every.filter(|&n| n > 1);
        Broadcast {
            media: MediaEngine::new(config),
            replace_publisher: AtomicBool::new(false),
            uplink_kbps: AtomicU32::new(0),
            playback: std::sync::RwLock::new(None),
            publish_key: tokio::sync::Mutex::new(None),
        }
    }

    /// The external WHEP URL viewers are sent to while the relay is live, if one is set.
    pub(crate) fn playback_url(&self) -> Option<String> {
        self.playback().map(|p| p.url)
    }

    fn playback(&self) -> Option<Playback> {
        self.playback.read().ok().and_then(|p| p.clone())
    }

    fn set_playback(&self, playback: Option<Playback>) {
        if let Ok(mut current) = self.playback.write() {
            *current = playback;
        }
    }
}

/// Where viewer pages play from while the relay is live: the URL, and its origin for their CSP
/// (worked out once here, not on every page served).
#[derive(Debug, Clone)]
struct Playback {
    url: String,
    origin: String,
}

impl Playback {
    fn checked(url: &str) -> Result<Playback, ApiError> {
        let parsed = crate::http_url::checked(url, "the viewers' WHEP URL")?;
        Ok(Playback {
            origin: parsed.origin().ascii_serialization(),
            url: parsed.into(),
        })
    }
}

/// What the broadcast screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastStatus {
    /// What feeds the stream: `"publisher"` (WHIP: OBS, a browser), `"test_card"`, or `null`.
    pub source: Option<String>,
    /// The source's codecs, e.g. `["video/VP8", "audio/opus"]`.
    pub codecs: Vec<String>,
    /// Viewers connected or connecting by WHEP.
    pub viewers: u32,
    /// The path publishers post to (`/whip`), to be shown after the studio's URL.
    pub whip_path: String,
    /// The Bearer token a WHIP publisher needs.
    pub publish_key: String,
    /// Whether a new publisher takes over from a live one (otherwise it gets 409).
    pub replace_publisher: bool,
    /// Keyframe requests sent upstream after coalescing.
    pub upstream_keyframe_requests: u64,
    /// What the studio sends to all viewers now, in kbit/s.
    pub outgoing_kbps: u32,
    /// One viewer's bitrate: measured (the average over viewers) or assumed (2,500).
    pub per_viewer_kbps: u32,
    /// Whether `perViewerKbps` was measured.
    pub per_viewer_measured: bool,
    /// The instructor's upload budget (kbit/s), if set.
    pub uplink_kbps: Option<u32>,
    /// About how many direct viewers the budget carries at this bitrate.
    pub direct_viewer_capacity: Option<u32>,
    /// Share of the budget in use (0..), if a budget is set.
    pub uplink_use: Option<f64>,
    /// A warning in words when the budget is 80% used or more.
    pub uplink_warning: Option<String>,
    /// Each viewer's live numbers.
    pub viewer_stats: Vec<ViewerLive>,
    /// The relay to an external server, if one is set.
    pub relay: Option<RelayInfo>,
    /// Whether classes are recorded in this studio (`lectern serve --no-record` turns it off).
    pub record_classes: bool,
    /// The live class's recording, while there is one.
    pub recording: Option<crate::recording::RecordingInfo>,
}

/// The relay as the studio shows it (the URL without its query; never the token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RelayInfo {
    /// Where it pushes.
    pub url: String,
    /// `connecting`, `live`, `retrying` or `failed`.
    pub state: String,
    /// Failures in a row (0 once live).
    pub attempts: u32,
    /// The last failure's code (`relay_unauthorized`, `relay_unreachable`, ...).
    pub last_error: Option<String>,
    /// What it sends now, kbit/s.
    pub kbps: u32,
    /// The external WHEP URL viewer pages play from while the relay is live.
    pub playback_url: Option<String>,
}

/// Start relaying the stream to an external WHIP server (Galène, LiveKit, Cloudflare, another
/// Lectern), or stop it with `url: null`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetRelay {
    /// The server's WHIP URL; `null` stops the relay.
    pub url: Option<String>,
    /// Its Bearer token, if it needs one.
    pub token: Option<String>,
    /// The server's WHEP URL for viewers: while the relay is live, viewer pages that open play
    /// from there instead of from this laptop (the external server does the fan-out).
    #[serde(default)]
    pub playback_url: Option<String>,
    /// The server is on this machine or the school's own network (a private address): without
    /// this, such a URL is refused (`private_address`).
    #[serde(default)]
    #[ts(optional)]
    pub allow_private_address: Option<bool>,
}

/// One viewer's live numbers (pseudonymous session id only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ViewerLive {
    /// The WHEP session.
    pub session: String,
    /// Sent to it now, kbit/s.
    pub kbps: u32,
    /// Video loss it reports, per mille.
    pub loss_permille: u32,
    /// Round-trip time, if measured.
    pub rtt_ms: Option<u32>,
    /// Video packets resent in answer to its NACKs.
    pub resent: u64,
}

/// Broadcast settings the instructor changes.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetBroadcast {
    /// A new publisher replaces the live one instead of being refused.
    pub replace_publisher: Option<bool>,
    /// Loop the built-in test card when no publisher is live (`true`), or stop it.
    pub test_card: Option<bool>,
    /// The upload budget in kbit/s (100 to 10,000,000); 0 removes it.
    pub uplink_kbps: Option<u32>,
}

impl Studio {
    /// The media engine, for the host's WHIP and WHEP endpoints.
    pub fn media(&self) -> &MediaEngine {
        &self.inner.broadcast.media
    }

    /// Whether a new WHIP publisher replaces the live one.
    pub fn replace_publisher(&self) -> bool {
        self.inner
            .broadcast
            .replace_publisher
            .load(Ordering::Relaxed)
    }

    /// The publish key: the one given at start (`LECTERN_PUBLISH_KEY`, `--publish-key-file`),
    /// else the studio's own, a random 128-bit key kept in the data folder's `publish-key` file
    /// (0600; made on first use). It lives outside the school file, so a backup of the school
    /// does not give it away, and [`Studio::rotate_publish_key`] replaces it.
    pub async fn publish_key(&self) -> Result<String, ApiError> {
        if let Some(key) = &self.inner.options.broadcast.publish_key {
            return Ok(key.clone());
        }
        let mut kept = self.inner.broadcast.publish_key.lock().await;
        if let Some(key) = &*kept {
            return Ok(key.clone());
        }
        let path = self.inner.options.data_dir.join(PUBLISH_KEY_FILE);
        let key = match tokio::fs::read_to_string(&path).await {
            Ok(text) if valid_publish_key(text.trim()) => text.trim().to_owned(),
            Ok(_) => {
                return Err(ApiError::new(
                    ErrorCode::Storage,
                    format!(
                        "{} does not hold a publish key (16 to 128 letters, digits, '-', '_' or '.'): rotate the key to replace it",
                        path.display()
                    ),
                ));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let key = new_publish_key()?;
                write_private(&path, &key).await?;
                key
            }
            Err(err) => {
                return Err(ApiError::new(
                    ErrorCode::Storage,
                    format!("reading {}: {err}", path.display()),
                ));
            }
        };
        *kept = Some(key.clone());
        Ok(key)
    }

    /// Replace the studio's publish key with a new random one: publishers with the old key are
    /// refused from now on (one already live goes on until it stops). Refused when the key was
    /// given at start: change it where it was given.
    pub async fn rotate_publish_key(&self, _args: NoArgs) -> Result<BroadcastStatus, ApiError> {
        if self.inner.options.broadcast.publish_key.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "this studio's publish key was given when it started (LECTERN_PUBLISH_KEY or --publish-key-file): change it there",
            ));
        }
        {
            let mut kept = self.inner.broadcast.publish_key.lock().await;
            let key = new_publish_key()?;
            let path = self.inner.options.data_dir.join(PUBLISH_KEY_FILE);
            write_private(&path, &key).await?;
            *kept = Some(key);
        }
        tracing::info!("the publish key was replaced");
        self.broadcast_status(NoArgs {}).await
    }

    /// Check a publisher's Bearer token in constant time.
    ///
    /// # Errors
    /// `unauthorized` for a missing or wrong key; the errors of [`Studio::publish_key`].
    pub async fn check_publish_key(&self, token: Option<&str>) -> Result<(), ApiError> {
        let key = self.publish_key().await?;
        if crate::same_secret(token.unwrap_or("").as_bytes(), key.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Unauthorized,
                "a publisher needs the studio's publish key as a Bearer token",
            ))
        }
    }

    /// Start the built-in source and the relay if the options ask for them.
    pub(crate) async fn start_builtin_source(&self) -> Result<(), ApiError> {
        if self.inner.options.broadcast.test_card {
            self.set_test_card(true).await?;
        }
        if let Some((url, token)) = self.inner.options.broadcast.relay.clone() {
            self.set_relay(SetRelay {
                url: Some(url),
                token,
                playback_url: self.inner.options.broadcast.relay_playback.clone(),
                allow_private_address: Some(self.inner.options.broadcast.relay_allow_private),
            })
            .await?;
        }
        Ok(())
    }

    /// Start, replace or stop the relay.
    pub async fn set_relay(&self, args: SetRelay) -> Result<BroadcastStatus, ApiError> {
        let playback = match (&args.url, args.playback_url.as_deref().map(str::trim)) {
            (Some(_), Some(url)) if !url.is_empty() => Some(Playback::checked(url)?),
            _ => None,
        };
        match args.url {
            Some(url) => {
                let mut config = lectern_media::RelayConfig::new(url.trim());
                config.allow_private = args.allow_private_address.unwrap_or(false);
                if let Some(token) = args.token.filter(|t| !t.trim().is_empty()) {
                    config = config.with_bearer_token(token.trim());
                }
                self.media().start_relay(config).await.map_err(|e| {
                    let code = match e {
                        lectern_media::MediaError::PrivateAddress(_) => ErrorCode::PrivateAddress,
                        _ => ErrorCode::InvalidInput,
                    };
                    ApiError::new(code, format!("{e} ({})", e.code()))
                })?;
                tracing::info!("the relay was started");
            }
            None => {
                self.media().stop_relay().await;
            }
        }
        self.inner.broadcast.set_playback(playback);
        self.broadcast_status(crate::api::NoArgs {}).await
    }

    async fn set_test_card(&self, on: bool) -> Result<(), ApiError> {
        if on {
            let card = TestCard::embedded().map_err(media_error)?;
            self.media()
                .start_test_card(card)
                .await
                .map_err(media_error)?;
        } else {
            self.media().stop_test_card().await;
        }
        Ok(())
    }

    /// Where a viewer page that opens now plays from: the external server's WHEP URL while the
    /// relay is live and one is set, otherwise `None` (this studio's own `/whep`).
    pub fn viewer_playback_url(&self) -> Option<String> {
        let url = self.inner.broadcast.playback_url()?;
        let live = self
            .media()
            .status()
            .relay
            .is_some_and(|r| r.state == lectern_media::RelayState::Live);
        live.then_some(url)
    }

    /// The origin viewer pages may connect to besides their own (for their CSP): the external
    /// WHEP server's, whenever one is set.
    pub fn playback_origin(&self) -> Option<String> {
        self.inner.broadcast.playback().map(|p| p.origin)
    }

    /// The broadcast as the studio shows it.
    pub async fn broadcast_status(
        &self,
        _args: crate::api::NoArgs,
    ) -> Result<BroadcastStatus, ApiError> {
        let status = self.media().status();
        let (source, codecs) = match &status.source {
            Some(source) => {
                let kind = match source.kind {
                    SourceKind::Publisher(_) => "publisher",
                    SourceKind::TestCard => "test_card",
                    SourceKind::Local => "window",
                };
                (Some(kind.to_owned()), source.codecs.clone())
            }
            None => (None, vec![]),
        };
        let viewers = u32::try_from(status.viewers.len()).unwrap_or(u32::MAX);
        let measured: Vec<u64> = status
            .viewers
            .iter()
            .map(|v| v.bitrate_bps)
            .filter(|b| *b > 0)
            .collect();
        let per_viewer_measured = !measured.is_empty();
        let per_viewer_kbps = if per_viewer_measured {
            let avg = measured.iter().sum::<u64>() / measured.len() as u64;
            u32::try_from(avg / 1000).unwrap_or(u32::MAX).max(1)
        } else {
            ASSUMED_VIEWER_KBPS
        };
        let outgoing_kbps = u32::try_from(status.outgoing_bitrate_bps / 1000).unwrap_or(u32::MAX);
        let budget = self.inner.broadcast.uplink_kbps.load(Ordering::Relaxed);
        let uplink_kbps = (budget > 0).then_some(budget);
        let direct_viewer_capacity = uplink_kbps.map(|b| b / per_viewer_kbps);
        let uplink_use = uplink_kbps.map(|b| f64::from(outgoing_kbps) / f64::from(b));
        let uplink_warning = match (uplink_use, direct_viewer_capacity) {
            (Some(used), Some(capacity)) if used >= UPLINK_WARNING => Some(format!(
                "Upload at {:.0}% of your budget: about {capacity} direct viewers fit at this \
                 bitrate. Add a relay for a bigger class; new viewers beyond it wait.",
                used * 100.0
            )),
            _ => None,
        };
        let viewer_stats = status
            .viewers
            .iter()
            .map(|v| ViewerLive {
                session: v.id.to_string(),
                kbps: u32::try_from(v.bitrate_bps / 1000).unwrap_or(u32::MAX),
                loss_permille: v.video_loss_permille,
                rtt_ms: v
                    .rtt_us
                    .map(|us| u32::try_from(us / 1000).unwrap_or(u32::MAX)),
                resent: v.packets_retransmitted,
            })
            .collect();
        let relay = status.relay.as_ref().map(|r| RelayInfo {
            url: r.url.clone(),
            state: serde_json::to_value(r.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            attempts: r.attempts,
            last_error: r.last_error.as_ref().map(|e| e.code.to_string()),
            kbps: u32::try_from(r.bitrate_bps / 1000).unwrap_or(u32::MAX),
            playback_url: self.inner.broadcast.playback_url(),
        });
        Ok(BroadcastStatus {
            relay,
            record_classes: self.inner.options.broadcast.record_classes,
            recording: self.recording_info(),
            source,
            codecs,
            viewers,
            whip_path: "/whip".to_owned(),
            publish_key: self.publish_key().await.unwrap_or_default(),
            replace_publisher: self.replace_publisher(),
            upstream_keyframe_requests: status.upstream_keyframe_requests,
            outgoing_kbps,
            per_viewer_kbps,
            per_viewer_measured,
            uplink_kbps,
            direct_viewer_capacity,
            uplink_use,
            uplink_warning,
            viewer_stats,
        })
    }

    /// May one more viewer connect directly? Beyond the upload budget, new viewers wait (or
    /// watch through the relay); nobody already watching loses quality.
    ///
    /// # Errors
    /// `over_capacity` when the budget is full.
    pub fn admit_viewer(&self) -> Result<(), ApiError> {
        let budget = self.inner.broadcast.uplink_kbps.load(Ordering::Relaxed);
        if budget == 0 {
            return Ok(());
        }
        let status = self.media().status();
        let measured: Vec<u64> = status
            .viewers
            .iter()
            .map(|v| v.bitrate_bps)
            .filter(|b| *b > 0)
            .collect();
        let per_viewer = if measured.is_empty() {
            u64::from(ASSUMED_VIEWER_KBPS)
        } else {
            (measured.iter().sum::<u64>() / measured.len() as u64 / 1000).max(1)
        };
        let wanted = (status.viewers.len() as u64 + 1) * per_viewer;
        if wanted > u64::from(budget) {
            return Err(ApiError::new(
                ErrorCode::OverCapacity,
                format!(
                    "this class is full on the studio's connection ({} viewers at about {per_viewer} kbit/s); try again in a moment",
                    status.viewers.len()
                ),
            ));
        }
        Ok(())
    }

    /// Change broadcast settings; fields left out stay as they are.
    pub async fn set_broadcast(&self, args: SetBroadcast) -> Result<BroadcastStatus, ApiError> {
        if let Some(replace) = args.replace_publisher {
            self.inner
                .broadcast
                .replace_publisher
                .store(replace, Ordering::Relaxed);
        }
        if let Some(kbps) = args.uplink_kbps {
            if kbps != 0 && !(100..=10_000_000).contains(&kbps) {
                return Err(ApiError::invalid(
                    "an upload budget is 100 to 10,000,000 kbit/s (0 removes it)",
                ));
            }
            self.inner
                .broadcast
                .uplink_kbps
                .store(kbps, Ordering::Relaxed);
        }
        if let Some(on) = args.test_card {
            self.set_test_card(on).await?;
        }
        self.broadcast_status(crate::api::NoArgs {}).await
    }
}

/// The studio's own publish key, in its data folder.
const PUBLISH_KEY_FILE: &str = "publish-key";

/// Whether `key` can be a publish key: 16 to 128 letters, digits, `-`, `_` or `.` (it goes in
/// an `Authorization` header and in OBS's settings).
pub fn valid_publish_key(key: &str) -> bool {
    (16..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn new_publish_key() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::internal(format!("the system's random source failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Write `text` to `path` readable by its owner only, whole or not at all (a temporary file
/// renamed over it).
async fn write_private(path: &std::path::Path, text: &str) -> Result<(), ApiError> {
    let path = path.to_owned();
    let text = text.to_owned();
    let storage = |e: std::io::Error, what: &std::path::Path| {
        ApiError::new(
            ErrorCode::Storage,
            format!("writing {}: {e}", what.display()),
        )
    };
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let temp = path.with_extension("new");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp).map_err(|e| storage(e, &temp))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| storage(e, &temp))?;
        std::fs::rename(&temp, &path).map_err(|e| storage(e, &path))
    })
    .await
    .map_err(|e| ApiError::internal(format!("writing a key: {e}")))?
}

/// A media engine failure as an API error (the HTTP host maps media codes itself).
fn media_error(err: lectern_media::MediaError) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("{} ({})", err, err.code()))
}

//! Past classes' recordings and their replay: listing and deleting a session's recording, the
//! school's retention of recordings, the replay's timeline (what a student saw live, at its
//! offset into the video) and what students do while watching a replay.
//!
//! The timeline is the class's event log filtered exactly as live for a student
//! ([`lectern_room::Audience::includes`] with [`Role::Viewer`] and an id no student has: nothing
//! for staff, nothing held or pending, nobody's own card), with deletions applied from later
//! events: a deleted message never appears. An offer is shown as the card a replay shows
//! ([`lectern_room::replay_card`]: no viewer's reference in the checkout link).
//!
//! Reactions and questions sent during a replay are stored in their own table
//! (`lectern_store::ReplayEvent`), never in the event log: engagement, experiments and reports
//! read the log only, so a replay never changes a live class's numbers.
//!
//! Not yet (unfinished): a class resumed after a crash has several files (`12.webm`,
//! `12-2.webm`): all are listed, downloadable and deleted together, but the replay plays the
//! first one only; replay offer exposures and clicks are not recorded (they would need their
//! own experiment context); replay questions are listed on the session page but cannot be
//! answered back to the student; the replay's numbers (reactions, questions) are not in the
//! class report.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use lectern_room::{Event, OfferCard, Reaction, Recorded, Role, ViewerId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::NoArgs;
use crate::engagement::SessionRef;
use crate::recording::recordings_dir;
use crate::studio::now_ms;
use crate::{ApiError, ErrorCode, Studio};

const RETENTION_SETTING: &str = "recording_retention_days";
const DAY_MS: i64 = 86_400_000;
/// The longest question a student may ask during a replay, in characters.
pub const MAX_REPLAY_QUESTION_CHARS: usize = 500;

/// One file of a session's recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecordingFile {
    /// Its name in the recordings folder (`12.webm`, `12-2.webm` for a resumed class).
    pub name: String,
    /// Where it is on this computer.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its duration, once finalized (null while it is written or when it cannot be read).
    pub duration_ms: Option<u64>,
    /// When it started (Unix ms), when known.
    pub started_at_ms: Option<i64>,
    /// Where the server serves it (`/recordings/12.webm`): only a finalized recording of an
    /// ended class is served.
    pub url: String,
}

/// A session's recording and what students did while watching its replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecording {
    /// The session.
    pub session_id: i64,
    /// Its files, oldest first; empty when it was not recorded or the recording was deleted.
    pub files: Vec<RecordingFile>,
    /// True when the replay page can play it: the class has ended and its first file is
    /// finalized.
    pub replay_ready: bool,
    /// The replay page's path (`/replay/12`), to be joined to the studio's address.
    pub replay_path: String,
    /// Reactions students sent while watching the replay (never counted in the live class).
    pub replay_reactions: u64,
    /// Questions students asked while watching the replay.
    pub replay_questions: u64,
    /// Those questions, by their moment in the recording (for the instructor to answer).
    pub questions: Vec<ReplayQuestion>,
    /// Who watched the replay, for how long, and the offers it showed them.
    pub replay: ReplayNumbers,
}

/// A question asked during a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplayQuestion {
    /// Where in the recording (ms).
    pub offset_ms: i64,
    /// When it was asked (Unix ms).
    pub at_ms: i64,
    /// The asker (pseudonymous).
    pub viewer: String,
    /// The question.
    pub text: String,
}

/// How long recordings are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordingRetention {
    /// Days (1 to 3650) after a recording started; `null` keeps recordings until deleted.
    pub days: Option<u32>,
}

/// The retention of recordings and what applying it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRetentionApplied {
    /// The setting.
    pub days: Option<u32>,
    /// Recording files deleted now.
    pub deleted: u64,
}

/// One moment of a replay: what a student saw live, at its offset into the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ReplayItem {
    /// A room event every student received live.
    Room {
        /// Milliseconds from the recording's start (0 for what came before it).
        offset_ms: i64,
        /// Its number in the class's log.
        seq: i64,
        /// The record (its client id left out).
        record: Recorded,
    },
    /// An offer went live: the card as the replay shows it, until its `offer_withdrawn`.
    Offer {
        /// Milliseconds from the recording's start.
        offset_ms: i64,
        /// Its number in the class's log.
        seq: i64,
        /// The card.
        card: OfferCard,
    },
}

/// The recording a replay plays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplayVideo {
    /// Where to fetch it (`/recordings/12.webm`).
    pub url: String,
    /// Its duration.
    pub duration_ms: u64,
    /// When it started (Unix ms).
    pub started_at_ms: i64,
}

/// Everything the replay page shows beside the video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Replay {
    /// The session.
    pub session_id: i64,
    /// The class's title.
    pub title: String,
    /// The school's name.
    pub school_name: String,
    /// When the class started (Unix ms).
    pub started_at_ms: i64,
    /// When it ended (Unix ms).
    pub ended_at_ms: i64,
    /// The video, or null when the class was not recorded (or its recording was deleted).
    pub video: Option<ReplayVideo>,
    /// The timeline, in log order.
    pub items: Vec<ReplayItem>,
}

/// What a student does while watching a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplayActionKind {
    /// A reaction.
    Reaction {
        /// Which.
        reaction: Reaction,
    },
    /// A question for the instructor.
    Question {
        /// The text (1 to [`MAX_REPLAY_QUESTION_CHARS`] characters).
        text: String,
    },
    /// A stretch of the recording played: the page sends one every 15 s of playback and when
    /// it pauses or closes.
    Watch {
        /// How long, 1 to [`MAX_WATCH_STRETCH_MS`] ms.
        watched_ms: u32,
    },
    /// The replay showed an offer's card.
    OfferSeen {
        /// The offer.
        offer: lectern_room::OfferId,
        /// The variant shown.
        variant: u8,
    },
    /// The card's button was clicked in the replay.
    OfferClick {
        /// The offer.
        offer: lectern_room::OfferId,
        /// The variant shown.
        variant: u8,
    },
}

/// The longest stretch of playing one `watch` action reports.
pub const MAX_WATCH_STRETCH_MS: u32 = 60_000;

/// How the replay was watched, apart from the live class: distinct viewers, time watched, and
/// each offer's card seen and clicked in the replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplayNumbers {
    /// Students who did anything in the replay (watched, reacted, asked, saw an offer).
    pub viewers: u64,
    /// Time watched, ms, each viewer counted up to the recording's length.
    pub watched_ms: u64,
    /// Per offer and variant shown in the replay (offers the class pushed only).
    pub offers: Vec<ReplayOfferNumbers>,
}

/// One offer's variant in the replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplayOfferNumbers {
    /// The offer.
    pub offer: String,
    /// Its variant's index and name.
    pub variant: u8,
    /// The variant's name.
    pub variant_name: String,
    /// The card's title.
    pub title: String,
    /// Viewers who saw it in the replay.
    pub seen: u64,
    /// Viewers who clicked it in the replay.
    pub clicked: u64,
}

/// The replay's numbers from its events. `duration_ms` caps each viewer's watch time (a page
/// that sends too much counts for one full viewing); `pushed` names the offers the class showed
/// (offer id -> variant names and title): a card the class never pushed is not counted. Pure.
pub fn replay_numbers(
    events: &[lectern_store::ReplayEvent],
    duration_ms: Option<u64>,
    pushed: &std::collections::BTreeMap<String, (String, Vec<String>)>,
) -> ReplayNumbers {
    use std::collections::{BTreeMap, BTreeSet};
    let mut viewers = BTreeSet::new();
    let mut watched: BTreeMap<&str, u64> = BTreeMap::new();
    let mut seen: BTreeMap<(String, u8), BTreeSet<&str>> = BTreeMap::new();
    let mut clicked: BTreeMap<(String, u8), BTreeSet<&str>> = BTreeMap::new();
    for event in events {
        viewers.insert(event.viewer.as_str());
        match event.kind.as_str() {
            "watch" => {
                let ms = event.payload["watched_ms"].as_u64().unwrap_or(0);
                *watched.entry(event.viewer.as_str()).or_default() +=
                    ms.min(u64::from(MAX_WATCH_STRETCH_MS));
            }
            kind @ ("offer_seen" | "offer_click") => {
                let offer = event.payload["offer"].as_str().unwrap_or_default();
                let variant = event.payload["variant"]
                    .as_u64()
                    .and_then(|v| u8::try_from(v).ok());
                let Some(variant) = variant else { continue };
                let known = pushed
                    .get(offer)
                    .is_some_and(|(_, names)| usize::from(variant) < names.len());
                if !known {
                    continue;
                }
                let counted = if kind == "offer_seen" {
                    &mut seen
                } else {
                    &mut clicked
                };
                counted
                    .entry((offer.to_owned(), variant))
                    .or_default()
                    .insert(event.viewer.as_str());
            }
            _ => {}
        }
    }
    let cap = duration_ms.unwrap_or(u64::MAX);
    let keys: BTreeSet<&(String, u8)> = seen.keys().chain(clicked.keys()).collect();
    ReplayNumbers {
        viewers: viewers.len() as u64,
        watched_ms: watched.values().map(|ms| (*ms).min(cap)).sum(),
        offers: keys
            .into_iter()
            .map(|key| {
                let (title, names) = &pushed[&key.0];
                // A click counts as having seen the card too.
                let seen_by: BTreeSet<&str> = seen
                    .get(key)
                    .into_iter()
                    .chain(clicked.get(key))
                    .flatten()
                    .copied()
                    .collect();
                ReplayOfferNumbers {
                    offer: key.0.clone(),
                    variant: key.1,
                    variant_name: names[usize::from(key.1)].clone(),
                    title: title.clone(),
                    seen: seen_by.len() as u64,
                    clicked: clicked.get(key).map_or(0, |c| c.len() as u64),
                }
            })
            .collect(),
    }
}

/// A student's action during a replay (`POST /api/v1/replay/{session}/action`).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayAction {
    /// The student's browser key, if they have one; a new one is issued otherwise.
    #[serde(default)]
    pub browser_key: Option<String>,
    /// The action's unique id (8 to 64 characters): a retry is stored once.
    pub client_id: String,
    /// Where in the recording (ms).
    pub offset_ms: i64,
    /// What.
    pub action: ReplayActionKind,
}

/// A replay action's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplayActionDone {
    /// A browser key issued now (keep it), when the action came without a valid one.
    pub browser_key: Option<String>,
    /// False when this client id was already stored (a retry).
    pub stored: bool,
}

/// The session a recording file belongs to: `12.webm` and `12-2.webm` are session 12's.
/// The session a recording file belongs to (`12.webm`, `12-2.webm` -> 12).
pub fn session_of(name: &str) -> Option<i64> {
    let stem = name.strip_suffix(".webm")?;
    let (id, part) = stem.split_once('-').unwrap_or((stem, "2"));
    let digits = |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(id) || !digits(part) {
        return None;
    }
    id.parse().ok()
}

/// The files of a session in the folder, oldest first (`12.webm`, `12-2.webm`, ...).
fn session_files(folder: &Path, session_id: i64) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return vec![];
    };
    let mut files: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if session_of(&name)? != session_id {
                return None;
            }
            let stem = name.strip_suffix(".webm")?;
            let part = stem
                .split_once('-')
                .map_or(Some(1), |(_, n)| n.parse().ok())?;
            Some((part, e.path()))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// Whether a record may be seen by a student, exactly as live: a student with an id nobody
/// has, so nothing for staff and nobody's own (held, pending, their card).
fn seen_by_students(record: &Recorded) -> bool {
    record
        .event
        .audience()
        .includes(Role::Viewer, &ViewerId(String::from("replay")))
}

/// The timeline of a class from its log: what students saw, deleted messages left out.
pub fn replay_items(records: &[(i64, Recorded)], recording_started_at_ms: i64) -> Vec<ReplayItem> {
    let deleted: HashSet<_> = records
        .iter()
        .filter_map(|(_, r)| match &r.event {
            Event::MessageDeleted { message } => Some(*message),
            _ => None,
        })
        .collect();
    let offset =
        |r: &Recorded| (i64::try_from(r.at.0).unwrap_or(i64::MAX) - recording_started_at_ms).max(0);
    let mut items = vec![];
    for (seq, record) in records {
        let offset_ms = offset(record);
        if let Event::OfferPushed { offer } = &record.event {
            let variant = offer.session_variant.map_or(0, usize::from);
            if let Some(card) = lectern_room::replay_card(&offer.spec, variant) {
                items.push(ReplayItem::Offer {
                    offset_ms,
                    seq: *seq,
                    card,
                });
            }
            continue;
        }
        if !seen_by_students(record) {
            continue;
        }
        let shows_deleted = match &record.event {
            Event::ChatSent { message }
            | Event::HoldApproved { message }
            | Event::MessagePinned { message } => deleted.contains(&message.id),
            // The deletion itself names only a number; nothing of the message is left to show.
            Event::MessageDeleted { .. } => true,
            _ => false,
        };
        if shows_deleted {
            continue;
        }
        let mut record = record.clone();
        record.client_id = None;
        items.push(ReplayItem::Room {
            offset_ms,
            seq: *seq,
            record,
        });
    }
    items
}

impl Studio {
    /// The key of a class's replay link (`/replay/12#r=KEY`): an HMAC of the session id with
    /// the school's install secret. Session ids are consecutive, so without it anyone who can
    /// reach the studio could read every past class; with it, only those given the link.
    pub async fn replay_key(&self, session_id: i64) -> Result<String, ApiError> {
        let secret = self.store().await?.install_secret().await?;
        crate::studio::keyed_hex(
            secret.expose(),
            b"lectern-replay-v1:",
            session_id.to_string().as_bytes(),
            16,
        )
    }

    /// Whether `given` is the key of `session_id`'s replay; `not_found` (as for a class with
    /// no replay) when it is missing or wrong, so the answer does not tell which classes exist.
    pub async fn check_replay_key(
        &self,
        session_id: i64,
        given: Option<&str>,
    ) -> Result<(), ApiError> {
        let expected = self.replay_key(session_id).await?;
        match given {
            Some(given) if crate::studio::same_secret(given.as_bytes(), expected.as_bytes()) => {
                Ok(())
            }
            _ => Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no replay of session {session_id} (the replay link is incomplete)"),
            )),
        }
    }

    /// A session's recording: its files, sizes, durations, and the replay's numbers.
    pub async fn session_recording(&self, args: SessionRef) -> Result<SessionRecording, ApiError> {
        let store = self.store().await?;
        let session_id = args.session_id;
        let key = self.replay_key(session_id).await?;
        let file_key = key.clone();
        let ended = self.session_ended(session_id).await?;
        let starts = store.recordings(session_id).await?;
        let folder = recordings_dir(self.data_dir());
        let files = tokio::task::spawn_blocking(move || {
            session_files(&folder, session_id)
                .into_iter()
                .map(|path| {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                    RecordingFile {
                        started_at_ms: starts
                            .iter()
                            .find(|s| s.file == name)
                            .map(|s| s.started_at_ms),
                        url: format!("/recordings/{name}?r={file_key}"),
                        duration_ms: lectern_media::finalized_duration_ms(&path),
                        path: path.display().to_string(),
                        bytes,
                        name,
                    }
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|_| ApiError::internal("listing the recordings was cancelled"))?;
        let replay_ready = ended && files.first().is_some_and(|f| f.duration_ms.is_some());
        let events = store.replay_events(session_id).await?;
        let pushed = self.pushed_offers(session_id).await?;
        let numbers = replay_numbers(&events, files.first().and_then(|f| f.duration_ms), &pushed);
        Ok(SessionRecording {
            replay: numbers,
            session_id,
            replay_ready,
            replay_path: format!("/replay/{session_id}#r={key}"),
            replay_reactions: events.iter().filter(|e| e.kind == "reaction").count() as u64,
            replay_questions: events.iter().filter(|e| e.kind == "question").count() as u64,
            questions: events
                .iter()
                .filter(|e| e.kind == "question")
                .map(|e| ReplayQuestion {
                    offset_ms: e.offset_ms,
                    at_ms: e.at_ms,
                    viewer: e.viewer.clone(),
                    text: e.payload["text"].as_str().unwrap_or_default().to_owned(),
                })
                .collect(),
            files,
        })
    }

    /// The replay's numbers for the class report, once anyone watched it.
    pub(crate) async fn replay_report(
        &self,
        session_id: i64,
    ) -> Result<Option<lectern_insights::engagement::ReportReplay>, ApiError> {
        let recording = self.session_recording(SessionRef { session_id }).await?;
        if recording.replay.viewers == 0 {
            return Ok(None);
        }
        Ok(Some(lectern_insights::engagement::ReportReplay {
            viewers: recording.replay.viewers,
            watched_ms: recording.replay.watched_ms,
            reactions: recording.replay_reactions,
            questions: recording.replay_questions,
            offers: recording
                .replay
                .offers
                .into_iter()
                .map(|o| (o.title, o.variant_name, o.seen, o.clicked))
                .collect(),
        }))
    }

    /// The offers a class pushed: id -> (the card's title, its variants' names).
    pub(crate) async fn pushed_offers(
        &self,
        session_id: i64,
    ) -> Result<std::collections::BTreeMap<String, (String, Vec<String>)>, ApiError> {
        let store = self.store().await?;
        let mut pushed = std::collections::BTreeMap::new();
        let offer_pushed = lectern_room::EventKind::OfferPushed.name();
        let mut after = 0;
        loop {
            let page = store
                .events_after(session_id, after, lectern_store::MAX_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for event in page {
                if event.kind != offer_pushed {
                    continue;
                }
                if let Ok(Recorded {
                    event: Event::OfferPushed { offer },
                    ..
                }) = serde_json::from_value::<Recorded>(event.payload)
                {
                    let names = offer.spec.variants.iter().map(|v| v.name.clone()).collect();
                    pushed.insert(offer.spec.id.0.clone(), (offer.spec.title.clone(), names));
                }
            }
        }
        Ok(pushed)
    }

    /// Delete a session's recording (every file of it). Refused while that class is on air.
    pub async fn delete_recording(&self, args: SessionRef) -> Result<SessionRecording, ApiError> {
        if !self.session_ended(args.session_id).await? {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "this class is on air: delete its recording once it has ended",
            ));
        }
        let deleted = self.delete_session_files(args.session_id).await?;
        tracing::info!(
            session = args.session_id,
            files = deleted,
            "a recording was deleted"
        );
        self.session_recording(args).await
    }

    async fn delete_session_files(&self, session_id: i64) -> Result<u64, ApiError> {
        let store = self.store().await?;
        let folder = recordings_dir(self.data_dir());
        let mut deleted = 0;
        for path in session_files(&folder, session_id) {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => deleted += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(ApiError::new(
                        ErrorCode::Storage,
                        format!("deleting {}: {e}", path.display()),
                    ));
                }
            }
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                store.remove_recording(name).await?;
            }
        }
        Ok(deleted)
    }

    /// True when the session exists and has ended; `not_found` for an unknown session.
    async fn session_ended(&self, session_id: i64) -> Result<bool, ApiError> {
        let store = self.store().await?;
        let ended: Option<Option<i64>> = store
            .read(move |conn| {
                use lectern_store::rusqlite::OptionalExtension;
                Ok(conn
                    .query_row(
                        "SELECT ended_at_ms FROM live_sessions WHERE id = ?1",
                        [session_id],
                        |r| r.get(0),
                    )
                    .optional()?)
            })
            .await?;
        match ended {
            None => Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no session {session_id}"),
            )),
            Some(ended) => {
                let live = self.live_room().await.map(|r| r.session_id());
                Ok(ended.is_some() && live != Some(session_id))
            }
        }
    }

    /// Set how long recordings are kept, and apply it now (the studio's clock applies it daily).
    pub async fn set_recording_retention(
        &self,
        args: RecordingRetention,
    ) -> Result<RecordingRetentionApplied, ApiError> {
        if let Some(days) = args.days
            && !(1..=3650).contains(&days)
        {
            return Err(ApiError::invalid(
                "keep recordings 1 to 3650 days, or until deleted",
            ));
        }
        let store = self.store().await?;
        let value = args.days.map(|d| d.to_string()).unwrap_or_default();
        store.set_setting(RETENTION_SETTING, &value).await?;
        let deleted = self.apply_recording_retention().await?;
        Ok(RecordingRetentionApplied {
            days: args.days,
            deleted,
        })
    }

    /// The retention of recordings.
    pub async fn recording_retention(&self, _args: NoArgs) -> Result<RecordingRetention, ApiError> {
        let raw = self.store().await?.setting(RETENTION_SETTING).await?;
        Ok(RecordingRetention {
            days: raw.and_then(|r| r.parse().ok()),
        })
    }

    /// Delete the recordings older than the setting (by their start; a file the school has no
    /// start for, by its modification time), never the class on air. 0 when none is set.
    pub(crate) async fn apply_recording_retention(&self) -> Result<u64, ApiError> {
        let Some(days) = self.recording_retention(NoArgs {}).await?.days else {
            return Ok(0);
        };
        let cutoff = now_ms() - i64::from(days) * DAY_MS;
        let store = self.store().await?;
        let starts = store.all_recordings().await?;
        let live = self.live_room().await.map(|r| r.session_id());
        let folder = recordings_dir(self.data_dir());
        let Ok(mut entries) = tokio::fs::read_dir(&folder).await else {
            return Ok(0);
        };
        let mut deleted = 0;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Some(session) = session_of(&name) else {
                continue;
            };
            if Some(session) == live {
                continue;
            }
            let started = match starts.iter().find(|s| s.file == name) {
                Some(s) => s.started_at_ms,
                None => entry
                    .metadata()
                    .await
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(i64::MAX, |d| {
                        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
                    }),
            };
            if started >= cutoff {
                continue;
            }
            if let Err(e) = tokio::fs::remove_file(entry.path()).await {
                tracing::warn!(file = %name, "an old recording could not be deleted: {e}");
                continue;
            }
            store.remove_recording(&name).await?;
            deleted += 1;
        }
        if deleted > 0 {
            tracing::info!(deleted, days, "old recordings deleted");
        }
        Ok(deleted)
    }

    /// The file the replay of `session_id` plays: its first recording, only once the class
    /// has ended and the file is finalized; `not_found` otherwise.
    pub async fn replay_video(&self, session_id: i64) -> Result<PathBuf, ApiError> {
        self.recording_file(&format!("{session_id}.webm")).await
    }

    /// A recording file by its name (`12.webm`, `12-2.webm`), as the server may serve it: only
    /// a finalized file of an ended class; `not_found` for anything else (a name that is not a
    /// recording's, a class on air, a file still written or deleted).
    pub async fn recording_file(&self, name: &str) -> Result<PathBuf, ApiError> {
        let not_found = || ApiError::new(ErrorCode::NotFound, format!("no recording {name}"));
        let session_id = session_of(name).ok_or_else(not_found)?;
        if !self
            .session_ended(session_id)
            .await
            .map_err(|_| not_found())?
        {
            return Err(not_found());
        }
        let folder = recordings_dir(self.data_dir());
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            let path = session_files(&folder, session_id)
                .into_iter()
                .find(|p| p.file_name().is_some_and(|n| *n == *name))?;
            lectern_media::finalized_duration_ms(&path).map(|_| path)
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(not_found)
    }

    /// The replay of an ended class: its video and its timeline as students saw it live.
    pub async fn replay(&self, session_id: i64) -> Result<Replay, ApiError> {
        let not_found = || {
            ApiError::new(
                ErrorCode::NotFound,
                format!("no replay of session {session_id}"),
            )
        };
        if !self
            .session_ended(session_id)
            .await
            .map_err(|_| not_found())?
        {
            return Err(not_found());
        }
        let store = self.store().await?;
        let (title, started_at_ms, ended_at_ms): (String, i64, i64) = store
            .read(move |conn| {
                Ok(conn.query_row(
                    "SELECT title, started_at_ms, ended_at_ms FROM live_sessions WHERE id = ?1",
                    [session_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .await?;
        let video = match self.replay_video(session_id).await {
            Ok(path) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let start = store
                    .recordings(session_id)
                    .await?
                    .into_iter()
                    .find(|s| s.file == name)
                    .map_or(started_at_ms, |s| s.started_at_ms);
                let duration_ms = tokio::task::spawn_blocking(move || {
                    lectern_media::finalized_duration_ms(&path)
                })
                .await
                .ok()
                .flatten()
                .unwrap_or(0);
                let key = self.replay_key(session_id).await?;
                Some(ReplayVideo {
                    url: format!("/recordings/{name}?r={key}"),
                    duration_ms,
                    started_at_ms: start,
                })
            }
            Err(_) => None,
        };
        let mut records = vec![];
        let mut after = 0;
        loop {
            let page = store
                .events_after(session_id, after, lectern_store::MAX_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for event in page {
                // A record this version cannot read is left out of the replay, not fatal.
                if let Ok(record) = serde_json::from_value::<Recorded>(event.payload) {
                    records.push((event.seq, record));
                }
            }
        }
        let origin = video.as_ref().map_or(started_at_ms, |v| v.started_at_ms);
        Ok(Replay {
            session_id,
            title,
            school_name: self.public_info().await?.school_name.unwrap_or_default(),
            started_at_ms,
            ended_at_ms,
            video,
            items: replay_items(&records, origin),
        })
    }

    /// A reaction or a question sent while watching a replay, stored as a replay event (never
    /// in the class's log). A student without a valid browser key gets one, counted against
    /// `address` like a live join's.
    pub async fn replay_action(
        &self,
        session_id: i64,
        args: ReplayAction,
        address: Option<std::net::IpAddr>,
    ) -> Result<ReplayActionDone, ApiError> {
        if !self.session_ended(session_id).await? {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no replay of session {session_id}"),
            ));
        }
        let client_id = args.client_id.trim();
        if !(8..=64).contains(&client_id.len())
            || !client_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ApiError::invalid(
                "a client id has 8 to 64 letters, digits, - or _",
            ));
        }
        let (kind, payload) = match &args.action {
            ReplayActionKind::Reaction { reaction } => {
                ("reaction", serde_json::json!({ "reaction": reaction }))
            }
            ReplayActionKind::Question { text } => {
                let text = lectern_room::text::clean(text, false);
                let chars = text.chars().count();
                if chars == 0 || chars > MAX_REPLAY_QUESTION_CHARS {
                    return Err(ApiError::invalid(format!(
                        "a question has 1 to {MAX_REPLAY_QUESTION_CHARS} characters"
                    )));
                }
                ("question", serde_json::json!({ "text": text }))
            }
            ReplayActionKind::Watch { watched_ms } => {
                if !(1..=MAX_WATCH_STRETCH_MS).contains(watched_ms) {
                    return Err(ApiError::invalid(format!(
                        "a stretch of watching is 1 to {MAX_WATCH_STRETCH_MS} ms"
                    )));
                }
                ("watch", serde_json::json!({ "watched_ms": watched_ms }))
            }
            ReplayActionKind::OfferSeen { offer, variant }
            | ReplayActionKind::OfferClick { offer, variant } => {
                if !offer.is_valid() {
                    return Err(ApiError::invalid(
                        "an offer id has 1 to 40 letters, digits, _ or -",
                    ));
                }
                let kind = if matches!(args.action, ReplayActionKind::OfferSeen { .. }) {
                    "offer_seen"
                } else {
                    "offer_click"
                };
                (
                    kind,
                    serde_json::json!({ "offer": offer.0, "variant": variant }),
                )
            }
        };
        let known = match args.browser_key.as_deref() {
            Some(key) => self.viewer_id(key).await.ok(),
            None => None,
        };
        let (viewer, issued) = match known {
            Some(viewer) => (viewer, None),
            None => match self
                .issue_browser_key(address, args.browser_key.as_deref())
                .await?
            {
                Ok((key, viewer)) => (viewer, Some(key)),
                Err(refusal) => {
                    return Err(ApiError::new(
                        ErrorCode::TooManyConnections,
                        refusal.message(),
                    ));
                }
            },
        };
        let stored = self
            .store()
            .await?
            .add_replay_event(lectern_store::ReplayEvent {
                session_id,
                viewer: viewer.0,
                kind: kind.to_owned(),
                payload,
                offset_ms: args.offset_ms.clamp(0, 24 * 3_600_000),
                at_ms: now_ms(),
                client_id: client_id.to_owned(),
            })
            .await?;
        Ok(ReplayActionDone {
            browser_key: issued,
            stored,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(viewer: &str, kind: &str, payload: serde_json::Value) -> lectern_store::ReplayEvent {
        lectern_store::ReplayEvent {
            session_id: 1,
            viewer: viewer.into(),
            kind: kind.into(),
            payload,
            offset_ms: 0,
            at_ms: 0,
            client_id: String::new(),
        }
    }

    #[test]
    fn replay_numbers_count_viewers_capped_watch_time_and_offers_the_class_pushed() {
        use serde_json::json;
        let pushed = std::collections::BTreeMap::from([(
            "spring".to_owned(),
            (
                "Docker in depth".to_owned(),
                vec!["A".to_owned(), "B".to_owned()],
            ),
        )]);
        let events = [
            // Ann watches 15 s + 15 s + 8 s and sees variant A, then clicks it.
            event("v-ann", "watch", json!({"watched_ms": 15_000})),
            event("v-ann", "watch", json!({"watched_ms": 15_000})),
            event("v-ann", "watch", json!({"watched_ms": 8_000})),
            event(
                "v-ann",
                "offer_seen",
                json!({"offer": "spring", "variant": 0}),
            ),
            event(
                "v-ann",
                "offer_seen",
                json!({"offer": "spring", "variant": 0}),
            ),
            event(
                "v-ann",
                "offer_click",
                json!({"offer": "spring", "variant": 0}),
            ),
            // Bob's page reports far more than the recording holds: one full viewing (60 s).
            event("v-bob", "watch", json!({"watched_ms": 60_000})),
            event("v-bob", "watch", json!({"watched_ms": 60_000})),
            // A click with no "seen" before it still counts as seen; a card the class never
            // pushed, and a variant it does not have, are not counted.
            event(
                "v-bob",
                "offer_click",
                json!({"offer": "spring", "variant": 1}),
            ),
            event(
                "v-bob",
                "offer_seen",
                json!({"offer": "made-up", "variant": 0}),
            ),
            event(
                "v-bob",
                "offer_seen",
                json!({"offer": "spring", "variant": 7}),
            ),
            // Cy only reacts: a viewer, with no watch time.
            event("v-cy", "reaction", json!({"reaction": "heart"})),
        ];
        let numbers = replay_numbers(&events, Some(60_000), &pushed);
        assert_eq!(numbers.viewers, 3);
        assert_eq!(numbers.watched_ms, 38_000 + 60_000);
        assert_eq!(
            numbers.offers,
            vec![
                ReplayOfferNumbers {
                    offer: "spring".into(),
                    variant: 0,
                    variant_name: "A".into(),
                    title: "Docker in depth".into(),
                    seen: 1,
                    clicked: 1,
                },
                ReplayOfferNumbers {
                    offer: "spring".into(),
                    variant: 1,
                    variant_name: "B".into(),
                    title: "Docker in depth".into(),
                    seen: 1,
                    clicked: 1,
                },
            ]
        );
        // Without a finalized recording, the watch time is not capped by its length.
        assert_eq!(replay_numbers(&events, None, &pushed).watched_ms, 158_000);
    }

    #[test]
    fn recording_files_name_their_session() {
        assert_eq!(session_of("12.webm"), Some(12));
        assert_eq!(session_of("12-2.webm"), Some(12));
        assert_eq!(session_of("12-x.webm"), None);
        assert_eq!(session_of("12.webm.partial"), None);
        assert_eq!(session_of("notes.txt"), None);
        assert_eq!(session_of("+12.webm"), None);
        assert_eq!(session_of("../12.webm"), None);
    }
}

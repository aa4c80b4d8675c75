//! Viewers' privacy in the studio: what the school keeps about one viewer (export), erasing
//! them from the school file, and how long raw chat is kept.
//!
//! Viewer ids are already pseudonymous (an HMAC of a key their browser keeps, with this
//! school's secret). Erasure deletes what they did and removes their id, names and texts from
//! what others did, so the file itself no longer holds them (see `lectern_store` privacy).
//! Chat retention blanks message texts older than N days, keeping the events, so aggregates
//! (engagement, chat per minute) stay.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::NoArgs;
use crate::studio::now_ms;
use crate::{ApiError, ErrorCode, Studio};

const RETENTION_SETTING: &str = "chat_retention_days";
const DAY_MS: i64 = 86_400_000;

/// One viewer, by pseudonymous id (`v-…`).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ViewerRef {
    /// The viewer's id.
    pub viewer: String,
}

/// What the school keeps about one viewer.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ViewerData {
    /// The viewer's id.
    pub viewer: String,
    /// Every event they caused or that names them: `{session, seq, kind, payload}`.
    #[ts(type = "Array<{ session: number, seq: number, kind: string, payload: unknown }>")]
    pub events: Vec<serde_json::Value>,
    /// What they did while watching replays (`crate::replay`), kept apart from the log:
    /// `{session, kind, offsetMs, atMs, payload}`.
    #[ts(
        type = "Array<{ session: number, kind: string, offsetMs: number, atMs: number, payload: unknown }>"
    )]
    pub replay_events: Vec<serde_json::Value>,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ViewerErased {
    /// Events removed.
    pub deleted: u64,
    /// Other events from which they were removed.
    pub redacted: u64,
    /// Purchases that named them, kept for the school's sales under an anonymous buyer.
    pub purchases: u64,
    /// Class reports in the data folder that named them, deleted (make them again: they are
    /// drawn from the erased log).
    pub reports_deleted: u32,
    /// Backups in the data folder they were erased from too.
    pub backups_erased: u32,
    /// Backups that could not be opened to erase them (each is named in the studio's log); the
    /// instructor should delete those.
    pub backups_failed: u32,
}

/// How long raw chat is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatRetention {
    /// Days (1 to 3650); `null` keeps chat for ever.
    pub days: Option<u32>,
}

/// The retention setting and what applying it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChatRetentionApplied {
    /// The setting.
    pub days: Option<u32>,
    /// Messages whose text was blanked now.
    pub blanked: u64,
}

impl Studio {
    /// Export what the school keeps about a viewer.
    pub async fn viewer_data(&self, args: ViewerRef) -> Result<ViewerData, ApiError> {
        let store = self.store().await?;
        let rows = store.viewer_events(&args.viewer).await?;
        let replays = store.viewer_replay_events(&args.viewer).await?;
        Ok(ViewerData {
            viewer: args.viewer,
            events: rows
                .into_iter()
                .map(|(session, seq, kind, payload)| {
                    serde_json::json!({ "session": session, "seq": seq, "kind": kind, "payload": payload })
                })
                .collect(),
            replay_events: replays
                .into_iter()
                .map(|e| {
                    serde_json::json!({ "session": e.session_id, "kind": e.kind, "offsetMs": e.offset_ms, "atMs": e.at_ms, "payload": e.payload })
                })
                .collect(),
        })
    }

    /// Erase a viewer from the school file.
    pub async fn erase_viewer(&self, args: ViewerRef) -> Result<ViewerErased, ApiError> {
        let store = self.store().await?;
        // During the class they take part in, the live room still holds them (a later pin or
        // highlight would write their words back): erase after it ends.
        if let Some(room) = self.live_room().await {
            let (session, viewer) = (room.session_id(), args.viewer.clone());
            let in_class: bool = store
                .read(move |conn| {
                    Ok(conn
                        .prepare_cached(
                            "SELECT 1 FROM events WHERE session_id = ?1 AND actor = ?2 LIMIT 1",
                        )?
                        .exists((session, viewer.as_str()))?)
                })
                .await?;
            if in_class {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "this viewer is in the class on air: erase them once it has ended",
                ));
            }
        }
        let at = now_ms();
        let erased = store.erase_viewer(&args.viewer, at).await?;
        // The answer assistant may have learned their question's words.
        self.forget_known_answers().await;
        let data_dir = self.inner.options.data_dir.clone();
        let reports_deleted = erase_from_reports(&data_dir.join("reports"), &args.viewer).await?;
        let (backups_erased, backups_failed) =
            erase_from_backups(&data_dir.join("backups"), &args.viewer, at).await;
        tracing::info!(
            deleted = erased.deleted,
            redacted = erased.redacted,
            purchases = erased.purchases,
            reports_deleted,
            backups_erased,
            backups_failed,
            "a viewer was erased"
        );
        self.emit(crate::api::StudioEvent::SchoolChanged);
        Ok(ViewerErased {
            deleted: erased.deleted,
            redacted: erased.redacted,
            purchases: erased.purchases,
            reports_deleted,
            backups_erased,
            backups_failed,
        })
    }

    /// Set how long raw chat is kept, and apply it now (the studio's clock applies it daily).
    pub async fn set_chat_retention(
        &self,
        args: ChatRetention,
    ) -> Result<ChatRetentionApplied, ApiError> {
        if let Some(days) = args.days
            && !(1..=3650).contains(&days)
        {
            return Err(ApiError::invalid("keep chat 1 to 3650 days, or for ever"));
        }
        let store = self.store().await?;
        let value = args.days.map(|d| d.to_string()).unwrap_or_default();
        store.set_setting(RETENTION_SETTING, &value).await?;
        let blanked = self.apply_chat_retention().await?;
        Ok(ChatRetentionApplied {
            days: args.days,
            blanked,
        })
    }

    /// The retention setting.
    pub async fn chat_retention(&self, _args: NoArgs) -> Result<ChatRetention, ApiError> {
        Ok(ChatRetention {
            days: self.retention_days().await?,
        })
    }

    pub(crate) async fn retention_days(&self) -> Result<Option<u32>, ApiError> {
        let raw = self.store().await?.setting(RETENTION_SETTING).await?;
        Ok(raw.and_then(|r| r.parse().ok()))
    }

    /// Blank chat older than the setting; 0 when none is set.
    pub(crate) async fn apply_chat_retention(&self) -> Result<u64, ApiError> {
        let Some(days) = self.retention_days().await? else {
            return Ok(0);
        };
        let now = now_ms();
        let cutoff = now - i64::from(days) * DAY_MS;
        let blanked = self.store().await?.redact_chat_before(cutoff, now).await?;
        if blanked > 0 {
            // The answer assistant may have learned blanked questions' words.
            self.forget_known_answers().await;
        }
        Ok(blanked)
    }
}

/// Deletes every class report folder whose files name `viewer` (its id in viewers.csv); the
/// report can be made again from the log, which no longer names them.
async fn erase_from_reports(reports: &std::path::Path, viewer: &str) -> Result<u32, ApiError> {
    let reports = reports.to_owned();
    let needle = viewer.as_bytes().to_vec();
    tokio::task::spawn_blocking(move || -> std::io::Result<u32> {
        let Ok(folders) = std::fs::read_dir(&reports) else {
            return Ok(0);
        };
        let mut deleted = 0;
        for folder in folders.flatten() {
            let path = folder.path();
            if !path.is_dir() {
                continue;
            }
            let names_them = std::fs::read_dir(&path)?.flatten().any(|file| {
                std::fs::read(file.path())
                    .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            });
            if names_them {
                std::fs::remove_dir_all(&path)?;
                deleted += 1;
            }
        }
        Ok(deleted)
    })
    .await
    .map_err(|_| ApiError::internal("erasing from reports was cancelled"))?
    .map_err(|e| ApiError::new(ErrorCode::Storage, format!("erasing from the reports: {e}")))
}

/// Erases `viewer` from every backup in the data folder the same way as from the school
/// (events, purchases, learner row). Returns (erased, failed); a failure is logged by file.
async fn erase_from_backups(backups: &std::path::Path, viewer: &str, at_ms: i64) -> (u32, u32) {
    let Ok(mut entries) = tokio::fs::read_dir(backups).await else {
        return (0, 0);
    };
    let (mut erased, mut failed) = (0, 0);
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("sqlite") {
            continue;
        }
        let result = match lectern_store::Store::open_existing(&path) {
            Ok(store) => {
                let outcome = store.erase_viewer(viewer, at_ms).await;
                let closed = store.close().await;
                outcome.and(closed)
            }
            Err(err) => Err(err),
        };
        match result {
            Ok(()) => erased += 1,
            Err(err) => {
                tracing::warn!(backup = %path.display(), error = %err, "a viewer could not be erased from a backup");
                failed += 1;
            }
        }
    }
    (erased, failed)
}

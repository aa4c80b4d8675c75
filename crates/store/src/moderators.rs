//! Moderator links: what a teaching assistant's browser presents instead of the owner key.
//!
//! Only a SHA-256 hash of each token is stored, so a copy of the school file grants nothing.
//! A link expires at a fixed time and can be revoked; revoking is permanent and kept (an audit
//! of who could moderate when), never a delete.

use rusqlite::{OptionalExtension, params};

use crate::{Store, StoreError};

/// The longest label of a moderator link, in characters.
pub const MAX_LINK_LABEL_CHARS: usize = 80;

/// A moderator link as the studio lists it (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeratorLink {
    /// The link's id.
    pub id: i64,
    /// Who it is for ("Priya, TA").
    pub label: String,
    /// When it was made (Unix ms).
    pub created_at_ms: i64,
    /// When it stops working (Unix ms).
    pub expires_at_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_at_ms: Option<i64>,
}

impl ModeratorLink {
    /// Whether the link grants access at `now_ms`.
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.revoked_at_ms.is_none() && now_ms < self.expires_at_ms
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ModeratorLink> {
    Ok(ModeratorLink {
        id: r.get(0)?,
        label: r.get(1)?,
        created_at_ms: r.get(2)?,
        expires_at_ms: r.get(3)?,
        revoked_at_ms: r.get(4)?,
    })
}

const COLUMNS: &str = "id, label, created_at_ms, expires_at_ms, revoked_at_ms";

impl Store {
    /// Record a new link by the hash of its token.
    ///
    /// # Errors
    /// `invalid_input` for an empty or long label, a hash that is not 32 bytes, or an expiry
    /// not after creation.
    pub async fn create_moderator_link(
        &self,
        label: &str,
        token_hash: [u8; 32],
        created_at_ms: i64,
        expires_at_ms: i64,
    ) -> Result<ModeratorLink, StoreError> {
        let label = label.trim().to_owned();
        if label.is_empty() || label.chars().count() > MAX_LINK_LABEL_CHARS {
            return Err(StoreError::invalid(format!(
                "a moderator link's label has 1 to {MAX_LINK_LABEL_CHARS} characters"
            )));
        }
        if expires_at_ms <= created_at_ms {
            return Err(StoreError::invalid(
                "a moderator link must expire after it is made",
            ));
        }
        self.write(move |tx| {
            Ok(tx.query_row(
                &format!(
                    "INSERT INTO moderator_links (label, token_hash, created_at_ms, expires_at_ms)
                     VALUES (?1, ?2, ?3, ?4) RETURNING {COLUMNS}"
                ),
                params![label, token_hash.as_slice(), created_at_ms, expires_at_ms],
                row,
            )?)
        })
        .await
    }

    /// Every link, newest first.
    pub async fn moderator_links(&self) -> Result<Vec<ModeratorLink>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM moderator_links ORDER BY id DESC"
            ))?;
            let links = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(links)
        })
        .await
    }

    /// The link whose token hashes to `token_hash`, active or not.
    pub async fn moderator_link_by_hash(
        &self,
        token_hash: [u8; 32],
    ) -> Result<Option<ModeratorLink>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM moderator_links WHERE token_hash = ?1"
                ))?
                .query_row([token_hash.as_slice()], row)
                .optional()?)
        })
        .await
    }

    /// Revoke a link (revoking twice keeps the first time).
    ///
    /// # Errors
    /// `not_found` for an unknown id.
    pub async fn revoke_moderator_link(
        &self,
        id: i64,
        at_ms: i64,
    ) -> Result<ModeratorLink, StoreError> {
        self.write(move |tx| {
            tx.query_row(
                &format!(
                    "UPDATE moderator_links SET revoked_at_ms = coalesce(revoked_at_ms, ?2)
                     WHERE id = ?1 RETURNING {COLUMNS}"
                ),
                params![id, at_ms],
                row,
            )
            .optional()?
            .ok_or_else(|| StoreError::not_found(format!("The moderator link {id}")))
        })
        .await
    }
}

//! Moderator links: how the instructor lets a teaching assistant moderate from another computer.
//!
//! A link is `/studio#mod=<token>`: the token is 256 random bits, shown once, carried in the URL
//! fragment (never sent to a server log), stored only as its SHA-256 hash, valid until it
//! expires or is revoked. A TA's grant is scoped: it joins the room as a TA (moderate chat, run
//! polls and Q&A) and may call only [`MODERATOR_COMMANDS`]; it cannot change offers or prices,
//! end the broadcast, or see keys.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::api::{NoArgs, StudioEvent};
use crate::studio::now_ms;
use crate::{ApiError, ErrorCode, Studio};

/// The API commands a moderator link may call (everything else is the owner's).
/// `suggest_answer`: the answer assistant is the TA's tool (it only reads the school's FAQ and
/// past answers; sending one is a room action the TA's seat may take).
pub const MODERATOR_COMMANDS: &[&str] = &["overview", "suggest_answer"];

/// Tokens start with this, so a TA's credential is never mistaken for the owner key.
pub const TOKEN_PREFIX: &str = "lm_";

/// The longest a link may live: 30 days.
pub const MAX_LINK_HOURS: u32 = 24 * 30;

/// Make a moderator link.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateModeratorLink {
    /// Who it is for ("Priya, TA"); shown in the list and the room.
    pub label: String,
    /// Hours until it stops working (1 to 720).
    pub hours: u32,
}

/// A link as the studio lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModeratorLinkInfo {
    /// The link's id.
    pub id: i64,
    /// Who it is for.
    pub label: String,
    /// When it was made (Unix ms).
    pub created_at_ms: i64,
    /// When it stops working (Unix ms).
    pub expires_at_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_at_ms: Option<i64>,
    /// Whether it works now.
    pub active: bool,
}

/// A new link: the token is in `path` and is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewModeratorLink {
    /// The link as listed.
    pub link: ModeratorLinkInfo,
    /// `/studio#mod=<token>`: put the studio's address in front and give it to the TA.
    pub path: String,
}

/// Revoke a link.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeModeratorLink {
    /// The link's id.
    pub id: i64,
}

/// Who a valid moderator token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeratorGrant {
    /// The link's id (a revocation names it).
    pub link_id: i64,
    /// Its label.
    pub label: String,
    /// When it stops working (Unix ms): its connections close then.
    pub expires_at_ms: i64,
}

fn info(link: &lectern_store::ModeratorLink, now: i64) -> ModeratorLinkInfo {
    ModeratorLinkInfo {
        id: link.id,
        label: link.label.clone(),
        created_at_ms: link.created_at_ms,
        expires_at_ms: link.expires_at_ms,
        revoked_at_ms: link.revoked_at_ms,
        active: link.is_active(now),
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn unauthorized() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "this moderator link is not valid: it may have expired or been revoked",
    )
}

impl Studio {
    /// Make a moderator link for a TA.
    pub async fn create_moderator_link(
        &self,
        args: CreateModeratorLink,
    ) -> Result<NewModeratorLink, ApiError> {
        if !(1..=MAX_LINK_HOURS).contains(&args.hours) {
            return Err(ApiError::invalid(format!(
                "a moderator link lasts 1 to {MAX_LINK_HOURS} hours"
            )));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| ApiError::internal(format!("no random bytes: {e}")))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("{TOKEN_PREFIX}{hex}");
        let now = now_ms();
        let expires = now + i64::from(args.hours) * 3_600_000;
        let store = self.store().await?;
        let link = store
            .create_moderator_link(&args.label, hash(&token), now, expires)
            .await?;
        tracing::info!(link = link.id, "a moderator link was made");
        Ok(NewModeratorLink {
            link: info(&link, now),
            path: format!("/studio#mod={token}"),
        })
    }

    /// Every moderator link, newest first (tokens are not kept, so not shown).
    pub async fn moderator_links(&self, _args: NoArgs) -> Result<Vec<ModeratorLinkInfo>, ApiError> {
        let now = now_ms();
        let links = self.store().await?.moderator_links().await?;
        Ok(links.iter().map(|l| info(l, now)).collect())
    }

    /// Revoke a link: its TA's screens and room connection close at once.
    pub async fn revoke_moderator_link(
        &self,
        args: RevokeModeratorLink,
    ) -> Result<Vec<ModeratorLinkInfo>, ApiError> {
        let store = self.store().await?;
        store.revoke_moderator_link(args.id, now_ms()).await?;
        tracing::info!(link = args.id, "a moderator link was revoked");
        self.emit(StudioEvent::ModeratorLinkRevoked { id: args.id });
        self.moderator_links(NoArgs {}).await
    }

    /// Check a moderator token.
    ///
    /// # Errors
    /// `unauthorized` for a forged, expired or revoked token (the same answer for each, so a
    /// guesser learns nothing); `no_school` when no school is open.
    pub async fn moderator_grant(&self, token: &str) -> Result<ModeratorGrant, ApiError> {
        let well_formed = token
            .strip_prefix(TOKEN_PREFIX)
            .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            return Err(unauthorized());
        }
        let store = self.store().await?;
        match store.moderator_link_by_hash(hash(token)).await? {
            Some(link) if link.is_active(now_ms()) => Ok(ModeratorGrant {
                link_id: link.id,
                label: link.label,
                expires_at_ms: link.expires_at_ms,
            }),
            _ => Err(unauthorized()),
        }
    }
}

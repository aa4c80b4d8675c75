//! Who a viewer is in the school's shop: the one map from the room's pseudonymous viewer ids
//! (`v-<hmac>`) to the school's learner ids (those of its purchases), which recommendations,
//! likely buyers and offer results all read.
//!
//! Three kinds of evidence, strongest first:
//!
//! 1. **A personal join link** (`/watch#learner=ID&sig=HMAC`): the school sends each learner
//!    their own link (the export of [`Studio::learner_links`]); the viewer page passes it in its
//!    hello, the room session checks the signature ([`Studio::verify_learner_link`]) and the
//!    room records `learner_linked`.
//! 2. **A consented email** (`email_linked`) whose hash is a learner's `email_hash`.
//! 3. **A checkout reference code** (`<offer>.<variant>.<viewer>`) on a purchase: the viewer
//!    who clicked the card is the learner who paid.
//!
//! A stronger kind decides; within a kind, the latest evidence does. A learner may be several
//! viewers (a laptop and a phone); a viewer is at most one learner. Nothing here is shown to
//! viewers: the map lives only in the instructor's school file.

use std::collections::HashMap;

use lectern_insights::engagement::csv_cell;
use lectern_room::{Event, EventKind, Recorded, parse_reference};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ApiError, ErrorCode, Studio};

/// How a viewer was matched to a learner (strongest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// The learner's personal join link.
    JoinLink,
    /// A consented email matching the learner's.
    Email,
    /// A checkout reference code on the learner's purchase.
    RefCode,
}

/// One piece of evidence that a viewer is a learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The viewer id.
    pub viewer: String,
    /// The learner id.
    pub learner: String,
    /// What kind.
    pub kind: LinkKind,
    /// When it was seen (Unix ms).
    pub at_ms: i64,
}

/// The viewer-to-learner map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identities {
    by_viewer: HashMap<String, (String, LinkKind, i64)>,
}

impl Identities {
    /// The map the evidence supports: per viewer, the strongest kind, then the latest.
    pub fn from_evidence(evidence: impl IntoIterator<Item = Evidence>) -> Identities {
        let mut by_viewer: HashMap<String, (String, LinkKind, i64)> = HashMap::new();
        for e in evidence {
            let better = by_viewer.get(&e.viewer).is_none_or(|(_, kind, at)| {
                (e.kind, std::cmp::Reverse(e.at_ms)) < (*kind, std::cmp::Reverse(*at))
            });
            if better {
                by_viewer.insert(e.viewer, (e.learner, e.kind, e.at_ms));
            }
        }
        Identities { by_viewer }
    }

    /// The learner a viewer is, if known.
    pub fn learner(&self, viewer: &str) -> Option<&str> {
        self.by_viewer.get(viewer).map(|(l, _, _)| l.as_str())
    }

    /// How the viewer was matched, if they were.
    pub fn kind(&self, viewer: &str) -> Option<LinkKind> {
        self.by_viewer.get(viewer).map(|(_, k, _)| *k)
    }

    /// The learner for a log actor: the learner a viewer id maps to, or the actor itself when
    /// it is not a viewer id (a school whose log already names learners, such as an import).
    pub fn resolve<'a>(&'a self, actor: &'a str) -> &'a str {
        self.learner(actor).unwrap_or(actor)
    }

    /// Every matched viewer with its learner: `(viewer, learner)`, in no particular order.
    pub fn links(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_viewer
            .iter()
            .map(|(viewer, (learner, _, _))| (viewer.as_str(), learner.as_str()))
    }

    /// Viewers matched.
    pub fn len(&self) -> usize {
        self.by_viewer.len()
    }

    /// True when no viewer is matched.
    pub fn is_empty(&self) -> bool {
        self.by_viewer.is_empty()
    }
}

/// The instructor and teaching assistants join their own classes but are never customers.
pub fn is_staff(actor: &str) -> bool {
    actor == crate::room_session::INSTRUCTOR || actor.starts_with("ta-")
}

/// The most characters of a learner id in a personal join link.
pub const MAX_LEARNER_ID_CHARS: usize = lectern_room::limits::MAX_LEARNER_ID_CHARS;

/// Which personal join links to export.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LearnerLinksArgs {
    /// The studio's address as learners reach it (`https://class.example.org`); the studio's
    /// current address when absent.
    #[serde(default)]
    #[ts(optional)]
    pub base_url: Option<String>,
    /// Only the learners of this audience segment (a name the Segments card shows), to mail
    /// one segment; every learner when absent. `not_found` for an unknown segment.
    #[serde(default)]
    #[ts(optional)]
    pub segment: Option<String>,
}

/// The personal join links of every learner, as a CSV file to send from the school's mailer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LearnerLinks {
    /// `learner,display_name,link` and one row per learner.
    pub csv: String,
    /// Learners listed.
    #[ts(type = "number")]
    pub count: u64,
}

fn link_mac(secret: &[u8; 32], learner: &str) -> Result<String, ApiError> {
    crate::studio::keyed_hex(secret, b"lectern-learner-link-v1:", learner.as_bytes(), 16)
}

impl Studio {
    /// The viewer-to-learner map of the school, from its log and its purchases.
    pub async fn identities(&self) -> Result<Identities, ApiError> {
        identities_of(&self.store().await?).await
    }
}

/// The viewer-to-learner map of a school file (what [`Studio::identities`] reads; the CLI's
/// offline evaluations read it too).
pub async fn identities_of(store: &lectern_store::Store) -> Result<Identities, ApiError> {
    {
        let (links, emails, codes) = store
            .read(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT at_ms, payload FROM events
                     WHERE kind IN (?1, ?2) ORDER BY id",
                )?;
                let links = stmt
                    .query_map(
                        [
                            EventKind::LearnerLinked.name(),
                            EventKind::EmailLinked.name(),
                        ],
                        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                    )?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut stmt = conn.prepare_cached(
                    "SELECT email_hash, id FROM learners WHERE email_hash IS NOT NULL",
                )?;
                let emails = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut stmt = conn.prepare_cached(
                    "SELECT ref_code, learner_id, purchased_at_ms FROM purchases
                     WHERE ref_code IS NOT NULL",
                )?;
                let codes = stmt
                    .query_map([], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((links, emails, codes))
            })
            .await?;
        // The room records a consented email keyed with the school's email key; logs from
        // before the key hold the plain SHA-256. A hash two learners share names neither.
        let key = crate::studio::email_key(store.install_secret().await?.expose())?;
        let mut by_email: HashMap<String, Option<String>> = HashMap::new();
        for (hash, learner) in emails {
            for form in [lectern_room::keyed_email_hash(&key, &hash), hash] {
                by_email
                    .entry(form)
                    .and_modify(|l| *l = None)
                    .or_insert(Some(learner.clone()));
            }
        }
        let mut evidence = Vec::new();
        for (at_ms, payload) in links {
            // A record this version cannot read links nobody.
            let Ok(record) = serde_json::from_str::<Recorded>(&payload) else {
                continue;
            };
            match record.event {
                Event::LearnerLinked { viewer, learner } => evidence.push(Evidence {
                    viewer: viewer.0,
                    learner,
                    kind: LinkKind::JoinLink,
                    at_ms,
                }),
                Event::EmailLinked { viewer, email_hash } => {
                    if let Some(Some(learner)) = by_email.get(&email_hash) {
                        evidence.push(Evidence {
                            viewer: viewer.0,
                            learner: learner.clone(),
                            kind: LinkKind::Email,
                            at_ms,
                        });
                    }
                }
                _ => {}
            }
        }
        for (code, learner, at_ms) in codes {
            if let Some(reference) = parse_reference(&code) {
                evidence.push(Evidence {
                    viewer: reference.viewer.0,
                    learner,
                    kind: LinkKind::RefCode,
                    at_ms,
                });
            }
        }
        Ok(Identities::from_evidence(evidence))
    }
}

impl Studio {
    /// The signature of a learner's personal join link (hex, 128 bits of an HMAC-SHA256 with
    /// the school's install secret): only this school can make one, and it names one learner.
    pub async fn learner_link_sig(&self, learner: &str) -> Result<String, ApiError> {
        let secret = self.store().await?.install_secret().await?;
        link_mac(secret.expose(), learner)
    }

    /// Checks a personal join link a viewer page carried; the learner id when it is valid.
    pub async fn verify_learner_link(
        &self,
        link: &lectern_room::LearnerLink,
    ) -> Result<String, ApiError> {
        let learner = link.learner.trim();
        if learner.is_empty()
            || learner.chars().count() > MAX_LEARNER_ID_CHARS
            || learner.chars().any(char::is_control)
            || link.sig.len() != 32
        {
            return Err(ApiError::invalid("this personal join link is not valid"));
        }
        let expected = self.learner_link_sig(learner).await?;
        // Constant time: the comparison must not tell how much of a guess was right.
        if !crate::same_secret(
            link.sig.to_ascii_lowercase().as_bytes(),
            expected.as_bytes(),
        ) {
            return Err(ApiError::invalid(
                "this personal join link is not valid: ask the school for a new one",
            ));
        }
        Ok(learner.to_owned())
    }

    /// Every learner's personal join link, as CSV (`learner,display_name,link`).
    pub async fn learner_links(&self, args: LearnerLinksArgs) -> Result<LearnerLinks, ApiError> {
        let base = match args.base_url {
            Some(url) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
                if !scheme_ok || url.len() > 512 || url.contains(['#', '?', ' ']) {
                    return Err(ApiError::invalid(
                        "the studio's address is an http:// or https:// URL without ? or #",
                    ));
                }
                url
            }
            None => {
                let network = self.network();
                // A link is for students elsewhere: the public address behind a reverse proxy,
                // else the first address beyond loopback when the studio is open to the network.
                network
                    .public_url
                    .iter()
                    .chain(network.urls.iter().filter(|u| {
                        !u.contains("127.0.0.1") && !u.contains("[::1]") && !u.contains("localhost")
                    }))
                    .next()
                    .or_else(|| network.urls.first())
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::Conflict,
                            "the studio's server is not running: give the address learners use",
                        )
                    })?
                    .trim_end_matches('/')
                    .to_owned()
            }
        };
        let store = self.store().await?;
        let secret = store.install_secret().await?;
        let only: Option<std::collections::BTreeSet<String>> = match &args.segment {
            Some(segment) => Some(
                crate::audience::segment_audience(&store, segment.trim())
                    .await?
                    .learners
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let learners: Vec<(String, Option<String>)> = store
            .read(|conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT id, display_name FROM learners ORDER BY id")?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        let mut csv = String::from("learner,display_name,link\n");
        let mut count = 0u64;
        for (id, name) in learners {
            if id.chars().count() > MAX_LEARNER_ID_CHARS || id.chars().any(char::is_control) {
                continue;
            }
            if only.as_ref().is_some_and(|only| !only.contains(&id)) {
                continue;
            }
            let sig = link_mac(secret.expose(), &id)?;
            let link = format!(
                "{base}/watch#learner={}&sig={sig}",
                lectern_room::encode_component(&id)
            );
            csv.push_str(&format!(
                "{},{},{}\n",
                csv_cell(&id),
                csv_cell(name.as_deref().unwrap_or("")),
                csv_cell(&link)
            ));
            count += 1;
        }
        Ok(LearnerLinks { csv, count })
    }
}

#[cfg(test)]
mod tests {
    use super::{Evidence, Identities, LinkKind};

    fn e(viewer: &str, learner: &str, kind: LinkKind, at_ms: i64) -> Evidence {
        Evidence {
            viewer: viewer.into(),
            learner: learner.into(),
            kind,
            at_ms,
        }
    }

    #[test]
    fn the_strongest_evidence_decides_then_the_latest() {
        let map = Identities::from_evidence([
            e("v-1", "L-code", LinkKind::RefCode, 300),
            e("v-1", "L-link", LinkKind::JoinLink, 100),
            e("v-1", "L-mail", LinkKind::Email, 200),
            e("v-2", "L-old", LinkKind::Email, 100),
            e("v-2", "L-new", LinkKind::Email, 200),
            e("v-3", "L-3", LinkKind::RefCode, 1),
        ]);
        assert_eq!(map.learner("v-1"), Some("L-link"));
        assert_eq!(map.kind("v-1"), Some(LinkKind::JoinLink));
        assert_eq!(map.learner("v-2"), Some("L-new"));
        assert_eq!(map.learner("v-3"), Some("L-3"));
        assert_eq!(map.learner("v-4"), None);
        // An actor that is no viewer id stays itself.
        assert_eq!(map.resolve("learner-7"), "learner-7");
        assert_eq!(map.resolve("v-3"), "L-3");
        assert_eq!(map.len(), 3);
    }
}

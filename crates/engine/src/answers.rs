//! The TA's answer assistant in the studio: staff ask for a suggestion beside a student's
//! question in Q&A or in chat (`suggest_answer`), see the known answer, where it comes from and
//! how sure the assistant is, and send it (or an edit of it) with one click: as the question's
//! written answer, or as a chat reply to the student's message.
//!
//! The index (`lectern_insights::answers`) holds the school's FAQ (`import_faq`; the demo
//! school's embedded FAQ until one is imported), every question staff answered in writing in a
//! class (`question_answered` with an `answer`), and every chat reply staff wrote to a student's
//! message (`chat_sent` with `reply_to`), each with its source in words ("answered by the TA in
//! “Week 4”, 2026-12-07"). It is built once and kept; what staff wrote since (in past classes
//! and in the class on air) is added on the next request by reading only the log's newer rows.
//! A deleted chat message it learned from, an erased viewer or blanked chat makes it forget the
//! index and build it again from the log.
//!
//! It never answers students by itself unless the instructor turns on "answer known questions
//! automatically" (`set_answer_settings`, off by default, with a threshold of at least
//! [`DEFAULT_THRESHOLD`]): then a student's new Q&A question whose best known answer is at or over
//! the threshold is answered by the room ([`lectern_room::Input::AnswerAutomatically`]), marked
//! for everyone as automatic with its source, and logged like any answer ([`follow`]).
//!
//! Not yet: questions asked in chat are never answered automatically (only suggested to staff).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use lectern_insights::answers::{
    AUTO_ANSWER_THRESHOLD, AnswerIndex, AnswerSource, DEFAULT_THRESHOLD, KnownAnswer, parse_faq,
    reads_as_question, suggest,
};
use lectern_room::{AutomaticAnswer, Event, EventKind, Input, Question, QuestionState, Role};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::live::LiveRoom;
use crate::studio::now_ms;
use crate::{ApiError, ErrorCode, Studio};

/// The largest FAQ file the studio takes (4 MiB).
pub const MAX_FAQ_BYTES: usize = lectern_insights::answers::MAX_FAQ_BYTES;

/// Ask for a suggested answer to a student's message.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SuggestAnswer {
    /// The student's question or message (at most 1,000 characters are read).
    pub text: String,
    /// The message was written in chat, not asked in Q&A: it gets a suggestion only if it reads
    /// as a question (a question mark, a question word; chat is mostly remarks).
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub chat: bool,
}

/// What staff see beside a question: a known answer, where it comes from, and how sure.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AnswerSuggestion {
    /// The answer to send (staff may edit it first).
    pub answer: String,
    /// The known question it answered.
    pub question: String,
    /// Where it comes from, in words ("the school's FAQ, line 12", "answered by the TA in
    /// “Week 4”, 2026-12-07 (Q&A)").
    pub source: String,
    /// How sure the assistant is that it answers the message, 0 to 1; only suggestions at or
    /// over the studio's threshold are given.
    pub confidence: f64,
}

/// The answer to `suggest_answer`: a suggestion, or none (nothing close enough, or not a
/// question: a greeting, thanks, a few words, a remark in chat).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AnswerSuggestions {
    /// The best known answer at or over the threshold, if any.
    pub suggestion: Option<AnswerSuggestion>,
    /// How many known answers the assistant has.
    pub known: u32,
}

/// Import the school's FAQ: a CSV with a `question,answer` header (UTF-8, quoted cells may
/// hold commas and newlines). All or nothing: a file with any bad row changes nothing.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportFaq {
    /// The file's text.
    pub text: String,
}

/// What an FAQ import did.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FaqImported {
    /// Entries now in the school's FAQ.
    pub entries: u32,
}

/// "Answer known questions automatically": the instructor's setting, off by default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnswerSettings {
    /// The assistant answers a student's Q&A question by itself when its best known answer is
    /// at or over `threshold`.
    pub auto_answer: bool,
    /// The confidence at or over which it answers, from [`MIN_AUTO_THRESHOLD`] (what staff are
    /// shown as a suggestion at all) to 1; [`AUTO_ANSWER_THRESHOLD`] by default.
    pub threshold: f64,
}

impl Default for AnswerSettings {
    fn default() -> Self {
        AnswerSettings {
            auto_answer: false,
            threshold: AUTO_ANSWER_THRESHOLD,
        }
    }
}

/// The setting as the studio shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AnswerSettingsInfo {
    /// The setting.
    pub settings: AnswerSettings,
    /// The lowest threshold accepted ([`MIN_AUTO_THRESHOLD`]).
    pub min_threshold: f64,
}

/// The lowest threshold for automatic answers: nothing is answered by itself that staff would
/// not even be shown as a suggestion.
pub const MIN_AUTO_THRESHOLD: f64 = DEFAULT_THRESHOLD;

/// The school setting that holds [`AnswerSettings`] (JSON).
const SETTINGS_KEY: &str = "answers.auto_answer";

/// The index with what it has read of the log.
struct KnownAnswers {
    index: AnswerIndex,
    /// The last event row read.
    last_id: i64,
    /// Sources from classes, in words.
    labels: HashMap<AnswerSource, String>,
    /// Chat messages the index learned from (a reply and the message it answers), by session:
    /// deleting one makes the index forget.
    chat_messages: HashSet<(i64, u64)>,
}

/// The kept index.
#[derive(Default)]
pub(crate) struct AnswerCache {
    known: Option<KnownAnswers>,
}

/// The longest message the assistant reads.
const MAX_MESSAGE_CHARS: usize = 1_000;
/// The longest class title a source names, in characters.
const MAX_TITLE_IN_SOURCE: usize = 80;

/// One answer staff wrote in a class, as the log has it.
struct Written {
    id: i64,
    session: i64,
    at_ms: i64,
    question: String,
    answer: String,
    source: AnswerSource,
    /// The role of whoever wrote the answer, by its serde name (`ta`).
    role: Option<String>,
    title: String,
    /// For chat replies: the two messages.
    messages: Option<(u64, u64)>,
}

/// What the log added since a row.
struct Since {
    last_id: i64,
    written: Vec<Written>,
    /// Chat messages deleted since (session, message).
    deleted: Vec<(i64, u64)>,
}

/// Its serde name (`ta`), as the log's records carry it.
fn role_name(role: Role) -> String {
    match serde_json::to_value(role) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// Answers staff wrote after row `after`: Q&A answers (not the assistant's own) and staff chat
/// replies to a student's message (neither deleted), and the chat messages deleted since.
///
/// The log is scanned once over the new rows; what they point to (the question asked, the
/// message replied to, who answered, the class's title) is read per class through the
/// `(session_id, kind, actor)` index, so building from a whole log costs one pass over its
/// answers and one over the classes that have some, never a join of every answer with every
/// message.
fn read_since(
    conn: &lectern_store::rusqlite::Connection,
    after: i64,
) -> Result<Since, lectern_store::StoreError> {
    let tx = conn.unchecked_transaction()?;
    let last_id: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?;
    let range = (after, last_id);
    let mut classes = Classes::default();

    // Q&A answers written by staff.
    let mut answered = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT id, session_id, at_ms, actor, json_extract(payload, '$.event.question'),
                    json_extract(payload, '$.event.answer')
               FROM events
              WHERE id > ?1 AND id <= ?2 AND kind = ?3
                AND json_extract(payload, '$.event.answer') IS NOT NULL
                AND json_extract(payload, '$.event.automatic') IS NULL
              ORDER BY id",
        )?;
        let rows = stmt.query_map(
            (range.0, range.1, EventKind::QuestionAnswered.name()),
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )?;
        for row in rows {
            answered.push(row?);
        }
    }
    let mut written = Vec::new();
    for (id, session, at_ms, actor, question, answer) in answered {
        let (Some(question), Some(answer)) = (question.and_then(number), answer) else {
            continue;
        };
        let Some(asked) = classes.question(&tx, session, question)? else {
            continue;
        };
        written.push(Written {
            id,
            session,
            at_ms,
            question: asked,
            answer,
            source: AnswerSource::QandA { session, question },
            role: classes.role(&tx, session, actor.as_deref())?,
            title: classes.title(&tx, session)?,
            messages: None,
        });
    }

    // Chat replies: only rows that name `reply_to` are parsed.
    let mut replies = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT id, session_id, at_ms, json_extract(payload, '$.event.message.id'),
                    json_extract(payload, '$.event.message.reply_to'),
                    json_extract(payload, '$.event.message.role'),
                    json_extract(payload, '$.event.message.text')
               FROM events
              WHERE id > ?1 AND id <= ?2 AND kind = ?3 AND instr(payload, '\"reply_to\"') > 0
              ORDER BY id",
        )?;
        let rows = stmt.query_map((range.0, range.1, EventKind::ChatSent.name()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        for row in rows {
            replies.push(row?);
        }
    }
    let staff = [role_name(Role::Instructor), role_name(Role::Ta)];
    for (id, session, at_ms, reply, to, role, answer) in replies {
        let (Some(reply), Some(to), Some(role), Some(answer)) =
            (reply.and_then(number), to.and_then(number), role, answer)
        else {
            continue;
        };
        if !staff.contains(&role) {
            continue;
        }
        let Some((asked, asker_role)) = classes.message(&tx, session, to)? else {
            continue;
        };
        let deleted = classes.deleted(&tx, session)?;
        if asker_role != role_name(Role::Viewer)
            || deleted.contains(&reply)
            || deleted.contains(&to)
        {
            continue;
        }
        written.push(Written {
            id,
            session,
            at_ms,
            question: asked,
            answer,
            source: AnswerSource::StaffReply {
                session,
                message: reply,
            },
            role: Some(role),
            title: classes.title(&tx, session)?,
            messages: Some((reply, to)),
        });
    }
    written.sort_by_key(|w| w.id);

    let mut deleted = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT session_id, json_extract(payload, '$.event.message') FROM events
              WHERE id > ?1 AND id <= ?2 AND kind = ?3",
        )?;
        let rows = stmt.query_map((range.0, range.1, EventKind::MessageDeleted.name()), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
        })?;
        for row in rows {
            let (session, message) = row?;
            if let Some(message) = message.and_then(number) {
                deleted.push((session, message));
            }
        }
    }
    Ok(Since {
        last_id,
        written,
        deleted,
    })
}

/// A number the log holds as a room id (never negative).
fn number(n: i64) -> Option<u64> {
    u64::try_from(n).ok()
}

/// What one read learns of the classes answers point into, each class read once.
#[derive(Default)]
struct Classes {
    /// Questions asked, by class: number -> text.
    questions: HashMap<i64, HashMap<u64, String>>,
    /// Chat messages, by class: number -> (text, author's role).
    messages: HashMap<i64, HashMap<u64, (String, String)>>,
    /// Deleted chat messages, by class.
    deleted: HashMap<i64, HashSet<u64>>,
    /// Who answered, by class and author: their role.
    roles: HashMap<(i64, String), Option<String>>,
    titles: HashMap<i64, String>,
}

type Tx<'a> = lectern_store::rusqlite::Transaction<'a>;

impl Classes {
    fn question(
        &mut self,
        tx: &Tx<'_>,
        session: i64,
        question: u64,
    ) -> Result<Option<String>, lectern_store::StoreError> {
        if let Entry::Vacant(slot) = self.questions.entry(session) {
            let mut stmt = tx.prepare_cached(
                "SELECT json_extract(payload, '$.event.question.id'),
                        json_extract(payload, '$.event.question.text')
                   FROM events WHERE session_id = ?1 AND kind = ?2",
            )?;
            let rows = stmt.query_map((session, EventKind::QuestionAsked.name()), |r| {
                Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<String>>(1)?))
            })?;
            let mut asked = HashMap::new();
            for row in rows {
                if let (Some(id), Some(text)) = row? {
                    asked.insert(number(id).unwrap_or(0), text);
                }
            }
            slot.insert(asked);
        }
        Ok(self
            .questions
            .get(&session)
            .and_then(|asked| asked.get(&question))
            .cloned())
    }

    fn message(
        &mut self,
        tx: &Tx<'_>,
        session: i64,
        message: u64,
    ) -> Result<Option<(String, String)>, lectern_store::StoreError> {
        if let Entry::Vacant(slot) = self.messages.entry(session) {
            let mut stmt = tx.prepare_cached(
                "SELECT json_extract(payload, '$.event.message.id'),
                        json_extract(payload, '$.event.message.text'),
                        json_extract(payload, '$.event.message.role')
                   FROM events WHERE session_id = ?1 AND kind IN (?2, ?3)",
            )?;
            let rows = stmt.query_map(
                (
                    session,
                    EventKind::ChatSent.name(),
                    EventKind::HoldApproved.name(),
                ),
                |r| {
                    Ok((
                        r.get::<_, Option<i64>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )?;
            let mut sent = HashMap::new();
            for row in rows {
                if let (Some(id), Some(text), Some(role)) = row? {
                    sent.insert(number(id).unwrap_or(0), (text, role));
                }
            }
            slot.insert(sent);
        }
        Ok(self
            .messages
            .get(&session)
            .and_then(|sent| sent.get(&message))
            .cloned())
    }

    fn deleted(
        &mut self,
        tx: &Tx<'_>,
        session: i64,
    ) -> Result<&HashSet<u64>, lectern_store::StoreError> {
        if let Entry::Vacant(slot) = self.deleted.entry(session) {
            let mut stmt = tx.prepare_cached(
                "SELECT json_extract(payload, '$.event.message') FROM events
                  WHERE session_id = ?1 AND kind = ?2",
            )?;
            let rows = stmt.query_map((session, EventKind::MessageDeleted.name()), |r| {
                r.get::<_, Option<i64>>(0)
            })?;
            let mut gone = HashSet::new();
            for row in rows {
                if let Some(id) = row?.and_then(number) {
                    gone.insert(id);
                }
            }
            slot.insert(gone);
        }
        Ok(self.deleted.entry(session).or_default())
    }

    fn role(
        &mut self,
        tx: &Tx<'_>,
        session: i64,
        actor: Option<&str>,
    ) -> Result<Option<String>, lectern_store::StoreError> {
        let Some(actor) = actor else { return Ok(None) };
        let key = (session, actor.to_owned());
        if let Some(role) = self.roles.get(&key) {
            return Ok(role.clone());
        }
        use lectern_store::rusqlite::OptionalExtension;
        let role: Option<String> = tx
            .prepare_cached(
                "SELECT json_extract(payload, '$.event.role') FROM events
                  WHERE session_id = ?1 AND kind = ?2 AND actor = ?3 LIMIT 1",
            )?
            .query_row((session, EventKind::ViewerJoined.name(), actor), |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        self.roles.insert(key, role.clone());
        Ok(role)
    }

    fn title(&mut self, tx: &Tx<'_>, session: i64) -> Result<String, lectern_store::StoreError> {
        if let Some(title) = self.titles.get(&session) {
            return Ok(title.clone());
        }
        use lectern_store::rusqlite::OptionalExtension;
        let title: String = tx
            .prepare_cached("SELECT title FROM live_sessions WHERE id = ?1")?
            .query_row([session], |r| r.get(0))
            .optional()?
            .unwrap_or_default();
        self.titles.insert(session, title.clone());
        Ok(title)
    }
}

/// Where a class's answer comes from, in words: "answered by the TA in “Week 4”, 2026-12-07
/// (chat)".
fn class_source(written: &Written, zone: &crate::experiments::Zone) -> String {
    let who = match written.role.as_deref() {
        Some(r) if r == role_name(Role::Ta) => "the TA",
        Some(r) if r == role_name(Role::Instructor) => "the instructor",
        _ => "staff",
    };
    let mut title: String = written.title.chars().take(MAX_TITLE_IN_SOURCE).collect();
    if written.title.chars().count() > MAX_TITLE_IN_SOURCE {
        title.push('…');
    }
    let date = zone.local_date(written.at_ms);
    let place = match written.source {
        AnswerSource::StaffReply { .. } => "chat",
        _ => "Q&A",
    };
    format!("answered by {who} in “{title}”, {date} ({place})")
}

impl KnownAnswers {
    /// Adds what staff wrote; an answer the index refuses (over its limits, blanked by chat
    /// retention) is left out, not an error.
    fn learn(&mut self, since: Since, zone: &crate::experiments::Zone) {
        for written in since.written {
            let label = class_source(&written, zone);
            let known = KnownAnswer {
                question: written.question,
                answer: written.answer,
                source: written.source,
                at_ms: written.at_ms,
            };
            if self.index.insert(known).is_ok() {
                self.labels.insert(written.source, label);
                if let Some((reply, asked)) = written.messages {
                    self.chat_messages.insert((written.session, reply));
                    self.chat_messages.insert((written.session, asked));
                }
            }
        }
        self.last_id = self.last_id.max(since.last_id);
    }

    fn source_in_words(&self, source: AnswerSource) -> String {
        match source {
            AnswerSource::Faq { row } => format!("the school's FAQ, line {row}"),
            other => self
                .labels
                .get(&other)
                .cloned()
                .unwrap_or_else(|| "an answer given in class".to_owned()),
        }
    }
}

/// The confidence as staff see it: two decimals.
fn shown(confidence: f64) -> f64 {
    (confidence * 100.0).round() / 100.0
}

impl Studio {
    /// A suggested answer to a student's message, from the school's FAQ and past answers.
    pub async fn suggest_answer(&self, args: SuggestAnswer) -> Result<AnswerSuggestions, ApiError> {
        let text: String = args.text.chars().take(MAX_MESSAGE_CHARS).collect();
        if args.chat && !reads_as_question(&text) {
            let known = self.known_answer(None, DEFAULT_THRESHOLD).await?.1;
            return Ok(AnswerSuggestions {
                suggestion: None,
                known,
            });
        }
        let (suggestion, known) = self.known_answer(Some(&text), DEFAULT_THRESHOLD).await?;
        Ok(AnswerSuggestions { suggestion, known })
    }

    /// The best known answer to `text` at or over `threshold` (none without a text: the index is
    /// only brought up to date), and how many answers are known.
    async fn known_answer(
        &self,
        text: Option<&str>,
        threshold: f64,
    ) -> Result<(Option<AnswerSuggestion>, u32), ApiError> {
        let store = self.store().await?;
        let mut cache = self.inner.answers.lock().await;
        let mut known = match cache.known.take() {
            Some(kept) => kept,
            None => self.fresh_index(&store).await?,
        };
        let since = store
            .read(move |conn| read_since(conn, known.last_id))
            .await?;
        let forgets = since
            .deleted
            .iter()
            .any(|message| known.chat_messages.contains(message));
        if forgets {
            // A message it learned from was deleted: learn again without it.
            known = self.fresh_index(&store).await?;
            let since = store.read(move |conn| read_since(conn, 0)).await?;
            known.learn(since, &self.time_zone().await?);
        } else if since.written.is_empty() {
            known.last_id = known.last_id.max(since.last_id);
        } else {
            known.learn(since, &self.time_zone().await?);
        }
        let suggestion = text
            .and_then(|text| suggest(&known.index, text, threshold))
            .map(|s| AnswerSuggestion {
                source: known.source_in_words(s.source),
                answer: s.answer,
                question: s.question,
                confidence: shown(s.confidence),
            });
        let count = u32::try_from(known.index.len()).unwrap_or(u32::MAX);
        cache.known = Some(known);
        Ok((suggestion, count))
    }

    /// Forget the index: the next request builds it again from the FAQ and the log (after an
    /// import, an erasure, blanked chat).
    pub(crate) async fn forget_known_answers(&self) {
        self.inner.answers.lock().await.known = None;
    }

    /// Replace the school's FAQ with a CSV file's rows (all or nothing, errors by line).
    pub async fn import_faq(&self, args: ImportFaq) -> Result<FaqImported, ApiError> {
        if args.text.len() > MAX_FAQ_BYTES {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "a FAQ file is at most 4 MiB",
            ));
        }
        let rows = parse_faq(&args.text).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidInput,
                format!("the FAQ was not imported: {e}"),
            )
        })?;
        let at = now_ms();
        let entries = rows
            .into_iter()
            .map(|r| lectern_store::FaqEntry {
                line: r.line,
                question: r.question,
                answer: r.answer,
                imported_at_ms: at,
            })
            .collect();
        let stored = self.store().await?.replace_faq(entries).await?;
        // The next suggestion rebuilds the index from the new list.
        self.forget_known_answers().await;
        Ok(FaqImported {
            entries: u32::try_from(stored).unwrap_or(u32::MAX),
        })
    }

    /// The index of the school's FAQ (the demo's embedded one for a demo school without one),
    /// before anything of the log is read.
    async fn fresh_index(&self, store: &lectern_store::Store) -> Result<KnownAnswers, ApiError> {
        let fresh = |index| KnownAnswers {
            index,
            last_id: 0,
            labels: HashMap::new(),
            chat_messages: HashSet::new(),
        };
        let faq = store.faq().await?;
        if faq.is_empty() && store.school().await?.is_demo {
            return Ok(fresh(lectern_insights::answers::demo_index(now_ms())));
        }
        let mut index = AnswerIndex::default();
        for entry in faq {
            // The import checked every row against the same limits.
            let _ = index.insert(KnownAnswer {
                question: entry.question,
                answer: entry.answer,
                source: AnswerSource::Faq { row: entry.line },
                at_ms: entry.imported_at_ms,
            });
        }
        Ok(fresh(index))
    }

    /// "Answer known questions automatically" and its threshold.
    pub async fn answer_settings(
        &self,
        _args: crate::api::NoArgs,
    ) -> Result<AnswerSettingsInfo, ApiError> {
        Ok(AnswerSettingsInfo {
            settings: self.auto_answer_settings().await?,
            min_threshold: MIN_AUTO_THRESHOLD,
        })
    }

    async fn auto_answer_settings(&self) -> Result<AnswerSettings, ApiError> {
        let raw = self.store().await?.setting(SETTINGS_KEY).await?;
        // A setting this version cannot read is the default: off.
        Ok(raw
            .and_then(|raw| serde_json::from_str(&raw).ok())
            .unwrap_or_default())
    }

    /// Turn automatic answers on or off, with their threshold.
    pub async fn set_answer_settings(
        &self,
        args: AnswerSettings,
    ) -> Result<AnswerSettingsInfo, ApiError> {
        if !(MIN_AUTO_THRESHOLD..=1.0).contains(&args.threshold) {
            return Err(ApiError::invalid(format!(
                "the threshold is a confidence from {MIN_AUTO_THRESHOLD} to 1"
            )));
        }
        let value = serde_json::to_string(&args)
            .map_err(|e| ApiError::internal(format!("encoding the setting: {e}")))?;
        self.store()
            .await?
            .set_setting(SETTINGS_KEY, &value)
            .await?;
        Ok(AnswerSettingsInfo {
            settings: args,
            min_threshold: MIN_AUTO_THRESHOLD,
        })
    }

    /// A student's question just asked: answered by the room, marked automatic, if the
    /// instructor turned automatic answers on and the best known answer is sure enough.
    async fn answer_automatically(
        &self,
        room: &LiveRoom,
        question: &Question,
    ) -> Result<(), ApiError> {
        let settings = self.auto_answer_settings().await?;
        if !settings.auto_answer {
            return Ok(());
        }
        let Some(known) = self
            .known_answer(Some(&question.text), settings.threshold)
            .await?
            .0
        else {
            return Ok(());
        };
        let confidence = (known.confidence * 100.0).round().clamp(0.0, 100.0) as u8;
        room.submit(Input::AnswerAutomatically {
            question: question.id,
            answer: known.answer,
            automatic: AutomaticAnswer {
                source: known.source,
                confidence,
            },
        })
        .await?;
        Ok(())
    }
}

/// Build the answer assistant's index for a class going live, then answer students' new
/// questions in its room automatically while the setting is on. The task holds the studio
/// weakly and ends with the room.
pub(crate) fn follow(studio: &Studio, room: &LiveRoom) {
    let mut deliveries = room.subscribe();
    let weak = Arc::downgrade(&studio.inner);
    let room = room.clone();
    tokio::spawn(async move {
        // Build the index now, so the first suggestion staff ask for in class does not wait for
        // a read of the whole log (the room's events meanwhile wait in `deliveries`).
        if let Some(inner) = weak.upgrade()
            && let Err(err) = (Studio { inner })
                .known_answer(None, DEFAULT_THRESHOLD)
                .await
        {
            tracing::warn!(
                code = err.code.as_str(),
                "the answer assistant's index could not be built: {}",
                err.message
            );
        }
        loop {
            tokio::select! {
                () = room.ended() => break,
                delivery = deliveries.recv() => match delivery {
                    Ok(delivery) => {
                        let Event::QuestionAsked { question } = &delivery.record.event else {
                            continue;
                        };
                        // Staff's own questions go on the board at once; students' wait.
                        if question.state != QuestionState::Pending {
                            continue;
                        }
                        let Some(inner) = weak.upgrade() else { break };
                        let studio = Studio { inner };
                        if let Err(err) = studio.answer_automatically(&room, question).await {
                            tracing::warn!(code = err.code.as_str(), "a question could not be answered automatically: {}", err.message);
                        }
                    }
                    // Fell behind the room: those questions wait for staff.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "the answer assistant fell behind the room");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
}

//! The TA's answer assistant in the studio: staff ask for a suggestion beside a student's
//! question (`suggest_answer`), see the known answer, where it comes from and how sure the
//! assistant is, and send it (or an edit of it) as the question's written answer with one click.
//! It never answers students by itself.
//!
//! The index (`lectern_insights::answers`) holds the school's FAQ (`import_faq`; the demo
//! school's embedded FAQ until one is imported) and every question staff answered in writing
//! in a class (`question_answered` with an `answer`). It is built once and kept; answers given
//! since are added on the next request by reading only the log's newer rows.
//!
//! Not yet: staff replies in chat are not indexed (a chat message has no "reply to" link, so
//! which question it answers is unknown), and "answer known questions automatically above a
//! threshold" is not built.

use lectern_insights::answers::{
    AnswerIndex, AnswerSource, DEFAULT_THRESHOLD, KnownAnswer, parse_faq, suggest,
};
use lectern_room::EventKind;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

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
}

/// What staff see beside a question: a known answer, where it comes from, and how sure.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AnswerSuggestion {
    /// The answer to send (staff may edit it first).
    pub answer: String,
    /// The known question it answered.
    pub question: String,
    /// Where it comes from, in words ("the school's FAQ, line 12", "class 7's Q&A").
    pub source: String,
    /// How sure the assistant is that it answers the message, 0 to 1; only suggestions at or
    /// over the studio's threshold are given.
    pub confidence: f64,
}

/// The answer to `suggest_answer`: a suggestion, or none (nothing close enough, or not a
/// question: a greeting, thanks, a few words).
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

/// The kept index and the last log row it has read.
#[derive(Default)]
pub(crate) struct AnswerCache {
    index: Option<(AnswerIndex, i64)>,
}

/// The longest message the assistant reads.
const MAX_MESSAGE_CHARS: usize = 1_000;

impl Studio {
    /// A suggested answer to a student's message, from the school's FAQ and past answers.
    pub async fn suggest_answer(&self, args: SuggestAnswer) -> Result<AnswerSuggestions, ApiError> {
        let text: String = args.text.chars().take(MAX_MESSAGE_CHARS).collect();
        let store = self.store().await?;
        let mut cache = self.inner.answers.lock().await;
        let (mut index, mut last_id) = match cache.index.take() {
            Some(kept) => kept,
            None => (self.faq_index(&store).await?, 0),
        };
        // Answers written in class since the last request.
        let answered = store
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT a.id, a.session_id, a.at_ms, a.payload, q.payload FROM events a
                     JOIN events q ON q.session_id = a.session_id AND q.kind = ?2
                      AND json_extract(q.payload, '$.event.question.id')
                        = json_extract(a.payload, '$.event.question')
                     WHERE a.id > ?1 AND a.kind = ?3
                       AND json_extract(a.payload, '$.event.answer') IS NOT NULL
                     ORDER BY a.id",
                )?;
                let rows = stmt
                    .query_map(
                        (
                            last_id,
                            EventKind::QuestionAsked.name(),
                            EventKind::QuestionAnswered.name(),
                        ),
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, i64>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, String>(4)?,
                            ))
                        },
                    )?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        for (id, session, at_ms, answer, asked) in answered {
            last_id = last_id.max(id);
            let answer: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
            let asked: serde_json::Value = serde_json::from_str(&asked).unwrap_or_default();
            let (Some(answer), Some(question), Some(number)) = (
                answer["event"]["answer"].as_str(),
                asked["event"]["question"]["text"].as_str(),
                asked["event"]["question"]["id"].as_u64(),
            ) else {
                continue;
            };
            // An answer the index refuses (over its limits) is left out, not an error.
            let _ = index.insert(KnownAnswer {
                question: question.to_owned(),
                answer: answer.to_owned(),
                source: AnswerSource::QandA {
                    session,
                    question: number,
                },
                at_ms,
            });
        }
        let suggestion = suggest(&index, &text, DEFAULT_THRESHOLD).map(|s| AnswerSuggestion {
            source: match s.source {
                AnswerSource::Faq { row } => format!("the school's FAQ, line {row}"),
                AnswerSource::QandA { session, .. } => format!("class {session}'s Q&A"),
                AnswerSource::StaffReply { session, .. } => format!("class {session}'s chat"),
            },
            answer: s.answer,
            question: s.question,
            confidence: (s.confidence * 100.0).round() / 100.0,
        });
        let known = u32::try_from(index.len()).unwrap_or(u32::MAX);
        cache.index = Some((index, last_id));
        Ok(AnswerSuggestions { suggestion, known })
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
        self.inner.answers.lock().await.index = None;
        Ok(FaqImported {
            entries: u32::try_from(stored).unwrap_or(u32::MAX),
        })
    }

    /// The index of the school's FAQ (the demo's embedded one for a demo school without one).
    async fn faq_index(&self, store: &lectern_store::Store) -> Result<AnswerIndex, ApiError> {
        let faq = store.faq().await?;
        if faq.is_empty() && store.school().await?.is_demo {
            return Ok(lectern_insights::answers::demo_index(now_ms()));
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
        Ok(index)
    }
}

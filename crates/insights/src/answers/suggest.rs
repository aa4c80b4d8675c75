//! From a student's message to a suggested answer with a confidence, or a refusal.

use serde::Serialize;

use super::index::{AnswerIndex, AnswerSource, QueryTerm, Scored};
use super::text::{normalize, says_enough};

/// The confidence under which nothing is suggested to staff. Chosen on the demo FAQ's
/// paraphrase sets (docs/answers.md): at 0.7, 49 of 56 suggestions are right and 3 unrelated
/// messages in 42 get one; at 0.5, 74 of 87 and 5 in 42.
pub const DEFAULT_THRESHOLD: f64 = 0.7;

/// The lowest threshold advised for answering students without staff ("answer known questions
/// automatically"): at 0.9, 2 answers in 26 were wrong on the demo sets and no unrelated
/// message was answered.
pub const AUTO_ANSWER_THRESHOLD: f64 = 0.9;

/// Distinct answers shown beside the suggestion.
pub const ALTERNATIVES: usize = 2;

/// One known answer that fits a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The answer to send.
    pub answer: String,
    /// The known question it answered (the phrasing closest to the message).
    pub question: String,
    /// Where it comes from: a FAQ row first, else the latest time it was given.
    pub source: AnswerSource,
    /// How sure retrieval is that it answers the message, in [0, 1].
    pub confidence: f64,
    /// Its distinct answer's number in the index (for evaluation).
    #[serde(skip)]
    pub(crate) entry: u32,
}

/// What staff see beside a student's message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The answer to send.
    pub answer: String,
    /// The known question it answered.
    pub question: String,
    /// Where it comes from.
    pub source: AnswerSource,
    /// In [0, 1]; at or over the threshold it was asked with.
    pub confidence: f64,
    /// The next distinct answers, best first (at most [`ALTERNATIVES`]), whatever their
    /// confidence.
    pub alternatives: Vec<Candidate>,
}

/// Why a message gets no candidates at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// A greeting, thanks, or too few words to be a question.
    NotAQuestion,
    /// Nothing known shares a word with it.
    NoMatch,
}

/// The logistic calibration of [`match_strength`] into a chance of being right: fit on the demo
/// FAQ's English and Chinese paraphrases (right or wrong best answer) and unrelated messages
/// (always wrong). Fit on alternate halves of them instead, they move to (-1.5, 12.8) and
/// (-2.4, 18.9): a calibration from 200 messages, to refit on a school's own data.
const CALIBRATION_INTERCEPT: f64 = -1.9;
/// See [`CALIBRATION_INTERCEPT`].
const CALIBRATION_SLOPE: f64 = 15.6;

/// How well the best answer fits, before calibration: how much of the message it covers
/// (IDF-weighted share of the message's terms found in the known question, or at half weight in
/// its answer) times how clearly it beats its strongest rival (the relative margin of BM25
/// scores over the runner-up; an alternative's rival is the best, so its margin is none). Full
/// coverage with a clear lead is 1; two answers tied halve it; a message that shares only its
/// common words with the answer stays low.
pub(crate) fn match_strength(coverage: f64, score: f64, rival_score: f64) -> f64 {
    let margin = if score > 0.0 {
        ((score - rival_score) / score).clamp(0.0, 1.0)
    } else {
        0.0
    };
    coverage.clamp(0.0, 1.0) * (0.5 + 0.5 * margin)
}

/// The chance the answer is right, in [0, 1], from its [`match_strength`].
pub(crate) fn confidence(strength: f64) -> f64 {
    1.0 / (1.0 + (-(CALIBRATION_INTERCEPT + CALIBRATION_SLOPE * strength)).exp())
}

impl AnswerIndex {
    /// The `k` best distinct answers for a message with their confidence, best first, whatever
    /// the threshold; or why there are none. Reads the first
    /// [`IndexLimits::max_question_chars`](super::IndexLimits) characters of the message.
    pub fn candidates(&self, text: &str, k: usize) -> Result<Vec<Candidate>, Refusal> {
        let text: String = text
            .chars()
            .take(self.limits().max_question_chars)
            .collect();
        let normalized = normalize(&text);
        if !says_enough(&normalized) {
            return Err(Refusal::NotAQuestion);
        }
        let query = self.query_terms(&normalized);
        // At least two, for the margin of the best.
        let ranked = self.rank(&query, k.max(2));
        if ranked.is_empty() {
            return Err(Refusal::NoMatch);
        }
        Ok(ranked
            .iter()
            .take(k)
            .enumerate()
            .map(|(i, scored)| {
                // The strongest competitor: the runner-up for the best, the best for the others.
                let rival = if i == 0 {
                    ranked.get(1)
                } else {
                    ranked.first()
                };
                self.candidate(&query, scored, rival.map_or(0.0, |s| s.score))
            })
            .collect())
    }

    fn candidate(&self, query: &[QueryTerm], scored: &Scored, next_score: f64) -> Candidate {
        let entry = &self.entries[scored.entry as usize];
        let source = entry
            .sources
            .iter()
            .find(|s| matches!(s, AnswerSource::Faq { .. }))
            .or(entry.sources.last())
            .copied()
            .unwrap_or(AnswerSource::Faq { row: 0 });
        Candidate {
            answer: entry.answer.clone(),
            question: self.doc_question(scored.doc).to_owned(),
            source,
            confidence: confidence(match_strength(
                self.coverage(query, scored.doc),
                scored.score,
                next_score,
            )),
            entry: scored.entry,
        }
    }
}

/// The answer to suggest for a student's message, or `None`: below `threshold`, for greetings
/// and messages too short to be a question, and when nothing known matches.
pub fn suggest(index: &AnswerIndex, text: &str, threshold: f64) -> Option<Suggestion> {
    let mut found = index.candidates(text, 1 + ALTERNATIVES).ok()?;
    if found.is_empty() || found[0].confidence < threshold {
        return None;
    }
    let best = found.remove(0);
    Some(Suggestion {
        answer: best.answer,
        question: best.question,
        source: best.source,
        confidence: best.confidence,
        alternatives: found,
    })
}

//! The index of known answers: distinct answers, each with the phrasings of the question it
//! answered, searchable by BM25 over the questions (and, with a small weight, the answer).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::text::{normalize, terms};

/// Where a known answer comes from, so staff can see why it is suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerSource {
    /// A row of the school's FAQ file (its line in the file, 1 = the header).
    Faq {
        /// The line.
        row: u64,
    },
    /// A question of a class's Q&A board, answered by staff.
    QandA {
        /// The class (session id).
        session: i64,
        /// The question's number in that class.
        question: u64,
    },
    /// A reply the instructor or a TA wrote in a class's chat.
    StaffReply {
        /// The class (session id).
        session: i64,
        /// The reply's message number in that class.
        message: u64,
    },
}

/// A question that was answered before, and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownAnswer {
    /// The question as it was asked (or as the FAQ words it).
    pub question: String,
    /// The answer staff gave (sent as is when a suggestion is used).
    pub answer: String,
    /// Where it comes from.
    pub source: AnswerSource,
    /// When it was given (ms since the epoch); the FAQ's import time for FAQ rows.
    pub at_ms: i64,
}

/// The index's size limits. Over them, an insert is refused with a typed error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexLimits {
    /// Most known answers (distinct question-answer pairs, after duplicates collapse).
    pub max_answers: usize,
    /// Longest question, in characters. Longer questions asked by students are read up to it.
    pub max_question_chars: usize,
    /// Longest answer, in characters.
    pub max_answer_chars: usize,
}

/// Most known answers by default: five times the 10,000 the latency target is measured at.
pub const MAX_ANSWERS: usize = 50_000;
/// Longest question by default, in characters (a chat message is shorter).
pub const MAX_QUESTION_CHARS: usize = 500;
/// Longest answer by default, in characters.
pub const MAX_ANSWER_CHARS: usize = 2_000;

impl Default for IndexLimits {
    fn default() -> Self {
        IndexLimits {
            max_answers: MAX_ANSWERS,
            max_question_chars: MAX_QUESTION_CHARS,
            max_answer_chars: MAX_ANSWER_CHARS,
        }
    }
}

/// Why a known answer was not added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The index already holds its maximum of known answers.
    #[error("the index is full ({max} known answers)")]
    Full {
        /// The limit.
        max: usize,
    },
    /// The question is empty.
    #[error("the question is empty")]
    EmptyQuestion,
    /// The answer is empty.
    #[error("the answer is empty")]
    EmptyAnswer,
    /// The question has nothing to search by (only punctuation or symbols).
    #[error("the question has no words to search by")]
    NoTerms,
    /// The question is over the limit.
    #[error("the question is longer than {max} characters")]
    QuestionTooLong {
        /// The limit.
        max: usize,
    },
    /// The answer is over the limit.
    #[error("the answer is longer than {max} characters")]
    AnswerTooLong {
        /// The limit.
        max: usize,
    },
}

/// One known answer of a batch was refused, so none of the batch was added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("known answer {position} (0-based): {error}")]
pub struct BatchError {
    /// Its position in the batch.
    pub position: usize,
    /// Why.
    pub error: AnswerError,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// A new question or a new answer joined the index.
    New,
    /// The same question with the same answer was known: its source was added to it.
    Collapsed,
}

/// Sources kept per distinct answer: FAQ rows first, then the most recent.
const MAX_SOURCES_KEPT: usize = 8;

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;
/// BM25's length normalisation.
const B: f64 = 0.75;
/// How much the answer's own words count beside the question's: as much (measured on the demo
/// paraphrases: English top-1 0.41 at 0.3, 0.51 at 1.0; Chinese 0.69 and 0.73), since students
/// often word a question with the answer's words ("recorded", "money back").
pub(crate) const ANSWER_WEIGHT: f64 = 1.0;

/// How much a message's term found only in the answer counts toward its coverage.
pub(crate) const ANSWER_COVERAGE: f64 = 0.25;

/// One distinct answer and where it was given.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) answer: String,
    pub(crate) sources: Vec<AnswerSource>,
    pub(crate) last_at_ms: i64,
    /// Its length in terms (the answer field).
    len: u32,
    /// Its distinct terms, sorted (for coverage).
    term_set: Vec<u32>,
    /// Its first question phrasing.
    first_doc: u32,
}

/// One phrasing of a question, pointing at its answer.
#[derive(Debug, Clone)]
pub(crate) struct QuestionDoc {
    pub(crate) entry: u32,
    pub(crate) question: String,
    /// Its distinct terms, sorted (for coverage).
    pub(crate) term_set: Vec<u32>,
    /// Its length in terms.
    len: u32,
}

/// The known answers, searchable. Built from the FAQ and the answers given in class; a new
/// answer joins at once ([`AnswerIndex::insert`]). Pure: no IO, no clock.
#[derive(Debug, Clone, Default)]
pub struct AnswerIndex {
    limits: IndexLimits,
    vocabulary: HashMap<String, u32>,
    /// Per term: (question doc, term frequency).
    question_postings: Vec<Vec<(u32, u32)>>,
    /// Per term: (entry, term frequency) in the answers' text.
    answer_postings: Vec<Vec<(u32, u32)>>,
    pub(crate) docs: Vec<QuestionDoc>,
    pub(crate) entries: Vec<Entry>,
    by_answer: HashMap<String, u32>,
    by_question: HashMap<(u32, String), u32>,
    question_terms_total: u64,
    answer_terms_total: u64,
}

/// A query's term: its id when the index knows it, and its weight for coverage.
#[derive(Debug, Clone)]
pub(crate) struct QueryTerm {
    pub(crate) id: Option<u32>,
    /// IDF over the question phrasings (the highest possible one for an unknown term).
    pub(crate) idf: f64,
}

/// A distinct answer's score for a query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scored {
    pub(crate) entry: u32,
    /// The best of its question phrasings.
    pub(crate) doc: u32,
    pub(crate) score: f64,
}

fn idf(df: usize, n: usize) -> f64 {
    let (df, n) = (df as f64, n as f64);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

fn bm25(tf: u32, len: u32, avg_len: f64) -> f64 {
    let tf = f64::from(tf);
    tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * f64::from(len) / avg_len.max(1.0)))
}

/// Term counts of a text, in order of first appearance.
fn counted(text: &str) -> Vec<(String, u32)> {
    let mut counts: Vec<(String, u32)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for term in terms(&normalize(text)).terms {
        match at.get(&term) {
            Some(&i) => counts[i].1 += 1,
            None => {
                at.insert(term.clone(), counts.len());
                counts.push((term, 1));
            }
        }
    }
    counts
}

fn count_len(counts: &[(String, u32)]) -> u32 {
    counts.iter().map(|(_, n)| n).sum()
}

impl AnswerIndex {
    /// An empty index with these limits.
    pub fn new(limits: IndexLimits) -> Self {
        AnswerIndex {
            limits,
            ..AnswerIndex::default()
        }
    }

    /// Its limits.
    pub fn limits(&self) -> IndexLimits {
        self.limits
    }

    /// Known answers held (distinct question-answer pairs).
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether nothing is known yet.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Distinct answers held (several questions may share one).
    pub fn distinct_answers(&self) -> usize {
        self.entries.len()
    }

    /// Checks one known answer against the limits; returns its keys (normalised question and
    /// answer).
    fn check(&self, known: &KnownAnswer) -> Result<(String, String), AnswerError> {
        let question = known.question.trim();
        let answer = known.answer.trim();
        if question.is_empty() {
            return Err(AnswerError::EmptyQuestion);
        }
        if answer.is_empty() {
            return Err(AnswerError::EmptyAnswer);
        }
        if question.chars().count() > self.limits.max_question_chars {
            return Err(AnswerError::QuestionTooLong {
                max: self.limits.max_question_chars,
            });
        }
        if answer.chars().count() > self.limits.max_answer_chars {
            return Err(AnswerError::AnswerTooLong {
                max: self.limits.max_answer_chars,
            });
        }
        let question_key = normalize(question);
        if terms(&question_key).terms.is_empty() {
            return Err(AnswerError::NoTerms);
        }
        Ok((question_key, normalize(answer)))
    }

    /// Whether this pair is already known (it would collapse).
    fn known_pair(&self, question_key: &str, answer_key: &str) -> bool {
        self.by_answer.get(answer_key).is_some_and(|&entry| {
            self.by_question
                .contains_key(&(entry, question_key.to_owned()))
        })
    }

    /// Adds a known answer at once. The same question with the same answer (after
    /// normalisation) collapses into the one already known; the same answer to another
    /// question adds a phrasing to that answer.
    pub fn insert(&mut self, known: KnownAnswer) -> Result<Inserted, AnswerError> {
        let (question_key, answer_key) = self.check(&known)?;
        let collapses = self.known_pair(&question_key, &answer_key);
        if !collapses && self.docs.len() >= self.limits.max_answers {
            return Err(AnswerError::Full {
                max: self.limits.max_answers,
            });
        }
        let entry = match self.by_answer.get(&answer_key) {
            Some(&entry) => entry,
            None => self.add_entry(&known, answer_key),
        };
        self.note_source(entry, known.source, known.at_ms, known.answer.trim());
        if collapses {
            return Ok(Inserted::Collapsed);
        }
        self.add_doc(entry, known.question.trim(), question_key);
        Ok(Inserted::New)
    }

    /// Adds known answers all or none: every one is checked, and the limit with them, before
    /// any is added.
    pub fn insert_all(&mut self, batch: Vec<KnownAnswer>) -> Result<usize, BatchError> {
        let mut new_pairs: std::collections::HashSet<(String, String)> = Default::default();
        for (position, known) in batch.iter().enumerate() {
            let (question_key, answer_key) = self
                .check(known)
                .map_err(|error| BatchError { position, error })?;
            if !self.known_pair(&question_key, &answer_key) {
                new_pairs.insert((question_key, answer_key));
            }
            if self.docs.len() + new_pairs.len() > self.limits.max_answers {
                return Err(BatchError {
                    position,
                    error: AnswerError::Full {
                        max: self.limits.max_answers,
                    },
                });
            }
        }
        let mut added = 0;
        for (position, known) in batch.into_iter().enumerate() {
            match self.insert(known) {
                Ok(Inserted::New) => added += 1,
                Ok(Inserted::Collapsed) => {}
                // Checked above; kept typed rather than unwrapped.
                Err(error) => return Err(BatchError { position, error }),
            }
        }
        Ok(added)
    }

    fn term_id(&mut self, term: String) -> u32 {
        let next = self.vocabulary.len() as u32;
        let id = *self.vocabulary.entry(term).or_insert(next);
        if id == next {
            self.question_postings.push(Vec::new());
            self.answer_postings.push(Vec::new());
        }
        id
    }

    fn add_entry(&mut self, known: &KnownAnswer, answer_key: String) -> u32 {
        let entry = self.entries.len() as u32;
        let counts = counted(&known.answer);
        let len = count_len(&counts);
        let mut term_set = Vec::with_capacity(counts.len());
        for (term, tf) in counts {
            let id = self.term_id(term);
            self.answer_postings[id as usize].push((entry, tf));
            term_set.push(id);
        }
        term_set.sort_unstable();
        self.answer_terms_total += u64::from(len);
        self.entries.push(Entry {
            answer: known.answer.trim().to_owned(),
            sources: Vec::new(),
            last_at_ms: known.at_ms,
            len,
            term_set,
            // The phrasing added right after the entry (an entry never stays without one).
            first_doc: self.docs.len() as u32,
        });
        self.by_answer.insert(answer_key, entry);
        entry
    }

    fn note_source(&mut self, entry: u32, source: AnswerSource, at_ms: i64, answer: &str) {
        let Some(e) = self.entries.get_mut(entry as usize) else {
            return;
        };
        if !e.sources.contains(&source) {
            e.sources.push(source);
        }
        if e.sources.len() > MAX_SOURCES_KEPT {
            // Drop the oldest source that is not a FAQ row (the FAQ is the school's own word).
            let oldest = e
                .sources
                .iter()
                .position(|s| !matches!(s, AnswerSource::Faq { .. }))
                .unwrap_or(0);
            e.sources.remove(oldest);
        }
        if at_ms >= e.last_at_ms {
            e.last_at_ms = at_ms;
            answer.clone_into(&mut e.answer); // the latest wording of the same answer
        }
    }

    fn add_doc(&mut self, entry: u32, question: &str, question_key: String) {
        let doc = self.docs.len() as u32;
        let counts = counted(question);
        let len = count_len(&counts);
        let mut term_set = Vec::with_capacity(counts.len());
        for (term, tf) in counts {
            let id = self.term_id(term);
            self.question_postings[id as usize].push((doc, tf));
            term_set.push(id);
        }
        term_set.sort_unstable();
        self.question_terms_total += u64::from(len);
        self.docs.push(QuestionDoc {
            entry,
            question: question.to_owned(),
            term_set,
            len,
        });
        self.by_question.insert((entry, question_key), doc);
    }

    /// The query's distinct terms with their IDF over the question phrasings.
    pub(crate) fn query_terms(&self, normalized: &str) -> Vec<QueryTerm> {
        let n = self.docs.len();
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for term in terms(normalized).terms {
            if seen.contains(&term) {
                continue;
            }
            let id = self.vocabulary.get(&term).copied();
            let df = id.map_or(0, |id| self.question_postings[id as usize].len());
            out.push(QueryTerm {
                id,
                idf: idf(df, n),
            });
            seen.push(term);
        }
        out
    }

    /// Distinct answers by BM25 score, best first (the best phrasing of each, plus its answer's
    /// words at [`ANSWER_WEIGHT`]); at most `k`.
    pub(crate) fn rank(&self, query: &[QueryTerm], k: usize) -> Vec<Scored> {
        if self.docs.is_empty() {
            return Vec::new();
        }
        let avg_question = self.question_terms_total as f64 / self.docs.len() as f64;
        let avg_answer = self.answer_terms_total as f64 / self.entries.len().max(1) as f64;
        let mut doc_scores = vec![0.0f64; self.docs.len()];
        let mut entry_answer_scores = vec![0.0f64; self.entries.len()];
        for term in query {
            let Some(id) = term.id else { continue };
            for &(doc, tf) in &self.question_postings[id as usize] {
                let len = self.docs[doc as usize].len;
                doc_scores[doc as usize] += term.idf * bm25(tf, len, avg_question);
            }
            let postings = &self.answer_postings[id as usize];
            let answer_idf = idf(postings.len(), self.entries.len());
            for &(entry, tf) in postings {
                let len = self.entries[entry as usize].len;
                entry_answer_scores[entry as usize] += answer_idf * bm25(tf, len, avg_answer);
            }
        }
        // The best phrasing of each answer.
        let mut best: Vec<Option<(u32, f64)>> = vec![None; self.entries.len()];
        for (doc, &score) in doc_scores.iter().enumerate() {
            if score <= 0.0 {
                continue;
            }
            let entry = self.docs[doc].entry as usize;
            if best[entry].is_none_or(|(_, s)| score > s) {
                best[entry] = Some((doc as u32, score));
            }
        }
        let mut ranked: Vec<Scored> = best
            .iter()
            .enumerate()
            .filter_map(|(entry, b)| {
                let answer_score = ANSWER_WEIGHT * entry_answer_scores[entry];
                let (doc, score) = match b {
                    Some((doc, score)) => (*doc, score + answer_score),
                    // Only the answer's words match: its first phrasing stands for it.
                    None if answer_score > 0.0 => (self.entries[entry].first_doc, answer_score),
                    None => return None,
                };
                Some(Scored {
                    entry: entry as u32,
                    doc,
                    score,
                })
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| {
                    let at = |s: &Scored| self.entries[s.entry as usize].last_at_ms;
                    at(b).cmp(&at(a)) // the more recent answer first on a tie
                })
                .then(a.entry.cmp(&b.entry))
        });
        ranked.truncate(k);
        ranked
    }

    /// The IDF-weighted share of the query's terms that this phrasing contains, in [0, 1]; a
    /// term found only in the answer counts [`ANSWER_COVERAGE`] of its weight.
    pub(crate) fn coverage(&self, query: &[QueryTerm], doc: u32) -> f64 {
        let Some(doc) = self.docs.get(doc as usize) else {
            return 0.0;
        };
        let Some(entry) = self.entries.get(doc.entry as usize) else {
            return 0.0;
        };
        let total: f64 = query.iter().map(|t| t.idf).sum();
        if total <= 0.0 {
            return 0.0;
        }
        let matched: f64 = query
            .iter()
            .map(|t| match t.id {
                Some(id) if doc.term_set.binary_search(&id).is_ok() => t.idf,
                Some(id) if entry.term_set.binary_search(&id).is_ok() => ANSWER_COVERAGE * t.idf,
                _ => 0.0,
            })
            .sum();
        matched / total
    }

    /// The question phrasing, by its doc number.
    pub(crate) fn doc_question(&self, doc: u32) -> &str {
        self.docs
            .get(doc as usize)
            .map_or("", |d| d.question.as_str())
    }

    /// The distinct answer a normalised question phrasing belongs to, if it is known.
    pub(crate) fn entries_of_question(&self, question: &str) -> Vec<u32> {
        let key = normalize(question);
        let mut found: Vec<u32> = self
            .by_question
            .iter()
            .filter(|((_, q), _)| *q == key)
            .map(|((entry, _), _)| *entry)
            .collect();
        found.sort_unstable();
        found
    }
}

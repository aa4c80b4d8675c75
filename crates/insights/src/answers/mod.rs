//! The TA's answer assistant: when a student asks something close to a question answered
//! before (the school's FAQ, past Q&A answers, staff replies in chat), the best known answer,
//! its source and a confidence; nothing below a threshold, nothing for greetings.
//!
//! Retrieval is local and the same for Chinese and English: text is folded ([`normalize`]),
//! cut into English words (stop words dropped, lightly stemmed) and CJK characters with their
//! bigrams, and ranked by BM25 over the known questions and their answers. Duplicates (the same question answered the same way in several classes) collapse
//! into one known answer; the same answer to differently worded questions is one answer with
//! several phrasings. See docs/answers.md for the confidence and the threshold.
//!
//! ```
//! use lectern_insights::answers::{AnswerIndex, DEFAULT_THRESHOLD, parse_faq, suggest};
//!
//! let faq = parse_faq("question,answer\nHow do I get a refund?,Write to us within 14 days.\n")?;
//! let mut index = AnswerIndex::default();
//! index.insert_all(faq.iter().map(|row| row.known_answer(0)).collect())?;
//! let s = suggest(&index, "how can I get my refund", DEFAULT_THRESHOLD).expect("a suggestion");
//! assert_eq!(s.answer, "Write to us within 14 days.");
//! assert!(suggest(&index, "hello everyone!", DEFAULT_THRESHOLD).is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//! - `text.rs`: normalisation, terms, the greeting and too-short test.
//! - `index.rs`: [`KnownAnswer`], [`AnswerIndex`] (insert, collapse, limits), BM25.
//! - `suggest.rs`: candidates with their confidence, [`suggest`] and its refusals.
//! - `faq.rs`: the FAQ CSV format and the paraphrase sets, all or nothing, errors by line.
//! - `eval.rs`: top-1/top-3 accuracy and refusals on paraphrase sets.

mod eval;
mod faq;
mod index;
mod suggest;
mod text;

pub use eval::{
    Accuracy, ConfidenceBin, DEMO_PARAPHRASES_EN, DEMO_PARAPHRASES_ZH, DEMO_UNRELATED,
    FaqEvaluation, evaluate,
};
pub use faq::{
    FaqErrorCode, FaqFileError, FaqRow, FaqRowError, MAX_FAQ_BYTES, MAX_FAQ_ROWS, Paraphrase,
    parse_faq, parse_paraphrases,
};
pub use index::{
    AnswerError, AnswerIndex, AnswerSource, BatchError, IndexLimits, Inserted, KnownAnswer,
    MAX_ANSWER_CHARS, MAX_ANSWERS, MAX_QUESTION_CHARS,
};
pub use suggest::{
    ALTERNATIVES, AUTO_ANSWER_THRESHOLD, Candidate, DEFAULT_THRESHOLD, Refusal, Suggestion, suggest,
};
pub use text::{normalize, reads_as_question};

/// The demo school's FAQ (`assets/faq/demo-faq.csv`): 40 entries in English, 40 in Chinese.
pub const DEMO_FAQ: &str = include_str!("../../../../assets/faq/demo-faq.csv");

/// The index of the demo school's FAQ, imported at `at_ms`.
pub fn demo_index(at_ms: i64) -> AnswerIndex {
    let mut index = AnswerIndex::default();
    // The embedded file is checked by the tests; were it ever broken, the index stays empty.
    if let Ok(rows) = parse_faq(DEMO_FAQ) {
        let _ = index.insert_all(rows.iter().map(|r| r.known_answer(at_ms)).collect());
    }
    index
}

//! How well retrieval finds the FAQ entry a held-out paraphrase means, and how often it stays
//! silent when it should (`lectern eval faq`).

use serde::Serialize;

use super::faq::{FaqErrorCode, FaqFileError, FaqRowError, Paraphrase};
use super::index::AnswerIndex;
use super::text::is_cjk;

/// The demo school's held-out English paraphrases (`assets/faq/paraphrases-en.csv`).
pub const DEMO_PARAPHRASES_EN: &str = include_str!("../../../../assets/faq/paraphrases-en.csv");
/// The demo school's held-out Chinese paraphrases (`assets/faq/paraphrases-zh.csv`).
pub const DEMO_PARAPHRASES_ZH: &str = include_str!("../../../../assets/faq/paraphrases-zh.csv");
/// Messages that must get no suggestion: greetings, thanks, questions about the lesson's content
/// or about nothing the FAQ covers (`assets/faq/unrelated.csv`).
pub const DEMO_UNRELATED: &str = include_str!("../../../../assets/faq/unrelated.csv");

/// Retrieval on the paraphrases of one language (or all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Accuracy {
    /// Paraphrases.
    pub n: usize,
    /// Whose best answer is the expected one.
    pub top1: usize,
    /// Whose expected answer is among the best three.
    pub top3: usize,
    /// Given a suggestion at the threshold.
    pub answered: usize,
    /// Given a suggestion at the threshold that is not the expected answer.
    pub answered_wrong: usize,
}

impl Accuracy {
    fn rate(count: usize, n: usize) -> f64 {
        if n == 0 { 0.0 } else { count as f64 / n as f64 }
    }

    /// Share whose best answer is right.
    pub fn top1_rate(&self) -> f64 {
        Self::rate(self.top1, self.n)
    }

    /// Share whose right answer is in the best three.
    pub fn top3_rate(&self) -> f64 {
        Self::rate(self.top3, self.n)
    }

    /// Share given a suggestion at the threshold (right or wrong).
    pub fn answered_rate(&self) -> f64 {
        Self::rate(self.answered, self.n)
    }

    /// Share given a wrong suggestion at the threshold.
    pub fn false_answer_rate(&self) -> f64 {
        Self::rate(self.answered_wrong, self.n)
    }

    fn add(&mut self, other: &Accuracy) {
        self.n += other.n;
        self.top1 += other.top1;
        self.top3 += other.top3;
        self.answered += other.answered;
        self.answered_wrong += other.answered_wrong;
    }
}

/// Paraphrases whose best answer had a confidence in `[low, high)`, and how many were right.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConfidenceBin {
    /// Lower bound.
    pub low: f64,
    /// Upper bound (1.0 includes 1.0).
    pub high: f64,
    /// Paraphrases.
    pub n: usize,
    /// Whose best answer was right.
    pub right: usize,
}

/// The evaluation of retrieval on a paraphrase set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaqEvaluation {
    /// The threshold the `answered` counts and the refusals are taken at.
    pub threshold: f64,
    /// Paraphrases without CJK characters.
    pub english: Accuracy,
    /// Paraphrases with CJK characters.
    pub chinese: Accuracy,
    /// Both.
    pub overall: Accuracy,
    /// Messages that must be refused.
    pub unrelated: usize,
    /// Of them, refused at the threshold.
    pub refused: usize,
    /// Reliability of the confidence on the paraphrases, in fifths.
    pub calibration: Vec<ConfidenceBin>,
}

impl FaqEvaluation {
    /// Share of the unrelated messages refused.
    pub fn refusal_rate(&self) -> f64 {
        Accuracy::rate(self.refused, self.unrelated)
    }
}

/// Runs every paraphrase against the index. A paraphrase whose expected question the index
/// does not hold is an error (with its line), not a miss.
pub fn evaluate(
    index: &AnswerIndex,
    paraphrases: &[Paraphrase],
    threshold: f64,
) -> Result<FaqEvaluation, FaqFileError> {
    let mut english = Accuracy::default();
    let mut chinese = Accuracy::default();
    let (mut unrelated, mut refused) = (0, 0);
    let mut calibration: Vec<ConfidenceBin> = (0..5)
        .map(|i| ConfidenceBin {
            low: f64::from(i) / 5.0,
            high: f64::from(i + 1) / 5.0,
            n: 0,
            right: 0,
        })
        .collect();
    let mut errors = Vec::new();
    for p in paraphrases {
        let found = index.candidates(&p.text, 3).unwrap_or_default();
        let confident = found.first().filter(|c| c.confidence >= threshold);
        let Some(expected) = &p.expected else {
            unrelated += 1;
            refused += usize::from(confident.is_none());
            continue;
        };
        let entries = index.entries_of_question(expected);
        if entries.is_empty() {
            errors.push(FaqRowError {
                line: p.line,
                column: "expected_question".to_owned(),
                code: FaqErrorCode::UnknownQuestion,
                message: format!("{expected:?} is not a question of the FAQ"),
            });
            continue;
        }
        let is_right = |c: &super::Candidate| entries.contains(&c.entry);
        let language = if p.text.chars().any(is_cjk) {
            &mut chinese
        } else {
            &mut english
        };
        language.n += 1;
        let right_first = found.first().is_some_and(is_right);
        language.top1 += usize::from(right_first);
        language.top3 += usize::from(found.iter().any(is_right));
        if let Some(c) = confident {
            language.answered += 1;
            language.answered_wrong += usize::from(!is_right(c));
        }
        if let Some(best) = found.first() {
            let bin = ((best.confidence * 5.0) as usize).min(4);
            calibration[bin].n += 1;
            calibration[bin].right += usize::from(right_first);
        }
    }
    if !errors.is_empty() {
        return Err(FaqFileError {
            error_rows: errors.len(),
            errors,
        });
    }
    let mut overall = english;
    overall.add(&chinese);
    Ok(FaqEvaluation {
        threshold,
        english,
        chinese,
        overall,
        unrelated,
        refused,
        calibration,
    })
}

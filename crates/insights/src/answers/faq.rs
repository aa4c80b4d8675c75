//! The school's FAQ as a CSV file, and the paraphrase sets that evaluate retrieval on it.
//!
//! The FAQ file: a header row with `question` and `answer` (any order, names case-insensitive,
//! other columns ignored), UTF-8 with or without a BOM, CRLF or LF, RFC 4180 quoting (an answer
//! with a comma or a quote is quoted, quotes doubled). Read the way the store's imports read
//! theirs (`lectern_store::import`): every row is checked, every problem is listed with its line
//! (1 = the header), its column and a stable code, and any error refuses the whole file, so a
//! FAQ is never half applied. Limits: [`MAX_FAQ_BYTES`], [`MAX_FAQ_ROWS`], and the cells'
//! lengths (the index's [`MAX_QUESTION_CHARS`] and [`MAX_ANSWER_CHARS`]).
//!
//! Cells are trimmed; a cell may not hold a line break, a control or direction-override
//! character, or start like a spreadsheet formula (`=`, `+`, `-`, `@`), as in the store's
//! imports. The same question twice (after normalisation) is an error.

use std::collections::HashMap;

use serde::Serialize;

use super::index::{AnswerSource, KnownAnswer, MAX_ANSWER_CHARS, MAX_QUESTION_CHARS};
use super::text::normalize;

/// Largest FAQ file accepted, in bytes.
pub const MAX_FAQ_BYTES: usize = 4 * 1024 * 1024;
/// Most rows in a FAQ file (and in a paraphrase set).
pub const MAX_FAQ_ROWS: usize = 5_000;
/// At most this many errors are listed.
pub const MAX_LISTED_ERRORS: usize = 100;

/// What is wrong with a FAQ file or one of its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaqErrorCode {
    /// The file is larger than [`MAX_FAQ_BYTES`].
    FileTooLarge,
    /// The file has no header row.
    EmptyFile,
    /// The file is not valid CSV from this line on.
    BadCsv,
    /// The header lacks a needed column.
    MissingColumn,
    /// The header names a column twice.
    DuplicateColumn,
    /// More than [`MAX_FAQ_ROWS`] rows.
    TooManyRows,
    /// The row has a different number of fields than the header.
    WrongColumnCount,
    /// A needed cell is empty.
    MissingValue,
    /// A cell is over its length limit.
    TooLong,
    /// A cell starts like a spreadsheet formula.
    FormulaInjection,
    /// A cell holds a line break, a control or a direction-override character.
    ControlCharacter,
    /// The same question is on an earlier row.
    DuplicateQuestion,
    /// A paraphrase names a question the FAQ does not have.
    UnknownQuestion,
}

/// One problem, where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaqRowError {
    /// The file's line (1 = the header; a quoted cell may span lines, this is where its row
    /// starts).
    pub line: u64,
    /// The column, or empty for the whole row or file.
    pub column: String,
    /// What.
    pub code: FaqErrorCode,
    /// In words.
    pub message: String,
}

/// A FAQ file refused: nothing of it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("the file was refused: {} row(s) with errors, first: {}", .error_rows, first_error(.errors))]
pub struct FaqFileError {
    /// Rows (or the file) with errors.
    pub error_rows: usize,
    /// At most [`MAX_LISTED_ERRORS`], by line.
    pub errors: Vec<FaqRowError>,
}

fn first_error(errors: &[FaqRowError]) -> String {
    errors.first().map_or_else(String::new, |e| {
        if e.column.is_empty() {
            format!("line {}: {}", e.line, e.message)
        } else {
            format!("line {}, {}: {}", e.line, e.column, e.message)
        }
    })
}

/// One FAQ entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaqRow {
    /// Its line in the file.
    pub line: u64,
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: String,
}

impl FaqRow {
    /// As a known answer for the index, given at `at_ms` (the import's time).
    pub fn known_answer(&self, at_ms: i64) -> KnownAnswer {
        KnownAnswer {
            question: self.question.clone(),
            answer: self.answer.clone(),
            source: AnswerSource::Faq { row: self.line },
            at_ms,
        }
    }
}

/// A column the reader takes: its name, whether its cells must be filled, their length limit.
struct Column {
    name: &'static str,
    required: bool,
    max_chars: usize,
}

/// A row that passed the checks: its line and its cells, in the columns' order.
type Cells = (u64, Vec<String>);

/// A file's rows that passed the cell checks, and the errors of the others.
struct Table {
    rows: Vec<Cells>,
    errors: Vec<FaqRowError>,
}

impl Table {
    /// The rows, or every error (by line, at most [`MAX_LISTED_ERRORS`]) when there is one.
    fn into_rows(mut self) -> Result<Vec<Cells>, FaqFileError> {
        if self.errors.is_empty() {
            return Ok(self.rows);
        }
        self.errors.sort_by_key(|e| e.line);
        let mut lines: Vec<u64> = self.errors.iter().map(|e| e.line).collect();
        lines.dedup();
        self.errors.truncate(MAX_LISTED_ERRORS);
        Err(FaqFileError {
            error_rows: lines.len(),
            errors: self.errors,
        })
    }
}

/// Reads a CSV file of text columns; file-level problems refuse it at once, row-level ones are
/// collected.
fn read_table(text: &str, columns: &[Column]) -> Result<Table, FaqFileError> {
    let file_error = |column: &str, code, message: String| FaqFileError {
        error_rows: 1,
        errors: vec![FaqRowError {
            line: 1,
            column: column.to_owned(),
            code,
            message,
        }],
    };
    if text.len() > MAX_FAQ_BYTES {
        return Err(file_error(
            "",
            FaqErrorCode::FileTooLarge,
            format!(
                "the file is over {} MB, the most a FAQ may be",
                MAX_FAQ_BYTES / (1024 * 1024)
            ),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            return Err(file_error(
                "",
                FaqErrorCode::BadCsv,
                format!("the header row could not be read ({e})"),
            ));
        }
        None => {
            return Err(file_error(
                "",
                FaqErrorCode::EmptyFile,
                "the file is empty: it needs a header row".to_owned(),
            ));
        }
    };
    let mut positions: HashMap<String, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        if !name.is_empty() && positions.insert(name.clone(), i).is_some() {
            return Err(file_error(
                &name,
                FaqErrorCode::DuplicateColumn,
                format!("the column {name:?} appears twice in the header"),
            ));
        }
    }
    let mut wanted = Vec::with_capacity(columns.len());
    for column in columns {
        match positions.get(column.name) {
            Some(&i) => wanted.push(i),
            None => {
                let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
                return Err(file_error(
                    column.name,
                    FaqErrorCode::MissingColumn,
                    format!(
                        "the header lacks the column {}; it needs {}",
                        column.name,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    let width = header.len();
    let mut rows = Vec::new();
    let mut errors: Vec<FaqRowError> = Vec::new();
    let mut lines = Lines {
        text: text.as_bytes(),
        byte: 0,
        line: 1,
    };
    let mut read = 0;
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(FaqRowError {
                    line: lines.at(e.position()),
                    column: String::new(),
                    code: FaqErrorCode::BadCsv,
                    message: format!("the file could not be read from here on ({e})"),
                });
                break;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank row, as spreadsheets leave at the end
        }
        read += 1;
        if read > MAX_FAQ_ROWS {
            return Err(file_error(
                "",
                FaqErrorCode::TooManyRows,
                format!("the file has more than {MAX_FAQ_ROWS} rows"),
            ));
        }
        let line = lines.at(record.position());
        if record.len() != width {
            errors.push(FaqRowError {
                line,
                column: String::new(),
                code: FaqErrorCode::WrongColumnCount,
                message: format!(
                    "the row has {} fields; the header has {width}",
                    record.len()
                ),
            });
            continue;
        }
        let mut cells = Vec::with_capacity(columns.len());
        let errors_before = errors.len();
        for (column, &i) in columns.iter().zip(&wanted) {
            match cell(record.get(i).unwrap_or(""), column) {
                Ok(value) => cells.push(value),
                Err((code, message)) => errors.push(FaqRowError {
                    line,
                    column: column.name.to_owned(),
                    code,
                    message,
                }),
            }
        }
        if errors.len() == errors_before {
            rows.push((line, cells));
        }
    }
    Ok(Table { rows, errors })
}

/// One cell: trimmed, bounded, printable, no formula.
fn cell(raw: &str, column: &Column) -> Result<String, (FaqErrorCode, String)> {
    let text = raw.trim();
    if text.is_empty() {
        if column.required {
            return Err((FaqErrorCode::MissingValue, "is empty".to_owned()));
        }
        return Ok(String::new());
    }
    if text.chars().count() > column.max_chars {
        return Err((
            FaqErrorCode::TooLong,
            format!("is longer than {} characters", column.max_chars),
        ));
    }
    if raw.starts_with(['\t', '\r']) || text.starts_with(['=', '+', '-', '@']) {
        return Err((
            FaqErrorCode::FormulaInjection,
            "starts with =, +, -, @ or a tab, which spreadsheets run as a formula".to_owned(),
        ));
    }
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
    };
    if text.chars().any(unsafe_char) {
        return Err((
            FaqErrorCode::ControlCharacter,
            "contains a line break, a control character or a direction override".to_owned(),
        ));
    }
    Ok(text.to_owned())
}

/// Finds the file line where each record starts (1 = the header), counting newlines up to the
/// record's first byte (as the store's importer does: the csv crate's own line count is one
/// short after a CRLF).
struct Lines<'a> {
    text: &'a [u8],
    byte: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(p) = position else {
            return self.line;
        };
        let mut start = usize::try_from(p.byte())
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.byte {
            let newlines = self.text[self.byte..start]
                .iter()
                .filter(|&&c| c == b'\n')
                .count();
            self.line += newlines as u64;
            self.byte = start;
        }
        self.line
    }
}

/// Parses a FAQ file, all rows or none.
pub fn parse_faq(text: &str) -> Result<Vec<FaqRow>, FaqFileError> {
    let mut table = read_table(
        text,
        &[
            Column {
                name: "question",
                required: true,
                max_chars: MAX_QUESTION_CHARS,
            },
            Column {
                name: "answer",
                required: true,
                max_chars: MAX_ANSWER_CHARS,
            },
        ],
    )?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut faq = Vec::with_capacity(table.rows.len());
    for (line, mut cells) in std::mem::take(&mut table.rows) {
        let answer = cells.pop().unwrap_or_default();
        let question = cells.pop().unwrap_or_default();
        let key = normalize(&question);
        if key.is_empty() {
            table.errors.push(FaqRowError {
                line,
                column: "question".to_owned(),
                code: FaqErrorCode::MissingValue,
                message: "has no words, only punctuation or symbols".to_owned(),
            });
            continue;
        }
        if let Some(first) = seen.insert(key, line) {
            table.errors.push(FaqRowError {
                line,
                column: "question".to_owned(),
                code: FaqErrorCode::DuplicateQuestion,
                message: format!("the same question is on line {first}"),
            });
            continue;
        }
        faq.push(FaqRow {
            line,
            question,
            answer,
        });
    }
    table.into_rows()?;
    Ok(faq)
}

/// A held-out rewording of a FAQ question, or (with no expected question) a message that must
/// be refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paraphrase {
    /// Its line in the file.
    pub line: u64,
    /// The message as a student might write it.
    pub text: String,
    /// The FAQ question it means, or `None` when nothing should be suggested.
    pub expected: Option<String>,
}

/// Parses a paraphrase set: columns `paraphrase` and `expected_question` (empty: must be
/// refused), all rows or none.
pub fn parse_paraphrases(text: &str) -> Result<Vec<Paraphrase>, FaqFileError> {
    let rows = read_table(
        text,
        &[
            Column {
                name: "paraphrase",
                required: true,
                max_chars: MAX_QUESTION_CHARS,
            },
            Column {
                name: "expected_question",
                required: false,
                max_chars: MAX_QUESTION_CHARS,
            },
        ],
    )?
    .into_rows()?;
    Ok(rows
        .into_iter()
        .map(|(line, mut cells)| {
            let expected = cells.pop().filter(|e| !e.is_empty());
            Paraphrase {
                line,
                text: cells.pop().unwrap_or_default(),
                expected,
            }
        })
        .collect())
}

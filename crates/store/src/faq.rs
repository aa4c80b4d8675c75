//! The school's FAQ for the TA's answer assistant: question and answer pairs a school imports
//! (the file is checked by `lectern_insights::answers::parse_faq`; this keeps what passed).
//! An import replaces the whole list in one transaction.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::store::Store;

/// Version 9: the FAQ table.
pub(crate) const V9_FAQ: &str = r#"
CREATE TABLE faq (
    line        INTEGER PRIMARY KEY CHECK (line >= 2),
    question    TEXT    NOT NULL CHECK (length(question) BETWEEN 1 AND 2000),
    answer      TEXT    NOT NULL CHECK (length(answer) BETWEEN 1 AND 8000),
    imported_at_ms INTEGER NOT NULL
) STRICT;
"#;

/// Most FAQ entries a school keeps.
pub const MAX_FAQ_ENTRIES: usize = 5_000;

/// One FAQ entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaqEntry {
    /// Its line in the imported file (1 is the header).
    pub line: u64,
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: String,
    /// When it was imported (Unix ms).
    pub imported_at_ms: i64,
}

impl Store {
    /// Replace the school's FAQ with `entries` (all or nothing).
    pub async fn replace_faq(&self, entries: Vec<FaqEntry>) -> Result<usize, StoreError> {
        if entries.len() > MAX_FAQ_ENTRIES {
            return Err(StoreError::invalid(format!(
                "a FAQ has at most {MAX_FAQ_ENTRIES} entries"
            )));
        }
        self.write(move |tx| {
            tx.execute("DELETE FROM faq", [])?;
            for e in &entries {
                tx.execute(
                    "INSERT INTO faq (line, question, answer, imported_at_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![e.line as i64, e.question, e.answer, e.imported_at_ms],
                )?;
            }
            Ok(entries.len())
        })
        .await
    }

    /// The school's FAQ, by line.
    pub async fn faq(&self) -> Result<Vec<FaqEntry>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare("SELECT line, question, answer, imported_at_ms FROM faq ORDER BY line")?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(FaqEntry {
                        line: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        question: r.get(1)?,
                        answer: r.get(2)?,
                        imported_at_ms: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}

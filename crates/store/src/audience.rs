//! What the audience measures read (repurchase, cohorts, segments): every learner with the day
//! they joined, and every purchase line with its order id and whether it was exported with a
//! date alone. One read snapshot, so the learners and the purchases agree.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::store::Store;

/// A learner of the school and when they joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedLearner {
    /// The learner's pseudonymous id.
    pub id: String,
    /// When they joined (Unix ms).
    pub joined_at_ms: i64,
}

/// One purchase line as the shop exported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The order id (unique per stored line).
    pub order_id: String,
    /// The buyer.
    pub learner_id: String,
    /// The course bought.
    pub course_id: String,
    /// When it was paid (Unix ms); for a date-only line, that date's 00:00 UTC.
    pub purchased_at_ms: i64,
    /// True when the shop exported a date alone (the school's local date).
    pub date_only: bool,
    /// Paid, in cents.
    pub amount_cents: i64,
}

/// The school's learners and purchase lines, read together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceRows {
    /// Every learner, by id.
    pub learners: Vec<JoinedLearner>,
    /// Every purchase line, oldest first (ties by order id).
    pub purchases: Vec<OrderLine>,
}

impl Store {
    /// Every learner with their join time and every purchase line with its order id and
    /// date-only flag, from one snapshot.
    pub async fn audience_rows(&self) -> Result<AudienceRows, StoreError> {
        self.read(|conn| {
            let tx = conn.unchecked_transaction()?;
            let learners = tx
                .prepare_cached("SELECT id, joined_at_ms FROM learners ORDER BY id")?
                .query_map([], |r| {
                    Ok(JoinedLearner {
                        id: r.get(0)?,
                        joined_at_ms: r.get(1)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let purchases = tx
                .prepare_cached(
                    "SELECT order_id, learner_id, course_id, purchased_at_ms, date_only,
                            amount_cents
                       FROM purchases ORDER BY purchased_at_ms, order_id",
                )?
                .query_map([], |r| {
                    Ok(OrderLine {
                        order_id: r.get(0)?,
                        learner_id: r.get(1)?,
                        course_id: r.get(2)?,
                        purchased_at_ms: r.get(3)?,
                        date_only: r.get(4)?,
                        amount_cents: r.get(5)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            tx.finish()?;
            Ok(AudienceRows {
                learners,
                purchases,
            })
        })
        .await
    }
}

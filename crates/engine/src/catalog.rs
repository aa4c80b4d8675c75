//! The school's catalog as the studio shows it (offers are made from it).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::NoArgs;
use crate::{ApiError, Studio};

/// One course of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Course {
    /// Catalog id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `beginner`, `intermediate` or `advanced`.
    pub level: String,
    /// Price in cents of `currency`.
    pub price_cents: i64,
    /// ISO currency code.
    pub currency: String,
    /// Length in minutes.
    pub length_minutes: i64,
    /// Topics, sorted.
    pub tags: Vec<String>,
}

impl Studio {
    /// Every course of the open school, by title.
    pub async fn catalog(&self, _args: NoArgs) -> Result<Vec<Course>, ApiError> {
        let mut courses: Vec<Course> = self
            .store()
            .await?
            .catalog()
            .await?
            .into_iter()
            .map(|c| Course {
                id: c.id,
                title: c.title,
                level: c.level,
                price_cents: c.price_cents,
                currency: c.currency,
                length_minutes: c.length_minutes,
                tags: c.tags,
            })
            .collect();
        courses.sort_by(|a, b| a.title.cmp(&b.title));
        Ok(courses)
    }
}

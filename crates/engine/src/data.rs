//! The school's data coming in: CSV imports (catalog, learners, purchases) and the sales feed.
//!
//! An import is previewed first (row errors, a sample), then applied all-or-nothing: one bad
//! row and nothing is written, every bad row listed with its line, column and code. Progress
//! goes out as `import_progress` events. Re-importing the same file changes nothing.
//!
//! **Feeds** keep the school's data in sync from URLs: the **sales feed** of the school's shop
//! lists purchases, and a catalog feed and a learners feed may list courses and learners (CSV
//! with the import's columns, or JSON: an array of objects with the same keys, or
//! `{"purchases" | "courses" | "learners": [...]}`; a JSON list of tags is joined with `;`).
//! Each is fetched with an optional Bearer token on demand and every N minutes, and imported the
//! same way, so it is idempotent (by order id, course id, learner id). A shop that answers badly gets a clear, typed error: network
//! failures and 5xx/429 are retried twice (1 s, then 2 s), then `feed_unreachable`; other 4xx
//! are `feed_refused`; a body over 50 MB, an unknown format or malformed JSON is `feed_invalid`.
//! The token is kept in the school file's settings and never logged or returned.
//!
//! "Mark as bought" by hand is [`Studio::record_sale`]: a one-row purchases import.

use std::time::Duration;

use lectern_store::{ImportKind, ImportPreview, ImportReport, RowError};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::StudioEvent;
use crate::{ApiError, ErrorCode, Studio};

/// The largest file or feed body imported.
pub const MAX_IMPORT_BYTES: usize = lectern_store::MAX_IMPORT_BYTES;
/// Where each feed's setting is kept.
fn feed_key(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Purchases => "sales_feed",
        DataKind::Catalog => "catalog_feed",
        DataKind::Learners => "learners_feed",
    }
}
const FEED_TIMEOUT: Duration = Duration::from_secs(20);

/// Which kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// Courses: id, title, tags, level, price, length (+ currency, track).
    Catalog,
    /// Learners: id (+ email_hash, joined, display_name).
    Learners,
    /// Purchases: order_id, learner, course, date, amount, currency (+ ref).
    Purchases,
}

impl From<DataKind> for ImportKind {
    fn from(kind: DataKind) -> ImportKind {
        match kind {
            DataKind::Catalog => ImportKind::Catalog,
            DataKind::Learners => ImportKind::Learners,
            DataKind::Purchases => ImportKind::Purchases,
        }
    }
}

/// A file to preview or import.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportFile {
    /// What it holds.
    pub kind: DataKind,
    /// The file's text (UTF-8 CSV).
    pub text: String,
}

/// One refused row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportRowError {
    /// The line of the file (1 = the header).
    pub line: u64,
    /// The column, or empty for the whole row.
    pub column: String,
    /// A stable code (`bad_date`, `unknown_course`, `formula_injection`, ...).
    pub code: String,
    /// What is wrong, in words.
    pub message: String,
}

/// What a file would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportCheck {
    /// Data rows.
    pub rows: u64,
    /// Rows without errors.
    pub valid: u64,
    /// Rows with errors.
    pub error_rows: u64,
    /// The first errors (at most 500).
    pub errors: Vec<ImportRowError>,
    /// The columns read.
    pub columns: Vec<String>,
    /// The first rows as read.
    pub sample: Vec<Vec<String>>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportDone {
    /// False when any row had an error: then nothing was written.
    pub applied: bool,
    /// Data rows.
    pub rows: u64,
    /// New records.
    pub inserted: u64,
    /// Changed records.
    pub updated: u64,
    /// Records already as in the file.
    pub unchanged: u64,
    /// Learners created for purchases by unknown learners.
    pub learners_created: u64,
    /// Rows with errors.
    pub error_rows: u64,
    /// The first errors (at most 500).
    pub errors: Vec<ImportRowError>,
}

/// Which feed (purchases when absent: the sales feed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeedRef {
    /// What the feed sends.
    #[serde(default)]
    #[ts(optional)]
    pub kind: Option<DataKind>,
}

/// A feed's settings.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetSalesFeed {
    /// What the feed sends (purchases when absent).
    #[serde(default)]
    #[ts(optional)]
    pub kind: Option<DataKind>,
    /// The shop's URL (http or https); `null` turns the feed off.
    pub url: Option<String>,
    /// A Bearer token for the shop (kept, never shown again); `null` keeps the one stored.
    pub token: Option<String>,
    /// Sync every N minutes (5 to 1440); `null` for on demand only.
    pub every_minutes: Option<u32>,
    /// The shop's server is on this machine or the school's own network (a private address):
    /// without this, such a URL is refused (`private_address`).
    #[serde(default)]
    #[ts(optional)]
    pub allow_private_address: Option<bool>,
}

/// The feed as the studio shows it (never the token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SalesFeed {
    /// What the feed sends.
    pub kind: DataKind,
    /// The URL, if a feed is set.
    pub url: Option<String>,
    /// Whether a token is stored.
    pub has_token: bool,
    /// The schedule.
    pub every_minutes: Option<u32>,
    /// When it last synced successfully (Unix ms).
    pub last_sync_ms: Option<i64>,
    /// The last failure's code, if the last attempt failed.
    pub last_error: Option<String>,
    /// Whether its server may be on a private address.
    pub allow_private_address: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FeedSetting {
    url: Option<String>,
    #[serde(default)]
    allow_private: bool,
    token: Option<String>,
    every_minutes: Option<u32>,
    last_sync_ms: Option<i64>,
    last_error: Option<String>,
}

fn row_errors(errors: &[RowError]) -> Vec<ImportRowError> {
    errors
        .iter()
        .map(|e| ImportRowError {
            line: e.line,
            column: e.column.clone(),
            code: e.code.as_str().to_owned(),
            message: e.message.clone(),
        })
        .collect()
}

fn check_of(p: &ImportPreview) -> ImportCheck {
    ImportCheck {
        rows: p.rows as u64,
        valid: p.valid as u64,
        error_rows: p.error_rows as u64,
        errors: row_errors(&p.errors),
        columns: p.columns.clone(),
        sample: p.sample.clone(),
    }
}

fn done_of(r: &ImportReport) -> ImportDone {
    ImportDone {
        applied: r.applied,
        rows: r.rows as u64,
        inserted: r.inserted as u64,
        updated: r.updated as u64,
        unchanged: r.unchanged as u64,
        learners_created: r.learners_created as u64,
        error_rows: r.error_rows as u64,
        errors: row_errors(&r.errors),
    }
}

fn feed_error(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError::new(code, message)
}

/// JSON purchases (an array, or `{"purchases": [...]}`) as the import's CSV.
pub fn json_feed_to_csv(text: &str) -> Result<String, ApiError> {
    json_to_csv(DataKind::Purchases, text)
}

/// A JSON feed of `kind` (an array of objects, or `{"purchases" | "courses" | "learners": [...]}`)
/// as the import's CSV: the import's columns, every cell quoted; an array of strings (tags) is
/// joined with `;`.
pub fn json_to_csv(kind: DataKind, text: &str) -> Result<String, ApiError> {
    let wrapper = match kind {
        DataKind::Purchases => "purchases",
        DataKind::Catalog => "courses",
        DataKind::Learners => "learners",
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        feed_error(
            ErrorCode::FeedInvalid,
            format!("the feed is not valid JSON: {e}"),
        )
    })?;
    let rows = match &value {
        serde_json::Value::Array(rows) => rows,
        serde_json::Value::Object(map) => match map.get(wrapper) {
            Some(serde_json::Value::Array(rows)) => rows,
            _ => {
                return Err(feed_error(
                    ErrorCode::FeedInvalid,
                    format!("a JSON feed is an array of {wrapper} or {{\"{wrapper}\": [...]}}"),
                ));
            }
        },
        _ => {
            return Err(feed_error(
                ErrorCode::FeedInvalid,
                format!("a JSON feed is an array of {wrapper} or {{\"{wrapper}\": [...]}}"),
            ));
        }
    };
    let columns = ImportKind::from(kind).sample_columns();
    let mut csv = columns.join(",");
    csv.push('\n');
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|key| {
                let cell = match row.get(*key) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Number(n)) => n.to_string(),
                    Some(serde_json::Value::Array(items))
                        if items.iter().all(serde_json::Value::is_string) =>
                    {
                        items
                            .iter()
                            .filter_map(serde_json::Value::as_str)
                            .collect::<Vec<_>>()
                            .join(";")
                    }
                    Some(serde_json::Value::Null) | None => String::new(),
                    // Anything else is passed on as text, for the importer to refuse by row.
                    Some(other) => other.to_string(),
                };
                // RFC 4180 quoting, always: the importer reads quotes, commas and newlines back.
                format!("\"{}\"", cell.replace('"', "\"\""))
            })
            .collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    Ok(csv)
}

/// One sale entered by hand ("mark as bought"): the same checks and the same idempotence (by
/// order id) as a purchases file, because it goes through the same import.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordSale {
    /// The shop's order id.
    pub order_id: String,
    /// The course bought.
    pub course_id: String,
    /// What was paid, as written on the order ("49.00").
    pub amount: String,
    /// ISO 4217 code ("EUR").
    pub currency: String,
    /// When (a date or an RFC 3339 time); now when absent.
    pub date: Option<String>,
    /// The checkout link's reference code (`<offer>.<variant>.<viewer>`), for attribution.
    pub ref_code: Option<String>,
    /// The learner's id; the viewer of the reference code when absent.
    pub learner: Option<String>,
}

/// The one-row purchases file of a hand-entered sale.
pub fn sale_to_csv(sale: &RecordSale, now_ms: i64) -> Result<String, ApiError> {
    let ref_code = sale
        .ref_code
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let learner = match sale
        .learner
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        Some(learner) => learner.to_owned(),
        None => match ref_code.and_then(|r| r.rsplit_once('.')) {
            Some((_, viewer)) if !viewer.is_empty() => viewer.to_owned(),
            _ => {
                return Err(ApiError::invalid(
                    "name the learner, or give the reference code from the checkout link",
                ));
            }
        },
    };
    let date = sale
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map_or_else(|| lectern_store::format_utc(now_ms), str::to_owned);
    let row = serde_json::json!([{
        "order_id": sale.order_id.trim(),
        "learner": learner,
        "course": sale.course_id.trim(),
        "date": date,
        "amount": sale.amount.trim(),
        "currency": sale.currency.trim(),
        "ref": ref_code,
    }]);
    json_feed_to_csv(&row.to_string())
}

impl Studio {
    /// Record one sale by hand ("mark as bought"): checked and stored like a purchases file's row
    /// (a typed row error when it is wrong, nothing written; the same order id again changes
    /// nothing).
    pub async fn record_sale(&self, args: RecordSale) -> Result<ImportDone, ApiError> {
        let text = sale_to_csv(&args, crate::studio::now_ms())?;
        self.import_data(ImportFile {
            kind: DataKind::Purchases,
            text,
        })
        .await
    }

    /// Check a file without writing anything.
    pub async fn preview_import(&self, args: ImportFile) -> Result<ImportCheck, ApiError> {
        check_size(&args.text)?;
        let preview = self
            .store()
            .await?
            .preview_import(args.kind.into(), &args.text)
            .await?;
        Ok(check_of(&preview))
    }

    /// Import a file, all or nothing, with `import_progress` events.
    pub async fn import_data(&self, args: ImportFile) -> Result<ImportDone, ApiError> {
        check_size(&args.text)?;
        let events = self.inner.events.clone();
        let report = self
            .store()
            .await?
            .import(args.kind.into(), &args.text, move |done, total| {
                let _ = events.send(StudioEvent::ImportProgress { done, total });
            })
            .await?;
        if report.applied {
            self.emit(StudioEvent::SchoolChanged);
        }
        Ok(done_of(&report))
    }

    async fn feed_setting(&self, kind: DataKind) -> Result<FeedSetting, ApiError> {
        let raw = self.store().await?.setting(feed_key(kind)).await?;
        Ok(raw
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or_default())
    }

    async fn save_feed_setting(
        &self,
        kind: DataKind,
        setting: &FeedSetting,
    ) -> Result<(), ApiError> {
        let text = serde_json::to_string(setting)
            .map_err(|e| ApiError::internal(format!("encoding the feed setting: {e}")))?;
        self.store()
            .await?
            .set_setting(feed_key(kind), &text)
            .await?;
        Ok(())
    }

    fn feed_view(kind: DataKind, setting: &FeedSetting) -> SalesFeed {
        SalesFeed {
            kind,
            url: setting.url.clone(),
            has_token: setting.token.is_some(),
            every_minutes: setting.every_minutes,
            last_sync_ms: setting.last_sync_ms,
            last_error: setting.last_error.clone(),
            allow_private_address: setting.allow_private,
        }
    }

    /// A feed's settings and last result (the sales feed unless `kind` says otherwise).
    pub async fn sales_feed(&self, args: FeedRef) -> Result<SalesFeed, ApiError> {
        let kind = args.kind.unwrap_or(DataKind::Purchases);
        Ok(Self::feed_view(kind, &self.feed_setting(kind).await?))
    }

    /// Set (or turn off) a feed.
    pub async fn set_sales_feed(&self, args: SetSalesFeed) -> Result<SalesFeed, ApiError> {
        let kind = args.kind.unwrap_or(DataKind::Purchases);
        let mut setting = self.feed_setting(kind).await?;
        match args.url.as_deref().map(str::trim) {
            None | Some("") => {
                setting = FeedSetting::default();
            }
            Some(url) => {
                let allow_private = args.allow_private_address.unwrap_or(false);
                crate::http_url::checked_outbound(url, "the feed URL", allow_private)?;
                setting.url = Some(url.to_owned());
                setting.allow_private = allow_private;
                if let Some(token) = args.token {
                    let token = token.trim().to_owned();
                    if token.len() > 4096 || token.chars().any(char::is_control) {
                        return Err(ApiError::invalid(
                            "the token is at most 4096 printable characters",
                        ));
                    }
                    setting.token = (!token.is_empty()).then_some(token);
                }
                if let Some(every) = args.every_minutes
                    && !(5..=1440).contains(&every)
                {
                    return Err(ApiError::invalid("sync every 5 to 1440 minutes"));
                }
                setting.every_minutes = args.every_minutes;
            }
        }
        self.save_feed_setting(kind, &setting).await?;
        Ok(Self::feed_view(kind, &setting))
    }

    /// Fetch a feed now and import it.
    pub async fn sync_sales_feed(&self, args: FeedRef) -> Result<ImportDone, ApiError> {
        let kind = args.kind.unwrap_or(DataKind::Purchases);
        let mut setting = self.feed_setting(kind).await?;
        let Some(url) = setting.url.clone() else {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "no feed of this kind is set",
            ));
        };
        let result = async {
            let (body, is_json) =
                fetch_feed(&url, setting.token.as_deref(), setting.allow_private).await?;
            let csv = if is_json {
                json_to_csv(kind, &body)?
            } else {
                body
            };
            self.import_data(ImportFile { kind, text: csv }).await
        }
        .await;
        match &result {
            Ok(done) if done.applied => {
                setting.last_sync_ms = Some(crate::studio::now_ms());
                setting.last_error = None;
            }
            Ok(_) => setting.last_error = Some("feed_rows_refused".to_owned()),
            Err(err) => setting.last_error = Some(err.code.as_str().to_owned()),
        }
        self.save_feed_setting(kind, &setting).await?;
        if let Err(err) = &result {
            tracing::warn!(
                code = err.code.as_str(),
                feed = feed_key(kind),
                "a feed failed: {}",
                err.message
            );
        }
        result
    }

    /// Sync the feed when its schedule says so (called once a minute by the studio's clock).
    /// Courses first, then learners, then purchases: a purchase names both.
    pub(crate) async fn sync_sales_feed_if_due(&self, now_ms: i64) {
        for kind in [DataKind::Catalog, DataKind::Learners, DataKind::Purchases] {
            let Ok(setting) = self.feed_setting(kind).await else {
                return;
            };
            let (Some(_), Some(every)) = (&setting.url, setting.every_minutes) else {
                continue;
            };
            let due = setting
                .last_sync_ms
                .is_none_or(|last| now_ms - last >= i64::from(every) * 60_000);
            if due {
                let _ = self.sync_sales_feed(FeedRef { kind: Some(kind) }).await;
            }
        }
    }
}

fn check_size(text: &str) -> Result<(), ApiError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("a file is at most {} MB", MAX_IMPORT_BYTES / 1_000_000),
        ));
    }
    Ok(())
}

/// GET the feed: the body and whether it is JSON. Retries network failures, 5xx and 429.
async fn fetch_feed(
    url: &str,
    token: Option<&str>,
    allow_private: bool,
) -> Result<(String, bool), ApiError> {
    // Redirects are followed within the feed's own site only: another site (or an address on
    // the school's network a hostile shop points at) is never asked on the studio's behalf,
    // and a name that resolves inside is refused unless the school allowed it for this feed.
    let client = lectern_media::outbound::client_builder(allow_private)
        .timeout(FEED_TIMEOUT)
        .build()
        .map_err(|e| ApiError::internal(format!("making the HTTP client: {e}")))?;
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
        let mut request = client
            .get(url)
            .header("accept", "application/json, text/csv");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                last = format!("the shop could not be reached: {}", without_url(&err));
                continue;
            }
        };
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            last = format!("the shop answered {status}");
            continue;
        }
        if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| response.url().join(v).ok())
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|| "elsewhere".to_owned());
            return Err(feed_error(
                ErrorCode::FeedRefused,
                format!(
                    "the shop redirected the feed to another site ({to}); give its final address instead"
                ),
            ));
        }
        if !status.is_success() {
            let hint = if status == reqwest::StatusCode::UNAUTHORIZED
                || status == reqwest::StatusCode::FORBIDDEN
            {
                ": check the token"
            } else {
                ""
            };
            return Err(feed_error(
                ErrorCode::FeedRefused,
                format!("the shop answered {status}{hint}"),
            ));
        }
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase());
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_IMPORT_BYTES {
                        return Err(feed_error(
                            ErrorCode::FeedInvalid,
                            format!("the feed is over {} MB", MAX_IMPORT_BYTES / 1_000_000),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(err) => {
                    return Err(feed_error(
                        ErrorCode::FeedUnreachable,
                        format!("the feed broke off: {}", without_url(&err)),
                    ));
                }
            }
        }
        let text = String::from_utf8(body)
            .map_err(|_| feed_error(ErrorCode::FeedInvalid, "the feed is not UTF-8 text"))?;
        let json = match is_json.as_deref() {
            Some(t) if t.contains("html") => {
                return Err(feed_error(
                    ErrorCode::FeedInvalid,
                    "the feed URL returned a web page, not purchases (CSV or JSON)",
                ));
            }
            Some(t) if t.contains("json") => true,
            Some(t) if t.contains("csv") || t.starts_with("text/plain") => false,
            _ => text.trim_start().starts_with(['[', '{']),
        };
        return Ok((text, json));
    }
    Err(feed_error(ErrorCode::FeedUnreachable, last))
}

/// A reqwest error without its URL (the URL may carry a shop's query secrets).
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "<feed>");
    }
    text
}

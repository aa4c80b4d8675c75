//! Unix milliseconds written as UTC dates, for tables and CSV (no clock is read here).

const DAY_MS: i64 = 86_400_000;

/// The proleptic Gregorian date of a day count from 1970-01-01 (Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `2026-03-04`.
pub(crate) fn day(ms: i64) -> String {
    let (y, m, d) = civil(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The month of a day count from 1970-01-01, as months since January of year 0 (so months
/// subtract: March 2026 minus December 2025 is 3).
pub(crate) fn month_index(days: i64) -> i64 {
    let (y, m, _) = civil(days);
    y * 12 + m - 1
}

/// `2026-03` for a [`month_index`].
pub(crate) fn month_label(index: i64) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

/// `2026-03-04T10:20:30Z` (whole seconds).
pub(crate) fn utc(ms: i64) -> String {
    let secs = ms.rem_euclid(DAY_MS) / 1_000;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        day(ms),
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_dates() {
        assert_eq!(super::day(0), "1970-01-01");
        // 2026-11-01T00:00:00Z, the demo's "now".
        assert_eq!(super::utc(1_793_491_200_000), "2026-11-01T00:00:00Z");
        assert_eq!(
            super::utc(951_782_400_000 + 3_723_000),
            "2000-02-29T01:02:03Z"
        );
        assert_eq!(super::day(-1), "1969-12-31");
        // 2026-11-01 is day 20_758.
        assert_eq!(super::month_label(super::month_index(20_758)), "2026-11");
        assert_eq!(
            super::month_index(20_758) - super::month_index(20_758 - 61),
            2
        );
    }
}

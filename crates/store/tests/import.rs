//! CSV import: catalog, learners and purchases into a real school file; all or nothing;
//! idempotent; hostile files refused row by row.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use lectern_store::{ImportKind, ImportReport, MAX_IMPORT_BYTES, PurchaseLine, Store, preview};

use crate::school;

const CATALOG: &str = "id,title,tags,level,price,length\n\
py-101,Python Foundations,python;Basics; python ,beginner,49.00,300\n\
py-201,\"Data Analysis, with pandas\",python;data,intermediate,79,420\n";

const PURCHASES: &str = "order_id,learner,course,date,amount,currency\n\
A-1,lrn_a,py-101,2026-01-05,49.00,USD\n\
A-2,lrn_a,py-201,2026-02-01T10:00:00Z,79.00,USD\n\
A-3,lrn_b,py-101,2026-01-20T09:30:00+01:00,39.5,usd\n";

const HOSTILE: &str = include_str!("fixtures/purchases_hostile.csv");

async fn import(store: &Store, kind: ImportKind, text: &str) -> ImportReport {
    store.import(kind, text, |_, _| {}).await.unwrap()
}

fn codes(report: &ImportReport) -> Vec<(u64, String, &'static str)> {
    report
        .errors
        .iter()
        .map(|e| (e.line, e.column.clone(), e.code.as_str()))
        .collect()
}

#[tokio::test]
async fn a_school_imports_its_catalog_and_sales_and_reimporting_changes_nothing() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();

    let report = import(&store, ImportKind::Catalog, CATALOG).await;
    assert!(report.applied, "{:?}", report.errors);
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (2, 0, 0)
    );
    let catalog = store.catalog().await.unwrap();
    assert_eq!(catalog.len(), 2);
    assert_eq!(
        catalog[0].tags,
        vec!["basics", "python"],
        "lowercased, deduplicated, sorted"
    );
    assert_eq!(catalog[1].title, "Data Analysis, with pandas");
    assert_eq!(
        (catalog[1].price_cents, catalog[1].currency.as_str()),
        (7_900, "USD")
    );

    let report = import(&store, ImportKind::Purchases, PURCHASES).await;
    assert!(report.applied, "{:?}", report.errors);
    assert_eq!((report.inserted, report.learners_created), (3, 2));
    let history = store.purchase_history().await.unwrap();
    let line = |learner: &str, course: &str, at: i64, cents: i64| PurchaseLine {
        learner_id: learner.into(),
        course_id: course.into(),
        purchased_at_ms: at,
        amount_cents: cents,
    };
    assert_eq!(
        history,
        vec![
            line("lrn_a", "py-101", 1_767_571_200_000, 4_900),
            line("lrn_b", "py-101", 1_768_897_800_000, 3_950), // 09:30+01:00 = 08:30Z
            line("lrn_a", "py-201", 1_769_940_000_000, 7_900),
        ]
    );
    let before = store.counts().await.unwrap();
    let commits = store.writer_stats().commits;

    // The same files again: nothing changes.
    let again = import(&store, ImportKind::Purchases, PURCHASES).await;
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 3));
    assert_eq!(again.learners_created, 0);
    let again = import(&store, ImportKind::Catalog, CATALOG).await;
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(store.counts().await.unwrap(), before);
    assert_eq!(store.purchase_history().await.unwrap(), history);
    assert!(store.writer_stats().commits > commits);

    // A corrected order and a repriced course are updates, in place.
    let corrected = PURCHASES.replace(
        "A-3,lrn_b,py-101,2026-01-20T09:30:00+01:00,39.5",
        "A-3,lrn_b,py-101,2026-01-20T09:30:00+01:00,45",
    );
    let report = import(&store, ImportKind::Purchases, &corrected).await;
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (0, 1, 2)
    );
    let repriced = CATALOG.replace("beginner,49.00", "beginner,59.00");
    let report = import(&store, ImportKind::Catalog, &repriced).await;
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (0, 1, 1)
    );
    assert_eq!(store.catalog().await.unwrap()[0].price_cents, 5_900);
    assert_eq!(store.counts().await.unwrap(), before);
    let history = store.purchase_history().await.unwrap();
    assert_eq!(history[1].amount_cents, 4_500);
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_hostile_file_is_refused_row_by_row_and_nothing_is_written() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    import(&store, ImportKind::Catalog, CATALOG).await;
    let before = store.counts().await.unwrap();

    let report = import(&store, ImportKind::Purchases, HOSTILE).await;
    assert!(!report.applied);
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (0, 0, 0)
    );
    assert_eq!(report.rows, 11);
    let s = |c: &str| c.to_owned();
    assert_eq!(
        codes(&report),
        vec![
            (3, s("date"), "bad_date"),
            (4, s("amount"), "negative_amount"),
            (5, s("course"), "unknown_course"),
            (6, s("order_id"), "duplicate_in_file"),
            (7, s("order_id"), "formula_injection"),
            (8, s(""), "wrong_column_count"),
            (9, s("amount"), "bad_number"),
            (10, s("learner"), "plain_email"),
            (11, s("currency"), "bad_currency"),
        ]
    );
    assert_eq!(report.error_rows, 9);
    assert!(report.errors.iter().all(|e| !e.message.is_empty()));
    assert!(
        !report
            .errors
            .iter()
            .any(|e| e.message.contains("ada@example.com")),
        "an email is never echoed back"
    );
    assert_eq!(store.counts().await.unwrap(), before, "all or nothing");
    assert!(store.purchase_history().await.unwrap().is_empty());

    // The preview shows the same, and what the good rows would become.
    let shown = store
        .preview_import(ImportKind::Purchases, HOSTILE)
        .await
        .unwrap();
    assert_eq!((shown.rows, shown.valid, shown.error_rows), (11, 2, 9));
    assert_eq!(shown.errors, report.errors);
    assert_eq!(
        shown.columns[..4],
        ["order_id", "learner", "course", "date"]
    );
    assert_eq!(
        shown.sample,
        vec![
            vec![
                "B-1",
                "lrn_a",
                "py-101",
                "2026-01-05T00:00:00Z",
                "49.00",
                "USD"
            ],
            vec![
                "B-10",
                "lrn_h",
                "py-201",
                "2026-01-10T09:00:00Z",
                "79.00",
                "EUR"
            ],
        ]
    );
    store.close().await.unwrap();
}

#[test]
fn quoted_newlines_keep_line_numbers_and_text_is_checked() {
    let text = "id,title,tags,level,price,length\r\n\
py-101,\"Python\nFoundations\",python,beginner,49,300\r\n\
py-301,\"Quoted \"\"title\"\", fine\",python,advanced,99,60\r\n\
py-302,Title,python,expert,99,60\r\n\
py-303,@SUM(A1:A9),python,beginner,99,60\r\n\
py-304,Long,python,beginner,99,0\r\n\
py-305,Bidi \u{202e}txt,python,beginner,99,60\r\n\
py 306,Fine,python,beginner,99,60\r\n";
    let p = preview(ImportKind::Catalog, text, &HashSet::new());
    let got: Vec<(u64, &str, &str)> = p
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "title", "control_character"),
            (5, "level", "bad_level"),
            (6, "title", "formula_injection"),
            (7, "length", "bad_number"),
            (8, "title", "control_character"),
            (9, "id", "bad_id"),
        ]
    );
    assert_eq!((p.rows, p.valid), (7, 1));
    assert_eq!(p.sample[0][1], "Quoted \"title\", fine");
}

#[test]
fn files_without_the_right_header_or_too_big_are_refused_whole() {
    let none = HashSet::new();
    let code = |kind, text: &str| {
        let p = preview(kind, text, &none);
        assert_eq!(p.valid, 0);
        (p.errors[0].code.as_str(), p.errors[0].column.clone())
    };
    assert_eq!(
        code(ImportKind::Purchases, ""),
        ("empty_file", String::new())
    );
    assert_eq!(
        code(
            ImportKind::Purchases,
            "order_id,learner,course,date,amount\nA,b,c,2026-01-01,1\n"
        ),
        ("missing_column", "currency".to_owned())
    );
    assert_eq!(
        code(ImportKind::Learners, "id,ID\nlrn_a,lrn_b\n"),
        ("duplicate_column", "id".to_owned())
    );
    let huge = format!("id\n{}", "lrn_a\n".repeat(MAX_IMPORT_BYTES / 6 + 1));
    assert_eq!(
        code(ImportKind::Learners, &huge),
        ("file_too_large", String::new())
    );
}

#[tokio::test]
async fn learners_keep_pseudonyms_and_consented_hashes_only() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let hash = "AB".repeat(32);
    let text = format!(
        "id,email_hash,joined,display_name\n\
lrn_a,{hash},2026-01-02,Ada L.\n\
lrn_b,,,\n\
lrn_c,ada@example.com,,\n\
lrn_d,abc,,\n\
lrn_e,,02/01/2026,\n"
    );
    let report = import(&store, ImportKind::Learners, &text).await;
    assert!(!report.applied);
    let got: Vec<(u64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.code.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(4, "plain_email"), (5, "bad_email_hash"), (6, "bad_date")]
    );
    assert_eq!(store.counts().await.unwrap().learners, 0);

    let good: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    let report = import(&store, ImportKind::Learners, &good).await;
    assert_eq!((report.applied, report.inserted), (true, 2));
    let stored: (i64, Option<String>, Option<String>) = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT joined_at_ms, display_name, email_hash FROM learners WHERE id = 'lrn_a'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(
        stored,
        (
            1_767_312_000_000,
            Some("Ada L.".into()),
            Some("ab".repeat(32))
        )
    );
    // Empty cells keep what is stored.
    let report = import(
        &store,
        ImportKind::Learners,
        "id,display_name\nlrn_a,\nlrn_b,Bo\n",
    )
    .await;
    assert_eq!((report.updated, report.unchanged), (1, 1));
    store.close().await.unwrap();
}

#[tokio::test]
async fn progress_counts_up_to_the_rows_stored() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    import(&store, ImportKind::Catalog, CATALOG).await;
    let mut text = String::from("order_id,learner,course,date,amount,currency\n");
    for i in 0..2_500 {
        text.push_str(&format!(
            "P-{i},lrn_{},py-101,2026-01-05,49.00,USD\n",
            i % 300
        ));
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let report = store
        .import(ImportKind::Purchases, &text, move |done, total| {
            sink.lock().unwrap().push((done, total));
        })
        .await
        .unwrap();
    assert_eq!((report.inserted, report.learners_created), (2_500, 300));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![(0, 2_500), (1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]
    );
    assert_eq!(store.counts().await.unwrap().purchases, 2_500);
    store.close().await.unwrap();
}

#[test]
fn a_file_of_many_bad_rows_lists_the_first_errors_and_counts_them_all() {
    let mut text = String::from("order_id,learner,course,date,amount,currency\n");
    for i in 0..2_000 {
        text.push_str(&format!("X-{i},lrn_a,py-101,yesterday,-1,USD\n"));
    }
    let known: HashSet<String> = ["py-101".to_owned()].into();
    let p = preview(ImportKind::Purchases, &text, &known);
    assert_eq!((p.rows, p.valid, p.error_rows), (2_000, 0, 2_000));
    assert_eq!(p.errors.len(), lectern_store::MAX_LISTED_ERRORS);
    assert_eq!(
        (p.errors[0].line, p.errors[1].line),
        (2, 2),
        "date and amount of the first row"
    );
    assert_eq!(p.errors.last().map(|e| e.line), Some(251));
}

#[tokio::test]
async fn a_purchase_keeps_its_checkout_reference_code_for_attribution() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    assert!(import(&store, ImportKind::Catalog, CATALOG).await.applied);
    let with_refs = "order_id,learner,course,date,amount,currency,ref\n\
R-1,lrn_a,py-101,2026-01-05,49.00,USD,spring.B.v-0123abcd\n\
R-2,lrn_b,py-101,2026-01-06,49.00,USD,\n";
    let report = import(&store, ImportKind::Purchases, with_refs).await;
    assert!(report.applied, "{:?}", report.errors);
    let refs = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .read(|c| {
                    let mut s =
                        c.prepare("SELECT order_id, ref_code FROM purchases ORDER BY order_id")?;
                    let rows = s
                        .query_map([], |r| {
                            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                        })?
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(rows)
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(
        refs(&store).await,
        vec![
            ("R-1".into(), Some("spring.B.v-0123abcd".into())),
            ("R-2".into(), None)
        ]
    );
    // The same file again changes nothing; a new code for R-2 is an update.
    assert_eq!(
        import(&store, ImportKind::Purchases, with_refs)
            .await
            .unchanged,
        2
    );
    let changed = with_refs.replace("USD,\n", "USD,spring.A.v-99\n");
    assert_eq!(
        import(&store, ImportKind::Purchases, &changed)
            .await
            .updated,
        1
    );
    // A code with a space or a formula is refused with the row's line.
    let bad = "order_id,learner,course,date,amount,currency,ref\n\
R-3,lrn_a,py-101,2026-01-05,49.00,USD,spring B\n\
R-4,lrn_a,py-101,2026-01-05,49.00,USD,=HYPERLINK(1)\n";
    let report = import(&store, ImportKind::Purchases, bad).await;
    assert!(!report.applied);
    assert_eq!(
        report
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_str()))
            .collect::<Vec<_>>(),
        vec![(2, "ref"), (3, "ref")]
    );
    store.close().await.unwrap();
}

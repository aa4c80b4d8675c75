//! Fuzzing the CSV imports (proptest, stable Rust): real catalog, learner and purchase files
//! with bytes changed, cells swapped, lines repeated and quotes broken, and arbitrary text.
//! Each import is applied whole or refused whole with row errors that carry a line and a code
//! (or a typed error for the file itself); a refused file changes nothing; nothing panics.
//! Cases: `LECTERN_FUZZ_CASES` (64 in `cargo xtask test`; `cargo xtask fuzz` runs thousands).

use lectern_store::{ImportKind, Store};
use proptest::prelude::*;

use crate::school;

fn cases() -> u32 {
    std::env::var("LECTERN_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

const FILES: &[(ImportKind, &str)] = &[
    (
        ImportKind::Catalog,
        "id,title,tags,level,price,length\npy-101,Python Foundations,python;Basics,beginner,49.00,300\npy-201,\"Data Analysis, with pandas\",python;data,intermediate,79,420\n",
    ),
    (
        ImportKind::Learners,
        "id,email_hash,joined,display_name\nlrn_a,,2026-01-02,Ann\nlrn_b,9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,2026-02-03T10:00:00Z,\"Bo, B.\"\n",
    ),
    (
        ImportKind::Purchases,
        "order_id,learner,course,date,amount,currency\nA-1,lrn_a,py-101,2026-01-05,49.00,USD\nA-2,lrn_a,py-201,2026-02-01T10:00:00Z,79.00,USD\nA-3,lrn_b,py-101,2026-01-20T09:30:00+01:00,39.5,usd\n",
    ),
];

fn file() -> impl Strategy<Value = (ImportKind, String)> {
    let mutated = (
        0..FILES.len(),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        proptest::collection::vec(
            prop_oneof![
                Just(","),
                Just("\""),
                Just("\n"),
                Just("\r"),
                Just("=cmd|' /C calc'!A0"),
                Just("-1e309"),
                Just("9999-99-99"),
                Just("\u{feff}"),
                Just("\u{202e}"),
            ],
            0..3,
        ),
        any::<usize>(),
        any::<bool>(),
    )
        .prop_map(|(which, bytes, inserts, at, repeat)| {
            let (kind, text) = FILES[which];
            let mut text = text.as_bytes().to_vec();
            for (i, b) in bytes {
                let len = text.len();
                text[i % len] = b;
            }
            let mut text = String::from_utf8_lossy(&text).into_owned();
            for insert in inserts {
                let mut i = at % (text.len() + 1);
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                text.insert_str(i, insert);
            }
            if repeat && let Some(line) = text.lines().nth(1).map(str::to_owned) {
                text.push_str(&line);
                text.push('\n');
            }
            (kind, text)
        });
    let arbitrary =
        (0..FILES.len(), "\\PC{0,300}").prop_map(|(which, text)| (FILES[which].0, text));
    let untouched = (0..FILES.len()).prop_map(|which| (FILES[which].0, FILES[which].1.to_owned()));
    prop_oneof![1 => untouched, 4 => mutated, 1 => arbitrary]
}

async fn counts(store: &Store) -> (i64, i64, i64) {
    store
        .read(|conn| {
            let n = |table: &str| -> Result<i64, lectern_store::rusqlite::Error> {
                conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            };
            Ok((n("courses")?, n("learners")?, n("purchases")?))
        })
        .await
        .unwrap()
}

#[test]
fn mutated_and_arbitrary_files_are_imported_whole_or_refused_whole() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let (applied, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    proptest!(config, |((kind, text) in file())| {
        runtime.block_on(async {
            let before = counts(&store).await;
            let preview = store.preview_import(kind, &text).await;
            match store.import(kind, &text, |_, _| {}).await {
                Ok(report) if report.applied => {
                    prop_assert!(report.errors.is_empty());
                    applied.set(applied.get() + 1);
                }
                Ok(report) => {
                    prop_assert!(report.error_rows > 0 && !report.errors.is_empty());
                    for e in &report.errors {
                        prop_assert!(!e.code.as_str().is_empty() && !e.message.is_empty());
                    }
                    prop_assert_eq!(counts(&store).await, before, "a refused file changed nothing");
                    prop_assert!(preview.is_ok());
                    refused.set(refused.get() + 1);
                }
                Err(err) => {
                    prop_assert!(!err.code().is_empty());
                    prop_assert_eq!(counts(&store).await, before);
                }
            }
            Ok(())
        })?;
    });
    let (applied, refused) = (applied.get(), refused.get());
    println!(
        "fuzz imports: {} cases, {applied} applied, {refused} refused",
        cases()
    );
    assert!(
        applied > 0 && refused > 0,
        "{applied} applied, {refused} refused"
    );
    runtime.block_on(store.close()).unwrap();
}

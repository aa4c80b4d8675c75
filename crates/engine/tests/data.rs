//! The school's data coming in: CSV through the import commands, and a sales feed served by a
//! real HTTP server on loopback that answers well, badly, and not at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use lectern_engine::api::{NoArgs, StudioEvent};
use lectern_engine::data::{DataKind, FeedRef, ImportFile, SetSalesFeed};
use lectern_engine::{ErrorCode, SchoolSource, Studio, StudioOptions};

async fn demo() -> (tempfile::TempDir, Studio, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let courses = studio
        .catalog(NoArgs {})
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    (dir, studio, courses)
}

async fn purchases_count(studio: &Studio) -> i64 {
    studio
        .store()
        .await
        .unwrap()
        .read(|c| Ok(c.query_row("SELECT count(*) FROM purchases", [], |r| r.get(0))?))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_purchases_file_is_previewed_then_imported_once_with_progress() {
    let (_dir, studio, courses) = demo().await;
    let before = purchases_count(&studio).await;
    let good = format!(
        "order_id,learner,course,date,amount,currency,ref\nS-1,lrn-new-1,{c},2026-11-01,49.00,EUR,spring.A.v-01\nS-2,lrn-new-2,{c},2026-11-02T10:00:00Z,39,EUR,\n",
        c = courses[0]
    );
    let bad = format!(
        "{good}S-3,lrn-new-3,no-such-course,2026-11-02,39,EUR,\nS-4,lrn-new-4,{},yesterday,39,EUR,\n",
        courses[0]
    );

    let check = studio
        .preview_import(ImportFile {
            kind: DataKind::Purchases,
            text: bad.clone(),
        })
        .await
        .unwrap();
    assert_eq!((check.rows, check.valid, check.error_rows), (4, 2, 2));
    let codes: Vec<(u64, &str)> = check
        .errors
        .iter()
        .map(|e| (e.line, e.code.as_str()))
        .collect();
    assert_eq!(codes, vec![(4, "unknown_course"), (5, "bad_date")]);

    let refused = studio
        .import_data(ImportFile {
            kind: DataKind::Purchases,
            text: bad,
        })
        .await
        .unwrap();
    assert!(!refused.applied);
    assert_eq!(purchases_count(&studio).await, before, "all or nothing");

    let mut events = studio.subscribe();
    let done = studio
        .import_data(ImportFile {
            kind: DataKind::Purchases,
            text: good.clone(),
        })
        .await
        .unwrap();
    assert!(done.applied);
    assert_eq!((done.inserted, done.learners_created), (2, 2));
    assert_eq!(purchases_count(&studio).await, before + 2);
    let mut last_progress = None;
    while let Ok(event) = events.try_recv() {
        if let StudioEvent::ImportProgress { done, total } = event {
            last_progress = Some((done, total));
        }
    }
    assert_eq!(last_progress, Some((2, 2)));
    let again = studio
        .import_data(ImportFile {
            kind: DataKind::Purchases,
            text: good,
        })
        .await
        .unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 2));
}

/// A shop on loopback: `/sales.json` needs the token; `/flaky` fails twice then answers;
/// `/page` is a web page; `/missing` is 404; `/hostile` has a bad row.
async fn shop(course: String) -> (String, Arc<AtomicU32>) {
    let flaky_calls = Arc::new(AtomicU32::new(0));
    let calls = flaky_calls.clone();
    let c1 = course.clone();
    let c2 = course.clone();
    let app = axum::Router::new()
        .route(
            "/sales.json",
            get(move |headers: HeaderMap| {
                let course = c1.clone();
                async move {
                    let authorized = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
                        == Some("Bearer shop-token-1");
                    if !authorized {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    axum::Json(serde_json::json!({"purchases": [
                        {"order_id": "F-1", "learner": "lrn-feed-1", "course": course, "date": "2026-11-03", "amount": 49.0, "currency": "EUR", "ref": "spring.B.v-02"},
                        {"order_id": "F-2", "learner": "lrn-feed-2", "course": course, "date": "2026-11-04", "amount": "39.00", "currency": "EUR"}
                    ]})).into_response()
                }
            }),
        )
        .route(
            "/flaky",
            get(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                let course = c2.clone();
                async move {
                    if n < 2 {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    ([(header::CONTENT_TYPE, "text/csv")], format!("order_id,learner,course,date,amount,currency\nK-1,lrn-k,{course},2026-11-05,10,EUR\n")).into_response()
                }
            }),
        )
        .route("/page", get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<html>Sign in</html>") }))
        // Moved within the shop, and moved to another site (here: another origin on loopback).
        .route("/moved", get(|| async { axum::response::Redirect::temporary("/sales.json") }))
        .route(
            "/elsewhere",
            get(|headers: HeaderMap| async move {
                let port = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .and_then(|h| h.rsplit(':').next())
                    .unwrap_or("0")
                    .to_owned();
                axum::response::Redirect::temporary(&format!("http://localhost:{port}/sales.json"))
            }),
        )
        .route(
            "/hostile",
            get(move || {
                let course = course.clone();
                async move {
                    axum::Json(serde_json::json!([
                        {"order_id": "H-1", "learner": "lrn-h", "course": course, "date": "2026-11-05", "amount": 10, "currency": "EUR"},
                        {"order_id": "H-2", "learner": "=cmd|' /C calc'!A0", "course": course, "date": "2026-11-05", "amount": -5, "currency": "EUR"}
                    ]))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, flaky_calls)
}

async fn point(studio: &Studio, url: String, token: Option<&str>) {
    studio
        .set_sales_feed(SetSalesFeed {
            kind: None,
            url: Some(url),
            token: token.map(str::to_owned),
            every_minutes: Some(15),
            allow_private_address: Some(true),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_sales_feed_imports_from_the_shop_and_says_clearly_when_the_shop_answers_badly() {
    let (_dir, studio, courses) = demo().await;
    let (base, flaky_calls) = shop(courses[0].clone()).await;
    let before = purchases_count(&studio).await;

    // Without the token the shop refuses: a typed error, nothing imported, and the feed says so.
    point(&studio, format!("{base}/sales.json"), None).await;
    let err = studio
        .sync_sales_feed(FeedRef::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FeedRefused, "{err}");
    assert!(err.message.contains("401"), "{err}");
    assert_eq!(
        studio
            .sales_feed(FeedRef::default())
            .await
            .unwrap()
            .last_error
            .as_deref(),
        Some("feed_refused")
    );

    // A feed moved to another site is not followed there: the token and the request stay
    // with the address the owner gave.
    point(&studio, format!("{base}/elsewhere"), Some("shop-token-1")).await;
    let err = studio
        .sync_sales_feed(FeedRef::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FeedRefused, "{err}");
    assert!(
        err.message
            .contains("redirected the feed to another site (http://localhost:"),
        "{err}"
    );
    assert_eq!(purchases_count(&studio).await, before);

    // With it: JSON purchases are imported, once, however often the feed is synced (a move
    // within the shop is followed).
    point(&studio, format!("{base}/moved"), Some("shop-token-1")).await;
    let feed = studio.sales_feed(FeedRef::default()).await.unwrap();
    assert!(feed.has_token && feed.last_error.as_deref() == Some("feed_refused"));
    let done = studio.sync_sales_feed(FeedRef::default()).await.unwrap();
    assert!(done.applied, "{:?}", done.errors);
    assert_eq!(done.inserted, 2);
    let again = studio.sync_sales_feed(FeedRef::default()).await.unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 2));
    assert_eq!(purchases_count(&studio).await, before + 2);
    let feed = studio.sales_feed(FeedRef::default()).await.unwrap();
    assert!(feed.last_sync_ms.is_some() && feed.last_error.is_none());
    assert!(
        !format!("{feed:?}").contains("shop-token-1"),
        "the token is never shown"
    );

    // Two 503s, then CSV: retried and imported.
    point(&studio, format!("{base}/flaky"), None).await;
    let done = studio.sync_sales_feed(FeedRef::default()).await.unwrap();
    assert!(done.applied);
    assert_eq!(flaky_calls.load(Ordering::SeqCst), 3);

    // A web page, a 404, a feed with a hostile row, nobody listening.
    point(&studio, format!("{base}/page"), None).await;
    assert_eq!(
        studio
            .sync_sales_feed(FeedRef::default())
            .await
            .unwrap_err()
            .code,
        ErrorCode::FeedInvalid
    );
    point(&studio, format!("{base}/missing"), None).await;
    assert_eq!(
        studio
            .sync_sales_feed(FeedRef::default())
            .await
            .unwrap_err()
            .code,
        ErrorCode::FeedRefused
    );
    let count = purchases_count(&studio).await;
    point(&studio, format!("{base}/hostile"), None).await;
    let hostile = studio.sync_sales_feed(FeedRef::default()).await.unwrap();
    assert!(!hostile.applied);
    let columns: Vec<&str> = hostile.errors.iter().map(|e| e.column.as_str()).collect();
    assert!(
        columns.contains(&"learner") && columns.contains(&"amount"),
        "{:?}",
        hostile.errors
    );
    assert_eq!(
        purchases_count(&studio).await,
        count,
        "nothing half-imported"
    );
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/sales", closed.local_addr().unwrap());
    drop(closed);
    point(&studio, dead, None).await;
    assert_eq!(
        studio
            .sync_sales_feed(FeedRef::default())
            .await
            .unwrap_err()
            .code,
        ErrorCode::FeedUnreachable
    );

    // Bad settings are refused before anything is stored.
    for url in [
        "ftp://shop.example/x",
        "not a url",
        "https://user:pw@shop.example/",
    ] {
        let err = studio
            .set_sales_feed(SetSalesFeed {
                kind: None,
                url: Some(url.into()),
                token: None,
                every_minutes: None,
                allow_private_address: Some(true),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{url}");
    }
    // A shop on this machine or a private network only when the school says so.
    for url in [
        "http://127.0.0.1:9/sales.csv",
        "http://localhost/sales.csv",
        "http://10.0.0.7/sales.csv",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let err = studio
            .set_sales_feed(SetSalesFeed {
                kind: None,
                url: Some(url.into()),
                token: None,
                every_minutes: None,
                allow_private_address: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::PrivateAddress, "{url}");
    }
}

/// The catalog and the learners come from the school's own systems too: each kind has its own
/// feed (URL, token, schedule, last result), imported like its file.
#[tokio::test]
async fn catalog_and_learners_feeds_sync_from_their_own_urls() {
    let (_dir, studio, _) = demo().await;
    let app = axum::Router::new()
        .route(
            "/courses.json",
            get(|| async {
                axum::Json(serde_json::json!({"courses": [
                    {"id": "rust-async", "title": "Async Rust", "tags": ["rust", "async"], "level": "advanced", "price": "89.00", "length": 300},
                ]}))
            }),
        )
        .route(
            "/learners.csv",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/csv")], "id,display_name\nlrn-sync-1,Sam\n")
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    for (kind, path) in [
        (DataKind::Catalog, "/courses.json"),
        (DataKind::Learners, "/learners.csv"),
    ] {
        let feed = studio
            .set_sales_feed(SetSalesFeed {
                kind: Some(kind),
                url: Some(format!("{base}{path}")),
                token: None,
                every_minutes: Some(60),
                allow_private_address: Some(true),
            })
            .await
            .unwrap();
        assert_eq!(feed.kind, kind);
    }
    // The sales feed is its own setting, still unset.
    assert_eq!(
        studio.sales_feed(FeedRef::default()).await.unwrap().url,
        None
    );
    let catalog = studio
        .sync_sales_feed(FeedRef {
            kind: Some(DataKind::Catalog),
        })
        .await
        .unwrap();
    // The schedule may have synced the new feed first (it is due at once): then this sync finds
    // the course unchanged. Either way one row, applied, and the course is in the catalog.
    assert!(
        catalog.applied && catalog.rows == 1 && catalog.inserted + catalog.unchanged == 1,
        "{catalog:?}"
    );
    let course = studio
        .catalog(NoArgs {})
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == "rust-async")
        .expect("the feed's course is in the catalog");
    assert_eq!(course.tags, ["async", "rust"], "tags are kept sorted");
    let learners = studio
        .sync_sales_feed(FeedRef {
            kind: Some(DataKind::Learners),
        })
        .await
        .unwrap();
    assert!(
        learners.applied && learners.rows == 1 && learners.inserted + learners.unchanged == 1,
        "{learners:?}"
    );
    // Idempotent: again, nothing changes; the schedule then finds nothing due.
    let again = studio
        .sync_sales_feed(FeedRef {
            kind: Some(DataKind::Catalog),
        })
        .await
        .unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 1));
    let feed = studio
        .sales_feed(FeedRef {
            kind: Some(DataKind::Learners),
        })
        .await
        .unwrap();
    assert!(feed.last_sync_ms.is_some() && feed.last_error.is_none());
    // A JSON feed of the wrong shape names what it expected.
    studio
        .set_sales_feed(SetSalesFeed {
            kind: Some(DataKind::Learners),
            url: Some(format!("{base}/courses.json")),
            token: None,
            every_minutes: None,
            allow_private_address: Some(true),
        })
        .await
        .unwrap();
    let err = studio
        .sync_sales_feed(FeedRef {
            kind: Some(DataKind::Learners),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FeedInvalid);
    assert!(err.message.contains("learners"), "{}", err.message);
}

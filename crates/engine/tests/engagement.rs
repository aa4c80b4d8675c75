//! The live panel's engagement during a class, the same story after class from the log, and the
//! report written to the data folder.

use lectern_engine::api::NoArgs;
use lectern_engine::engagement::SessionRef;
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_room::{Action, ClientId, Input, Role, ViewerId};

#[tokio::test]
async fn the_live_panel_counts_the_class_and_the_session_page_and_report_agree() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let live = studio
        .start_class(
            serde_json::from_value(serde_json::json!({"title": "Window functions"})).unwrap(),
        )
        .await
        .unwrap();
    let session_id = match serde_json::to_value(&live).unwrap()["sessionId"].as_i64() {
        Some(id) => id,
        None => panic!("{live:?}"),
    };
    let room = studio.live_room().await.unwrap();
    for i in 0..6 {
        room.submit(Input::Join {
            viewer: ViewerId(format!("v-{i:04}")),
            role: Role::Viewer,
            name: format!("Learner <img src=x onerror=alert({i})>"),
            fingerprint: None,
        })
        .await
        .unwrap();
    }
    for (i, text) in ["What is OVER()?", "Nice", "Can we partition twice?"]
        .iter()
        .enumerate()
    {
        room.submit(Input::Act {
            viewer: ViewerId(format!("v-{i:04}")),
            client_id: Some(ClientId::from(format!("c{i}").as_str())),
            action: Action::SendChat {
                text: (*text).into(),
                reply_to: None,
            },
        })
        .await
        .unwrap();
    }
    room.submit(Input::Leave {
        viewer: ViewerId::from("v-0005"),
    })
    .await
    .unwrap();

    // The feeder runs beside the room: wait until it has counted what was committed.
    let mut panel = serde_json::Value::Null;
    for _ in 0..100 {
        panel = studio.live_engagement(NoArgs {}).await.unwrap().0;
        if panel["totals"]["chat"] == 3 && panel["totals"]["present"] == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(panel["totals"]["viewers"], 6, "{}", panel["totals"]);
    assert_eq!(panel["totals"]["chat"], 3);
    assert_eq!(panel["totals"]["present"], 5);
    assert_eq!(panel["viewers"].as_array().unwrap().len(), 6);

    studio.end_class(NoArgs {}).await.unwrap();
    let after = studio
        .session_engagement(SessionRef { session_id })
        .await
        .unwrap()
        .0;
    for key in ["viewers", "chat", "questions", "ballots"] {
        assert_eq!(after["totals"][key], panel["totals"][key], "{key}");
    }
    // Ending the class records everyone still connected as leaving then.
    assert_eq!(after["totals"]["present"], 0, "everyone left at the end");
    assert_eq!(after["totals"]["peak_present"], 6, "{}", after["totals"]);
    assert_eq!(
        studio
            .live_engagement(NoArgs {})
            .await
            .unwrap_err()
            .code
            .as_str(),
        "conflict",
        "no class is live"
    );

    let files = studio
        .class_report(SessionRef { session_id })
        .await
        .unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    assert!(html.contains("Window functions"));
    // The only images are the charts lectern-charts drew, embedded as PNG data.
    assert_eq!(
        html.matches("<img").count(),
        html.matches("<img class=\"chart\" alt=\"").count(),
        "viewer names are text, never markup"
    );
    assert_eq!(
        html.matches(" src=\"").count(),
        html.matches(" src=\"data:image/png;base64,iVBORw0KGgo")
            .count()
    );
    assert!(html.contains("alt=\"Viewers present at the end of each minute\""));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&lt;img src=x"), "a name's markup stays text");
    assert!(
        html.contains("&lt;img"),
        "the names are in the per-viewer table, escaped"
    );
    assert!(!html.contains("<script"), "self-contained and inert");
    let viewers_csv = std::fs::read_to_string(&files.csv[0]).unwrap();
    assert_eq!(viewers_csv.lines().count(), 1 + 6, "{viewers_csv}");
    // Each chart that may be shown is also a PNG to share, and so is the summary.
    let names: Vec<&str> = (files.images.iter())
        .map(|p| p.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["audience.png", "activity.png", "summary.png"]);
    for image in &files.images {
        let bytes = std::fs::read(image).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{image}");
    }
    // The same pictures for the session page to save or copy, the summary first.
    let pictures = studio
        .report_images(SessionRef { session_id })
        .await
        .unwrap();
    let names: Vec<&str> = pictures.images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["summary", "audience", "activity"]);
    for picture in &pictures.images {
        assert!(
            picture
                .data_url
                .starts_with("data:image/png;base64,iVBORw0KGgo"),
            "{}",
            &picture.data_url[..40]
        );
        assert!(!picture.alt.is_empty());
    }
    let err = studio
        .class_report(SessionRef {
            session_id: 999_999,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "not_found");
}

#[tokio::test]
async fn a_viewer_can_be_exported_and_erased_and_old_chat_blanked() {
    use lectern_engine::privacy::{ChatRetention, ViewerRef};
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let live = studio
        .start_class(serde_json::from_value(serde_json::json!({"title": "Privacy"})).unwrap())
        .await
        .unwrap();
    let session_id = serde_json::to_value(&live).unwrap()["sessionId"]
        .as_i64()
        .unwrap();
    let room = studio.live_room().await.unwrap();
    for (viewer, text) in [("v-erase-me", "my secret plan"), ("v-stays", "hello")] {
        room.submit(Input::Join {
            viewer: ViewerId::from(viewer),
            role: Role::Viewer,
            name: viewer.into(),
            fingerprint: None,
        })
        .await
        .unwrap();
        room.submit(Input::Act {
            viewer: ViewerId::from(viewer),
            client_id: Some(ClientId::from(format!("c-{viewer}").as_str())),
            action: Action::SendChat {
                text: text.into(),
                reply_to: None,
            },
        })
        .await
        .unwrap();
    }
    // While the class is on air, the room still holds them: refused, nothing erased.
    let refused = studio
        .erase_viewer(ViewerRef {
            viewer: "v-erase-me".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code.as_str(), "conflict");
    assert!(
        refused.message.contains("once it has ended"),
        "{}",
        refused.message
    );
    studio.end_class(NoArgs {}).await.unwrap();

    let data = studio
        .viewer_data(ViewerRef {
            viewer: "v-erase-me".into(),
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = data
        .events
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"viewer_joined") && kinds.contains(&"chat_sent"),
        "{kinds:?}"
    );
    assert!(
        serde_json::to_string(&data)
            .unwrap()
            .contains("my secret plan")
    );

    // What else names them before the erasure: a sale marked by hand for them, a sale whose
    // checkout code names them, the class's report, and a backup.
    let course_id: String = {
        let store_path = studio
            .overview(NoArgs {})
            .await
            .unwrap()
            .school
            .unwrap()
            .db_path;
        let conn = lectern_store::rusqlite::Connection::open(&store_path).unwrap();
        conn.query_row("SELECT id FROM courses ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    for (order, learner, code) in [
        ("erase-1", Some("v-erase-me"), None),
        ("erase-2", Some("lrn-someone"), Some("offer-1.A.v-erase-me")),
    ] {
        studio
            .record_sale(lectern_engine::data::RecordSale {
                order_id: order.into(),
                course_id: course_id.clone(),
                amount: "10.00".into(),
                currency: "EUR".into(),
                date: None,
                ref_code: code.map(str::to_owned),
                learner: learner.map(str::to_owned),
            })
            .await
            .unwrap();
    }
    let report = studio
        .class_report(SessionRef { session_id })
        .await
        .unwrap();
    assert!(
        std::fs::read_to_string(&report.csv[0])
            .unwrap()
            .contains("v-erase-me")
    );
    let backup = studio.backup_school(NoArgs {}).await.unwrap();

    let erased = studio
        .erase_viewer(ViewerRef {
            viewer: "v-erase-me".into(),
        })
        .await
        .unwrap();
    assert!(erased.deleted >= 2, "{erased:?}");
    assert_eq!(erased.purchases, 2, "{erased:?}");
    assert_eq!(erased.reports_deleted, 1, "{erased:?}");
    assert_eq!(
        (erased.backups_erased, erased.backups_failed),
        (1, 0),
        "{erased:?}"
    );
    assert!(
        !std::path::Path::new(&report.folder).exists(),
        "the report that named them is gone"
    );
    // The sales stay (the school's revenue), under nobody's id.
    let db_path = studio
        .overview(NoArgs {})
        .await
        .unwrap()
        .school
        .unwrap()
        .db_path;
    for path in [db_path.clone(), backup.path.clone()] {
        let conn = lectern_store::rusqlite::Connection::open(&path).unwrap();
        let sales: Vec<(String, Option<String>)> = conn
            .prepare("SELECT learner_id, ref_code FROM purchases WHERE order_id IN ('erase-1', 'erase-2') ORDER BY order_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if path == db_path {
            assert_eq!(sales.len(), 2, "{path}");
            assert!(sales[0].0.starts_with("erased-"), "{sales:?}");
            assert_eq!(sales[1].1.as_deref(), Some("offer-1.A.erased"));
        }
        let named: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM learners WHERE id = 'v-erase-me')
                      + (SELECT count(*) FROM events WHERE actor = 'v-erase-me' OR payload LIKE '%v-erase-me%')
                      + (SELECT count(*) FROM purchases WHERE learner_id = 'v-erase-me' OR ref_code LIKE '%v-erase-me%')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(named, 0, "nothing names them in {path}");
    }
    assert!(
        studio
            .viewer_data(ViewerRef {
                viewer: "v-erase-me".into()
            })
            .await
            .unwrap()
            .events
            .is_empty()
    );
    let after = studio
        .session_engagement(SessionRef { session_id })
        .await
        .unwrap()
        .0;
    assert_eq!(after["totals"]["viewers"], 1, "only the viewer who stays");
    let path = studio
        .overview(NoArgs {})
        .await
        .unwrap()
        .school
        .unwrap()
        .db_path;
    studio.close().await.unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.windows(14).any(|w| w == b"my secret plan"),
        "gone from the file itself"
    );

    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let applied = studio
        .set_chat_retention(ChatRetention { days: Some(30) })
        .await
        .unwrap();
    // The studio's own clock applies retention once at start too, and may get there first
    // on a busy machine: what counts is that no old chat keeps its text.
    let db = studio
        .overview(NoArgs {})
        .await
        .unwrap()
        .school
        .unwrap()
        .db_path;
    let old_chat = |with_text: bool| {
        let conn = lectern_store::rusqlite::Connection::open(&db).unwrap();
        let sql = format!(
            "SELECT COUNT(*) FROM events WHERE kind = 'chat_sent' AND at_ms < ?1{}",
            if with_text {
                " AND json_extract(payload, '$.event.message.text') != ''"
            } else {
                ""
            }
        );
        let cutoff = lectern_store::demo::DEMO_NOW_MS - 30 * 86_400_000;
        conn.query_row(&sql, [cutoff], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    assert!(old_chat(false) > 0, "the demo's old classes had chat");
    assert_eq!(old_chat(true), 0, "blanked: {}", applied.blanked);
    let store = studio.store().await.unwrap();
    let today = store.events_after(session_id, 0, 100).await.unwrap();
    let kept = today
        .iter()
        .any(|e| e.payload["event"]["message"]["text"] == "hello");
    assert!(kept, "today's chat is younger than 30 days and stays");
    assert_eq!(
        studio.chat_retention(NoArgs {}).await.unwrap().days,
        Some(30)
    );
    let err = studio
        .set_chat_retention(ChatRetention { days: Some(0) })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_input");
    let err = studio
        .erase_viewer(ViewerRef {
            viewer: "instructor".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_input");
}

#[tokio::test]
async fn a_class_is_compared_with_the_other_classes_of_its_course() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let store = studio.store().await.unwrap();
    // The demo school's course with the most ended classes.
    let (course, classes): (String, Vec<i64>) = store
        .read(|conn| {
            let course: String = conn.query_row(
                "SELECT course_id FROM live_sessions WHERE course_id IS NOT NULL AND ended_at_ms IS NOT NULL
                 GROUP BY course_id ORDER BY count(*) DESC, course_id LIMIT 1",
                [],
                |r| r.get(0),
            )?;
            let mut stmt = conn.prepare(
                "SELECT id FROM live_sessions WHERE course_id = ?1 AND ended_at_ms IS NOT NULL
                 ORDER BY started_at_ms, id",
            )?;
            let ids = stmt
                .query_map([&course], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok((course, ids))
        })
        .await
        .unwrap();
    assert!(
        classes.len() >= 3,
        "the demo teaches a course several times"
    );
    let last = *classes.last().unwrap();
    let view = studio
        .course_trend(serde_json::from_value(serde_json::json!({"sessionId": last})).unwrap())
        .await
        .unwrap();
    let trend = view.trend.as_ref().unwrap();
    assert_eq!(trend["course_id"], course.as_str());
    assert!(!view.course_title.unwrap().is_empty());
    let sessions = trend["sessions"].as_array().unwrap();
    let ids: Vec<i64> = sessions
        .iter()
        .map(|s| s["session_id"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = classes.iter().rev().take(30).rev().copied().collect();
    assert_eq!(ids, expected, "the course's classes, oldest first");
    // Each shown class says what its own session page says.
    let shown = sessions
        .iter()
        .find(|s| !s["summary"].is_null())
        .expect("a class of 5+ viewers");
    let id = shown["session_id"].as_i64().unwrap();
    let page = studio
        .session_engagement(serde_json::from_value(serde_json::json!({"sessionId": id})).unwrap())
        .await
        .unwrap();
    assert_eq!(shown["summary"]["viewers"], page.0["totals"]["viewers"]);
    assert_eq!(
        shown["summary"]["median_score"],
        page.0["totals"]["median_score"]
    );
    // The same class among its instructor's classes (every course they taught).
    let instructor = view
        .instructor
        .clone()
        .expect("the demo names its instructors");
    let by_instructor = view.instructor_trend.as_ref().unwrap();
    assert_eq!(by_instructor["course_id"], instructor.as_str());
    let theirs: Vec<i64> = by_instructor["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_i64().unwrap())
        .collect();
    let wanted = instructor.clone();
    let expected_theirs: Vec<i64> = store
        .read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id FROM (SELECT id, started_at_ms FROM live_sessions
                 WHERE instructor = ?1 AND ended_at_ms IS NOT NULL
                 ORDER BY started_at_ms DESC, id DESC LIMIT 30) ORDER BY started_at_ms, id",
            )?;
            let ids = stmt
                .query_map([&wanted], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .await
        .unwrap();
    assert_eq!(theirs, expected_theirs);
    assert!(theirs.contains(&last) && theirs.len() > classes.len());
    let direction = trend["direction"].as_str().unwrap();
    assert!(
        ["rising", "falling", "flat", "too_few_classes"].contains(&direction),
        "{direction}"
    );
    // A class taught for no course has nothing to compare with; an unknown one is not found.
    let err = studio
        .course_trend(serde_json::from_value(serde_json::json!({"sessionId": 999_999})).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "not_found");
    let live = studio
        .start_class(serde_json::from_value(serde_json::json!({"title": "Office hours"})).unwrap())
        .await
        .unwrap();
    let lectern_engine::api::LiveStatus::Live {
        session_id: session,
        ..
    } = live
    else {
        panic!("the class is live: {live:?}");
    };
    let none = studio
        .course_trend(serde_json::from_value(serde_json::json!({"sessionId": session})).unwrap())
        .await
        .unwrap();
    assert!(none.trend.is_none() && none.course_title.is_none());
    assert!(none.instructor.is_none() && none.instructor_trend.is_none());
}

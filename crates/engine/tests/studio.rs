//! The studio's operations on temp folders and real school files.

use lectern_engine::api::{CreateSchool, NoArgs, StudioEvent};
use lectern_engine::{ErrorCode, SchoolSource, Studio, StudioOptions};

async fn demo_studio(dir: &std::path::Path) -> Studio {
    Studio::open(StudioOptions::new(dir, SchoolSource::Demo))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_demo_school_opens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let studio = demo_studio(dir.path()).await;
    let overview = studio.overview(NoArgs {}).await.unwrap();
    let school = overview.school.expect("a school is open");
    assert!(school.is_demo);
    assert!(school.name.contains("demo"), "{}", school.name);
    let counts = overview.counts.unwrap();
    assert!((30..=50).contains(&counts.courses), "{counts:?}");
    assert!(counts.learners >= 2_000, "{counts:?}");
    assert!(counts.sessions >= 20, "{counts:?}");
    assert!(!overview.recent_sessions.is_empty());
    assert!(
        overview
            .recent_sessions
            .windows(2)
            .all(|w| w[0].started_at_ms >= w[1].started_at_ms)
    );
    studio.close().await.unwrap();
}

#[tokio::test]
async fn first_run_has_no_school_until_one_is_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Default))
        .await
        .unwrap();
    let overview = studio.overview(NoArgs {}).await.unwrap();
    assert!(overview.school.is_none() && overview.counts.is_none());
    let err = studio.backup_school(NoArgs {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NoSchool);

    let mut events = studio.subscribe();
    let overview = studio.open_demo_school(NoArgs {}).await.unwrap();
    assert!(overview.school.unwrap().is_demo);
    let next = loop {
        match events.recv().await.unwrap() {
            // The broadcast's once-a-second numbers run beside everything else.
            StudioEvent::BroadcastStats { .. } => continue,
            other => break other,
        }
    };
    assert_eq!(next, StudioEvent::SchoolChanged);
    studio.close().await.unwrap();

    // The next start finds the demo again.
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Default))
        .await
        .unwrap();
    assert!(
        studio
            .overview(NoArgs {})
            .await
            .unwrap()
            .school
            .unwrap()
            .is_demo
    );
    studio.close().await.unwrap();
}

#[tokio::test]
async fn creating_a_school_validates_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Default))
        .await
        .unwrap();
    for bad in ["", "   ", &"x".repeat(121)] {
        let err = studio
            .create_school(CreateSchool {
                name: bad.to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{bad:?}");
    }
    assert!(
        !dir.path().join("school.sqlite").exists(),
        "a refused name wrote nothing"
    );
    let overview = studio
        .create_school(CreateSchool {
            name: "  Ada's Piano School ".into(),
        })
        .await
        .unwrap();
    let school = overview.school.unwrap();
    assert_eq!(school.name, "Ada's Piano School");
    assert!(!school.is_demo);
    assert_eq!(overview.counts.unwrap().courses, 0);
    let err = studio
        .create_school(CreateSchool {
            name: "Another".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    studio.close().await.unwrap();
}

#[tokio::test]
async fn a_backup_reports_progress_and_opens_with_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let studio = demo_studio(dir.path()).await;
    let mut events = studio.subscribe();
    let done = studio.backup_school(NoArgs {}).await.unwrap();
    assert!(done.bytes > 100_000, "{done:?}");
    let mut progress = 0;
    while let Ok(event) = events.try_recv() {
        if let StudioEvent::BackupProgress { done, total } = event {
            assert!(done <= total);
            progress += 1;
        }
    }
    assert!(progress >= 1, "no progress event");
    let before = studio.overview(NoArgs {}).await.unwrap().counts;
    studio.close().await.unwrap();

    let copy = Studio::open(StudioOptions::new(
        dir.path().join("other"),
        SchoolSource::Path(done.path.into()),
    ))
    .await
    .unwrap();
    assert_eq!(copy.overview(NoArgs {}).await.unwrap().counts, before);
    copy.close().await.unwrap();
}

#[tokio::test]
async fn a_foreign_file_is_refused_with_its_code_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.sqlite");
    std::fs::write(
        &path,
        b"these are my notes, not a database, and they are long enough",
    )
    .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Studio::open(StudioOptions::new(
        dir.path(),
        SchoolSource::Path(path.clone()),
    ))
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotADatabase, "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn the_dispatcher_reaches_every_command_and_rejects_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let studio = demo_studio(dir.path()).await;
    let value = lectern_engine::api::dispatch(&studio, "overview", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(value["school"]["isDemo"], true);
    let err = lectern_engine::api::dispatch(&studio, "overview", serde_json::json!({"x": 1}))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    let err =
        lectern_engine::api::dispatch(&studio, "create_school", serde_json::json!({"name": 5}))
            .await
            .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    let err = lectern_engine::api::dispatch(&studio, "drop_tables", serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    // No host attached: the network switch says so instead of pretending.
    let err = lectern_engine::api::dispatch(
        &studio,
        "set_network_access",
        serde_json::json!({"lanOpen": true}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    studio.close().await.unwrap();
}

#[tokio::test]
async fn the_desktop_start_shows_why_a_school_cannot_open_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.sqlite");
    std::fs::write(&path, vec![0xABu8; 4096]).unwrap();
    let studio = Studio::open_or_welcome(StudioOptions::new(
        dir.path(),
        SchoolSource::Path(path.clone()),
    ))
    .await
    .unwrap();
    let overview = studio.overview(NoArgs {}).await.unwrap();
    assert!(overview.school.is_none());
    assert_eq!(
        overview.school_problem.unwrap().code,
        ErrorCode::NotADatabase
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        vec![0xABu8; 4096],
        "the file is left alone"
    );

    // Choosing another school clears the problem.
    let overview = studio.open_demo_school(NoArgs {}).await.unwrap();
    assert!(overview.school.is_some() && overview.school_problem.is_none());
    studio.close().await.unwrap();
}

#[tokio::test]
async fn a_class_starts_and_ends_once_with_its_session_in_the_log() {
    use lectern_engine::api::{LiveStatus, StartClass};
    let dir = tempfile::tempdir().unwrap();
    let studio = demo_studio(dir.path()).await;
    let sessions_before = studio
        .overview(NoArgs {})
        .await
        .unwrap()
        .counts
        .unwrap()
        .sessions;
    for bad in ["", " ", &"t".repeat(201)] {
        let err = studio
            .start_class(StartClass {
                title: bad.to_owned(),
                course_id: None,
                instructor: None,
                record: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
    }
    let live = studio
        .start_class(StartClass {
            title: " Window functions ".into(),
            course_id: None,
            instructor: Some(" Ana Lima ".into()),
            record: None,
        })
        .await
        .unwrap();
    let LiveStatus::Live {
        session_id, title, ..
    } = live
    else {
        panic!("not live: {live:?}")
    };
    assert_eq!(title, "Window functions");
    let instructor: Option<String> = studio
        .store()
        .await
        .unwrap()
        .read(move |conn| {
            Ok(conn.query_row(
                "SELECT instructor FROM live_sessions WHERE id = ?1",
                [session_id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(instructor.as_deref(), Some("Ana Lima"));
    assert!(studio.public_info().await.unwrap().live);
    let overview = studio.overview(NoArgs {}).await.unwrap();
    assert_eq!(overview.counts.unwrap().sessions, sessions_before + 1);
    assert!(matches!(overview.live, LiveStatus::Live { session_id: s, .. } if s == session_id));
    let err = studio
        .start_class(StartClass {
            title: "Another".into(),
            course_id: None,
            instructor: None,
            record: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(studio.live_room().await.is_some());

    assert_eq!(
        studio.end_class(NoArgs {}).await.unwrap(),
        LiveStatus::Offline
    );
    assert!(studio.live_room().await.is_none());
    let ended = studio.overview(NoArgs {}).await.unwrap().recent_sessions;
    assert!(
        ended
            .iter()
            .any(|s| s.id == session_id && s.ended_at_ms.is_some())
    );
    assert_eq!(
        studio.end_class(NoArgs {}).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    studio.close().await.unwrap();
}

#[tokio::test]
async fn viewer_ids_are_stable_per_browser_and_reveal_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let studio = demo_studio(dir.path()).await;
    let (key, a) = studio.issue_browser_key(None, None).await.unwrap().unwrap();
    assert_eq!(a, studio.viewer_id(&key).await.unwrap());
    let (other_key, b) = studio.issue_browser_key(None, None).await.unwrap().unwrap();
    assert_ne!(a, b);
    assert_ne!(key, other_key);
    assert!(a.0.starts_with("v-") && !a.0.contains(&key[4..12]));
    // Keys the school did not sign name nobody.
    for bad in [
        "short",
        "has spaces in it, clearly",
        &"k".repeat(129),
        "browser-key-0000000001",
        // The last signature digit changed.
        &format!(
            "{}{}",
            &key[..key.len() - 1],
            if key.ends_with('0') { '1' } else { '0' }
        ),
    ] {
        assert_eq!(
            studio.viewer_id(bad).await.unwrap_err().code,
            ErrorCode::InvalidInput,
            "{bad}"
        );
    }
    studio.close().await.unwrap();
    // Another school (another install secret) does not accept this school's key.
    let other = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(
        other.path(),
        SchoolSource::Path(other.path().join("s.sqlite")),
    ))
    .await
    .unwrap();
    assert!(studio.viewer_id(&key).await.is_err());
    studio.close().await.unwrap();
}

#[tokio::test]
async fn the_catalog_lists_every_course_by_title_and_needs_a_school() {
    let dir = tempfile::tempdir().unwrap();
    let studio = demo_studio(dir.path()).await;
    let courses = studio.catalog(NoArgs {}).await.unwrap();
    assert_eq!(courses.len(), 40);
    assert!(courses.windows(2).all(|w| w[0].title <= w[1].title));
    assert!(
        courses
            .iter()
            .all(|c| c.price_cents > 0 && c.currency.len() == 3 && !c.tags.is_empty())
    );

    let empty = tempfile::tempdir().unwrap();
    let none = Studio::open(StudioOptions::new(empty.path(), SchoolSource::Default))
        .await
        .unwrap();
    let err = none.catalog(NoArgs {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NoSchool);
}

#[tokio::test]
async fn the_clock_runs_for_a_school_opened_from_the_welcome_screen() {
    let dir = tempfile::tempdir().unwrap();
    // A school the studio cannot open: it starts on the welcome screen.
    let broken = dir.path().join("broken.sqlite");
    std::fs::write(&broken, b"this is not a database").unwrap();
    let studio =
        Studio::open_or_welcome(StudioOptions::new(dir.path(), SchoolSource::Path(broken)))
            .await
            .unwrap();
    assert!(
        studio
            .overview(NoArgs {})
            .await
            .unwrap()
            .school_problem
            .is_some()
    );
    let mut events = studio.subscribe();
    studio
        .create_school(CreateSchool {
            name: "Welcome School".into(),
        })
        .await
        .unwrap();
    // The once-a-second numbers reach the screens of the school opened now.
    let stats = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            if let StudioEvent::BroadcastStats { .. } = events.recv().await.unwrap() {
                break;
            }
        }
    })
    .await;
    assert!(
        stats.is_ok(),
        "no broadcast_stats within 5 s of opening the school"
    );
    studio.close().await.unwrap();
}

/// The studio's own publish key is random, kept outside the school file (0600), the same after
/// a restart, and replaced by a rotation, after which the old key is refused. A key given at
/// start cannot be rotated from the studio.
#[tokio::test]
async fn the_publish_key_is_kept_apart_from_the_school_and_can_be_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let studio = demo_studio(dir.path()).await;
    let first = studio.publish_key().await.unwrap();
    assert_eq!(first.len(), 32, "{first}");
    let file = dir.path().join("publish-key");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    studio.close().await.unwrap();

    // The same key after a restart (OBS keeps working).
    let studio = demo_studio(dir.path()).await;
    assert_eq!(studio.publish_key().await.unwrap(), first);
    let rotated = studio.rotate_publish_key(NoArgs {}).await.unwrap();
    assert_ne!(rotated.publish_key, first);
    assert_eq!(studio.publish_key().await.unwrap(), rotated.publish_key);
    assert_eq!(
        studio
            .check_publish_key(Some(&first))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthorized
    );
    studio
        .check_publish_key(Some(&rotated.publish_key))
        .await
        .unwrap();
    studio.close().await.unwrap();

    let mut options = StudioOptions::new(dir.path(), SchoolSource::Demo);
    options.broadcast.publish_key = Some("given-at-start-0001".into());
    let given = Studio::open(options).await.unwrap();
    assert_eq!(
        given.rotate_publish_key(NoArgs {}).await.unwrap_err().code,
        ErrorCode::Conflict
    );
    given.close().await.unwrap();
}

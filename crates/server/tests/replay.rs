//! A past class's recording over HTTP: byte ranges (206 with the file's bytes, 416 outside
//! it), served only once the class has ended, the same guard and CSP as `/watch`; the replay's
//! timeline and replay actions are public.

use std::time::Duration;

use lectern_engine::api::{LiveStatus, NoArgs, StartClass};
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_server::{Server, ServerOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_served_with_byte_ranges_once_the_class_has_ended() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = StudioOptions::new(dir.path(), SchoolSource::Demo);
    options.broadcast.test_card = true;
    let studio = Studio::open(options).await.unwrap();
    let server = Server::start(
        studio.clone(),
        ServerOptions::loopback(0, lectern_server::new_key()),
    )
    .await
    .unwrap();
    let base = server.loopback_url();
    let http = reqwest::Client::new();
    let LiveStatus::Live { session_id, .. } = studio
        .start_class(StartClass {
            title: "Ranges".into(),
            course_id: None,
            instructor: None,
            record: None,
        })
        .await
        .unwrap()
    else {
        panic!("not live")
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Every replay request carries the replay link's key.
    let key = studio.replay_key(session_id).await.unwrap();
    let url = format!("{base}recordings/{session_id}.webm?r={key}");

    // On air: nothing is served, and the replay does not exist yet.
    let during = http.get(&url).send().await.unwrap();
    assert_eq!(during.status(), 404);
    let timeline = http
        .get(format!("{base}api/v1/replay/{session_id}?r={key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(timeline.status(), 404);

    studio.end_class(NoArgs {}).await.unwrap();
    let file = std::fs::read(
        lectern_engine::recording::recordings_dir(dir.path()).join(format!("{session_id}.webm")),
    )
    .unwrap();
    let len = file.len();
    assert!(len > 10_000, "{len} bytes");

    let whole = http.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-type"], "video/webm");
    assert!(
        whole.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"),
        "the same CSP as every page"
    );
    assert_eq!(whole.bytes().await.unwrap().as_ref(), file.as_slice());

    let part = http
        .get(&url)
        .header("range", "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-1099/{len}").as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &file[100..1100]);

    let tail = http
        .get(&url)
        .header("range", "bytes=-500")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &file[len - 500..]);

    let open_ended = http
        .get(&url)
        .header("range", format!("bytes={}-", len - 10))
        .send()
        .await
        .unwrap();
    assert_eq!(open_ended.status(), 206);
    assert_eq!(
        open_ended.bytes().await.unwrap().as_ref(),
        &file[len - 10..]
    );

    let outside = http
        .get(&url)
        .header("range", format!("bytes={}-{}", len + 10, len + 20))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 416);
    assert_eq!(
        outside.headers()["content-range"],
        format!("bytes */{len}").as_str()
    );

    // Another site's page cannot pull it; names that are not recordings are not served.
    let foreign = http
        .get(&url)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    for bad in [
        "..%2Fschool.sqlite",
        "99999.webm",
        "1.webm.partial",
        "x.webm",
    ] {
        let response = http
            .get(format!("{base}recordings/{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{bad}");
    }

    // The timeline is public; a replay reaction gets the student a browser key.
    let timeline: serde_json::Value = http
        .get(format!("{base}api/v1/replay/{session_id}?r={key}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        timeline["video"]["url"],
        format!("/recordings/{session_id}.webm?r={key}")
    );
    // Without the key, or with another class's, there is no replay: session ids are
    // consecutive, and a class is only for those given its link.
    let other = studio.replay_key(session_id + 1).await.unwrap();
    for query in [String::new(), format!("?r={other}"), "?r=".to_owned()] {
        for path in [
            format!("api/v1/replay/{session_id}{query}"),
            format!("recordings/{session_id}.webm{query}"),
        ] {
            let response = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status(), 404, "{path}");
        }
        let response = http
            .post(format!("{base}api/v1/replay/{session_id}/action{query}"))
            .header("content-type", "application/json")
            .body(r#"{"clientId":"reaction-0002","offsetMs":500,"action":{"type":"reaction","reaction":"clap"}}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "action {query}");
    }
    let done: serde_json::Value = http
        .post(format!("{base}api/v1/replay/{session_id}/action?r={key}"))
        .header("content-type", "application/json")
        .body(r#"{"clientId":"reaction-0001","offsetMs":500,"action":{"type":"reaction","reaction":"clap"}}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["stored"], true);
    assert!(done["browserKey"].is_string());

    server.shutdown().await;
    studio.close().await.unwrap();
}

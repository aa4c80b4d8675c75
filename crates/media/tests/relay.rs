//! The relay: engine A pushes its test card by WHIP over real HTTP to engine B (another
//! Lectern behind a tiny axum WHIP endpoint), whose WHEP viewer receives it; failures are
//! retried with backoff and show in A's status.

use crate::support::{TestPublisher, TestViewer, serial};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use lectern_media::{
    EngineConfig, MediaEngine, PublisherId, RelayConfig, RelayErrorCode, RelayState, RelayStatus,
    SourceKind, TestCard, TrackKind,
};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Long enough for ICE to notice a peer that went away (disconnected, then the grace).
const RELAY_WAIT: Duration = Duration::from_secs(40);

/// A WHIP endpoint in front of engine B, as `lectern-server` would be, with a switch to answer
/// every POST with a fixed status instead.
#[derive(Clone)]
struct Endpoint {
    engine: MediaEngine,
    token: &'static str,
    /// 0: serve normally; otherwise answer POSTs with this status.
    forced: Arc<AtomicU16>,
    posts: Arc<Mutex<Vec<Instant>>>,
    authorizations: Arc<Mutex<Vec<Option<String>>>>,
    deleted: Arc<Mutex<Vec<String>>>,
    live: Arc<Mutex<Option<PublisherId>>>,
    /// Answer with a `Location` on another origin (`localhost` instead of `127.0.0.1`).
    foreign_location: Arc<std::sync::atomic::AtomicBool>,
}

async fn whip_post(State(ep): State<Endpoint>, headers: HeaderMap, body: Bytes) -> Response {
    ep.posts.lock().unwrap().push(Instant::now());
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    ep.authorizations.lock().unwrap().push(auth.clone());
    let forced = ep.forced.load(Ordering::SeqCst);
    if forced != 0 {
        return (
            StatusCode::from_u16(forced).unwrap(),
            "down for maintenance",
        )
            .into_response();
    }
    if auth.as_deref() != Some(&format!("Bearer {}", ep.token)) {
        return (StatusCode::UNAUTHORIZED, "wrong key").into_response();
    }
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/sdp")
    {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    let offer = String::from_utf8(body.to_vec()).unwrap();
    match ep.engine.publish(&offer, true).await {
        Ok((id, answer)) => {
            *ep.live.lock().unwrap() = Some(id);
            let location = if ep.foreign_location.load(Ordering::SeqCst) {
                let port = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .and_then(|h| h.rsplit(':').next())
                    .unwrap_or("0")
                    .to_owned();
                format!("http://localhost:{port}/whip/{id}")
            } else {
                format!("/whip/{id}")
            };
            (
                StatusCode::CREATED,
                [
                    (header::LOCATION, location),
                    (header::CONTENT_TYPE, "application/sdp".to_owned()),
                ],
                answer,
            )
                .into_response()
        }
        Err(err) => (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    }
}

async fn whip_delete(State(ep): State<Endpoint>, Path(id): Path<String>) -> StatusCode {
    ep.deleted.lock().unwrap().push(id.clone());
    match id.parse::<PublisherId>() {
        Ok(publisher) if ep.engine.stop(publisher).await.is_ok() => StatusCode::OK,
        _ => StatusCode::NOT_FOUND,
    }
}

impl Endpoint {
    /// Serves engine B on 127.0.0.1; returns the endpoint and its WHIP URL.
    async fn serve(engine: MediaEngine, token: &'static str) -> (Self, String) {
        let ep = Endpoint {
            engine,
            token,
            forced: Arc::new(AtomicU16::new(0)),
            posts: Arc::default(),
            authorizations: Arc::default(),
            deleted: Arc::default(),
            live: Arc::default(),
            foreign_location: Arc::default(),
        };
        let app = Router::new()
            .route("/whip", post(whip_post))
            .route("/whip/{id}", delete(whip_delete))
            .with_state(ep.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (ep, format!("http://{addr}/whip"))
    }

    fn post_count(&self) -> usize {
        self.posts.lock().unwrap().len()
    }
}

fn relay(engine: &MediaEngine) -> RelayStatus {
    engine.status().relay.expect("a relay is started")
}

/// Polls A's relay status until `done` holds, returning every distinct status seen.
async fn wait_relay(
    engine: &MediaEngine,
    what: &str,
    done: impl Fn(&RelayStatus) -> bool,
) -> Vec<RelayStatus> {
    let deadline = Instant::now() + RELAY_WAIT;
    let mut seen: Vec<RelayStatus> = Vec::new();
    loop {
        let status = relay(engine);
        let finished = done(&status);
        if seen
            .last()
            .is_none_or(|s| (s.state, s.attempts) != (status.state, status.attempts))
        {
            seen.push(status);
        }
        if finished {
            return seen;
        }
        assert!(Instant::now() < deadline, "waiting for {what}: {seen:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_feeds_another_lectern_and_comes_back_after_it_drops() {
    let _serial = serial().await;
    let b = MediaEngine::new(EngineConfig::loopback());
    let (endpoint, url) = Endpoint::serve(b.clone(), "relay-secret").await;
    let viewer = TestViewer::join(&b, None).await;

    let a = MediaEngine::new(EngineConfig::loopback());
    a.start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    a.start_relay(
        RelayConfig::new(&url)
            .with_bearer_token("relay-secret")
            .allowing_private(),
    )
    .await
    .unwrap();
    wait_relay(&a, "live", |r| r.state == RelayState::Live).await;
    // B's viewer receives A's card through the relay: video and audio.
    viewer.wait_for(60, 25).await;
    let first = endpoint.live.lock().unwrap().expect("a publisher on B");
    assert_eq!(
        b.status().source.map(|s| s.kind),
        Some(SourceKind::Publisher(first))
    );
    let status = relay(&a);
    assert_eq!(status.url, url);
    assert_eq!((status.connects, status.attempts), (1, 0));
    assert!(
        status.packets_forwarded > 0 && status.bytes_sent > 0,
        "{status:?}"
    );
    // The relay is not a viewer of A; B's viewer is not A's business.
    assert!(a.status().viewers.is_empty());
    assert_eq!(
        endpoint.authorizations.lock().unwrap()[0].as_deref(),
        Some("Bearer relay-secret")
    );

    // B drops the session and its endpoint answers 503 for a while.
    endpoint.forced.store(503, Ordering::SeqCst);
    b.stop(first).await.unwrap();
    let seen = wait_relay(&a, "retries against the 503", |r| {
        r.state == RelayState::Retrying
            && r.last_error.as_ref().is_some_and(|e| {
                e.code == RelayErrorCode::Unreachable && e.http_status == Some(503)
            })
    })
    .await;
    assert!(
        seen.iter().any(|s| s.state == RelayState::Retrying),
        "{seen:#?}"
    );
    let lost = seen
        .iter()
        .find_map(|s| s.last_error.clone())
        .expect("the loss was reported");
    assert_eq!(lost.code, RelayErrorCode::ConnectionLost, "{seen:#?}");

    // B is back: the relay goes live again by itself and B's viewer receives again.
    let (video_before, audio_before) = (
        viewer.count(TrackKind::Video),
        viewer.count(TrackKind::Audio),
    );
    endpoint.forced.store(0, Ordering::SeqCst);
    wait_relay(&a, "live again", |r| {
        r.state == RelayState::Live && r.connects == 2
    })
    .await;
    viewer.wait_for(video_before + 60, audio_before + 25).await;
    let second = endpoint.live.lock().unwrap().expect("a publisher on B");
    assert_ne!(first, second);
    let status = relay(&a);
    assert_eq!(status.attempts, 0);
    assert_eq!(
        status.last_error.map(|e| e.code),
        Some(RelayErrorCode::Unreachable),
        "the last failure stays visible after recovery"
    );

    // Stopping DELETEs the session at B, whose source goes away.
    assert!(a.stop_relay().await);
    assert!(a.status().relay.is_none());
    assert_eq!(
        endpoint.deleted.lock().unwrap().last(),
        Some(&second.to_string())
    );
    assert!(b.status().source.is_none());
    assert!(!a.stop_relay().await);

    viewer.close().await;
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_backs_off_and_then_gives_up() {
    let _serial = serial().await;
    let b = MediaEngine::new(EngineConfig::loopback());
    let (endpoint, url) = Endpoint::serve(b.clone(), "right").await;
    let a = MediaEngine::new(EngineConfig::loopback());
    a.start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    a.start_relay(RelayConfig {
        max_attempts: Some(3),
        ..RelayConfig::new(&url)
            .with_bearer_token("wrong-secret")
            .allowing_private()
    })
    .await
    .unwrap();
    let seen = wait_relay(&a, "giving up", |r| r.state == RelayState::Failed).await;

    let last = relay(&a);
    assert_eq!(last.attempts, 3);
    let error = last.last_error.clone().unwrap();
    assert_eq!(error.code, RelayErrorCode::Unauthorized);
    assert_eq!(error.http_status, Some(401));
    // The backoff doubled between attempts, as status showed it.
    let backoffs: Vec<(u32, Option<u64>)> = seen
        .iter()
        .filter(|s| s.state == RelayState::Retrying)
        .map(|s| (s.attempts, s.backoff_ms))
        .collect();
    assert_eq!(
        backoffs,
        vec![(1, Some(1_000)), (2, Some(2_000))],
        "{seen:#?}"
    );
    // No retry storm: the server saw exactly those attempts, spaced by at least the backoff.
    let posts = endpoint.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 3);
    assert!(posts[1] - posts[0] >= Duration::from_millis(1_000));
    assert!(posts[2] - posts[1] >= Duration::from_millis(2_000));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(endpoint.post_count(), 3, "a failed relay stays quiet");
    // The token is never shown.
    let json = serde_json::to_string(&a.status()).unwrap();
    assert!(!json.contains("wrong-secret"), "{json}");
    assert!(json.contains("\"relay_unauthorized\""), "{json}");
    assert!(b.status().source.is_none());

    a.shutdown().await;
    assert!(a.status().relay.is_none());
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_refusals_and_bad_urls_have_their_own_codes() {
    let _serial = serial().await;
    let b = MediaEngine::new(EngineConfig::loopback());
    let (endpoint, url) = Endpoint::serve(b.clone(), "k").await;
    let a = MediaEngine::new(EngineConfig::loopback());
    let once = |url: &str| RelayConfig {
        max_attempts: Some(1),
        ..RelayConfig::new(url)
            .with_bearer_token("k")
            .allowing_private()
    };
    for (forced, code) in [
        (404, RelayErrorCode::Refused),
        (409, RelayErrorCode::Refused),
        (500, RelayErrorCode::Unreachable),
        (200, RelayErrorCode::BadAnswer),
    ] {
        endpoint.forced.store(forced, Ordering::SeqCst);
        a.start_relay(once(&url)).await.unwrap();
        wait_relay(&a, "failed", |r| r.state == RelayState::Failed).await;
        let error = relay(&a).last_error.unwrap();
        assert_eq!((error.code, error.http_status), (code, Some(forced)));
        assert!(error.message.contains("down for maintenance"), "{error:?}");
    }
    // Nothing listens there: a network error, no HTTP status.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/whip", closed.local_addr().unwrap());
    drop(closed);
    a.start_relay(once(&dead)).await.unwrap();
    wait_relay(&a, "failed", |r| r.state == RelayState::Failed).await;
    let error = relay(&a).last_error.unwrap();
    assert_eq!(
        (error.code, error.http_status),
        (RelayErrorCode::Unreachable, None)
    );

    for bad in [
        "ftp://127.0.0.1/whip",
        "http://user:pw@127.0.0.1/whip",
        "whip",
    ] {
        let err = a.start_relay(RelayConfig::new(bad)).await.unwrap_err();
        assert_eq!(err.code(), "relay_bad_url", "{bad}");
    }
    // A server on this machine or a private network only when the instructor allows it.
    for inside in [
        url.as_str(),
        "http://localhost:9/whip",
        "http://192.168.1.1/whip",
        "http://169.254.169.254/latest",
        "http://[::1]:9/whip",
    ] {
        let err = a.start_relay(RelayConfig::new(inside)).await.unwrap_err();
        assert_eq!(err.code(), "private_address", "{inside}");
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_connects_asks_the_publisher_for_a_keyframe() {
    let _serial = serial().await;
    let b = MediaEngine::new(EngineConfig::loopback());
    let (_endpoint, url) = Endpoint::serve(b.clone(), "k").await;
    let a = MediaEngine::new(EngineConfig::loopback());
    let publisher = TestPublisher::start(&a).await;
    // Media flows from the publisher before the relay starts (a request before the first
    // video packet has no track to go to); the viewer's own join requests are over by then.
    let viewer = TestViewer::join(&a, None).await;
    viewer.wait_for(60, 25).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Nobody watches B, so no PLI comes back through the relay: only the relay's own request.
    let since = Instant::now();
    let sent_before = a.status().upstream_keyframe_requests;
    a.start_relay(
        RelayConfig::new(&url)
            .with_bearer_token("k")
            .allowing_private(),
    )
    .await
    .unwrap();
    wait_relay(&a, "live", |r| r.state == RelayState::Live).await;
    let deadline = Instant::now() + RELAY_WAIT;
    while publisher.pli_count_since(since) == 0 {
        assert!(
            Instant::now() < deadline,
            "no keyframe request reached the publisher"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(a.status().upstream_keyframe_requests > sent_before);
    // The publisher's media reaches B through the relay.
    let deadline = Instant::now() + RELAY_WAIT;
    while relay(&a).packets_forwarded < 50 {
        assert!(Instant::now() < deadline, "{:?}", relay(&a));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(a.stop_relay().await);
    viewer.close().await;
    publisher.close().await;
    a.shutdown().await;
    b.shutdown().await;
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_start_stop_cycles_leave_no_sockets_or_tasks_behind() {
    let _serial = serial().await;
    // B's never-connected watchdog sleeps this long per publisher; keep it short so it is not
    // counted as the relay's.
    let b = MediaEngine::new(EngineConfig {
        connect_timeout: Duration::from_secs(2),
        ..EngineConfig::loopback()
    });
    let (endpoint, url) = Endpoint::serve(b.clone(), "k").await;
    let a = MediaEngine::new(EngineConfig::loopback());
    a.start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    let cycle = || async {
        a.start_relay(
            RelayConfig::new(&url)
                .with_bearer_token("k")
                .allowing_private(),
        )
        .await
        .unwrap();
        wait_relay(&a, "live", |r| {
            r.state == RelayState::Live && r.packets_forwarded > 0
        })
        .await;
        assert!(a.stop_relay().await);
    };
    cycle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (fds, tasks) = (open_fds(), alive_tasks());
    const CYCLES: usize = 6;
    for _ in 0..CYCLES {
        cycle().await;
    }
    assert_eq!(endpoint.deleted.lock().unwrap().len(), CYCLES + 1);
    // Closes finish in the background: wait (bounded) for the counts to come back down.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut fds_after, mut tasks_after) = (open_fds(), alive_tasks());
    while (fds_after > fds + 3 || tasks_after > tasks + 3) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        (fds_after, tasks_after) = (open_fds(), alive_tasks());
    }
    assert!(
        fds_after <= fds + 3 && tasks_after <= tasks + 3,
        "fds {fds} -> {fds_after}, tasks {tasks} -> {tasks_after} after {CYCLES} relay cycles"
    );
    assert!(b.status().source.is_none());
    a.shutdown().await;
    b.shutdown().await;
}

/// A relay server that answers with a `Location` on another site never gets a DELETE there (nor
/// the token): the relay would otherwise delete whatever a hostile server pointed it at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_on_another_site_is_never_deleted() {
    let _serial = serial().await;
    let b = MediaEngine::new(EngineConfig::loopback());
    let (endpoint, url) = Endpoint::serve(b.clone(), "relay-secret").await;
    endpoint.foreign_location.store(true, Ordering::SeqCst);
    let a = MediaEngine::new(EngineConfig::loopback());
    a.start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    a.start_relay(
        RelayConfig::new(&url)
            .with_bearer_token("relay-secret")
            .allowing_private(),
    )
    .await
    .unwrap();
    wait_relay(&a, "live", |r| r.state == RelayState::Live).await;
    assert!(a.stop_relay().await);
    // Give a stray DELETE time to arrive, then check none did.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(endpoint.deleted.lock().unwrap().is_empty());
    a.shutdown().await;
    b.shutdown().await;
}

//! Fuzzing WHIP and WHEP requests over real HTTP on loopback (proptest, stable Rust): offers
//! from OBS and a player with lines and bytes changed, and arbitrary text, under right, wrong or
//! missing keys and content types, posted, patched (trickle ICE) and deleted on real and made-up
//! session paths. Every answer is a status under 500 (or 503, the capacity refusal) with a
//! typed body; the server keeps answering. Cases: `LECTERN_FUZZ_CASES` (64 in `cargo xtask
//! test`; `cargo xtask fuzz` runs thousands).

use proptest::prelude::*;

use crate::host_with;
use crate::whip::OBS_OFFER;

fn cases() -> u32 {
    std::env::var("LECTERN_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    key: u8,
    body: String,
}

fn body() -> impl Strategy<Value = String> {
    let mutated = (
        proptest::collection::vec(any::<usize>(), 0..3),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
    )
        .prop_map(|(drops, bytes)| {
            let mut lines: Vec<&str> = OBS_OFFER.lines().collect();
            for d in drops {
                let n = lines.len();
                lines.remove(d % n);
            }
            let mut text = lines.join("\n").into_bytes();
            for (at, b) in bytes {
                let len = text.len();
                text[at % len] = b;
            }
            String::from_utf8_lossy(&text).into_owned()
        });
    prop_oneof![
        3 => mutated,
        1 => Just(String::new()),
        1 => "a=candidate:[ -~]{0,60}",
        1 => "\\PC{0,200}",
    ]
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop_oneof![
            Just("POST"),
            Just("PATCH"),
            Just("DELETE"),
            Just("OPTIONS"),
            Just("GET")
        ],
        prop_oneof![
            Just("whip".to_owned()),
            Just("whep".to_owned()),
            "whip/[0-9a-f]{0,20}",
            "whep/[0-9a-z%.]{0,20}",
        ],
        prop_oneof![
            Just(Some("application/sdp")),
            Just(Some("application/trickle-ice-sdpfrag")),
            Just(Some("text/plain")),
            Just(None),
        ],
        0u8..3,
        body(),
    )
        .prop_map(|(method, path, content_type, key, body)| Request {
            method,
            path,
            content_type,
            key,
            body,
        })
}

#[test]
fn mutated_and_arbitrary_whip_and_whep_requests_get_a_typed_answer() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut options = lectern_server::ServerOptions::loopback(0, lectern_server::new_key());
    options.limits.connections_per_second = 100_000;
    options.limits.connection_burst = 100_000;
    let host = runtime.block_on(host_with(options));
    let publish_key = runtime.block_on(host.studio.publish_key()).unwrap();
    let client = reqwest::Client::new();
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(r in request())| {
        runtime.block_on(async {
            let method = reqwest::Method::from_bytes(r.method.as_bytes()).unwrap();
            let mut request = client
                .request(method, format!("{}{}", host.base, r.path))
                .body(r.body.clone());
            if let Some(ct) = r.content_type {
                request = request.header("content-type", ct);
            }
            request = match r.key {
                0 => request.bearer_auth(&publish_key),
                1 => request.bearer_auth("not-the-publish-key-0000"),
                _ => request,
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            prop_assert!(status < 500 || status == 503, "{} {} -> {status}", r.method, r.path);
            // A session that was made is let go again, so the next case starts clean.
            if status == 201
                && let Some(location) = response.headers().get("location").and_then(|l| l.to_str().ok())
            {
                let url = format!("{}{}", host.base, location.trim_start_matches('/'));
                let _ = client.delete(url).bearer_auth(&publish_key).send().await;
            }
            Ok(())
        })?;
    });
    // Still serving.
    let health = runtime
        .block_on(async { reqwest::get(format!("{}healthz", host.base)).await })
        .unwrap();
    assert_eq!(health.status(), 200);
}

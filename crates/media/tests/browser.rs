//! Headless Chromium as a WHEP viewer of the built-in test card (loopback only).
//!
//! Ignored by default: it needs `/usr/bin/chromium` and `playwright-core` in the workspace's
//! `node_modules`. Run with `cargo test -p lectern-media --test tests -- --ignored browser`.

use lectern_media::{EngineConfig, MediaEngine, TestCard};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and playwright-core"]
async fn chromium_decodes_the_test_card() {
    let _serial = crate::support::serial().await;
    let engine = MediaEngine::new(EngineConfig::loopback());
    engine
        .start_test_card(TestCard::embedded().unwrap())
        .await
        .unwrap();
    let mut node = tokio::process::Command::new("node")
        .arg(script("whep-viewer.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let read = async |lines: &mut tokio::io::Lines<_>| -> serde_json::Value {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str(&line).unwrap()
    };
    let offer = read(&mut lines).await;
    let offer = offer["offer"].as_str().unwrap();
    let (viewer, answer) = engine.subscribe(offer).await.unwrap();
    let reply = serde_json::json!({ "answer": answer }).to_string() + "\n";
    stdin.write_all(reply.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();

    let result = read(&mut lines).await;
    println!("chromium: {result}");
    assert!(result["framesDecoded"].as_u64().unwrap() > 0, "{result}");
    assert_eq!(result["frameWidth"].as_u64(), Some(640), "{result}");
    assert!(
        result["audioPacketsReceived"].as_u64().unwrap() > 0,
        "{result}"
    );
    let stats = engine.status();
    println!("engine: {stats:?}");
    drop(stdin);
    let _ = tokio::time::timeout(Duration::from_secs(15), node.wait()).await;
    engine.stop(viewer).await.ok();
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and playwright-core"]
async fn chromium_publishes_to_a_rust_viewer() {
    let _serial = crate::support::serial().await;
    use crate::support::TestViewer;
    use lectern_media::TrackKind;
    let engine = MediaEngine::new(EngineConfig::loopback());
    let mut node = tokio::process::Command::new("node")
        .arg(script("whip-publisher.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let read = async |lines: &mut tokio::io::Lines<_>| -> serde_json::Value {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str(&line).unwrap()
    };
    let offer = read(&mut lines).await;
    let (publisher, answer) = engine
        .publish(offer["offer"].as_str().unwrap(), false)
        .await
        .unwrap();
    let reply = serde_json::json!({ "answer": answer }).to_string() + "\n";
    stdin.write_all(reply.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
    let state = read(&mut lines).await;
    assert_eq!(state["state"], "connected", "{state}");
    println!(
        "chromium publisher {publisher}: {:?}",
        engine.status().source
    );

    // A viewer with payload types unlike Chromium's own still gets both tracks.
    let viewer = TestViewer::join(
        &engine,
        Some(crate::support::PayloadTypes {
            vp8: 120,
            opus: 121,
        }),
    )
    .await;
    viewer.wait_for(30, 30).await;
    let video = viewer.packets(TrackKind::Video);
    assert!(video.iter().all(|r| r.packet.header.payload_type == 120));
    assert!(crate::support::vp8_keyframe_start(&video[0].packet.payload));
    println!(
        "chromium -> rust viewer: first keyframe packet {:?} after subscribing; {:?}",
        video[0].at - viewer.subscribed_at,
        engine.status()
    );
    viewer.close().await;
    drop(stdin);
    let _ = tokio::time::timeout(Duration::from_secs(15), node.wait()).await;
    engine.shutdown().await;
}

/// A script beside this test, in the checkout the test runs in (cargo sets CARGO_MANIFEST_DIR at
/// run time too; a test binary reused from another clone would carry that clone's path).
pub fn script(name: &str) -> std::path::PathBuf {
    let crate_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    std::path::PathBuf::from(crate_dir).join("tests").join(name)
}

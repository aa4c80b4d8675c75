//! Fuzzing the SDP the engine reads from WHIP and WHEP requests (proptest, stable Rust): a real
//! offer with lines dropped, repeated and reordered and bytes changed, and arbitrary text. Each
//! answer is an SDP answer or a typed error with a code; nothing panics; a publisher or viewer
//! that was let in is stopped again, and the engine is left with none. Cases: `LECTERN_FUZZ_CASES`
//! (64 in `cargo xtask test`; `cargo xtask fuzz` runs thousands).

use proptest::prelude::*;

use crate::support::TestPublisher;
use lectern_media::{EngineConfig, MediaEngine, SessionId};

fn cases() -> u32 {
    std::env::var("LECTERN_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

/// One change to an SDP's lines.
#[derive(Debug, Clone)]
enum Edit {
    Drop(usize),
    Repeat(usize),
    Swap(usize, usize),
    Byte(usize, u8),
    Insert(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Drop),
        any::<usize>().prop_map(Edit::Repeat),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Byte(at, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just("m=video 9 UDP/TLS/RTP/SAVPF 96 97 98".to_owned()),
                Just("a=rtpmap:96 VP8/90000".to_owned()),
                Just("a=rtpmap:300 H264/-1".to_owned()),
                Just("a=fmtp:96 packetization-mode=1;profile-level-id=zz".to_owned()),
                Just("a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid".to_owned()),
                Just("a=candidate:1 1 udp 1 127.0.0.1 9 typ host".to_owned()),
                Just("a=fingerprint:sha-256 00".to_owned()),
                "[ -~]{0,80}",
            ]
        )
            .prop_map(|(at, line)| Edit::Insert(at, line)),
    ]
}

fn apply(offer: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = offer.lines().map(str::to_owned).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::Drop(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::Repeat(i) if !lines.is_empty() => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Edit::Swap(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Edit::Byte(at, b) if !lines.is_empty() => {
                let line = &mut lines[at % n];
                let mut bytes = std::mem::take(line).into_bytes();
                if !bytes.is_empty() {
                    let len = bytes.len();
                    bytes[at % len] = *b;
                }
                *line = String::from_utf8_lossy(&bytes).into_owned();
            }
            Edit::Insert(at, line) => lines.insert(at % (lines.len() + 1), line.clone()),
            _ => {}
        }
    }
    let mut sdp = lines.join("\r\n");
    sdp.push_str("\r\n");
    sdp
}

#[test]
fn mutated_and_arbitrary_sdp_gets_an_answer_or_a_typed_error() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (engine, offer) = runtime.block_on(async {
        let engine = MediaEngine::new(EngineConfig::loopback());
        let publisher = TestPublisher::start(&engine).await;
        let offer = publisher.pc.local_description().await.unwrap().sdp;
        engine.stop(publisher.id).await.unwrap();
        (engine, offer)
    });
    let inputs = prop_oneof![
        3 => proptest::collection::vec(edit(), 1..8).prop_map({
            let offer = offer.clone();
            move |edits| apply(&offer, &edits)
        }),
        1 => "\\PC{0,400}",
    ];
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let accepted = std::sync::atomic::AtomicU32::new(0);
    let refused = std::sync::atomic::AtomicU32::new(0);
    proptest!(config, |(sdp in inputs, replace in any::<bool>())| {
        runtime.block_on(async {
            match engine.publish(&sdp, replace).await {
                Ok((id, answer)) => {
                    prop_assert!(answer.starts_with("v=0"), "{answer}");
                    engine.stop(id).await.unwrap();
                    accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(err) => {
                    prop_assert!(!err.code().is_empty() && !err.to_string().is_empty());
                    refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            match engine.subscribe(&sdp).await {
                Ok((id, answer)) => {
                    prop_assert!(answer.starts_with("v=0"), "{answer}");
                    engine.stop(SessionId::Viewer(id)).await.unwrap();
                }
                Err(err) => prop_assert!(!err.code().is_empty()),
            }
            prop_assert!(engine.status().viewers.is_empty());
            Ok(())
        })?;
    });
    let (accepted, refused) = (accepted.into_inner(), refused.into_inner());
    println!(
        "fuzz sdp: {} cases, {accepted} offers accepted, {refused} refused",
        cases()
    );
    // Changed offers that still parse reach the WebRTC stack: the fuzzing goes past the first check.
    assert!(accepted > 0, "no changed offer was ever accepted");
}

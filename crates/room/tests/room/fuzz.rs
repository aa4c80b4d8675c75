//! Fuzzing the room's frames (proptest, stable Rust): valid client frames with bytes changed,
//! fields swapped and JSON cut, and arbitrary text, parsed with `parse_client_frame` and handed
//! to a class as a viewer's and as the instructor's. Every frame is a typed refusal or becomes
//! outputs; nothing panics; the log still replays to the same room. Cases:
//! `LECTERN_FUZZ_CASES` (64 in `cargo xtask test`; `cargo xtask fuzz` runs thousands).

use lectern_room::{Input, Room, Timestamp, parse_client_frame};
use proptest::prelude::*;

use super::harness::{class, id};

fn cases() -> u32 {
    std::env::var("LECTERN_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

/// Frames a client really sends, one per action family.
const FRAMES: &[&str] = &[
    r#"{"v":1,"client_id":"c1","action":{"type":"send_chat","text":"hello"}}"#,
    r#"{"v":1,"action":{"type":"ask","text":"Can you repeat?"}}"#,
    r#"{"v":1,"client_id":"c2","action":{"type":"vote","poll":1,"choices":[0,1]}}"#,
    r#"{"v":1,"action":{"type":"create_poll","spec":{"question":"Q?","options":["a","b"],"multiple":false,"anonymous":true}}}"#,
    r#"{"v":1,"action":{"type":"open_poll","poll":1}}"#,
    r#"{"v":1,"action":{"type":"answer_question","question":1,"answer":"Yes."}}"#,
    r#"{"v":1,"action":{"type":"set_slow_mode","seconds":30}}"#,
    r#"{"v":1,"action":{"type":"timeout_viewer","viewer":"ada","seconds":60}}"#,
    r#"{"v":1,"action":{"type":"react","reaction":"heart"}}"#,
    r#"{"v":1,"action":{"type":"push_offer","spec":{"id":"o1","course_id":"c","variants":[{"name":"A","weight":1,"title":"T","cta":"Buy","checkout_url":"https://shop.example/x","price_cents":100}]}}}"#,
    r#"{"v":1,"action":{"type":"link_email","email":"a@b.example","consent":true}}"#,
    r#"{"v":1,"action":{"type":"set_blocked_terms","terms":["x","y"]}}"#,
];

fn frame() -> impl Strategy<Value = String> {
    let mutated = (
        0..FRAMES.len(),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        proptest::option::of(any::<usize>()),
    )
        .prop_map(|(which, bytes, cut)| {
            let mut frame = FRAMES[which].as_bytes().to_vec();
            for (at, b) in bytes {
                let len = frame.len();
                frame[at % len] = b;
            }
            if let Some(cut) = cut {
                frame.truncate(cut % (frame.len() + 1));
            }
            String::from_utf8_lossy(&frame).into_owned()
        });
    prop_oneof![
        4 => mutated,
        1 => "\\PC{0,200}",
        1 => "\\{\"v\":1,\"action\":\\{\"type\":\"[a-z_]{1,20}\"(,\"[a-z_]{1,10}\":(-?[0-9]{1,20}|\"[ -~]{0,20}\"|\\[[0-9,]{0,10}\\]|null|true))*\\}\\}",
    ]
}

#[test]
fn mutated_and_arbitrary_frames_are_refused_or_handled_and_the_log_replays() {
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(frames in proptest::collection::vec((frame(), any::<bool>()), 1..12))| {
        let mut s = class();
        let mut t = 1_000;
        for (text, staff) in frames {
            t += 250;
            match parse_client_frame(&text) {
                Ok(parsed) => {
                    let viewer = id(if staff { "prof" } else { "ada" });
                    s.at(t, Input::Act { viewer, client_id: parsed.client_id, action: parsed.action });
                }
                Err(err) => prop_assert!(!err.code().is_empty()),
            }
        }
        let replayed = Room::replay(&s.log);
        prop_assert_eq!(replayed.state(), s.room.state());
        // Time going on never panics either (timers, scheduled offers).
        s.room.handle(Input::Tick, Timestamp(t + 3_600_000));
    });
}

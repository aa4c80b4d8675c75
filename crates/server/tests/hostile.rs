//! The hostile corpus over a real socket: every string of the Big List of Naughty Strings as a
//! display name, a chat message and a question, plus XSS payloads, malformed and wrong-typed
//! frames, unknown kinds, oversized frames and replayed client ids. Each gets a welcome, an ack,
//! or its documented refusal or close code; the server stays healthy; no accepted message is lost.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::host;
use crate::room::{connect, start_class};

const CODES: &[&str] = &[
    "rate_limited",
    "slow_mode",
    "too_long",
    "empty",
    "forbidden",
    "timed_out",
    "banned",
    "not_joined",
    "not_found",
    "name_confusable",
    "invalid",
    "out_of_range",
    "full",
    "frame_too_large",
    "malformed",
    "unsupported_version",
];

fn corpus() -> Vec<String> {
    let blns: Vec<String> =
        serde_json::from_str(include_str!("../../room/tests/fixtures/blns.json")).unwrap();
    let xss = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><svg onload=alert(1)>",
        "javascript:alert(1)",
        "<a href=\"javascript:alert(1)\">x</a>",
        "{{constructor.constructor('alert(1)')()}}",
        "\u{202E}gnp.exe",
        "a\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}",
        &"x".repeat(600),
    ];
    blns.into_iter()
        .chain(xss.iter().map(|s| (*s).to_owned()))
        .collect()
}

/// The next text message, or `{"closed": code}`.
async fn next(ws: &mut crate::room::Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).unwrap(),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return json!({ "closed": frame.map(|f| u16::from(f.code)) });
            }
            Ok(Some(Ok(_))) => {}
            Ok(None) | Ok(Some(Err(_))) => return json!({ "closed": null }),
            Err(_) => panic!("no answer within 5 s"),
        }
    }
}

/// Wait for the answer to `client_id`: an ack (its seqs) or a refusal (its code).
async fn answer(ws: &mut crate::room::Socket, client_id: &str) -> Result<Vec<i64>, String> {
    loop {
        let m = next(ws).await;
        if m.get("closed").is_some() {
            return Err(format!("closed {}", m["closed"]));
        }
        if m["type"] == "ack" && m["client_id"] == client_id {
            return Ok(m["seqs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_i64().unwrap())
                .collect());
        }
        if m["type"] == "reply" && m["reply"]["client_id"] == client_id {
            return Err(m["reply"]["error"]["code"]
                .as_str()
                .unwrap_or("duplicate")
                .to_owned());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_corpus_gets_documented_answers_and_loses_nothing() {
    let h = host().await;
    start_class(&h).await;
    let mut accepted: BTreeSet<i64> = BTreeSet::new();
    let mut cases = 0;
    for (i, text) in corpus().iter().enumerate() {
        // As a display name.
        let mut ws = connect(&h).await;
        ws.send(Message::text(
            json!({"type": "hello", "v": 1, "name": text, "browser_key": format!("hostile-browser-{i:06}")}).to_string(),
        ))
        .await
        .unwrap();
        cases += 1;
        let welcome = loop {
            let m = next(&mut ws).await;
            if m["type"] == "welcome" || m.get("closed").is_some() {
                break m;
            }
        };
        if welcome.get("closed").is_some() {
            assert!(
                matches!(welcome["closed"].as_u64(), Some(4400 | 4403)),
                "name {text:?}: {welcome}"
            );
            continue;
        }
        // As a chat message and as a question, from that viewer.
        let mut first_seqs = None;
        for (n, action) in [
            json!({"type": "send_chat", "text": text}),
            json!({"type": "ask", "text": text}),
        ]
        .into_iter()
        .enumerate()
        {
            let id = format!("h{i}-{n}");
            ws.send(Message::text(
                json!({"v": 1, "client_id": id, "action": action}).to_string(),
            ))
            .await
            .unwrap();
            cases += 1;
            match answer(&mut ws, &id).await {
                Ok(seqs) => {
                    if n == 0 {
                        first_seqs = Some(seqs.clone());
                    }
                    accepted.extend(seqs);
                }
                Err(code) => assert!(CODES.contains(&code.as_str()), "{action}: {code}"),
            }
        }
        // A replayed client id is not stored twice.
        ws.send(Message::text(json!({"v": 1, "client_id": format!("h{i}-0"), "action": {"type": "send_chat", "text": "again"}}).to_string()))
            .await
            .unwrap();
        cases += 1;
        match answer(&mut ws, &format!("h{i}-0")).await {
            // Acknowledged again with the original numbers: nothing new was stored.
            Ok(seqs) => match &first_seqs {
                Some(first) => assert_eq!(&seqs, first, "a replay of {text:?}"),
                // The first was refused and not stored: the id was free, this one counts.
                None => accepted.extend(seqs),
            },
            Err(code) => assert!(
                code == "duplicate" || CODES.contains(&code.as_str()),
                "{code}"
            ),
        }
        let _ = ws.close(None).await;
    }

    // Malformed, wrong-typed and unknown frames: a typed refusal, the socket stays open.
    let mut ws = connect(&h).await;
    ws.send(Message::text(
        json!({"type": "hello", "v": 1, "name": "Prober", "browser_key": "hostile-prober-000001"})
            .to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await["type"], "welcome");
    let frames = [
        "not json",
        "{",
        "[]",
        "null",
        "42",
        "\"text\"",
        "{\"v\":1}",
        "{\"v\":\"1\",\"action\":{}}",
        "{\"v\":1,\"action\":{\"type\":\"send_chat\"}}",
        "{\"v\":1,\"action\":{\"type\":\"send_chat\",\"text\":42}}",
        "{\"v\":1,\"action\":{\"type\":\"launch_missiles\"}}",
        "{\"v\":99,\"action\":{\"type\":\"send_chat\",\"text\":\"hi\"}}",
        "{\"v\":1,\"client_id\":{},\"action\":{\"type\":\"send_chat\",\"text\":\"hi\"}}",
        "{\"v\":1,\"action\":{\"type\":\"vote\",\"poll\":-1,\"options\":[1e999]}}",
    ];
    for frame in frames {
        ws.send(Message::text(frame)).await.unwrap();
        cases += 1;
        let reply = loop {
            let m = next(&mut ws).await;
            if m["type"] == "reply" || m.get("closed").is_some() {
                break m;
            }
        };
        let code = reply["reply"]["error"]["code"].as_str().unwrap_or_default();
        assert!(CODES.contains(&code), "{frame}: {reply}");
    }
    // An oversized frame closes the socket (the limit is documented as 4 KiB).
    let _ = ws.send(Message::text("x".repeat(8 * 1024))).await;
    cases += 1;
    assert!(next(&mut ws).await.get("closed").is_some());

    // Healthy afterwards, and every accepted message is in the log.
    let health: Value = reqwest::get(format!("{}healthz", h.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let store = h.studio.store().await.unwrap();
    let session = h.studio.live_room().await.unwrap().session_id();
    let mut logged = BTreeSet::new();
    let mut after = 0;
    loop {
        let page = store.events_after(session, after, 10_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        logged.extend(page.iter().map(|e| e.seq));
    }
    let lost: Vec<_> = accepted.difference(&logged).collect();
    assert!(lost.is_empty(), "accepted but not in the log: {lost:?}");
    assert!(cases >= 1_000, "{cases} cases");
    assert!(
        accepted.len() > 400,
        "most of the corpus is ordinary text and is accepted: {}",
        accepted.len()
    );
    h.stop().await;
}

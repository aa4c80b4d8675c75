//! Per-address limits and the write deadline, over real sockets on loopback: a client that
//! never reads is let go while the class goes on, and one address is held to its connection
//! rate and its socket cap with `429 too_many_connections`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lectern_server::{Limits, ServerOptions};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

use super::{Host, host_with};
use crate::room::{Socket, connect, frame, hello, join_as_instructor, start_class, until};

fn options(limits: Limits) -> ServerOptions {
    ServerOptions {
        limits,
        ..ServerOptions::loopback(0, lectern_server::new_key())
    }
}

/// A viewer joined under `name`: its socket and its viewer id.
async fn viewer(h: &Host, name: &str) -> (Socket, String) {
    let mut ws = connect(h).await;
    let welcome = hello(
        &mut ws,
        json!({"type": "hello", "v": 1, "name": name, "browser_key": format!("browser-{name}-0000001")}),
    )
    .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    let id = welcome["viewer"].as_str().unwrap().to_owned();
    (ws, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_let_go_and_the_class_goes_on() {
    let h = host_with(options(Limits {
        write_deadline: Duration::from_secs(1),
        ..Limits::default()
    }))
    .await;
    start_class(&h).await;

    // The instructor watches the room's stream (and keeps reading it).
    let mut instructor = join_as_instructor(&h).await;
    let (left_tx, mut left_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (chat_tx, mut chat_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(Ok(message)) = instructor.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let m: Value = serde_json::from_str(&text).unwrap();
            let event = &m["record"]["event"];
            match event["type"].as_str() {
                Some("viewer_left") => {
                    let _ = left_tx.send(event["viewer"].as_str().unwrap_or("").to_owned());
                }
                Some("chat_sent") => {
                    let _ =
                        chat_tx.send(event["message"]["text"].as_str().unwrap_or("").to_owned());
                }
                _ => {}
            }
        }
    });

    // A client with a tiny receive buffer that reads its welcome and then nothing more.
    let addr = h.base.trim_start_matches("http://").trim_end_matches('/');
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(addr.parse().unwrap()).await.unwrap();
    let (mut stuck, _) = tokio_tungstenite::client_async(
        format!("ws://{addr}/room"),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    let welcome = hello(
        &mut stuck,
        json!({"type": "hello", "v": 1, "name": "Sleepy", "browser_key": "browser-sleepy-000001"}),
    )
    .await;
    let stuck_id = welcome["viewer"].as_str().unwrap().to_owned();

    // Forty chatty viewers who do read: long messages at their rate limit until the stuck
    // client's buffers are full and its write deadline passes.
    let big = "😀".repeat(500);
    let mut senders = Vec::new();
    for n in 0..40 {
        let (ws, _) = viewer(&h, &format!("Talker{n:02}")).await;
        let (mut write, mut read) = ws.split();
        tokio::spawn(async move { while let Some(Ok(_)) = read.next().await {} });
        let big = big.clone();
        senders.push(tokio::spawn(async move {
            for i in 0.. {
                if write
                    .send(frame(
                        &format!("t{n}-{i}"),
                        json!({"type": "send_chat", "text": big}),
                    ))
                    .await
                    .is_err()
                {
                    break;
                }
                // Five at once (the burst), then one a second (the rate).
                if i >= 4 {
                    tokio::time::sleep(Duration::from_millis(1_050)).await;
                }
            }
        }));
    }

    // The instructor sees the stuck viewer leave, though it never closed its socket.
    let left = tokio::time::timeout(Duration::from_secs(90), async {
        while let Some(id) = left_rx.recv().await {
            if id == stuck_id {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(left, Ok(true), "the stuck viewer was never let go");
    for sender in senders {
        sender.abort();
    }

    // The class goes on: a new viewer chats and the instructor sees it.
    let (mut late, _) = viewer(&h, "Latecomer").await;
    late.send(frame(
        "late-1",
        json!({"type": "send_chat", "text": "still here?"}),
    ))
    .await
    .unwrap();
    assert_eq!(until(&mut late, "ack").await["client_id"], "late-1");
    let seen = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(text) = chat_rx.recv().await {
            if text == "still here?" {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true));
    let health = reqwest::get(format!("{}healthz", h.base)).await.unwrap();
    assert_eq!(health.status(), 200);

    // The stuck client, when it finally reads, finds its connection ended.
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match stuck.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(ended, Ok(true));
    h.stop().await;
}

/// The body of a refused upgrade or request: its code.
fn refused_code(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn one_address_is_held_to_its_connection_rate_and_socket_cap() {
    let h = host_with(options(Limits {
        connections_per_second: 1,
        connection_burst: 4,
        sockets_per_address: 2,
        ..Limits::default()
    }))
    .await;
    start_class(&h).await;
    let room_url = format!("{}room", h.base.replacen("http", "ws", 1));

    // Two sockets: fine. A third from the same address: 429 before the upgrade.
    let (first, _) = viewer(&h, "One").await;
    let (_second, _) = viewer(&h, "Two").await;
    match tokio_tungstenite::connect_async(&room_url).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
            let body = response.body().as_deref().unwrap_or_default();
            assert_eq!(refused_code(body), "too_many_connections");
        }
        other => panic!("a third socket was not refused: {:?}", other.map(|_| ())),
    }

    // WHEP sessions draw from the same bucket: one token is left, then 429 with Retry-After.
    let whep = |h: &Host| {
        reqwest::Client::new()
            .post(format!("{}whep", h.base))
            .header("content-type", "application/sdp")
            .body("v=0\r\n")
            .send()
    };
    let last_token = whep(&h).await.unwrap();
    assert_ne!(last_token.status(), 429);
    let refused = whep(&h).await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        refused_code(&refused.bytes().await.unwrap()),
        "too_many_connections"
    );
    // Pages and health checks are not connections to ration.
    let health = reqwest::get(format!("{}healthz", h.base)).await.unwrap();
    assert_eq!(health.status(), 200);

    // Closing a socket frees its place; the bucket refills at its rate.
    drop(first);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (mut again, _) = viewer(&h, "Three").await;
    again
        .send(frame("c1", json!({"type": "send_chat", "text": "back in"})))
        .await
        .unwrap();
    assert_eq!(until(&mut again, "ack").await["client_id"], "c1");
    h.stop().await;
}

/// Reads until the server closes the connection (or 5 s pass): true when it closed.
async fn closed_by_server(socket: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A 408 answer before the close is fine too.
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn half_sent_and_idle_connections_are_closed_and_one_address_cannot_hold_them_all() {
    use tokio::io::AsyncWriteExt;
    let h = host_with(options(Limits {
        header_read_timeout: Duration::from_secs(1),
        connections_per_address: 40,
        ..Limits::default()
    }))
    .await;
    let addr = h
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    // 30 requests that never finish their head, and 10 connections that say nothing.
    let mut held = Vec::new();
    for i in 0..40 {
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i < 30 {
            socket
                .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ").as_bytes())
                .await
                .unwrap();
        }
        held.push(socket);
    }
    // The cap is full: one more connection from this address is closed at once.
    let mut extra = tokio::net::TcpStream::connect(&addr).await.unwrap();
    assert!(
        closed_by_server(&mut extra).await,
        "the 41st connection was kept"
    );
    // Within the timeout (and a margin), every one of the 40 is closed by the server.
    for (i, socket) in held.iter_mut().enumerate() {
        assert!(
            closed_by_server(socket).await,
            "connection {i} is still open"
        );
    }
    // Their places are free again: the studio answers.
    let r = reqwest::get(format!("{}healthz", h.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    h.stop().await;
}

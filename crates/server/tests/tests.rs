//! The browser host over real HTTP and WebSocket on loopback, in front of a real demo school.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed; the panic says where"
)]

use std::time::Duration;

mod fuzz;
mod hostile;
mod limits;
mod moderators;
mod replay;
mod room;
mod tls;
mod whip;

use futures_util::{SinkExt, StreamExt};
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_server::{Server, ServerOptions};
use tokio_tungstenite::tungstenite::Message;

struct Host {
    _dir: tempfile::TempDir,
    studio: Studio,
    server: Server,
    key: String,
    base: String,
}

async fn host() -> Host {
    host_with(ServerOptions::loopback(0, lectern_server::new_key())).await
}

async fn host_with(options: ServerOptions) -> Host {
    let dir = tempfile::tempdir().unwrap();
    let mut studio_options = StudioOptions::new(dir.path(), SchoolSource::Demo);
    // The corpus and load tests join hundreds of students from 127.0.0.1; the per-address key
    // gate has its own tests (engine `room_session`, and `whip` here with a small rate).
    studio_options.browser_keys = lectern_engine::browser_keys::KeyRate {
        burst: 100_000,
        per_minute: 100_000,
    };
    let studio = Studio::open(studio_options).await.unwrap();
    let key = options.key.clone();
    let server = Server::start(studio.clone(), options).await.unwrap();
    let base = server.loopback_url();
    Host {
        _dir: dir,
        studio,
        server,
        key,
        base,
    }
}

impl Host {
    fn post(&self, command: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .post(format!("{}api/v1/{command}", self.base))
            .header("content-type", "application/json")
    }

    async fn stop(self) {
        self.server.shutdown().await;
        self.studio.close().await.unwrap();
    }
}

#[tokio::test]
async fn health_and_the_studio_api_with_the_owner_key() {
    let h = host().await;
    assert!(
        h.server.base_url().starts_with("http://127.0.0.1:"),
        "binds loopback by default"
    );
    let health: serde_json::Value = reqwest::get(format!("{}healthz", h.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let response = h.post("overview").body("{}").send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");

    let response = h
        .post("overview")
        .bearer_auth("0".repeat(64))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let response = h
        .post("overview")
        .bearer_auth(&h.key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let overview: serde_json::Value = response.json().await.unwrap();
    assert_eq!(overview["school"]["isDemo"], true);
    assert_eq!(overview["network"]["lanOpen"], false);

    // The page a student sees needs no key and tells only the school's name, whether a class is
    // live, and how long chat is kept (for its privacy note).
    let public: serde_json::Value = reqwest::get(format!("{}api/v1/public", h.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["schoolName"], overview["school"]["name"]);
    let mut fields: Vec<&String> = public.as_object().unwrap().keys().collect();
    fields.sort();
    // Nothing else about the studio: the relay server's WHEP URL only while viewers go there,
    // and the STUN/TURN URLs every WHIP/WHEP answer offers anyway.
    assert_eq!(
        fields,
        [
            "chatRetentionDays",
            "iceServers",
            "live",
            "schoolName",
            "whepUrl"
        ]
    );
    assert_eq!(public["whepUrl"], serde_json::Value::Null);
    assert_eq!(public["iceServers"], serde_json::json!([]));
    h.stop().await;
}

#[tokio::test]
async fn bad_requests_get_typed_errors() {
    let h = host().await;
    let r = h
        .post("overview")
        .bearer_auth(&h.key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "invalid_input"
    );

    let r = h
        .post("create_school")
        .bearer_auth(&h.key)
        .body(r#"{"name": 42}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let r = h
        .post("no_such_thing")
        .bearer_auth(&h.key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "not_found"
    );

    let r = reqwest::Client::new()
        .post(format!("{}api/v1/overview", h.base))
        .bearer_auth(&h.key)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    let big = format!(r#"{{"name": "{}"}}"#, "a".repeat(70 * 1024));
    let r = h
        .post("create_school")
        .bearer_auth(&h.key)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "payload_too_large"
    );

    // The studio still works after all that.
    let r = h
        .post("overview")
        .bearer_auth(&h.key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    h.stop().await;
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let h = host().await;
    let client = reqwest::Client::new();
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1.
    let r = client
        .get(format!("{}watch", h.base))
        .header("host", "evil.example:7878")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "forbidden"
    );
    // A cross-site request, even with the right key.
    let r = h
        .post("overview")
        .bearer_auth(&h.key)
        .header("origin", "http://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Same origin passes.
    let origin = h.base.trim_end_matches('/').to_owned();
    let r = h
        .post("overview")
        .bearer_auth(&h.key)
        .header("origin", origin)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Every answer carries the CSP.
    let r = client
        .get(format!("{}healthz", h.base))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    h.stop().await;
}

#[tokio::test]
async fn the_event_socket_needs_the_key_and_carries_network_changes() {
    let h = host().await;
    let ws_url = format!("{}api/v1/events", h.base.replacen("http", "ws", 1));

    let (mut bad, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    bad.send(Message::text(r#"{"type":"auth","key":"nope"}"#))
        .await
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), bad.next())
        .await
        .unwrap()
    {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4401),
        other => panic!("expected a close, got {other:?}"),
    }

    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    ws.send(Message::text(format!(
        r#"{{"type":"auth","key":"{}"}}"#,
        h.key
    )))
    .await
    .unwrap();
    let ready = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ready.into_text().unwrap().as_str(), r#"{"type":"ready"}"#);

    // Open to the network: the server rebinds to all interfaces on the same port.
    let port = h.server.local_addr().port();
    let r = h
        .post("set_network_access")
        .bearer_auth(&h.key)
        .body(r#"{"lanOpen":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let network: serde_json::Value = r.json().await.unwrap();
    assert_eq!(network["lanOpen"], true);
    assert_eq!(network["bind"], format!("0.0.0.0:{port}"));
    // Media follows: new viewers get candidates on every interface, not only loopback.
    assert!(
        h.studio
            .media()
            .udp_addrs()
            .contains(&"0.0.0.0:0".to_owned())
    );
    let event = loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let event: serde_json::Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
        // The broadcast's once-a-second numbers run beside everything else.
        if event["kind"] != "broadcast_stats" {
            break event;
        }
    };
    assert_eq!(event["kind"], "network_changed");
    assert_eq!(event["network"]["lanOpen"], true);

    // Loopback still reaches it, and closing it again goes back to 127.0.0.1.
    let r = h
        .post("set_network_access")
        .bearer_auth(&h.key)
        .body(r#"{"lanOpen":false}"#)
        .send()
        .await
        .unwrap();
    let network: serde_json::Value = r.json().await.unwrap();
    assert_eq!(network["bind"], format!("127.0.0.1:{port}"));
    assert_eq!(
        h.server.local_addr().to_string(),
        format!("127.0.0.1:{port}")
    );
    assert_eq!(h.studio.media().udp_addrs(), vec!["127.0.0.1:0".to_owned()]);
    h.stop().await;
}

#[tokio::test]
async fn oversized_socket_messages_close_the_socket() {
    let h = host().await;
    let ws_url = format!("{}api/v1/events", h.base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let _ = ws.send(Message::text("x".repeat(16 * 1024))).await;
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        end.is_ok(),
        "the socket stayed open after an oversized message"
    );
    h.stop().await;
}

/// Sends a request's head and the start of a body it says is `length` bytes, never the rest, and
/// returns the status line of the answer (which must come without the body).
async fn head_only(base: &str, command: &str, key: Option<&str>, length: u64) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    let head = format!(
        "POST /api/v1/{command} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {auth}Content-Length: {length}\r\n\r\n{{\"text\": \""
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
        .await
        .expect("an answer without waiting for the body")
        .unwrap();
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn bodies_are_refused_before_they_are_read() {
    let h = host().await;
    // No key, a 50 MB body announced: refused at once, nothing buffered.
    let status = head_only(&h.base, "import_data", None, 50_000_000).await;
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
    // The owner, but a plain command announcing 1 MB: over its 64 KiB, refused at once.
    let status = head_only(&h.base, "overview", Some(&h.key), 1_000_000).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    // A file command announcing more than a file may be.
    let status = head_only(&h.base, "import_data", Some(&h.key), 60_000_000).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    // A body that grows past the limit without announcing its length (chunked) is cut there.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = h
            .base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/overview HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {}\r\nTransfer-Encoding: chunked\r\n\r\n",
            h.key
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
        for _ in 0..10 {
            // The server may answer and close before every chunk is in.
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
        }
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
            .await
            .expect("an answer")
            .unwrap();
        let text = String::from_utf8_lossy(&answer[..n]);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
        assert!(text.contains("payload_too_large"), "{text}");
    }
    h.stop().await;
}

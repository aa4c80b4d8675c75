//! A TA with a moderator link: scoped API access, a TA in the room, and revocation that bites.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::room::{connect, frame, hello, start_class, until};
use crate::{Host, host};

impl Host {
    async fn owner(&self, command: &str, args: Value) -> reqwest::Response {
        self.post(command)
            .bearer_auth(&self.key)
            .body(args.to_string())
            .send()
            .await
            .unwrap()
    }
}

async fn make_link(h: &Host, label: &str) -> (i64, String) {
    let response = h
        .owner(
            "create_moderator_link",
            json!({"label": label, "hours": 12}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let made: Value = response.json().await.unwrap();
    let path = made["path"].as_str().unwrap();
    let token = path.strip_prefix("/studio#mod=").expect(path).to_owned();
    assert!(token.starts_with("lm_") && token.len() == 3 + 64, "{token}");
    (made["link"]["id"].as_i64().unwrap(), token)
}

#[tokio::test]
async fn a_moderator_link_reaches_only_what_a_ta_may_do() {
    let h = host().await;
    let (id, token) = make_link(&h, "Priya, TA").await;

    // The TA can read the overview (the school's name for its screens)...
    let response = h
        .post("overview")
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // ...without the school file's path (it names the instructor's account) or the addresses
    // the studio listens on.
    let overview: Value = response.json().await.unwrap();
    assert!(
        overview["school"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert_eq!(overview["school"]["dbPath"], "");
    assert_eq!(overview["network"]["urls"], json!([]));
    assert_eq!(overview["network"]["bind"], "");
    let owners: Value = h.owner("overview", json!({})).await.json().await.unwrap();
    assert!(
        owners["school"]["dbPath"]
            .as_str()
            .is_some_and(|p| p.ends_with(".sqlite"))
    );
    // ...and nothing that is the instructor's: offers, the broadcast, keys, links, the class.
    for command in [
        "start_class",
        "broadcast_status",
        "create_moderator_link",
        "backup_school",
        "set_network_access",
    ] {
        let response = h
            .post(command)
            .bearer_auth(&token)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{command}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "forbidden");
    }

    // A forged token of the right shape, and garbage, get 401 and nothing else.
    let forged = format!("lm_{}", "ab".repeat(32));
    for bad in [forged.as_str(), "lm_", "lm_zz", "not-a-key"] {
        let response = h
            .post("overview")
            .bearer_auth(bad)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{bad}");
    }

    // The list shows the link without its token; the database holds only its hash.
    let links: Value = h
        .owner("moderator_links", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(links[0]["id"], id);
    assert_eq!(links[0]["label"], "Priya, TA");
    assert_eq!(links[0]["active"], true);
    assert!(!links.to_string().contains(&token));

    // Revoked: 401 from then on.
    let links: Value = h
        .owner("revoke_moderator_link", json!({"id": id}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(links[0]["active"], false);
    let response = h
        .post("overview")
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    h.stop().await;
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let h = host().await;
    let token = format!("lm_{}", "0f".repeat(32));
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let store = h.studio.store().await.unwrap();
    // Made two hours ago, valid for one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    store
        .create_moderator_link("Old TA", hash, now - 7_200_000, now - 3_600_000)
        .await
        .unwrap();
    let response = h
        .post("overview")
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let mut ws = connect(&h).await;
    let refused = hello(&mut ws, json!({"type": "hello", "v": 1, "name": "Old TA", "browser_key": "browser-key-old-ta-1", "key": token})).await;
    assert_eq!(refused["closed"], 4401, "{refused}");
    h.stop().await;
}

#[tokio::test]
async fn a_ta_moderates_the_room_until_the_link_is_revoked() {
    let h = host().await;
    start_class(&h).await;
    let (id, token) = make_link(&h, "Sam, TA").await;

    let mut ta = connect(&h).await;
    let welcome = hello(&mut ta, json!({"type": "hello", "v": 1, "name": "TA", "browser_key": "browser-key-sam-ta-1", "key": token})).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["role"], "ta");
    // The class sees the TA by their link's label, not by what the page sent.
    assert_eq!(welcome["snapshot"]["you"]["name"], "Sam, TA", "{welcome}");
    assert_eq!(welcome["viewer"], format!("ta-{id}"));

    let mut ann = connect(&h).await;
    let welcome = hello(
        &mut ann,
        json!({"type": "hello", "v": 1, "name": "Ann", "browser_key": "browser-key-ann-0001"}),
    )
    .await;
    assert_eq!(welcome["role"], "viewer");
    ann.send(frame(
        "c1",
        json!({"type": "send_chat", "text": "spam spam spam"}),
    ))
    .await
    .unwrap();
    let sent = loop {
        let event = until(&mut ta, "event").await;
        if event["record"]["event"]["type"] == "chat_sent" {
            break event;
        }
    };
    let message = sent["record"]["event"]["message"]["id"].clone();

    // The TA deletes it; Ann sees it go.
    futures_util::SinkExt::send(
        &mut ta,
        frame("t1", json!({"type": "delete_message", "message": message})),
    )
    .await
    .unwrap();
    let ack = until(&mut ta, "ack").await;
    assert_eq!(ack["client_id"], "t1", "{ack}");
    let deleted = loop {
        let event = until(&mut ann, "event").await;
        if event["record"]["event"]["type"] == "message_deleted" {
            break event;
        }
    };
    assert_eq!(deleted["record"]["event"]["message"], message);

    // A TA cannot end the broadcast.
    ta.send(frame("t2", json!({"type": "end_broadcast"})))
        .await
        .unwrap();
    let reply = until(&mut ta, "reply").await;
    assert_eq!(reply["reply"]["error"]["code"], "forbidden", "{reply}");

    // Revoking the link closes the TA's connection at once, and it cannot come back.
    let response = h.owner("revoke_moderator_link", json!({"id": id})).await;
    assert_eq!(response.status(), 200);
    let closed = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ta.next())
            .await
            .unwrap()
        {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                break frame.map(|f| u16::from(f.code));
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(closed, Some(4401));
    let mut again = connect(&h).await;
    let refused = hello(&mut again, json!({"type": "hello", "v": 1, "name": "Sam", "browser_key": "browser-key-sam-ta-1", "key": token})).await;
    assert_eq!(refused["closed"], 4401, "{refused}");
    h.stop().await;
}

//! WHIP and WHEP over real HTTP: every status a publisher or a player can meet.
//!
//! The offers are written the way the clients write them: OBS Studio 30's WHIP output (Opus on
//! PT 111, H.264 packetization-mode 1 on PT 96, its extension ids) and a browser's receive-only
//! WHEP offer. Media flowing end to end is proven with real Chromium peers in `tests/e2e/`.

use crate::{Host, host_with};
use lectern_server::ServerOptions;

/// The shape of OBS Studio 30's WHIP offer (libdatachannel), with a made-up fingerprint.
pub(crate) const OBS_OFFER: &str = "v=0\r
o=rtc 3767197920 0 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
a=group:LS 0 1\r
a=msid-semantic:WMS *\r
a=setup:actpass\r
a=ice-ufrag:Yhmd\r
a=ice-pwd:c6h4aYt9XZs4qmzvd9bRKr\r
a=ice-options:ice2,trickle\r
a=fingerprint:sha-256 3C:8A:4F:1E:7B:2D:9C:5A:6E:0F:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:12:34:56:78:9A:BC\r
m=audio 9 UDP/TLS/RTP/SAVPF 111\r
c=IN IP4 0.0.0.0\r
a=mid:0\r
a=sendonly\r
a=ssrc:3410430386 cname:obs\r
a=ssrc:3410430386 msid:obs audio\r
a=msid:obs audio\r
a=rtcp-mux\r
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=rtpmap:111 opus/48000/2\r
a=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1\r
m=video 9 UDP/TLS/RTP/SAVPF 96\r
c=IN IP4 0.0.0.0\r
a=mid:1\r
a=sendonly\r
a=ssrc:3410430387 cname:obs\r
a=ssrc:3410430387 msid:obs video\r
a=msid:obs video\r
a=rtcp-mux\r
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=rtpmap:96 H264/90000\r
a=rtcp-fb:96 nack\r
a=rtcp-fb:96 nack pli\r
a=rtcp-fb:96 goog-remb\r
a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1\r
";

/// A player's receive-only offer (VP8 and Opus), as a browser's WHEP client sends it.
const PLAYER_OFFER: &str = "v=0\r
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
a=msid-semantic: WMS\r
m=video 9 UDP/TLS/RTP/SAVPF 96\r
c=IN IP4 0.0.0.0\r
a=rtcp:9 IN IP4 0.0.0.0\r
a=ice-ufrag:Rk2x\r
a=ice-pwd:5bd7b1sPbq2cKzdvjCw8ZLbX\r
a=ice-options:trickle\r
a=fingerprint:sha-256 3C:8A:4F:1E:7B:2D:9C:5A:6E:0F:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:12:34:56:78:9A:BC\r
a=setup:actpass\r
a=mid:0\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=recvonly\r
a=rtcp-mux\r
a=rtcp-rsize\r
a=rtpmap:96 VP8/90000\r
a=rtcp-fb:96 nack\r
a=rtcp-fb:96 nack pli\r
m=audio 9 UDP/TLS/RTP/SAVPF 111\r
c=IN IP4 0.0.0.0\r
a=rtcp:9 IN IP4 0.0.0.0\r
a=ice-ufrag:Rk2x\r
a=ice-pwd:5bd7b1sPbq2cKzdvjCw8ZLbX\r
a=ice-options:trickle\r
a=fingerprint:sha-256 3C:8A:4F:1E:7B:2D:9C:5A:6E:0F:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:12:34:56:78:9A:BC\r
a=setup:actpass\r
a=mid:1\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=recvonly\r
a=rtcp-mux\r
a=rtpmap:111 opus/48000/2\r
a=fmtp:111 minptime=10;useinbandfec=1\r
";

const CANDIDATE_FRAGMENT: &str = "a=ice-ufrag:Yhmd\r\na=ice-pwd:c6h4aYt9XZs4qmzvd9bRKr\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=candidate:1 1 UDP 2122317823 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n";

impl Host {
    async fn publish_key(&self) -> String {
        self.studio.publish_key().await.unwrap()
    }

    fn whip(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().request(
            method,
            format!("{}{}", self.base, path.trim_start_matches('/')),
        )
    }

    async fn call(&self, command: &str, args: serde_json::Value) -> serde_json::Value {
        let response = self
            .post(command)
            .bearer_auth(&self.key)
            .body(args.to_string())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{command}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }
}

async fn code_of(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    body["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_publishes_by_whip_and_every_refusal_has_its_status() {
    let h = crate::host().await;
    let key = h.publish_key().await;
    let post = |body: &str| {
        h.whip(reqwest::Method::POST, "/whip")
            .header("content-type", "application/sdp")
            .body(body.to_owned())
    };

    // No key, a wrong key: 401 with a Bearer challenge, and nothing goes live.
    let response = post(OBS_OFFER).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let response = post(OBS_OFFER)
        .bearer_auth("not-the-key-0000")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(code_of(response).await, "unauthorized");

    // The right key with the wrong content type: 415.
    let response = h
        .whip(reqwest::Method::POST, "/whip")
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(OBS_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);

    // An offer over 64 KiB: 413. A malformed one: 400 with a reason.
    let huge = format!(
        "{OBS_OFFER}{}",
        "a=x-padding:0123456789abcdef\r\n".repeat(3000)
    );
    let response = post(&huge).bearer_auth(&key).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let response = post("this is not SDP")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(code_of(response).await, "bad_sdp");
    let status = h.call("broadcast_status", serde_json::json!({})).await;
    assert_eq!(
        status["source"],
        serde_json::Value::Null,
        "nothing went live"
    );

    // OBS's offer: 201, a Location for the session, and an SDP answer keeping PT 96 and 111.
    let response = post(OBS_OFFER).bearer_auth(&key).send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "application/sdp");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/whip/") && location.len() == "/whip/".len() + 16,
        "{location}"
    );
    let answer = response.text().await.unwrap();
    assert!(answer.starts_with("v=0"), "{answer}");
    assert!(answer.contains("a=rtpmap:96 H264/90000"), "{answer}");
    assert!(answer.contains("a=rtpmap:111 opus/48000/2"), "{answer}");
    assert!(answer.contains("a=recvonly"), "{answer}");
    let status = h.call("broadcast_status", serde_json::json!({})).await;
    assert_eq!(status["source"], "publisher");
    assert_eq!(status["codecs"].as_array().unwrap().len(), 2, "{status}");

    // Trickle ICE: 204; the wrong type 415; an unknown session 404; no key 401.
    let patch = |path: &str| {
        h.whip(reqwest::Method::PATCH, path)
            .header("content-type", "application/trickle-ice-sdpfrag")
            .body(CANDIDATE_FRAGMENT)
    };
    let response = patch(&location).bearer_auth(&key).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let response = h
        .whip(reqwest::Method::PATCH, &location)
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body(CANDIDATE_FRAGMENT)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = patch("/whip/00000000000000ff")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(code_of(response).await, "unknown_session");
    let response = patch(&location).send().await.unwrap();
    assert_eq!(response.status(), 401);

    // A second publisher: 409, until the instructor chooses "replace".
    let response = post(OBS_OFFER).bearer_auth(&key).send().await.unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(code_of(response).await, "publisher_exists");
    let settings = h
        .call(
            "set_broadcast",
            serde_json::json!({"replacePublisher": true}),
        )
        .await;
    assert_eq!(settings["replacePublisher"], true);
    let response = post(OBS_OFFER).bearer_auth(&key).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let second = response.headers()["location"].to_str().unwrap().to_owned();
    assert_ne!(second, location);

    // DELETE ends the session (200); again, it is gone (404); the stream has no source.
    let response = h
        .whip(reqwest::Method::DELETE, &second)
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = h
        .whip(reqwest::Method::DELETE, &second)
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let status = h.call("broadcast_status", serde_json::json!({})).await;
    assert_eq!(status["source"], serde_json::Value::Null, "{status}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_subscribes_by_whep_without_a_key_and_leaves() {
    let h = crate::host().await;
    let response = h
        .whip(reqwest::Method::POST, "/whep")
        .header("content-type", "application/sdp")
        .body(PLAYER_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/whep/"), "{location}");
    let answer = response.text().await.unwrap();
    assert!(
        answer.contains("a=sendonly"),
        "the studio sends to the player: {answer}"
    );
    let status = h.call("broadcast_status", serde_json::json!({})).await;
    assert_eq!(status["viewers"], 1);

    let response = h
        .whip(reqwest::Method::POST, "/whep")
        .header("content-type", "text/plain")
        .body(PLAYER_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);

    let response = h
        .whip(reqwest::Method::DELETE, &location)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let status = h.call("broadcast_status", serde_json::json!({})).await;
    assert_eq!(status["viewers"], 0);
    let response = h
        .whip(reqwest::Method::DELETE, "/whep/zz")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_ice_servers_are_offered_in_link_headers() {
    let mut options = ServerOptions::loopback(0, lectern_server::new_key());
    options.ice_servers = vec!["stun:stun.example.org:3478".to_owned()];
    let h = host_with(options).await;
    let key = h.publish_key().await;
    let response = h
        .whip(reqwest::Method::POST, "/whip")
        .bearer_auth(&key)
        .header("content-type", "application/sdp")
        .body(OBS_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let links: Vec<_> = response
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        links,
        vec!["<stun:stun.example.org:3478>; rel=\"ice-server\""]
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_upload_budget_new_viewers_wait_and_those_watching_stay() {
    let h = crate::host().await;
    let offer = || {
        h.whip(reqwest::Method::POST, "/whep")
            .header("content-type", "application/sdp")
            .body(PLAYER_OFFER)
    };
    // 3,000 kbit/s carries one viewer at the assumed 2,500 kbit/s.
    let status = h
        .call("set_broadcast", serde_json::json!({"uplinkKbps": 3000}))
        .await;
    assert_eq!(status["uplinkKbps"], 3000);
    assert_eq!(status["directViewerCapacity"], 1);
    assert_eq!(status["perViewerKbps"], 2500);
    let first = offer().send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first_location = first.headers()["location"].to_str().unwrap().to_owned();
    let second = offer().send().await.unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["retry-after"], "15");
    assert_eq!(code_of(second).await, "over_capacity");
    let status = h.call("broadcast_status", serde_json::json!({})).await;
    assert_eq!(status["viewers"], 1, "the one watching stays");

    // Removing the budget lets the next one in; a nonsense budget is refused.
    h.call("set_broadcast", serde_json::json!({"uplinkKbps": 0}))
        .await;
    let third = offer().send().await.unwrap();
    assert_eq!(third.status(), 201);
    let response = h
        .post("set_broadcast")
        .bearer_auth(&h.key)
        .body(r#"{"uplinkKbps": 5}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = h
        .whip(reqwest::Method::DELETE, &first_location)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_hears_the_broadcast_numbers_every_second() {
    use futures_util::{SinkExt, StreamExt};
    let h = crate::host().await;
    let response = h
        .whip(reqwest::Method::POST, "/whep")
        .header("content-type", "application/sdp")
        .body(PLAYER_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let url = format!("{}api/v1/events", h.base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    ws.send(tokio_tungstenite::tungstenite::Message::text(
        serde_json::json!({"type": "auth", "key": h.key}).to_string(),
    ))
    .await
    .unwrap();
    let mut stats = vec![];
    while stats.len() < 2 {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("a stats event within a few seconds")
            .unwrap()
            .unwrap();
        let event: serde_json::Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
        if event["kind"] == "broadcast_stats" {
            stats.push(event);
        }
    }
    assert_eq!(stats[1]["status"]["viewers"], 1, "{}", stats[1]);
    assert_eq!(
        stats[1]["status"]["viewerStats"].as_array().unwrap().len(),
        1
    );
    h.stop().await;
}

/// Another studio's viewer pages may play from this one's WHEP when it names that studio (it is
/// their relay server): a cross-origin preflight and offer are answered with CORS for that
/// origin only, any other site is refused, and the rest of the API refuses every other site. And a studio that sends its viewers to a relay server lets its pages
/// connect there (CSP) and tells them so, only while the relay is live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whep_serves_other_origins_and_relay_playback_reaches_the_viewer_page() {
    let foreign = "http://school.example:8080";
    let h = crate::host_with(lectern_server::ServerOptions {
        whep_origins: vec![foreign.into()],
        ..lectern_server::ServerOptions::loopback(0, lectern_server::new_key())
    })
    .await;
    // Any other site is refused: a page open in a student's browser cannot pull the class.
    let stranger = h
        .whip(reqwest::Method::POST, "/whep")
        .header("origin", "http://evil.example")
        .header("content-type", "application/sdp")
        .body(PLAYER_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 403);
    assert!(
        stranger
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let preflight = h
        .whip(reqwest::Method::OPTIONS, "/whep")
        .header("origin", foreign)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], foreign);
    assert!(
        preflight.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let offer = h
        .whip(reqwest::Method::POST, "/whep")
        .header("origin", foreign)
        .header("content-type", "application/sdp")
        .body(PLAYER_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(offer.status(), 201);
    assert_eq!(offer.headers()["access-control-allow-origin"], foreign);
    assert!(
        offer.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("Location")
    );
    // The studio API and WHIP still refuse another site.
    let api = h
        .post("overview")
        .header("origin", foreign)
        .bearer_auth(&h.key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 403);
    let whip = h
        .whip(reqwest::Method::POST, "/whip")
        .header("origin", foreign)
        .header("content-type", "application/sdp")
        .body(OBS_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(whip.status(), 403);

    // A relay to a server that is not there, with its WHEP URL: the CSP allows that origin at
    // once, the public information names it only while the relay is live (it is not).
    // The relay server is on loopback: refused until the instructor allows a private address.
    let private = h
        .post("set_relay")
        .bearer_auth(&h.key)
        .body(serde_json::json!({"url": "http://127.0.0.1:9/whip", "token": null}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(private.status(), 400);
    assert_eq!(code_of(private).await, "private_address");
    let status = h
        .call(
            "set_relay",
            serde_json::json!({"url": "http://127.0.0.1:9/whip", "playbackUrl": "http://127.0.0.2:9/whep", "allowPrivateAddress": true}),
        )
        .await;
    assert_eq!(status["relay"]["playbackUrl"], "http://127.0.0.2:9/whep");
    let page = reqwest::get(format!("{}watch", h.base)).await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("connect-src 'self' http://127.0.0.2:9;"),
        "{csp}"
    );
    let public: serde_json::Value = reqwest::get(format!("{}api/v1/public", h.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["whepUrl"], serde_json::Value::Null);
    // A playback URL that is not an http(s) address is refused, typed.
    let refused = h
        .post("set_relay")
        .bearer_auth(&h.key)
        .body(
            serde_json::json!({"url": "http://127.0.0.1:9/whip", "playbackUrl": "javascript:alert(1)"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(code_of(refused).await, "invalid_input");
    // Stopping the relay forgets it: the CSP is the plain one again.
    h.call("set_relay", serde_json::json!({"url": null})).await;
    let page = reqwest::get(format!("{}watch", h.base)).await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    h.stop().await;
}

/// The viewer page's video counts as presence only for a browser key the school issued: a
/// made-up key records nobody, the answer brings the page a key, and with it the video counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whep_presence_needs_a_key_the_school_issued_and_the_answer_brings_one() {
    let h = crate::host().await;
    h.call("start_class", serde_json::json!({"title": "Presence"}))
        .await;
    let session = h.studio.live_room().await.unwrap().session_id();
    let whep = |key: &str| {
        h.whip(reqwest::Method::POST, "/whep")
            .header("content-type", "application/sdp")
            .header("x-lectern-browser-key", key)
            .body(PLAYER_OFFER)
    };
    let made_up = "browser-key-made-up-0001";
    let response = whep(made_up).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let issued = response.headers()["x-lectern-browser-key"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(issued.starts_with("bk1-"), "{issued}");
    let viewer = h.studio.viewer_id(&issued).await.unwrap();
    // The same page comes back with its key: no new key, the same viewer.
    let again = whep(&issued).send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert!(again.headers().get("x-lectern-browser-key").is_none());

    let store = h.studio.store().await.unwrap();
    let mut watchers = vec![];
    for _ in 0..50 {
        watchers = store
            .events_after(session, 0, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "media_presence")
            .map(|e| e.payload["event"]["viewer"].as_str().unwrap().to_owned())
            .collect();
        if watchers.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(watchers, vec![viewer.0.clone(), viewer.0.clone()]);
    // A player without the header is not counted and gets no key.
    let plain = h
        .whip(reqwest::Method::POST, "/whep")
        .header("content-type", "application/sdp")
        .body(PLAYER_OFFER)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 201);
    assert!(plain.headers().get("x-lectern-browser-key").is_none());
    h.stop().await;
}

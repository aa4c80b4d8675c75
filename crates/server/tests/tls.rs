//! HTTPS with the school's certificate, and a studio behind a reverse proxy (`--public-url`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lectern_server::{Server, ServerOptions, TlsFiles};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio_rustls::rustls;
use tokio_tungstenite::tungstenite::Message;

use crate::host_with;

/// A certificate for `localhost` and 127.0.0.1, written as PEM files.
struct Certificate {
    _dir: tempfile::TempDir,
    files: TlsFiles,
    pem: String,
}

fn certificate() -> Certificate {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let pem = generated.cert.pem();
    std::fs::write(&cert, &pem).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    Certificate {
        _dir: dir,
        files: TlsFiles { cert, key },
        pem,
    }
}

fn tls_options(files: &TlsFiles) -> ServerOptions {
    let mut options = ServerOptions::loopback(0, lectern_server::new_key());
    options.tls = Some(files.clone());
    options.limits.header_read_timeout = Duration::from_secs(1);
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_serves_https_with_the_schools_certificate() {
    let cert = certificate();
    let h = host_with(tls_options(&cert.files)).await;
    assert!(h.base.starts_with("https://127.0.0.1:"), "{}", h.base);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let health: serde_json::Value = client
        .get(format!("{}healthz", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    // A page of this studio is https://Host now; the http:// origin is another site.
    let call = |origin: &str| {
        client
            .post(format!("{}api/v1/overview", h.base))
            .bearer_auth(&h.key)
            .header("content-type", "application/json")
            .header("origin", origin)
            .body("{}")
    };
    let port = h.server.local_addr().port();
    let own = call(&format!("https://127.0.0.1:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let plain = call(&format!("http://127.0.0.1:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 403);

    // The live room over wss://.
    client
        .post(format!("{}api/v1/start_class", h.base))
        .bearer_auth(&h.key)
        .header("content-type", "application/json")
        .body(json!({"title": "Over TLS"}).to_string())
        .send()
        .await
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::from_pem_slice(cert.pem.as_bytes()).unwrap();
    roots.add(der).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(h.server.local_addr())
        .await
        .unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("wss://localhost:{port}/room"), tls)
        .await
        .unwrap();
    ws.send(Message::text(
        json!({"type": "hello", "v": 1, "name": "Ann"}).to_string(),
    ))
    .await
    .unwrap();
    let welcome = loop {
        if let Some(Ok(Message::Text(text))) = ws.next().await {
            break serde_json::from_str::<serde_json::Value>(&text).unwrap();
        }
    };
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert!(welcome["browser_key"].as_str().unwrap().starts_with("bk1-"));

    // Plain HTTP to the TLS port is not served, and a connection that never starts its
    // handshake is closed within the header-read timeout.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    let mut silent = tokio::net::TcpStream::connect(h.server.local_addr())
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "closed: {read:?}");
    h.stop().await;
}

#[tokio::test]
async fn a_bad_certificate_is_refused_in_words_before_listening() {
    let cert = certificate();
    let dir = tempfile::tempdir().unwrap();
    let studio = lectern_engine::Studio::open(lectern_engine::StudioOptions::new(
        dir.path(),
        lectern_engine::SchoolSource::Path(dir.path().join("s.sqlite")),
    ))
    .await
    .unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let other = certificate();
    for (files, words) in [
        (
            TlsFiles {
                cert: dir.path().join("missing.pem"),
                key: cert.files.key.clone(),
            },
            "missing.pem",
        ),
        (
            TlsFiles {
                cert: empty.clone(),
                key: cert.files.key.clone(),
            },
            "holds no certificate",
        ),
        (
            TlsFiles {
                cert: cert.files.cert.clone(),
                key: empty.clone(),
            },
            "private key",
        ),
        (
            TlsFiles {
                cert: cert.files.cert.clone(),
                key: other.files.key.clone(),
            },
            "do not make a usable pair",
        ),
    ] {
        let err = match Server::start(studio.clone(), tls_options(&files)).await {
            Ok(_) => panic!("{files:?} was accepted"),
            Err(err) => err,
        };
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(words), "{err}");
    }
    studio.close().await.unwrap();
}

#[tokio::test]
async fn behind_a_reverse_proxy_the_public_url_is_the_studios_own() {
    let mut options = ServerOptions::loopback(0, lectern_server::new_key());
    options.public_url = Some("https://Class.School.Example".into());
    let h = host_with(options).await;
    assert_eq!(
        h.server.public_url().as_deref(),
        Some("https://Class.School.Example/")
    );
    // The proxy forwards the public Host and the page's origin.
    let response = reqwest::Client::new()
        .post(format!("{}api/v1/overview", h.base))
        .bearer_auth(&h.key)
        .header("content-type", "application/json")
        .header("host", "class.school.example")
        .header("origin", "https://class.school.example")
        .header("x-forwarded-for", "203.0.113.5")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let overview: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        overview["network"]["publicUrl"],
        "https://Class.School.Example/"
    );
    // Other sites are still refused.
    let response = h
        .post("overview")
        .bearer_auth(&h.key)
        .header("origin", "https://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // Personal join links are built from the public address.
    let links: serde_json::Value = h
        .post("learner_links")
        .bearer_auth(&h.key)
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csv = links["csv"].as_str().unwrap();
    let first = csv.lines().nth(1).unwrap();
    assert!(
        first.contains(",https://Class.School.Example/watch#learner="),
        "{first}"
    );
    h.stop().await;

    let mut bad = ServerOptions::loopback(0, lectern_server::new_key());
    bad.public_url = Some("class.school.example/studio".into());
    let dir = tempfile::tempdir().unwrap();
    let studio = lectern_engine::Studio::open(lectern_engine::StudioOptions::new(
        dir.path(),
        lectern_engine::SchoolSource::Path(dir.path().join("s.sqlite")),
    ))
    .await
    .unwrap();
    let err = match Server::start(studio.clone(), bad).await {
        Ok(_) => panic!("accepted"),
        Err(err) => err,
    };
    assert!(err.to_string().contains("--public-url"), "{err}");
    studio.close().await.unwrap();
}

//! Binding, serving, rebinding between loopback and the local network, and shutting down.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post};
use lectern_engine::api::NetworkAccess;
use lectern_engine::{ApiError, ErrorCode, NetworkControl, Studio};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{self, AppState, MAX_BODY};
use crate::assets;
use crate::guard::{self, HostPolicy};

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The address to bind: loopback by default, `0.0.0.0` when open to the network.
    pub bind: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// The owner key that the studio API requires as a Bearer token.
    pub key: String,
    /// Host names accepted besides IP literals and `localhost` (e.g. `studio.local`).
    pub allowed_hosts: Vec<String>,
    /// STUN/TURN server URLs offered to WHIP/WHEP clients in `Link` headers.
    pub ice_servers: Vec<String>,
    /// Per-address connection limits and the write deadline.
    pub limits: crate::Limits,
    /// Sites whose viewer pages may play from this studio's WHEP (the studios it is the relay
    /// server of), as `http(s)://host[:port]`. None by default: only this studio's own pages and
    /// players without a page (OBS, GStreamer).
    pub whep_origins: Vec<String>,
    /// Serve HTTPS with these PEM files instead of plain HTTP.
    pub tls: Option<crate::TlsFiles>,
    /// Where students reach the studio when it sits behind a reverse proxy
    /// (`https://class.school.example`): pages from that origin are this studio's own, its
    /// name is accepted as `Host`, links are built from it, and the client address a proxy on
    /// loopback names in `X-Forwarded-For` is the one the per-address limits count.
    pub public_url: Option<String>,
}

impl ServerOptions {
    /// Loopback only, on `port` (0 for any free port).
    pub fn loopback(port: u16, key: String) -> Self {
        ServerOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
            key,
            allowed_hosts: vec![],
            ice_servers: vec![],
            limits: crate::Limits::default(),
            whep_origins: vec![],
            tls: None,
            public_url: None,
        }
    }
}

/// A fresh owner key: 256 random bits as hex.
pub fn new_key() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is unrecoverable and happens only on a broken system.
    if let Err(err) = getrandom::fill(&mut bytes) {
        panic!("the operating system gave no random bytes: {err}");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Listening {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

struct Shared {
    router: Router,
    /// TLS for each accepted connection, when the school gave a certificate.
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// `https` with TLS, else `http`.
    scheme: &'static str,
    /// The public origin behind a reverse proxy (`https://class.school.example`).
    public_url: Option<String>,
    /// Per-address limits, shared by the accept loop and the routes.
    gate: Arc<crate::limits::Gate>,
    listening: tokio::sync::Mutex<Listening>,
    addr: Mutex<SocketAddr>,
}

/// The running HTTP host. Dropping it does not stop it; call [`Server::shutdown`].
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

fn router(
    studio: Studio,
    options: &ServerOptions,
    gate: Arc<crate::limits::Gate>,
    public: Option<&guard::PublicUrl>,
) -> Router {
    let mut extra_names = options.allowed_hosts.clone();
    extra_names.extend(public.map(|p| p.host.clone()));
    let policy = Arc::new(HostPolicy {
        extra_names,
        studio: Some(studio.clone()),
        whep_origins: options
            .whep_origins
            .iter()
            .map(|o| guard::normal_origin(o))
            .collect(),
        scheme: if options.tls.is_some() {
            "https"
        } else {
            "http"
        },
        public_origin: public.map(|p| p.origin.clone()),
    });
    let media = crate::whip::MediaState {
        studio: studio.clone(),
        ice_links: Arc::new(
            options
                .ice_servers
                .iter()
                .map(|url| format!("<{url}>; rel=\"ice-server\""))
                .collect(),
        ),
    };
    let gated =
        || axum::middleware::from_fn_with_state(Arc::clone(&gate), crate::limits::gate_sessions);
    let whip = Router::new()
        .route("/whip", post(crate::whip::whip_post).route_layer(gated()))
        .route(
            "/whip/{id}",
            patch(crate::whip::whip_patch).delete(crate::whip::whip_delete),
        )
        .route("/whep", post(crate::whip::whep_post).route_layer(gated()))
        .route(
            "/whep/{id}",
            patch(crate::whip::whep_patch).delete(crate::whip::whep_delete),
        )
        .with_state(media);
    // Replay actions count against the same per-address budget as new sessions.
    let replay_gate = gated();
    let state = AppState {
        studio,
        key: Arc::from(options.key.as_str()),
        gate,
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/watch") }))
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/watch", get(|| async { assets::serve("watch.html") }))
        .route("/studio", get(|| async { assets::serve("studio.html") }))
        .route("/publish", get(|| async { assets::serve("publish.html") }))
        .route("/replay/{session}", get(crate::replay::page))
        .route("/recordings/{file}", get(crate::replay::recording))
        .route("/api/v1/replay/{session}", get(crate::replay::timeline))
        .route(
            "/api/v1/replay/{session}/action",
            post(crate::replay::action).route_layer(replay_gate),
        )
        .route("/room", get(crate::room::room))
        .route("/api/v1/public", get(api::public))
        .route("/api/v1/events", get(api::events))
        // `call` reads the body itself, after authorizing, up to the command's own limit.
        .route(
            "/api/v1/{command}",
            post(api::call).layer(DefaultBodyLimit::disable()),
        )
        .merge(whip)
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(policy, guard::guard))
        .with_state(state)
}

async fn fallback(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if method == axum::http::Method::GET && !path.is_empty() && !path.ends_with(".html") {
        return assets::serve(path);
    }
    api::error_response(ApiError::new(
        ErrorCode::NotFound,
        format!("nothing at /{path}"),
    ))
    .into_response()
}

/// How many finished handshakes the kernel queues for `accept`. Tokio's default (1,024) let a
/// burst of 3,000 connections overflow it: Linux then answers with SYN cookies and drops the
/// final ACK of a full queue, so a client that never sends a byte believes it is connected to a
/// server that never heard of it. Capped by `net.core.somaxconn` (4,096 on current kernels).
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restarted studio may rebind while old sockets linger.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    // After a rebind the old socket closes asynchronously; give it a moment rather than fail.
    let mut last = None;
    for _ in 0..50 {
        match listen(addr) {
            Ok(listener) => return Ok(listener),
            Err(err) if err.kind() == io::ErrorKind::AddrInUse => {
                last = Some(err);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => return Err(err),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("could not bind")))
}

/// Serves `router` on `listener` until the returned sender fires (or is dropped), then lets the
/// open connections finish their requests. Each connection: at most
/// [`crate::Limits::connections_per_address`] open per client address (more are closed on
/// accept), a request head within [`crate::Limits::header_read_timeout`], which also closes an
/// idle keep-alive connection, and upgrades (room sockets) handed over to their handlers.
/// How each accepted connection is served: TLS or not, and whether a reverse proxy on loopback
/// names the client (`X-Forwarded-For`).
#[derive(Clone)]
struct Serving {
    router: Router,
    gate: Arc<crate::limits::Gate>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    behind_proxy: bool,
}

/// The client a request is from: the peer, or, from a reverse proxy on loopback when the studio
/// has a public URL, the last address the proxy added to `X-Forwarded-For`.
fn client_address(
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
    behind_proxy: bool,
) -> SocketAddr {
    if !behind_proxy || !peer.ip().is_loopback() {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        .map_or(peer, |ip| SocketAddr::new(ip, 0))
}

/// Serve one connection (plain or TLS) until it ends, or finish its request and close it when
/// the server stops accepting (`closing`).
async fn serve_io<I, S>(
    builder: &hyper::server::conn::http1::Builder,
    io: I,
    service: S,
    mut closing: tokio::sync::watch::Receiver<bool>,
) -> Result<(), hyper::Error>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: hyper::body::Body + Send + 'static,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = builder
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => served,
        _ = closing.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    }
}

fn spawn_serve(serving: Serving, listener: TcpListener) -> (oneshot::Sender<()>, JoinHandle<()>) {
    use hyper_util::rt::TokioTimer;
    let Serving {
        router,
        gate,
        tls,
        behind_proxy,
    } = serving;
    let (stop, mut stopped) = oneshot::channel::<()>();
    let (closing, _) = tokio::sync::watch::channel(false);
    let header_timeout = gate.limits().header_read_timeout;
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                _ = &mut stopped => break,
                // Reap finished connection tasks as they end.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %err, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Some(permit) = gate.open_connection(peer.ip()) else {
                tracing::debug!(%peer, "too many open connections from this address");
                drop(stream);
                continue;
            };
            let service = tower::ServiceExt::map_request(
                router.clone(),
                move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                    let client = client_address(peer, request.headers(), behind_proxy);
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(client));
                    request
                },
            );
            let service = hyper_util::service::TowerToHyperService::new(service);
            let closing = closing.subscribe();
            let tls = tls.clone();
            connections.spawn(async move {
                let _permit = permit;
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .keep_alive(true);
                let served = match tls {
                    // The handshake, like a request head, must finish within the timeout.
                    Some(tls) => {
                        match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                            Ok(Ok(stream)) => serve_io(&builder, stream, service, closing).await,
                            Ok(Err(err)) => {
                                tracing::debug!(%peer, error = %err, "a TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "a TLS handshake took too long");
                                return;
                            }
                        }
                    }
                    None => serve_io(&builder, stream, service, closing).await,
                };
                if let Err(err) = served {
                    tracing::debug!(%peer, error = %err, "a connection ended with an error");
                }
            });
        }
        drop(listener);
        // Graceful: open connections finish the request they are on, then close.
        let _ = closing.send(true);
        while connections.join_next().await.is_some() {}
    });
    (stop, task)
}

impl Server {
    /// Bind, start serving, and take over the studio's network switch.
    pub async fn start(studio: Studio, options: ServerOptions) -> io::Result<Server> {
        let gate = Arc::new(crate::limits::Gate::new(options.limits));
        let tls = options.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let public = options
            .public_url
            .as_deref()
            .map(guard::PublicUrl::parse)
            .transpose()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let router = router(studio.clone(), &options, Arc::clone(&gate), public.as_ref());
        let listener = bind(SocketAddr::new(options.bind, options.port)).await?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let serving = Serving {
            router: router.clone(),
            gate: Arc::clone(&gate),
            tls: tls.clone(),
            behind_proxy: public.is_some(),
        };
        let (stop, task) = spawn_serve(serving, listener);
        let server = Server {
            shared: Arc::new(Shared {
                router,
                tls,
                scheme,
                public_url: public.map(|p| p.url),
                gate,
                listening: tokio::sync::Mutex::new(Listening {
                    addr,
                    stop: Some(stop),
                    task: Some(task),
                }),
                addr: Mutex::new(addr),
            }),
        };
        studio.attach_network_control(Arc::new(server.clone()));
        studio.report_network(server.network_access());
        tracing::info!(%addr, "listening");
        Ok(server)
    }

    /// Where the server listens now.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared
            .addr
            .lock()
            .map(|a| *a)
            .unwrap_or_else(|p| *p.into_inner())
    }

    /// `http://ADDR:PORT/` (`https://` with TLS) of the bound socket.
    pub fn base_url(&self) -> String {
        format!("{}://{}/", self.shared.scheme, self.local_addr())
    }

    /// A URL on loopback that reaches this server whatever it is bound to.
    pub fn loopback_url(&self) -> String {
        let addr = self.local_addr();
        format!(
            "{}://{}/",
            self.shared.scheme,
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        )
    }

    /// Where students reach the studio behind a reverse proxy (`--public-url`), with a
    /// trailing slash.
    pub fn public_url(&self) -> Option<String> {
        self.shared.public_url.clone()
    }

    fn serving(&self) -> Serving {
        Serving {
            router: self.shared.router.clone(),
            gate: Arc::clone(&self.shared.gate),
            tls: self.shared.tls.clone(),
            behind_proxy: self.shared.public_url.is_some(),
        }
    }

    /// The state to show in settings: bound address and the URLs students can use.
    pub fn network_access(&self) -> NetworkAccess {
        let addr = self.local_addr();
        let lan_open = !addr.ip().is_loopback();
        let mut urls = vec![self.loopback_url()];
        if lan_open {
            let port = addr.port();
            let interfaces = if_addrs::get_if_addrs().unwrap_or_default();
            for interface in interfaces.iter().filter(|i| !i.is_loopback()) {
                let ip = interface.ip();
                let serves = addr.ip().is_unspecified() || addr.ip() == ip;
                if serves && ip.is_ipv4() {
                    urls.push(format!(
                        "{}://{}/",
                        self.shared.scheme,
                        SocketAddr::new(ip, port)
                    ));
                }
            }
        }
        NetworkAccess {
            lan_open,
            bind: addr.to_string(),
            urls,
            public_url: self.public_url(),
        }
    }

    async fn rebind(&self, ip: IpAddr) -> io::Result<NetworkAccess> {
        let mut listening = self.shared.listening.lock().await;
        if listening.addr.ip() == ip {
            return Ok(self.network_access());
        }
        let port = listening.addr.port();
        // Stop accepting on the old socket; connections already open (viewers) carry on.
        if let Some(stop) = listening.stop.take() {
            let _ = stop.send(());
        }
        let listener = match bind(SocketAddr::new(ip, port)).await {
            Ok(listener) => listener,
            Err(err) => {
                // Never leave the studio unreachable: go back to where we were.
                let back = bind(listening.addr).await?;
                let (stop, task) = spawn_serve(self.serving(), back);
                listening.stop = Some(stop);
                listening.task = Some(task);
                return Err(err);
            }
        };
        let addr = listener.local_addr()?;
        let (stop, task) = spawn_serve(self.serving(), listener);
        *listening = Listening {
            addr,
            stop: Some(stop),
            task: Some(task),
        };
        if let Ok(mut a) = self.shared.addr.lock() {
            *a = addr;
        }
        tracing::info!(%addr, "rebound");
        Ok(self.network_access())
    }

    /// Stop accepting, let open requests finish (up to a few seconds), and return.
    pub async fn shutdown(&self) {
        let mut listening = self.shared.listening.lock().await;
        if let Some(stop) = listening.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = listening.task.take() {
            // Long-lived sockets (event streams) would hold graceful shutdown open forever.
            if tokio::time::timeout(Duration::from_secs(3), task)
                .await
                .is_err()
            {
                tracing::warn!("connections still open at shutdown; closing them");
            }
        }
    }
}

impl NetworkControl for Server {
    fn set_lan_open(
        &self,
        open: bool,
    ) -> lectern_engine::BoxFuture<'_, Result<NetworkAccess, ApiError>> {
        Box::pin(async move {
            let ip = if open {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            };
            self.rebind(ip).await.map_err(|e| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!("could not move the server to {ip}: {e}"),
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_on_loopback_names_the_client_only_behind_a_public_url() {
        let proxy: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.2:50000".parse().unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "10.9.9.9, 203.0.113.5".parse().unwrap());
        let named = client_address(proxy, &headers, true);
        assert_eq!(named.ip(), "203.0.113.5".parse::<IpAddr>().unwrap());
        // Without --public-url, or from anyone but a proxy on loopback, the header is ignored.
        assert_eq!(client_address(proxy, &headers, false), proxy);
        assert_eq!(client_address(stranger, &headers, true), stranger);
        // A header that is not an address changes nothing.
        headers.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_address(proxy, &headers, true), proxy);
    }
}

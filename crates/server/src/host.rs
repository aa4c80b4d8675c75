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
    listening: tokio::sync::Mutex<Listening>,
    addr: Mutex<SocketAddr>,
}

/// The running HTTP host. Dropping it does not stop it; call [`Server::shutdown`].
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

fn router(studio: Studio, options: &ServerOptions) -> Router {
    let policy = Arc::new(HostPolicy {
        extra_names: options.allowed_hosts.clone(),
        studio: Some(studio.clone()),
        whep_origins: options
            .whep_origins
            .iter()
            .map(|o| guard::normal_origin(o))
            .collect(),
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
    let gate = Arc::new(crate::limits::Gate::new(options.limits));
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

async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    // After a rebind the old socket closes asynchronously; give it a moment rather than fail.
    let mut last = None;
    for _ in 0..50 {
        match TcpListener::bind(addr).await {
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

fn spawn_serve(router: Router, listener: TcpListener) -> (oneshot::Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "the HTTP server stopped");
        }
    });
    (stop, task)
}

impl Server {
    /// Bind, start serving, and take over the studio's network switch.
    pub async fn start(studio: Studio, options: ServerOptions) -> io::Result<Server> {
        let router = router(studio.clone(), &options);
        let listener = bind(SocketAddr::new(options.bind, options.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, task) = spawn_serve(router.clone(), listener);
        let server = Server {
            shared: Arc::new(Shared {
                router,
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

    /// `http://ADDR:PORT/` of the bound socket.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.local_addr())
    }

    /// A URL on loopback that reaches this server whatever it is bound to.
    pub fn loopback_url(&self) -> String {
        let addr = self.local_addr();
        format!(
            "http://{}/",
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        )
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
                    urls.push(format!("http://{}/", SocketAddr::new(ip, port)));
                }
            }
        }
        NetworkAccess {
            lan_open,
            bind: addr.to_string(),
            urls,
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
                let (stop, task) = spawn_serve(self.shared.router.clone(), back);
                listening.stop = Some(stop);
                listening.task = Some(task);
                return Err(err);
            }
        };
        let addr = listener.local_addr()?;
        let (stop, task) = spawn_serve(self.shared.router.clone(), listener);
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

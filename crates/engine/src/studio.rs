//! The `Studio` handle: one open school, its events, and the host's network switch.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use lectern_store::Store;
use tokio::sync::{RwLock, broadcast};

use crate::api::{
    BackupDone, Counts, CreateSchool, LiveStatus, NetworkAccess, NoArgs, Overview, PublicInfo,
    SchoolInfo, SessionSummary, SetNetworkAccess, StartClass, StudioEvent,
};
use crate::live::{LiveRoom, system_clock};
use crate::{ApiError, ErrorCode};

/// The seed of the demo school: fixed, so every install shows the same demo.
const DEMO_SEED: u64 = 2026;
/// How many sessions the home screen lists.
const RECENT_SESSIONS: u32 = 8;
/// Longest school name, in characters.
const MAX_SCHOOL_NAME: usize = 120;
/// Longest class title, in characters.
const MAX_CLASS_TITLE: usize = 200;

/// Which school to open at start.
#[derive(Debug, Clone)]
pub enum SchoolSource {
    /// The school in the data folder if there is one; otherwise the demo if it was opened before;
    /// otherwise none (first run: the studio offers the demo).
    Default,
    /// This file, created empty if missing (`--db PATH`).
    Path(PathBuf),
    /// The demo school in the data folder, generated on first use (`--demo`).
    Demo,
    /// The demo school in this file, generated there if missing (`--demo --db PATH`).
    DemoAt(PathBuf),
}

/// How to start a [`Studio`].
#[derive(Debug, Clone)]
pub struct StudioOptions {
    /// Where schools, demo and backups live (the OS data folder for the desktop app).
    pub data_dir: PathBuf,
    /// Which school to open.
    pub school: SchoolSource,
    /// The media side: bind scope, the built-in source, the publish key.
    pub broadcast: crate::BroadcastOptions,
    /// How many fresh browser keys one network address may be issued.
    pub browser_keys: crate::browser_keys::KeyRate,
}

impl StudioOptions {
    /// Options with a data folder and a school source.
    pub fn new(data_dir: impl Into<PathBuf>, school: SchoolSource) -> Self {
        StudioOptions {
            data_dir: data_dir.into(),
            school,
            broadcast: crate::BroadcastOptions::default(),
            browser_keys: crate::browser_keys::KeyRate::default(),
        }
    }
}

/// A boxed future, so [`NetworkControl`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The host's side of "open to the local network": the server, which the engine cannot see,
/// rebinds itself and reports where it now listens.
pub trait NetworkControl: Send + Sync + 'static {
    /// Listen on all interfaces (`true`) or on loopback only (`false`).
    fn set_lan_open(&self, open: bool) -> BoxFuture<'_, Result<NetworkAccess, ApiError>>;
}

pub(crate) struct Inner {
    pub(crate) options: StudioOptions,
    school: RwLock<Option<Store>>,
    pub(crate) events: broadcast::Sender<StudioEvent>,
    network: Mutex<NetworkAccess>,
    network_control: Mutex<Option<Arc<dyn NetworkControl>>>,
    school_problem: Mutex<Option<ApiError>>,
    live: tokio::sync::Mutex<Option<Live>>,
    backup_running: tokio::sync::Mutex<()>,
    pub(crate) broadcast: crate::broadcast::Broadcast,
    /// Open room connections per viewer (a viewer leaves with their last one).
    pub(crate) presence: crate::room_session::Presence,
    /// The desktop window's room connections.
    pub(crate) ipc_rooms: crate::room_session::IpcConnections,
    /// Why the live class's writes fail, while they do.
    storage_problem: Mutex<Option<ApiError>>,
    /// Fresh browser keys per address, and the address bans of the class on air.
    pub(crate) browser_keys: crate::browser_keys::BrowserKeys,
    /// The last trained recommender and the data it learned from (choosing its weights takes a
    /// while; the purchases change far less often than it is asked).
    pub(crate) recommender: crate::models::RecommenderCache,
    /// The answer assistant's index of the open school.
    pub(crate) answers: tokio::sync::Mutex<crate::answers::AnswerCache>,
    /// What went wrong with the live class's recording, until the class ends.
    pub(crate) recording_notice: Mutex<Option<crate::recording::RecordingNotice>>,
}

/// A class left live by a crash resumes if it started this recently (6 hours).
const RESUME_WITHIN_MS: i64 = 6 * 3_600_000;

/// The class on air: its session and room.
struct Live {
    room: LiveRoom,
    title: String,
    started_at_ms: i64,
    engagement: crate::engagement::SharedEngagement,
}

/// The running studio. Cheap to clone; every clone is the same studio.
#[derive(Clone)]
pub struct Studio {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Studio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Studio")
            .field("data_dir", &self.inner.options.data_dir)
            .finish()
    }
}

/// The first `bytes` bytes, as hex, of HMAC-SHA256(`secret`, `label` + `data`): how the
/// school's install secret names things (viewer ids, the publish key, personal join links)
/// without revealing itself. Each use has its own label.
pub(crate) fn keyed_hex(
    secret: &[u8; 32],
    label: &[u8],
    data: &[u8],
    bytes: usize,
) -> Result<String, ApiError> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret)
        .map_err(|e| ApiError::internal(format!("keying the HMAC: {e}")))?;
    mac.update(label);
    mac.update(data);
    let digest = mac.finalize().into_bytes();
    Ok(digest
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The school's key for consented emails ([`lectern_room::keyed_email_hash`]): derived from the
/// install secret, so it never leaves the studio and is the same for every class.
pub(crate) fn email_key(secret: &[u8; 32]) -> Result<Vec<u8>, ApiError> {
    Ok(keyed_hex(secret, b"lectern-email-key-v1", b"", 32)?.into_bytes())
}

/// Whether a secret someone gave equals the expected one, in time that does not depend on
/// where they differ.
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, b) in expected.iter().enumerate() {
        diff |= b ^ given.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(crate) fn io_error(doing: &str, path: &Path, err: std::io::Error) -> ApiError {
    let code = if err.kind() == std::io::ErrorKind::StorageFull {
        ErrorCode::DiskFull
    } else {
        ErrorCode::Storage
    };
    ApiError::new(code, format!("{doing} {}: {err}", path.display()))
}

impl Studio {
    /// Start the studio: create the data folder and open the school the options name.
    /// Fails if that school cannot be opened (what a headless host wants).
    pub async fn open(options: StudioOptions) -> Result<Studio, ApiError> {
        tokio::fs::create_dir_all(&options.data_dir)
            .await
            .map_err(|e| io_error("creating the data folder", &options.data_dir, e))?;
        let school = open_school(&options).await?;
        let studio = Studio::with_school(options, school, None);
        studio.recover_recordings().await;
        studio.resume_live_class().await?;
        studio.start_builtin_source().await?;
        studio.start_clock();
        Ok(studio)
    }

    /// Start the studio even if the chosen school cannot be opened: the studio then starts on
    /// its welcome screen and `overview` carries the reason (what the desktop window wants: a
    /// message in the window rather than an app that does not start).
    pub async fn open_or_welcome(options: StudioOptions) -> Result<Studio, ApiError> {
        tokio::fs::create_dir_all(&options.data_dir)
            .await
            .map_err(|e| io_error("creating the data folder", &options.data_dir, e))?;
        match open_school(&options).await {
            Ok(school) => {
                let studio = Studio::with_school(options, school, None);
                studio.recover_recordings().await;
                studio.resume_live_class().await?;
                studio.start_builtin_source().await?;
                studio.start_clock();
                Ok(studio)
            }
            Err(problem) => {
                tracing::warn!(
                    code = problem.code.as_str(),
                    "the school could not be opened: {}",
                    problem.message
                );
                // The clock follows whichever school the welcome screen opens next.
                let studio = Studio::with_school(options, None, Some(problem));
                studio.start_builtin_source().await?;
                studio.start_clock();
                Ok(studio)
            }
        }
    }

    fn with_school(
        options: StudioOptions,
        school: Option<Store>,
        problem: Option<ApiError>,
    ) -> Studio {
        let (events, _) = broadcast::channel(256);
        let media = crate::broadcast::Broadcast::new(&options.broadcast);
        let browser_keys = crate::browser_keys::BrowserKeys::new(options.browser_keys);
        Studio {
            inner: Arc::new(Inner {
                options,
                school: RwLock::new(school),
                events,
                network: Mutex::new(NetworkAccess {
                    lan_open: false,
                    bind: String::new(),
                    urls: vec![],
                    public_url: None,
                }),
                network_control: Mutex::new(None),
                school_problem: Mutex::new(problem),
                live: tokio::sync::Mutex::new(None),
                backup_running: tokio::sync::Mutex::new(()),
                broadcast: media,
                presence: Default::default(),
                browser_keys,
                storage_problem: Mutex::new(None),
                ipc_rooms: Default::default(),
                recommender: Default::default(),
                answers: Default::default(),
                recording_notice: Mutex::new(None),
            }),
        }
    }

    /// The studio's own clock: once a second the broadcast's numbers, once a minute the
    /// scheduled work (feeds, daily chat retention). It runs whether or not a school is open,
    /// so a school opened later from the welcome screen has it too. The tasks hold the studio
    /// weakly and end with it.
    fn start_clock(&self) {
        // Live broadcast numbers once a second, for the screens that listen.
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                if inner.events.receiver_count() == 0 {
                    continue;
                }
                let studio = Studio { inner };
                if let Ok(status) = studio.broadcast_status(NoArgs {}).await {
                    studio.emit(StudioEvent::BroadcastStats {
                        status: Box::new(status),
                    });
                }
            }
        });
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut minutes: u64 = 0;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let studio = Studio { inner };
                minutes += 1;
                // Chat retention once a day (and once at start).
                studio
                    .run_schedule(now_ms(), minutes % (24 * 60) == 1)
                    .await;
            }
        });
    }

    /// The scheduled work: the feeds that are due, and chat and recording retention when
    /// `daily`.
    async fn run_schedule(&self, now: i64, daily: bool) {
        self.sync_sales_feed_if_due(now).await;
        if !daily {
            return;
        }
        if let Err(err) = self.apply_chat_retention().await
            && err.code != ErrorCode::NoSchool
        {
            tracing::warn!(
                code = err.code.as_str(),
                "chat retention failed: {}",
                err.message
            );
        }
        if let Err(err) = self.apply_recording_retention().await
            && err.code != ErrorCode::NoSchool
        {
            tracing::warn!(
                code = err.code.as_str(),
                "recording retention failed: {}",
                err.message
            );
        }
    }

    /// Events for every open screen. A receiver that lags gets `Lagged`: refetch then.
    pub fn subscribe(&self) -> broadcast::Receiver<StudioEvent> {
        self.inner.events.subscribe()
    }

    pub(crate) fn emit(&self, event: StudioEvent) {
        // No receiver is fine: nobody is looking.
        let _ = self.inner.events.send(event);
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.inner.options.data_dir
    }

    /// The open school's store, for hosts and tests that need the storage layer itself.
    pub async fn store(&self) -> Result<Store, ApiError> {
        self.inner.school.read().await.clone().ok_or_else(no_school)
    }

    /// Let the host's server be switched between loopback and the local network.
    pub fn attach_network_control(&self, control: Arc<dyn NetworkControl>) {
        if let Ok(mut slot) = self.inner.network_control.lock() {
            *slot = Some(control);
        }
    }

    /// The host reports where its server listens (at start and after every rebind).
    pub fn report_network(&self, network: NetworkAccess) {
        if let Ok(mut current) = self.inner.network.lock() {
            *current = network.clone();
        }
        self.emit(StudioEvent::NetworkChanged { network });
    }

    pub(crate) fn network(&self) -> NetworkAccess {
        self.inner
            .network
            .lock()
            .map(|n| n.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// What the home screen shows.
    pub async fn overview(&self, _args: NoArgs) -> Result<Overview, ApiError> {
        let store = self.inner.school.read().await.clone();
        let (school, counts, recent_sessions) = match store {
            None => (None, None, vec![]),
            Some(store) => {
                let profile = store.school().await?;
                let counts = store.counts().await?;
                let sessions = store.recent_sessions(RECENT_SESSIONS).await?;
                let time_zone = store
                    .setting(crate::experiments::TIME_ZONE_SETTING)
                    .await?
                    .unwrap_or_else(|| crate::experiments::DEFAULT_TIME_ZONE.to_owned());
                (
                    Some(SchoolInfo {
                        name: profile.name,
                        is_demo: profile.is_demo,
                        db_path: store.path().display().to_string(),
                        created_at_ms: profile.created_at_ms,
                        time_zone,
                    }),
                    Some(Counts {
                        courses: counts.courses,
                        learners: counts.learners,
                        purchases: counts.purchases,
                        sessions: counts.sessions,
                        events: counts.events,
                    }),
                    sessions
                        .into_iter()
                        .map(|s| SessionSummary {
                            id: s.id,
                            title: s.title,
                            course_title: s.course_title,
                            started_at_ms: s.started_at_ms,
                            ended_at_ms: s.ended_at_ms,
                            viewers: s.viewers,
                            events: s.events,
                        })
                        .collect(),
                )
            }
        };
        let school_problem = self
            .inner
            .school_problem
            .lock()
            .ok()
            .and_then(|p| p.clone());
        let storage_problem = self
            .inner
            .storage_problem
            .lock()
            .ok()
            .and_then(|p| p.clone());
        Ok(Overview {
            school,
            counts,
            school_problem,
            storage_problem,
            recording_notice: self.recording_notice(),
            live: self.live_status().await,
            network: self.network(),
            recent_sessions,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        })
    }

    /// What a student's browser may see without credentials.
    pub async fn public_info(&self) -> Result<PublicInfo, ApiError> {
        let store = self.inner.school.read().await.clone();
        let school_name = match &store {
            Some(store) => Some(store.school().await?.name),
            None => None,
        };
        let chat_retention_days = match store {
            Some(_) => self.retention_days().await?,
            None => None,
        };
        let live = self.inner.live.lock().await.is_some();
        Ok(PublicInfo {
            school_name,
            live,
            chat_retention_days,
            whep_url: self.viewer_playback_url(),
            ice_servers: self.inner.options.broadcast.ice_servers.clone(),
        })
    }

    async fn live_status(&self) -> LiveStatus {
        match &*self.inner.live.lock().await {
            Some(live) => LiveStatus::Live {
                session_id: live.room.session_id(),
                title: live.title.clone(),
                started_at_ms: live.started_at_ms,
            },
            None => LiveStatus::Offline,
        }
    }

    /// Start a class: a new live session in the log and its room.
    pub async fn start_class(&self, args: StartClass) -> Result<LiveStatus, ApiError> {
        let title = args.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > MAX_CLASS_TITLE {
            return Err(ApiError::invalid(format!(
                "a class's title has 1 to {MAX_CLASS_TITLE} characters"
            )));
        }
        let store = self.store().await?;
        {
            let mut live = self.inner.live.lock().await;
            if live.is_some() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "a class is already live: end it first",
                ));
            }
            let instructor = args
                .instructor
                .as_deref()
                .map(str::trim)
                .filter(|i| !i.is_empty());
            if instructor.is_some_and(|i| i.chars().count() > lectern_store::MAX_INSTRUCTOR_CHARS) {
                return Err(ApiError::invalid(format!(
                    "the instructor's name is longer than {} characters",
                    lectern_store::MAX_INSTRUCTOR_CHARS
                )));
            }
            let started_at_ms = now_ms();
            let session_id = store
                .create_session(&title, args.course_id.as_deref(), started_at_ms)
                .await?;
            if let Some(instructor) = instructor {
                store.set_session_instructor(session_id, instructor).await?;
            }
            let record = args.record.unwrap_or(true);
            if !record {
                store.set_session_recorded(session_id, false).await?;
            }
            let room =
                LiveRoom::open_watched(store, session_id, system_clock(), self.storage_watch())
                    .await?;
            let engagement = crate::engagement::follow(&room, started_at_ms);
            crate::answers::follow(self, &room);
            *live = Some(Live {
                room,
                title,
                started_at_ms,
                engagement,
            });
            if record {
                self.start_class_recording(session_id).await;
            }
        }
        self.emit(StudioEvent::SchoolChanged);
        Ok(self.live_status().await)
    }

    /// What the class's room tells about its writes, for [`Studio::storage_report`]. It holds
    /// the studio weakly: the room's task does not keep a closed studio alive.
    fn storage_watch(&self) -> crate::live::StorageWatch {
        let inner = Arc::downgrade(&self.inner);
        Arc::new(move |result| {
            if let Some(inner) = inner.upgrade() {
                Studio { inner }.storage_report(result);
            }
        })
    }

    /// A write of the live class failed (`Some`) or succeeded (`None`): the studio is told when
    /// writes start failing and when they work again, once each.
    pub(crate) fn storage_report(&self, result: Option<&ApiError>) {
        let mut problem = self
            .inner
            .storage_problem
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match (result, problem.is_some()) {
            (Some(err), false) => {
                *problem = Some(err.clone());
                drop(problem);
                tracing::error!(
                    code = err.code.as_str(),
                    "the school file takes no more writes: {}",
                    err.message
                );
                self.emit(StudioEvent::StorageProblem { error: err.clone() });
            }
            (None, true) => {
                *problem = None;
                drop(problem);
                tracing::info!("the school file takes writes again");
                self.emit(StudioEvent::StorageRecovered);
            }
            _ => {}
        }
    }

    /// End the live class: the session gets its end time and the room closes.
    pub async fn end_class(&self, _args: NoArgs) -> Result<LiveStatus, ApiError> {
        let ended = self.inner.live.lock().await.take();
        let Some(live) = ended else {
            return Err(ApiError::new(ErrorCode::Conflict, "no class is live"));
        };
        self.finish_class(&live).await?;
        self.emit(StudioEvent::SchoolChanged);
        Ok(LiveStatus::Offline)
    }

    /// Close a class's room (its connections are told) and record its end in its school.
    async fn finish_class(&self, live: &Live) -> Result<(), ApiError> {
        // Everyone still connected leaves now; the open poll closes and offers are withdrawn.
        if let Err(err) = live.room.submit(lectern_room::Input::End).await {
            tracing::warn!(error = %err, "the class's end could not be recorded in its room");
        }
        live.room.end();
        self.stop_class_recording().await;
        let store = self.store().await?;
        store.end_session(live.room.session_id(), now_ms()).await?;
        Ok(())
    }

    /// After a crash or a kill, a class that was live when the studio stopped (no end time,
    /// started within [`RESUME_WITHIN_MS`]) goes live again: its room is rebuilt from the log,
    /// so students reconnect with their last number and miss nothing. An older unfinished
    /// class gets its end time instead.
    async fn resume_live_class(&self) -> Result<(), ApiError> {
        let Ok(store) = self.store().await else {
            return Ok(());
        };
        let open: Option<(i64, i64, String)> = store
            .read(|conn| {
                use lectern_store::rusqlite::OptionalExtension;
                Ok(conn
                    .query_row(
                        "SELECT id, started_at_ms, title FROM live_sessions WHERE ended_at_ms IS NULL
                         ORDER BY started_at_ms DESC, id DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?)
            })
            .await?;
        let Some((session_id, started_at_ms, title)) = open else {
            return Ok(());
        };
        let now = now_ms();
        if now - started_at_ms > RESUME_WITHIN_MS {
            // Too old to resume: opening its room records everyone still connected as leaving
            // when the studio was last known to run, and the class ends then too.
            let room = LiveRoom::open(store.clone(), session_id, system_clock()).await?;
            room.end();
            let ended_at = store.session_alive_at(session_id).await?;
            store.end_session(session_id, ended_at).await?;
            return Ok(());
        }
        match LiveRoom::open_watched(store, session_id, system_clock(), self.storage_watch()).await
        {
            Ok(room) => {
                let engagement = crate::engagement::follow(&room, started_at_ms);
                crate::answers::follow(self, &room);
                // Nobody is connected yet: what the log holds is everything so far.
                if let Ok(store) = self.store().await {
                    let mut after = 0;
                    while let Ok(page) = store
                        .events_after(session_id, after, lectern_store::MAX_PAGE)
                        .await
                    {
                        let Some(last) = page.last() else { break };
                        after = last.seq;
                        if let Ok(mut live) = engagement.lock() {
                            for e in &page {
                                // A record that is not the room's counts for nothing.
                                if let Ok(Some(event)) = crate::activities::engagement_event_of_log(
                                    &e.kind, e.at_ms, &e.payload,
                                ) {
                                    live.push(&event);
                                }
                            }
                        }
                    }
                }
                *self.inner.live.lock().await = Some(Live {
                    room,
                    title,
                    started_at_ms,
                    engagement,
                });
                // The instructor's choice when they started it holds.
                let record = match self.store().await {
                    Ok(store) => store.session_recorded(session_id).await.unwrap_or(true),
                    Err(_) => true,
                };
                if record {
                    self.start_class_recording(session_id).await;
                }
                tracing::info!(
                    session = session_id,
                    "the class that was live before the stop is live again"
                );
            }
            Err(err) => {
                tracing::warn!(
                    code = err.code.as_str(),
                    "the unfinished class could not be resumed: {}",
                    err.message
                );
            }
        }
        Ok(())
    }

    /// The live class's engagement state.
    pub(crate) async fn live_engagement_state(
        &self,
    ) -> Option<crate::engagement::SharedEngagement> {
        self.inner
            .live
            .lock()
            .await
            .as_ref()
            .map(|live| live.engagement.clone())
    }

    /// The room of the class on air, for the hosts that connect people to it.
    pub async fn live_room(&self) -> Option<LiveRoom> {
        self.inner
            .live
            .lock()
            .await
            .as_ref()
            .map(|live| live.room.clone())
    }

    /// The pseudonymous id of a browser: an HMAC, with this school's secret, of the key it
    /// keeps, which this school issued ([`Studio::issue_browser_key`]); a key it did not sign is
    /// refused. Ids are stable per browser, unlinkable across schools, and reveal nothing.
    pub async fn viewer_id(&self, browser_key: &str) -> Result<lectern_room::ViewerId, ApiError> {
        let secret = self.store().await?.install_secret().await?;
        let key = browser_key.trim();
        if !crate::browser_keys::verify(secret.expose(), key) {
            return Err(ApiError::invalid(
                "not a browser key this school issued; a new one comes with the welcome",
            ));
        }
        let hex = keyed_hex(secret.expose(), b"lectern-viewer-v1:", key.as_bytes(), 10)?;
        Ok(lectern_room::ViewerId(format!("v-{hex}")))
    }

    /// A new browser key and the viewer it names, signed from the page's own nonce when it
    /// sent one (`requested`: 32 hex; the same nonce always gives the same key, so the room and
    /// the video of one page agree), else from a random one. Counted against `address` (the
    /// network address asking) when there is one: an address gets a bounded number of fresh
    /// keys, and none for the rest of a class once a student who joined from it was banned
    /// with their address. `Ok(Err(_))` is that refusal.
    pub async fn issue_browser_key(
        &self,
        address: Option<std::net::IpAddr>,
        requested: Option<&str>,
    ) -> Result<Result<(String, lectern_room::ViewerId), crate::browser_keys::KeyRefusal>, ApiError>
    {
        if let Some(address) = address {
            let session = self.live_room().await.map(|room| room.session_id());
            let admitted = self
                .inner
                .browser_keys
                .gate()
                .admit(address, session, now_ms());
            if let Err(refusal) = admitted {
                return Ok(Err(refusal));
            }
        }
        let nonce = match requested.and_then(crate::browser_keys::nonce_of) {
            Some(nonce) => nonce,
            None => {
                let mut nonce = [0u8; 16];
                getrandom::fill(&mut nonce).map_err(|e| {
                    ApiError::internal(format!("no randomness for a browser key: {e}"))
                })?;
                nonce
            }
        };
        let secret = self.store().await?.install_secret().await?;
        let key = crate::browser_keys::mint(secret.expose(), &nonce)?;
        let viewer = self.viewer_id(&key).await?;
        Ok(Ok((key, viewer)))
    }

    /// Open the demo school (generating it on first use) in place of the current one.
    pub async fn open_demo_school(&self, _args: NoArgs) -> Result<Overview, ApiError> {
        let store = open_demo(demo_path(&self.inner.options.data_dir)).await?;
        self.switch_school(store).await;
        self.overview(NoArgs {}).await
    }

    /// Create the instructor's own school in the data folder and open it.
    pub async fn create_school(&self, args: CreateSchool) -> Result<Overview, ApiError> {
        let name = args.name.trim();
        if name.is_empty() || name.chars().count() > MAX_SCHOOL_NAME {
            return Err(ApiError::invalid(format!(
                "a school's name has 1 to {MAX_SCHOOL_NAME} characters"
            )));
        }
        let path = school_path(&self.inner.options.data_dir);
        if path.exists() {
            return Err(ApiError::invalid(format!(
                "a school already exists at {}; open it instead of creating another",
                path.display()
            )));
        }
        let store = open_store(path, true).await?;
        store.set_school_name(name).await?;
        self.switch_school(store).await;
        self.overview(NoArgs {}).await
    }

    async fn switch_school(&self, store: Store) {
        // A class belongs to the school it started in.
        let live = self.inner.live.lock().await.take();
        if let Some(live) = live
            && let Err(err) = self.finish_class(&live).await
        {
            tracing::warn!(error = %err, "ending the live class of the previous school");
        }
        let old = self.inner.school.write().await.replace(store);
        *self.inner.answers.lock().await = Default::default();
        if let Ok(mut problem) = self.inner.school_problem.lock() {
            *problem = None;
        }
        if let Some(old) = old
            && let Err(err) = old.close().await
        {
            tracing::warn!(error = %err, "closing the previous school");
        }
        self.emit(StudioEvent::SchoolChanged);
        // The daily work is due at once for a school just opened: its feeds and its retention.
        let studio = self.clone();
        tokio::spawn(async move { studio.run_schedule(now_ms(), true).await });
    }

    /// Open the server to the local network or close it back to this computer.
    pub async fn set_network_access(
        &self,
        args: SetNetworkAccess,
    ) -> Result<NetworkAccess, ApiError> {
        let control = self
            .inner
            .network_control
            .lock()
            .ok()
            .and_then(|c| c.clone());
        let Some(control) = control else {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "this host has no server to open to the network",
            ));
        };
        let network = control.set_lan_open(args.lan_open).await?;
        // Media follows the page: students on the network need candidates they can reach.
        self.media()
            .set_udp_addrs(crate::broadcast::media_addrs(!network.lan_open));
        self.report_network(network.clone());
        Ok(network)
    }

    /// Copy the open school to `backups/` in the data folder while the class goes on.
    pub async fn backup_school(&self, _args: NoArgs) -> Result<BackupDone, ApiError> {
        let store = self.store().await?;
        let dir = self.inner.options.data_dir.join("backups");
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_error("creating", &dir, e))?;
        let stem = store
            .path()
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("school")
            .to_owned();
        let dest = dir.join(format!("{stem}-{}.sqlite", utc_stamp(now_ms())));
        self.backup_to(&dest).await
    }

    /// Copy the open school to `dest` (an online backup: writes may go on meanwhile).
    pub async fn backup_to(&self, dest: &Path) -> Result<BackupDone, ApiError> {
        let _one_at_a_time = self.inner.backup_running.lock().await;
        let store = self.store().await?;
        let events = self.inner.events.clone();
        let bytes = store
            .backup_to(dest, move |done, total| {
                let _ = events.send(StudioEvent::BackupProgress { done, total });
            })
            .await?;
        Ok(BackupDone {
            path: dest.display().to_string(),
            bytes,
        })
    }

    /// Finish pending writes and close the school.
    pub async fn close(&self) -> Result<(), ApiError> {
        // A class still live resumes at the next start, into a new file; this one is finalized.
        self.stop_class_recording().await;
        self.inner.broadcast.media().shutdown().await;
        if let Some(store) = self.inner.school.write().await.take() {
            store.close().await?;
        }
        Ok(())
    }
}

async fn open_school(options: &StudioOptions) -> Result<Option<Store>, ApiError> {
    Ok(match &options.school {
        SchoolSource::Path(path) => Some(open_store(path.clone(), true).await?),
        SchoolSource::Demo => Some(open_demo(demo_path(&options.data_dir)).await?),
        SchoolSource::DemoAt(path) => Some(open_demo(path.clone()).await?),
        SchoolSource::Default => {
            let own = school_path(&options.data_dir);
            let demo = demo_path(&options.data_dir);
            if own.exists() {
                Some(open_store(own, false).await?)
            } else if demo.exists() {
                Some(open_store(demo, false).await?)
            } else {
                None
            }
        }
    })
}

fn no_school() -> ApiError {
    ApiError::new(
        ErrorCode::NoSchool,
        "no school is open: open the demo school or create yours",
    )
}

fn school_path(data_dir: &Path) -> PathBuf {
    data_dir.join("school.sqlite")
}

fn demo_path(data_dir: &Path) -> PathBuf {
    data_dir.join("demo.sqlite")
}

async fn open_store(path: PathBuf, create: bool) -> Result<Store, ApiError> {
    tokio::task::spawn_blocking(move || {
        if create {
            Store::open(&path)
        } else {
            Store::open_existing(&path)
        }
    })
    .await
    .map_err(|e| ApiError::internal(format!("opening the school: {e}")))?
    .map_err(ApiError::from)
}

async fn open_demo(path: PathBuf) -> Result<Store, ApiError> {
    if !path.exists() {
        let target = path.clone();
        tokio::task::spawn_blocking(move || lectern_store::demo::generate(&target, DEMO_SEED))
            .await
            .map_err(|e| ApiError::internal(format!("generating the demo school: {e}")))??;
    }
    open_store(path, false).await
}

/// `20261128-012455` for a Unix time in ms (UTC), for file names.
fn utc_stamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_stamp_formats_known_instants() {
        assert_eq!(super::utc_stamp(0), "19700101-000000");
        // 2026-11-28T01:24:57Z
        assert_eq!(super::utc_stamp(1_795_829_097_000), "20261128-012457");
        // A leap day.
        assert_eq!(super::utc_stamp(1_709_164_800_000), "20240229-000000");
    }
}

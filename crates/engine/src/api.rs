//! The request and response types of the one API, the list of commands, and the dispatcher.
//!
//! Every command is declared once in the `commands!` list at the bottom of this file. From that
//! list come [`COMMANDS`] (the Tauri shell declares exactly these in its app manifest, checked by
//! a test), [`dispatch`] (the HTTP host), and the `Commands` map of the TypeScript bindings.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ApiError, Studio};

/// A command that takes no arguments still takes `{}`, so every host passes one `args` value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(type = "Record<string, never>")]
pub struct NoArgs {}

/// The open school, as the studio shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SchoolInfo {
    /// The school's display name.
    pub name: String,
    /// True for the generated demo school (the UI marks it).
    pub is_demo: bool,
    /// Where the school's SQLite file lives.
    pub db_path: String,
    /// When the school file was created (Unix ms).
    pub created_at_ms: i64,
    /// Its time zone (IANA name): dates exported without a time are its local dates.
    pub time_zone: String,
}

/// How much the school holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Courses in the catalog.
    pub courses: u64,
    /// Learners (pseudonymous).
    pub learners: u64,
    /// Purchases and enrollments.
    pub purchases: u64,
    /// Live sessions, past and present.
    pub sessions: u64,
    /// Events in the event log.
    pub events: u64,
}

/// Whether the instructor is on air.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(
    tag = "state",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum LiveStatus {
    /// Nobody is broadcasting.
    Offline,
    /// A live session is running.
    Live {
        /// The running session.
        session_id: i64,
        /// Its title.
        title: String,
        /// When it started (Unix ms).
        started_at_ms: i64,
    },
}

/// Who can reach the studio's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAccess {
    /// True when the server listens on all interfaces, so students and TAs on the local network can join.
    pub lan_open: bool,
    /// The socket address the server is bound to (`127.0.0.1:7878`), or empty before it starts.
    pub bind: String,
    /// Base URLs at which the server can be reached (loopback first).
    pub urls: Vec<String>,
    /// Where students reach the studio when it sits behind a reverse proxy (`--public-url`):
    /// links are built from it.
    #[serde(default)]
    pub public_url: Option<String>,
}

/// A past or present live session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// Session id.
    pub id: i64,
    /// Title of the class.
    pub title: String,
    /// The course being taught, if any.
    pub course_title: Option<String>,
    /// Start (Unix ms).
    pub started_at_ms: i64,
    /// End (Unix ms), or null while it runs.
    pub ended_at_ms: Option<i64>,
    /// Distinct viewers who joined.
    pub viewers: u64,
    /// Events logged.
    pub events: u64,
}

/// Everything the home screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// The open school, or null on first run.
    pub school: Option<SchoolInfo>,
    /// What it holds, or null on first run.
    pub counts: Option<Counts>,
    /// Why the school chosen at start could not be opened (locked by another Lectern, damaged,
    /// from a newer version...), so the studio can say it instead of failing to start.
    pub school_problem: Option<ApiError>,
    /// Why the live class's last write to the school file failed, while writes fail (null
    /// when they work).
    pub storage_problem: Option<ApiError>,
    /// What went wrong with the live class's recording (low disk, stopped, failed), while the
    /// class is on; null when nothing did.
    pub recording_notice: Option<crate::recording::RecordingNotice>,
    /// On air or not.
    pub live: LiveStatus,
    /// Who can connect.
    pub network: NetworkAccess,
    /// The latest sessions, newest first.
    pub recent_sessions: Vec<SessionSummary>,
    /// Lectern's version.
    pub app_version: String,
}

impl Overview {
    /// The overview as a TA's moderator link may see it: the school file's path (it names the
    /// instructor's account) and the addresses the studio listens on are the instructor's.
    pub fn for_moderator(mut self) -> Overview {
        if let Some(school) = &mut self.school {
            school.db_path = String::new();
        }
        self.network.bind = String::new();
        self.network.urls = vec![];
        self
    }
}

/// What a student's browser may know without credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PublicInfo {
    /// The school's name, or null when none is open.
    pub school_name: Option<String>,
    /// Whether a class is on air.
    pub live: bool,
    /// Days after which chat texts are deleted (`null`: kept until the instructor deletes
    /// them), so the viewer page can say so.
    pub chat_retention_days: Option<u32>,
    /// Where the video plays from when not from this studio: the external server's WHEP URL
    /// while the class is relayed there (`null`: this studio's `/whep`).
    pub whep_url: Option<String>,
    /// STUN/TURN server URLs the page gives its peer connection (the studio's `--ice-server`).
    pub ice_servers: Vec<String>,
}

/// Create a new, empty school (first run).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSchool {
    /// Its name, 1-120 characters.
    pub name: String,
}

/// Open the server to the local network, or back to this computer only.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetNetworkAccess {
    /// True to listen on all interfaces.
    pub lan_open: bool,
}

/// Start a live class: a new session with its room, which students join at `/watch`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartClass {
    /// The class's title, 1-200 characters.
    pub title: String,
    /// The catalog course being taught, if any.
    #[serde(default)]
    pub course_id: Option<String>,
    /// Who teaches it (1-200 characters), if the school says: classes are compared per
    /// instructor too.
    #[serde(default)]
    pub instructor: Option<String>,
    /// Whether to record it (on when absent). `lectern serve --no-record` turns recording off
    /// for every class.
    #[serde(default)]
    pub record: Option<bool>,
}

/// A finished backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BackupDone {
    /// Where the copy was written.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What the engine tells every open screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum StudioEvent {
    /// A different school was opened, or its contents changed: refetch.
    SchoolChanged,
    /// The server was rebound.
    NetworkChanged {
        /// The new state.
        network: NetworkAccess,
    },
    /// The broadcast's live numbers, once a second while anyone listens.
    BroadcastStats {
        /// As `broadcast_status` answers.
        status: Box<crate::BroadcastStatus>,
    },
    /// An import is under way.
    ImportProgress {
        /// Rows written.
        done: u64,
        /// Rows in all.
        total: u64,
    },
    /// A moderator link was revoked: its TA's connections close.
    ModeratorLinkRevoked {
        /// The link's id.
        id: i64,
    },
    /// A backup is under way.
    BackupProgress {
        /// Pages copied.
        done: u64,
        /// Pages in all.
        total: u64,
    },
    /// The live class's writes to the school file fail (a full disk, a failing drive): what
    /// students and staff do is refused, and nothing is acknowledged, until they work again.
    StorageProblem {
        /// Why, with its code (`disk_full`, `storage`).
        error: ApiError,
    },
    /// The school file takes writes again after a [`StudioEvent::StorageProblem`]: the class
    /// goes on.
    StorageRecovered,
    /// Something went wrong with the live class's recording (or it is cleared: `null`); the
    /// class goes on.
    RecordingNotice {
        /// What, in words; `null` when it no longer matters.
        notice: Option<crate::recording::RecordingNotice>,
    },
    /// A model is being trained in the background (a forest: once per tree).
    TrainingProgress {
        /// Which model.
        model: crate::models::BuyerModel,
        /// Steps done.
        done: u64,
        /// Steps in all.
        total: u64,
    },
}

macro_rules! commands {
    ($($name:ident($args:ty) -> $result:ty;)*) => {
        /// Every command of the API, by wire name.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        /// Run a command by name with JSON arguments: how the HTTP host reaches the API.
        pub async fn dispatch(
            studio: &Studio,
            command: &str,
            args: serde_json::Value,
        ) -> Result<serde_json::Value, ApiError> {
            match command {
                $(stringify!($name) => {
                    let args: $args = serde_json::from_value(args)
                        .map_err(|e| ApiError::invalid(format!("bad arguments for {}: {e}", stringify!($name))))?;
                    let result = studio.$name(args).await?;
                    serde_json::to_value(result)
                        .map_err(|e| ApiError::internal(format!("encoding the result of {}: {e}", stringify!($name))))
                })*
                other => Err(ApiError::new(crate::ErrorCode::NotFound, format!("no such command: {other}"))),
            }
        }

        fn commands_map(cfg: &ts_rs::Config) -> String {
            let mut out = String::from("export type Commands = {\n");
            $(out.push_str(&format!(
                "  {}: {{ args: {}, result: {} }},\n",
                stringify!($name),
                <$args as TS>::name(cfg),
                <$result as TS>::name(cfg),
            ));)*
            out.push_str("};\n");
            out
        }
    };
}

commands! {
    overview(NoArgs) -> Overview;
    open_demo_school(NoArgs) -> Overview;
    create_school(CreateSchool) -> Overview;
    set_network_access(SetNetworkAccess) -> NetworkAccess;
    backup_school(NoArgs) -> BackupDone;
    start_class(StartClass) -> LiveStatus;
    end_class(NoArgs) -> LiveStatus;
    broadcast_status(NoArgs) -> crate::BroadcastStatus;
    set_broadcast(crate::SetBroadcast) -> crate::BroadcastStatus;
    create_moderator_link(crate::moderators::CreateModeratorLink) -> crate::moderators::NewModeratorLink;
    moderator_links(NoArgs) -> Vec<crate::moderators::ModeratorLinkInfo>;
    revoke_moderator_link(crate::moderators::RevokeModeratorLink) -> Vec<crate::moderators::ModeratorLinkInfo>;
    offer_results(crate::experiments::OfferResultsArgs) -> crate::experiments::OfferResults;
    experiments(NoArgs) -> Vec<crate::experiments::ExperimentSummary>;
    plan_experiment(crate::experiments::PlanArgs) -> crate::experiments::ExperimentPlan;
    record_sale(crate::data::RecordSale) -> crate::data::ImportDone;
    catalog(NoArgs) -> Vec<crate::catalog::Course>;
    preview_import(crate::data::ImportFile) -> crate::data::ImportCheck;
    import_data(crate::data::ImportFile) -> crate::data::ImportDone;
    sales_feed(crate::data::FeedRef) -> crate::data::SalesFeed;
    set_sales_feed(crate::data::SetSalesFeed) -> crate::data::SalesFeed;
    sync_sales_feed(crate::data::FeedRef) -> crate::data::ImportDone;
    live_engagement(NoArgs) -> crate::engagement::Engagement;
    session_engagement(crate::engagement::SessionRef) -> crate::engagement::Engagement;
    class_report(crate::engagement::SessionRef) -> crate::engagement::ReportFiles;
    report_images(crate::engagement::SessionRef) -> crate::engagement::ReportImages;
    course_trend(crate::engagement::SessionRef) -> crate::engagement::CourseTrendView;
    viewer_data(crate::privacy::ViewerRef) -> crate::privacy::ViewerData;
    erase_viewer(crate::privacy::ViewerRef) -> crate::privacy::ViewerErased;
    chat_retention(NoArgs) -> crate::privacy::ChatRetention;
    set_chat_retention(crate::privacy::ChatRetention) -> crate::privacy::ChatRetentionApplied;
    recommend_next(crate::models::AudienceRef) -> Vec<crate::models::NextCourse>;
    likely_buyers(crate::models::BuyersRequest) -> crate::models::LikelyBuyers;
    recommend_for_course(crate::models::CourseRef) -> Vec<crate::models::FollowUp>;
    set_relay(crate::broadcast::SetRelay) -> crate::BroadcastStatus;
    rotate_publish_key(NoArgs) -> crate::BroadcastStatus;
    suggest_answer(crate::answers::SuggestAnswer) -> crate::answers::AnswerSuggestions;
    import_faq(crate::answers::ImportFaq) -> crate::answers::FaqImported;
    stop_window_source(NoArgs) -> crate::BroadcastStatus;
    learner_links(crate::identity::LearnerLinksArgs) -> crate::identity::LearnerLinks;
    set_time_zone(crate::experiments::SetTimeZone) -> String;
    session_recording(crate::engagement::SessionRef) -> crate::replay::SessionRecording;
    delete_recording(crate::engagement::SessionRef) -> crate::replay::SessionRecording;
    recording_retention(NoArgs) -> crate::replay::RecordingRetention;
    set_recording_retention(crate::replay::RecordingRetention) -> crate::replay::RecordingRetentionApplied;
    answer_settings(NoArgs) -> crate::answers::AnswerSettingsInfo;
    set_answer_settings(crate::answers::AnswerSettings) -> crate::answers::AnswerSettingsInfo;
    audience_segments(NoArgs) -> crate::audience::AudienceSegments;
    audience_repurchase(NoArgs) -> crate::audience::AudienceRepurchase;
    experiment_segments(crate::experiments::OfferResultsArgs) -> crate::experiment_segments::ExperimentSegments;
    offer_audience(crate::audience::OfferAudienceArgs) -> crate::audience::OfferAudience;
}

/// The desktop window's own transports, which the Tauri shell declares beside [`COMMANDS`]: the
/// live room (`crate::room_session`; browsers use `/room`) and the window's capture as the
/// broadcast's source (`crate::capture`). They take a channel or a raw binary body, which no
/// HTTP call carries, so they are not in `dispatch`.
pub const WINDOW_COMMANDS: &[&str] = &[
    "room_join",
    "room_send",
    "room_leave",
    "start_window_source",
    "window_frame",
];

fn window_commands_map(cfg: &ts_rs::Config) -> String {
    use crate::room_session::{RoomConnected, RoomJoin, RoomLeave, RoomSend};
    format!(
        "export type WindowCommands = {{\n  room_join: {{ args: {}, result: {} }},\n  room_send: {{ args: {}, result: null }},\n  room_leave: {{ args: {}, result: null }},\n  start_window_source: {{ args: {}, result: {} }},\n  window_frame: {{ args: Uint8Array, result: null }},\n}};\n",
        RoomJoin::name(cfg),
        RoomConnected::name(cfg),
        RoomSend::name(cfg),
        RoomLeave::name(cfg),
        crate::capture::StartWindowSource::name(cfg),
        crate::BroadcastStatus::name(cfg),
    )
}

/// The TypeScript bindings of the API, as committed in `ui/src/lib/bindings/api.ts`.
pub fn typescript_bindings() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        crate::ErrorCode::decl(&cfg),
        ApiError::decl(&cfg),
        SchoolInfo::decl(&cfg),
        Counts::decl(&cfg),
        LiveStatus::decl(&cfg),
        NetworkAccess::decl(&cfg),
        SessionSummary::decl(&cfg),
        Overview::decl(&cfg),
        PublicInfo::decl(&cfg),
        NoArgs::decl(&cfg),
        CreateSchool::decl(&cfg),
        SetNetworkAccess::decl(&cfg),
        BackupDone::decl(&cfg),
        StartClass::decl(&cfg),
        StudioEvent::decl(&cfg),
        crate::BroadcastStatus::decl(&cfg),
        crate::SetBroadcast::decl(&cfg),
        crate::ViewerLive::decl(&cfg),
        crate::broadcast::RelayInfo::decl(&cfg),
        crate::recording::RecordingInfo::decl(&cfg),
        crate::recording::RecordingNoticeKind::decl(&cfg),
        crate::recording::RecordingNotice::decl(&cfg),
        crate::broadcast::SetRelay::decl(&cfg),
        crate::answers::SuggestAnswer::decl(&cfg),
        crate::answers::AnswerSuggestion::decl(&cfg),
        crate::answers::AnswerSuggestions::decl(&cfg),
        crate::answers::ImportFaq::decl(&cfg),
        crate::answers::FaqImported::decl(&cfg),
        crate::answers::AnswerSettings::decl(&cfg),
        crate::answers::AnswerSettingsInfo::decl(&cfg),
        crate::moderators::CreateModeratorLink::decl(&cfg),
        crate::moderators::ModeratorLinkInfo::decl(&cfg),
        crate::moderators::NewModeratorLink::decl(&cfg),
        crate::moderators::RevokeModeratorLink::decl(&cfg),
        crate::experiments::OfferResultsArgs::decl(&cfg),
        crate::experiments::VariantResult::decl(&cfg),
        crate::experiments::OfferResults::decl(&cfg),
        crate::experiments::RevenueResult::decl(&cfg),
        crate::experiments::HistoryPoint::decl(&cfg),
        crate::experiments::ExperimentSummary::decl(&cfg),
        crate::experiments::PlanArgs::decl(&cfg),
        crate::experiments::ExperimentPlan::decl(&cfg),
        crate::data::RecordSale::decl(&cfg),
        crate::catalog::Course::decl(&cfg),
        crate::data::DataKind::decl(&cfg),
        crate::data::ImportFile::decl(&cfg),
        crate::data::ImportRowError::decl(&cfg),
        crate::data::ImportCheck::decl(&cfg),
        crate::data::ImportDone::decl(&cfg),
        crate::data::FeedRef::decl(&cfg),
        crate::data::SetSalesFeed::decl(&cfg),
        crate::data::SalesFeed::decl(&cfg),
        crate::engagement::SessionRef::decl(&cfg),
        crate::engagement::Engagement::decl(&cfg),
        crate::engagement::ReportFiles::decl(&cfg),
        crate::engagement::ReportImage::decl(&cfg),
        crate::engagement::ReportImages::decl(&cfg),
        crate::engagement::CourseTrendView::decl(&cfg),
        crate::privacy::ViewerRef::decl(&cfg),
        crate::privacy::ViewerData::decl(&cfg),
        crate::privacy::ViewerErased::decl(&cfg),
        crate::privacy::ChatRetention::decl(&cfg),
        crate::privacy::ChatRetentionApplied::decl(&cfg),
        crate::models::AudienceRef::decl(&cfg),
        crate::models::BuyerModel::decl(&cfg),
        crate::models::BuyersRequest::decl(&cfg),
        crate::models::NextCourse::decl(&cfg),
        crate::models::LikelyBuyer::decl(&cfg),
        crate::models::ModelReport::decl(&cfg),
        crate::models::LikelyBuyers::decl(&cfg),
        crate::models::CourseRef::decl(&cfg),
        crate::models::FollowUp::decl(&cfg),
        crate::room_session::RoomJoin::decl(&cfg),
        crate::room_session::RoomConnected::decl(&cfg),
        crate::room_session::RoomSend::decl(&cfg),
        crate::room_session::RoomLeave::decl(&cfg),
        crate::capture::StartWindowSource::decl(&cfg),
        crate::identity::LearnerLinksArgs::decl(&cfg),
        crate::identity::LearnerLinks::decl(&cfg),
        crate::experiments::SetTimeZone::decl(&cfg),
        crate::replay::RecordingFile::decl(&cfg),
        crate::replay::ReplayQuestion::decl(&cfg),
        crate::replay::ReplayNumbers::decl(&cfg),
        crate::replay::ReplayOfferNumbers::decl(&cfg),
        crate::replay::SessionRecording::decl(&cfg),
        crate::replay::RecordingRetention::decl(&cfg),
        crate::replay::RecordingRetentionApplied::decl(&cfg),
        crate::replay::ReplayItem::decl(&cfg),
        crate::replay::ReplayVideo::decl(&cfg),
        crate::replay::Replay::decl(&cfg),
        crate::replay::ReplayActionKind::decl(&cfg),
        crate::replay::ReplayAction::decl(&cfg),
        crate::replay::ReplayActionDone::decl(&cfg),
        crate::audience::RateView::decl(&cfg),
        crate::audience::CourseShareView::decl(&cfg),
        crate::audience::SegmentNextCourse::decl(&cfg),
        crate::audience::SegmentTraits::decl(&cfg),
        crate::audience::Interest::decl(&cfg),
        crate::audience::SegmentSummary::decl(&cfg),
        crate::audience::AudienceSegments::decl(&cfg),
        crate::audience::CourseRepurchaseView::decl(&cfg),
        crate::audience::CohortRow::decl(&cfg),
        crate::audience::AttendanceView::decl(&cfg),
        crate::audience::AudienceRepurchase::decl(&cfg),
        crate::experiment_segments::SegmentCell::decl(&cfg),
        crate::experiment_segments::SegmentRow::decl(&cfg),
        crate::experiment_segments::ExperimentSegments::decl(&cfg),
        crate::audience::OfferAudienceArgs::decl(&cfg),
        crate::audience::OfferAudience::decl(&cfg),
    ];
    let mut out = String::from(
        "// This file is generated by `cargo xtask codegen` from the Rust API types. Do not edit.\n\
         import type { Hello, OfferCard, OfferId, Reaction, Recorded } from './room';\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push('\n');
    }
    out.push_str(&commands_map(&cfg));
    out.push_str(&window_commands_map(&cfg));
    out
}

//! The IPC commands: one-line adapters to the `Studio` API, nothing else.

use lectern_engine::api::{
    BackupDone, CreateSchool, LiveStatus, NetworkAccess, NoArgs, Overview, SetNetworkAccess,
    StartClass,
};
use lectern_engine::audience::{
    AudienceRepurchase, AudienceSegments, OfferAudience, OfferAudienceArgs,
};
use lectern_engine::broadcast::SetRelay;
use lectern_engine::catalog::Course;
use lectern_engine::data::{
    FeedRef, ImportCheck, ImportDone, ImportFile, RecordSale, SalesFeed, SetSalesFeed,
};
use lectern_engine::engagement::{CourseTrendView, Engagement, ReportFiles, SessionRef};
use lectern_engine::experiment_segments::ExperimentSegments;
use lectern_engine::experiments::{
    ExperimentPlan, ExperimentSummary, OfferResults, OfferResultsArgs, PlanArgs,
};
use lectern_engine::models::{
    AudienceRef, BuyersRequest, CourseRef, FollowUp, LikelyBuyers, NextCourse,
};
use lectern_engine::moderators::{
    CreateModeratorLink, ModeratorLinkInfo, NewModeratorLink, RevokeModeratorLink,
};
use lectern_engine::privacy::{
    ChatRetention, ChatRetentionApplied, ViewerData, ViewerErased, ViewerRef,
};
use lectern_engine::replay::{RecordingRetention, RecordingRetentionApplied, SessionRecording};
use lectern_engine::{ApiError, BroadcastStatus, SetBroadcast, Studio};
use tauri::State;

#[tauri::command]
pub async fn overview(studio: State<'_, Studio>, args: NoArgs) -> Result<Overview, ApiError> {
    studio.overview(args).await
}

#[tauri::command]
pub async fn open_demo_school(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<Overview, ApiError> {
    studio.open_demo_school(args).await
}

#[tauri::command]
pub async fn create_school(
    studio: State<'_, Studio>,
    args: CreateSchool,
) -> Result<Overview, ApiError> {
    studio.create_school(args).await
}

#[tauri::command]
pub async fn set_network_access(
    studio: State<'_, Studio>,
    args: SetNetworkAccess,
) -> Result<NetworkAccess, ApiError> {
    studio.set_network_access(args).await
}

#[tauri::command]
pub async fn backup_school(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<BackupDone, ApiError> {
    studio.backup_school(args).await
}

#[tauri::command]
pub async fn start_class(
    studio: State<'_, Studio>,
    args: StartClass,
) -> Result<LiveStatus, ApiError> {
    studio.start_class(args).await
}

#[tauri::command]
pub async fn end_class(studio: State<'_, Studio>, args: NoArgs) -> Result<LiveStatus, ApiError> {
    studio.end_class(args).await
}

#[tauri::command]
pub async fn broadcast_status(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<BroadcastStatus, ApiError> {
    studio.broadcast_status(args).await
}

#[tauri::command]
pub async fn set_broadcast(
    studio: State<'_, Studio>,
    args: SetBroadcast,
) -> Result<BroadcastStatus, ApiError> {
    studio.set_broadcast(args).await
}

#[tauri::command]
pub async fn create_moderator_link(
    studio: State<'_, Studio>,
    args: CreateModeratorLink,
) -> Result<NewModeratorLink, ApiError> {
    studio.create_moderator_link(args).await
}

#[tauri::command]
pub async fn moderator_links(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<Vec<ModeratorLinkInfo>, ApiError> {
    studio.moderator_links(args).await
}

#[tauri::command]
pub async fn revoke_moderator_link(
    studio: State<'_, Studio>,
    args: RevokeModeratorLink,
) -> Result<Vec<ModeratorLinkInfo>, ApiError> {
    studio.revoke_moderator_link(args).await
}

#[tauri::command]
pub async fn offer_results(
    studio: State<'_, Studio>,
    args: OfferResultsArgs,
) -> Result<OfferResults, ApiError> {
    studio.offer_results(args).await
}

#[tauri::command]
pub async fn learner_links(
    studio: State<'_, Studio>,
    args: lectern_engine::identity::LearnerLinksArgs,
) -> Result<lectern_engine::identity::LearnerLinks, ApiError> {
    studio.learner_links(args).await
}

#[tauri::command]
pub async fn set_time_zone(
    studio: State<'_, Studio>,
    args: lectern_engine::experiments::SetTimeZone,
) -> Result<String, ApiError> {
    studio.set_time_zone(args).await
}

#[tauri::command]
pub async fn session_recording(
    studio: State<'_, Studio>,
    args: SessionRef,
) -> Result<SessionRecording, ApiError> {
    studio.session_recording(args).await
}

#[tauri::command]
pub async fn delete_recording(
    studio: State<'_, Studio>,
    args: SessionRef,
) -> Result<SessionRecording, ApiError> {
    studio.delete_recording(args).await
}

#[tauri::command]
pub async fn recording_retention(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<RecordingRetention, ApiError> {
    studio.recording_retention(args).await
}

#[tauri::command]
pub async fn set_recording_retention(
    studio: State<'_, Studio>,
    args: RecordingRetention,
) -> Result<RecordingRetentionApplied, ApiError> {
    studio.set_recording_retention(args).await
}

#[tauri::command]
pub async fn audience_segments(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<AudienceSegments, ApiError> {
    studio.audience_segments(args).await
}

#[tauri::command]
pub async fn audience_repurchase(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<AudienceRepurchase, ApiError> {
    studio.audience_repurchase(args).await
}

#[tauri::command]
pub async fn experiment_segments(
    studio: State<'_, Studio>,
    args: OfferResultsArgs,
) -> Result<ExperimentSegments, ApiError> {
    studio.experiment_segments(args).await
}

#[tauri::command]
pub async fn offer_audience(
    studio: State<'_, Studio>,
    args: OfferAudienceArgs,
) -> Result<OfferAudience, ApiError> {
    studio.offer_audience(args).await
}

#[tauri::command]
pub async fn experiments(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<Vec<ExperimentSummary>, ApiError> {
    studio.experiments(args).await
}

#[tauri::command]
pub async fn plan_experiment(
    studio: State<'_, Studio>,
    args: PlanArgs,
) -> Result<ExperimentPlan, ApiError> {
    studio.plan_experiment(args).await
}

#[tauri::command]
pub async fn record_sale(
    studio: State<'_, Studio>,
    args: RecordSale,
) -> Result<ImportDone, ApiError> {
    studio.record_sale(args).await
}

#[tauri::command]
pub async fn catalog(studio: State<'_, Studio>, args: NoArgs) -> Result<Vec<Course>, ApiError> {
    studio.catalog(args).await
}

#[tauri::command]
pub async fn preview_import(
    studio: State<'_, Studio>,
    args: ImportFile,
) -> Result<ImportCheck, ApiError> {
    studio.preview_import(args).await
}

#[tauri::command]
pub async fn import_data(
    studio: State<'_, Studio>,
    args: ImportFile,
) -> Result<ImportDone, ApiError> {
    studio.import_data(args).await
}

#[tauri::command]
pub async fn sales_feed(studio: State<'_, Studio>, args: FeedRef) -> Result<SalesFeed, ApiError> {
    studio.sales_feed(args).await
}

#[tauri::command]
pub async fn set_sales_feed(
    studio: State<'_, Studio>,
    args: SetSalesFeed,
) -> Result<SalesFeed, ApiError> {
    studio.set_sales_feed(args).await
}

#[tauri::command]
pub async fn sync_sales_feed(
    studio: State<'_, Studio>,
    args: FeedRef,
) -> Result<ImportDone, ApiError> {
    studio.sync_sales_feed(args).await
}

#[tauri::command]
pub async fn live_engagement(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<Engagement, ApiError> {
    studio.live_engagement(args).await
}

#[tauri::command]
pub async fn session_engagement(
    studio: State<'_, Studio>,
    args: SessionRef,
) -> Result<Engagement, ApiError> {
    studio.session_engagement(args).await
}

#[tauri::command]
pub async fn class_report(
    studio: State<'_, Studio>,
    args: SessionRef,
) -> Result<ReportFiles, ApiError> {
    studio.class_report(args).await
}

#[tauri::command]
pub async fn course_trend(
    studio: State<'_, Studio>,
    args: SessionRef,
) -> Result<CourseTrendView, ApiError> {
    studio.course_trend(args).await
}

#[tauri::command]
pub async fn viewer_data(
    studio: State<'_, Studio>,
    args: ViewerRef,
) -> Result<ViewerData, ApiError> {
    studio.viewer_data(args).await
}

#[tauri::command]
pub async fn erase_viewer(
    studio: State<'_, Studio>,
    args: ViewerRef,
) -> Result<ViewerErased, ApiError> {
    studio.erase_viewer(args).await
}

#[tauri::command]
pub async fn chat_retention(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<ChatRetention, ApiError> {
    studio.chat_retention(args).await
}

#[tauri::command]
pub async fn set_chat_retention(
    studio: State<'_, Studio>,
    args: ChatRetention,
) -> Result<ChatRetentionApplied, ApiError> {
    studio.set_chat_retention(args).await
}

#[tauri::command]
pub async fn recommend_next(
    studio: State<'_, Studio>,
    args: AudienceRef,
) -> Result<Vec<NextCourse>, ApiError> {
    studio.recommend_next(args).await
}

#[tauri::command]
pub async fn likely_buyers(
    studio: State<'_, Studio>,
    args: BuyersRequest,
) -> Result<LikelyBuyers, ApiError> {
    studio.likely_buyers(args).await
}

#[tauri::command]
pub async fn recommend_for_course(
    studio: State<'_, Studio>,
    args: CourseRef,
) -> Result<Vec<FollowUp>, ApiError> {
    studio.recommend_for_course(args).await
}

#[tauri::command]
pub async fn set_relay(
    studio: State<'_, Studio>,
    args: SetRelay,
) -> Result<BroadcastStatus, ApiError> {
    studio.set_relay(args).await
}

#[tauri::command]
pub async fn rotate_publish_key(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<BroadcastStatus, ApiError> {
    studio.rotate_publish_key(args).await
}

#[tauri::command]
pub async fn suggest_answer(
    studio: State<'_, Studio>,
    args: lectern_engine::answers::SuggestAnswer,
) -> Result<lectern_engine::answers::AnswerSuggestions, ApiError> {
    studio.suggest_answer(args).await
}

#[tauri::command]
pub async fn import_faq(
    studio: State<'_, Studio>,
    args: lectern_engine::answers::ImportFaq,
) -> Result<lectern_engine::answers::FaqImported, ApiError> {
    studio.import_faq(args).await
}

#[tauri::command]
pub async fn answer_settings(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<lectern_engine::answers::AnswerSettingsInfo, ApiError> {
    studio.answer_settings(args).await
}

#[tauri::command]
pub async fn set_answer_settings(
    studio: State<'_, Studio>,
    args: lectern_engine::answers::AnswerSettings,
) -> Result<lectern_engine::answers::AnswerSettingsInfo, ApiError> {
    studio.set_answer_settings(args).await
}

#[tauri::command]
pub async fn report_images(
    studio: State<'_, Studio>,
    args: lectern_engine::engagement::SessionRef,
) -> Result<lectern_engine::engagement::ReportImages, ApiError> {
    studio.report_images(args).await
}

#[tauri::command]
pub async fn stop_window_source(
    studio: State<'_, Studio>,
    args: NoArgs,
) -> Result<BroadcastStatus, ApiError> {
    studio.stop_window_source(args).await
}

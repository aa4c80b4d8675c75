//! The live aggregates: fed one event at a time, O(1) amortised per event.

use std::collections::HashMap;

use super::event::{Activity, EngagementEvent};
use super::snapshot::{
    self, Alert, AlertInput, DROPPING_WINDOW_MINUTES, EngagementSnapshot, MAX_SESSION_MS,
    MinuteTotals, PollTotals, Totals, ViewerTotals, minute_of,
};

/// One participant as the live state keeps them.
#[derive(Debug, Clone)]
struct LiveViewer {
    /// Counts, with watch time and polls asked up to their last join or leave.
    totals: ViewerTotals,
    /// Present since.
    open_since: Option<i64>,
    /// The last minute they were counted in (`viewers` of a minute is distinct).
    last_minute: Option<usize>,
    /// Polls 1..=this are settled for them: counted as asked, or opened while they were away.
    polls_settled: usize,
}

/// A class's engagement, kept up to date event by event.
///
/// Each [`LiveEngagement::push`] costs O(1) amortised (a hash lookup, a few counters, and one
/// new minute row whenever time crosses a minute; closing the class settles every viewer once).
/// [`LiveEngagement::snapshot`] costs O(viewers + minutes + polls) and never rereads events;
/// [`LiveEngagement::alerts`] costs O(1).
#[derive(Debug, Clone)]
pub struct LiveEngagement {
    start_ms: i64,
    /// The time of the last counted event: times never go back, and never before the start.
    clock_ms: i64,
    ended: bool,
    ignored: u64,
    index: HashMap<String, usize>,
    viewers: Vec<LiveViewer>,
    minutes: Vec<MinuteTotals>,
    present: u32,
    peak_present: u32,
    polls: Vec<PollTotals>,
    poll_index: HashMap<u64, usize>,
    open_poll: Option<usize>,
    last_chat_ms: Option<i64>,
    offers_pushed: u32,
    reactions_attributed: bool,
    /// One presence from the chat connection and the video (see `presence.rs`).
    presence: super::presence::PresenceMerge,
}

impl LiveEngagement {
    /// An empty class that started at `session_start_ms`.
    pub fn new(session_start_ms: i64) -> LiveEngagement {
        LiveEngagement {
            start_ms: session_start_ms,
            clock_ms: session_start_ms,
            ended: false,
            ignored: 0,
            index: HashMap::new(),
            viewers: Vec::new(),
            minutes: Vec::new(),
            present: 0,
            peak_present: 0,
            polls: Vec::new(),
            poll_index: HashMap::new(),
            open_poll: None,
            last_chat_ms: None,
            offers_pushed: 0,
            reactions_attributed: false,
            presence: super::presence::PresenceMerge::default(),
        }
    }

    /// The class's start.
    pub fn session_start_ms(&self) -> i64 {
        self.start_ms
    }

    /// Viewers (not staff) present now.
    pub fn present(&self) -> u32 {
        self.present
    }

    /// Whether the class has ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Counts one event, in log order.
    pub fn push(&mut self, event: &EngagementEvent) {
        if let Some(merged) = self.presence.map(event) {
            self.push_merged(&merged);
        }
    }

    /// Counts one event whose presence is already merged.
    fn push_merged(&mut self, event: &EngagementEvent) {
        let t = event.at_ms.max(self.start_ms).max(self.clock_ms);
        if self.ended || t.saturating_sub(self.start_ms) > MAX_SESSION_MS {
            self.ignored += 1;
            return;
        }
        self.clock_ms = t;
        let m = minute_of(self.start_ms, t);
        while self.minutes.len() <= m {
            self.minutes.push(MinuteTotals {
                viewers: self.present,
                present_at_end: self.present,
                ..MinuteTotals::default()
            });
        }
        match &event.activity {
            Activity::Joined {
                viewer,
                name,
                staff,
            } => {
                let v = self.viewer(viewer, *staff);
                let opened = self.polls.len();
                let open_poll = self.open_poll;
                let lv = &mut self.viewers[v];
                if !name.is_empty() {
                    lv.totals.name.clone_from(name);
                }
                if lv.open_since.is_some() {
                    return;
                }
                lv.open_since = Some(t);
                lv.totals.present = true;
                lv.totals.joins += 1;
                lv.totals.first_join_ms.get_or_insert(t);
                if lv.totals.staff {
                    return;
                }
                if open_poll.is_some_and(|p| p + 1 > lv.polls_settled) {
                    lv.totals.polls_asked += 1;
                }
                lv.polls_settled = opened;
                let counted = lv.last_minute == Some(m);
                lv.last_minute = Some(m);
                self.present += 1;
                self.peak_present = self.peak_present.max(self.present);
                let row = &mut self.minutes[m];
                row.joins += 1;
                if !counted {
                    row.viewers += 1;
                }
                row.present_at_end = self.present;
            }
            Activity::Left { viewer } => {
                let v = self.viewer(viewer, false);
                let opened = self.polls.len();
                let lv = &mut self.viewers[v];
                let Some(since) = lv.open_since.take() else {
                    return;
                };
                lv.totals.present = false;
                lv.totals.watch_ms += t - since;
                if lv.totals.staff {
                    return;
                }
                lv.totals.polls_asked += u32::try_from(opened - lv.polls_settled).unwrap_or(0);
                lv.polls_settled = opened;
                lv.last_minute = Some(m);
                self.present -= 1;
                let row = &mut self.minutes[m];
                row.leaves += 1;
                row.present_at_end = self.present;
            }
            Activity::Chat { viewer, staff } => {
                if let Some(v) = self.audience(viewer, *staff) {
                    v.chat += 1;
                    self.minutes[m].chat += 1;
                    self.last_chat_ms = Some(t);
                }
            }
            Activity::PollOpened { poll, question } => {
                if self.poll_index.contains_key(poll) {
                    return;
                }
                if let Some(open) = self.open_poll.take() {
                    self.polls[open].closed_at_ms = Some(t);
                }
                self.poll_index.insert(*poll, self.polls.len());
                self.open_poll = Some(self.polls.len());
                self.polls.push(PollTotals {
                    poll: *poll,
                    question: question.clone(),
                    opened_at_ms: t,
                    closed_at_ms: None,
                    ballots: 0,
                    present_at_open: self.present,
                });
            }
            Activity::PollClosed { poll } => {
                if let Some(open) = self.open_poll
                    && self.polls[open].poll == *poll
                {
                    self.polls[open].closed_at_ms = Some(t);
                    self.open_poll = None;
                }
            }
            Activity::Ballot { poll, viewer } => self.ballot(*poll, viewer, m),
            Activity::AnonymousVoters { poll, viewers } => {
                for viewer in viewers {
                    self.ballot(*poll, viewer, m);
                }
            }
            Activity::QuestionAsked { viewer } => {
                if let Some(v) = self.audience(viewer, false) {
                    v.questions += 1;
                    self.minutes[m].questions += 1;
                }
            }
            Activity::QuestionUpvoted { viewer } => {
                if let Some(v) = self.audience(viewer, false) {
                    v.upvotes += 1;
                    self.minutes[m].upvotes += 1;
                }
            }
            Activity::Reactions { viewer, count } => match viewer {
                Some(viewer) => {
                    if let Some(v) = self.audience(viewer, false) {
                        v.reactions = v.reactions.saturating_add(*count);
                        let row = &mut self.minutes[m];
                        row.reactions = row.reactions.saturating_add(*count);
                        self.reactions_attributed = true;
                    }
                }
                None => {
                    let row = &mut self.minutes[m];
                    row.reactions = row.reactions.saturating_add(*count);
                }
            },
            Activity::ReactionsBy { viewers } => {
                for (viewer, count) in viewers {
                    if let Some(v) = self.audience(viewer, false) {
                        v.reactions = v.reactions.saturating_add(*count);
                        self.reactions_attributed = true;
                    }
                }
            }
            Activity::OfferPushed { .. } => self.offers_pushed += 1,
            Activity::OfferExposed { viewer, .. } => {
                if let Some(v) = self.audience(viewer, false) {
                    v.exposures += 1;
                    self.minutes[m].exposures += 1;
                }
            }
            Activity::OfferClicked { viewer, .. } => {
                if let Some(v) = self.audience(viewer, false) {
                    v.clicks += 1;
                    self.minutes[m].clicks += 1;
                }
            }
            Activity::OfferDismissed { viewer, .. } => {
                if let Some(v) = self.audience(viewer, false) {
                    v.dismissals += 1;
                }
            }
            // Turned into `Joined`/`Left` by the presence merge before this point.
            Activity::MediaPresence { .. } | Activity::TabVisibility { .. } => {}
            Activity::Ended => {
                // Once per class: settle everyone still present (the minutes keep who was
                // there; the end is not a drop-off).
                let opened = self.polls.len();
                for lv in &mut self.viewers {
                    if let Some(since) = lv.open_since.take() {
                        lv.totals.present = false;
                        lv.totals.watch_ms += t - since;
                        if !lv.totals.staff {
                            lv.totals.polls_asked +=
                                u32::try_from(opened - lv.polls_settled).unwrap_or(0);
                            lv.polls_settled = opened;
                        }
                    }
                }
                if let Some(open) = self.open_poll.take() {
                    self.polls[open].closed_at_ms = Some(t);
                }
                self.present = 0;
                self.ended = true;
            }
        }
    }

    /// The index of `id`, added on first sight (whose role then holds for the class).
    fn viewer(&mut self, id: &str, staff: bool) -> usize {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.viewers.len();
        self.index.insert(id.to_owned(), i);
        self.viewers.push(LiveViewer {
            totals: ViewerTotals {
                id: id.to_owned(),
                staff,
                ..ViewerTotals::default()
            },
            open_since: None,
            last_minute: None,
            polls_settled: 0,
        });
        i
    }

    /// A ballot of `viewer` in `poll`, counted in minute `m`.
    fn ballot(&mut self, poll: u64, viewer: &str, m: usize) {
        if let Some(v) = self.audience(viewer, false) {
            v.ballots += 1;
            self.minutes[m].ballots += 1;
            if let Some(&p) = self.poll_index.get(&poll) {
                self.polls[p].ballots += 1;
            }
        }
    }

    /// The counts of `id` unless they are staff.
    fn audience(&mut self, id: &str, staff: bool) -> Option<&mut ViewerTotals> {
        let i = self.viewer(id, staff);
        let v = &mut self.viewers[i].totals;
        (!v.staff).then_some(v)
    }

    /// The moment a snapshot at `now_ms` describes: not before the last event, not after the
    /// end or the 48-hour limit.
    fn moment(&self, now_ms: i64) -> i64 {
        if self.ended {
            self.clock_ms
        } else {
            now_ms
                .max(self.clock_ms)
                .min(self.start_ms.saturating_add(MAX_SESSION_MS))
        }
    }

    /// Present at the end of minute `m` (minutes after the last event have had no change).
    fn present_at_end(&self, m: usize) -> u32 {
        self.minutes
            .get(m)
            .map_or(self.present, |row| row.present_at_end)
    }

    /// Alerts at `now_ms`, in O(1).
    pub fn alerts(&self, now_ms: i64) -> Vec<Alert> {
        let now = self.moment(now_ms);
        let now_minute = minute_of(self.start_ms, now);
        snapshot::alerts(&AlertInput {
            now_ms: now,
            start_ms: self.start_ms,
            ended: self.ended,
            present: self.present,
            last_chat_ms: self.last_chat_ms,
            present_window_ago: now_minute
                .checked_sub(DROPPING_WINDOW_MINUTES as usize)
                .map(|m| self.present_at_end(m)),
            open_poll: self
                .open_poll
                .and_then(|i| self.polls.get(i))
                .map(|p| (p.poll, p.opened_at_ms, p.ballots)),
        })
    }

    /// Engagement at `now_ms` (open presence counted up to it). Does not change the state.
    pub fn snapshot(&self, now_ms: i64) -> EngagementSnapshot {
        let now = self.moment(now_ms);
        let opened = self.polls.len();
        let viewers = self
            .viewers
            .iter()
            .map(|lv| {
                let mut v = lv.totals.clone();
                if let Some(since) = lv.open_since {
                    v.watch_ms += now - since;
                    if !v.staff {
                        v.polls_asked += u32::try_from(opened - lv.polls_settled).unwrap_or(0);
                    }
                }
                v
            })
            .collect();
        let mut minutes = self.minutes.clone();
        let now_minute = minute_of(self.start_ms, now);
        while minutes.len() <= now_minute {
            minutes.push(MinuteTotals {
                viewers: self.present,
                present_at_end: self.present,
                ..MinuteTotals::default()
            });
        }
        snapshot::build(Totals {
            start_ms: self.start_ms,
            now_ms: now,
            ended: self.ended,
            ignored: self.ignored,
            viewers,
            minutes: &minutes,
            polls: &self.polls,
            open_poll: self.open_poll,
            present: self.present,
            peak_present: self.peak_present,
            last_chat_ms: self.last_chat_ms,
            offers_pushed: self.offers_pushed,
            reactions_attributed: self.reactions_attributed,
        })
    }
}

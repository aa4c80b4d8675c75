//! The recomputation from the whole log: a second, batch way to the same numbers as the live
//! state (presence as intervals, polls asked as interval overlaps, peaks by a sweep), so that the
//! two check each other.

use std::borrow::Cow;
use std::collections::HashMap;

use super::event::{Activity, EngagementEvent};
use super::snapshot::{
    self, EngagementSnapshot, MAX_SESSION_MS, MinuteTotals, PollTotals, Totals, ViewerTotals,
    minute_of,
};

/// One stretch of presence: from the join (log position, time) to its end.
#[derive(Debug, Clone, Copy)]
struct Stretch {
    from_pos: usize,
    from_ms: i64,
    /// The log position that closed it (`usize::MAX` while open).
    to_pos: usize,
    to_ms: i64,
    /// Closed by a leave (not by the end of the class or by `now`).
    left: bool,
}

struct Viewer {
    totals: ViewerTotals,
    open: Option<(usize, i64)>,
    stretches: Vec<Stretch>,
}

struct Poll {
    totals: PollTotals,
    open_pos: usize,
    close_pos: usize,
}

/// Engagement at `now_ms` computed from the whole log in one pass plus one pass over the
/// viewers. Equal, field for field, to a [`super::LiveEngagement`] fed the same events.
pub fn recompute(
    session_start_ms: i64,
    events: &[EngagementEvent],
    now_ms: i64,
) -> EngagementSnapshot {
    // One presence from the chat connection, the video and the tab (see `presence.rs`). The
    // events presence makes are kept aside and the others read where they are, by index: a
    // million events are not copied (nor wrapped, which costs ~50 MB and a third more time).
    let mut merge = super::presence::PresenceMerge::default();
    let mut made: Vec<EngagementEvent> = Vec::new();
    let mut order: Vec<Result<usize, usize>> = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        match merge.map(event) {
            Some(Cow::Borrowed(_)) => order.push(Ok(i)),
            Some(Cow::Owned(e)) => {
                order.push(Err(made.len()));
                made.push(e);
            }
            None => {}
        }
    }
    let events = order.iter().map(|at| match *at {
        Ok(i) => &events[i],
        Err(j) => &made[j],
    });
    let start = session_start_ms;
    let mut clock = start;
    let mut end: Option<(usize, i64)> = None;
    let mut ignored = 0u64;
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut viewers: Vec<Viewer> = Vec::new();
    let mut minutes: Vec<MinuteTotals> = Vec::new();
    let mut polls: Vec<Poll> = Vec::new();
    let mut poll_index: HashMap<u64, usize> = HashMap::new();
    let mut open_poll: Option<usize> = None;
    let mut last_chat_ms = None;
    let mut offers_pushed = 0u32;
    let mut reactions_attributed = false;

    fn find<'a>(
        index: &mut HashMap<&'a str, usize>,
        viewers: &mut Vec<Viewer>,
        id: &'a str,
        staff: bool,
    ) -> usize {
        *index.entry(id).or_insert_with(|| {
            viewers.push(Viewer {
                totals: ViewerTotals {
                    id: id.to_owned(),
                    staff,
                    ..ViewerTotals::default()
                },
                open: None,
                stretches: Vec::new(),
            });
            viewers.len() - 1
        })
    }

    for (pos, event) in events.enumerate() {
        let t = event.at_ms.max(start).max(clock);
        if end.is_some() || t.saturating_sub(start) > MAX_SESSION_MS {
            ignored += 1;
            continue;
        }
        clock = t;
        let m = minute_of(start, t);
        if minutes.len() <= m {
            minutes.resize(m + 1, MinuteTotals::default());
        }
        let row = &mut minutes[m];
        // The counts of a viewer who is not staff.
        macro_rules! audience {
            ($id:expr, $staff:expr) => {{
                let i = find(&mut index, &mut viewers, $id, $staff);
                let v = &mut viewers[i].totals;
                (!v.staff).then_some(v)
            }};
        }
        match &event.activity {
            Activity::Joined {
                viewer,
                name,
                staff,
            } => {
                let i = find(&mut index, &mut viewers, viewer, *staff);
                let v = &mut viewers[i];
                if !name.is_empty() {
                    v.totals.name.clone_from(name);
                }
                if v.open.is_none() {
                    v.open = Some((pos, t));
                    v.totals.joins += 1;
                    v.totals.first_join_ms.get_or_insert(t);
                }
            }
            Activity::Left { viewer } => {
                let i = find(&mut index, &mut viewers, viewer, false);
                let v = &mut viewers[i];
                if let Some((from_pos, from_ms)) = v.open.take() {
                    v.stretches.push(Stretch {
                        from_pos,
                        from_ms,
                        to_pos: pos,
                        to_ms: t,
                        left: true,
                    });
                }
            }
            Activity::Chat { viewer, staff } => {
                if let Some(v) = audience!(viewer, *staff) {
                    v.chat += 1;
                    row.chat += 1;
                    last_chat_ms = Some(t);
                }
            }
            Activity::PollOpened { poll, question } => {
                if !poll_index.contains_key(poll) {
                    if let Some(open) = open_poll.take() {
                        polls[open].close_pos = pos;
                        polls[open].totals.closed_at_ms = Some(t);
                    }
                    poll_index.insert(*poll, polls.len());
                    open_poll = Some(polls.len());
                    polls.push(Poll {
                        totals: PollTotals {
                            poll: *poll,
                            question: question.clone(),
                            opened_at_ms: t,
                            closed_at_ms: None,
                            ballots: 0,
                            present_at_open: 0,
                        },
                        open_pos: pos,
                        close_pos: usize::MAX,
                    });
                }
            }
            Activity::PollClosed { poll } => {
                if let Some(open) = open_poll
                    && polls[open].totals.poll == *poll
                {
                    polls[open].close_pos = pos;
                    polls[open].totals.closed_at_ms = Some(t);
                    open_poll = None;
                }
            }
            Activity::Ballot { poll, viewer } => {
                if let Some(v) = audience!(viewer, false) {
                    v.ballots += 1;
                    row.ballots += 1;
                    if let Some(&p) = poll_index.get(poll) {
                        polls[p].totals.ballots += 1;
                    }
                }
            }
            Activity::AnonymousVoters {
                poll,
                viewers: voters,
            } => {
                for viewer in voters {
                    if let Some(v) = audience!(viewer, false) {
                        v.ballots += 1;
                        row.ballots += 1;
                        if let Some(&p) = poll_index.get(poll) {
                            polls[p].totals.ballots += 1;
                        }
                    }
                }
            }
            Activity::QuestionAsked { viewer } => {
                if let Some(v) = audience!(viewer, false) {
                    v.questions += 1;
                    row.questions += 1;
                }
            }
            Activity::QuestionUpvoted { viewer } => {
                if let Some(v) = audience!(viewer, false) {
                    v.upvotes += 1;
                    row.upvotes += 1;
                }
            }
            Activity::Reactions { viewer, count } => match viewer {
                Some(viewer) => {
                    if let Some(v) = audience!(viewer, false) {
                        v.reactions = v.reactions.saturating_add(*count);
                        row.reactions = row.reactions.saturating_add(*count);
                        reactions_attributed = true;
                    }
                }
                None => row.reactions = row.reactions.saturating_add(*count),
            },
            Activity::ReactionsBy { viewers } => {
                for (viewer, count) in viewers {
                    if let Some(v) = audience!(viewer, false) {
                        v.reactions = v.reactions.saturating_add(*count);
                        reactions_attributed = true;
                    }
                }
            }
            Activity::OfferPushed { .. } => offers_pushed += 1,
            Activity::OfferExposed { viewer, .. } => {
                if let Some(v) = audience!(viewer, false) {
                    v.exposures += 1;
                    row.exposures += 1;
                }
            }
            Activity::OfferClicked { viewer, .. } => {
                if let Some(v) = audience!(viewer, false) {
                    v.clicks += 1;
                    row.clicks += 1;
                }
            }
            Activity::OfferDismissed { viewer, .. } => {
                if let Some(v) = audience!(viewer, false) {
                    v.dismissals += 1;
                }
            }
            // Turned into `Joined`/`Left` by the presence merge above.
            Activity::MediaPresence { .. } | Activity::TabVisibility { .. } => {}
            Activity::Ended => {
                end = Some((pos, t));
                if let Some(open) = open_poll.take() {
                    polls[open].close_pos = pos;
                    polls[open].totals.closed_at_ms = Some(t);
                }
            }
        }
    }

    let now = match end {
        Some((_, t)) => t,
        None => now_ms.max(clock).min(start.saturating_add(MAX_SESSION_MS)),
    };
    let last_minute = minute_of(start, now);
    minutes.resize(last_minute + 1, MinuteTotals::default());
    let (close_pos, ended) = match end {
        Some((pos, _)) => (pos, true),
        None => (usize::MAX, false),
    };

    // Presence changes of the audience, by log position, for the peak.
    let mut changes: Vec<(usize, i32)> = Vec::new();
    let mut at_end_diff = vec![0i64; last_minute + 2];
    let mut present = 0u32;
    for v in &mut viewers {
        if let Some((from_pos, from_ms)) = v.open.take() {
            v.stretches.push(Stretch {
                from_pos,
                from_ms,
                to_pos: close_pos,
                to_ms: now,
                left: false,
            });
            v.totals.present = !ended;
        }
        v.totals.watch_ms = v.stretches.iter().map(|s| s.to_ms - s.from_ms).sum();
        if v.totals.staff {
            continue;
        }
        if v.totals.present {
            present += 1;
        }
        let mut counted: Option<usize> = None;
        for s in &v.stretches {
            let (a, b) = (minute_of(start, s.from_ms), minute_of(start, s.to_ms));
            let first = counted.map_or(a, |c| a.max(c + 1));
            for row in minutes.iter_mut().take(b + 1).skip(first) {
                row.viewers += 1;
            }
            counted = Some(counted.map_or(b, |c| c.max(b)));
            minutes[a].joins += 1;
            at_end_diff[a] += 1;
            changes.push((s.from_pos, 1));
            if s.left {
                minutes[b].leaves += 1;
                at_end_diff[b] -= 1;
                changes.push((s.to_pos, -1));
            }
        }
        for p in &mut polls {
            let overlaps = |s: &Stretch| s.from_pos < p.close_pos && p.open_pos < s.to_pos;
            if v.stretches.iter().any(overlaps) {
                v.totals.polls_asked += 1;
            }
            if v.stretches
                .iter()
                .any(|s| s.from_pos < p.open_pos && p.open_pos < s.to_pos)
            {
                p.totals.present_at_open += 1;
            }
        }
    }
    changes.sort_unstable();
    let (mut running, mut peak) = (0i64, 0i64);
    for (_, d) in &changes {
        running += i64::from(*d);
        peak = peak.max(running);
    }
    let mut running = 0i64;
    for (m, row) in minutes.iter_mut().enumerate() {
        running += at_end_diff[m];
        row.present_at_end = u32::try_from(running).unwrap_or(0);
    }

    let poll_totals: Vec<PollTotals> = polls.into_iter().map(|p| p.totals).collect();
    snapshot::build(Totals {
        start_ms: start,
        now_ms: now,
        ended,
        ignored,
        viewers: viewers.into_iter().map(|v| v.totals).collect(),
        minutes: &minutes,
        polls: &poll_totals,
        open_poll,
        present,
        peak_present: u32::try_from(peak).unwrap_or(0),
        last_chat_ms,
        offers_pushed,
        reactions_attributed,
    })
}

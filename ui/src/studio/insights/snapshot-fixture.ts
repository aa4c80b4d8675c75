// A small engagement snapshot for unit tests, in the engine's JSON shape.
import type { EngagementSnapshot, MinuteEngagement, Score, ScorePart, ViewerEngagement } from './engagement';

const part = (measured: boolean, fraction: number, max: number): ScorePart => ({
  measured,
  value: fraction,
  cap: 1,
  fraction,
  points: measured ? fraction * max : 0,
  max_points: max,
});

export function score(total: number): Score {
  return {
    total,
    attendance: part(true, 0.9, 30),
    polls: part(false, 0, 25),
    chat: part(true, 0.5, 20),
    qa: part(true, 0, 15),
    reactions: part(false, 0, 10),
    ten_point: { attendance: 1.8, polls: null, chat: 1, qa: 0, reactions: null, total: 4.3 },
  };
}

export function viewer(id: string, name: string, patch: Partial<ViewerEngagement> = {}): ViewerEngagement {
  return {
    viewer: id,
    name,
    present: true,
    joins: 1,
    first_join_ms: 1_000,
    watch_ms: 120_000,
    chat: 2,
    reactions: 0,
    polls_asked: 0,
    polls_answered: 0,
    questions: 0,
    upvotes: 0,
    offer_exposures: 0,
    offer_clicks: 0,
    offer_dismissals: 0,
    score: score(40),
    ...patch,
  };
}

export function minute(i: number, viewers: number, chat: number, retention: number): MinuteEngagement {
  return {
    minute: i,
    start_ms: i * 60_000,
    viewers,
    present_at_end: viewers,
    joins: 0,
    leaves: 0,
    chat,
    reactions: 0,
    ballots: 0,
    questions: 0,
    upvotes: 0,
    offer_exposures: 0,
    offer_clicks: 0,
    retention_pct: retention,
  };
}

export function snapshot(patch: Partial<EngagementSnapshot> = {}): EngagementSnapshot {
  return {
    session_start_ms: 0,
    now_ms: 180_000,
    ended: false,
    totals: {
      viewers: 2,
      present: 2,
      peak_present: 2,
      watch_ms: 240_000,
      chat: 4,
      reactions: 0,
      questions: 0,
      upvotes: 0,
      polls_opened: 0,
      ballots: 0,
      offers_pushed: 0,
      offer_exposures: 0,
      offer_clicks: 0,
      reactions_attributed: false,
      median_score: 40,
    },
    viewers: [viewer('aaaaaaaaaaaa1111', 'Ann'), viewer('bbbbbbbbbbbb2222', '')],
    minutes: [minute(0, 2, 1, 100), minute(1, 2, 3, 100), minute(2, 1, 0, 50)],
    drop_offs: [],
    polls: [],
    alerts: [],
    ignored_events: 0,
    ...patch,
  };
}

// The engagement snapshot as the engine sends it (`live_engagement`, `session_engagement`): typed
// here by hand from `crates/insights/src/engagement/{snapshot,score}.rs`, since the bindings carry
// it as `unknown`. Field names are the Rust ones (snake_case).

/** One part of a score. */
export interface ScorePart {
  /** False when the class gave no way to earn it: shown "not measured", it earns nothing, and
   * the other parts are not rescaled (so classes stay comparable). */
  measured: boolean;
  value: number;
  cap: number;
  fraction: number;
  points: number;
  max_points: number;
}

export interface TenPoint {
  attendance: number | null;
  polls: number | null;
  chat: number | null;
  qa: number | null;
  reactions: number | null;
  total: number;
}

export interface Score {
  /** Points earned of the fixed 100, to one decimal (unmeasured parts earn nothing). */
  total: number;
  /** The points this viewer could earn in this class (100 less the unmeasured parts). */
  measurable_points?: number;
  /** The minutes the chat, Q&A and reaction rates are over: watch time, at least half the class. */
  rate_minutes?: number;
  attendance: ScorePart;
  polls: ScorePart;
  chat: ScorePart;
  qa: ScorePart;
  reactions: ScorePart;
  ten_point: TenPoint;
}

export interface SessionTotals {
  viewers: number;
  present: number;
  peak_present: number;
  watch_ms: number;
  chat: number;
  reactions: number;
  questions: number;
  upvotes: number;
  polls_opened: number;
  ballots: number;
  offers_pushed: number;
  offer_exposures: number;
  offer_clicks: number;
  reactions_attributed: boolean;
  median_score: number;
}

export interface ViewerEngagement {
  /** Pseudonymous id. */
  viewer: string;
  /** The last display name seen: viewer text, shown as text only. */
  name: string;
  present: boolean;
  joins: number;
  first_join_ms: number | null;
  watch_ms: number;
  chat: number;
  reactions: number;
  polls_asked: number;
  polls_answered: number;
  questions: number;
  upvotes: number;
  offer_exposures: number;
  offer_clicks: number;
  offer_dismissals: number;
  score: Score;
}

export interface MinuteEngagement {
  minute: number;
  start_ms: number;
  viewers: number;
  present_at_end: number;
  joins: number;
  leaves: number;
  chat: number;
  reactions: number;
  ballots: number;
  questions: number;
  upvotes: number;
  offer_exposures: number;
  offer_clicks: number;
  /** Present at the minute's end as a percentage of the peak audience. */
  retention_pct: number;
}

export interface DropOff {
  minute: number;
  present_before: number;
  present_after: number;
}

export interface PollEngagement {
  poll: number;
  question: string;
  opened_at_ms: number;
  closed_at_ms: number | null;
  ballots: number;
  present_at_open: number;
  participation_pct: number;
}

export type Alert =
  | { type: 'chat_quiet'; quiet_ms: number; present: number }
  | { type: 'audience_dropping'; from: number; to: number }
  | { type: 'poll_low_participation'; poll: number; ballots: number; present: number };

export interface EngagementSnapshot {
  session_start_ms: number;
  now_ms: number;
  ended: boolean;
  totals: SessionTotals;
  viewers: ViewerEngagement[];
  minutes: MinuteEngagement[];
  drop_offs: DropOff[];
  polls: PollEngagement[];
  alerts: Alert[];
  ignored_events: number;
}

/**
 * The answer of `live_engagement` / `session_engagement` as a snapshot, or an error saying the
 * host sent something else (a newer or older engine): the screens never read fields blindly.
 */
export function asSnapshot(value: unknown): EngagementSnapshot {
  const v = value as Partial<EngagementSnapshot> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.totals !== 'object' ||
    v.totals === null ||
    !Array.isArray(v.viewers) ||
    !Array.isArray(v.minutes) ||
    !Array.isArray(v.drop_offs) ||
    !Array.isArray(v.alerts)
  ) {
    throw { code: 'internal', message: 'The studio sent engagement in a shape this page does not know' };
  }
  return { polls: [], ignored_events: 0, ...v } as EngagementSnapshot;
}

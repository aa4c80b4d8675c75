// A course's classes compared (the engine's `course_trend`, snake_case like every engagement
// snapshot): the chart of median scores, and the sentence that reads the direction.
import type { ChartSpec } from '../../lib/charts/spec';

export interface ClassSummary {
  session_id: number;
  title: string;
  started_at_ms: number;
  viewers: number;
  peak_present: number;
  median_score: number;
  mean_watch_minutes: number;
  poll_participation_pct: number | null;
  chat_per_viewer_hour: number;
  final_retention_pct: number;
}

export interface SessionPoint {
  session_id: number;
  title: string;
  started_at_ms: number;
  /** `null`: under five viewers, too few to show. */
  summary: ClassSummary | null;
  vs_previous: number | null;
  vs_course: number | null;
}

export interface CourseTrend {
  course_id: string;
  sessions: SessionPoint[];
  suppressed: number;
  mean_median_score: number | null;
  slope_per_class: number | null;
  /** The slope's 95% interval (from three shown classes). */
  slope_low_per_class?: number | null;
  slope_high_per_class?: number | null;
  /** Rising or falling only when the interval leaves zero out. */
  direction: 'rising' | 'falling' | 'flat' | 'too_few_classes';
}

const one = (x: number) => x.toFixed(1).replace(/\.0$/, '');
const signed = (x: number) => (x > 0 ? `+${one(x)}` : x < 0 ? `−${one(-x)}` : '0');

/** Median score and viewers of each shown class, in teaching order (class 1 is the oldest shown). */
export function trendSpec(trend: CourseTrend): ChartSpec {
  const shown = trend.sessions.filter((s) => s.summary !== null);
  return {
    xLabel: 'Class of the course',
    xFormat: (x) => `class ${x}`,
    x: shown.map((_, i) => i + 1),
    xPad: 0.5,
    xSteps: [1, 2, 5, 10],
    yLabel: 'Median score',
    yRange: [0, 100],
    series: [{ label: 'Median engagement', unit: ' of 100', values: shown.map((s) => s.summary!.median_score), color: '--accent', kind: 'line' }],
  };
}

/** What the comparison says, in one or two sentences. */
/** `whose` names the group's average: "the course’s" (the default) or an instructor's. */
export function trendSentence(trend: CourseTrend, sessionId: number, whose = 'the course’s'): string {
  const shown = trend.sessions.filter((s) => s.summary !== null);
  const hidden = trend.suppressed > 0 ? ` ${trend.suppressed} ${trend.suppressed === 1 ? 'class had' : 'classes had'} fewer than 5 viewers and ${trend.suppressed === 1 ? 'is' : 'are'} not shown.` : '';
  const self = trend.sessions.find((s) => s.session_id === sessionId);
  let here = '';
  if (self?.summary && self.vs_course !== null) {
    const d = self.vs_course;
    here = Math.abs(d) < 0.05 ? ` This class is at ${whose} average.` : ` This class is ${one(Math.abs(d))} points ${d > 0 ? 'above' : 'below'} ${whose} average.`;
  } else if (self && self.summary === null) {
    here = ' This class had fewer than 5 viewers, so it is not compared.';
  }
  const slope = trend.slope_per_class ?? 0;
  const low = trend.slope_low_per_class ?? null;
  const high = trend.slope_high_per_class ?? null;
  const interval = low !== null && high !== null ? ` (95% interval ${signed(low)} to ${signed(high)})` : '';
  const direction =
    trend.direction === 'too_few_classes'
      ? `${shown.length} ${shown.length === 1 ? 'class' : 'classes'} to compare: a direction needs at least 3.`
      : trend.direction === 'rising'
        ? `Engagement is rising: ${signed(slope)} points per class over ${shown.length} classes${interval}.`
        : trend.direction === 'falling'
          ? `Engagement is falling: ${signed(slope)} points per class over ${shown.length} classes${interval}.`
          : `No clear direction over ${shown.length} classes: ${signed(slope)} points per class${interval}, which could be chance.`;
  return `${direction}${here}${hidden}`;
}

/** "+2.5", "−1", "0", or "–" when there is nothing to compare. */
export function difference(x: number | null): string {
  return x === null ? '–' : signed(x);
}

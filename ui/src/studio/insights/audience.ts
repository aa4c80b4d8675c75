// The school's audience in words and scales: segments (the bar chart, rates, courses) and
// repurchase (rates with their denominators, the cohort heatmap's colour steps, the attendance
// comparison). The engine leaves rates under five eligible learners out; this says so.
import type { AttendanceView, AudienceRepurchase, AudienceSegments, CohortRow, RateView } from '../../lib/bindings/api';
import type { ChartSpec } from '../../lib/charts/spec';

/** A segment's name short enough for an axis: cut at a word when it can be, with an ellipsis. */
export function segmentLabel(name: string, max = 18): string {
  if (name.length <= max) return name;
  const cut = name.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Members and buyers per segment as bars (buyers drawn over members), one bar per segment. */
export function segmentsSpec(view: Pick<AudienceSegments, 'segments'>): ChartSpec {
  const names = view.segments.map((s) => s.name);
  return {
    xLabel: 'Segment',
    xFormat: (x) => (Number.isInteger(x) && x >= 1 && x <= names.length ? segmentLabel(names[x - 1]!) : ''),
    x: names.map((_, i) => i + 1),
    xPad: 0.5,
    xSteps: [1],
    yLabel: 'Learners',
    series: [
      { label: 'Members', unit: ['learner', 'learners'], values: view.segments.map((s) => s.size), color: '--accent', kind: 'bars' },
      { label: 'Bought', unit: ['buyer', 'buyers'], values: view.segments.map((s) => s.buyers), color: '--ok', kind: 'bars' },
    ],
  };
}

const count = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The chart's caption. */
export function segmentsSummary(view: AudienceSegments): string {
  if (view.segments.length === 0) return 'No learners yet: segments appear once the school has learners.';
  const largest = view.segments[0]!;
  return `${count(view.learners, 'learner', 'learners')} in ${count(view.segments.length, 'segment', 'segments')} as of ${view.asOf}; the largest, “${largest.name}”, has ${count(largest.size, 'member', 'members')}, ${count(largest.buyers, 'buyer', 'buyers')} among them.`;
}

/** How the names relate to the last computation, in one sentence. */
export function namesNote(view: Pick<AudienceSegments, 'segments' | 'namesKept'>): string {
  const n = view.segments.length;
  if (n === 0) return '';
  if (view.namesKept === 0) return 'Names are read from each segment’s traits; they are kept from now on while a segment stays where it is.';
  if (view.namesKept === n) return 'Every segment kept its name from last time.';
  return `${view.namesKept} of ${n} segments kept their name from last time; the others are new.`;
}

/** A share as a whole percentage: "61%"; below 1% with one decimal. */
export function percent(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const p = x * 100;
  if (p > 0 && p < 1) return `${p.toFixed(1)}%`;
  return `${Math.round(p)}%`;
}

/** A repurchase rate: "61%", or why there is none (nobody eligible yet, or fewer than 5). */
export function rateText(rate: RateView): string {
  if (rate.rate !== null) return percent(rate.rate);
  if (rate.eligible === 0) return 'nobody eligible yet';
  return 'fewer than 5 eligible';
}

/** "412 of 677 eligible" (the numerator only where it is shown); nothing when nobody is. */
export function eligibleText(rate: RateView): string {
  if (rate.eligible === 0) return '';
  return rate.repurchased === null ? `${count(rate.eligible, 'eligible', 'eligible')}` : `${rate.repurchased.toLocaleString('en-US')} of ${rate.eligible.toLocaleString('en-US')} eligible`;
}

/** Titles joined for a table cell: "Python Foundations, Data Analysis"; "–" for none. */
export function courseList(courses: readonly { title: string }[]): string {
  return courses.length === 0 ? '–' : courses.map((c) => c.title).join(', ');
}

/** Colour steps of the heatmap: 0 (none) to this. */
export const HEAT_STEPS = 8;

/**
 * The share the darkest step stands for: the largest share after the first month (month 0 is
 * everyone by definition, so it would wash out the rest), at least 5%.
 */
export function heatTop(rows: readonly Pick<CohortRow, 'shares'>[]): number {
  let top = 0;
  for (const row of rows) for (const [k, share] of row.shares.entries()) if (k > 0 && share !== null && share > top) top = share;
  return Math.max(top, 0.05);
}

/** A cell's colour step, 0 to HEAT_STEPS (month 0 and anything at or above `top` the darkest); null: no colour. */
export function heatLevel(share: number | null, top: number): number | null {
  if (share === null || !Number.isFinite(share)) return null;
  if (share <= 0) return 0;
  return Math.min(HEAT_STEPS, Math.max(1, Math.ceil((share / top) * HEAT_STEPS)));
}

/** The columns of the heatmap: 0, 1, ... as wide as the widest cohort. */
export function monthsSince(rows: readonly Pick<CohortRow, 'shares'>[]): number[] {
  const width = rows.reduce((w, r) => Math.max(w, r.shares.length), 0);
  return Array.from({ length: width }, (_, k) => k);
}

/** A difference in percentage points: "+1.2 points", "−3.0 points". */
export function points(d: number): string {
  const p = (Math.abs(d) * 100).toFixed(1);
  return d > 0 ? `+${p} points` : d < 0 ? `−${p} points` : '0.0 points';
}

/** The attendance comparison in one sentence, labelled for what it is. */
export function attendanceSentence(a: AttendanceView): string {
  const attended = `${rateText(a.attended)} of buyers who attended a live class bought again within 90 days (${eligibleText(a.attended)})`;
  const never = `${rateText(a.neverAttended)} of those who never attended did (${eligibleText(a.neverAttended)})`;
  if (a.difference === null) return `${attended}; ${never}. Too few on one side to compare.`;
  const ci = a.differenceCi ? ` (95% interval ${points(a.differenceCi[0])} to ${points(a.differenceCi[1])})` : '';
  return `${attended}; ${never}. Difference: ${points(a.difference)}${ci}, an ${a.label}.`;
}

/** The three windows in one line for a caption. */
export function overallSummary(r: AudienceRepurchase): string {
  if (r.buyers === 0) return 'No purchases yet.';
  const parts = r.overall.map((rate) => `${rateText(rate)} within ${rate.windowDays} days`);
  return `Of ${count(r.buyers, 'buyer', 'buyers')}, ${parts.join(', ')} of their first purchase (last purchase ${r.lastPurchase ?? '–'}).`;
}

/** A clause as a sentence: capital first letter, a full stop at the end. */
export function sentence(clause: string): string {
  const t = clause.trim();
  if (t === '') return '';
  return `${t[0]!.toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

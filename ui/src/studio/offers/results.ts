// Reading an experiment's results: words for the numbers, the chart's scale, and the CSV of the
// variants table.
import type { OfferResults, PlanArgs, RecordSale, VariantResult } from '../../lib/bindings/api';
import type { ChartSpec, ColorVar } from '../../lib/charts/spec';

/** Below this sample-ratio p-value, traffic does not match the weights (the engine's alert level). */
export const SRM_ALERT_P = 0.001;

export function srmAlert(results: Pick<OfferResults, 'srmPValue'>): boolean {
  return results.srmPValue !== null && results.srmPValue < SRM_ALERT_P;
}

/** 0.1234 -> "12.3%"; null -> "–". */
export function pct(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(digits)}%`;
}

/** A signed percentage: "+12.0%", "−3.5%". */
export function signedPct(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const s = (Math.abs(x) * 100).toFixed(digits);
  return x > 0 ? `+${s}%` : x < 0 ? `−${s}%` : `${s}%`;
}

export function interval(ci: [number, number] | null, signed = false): string {
  if (ci === null) return '–';
  const f = signed ? signedPct : pct;
  return `${f(ci[0])} to ${f(ci[1])}`;
}

/** The top of the rate axis: a round share above every rate and interval (at least 5%). */
export function axisMax(variants: VariantResult[]): number {
  let top = 0;
  for (const v of variants) top = Math.max(top, v.rate ?? 0, v.rateCi?.[1] ?? 0);
  const steps = [0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1];
  return steps.find((s) => s >= top) ?? 1;
}

/** Gridline values from 0 to `max` (five steps). */
export function ticks(max: number): number[] {
  return Array.from({ length: 6 }, (_, i) => (max * i) / 5);
}

const CSV_HEADER = [
  'variant',
  'weight',
  'units',
  'exposed',
  'clicked',
  'converted',
  'revenue_cents',
  'rate',
  'rate_low',
  'rate_high',
  'lift',
  'lift_low',
  'lift_high',
  'chance_to_win',
  'verdict',
  'summary',
  'revenue_per_unit_cents',
  'revenue_lift',
  'revenue_lift_low',
  'revenue_lift_high',
  'revenue_chance_to_win',
  'revenue_verdict',
];

/** A CSV cell: quoted when needed; text that a spreadsheet would run as a formula is defused. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The variants table as CSV (RFC 4180, CRLF line ends). */
export function variantsCsv(results: OfferResults): string {
  const rows = results.variants.map((v) =>
    [
      v.name,
      v.weight,
      v.units,
      v.exposed,
      v.clicked,
      v.converted,
      v.revenueCents,
      v.rate,
      v.rateCi?.[0] ?? null,
      v.rateCi?.[1] ?? null,
      v.lift,
      v.liftCi?.[0] ?? null,
      v.liftCi?.[1] ?? null,
      v.chanceToWin,
      v.verdict,
      v.summary,
      v.revenue.perUnitCents,
      v.revenue.lift,
      v.revenue.liftCi?.[0] ?? null,
      v.revenue.liftCi?.[1] ?? null,
      v.revenue.chanceToWin,
      v.revenue.verdict,
    ]
      .map(csvCell)
      .join(','),
  );
  return [CSV_HEADER.join(','), ...rows].join('\r\n') + '\r\n';
}

/** A file name for the CSV of an experiment. */
export function csvFileName(experiment: string): string {
  return `${experiment.replace(/[^A-Za-z0-9_-]+/g, '-') || 'experiment'}-variants.csv`;
}

/** The colours of variants in charts, control first. */
export const VARIANT_COLORS: readonly ColorVar[] = ['--muted', '--accent', '--ok', '--live'];

const MINUTE_MS = 60_000;

/** How a moment of the history reads: minutes for a class, hours and days after it. */
export function elapsedLabel(minutes: number): string {
  if (minutes < 1) return `${Math.round(minutes * 60)} s`;
  if (minutes < 10) return `${(minutes).toFixed(1).replace(/\.0$/, '')} min`;
  if (minutes < 120) return `${Math.round(minutes)} min`;
  if (minutes < 48 * 60) return `${(minutes / 60).toFixed(1).replace(/\.0$/, '')} h`;
  return `${(minutes / 1440).toFixed(1).replace(/\.0$/, '')} d`;
}

/** Each variant's cumulative conversion rate over time, in percent. */
export function historySpec(results: Pick<OfferResults, 'history' | 'variants'>): ChartSpec {
  const start = results.history[0]?.atMs ?? 0;
  const x = results.history.map((p) => (p.atMs - start) / MINUTE_MS);
  return {
    xLabel: 'Time since the first viewer saw it',
    xFormat: elapsedLabel,
    x,
    yLabel: 'Conversion rate so far (%)',
    series: results.variants.map((v, i) => ({
      label: v.name,
      unit: '%',
      values: results.history.map((p) => {
        const rate = p.rate[i];
        return rate === null || rate === undefined ? null : rate * 100;
      }),
      color: VARIANT_COLORS[i % VARIANT_COLORS.length]!,
      kind: 'line' as const,
    })),
  };
}

/** The history chart's caption. */
export function historySummary(results: Pick<OfferResults, 'history' | 'variants'>): string {
  const last = results.history.at(-1);
  if (last === undefined) return 'Nobody has seen the offer yet.';
  const start = results.history[0]!.atMs;
  const parts = results.variants.map((v, i) => `${v.name} ${pct(last.rate[i] ?? null)} (${last.converted[i] ?? 0} of ${last.exposed[i] ?? 0})`);
  return `Conversion rate so far, per variant, over ${elapsedLabel((last.atMs - start) / MINUTE_MS)}: ${parts.join(', ')}.`;
}

/** Revenue per unit in the offer's currency, from cents: 1234.5 EUR-cents -> "€12.35". */
export function perUnitMoney(cents: number | null, currency: string, locale?: string): string {
  if (cents === null || !Number.isFinite(cents)) return '–';
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

/** The planner's form as typed. */
export interface PlanDraft {
  /** Control's rate, in percent. */
  baselinePct: string;
  /** The lift to detect, in percent. */
  liftPct: string;
  /** Viewers who see the offer in one class. */
  classSize: string;
}

/** Defaults from the results: control's rate so far (5% before there is one), and the viewers one class brought. */
export function planDefaults(results: Pick<OfferResults, 'variants' | 'sessions'> | null): PlanDraft {
  const control = results?.variants[0];
  const rate = control?.rate ?? null;
  const exposed = results?.variants.reduce((n, v) => n + v.exposed, 0) ?? 0;
  const perClass = results && results.sessions > 0 ? Math.round(exposed / results.sessions) : 0;
  return {
    baselinePct: rate !== null && rate > 0 && rate < 1 ? (rate * 100).toFixed(1).replace(/\.0$/, '') : '5',
    liftPct: '20',
    classSize: String(perClass > 0 ? perClass : 100),
  };
}

/** The planner's arguments, or what to fix first. */
export function planArgs(draft: PlanDraft, weights: number[] | null): { args: PlanArgs } | { problem: string } {
  const rate = Number(draft.baselinePct.trim().replace(',', '.'));
  const lift = Number(draft.liftPct.trim().replace(',', '.'));
  const size = Number(draft.classSize.trim());
  if (!Number.isFinite(rate) || rate <= 0 || rate >= 100) return { problem: 'The current rate is a percentage above 0 and below 100.' };
  if (!Number.isFinite(lift) || lift <= 0) return { problem: 'The lift to detect is a percentage above 0.' };
  if (!Number.isInteger(size) || size < 1) return { problem: 'A class brings at least one viewer.' };
  return { args: { baselineRate: rate / 100, relativeLift: lift / 100, classSize: size, weights } };
}

/** A sale entered by hand, as typed. */
export interface SaleDraft {
  refCode: string;
  orderId: string;
  amount: string;
  date: string;
}

/** The sale to record, or what to fix first. */
export function saleArgs(draft: SaleDraft, courseId: string, currency: string): { args: RecordSale } | { problem: string } {
  const refCode = draft.refCode.trim();
  const orderId = draft.orderId.trim();
  const amount = draft.amount.trim();
  if (refCode === '') return { problem: 'Paste the reference code from the order (the ref= part of its link).' };
  if (orderId === '') return { problem: 'Write the shop’s order number.' };
  if (amount === '') return { problem: 'Write what was paid.' };
  return { args: { orderId, courseId, amount, currency, date: draft.date.trim() || null, refCode, learner: null } };
}

/** Who was counted, what decides, and how purchases were read. */
export function countingNote(results: Pick<OfferResults, 'unit' | 'variants' | 'priorOwners' | 'windowDays' | 'timeZone' | 'metric'>): string {
  const counted = results.variants.reduce((n, v) => n + v.attendees, 0);
  const who =
    results.unit === 'session'
      ? `Counted: all ${counted} ${counted === 1 ? 'attendee' : 'attendees'} of the classes, whether or not they saw the offer (its timing decides who is still there to see it).`
      : `Counted: ${counted} ${counted === 1 ? 'viewer who saw' : 'viewers who saw'} the offer.`;
  const owners =
    results.priorOwners > 0
      ? ` ${results.priorOwners} ${results.priorOwners === 1 ? 'viewer who already owned the course is' : 'viewers who already owned the course are'} left out.`
      : '';
  const decides =
    results.metric === 'revenue'
      ? ' This experiment decides on revenue per viewer; the share who buy is for information.'
      : ' This experiment decides on the share who buy; revenue per viewer is for information.';
  return `${who}${owners}${decides} A purchase counts within ${results.windowDays} ${results.windowDays === 1 ? 'day' : 'days'} after; a purchase with a date but no time is read in ${results.timeZone}.`;
}

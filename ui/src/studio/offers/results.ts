// Reading an experiment's results: words for the numbers, the chart's scale, and the CSV of the
// variants table.
import type { OfferResults, VariantResult } from '../../lib/bindings/api';

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

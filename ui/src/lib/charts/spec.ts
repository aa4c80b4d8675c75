// What a chart shows, independent of uPlot: the x values, the series with their units, and
// the same numbers as text (the table under every chart). `options.ts` turns a spec into
// uPlot's options; this file has no runtime dependency on uPlot, so it is tested in Node.

/** A theme colour, named by the CSS variable that holds it in light and dark themes. */
export type ColorVar = '--accent' | '--ok' | '--live' | '--muted' | '--text-2';

export interface SeriesSpec {
  /** The legend's name: "Viewers". */
  label: string;
  /** The unit of a value, singular and plural: ["viewer", "viewers"], or a suffix like "%". */
  unit: readonly [string, string] | string;
  values: readonly (number | null)[];
  color: ColorVar;
  /** A line, bars, or points only (a scatter). */
  kind: 'line' | 'bars' | 'points';
  /** A dashed line (a reference such as "perfect calibration"). */
  dashed?: boolean;
}

export interface ChartSpec {
  /** The x axis's name with its unit: "Minute of class". */
  xLabel: string;
  /** How an x value reads: "min 4", "40%". */
  xFormat: (x: number) => string;
  x: readonly number[];
  /** The y axis's name with its unit. */
  yLabel: string;
  /** Fixed y range; the default is from 0 to a little above the largest value. */
  yRange?: readonly [number, number];
  /** Fixed x range; without it the range is the data's, padded by `xPad` on both sides. */
  xRange?: readonly [number, number];
  /** Room left and right of the data (half a step, so the first and last bars show whole). */
  xPad?: number;
  /** The steps the x axis may tick at (whole minutes, say); uPlot's default otherwise. */
  xSteps?: readonly number[];
  series: readonly SeriesSpec[];
}

/** A value with its unit, for the hover legend and the table: "1 viewer", "12 viewers", "40%". */
export function formatValue(value: number | null | undefined, unit: SeriesSpec['unit']): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  if (typeof unit === 'string') return `${shown}${unit}`;
  return `${shown} ${value === 1 ? unit[0] : unit[1]}`;
}

/** The upper end of a y axis whose largest value is `max`: headroom above it, never below 1. */
export function niceTop(max: number): number {
  if (!Number.isFinite(max) || max <= 1) return 1;
  if (max <= 5) return Math.ceil(max) + 1;
  return Math.ceil(max * 1.15);
}

/** The upper end of the y axis for these series. */
export function yMax(series: readonly SeriesSpec[]): number {
  let max = 0;
  for (const s of series) for (const v of s.values) if (v !== null && Number.isFinite(v) && v > max) max = v;
  return niceTop(max);
}

/** The chart's numbers as rows of text, one per x value: the table shown beside the canvas. */
export function tableOf(spec: ChartSpec): { head: string[]; rows: string[][] } {
  const head = [spec.xLabel, ...spec.series.map((s) => s.label)];
  const rows = spec.x.map((x, i) => [spec.xFormat(x), ...spec.series.map((s) => formatValue(s.values[i], s.unit))]);
  return { head, rows };
}

/** The data in uPlot's aligned form: x first, then each series (gaps as null). */
export function alignedData(spec: ChartSpec): (number | null)[][] {
  return [[...spec.x], ...spec.series.map((s) => spec.x.map((_, i) => s.values[i] ?? null))];
}

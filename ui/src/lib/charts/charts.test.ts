import { describe, expect, it } from 'vitest';
import { buildOptions, readPalette, type Palette } from './options';
import { alignedData, formatValue, niceTop, tableOf, yMax, type ChartSpec } from './spec';

const spec: ChartSpec = {
  xLabel: 'Minute of class',
  xFormat: (x) => `min ${x}`,
  x: [1, 2, 3],
  yLabel: 'Per minute',
  series: [
    { label: 'Viewers', unit: ['viewer', 'viewers'], values: [1, 4, 3], color: '--accent', kind: 'line' },
    { label: 'Chat', unit: ['message', 'messages'], values: [0, 2], color: '--ok', kind: 'bars' },
  ],
};

const palette: Palette = {
  '--accent': '#4353c9',
  '--ok': '#1b7a51',
  '--live': '#d2353a',
  '--muted': '#6b6d76',
  '--text-2': '#43454d',
  '--border': '#e4e4de',
  '--surface': '#ffffff',
};

describe('formatValue', () => {
  it('says the unit, singular for one', () => {
    expect(formatValue(1, ['viewer', 'viewers'])).toBe('1 viewer');
    expect(formatValue(12, ['viewer', 'viewers'])).toBe('12 viewers');
    expect(formatValue(0, ['viewer', 'viewers'])).toBe('0 viewers');
    expect(formatValue(42.25, '%')).toBe('42.3%');
    expect(formatValue(50, '%')).toBe('50%');
  });

  it('shows a dash for a gap', () => {
    expect(formatValue(null, '%')).toBe('—');
    expect(formatValue(undefined, '%')).toBe('—');
    expect(formatValue(Number.NaN, '%')).toBe('—');
  });
});

describe('the y axis', () => {
  it('leaves headroom above the largest value, never below 1', () => {
    expect(niceTop(0)).toBe(1);
    expect(niceTop(1)).toBe(1);
    expect(niceTop(3)).toBe(4);
    expect(niceTop(40)).toBe(46);
    expect(niceTop(Number.NaN)).toBe(1);
    expect(yMax(spec.series)).toBe(5);
  });
});

describe('the numbers as text', () => {
  it('has one row per x value with every series and its unit', () => {
    expect(tableOf(spec)).toEqual({
      head: ['Minute of class', 'Viewers', 'Chat'],
      rows: [
        ['min 1', '1 viewer', '0 messages'],
        ['min 2', '4 viewers', '2 messages'],
        ['min 3', '3 viewers', '—'],
      ],
    });
  });

  it('aligns the data for uPlot, padding short series with gaps', () => {
    expect(alignedData(spec)).toEqual([
      [1, 2, 3],
      [1, 4, 3],
      [0, 2, null],
    ]);
  });
});

describe('buildOptions', () => {
  const bars = () => () => null;
  const opts = buildOptions(spec, palette, { width: 600, height: 200 }, { bars });

  it('colours series from the theme and labels both axes', () => {
    expect(opts.width).toBe(600);
    expect(opts.series[1]).toMatchObject({ label: 'Viewers', stroke: '#4353c9', points: { show: true } });
    expect(opts.series[2]).toMatchObject({ label: 'Chat', fill: '#1b7a51' });
    expect(opts.axes?.map((a) => a.label)).toEqual(['Minute of class', 'Per minute']);
    expect(opts.axes?.[0]?.stroke).toBe('#43454d');
  });

  it('shows hover values with their units', () => {
    const value = opts.series[1]?.value as (u: unknown, v: number | null) => string;
    expect(value(null, 4)).toBe('4 viewers');
    const x = opts.series[0]?.value as (u: unknown, v: number | null) => string;
    expect(x(null, 2)).toBe('min 2');
  });

  it('keeps headroom as the data grows, and a fixed range when asked', () => {
    const range = opts.scales?.y?.range as (u: unknown, min: number, max: number) => [number, number];
    expect(range(null, 0, 10)).toEqual([0, 12]);
    const fixed = buildOptions({ ...spec, yRange: [0, 100], xRange: [0, 100] }, palette, { width: 100, height: 100 }, { bars });
    expect(fixed.scales?.y?.range).toEqual([0, 100]);
    expect(fixed.scales?.x?.range).toEqual([0, 100]);
  });

  it('pads the x range, also around a single point, and ticks at the given steps', () => {
    const padded = buildOptions({ ...spec, xPad: 0.5, xSteps: [1, 5] }, palette, { width: 100, height: 100 }, { bars });
    const range = padded.scales?.x?.range as (u: unknown, min: number, max: number) => [number, number];
    expect(range(null, 1, 3)).toEqual([0.5, 3.5]);
    expect(range(null, 1, 1)).toEqual([0, 2]);
    expect(padded.axes?.[0]?.incrs).toEqual([1, 5]);
  });

  it('reads the palette from CSS variables, with a fallback', () => {
    const read = readPalette({ getPropertyValue: (name: string) => (name === '--accent' ? ' #123456 ' : '') });
    expect(read['--accent']).toBe('#123456');
    expect(read['--ok']).toBe('#888');
  });
});

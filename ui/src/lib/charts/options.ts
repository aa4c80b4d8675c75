// A chart spec as uPlot options, in the one style every Lectern chart shares: theme colours
// read from the page's CSS variables, axes with units, hover values with units in the legend.
import type uPlot from 'uplot';
import { formatValue, niceTop, type ChartSpec, type ColorVar } from './spec';

/** The theme colours a chart uses, read from CSS variables (see `readPalette`). */
export type Palette = Record<ColorVar | '--border' | '--surface', string>;

const PALETTE_VARS: readonly (keyof Palette)[] = ['--accent', '--ok', '--live', '--muted', '--text-2', '--border', '--surface'];

/** Reads the palette from an element's computed style (the current theme's values). */
export function readPalette(style: Pick<CSSStyleDeclaration, 'getPropertyValue'>): Palette {
  const out = {} as Palette;
  for (const name of PALETTE_VARS) out[name] = style.getPropertyValue(name).trim() || '#888';
  return out;
}

export interface BuildDeps {
  /** `uPlot.paths.bars`, passed in so this module needs no uPlot at run time. */
  bars: (opts: { size: [number, number] }) => uPlot.Series.PathBuilder;
}

const FONT = '12px system-ui, sans-serif';
const LABEL_FONT = '600 12px system-ui, sans-serif';

export function buildOptions(spec: ChartSpec, palette: Palette, size: { width: number; height: number }, deps: BuildDeps): uPlot.Options {
  const axis = (label: string, values: uPlot.Axis['values']): uPlot.Axis => ({
    label,
    values,
    stroke: palette['--text-2'],
    font: FONT,
    labelFont: LABEL_FONT,
    grid: { stroke: palette['--border'], width: 1 },
    ticks: { stroke: palette['--border'], width: 1 },
  });
  const fixed = spec.yRange;
  return {
    width: size.width,
    height: size.height,
    scales: {
      x: {
        time: false,
        range: spec.xRange
          ? [spec.xRange[0], spec.xRange[1]]
          : (_u, min, max) => {
              const pad = spec.xPad ?? 0;
              // A single point still gets an axis around it.
              return min === max ? [min - Math.max(pad, 1), max + Math.max(pad, 1)] : [min - pad, max + pad];
            },
      },
      // Recomputed on every setData, so a growing live series keeps its headroom.
      y: { range: fixed ? [fixed[0], fixed[1]] : (_u, _min, max) => [0, niceTop(max)] },
    },
    axes: [
      { ...axis(spec.xLabel, (_u, splits) => splits.map((v) => spec.xFormat(v))), ...(spec.xSteps ? { incrs: [...spec.xSteps] } : {}) },
      axis(spec.yLabel, (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)))),
    ],
    cursor: { points: { size: 8 }, drag: { x: false, y: false } },
    legend: { show: true, live: true },
    series: [
      { label: spec.xLabel, value: (_u, v) => (v === null ? '—' : spec.xFormat(v)) },
      ...spec.series.map((s): uPlot.Series => {
        const color = palette[s.color];
        const base: uPlot.Series = {
          label: s.label,
          stroke: color,
          width: 2,
          value: (_u, v) => formatValue(v, s.unit),
          ...(s.dashed ? { dash: [6, 4] } : {}),
        };
        if (s.kind === 'bars') {
          return { ...base, width: 0, fill: color, paths: deps.bars({ size: [0.6, 24] }), points: { show: false } };
        }
        if (s.kind === 'points') {
          return { ...base, paths: () => null, points: { show: true, size: 9, fill: color, stroke: palette['--surface'], width: 1 } };
        }
        // A short series shows its points, so a single minute is still visible.
        return { ...base, points: { show: spec.x.length <= 40, size: 6, fill: color } };
      }),
    ],
  };
}

// The insight charts as specs (see lib/charts): what each shows, with units and a caption.
import type { ChartSpec } from '../../lib/charts/spec';
import type { MinuteEngagement } from './engagement';

const minuteOf = (x: number) => `min ${x}`;
/** Minute axes tick at whole minutes only. */
const MINUTE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 240];

/** Viewers and chat messages per minute (minute 1 is the first minute of class). */
export function activitySpec(minutes: readonly MinuteEngagement[]): ChartSpec {
  return {
    xLabel: 'Minute of class',
    xFormat: minuteOf,
    x: minutes.map((m) => m.minute + 1),
    xPad: 0.5,
    xSteps: MINUTE_STEPS,
    yLabel: 'Per minute',
    series: [
      { label: 'Viewers', unit: ['viewer', 'viewers'], values: minutes.map((m) => m.viewers), color: '--accent', kind: 'line' },
      { label: 'Chat', unit: ['message', 'messages'], values: minutes.map((m) => m.chat), color: '--ok', kind: 'bars' },
    ],
  };
}

export function activitySummary(minutes: readonly MinuteEngagement[]): string {
  if (minutes.length === 0) return 'No minutes of class yet.';
  const busiest = minutes.reduce((a, b) => (b.chat > a.chat ? b : a));
  const peak = minutes.reduce((a, b) => (b.viewers > a.viewers ? b : a));
  const chat = busiest.chat === 0 ? 'no chat yet' : `the busiest chat in minute ${busiest.minute + 1} (${busiest.chat} ${busiest.chat === 1 ? 'message' : 'messages'})`;
  return `${minutes.length} ${minutes.length === 1 ? 'minute' : 'minutes'}: at most ${peak.viewers} ${peak.viewers === 1 ? 'viewer' : 'viewers'} (minute ${peak.minute + 1}), ${chat}.`;
}

/** The retention curve: those present at the end of each minute, as a share of the peak. */
export function retentionSpec(minutes: readonly MinuteEngagement[]): ChartSpec {
  return {
    xLabel: 'Minute of class',
    xFormat: minuteOf,
    x: minutes.map((m) => m.minute + 1),
    xSteps: MINUTE_STEPS,
    yLabel: '% of peak audience',
    yRange: [0, 100],
    series: [
      {
        label: 'Still watching',
        unit: '%',
        values: minutes.map((m) => Math.round(m.retention_pct * 10) / 10),
        color: '--accent',
        kind: 'line',
      },
    ],
  };
}

export function retentionSummary(minutes: readonly MinuteEngagement[], peakPresent: number): string {
  if (peakPresent === 0) return 'Nobody watched this class.';
  const peak = `The audience peaked at ${peakPresent} ${peakPresent === 1 ? 'viewer' : 'viewers'}`;
  const halfUntil = [...minutes].reverse().find((m) => m.retention_pct >= 50);
  if (!halfUntil) return `${peak}; fewer than half of them were there at the end of any minute.`;
  return `${peak}; half or more of them were still watching at the end of minute ${halfUntil.minute + 1}.`;
}

/** Predicted against observed purchase rates per tenth of probability, beside the ideal line. */
export function calibrationSpec(calibration: readonly (readonly [number, number, number])[]): ChartSpec {
  const bins = calibration.filter(([, , count]) => count > 0).sort((a, b) => a[0] - b[0]);
  const pct = (v: number) => Math.round(v * 1000) / 10;
  return {
    xLabel: 'Predicted chance (%)',
    xFormat: (x) => `${Math.round(x)}%`,
    x: bins.map(([p]) => pct(p)),
    xRange: [0, 100],
    xSteps: [10, 20, 25, 50],
    yLabel: 'Bought (%)',
    yRange: [0, 100],
    series: [
      { label: 'Perfect', unit: '%', values: bins.map(([p]) => pct(p)), color: '--muted', kind: 'line', dashed: true },
      { label: 'Observed', unit: '%', values: bins.map(([, o]) => pct(o)), color: '--accent', kind: 'points' },
    ],
  };
}

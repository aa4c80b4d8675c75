import { describe, expect, it } from 'vitest';
import type { ExperimentSegments, SegmentCell } from '../../lib/bindings/api';
import { deferred, FakePlatform, settle } from '../../test-support/fake-platform';
import { asOfNote, cellDetail, cellRate, suppressedNote } from './segment-results';
import { SegmentResultsStore } from './segment-results.svelte';

const shown = (variant: string, viewers: number, converted: number, rateCi: [number, number] | null = null): SegmentCell => ({
  variant,
  suppressed: false,
  viewers,
  converted,
  rate: converted / viewers,
  rateCi,
});
const hidden = (variant: string): SegmentCell => ({ variant, suppressed: true, viewers: null, converted: null, rate: null, rateCi: null });

const BREAKDOWN: ExperimentSegments = {
  experiment: 'ml-price',
  unit: 'viewer',
  variants: ['A', 'B'],
  asOf: '2025-04-09',
  rows: [
    { segment: 'repeat buyers', linked: true, cells: [shown('A', 8, 2, [0.0715, 0.5907]), shown('B', 6, 3)] },
    { segment: 'never bought', linked: true, cells: [shown('A', 9, 1), hidden('B')] },
    { segment: 'not linked to a learner', linked: false, cells: [hidden('A'), hidden('B')] },
  ],
  comparisons: 3,
  warning: '3 groups × 2 variants make 3 rates to compare by eye.',
};

describe('an experiment by segment', () => {
  it('shows a cell’s rate and counts, or that it has fewer than 5 viewers', () => {
    const [repeatA] = BREAKDOWN.rows[0]!.cells;
    expect(cellRate(repeatA!)).toBe('25.0%');
    expect(cellDetail(repeatA!)).toBe('2 of 8 bought (7.1% to 59.1%)');
    expect(cellDetail(shown('B', 6, 3))).toBe('3 of 6 bought');
    expect(cellRate(hidden('B'))).toBe('fewer than 5');
    expect(cellDetail(hidden('B'))).toBe('');
    expect(suppressedNote(BREAKDOWN)).toBe('3 cells have fewer than 5 viewers and are not shown.');
    expect(suppressedNote({ rows: [BREAKDOWN.rows[0]!] })).toBe('');
  });

  it('says as of which day the segments are read, and why', () => {
    expect(asOfNote(BREAKDOWN)).toBe(
      'Each viewer who saw the card is counted in the segment of the learner they are, as the segments were on 2025-04-09, the day before the experiment began: buying in it moves nobody to another segment.',
    );
    expect(asOfNote({ ...BREAKDOWN, unit: 'session' })).toMatch(/^Every attendee of the variant’s classes/);
  });

  it('keeps only the newest answer, and forgets it when cleared', async () => {
    const platform = new FakePlatform();
    const slow = deferred<ExperimentSegments>();
    platform.on('experiment_segments', ({ windowDays }) => (windowDays === 7 ? slow.promise : { ...BREAKDOWN, experiment: 'fast' }));
    const store = new SegmentResultsStore(platform, () => 1_000);
    void store.load('ml-price', 7);
    await store.load('ml-price', 14);
    slow.resolve(BREAKDOWN);
    await settle();
    expect(store.breakdown?.experiment).toBe('fast');
    expect(store.readAtMs).toBe(1_000);
    expect(platform.calls.map((c) => c.args)).toEqual([
      { experiment: 'ml-price', windowDays: 7 },
      { experiment: 'ml-price', windowDays: 14 },
    ]);
    store.clear();
    expect(store.breakdown).toBeNull();
  });

  it('says why it could not read the breakdown', async () => {
    const platform = new FakePlatform().fail('experiment_segments', { code: 'not_found', message: 'no offer of experiment "x" has been pushed' });
    const store = new SegmentResultsStore(platform);
    await store.load('x', 7);
    expect(store.error?.code).toBe('not_found');
    expect(store.loading).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import type { AttendanceView, AudienceRepurchase, AudienceSegments, RateView, SegmentSummary } from '../../lib/bindings/api';
import { tableOf } from '../../lib/charts/spec';
import { FakePlatform, settle } from '../../test-support/fake-platform';
import {
  attendanceSentence,
  eligibleText,
  HEAT_STEPS,
  heatLevel,
  heatTop,
  monthsSince,
  namesNote,
  overallSummary,
  percent,
  rateText,
  segmentLabel,
  segmentsSpec,
  segmentsSummary,
  sentence,
} from './audience';
import { AudienceStore } from './audience.svelte';

const rate = (windowDays: number, eligible: number, repurchased: number | null): RateView => ({
  windowDays,
  eligible,
  repurchased,
  rate: repurchased === null ? null : repurchased / eligible,
  rateCi: null,
});

function segment(name: string, size: number, buyers: number): SegmentSummary {
  return {
    name,
    size,
    buyers,
    conversion: buyers / size,
    repurchase90d: rate(90, buyers, buyers === 0 ? null : Math.round(buyers / 2)),
    typicalCourses: [],
    nextCourses: [],
    traits: {
      buyersShare: buyers / size,
      meanVisits: 1,
      meanSpentCents: 0,
      medianDaysSincePurchase: null,
      newShare: 0,
      attendedShare: 0,
      meanEngagement: null,
    },
    interests: [],
  };
}

const SEGMENTS: AudienceSegments = {
  asOf: '2026-10-31',
  learners: 1_400,
  segments: [segment('never bought', 700, 0), segment('loyal repeat buyers who attend classes', 400, 400), segment('repeat buyers', 300, 300)],
  namesKept: 2,
};

describe('the segments chart', () => {
  it('draws members and buyers per segment, named on the axis and in the table', () => {
    const spec = segmentsSpec(SEGMENTS);
    expect(spec.x).toEqual([1, 2, 3]);
    expect(spec.series.map((s) => [s.label, s.kind, s.values])).toEqual([
      ['Members', 'bars', [700, 400, 300]],
      ['Bought', 'bars', [0, 400, 300]],
    ]);
    expect(tableOf(spec).rows).toEqual([
      ['never bought', '700 learners', '0 buyers'],
      ['loyal repeat…', '400 learners', '400 buyers'],
      ['repeat buyers', '300 learners', '300 buyers'],
    ]);
    // Ticks between bars, or beyond them, get no name.
    expect([0, 1.5, 4].map(spec.xFormat)).toEqual(['', '', '']);
  });

  it('cuts a long name at a word', () => {
    expect(segmentLabel('new this month, not bought yet (more engaged)')).toBe('new this month,…');
    expect(segmentLabel('never bought (newer)')).toBe('never bought…');
    expect(segmentLabel('never bought')).toBe('never bought');
    expect(segmentLabel('abcdefghijklmnopqrstuvwxyz', 10)).toBe('abcdefghi…');
  });

  it('says what the chart shows and how the names relate to last time', () => {
    expect(segmentsSummary(SEGMENTS)).toBe(
      '1,400 learners in 3 segments as of 2026-10-31; the largest, “never bought”, has 700 members, 0 buyers among them.',
    );
    expect(namesNote(SEGMENTS)).toBe('2 of 3 segments kept their name from last time; the others are new.');
    expect(namesNote({ ...SEGMENTS, namesKept: 3 })).toBe('Every segment kept its name from last time.');
    expect(segmentsSummary({ ...SEGMENTS, learners: 0, segments: [] })).toMatch(/^No learners yet/);
  });
});

describe('rates', () => {
  it('shows a rate, or why there is none', () => {
    expect(rateText(rate(90, 677, 412))).toBe('61%');
    expect(rateText(rate(90, 3, null))).toBe('fewer than 5 eligible');
    expect(rateText(rate(90, 0, null))).toBe('nobody eligible yet');
    expect(eligibleText(rate(90, 0, null))).toBe('');
    expect(eligibleText(rate(90, 3, null))).toBe('3 eligible');
    expect(eligibleText(rate(90, 677, 412))).toBe('412 of 677 eligible');
    expect(percent(0.004)).toBe('0.4%');
    expect(percent(null)).toBe('–');
  });

  it('reads the attendance comparison as an observed difference', () => {
    const a: AttendanceView = {
      attended: rate(90, 574, 381),
      neverAttended: rate(90, 752, 510),
      difference: 381 / 574 - 510 / 752,
      differenceCi: [-0.0656, 0.0363],
      label: 'observed difference, not a causal effect',
      caveat: 'an observed difference between learners who attended a live class and those who never did, not the effect of attending',
    };
    expect(attendanceSentence(a)).toBe(
      '66% of buyers who attended a live class bought again within 90 days (381 of 574 eligible); 68% of those who never attended did (510 of 752 eligible). ' +
        'Difference: −1.4 points (95% interval −6.6 points to +3.6 points), an observed difference, not a causal effect.',
    );
    expect(attendanceSentence({ ...a, attended: rate(90, 0, null), difference: null, differenceCi: null })).toMatch(/Too few on one side to compare\.$/);
    expect(sentence(a.caveat)).toBe(
      'An observed difference between learners who attended a live class and those who never did, not the effect of attending.',
    );
  });

  it('sums up the three windows with their denominators left to the list', () => {
    const r: AudienceRepurchase = {
      buyers: 1_846,
      lastPurchase: '2026-10-31',
      overall: [rate(30, 1687, 736), rate(90, 1326, 891), rate(180, 858, 624)],
      perCourse: [],
      cohorts: [],
      attendance: {
        attended: rate(90, 0, null),
        neverAttended: rate(90, 0, null),
        difference: null,
        differenceCi: null,
        label: '',
        caveat: '',
      },
    };
    expect(overallSummary(r)).toBe('Of 1,846 buyers, 44% within 30 days, 67% within 90 days, 73% within 180 days of their first purchase (last purchase 2026-10-31).');
    expect(overallSummary({ ...r, buyers: 0 })).toBe('No purchases yet.');
  });
});

describe('the cohort heatmap', () => {
  const rows = [
    { shares: [1, 0.54, 0.2, 0.1, null] },
    { shares: [1, 0.3, null, null, null] },
  ];

  it('scales to the largest share after month 0, which would wash out the rest', () => {
    expect(heatTop(rows)).toBe(0.54);
    expect(heatTop([{ shares: [1, 0.01] }])).toBe(0.05);
    expect(monthsSince(rows)).toEqual([0, 1, 2, 3, 4]);
  });

  it('gives each cell a colour step: none for nobody, the darkest at the top and above', () => {
    const top = heatTop(rows);
    expect(heatLevel(1, top)).toBe(HEAT_STEPS);
    expect(heatLevel(0.54, top)).toBe(HEAT_STEPS);
    expect(heatLevel(0.27, top)).toBe(HEAT_STEPS / 2);
    expect(heatLevel(0.001, top)).toBe(1);
    expect(heatLevel(0, top)).toBe(0);
    expect(heatLevel(null, top)).toBeNull();
  });
});

describe('the audience store', () => {
  it('reads both at start and again when the school changes; each error on its own', async () => {
    const platform = new FakePlatform();
    let learners = 1_400;
    platform.on('audience_segments', () => ({ ...SEGMENTS, learners }));
    platform.fail('audience_repurchase', { code: 'storage', message: 'the disk failed' });
    const store = new AudienceStore(platform);
    const stop = store.start();
    await settle();
    expect(store.segments?.learners).toBe(1_400);
    expect(store.repurchaseError?.message).toBe('the disk failed');
    learners = 1_401;
    platform.emit({ kind: 'school_changed' });
    await settle();
    expect(store.segments?.learners).toBe(1_401);
    stop();
    expect(platform.listenerCount).toBe(0);
  });
});

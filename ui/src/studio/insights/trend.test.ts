import { describe, expect, it } from 'vitest';
import { difference, trendSentence, trendSpec, type CourseTrend, type SessionPoint } from './trend';

function point(id: number, median: number | null, over: Partial<SessionPoint> = {}): SessionPoint {
  return {
    session_id: id,
    title: `Class ${id}`,
    started_at_ms: 1_700_000_000_000 + id * 86_400_000,
    summary:
      median === null
        ? null
        : { session_id: id, title: `Class ${id}`, started_at_ms: 0, viewers: 12, peak_present: 10, median_score: median, mean_watch_minutes: 40, poll_participation_pct: 50, chat_per_viewer_hour: 3, final_retention_pct: 70 },
    vs_previous: null,
    vs_course: null,
    ...over,
  };
}

const rising: CourseTrend = {
  course_id: 'gtr-101',
  sessions: [point(1, 40), point(2, null), point(3, 45, { vs_previous: 5, vs_course: 0 }), point(4, 50, { vs_previous: 5, vs_course: 5 })],
  suppressed: 1,
  mean_median_score: 45,
  slope_per_class: 5,
  direction: 'rising',
};

describe('a course trend', () => {
  it('charts the median score of the shown classes only, in order', () => {
    const spec = trendSpec(rising);
    expect(spec.x).toEqual([1, 2, 3]);
    expect(spec.series[0]!.values).toEqual([40, 45, 50]);
    expect(spec.yRange).toEqual([0, 100]);
  });

  it('reads the direction, this class against the average, and the hidden classes', () => {
    expect(trendSentence(rising, 4)).toBe(
      'Engagement is rising: +5 points per class over 3 classes. This class is 5 points above the course’s average. 1 class had fewer than 5 viewers and is not shown.',
    );
    expect(trendSentence(rising, 3)).toContain('This class is at the course’s average.');
    expect(trendSentence(rising, 4, 'Ana Lima’s')).toContain('This class is 5 points above Ana Lima’s average.');
    expect(trendSentence(rising, 2)).toContain('This class had fewer than 5 viewers, so it is not compared.');
    expect(trendSentence({ ...rising, direction: 'falling', slope_per_class: -2.25 }, 1)).toMatch(/^Engagement is falling: −2.3 points per class/);
    expect(trendSentence({ ...rising, direction: 'flat', slope_per_class: 0.2, slope_low_per_class: -3, slope_high_per_class: 3.4, suppressed: 0 }, 1)).toBe(
      'No clear direction over 3 classes: +0.2 points per class (95% interval −3 to +3.4), which could be chance.',
    );
    expect(trendSentence({ ...rising, slope_low_per_class: 1.5, slope_high_per_class: 8.5 }, 1)).toMatch(/^Engagement is rising: \+5 points per class over 3 classes \(95% interval \+1.5 to \+8.5\)\./);
    expect(trendSentence({ ...rising, sessions: [point(1, 40)], suppressed: 0, direction: 'too_few_classes' }, 1)).toBe('1 class to compare: a direction needs at least 3.');
  });

  it('signs differences', () => {
    expect([difference(2.5), difference(-1), difference(0), difference(null)]).toEqual(['+2.5', '−1', '0', '–']);
  });
});

import { describe, expect, it } from 'vitest';
import type { Course, OfferResults, VariantResult } from '../../lib/bindings/api';
import { deferred, FakePlatform, settle } from '../../test-support/fake-platform';
import { addVariant, checkUrl, emptyDraft, evenWeights, newOfferId, removeVariant, specFromDraft, weightSum, withCourse, type OfferDraft } from './offer-draft';
import { axisMax, countingNote, csvCell, csvFileName, elapsedLabel, historySpec, historySummary, planArgs, planDefaults, saleArgs, signedPct, srmAlert, variantsCsv } from './results';
import { ResultsStore } from './results.svelte';

const DOCKER: Course = { id: 'docker', title: 'Docker in Practice', level: 'beginner', priceCents: 4900, currency: 'EUR', lengthMinutes: 240, tags: [] };

function ready(): OfferDraft {
  const draft = withCourse(emptyDraft(), DOCKER);
  draft.checkoutUrl = 'https://shop.example.com/docker?lang=en';
  draft.discount = '20';
  return draft;
}

describe('the offer editor', () => {
  it('prefills title, price and currency from the course and keeps the link', () => {
    const draft = emptyDraft();
    draft.checkoutUrl = 'https://shop.example.com/x';
    const filled = withCourse(draft, DOCKER);
    expect(filled).toMatchObject({ courseId: 'docker', title: 'Docker in Practice', price: '49.00', currency: 'EUR', experiment: 'docker-offer', cta: 'Enrol now' });
    expect(filled.checkoutUrl).toBe('https://shop.example.com/x');
  });

  it('makes the spec the room expects, overrides only where typed', () => {
    const draft = ready();
    draft.variants[1]!.price = '39';
    draft.variants[1]!.cta = 'Join for less';
    const result = specFromDraft(draft, 'docker-x1');
    expect(result).toEqual({
      spec: {
        id: 'docker-x1',
        course_id: 'docker',
        experiment: 'docker-offer',
        metric: 'conversion',
        title: 'Docker in Practice',
        cta: 'Enrol now',
        price_cents: 4900,
        currency: 'EUR',
        discount_pct: 20,
        checkout_url: 'https://shop.example.com/docker?lang=en',
        variants: [
          { name: 'A', weight: 0.5 },
          { name: 'B', weight: 0.5, price_cents: 3900, cta: 'Join for less' },
        ],
      },
    });
  });

  it('says what to fix first', () => {
    const problem = (change: (d: OfferDraft) => void) => {
      const d = ready();
      change(d);
      const r = specFromDraft(d, 'x');
      return 'problem' in r ? [r.field, r.problem] : null;
    };
    expect(problem(() => {})).toBeNull();
    expect(problem((d) => (d.courseId = ''))?.[0]).toBe('course');
    expect(problem((d) => (d.title = '  '))).toEqual(['title', 'Write the title.']);
    expect(problem((d) => (d.title = 'x'.repeat(81)))?.[0]).toBe('title');
    expect(problem((d) => (d.price = 'free'))?.[0]).toBe('price');
    expect(problem((d) => (d.discount = '120'))?.[0]).toBe('discount');
    expect(problem((d) => (d.checkoutUrl = 'http://shop.example.com'))).toEqual(['url', 'The checkout link must start with https://.']);
    expect(problem((d) => (d.variants[0]!.weight = '60'))).toEqual(['variant-0', "The variants' shares add up to 110%, not 100%."]);
    expect(problem((d) => (d.variants[0]!.minute = '10'))?.[1]).toMatch(/every variant a minute/);
    expect(problem((d) => (d.variants[1]!.name = 'A'))?.[1]).toBe('Two variants are named A.');
    expect(problem((d) => (d.experiment = 'two words'))?.[0]).toBe('experiment');
  });

  it('accepts only https links the room accepts', () => {
    expect(checkUrl('https://shop.example.com/c?x=1#top')).toBeNull();
    expect(checkUrl('javascript:alert(1)')).toMatch(/https/);
    expect(checkUrl('https://user:pw@shop.example.com')).toMatch(/user name/);
    expect(checkUrl('https://shop.example.com/?ref=abc')).toMatch(/ref=/);
    expect(checkUrl('https://shop.example.com/a b')).toMatch(/spaces/);
    expect(checkUrl('https://' + 'a'.repeat(600) + '.com')).toMatch(/at most 512/);
  });

  it('keeps 1 to 4 variants whose shares add up to 100', () => {
    expect(evenWeights(2)).toEqual(['50', '50']);
    expect(evenWeights(3)).toEqual(['33.33', '33.33', '33.34']);
    const draft = ready();
    addVariant(draft);
    addVariant(draft);
    addVariant(draft);
    expect(draft.variants.map((v) => v.name)).toEqual(['A', 'B', 'C', 'D']);
    expect(weightSum(draft)).toBe(100);
    removeVariant(draft, 1);
    expect(draft.variants.map((v) => v.name)).toEqual(['A', 'C', 'D']);
    const spec = specFromDraft(draft, 'x');
    expect('spec' in spec && spec.spec.variants.reduce((s, v) => s + v.weight, 0)).toBeCloseTo(1, 9);
    removeVariant(draft, 0);
    removeVariant(draft, 0);
    removeVariant(draft, 0);
    expect(draft.variants).toHaveLength(1);
  });

  it('makes offer ids the room accepts', () => {
    const id = newOfferId('a-very-long-course-identifier-that-goes-on-and-on', 1_767_225_600_000);
    expect(id.length).toBeLessThanOrEqual(40);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(newOfferId('docker', 1)).toBe('docker-1');
  });
});

function variant(name: string, over: Partial<VariantResult> = {}): VariantResult {
  return {
    name, weight: 0.5, units: 10, attendees: 10, exposed: 10, clicked: 3, converted: 1, revenueCents: 3900,
    rate: 0.1, rateCi: [0.018, 0.404], lift: null, liftCi: null, chanceToWin: null, verdict: 'not_enough_data', summary: 'A: not enough data yet',
    revenue: { perUnitCents: 390, lift: null, liftCi: null, chanceToWin: null, verdict: null, summary: 'A is the control' }, ...over,
  };
}

function results(over: Partial<OfferResults> = {}): OfferResults {
  return {
    experiment: 'docker-offer', courseId: 'docker', unit: 'viewer', sessions: 1, windowDays: 7, timeZone: 'Europe/Paris', priorOwners: 0, metric: 'conversion',
    variants: [variant('A'), variant('B', { lift: 0.5, liftCi: [-0.9, 4.1], summary: '=B is "50%" better, maybe' })],
    srmPValue: 0.5, analysis: null, revenueAnalysis: null, history: [], ...over,
  };
}

describe('experiment results', () => {
  it('says who was counted and how dates are read', () => {
    expect(countingNote(results())).toBe(
      'Counted: 20 viewers who saw the offer. This experiment decides on the share who buy; revenue per viewer is for information. A purchase counts within 7 days after; a purchase with a date but no time is read in Europe/Paris.',
    );
    const timing = countingNote(results({ unit: 'session', priorOwners: 1, windowDays: 1, metric: 'revenue' }));
    expect(timing).toContain('decides on revenue per viewer');
    expect(timing).toMatch(/^Counted: all 20 attendees of the classes, whether or not they saw the offer/);
    expect(timing).toContain(' 1 viewer who already owned the course is left out.');
    expect(timing).toContain('within 1 day after');
  });

  it('warns about sample ratio mismatch below p = 0.001 only', () => {
    expect(srmAlert({ srmPValue: 0.0009 })).toBe(true);
    expect(srmAlert({ srmPValue: 0.001 })).toBe(false);
    expect(srmAlert({ srmPValue: null })).toBe(false);
  });

  it('writes the variants table as CSV, quoting and defusing formulas', () => {
    const csv = variantsCsv(results());
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('variant,weight,units,exposed,clicked,converted,revenue_cents,rate,rate_low,rate_high,lift,lift_low,lift_high,chance_to_win,verdict,summary,revenue_per_unit_cents,revenue_lift,revenue_lift_low,revenue_lift_high,revenue_chance_to_win,revenue_verdict');
    expect(lines[1]).toBe('A,0.5,10,10,3,1,3900,0.1,0.018,0.404,,,,,not_enough_data,A: not enough data yet,390,,,,,');
    expect(lines[2]).toBe(`B,0.5,10,10,3,1,3900,0.1,0.018,0.404,0.5,-0.9,4.1,,not_enough_data,"'=B is ""50%"" better, maybe",390,,,,,`);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvFileName('docker/offer')).toBe('docker-offer-variants.csv');
  });

  it('scales the chart to the widest interval', () => {
    expect(axisMax([variant('A', { rate: 0.03, rateCi: [0.01, 0.04] })])).toBe(0.05);
    expect(axisMax([variant('A', { rate: 0.1, rateCi: [0.018, 0.404] })])).toBe(0.5);
    expect(signedPct(-0.035)).toBe('−3.5%');
  });

  it('reads the experiment, keeps only the newest answer, and says when nothing was pushed', async () => {
    const first = deferred<OfferResults>();
    let answer: Promise<OfferResults> | OfferResults = first.promise;
    const platform = new FakePlatform().on('offer_results', () => answer);
    let tick: (() => void) | null = null;
    const store = new ResultsStore({
      platform,
      setInterval: (fn) => ((tick = fn), 1),
      clearInterval: () => (tick = null),
      visible: () => true,
    });
    const stop = store.start();
    store.show('old');
    answer = results();
    store.show('docker-offer');
    await settle();
    first.resolve(results({ experiment: 'old' }));
    await settle();
    expect(store.results?.experiment).toBe('docker-offer');
    expect(platform.calls.at(-1)?.args).toEqual({ experiment: 'docker-offer', windowDays: 7 });

    platform.fail('offer_results', { code: 'not_found', message: 'no offer' });
    tick!();
    await settle();
    expect(store.error?.code).toBe('not_found');
    expect(store.results).toBeNull();
    stop();
    expect(tick).toBeNull();
  });
});

describe('the history, the planner and a sale by hand', () => {
  const history = [
    { atMs: 1_000_000, exposed: [1, 0], converted: [0, 0], rate: [0, null], rateCi: [[0, 0.79] as [number, number], null] },
    { atMs: 1_000_000 + 30 * 60_000, exposed: [10, 8], converted: [1, 2], rate: [0.1, 0.25], rateCi: [null, null] },
  ];

  it('charts each variant\'s rate so far in percent, from the first exposure', () => {
    const spec = historySpec(results({ history }));
    expect(spec.x).toEqual([0, 30]);
    expect(spec.series.map((s) => s.label)).toEqual(['A', 'B']);
    expect(spec.series[1]!.values).toEqual([null, 25]);
    expect(spec.series[0]!.values).toEqual([0, 10]);
    expect(historySummary(results({ history }))).toBe('Conversion rate so far, per variant, over 30 min: A 10.0% (1 of 10), B 25.0% (2 of 8).');
    expect(historySummary(results())).toBe('Nobody has seen the offer yet.');
    expect([elapsedLabel(0.5), elapsedLabel(2.25), elapsedLabel(45), elapsedLabel(150), elapsedLabel(3 * 1440)]).toEqual(['30 s', '2.3 min', '45 min', '2.5 h', '3 d']);
  });

  it('prefills the planner from the results and checks it before asking', () => {
    expect(planDefaults(results({ sessions: 2 }))).toEqual({ baselinePct: '10', liftPct: '20', classSize: '10' });
    expect(planDefaults(null)).toEqual({ baselinePct: '5', liftPct: '20', classSize: '100' });
    expect(planArgs({ baselinePct: '5,5', liftPct: '20', classSize: '300' }, [0.5, 0.5])).toEqual({
      args: { baselineRate: 0.055, relativeLift: 0.2, classSize: 300, weights: [0.5, 0.5] },
    });
    expect(planArgs({ baselinePct: '0', liftPct: '20', classSize: '300' }, null)).toHaveProperty('problem');
    expect(planArgs({ baselinePct: '5', liftPct: 'lots', classSize: '300' }, null)).toHaveProperty('problem');
    expect(planArgs({ baselinePct: '5', liftPct: '20', classSize: '2.5' }, null)).toHaveProperty('problem');
  });

  it('needs a reference code, an order number and an amount for a sale by hand', () => {
    expect(saleArgs({ refCode: ' spring.B.v-01 ', orderId: '1001', amount: '39.00', date: '' }, 'docker', 'EUR')).toEqual({
      args: { orderId: '1001', courseId: 'docker', amount: '39.00', currency: 'EUR', date: null, refCode: 'spring.B.v-01', learner: null },
    });
    expect(saleArgs({ refCode: '', orderId: '1', amount: '1', date: '' }, 'docker', 'EUR')).toHaveProperty('problem');
    expect(saleArgs({ refCode: 'r', orderId: ' ', amount: '1', date: '' }, 'docker', 'EUR')).toHaveProperty('problem');
    expect(saleArgs({ refCode: 'r', orderId: '1', amount: '', date: '2026-11-28' }, 'docker', 'EUR')).toHaveProperty('problem');
  });
});

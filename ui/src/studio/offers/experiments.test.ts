import { describe, expect, it } from 'vitest';
import type { ExperimentSummary } from '../../lib/bindings/api';
import { deferred, FakePlatform, settle } from '../../test-support/fake-platform';
import { ExperimentsStore } from './experiments.svelte';

function summary(experiment: string, patch: Partial<ExperimentSummary> = {}): ExperimentSummary {
  return {
    experiment,
    courseId: 'py-101',
    courseTitle: 'Python 101',
    firstPushedMs: 1_800_000_000_000,
    lastPushedMs: 1_800_000_000_000,
    sessions: 1,
    live: false,
    variants: ['A', 'B'],
    exposed: 10,
    converted: 1,
    verdict: 'not_enough_data',
    summary: 'B has no difference to read yet',
    ...patch,
  };
}

describe('the experiments list', () => {
  it('reads the list at start and again when the school changes', async () => {
    const platform = new FakePlatform();
    let answer = [summary('price-test')];
    platform.on('experiments', () => answer);
    const store = new ExperimentsStore(platform);
    const stop = store.start();
    await settle();
    expect(store.list?.map((e) => e.experiment)).toEqual(['price-test']);
    answer = [summary('timing-test'), summary('price-test')];
    platform.emit({ kind: 'school_changed' });
    await settle();
    expect(store.list?.map((e) => e.experiment)).toEqual(['timing-test', 'price-test']);
    stop();
    expect(platform.listenerCount).toBe(0);
  });

  it('a refresh during a read makes one more read after it, not one each', async () => {
    const platform = new FakePlatform();
    const first = deferred<ExperimentSummary[]>();
    let calls = 0;
    platform.on('experiments', () => {
      calls += 1;
      return calls === 1 ? first.promise : [summary('later')];
    });
    const store = new ExperimentsStore(platform);
    void store.refresh();
    void store.refresh();
    void store.refresh();
    first.resolve([summary('first')]);
    await settle();
    await settle();
    expect(calls).toBe(2);
    expect(store.list?.map((e) => e.experiment)).toEqual(['later']);
  });

  it('says why it could not read the list', async () => {
    const platform = new FakePlatform().fail('experiments', { code: 'no_school', message: 'no school is open' });
    const store = new ExperimentsStore(platform);
    await store.refresh();
    expect(store.error).toBe('no school is open');
    expect(store.list).toBeNull();
  });
});

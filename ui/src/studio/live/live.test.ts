import { describe, expect, it } from 'vitest';
import type { BroadcastStatus, StudioEvent } from '../../lib/bindings/api';
import { deferred, FakePlatform, settle } from '../../test-support/fake-platform';
import { snapshot } from '../insights/snapshot-fixture';
import { LiveEngagementStore } from './live.svelte';
import { offerIntent } from './offer-intent.svelte';

const tick: StudioEvent = { kind: 'broadcast_stats', status: {} as BroadcastStatus };
const courses = [{ courseId: 'gtr-201', title: 'Barre chords', reason: '34 of 120 learners who took Guitar 101 took it next', audienceWithoutIt: 12 }];

describe('LiveEngagementStore', () => {
  it('loads at once, then refreshes on every second tick of the engine’s clock', async () => {
    const platform = new FakePlatform().on('live_engagement', () => snapshot()).on('recommend_next', () => courses);
    const store = new LiveEngagementStore(platform);
    store.start();
    await settle();
    expect(platform.count('live_engagement')).toBe(1);
    expect(store.snapshot?.totals.present).toBe(2);
    expect(store.recommendations).toEqual(courses);
    expect(platform.calls.find((c) => c.command === 'recommend_next')?.args).toEqual({ sessionId: null });

    platform.emit(tick);
    await settle();
    expect(platform.count('live_engagement')).toBe(1);
    platform.emit(tick);
    await settle();
    expect(platform.count('live_engagement')).toBe(2);
  });

  it('asks one at a time, however the ticks pile up', async () => {
    const slow = deferred<unknown>();
    const platform = new FakePlatform().on('live_engagement', () => slow.promise).on('recommend_next', () => []);
    const store = new LiveEngagementStore(platform);
    store.start();
    for (let i = 0; i < 6; i += 1) platform.emit(tick);
    await settle();
    expect(platform.count('live_engagement')).toBe(1);
    slow.resolve(snapshot());
    await settle();
    expect(store.snapshot).not.toBeNull();
  });

  it('knows when no class is on air, and stops listening when stopped', async () => {
    const platform = new FakePlatform()
      .fail('live_engagement', { code: 'conflict', message: 'no class is live' })
      .on('recommend_next', () => []);
    const store = new LiveEngagementStore(platform);
    const stop = store.start();
    await settle();
    expect(store.offAir).toBe(true);
    expect(store.error).toBeNull();
    stop();
    expect(platform.listenerCount).toBe(0);
  });

  it('keeps other failures to show them', async () => {
    const platform = new FakePlatform()
      .fail('live_engagement', { code: 'internal', message: 'boom' })
      .fail('recommend_next', { code: 'no_school', message: 'no school' });
    const store = new LiveEngagementStore(platform);
    store.start();
    await settle();
    expect(store.error).toEqual({ code: 'internal', message: 'boom' });
    expect(store.recommendationsError?.code).toBe('no_school');
  });
});

describe('offerIntent', () => {
  it('hands the chosen course to the Offers screen once', () => {
    offerIntent.propose({ courseId: 'gtr-201', title: 'Barre chords' });
    expect(offerIntent.take()).toEqual({ courseId: 'gtr-201', title: 'Barre chords' });
    expect(offerIntent.take()).toBeNull();
  });
});

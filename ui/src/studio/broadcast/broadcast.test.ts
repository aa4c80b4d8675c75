import { describe, expect, it } from 'vitest';
import { demoOverview } from '../../test-support/overviews';
import { FakePlatform, settle } from '../../test-support/fake-platform';
import { OverviewStore } from '../home/overview.svelte';
import { BroadcastStore } from './broadcast.svelte';

describe('BroadcastStore', () => {
  it('starts a class with a trimmed title and shows it live at once', async () => {
    const platform = new FakePlatform()
      .on('overview', () => demoOverview())
      .on('start_class', ({ title }) => ({ state: 'live', sessionId: 9, title, startedAtMs: 1 }));
    const overview = new OverviewStore(platform);
    await overview.load();
    const broadcast = new BroadcastStore(platform, overview);
    expect(await broadcast.start('  Week 3  ')).toBe(true);
    expect(platform.calls.at(-1)).toEqual({ command: 'start_class', args: { title: 'Week 3', courseId: null } });
    expect(overview.data?.live).toEqual({ state: 'live', sessionId: 9, title: 'Week 3', startedAtMs: 1 });
    expect(broadcast.pending).toBeNull();
  });

  it('keeps a conflict as its error', async () => {
    const platform = new FakePlatform()
      .on('overview', () => demoOverview())
      .fail('end_class', { code: 'conflict', message: 'no class is live' });
    const overview = new OverviewStore(platform);
    await overview.load();
    const broadcast = new BroadcastStore(platform, overview);
    expect(await broadcast.end()).toBe(false);
    await settle();
    expect(broadcast.error?.code).toBe('conflict');
  });
});

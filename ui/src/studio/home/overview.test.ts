import { describe, expect, it } from 'vitest';
import type { Overview } from '../../lib/bindings/api';
import { deferred, FakePlatform, settle } from '../../test-support/fake-platform';
import { demoOverview, LAN_OPEN, LOCAL_ONLY, noSchoolOverview } from '../../test-support/overviews';
import { OverviewStore } from './overview.svelte';

describe('OverviewStore', () => {
  it('subscribes and loads the overview once on start', async () => {
    const platform = new FakePlatform().on('overview', () => demoOverview());
    const store = new OverviewStore(platform);
    store.start();
    expect(store.loading).toBe(true);
    await settle();

    expect(platform.count('overview')).toBe(1);
    expect(platform.listenerCount).toBe(1);
    expect(store.loading).toBe(false);
    expect(store.data?.school?.name).toBe('Demo Guitar School');
    expect(store.error).toBeNull();
  });

  it('refetches on school_changed and on nothing else', async () => {
    let name = 'First';
    const platform = new FakePlatform().on('overview', () =>
      demoOverview({ school: { name, isDemo: false, dbPath: '/x', createdAtMs: 0, timeZone: 'UTC' } }),
    );
    const store = new OverviewStore(platform);
    store.start();
    await settle();

    platform.emit({ kind: 'backup_progress', done: 1, total: 2 });
    platform.emit({ kind: 'network_changed', network: LAN_OPEN });
    await settle();
    expect(platform.count('overview')).toBe(1);

    name = 'Second';
    platform.emit({ kind: 'school_changed' });
    await settle();
    expect(platform.count('overview')).toBe(2);
    expect(store.data?.school?.name).toBe('Second');
  });

  it('holds a storage problem from its event until writes work again', async () => {
    const platform = new FakePlatform().on('overview', () => demoOverview());
    const store = new OverviewStore(platform);
    store.start();
    await settle();
    expect(store.data?.storageProblem).toBeNull();
    const error = { code: 'disk_full' as const, message: 'The disk is full, so nothing more could be saved.' };
    platform.emit({ kind: 'storage_problem', error });
    expect(store.data?.storageProblem).toEqual(error);
    expect(store.data?.school?.name).toBe('Demo Guitar School');
    platform.emit({ kind: 'storage_recovered' });
    expect(store.data?.storageProblem).toBeNull();
    expect(platform.count('overview')).toBe(1);
  });

  it('holds a recording notice from its event until it is cleared', async () => {
    const platform = new FakePlatform().on('overview', () => demoOverview());
    const store = new OverviewStore(platform);
    store.start();
    await settle();
    expect(store.data?.recordingNotice).toBeNull();
    const notice = { kind: 'stopped_low_disk' as const, message: 'The recording stopped: less than 500 MB free.', freeBytes: null };
    platform.emit({ kind: 'recording_notice', notice });
    expect(store.data?.recordingNotice).toEqual(notice);
    platform.emit({ kind: 'recording_notice', notice: null });
    expect(store.data?.recordingNotice).toBeNull();
    expect(platform.count('overview')).toBe(1);
  });

  it('replaces only the network on network_changed', async () => {
    const platform = new FakePlatform().on('overview', () => demoOverview());
    const store = new OverviewStore(platform);
    store.start();
    await settle();

    platform.emit({ kind: 'network_changed', network: LAN_OPEN });
    expect(store.data?.network).toEqual(LAN_OPEN);
    expect(store.data?.school?.name).toBe('Demo Guitar School');
  });

  it('keeps a network change announced while a load was under way', async () => {
    const answer = deferred<Overview>();
    const platform = new FakePlatform().on('overview', () => answer.promise);
    const store = new OverviewStore(platform);
    store.start();
    platform.emit({ kind: 'network_changed', network: LAN_OPEN });
    answer.resolve(demoOverview({ network: LOCAL_ONLY }));
    await settle();
    expect(store.data?.network).toEqual(LAN_OPEN);
  });

  it('ignores an answer overtaken by a newer load', async () => {
    const first = deferred<Overview>();
    const second = deferred<Overview>();
    const answers = [first, second];
    const platform = new FakePlatform().on('overview', () => answers.shift()!.promise);
    const store = new OverviewStore(platform);
    store.start();
    await settle();
    platform.emit({ kind: 'school_changed' });
    await settle();

    second.resolve(demoOverview({ appVersion: 'new' }));
    await settle();
    first.resolve(demoOverview({ appVersion: 'old' }));
    await settle();
    expect(store.data?.appVersion).toBe('new');
    expect(store.loading).toBe(false);
  });

  it('keeps the error code and message of a failed load, and clears them on success', async () => {
    const platform = new FakePlatform().fail('overview', { code: 'database_locked', message: 'Locked by pid 42' });
    const store = new OverviewStore(platform);
    store.start();
    await settle();
    expect(store.data).toBeNull();
    expect(store.error).toEqual({ code: 'database_locked', message: 'Locked by pid 42' });

    platform.on('overview', () => demoOverview());
    await store.load();
    expect(store.error).toBeNull();
    expect(store.data).not.toBeNull();
  });

  it('opens the demo school from the first-run state', async () => {
    const platform = new FakePlatform()
      .on('overview', () => noSchoolOverview())
      .on('open_demo_school', () => demoOverview());
    const store = new OverviewStore(platform);
    store.start();
    await settle();
    expect(store.data?.school).toBeNull();

    const opening = store.openDemoSchool();
    expect(store.pending).toBe('open_demo');
    expect(await opening).toBe(true);
    expect(store.pending).toBeNull();
    expect(store.data?.school?.isDemo).toBe(true);
  });

  it('does not let an older load overwrite a school just created', async () => {
    const slowLoad = deferred<Overview>();
    const platform = new FakePlatform()
      .on('overview', () => slowLoad.promise)
      .on('create_school', ({ name }) =>
        demoOverview({ school: { name, isDemo: false, dbPath: '/s', createdAtMs: 1, timeZone: 'UTC' } }),
      );
    const store = new OverviewStore(platform);
    store.start();
    await store.createSchool('Northside Guitar');
    slowLoad.resolve(noSchoolOverview());
    await settle();
    expect(store.data?.school?.name).toBe('Northside Guitar');
    expect(platform.calls.find((c) => c.command === 'create_school')?.args).toEqual({ name: 'Northside Guitar' });
  });

  it('shows a failed action as an error and keeps the data', async () => {
    const platform = new FakePlatform()
      .on('overview', () => demoOverview())
      .fail('set_network_access', { code: 'forbidden', message: 'Only the instructor can do that' });
    const store = new OverviewStore(platform);
    store.start();
    await settle();
    expect(await store.setNetworkAccess(true)).toBe(false);
    expect(store.error?.code).toBe('forbidden');
    expect(store.data?.network).toEqual(LOCAL_ONLY);
  });

  it('applies the network returned by set_network_access', async () => {
    const platform = new FakePlatform()
      .on('overview', () => demoOverview())
      .on('set_network_access', ({ lanOpen }) => (lanOpen ? LAN_OPEN : LOCAL_ONLY));
    const store = new OverviewStore(platform);
    store.start();
    await settle();
    expect(await store.setNetworkAccess(true)).toBe(true);
    expect(store.data?.network).toEqual(LAN_OPEN);
  });

  it('stops listening when stopped', async () => {
    const platform = new FakePlatform().on('overview', () => demoOverview());
    const store = new OverviewStore(platform);
    const stop = store.start();
    await settle();
    stop();
    expect(platform.listenerCount).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { demoOverview } from '../../test-support/overviews';
import { FakePlatform, settle } from '../../test-support/fake-platform';
import { OverviewStore } from '../home/overview.svelte';
import { BroadcastStore } from './broadcast.svelte';

describe('BroadcastStore', () => {
  it('starts a class with a trimmed title and shows it live at once', async () => {
    const platform = new FakePlatform()
      .on('overview', () => demoOverview())
      .on('start_class', ({ title }) => ({ state: 'live' as const, sessionId: 9, title, startedAtMs: 1 }));
    const overview = new OverviewStore(platform);
    await overview.load();
    const broadcast = new BroadcastStore(platform, overview);
    expect(await broadcast.start('  Week 3  ')).toBe(true);
    expect(platform.calls.at(-1)).toEqual({ command: 'start_class', args: { title: 'Week 3', courseId: null, instructor: null, record: true } });
    expect(overview.data?.live).toEqual({ state: 'live', sessionId: 9, title: 'Week 3', startedAtMs: 1 });
    expect(broadcast.pending).toBeNull();
  });

  it('names the course taught and the instructor when given', async () => {
    const platform = new FakePlatform()
      .on('overview', () => demoOverview())
      .on('start_class', ({ title }) => ({ state: 'live' as const, sessionId: 9, title, startedAtMs: 1 }));
    const overview = new OverviewStore(platform);
    await overview.load();
    const broadcast = new BroadcastStore(platform, overview);
    expect(await broadcast.start('Week 4', 'gtr-101', '  Ana Lima ')).toBe(true);
    expect(platform.calls.at(-1)).toEqual({ command: 'start_class', args: { title: 'Week 4', courseId: 'gtr-101', instructor: 'Ana Lima', record: true } });
  });

  it('keeps one class out of the recordings when asked', async () => {
    const platform = new FakePlatform()
      .on('overview', () => demoOverview())
      .on('start_class', ({ title }) => ({ state: 'live' as const, sessionId: 9, title, startedAtMs: 1 }));
    const overview = new OverviewStore(platform);
    await overview.load();
    const broadcast = new BroadcastStore(platform, overview);
    expect(await broadcast.start('Office hours', null, '', false)).toBe(true);
    expect(platform.calls.at(-1)).toEqual({ command: 'start_class', args: { title: 'Office hours', courseId: null, instructor: null, record: false } });
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

describe('BroadcastStore status', () => {
  const STATUS = {
    source: 'test_card',
    codecs: ['video/VP8', 'audio/opus'],
    viewers: 2,
    whipPath: '/whip',
    publishKey: 'ba7b07f30b77abcb60eabbab73e1a144',
    replacePublisher: false,
    upstreamKeyframeRequests: 0,
    outgoingKbps: 0,
    perViewerKbps: 2500,
    perViewerMeasured: false,
    uplinkKbps: null,
    directViewerCapacity: null,
    uplinkUse: null,
    uplinkWarning: null,
    viewerStats: [],
    relay: null,
    recordClasses: true,
    recording: null,
  };

  class Timers {
    pending = new Map<number, () => void>();
    next = 1;
    setTimeout = (fn: () => void) => {
      const id = this.next++;
      this.pending.set(id, fn);
      return id;
    };
    clearTimeout = (id: unknown) => {
      this.pending.delete(id as number);
    };
    fire() {
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const fn of all) fn();
    }
  }

  it('reads the status while watched (a slow fallback poll), and stops when the screen goes', async () => {
    let viewers = 0;
    const platform = new FakePlatform().on('broadcast_status', () => ({ ...STATUS, viewers: viewers++ }));
    const timers = new Timers();
    const broadcast = new BroadcastStore(platform, new OverviewStore(platform), timers);
    const stop = broadcast.watchStatus();
    await settle();
    expect(broadcast.status?.viewers).toBe(0);
    expect(timers.pending.size).toBe(1);
    timers.fire();
    await settle();
    expect(broadcast.status?.viewers).toBe(1);
    stop();
    expect(timers.pending.size).toBe(0);
    expect(platform.count('broadcast_status')).toBe(2);
  });

  it('changes one setting and leaves the other alone', async () => {
    const platform = new FakePlatform().on('set_broadcast', (args) => ({ ...STATUS, replacePublisher: args.replacePublisher ?? false }));
    const broadcast = new BroadcastStore(platform, new OverviewStore(platform), new Timers());
    expect(await broadcast.setBroadcast('replacePublisher', true)).toBe(true);
    expect(platform.calls.at(-1)).toEqual({ command: 'set_broadcast', args: { replacePublisher: true, testCard: null, uplinkKbps: null } });
    expect(broadcast.status?.replacePublisher).toBe(true);
  });

  it('keeps a refused setting as its error', async () => {
    const platform = new FakePlatform().fail('set_broadcast', { code: 'internal', message: 'a publisher is already live (publisher_exists)' });
    const broadcast = new BroadcastStore(platform, new OverviewStore(platform), new Timers());
    expect(await broadcast.setBroadcast('testCard', true)).toBe(false);
    expect(broadcast.statusError?.message).toMatch(/publisher/);
    expect(broadcast.setting).toBeNull();
  });

  it('sets the upload budget in kbit/s and removes it with 0', async () => {
    const platform = new FakePlatform().on('set_broadcast', (args) => ({ ...STATUS, uplinkKbps: args.uplinkKbps || null }));
    const broadcast = new BroadcastStore(platform, new OverviewStore(platform), new Timers());
    expect(await broadcast.setUplink(20_000)).toBe(true);
    expect(platform.calls.at(-1)).toEqual({ command: 'set_broadcast', args: { replacePublisher: null, testCard: null, uplinkKbps: 20_000 } });
    expect(broadcast.status?.uplinkKbps).toBe(20_000);
    expect(await broadcast.setUplink(null)).toBe(true);
    expect(platform.calls.at(-1)?.args).toEqual({ replacePublisher: null, testCard: null, uplinkKbps: 0 });
    expect(broadcast.status?.uplinkKbps).toBeNull();
  });

  it('starts the relay with a trimmed URL and an optional token, stops it with null, and keeps refusals', async () => {
    const relay = { url: 'https://sfu.example.org/whip', state: 'connecting', attempts: 0, lastError: null, kbps: 0, playbackUrl: null };
    const platform = new FakePlatform().on('set_relay', (args) => ({ ...STATUS, relay: args.url ? relay : null }));
    const broadcast = new BroadcastStore(platform, new OverviewStore(platform), new Timers());
    expect(await broadcast.setRelay('  https://sfu.example.org/whip ', '  ')).toBe(true);
    expect(platform.calls.at(-1)).toEqual({ command: 'set_relay', args: { url: 'https://sfu.example.org/whip', token: null, playbackUrl: null } });
    expect(await broadcast.setRelay('https://sfu.example.org/whip', null, ' https://sfu.example.org/whep ')).toBe(true);
    expect(platform.calls.at(-1)?.args).toEqual({ url: 'https://sfu.example.org/whip', token: null, playbackUrl: 'https://sfu.example.org/whep' });
    expect(broadcast.status?.relay?.state).toBe('connecting');
    expect(await broadcast.setRelay(null, null)).toBe(true);
    expect(platform.calls.at(-1)?.args).toEqual({ url: null, token: null, playbackUrl: null });
    expect(broadcast.status?.relay).toBeNull();
    const refusing = new FakePlatform().fail('set_relay', { code: 'invalid_input', message: 'not a URL' });
    const other = new BroadcastStore(refusing, new OverviewStore(refusing), new Timers());
    expect(await other.setRelay('ftp://x', 'secret')).toBe(false);
    expect(other.statusError?.code).toBe('invalid_input');
  });

  it('follows the engine\'s broadcast_stats events while watched, and stops listening after', async () => {
    const platform = new FakePlatform().on('broadcast_status', () => ({ ...STATUS, viewers: 0 }));
    const broadcast = new BroadcastStore(platform, new OverviewStore(platform), new Timers());
    const stop = broadcast.watchStatus();
    await settle();
    expect(broadcast.status?.viewers).toBe(0);
    platform.emit({ kind: 'broadcast_stats', status: { ...STATUS, viewers: 7 } });
    expect(broadcast.status?.viewers).toBe(7);
    expect(platform.count('broadcast_status')).toBe(1);
    stop();
    platform.emit({ kind: 'broadcast_stats', status: { ...STATUS, viewers: 9 } });
    expect(broadcast.status?.viewers).toBe(7);
  });
});

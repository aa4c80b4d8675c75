import { describe, expect, it } from 'vitest';
import type { BackupDone } from '../../lib/bindings/api';
import { deferred, FakePlatform, settle } from '../../test-support/fake-platform';
import { BackupStore } from './backup.svelte';

describe('BackupStore', () => {
  it('follows backup_progress while running, then shows where it saved', async () => {
    const answer = deferred<BackupDone>();
    const platform = new FakePlatform().on('backup_school', () => answer.promise);
    const store = new BackupStore(platform);
    store.start();

    const running = store.backUp();
    expect(store.running).toBe(true);
    expect(store.progress).toBeNull();
    platform.emit({ kind: 'backup_progress', done: 3, total: 10 });
    expect(store.progress).toEqual({ done: 3, total: 10 });
    platform.emit({ kind: 'backup_progress', done: 10, total: 10 });
    expect(store.progress).toEqual({ done: 10, total: 10 });

    answer.resolve({ path: '/backups/school-2025.sqlite', bytes: 2_400_000 });
    await running;
    expect(store.running).toBe(false);
    expect(store.progress).toBeNull();
    expect(store.last).toEqual({ path: '/backups/school-2025.sqlite', bytes: 2_400_000 });
  });

  it('ignores progress when no backup of its own is running', async () => {
    const platform = new FakePlatform();
    const store = new BackupStore(platform);
    store.start();
    platform.emit({ kind: 'backup_progress', done: 1, total: 2 });
    await settle();
    expect(store.progress).toBeNull();
  });

  it('keeps the error of a failed backup and starts only one at a time', async () => {
    const platform = new FakePlatform().fail('backup_school', { code: 'disk_full', message: 'No space left' });
    const store = new BackupStore(platform);
    const first = store.backUp();
    const second = store.backUp();
    await Promise.all([first, second]);
    expect(platform.count('backup_school')).toBe(1);
    expect(store.error).toEqual({ code: 'disk_full', message: 'No space left' });
    expect(store.running).toBe(false);
  });
});

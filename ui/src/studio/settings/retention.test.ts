import { describe, expect, it } from 'vitest';
import { FakePlatform } from '../../test-support/fake-platform';
import { parseDays, RecordingRetentionStore, recordingRetentionText, RetentionStore, retentionText } from './retention.svelte';

describe('chat retention', () => {
  it('reads days from 1 to 3650', () => {
    expect(parseDays('30')).toBe(30);
    expect(parseDays(' 1 ')).toBe(1);
    expect(parseDays('0')).toBeNull();
    expect(parseDays('3651')).toBeNull();
    expect(parseDays('two')).toBeNull();
  });

  it('says the rule and what it just blanked', () => {
    expect(retentionText(null)).toBe('Chat is kept for ever.');
    expect(retentionText(30, 12)).toBe('Chat text is kept for 30 days, then blanked. 12 older messages were blanked now.');
    expect(retentionText(1, 1)).toBe('Chat text is kept for 1 day, then blanked. 1 older message was blanked now.');
  });

  it('loads and saves the setting', async () => {
    const platform = new FakePlatform().on('chat_retention', () => ({ days: null })).on('set_chat_retention', ({ days }) => ({ days, blanked: 4 }));
    const store = new RetentionStore(platform);
    await store.load();
    expect(store.days).toBeNull();
    await store.save(30);
    expect(store.days).toBe(30);
    expect(store.applied).toEqual({ days: 30, blanked: 4 });
  });
});

describe('recording retention', () => {
  it('says the rule and what it just deleted', () => {
    expect(recordingRetentionText(null)).toBe('Recordings are kept until you delete them.');
    expect(recordingRetentionText(30, 2)).toBe('Recordings are kept for 30 days, then deleted. 2 older recordings were deleted now.');
  });

  it('loads and saves the setting', async () => {
    const platform = new FakePlatform()
      .on('recording_retention', () => ({ days: 90 }))
      .on('set_recording_retention', ({ days }) => ({ days, deleted: 1 }));
    const store = new RecordingRetentionStore(platform);
    await store.load();
    expect(store.days).toBe(90);
    await store.save(null);
    expect(store.days).toBeNull();
    expect(store.applied).toEqual({ days: null, deleted: 1 });
  });
});

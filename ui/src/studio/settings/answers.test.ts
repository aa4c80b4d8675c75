import { describe, expect, it } from 'vitest';
import { FakePlatform } from '../../test-support/fake-platform';
import { AnswerSettingsStore, answerSettingsText, parseThresholdPercent } from './answers.svelte';

describe('answer known questions automatically', () => {
  it('reads a whole percentage from the minimum to 100', () => {
    expect(parseThresholdPercent('90', 0.7)).toBe(0.9);
    expect(parseThresholdPercent(' 70 % ', 0.7)).toBe(0.7);
    expect(parseThresholdPercent('100', 0.7)).toBe(1);
    expect(parseThresholdPercent('69', 0.7)).toBeNull();
    expect(parseThresholdPercent('101', 0.7)).toBeNull();
    expect(parseThresholdPercent('0.9', 0.7)).toBeNull();
    expect(parseThresholdPercent('', 0.7)).toBeNull();
  });

  it('says what the setting does', () => {
    expect(answerSettingsText({ autoAnswer: false, threshold: 0.9 })).toMatch(/Nothing is answered automatically/);
    expect(answerSettingsText({ autoAnswer: true, threshold: 0.85 })).toMatch(/at least 85% sure are answered automatically/);
  });

  it('loads the setting and saves a change', async () => {
    const platform = new FakePlatform()
      .on('answer_settings', () => ({ settings: { autoAnswer: false, threshold: 0.9 }, minThreshold: 0.7 }))
      .on('set_answer_settings', (args) => ({ settings: args as { autoAnswer: boolean; threshold: number }, minThreshold: 0.7 }));
    const store = new AnswerSettingsStore(platform);
    await store.load();
    expect(store.settings).toEqual({ autoAnswer: false, threshold: 0.9 });
    await store.save({ autoAnswer: true, threshold: 0.95 });
    expect(store.settings).toEqual({ autoAnswer: true, threshold: 0.95 });
    expect(store.saved).toBe(true);
  });

  it('keeps the error the studio gives', async () => {
    const platform = new FakePlatform().fail('set_answer_settings', { code: 'invalid_input', message: 'the threshold is a confidence from 0.7 to 1' });
    const store = new AnswerSettingsStore(platform);
    await store.save({ autoAnswer: true, threshold: 0.5 });
    expect(store.error?.code).toBe('invalid_input');
    expect(store.saved).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { replayKeyFromHash } from './replay-api';

describe('replayKeyFromHash', () => {
  it('reads the replay link key from the address fragment, and nothing else', () => {
    const key = 'ab'.repeat(16);
    expect(replayKeyFromHash(`#r=${key}`)).toBe(key);
    expect(replayKeyFromHash(`#x=1&r=${key}`)).toBe(key);
    expect(replayKeyFromHash('')).toBe('');
    expect(replayKeyFromHash('#r=short')).toBe('');
    expect(replayKeyFromHash(`#r=${key}zz`)).toBe('');
  });
});

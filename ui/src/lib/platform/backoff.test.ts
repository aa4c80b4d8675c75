import { describe, expect, it } from 'vitest';
import { reconnectDelayMs, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from './backoff';

describe('reconnectDelayMs', () => {
  it('doubles from 0.5 s and stops at 10 s', () => {
    const schedule = Array.from({ length: 8 }, (_, attempt) => reconnectDelayMs(attempt));
    expect(schedule).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('stays within bounds for odd inputs', () => {
    expect(reconnectDelayMs(-3)).toBe(RECONNECT_MIN_MS);
    expect(reconnectDelayMs(Number.NaN)).toBe(RECONNECT_MIN_MS);
    expect(reconnectDelayMs(1e9)).toBe(RECONNECT_MAX_MS);
    expect(reconnectDelayMs(Number.POSITIVE_INFINITY)).toBe(RECONNECT_MAX_MS);
  });
});

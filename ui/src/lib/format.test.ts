import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatDate,
  formatDateTime,
  formatDuration,
  formatMoney,
  formatSessionLength,
  percentDone,
} from './format';

const MIN = 60_000;

describe('formatDuration', () => {
  it('uses seconds, minutes, then hours and minutes', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(42 * MIN)).toBe('42 min');
    expect(formatDuration(65 * MIN)).toBe('1 h 5 min');
    expect(formatDuration(120 * MIN)).toBe('2 h');
  });

  it('rounds to the nearest minute, never showing "60 min"', () => {
    expect(formatDuration(59 * MIN + 40_000)).toBe('1 h');
    expect(formatDuration(89 * MIN + 31_000)).toBe('1 h 30 min');
  });

  it('shows a dash for a negative or invalid duration', () => {
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('formatSessionLength', () => {
  it('is the time between start and end, and a dash while unfinished', () => {
    expect(formatSessionLength(1_000, 1_000 + 50 * MIN)).toBe('50 min');
    expect(formatSessionLength(1_000, null)).toBe('—');
    expect(formatSessionLength(5_000, 1_000)).toBe('—');
  });
});

describe('dates', () => {
  const ms = Date.UTC(2025, 10, 28, 14, 5);

  it('formats in the given locale and time zone', () => {
    expect(formatDateTime(ms, { locale: 'en-GB', timeZone: 'UTC' })).toBe('28 Nov 2025, 14:05');
    expect(formatDateTime(ms, { locale: 'en-US', timeZone: 'America/New_York' })).toBe('Nov 28, 2025, 9:05 AM');
    expect(formatDate(ms, { locale: 'de-DE', timeZone: 'UTC' })).toBe('28.11.2025');
  });
});

describe('formatMoney', () => {
  it('reads minor units according to the currency', () => {
    expect(formatMoney(4900, 'USD', { locale: 'en-US' })).toBe('$49.00');
    expect(formatMoney(1250, 'EUR', { locale: 'de-DE' })).toBe('12,50\u00a0€');
    expect(formatMoney(4900, 'JPY', { locale: 'en-US' })).toBe('¥4,900');
  });
});

describe('numbers and sizes', () => {
  it('groups counts', () => {
    expect(formatCount(1284, { locale: 'en-US' })).toBe('1,284');
  });

  it('uses decimal units for bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(2_000_000)).toBe('2 MB');
    expect(formatBytes(123_456_789)).toBe('123 MB');
  });

  it('gives a bounded percentage', () => {
    expect(percentDone(3, 10)).toBe(30);
    expect(percentDone(12, 10)).toBe(100);
    expect(percentDone(1, 0)).toBe(0);
  });
});

describe('formatElapsed', () => {
  it('reads like a clock', async () => {
    const { formatElapsed } = await import('./format');
    expect(formatElapsed(0)).toBe('0:00');
    expect(formatElapsed(247_000)).toBe('4:07');
    expect(formatElapsed(3_729_000)).toBe('1:02:09');
    expect(formatElapsed(-5)).toBe('0:00');
  });
});

import { describe, expect, it } from 'vitest';
import { formatBitrate, playerText } from './player-text';

describe('playerText', () => {
  it('says waiting while nothing is broadcast, in words that fit the class state', () => {
    expect(playerText('offline', false).headline).toMatch(/waiting for the class to start/i);
    expect(playerText('offline', true).headline).toMatch(/waiting for the video/i);
  });
  it('never calls a dropped connection an error', () => {
    expect(playerText('reconnecting', true).headline).toBe('Reconnecting…');
  });
});

describe('formatBitrate', () => {
  it('switches to Mbit/s at 1000 kbit/s', () => {
    expect(formatBitrate(null)).toBe('—');
    expect(formatBitrate(640.4)).toBe('640 kbit/s');
    expect(formatBitrate(2450)).toBe('2.5 Mbit/s');
  });
});

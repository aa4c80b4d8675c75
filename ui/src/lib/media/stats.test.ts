import { describe, expect, it } from 'vitest';
import { summarizeStats } from './stats';

function report(entries: Record<string, unknown>[]) {
  return new Map(entries.map((e, i) => [String(i), e]));
}

describe('summarizeStats', () => {
  const first = report([
    { type: 'inbound-rtp', kind: 'video', timestamp: 1000, framesDecoded: 25, bytesReceived: 100_000, frameWidth: 640, frameHeight: 360, framesPerSecond: 25, packetsLost: 1 },
    { type: 'inbound-rtp', kind: 'audio', timestamp: 1000, packetsReceived: 50, bytesReceived: 5_000, packetsLost: 2 },
    { type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: 0.012, bytesReceived: 105_000 },
    { type: 'candidate-pair', state: 'failed', currentRoundTripTime: 9 },
  ]);

  it('reads frames, audio packets, size, losses and round-trip time', () => {
    const s = summarizeStats(first, null);
    expect(s).toMatchObject({
      framesDecoded: 25,
      audioPacketsReceived: 50,
      bytesReceived: 105_000,
      packetsLost: 3,
      frameWidth: 640,
      frameHeight: 360,
      framesPerSecond: 25,
      bitrateKbps: null,
      roundTripMs: 12,
      timestamp: 1000,
    });
  });

  it('computes the bitrate from the previous sample', () => {
    const next = report([
      { type: 'inbound-rtp', kind: 'video', timestamp: 2000, bytesReceived: 350_000 },
      { type: 'inbound-rtp', kind: 'audio', timestamp: 2000, bytesReceived: 10_000 },
    ]);
    const s = summarizeStats(next, summarizeStats(first, null));
    // 255 000 bytes in one second.
    expect(s.bitrateKbps).toBe(2040);
    expect(s.roundTripMs).toBeNull();
  });

  it('gives zeros for an empty report', () => {
    const s = summarizeStats(new Map(), null);
    expect(s.framesDecoded).toBe(0);
    expect(s.audioPacketsReceived).toBe(0);
    expect(s.framesPerSecond).toBeNull();
  });
});

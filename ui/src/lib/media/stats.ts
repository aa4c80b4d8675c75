// What a viewer's "Stats" panel shows, read from RTCPeerConnection.getStats().

export interface MediaStats {
  /** Video frames decoded since the session began. */
  framesDecoded: number;
  /** Audio RTP packets received since the session began. */
  audioPacketsReceived: number;
  /** Video and audio bytes received since the session began. */
  bytesReceived: number;
  /** Packets lost (video and audio). */
  packetsLost: number;
  /** The decoded video size, 0 until a frame arrives. */
  frameWidth: number;
  frameHeight: number;
  /** Frames per second as the decoder reports it, or null. */
  framesPerSecond: number | null;
  /** Receive bitrate over the last interval, in kbit/s; null for the first sample. */
  bitrateKbps: number | null;
  /** Round-trip time to the studio, in ms; null until measured. */
  roundTripMs: number | null;
  /** The stats' clock (ms) when they were taken. */
  timestamp: number;
}

type Stat = Record<string, unknown> & { type: string };

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Summarises one stats report; `previous` (the last summary) gives the bitrate. */
export function summarizeStats(report: Pick<RTCStatsReport, 'forEach'>, previous: MediaStats | null): MediaStats {
  let video: Stat | null = null;
  let audio: Stat | null = null;
  let pair: Stat | null = null;
  let timestamp = 0;
  report.forEach((raw: unknown) => {
    const s = raw as Stat;
    timestamp = Math.max(timestamp, num(s.timestamp));
    if (s.type === 'inbound-rtp' && s.kind === 'video') video = s;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') audio = s;
    // The pair in use: nominated and succeeded (Chromium marks it so).
    if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated !== false) {
      if (pair === null || num(s.bytesReceived) > num(pair.bytesReceived)) pair = s;
    }
  });
  const v = (video ?? {}) as Stat;
  const a = (audio ?? {}) as Stat;
  const bytesReceived = num(v.bytesReceived) + num(a.bytesReceived);
  let bitrateKbps: number | null = null;
  if (previous !== null && timestamp > previous.timestamp && bytesReceived >= previous.bytesReceived) {
    bitrateKbps = ((bytesReceived - previous.bytesReceived) * 8) / (timestamp - previous.timestamp);
  }
  const rtt = (pair as Stat | null)?.currentRoundTripTime;
  return {
    framesDecoded: num(v.framesDecoded),
    audioPacketsReceived: num(a.packetsReceived),
    bytesReceived,
    packetsLost: num(v.packetsLost) + num(a.packetsLost),
    frameWidth: num(v.frameWidth),
    frameHeight: num(v.frameHeight),
    framesPerSecond: typeof v.framesPerSecond === 'number' ? v.framesPerSecond : null,
    bitrateKbps,
    roundTripMs: typeof rtt === 'number' ? rtt * 1000 : null,
    timestamp,
  };
}

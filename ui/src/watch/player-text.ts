// The words the viewer's player shows for each state (kept apart so they are tested).
import type { PlayerState } from '../lib/media/whep';

export interface StateText {
  headline: string;
  detail: string;
}

/** What the viewer reads for `state`; `classLive` says whether the class has started. */
export function playerText(state: PlayerState | 'unsupported', classLive: boolean): StateText {
  switch (state) {
    case 'idle':
    case 'connecting':
      return { headline: 'Connecting to the class…', detail: 'The video starts in a moment.' };
    case 'live':
      return { headline: 'Live', detail: '' };
    case 'reconnecting':
      return { headline: 'Reconnecting…', detail: 'The connection dropped. Lectern is trying again by itself.' };
    case 'offline':
      return classLive
        ? { headline: 'Waiting for the video', detail: 'The class is on, but no video is being sent right now. It will play here as soon as it comes back.' }
        : { headline: 'Waiting for the class to start', detail: 'When your instructor goes live, the class will play here.' };
    case 'unsupported':
      return { headline: 'This browser cannot play live video', detail: 'Open this page in a recent Firefox, Chrome, Edge or Safari.' };
  }
}

/** A bitrate for the stats panel: "2.4 Mbit/s", "640 kbit/s", "—". */
export function formatBitrate(kbps: number | null): string {
  if (kbps === null || !Number.isFinite(kbps)) return '—';
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

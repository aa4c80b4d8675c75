// The replay's two public calls (docs/protocol.md, "Replays"): the timeline, and a student's
// reaction or question while watching, stored apart from the live class.
import type { Replay, ReplayActionDone, ReplayActionKind } from '../lib/bindings/api';
import { keepBrowserKey, storedBrowserKey } from '../lib/room/browser-key';

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

async function problem(response: Response): Promise<Error> {
  try {
    const body = (await response.json()) as { message?: string };
    return new Error(body.message ?? `The replay answered ${response.status}.`);
  } catch {
    return new Error(`The replay answered ${response.status}.`);
  }
}

/**
 * The replay link's key: `#r=KEY` in the page's address (a fragment, never sent with the
 * page's own request), sent with each replay request as `?r=`.
 */
export function replayKeyFromHash(hash: string): string {
  const match = /(?:^#|&)r=([0-9a-f]{32})(?:&|$)/.exec(hash);
  return match?.[1] ?? '';
}

function keyQuery(key: string): string {
  return `?r=${encodeURIComponent(key)}`;
}

export async function fetchReplay(session: number, key: string): Promise<Replay> {
  const response = await fetch(`/api/v1/replay/${session}${keyQuery(key)}`, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await problem(response);
  return (await response.json()) as Replay;
}

function clientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return 'r-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sendReplayAction(
  session: number,
  key: string,
  offsetMs: number,
  action: ReplayActionKind,
  { keepalive = false }: { keepalive?: boolean } = {},
): Promise<ReplayActionDone> {
  const browserKey = storedBrowserKey(storage());
  const body = {
    ...(browserKey === '' ? {} : { browserKey }),
    clientId: clientId(),
    offsetMs: Math.max(0, Math.round(offsetMs)),
    action,
  };
  const response = await fetch(`/api/v1/replay/${session}/action${keyQuery(key)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    // A report sent as the page goes must outlive it.
    keepalive,
  });
  if (!response.ok) throw await problem(response);
  const done = (await response.json()) as ReplayActionDone;
  if (done.browserKey) keepBrowserKey(storage(), done.browserKey);
  return done;
}

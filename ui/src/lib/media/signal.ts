// The HTTP half of WHIP (RFC 9725) and WHEP: one offer POSTed as application/sdp, one answer back,
// the session's URL in `Location`, DELETE to end it. Shared by the player and the publisher.

/** What `fetch` needs to be for these clients (the browser's, or a fake in tests). */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** Why a WHIP or WHEP request failed. `code` is the server's (`publisher_exists`, ...) or ours. */
export class MediaSessionError extends Error {
  /** The HTTP status, or 0 when no answer came (network down, page closing). */
  readonly status: number;
  /** The server's `code` when it sent one; `network` or `http_<status>` otherwise. */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'MediaSessionError';
    this.status = status;
    this.code = code;
  }
}

/** How long to wait for ICE gathering before sending the candidates found so far. */
export const GATHER_TIMEOUT_MS = 2000;

/**
 * Resolves once the peer has gathered its ICE candidates, or after `timeoutMs`: a non-trickle
 * offer then carries every candidate, and a slow interface cannot hold the call up.
 */
export function iceGathered(pc: RTCPeerConnection, timeoutMs = GATHER_TIMEOUT_MS, timers: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'> = globalThis): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener('icegatheringstatechange', onChange);
      timers.clearTimeout(timer);
      resolve();
    };
    const onChange = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = timers.setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

/** The error for a refused request: the server's `{code, message}` when its body is one. */
export async function errorFromResponse(response: Response): Promise<MediaSessionError> {
  let code = `http_${response.status}`;
  let message = `The server answered ${response.status}.`;
  try {
    const body: unknown = JSON.parse(await response.text());
    if (typeof body === 'object' && body !== null) {
      const b = body as Record<string, unknown>;
      if (typeof b.code === 'string') code = b.code;
      if (typeof b.message === 'string') message = b.message;
    }
  } catch {
    // Not JSON: keep the status.
  }
  return new MediaSessionError(response.status, code, message);
}

export interface Negotiation {
  pc: RTCPeerConnection;
  /** The absolute URL of `/whip` or `/whep`. */
  endpoint: string;
  fetch: Fetch;
  /** Extra request headers (the publisher's `Authorization`). */
  headers?: Record<string, string>;
  gatherTimeoutMs?: number;
  timers?: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'>;
}

/**
 * Offers, POSTs the offer with its gathered candidates, and applies the answer.
 * Returns the session's absolute URL (from `Location`), to DELETE it later.
 */
export async function negotiate({ pc, endpoint, fetch, headers = {}, gatherTimeoutMs, timers }: Negotiation): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc, gatherTimeoutMs, timers);
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new MediaSessionError(0, 'no_offer', 'This browser made no offer.');
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/sdp' },
      body: sdp,
    });
  } catch {
    throw new MediaSessionError(0, 'network', 'The studio could not be reached.');
  }
  if (response.status !== 201) throw await errorFromResponse(response);
  const location = response.headers.get('Location');
  if (!location) throw new MediaSessionError(response.status, 'no_location', 'The server did not name the session.');
  const answer = await response.text();
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return new URL(location, endpoint).toString();
}

/** Ends a session; never throws. `keepalive` lets it finish while the page unloads. */
export async function endSession(fetch: Fetch, session: string, headers: Record<string, string> = {}): Promise<void> {
  try {
    await fetch(session, { method: 'DELETE', headers, keepalive: true });
  } catch {
    // The server is gone or the page is closing: the engine expires the session itself.
  }
}

/** The scheme of a STUN or TURN server URL (RFC 7064 / 7065). */
const ICE_URL = /^(stun|stuns|turn|turns):[^\s]+$/i;

/**
 * The peer connection's configuration from the studio's STUN/TURN URLs (its `--ice-server`,
 * also offered in WHIP/WHEP `Link` headers). Anything that is not a STUN/TURN URL is left out.
 */
export function peerConfig(iceServers: readonly string[]): RTCConfiguration {
  const urls = iceServers.filter((url) => ICE_URL.test(url));
  return urls.length === 0 ? {} : { iceServers: urls.map((url) => ({ urls: url })) };
}

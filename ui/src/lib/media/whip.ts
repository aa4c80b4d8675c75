// The browser publisher's WHIP client: sends a camera/microphone/screen stream to the studio.
import { endSession, MediaSessionError, negotiate, type Fetch } from './signal';

/**
 * - `idle`: not publishing.
 * - `connecting`: offer sent, waiting for the connection.
 * - `live`: connected; the studio receives the stream.
 * - `failed`: refused or dropped; `error` says why.
 */
export type PublishState = 'idle' | 'connecting' | 'live' | 'failed';

export interface WhipOptions {
  /** The absolute URL of `/whip`. */
  endpoint: string;
  /** The studio's publish key (sent as a Bearer token). */
  publishKey: string;
  fetch: Fetch;
  createPeer: () => RTCPeerConnection;
  gatherTimeoutMs?: number;
  timers?: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'>;
}

/** Video codecs in the order the studio's viewers handle best (every browser decodes VP8). */
const VIDEO_ORDER = ['video/VP8', 'video/H264'];

/** Puts VP8, then H.264, first in a transceiver's codec list, when the browser lets us. */
export function preferCodecs(codecs: RTCRtpCodec[]): RTCRtpCodec[] {
  const rank = (c: RTCRtpCodec) => {
    const i = VIDEO_ORDER.findIndex((m) => m.toLowerCase() === c.mimeType.toLowerCase());
    return i === -1 ? VIDEO_ORDER.length : i;
  };
  return [...codecs].sort((a, b) => rank(a) - rank(b));
}

export class WhipPublisher {
  #state: PublishState = 'idle';
  error: MediaSessionError | null = null;
  readonly #o: WhipOptions;
  readonly #onState: (state: PublishState) => void;
  #pc: RTCPeerConnection | null = null;
  #url: string | null = null;
  /** The sender of each kind being published, to switch sources while live. */
  #senders = new Map<string, RTCRtpSender>();
  #generation = 0;

  constructor(options: WhipOptions, onState: (state: PublishState) => void = () => {}) {
    this.#o = options;
    this.#onState = onState;
  }

  get state(): PublishState {
    return this.#state;
  }

  /** Publishes every track of `stream`. Resolves once the studio has answered (or refused). */
  async start(stream: MediaStream): Promise<void> {
    if (this.#state === 'connecting' || this.#state === 'live') return;
    const generation = ++this.#generation;
    this.error = null;
    this.#set('connecting');
    const pc = this.#o.createPeer();
    this.#pc = pc;
    for (const track of stream.getTracks()) {
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      this.#senders.set(track.kind, transceiver.sender);
      if (track.kind === 'video') {
        const caps = typeof RTCRtpSender !== 'undefined' ? RTCRtpSender.getCapabilities?.('video') : null;
        if (caps && typeof transceiver.setCodecPreferences === 'function') {
          try {
            transceiver.setCodecPreferences(preferCodecs(caps.codecs));
          } catch {
            // The browser's own order is fine too.
          }
        }
      }
    }
    pc.addEventListener('connectionstatechange', () => {
      if (generation !== this.#generation) return;
      if (pc.connectionState === 'connected') this.#set('live');
      if (pc.connectionState === 'failed') {
        this.#fail(new MediaSessionError(0, 'connection_lost', 'The connection to the studio was lost.'));
      }
    });
    try {
      const url = await negotiate({
        pc,
        endpoint: this.#o.endpoint,
        fetch: this.#o.fetch,
        headers: { Authorization: `Bearer ${this.#o.publishKey}` },
        gatherTimeoutMs: this.#o.gatherTimeoutMs,
        timers: this.#o.timers,
      });
      if (generation !== this.#generation) {
        void endSession(this.#o.fetch, url, this.#auth());
        return;
      }
      this.#url = url;
      if (pc.connectionState === 'connected') this.#set('live');
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#fail(err instanceof MediaSessionError ? err : new MediaSessionError(0, 'webrtc', String(err)));
    }
  }

  /**
   * Switches to the tracks of `stream` while live, on the same connection (no renegotiation):
   * each kind being sent takes the new track of that kind, or sends nothing if there is none.
   * False when `stream` brings a kind the broadcast was not started with (stop and go live).
   */
  async replaceTracks(stream: MediaStream): Promise<boolean> {
    if (this.#senders.size === 0) return false;
    const tracks = stream.getTracks();
    if (tracks.some((track) => !this.#senders.has(track.kind))) return false;
    for (const [kind, sender] of this.#senders) {
      await sender.replaceTrack(tracks.find((track) => track.kind === kind) ?? null);
    }
    return true;
  }

  /** Ends the broadcast: DELETE the session and close the connection. */
  async stop(): Promise<void> {
    this.#generation += 1;
    const url = this.#url;
    this.#teardown();
    this.#set('idle');
    if (url) await endSession(this.#o.fetch, url, this.#auth());
  }

  #auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.#o.publishKey}` };
  }

  #fail(error: MediaSessionError): void {
    this.#generation += 1;
    this.error = error;
    const url = this.#url;
    this.#teardown();
    if (url) void endSession(this.#o.fetch, url, this.#auth());
    this.#set('failed');
  }

  #teardown(): void {
    try {
      this.#pc?.close();
    } catch {
      // Already closed.
    }
    this.#pc = null;
    this.#senders.clear();
    this.#url = null;
  }

  #set(state: PublishState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onState(state);
  }
}

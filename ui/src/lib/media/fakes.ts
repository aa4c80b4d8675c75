// Fakes of RTCPeerConnection, fetch and timers for the media clients' unit tests.

export class FakePeer extends EventTarget {
  iceGatheringState: RTCIceGatheringState = 'new';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  transceivers: { what: unknown; init: unknown }[] = [];
  closed = false;
  /** What getStats reports next (inbound-rtp objects and a candidate pair). */
  report = new Map<string, Record<string, unknown>>();
  /** Gather at once (true) or never (false: the timeout must end the wait). */
  gathers = true;

  addTransceiver(what: unknown, init: unknown) {
    this.transceivers.push({ what, init });
    const sender = {
      track: what,
      async replaceTrack(track: unknown) {
        sender.track = track;
      },
    };
    this.senders.push(sender);
    return { setCodecPreferences() {}, sender };
  }
  /** Each transceiver's sender, with the track it sends now. */
  senders: { track: unknown; replaceTrack(track: unknown): Promise<void> }[] = [];
  async createOffer() {
    return { type: 'offer', sdp: `v=0 offer ${this.transceivers.length}` };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = { ...d, sdp: `${d.sdp} a=candidate:1` };
    this.iceGatheringState = 'gathering';
    if (this.gathers) {
      queueMicrotask(() => {
        this.iceGatheringState = 'complete';
        this.dispatchEvent(new Event('icegatheringstatechange'));
      });
    }
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remoteDescription = d;
  }
  async getStats() {
    return new Map(this.report);
  }
  close() {
    this.closed = true;
  }
  /** Moves the connection to `state` and tells the listeners. */
  connect(state: RTCPeerConnectionState = 'connected') {
    this.connectionState = state;
    this.dispatchEvent(new Event('connectionstatechange'));
  }
  /** Makes the next stats show more media (bytes, frames, audio packets). */
  receive(bytes: number, timestamp: number) {
    const video = this.report.get('v') ?? { type: 'inbound-rtp', kind: 'video', bytesReceived: 0, framesDecoded: 0 };
    const audio = this.report.get('a') ?? { type: 'inbound-rtp', kind: 'audio', bytesReceived: 0, packetsReceived: 0 };
    video.bytesReceived = (video.bytesReceived as number) + bytes;
    video.framesDecoded = (video.framesDecoded as number) + 30;
    video.timestamp = timestamp;
    audio.packetsReceived = (audio.packetsReceived as number) + 50;
    audio.timestamp = timestamp;
    this.report.set('v', video);
    this.report.set('a', audio);
  }
}

export interface FakeCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

type Reply = { status: number; body?: string; location?: string } | 'network';

/** A fetch that answers from a script and records every call. */
export class FakeFetch {
  calls: FakeCall[] = [];
  /** Answers to POSTs, in order; the last one repeats. DELETEs answer 200. */
  replies: Reply[] = [];
  #posts = 0;

  readonly fetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const method = init.method ?? 'GET';
    this.calls.push({ url, method, headers: { ...(init.headers as Record<string, string>) }, body: init.body as string | undefined });
    if (method !== 'POST') return new Response(null, { status: 200 });
    const reply = this.replies[Math.min(this.#posts, this.replies.length - 1)] ?? { status: 201, body: 'v=0 answer', location: '/whep/0' };
    this.#posts += 1;
    if (reply === 'network') throw new TypeError('Failed to fetch');
    const headers: Record<string, string> = {};
    if (reply.location) headers.Location = reply.location;
    return new Response(reply.body ?? '', { status: reply.status, headers });
  };

  posts(): FakeCall[] {
    return this.calls.filter((c) => c.method === 'POST');
  }
  deletes(): string[] {
    return this.calls.filter((c) => c.method === 'DELETE').map((c) => c.url);
  }
}

/** Timers on a clock the test moves by hand. */
export class FakeTimers {
  now = 0;
  #next = 1;
  #pending = new Map<number, { at: number; fn: () => void }>();

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.#next++;
    this.#pending.set(id, { at: this.now + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown): void => {
    this.#pending.delete(id as number);
  };

  /** The delays of the timers now pending, from now. */
  delays(): number[] {
    return [...this.#pending.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Moves the clock by `ms`, running each timer that falls due (and what it schedules). */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await flush();
      const due = [...this.#pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
    await flush();
  }
}

/** Lets pending promise callbacks (and their microtasks) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await new Promise<void>((resolve) => queueMicrotask(resolve));
}

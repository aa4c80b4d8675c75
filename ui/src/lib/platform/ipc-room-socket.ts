// The live room over Tauri IPC, shaped like a WebSocket so the room client is the same in the
// desktop window and in a browser. The first frame sent (the hello) joins through `room_join`
// with a channel that brings the server's frames; later frames go through `room_send`, one
// after another so the room receives them in order; `closed` from the engine ends it like a
// WebSocket close code would.
import type { RoomConnected } from '../bindings/api';
import type { SocketLike } from './event-socket';

/** The IPC calls the socket needs (Tauri's `invoke` and `Channel` in the window; fakes in tests). */
export interface RoomIpc {
  join(hello: unknown, onFrame: (frame: unknown) => void): Promise<RoomConnected>;
  send(connection: number, frame: string): Promise<void>;
  leave(connection: number): Promise<void>;
}

/** Close code when the IPC itself failed (a retry may work), as a WebSocket's abnormal close. */
const CLOSE_ABNORMAL = 1006;

export class IpcRoomSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  readonly #ipc: RoomIpc;
  #connection: number | null = null;
  #joining = false;
  #ended = false;
  /** Frames are sent one after another, each after the previous one was taken. */
  #chain: Promise<void> = Promise.resolve();

  constructor(ipc: RoomIpc) {
    this.#ipc = ipc;
    // Like a WebSocket: open is announced after the caller has set its handlers.
    queueMicrotask(() => {
      if (!this.#ended) this.onopen?.({});
    });
  }

  send(data: string): void {
    if (this.#ended) throw new Error('the room connection has ended');
    if (!this.#joining) {
      this.#joining = true;
      let hello: unknown;
      try {
        hello = JSON.parse(data);
      } catch {
        throw new Error('the first frame must be the hello');
      }
      const joined = this.#ipc.join(hello, (frame) => this.#frame(frame)).then(
        ({ connection }) => {
          this.#connection = connection;
          // Closed while joining: leave at once.
          if (this.#ended) void this.#ipc.leave(connection).catch(() => {});
        },
        () => this.#end(CLOSE_ABNORMAL, 'could not reach the room'),
      );
      this.#chain = joined;
      return;
    }
    this.#chain = this.#chain.then(async () => {
      if (this.#ended || this.#connection === null) return;
      try {
        await this.#ipc.send(this.#connection, data);
      } catch {
        this.#end(CLOSE_ABNORMAL, 'the room connection was lost');
      }
    });
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#connection !== null) void this.#ipc.leave(this.#connection).catch(() => {});
  }

  #frame(frame: unknown): void {
    if (this.#ended) return;
    if (typeof frame === 'object' && frame !== null && (frame as { type?: unknown }).type === 'closed') {
      const { code, reason } = frame as { code?: unknown; reason?: unknown };
      this.#end(typeof code === 'number' ? code : CLOSE_ABNORMAL, typeof reason === 'string' ? reason : '');
      return;
    }
    this.onmessage?.({ data: frame });
  }

  #end(code: number, reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#connection !== null) void this.#ipc.leave(this.#connection).catch(() => {});
    this.onclose?.({ code, reason });
  }
}

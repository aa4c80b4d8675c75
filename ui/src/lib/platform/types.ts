import type { BroadcastStatus, Commands, StartWindowSource, StudioEvent } from '../bindings/api';
import type { SocketLike } from './event-socket';

/**
 * How this page reaches the live room: one connection at a time, which speaks the room's frames
 * (`/room` in docs/protocol.md) whatever carries them.
 */
export interface RoomTransport {
  /** What `open` is given (a WebSocket URL; a name for the desktop window's IPC channel). */
  readonly url: string;
  /** Opens one connection: a WebSocket to `/room`, or the desktop window's IPC channel. */
  open(url: string): SocketLike;
  /**
   * The key the hello carries: the owner key (instructor) or a moderator link's token (TA);
   * null in the desktop window, which is the instructor's own.
   */
  readonly key: string | null;
}

/**
 * The desktop window's own capture as the broadcast's source: the window encodes, the engine
 * packetizes and fans out (`lectern_engine::capture`).
 */
export interface WindowSource {
  /** Makes the window's capture the source; `onKeyframeWanted` runs when viewers need one. */
  start(args: StartWindowSource, onKeyframeWanted: () => void): Promise<BroadcastStatus>;
  /** Sends one encoded chunk in the window frame format (kind, flags, time, bytes). */
  sendFrame(frame: Uint8Array): Promise<void>;
  /** Stops the window's capture as the source. */
  stop(): Promise<BroadcastStatus>;
}

/**
 * The one seam between the screens and the host that runs the studio engine.
 *
 * Screens and stores talk only to this interface, so the same code runs in the desktop
 * window (over Tauri IPC), in a teaching assistant's browser (over HTTP and a WebSocket)
 * and under end-to-end tests.
 */
export interface Platform {
  readonly kind: 'tauri' | 'web';
  /** Runs one studio command. Rejects with an `ApiError` (`{ code, message }`). */
  call<C extends keyof Commands>(command: C, args: Commands[C]['args']): Promise<Commands[C]['result']>;
  /** Delivers every studio event to `onEvent` until the returned function is called. */
  subscribe(onEvent: (ev: StudioEvent) => void): () => void;
  /**
   * How to join the live room as staff: the desktop window through Tauri IPC, a studio page
   * through `/room` with its key; null for a page with no key (it cannot join as staff).
   */
  roomTransport(): RoomTransport | null;
  /** The window's capture as the source: in the desktop window only (a browser uses WHIP). */
  windowSource(): WindowSource | null;
}

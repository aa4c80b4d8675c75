import type { Commands, StudioEvent } from '../bindings/api';

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
   * The owner key this page holds, to join the live room (`/room`) as the instructor; null
   * when it has none (a student's page, or the desktop window, which has no room client yet).
   */
  roomKey(): string | null;
}

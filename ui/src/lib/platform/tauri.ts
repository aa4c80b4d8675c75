import { Channel, invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Commands, RoomConnected, WindowCommands } from '../bindings/api';
import { IpcRoomSocket, type RoomIpc } from './ipc-room-socket';
import { toApiError } from './errors';
import { isStudioEvent } from './studio-event';
import type { Platform, WindowSource } from './types';

/** The platform inside the desktop window: commands over Tauri IPC, events as `studio-event`. */
export function createTauriPlatform(): Platform {
  async function call<C extends keyof Commands>(
    command: C,
    args: Commands[C]['args'],
  ): Promise<Commands[C]['result']> {
    try {
      // Every Rust command takes exactly one parameter, named `args`.
      return await invoke<Commands[C]['result']>(command, { args });
    } catch (err) {
      throw toApiError(err);
    }
  }

  function subscribe(onEvent: Parameters<Platform['subscribe']>[0]): () => void {
    let unlisten: UnlistenFn | null = null;
    let cancelled = false;
    listen<unknown>('studio-event', (event) => {
      if (!cancelled && isStudioEvent(event.payload)) onEvent(event.payload);
    }).then(
      (fn) => {
        if (cancelled) fn();
        else unlisten = fn;
      },
      (err) => console.error('Could not listen to studio events', err),
    );
    return () => {
      cancelled = true;
      unlisten?.();
      unlisten = null;
    };
  }

  // The room through IPC: the window is the instructor's, so its hello needs no key.
  const ipc: RoomIpc = {
    join(hello, onFrame) {
      const frames = new Channel<unknown>();
      frames.onmessage = onFrame;
      const args = { hello } as WindowCommands['room_join']['args'];
      return invoke<RoomConnected>('room_join', { args, frames });
    },
    send: (connection, frame) => invoke<null>('room_send', { args: { connection, frame } }).then(() => {}),
    leave: (connection) => invoke<null>('room_leave', { args: { connection } }).then(() => {}),
  };
  const roomTransport = { url: 'ipc:room', open: () => new IpcRoomSocket(ipc), key: null };

  // The window's capture: chunks go as raw bytes (no JSON arrays of numbers).
  const windowSource: WindowSource = {
    async start(args, onKeyframeWanted) {
      const keyframes = new Channel<boolean>();
      keyframes.onmessage = () => onKeyframeWanted();
      try {
        return await invoke<WindowCommands['start_window_source']['result']>('start_window_source', { args, keyframes });
      } catch (err) {
        throw toApiError(err);
      }
    },
    async sendFrame(frame) {
      try {
        await invoke('window_frame', frame);
      } catch (err) {
        throw toApiError(err);
      }
    },
    stop: () => call('stop_window_source', {}),
  };
  return { kind: 'tauri', call, subscribe, roomTransport: () => roomTransport, windowSource: () => windowSource };
}

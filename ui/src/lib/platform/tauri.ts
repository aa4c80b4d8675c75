import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Commands } from '../bindings/api';
import { toApiError } from './errors';
import { isStudioEvent } from './studio-event';
import type { Platform } from './types';

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

  // The desktop window is not served over HTTP, so it has no `/room` to reach: not yet.
  return { kind: 'tauri', call, subscribe, roomKey: () => null };
}

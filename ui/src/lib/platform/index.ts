// The only folder allowed to import `@tauri-apps/*`: everything else goes through `Platform`.
import { createBrowserWebPlatform } from './web';
import type { Platform } from './types';

export type { Platform } from './types';
export { toApiError, isApiError } from './errors';

let chosen: Promise<Platform> | null = null;

function insideTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** The platform this page runs on, chosen once: Tauri inside the desktop window, else the web. */
export function getPlatform(): Promise<Platform> {
  chosen ??= insideTauri()
    ? import('./tauri').then(({ createTauriPlatform }) => createTauriPlatform())
    : Promise.resolve().then(createBrowserWebPlatform);
  return chosen;
}

/** Where the studio key is kept for the life of the browser tab. */
export const KEY_STORAGE_NAME = 'lectern.key';

const HEX = /^[0-9a-f]+$/i;

/** The key in a fragment like `#key=<hex>` (other `&`-separated parameters may follow). */
export function parseKeyFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const key = params.get('key');
  return key !== null && HEX.test(key) ? key : null;
}

/** The fragment with its `key` parameter taken out ('' when nothing else was there). */
export function hashWithoutKey(hash: string): string {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  params.delete('key');
  const rest = params.toString();
  return rest === '' ? '' : `#${rest}`;
}

export interface KeySources {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>;
  history: Pick<History, 'replaceState'>;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
}

/**
 * Reads the studio key once at start: from the URL fragment when the page was opened with
 * `/studio#key=...` (then kept in session storage and wiped from the address bar, so it is
 * not left on screen or in the history), else from session storage after a reload.
 */
export function takeKey({ location, history, storage }: KeySources): string | null {
  const fromHash = parseKeyFromHash(location.hash);
  if (new URLSearchParams(location.hash.slice(1)).has('key')) {
    history.replaceState(null, '', location.pathname + location.search + hashWithoutKey(location.hash));
  }
  if (fromHash !== null) {
    try {
      storage?.setItem(KEY_STORAGE_NAME, fromHash);
    } catch {
      // Storage can be disabled; the key still works for this page load.
    }
    return fromHash;
  }
  try {
    const stored = storage?.getItem(KEY_STORAGE_NAME) ?? null;
    return stored !== null && HEX.test(stored) ? stored : null;
  } catch {
    return null;
  }
}

/** Where this browser keeps the random key the room derives its pseudonymous id from. */
export const BROWSER_KEY_STORAGE_NAME = 'lectern.browserKey';

const WELL_FORMED = /^[A-Za-z0-9_-]{16,128}$/;

/** 32 random hex characters. */
export function randomHex32(getRandomValues: (array: Uint8Array) => Uint8Array): string {
  const bytes = getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * This browser's key: the stored one, else a new random one that is stored for next time.
 * Without storage the key lasts for this page only (a new pseudonym on reload).
 */
export function browserKey(
  storage: Pick<Storage, 'getItem' | 'setItem'> | null,
  random: () => string,
): string {
  try {
    const stored = storage?.getItem(BROWSER_KEY_STORAGE_NAME) ?? null;
    if (stored !== null && WELL_FORMED.test(stored)) return stored;
  } catch {
    // Storage may be disabled.
  }
  const fresh = random();
  try {
    storage?.setItem(BROWSER_KEY_STORAGE_NAME, fresh);
  } catch {
    // The key still works for this page.
  }
  return fresh;
}

/** This page's browser key from its own storage: the same key its room connection uses. */
export function pageBrowserKey(): string {
  let storage: Storage | null;
  try {
    storage = window.localStorage;
  } catch {
    storage = null;
  }
  return browserKey(storage, () => randomHex32((a) => crypto.getRandomValues(a)));
}

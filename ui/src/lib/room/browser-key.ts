/** Where this browser keeps the key the school issued it; the room derives its pseudonymous id from it. */
export const BROWSER_KEY_STORAGE_NAME = 'lectern.browserKey';
/** The header a viewer page's WHEP offer carries its key in, and the answer a newly issued one. */
export const BROWSER_KEY_HEADER = 'X-Lectern-Browser-Key';

// What the school issues: `bk1-` + 32 hex + `-` + 32 hex (the studio checks the signature).
const ISSUED = /^bk1-[0-9a-f]{32}-[0-9a-f]{32}$/;

type KeyStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** 32 random hex characters. */
export function randomHex32(getRandomValues: (array: Uint8Array) => Uint8Array): string {
  const bytes = getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The key the school issued this browser, or '' when it has none yet: the room's welcome (or
 * the WHEP answer) brings one, which {@link keepBrowserKey} stores. A key the page made up
 * itself would be refused, so none is made here.
 */
export function storedBrowserKey(storage: KeyStorage | null): string {
  try {
    const stored = storage?.getItem(BROWSER_KEY_STORAGE_NAME) ?? null;
    if (stored !== null && ISSUED.test(stored)) return stored;
  } catch {
    // Storage may be disabled: a new key each page.
  }
  return '';
}

/** Keeps a key the school issued for next time (without storage it lasts for this page). */
export function keepBrowserKey(storage: KeyStorage | null, key: string): void {
  if (!ISSUED.test(key)) return;
  try {
    storage?.setItem(BROWSER_KEY_STORAGE_NAME, key);
  } catch {
    // The key still works for this page.
  }
}

function pageStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

// Without storage, the page still keeps one key for all its connections.
let pageKey = '';

/** This page's browser key: the same key its room connection and its video use ('' before one is issued). */
export function pageBrowserKey(): string {
  return storedBrowserKey(pageStorage()) || pageKey;
}

/**
 * Keeps a key issued to this page. The room's welcome is the authority on who this browser is
 * in the chat: its key replaces any other. A key from the video's WHEP answer is kept only when
 * the page has none yet (a first visit that joins the chat before its video answered gets two
 * keys; the chat's one stays, so the student keeps one identity from then on).
 */
export function keepPageBrowserKey(key: string, from: 'room' | 'video' = 'room'): void {
  if (!ISSUED.test(key)) return;
  if (from === 'video' && pageBrowserKey() !== '') return;
  pageKey = key;
  keepBrowserKey(pageStorage(), key);
}

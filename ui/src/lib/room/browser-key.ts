/** Where this browser keeps its key: the one the school issued, or before that its own nonce. */
export const BROWSER_KEY_STORAGE_NAME = 'lectern.browserKey';
/** The header a viewer page's WHEP offer carries its key in, and the answer a newly issued one. */
export const BROWSER_KEY_HEADER = 'X-Lectern-Browser-Key';

// What the school issues: `bk1-` + 32 hex + `-` + 32 hex (the studio checks the signature).
const ISSUED = /^bk1-[0-9a-f]{32}-[0-9a-f]{32}$/;
// Before that, the page's own random nonce, which the school signs into the key: the room's
// welcome and the video's WHEP answer sign the same nonce, so a first visit gets one identity.
const NONCE = /^[0-9a-f]{32}$/;

type KeyStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** 32 random hex characters. */
export function randomHex32(getRandomValues: (array: Uint8Array) => Uint8Array): string {
  const bytes = getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * What this browser sends as its key: the key the school issued it, else its own nonce (which
 * the school signs into its key in the welcome or the WHEP answer), else '' when it has neither.
 */
export function storedBrowserKey(storage: KeyStorage | null): string {
  try {
    const stored = storage?.getItem(BROWSER_KEY_STORAGE_NAME) ?? null;
    if (stored !== null && (ISSUED.test(stored) || NONCE.test(stored))) return stored;
  } catch {
    // Storage may be disabled: a new key each page.
  }
  return '';
}

/** Keeps a key the school issued for next time (it replaces the nonce it was signed from). */
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

// Without storage, the page still keeps one key (or nonce) for all its connections.
let pageKey = '';

/**
 * This page's browser key: the same for its room connection and its video. On a first visit it
 * is a new random nonce, kept until the school's key replaces it.
 */
export function pageBrowserKey(): string {
  const storage = pageStorage();
  const stored = storedBrowserKey(storage);
  if (stored !== '') return stored;
  if (pageKey === '') {
    pageKey = randomHex32((a) => crypto.getRandomValues(a));
    try {
      storage?.setItem(BROWSER_KEY_STORAGE_NAME, pageKey);
    } catch {
      // Kept for this page only.
    }
  }
  return pageKey;
}

/**
 * Keeps a key issued to this page. The room's welcome is the authority on who this browser is
 * in the chat; a key from the video's WHEP answer is kept only while the page has no issued key
 * yet (both are signed from the same nonce, so they agree).
 */
export function keepPageBrowserKey(key: string, from: 'room' | 'video' = 'room'): void {
  if (!ISSUED.test(key)) return;
  if (from === 'video' && ISSUED.test(pageBrowserKey())) return;
  pageKey = key;
  keepBrowserKey(pageStorage(), key);
}

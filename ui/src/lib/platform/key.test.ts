import { describe, expect, it, vi } from 'vitest';
import { hashWithoutKey, KEY_STORAGE_NAME, parseKeyFromHash, takeKey } from './key';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (name: string) => data.get(name) ?? null,
    setItem: (name: string, value: string) => void data.set(name, value),
  };
}

describe('parseKeyFromHash', () => {
  it('reads a hex key from #key=...', () => {
    expect(parseKeyFromHash('#key=0a1B2c3d')).toBe('0a1B2c3d');
  });

  it('reads the key among other parameters', () => {
    expect(parseKeyFromHash('#lang=en&key=deadbeef&x=1')).toBe('deadbeef');
  });

  it('rejects a missing, empty or non-hex key', () => {
    expect(parseKeyFromHash('')).toBeNull();
    expect(parseKeyFromHash('#/settings')).toBeNull();
    expect(parseKeyFromHash('#key=')).toBeNull();
    expect(parseKeyFromHash('#key=not-hex!')).toBeNull();
  });
});

describe('hashWithoutKey', () => {
  it('drops only the key parameter', () => {
    expect(hashWithoutKey('#key=abc')).toBe('');
    expect(hashWithoutKey('#key=abc&lang=en')).toBe('#lang=en');
  });
});

describe('takeKey', () => {
  it('keeps a key from the fragment in session storage and wipes it from the address bar', () => {
    const storage = memoryStorage();
    const replaceState = vi.fn();
    const key = takeKey({
      location: { hash: '#key=c0ffee', pathname: '/studio', search: '?a=1' },
      history: { replaceState },
      storage,
    });
    expect(key).toBe('c0ffee');
    expect(storage.data.get(KEY_STORAGE_NAME)).toBe('c0ffee');
    expect(replaceState).toHaveBeenCalledExactlyOnceWith(null, '', '/studio?a=1');
  });

  it('falls back to the stored key after a reload, without touching history', () => {
    const replaceState = vi.fn();
    const key = takeKey({
      location: { hash: '', pathname: '/studio', search: '' },
      history: { replaceState },
      storage: memoryStorage({ [KEY_STORAGE_NAME]: 'abc123' }),
    });
    expect(key).toBe('abc123');
    expect(replaceState).not.toHaveBeenCalled();
  });

  it('prefers a new key in the fragment over a stored one', () => {
    const storage = memoryStorage({ [KEY_STORAGE_NAME]: 'aaaa' });
    const key = takeKey({
      location: { hash: '#key=bbbb', pathname: '/studio', search: '' },
      history: { replaceState: () => {} },
      storage,
    });
    expect(key).toBe('bbbb');
    expect(storage.data.get(KEY_STORAGE_NAME)).toBe('bbbb');
  });

  it('still works when storage throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    const location = { hash: '#key=abcd', pathname: '/studio', search: '' };
    expect(takeKey({ location, history: { replaceState: () => {} }, storage: broken })).toBe('abcd');
    expect(takeKey({ location: { ...location, hash: '' }, history: { replaceState: () => {} }, storage: broken })).toBeNull();
  });
});

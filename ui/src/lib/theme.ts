/** The viewer's choice of colours: follow the system, or force light or dark. */
export type ThemePreference = 'system' | 'light' | 'dark';

export const THEME_STORAGE_NAME = 'lectern.theme';

export function parseThemePreference(value: string | null | undefined): ThemePreference {
  return value === 'light' || value === 'dark' ? value : 'system';
}

/** The scheme actually shown for a preference, given whether the system prefers dark. */
export function resolveTheme(preference: ThemePreference, systemPrefersDark: boolean): 'light' | 'dark' {
  if (preference === 'system') return systemPrefersDark ? 'dark' : 'light';
  return preference;
}

export function readThemePreference(storage: Pick<Storage, 'getItem'> | null): ThemePreference {
  try {
    return parseThemePreference(storage?.getItem(THEME_STORAGE_NAME));
  } catch {
    return 'system';
  }
}

/**
 * Marks `<html>` for the stylesheet: `data-theme="light|dark"` forces a scheme; no attribute
 * lets `prefers-color-scheme` decide.
 */
export function applyThemePreference(root: HTMLElement, preference: ThemePreference): void {
  if (preference === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', preference);
}

function localStorageOrNull(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Applies the stored preference; every page calls this before it mounts. */
export function applyStoredTheme(): ThemePreference {
  const preference = readThemePreference(localStorageOrNull());
  applyThemePreference(document.documentElement, preference);
  return preference;
}

export function storeThemePreference(preference: ThemePreference): void {
  try {
    const storage = localStorageOrNull();
    if (preference === 'system') storage?.removeItem(THEME_STORAGE_NAME);
    else storage?.setItem(THEME_STORAGE_NAME, preference);
  } catch {
    // Without storage the choice lasts until the page is closed.
  }
}

import { describe, expect, it } from 'vitest';
import { parseThemePreference, readThemePreference, resolveTheme, THEME_STORAGE_NAME } from './theme';

describe('theme preference', () => {
  it('follows the system unless light or dark was chosen', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });

  it('reads only known values from storage', () => {
    expect(parseThemePreference('dark')).toBe('dark');
    expect(parseThemePreference('purple')).toBe('system');
    expect(readThemePreference({ getItem: (k) => (k === THEME_STORAGE_NAME ? 'light' : null) })).toBe('light');
    expect(
      readThemePreference({
        getItem: () => {
          throw new Error('denied');
        },
      }),
    ).toBe('system');
  });
});

import {
  applyStoredTheme,
  applyThemePreference,
  resolveTheme,
  storeThemePreference,
  type ThemePreference,
} from './theme';

/** The theme of this page: the stored preference and the scheme it resolves to right now. */
class Theme {
  preference = $state<ThemePreference>('system');
  #systemDark = $state(false);

  get resolved(): 'light' | 'dark' {
    return resolveTheme(this.preference, this.#systemDark);
  }

  /** Applies the stored preference and follows the system setting from now on. */
  init(): void {
    this.preference = applyStoredTheme();
    const query = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (query) {
      this.#systemDark = query.matches;
      query.addEventListener('change', (e) => {
        this.#systemDark = e.matches;
      });
    }
  }

  set(preference: ThemePreference): void {
    this.preference = preference;
    storeThemePreference(preference);
    applyThemePreference(document.documentElement, preference);
  }

  /** Flips between light and dark from whatever is showing now. */
  toggle(): void {
    this.set(this.resolved === 'dark' ? 'light' : 'dark');
  }
}

export const theme = new Theme();

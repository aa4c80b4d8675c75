// WebKitGTK reports the POSIX locale as `navigator.language` when the process runs under
// LANG=C or C.UTF-8 (the default of many Debian installs and containers): "C" is not a BCP 47
// tag, so `new Intl.NumberFormat(navigator.language)` throws a RangeError. uPlot does exactly
// that when its module loads, which took the whole studio page down before it could mount.
// Imported before uPlot, this module replaces an unusable `navigator.language` with the
// runtime's own default locale (what `Intl` picks for `undefined`).

/** Whether `Intl` accepts `tag` as a locale. */
export function isUsableLocale(tag: unknown): boolean {
  if (typeof tag !== 'string' || tag === '') return false;
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

/** Makes `nav.language` a locale that `Intl` accepts; returns the one it now reports. */
export function guardNavigatorLanguage(nav: Navigator | undefined): string | null {
  if (nav === undefined) return null;
  if (isUsableLocale(nav.language)) return nav.language;
  const fallback = new Intl.NumberFormat().resolvedOptions().locale;
  try {
    Object.defineProperty(nav, 'language', { configurable: true, get: () => fallback });
  } catch {
    // A frozen navigator keeps its value; uPlot's number format then fails as before.
  }
  return nav.language;
}

guardNavigatorLanguage(typeof navigator === 'undefined' ? undefined : navigator);

import { describe, expect, it } from 'vitest';
import { guardNavigatorLanguage, isUsableLocale } from './locale-guard';

describe('the locale guard in front of uPlot', () => {
  it('tells BCP 47 tags from POSIX locale names', () => {
    expect(isUsableLocale('en-US')).toBe(true);
    expect(isUsableLocale('de')).toBe(true);
    expect(isUsableLocale('C')).toBe(false);
    expect(isUsableLocale('')).toBe(false);
    expect(isUsableLocale(undefined)).toBe(false);
  });

  it('replaces "C" (WebKitGTK under LANG=C.UTF-8) with a locale Intl accepts', () => {
    const nav = { language: 'C' } as unknown as Navigator;
    const now = guardNavigatorLanguage(nav);
    expect(now).not.toBe('C');
    expect(nav.language).toBe(now);
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
  });

  it('leaves a usable language alone', () => {
    const nav = { language: 'fr-FR' } as unknown as Navigator;
    expect(guardNavigatorLanguage(nav)).toBe('fr-FR');
  });
});

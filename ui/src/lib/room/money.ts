// Prices as people read them, shared by the viewer's offer card and the studio's offer screens.

/** `cents` of `currency` (ISO 4217) in the reader's locale: "€39.20", "US$49.00". */
export function formatMoney(cents: number, currency: string, locale?: string): string {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(cents / 100);
  } catch {
    // An unknown code: the number and the code, never nothing.
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

/** A price typed by a person ("49", "49.5", "1,299.00", "39,90") in cents; null when it is not one. */
export function parseMoney(text: string): number | null {
  const t = text.trim().replace(/[\s\u00a0']/g, '');
  if (t === '') return null;
  // A decimal comma ("39,90") or point, with thousands separators of the other kind.
  const match = /^(\d{1,3}(?:[.,]\d{3})*|\d+)(?:([.,])(\d{1,2}))?$/.exec(t);
  if (!match) return null;
  const whole = match[1]!.replace(/[.,]/g, '');
  const fraction = (match[3] ?? '').padEnd(2, '0');
  const cents = Number(whole) * 100 + Number(fraction || '0');
  return Number.isSafeInteger(cents) ? cents : null;
}

/** Cents as a plain amount for an input field: 4900 -> "49.00". */
export function centsToInput(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** The price after a discount, rounded half up, as the room computes it. */
export function discounted(cents: number, discountPct: number): number {
  const pct = Math.min(100, Math.max(0, discountPct));
  return Math.floor((cents * (100 - pct) + 50) / 100);
}

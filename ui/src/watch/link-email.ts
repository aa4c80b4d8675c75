// "Link my purchases": a viewer may give an email, with consent, so that a purchase the shop
// reports without the card's reference code still counts for this class. The room keeps only
// its SHA-256; this check only saves a round trip for an obvious typo.

/** What to fix before sending, or null. */
export function emailProblem(email: string, consent: boolean): string | null {
  const e = email.trim();
  if (e === '') return 'Write your email.';
  if (e.length > 254) return 'That email is too long.';
  const at = e.indexOf('@');
  if (at < 1 || at !== e.lastIndexOf('@') || /\s/.test(e)) return 'That does not look like an email address.';
  const domain = e.slice(at + 1);
  if (!domain.includes('.') || domain.startsWith('.') || domain.endsWith('.')) return 'That does not look like an email address.';
  if (!consent) return 'Tick the box to agree first.';
  return null;
}

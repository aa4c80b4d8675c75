// A learner's personal join link: `/watch#learner=<id>&sig=<hex>`. The school sends it from its
// mailer; the page passes it in its hello and the studio checks the signature, so the viewer's
// history meets the class (recommendations, offers). The fragment never reaches a server log.
import type { LearnerLink } from '../lib/bindings/room';

/** The most characters of a learner id (the room's limit). */
export const MAX_LEARNER_ID_CHARS = 128;

/** The link in a page's `location.hash`, or null when it carries none (or a malformed one). */
export function parseLearnerLink(hash: string): LearnerLink | null {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (raw === '') return null;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(raw);
  } catch {
    return null;
  }
  const learner = (params.get('learner') ?? '').trim();
  const sig = (params.get('sig') ?? '').trim().toLowerCase();
  if (learner === '' || [...learner].length > MAX_LEARNER_ID_CHARS) return null;
  if (!/^[0-9a-f]{32}$/.test(sig)) return null;
  return { learner, sig };
}

/** The hash without the link's parameters (what the address bar keeps, so it is not shared). */
export function hashWithoutLink(hash: string): string {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const params = new URLSearchParams(raw);
  params.delete('learner');
  params.delete('sig');
  const rest = params.toString();
  return rest === '' ? '' : `#${rest}`;
}

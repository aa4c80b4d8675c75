import type { PublicInfo } from '../lib/bindings/api';

/** Why the public information could not be read, in words for a student. */
export class PublicInfoUnavailable extends Error {
  override name = 'PublicInfoUnavailable';
}

function isPublicInfo(value: unknown): value is PublicInfo {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.schoolName === null || typeof v.schoolName === 'string') &&
    typeof v.live === 'boolean' &&
    (v.chatRetentionDays === undefined || v.chatRetentionDays === null || (typeof v.chatRetentionDays === 'number' && Number.isInteger(v.chatRetentionDays) && v.chatRetentionDays >= 0)) &&
    (v.whepUrl === undefined || v.whepUrl === null || (typeof v.whepUrl === 'string' && /^https?:\/\//i.test(v.whepUrl))) &&
    (v.iceServers === undefined || (Array.isArray(v.iceServers) && v.iceServers.every((u) => typeof u === 'string')))
  );
}

/**
 * Reads `GET /api/v1/public`: the school's name, whether a class is live and how long chat is kept. It needs no key,
 * and the viewer page is never inside the desktop window, so this is a plain fetch.
 */
export async function fetchPublicInfo(fetchFn: typeof fetch = (input, init) => fetch(input, init)): Promise<PublicInfo> {
  let response: Response;
  try {
    response = await fetchFn('/api/v1/public', { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch {
    throw new PublicInfoUnavailable('The class could not be reached. Check your connection and try again.');
  }
  if (!response.ok) {
    throw new PublicInfoUnavailable(`The class could not be reached (HTTP ${response.status}).`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new PublicInfoUnavailable('The class sent an answer this page could not read.');
  }
  if (!isPublicInfo(body)) throw new PublicInfoUnavailable('The class sent an answer this page could not read.');
  return { schoolName: body.schoolName, live: body.live, chatRetentionDays: body.chatRetentionDays ?? null, whepUrl: body.whepUrl ?? null, iceServers: body.iceServers ?? [] };
}

// The publish page's key handling and the words for its states and errors.
import type { MediaSessionError } from '../lib/media/signal';

/** A publish key: 16 to 128 letters, digits, '-', '_' or '.' (as the server accepts). */
export const PUBLISH_KEY = /^[A-Za-z0-9._-]{16,128}$/;

/** The `key` in a fragment like `#key=...`, if it looks like a publish key. */
export function publishKeyFromHash(hash: string): string | null {
  const key = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash).get('key');
  return key !== null && PUBLISH_KEY.test(key.trim()) ? key.trim() : null;
}

/** What went wrong, for the person publishing. */
export function publishErrorText(error: Pick<MediaSessionError, 'status' | 'code' | 'message'>): string {
  if (error.status === 401 || error.code === 'unauthorized') {
    return 'The publish key is wrong. Copy it again from the studio’s Broadcast screen.';
  }
  if (error.status === 409 || error.code === 'publisher_exists') {
    return 'Another publisher is live. Stop it first, or turn on “Replace the live publisher” in the studio.';
  }
  switch (error.code) {
    case 'network':
      return 'The studio could not be reached. Check that Lectern is running and try again.';
    case 'connection_lost':
      return 'The connection to the studio was lost. Go live again to resume.';
    case 'unsupported_codec':
      return 'The studio cannot take this browser’s video or audio format.';
    default:
      return `The studio refused the broadcast: ${error.message}`;
  }
}

/** What a failed getUserMedia/getDisplayMedia means, in words. */
export function deviceErrorText(err: unknown): string {
  const name = err instanceof Error || (typeof err === 'object' && err !== null && 'name' in err) ? String((err as { name: unknown }).name) : '';
  switch (name) {
    case 'NotAllowedError':
      return 'The browser was not allowed to use the camera, microphone or screen. Allow it in the address bar and try again.';
    case 'NotFoundError':
      return 'No camera or microphone was found.';
    case 'NotReadableError':
      return 'The camera or microphone is in use by another program.';
    case 'OverconstrainedError':
      return 'That device is no longer available. Pick another one.';
    default:
      return 'The camera, microphone or screen could not be opened.';
  }
}

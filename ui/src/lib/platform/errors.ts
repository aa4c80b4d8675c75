import type { ApiError, ErrorCode } from '../bindings/api';

// A Record over the union makes the compiler flag a code added to the bindings but not here.
const KNOWN_CODES: Record<ErrorCode, true> = {
  invalid_input: true,
  not_found: true,
  no_school: true,
  unauthorized: true,
  forbidden: true,
  payload_too_large: true,
  conflict: true,
  database_too_new: true,
  not_a_database: true,
  foreign_database: true,
  database_corrupt: true,
  database_locked: true,
  disk_full: true,
  storage: true,
  internal: true,
  feed_unreachable: true,
  feed_refused: true,
  feed_invalid: true,
  over_capacity: true,
  too_many_connections: true,
  private_address: true,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(KNOWN_CODES, value);
}

export function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isErrorCode(v.code) && typeof v.message === 'string';
}

/**
 * Turns whatever a failed call produced into an `ApiError`, so screens only ever see
 * `{ code, message }` and never need to match on strings.
 */
export function toApiError(value: unknown): ApiError {
  if (isApiError(value)) return { code: value.code, message: value.message };
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    // A code this build does not know yet (a newer host): keep the host's words.
    if (typeof v.code === 'string' && typeof v.message === 'string') {
      return { code: 'internal', message: v.message };
    }
  }
  if (value instanceof Error) {
    return { code: 'internal', message: value.message || 'Unexpected error' };
  }
  // Tauri rejects with a bare string when a command is missing or panicked.
  if (typeof value === 'string' && value.trim() !== '') {
    return { code: 'internal', message: value };
  }
  return { code: 'internal', message: 'Unexpected error' };
}

/** The error for a non-2xx HTTP answer: its JSON body when that is an ApiError. */
export function apiErrorFromHttp(status: number, body: string): ApiError {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isApiError(parsed)) return { code: parsed.code, message: parsed.message };
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): fall through.
  }
  return { code: 'internal', message: `HTTP ${status}` };
}

/** The first reconnect waits this long. */
export const RECONNECT_MIN_MS = 500;
/** No reconnect waits longer than this. */
export const RECONNECT_MAX_MS = 10_000;

/**
 * How long to wait before reconnect number `attempt` (0 for the first): 0.5 s, 1 s, 2 s,
 * 4 s, 8 s, then 10 s for every later attempt.
 */
export function reconnectDelayMs(attempt: number): number {
  if (Number.isNaN(attempt) || attempt <= 0) return RECONNECT_MIN_MS;
  // Cap the exponent before computing so huge attempt counts never reach Infinity.
  const exponent = Math.min(Math.floor(attempt), 30);
  return Math.min(RECONNECT_MIN_MS * 2 ** exponent, RECONNECT_MAX_MS);
}

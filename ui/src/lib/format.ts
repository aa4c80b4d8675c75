// Formatting for what the studio shows: counts, dates, durations, sizes and money.
// Locale and time zone are parameters so the output is exact under test.

const DASH = '—';

/** A duration in words: "45 s", "42 min", "1 h 5 min", "2 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return DASH;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds} s`;
  const totalMinutes = Math.round(ms / 60_000);
  if (totalMinutes < 60) return `${totalMinutes} min`;
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}

/** How long a session lasted; an unfinished one has no length yet. */
export function formatSessionLength(startedAtMs: number, endedAtMs: number | null): string {
  if (endedAtMs === null || endedAtMs < startedAtMs) return DASH;
  return formatDuration(endedAtMs - startedAtMs);
}

export interface LocaleOptions {
  locale?: string | undefined;
  timeZone?: string | undefined;
}

/** A date and time such as "28 Nov 2025, 14:05" (in the viewer's locale by default). */
export function formatDateTime(ms: number, { locale, timeZone }: LocaleOptions = {}): string {
  if (!Number.isFinite(ms)) return DASH;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(ms);
}

/** A date such as "28 Nov 2025". */
export function formatDate(ms: number, { locale, timeZone }: LocaleOptions = {}): string {
  if (!Number.isFinite(ms)) return DASH;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone }).format(ms);
}

/** A whole number with the locale's grouping: "1,284". */
export function formatCount(n: number, { locale }: LocaleOptions = {}): string {
  if (!Number.isFinite(n)) return DASH;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/**
 * An amount of money kept in minor units (cents), as money: 4900 USD is "$49.00",
 * 4900 JPY is "¥4,900" because the yen has no minor unit.
 */
export function formatMoney(minorUnits: number, currency: string, { locale }: LocaleOptions = {}): string {
  if (!Number.isFinite(minorUnits)) return DASH;
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minorUnits / 10 ** digits);
}

/** A size in bytes with decimal units: "512 B", "1.5 kB", "23.4 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return DASH;
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const shown = value >= 100 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[unit]}`;
}

/** A share of work done, 0..100, for a progress bar; unknown totals give 0. */
export function percentDone(done: number, total: number): number {
  if (!Number.isFinite(done) || !Number.isFinite(total) || total <= 0) return 0;
  return Math.min(100, Math.max(0, Math.round((done / total) * 100)));
}

/** Time on air as a clock: "4:07", "1:02:09". */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0:00';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

import type { ApiError, ChatRetentionApplied, RecordingRetentionApplied } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** A "keep for N days, or for ever (null)" setting: read it, save it, and what saving did. */
class DaysSetting<Applied extends { days: number | null }> {
  days = $state<number | null | undefined>(undefined);
  busy = $state(false);
  error = $state<ApiError | null>(null);
  applied = $state.raw<Applied | null>(null);

  readonly #read: () => Promise<{ days: number | null }>;
  readonly #write: (days: number | null) => Promise<Applied>;

  constructor(read: () => Promise<{ days: number | null }>, write: (days: number | null) => Promise<Applied>) {
    this.#read = read;
    this.#write = write;
  }

  start(): () => void {
    void this.load();
    return () => {};
  }

  async load(): Promise<void> {
    try {
      this.days = (await this.#read()).days;
      this.error = null;
    } catch (err) {
      this.error = toApiError(err);
    }
  }

  async save(days: number | null): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    this.applied = null;
    try {
      const applied = await this.#write(days);
      this.applied = applied;
      this.days = applied.days;
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.busy = false;
    }
  }
}

/** How long chat text is kept: N days, or for ever (null). */
export class RetentionStore extends DaysSetting<ChatRetentionApplied> {
  constructor(platform: Platform) {
    super(
      () => platform.call('chat_retention', {}),
      (days) => platform.call('set_chat_retention', { days }),
    );
  }
}

/** Parses the days field: 1 to 3650 whole days. */
export function parseDays(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= 3650 ? n : null;
}

/** The setting and what it just did, in words. */
export function retentionText(days: number | null, blanked: number | null = null): string {
  const rule = days === null ? 'Chat is kept for ever.' : `Chat text is kept for ${days} ${days === 1 ? 'day' : 'days'}, then blanked.`;
  if (blanked === null) return rule;
  return `${rule} ${blanked} older ${blanked === 1 ? 'message was' : 'messages were'} blanked now.`;
}

/** How long class recordings are kept: N days after they started, or until deleted (null). */
export class RecordingRetentionStore extends DaysSetting<RecordingRetentionApplied> {
  constructor(platform: Platform) {
    super(
      () => platform.call('recording_retention', {}),
      (days) => platform.call('set_recording_retention', { days }),
    );
  }
}

/** The recordings' setting and what it just did, in words. */
export function recordingRetentionText(days: number | null, deleted: number | null = null): string {
  const rule =
    days === null ? 'Recordings are kept until you delete them.' : `Recordings are kept for ${days} ${days === 1 ? 'day' : 'days'}, then deleted.`;
  if (deleted === null) return rule;
  return `${rule} ${deleted} older ${deleted === 1 ? 'recording was' : 'recordings were'} deleted now.`;
}

import type { ApiError, ChatRetentionApplied, RecordingRetentionApplied } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** How long chat text is kept: N days, or for ever (null). */
export class RetentionStore {
  days = $state<number | null | undefined>(undefined);
  busy = $state(false);
  error = $state<ApiError | null>(null);
  applied = $state.raw<ChatRetentionApplied | null>(null);

  readonly #platform: Platform;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    void this.load();
    return () => {};
  }

  async load(): Promise<void> {
    try {
      this.days = (await this.#platform.call('chat_retention', {})).days;
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
      const applied = await this.#platform.call('set_chat_retention', { days });
      this.applied = applied;
      this.days = applied.days;
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.busy = false;
    }
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
export class RecordingRetentionStore {
  days = $state<number | null | undefined>(undefined);
  busy = $state(false);
  error = $state<ApiError | null>(null);
  applied = $state.raw<RecordingRetentionApplied | null>(null);

  readonly #platform: Platform;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    void this.load();
    return () => {};
  }

  async load(): Promise<void> {
    try {
      this.days = (await this.#platform.call('recording_retention', {})).days;
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
      const applied = await this.#platform.call('set_recording_retention', { days });
      this.applied = applied;
      this.days = applied.days;
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.busy = false;
    }
  }
}

/** The recordings' setting and what it just did, in words. */
export function recordingRetentionText(days: number | null, deleted: number | null = null): string {
  const rule =
    days === null ? 'Recordings are kept until you delete them.' : `Recordings are kept for ${days} ${days === 1 ? 'day' : 'days'}, then deleted.`;
  if (deleted === null) return rule;
  return `${rule} ${deleted} older ${deleted === 1 ? 'recording was' : 'recordings were'} deleted now.`;
}

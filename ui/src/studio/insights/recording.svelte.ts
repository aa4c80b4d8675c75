import type { ApiError, SessionRecording } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** Where students reach the studio: the public URL, this page's origin in a browser, or the
 * first address the studio listens on in the desktop window (which has no origin of its own). */
export function studentOrigin(kind: 'tauri' | 'web', pageOrigin: string, urls: string[], publicUrl: string | null): string {
  if (publicUrl) return publicUrl.replace(/\/$/, '');
  if (kind === 'web') return pageOrigin;
  return (urls[0] ?? '').replace(/\/$/, '');
}

/** One past class's recording on the session page: list, delete (after confirming). */
export class RecordingStore {
  sessionId = $state<number | null>(null);
  recording = $state.raw<SessionRecording | null>(null);
  error = $state<ApiError | null>(null);
  confirmingDelete = $state(false);
  deleting = $state(false);
  origin = $state('');

  readonly #platform: Platform;
  #ticket = 0;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    void this.#loadOrigin();
    const unsubscribe = this.#platform.subscribe((ev) => {
      if (ev.kind === 'school_changed' && this.sessionId !== null) void this.load(this.sessionId);
    });
    return () => {
      this.#ticket += 1;
      unsubscribe();
    };
  }

  async #loadOrigin(): Promise<void> {
    try {
      const overview = await this.#platform.call('overview', {});
      this.origin = studentOrigin(
        this.#platform.kind,
        typeof window === 'undefined' ? '' : window.location.origin,
        overview.network.urls,
        overview.network.publicUrl ?? null,
      );
    } catch {
      // Links stay relative: the page still lists the recording.
    }
  }

  async load(sessionId: number): Promise<void> {
    const ticket = ++this.#ticket;
    if (this.sessionId !== sessionId) {
      this.recording = null;
      this.confirmingDelete = false;
    }
    this.sessionId = sessionId;
    this.error = null;
    try {
      const recording = await this.#platform.call('session_recording', { sessionId });
      if (ticket === this.#ticket) this.recording = recording;
    } catch (err) {
      if (ticket === this.#ticket) this.error = toApiError(err);
    }
  }

  async remove(): Promise<void> {
    const id = this.sessionId;
    if (id === null || this.deleting) return;
    this.deleting = true;
    this.error = null;
    try {
      this.recording = await this.#platform.call('delete_recording', { sessionId: id });
      this.confirmingDelete = false;
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.deleting = false;
    }
  }
}

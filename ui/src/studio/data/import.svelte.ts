import type { ApiError, DataKind, ImportCheck, ImportDone, StudioEvent } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** Largest file the page reads (the engine refuses more anyway). */
export const MAX_FILE_BYTES = 50 * 1024 * 1024;

export const KIND_LABELS: Record<DataKind, string> = {
  catalog: 'Catalog (courses)',
  learners: 'Learners',
  purchases: 'Purchases',
};

/**
 * One CSV import: the chosen file and kind, its preview (checked by the engine, nothing written),
 * then the import itself with `import_progress` events and its counts.
 */
export class ImportStore {
  kind = $state<DataKind>('purchases');
  fileName = $state<string | null>(null);
  preview = $state.raw<ImportCheck | null>(null);
  previewing = $state(false);
  importing = $state(false);
  progress = $state<{ done: number; total: number } | null>(null);
  result = $state.raw<ImportDone | null>(null);
  error = $state<ApiError | null>(null);

  readonly #platform: Platform;
  #text: string | null = null;
  #ticket = 0;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    return this.#platform.subscribe((ev) => this.handle(ev));
  }

  handle(ev: StudioEvent): void {
    if (ev.kind !== 'import_progress' || !this.importing) return;
    this.progress = { done: ev.done, total: ev.total };
  }

  /** Import is possible: a preview with rows and without errors, and nothing running. */
  get canImport(): boolean {
    const p = this.preview;
    return p !== null && p.rows > 0 && p.errorRows === 0 && !this.previewing && !this.importing && this.#text !== null;
  }

  /** A file was chosen: keep its text and check it. */
  async choose(fileName: string, text: string): Promise<void> {
    this.fileName = fileName;
    this.#text = text;
    this.result = null;
    await this.check();
  }

  async setKind(kind: DataKind): Promise<void> {
    if (kind === this.kind) return;
    this.kind = kind;
    this.result = null;
    if (this.#text !== null) await this.check();
  }

  /** Refuses a file too large to read before reading it. */
  refuse(fileName: string, message: string): void {
    this.#ticket += 1;
    this.fileName = fileName;
    this.#text = null;
    this.preview = null;
    this.result = null;
    this.error = { code: 'payload_too_large', message };
  }

  async check(): Promise<void> {
    const text = this.#text;
    if (text === null) return;
    const ticket = ++this.#ticket;
    this.previewing = true;
    this.preview = null;
    this.error = null;
    try {
      const preview = await this.#platform.call('preview_import', { kind: this.kind, text });
      if (ticket === this.#ticket) this.preview = preview;
    } catch (err) {
      if (ticket === this.#ticket) this.error = toApiError(err);
    } finally {
      if (ticket === this.#ticket) this.previewing = false;
    }
  }

  async run(): Promise<void> {
    const text = this.#text;
    if (!this.canImport || text === null) return;
    this.importing = true;
    this.progress = null;
    this.error = null;
    this.result = null;
    try {
      const done = await this.#platform.call('import_data', { kind: this.kind, text });
      this.result = done;
      // A refused import (a row changed between preview and import) lists its errors like a preview.
      if (!done.applied && this.preview) this.preview = { ...this.preview, errorRows: done.errorRows, errors: done.errors };
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.importing = false;
      this.progress = null;
    }
  }
}

/** An import's outcome in words. */
export function importResultText(done: ImportDone): string {
  if (!done.applied) return `Nothing was imported: ${done.errorRows} ${done.errorRows === 1 ? 'row has' : 'rows have'} errors.`;
  const parts = [`${done.inserted} new`, `${done.updated} updated`, `${done.unchanged} unchanged`];
  const learners = done.learnersCreated > 0 ? `; ${done.learnersCreated} ${done.learnersCreated === 1 ? 'learner' : 'learners'} created` : '';
  return `Imported ${done.rows} ${done.rows === 1 ? 'row' : 'rows'}: ${parts.join(', ')}${learners}.`;
}

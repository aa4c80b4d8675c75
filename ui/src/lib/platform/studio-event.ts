import type { StudioEvent } from '../bindings/api';

const KINDS: Record<StudioEvent['kind'], true> = {
  school_changed: true,
  network_changed: true,
  backup_progress: true,
  moderator_link_revoked: true,
  import_progress: true,
  broadcast_stats: true,
  training_progress: true,
  storage_problem: true,
  storage_recovered: true,
  recording_notice: true,
};

/**
 * Whether a decoded message is a studio event this build understands. Kinds from a newer
 * host are dropped here, so a store's `switch` over `kind` stays exhaustive.
 */
export function isStudioEvent(value: unknown): value is StudioEvent {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return typeof kind === 'string' && Object.hasOwn(KINDS, kind);
}

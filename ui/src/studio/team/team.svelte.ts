import type { ApiError, ModeratorLinkInfo, NewModeratorLink } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** What a moderator link's row says about it. */
export function linkStatus(link: ModeratorLinkInfo): 'active' | 'revoked' | 'expired' {
  if (link.revokedAtMs !== null) return 'revoked';
  return link.active ? 'active' : 'expired';
}

/** The address to give a TA: the studio's origin, then the link's path (`/studio#mod=...`). */
export function fullLinkUrl(origin: string, path: string): string {
  return origin.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
}

/** The owner's moderator links: the list, and the one just made (its address is shown once). */
export class TeamStore {
  links = $state<ModeratorLinkInfo[] | null>(null);
  error = $state<ApiError | null>(null);
  busy = $state(false);
  /** The link just created, with its path; forgotten when the owner closes it. */
  created = $state<NewModeratorLink | null>(null);

  readonly #platform: Platform;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  async load(): Promise<void> {
    try {
      this.links = await this.#platform.call('moderator_links', {});
      this.error = null;
    } catch (err) {
      this.error = toApiError(err);
    }
  }

  async create(label: string, hours: number): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      this.created = await this.#platform.call('create_moderator_link', { label, hours });
      this.error = null;
      await this.load();
      return true;
    } catch (err) {
      this.error = toApiError(err);
      return false;
    } finally {
      this.busy = false;
    }
  }

  async revoke(id: number): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.links = await this.#platform.call('revoke_moderator_link', { id });
      if (this.created?.link.id === id) this.created = null;
      this.error = null;
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.busy = false;
    }
  }

  forgetCreated(): void {
    this.created = null;
  }
}

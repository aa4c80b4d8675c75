import type { ApiError, Course, FollowUp } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/**
 * The courses to follow a chosen course of the catalog, with reasons: the recommender of
 * "recommend next", for one learner who has taken just that course.
 */
export class FollowUpsStore {
  courses = $state.raw<Course[]>([]);
  courseId = $state<string | null>(null);
  followUps = $state.raw<FollowUp[] | null>(null);
  loading = $state(false);
  error = $state<ApiError | null>(null);

  readonly #platform: Platform;
  #ticket = 0;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    void this.#loadCatalog();
    return () => {
      this.#ticket += 1;
    };
  }

  async #loadCatalog(): Promise<void> {
    try {
      this.courses = await this.#platform.call('catalog', {});
    } catch (err) {
      this.error = toApiError(err);
    }
  }

  /** Shows the follow-ups of `courseId`; an answer for a course no longer chosen is dropped. */
  async choose(courseId: string): Promise<void> {
    const ticket = ++this.#ticket;
    this.courseId = courseId;
    this.followUps = null;
    this.error = null;
    this.loading = true;
    try {
      const followUps = await this.#platform.call('recommend_for_course', { courseId });
      if (ticket === this.#ticket) this.followUps = followUps;
    } catch (err) {
      if (ticket === this.#ticket) this.error = toApiError(err);
    } finally {
      if (ticket === this.#ticket) this.loading = false;
    }
  }
}

import { describe, expect, it } from 'vitest';
import type { Course, FollowUp } from '../../lib/bindings/api';
import { deferred, FakePlatform, settle } from '../../test-support/fake-platform';
import { FollowUpsStore } from './follow-ups.svelte';

const course = (id: string, title: string) => ({ id, title }) as Course;

describe('FollowUpsStore', () => {
  it('loads the catalog, then the follow-ups of the chosen course', async () => {
    const next: FollowUp[] = [{ courseId: 'k8s', title: 'Kubernetes', reason: '47 of 122 learners who took Docker took it next' }];
    const platform = new FakePlatform().on('catalog', () => [course('docker', 'Docker'), course('k8s', 'Kubernetes')]).on('recommend_for_course', () => next);
    const store = new FollowUpsStore(platform);
    store.start();
    await settle();
    expect(store.courses.map((c) => c.id)).toEqual(['docker', 'k8s']);
    await store.choose('docker');
    expect(platform.calls.find((c) => c.command === 'recommend_for_course')?.args).toEqual({ courseId: 'docker' });
    expect(store.followUps).toEqual(next);
    expect(store.loading).toBe(false);
  });

  it('keeps only the answer for the course chosen last, and the error code', async () => {
    const slow = deferred<FollowUp[]>();
    const platform = new FakePlatform()
      .on('catalog', () => [])
      .on('recommend_for_course', ({ courseId }) => (courseId === 'a' ? slow.promise : Promise.reject({ code: 'not_found', message: 'no course b' })));
    const store = new FollowUpsStore(platform);
    const first = store.choose('a');
    await store.choose('b');
    slow.resolve([{ courseId: 'x', title: 'X', reason: 'r' }]);
    await first;
    expect(store.courseId).toBe('b');
    expect(store.followUps).toBeNull();
    expect(store.error?.code).toBe('not_found');
  });
});

import { describe, expect, it } from 'vitest';
import { hashWithoutLink, parseLearnerLink } from './learner-link';

const SIG = '0123456789abcdef0123456789abcdef';

describe('personal join link', () => {
  it('reads the learner and the signature from the fragment', () => {
    expect(parseLearnerLink(`#learner=L-42&sig=${SIG}`)).toEqual({ learner: 'L-42', sig: SIG });
    expect(parseLearnerLink(`#learner=ann%40shop%20x&sig=${SIG.toUpperCase()}`)).toEqual({ learner: 'ann@shop x', sig: SIG });
  });

  it('ignores a page without one, or a malformed one', () => {
    expect(parseLearnerLink('')).toBeNull();
    expect(parseLearnerLink('#')).toBeNull();
    expect(parseLearnerLink('#learner=L-42')).toBeNull();
    expect(parseLearnerLink('#learner=&sig=' + SIG)).toBeNull();
    expect(parseLearnerLink('#learner=L-42&sig=xyz')).toBeNull();
    expect(parseLearnerLink(`#learner=${'x'.repeat(129)}&sig=${SIG}`)).toBeNull();
  });

  it('leaves the address bar without the link', () => {
    expect(hashWithoutLink(`#learner=L-42&sig=${SIG}`)).toBe('');
    expect(hashWithoutLink(`#learner=L-42&sig=${SIG}&x=1`)).toBe('#x=1');
  });
});

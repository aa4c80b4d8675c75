import { describe, expect, it } from 'vitest';
import { emailProblem } from './link-email';

describe('linking purchases by email', () => {
  it('needs an address and the consent box', () => {
    expect(emailProblem(' mia@example.org ', true)).toBeNull();
    expect(emailProblem('', true)).toBe('Write your email.');
    expect(emailProblem('mia@example', true)).toBe('That does not look like an email address.');
    expect(emailProblem('mia example.org', true)).toBe('That does not look like an email address.');
    expect(emailProblem('a@b@example.org', true)).toBe('That does not look like an email address.');
    expect(emailProblem('mia@example.org', false)).toBe('Tick the box to agree first.');
  });
});

import { describe, expect, it } from 'vitest';
import { checkSchoolName } from './school-name';

describe('checkSchoolName', () => {
  it('accepts and trims a normal name', () => {
    expect(checkSchoolName('  Northside Guitar  ')).toEqual({ ok: true, name: 'Northside Guitar' });
  });

  it('refuses an empty or blank name', () => {
    expect(checkSchoolName('').ok).toBe(false);
    expect(checkSchoolName('   \t').ok).toBe(false);
  });

  it('allows 120 characters and refuses 121, counting characters not UTF-16 units', () => {
    expect(checkSchoolName('a'.repeat(120)).ok).toBe(true);
    expect(checkSchoolName('a'.repeat(121)).ok).toBe(false);
    // 120 emoji are 240 UTF-16 units but 120 characters.
    expect(checkSchoolName('🎸'.repeat(120)).ok).toBe(true);
  });
});

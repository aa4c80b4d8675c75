/** The longest school name the studio accepts, in characters. */
export const SCHOOL_NAME_MAX = 120;

export type SchoolNameCheck = { ok: true; name: string } | { ok: false; message: string };

/** Checks a school name as typed: trimmed, 1 to 120 characters (not UTF-16 units). */
export function checkSchoolName(raw: string): SchoolNameCheck {
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0) return { ok: false, message: 'Give your school a name.' };
  if (length > SCHOOL_NAME_MAX) {
    return { ok: false, message: `Keep the name to ${SCHOOL_NAME_MAX} characters (it has ${length}).` };
  }
  return { ok: true, name };
}

import { describe, expect, it } from 'vitest';
import { deviceErrorText, publishErrorText, publishKeyFromHash } from './publish-text';

describe('publishKeyFromHash', () => {
  it('reads a key from the fragment and refuses anything else', () => {
    expect(publishKeyFromHash('#key=ba7b07f30b77abcb60eabbab73e1a144')).toBe('ba7b07f30b77abcb60eabbab73e1a144');
    expect(publishKeyFromHash('#a=1&key=my-class_key.2026x')).toBe('my-class_key.2026x');
    expect(publishKeyFromHash('#key=short')).toBeNull();
    expect(publishKeyFromHash('#key=<script>alert(1)</script>xx')).toBeNull();
    expect(publishKeyFromHash('')).toBeNull();
  });
});

describe('publishErrorText', () => {
  it('names a wrong key and a live publisher', () => {
    expect(publishErrorText({ status: 401, code: 'unauthorized', message: '' })).toMatch(/key is wrong/);
    expect(publishErrorText({ status: 409, code: 'publisher_exists', message: '' })).toMatch(/Another publisher is live/);
    expect(publishErrorText({ status: 0, code: 'network', message: '' })).toMatch(/could not be reached/);
    expect(publishErrorText({ status: 400, code: 'bad_sdp', message: 'malformed SDP' })).toMatch(/malformed SDP/);
  });
});

describe('deviceErrorText', () => {
  it('explains a refused permission', () => {
    expect(deviceErrorText(new DOMException('x', 'NotAllowedError'))).toMatch(/not allowed/);
    expect(deviceErrorText('?')).toMatch(/could not be opened/);
  });
});

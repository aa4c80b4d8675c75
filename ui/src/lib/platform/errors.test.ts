import { describe, expect, it } from 'vitest';
import { apiErrorFromHttp, isApiError, toApiError } from './errors';

describe('toApiError', () => {
  it('passes an ApiError through, without extra fields', () => {
    expect(toApiError({ code: 'disk_full', message: 'No space left', extra: 1 })).toEqual({
      code: 'disk_full',
      message: 'No space left',
    });
  });

  it('keeps the message of an unknown code under "internal"', () => {
    expect(toApiError({ code: 'poll_closed', message: 'The poll is closed' })).toEqual({
      code: 'internal',
      message: 'The poll is closed',
    });
  });

  it('turns an Error, a string and anything else into "internal"', () => {
    expect(toApiError(new TypeError('Failed to fetch'))).toEqual({ code: 'internal', message: 'Failed to fetch' });
    expect(toApiError('command overview not found')).toEqual({
      code: 'internal',
      message: 'command overview not found',
    });
    expect(toApiError(undefined)).toEqual({ code: 'internal', message: 'Unexpected error' });
    expect(toApiError(42)).toEqual({ code: 'internal', message: 'Unexpected error' });
  });
});

describe('apiErrorFromHttp', () => {
  it('uses a JSON ApiError body', () => {
    expect(apiErrorFromHttp(401, '{"code":"unauthorized","message":"Missing key"}')).toEqual({
      code: 'unauthorized',
      message: 'Missing key',
    });
  });

  it('synthesises "HTTP <status>" for a body that is not an ApiError', () => {
    expect(apiErrorFromHttp(502, '<html>Bad gateway</html>')).toEqual({ code: 'internal', message: 'HTTP 502' });
    expect(apiErrorFromHttp(500, '')).toEqual({ code: 'internal', message: 'HTTP 500' });
    expect(apiErrorFromHttp(400, '{"error":"nope"}')).toEqual({ code: 'internal', message: 'HTTP 400' });
  });
});

describe('isApiError', () => {
  it('needs a known code and a string message', () => {
    expect(isApiError({ code: 'not_found', message: '' })).toBe(true);
    expect(isApiError({ code: 'not_found' })).toBe(false);
    expect(isApiError({ code: 'toString', message: 'x' })).toBe(false);
    expect(isApiError(null)).toBe(false);
  });
});

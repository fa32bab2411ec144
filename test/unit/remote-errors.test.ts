/**
 * The helpers of src/remote-errors.ts: Retry-After parsing (retryAfterMs), status classification (kindOfStatus), body
 * snippets (snippet) and errors of the network (networkError).
 */
import { toApplicationFailure } from '../../activities/failures';
import { RemoteError, kindOfStatus, networkError, retryAfterMs, snippet } from '../../src/remote-errors';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-31T12:00:00Z');

  it('reads Retry-After in seconds', () => {
    expect(retryAfterMs({ 'retry-after': '7' }, now)).toBe(7_000);
    expect(retryAfterMs({ 'retry-after': ' 0 ' }, now)).toBe(0);
    expect(retryAfterMs({ 'retry-after': '1.5' }, now)).toBe(1_500);
    expect(retryAfterMs({ 'retry-after': '3600' }, now)).toBe(3_600_000);
  });

  it('reads the first value of a repeated header', () => {
    expect(retryAfterMs({ 'retry-after': ['4', '9'] }, now)).toBe(4_000);
  });

  it('reads Retry-After as an HTTP date relative to now', () => {
    expect(retryAfterMs({ 'retry-after': 'Sat, 31 Jan 2026 12:00:30 GMT' }, now)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': 'Sat, 31 Jan 2026 13:00:00 GMT' }, now)).toBe(3_600_000);
  });

  it('never returns a negative delay for a date in the past', () => {
    expect(retryAfterMs({ 'retry-after': 'Sat, 31 Jan 2026 11:59:00 GMT' }, now)).toBe(0);
  });

  it('falls back to x-ratelimit-reset (seconds)', () => {
    expect(retryAfterMs({ 'x-ratelimit-reset': '12' }, now)).toBe(12_000);
    expect(retryAfterMs({ 'x-ratelimit-reset': ['3'] }, now)).toBe(3_000);
  });

  it('prefers Retry-After over x-ratelimit-reset', () => {
    expect(retryAfterMs({ 'retry-after': '2', 'x-ratelimit-reset': '12' }, now)).toBe(2_000);
  });

  it('returns undefined for garbage or missing headers', () => {
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': undefined }, now)).toBeUndefined();
    expect(retryAfterMs({ 'x-ratelimit-reset': 'later' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'x-ratelimit-reset': '-3' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'x-ratelimit-reset': 'Infinity' }, now)).toBeUndefined();
  });

  it('ignores an unreadable Retry-After and uses x-ratelimit-reset', () => {
    expect(retryAfterMs({ 'retry-after': 'soon', 'x-ratelimit-reset': '5' }, now)).toBe(5_000);
  });

  it('ignores other header names (e.g. ratelimit-reset)', () => {
    expect(retryAfterMs({ 'ratelimit-reset': '5', 'x-retry-after': '5' }, now)).toBeUndefined();
  });
});

describe('kindOfStatus', () => {
  it.each([
    [400, 'rejected'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'not_found'],
    [408, 'unavailable'],
    [413, 'too_large'],
    [429, 'rate_limited'],
    [500, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [409, 'rejected'],
    [422, 'rejected'],
  ] as const)('%i → %s', (status, kind) => {
    expect(kindOfStatus(status)).toBe(kind);
  });
});

describe('snippet', () => {
  it('flattens runs of whitespace to single spaces and trims', () => {
    expect(snippet('  <html>\n\t<body>\r\n  Bad   Gateway </body>\n</html>\n')).toBe(
      '<html> <body> Bad Gateway </body> </html>',
    );
  });

  it('keeps a body at exactly the limit, truncates one longer with an ellipsis', () => {
    expect(snippet('a'.repeat(200))).toBe('a'.repeat(200));
    expect(snippet('a'.repeat(201))).toBe(`${'a'.repeat(200)}…`);
    expect(snippet('abcdef', 3)).toBe('abc…');
    expect(snippet('abc', 3)).toBe('abc');
  });

  it('measures the limit after flattening', () => {
    // 10 chars with long whitespace runs flatten to "a b c d e" (9 chars): under a limit of 9.
    expect(snippet('a   b\n\nc\td    e', 9)).toBe('a b c d e');
  });

  it('returns an empty string for an empty or blank body', () => {
    expect(snippet('')).toBe('');
    expect(snippet(' \n\t ')).toBe('');
  });
});

describe('networkError', () => {
  it('is a retryable unavailable error naming the code', () => {
    const e = networkError('kandji', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.service).toBe('kandji');
    expect(e.kind).toBe('unavailable');
    expect(e.message).toBe('kandji request failed: ECONNRESET (socket hang up)');
    expect(toApplicationFailure(e).type).toBe('KandjiUnavailableError');
  });
});

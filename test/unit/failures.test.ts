/**
 * Failure mapping of activities/failures.ts: RemoteError kinds → ApplicationFailure types (nonRetryable, backoff,
 * Retry-After as nextRetryDelay) and withTypedFailures. The helpers of src/remote-errors.ts are tested in
 * test/unit/remote-errors.test.ts; the HTTP clients' failures in test/unit/kandji-client-failures.test.ts and
 * test/unit/datadog-intake-client-failures.test.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  failureTypeOf,
  toApplicationFailure,
  withTypedFailures,
  backoffWithJitterMs,
  BACKOFF_CAP_MS,
} from '../../activities/failures';
import { DatadogRefusedAll } from '../../src/datadog/shipper';
import { RemoteError, type RemoteFailureKind } from '../../src/remote-errors';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../workflows/shared/failure-policy';

const ALL_KINDS: RemoteFailureKind[] = [
  'auth',
  'rate_limited',
  'unavailable',
  'bad_response',
  'not_found',
  'rejected',
  'too_large',
  'unsafe_link',
];

// Expected mapping written out by hand (not derived from the source) so a change in the mapping fails here.
const KANDJI_EXPECTED: Record<RemoteFailureKind, [type: string, nonRetryable: boolean]> = {
  auth: ['KandjiAuthError', true],
  rate_limited: ['KandjiRateLimitedError', false],
  unavailable: ['KandjiUnavailableError', false],
  bad_response: ['KandjiBadResponseError', false],
  not_found: ['KandjiNotFoundError', true],
  rejected: ['KandjiRequestRejectedError', true],
  too_large: ['KandjiRequestRejectedError', true],
  unsafe_link: ['KandjiUnsafeLinkError', true],
};

const DATADOG_EXPECTED: Record<RemoteFailureKind, [type: string, nonRetryable: boolean]> = {
  auth: ['DatadogAuthError', true],
  rate_limited: ['DatadogRateLimitedError', false],
  unavailable: ['DatadogUnavailableError', false],
  bad_response: ['DatadogUnavailableError', false],
  not_found: ['DatadogRejectedError', true],
  rejected: ['DatadogRejectedError', true],
  too_large: ['DatadogPayloadTooLargeError', true],
  unsafe_link: ['DatadogRejectedError', true],
};

describe('toApplicationFailure', () => {
  const cases = [
    ...ALL_KINDS.map((k) => ['kandji', k, ...KANDJI_EXPECTED[k]] as const),
    ...ALL_KINDS.map((k) => ['datadog', k, ...DATADOG_EXPECTED[k]] as const),
  ];

  it.each(cases)('%s %s → %s (nonRetryable %s)', (service, kind, type, nonRetryable) => {
    const err = new RemoteError(service, kind, `boom ${service} ${kind}`, { status: 418, bodySnippet: 'body text' });
    expect(failureTypeOf(err)).toBe(type);
    const f = toApplicationFailure(err);
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe(type);
    expect(f.nonRetryable).toBe(nonRetryable);
    expect(f.message).toBe(`boom ${service} ${kind}`);
    expect(f.details).toEqual([{ status: 418, body: 'body text' }]);
    // Retryable failures carry a jittered backoff (attempt 1: between 0.5 s and 1 s); non-retryable ones none.
    if (nonRetryable) expect(f.nextRetryDelay).toBeUndefined();
    else {
      expect(f.nextRetryDelay).toBeGreaterThanOrEqual(500);
      expect(f.nextRetryDelay).toBeLessThanOrEqual(1_000);
    }
    // The retry policy's list agrees with the flag.
    expect(NON_RETRYABLE_FAILURE_TYPES.includes(f.type as never)).toBe(nonRetryable);
  });

  it('covers every kind for both services', () => {
    expect(cases).toHaveLength(16);
  });

  it.each(['kandji', 'datadog'] as const)('sets nextRetryDelay from retryAfterMs on a %s rate limit', (service) => {
    const f = toApplicationFailure(
      new RemoteError(service, 'rate_limited', 'slow down', { status: 429, retryAfterMs: 7_000 }),
    );
    expect(f.nextRetryDelay).toBe(7_000);
    expect(f.nonRetryable).toBe(false);
    expect(f.details).toEqual([{ status: 429, body: null }]);
  });

  it('uses null for missing status and body in details', () => {
    const f = toApplicationFailure(new RemoteError('kandji', 'unavailable', 'reset'));
    expect(f.details).toEqual([{ status: null, body: null }]);
  });

  it('backs off exponentially with jitter, capped per service', () => {
    const lowest = () => 0;
    const highest = () => 1;
    expect([1, 2, 3, 4].map((a) => backoffWithJitterMs(a, 60_000, highest))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect([1, 2, 3, 4].map((a) => backoffWithJitterMs(a, 60_000, lowest))).toEqual([500, 1_000, 2_000, 4_000]);
    expect(backoffWithJitterMs(30, 60_000, highest)).toBe(60_000);
    expect(backoffWithJitterMs(30, 120_000, lowest)).toBe(60_000);
    const kandji = toApplicationFailure(new RemoteError('kandji', 'unavailable', 'reset'), 20);
    expect(kandji.nextRetryDelay).toBeGreaterThanOrEqual(BACKOFF_CAP_MS.kandji / 2);
    expect(kandji.nextRetryDelay).toBeLessThanOrEqual(BACKOFF_CAP_MS.kandji);
    const datadog = toApplicationFailure(new RemoteError('datadog', 'unavailable', 'reset'), 20);
    expect(datadog.nextRetryDelay).toBeGreaterThanOrEqual(BACKOFF_CAP_MS.datadog / 2);
  });
});

describe('withTypedFailures', () => {
  it('returns the value of a successful call', async () => {
    await expect(withTypedFailures(async () => 42)).resolves.toBe(42);
  });

  it('rethrows a RemoteError as a typed ApplicationFailure', async () => {
    const p = withTypedFailures(async () => {
      throw new RemoteError('datadog', 'too_large', 'Datadog answered 413', { status: 413 });
    });
    await expect(p).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(p).rejects.toMatchObject({
      type: 'DatadogPayloadTooLargeError',
      nonRetryable: true,
      message: 'Datadog answered 413',
    });
  });

  it('rethrows a systemic Datadog refusal as a non-retryable DatadogRefusedAllError with the answer', async () => {
    const err = await withTypedFailures(() =>
      Promise.reject(new DatadogRefusedAll('Datadog answered 400: <html>proxy</html>', 400, '<html>proxy</html>')),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.type).toBe('DatadogRefusedAllError');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('400: <html>proxy</html>');
    expect(f.details).toEqual([{ status: 400, body: '<html>proxy</html>' }]);
    expect(NON_RETRYABLE_FAILURE_TYPES).toContain('DatadogRefusedAllError');
  });

  it('passes other errors through unchanged (same object)', async () => {
    const plain = new TypeError('not remote');
    await expect(
      withTypedFailures(async () => {
        throw plain;
      }),
    ).rejects.toBe(plain);
    const af = ApplicationFailure.create({ type: 'Other', message: 'x' });
    await expect(
      withTypedFailures(async () => {
        throw af;
      }),
    ).rejects.toBe(af);
    const notAnError = { weird: true };
    await expect(
      withTypedFailures(async () => {
        throw notAnError;
      }),
    ).rejects.toBe(notAnError);
  });
});

/**
 * Which failures are BENIGN (the SDK logs the failed attempt at debug and records no failure metric): the expected,
 * self-healing ones only — rate limits, "later" answers, broken connections, budget waits. Anything that needs
 * someone (credentials, refused requests, a 500, an unreadable answer, a blocked stream) stays an ordinary failure.
 */
import { ApplicationFailureCategory } from '@temporalio/common';
import { isSelfHealing, refusedAllFailure, toApplicationFailure, withTypedFailures } from '../../activities/failures';
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { DatadogRefusedAll } from '../../src/datadog/shipper';
import { budgetWaitFailure } from '../../src/kandji/attempt';
import { KandjiClient } from '../../src/kandji/client';
import { tokenMissing } from '../../src/kandji/token-source';
import { RemoteError, kindOfStatus, networkError } from '../../src/remote-errors';
import { answering, closedOrigin, stop } from '../helpers/one-answer-server';

const BENIGN = ApplicationFailureCategory.BENIGN;

/** The failure an activity raises for an HTTP answer `status`, as the clients classify it. */
const answered = (service: 'kandji' | 'datadog', status: number) =>
  toApplicationFailure(new RemoteError(service, kindOfStatus(status), `answered ${status}`, { status }));

describe('the category of a remote failure', () => {
  // Written out by hand: a change of the policy must fail here.
  const BY_STATUS: [status: number, benign: boolean][] = [
    [429, true],
    [503, true],
    [502, true],
    [504, true],
    [408, true],
    [500, false],
    [401, false],
    [403, false],
    [400, false],
    [404, false],
    [413, false],
  ];

  it.each(
    (['kandji', 'datadog'] as const).flatMap((service) =>
      BY_STATUS.map(([status, benign]) => [service, status, benign] as const),
    ),
  )('%s answering %i: benign %s', (service, status, benign) => {
    expect(answered(service, status).category).toBe(benign ? BENIGN : undefined);
  });

  it.each(['kandji', 'datadog'] as const)('%s: a connection that broke before any answer is benign', (service) => {
    const err = networkError(service, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(isSelfHealing(err)).toBe(true);
    expect(toApplicationFailure(err).category).toBe(BENIGN);
  });

  it('an unavailable without an answer or a broken connection (a missing snapshot chunk) is not', () => {
    expect(
      toApplicationFailure(new RemoteError('kandji', 'unavailable', 'snapshot state chunk x is missing')).category,
    ).toBeUndefined();
  });

  it('unreadable answers and unsafe links are not', () => {
    for (const kind of ['bad_response', 'unsafe_link'] as const) {
      expect(toApplicationFailure(new RemoteError('kandji', kind, kind, { status: 200 })).category).toBeUndefined();
    }
  });

  it('keeps type, retryability and the retry delay as they were', () => {
    const f = toApplicationFailure(
      new RemoteError('datadog', 'rate_limited', 'slow down', { status: 429, retryAfterMs: 7_000 }),
    );
    expect(f).toMatchObject({
      type: 'DatadogRateLimitedError',
      nonRetryable: false,
      nextRetryDelay: 7_000,
      category: BENIGN,
    });
  });
});

describe('failures that are not remote answers', () => {
  it('a budget wait is benign', () => {
    expect(budgetWaitFailure(90_000, 'budget spent').category).toBe(BENIGN);
  });

  it('a missing token and a Datadog that refuses everything need someone: not benign', () => {
    expect(tokenMissing('acme', 'file is empty').category).toBeUndefined();
    expect(refusedAllFailure(new DatadogRefusedAll('refused', 404, 'no route')).category).toBeUndefined();
  });
});

describe('through the real clients', () => {
  it('a Kandji 503 and a Datadog 429 end the activity with a benign failure, a Kandji 401 with an ordinary one', async () => {
    const unavailable = await answering(503, {}, 'overloaded');
    const limited = await answering(429, { 'retry-after': '3' }, 'slow down');
    const rejected = await answering(401, {}, 'bad token');
    const kandji503 = new KandjiClient({ baseUrl: unavailable.origin, token: 't' });
    const kandji401 = new KandjiClient({ baseUrl: rejected.origin, token: 't' });
    const datadog = new DatadogIntakeClient({ intakeUrl: `${limited.origin}/api/v2/logs`, apiKey: 'k' });
    try {
      await expect(withTypedFailures(() => kandji503.getJson('/api/v1/audit/events'))).rejects.toMatchObject({
        type: 'KandjiUnavailableError',
        category: BENIGN,
      });
      await expect(withTypedFailures(() => datadog.send('[]'))).rejects.toMatchObject({
        type: 'DatadogRateLimitedError',
        category: BENIGN,
        nextRetryDelay: 3_000,
      });
      await expect(withTypedFailures(() => kandji401.getJson('/api/v1/audit/events'))).rejects.toMatchObject({
        type: 'KandjiAuthError',
        category: undefined,
      });
    } finally {
      await Promise.all([kandji503.close(), kandji401.close(), datadog.close()]);
      await Promise.all([unavailable, limited, rejected].map((s) => stop(s.server)));
    }
  });

  it('a refused connection ends it with a benign failure', async () => {
    const kandji = new KandjiClient({ baseUrl: await closedOrigin(), token: 't', timeoutMs: 2_000 });
    await expect(withTypedFailures(() => kandji.getJson('/api/v1/audit/events'))).rejects.toMatchObject({
      type: 'KandjiUnavailableError',
      category: BENIGN,
    });
    await kandji.close();
  });
});

/**
 * Errors keep their cause: a network error from undici becomes a RemoteError, then the ApplicationFailure the
 * activity throws, and the whole chain survives Temporal's failure conversion (what history records). The same for
 * a 429 that ends an attempt as a budget wait and for a Datadog refusal that blocks the stream. No link of a chain
 * carries the credentials.
 */
import { ApplicationFailure, defaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { withTypedFailures } from '../../activities/failures';
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { DatadogRefusedAll, shipItems } from '../../src/datadog/shipper';
import { KandjiClient } from '../../src/kandji/client';
import { RemoteError } from '../../src/remote-errors';
import { answering, closedOrigin, stop } from '../helpers/one-answer-server';

const TOKEN = 'kdj-tok-SECRET-cause-7a1e';
const API_KEY = 'dd-key-SECRET-cause-9b2f';

/**
 * The chain of causes from `err` down, as [name, message] pairs. Duck-typed: errors made by Node itself come from
 * another realm than jest's test code, so `instanceof Error` is false for them here.
 */
function chain(err: unknown): [string, string][] {
  const out: [string, string][] = [];
  for (let e = err as Error | undefined; typeof e?.message === 'string'; e = e.cause as Error | undefined)
    out.push([e.name, e.message]);
  return out;
}

/** What Temporal records for a failure thrown by an activity, read back as the workflow sees it. */
function roundTrip(err: Error): Error {
  const failure = defaultFailureConverter.errorToFailure(err, defaultPayloadConverter);
  expect(JSON.stringify(failure)).not.toMatch(/SECRET/);
  return defaultFailureConverter.failureToError(failure, defaultPayloadConverter);
}

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('a network error from undici', () => {
  it.each(['kandji', 'datadog'] as const)(
    '%s: stays the cause of the RemoteError and of the ApplicationFailure, through history',
    async (service) => {
      const origin = await closedOrigin();
      const call =
        service === 'kandji'
          ? () => new KandjiClient({ baseUrl: origin, token: TOKEN, timeoutMs: 2_000 }).getJson('/api/v1/audit/events')
          : () =>
              new DatadogIntakeClient({ intakeUrl: `${origin}/api/v2/logs`, apiKey: API_KEY, timeoutMs: 2_000 }).send(
                '[]',
              );
      const err = await caught(withTypedFailures(call));

      expect(err).toBeInstanceOf(ApplicationFailure);
      const remote = err.cause;
      expect(remote).toBeInstanceOf(RemoteError);
      expect((remote as RemoteError).kind).toBe('unavailable');
      const network = (remote as RemoteError).cause as Error & { code?: string };
      expect(network.code).toBe('ECONNREFUSED');

      const messages = (e: unknown) => chain(e).map(([, message]) => message);
      const seen = roundTrip(err);
      expect(messages(seen)).toEqual(messages(err));
      // A plain Error is recorded with its message and stack (whose first line names the class).
      const recorded = seen.cause as Error;
      expect(recorded.stack).toMatch(/^RemoteError: /);
      expect((recorded.cause as Error).stack).toMatch(/ECONNREFUSED/);
    },
  );
});

describe('a Kandji 429 that outlasts the attempt', () => {
  it('ends the attempt with a budget wait whose cause is the 429', async () => {
    const { server, origin } = await answering(429, { 'retry-after': '120' }, 'slow down');
    try {
      const client = new KandjiClient({
        baseUrl: origin,
        token: TOKEN,
        attempt: () => ({ deadline: Date.now() + 1_000, owner: 't/x', priority: 'live' }),
      });
      const err = await caught(client.getJson('/api/v1/audit/events'));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('KandjiBudgetWaitError');
      expect(err.cause).toBeInstanceOf(RemoteError);
      expect((err.cause as RemoteError).details.status).toBe(429);
      await client.close();
    } finally {
      await stop(server);
    }
  });
});

describe('a Datadog refusal that blocks the stream', () => {
  it("keeps Datadog's answer as the cause of DatadogRefusedAll and of its ApplicationFailure", async () => {
    const { server, origin } = await answering(404, {}, 'no such route');
    const dd = new DatadogIntakeClient({ intakeUrl: `${origin}/api/v2/logs`, apiKey: API_KEY });
    try {
      const err = await caught(
        withTypedFailures(() => shipItems([{ message: 'a' }], ['a'], { send: (b) => dd.send(b) })),
      );
      expect((err as ApplicationFailure).type).toBe('DatadogRefusedAllError');
      expect(err.cause).toBeInstanceOf(DatadogRefusedAll);
      const answer = (err.cause as Error).cause as RemoteError;
      expect(answer).toBeInstanceOf(RemoteError);
      expect(answer.details.status).toBe(404);
      expect(chain(roundTrip(err))).toHaveLength(3);
    } finally {
      await dd.close();
      await stop(server);
    }
  });
});

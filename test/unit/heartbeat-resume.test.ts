/**
 * Activities resume from their heartbeat details (MockActivityEnvironment, fake Kandji, Datadog and Temporal client):
 * an attempt that failed half way, retried with the details its predecessor heartbeated (round-tripped through JSON,
 * as Temporal stores them), sends nothing twice and reads nothing twice.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { shipAuditPageActivity } from '../../activities/ship-audit-page';
import { shipBatchActivity } from '../../activities/ship-batch';
import { sweepSnapshotStateActivity } from '../../activities/sweep-snapshot-state';
import { RemoteError } from '../../src/remote-errors';
import { decodeFingerprints } from '../../src/streams/fingerprint64-set';
import { PageStore } from '../../src/streams/page-store';
import { recordIdentity } from '../../src/streams/record-identity';
import { createLogger } from '../../src/telemetry/logger';
import { auditRequestPath, initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import { FailureType } from '../../workflows/shared/failure-types';
import type { StreamName } from '../../workflows/shared/stream-status';
import { timestampKey } from '../../workflows/shared/timestamps';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const NOW = T0 + 3_600_000;
const BASE_URL = 'https://acme.api.kandji.io';
const TENANT = 'acme';

const auditEvents = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `evt-${i}`,
    occurred_at: new Date(T0 + 1_000 + i).toISOString(),
    action: 'device_lock',
    actor_id: `admin-${i % 7}`,
  }));

/** Datadog's intake: records the identities of every request it is sent; `failOn(n)` answers 503 to the n-th (1-based). */
class FakeDatadog {
  readonly requests: string[][] = [];
  private failing = new Set<number>();
  constructor(private readonly stream: StreamName) {}
  failOn(...n: number[]): this {
    this.failing = new Set(n);
    return this;
  }
  send = async (body: string): Promise<void> => {
    const n = this.requests.length + 1;
    if (this.failing.has(n)) {
      this.requests.push([]);
      throw new RemoteError('datadog', 'unavailable', 'Datadog answered 503', { status: 503 });
    }
    this.requests.push(
      (JSON.parse(body) as Record<string, unknown>[]).map((item) => recordIdentity(this.stream, item)),
    );
  };
  sent = () => this.requests.flat();
}

function depsWith(
  datadog: FakeDatadog,
  kandji: Partial<TenantDeps['kandji']> = {},
  extra: Partial<ActivityDeps> = {},
): ActivityDeps {
  const tenant: TenantDeps = {
    kandji: { baseUrl: BASE_URL, getJson: notCalled, getJsonSized: notCalled, ...kandji },
    ddtags: `kandji_tenant:${TENANT}`,
  };
  return { tenants: new Map([[TENANT, tenant]]), datadog, logger: createLogger('silent'), now: () => NOW, ...extra };
}
const notCalled = async (): Promise<never> => {
  throw new Error('not expected to be called');
};

// The environment logs every failed attempt as a worker would; these failures are the point.
const quiet = new DefaultLogger('ERROR');

/** An activity called with `args` in an environment. */
const call =
  <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) =>
  (env: MockActivityEnvironment): Promise<R> =>
    env.run(fn, ...args);

/** Runs one attempt; returns its outcome and the last heartbeat, as Temporal would hand it to the next attempt. */
async function attempt<R>(
  run: (env: MockActivityEnvironment) => Promise<R>,
  info: ConstructorParameters<typeof MockActivityEnvironment>[0],
  client?: Client,
) {
  const env = new MockActivityEnvironment(info, { client, logger: quiet });
  let last: unknown;
  env.on('heartbeat', (d: unknown) => (last = d));
  const outcome = await run(env).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return { ...outcome, heartbeat: last === undefined ? undefined : (JSON.parse(JSON.stringify(last)) as unknown) };
}

const expectRetryable = (err: unknown, type: string) => {
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type, nonRetryable: false });
};

describe('heartbeat resume', () => {
  it('shipBatch: a retry resumes after the batches Datadog took; no record is sent twice', async () => {
    const records = auditEvents(2_500); // three batches: 1,000 + 1,000 + 500
    const datadog = new FakeDatadog('audit').failOn(3);
    const ship = shipBatchActivity(depsWith(datadog));
    const input = { tenant: TENANT, stream: 'audit' as const, records };

    const first = await attempt(call(ship, input), { attempt: 1 });
    expectRetryable(first.error, FailureType.DatadogUnavailable);
    expect(first.heartbeat).toMatchObject({ accepted: 2_000, batchesDone: 2 });

    const second = await attempt(call(ship, input), { attempt: 2, heartbeatDetails: first.heartbeat });
    expect(second.error).toBeUndefined();
    expect(second.value).toMatchObject({ shipped: 2_500, batches: 3 });
    // The retry sent only the third batch; every record reached Datadog exactly once.
    expect(datadog.requests.slice(3)).toEqual([records.slice(2_000).map((r) => r.id)]);
    expect(datadog.sent().sort()).toEqual(records.map((r) => r.id).sort());
  });

  it('shipAuditPage: the worker holding the page died mid-ship; another one reads the page again and ships only the rest', async () => {
    const events = auditEvents(1_500); // two batches: 1,000 + 500
    const cursor: AuditCursor = initialAuditCursor(new Date(T0).toISOString());
    const next: AuditCursor = { ...cursor, since: timestampKey(events[events.length - 1]!.occurred_at) };
    const input = { tenant: TENANT, pageId: 'run-1/7', cursor };
    const datadog = new FakeDatadog('audit').failOn(2);

    // Worker A read the page (it is in its page store) and shipped the first batch before Datadog failed.
    const pagesA = new PageStore();
    pagesA.put(input.pageId, { records: events, bytes: 300_000, meta: { next } });
    const first = await attempt(call(shipAuditPageActivity(depsWith(datadog, {}, { pages: pagesA })), input), {
      attempt: 1,
    });
    expectRetryable(first.error, FailureType.DatadogUnavailable);
    expect(first.heartbeat).toMatchObject({ accepted: 1_000 });

    // Worker B never had the page: it reads it again from Kandji, with the same request, then resumes.
    const kandjiRequests: string[] = [];
    const kandji = {
      getJsonSized: async (path: string) => {
        kandjiRequests.push(path);
        return { body: { results: events, next: null }, bytes: 300_000 };
      },
    };
    const pagesB = new PageStore();
    const second = await attempt(call(shipAuditPageActivity(depsWith(datadog, kandji, { pages: pagesB })), input), {
      attempt: 2,
      heartbeatDetails: first.heartbeat,
    });
    expect(second.error).toBeUndefined();
    expect(kandjiRequests).toEqual([auditRequestPath(cursor)]);
    expect(second.value).toMatchObject({ reread: true, count: 1_500, shipped: 1_500, next });
    expect(datadog.requests.slice(2)).toEqual([events.slice(1_000).map((e) => e.id)]);
    expect(datadog.sent().sort()).toEqual(events.map((e) => e.id).sort());
    expect(pagesB.get(input.pageId)).toBeUndefined(); // shipped: no longer held
  });

  it('sweepSnapshotState: a retried sweep goes on from the page and the state chunks its heartbeat recorded', async () => {
    // Detections: 4 pages of 300 rows, paged by `after`; Kandji fails once on the third page.
    const rows = Array.from({ length: 1_200 }, (_, i) => ({
      device_id: `dev-${Math.floor(i / 3)}`,
      bundle_id: 'com.example.app',
      cve_id: `CVE-2026-${1_000 + (i % 3)}`,
      detection_datetime: new Date(T0 + i).toISOString(),
    }));
    const kandjiRequests: (string | null)[] = [];
    let failThirdPage = true;
    const kandji = {
      getJson: async (path: string) => {
        const after = new URL(path, BASE_URL).searchParams.get('after');
        kandjiRequests.push(after);
        const page = after === null ? 0 : Number(after.slice(1));
        if (page === 2 && failThirdPage) {
          failThirdPage = false;
          throw new RemoteError('kandji', 'unavailable', 'Kandji answered 502', { status: 502 });
        }
        return { results: rows.slice(page * 300, page * 300 + 300), next: page < 3 ? `c${page + 1}` : null };
      },
    };
    // The state chunks are workflows: a client that keeps them in a map.
    const chunks = new Map<string, string>();
    const client = {
      withAbortSignal: <R>(_signal: AbortSignal, fn: () => R) => fn(),
      workflow: {
        start: async (_wf: unknown, opts: { workflowId: string; args: [{ fingerprints: string }] }) =>
          void chunks.set(opts.workflowId, opts.args[0].fingerprints),
        getHandle: (id: string) => ({
          query: async () =>
            chunks.get(id) ?? Promise.reject(new WorkflowNotFoundError('no such chunk', id, undefined)),
          signal: async () => void chunks.delete(id),
        }),
      },
    } as unknown as Client;
    const datadog = new FakeDatadog('detections');
    const sweep = sweepSnapshotStateActivity(depsWith(datadog, kandji, { snapshotChunkRows: 500 }));
    const input = { tenant: TENANT, stream: 'detections' as const, previous: null, generation: '1-abc' };
    const info = {
      workflowExecution: { workflowId: `kandji-datadog/${TENANT}/detections`, runId: 'run-1' },
      taskQueue: 'q',
    };

    const first = await attempt(call(sweep, input), { ...info, attempt: 1 }, client);
    expectRetryable(first.error, FailureType.KandjiUnavailable);
    expect(first.heartbeat).toMatchObject({ position: 'c2', pages: 2, chunksWritten: 1, done: false });
    expect(kandjiRequests).toEqual([null, 'c1', 'c2']);

    const second = await attempt(
      call(sweep, input),
      { ...info, attempt: 2, heartbeatDetails: first.heartbeat },
      client,
    );
    expect(second.error).toBeUndefined();
    // Paging went on at the page that failed; nothing before it was read or shipped again.
    expect(kandjiRequests.slice(3)).toEqual(['c2', 'c3']);
    const ids = rows.map((r) => recordIdentity('detections', r));
    expect(datadog.sent().sort()).toEqual([...ids].sort());
    expect(second.value).toMatchObject({ rows: 1_200, fresh: 1_200, known: 1_200, pages: 4, shipped: 1_200, gone: 0 });
    // The state written across both attempts holds every row once: chunks of 500, 500 and 200.
    expect(second.value!.state).toEqual({ generation: '1-abc', chunks: 3, rows: 1_200 });
    const written = [...chunks.values()].map((c) => decodeFingerprints(c));
    expect(written.map((c) => c.length)).toEqual([500, 500, 200]);
    expect(new Set(written.flatMap((c) => [...c])).size).toBe(1_200);
  });
});

/**
 * Activities resume from their heartbeat details (MockActivityEnvironment, fake Kandji, Datadog and Temporal client):
 * an attempt that failed half way, retried with the details its predecessor heartbeated (round-tripped through JSON,
 * as Temporal stores them), sends nothing twice and reads nothing twice.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { shipAuditPageActivity } from '../../activities/ship-audit-page';
import { shipRecords, type ShipRecordsInput } from '../../activities/ship-records';
import { sweepLateAuditHourActivity } from '../../activities/sweep-late-audit-hour';
import { sweepSnapshotStateActivity } from '../../activities/sweep-snapshot-state';
import type { ShipProgress } from '../../src/datadog/shipper';
import { RemoteError } from '../../src/remote-errors';
import { decodeFingerprints } from '../../src/streams/fingerprint64-set';
import { PageStore } from '../../src/streams/page-store';
import { recordIdentity } from '../../src/streams/record-identity';
import { createLogger } from '../../src/telemetry/logger';
import { auditRequestPath, initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import { FailureType } from '../../workflows/shared/failure-types';
import { addKey, emptyCells, encodeCells, idKey, ledgerDelta } from '../../workflows/shared/late-ledger';
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

/** shipRecords in an activity: resumes from the attempt's heartbeat details and heartbeats its progress. */
const shipInActivity = (deps: ActivityDeps) => (input: ShipRecordsInput) => {
  const ctx = Context.current();
  return shipRecords(deps, input, {
    resume: ctx.info.heartbeatDetails as ShipProgress | undefined,
    onBatchDone: (p) => ctx.heartbeat(p),
    signal: ctx.cancellationSignal,
    attempt: ctx.info.attempt,
  });
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
  // As sent at that moment (the progress object goes on changing after it).
  env.on(
    'heartbeat',
    (d: unknown) => (last = d === undefined ? undefined : (JSON.parse(JSON.stringify(d)) as unknown)),
  );
  const outcome = await run(env).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return { ...outcome, heartbeat: last };
}

const expectRetryable = (err: unknown, type: string) => {
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type, nonRetryable: false });
};

describe('heartbeat resume', () => {
  it('shipRecords: a retry resumes after the batches Datadog took; no record is sent twice', async () => {
    const records = auditEvents(2_500); // three batches: 1,000 + 1,000 + 500
    const datadog = new FakeDatadog('audit').failOn(3);
    const ship = shipInActivity(depsWith(datadog));
    const input = { tenant: TENANT, stream: 'audit' as const, records };

    const first = await attempt(call(ship, input), { attempt: 1 });
    expectRetryable(first.error, FailureType.DatadogUnavailable);
    expect(first.heartbeat).toMatchObject({ accepted: 2_000, doneIdentity: 'evt-1999' });

    const second = await attempt(call(ship, input), { attempt: 2, heartbeatDetails: first.heartbeat });
    expect(second.error).toBeUndefined();
    expect(second.value).toMatchObject({ shipped: 2_500, batches: 3 });
    // The retry sent only the third batch; every record reached Datadog exactly once.
    expect(datadog.requests.slice(3)).toEqual([records.slice(2_000).map((r) => r.id)]);
    expect(datadog.sent().sort()).toEqual(records.map((r) => r.id).sort());
  });

  it('shipRecords: the request that settles the whole list is not heartbeated (the activity completes next; a heartbeat is billed)', async () => {
    const one = await attempt(
      call(shipInActivity(depsWith(new FakeDatadog('audit'))), {
        tenant: TENANT,
        stream: 'audit' as const,
        records: auditEvents(500),
      }),
      { attempt: 1 },
    );
    expect(one.error).toBeUndefined();
    expect(one.heartbeat).toBeUndefined();

    const three = await attempt(
      call(shipInActivity(depsWith(new FakeDatadog('audit'))), {
        tenant: TENANT,
        stream: 'audit' as const,
        records: auditEvents(2_500),
      }),
      { attempt: 1 },
    );
    expect(three.value).toMatchObject({ shipped: 2_500, batches: 3 });
    expect(three.heartbeat).toMatchObject({ accepted: 2_000, doneIdentity: 'evt-1999' }); // the last one heartbeated
  });

  it('shipAuditPage given the cursor without its digest: a page it does not hold is not read again (that needs the digest), it fails PageNotHeld', async () => {
    const kandjiRequests: string[] = [];
    const kandji = {
      getJsonSized: async (path: string) => {
        kandjiRequests.push(path);
        return { body: { results: auditEvents(10), next: null }, bytes: 3_000 };
      },
    };
    const datadog = new FakeDatadog('audit');
    const ship = shipAuditPageActivity(depsWith(datadog, kandji, { pages: new PageStore() }));
    const cursor: AuditCursor = initialAuditCursor(new Date(T0).toISOString());
    const r = await attempt(call(ship, { tenant: TENANT, pageId: 'run-1/9', cursor, digestElided: true }), {
      attempt: 1,
    });
    expect(r.error).toMatchObject({ type: FailureType.PageNotHeld, nonRetryable: true });
    expect(kandjiRequests).toHaveLength(0);
    expect(datadog.sent()).toHaveLength(0);

    // Held, it ships as ever.
    const pages = new PageStore();
    pages.put('run-1/9', { records: auditEvents(10), bytes: 3_000, meta: { next: cursor } });
    const held = shipAuditPageActivity(depsWith(datadog, kandji, { pages }));
    const ok = await attempt(call(held, { tenant: TENANT, pageId: 'run-1/9', cursor, digestElided: true }), {
      attempt: 1,
    });
    expect(ok.value).toMatchObject({ shipped: 10, reread: false });
  });

  /**
   * The real path of a page read again: a retry of the same activity (heartbeat details of the earlier attempt) on a
   * worker without the page — the worker that had read it again died (the retry goes to the shared queue), or the
   * worker that fetched it dropped it from its page store. Between the reads the page changed: a late event turned up
   * before the resume point, and the last event is gone.
   */
  it.each([
    ['the page read again by a worker that died (the retry runs on another worker)', false],
    ['the page dropped from the store of the worker that fetched it', true],
  ])(
    'shipAuditPage: a retry without the page reads it again; it changed since (%s): every event of it reaches Datadog, the ledger and next are its own',
    async (_case, fetchedHere) => {
      const first = auditEvents(1_500); // two batches: 1,000 + 500
      const lateEvent = { ...first[400]!, id: 'evt-late', occurred_at: new Date(T0 + 1_000 + 399.5).toISOString() };
      const changed = [...first.slice(0, 400), lateEvent, ...first.slice(400, 1_499)]; // evt-1499 is gone
      const cursor: AuditCursor = initialAuditCursor(new Date(T0).toISOString());
      const input = { tenant: TENANT, pageId: 'run-1/7', cursor };
      const datadog = new FakeDatadog('audit').failOn(2, 3);
      const kandjiRequests: string[] = [];
      const kandjiServing = (events: typeof first) => ({
        getJsonSized: async (path: string) => {
          kandjiRequests.push(path);
          return { body: { results: events, next: null }, bytes: 300_000 };
        },
      });

      // Attempt 1 had the first read of the page: it shipped the first batch before Datadog failed.
      const pagesA = new PageStore();
      if (fetchedHere) pagesA.put(input.pageId, { records: first, bytes: 300_000, meta: { next: cursor } });
      const ship1 = shipAuditPageActivity(depsWith(datadog, kandjiServing(first), { pages: pagesA }));
      const one = await attempt(call(ship1, input), { attempt: 1 });
      expectRetryable(one.error, FailureType.DatadogUnavailable);
      expect(one.heartbeat).toMatchObject({ accepted: 1_000 });
      expect(JSON.stringify(one.heartbeat).length).toBeLessThan(500); // whatever the page's size
      expect(kandjiRequests).toHaveLength(fetchedHere ? 0 : 1);
      pagesA.delete(input.pageId); // the fetching worker dropped it (memory bound), or the re-reading one died

      // Attempt 2 runs where the page is not: it reads it again and gets the changed page; Datadog fails at once.
      const pagesB = fetchedHere ? pagesA : new PageStore();
      const ship2 = shipAuditPageActivity(depsWith(datadog, kandjiServing(changed), { pages: pagesB }));
      const two = await attempt(call(ship2, input), { attempt: 2, heartbeatDetails: one.heartbeat });
      expectRetryable(two.error, FailureType.DatadogUnavailable);

      // Attempt 3, on that same worker, is served from the copy attempt 2 read, with the last details heartbeated by
      // any attempt (as Temporal hands them): here attempt 1's, made on the first read.
      const heartbeatDetails = two.heartbeat ?? one.heartbeat;
      const three = await attempt(call(ship2, input), { attempt: 3, heartbeatDetails });
      expect(three.error).toBeUndefined();
      expect(kandjiRequests).toEqual(Array(fetchedHere ? 1 : 2).fill(auditRequestPath(cursor)));

      // No event of the page shipped is lost: each reached Datadog (the late one included), some twice at worst.
      const accepted = new Set(datadog.sent());
      expect(changed.filter((e) => !accepted.has(e.id)).map((e) => e.id)).toEqual([]);
      // What the workflow commits and records comes from the page shipped, not from the first read.
      expect(three.value).toMatchObject({ reread: true, count: changed.length });
      expect(three.value!.next).toMatchObject({ since: timestampKey(changed.at(-1)!.occurred_at) });
      expect(three.value!.next!.since).not.toBe(timestampKey(first.at(-1)!.occurred_at));
      const asShipped = changed.map((e) => ({ id: e.id, key: timestampKey(e.occurred_at) }));
      expect(three.value!.ledger).toEqual(ledgerDelta(asShipped, NOW));
      expect(pagesB.get(input.pageId)).toBeUndefined(); // shipped: no longer held
    },
  );

  it('shipAuditPage: a page read again that did not change resumes where the earlier attempt stopped, and sends nothing twice', async () => {
    const events = auditEvents(1_500);
    const cursor: AuditCursor = initialAuditCursor(new Date(T0).toISOString());
    const input = { tenant: TENANT, pageId: 'run-1/8', cursor };
    const datadog = new FakeDatadog('audit').failOn(2);
    const kandji = { getJsonSized: async () => ({ body: { results: events, next: null }, bytes: 300_000 }) };
    const one = await attempt(
      call(shipAuditPageActivity(depsWith(datadog, kandji, { pages: new PageStore() })), input),
      {
        attempt: 1,
      },
    );
    expectRetryable(one.error, FailureType.DatadogUnavailable);
    const two = await attempt(
      call(shipAuditPageActivity(depsWith(datadog, kandji, { pages: new PageStore() })), input),
      {
        attempt: 2,
        heartbeatDetails: one.heartbeat,
      },
    );
    expect(two.error).toBeUndefined();
    expect(datadog.requests.slice(2)).toEqual([events.slice(1_000).map((e) => e.id)]);
    expect(datadog.sent().sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('sweepLateAuditHour: the hour sent whole again changed between attempts (a late event before the resume point): it reaches Datadog and the ledger', async () => {
    const hour = '2026-03-01T00';
    const first = auditEvents(1_500); // unknown to the ledger: too many to list, so the whole hour is sent again
    const lateEvent = { ...first[300]!, id: 'evt-late', occurred_at: new Date(T0 + 1_000 + 299.5).toISOString() };
    const changed = [...first.slice(0, 300), lateEvent, ...first.slice(300)];
    let served = first;
    const kandji = { getJsonSized: async () => ({ body: { results: served, next: null }, bytes: 300_000 }) };
    const datadog = new FakeDatadog('audit').failOn(2);
    const sweep = sweepLateAuditHourActivity(depsWith(datadog, kandji));
    const input = { tenant: TENANT, hour };

    const one = await attempt(call(sweep, input), { attempt: 1 });
    expectRetryable(one.error, FailureType.DatadogUnavailable);
    served = changed;
    const two = await attempt(call(sweep, input), { attempt: 2, heartbeatDetails: one.heartbeat });
    expect(two.error).toBeUndefined();

    const accepted = new Set(datadog.sent());
    expect(changed.filter((e) => !accepted.has(e.id)).map((e) => e.id)).toEqual([]);
    // The hour's table becomes the hour as read and shipped by the attempt that finished.
    const read = emptyCells();
    for (const e of changed) addKey(read, idKey(e.id));
    expect(two.value).toMatchObject({ read: changed.length, resent: changed.length, delta: encodeCells(read) });
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
    // Each Kandji answer takes 20 s on the sweep's clock: the sweep heartbeats its progress after each page (it
    // heartbeats at most every 10 s: a quick one-page sweep sends none).
    let clock = NOW;
    const kandji = {
      getJson: async (path: string) => {
        const after = new URL(path, BASE_URL).searchParams.get('after');
        kandjiRequests.push(after);
        clock += 20_000;
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
    const sweep = sweepSnapshotStateActivity(depsWith(datadog, kandji, { snapshotChunkRows: 500, now: () => clock }));
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

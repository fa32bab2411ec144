/**
 * The snapshot sweep's liveness and progress (MockActivityEnvironment, fake Kandji, Datadog and a Temporal client that
 * keeps the state chunks in a map): it heartbeats wherever it works (loading state, bisecting a refused batch), a
 * last attempt that fails reports a small progress the next activity resumes from, a missing chunk is a clear
 * failure, and a drop ends every chunk of a generation, also past the recorded count.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { SnapshotChunks } from '../../activities/snapshot-chunks';
import {
  sweepSnapshotStateActivity,
  type SweepProgressDetails,
  type SweepSnapshotStateResult,
  type SweepSnapshotStateInput,
} from '../../activities/sweep-snapshot-state';
import { RemoteError } from '../../src/remote-errors';
import { encodeFingerprints, fingerprint64 } from '../../src/streams/fingerprint64-set';
import { recordIdentity, versionKey } from '../../src/streams/record-identity';
import { createLogger } from '../../src/telemetry/logger';
import { FailureType } from '../../workflows/shared/failure-types';
import { chunkWorkflowId } from '../../workflows/shared/workflow-ids';

const TENANT = 'acme';
const BASE_URL = 'https://acme.api.kandji.io';
const WORKFLOW_ID = `kandji-datadog/${TENANT}/detections`;
const info = { workflowExecution: { workflowId: WORKFLOW_ID, runId: 'run-1' }, taskQueue: 'q' };
const quiet = new DefaultLogger('ERROR');
/**
 * The sweep's clock: every Kandji answer, chunk read and Datadog request takes `stepMs` on it (0: instant), so a
 * test can make the work slow without waiting.
 */
const clock = { now: Date.UTC(2026, 2, 2), stepMs: 0 };
const slowStep = () => void (clock.now += clock.stepMs);
beforeEach(() => {
  clock.stepMs = 0;
});

const detections = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    device_id: `dev-${from + i}`,
    bundle_id: 'com.example.app',
    cve_id: 'CVE-2026-1000',
    detection_datetime: new Date(Date.UTC(2026, 2, 1) + from + i).toISOString(),
  }));

/** Kandji's detections endpoint over `rows`, 300 a page; `fail(page)` answers 502 to that page once. */
function fakeKandji(rows: Record<string, unknown>[], events: string[]) {
  const failing = new Set<number>();
  return {
    fail: (page: number) => failing.add(page),
    getJson: async (path: string) => {
      const after = new URL(path, BASE_URL).searchParams.get('after');
      const page = after === null ? 0 : Number(after.slice(1));
      events.push(`kandji:${page}`);
      slowStep();
      if (failing.delete(page)) throw new RemoteError('kandji', 'unavailable', 'Kandji answered 502', { status: 502 });
      const last = (page + 1) * 300 >= rows.length;
      return { results: rows.slice(page * 300, page * 300 + 300), next: last ? null : `c${page + 1}` };
    },
  };
}

/** A Temporal client whose chunk workflows live in a map (id → fingerprints); `ended` holds the dropped ones. */
function fakeClient(chunks: Map<string, string>, ended = new Set<string>()) {
  const notFound = (id: string) => Promise.reject(new WorkflowNotFoundError('no such workflow', id, undefined));
  return {
    withAbortSignal: <R>(_signal: AbortSignal, fn: () => R) => fn(),
    workflow: {
      start: async (_wf: unknown, opts: { workflowId: string; args: [{ fingerprints: string }] }) =>
        void chunks.set(opts.workflowId, opts.args[0].fingerprints),
      getHandle: (id: string) => ({
        query: async () => (slowStep(), chunks.has(id) && !ended.has(id) ? chunks.get(id)! : notFound(id)),
        signal: async () => (chunks.has(id) && !ended.has(id) ? void ended.add(id) : notFound(id)),
        describe: async () => (chunks.has(id) ? { workflowId: id } : notFound(id)),
      }),
    },
  } as unknown as Client;
}

function depsWith(kandji: Partial<TenantDeps['kandji']>, send: (body: string) => Promise<void>): ActivityDeps {
  const tenant: TenantDeps = {
    kandji: { baseUrl: BASE_URL, getJson: notCalled, getJsonSized: notCalled, ...kandji },
    ddtags: `kandji_tenant:${TENANT}`,
  };
  return {
    tenants: new Map([[TENANT, tenant]]),
    datadog: {
      send: async (body: string) => {
        slowStep();
        return send(body);
      },
    },
    logger: createLogger('silent'),
    snapshotChunkRows: 500,
    now: () => clock.now,
  };
}
const notCalled = async (): Promise<never> => {
  throw new Error('not expected to be called');
};

async function run(
  deps: ActivityDeps,
  input: SweepSnapshotStateInput,
  client: Client,
  events: string[],
  extra: { attempt?: number; heartbeatDetails?: unknown } = {},
) {
  const env = new MockActivityEnvironment({ ...info, attempt: 1, ...extra }, { client, logger: quiet });
  env.on('heartbeat', () => events.push('heartbeat'));
  return (env.run(sweepSnapshotStateActivity(deps), input) as Promise<SweepSnapshotStateResult>).then(
    (value: SweepSnapshotStateResult) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
}

const input = (extra: Partial<SweepSnapshotStateInput> = {}): SweepSnapshotStateInput => ({
  tenant: TENANT,
  stream: 'detections',
  previous: null,
  generation: '2-new',
  ...extra,
});

/** Writes `rows` as the committed state `1-old`, in chunks of 500. */
function committed(chunks: Map<string, string>, rows: Record<string, unknown>[]) {
  const fps = rows.map((r) => fingerprint64(versionKey('detections', r)));
  let n = 0;
  for (let i = 0; i < fps.length; i += 500)
    chunks.set(chunkWorkflowId(WORKFLOW_ID, '1-old', n++), encodeFingerprints(fps.slice(i, i + 500)));
  return { generation: '1-old', chunks: n, rows: fps.length };
}

describe('snapshot sweep: liveness and progress', () => {
  it('heartbeats while it loads a slow committed state, before its first Kandji request, never a minute apart', async () => {
    const rows = detections(1_500);
    const chunks = new Map<string, string>();
    const previous = committed(chunks, rows);
    const events: string[] = [];
    const deps = depsWith(fakeKandji(rows, events), async () => void events.push('datadog'));
    clock.stepMs = 25_000; // each chunk read and Kandji answer takes 25 s
    const beats: number[] = [];
    const started = clock.now;
    events.push = (...e: string[]) => {
      if (e.includes('heartbeat')) beats.push(clock.now);
      return Array.prototype.push.apply(events, e);
    };
    const r = await run(deps, input({ previous }), fakeClient(chunks), events);
    expect(r.error).toBeUndefined();
    const beforeKandji = events.slice(0, events.indexOf('kandji:0'));
    expect(beforeKandji.filter((e) => e === 'heartbeat').length).toBeGreaterThanOrEqual(previous.chunks - 1);
    const marks = [started, ...beats, clock.now];
    expect(Math.max(...marks.slice(1).map((t, i) => t - marks[i]!))).toBeLessThan(60_000);
  });

  it('a quick sweep (the idle case: one page, nothing new) sends no heartbeat: each is a billed action', async () => {
    const rows = detections(200);
    const chunks = new Map<string, string>();
    const previous = committed(chunks, rows);
    const events: string[] = [];
    const deps = depsWith(fakeKandji(rows, events), notCalled);
    const r = await run(deps, input({ previous, acceptUnchanged: true }), fakeClient(chunks), events);
    expect(r.error).toBeUndefined();
    expect(events.filter((e) => e === 'heartbeat')).toHaveLength(0);
  });

  it('a sweep that sees exactly the committed state writes nothing and answers unchanged with the committed state', async () => {
    const rows = detections(1_200); // more than a chunk (500 here): full chunks are written on the way, then ended
    const chunks = new Map<string, string>();
    const ended = new Set<string>();
    const previous = committed(chunks, rows);
    const before = new Map(chunks);
    const events: string[] = [];
    const deps = depsWith(fakeKandji(rows, events), notCalled);
    const r = await run(deps, input({ previous, acceptUnchanged: true }), fakeClient(chunks, ended), events);
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ unchanged: true, fresh: 0, gone: 0, known: 1_200, state: previous });
    // Whatever the sweep wrote of its own generation is ended; the committed chunks are untouched.
    for (const id of chunks.keys()) if (!before.has(id)) expect(ended.has(id)).toBe(true);
    for (const id of before.keys()) expect(ended.has(id)).toBe(false);

    // One row more, one row less: a change, written as a new generation as before.
    const changed = [...rows.slice(1), ...detections(1, 5_000)];
    const r2 = await run(
      depsWith(fakeKandji(changed, events), async () => undefined),
      input({ previous, acceptUnchanged: true }),
      fakeClient(chunks, ended),
      events,
    );
    expect(r2.value).toMatchObject({ fresh: 1, gone: 1, state: { generation: '2-new', rows: 1_200 } });
    expect(r2.value?.unchanged).toBeUndefined();
  });

  it('an unchanged sweep asked by a workflow of an earlier version (no acceptUnchanged) writes its generation, as before', async () => {
    const rows = detections(300);
    const chunks = new Map<string, string>();
    const previous = committed(chunks, rows);
    const events: string[] = [];
    const r = await run(depsWith(fakeKandji(rows, events), notCalled), input({ previous }), fakeClient(chunks), events);
    expect(r.value?.unchanged).toBeUndefined();
    expect(r.value?.state).toMatchObject({ generation: '2-new', rows: 300 });
    expect(r.value?.state.inline).toBeDefined();
  });

  it('poll mode: the first attempt only waits; an unchanged sweep fails BENIGN, retried after the interval, writing and shipping nothing; a change completes', async () => {
    const rows = detections(300);
    const chunks = new Map<string, string>();
    const previous = committed(chunks, rows);
    const events: string[] = [];
    const poll = input({ previous, acceptUnchanged: true, pollEveryMs: 300_000 });
    const client = fakeClient(chunks);
    const first = await run(depsWith(fakeKandji(rows, events), notCalled), poll, client, events);
    expect(first.error).toMatchObject({
      type: FailureType.SnapshotUnchanged,
      nonRetryable: false,
      nextRetryDelay: 300_000,
      category: ApplicationFailureCategory.BENIGN,
    });
    expect(events).toHaveLength(0); // not even a Kandji request

    const sizeBefore = chunks.size;
    const idle = await run(depsWith(fakeKandji(rows, events), notCalled), poll, client, events, { attempt: 2 });
    expect(idle.error).toMatchObject({ type: FailureType.SnapshotUnchanged, nextRetryDelay: 300_000 });
    expect((idle.error as ApplicationFailure).details?.[0]).toEqual({ rows: 300, pages: 1 });
    expect(events).toEqual(['kandji:0']);
    expect(chunks.size).toBe(sizeBefore);

    const changed = [...rows, ...detections(2, 9_000)];
    const sent: string[] = [];
    const deps = depsWith(fakeKandji(changed, events), async (body) => {
      for (const i of JSON.parse(body) as Record<string, unknown>[]) sent.push(recordIdentity('detections', i));
    });
    const change = await run(deps, poll, client, events, { attempt: 3 });
    expect(change.error).toBeUndefined();
    expect(change.value).toMatchObject({ fresh: 2, state: { generation: '2-new', rows: 302 } });
    expect(sent).toHaveLength(2);
  });

  it('poll mode: any other failure is non-retryable (the workflow takes over with its own retries) and carries the progress', async () => {
    const rows = detections(900);
    const events: string[] = [];
    const kandji = fakeKandji(rows, events);
    kandji.fail(1);
    const deps = depsWith(kandji, async () => undefined);
    const chunks = new Map<string, string>();
    const previous = committed(chunks, detections(10, 50_000));
    const r = await run(
      deps,
      input({ previous, acceptUnchanged: true, pollEveryMs: 300_000 }),
      fakeClient(chunks),
      events,
      {
        attempt: 2,
      },
    );
    expect(r.error).toMatchObject({ type: FailureType.KandjiUnavailable, nonRetryable: true });
    const details = (r.error as ApplicationFailure).details ?? [];
    expect(details.find((d) => d && typeof d === 'object' && 'sweepProgress' in d)).toMatchObject({
      sweepProgress: { pages: 1, fresh: 300 },
    });
  });

  it('poll mode: a heartbeat of an earlier attempt that shipped nothing is not resumed (the poll reads the whole list again); one that shipped is', async () => {
    const rows = detections(600);
    const chunks = new Map<string, string>();
    const previous = committed(chunks, rows);
    const events: string[] = [];
    const deps = depsWith(fakeKandji(rows, events), notCalled);
    const midway = {
      position: 'c1',
      done: false,
      chunksWritten: 0,
      pending: '',
      rows: 300,
      fresh: 0,
      pages: 1,
      matched: 300,
      ship: { shipped: 0, batches: 0, deadLettered: 0, trimmed: 0, stale: 0 },
    };
    const poll = input({ previous, acceptUnchanged: true, pollEveryMs: 300_000 });
    const r = await run(deps, poll, fakeClient(chunks), events, { attempt: 5, heartbeatDetails: midway });
    expect(r.error).toMatchObject({ type: FailureType.SnapshotUnchanged });
    expect(events.filter((e) => e.startsWith('kandji'))).toEqual(['kandji:0', 'kandji:1']);

    // An attempt that died after shipping rows: the next one goes on from its heartbeat (nothing shipped twice).
    events.length = 0;
    const shipped = { ...midway, fresh: 5, matched: 295 };
    const resumed = await run(deps, poll, fakeClient(chunks), events, { attempt: 6, heartbeatDetails: shipped });
    expect(resumed.error).toBeUndefined();
    expect(events.filter((e) => e.startsWith('kandji'))).toEqual(['kandji:1']);
    expect(resumed.value).toMatchObject({ fresh: 5, pages: 2 });
  });

  it('heartbeats while it bisects a batch Datadog refuses, between the requests', async () => {
    const rows = detections(200);
    const events: string[] = [];
    const bad = recordIdentity('detections', rows[137]!);
    const deps = depsWith(fakeKandji(rows, events), async (body) => {
      events.push('datadog');
      const items = (JSON.parse(body) as Record<string, unknown>[]).map((i) => recordIdentity('detections', i));
      if (items.includes(bad)) throw new RemoteError('datadog', 'rejected', 'Datadog answered 400', { status: 400 });
    });
    clock.stepMs = 15_000; // each Datadog request takes 15 s
    const r = await run(deps, input(), fakeClient(new Map()), events);
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ deadLettered: 1, shipped: 199 });
    const firstSend = events.indexOf('datadog');
    const lastSend = events.lastIndexOf('datadog');
    expect(lastSend - firstSend).toBeGreaterThan(5); // bisected: many requests
    expect(events.slice(firstSend, lastSend).filter((e) => e === 'heartbeat').length).toBeGreaterThan(5);
  });

  it('a last attempt that fails reports a small progress (its pending rows written as a chunk); a new activity resumes from it: every row once, the state whole', async () => {
    const rows = detections(1_500);
    const events: string[] = [];
    const sent: string[] = [];
    const kandji = fakeKandji(rows, events);
    kandji.fail(3);
    const deps = depsWith(kandji, async (body) => {
      for (const i of JSON.parse(body) as Record<string, unknown>[]) sent.push(recordIdentity('detections', i));
    });
    const chunks = new Map<string, string>();
    const client = fakeClient(chunks);
    const first = await run(deps, input({ lastAttempt: 3 }), client, events, { attempt: 3 });
    expect(first.error).toBeInstanceOf(ApplicationFailure);
    const details = (first.error as ApplicationFailure).details ?? [];
    const reported = (details.find((d) => d && typeof d === 'object' && 'sweepProgress' in d) as SweepProgressDetails)
      .sweepProgress;
    expect(reported).toMatchObject({ position: 'c3', pages: 3, pending: '', chunksWritten: 2 });
    expect(JSON.stringify(reported).length).toBeLessThan(1_000);

    const second = await run(deps, input({ resume: JSON.parse(JSON.stringify(reported)) }), client, events);
    expect(second.error).toBeUndefined();
    expect(events.filter((e) => e.startsWith('kandji'))).toEqual([
      'kandji:0',
      'kandji:1',
      'kandji:2',
      'kandji:3',
      'kandji:3',
      'kandji:4',
    ]);
    expect(sent.sort()).toEqual(rows.map((r) => recordIdentity('detections', r)).sort());
    expect(second.value).toMatchObject({ known: 1_500, fresh: 1_500, state: { generation: '2-new', rows: 1_500 } });
  });

  it('a missing chunk of the committed state is a non-retryable failure that names the way out', async () => {
    const rows = detections(1_500);
    const chunks = new Map<string, string>();
    const previous = committed(chunks, rows);
    chunks.delete(chunkWorkflowId(WORKFLOW_ID, '1-old', 1));
    const events: string[] = [];
    const r = await run(depsWith(fakeKandji(rows, events), notCalled), input({ previous }), fakeClient(chunks), events);
    expect(r.error).toBeInstanceOf(ApplicationFailure);
    expect(r.error).toMatchObject({ type: FailureType.SnapshotStateMissing, nonRetryable: true });
    expect((r.error as Error).message).toContain('reset-state');
  });

  it('a drop ends every chunk of the generation, also those past the recorded count (written by an attempt whose heartbeat was lost)', async () => {
    const chunks = new Map<string, string>();
    for (let i = 0; i < 4; i++) chunks.set(chunkWorkflowId(WORKFLOW_ID, '1-old', i), '');
    chunks.set(chunkWorkflowId(WORKFLOW_ID, '2-new', 0), '');
    const ended = new Set<string>();
    await new SnapshotChunks(fakeClient(chunks, ended), WORKFLOW_ID, 'q').drop({
      generation: '1-old',
      chunks: 2,
      rows: 1_000,
    });
    expect([...ended].sort()).toEqual([0, 1, 2, 3].map((i) => chunkWorkflowId(WORKFLOW_ID, '1-old', i)));
  });
});

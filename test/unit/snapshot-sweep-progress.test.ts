/**
 * The snapshot sweep's liveness and progress (MockActivityEnvironment, fake Kandji, Datadog and a Temporal client that
 * keeps the state chunks in a map): it heartbeats wherever it works (loading state, bisecting a refused batch), a
 * last attempt that fails reports a small progress the next activity resumes from, a missing chunk is a clear
 * failure, and a drop ends every chunk of a generation, also past the recorded count.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { SnapshotChunks } from '../../activities/snapshot-chunks';
import {
  sweepSnapshotStateActivity,
  type SweepProgressDetails,
  type SweepSnapshotStateInput,
} from '../../activities/sweep-snapshot-state';
import { RemoteError } from '../../src/remote-errors';
import { encodeFingerprints, fingerprint64 } from '../../src/streams/fingerprint64-set';
import { recordIdentity, versionKey } from '../../src/streams/record-identity';
import { createLogger } from '../../src/telemetry/logger';
import { FailureType } from '../../workflows/shared/failure-types';
import { chunkWorkflowId } from '../../workflows/snapshot-state';

const TENANT = 'acme';
const BASE_URL = 'https://acme.api.kandji.io';
const WORKFLOW_ID = `kandji-datadog/${TENANT}/detections`;
const info = { workflowExecution: { workflowId: WORKFLOW_ID, runId: 'run-1' }, taskQueue: 'q' };
const quiet = new DefaultLogger('ERROR');

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
        query: async () => (chunks.has(id) && !ended.has(id) ? chunks.get(id)! : notFound(id)),
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
    datadog: { send },
    logger: createLogger('silent'),
    snapshotChunkRows: 500,
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
  return env.run(sweepSnapshotStateActivity(deps), input).then(
    (value) => ({ value, error: undefined }),
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
  it('heartbeats while it loads the committed state, before its first Kandji request', async () => {
    const rows = detections(1_500);
    const chunks = new Map<string, string>();
    const previous = committed(chunks, rows);
    const events: string[] = [];
    const deps = depsWith(fakeKandji(rows, events), async () => void events.push('datadog'));
    const r = await run(deps, input({ previous }), fakeClient(chunks), events);
    expect(r.error).toBeUndefined();
    const beforeKandji = events.slice(0, events.indexOf('kandji:0'));
    expect(beforeKandji.filter((e) => e === 'heartbeat').length).toBeGreaterThanOrEqual(previous.chunks);
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

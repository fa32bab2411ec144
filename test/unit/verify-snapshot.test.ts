/**
 * verifySnapshotWindow against the Kandji and Datadog simulators (MockActivityEnvironment, real HTTP clients): rows
 * are found by identity wherever their log is dated (a restamped detection at its shipping time); a row the index
 * dropped after its 202 is shipped again once, only when the stream has committed it; an excluded threat is labelled
 * and never re-shipped; a partial answer never yields "missing"; rows without a time are counted, not verified.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../activities/deps';
import { shipRecords } from '../../activities/ship-records';
import { rowTimeMs } from '../../activities/snapshot-window';
import {
  verifySnapshotWindowActivity,
  type VerifySnapshotWindowInput,
  type VerifySnapshotWindowResult,
} from '../../activities/verify-snapshot';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator } from '../../simulators/kandji';
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { DatadogLogsReadClient } from '../../src/datadog/logs-read-client';
import { KandjiClient } from '../../src/kandji/client';
import { encodeFingerprints, fingerprint64 } from '../../src/streams/fingerprint64-set';
import { versionKey } from '../../src/streams/record-identity';
import { createLogger } from '../../src/telemetry/logger';
import type { SnapshotStreamName } from '../../workflows/shared/stream-status';

const TOKEN = 'verify-kandji-token';
const KEY = 'verify-dd-api-key';
const APP = 'verify-dd-app-key';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Yesterday 12:00 UTC: a fixed "now" for Datadog's clock and ours, always in the past. */
const NOW = Math.floor(Date.now() / DAY) * DAY - 12 * HOUR;
/** The rows' own times: 40 h to 2 h ago, so some are past Datadog's 18 h and restamped when shipped. */
const SEEDED = { from: new Date(NOW - 40 * HOUR), to: new Date(NOW - 2 * HOUR) };
const WINDOW = { from: new Date(NOW - 48 * HOUR).toISOString(), to: new Date(NOW - HOUR).toISOString() };
const TAGS = 'kandji_tenant:acme,forwarder_version:test';

type Row = Record<string, unknown>;
let kandji: KandjiSimulator;
let datadog: DatadogSimulator;
let clients: { close(): Promise<void> }[];
let deps: ActivityDeps;
/** Version keys the stream has committed (its status names an inline state of their fingerprints); null: no stream. */
let committed: string[] | null;

async function world(): Promise<void> {
  kandji = await KandjiSimulator.start({
    tokens: [TOKEN],
    detections: { count: 20, ...SEEDED },
    threats: { count: 20, ...SEEDED },
  });
  datadog = await DatadogSimulator.start({
    apiKeys: [KEY],
    applicationKeys: { [APP]: ['logs_read_data', 'logs_read_config'] },
  });
  datadog.setClock(() => NOW);
  const intake = new DatadogIntakeClient({ intakeUrl: datadog.intakeUrl, apiKey: KEY });
  const reads = new DatadogLogsReadClient({ apiUrl: datadog.url, apiKey: KEY, appKey: APP, now: () => NOW });
  const kandjiClient = new KandjiClient({ baseUrl: kandji.url, token: TOKEN });
  clients = [intake, reads, kandjiClient];
  deps = {
    tenants: new Map([['acme', { kandji: kandjiClient, ddtags: TAGS, datadog: intake, datadogLogs: reads }]]),
    datadog: intake,
    logger: createLogger('silent'),
    now: () => NOW,
  };
}

const rowsOf = (stream: SnapshotStreamName): Row[] =>
  (stream === 'detections' ? kandji.detections.all() : kandji.threats.all()) as unknown as Row[];

/** Ships every row as the stream's sweep would (its stale policy applied) and commits them. */
async function shipAll(stream: SnapshotStreamName): Promise<void> {
  const records = rowsOf(stream);
  await shipRecords(deps, { tenant: 'acme', stream, records });
  committed = records.map((r) => versionKey(stream, r));
  datadog.reads.requests.length = 0;
}

/** The Temporal client of the activity: only the stream's status query is asked of it. */
const client = {
  withAbortSignal: <R>(_signal: AbortSignal, fn: () => Promise<R>) => fn(),
  workflow: {
    getHandle: () => ({
      query: async () => {
        if (committed === null) throw new WorkflowNotFoundError('not running', 'w', undefined);
        const fps = committed.map(fingerprint64);
        return {
          cursor: { state: { generation: 'g1', chunks: 0, rows: fps.length, inline: encodeFingerprints(fps) } },
        };
      },
    }),
  },
} as unknown as Client;

const verify = (
  stream: SnapshotStreamName,
  repair: boolean,
  d: ActivityDeps = deps,
): Promise<VerifySnapshotWindowResult> =>
  new MockActivityEnvironment({ attempt: 1 }, { client }).run(verifySnapshotWindowActivity(d), {
    tenant: 'acme',
    stream,
    ...WINDOW,
    repair,
  } satisfies VerifySnapshotWindowInput);

const shippedTimes = (match: (item: Row) => boolean) => datadog.received.filter(match).length;
const sameRow = (stream: SnapshotStreamName, row: Row) => (item: Row) =>
  versionKey(stream, { ...item, detection_datetime: row.detection_datetime }) === versionKey(stream, row);
const hourOf = (stream: SnapshotStreamName, row: Row) => new Date(rowTimeMs(stream, row)!).toISOString().slice(0, 13);
const total = (r: VerifySnapshotWindowResult, key: 'kandji' | 'datadog' | 'repaired') =>
  r.rows.reduce((n, row) => n + row[key], 0);
const missingOf = (r: VerifySnapshotWindowResult) =>
  r.rows.reduce((n, row) => n + row.missing.quota + row.missing.excluded + row.missing.stale + row.missing.lost, 0);

beforeEach(() => {
  committed = [];
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([kandji.stop(), datadog.stop()]);
});

test('a detection the index dropped after its 202 is found and shipped again once, and the window then verifies', async () => {
  await world();
  const lost = rowsOf('detections')[7]!;
  let dropped = false;
  datadog.index.setDrop((item) => sameRow('detections', lost)(item) && !dropped && (dropped = true));
  await shipAll('detections');

  const first = await verify('detections', true);
  expect(total(first, 'kandji')).toBe(20);
  expect(first.rows.find((r) => r.hour === hourOf('detections', lost))).toMatchObject({
    result: 'repaired',
    repaired: 1,
    missing: { quota: 0, excluded: 0, stale: 0, lost: 1 },
  });
  expect(first.rows.filter((r) => r.result !== 'verified')).toHaveLength(1);
  expect(shippedTimes(sameRow('detections', lost))).toBe(2);

  const again = await verify('detections', false);
  expect(again.rows.every((r) => r.result === 'verified')).toBe(true);
  expect([total(again, 'kandji'), total(again, 'datadog')]).toEqual([20, 20]);
  expect(shippedTimes(sameRow('detections', lost))).toBe(2);
});

test('a restamped detection (own time past 18 h) is found by its original time, not called missing', async () => {
  await world();
  await shipAll('detections');
  const old = rowsOf('detections').filter((r) => NOW - rowTimeMs('detections', r)! > 18 * HOUR);
  expect(old.length).toBeGreaterThan(0);
  // Datadog holds them dated when shipped, their own time moved aside.
  const sent = datadog.received.find(sameRow('detections', old[0]!))!;
  expect(sent.detection_datetime).not.toBe(old[0]!.detection_datetime);
  expect(sent.kandji_datadog_original_time).toEqual({ field: 'detection_datetime', value: old[0]!.detection_datetime });

  const r = await verify('detections', true);
  expect(r.rows.find((row) => row.hour === hourOf('detections', old[0]!))).toMatchObject({ result: 'verified' });
  expect([total(r, 'kandji'), total(r, 'datadog'), missingOf(r), total(r, 'repaired')]).toEqual([20, 20, 0, 0]);
  // One page of the stream's logs since the window's start: the whole answer costs one Search request.
  expect(datadog.reads.requests.map((q) => q.path)).toEqual(['/api/v2/logs/events/search']);
});

test('an excluded threat is labelled excluded and never shipped again, however often the window is verified', async () => {
  await world();
  const excluded = rowsOf('threats')[3]!;
  datadog.index.configure({
    exclusionFilters: [{ name: 'one file', query: `@file_hash:${String(excluded.file_hash)}` }],
  });
  await shipAll('threats');
  for (let i = 0; i < 2; i++) {
    const r = await verify('threats', true);
    expect(r.rows.find((row) => row.hour === hourOf('threats', excluded))).toMatchObject({
      result: 'explained',
      repaired: 0,
      missing: { quota: 0, excluded: 1, stale: 0, lost: 0 },
    });
    expect([total(r, 'kandji'), total(r, 'datadog'), missingOf(r)]).toEqual([20, 19, 1]);
  }
  expect(shippedTimes((item) => item.file_hash === excluded.file_hash)).toBe(1);
});

test("a threat whose status Datadog keeps only as the log's level is found by its identity: the window verifies", async () => {
  await world(); // the simulator's default: `status` hoisted out of the attributes (the less favourable reading)
  await shipAll('threats');
  const r = await verify('threats', true);
  expect(r.rows.every((row) => row.result === 'verified')).toBe(true);
  expect([total(r, 'kandji'), total(r, 'datadog'), missingOf(r), total(r, 'repaired')]).toEqual([20, 20, 0, 0]);
});

test('with the status kept among the attributes, a threat whose status changed after it was shipped is missing at its new status', async () => {
  await world();
  datadog.reads.setStatusAttribute('kept');
  await shipAll('threats');
  const before = rowsOf('threats')[5]!;
  const key = `${String(before.device_id)}|${String(before.file_hash)}|${String(before.detection_date)}`;
  const changed = kandji.threats.changeStatus(key, before.status === 'RELEASED' ? 'QUARANTINED' : 'RELEASED');
  const sent = datadog.received.length;
  const r = await verify('threats', true);
  // The stream has not swept the new status yet: inconclusive, and not shipped by verify (the stream will).
  expect(r.rows.find((row) => row.hour === hourOf('threats', changed as unknown as Row))).toMatchObject({
    result: 'inconclusive',
    repaired: 0,
    missing: { quota: 0, excluded: 0, stale: 0, lost: 1 },
  });
  expect([total(r, 'kandji'), total(r, 'datadog')]).toEqual([20, 19]);
  expect(datadog.received.length).toBe(sent);
});

test('a partial answer (timeout, warnings) makes every hour inconclusive: nothing is called missing or shipped', async () => {
  await world();
  const lost = rowsOf('detections')[2]!;
  datadog.index.setDrop(sameRow('detections', lost));
  await shipAll('detections');
  const sent = datadog.requests.length;
  datadog.reads.failNext('timeout', 'warnings');
  for (let i = 0; i < 2; i++) {
    const r = await verify('detections', true);
    expect(r.rows.length).toBeGreaterThan(0);
    for (const row of r.rows) expect(row).toMatchObject({ result: 'inconclusive', repaired: 0 });
    expect(missingOf(r)).toBe(0);
    expect(r.rows[0]!.reason).toMatch(/timeout|warnings/);
  }
  expect(datadog.requests.length).toBe(sent);
});

test('a lost row the stream has not committed yet makes its hour inconclusive and is not shipped again', async () => {
  await world();
  const lost = rowsOf('detections')[11]!;
  datadog.index.setDrop(sameRow('detections', lost));
  await shipAll('detections');
  committed = committed!.filter((k) => k !== versionKey('detections', lost));
  const r = await verify('detections', true);
  expect(r.rows.find((row) => row.hour === hourOf('detections', lost))).toMatchObject({
    result: 'inconclusive',
    repaired: 0,
    missing: { lost: 1 },
    reason: expect.stringMatching(/not swept this row yet/),
  });
  expect(shippedTimes(sameRow('detections', lost))).toBe(1);
  committed = null; // no stream at all: nothing is committed either
  expect((await verify('detections', true)).rows.some((row) => row.result === 'inconclusive')).toBe(true);
  expect(shippedTimes(sameRow('detections', lost))).toBe(1);
});

test('rows without a readable time are counted as undated, not verified', async () => {
  await world();
  kandji.detections.fieldSet = 'legacy'; // rows with first_detection_date, no time Datadog dates them by
  kandji.detections.seedDetections(3, SEEDED);
  await shipAll('detections');
  const r = await verify('detections', false);
  expect(r.undated).toBe(3);
  expect(total(r, 'kandji')).toBe(20);
});

test('without an application key the window is not verified and the result says verification is off', async () => {
  await world();
  const tenant = deps.tenants.get('acme')!;
  const off = { ...deps, tenants: new Map([['acme', { ...tenant, datadogLogs: undefined }]]) };
  const r = await verify('threats', true, off);
  expect(r.rows).toEqual([expect.objectContaining({ result: 'off', reason: expect.stringMatching(/DD_APP_KEY/) })]);
  expect(kandji.requests).toHaveLength(0);
});

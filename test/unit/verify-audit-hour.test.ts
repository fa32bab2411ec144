/**
 * verifyAuditHour against the Kandji and Datadog simulators (MockActivityEnvironment, real HTTP clients): what the
 * intake accepted and the index then lost is found and shipped again once; a quota gap and an excluded log are
 * labelled and never re-shipped; an hour that all arrived costs one Datadog request; a partial answer or a 429 never
 * yields a "missing"; without an application key the activity says verification is off.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../activities/deps';
import {
  verifyAuditHourActivity,
  type VerifyAuditHourInput,
  type VerifyAuditHourResult,
} from '../../activities/verify-audit-hour';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator } from '../../simulators/kandji';
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { toLogItem } from '../../src/datadog/log-items';
import { DatadogLogsReadClient } from '../../src/datadog/logs-read-client';
import { KandjiClient } from '../../src/kandji/client';
import { createLogger } from '../../src/telemetry/logger';
import { FailureType } from '../../workflows/shared/failure-types';

const TOKEN = 'verify-kandji-token';
const KEY = 'verify-dd-api-key';
const APP = 'verify-dd-app-key';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Yesterday 12:00 UTC: a fixed "now" for Datadog's clock and ours, always in the past. */
const NOW = Math.floor(Date.now() / DAY) * DAY - 12 * HOUR;
const H = NOW - 2 * HOUR;
const HOUR_KEY = new Date(H).toISOString().slice(0, 13);
const TAGS = 'kandji_tenant:acme,forwarder_version:test';

let kandji: KandjiSimulator;
let datadog: DatadogSimulator;
let clients: { close(): Promise<void> }[];
let deps: ActivityDeps;
let reads: DatadogLogsReadClient;

async function world(events: number): Promise<void> {
  streamSince = new Date(NOW).toISOString();
  caughtUpAt = null;
  kandji = await KandjiSimulator.start({ tokens: [TOKEN] });
  // Small records (the generator's rich ones would make 100,000 of them slow to build and ship).
  const step = Math.floor((HOUR - 2_000) / events);
  kandji.audit.append(
    Array.from({ length: events }, (_, i) => ({
      id: `evt-${i}`,
      action: 'device_lock',
      occurred_at: new Date(H + 1_000 + i * step).toISOString(),
    })),
  );
  datadog = await DatadogSimulator.start({
    apiKeys: [KEY],
    applicationKeys: { [APP]: ['logs_read_data', 'logs_read_config'] },
  });
  datadog.setClock(() => NOW);
  const intake = new DatadogIntakeClient({ intakeUrl: datadog.intakeUrl, apiKey: KEY });
  reads = new DatadogLogsReadClient({ apiUrl: datadog.url, apiKey: KEY, appKey: APP, now: () => NOW });
  const kandjiClient = new KandjiClient({ baseUrl: kandji.url, token: TOKEN });
  clients = [intake, reads, kandjiClient];
  deps = {
    tenants: new Map([['acme', { kandji: kandjiClient, ddtags: TAGS, datadog: intake, datadogLogs: reads }]]),
    datadog: intake,
    logger: createLogger('silent'),
    now: () => NOW,
  };
}

/** Ships every event of the hour as the stream would have (one intake request per 1,000). */
async function shipAll(): Promise<void> {
  const items = kandji.audit.all().map((e) => toLogItem(e, { service: 'audit', ddtags: TAGS }));
  const intake = deps.datadog;
  for (let i = 0; i < items.length; i += 1000) await intake.send(JSON.stringify(items.slice(i, i + 1000)));
  datadog.reads.requests.length = 0;
}

/** Where the tenant's audit stream is (its status query answers this cursor); `null`: the stream is not running. */
let streamSince: string | null;
/** When the stream's last poll reached the end of Kandji's log. */
let caughtUpAt: string | null;

/** The Temporal client of the activity: only the audit stream's status query is asked of it. */
const client = {
  withAbortSignal: <R>(_signal: AbortSignal, fn: () => Promise<R>) => fn(),
  workflow: {
    getHandle: () => ({
      query: async () => {
        if (streamSince === null) throw new WorkflowNotFoundError('not running', 'w', undefined);
        return { cursor: { since: streamSince }, caughtUpAt };
      },
    }),
  },
} as unknown as Client;

const verify = (repair: boolean, d: ActivityDeps = deps): Promise<VerifyAuditHourResult> =>
  new MockActivityEnvironment({ attempt: 1 }, { client }).run(verifyAuditHourActivity(d), {
    tenant: 'acme',
    hour: HOUR_KEY,
    repair,
  } satisfies VerifyAuditHourInput);

const shippedTimes = (id: string) => datadog.received.filter((i) => i.id === id).length;

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([kandji.stop(), datadog.stop()]);
});

test('a log the intake accepted and the index dropped is found, shipped again once, and the hour then verifies', async () => {
  await world(50);
  const lost = kandji.audit.all()[17]!.id;
  let dropped = false;
  datadog.index.setDrop((item) => item.id === lost && !dropped && (dropped = true));
  await shipAll();

  const first = await verify(true);
  expect(first).toMatchObject({ result: 'repaired', kandji: 50, datadog: 49, repaired: 1 });
  expect(first.missing).toEqual({ quota: 0, excluded: 0, stale: 0, lost: 1 });
  expect(shippedTimes(lost)).toBe(2);

  const again = await verify(false);
  expect(again).toMatchObject({ result: 'verified', kandji: 50, datadog: 50, repaired: 0 });
  expect(shippedTimes(lost)).toBe(2);
});

test('a lost log is not shipped again while the audit stream has not shipped past its hour; once it has, or stopped, it is', async () => {
  await world(20);
  const lost = kandji.audit.all()[4]!.id;
  datadog.index.setDrop((item) => item.id === lost);
  await shipAll();
  streamSince = new Date(H + 30 * 60_000).toISOString(); // the stream is behind, inside the hour
  const behind = await verify(true);
  expect(behind).toMatchObject({ result: 'inconclusive', repaired: 0, missing: { lost: 1 } });
  expect(behind.reason).toMatch(/not shipped past this hour/);
  expect(shippedTimes(lost)).toBe(1);
  caughtUpAt = new Date(H + HOUR - 60_000).toISOString(); // caught up, but before the hour closed
  expect(await verify(true)).toMatchObject({ result: 'inconclusive', repaired: 0 });
  caughtUpAt = new Date(H + HOUR + 60_000).toISOString(); // a poll read to the end of the log after the hour
  expect(await verify(true)).toMatchObject({ result: 'repaired', repaired: 1 });
  expect(shippedTimes(lost)).toBe(2);
  streamSince = null; // the stream is not running: nothing else will ship it
  expect(await verify(true)).toMatchObject({ result: 'repaired', repaired: 1 });
  expect(shippedTimes(lost)).toBe(3);
});

test('a quota gap is labelled quota and not shipped again', async () => {
  await world(30);
  datadog.index.configure({ dailyLimit: 27 });
  await shipAll();
  const sent = datadog.requests.length;
  const r = await verify(true);
  expect(r).toMatchObject({ result: 'explained', kandji: 30, datadog: 27, repaired: 0 });
  expect(r.missing).toEqual({ quota: 3, excluded: 0, stale: 0, lost: 0 });
  expect(datadog.requests.length).toBe(sent);
});

test('an excluded log is labelled excluded and never shipped again, however often the hour is verified', async () => {
  await world(30);
  const excluded = kandji.audit.all()[3]!.id;
  datadog.index.configure({ exclusionFilters: [{ name: 'one event', query: `@id:${excluded}` }] });
  await shipAll();
  for (let i = 0; i < 3; i++) {
    const r = await verify(true);
    expect(r).toMatchObject({ result: 'explained', repaired: 0 });
    expect(r.missing).toEqual({ quota: 0, excluded: 1, stale: 0, lost: 0 });
  }
  expect(shippedTimes(excluded)).toBe(1);
});

test('an hour of 100,000 events that all arrived is verified with one Datadog request', async () => {
  await world(100_000);
  await shipAll();
  const r = await verify(true);
  expect(r).toMatchObject({ result: 'verified', kandji: 100_000, datadog: 100_000, requests: 1 });
  expect(datadog.reads.requests).toHaveLength(1);
}, 120_000);

test('one log lost in an hour of 20,000: found with a few requests (only the differing minute is listed)', async () => {
  await world(20_000);
  const lost = kandji.audit.all()[12_345]!.id;
  let dropped = false;
  datadog.index.setDrop((item) => item.id === lost && !dropped && (dropped = true));
  await shipAll();
  const r = await verify(true);
  expect(r).toMatchObject({ result: 'repaired', kandji: 20_000, datadog: 19_999, repaired: 1 });
  // The hour's count, its minutes' counts, one page of the differing minute, the indexes.
  expect(datadog.reads.requests.map((q) => q.path)).toEqual([
    '/api/v2/logs/analytics/aggregate',
    '/api/v2/logs/analytics/aggregate',
    '/api/v2/logs/events/search',
    '/api/v1/logs/config/indexes',
  ]);
  expect(shippedTimes(lost)).toBe(2);
}, 60_000);

test('a long listing heartbeats between Datadog requests (no heartbeat timeout while it pages)', async () => {
  await world(2_500);
  // One event in 40 dropped: every minute differs, and the listing of what Datadog holds takes 3 pages.
  const dropped = new Set(
    kandji.audit
      .all()
      .filter((_, i) => i % 40 === 0)
      .map((e) => e.id),
  );
  datadog.index.setDrop((item) => dropped.has(item.id as string));
  await shipAll();
  const intakeRequests = datadog.requests.length;
  let clock = NOW;
  const ticking = { ...deps, now: () => (clock += 11_000) }; // every check finds a heartbeat due
  const env = new MockActivityEnvironment({ attempt: 1 }, { client });
  let whileListing = 0;
  env.on('heartbeat', () => {
    if (datadog.reads.requests.length > 0 && datadog.requests.length === intakeRequests) whileListing++;
  });
  const r = await env.run(verifyAuditHourActivity(ticking), { tenant: 'acme', hour: HOUR_KEY, repair: false });
  expect(r).toMatchObject({ result: 'gap', missing: { lost: dropped.size } });
  expect(datadog.reads.requests.filter((q) => q.path === '/api/v2/logs/events/search')).toHaveLength(3);
  expect(whileListing).toBeGreaterThanOrEqual(3);
});

test('a partial answer (timeout, warnings) makes the hour inconclusive: nothing is called missing or shipped', async () => {
  await world(40);
  datadog.index.setDrop((item) => item.id === kandji.audit.all()[5]!.id);
  await shipAll();
  const sent = datadog.requests.length;
  // The count answered in part; with warnings; then the count is whole (39 of 40) and the minutes' counts partial;
  // then both counts whole and the listing of the differing minute with warnings.
  datadog.reads.failNext('timeout', 'warnings', null, 'timeout', null, null, 'warnings');
  for (let i = 0; i < 4; i++) {
    const r = await verify(true);
    expect(r).toMatchObject({ result: 'inconclusive', repaired: 0 });
    expect(r.missing).toEqual({ quota: 0, excluded: 0, stale: 0, lost: 0 });
    expect(r.reason).toMatch(/timeout|warnings/);
  }
  expect(datadog.reads.requests.map((q) => q.fault ?? 'none')).toEqual([
    'timeout',
    'warnings',
    'none',
    'timeout',
    'none',
    'none',
    'warnings',
  ]);
  expect(datadog.requests.length).toBe(sent);
});

test('a 429 fails the attempt as a rate limit to retry later: nothing is called missing or shipped', async () => {
  await world(40);
  datadog.index.setDrop((item) => item.id === kandji.audit.all()[5]!.id);
  await shipAll();
  const sent = datadog.requests.length;
  datadog.reads.failNext('rate_limited');
  await expect(verify(true)).rejects.toMatchObject({ type: FailureType.DatadogRateLimited, nonRetryable: false });
  expect(datadog.requests.length).toBe(sent);
  // The client honours X-RateLimit-Reset: it sends nothing more until then.
  await expect(verify(true)).rejects.toMatchObject({ type: FailureType.DatadogRateLimited });
  expect(datadog.reads.requests).toHaveLength(1);
});

test('without an application key the hour is not verified and the result says verification is off', async () => {
  await world(5);
  const tenant = deps.tenants.get('acme')!;
  const off = { ...deps, tenants: new Map([['acme', { ...tenant, datadogLogs: undefined }]]) };
  const r = await verify(true, off);
  expect(r).toMatchObject({ result: 'off', repaired: 0 });
  expect(r.reason).toMatch(/DD_APP_KEY/);
  expect(kandji.requests).toHaveLength(0);
});

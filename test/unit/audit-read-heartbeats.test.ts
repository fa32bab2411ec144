/**
 * Reading Kandji's audit log heartbeats around each request (MockActivityEnvironment, a fake Kandji on a fake clock):
 * slow answers in a row never leave a minute without a heartbeat (the activities' heartbeat timeout), and a single
 * quick answer — every idle poll — sends none (a heartbeat is a billed action).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { readAuditPageRefActivity } from '../../activities/read-audit-page-ref';
import { sweepLateAuditHourActivity } from '../../activities/sweep-late-audit-hour';
import { createLogger } from '../../src/telemetry/logger';
import { initialAuditCursor } from '../../workflows/shared/audit-cursor';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const TENANT = 'acme';
const HEARTBEAT_TIMEOUT_MS = 60_000;

const events = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `evt-${from + i}`,
    occurred_at: new Date(T0 + 1_000 * (from + i)).toISOString(),
    action: 'device_lock',
  }));

/** A Kandji that serves `pages` in turn, each answer taking `answerMs` on the fake clock. */
function slowKandji(pages: Record<string, unknown>[][], answerMs: number) {
  const clock = { now: T0 + 2 * 3_600_000 };
  let served = 0;
  const kandji = {
    baseUrl: 'https://acme.api.kandji.io',
    getJson: async () => Promise.reject(new Error('not expected')),
    getJsonSized: async () => {
      clock.now += answerMs;
      const results = pages[served] ?? [];
      served += 1;
      return {
        body: { results, next: served < pages.length ? `/api/v1/audit/events?cursor=p${served}` : null },
        bytes: 1_000,
      };
    },
  } as unknown as TenantDeps['kandji'];
  const deps: ActivityDeps = {
    tenants: new Map([[TENANT, { kandji, ddtags: `kandji_tenant:${TENANT}` }]]),
    datadog: { send: async () => undefined },
    logger: createLogger('silent'),
    now: () => clock.now,
  };
  return { deps, clock, served: () => served };
}

/** Runs an activity; returns the fake clock at its start, at each heartbeat and at its end. */
async function liveness<R>(clock: { now: number }, run: (env: MockActivityEnvironment) => Promise<R>) {
  const env = new MockActivityEnvironment({ attempt: 1 });
  const marks = [clock.now];
  env.on('heartbeat', () => marks.push(clock.now));
  await run(env);
  marks.push(clock.now);
  const gaps = marks.slice(1).map((t, i) => t - marks[i]!);
  return { heartbeats: marks.length - 2, longestGap: Math.max(...gaps) };
}

describe('audit reads heartbeat around each Kandji request', () => {
  it('readAuditPageRef: two slow Kandji answers in a row never leave a heartbeat timeout without a heartbeat', async () => {
    const { deps, clock, served } = slowKandji([events(0, 500), events(500, 20)], 40_000);
    const read = readAuditPageRefActivity(deps);
    const cursor = initialAuditCursor(new Date(T0).toISOString());
    const { longestGap } = await liveness(clock, (env) => env.run(read, { tenant: TENANT, cursor }));
    expect(served()).toBe(2);
    expect(longestGap).toBeLessThan(HEARTBEAT_TIMEOUT_MS);
  });

  it('readAuditPageRef: an idle poll (one quick answer) sends no heartbeat', async () => {
    const { deps, clock } = slowKandji([[]], 300);
    const read = readAuditPageRefActivity(deps);
    const cursor = initialAuditCursor(new Date(T0).toISOString());
    const { heartbeats } = await liveness(clock, (env) => env.run(read, { tenant: TENANT, cursor }));
    expect(heartbeats).toBe(0);
  });

  it('sweepLateAuditHour: an hour of several slow pages never leaves a heartbeat timeout without a heartbeat', async () => {
    const { deps, clock, served } = slowKandji([events(0, 500), events(500, 500), events(1_000, 10)], 40_000);
    const sweep = sweepLateAuditHourActivity(deps);
    const { longestGap } = await liveness(clock, (env) => env.run(sweep, { tenant: TENANT, hour: '2026-03-01T00' }));
    expect(served()).toBe(3);
    expect(longestGap).toBeLessThan(HEARTBEAT_TIMEOUT_MS);
  });
});

/** verify's metrics: an hour counts once in kandji_datadog_verified_hours, its missing events once by reason. */
import type { ActivityInboundCallsInterceptor } from '@temporalio/worker';
import type { VerifyAuditHourInput, VerifyAuditHourResult } from '../../activities';
import { activityMetricsInterceptor } from '../../src/processes/worker/instrument';
import type { ForwarderMetrics } from '../../src/telemetry/metrics';
import { verifyRow } from '../../workflows/shared/verify-row';

interface Seen {
  hours: { tenant: string; stream: string; result: string }[];
  missing: { tenant: string; stream: string; reason: string; count: number }[];
}

/** Runs verifyAuditHour results through the worker's activity metrics interceptor; what it recorded. */
async function instrumentedActivityResult(passes: [VerifyAuditHourInput, VerifyAuditHourResult][]): Promise<Seen> {
  const seen: Seen = { hours: [], missing: [] };
  const metrics = {
    verifiedHour: (tenant: string, stream: string, result: string) => seen.hours.push({ tenant, stream, result }),
    recordsMissing: (tenant: string, stream: string, reason: string, count: number) => {
      if (count > 0) seen.missing.push({ tenant, stream, reason, count });
    },
  } as unknown as ForwarderMetrics;
  const factory = activityMetricsInterceptor(metrics);
  for (const [input, result] of passes) {
    const ctx = { info: { activityType: 'verifyAuditHour' } } as Parameters<typeof factory>[0];
    const inbound = factory(ctx).inbound as ActivityInboundCallsInterceptor;
    await inbound.execute!({ args: [input], headers: {} }, async () => result);
  }
  return seen;
}

const lostOne = { quota: 0, excluded: 0, stale: 0, lost: 1 };
const input = (repair: boolean): VerifyAuditHourInput => ({ tenant: 'acme', hour: '2026-01-31T06', repair });

test('a repaired hour counts once, as repaired, and its lost event once', async () => {
  const seen = await instrumentedActivityResult([
    [input(true), verifyRow('2026-01-31T06', { result: 'repaired', missing: lostOne, repaired: 1 })],
    [input(false), verifyRow('2026-01-31T06', { result: 'verified' })],
  ]);
  expect(seen.hours).toEqual([{ tenant: 'acme', stream: 'audit', result: 'repaired' }]);
  expect(seen.missing).toEqual([{ tenant: 'acme', stream: 'audit', reason: 'lost', count: 1 }]);
});

test('an hour settled by its first pass counts as its result, with its missing events by reason', async () => {
  const seen = await instrumentedActivityResult([
    [input(true), verifyRow('h', { result: 'explained', missing: { ...lostOne, lost: 0, quota: 2, excluded: 1 } })],
    [input(true), verifyRow('h2', { result: 'verified' })],
  ]);
  expect(seen.hours.map((h) => h.result)).toEqual(['explained', 'verified']);
  expect(seen.missing.map((m) => [m.reason, m.count])).toEqual([
    ['quota', 2],
    ['excluded', 1],
  ]);
});

/**
 * Activity: verifies one closed hour of a tenant's audit stream against what Datadog indexed, and repairs what it
 * can. Kandji's events of the hour are read again (at backfill priority in the tenant's request budget, like the
 * late sweep) and counted against Datadog's count of the hour (one Aggregate request). Only when the counts differ
 * are the hour's differing minutes listed id by id (./verify-absent.ts) and every missing event explained
 * (./verify-reasons.ts):
 * `excluded`, `quota`, `stale` are reported and never re-shipped; a `lost` event is shipped again with its id when
 * `repair` is set (once: the workflow verifies the hour again without it) and the stream's cursor is past the hour
 * (else the stream is about to ship it: the hour is inconclusive for now).
 *
 * A partial Datadog answer (`meta.status: timeout`, warnings) makes the hour `inconclusive`: no event is ever called
 * missing from it. Rate limits and failures are thrown as typed failures: Temporal retries them.
 * Only counts go back to the workflow.
 */
import { Context } from '@temporalio/activity';
import { activityLogger } from './activity-logger';
import { tenantDeps, type ActivityDeps, type TenantDeps } from './deps';
import { withTypedFailures } from './failures';
import { heartbeatPulse } from './heartbeat-pulse';
import { activityShipOptions, shipRecords } from './ship-records';
import { auditStreamPassed } from './stream-passed';
import { readHour } from './sweep-late-audit-hour';
import { absentEvents } from './verify-absent';
import { explainMissing } from './verify-reasons';
import { DD_SOURCE, SERVICE_OF_STREAM } from '../src/datadog/log-items';
import type { ShipProgress } from '../src/datadog/shipper';
import { hourEndKey, hourStartKey } from '../workflows/shared/late-ledger';
import { keyToMillis } from '../workflows/shared/timestamps';
import { verifyRow, type MissingReason, type VerifyAuditHourResult } from '../workflows/shared/verify-row';

export interface VerifyAuditHourInput {
  tenant: string;
  /** `YYYY-MM-DDTHH` (UTC). */
  hour: string;
  /** Ship lost events again (the first pass); the second pass only looks. */
  repair: boolean;
}

export type { VerifyAuditHourResult };

export function verifyAuditHourActivity(deps: ActivityDeps) {
  return async function verifyAuditHour(input: VerifyAuditHourInput): Promise<VerifyAuditHourResult> {
    const ctx = Context.current();
    const reads = tenantDeps(deps, input.tenant).datadogLogs;
    if (!reads) return verifyRow(input.hour, { result: 'off', reason: 'no DD_APP_KEY on this worker' });
    const before = reads.requests;
    const row = await withTypedFailures(() => compareHour(deps, reads, input, ctx), ctx.info.attempt);
    return { ...row, requests: reads.requests - before };
  };
}

type Reads = NonNullable<TenantDeps['datadogLogs']>;

/** Counts, then (counts differing) the absent events, explained; lost ones shipped again when `repair` allows. */
async function compareHour(
  deps: ActivityDeps,
  reads: Reads,
  input: VerifyAuditHourInput,
  ctx: Context,
): Promise<VerifyAuditHourResult> {
  // A retry resumes a shipment from its heartbeated progress; reads heartbeat with it, so it is never lost.
  const progress = ctx.info.heartbeatDetails as ShipProgress | undefined;
  const pulse = heartbeatPulse(ctx, progress, deps.now);
  const [start, end] = [hourStartKey(input.hour), hourEndKey(input.hour)];
  const { events } = await readHour(deps, input.tenant, start, end, ctx, progress);
  const from = keyToMillis(start);
  const query = `source:${DD_SOURCE} service:${SERVICE_OF_STREAM.audit} kandji_tenant:${input.tenant}`;
  const row = (r: Partial<VerifyAuditHourResult>) => verifyRow(input.hour, { kandji: events.length, ...r });
  const counts = await reads.counts('1h', query, from, keyToMillis(end), ctx.cancellationSignal);
  if ('inconclusive' in counts) return row({ result: 'inconclusive', reason: counts.inconclusive });
  const datadog = counts.value.get(from) ?? 0;
  if (datadog === events.length) return row({ datadog });

  const found = await absentEvents(reads, query, events, from, ctx.cancellationSignal, pulse.check);
  if ('inconclusive' in found) return row({ datadog, result: 'inconclusive', reason: found.inconclusive });
  if (found.value.length === 0) return row({ datadog });
  const explained = explainMissing(deps, input.tenant, found.value, await reads.indexes(ctx.cancellationSignal));
  const missing = Object.fromEntries(Object.entries(explained).map(([k, v]) => [k, v.length])) as Record<
    MissingReason,
    number
  >;
  const lost = explained.lost;
  const log = activityLogger(deps, { tenant: input.tenant, stream: 'audit', hour: input.hour });
  log.warn({ kandji: events.length, datadog, ...missing }, 'verify: events of the hour missing in Datadog');
  if (!input.repair || lost.length === 0) return row({ datadog, missing, result: lost.length ? 'gap' : 'explained' });
  if (!(await auditStreamPassed(ctx, input.tenant, end))) {
    const reason = 'the audit stream has not shipped past this hour yet: verify it once it has';
    return row({ datadog, missing, result: 'inconclusive', reason });
  }
  await shipRecords(deps, { tenant: input.tenant, stream: 'audit', records: lost }, activityShipOptions(ctx, progress));
  return row({ datadog, missing, repaired: lost.length, result: 'repaired' });
}

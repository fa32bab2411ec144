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
import { tenantDeps, type ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import { shipRecords } from './ship-batch';
import { auditStreamPassed } from './stream-passed';
import { readHour } from './sweep-late-audit-hour';
import { absentEvents } from './verify-absent';
import { explainMissing } from './verify-reasons';
import { DD_SOURCE, SERVICE_OF_STREAM } from '../src/datadog/log-items';
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
    const start = hourStartKey(input.hour);
    const end = hourEndKey(input.hour);
    const row = verifyRow(input.hour);
    if (!reads) return { ...row, result: 'off', reason: 'no DD_APP_KEY on this worker' };
    const before = reads.requests;
    const done = (r: Partial<VerifyAuditHourResult>) => ({ ...row, ...r, requests: reads.requests - before });
    return withTypedFailures(async () => {
      const { events } = await readHour(deps, input.tenant, start, end, ctx, undefined);
      const [from, to] = [keyToMillis(start), keyToMillis(end)];
      const query = `source:${DD_SOURCE} service:${SERVICE_OF_STREAM.audit} kandji_tenant:${input.tenant}`;
      const counts = await reads.counts('1h', query, from, to, ctx.cancellationSignal);
      if ('inconclusive' in counts)
        return done({ kandji: events.length, result: 'inconclusive', reason: counts.inconclusive });
      const datadog = counts.value.get(from) ?? 0;
      if (datadog === events.length) return done({ kandji: events.length, datadog, result: 'verified' });

      const found = await absentEvents(reads, query, events, from, ctx.cancellationSignal);
      if ('inconclusive' in found)
        return done({ kandji: events.length, datadog, result: 'inconclusive', reason: found.inconclusive });
      const absent = found.value;
      if (absent.length === 0) return done({ kandji: events.length, datadog, result: 'verified' });

      const explained = explainMissing(deps, input.tenant, absent, await reads.indexes(ctx.cancellationSignal));
      const missing = { ...row.missing };
      for (const [reason, list] of Object.entries(explained)) missing[reason as MissingReason] = list.length;
      const lost = explained.lost;
      const log = activityLogger(deps, { tenant: input.tenant, stream: 'audit', hour: input.hour });
      log.warn({ kandji: events.length, datadog, ...missing }, 'verify: events of the hour missing in Datadog');
      if (input.repair && lost.length > 0 && !(await auditStreamPassed(ctx, input.tenant, end))) {
        const reason = 'the audit stream has not shipped past this hour yet: verify it once it has';
        return done({ kandji: events.length, datadog, missing, result: 'inconclusive', reason });
      }
      if (input.repair && lost.length > 0) {
        await shipRecords(
          deps,
          { tenant: input.tenant, stream: 'audit', records: lost },
          { signal: ctx.cancellationSignal, attempt: ctx.info.attempt },
        );
        return done({ kandji: events.length, datadog, missing, repaired: lost.length, result: 'repaired' });
      }
      return done({ kandji: events.length, datadog, missing, result: lost.length > 0 ? 'gap' : 'explained' });
    }, ctx.info.attempt);
  };
}

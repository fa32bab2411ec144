/**
 * `verify`: compares, hour by closed hour, what Kandji holds of a tenant's audit stream with what Datadog indexed,
 * and repairs what it can. One run per stream at a time (workflow id `<stream workflow id>/verify`), started by
 * `npm run cli -- verify` and waited for; durable, so a worker restart loses nothing of a long run.
 *
 * An hour is verified only once it closed at least 15 minutes ago (indexing is not instant). An hour whose lost
 * events were shipped again is verified once more after `settleMs` (without repairing again: once is the promise),
 * and keeps the first pass's reasons. A Kandji budget wait is waited out durably; any other failure after the
 * activity's retries (a Datadog rate limit that does not end, a refused key) makes the hour `inconclusive`: never
 * "missing". Only one small row per hour lives in history.
 */
import { ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { activityRetry } from './activity-retry';
import { budgetWaitOf } from './request-budget';
import { HOUR_MS } from './shared/late-ledger';
import { keyToMillis, millisToKey, timestampKey } from './shared/timestamps';
import { verifyRow, type VerifyAuditHourResult } from './shared/verify-row';

export interface VerifyStreamInput {
  tenant: string;
  /** ISO-8601 times; every hour that starts in [from, to) is verified. */
  from: string;
  to: string;
  /** Wait before verifying a repaired hour again (Datadog indexes within minutes). Default 3 minutes. */
  settleMs?: number;
}

export interface VerifyStreamResult {
  rows: VerifyAuditHourResult[];
  /** Hours of the window not verified yet because they closed less than 15 minutes ago. */
  notClosed: number;
}

/** An hour is verified once it closed this long ago. */
export const VERIFY_AFTER_CLOSE_MS = 15 * 60_000;
/** The longest window one run verifies (a week: one row per hour in history). */
export const MAX_VERIFY_HOURS = 168;
const MAX_BUDGET_WAITS = 20;

const { verifyAuditHour } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: activityRetry(6, '2 minutes'),
});

export async function verifyStream(input: VerifyStreamInput): Promise<VerifyStreamResult> {
  const first = Math.floor(keyToMillis(timestampKey(input.from)) / HOUR_MS) * HOUR_MS;
  const end = keyToMillis(timestampKey(input.to));
  if ((end - first) / HOUR_MS > MAX_VERIFY_HOURS) {
    throw ApplicationFailure.nonRetryable(`verify at most ${MAX_VERIFY_HOURS} hours at a time`, 'VerifyWindowTooLong');
  }
  const rows: VerifyAuditHourResult[] = [];
  let notClosed = 0;
  for (let start = first; start < end; start += HOUR_MS) {
    const hour = millisToKey(start).slice(0, 13);
    if (start + HOUR_MS + VERIFY_AFTER_CLOSE_MS > Date.now()) {
      notClosed += 1;
      continue;
    }
    const row = await verifyHour(input, hour);
    rows.push(row);
    if (row.result === 'off') break; // the worker has no application key: no other hour fares better
  }
  return { rows, notClosed };
}

async function verifyHour(input: VerifyStreamInput, hour: string): Promise<VerifyAuditHourResult> {
  const firstPass = await attempt(input.tenant, hour, true);
  if (firstPass.result !== 'repaired') return firstPass;
  await sleep(input.settleMs ?? 3 * 60_000);
  const again = await attempt(input.tenant, hour, false);
  return {
    ...again,
    result: again.result === 'verified' ? 'repaired' : again.result,
    missing: firstPass.missing,
    repaired: firstPass.repaired,
    requests: firstPass.requests + again.requests,
  };
}

async function attempt(tenant: string, hour: string, repair: boolean): Promise<VerifyAuditHourResult> {
  for (let waits = 0; ; waits++) {
    try {
      return await verifyAuditHour({ tenant, hour, repair });
    } catch (err) {
      const cause = (err as { cause?: { type?: string | null; details?: unknown[] | null; message?: string } }).cause;
      const wait = budgetWaitOf(cause);
      if (wait !== undefined && waits < MAX_BUDGET_WAITS) {
        await sleep(Math.max(1_000, wait));
        continue;
      }
      return verifyRow(hour, {
        result: 'inconclusive',
        reason: `${cause?.type ?? 'failure'}: ${cause?.message ?? (err as Error).message}`,
      });
    }
  }
}

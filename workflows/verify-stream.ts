/**
 * `verify`: compares, hour by closed hour, what Kandji holds of a tenant's stream with what Datadog indexed, and
 * repairs what it can. One run per stream at a time (workflow id `<stream workflow id>/verify`), started by
 * `npm run cli -- verify` and waited for; durable, so a worker restart loses nothing of a long run.
 *
 * Audit is verified hour by hour (verifyAuditHour). A snapshot stream (detections, threats, behavioral detections)
 * is verified by identity, its closed hours at once (verifySnapshotWindow: its logs are dated anywhere from a row's
 * own time to its shipping, so an hour cannot be checked alone); the hours it repaired are verified once more.
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
import type { SnapshotStreamName, StreamName } from './shared/stream-status';
import { keyToMillis, millisToKey, timestampKey } from './shared/timestamps';
import { verifyRow, type VerifyHourResult } from './shared/verify-row';

export interface VerifyStreamInput {
  tenant: string;
  /** The stream verified; absent: audit (runs started before the snapshot streams could be verified). */
  stream?: StreamName;
  /** ISO-8601 times; every hour that starts in [from, to) is verified. */
  from: string;
  to: string;
  /** Wait before verifying a repaired hour again (Datadog indexes within minutes). Default 3 minutes. */
  settleMs?: number;
}

export interface VerifyStreamResult {
  rows: VerifyHourResult[];
  /** Hours of the window not verified yet because they closed less than 15 minutes ago. */
  notClosed: number;
  /** Snapshot streams: the stream, rows without a time of their own (not verified), and Datadog requests made. */
  stream?: SnapshotStreamName;
  undated?: number;
  requests?: number;
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
/** A whole list read and the stream's logs since the window's start listed: longer than an hour. */
const { verifySnapshotWindow } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: activityRetry(6, '2 minutes'),
});

export async function verifyStream(input: VerifyStreamInput): Promise<VerifyStreamResult> {
  const first = Math.floor(keyToMillis(timestampKey(input.from)) / HOUR_MS) * HOUR_MS;
  const end = keyToMillis(timestampKey(input.to));
  if ((end - first) / HOUR_MS > MAX_VERIFY_HOURS) {
    throw ApplicationFailure.nonRetryable(`verify at most ${MAX_VERIFY_HOURS} hours at a time`, 'VerifyWindowTooLong');
  }
  const stream = input.stream ?? 'audit';
  if (stream !== 'audit') return verifySnapshotStream(input, stream, first, end);
  const rows: VerifyHourResult[] = [];
  let notClosed = 0;
  for (let start = first; start < end; start += HOUR_MS) {
    const hour = millisToKey(start).slice(0, 13);
    if (!closed(start)) {
      notClosed += 1;
      continue;
    }
    const row = await verifyHour(input, hour);
    rows.push(row);
    if (row.result === 'off') break; // the worker has no application key: no other hour fares better
  }
  return { rows, notClosed };
}

/** Whether the hour starting at `start` closed at least VERIFY_AFTER_CLOSE_MS ago. */
function closed(start: number): boolean {
  return start + HOUR_MS + VERIFY_AFTER_CLOSE_MS <= Date.now();
}

async function verifyHour(input: VerifyStreamInput, hour: string): Promise<VerifyHourResult> {
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

async function attempt(tenant: string, hour: string, repair: boolean): Promise<VerifyHourResult> {
  return withBudgetWaits(
    () => verifyAuditHour({ tenant, hour, repair }),
    (reason) => verifyRow(hour, { result: 'inconclusive', reason }),
  );
}

/** The window's closed hours of a snapshot stream, at once; the hours repaired verified once more after settleMs. */
async function verifySnapshotStream(
  input: VerifyStreamInput,
  stream: SnapshotStreamName,
  first: number,
  end: number,
): Promise<VerifyStreamResult> {
  const hours: string[] = [];
  for (let start = first; start < end; start += HOUR_MS) if (closed(start)) hours.push(millisToKey(start).slice(0, 13));
  const notClosed = Math.ceil((end - first) / HOUR_MS) - hours.length;
  if (hours.length === 0) return { rows: [], notClosed, stream, undated: 0, requests: 0 };
  // Closed hours are the window's first ones: [first, first + hours) in all.
  const window = { from: millisToKey(first), to: millisToKey(first + hours.length * HOUR_MS) };
  const pass = (repair: boolean, only?: string[]) =>
    withBudgetWaits(
      () => verifySnapshotWindow({ tenant: input.tenant, stream, ...window, repair, ...(only ? { hours: only } : {}) }),
      (reason) => ({
        rows: (only ?? hours).map((h) => verifyRow(h, { result: 'inconclusive', reason })),
        undated: 0,
        requests: 0,
      }),
    );
  const firstPass = await pass(true);
  const repaired = firstPass.rows.filter((r) => r.result === 'repaired').map((r) => r.hour);
  if (repaired.length === 0) return { ...firstPass, notClosed, stream };
  await sleep(input.settleMs ?? 3 * 60_000);
  const again = await pass(false, repaired);
  const rows = firstPass.rows.map((r) => mergeAgain(r, again.rows));
  return { rows, notClosed, stream, undated: firstPass.undated, requests: firstPass.requests + again.requests };
}

/** A repaired hour as the second pass found it, keeping the first pass's reasons (as an audit hour does). */
function mergeAgain(first: VerifyHourResult, again: VerifyHourResult[]): VerifyHourResult {
  const later = first.result === 'repaired' ? again.find((a) => a.hour === first.hour) : undefined;
  if (!later) return first;
  const result = later.result === 'verified' ? 'repaired' : later.result;
  return { ...later, result, missing: first.missing, repaired: first.repaired };
}

/**
 * Runs `call`, waiting out a Kandji budget wait durably; any other failure (after the activity's retries) is
 * answered by `failed` with its reason: inconclusive, never missing.
 */
async function withBudgetWaits<T>(call: () => Promise<T>, failed: (reason: string) => T): Promise<T> {
  for (let waits = 0; ; waits++) {
    try {
      return await call();
    } catch (err) {
      const cause = (err as { cause?: { type?: string | null; details?: unknown[] | null; message?: string } }).cause;
      const wait = budgetWaitOf(cause);
      if (wait !== undefined && waits < MAX_BUDGET_WAITS) {
        await sleep(Math.max(1_000, wait));
        continue;
      }
      return failed(`${cause?.type ?? 'failure'}: ${cause?.message ?? (err as Error).message}`);
    }
  }
}

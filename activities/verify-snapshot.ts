/**
 * Activity: verifies a window of a snapshot stream (detections, threats, behavioral detections) against what Datadog
 * indexed, by identity, and repairs what it can.
 *
 * Snapshot hours are not counted first, as audit hours are: a row's log is dated at its own time, or — restamped
 * (the default of detections and behavioral detections) or never dated by Datadog (threats) — when it was shipped,
 * anywhere from its own time to now, so Kandji's and Datadog's counts of an hour do not compare. Instead Kandji's
 * rows whose own time is in [from, to) (./snapshot-window.ts) are looked for, by version key, among every log of the
 * stream Datadog holds dated from `from` on (its logs listed with their attributes, each row rebuilt:
 * src/streams/log-identity.ts). Cost: one Search request per 1,000 logs of the stream since `from`, and the indexes.
 *
 * Missing rows are explained (./verify-reasons.ts); a `lost` one is shipped again once when `repair` is set and the
 * stream has committed it (./snapshot-committed.ts); one it has not swept yet makes its hour inconclusive: the
 * stream's next sweep ships it. A partial Datadog answer (`meta.status: timeout`, warnings) makes every hour
 * inconclusive: no row is ever called missing from it. Rate limits and failures are thrown as typed failures.
 * One row of counts per hour with rows goes back to the workflow.
 */
import { Context } from '@temporalio/activity';
import { activityLogger } from './activity-logger';
import { tenantDeps, type ActivityDeps, type TenantDeps } from './deps';
import { withTypedFailures } from './failures';
import { heartbeatPulse, type Pulse } from './heartbeat-pulse';
import { activityShipOptions, shipRecords } from './ship-records';
import { committedFingerprints } from './snapshot-committed';
import { readSnapshotWindow, type SnapshotWindow, type WindowRow } from './snapshot-window';
import { explainMissing } from './verify-reasons';
import { DD_SOURCE, SERVICE_OF_STREAM } from '../src/datadog/log-items';
import type { ReadAnswer } from '../src/datadog/logs-read-client';
import type { ShipProgress } from '../src/datadog/shipper';
import { Fingerprint64Set, fingerprint64 } from '../src/streams/fingerprint64-set';
import { keyOfLog, type ListedLog } from '../src/streams/log-identity';
import { recordIdentity } from '../src/streams/record-identity';
import type { SnapshotStreamName } from '../workflows/shared/stream-status';
import { MISSING_REASONS, verifyRow, type MissingReason, type VerifyHourResult } from '../workflows/shared/verify-row';

export interface VerifySnapshotWindowInput {
  tenant: string;
  stream: SnapshotStreamName;
  /** ISO-8601: rows whose own time is in [from, to) are verified. */
  from: string;
  to: string;
  /** Ship lost rows again (the first pass); the second pass only looks. */
  repair: boolean;
  /** Report only these hours (`YYYY-MM-DDTHH`): the second pass, of the hours the first repaired. */
  hours?: string[];
}

export interface VerifySnapshotWindowResult {
  /** One per hour of the window that has rows, in order. */
  rows: VerifyHourResult[];
  /** Rows of the list without a readable time of their own: not verified. */
  undated: number;
  /** Datadog read requests made. */
  requests: number;
}

/** Datadog takes logs dated up to 2 h ahead: a row's log may be dated that far past now. */
const FUTURE_MS = 2 * 3_600_000;
const NOT_SWEPT = 'the stream has not swept this row yet: verify again after its next sweep';

type Reads = NonNullable<TenantDeps['datadogLogs']>;

export function verifySnapshotWindowActivity(deps: ActivityDeps) {
  return async function verifySnapshotWindow(input: VerifySnapshotWindowInput): Promise<VerifySnapshotWindowResult> {
    const ctx = Context.current();
    const reads = tenantDeps(deps, input.tenant).datadogLogs;
    if (!reads) {
      const off = verifyRow(input.from.slice(0, 13), { result: 'off', reason: 'no DD_APP_KEY on this worker' });
      return { rows: [off], undated: 0, requests: 0 };
    }
    const before = reads.requests;
    const result = await withTypedFailures(() => compareWindow(deps, reads, input, ctx), ctx.info.attempt);
    return { ...result, requests: reads.requests - before };
  };
}

async function compareWindow(
  deps: ActivityDeps,
  reads: Reads,
  input: VerifySnapshotWindowInput,
  ctx: Context,
): Promise<Omit<VerifySnapshotWindowResult, 'requests'>> {
  // A retry resumes a shipment from its heartbeated progress; reads heartbeat with it, so it is never lost.
  const progress = ctx.info.heartbeatDetails as ShipProgress | undefined;
  const pulse = heartbeatPulse(ctx, progress, deps.now);
  const [from, to] = [Date.parse(input.from), Date.parse(input.to)];
  const window = await readSnapshotWindow(deps, { ...input, from, to }, ctx, pulse);
  if (input.hours) for (const hour of window.byHour.keys()) if (!input.hours.includes(hour)) window.byHour.delete(hour);
  const done = (fill: HourFill) => ({ rows: hourRows(window, fill), undated: window.undated });
  if (window.byHour.size === 0) return done(() => ({}));

  const held = await heldByDatadog(deps, reads, input, from, ctx, pulse);
  if ('inconclusive' in held) return done(() => ({ result: 'inconclusive', reason: held.inconclusive }));
  // Each row looked up once: missing ones listed, the others counted as Datadog's.
  const missing = [...window.byHour.values()].flat().filter((r) => !held.value(r));
  const absent = new Set(missing);
  const datadog = (rows: WindowRow[]) => rows.filter((r) => !absent.has(r)).length;
  if (missing.length === 0) return done((_, rows) => ({ datadog: datadog(rows) }));

  const indexes = await reads.indexes(ctx.cancellationSignal);
  const settled = await settle(deps, input, missing, ctx, pulse, progress, indexes);
  return done((hour, rows) => ({ datadog: datadog(rows), ...settled(hour, rows) }));
}

/** One row per hour of the window that has rows, in order. */
function hourRows(window: SnapshotWindow, fill: HourFill): VerifyHourResult[] {
  return [...window.byHour.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([hour, rows]) => verifyRow(hour, { kandji: rows.length, ...fill(hour, rows) }));
}

/**
 * What Datadog holds of the stream, dated from `from` to now (each log's row rebuilt): the version keys its logs
 * show, and the identities of logs that lack the version field (some version of that row arrived).
 */
async function heldByDatadog(
  deps: ActivityDeps,
  reads: Reads,
  input: VerifySnapshotWindowInput,
  from: number,
  ctx: Context,
  pulse: Pulse,
): Promise<ReadAnswer<(row: WindowRow) => boolean>> {
  const query = `source:${DD_SOURCE} service:${SERVICE_OF_STREAM[input.stream]} kandji_tenant:${input.tenant}`;
  const until = (deps.now ?? Date.now)() + FUTURE_MS;
  const map = (log: ListedLog) => {
    const { key, anyVersion } = keyOfLog(input.stream, log);
    return { fp: fingerprint64(key), anyVersion };
  };
  const listed = await reads.listLogs(query, from, until, map, ctx.cancellationSignal, pulse.check);
  if ('inconclusive' in listed) return listed;
  const versions = new Fingerprint64Set(listed.value.length);
  const identities = new Fingerprint64Set(listed.value.length);
  for (const { fp, anyVersion } of listed.value) (anyVersion ? identities : versions).add(fp);
  return {
    value: (r) =>
      versions.has(r.fp) || (identities.size > 0 && identities.has(fingerprint64(recordIdentity(input.stream, r.row)))),
  };
}

type Row = Record<string, unknown>;
type HourFill = (hour: string, rows: WindowRow[]) => Partial<VerifyHourResult>;

/**
 * Explains the missing rows and, with `repair`, ships the lost ones the stream has committed; answers each hour's
 * missing counts and result (a lost row the stream has not swept yet makes its hour inconclusive).
 */
async function settle(
  deps: ActivityDeps,
  input: VerifySnapshotWindowInput,
  missing: WindowRow[],
  ctx: Context,
  pulse: Pulse,
  progress: ShipProgress | undefined,
  indexes: Awaited<ReturnType<Reads['indexes']>>,
): Promise<HourFill> {
  const explained = explainMissing(
    deps,
    input.tenant,
    missing.map((r) => r.row),
    indexes,
    input.stream,
  );
  const reasonOf = new Map<Row, MissingReason>();
  for (const reason of MISSING_REASONS) for (const row of explained[reason]) reasonOf.set(row, reason);
  const unswept = await notSwept(ctx, input, missing, explained.lost, pulse);
  const toShip = input.repair ? explained.lost.filter((r) => !unswept.has(r)) : [];
  const log = activityLogger(deps, { tenant: input.tenant, stream: input.stream });
  const counts = Object.fromEntries(MISSING_REASONS.map((r) => [r, explained[r].length]));
  log.warn({ ...counts, notSwept: unswept.size, from: input.from, to: input.to }, 'verify: rows missing in Datadog');
  if (toShip.length > 0) {
    await shipRecords(
      deps,
      { tenant: input.tenant, stream: input.stream, records: toShip },
      activityShipOptions(ctx, progress),
    );
  }
  const shipped = new Set(toShip);
  return (_hour, rows) => hourOutcome(rows, reasonOf, shipped, unswept);
}

/** The lost rows the stream has not committed (none when nothing is lost: the state is then not read). */
async function notSwept(
  ctx: Context,
  input: VerifySnapshotWindowInput,
  missing: WindowRow[],
  lost: Row[],
  pulse: Pulse,
): Promise<Set<Row>> {
  if (lost.length === 0) return new Set();
  const committed = await committedFingerprints(ctx, input.tenant, input.stream, pulse.beat);
  const fpOf = new Map(missing.map((r) => [r.row, r.fp]));
  return new Set(lost.filter((r) => !committed.has(fpOf.get(r)!)));
}

function hourOutcome(
  rows: WindowRow[],
  reasonOf: Map<Row, MissingReason>,
  shipped: Set<Row>,
  unswept: Set<Row>,
): Partial<VerifyHourResult> {
  const missing: Record<MissingReason, number> = { quota: 0, excluded: 0, stale: 0, lost: 0 };
  let [repaired, waiting] = [0, 0];
  for (const { row } of rows) {
    const reason = reasonOf.get(row);
    if (!reason) continue;
    missing[reason] += 1;
    if (shipped.has(row)) repaired += 1;
    if (unswept.has(row)) waiting += 1;
  }
  const any = MISSING_REASONS.some((r) => missing[r] > 0);
  if (waiting > 0) return { missing, repaired, result: 'inconclusive', reason: NOT_SWEPT };
  const result = !any ? 'verified' : missing.lost === 0 ? 'explained' : repaired > 0 ? 'repaired' : 'gap';
  return { missing, repaired, result };
}

/**
 * Starting, inspecting and stopping stream workflows: what the CLI does, as functions tests can call too.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import type { LateLedger } from '../../workflows/shared/late-ledger';
import {
  backfillUpdate,
  applyTimingsUpdate,
  cancelBackfillUpdate,
  lateLedgerQuery,
  pauseUpdate,
  resumeUpdate,
  moveCursorUpdate,
  statusQuery,
  stopSignal,
  type BackfillAccepted,
  type CursorMoved,
  type TimingsApplied,
} from '../../workflows/shared/messages';
import type { AuditStreamInput, SnapshotStreamInput, StreamTimings } from '../../workflows/shared/stream-input';
import type { SnapshotCursor, StreamCursor, StreamName, StreamStatus } from '../../workflows/shared/stream-status';
import { keyToMillis, timestampKey } from '../../workflows/shared/timestamps';
import { WORKFLOW_ID_PREFIX, parseWorkflowId, streamWorkflowId } from '../../workflows/shared/workflow-ids';
import type { SnapshotState } from '../../workflows/snapshot-state';
import { snapshotStream } from '../../workflows/snapshot-stream';
import type { TenantConfig, TemporalConfig } from '../config/env';

export type StartOutcome =
  | {
      stream: StreamName;
      workflowId: string;
      outcome: 'already_running';
      cursor?: StreamCursor;
      /** The configured timings sent to the running stream: applied, unchanged, or why not. */
      timings: TimingsApplied | { error: string };
    }
  | {
      stream: StreamName;
      workflowId: string;
      outcome: 'started';
      cursor: StreamCursor;
      resumedFromPreviousRun: boolean;
      /** Where the cursor came from when a previous run existed (its close status, and how it was read). */
      resumedFrom?: string;
      /** Audit: the previous run's late-event ledger came along (its past 18 hours are still swept). */
      lateLedgerCarried?: boolean;
      /** The recorded cursor that `--override-cursor` replaced with `since`. */
      overrode?: StreamCursor;
    }
  /** `start` with no stream names: an operator stopped this stream (its last run's close status), so it stays stopped. */
  | { stream: StreamName; workflowId: string; outcome: 'left_stopped'; closed: string; closedAt?: string }
  /** `--since` given for a stream with a recorded cursor, without `--override-cursor`: nothing was started. */
  | { stream: StreamName; workflowId: string; outcome: 'refused'; recorded: StreamCursor; since: string };

export interface StartOptions {
  /** `since` is the operator's `--since` (not the configured start date): refused over a recorded cursor … */
  sinceGiven?: boolean;
  /** … unless this is set (`--override-cursor`): the audit stream then starts from `since`. */
  overrideCursor?: boolean;
  /** Leave a stream an operator stopped as it is (`start` with no stream names, as every deploy runs it). */
  keepStopped?: boolean;
}

/**
 * Close statuses that mean an operator stopped the stream on purpose, remembered by Temporal itself: a live stream
 * completes only on `stop` or a cancel, and a terminate is an operator's act too. A run that failed or timed out was
 * not stopped by anyone: `start` restarts it.
 */
export const STOPPED_BY_OPERATOR: readonly string[] = ['COMPLETED', 'CANCELLED', 'TERMINATED'];

type RecordedRun = { status: StreamStatus; state?: SnapshotState | null; late?: LateLedger };

/** Either stream workflow: both answer `statusQuery` and complete with `{ status, … }`. */
type StreamWorkflow = typeof auditStream | typeof snapshotStream;

const streamHandle = (client: Client, workflowId: string): WorkflowHandle<StreamWorkflow> =>
  client.workflow.getHandle<StreamWorkflow>(workflowId);

/** The status of a stream (or backfill) workflow: asked of it while it runs, else the one its completed run returned. */
async function runningOrFinalStatus(
  handle: WorkflowHandle<StreamWorkflow>,
  execution: string,
): Promise<StreamStatus | undefined> {
  if (execution === 'RUNNING') return handle.query(statusQuery);
  if (execution === 'COMPLETED') return (await handle.result()).status;
  return undefined;
}

/** The input the last run started with (decoded by the client's data converter: the service's codecs). */
async function runInput(client: Client, workflowId: string): Promise<AuditStreamInput | SnapshotStreamInput> {
  const history = await streamHandle(client, workflowId).fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  return decodeFromPayloadsAtIndex<AuditStreamInput | SnapshotStreamInput>(
    client.options.loadedDataConverter,
    0,
    payloads,
  );
}

/** A closed run's status and late ledger, replayed by a worker; undefined when no worker answered. */
async function askClosedRun(client: Client, workflowId: string): Promise<RecordedRun | undefined> {
  const handle = streamHandle(client, workflowId);
  const ask = <T>(f: () => Promise<T>) => client.withDeadline(Date.now() + 15_000, f);
  try {
    const status = await ask(() => handle.query(statusQuery));
    const snapshot = status.cursor as SnapshotCursor;
    // Runs of earlier versions (and snapshot streams) have no ledger query.
    const late =
      status.stream === 'audit' ? await ask(() => handle.query(lateLedgerQuery)).catch(() => undefined) : undefined;
    return { status, state: snapshot.state ?? null, ...(late ? { late } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * What the last run of a stream recorded, whatever its close status (completed, terminated, cancelled, timed out,
 * failed): its result when it completed; else its answers to the status and ledger queries (a closed run answers
 * while Temporal retains it, replayed by a worker); else the position it started from (the input of that run: what
 * it had committed when it began, so events it shipped since may be shipped again). The late ledger, when the
 * result or the query has none (runs of earlier versions), is the one that run started with: hours it handled since
 * are then swept as if new (sent again, never lost).
 */
async function lastRecorded(
  client: Client,
  workflowId: string,
  closeStatus: string,
): Promise<{ run: RecordedRun; how: string }> {
  let found: { run: RecordedRun; how: string } | undefined;
  if (closeStatus === 'COMPLETED') found = { run: await streamHandle(client, workflowId).result(), how: 'result' };
  else {
    const asked = await askClosedRun(client, workflowId);
    if (asked) found = { run: asked, how: 'last status' };
  }
  if (found && (found.run.late || found.run.status.stream !== 'audit')) return found;
  const input = await runInput(client, workflowId);
  if (found)
    return { run: { ...found.run, ...('late' in input && input.late ? { late: input.late } : {}) }, how: found.how };
  const snapshot = 'stream' in input ? input : undefined;
  return {
    run: {
      status: { cursor: input.cursor } as StreamStatus,
      state: snapshot?.state ?? null,
      ...('late' in input && input.late ? { late: input.late } : {}),
    },
    how: 'starting position (no worker answered the status query)',
  };
}

/** How often a stream whose endpoint the tenant has no licence for checks again, at most (behavioral detections). */
export const UNLICENSED_RECHECK_MS = 24 * 3_600_000;

/** The timings a stream runs with, as configured now (the environment or the tenants file). */
export function configuredTimings(tenant: TenantConfig, name: StreamName): StreamTimings {
  return {
    pollIntervalMs: tenant.pollIntervalsMs[name],
    authRecheckMs: tenant.authRecheckMs,
    errorBackoffMs: tenant.errorBackoffMs,
    fetchAttempts: tenant.fetchAttempts,
    handoffMs: tenant.handoffMs,
    ...(name === 'audit' && tenant.lateSweepTiersMs ? { lateSweepTiersMs: tenant.lateSweepTiersMs } : {}),
    // A tenant without EDR: re-checked daily, quietly, until it is licensed.
    ...(name === 'behavioral-detections' ? { unavailableRecheckMs: UNLICENSED_RECHECK_MS } : {}),
  };
}

/** Sends the configured timings to a running stream (idempotent); a refusal or an older worker is reported. */
async function applyTimings(
  handle: WorkflowHandle,
  timings: StreamTimings,
): Promise<TimingsApplied | { error: string }> {
  try {
    return await handle.executeUpdate(applyTimingsUpdate, { args: [timings] });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { error: `${err instanceof Error ? err.message : String(err)}${cause}` };
  }
}

/**
 * Starts a stream as configured. On a running stream: applies the configured timings (an update; nothing else
 * changes). On a stopped one: resumes from the cursor (and, for audit, the late ledger) its last run recorded —
 * unless an operator stopped it and `keepStopped` is set; `since` given by the operator over a recorded audit cursor
 * is refused unless `overrideCursor`. Never creates a second workflow.
 * `since` is where a fresh audit stream starts; snapshot streams always sweep the whole current list.
 */
export async function startStream(
  client: Client,
  temporal: TemporalConfig,
  tenant: TenantConfig,
  name: StreamName,
  since: string,
  opts: StartOptions = {},
): Promise<StartOutcome> {
  const workflowId = streamWorkflowId(tenant.tenant, name);
  const handle = client.workflow.getHandle(workflowId);
  const timings = configuredTimings(tenant, name);
  let previous: RecordedRun | undefined;
  let resumedFrom: string | undefined;
  try {
    const desc = await handle.describe();
    const closed = desc.status.name;
    if (closed === 'RUNNING') {
      const status = await handle.query(statusQuery).catch(() => undefined);
      return {
        stream: name,
        workflowId,
        outcome: 'already_running',
        cursor: status?.cursor,
        timings: await applyTimings(handle, timings),
      };
    }
    if (opts.keepStopped && STOPPED_BY_OPERATOR.includes(closed))
      return { stream: name, workflowId, outcome: 'left_stopped', closed, closedAt: desc.closeTime?.toISOString() };
    const recorded = await lastRecorded(client, workflowId, closed);
    previous = recorded.run;
    resumedFrom = `the ${closed.toLowerCase()} run's ${recorded.how}`;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const options = { workflowId, taskQueue: temporal.taskQueue, workflowIdConflictPolicy: 'USE_EXISTING' as const };
  const recordedAudit = name === 'audit' ? (previous?.status.cursor as AuditCursor | undefined) : undefined;
  if (recordedAudit && opts.sinceGiven && !opts.overrideCursor)
    return { stream: name, workflowId, outcome: 'refused', recorded: recordedAudit, since };
  const overrode = recordedAudit && opts.sinceGiven ? recordedAudit : undefined;
  const started = await startRun(client, options, { tenant, name, since, timings, previous, overrode, recordedAudit });
  const { cursor, lateLedgerCarried } = started;
  return {
    stream: name,
    workflowId,
    outcome: 'started',
    cursor,
    resumedFromPreviousRun: previous !== undefined && !overrode,
    ...(resumedFrom && !overrode ? { resumedFrom } : {}),
    ...(name === 'audit' ? { lateLedgerCarried } : {}),
    ...(overrode ? { overrode } : {}),
  };
}

/** What a new run of a stream starts from: the last run's record, or `since` (audit) / an empty state (snapshots). */
interface RunStart {
  tenant: TenantConfig;
  name: StreamName;
  since: string;
  timings: StreamTimings;
  previous: RecordedRun | undefined;
  /** The recorded audit cursor an operator's `since` overrode. */
  overrode: AuditCursor | undefined;
  recordedAudit: AuditCursor | undefined;
}

/** Starts the stream's workflow; returns the cursor it starts from (and, for audit, whether a late ledger came). */
async function startRun(
  client: Client,
  options: { workflowId: string; taskQueue: string; workflowIdConflictPolicy: 'USE_EXISTING' },
  { tenant, name, since, timings, previous, overrode, recordedAudit }: RunStart,
): Promise<{ cursor: StreamCursor; lateLedgerCarried?: boolean }> {
  if (name === 'audit') {
    const late = overrode ? undefined : previous?.late;
    const input: AuditStreamInput = {
      tenant: tenant.tenant,
      cursor: overrode || !recordedAudit ? initialAuditCursor(since) : recordedAudit,
      timings,
      ...(late ? { late } : {}),
    };
    await client.workflow.start(auditStream, { ...options, args: [input] });
    return { cursor: input.cursor, lateLedgerCarried: late !== undefined };
  }
  const input: SnapshotStreamInput = {
    tenant: tenant.tenant,
    stream: name,
    state: previous?.state ?? null,
    cursor: (previous?.status.cursor as SnapshotCursor | undefined) ?? { since: new Date().toISOString(), known: 0 },
    timings,
  };
  await client.workflow.start(snapshotStream, { ...options, args: [input] });
  return { cursor: input.cursor };
}

export interface StreamReport {
  stream: StreamName;
  workflowId: string;
  /** Temporal's view: RUNNING, COMPLETED, TERMINATED, FAILED, …, or NOT_STARTED. */
  execution: string;
  status?: StreamStatus;
  /** Age of the cursor (now − newest shipped event time), seconds. */
  lagSeconds?: number;
}

export async function streamReport(
  client: Client,
  tenant: string,
  name: StreamName,
  now = Date.now(),
): Promise<StreamReport> {
  const workflowId = streamWorkflowId(tenant, name);
  const handle = streamHandle(client, workflowId);
  let execution: string;
  try {
    execution = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { stream: name, workflowId, execution: 'NOT_STARTED' };
    throw err;
  }
  const status = await runningOrFinalStatus(handle, execution);
  const lagSeconds = status
    ? Math.max(0, Math.round((now - keyToMillis(timestampKey(status.cursor.since))) / 1000))
    : undefined;
  return { stream: name, workflowId, execution, status, lagSeconds };
}

/** Asks a stream to stop after the batch in flight; resolves when it has stopped (or `waitMs` passed). */
export async function stopStream(
  client: Client,
  tenant: string,
  name: StreamName,
  waitMs = 60_000,
): Promise<'stopped' | 'not_running' | 'stopping'> {
  const handle = client.workflow.getHandle(streamWorkflowId(tenant, name));
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return 'not_running';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'not_running';
    throw err;
  }
  await handle.signal(stopSignal);
  const done = await Promise.race([
    handle.result().then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), waitMs).unref()),
  ]);
  return done ? 'stopped' : 'stopping';
}

/** Pauses or resumes streams; returns each stream's state afterwards (or why it could not). */
export async function setPaused(
  client: Client,
  tenant: string,
  names: readonly StreamName[],
  paused: boolean,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const handle = client.workflow.getHandle(streamWorkflowId(tenant, name));
    try {
      out[name] = await handle.executeUpdate(paused ? pauseUpdate : resumeUpdate);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) out[name] = 'not running';
      else throw err;
    }
  }
  return out;
}

/** Asks a stream to re-ship a past window. Bad ranges fail here, with the workflow's validation message. */
export async function requestBackfill(
  client: Client,
  tenant: string,
  name: StreamName,
  from: string,
  to: string,
): Promise<BackfillAccepted> {
  return client.workflow
    .getHandle(streamWorkflowId(tenant, name))
    .executeUpdate(backfillUpdate, { args: [{ from, to }] });
}

/** Moves the audit stream's cursor to `to` (skip ahead, or rewind to re-ship). Applied after the page in flight. */
export async function moveAuditCursor(client: Client, tenant: string, to: string): Promise<CursorMoved> {
  return client.workflow
    .getHandle(streamWorkflowId(tenant, 'audit'))
    .executeUpdate(moveCursorUpdate, { args: [{ to }] });
}

export async function cancelBackfills(
  client: Client,
  tenant: string,
  name: StreamName,
  id?: string,
): Promise<string[]> {
  return client.workflow
    .getHandle(streamWorkflowId(tenant, name))
    .executeUpdate(cancelBackfillUpdate, { args: [id ? { id } : {}] });
}

/** The status of a backfill workflow (audit backfills run as their own workflow). */
export async function backfillStatus(client: Client, workflowId: string): Promise<StreamStatus | undefined> {
  try {
    const handle = streamHandle(client, workflowId);
    return await runningOrFinalStatus(handle, (await handle.describe()).status.name);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return undefined;
}

/** Every stream workflow this service runs in the namespace: tenant, stream, Temporal status. */
export async function listStreams(
  client: Client,
): Promise<{ workflowId: string; tenant: string; stream: string; execution: string; type: string }[]> {
  const out = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${WORKFLOW_ID_PREFIX}/"` })) {
    if (wf.type === 'snapshotStateChunk') continue; // a stream's state, not a stream
    const id = parseWorkflowId(wf.workflowId);
    const path = [...(id?.stream ? [id.stream] : []), ...(id?.rest ?? [])];
    out.push({
      workflowId: wf.workflowId,
      tenant: id?.tenant ?? '',
      stream: path.join('/'),
      execution: wf.status.name,
      type: wf.type,
    });
  }
  return out.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}

/**
 * Starting, inspecting and stopping stream workflows: what the CLI does, as functions tests can call too.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import {
  backfillUpdate,
  cancelBackfillUpdate,
  pauseUpdate,
  resumeUpdate,
  moveCursorUpdate,
  statusQuery,
  stopSignal,
  type BackfillAccepted,
  type CursorMoved,
} from '../../workflows/shared/messages';
import type { AuditStreamInput, SnapshotStreamInput } from '../../workflows/shared/stream-input';
import type { SnapshotCursor, StreamCursor, StreamName, StreamStatus } from '../../workflows/shared/stream-status';
import { keyToMillis, timestampKey } from '../../workflows/shared/timestamps';
import type { SnapshotState } from '../../workflows/snapshot-state';
import { snapshotStream } from '../../workflows/snapshot-stream';
import type { TenantConfig, TemporalConfig } from '../config/env';
import { streamWorkflowId } from '../temporal/workflow-ids';

export type StartOutcome =
  | { stream: StreamName; workflowId: string; outcome: 'already_running'; cursor?: StreamCursor }
  | {
      stream: StreamName;
      workflowId: string;
      outcome: 'started';
      cursor: StreamCursor;
      resumedFromPreviousRun: boolean;
      /** Where the cursor came from when a previous run existed (its close status, and how it was read). */
      resumedFrom?: string;
    };

type RecordedRun = { status: StreamStatus; seen?: string; state?: SnapshotState | null };

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

/**
 * What the last run of a stream recorded, whatever its close status (completed, terminated, cancelled, timed out,
 * failed): its result when it completed; else its answer to the status query (a closed run answers while Temporal
 * retains it, replayed by a worker); else the position it started from (the input of that run: what it had
 * committed when it began, so events it shipped since may be shipped again).
 */
async function lastRecorded(
  client: Client,
  workflowId: string,
  closeStatus: string,
): Promise<{ run: RecordedRun; how: string }> {
  const handle = streamHandle(client, workflowId);
  if (closeStatus === 'COMPLETED') return { run: await handle.result(), how: 'result' };
  try {
    const status = await client.withDeadline(Date.now() + 15_000, () => handle.query(statusQuery));
    const snapshot = status.cursor as SnapshotCursor;
    return { run: { status, state: snapshot.state ?? null }, how: 'last status' };
  } catch {
    // No worker answered: fall back to the run's input.
  }
  const history = await handle.fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  // Decoded by the client's own data converter (the service's codecs: compression, encryption).
  const input = await decodeFromPayloadsAtIndex<AuditStreamInput | SnapshotStreamInput>(
    client.options.loadedDataConverter,
    0,
    payloads,
  );
  const snapshot = 'seen' in input ? input : undefined;
  return {
    run: { status: { cursor: input.cursor } as StreamStatus, seen: snapshot?.seen, state: snapshot?.state ?? null },
    how: 'starting position (no worker answered the status query)',
  };
}

/**
 * Starts a stream unless it is already running. Idempotent: a second start neither creates a second workflow nor
 * resets the cursor; a stream that was stopped resumes from the cursor its last run recorded.
 * `since` is where a fresh audit stream starts; snapshot streams always sweep the whole current list.
 */
export async function startStream(
  client: Client,
  temporal: TemporalConfig,
  stream: TenantConfig,
  name: StreamName,
  since: string,
): Promise<StartOutcome> {
  const workflowId = streamWorkflowId(stream.tenant, name);
  const handle = client.workflow.getHandle(workflowId);
  let previous: RecordedRun | undefined;
  let resumedFrom: string | undefined;
  try {
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') {
      const status = await handle.query(statusQuery).catch(() => undefined);
      return { stream: name, workflowId, outcome: 'already_running', cursor: status?.cursor };
    }
    const recorded = await lastRecorded(client, workflowId, desc.status.name);
    previous = recorded.run;
    resumedFrom = `the ${desc.status.name.toLowerCase()} run's ${recorded.how}`;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const timings = {
    pollIntervalMs: stream.pollIntervalsMs[name],
    authRecheckMs: stream.authRecheckMs,
    errorBackoffMs: stream.errorBackoffMs,
    fetchAttempts: stream.fetchAttempts,
    handoffMs: stream.handoffMs,
    ...(name === 'audit' && stream.lateSweepTiersMs ? { lateSweepTiersMs: stream.lateSweepTiersMs } : {}),
  };
  const options = { workflowId, taskQueue: temporal.taskQueue, workflowIdConflictPolicy: 'USE_EXISTING' as const };
  let cursor: StreamCursor;
  if (name === 'audit') {
    const input: AuditStreamInput = {
      tenant: stream.tenant,
      cursor: (previous?.status.cursor as AuditCursor | undefined) ?? initialAuditCursor(since),
      timings,
    };
    cursor = input.cursor;
    await client.workflow.start(auditStream, { ...options, args: [input] });
  } else {
    const input: SnapshotStreamInput = {
      tenant: stream.tenant,
      stream: name,
      seen: previous?.seen ?? '',
      state: previous?.state ?? null,
      cursor: (previous?.status.cursor as SnapshotCursor | undefined) ?? { since: new Date().toISOString(), known: 0 },
      timings,
    };
    cursor = input.cursor;
    await client.workflow.start(snapshotStream, { ...options, args: [input] });
  }
  return {
    stream: name,
    workflowId,
    outcome: 'started',
    cursor,
    resumedFromPreviousRun: previous !== undefined,
    ...(resumedFrom ? { resumedFrom } : {}),
  };
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
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "kandji-datadog/"` })) {
    if (wf.type === 'snapshotStateChunk') continue; // a stream's state, not a stream
    const [, tenant = '', stream = '', ...rest] = wf.workflowId.split('/');
    out.push({
      workflowId: wf.workflowId,
      tenant,
      stream: rest.length ? `${stream}/${rest.join('/')}` : stream,
      execution: wf.status.name,
      type: wf.type,
    });
  }
  return out.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}

/**
 * Starting, inspecting and stopping stream workflows: what the CLI does, as functions tests can call too.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor, type AuditCursor } from '../../workflows/audit-cursor';
import { statusQuery, stopSignal } from '../../workflows/messages';
import { snapshotStream } from '../../workflows/snapshot-stream';
import type { AuditStreamInput, SnapshotStreamInput } from '../../workflows/stream-input';
import type { SnapshotCursor, StreamCursor, StreamName, StreamStatus } from '../../workflows/stream-status';
import { keyToMillis, timestampKey } from '../../workflows/timestamps';
import type { StreamConfig, TemporalConfig } from '../config/env';
import { streamWorkflowId } from '../temporal/workflow-ids';

export type StartOutcome =
  | { stream: StreamName; workflowId: string; outcome: 'already_running'; cursor?: StreamCursor }
  | { stream: StreamName; workflowId: string; outcome: 'started'; cursor: StreamCursor; resumedFromPreviousRun: boolean };

/**
 * Starts a stream unless it is already running. Idempotent: a second start neither creates a second workflow nor
 * resets the cursor; a stream that was stopped resumes from the cursor its last run recorded.
 * `since` is where a fresh audit stream starts; snapshot streams always sweep the whole current list.
 */
export async function startStream(
  client: Client,
  temporal: TemporalConfig,
  stream: StreamConfig,
  name: StreamName,
  since: string,
): Promise<StartOutcome> {
  const workflowId = streamWorkflowId(stream.tenant, name);
  const handle = client.workflow.getHandle(workflowId);
  let previous: { status: StreamStatus; seen?: string } | undefined;
  try {
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') {
      const status = await handle.query(statusQuery).catch(() => undefined);
      return { stream: name, workflowId, outcome: 'already_running', cursor: status?.cursor };
    }
    if (desc.status.name === 'COMPLETED') previous = (await handle.result()) as { status: StreamStatus; seen?: string };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const timings = {
    pollIntervalMs: stream.pollIntervalsMs[name],
    authRecheckMs: stream.authRecheckMs,
    errorBackoffMs: stream.errorBackoffMs,
    fetchAttempts: stream.fetchAttempts,
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
      cursor: (previous?.status.cursor as SnapshotCursor | undefined) ?? { since: new Date().toISOString(), known: 0 },
      timings,
    };
    cursor = input.cursor;
    await client.workflow.start(snapshotStream, { ...options, args: [input] });
  }
  return { stream: name, workflowId, outcome: 'started', cursor, resumedFromPreviousRun: previous !== undefined };
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

export async function streamReport(client: Client, tenant: string, name: StreamName, now = Date.now()): Promise<StreamReport> {
  const workflowId = streamWorkflowId(tenant, name);
  const handle = client.workflow.getHandle(workflowId);
  let execution: string;
  try {
    execution = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { stream: name, workflowId, execution: 'NOT_STARTED' };
    throw err;
  }
  let status: StreamStatus | undefined;
  if (execution === 'RUNNING') status = await handle.query(statusQuery);
  else if (execution === 'COMPLETED') status = ((await handle.result()) as { status: StreamStatus }).status;
  const lagSeconds = status ? Math.max(0, Math.round((now - keyToMillis(timestampKey(status.cursor.since))) / 1000)) : undefined;
  return { stream: name, workflowId, execution, status, lagSeconds };
}

/** Asks a stream to stop after the batch in flight; resolves when it has stopped (or `waitMs` passed). */
export async function stopStream(client: Client, tenant: string, name: StreamName, waitMs = 60_000): Promise<'stopped' | 'not_running' | 'stopping'> {
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

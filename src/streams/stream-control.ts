/**
 * Starting, inspecting and stopping stream workflows: what the CLI does, as functions tests can call too.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor, type AuditCursor } from '../../workflows/audit-cursor';
import { statusQuery, stopSignal } from '../../workflows/messages';
import type { AuditStreamInput } from '../../workflows/stream-input';
import type { StreamName, StreamStatus } from '../../workflows/stream-status';
import { keyToMillis } from '../../workflows/timestamps';
import type { StreamConfig, TemporalConfig } from '../config/env';
import { streamWorkflowId } from '../temporal/workflow-ids';

export type StartOutcome =
  | { stream: StreamName; workflowId: string; outcome: 'already_running'; cursor?: AuditCursor }
  | { stream: StreamName; workflowId: string; outcome: 'started'; cursor: AuditCursor; resumedFromPreviousRun: boolean };

/**
 * Starts a stream unless it is already running. Idempotent: a second start neither creates a second workflow nor
 * resets the cursor; a stream that was stopped resumes from the cursor its last run recorded.
 */
export async function startStream(
  client: Client,
  temporal: TemporalConfig,
  stream: StreamConfig,
  name: StreamName,
  since: string,
): Promise<StartOutcome> {
  const workflowId = streamWorkflowId(stream.tenant, name);
  const handle = client.workflow.getHandle<typeof auditStream>(workflowId);
  let cursor = initialAuditCursor(since);
  let resumedFromPreviousRun = false;
  try {
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') {
      const status = await handle.query(statusQuery).catch(() => undefined);
      return { stream: name, workflowId, outcome: 'already_running', cursor: status?.cursor };
    }
    if (desc.status.name === 'COMPLETED') {
      const result = await handle.result();
      cursor = result.status.cursor;
      resumedFromPreviousRun = true;
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const input: AuditStreamInput = {
    tenant: stream.tenant,
    cursor,
    timings: {
      pollIntervalMs: stream.pollIntervalMs,
      authRecheckMs: stream.authRecheckMs,
      errorBackoffMs: stream.errorBackoffMs,
    },
  };
  const started = await client.workflow.start(auditStream, {
    workflowId,
    taskQueue: temporal.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  if (started.firstExecutionRunId === undefined) {
    return { stream: name, workflowId, outcome: 'already_running' };
  }
  return { stream: name, workflowId, outcome: 'started', cursor, resumedFromPreviousRun };
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
  const handle = client.workflow.getHandle<typeof auditStream>(workflowId);
  let execution: string;
  try {
    execution = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { stream: name, workflowId, execution: 'NOT_STARTED' };
    throw err;
  }
  let status: StreamStatus | undefined;
  if (execution === 'RUNNING') status = await handle.query(statusQuery);
  else if (execution === 'COMPLETED') status = (await handle.result()).status;
  const lagSeconds = status ? Math.max(0, Math.round((now - keyToMillis(status.cursor.since)) / 1000)) : undefined;
  return { stream: name, workflowId, execution, status, lagSeconds };
}

/** Asks a stream to stop after the batch in flight; resolves when it has stopped (or `waitMs` passed). */
export async function stopStream(client: Client, tenant: string, name: StreamName, waitMs = 60_000): Promise<'stopped' | 'not_running' | 'stopping'> {
  const handle = client.workflow.getHandle<typeof auditStream>(streamWorkflowId(tenant, name));
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

/**
 * `verify [audit] --from TIME --to TIME`: runs the stream's verify workflow (kandji-datadog/<tenant>/audit/verify)
 * on the worker, waits for it and prints a table per hour. A run already going for the stream is waited for instead.
 * Without DD_APP_KEY verification is off: said, and exit code 2 (configuration).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { formatVerifyTable, verifyExitCode } from './format-verify';
import type { StreamName } from '../../workflows/shared/stream-status';
import { verifyStream, type VerifyStreamResult } from '../../workflows/verify-stream';
import { loadDatadogReadConfig } from '../config/datadog-read';
import type { TemporalConfig } from '../config/env';
import { streamWorkflowId } from '../temporal/workflow-ids';

export interface VerifyOptions {
  streams?: StreamName[];
  from: string;
  to: string;
}

export function verifyWorkflowId(tenant: string): string {
  return `${streamWorkflowId(tenant, 'audit')}/verify`;
}

export async function verifyCommand(
  client: Client,
  temporal: TemporalConfig,
  tenant: string,
  opts: VerifyOptions,
  out: (line: string) => void,
): Promise<number> {
  const read = loadDatadogReadConfig();
  if (!read.on) {
    out(`${tenant}: ${read.reason}`);
    return 2;
  }
  const others = (opts.streams ?? []).filter((s) => s !== 'audit');
  if (others.length) out(`${tenant}: verify covers the audit stream only for now; not ${others.join(', ')}`);
  const workflowId = verifyWorkflowId(tenant);
  let result: VerifyStreamResult;
  try {
    const handle = await client.workflow.start(verifyStream, {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [{ tenant, from: opts.from, to: opts.to }],
    });
    result = await handle.result();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    out(`${tenant}: a verify of the audit stream is already running (${workflowId}); waiting for it`);
    result = (await client.workflow.getHandle<typeof verifyStream>(workflowId).result()) as VerifyStreamResult;
  }
  out(formatVerifyTable(tenant, result));
  return verifyExitCode(result);
}

/** The status line of verification: off (and why), or the last run's last hour and totals. */
export async function verifyStatusLine(client: Client, tenant: string): Promise<string> {
  const read = loadDatadogReadConfig();
  if (!read.on) return `  verify (audit): ${read.reason}`;
  const handle = client.workflow.getHandle<typeof verifyStream>(verifyWorkflowId(tenant));
  let state: string;
  try {
    state = (await handle.describe()).status.name;
  } catch {
    return '  verify (audit): never run (npm run cli -- verify audit --from … --to …)';
  }
  if (state !== 'COMPLETED') return `  verify (audit): last run ${state.toLowerCase()}`;
  const { rows } = await handle.result();
  const last = rows[rows.length - 1];
  const count = (result: string) => rows.filter((r) => r.result === result).length;
  const missing = rows.reduce((n, r) => n + r.missing.lost + r.missing.quota + r.missing.excluded + r.missing.stale, 0);
  return (
    `  verify (audit): last verified hour ${last ? `${last.hour}:00Z` : '-'}; ${rows.length} hours: ` +
    `${count('verified')} verified, ${count('repaired')} repaired, ${count('explained')} explained, ` +
    `${count('gap')} with a gap, ${count('inconclusive')} inconclusive; ${missing} events missing`
  );
}

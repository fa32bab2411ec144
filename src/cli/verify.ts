/**
 * `verify [audit] --from TIME --to TIME`: runs the stream's verify workflow (kandji-datadog/<tenant>/audit/verify)
 * on the worker, waits for it and prints a table per hour. A run already going for the stream is waited for instead.
 * The worker holds the application key (the CLI needs no secret): a worker without DD_APP_KEY answers `off`, said
 * here with exit code 2 (configuration), and by `status` from then on.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { formatVerifyTable, verifyExitCode } from './format-verify';
import type { StreamName } from '../../workflows/shared/stream-status';
import { verifyStream, type VerifyStreamResult } from '../../workflows/verify-stream';
import { VERIFY_OFF_REASON } from '../config/datadog-read';
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
  const off = result.rows.find((r) => r.result === 'off');
  if (off) {
    out(`${tenant}: ${VERIFY_OFF_REASON} on the worker`);
    return 2;
  }
  out(formatVerifyTable(tenant, result));
  return verifyExitCode(result);
}

/** The status line of verification: never run, off (the worker has no application key), or the last run's totals. */
export async function verifyStatusLine(client: Client, tenant: string): Promise<string> {
  const handle = client.workflow.getHandle<typeof verifyStream>(verifyWorkflowId(tenant));
  let state: string;
  try {
    state = (await handle.describe()).status.name;
  } catch {
    return '  verify (audit): never run (npm run -s cli -- verify audit --from … --to …; the worker needs DD_APP_KEY)';
  }
  if (state !== 'COMPLETED') return `  verify (audit): last run ${state.toLowerCase()}`;
  const { rows } = await handle.result();
  if (rows.some((r) => r.result === 'off')) return `  verify (audit): ${VERIFY_OFF_REASON} on the worker`;
  const last = rows[rows.length - 1];
  const count = (result: string) => rows.filter((r) => r.result === result).length;
  const missing = rows.reduce((n, r) => n + r.missing.lost + r.missing.quota + r.missing.excluded + r.missing.stale, 0);
  return (
    `  verify (audit): last verified hour ${last ? `${last.hour}:00Z` : '-'}; ${rows.length} hours: ` +
    `${count('verified')} verified, ${count('repaired')} repaired, ${count('explained')} explained, ` +
    `${count('gap')} with a gap, ${count('inconclusive')} inconclusive; ${missing} events missing`
  );
}

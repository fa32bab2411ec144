/**
 * `verify [STREAM...] --from TIME --to TIME`: runs each stream's verify workflow
 * (kandji-datadog/<tenant>/<stream>/verify) on the worker, waits for it and prints a table per hour, one table per
 * stream (default: audit); the exit code is the worst of the streams'. A run already going for a stream is waited
 * for instead. The worker holds the application key (the CLI needs no secret): a worker without DD_APP_KEY answers
 * `off`, said here with exit code 2 (configuration), and by `status` from then on.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { formatVerifyTable, verifyExitCode } from './format-verify';
import type { StreamName } from '../../../workflows/shared/stream-status';
import { verifyWorkflowId } from '../../../workflows/shared/workflow-ids';
import { verifyStream, type VerifyStreamInput, type VerifyStreamResult } from '../../../workflows/verify-stream';
import { VERIFY_OFF_REASON } from '../../config/datadog-read';
import type { TemporalConfig } from '../../config/env';

export interface VerifyOptions {
  streams?: StreamName[];
  from: string;
  to: string;
}

export async function verifyCommand(
  client: Client,
  temporal: TemporalConfig,
  tenant: string,
  opts: VerifyOptions,
  out: (line: string) => void,
): Promise<number> {
  let code = 0;
  for (const stream of opts.streams ?? ['audit']) {
    const result = await runVerify(client, temporal, tenant, stream, opts, out);
    code = Math.max(code, reportVerify(tenant, result, out));
  }
  return code;
}

/** Starts the stream's verify workflow (audit: its input as before streams could be named) and waits for it. */
async function runVerify(
  client: Client,
  temporal: TemporalConfig,
  tenant: string,
  stream: StreamName,
  opts: VerifyOptions,
  out: (line: string) => void,
): Promise<VerifyStreamResult> {
  const workflowId = verifyWorkflowId(tenant, stream);
  const input: VerifyStreamInput = { tenant, ...(stream === 'audit' ? {} : { stream }), from: opts.from, to: opts.to };
  try {
    const handle = await client.workflow.start(verifyStream, {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [input],
    });
    return await handle.result();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    out(`${tenant}: a verify of the ${stream} stream is already running (${workflowId}); waiting for it`);
    return (await client.workflow.getHandle<typeof verifyStream>(workflowId).result()) as VerifyStreamResult;
  }
}

function reportVerify(tenant: string, result: VerifyStreamResult, out: (line: string) => void): number {
  if (result.rows.some((r) => r.result === 'off')) {
    out(`${tenant}: ${VERIFY_OFF_REASON} on the worker`);
    return 2;
  }
  out(formatVerifyTable(tenant, result));
  return verifyExitCode(result);
}

/** The status lines of verification, one per stream: never run, off, or the last run's totals. */
export async function verifyStatusLines(
  client: Client,
  tenant: string,
  streams: readonly StreamName[],
): Promise<string[]> {
  return Promise.all(streams.map((s) => verifyStatusLine(client, tenant, s)));
}

/** The status line of a stream's verification: never run, off (the worker has no application key), or the last run's totals. */
export async function verifyStatusLine(client: Client, tenant: string, stream: StreamName = 'audit'): Promise<string> {
  const handle = client.workflow.getHandle<typeof verifyStream>(verifyWorkflowId(tenant, stream));
  const label = `  verify (${stream}):`;
  let state: string;
  try {
    state = (await handle.describe()).status.name;
  } catch {
    return `${label} never run (npm run -s cli -- verify ${stream} --from … --to …; the worker needs DD_APP_KEY)`;
  }
  if (state !== 'COMPLETED') return `${label} last run ${state.toLowerCase()}`;
  const { rows } = await handle.result();
  if (rows.some((r) => r.result === 'off')) return `${label} ${VERIFY_OFF_REASON} on the worker`;
  const last = rows[rows.length - 1];
  const count = (result: string) => rows.filter((r) => r.result === result).length;
  const missing = rows.reduce((n, r) => n + r.missing.lost + r.missing.quota + r.missing.excluded + r.missing.stale, 0);
  const what = stream === 'audit' ? 'events' : 'rows';
  return (
    `${label} last verified hour ${last ? `${last.hour}:00Z` : '-'}; ${rows.length} hours: ` +
    `${count('verified')} verified, ${count('repaired')} repaired, ${count('explained')} explained, ` +
    `${count('gap')} with a gap, ${count('inconclusive')} inconclusive; ${missing} ${what} missing`
  );
}

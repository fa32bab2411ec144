/**
 * The gauges read from Temporal rather than recorded as things happen: each stream's state and lag, and whether
 * Temporal answers at all. Every round sets every gauge, so none keeps a last good value after its source is gone:
 * a stream whose workflow is not running (terminated, failed, never started) shows `not_running`, a stream that does
 * not answer (Temporal down, or its workflow task waiting or failing: no worker moves it) shows `unknown`, and their
 * lag is NaN (Datadog drops the point, so charts show a gap, not a frozen number).
 *
 * Nothing here is billed at steady state (a query is a billed action, asked by every replica of every stream every
 * minute it would cost more than the streams themselves): the execution status and the state the stream published
 * in its memo come from DescribeWorkflowExecution, the cursor from what this process saw the stream commit
 * (cursor-sightings.ts). A query is asked only when those cannot say: once per run that has published nothing yet
 * (it starts publishing at its first step), and once per stream after this process starts, for a cursor it has not
 * seen (an idle stream may not run a workflow task for hours).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { ForwarderMetrics, GaugeState } from './metrics';
import { GAUGE_MEMO_KEY, type PublishedGauges } from '../../workflows/shared/gauge-facts';
import type { StreamName } from '../../workflows/shared/stream-status';
import { keyToMillis, timestampKey } from '../../workflows/shared/timestamps';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';
import type { TenantConfig } from '../config/env';
import { streamReport, type StreamReport } from '../streams/stream-control';

/** A workflow task waiting (or failing) longer than this: no worker is moving the stream. */
export const STUCK_AFTER_MS = 60_000;

/** What DescribeWorkflowExecution (not billed) tells of a stream. */
export interface StreamView {
  /** RUNNING, COMPLETED, TERMINATED, FAILED, …, or NOT_STARTED. */
  execution: string;
  runId?: string;
  /** The gauges the run published in its memo (absent before its first). */
  published?: PublishedGauges;
  /** Since when a workflow task has been pending (scheduled, started or retried), if one is. */
  taskPendingSince?: number;
}

/** Where a round reads from (Temporal, or a fake in tests). */
export interface StatusSource {
  /** Resolves when Temporal answers a cheap call (not a billed action); rejects otherwise. */
  temporalAnswers(): Promise<unknown>;
  /** Not billed. */
  view(tenant: string, stream: StreamName): Promise<StreamView>;
  /** A query (billed) while the stream runs; its final result (not billed) once it completed. */
  report(tenant: string, stream: StreamName): Promise<StreamReport>;
  /** The cursor this process last saw the stream commit. */
  sighted(tenant: string, stream: StreamName): string | undefined;
}

export function temporalStatusSource(client: Client, sighted: StatusSource['sighted'] = () => undefined): StatusSource {
  return {
    temporalAnswers: () => client.connection.workflowService.getSystemInfo({}),
    view: async (tenant, stream) => {
      const d = await client.workflow
        .getHandle(streamWorkflowId(tenant, stream))
        .describe()
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        });
      if (!d) return { execution: 'NOT_STARTED' };
      const task = d.raw.pendingWorkflowTask;
      const pendingSince = optionalTsToMs(task?.originalScheduledTime ?? task?.scheduledTime);
      const published = d.memo?.[GAUGE_MEMO_KEY] as PublishedGauges | undefined;
      return {
        execution: d.status.name,
        runId: d.runId,
        ...(published ? { published } : {}),
        ...(pendingSince !== undefined ? { taskPendingSince: pendingSince } : {}),
      };
    },
    report: (tenant, stream) => streamReport(client, tenant, stream),
    sighted,
  };
}

/** What a round remembers: the answers it had to ask for, so that it asks each only once. */
export class GaugeMemory {
  /** By stream, for its current run only: the report of a run that had published nothing, or of a completed run. */
  readonly reports = new Map<string, { runId: string; report: StreamReport | undefined }>();
  /** By stream: the cursor a query gave when this process had seen none. */
  readonly seeded = new Map<string, string | undefined>();
}

const millis = (since: string) => keyToMillis(timestampKey(since));

/** The newest of the cursors known (by event time), if any. */
function newestCursor(...since: (string | undefined)[]): string | undefined {
  const known = since.filter((s): s is string => s !== undefined);
  return known.length ? known.reduce((a, b) => (millis(b) > millis(a) ? b : a)) : undefined;
}

const lagOf = (since: string | undefined, now: number) =>
  since === undefined ? NaN : Math.max(0, Math.round((now - millis(since)) / 1000));

export interface StreamGauges {
  state: GaugeState;
  lagSeconds: number;
  parked: number;
}

const UNKNOWN: StreamGauges = { state: 'unknown', lagSeconds: NaN, parked: 0 };

/** One stream's gauges from what could be read. */
async function readStream(
  source: StatusSource,
  memory: GaugeMemory,
  tenant: string,
  stream: StreamName,
  now: number,
): Promise<StreamGauges> {
  const view = await source.view(tenant, stream).catch(() => undefined);
  if (!view) return UNKNOWN;
  const id = streamWorkflowId(tenant, stream);
  const once = async (runId: string) => {
    if (memory.reports.get(id)?.runId !== runId)
      memory.reports.set(id, { runId, report: await source.report(tenant, stream).catch(() => undefined) });
    return memory.reports.get(id)?.report;
  };
  if (view.execution === 'COMPLETED' && view.runId) {
    // A stream stops by completing; its final status says so, and where its cursor stayed (not billed).
    const status = (await once(view.runId))?.status;
    return status?.state === 'stopped'
      ? { state: 'stopped', lagSeconds: lagOf(status.cursor.since, now), parked: 0 }
      : { state: 'not_running', lagSeconds: NaN, parked: 0 };
  }
  if (view.execution !== 'RUNNING' || !view.runId) return { state: 'not_running', lagSeconds: NaN, parked: 0 };
  if (view.taskPendingSince !== undefined && now - view.taskPendingSince > STUCK_AFTER_MS) return UNKNOWN;
  let published = view.published;
  if (!published) {
    const status = (await once(view.runId))?.status;
    if (!status) {
      memory.reports.delete(id); // did not answer: ask again next round
      return UNKNOWN;
    }
    published = { state: status.state, since: status.cursor.since, parked: status.lateSweep?.parked.length ?? 0 };
    memory.seeded.set(id, status.cursor.since);
  }
  let sighted = source.sighted(tenant, stream);
  if (sighted === undefined && !memory.seeded.has(id))
    memory.seeded.set(id, (await source.report(tenant, stream).catch(() => undefined))?.status?.cursor.since);
  sighted = newestCursor(sighted, memory.seeded.get(id), published.since);
  return { state: published.state, lagSeconds: lagOf(sighted, now), parked: published.parked };
}

/** One round: Temporal's reachability, then every stream's state and lag. */
export async function readStatusGauges(
  source: StatusSource,
  tenants: TenantConfig[],
  metrics: ForwarderMetrics,
  memory = new GaugeMemory(),
) {
  const reachable = await source.temporalAnswers().then(
    () => true,
    () => false,
  );
  metrics.temporalReachable(reachable);
  for (const tenant of tenants) {
    for (const name of tenant.streams) {
      const g = reachable ? await readStream(source, memory, tenant.tenant, name, Date.now()) : UNKNOWN;
      metrics.state(tenant.tenant, name, g.state);
      metrics.lag(tenant.tenant, name, g.lagSeconds);
      // Never a last good value: a stream that did not answer has no parked hours to show.
      metrics.lateSweepParked(tenant.tenant, name, g.parked);
    }
  }
}

/** Reads the gauges now and then every `intervalMs`; returns a function that stops it. */
export function startStatusGauges(opts: {
  source: StatusSource;
  tenants: TenantConfig[];
  metrics: ForwarderMetrics;
  intervalMs: number;
}): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const memory = new GaugeMemory();
  const round = () => readStatusGauges(opts.source, opts.tenants, opts.metrics, memory);
  const loop = () => {
    timer = setTimeout(() => {
      void round().finally(() => {
        if (!stopped) loop();
      });
    }, opts.intervalMs);
    timer.unref();
  };
  void round().finally(loop);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

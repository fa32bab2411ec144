/**
 * The gauges read from Temporal rather than recorded as things happen: each stream's state and lag, each tenant's
 * request budget, and whether Temporal answers at all. Every round sets every gauge, so none keeps a last good value
 * after its source is gone: a stream whose workflow is not running (terminated, failed, never started) shows
 * `not_running`, a stream that does not answer (Temporal down, the query timed out) shows `unknown`, and their lag
 * is NaN (Datadog drops the point, so charts show a gap, not a frozen number).
 */
import type { Client } from '@temporalio/client';
import type { ForwarderMetrics, GaugeState } from './metrics';
import { budgetQuery } from '../../workflows/request-budget';
import type { StreamName } from '../../workflows/shared/stream-status';
import type { TenantConfig } from '../config/env';
import { budgetWorkflowId } from '../kandji/budget-reservations';
import { streamReport, type StreamReport } from '../streams/stream-control';

/** Where a round reads from (Temporal, or a fake in tests). */
export interface StatusSource {
  /** Resolves when Temporal answers a cheap call (not a billed action); rejects otherwise. */
  temporalAnswers(): Promise<unknown>;
  report(tenant: string, stream: StreamName): Promise<StreamReport>;
  /** Requests the tenant may still make in the sliding hour. */
  budgetRemaining(tenant: string): Promise<number>;
}

export function temporalStatusSource(client: Client): StatusSource {
  return {
    temporalAnswers: () => client.connection.workflowService.getSystemInfo({}),
    report: (tenant, stream) => streamReport(client, tenant, stream),
    budgetRemaining: async (tenant) => {
      const b = await client.workflow.getHandle(budgetWorkflowId(tenant)).query(budgetQuery);
      // Granted slots of the last hour and those already scheduled ahead are both spent.
      return b.perHour - b.usedLastHour - b.scheduledAhead;
    },
  };
}

/** What the state and lag gauges show for a stream, from its report (undefined: it could not be read). */
export function streamGauges(report: StreamReport | undefined): { state: GaugeState; lagSeconds: number } {
  const lagSeconds = report?.lagSeconds ?? NaN;
  if (!report) return { state: 'unknown', lagSeconds: NaN };
  if (report.execution !== 'RUNNING')
    return report.status?.state === 'stopped'
      ? { state: 'stopped', lagSeconds }
      : { state: 'not_running', lagSeconds: NaN };
  if (!report.status) return { state: 'unknown', lagSeconds: NaN };
  return { state: report.status.state, lagSeconds };
}

/** One round: Temporal's reachability, then every stream's state and lag and every tenant's budget. */
export async function readStatusGauges(source: StatusSource, tenants: TenantConfig[], metrics: ForwarderMetrics) {
  const reachable = await source.temporalAnswers().then(
    () => true,
    () => false,
  );
  metrics.temporalReachable(reachable);
  for (const tenant of tenants) {
    for (const name of tenant.streams) {
      const report = reachable ? await source.report(tenant.tenant, name).catch(() => undefined) : undefined;
      const { state, lagSeconds } = streamGauges(report);
      metrics.state(tenant.tenant, name, state);
      metrics.lag(tenant.tenant, name, lagSeconds);
      // Never a last good value: a stream that did not answer has no parked hours to show.
      metrics.lateSweepParked(tenant.tenant, name, report?.status?.lateSweep?.parked.length ?? 0);
    }
    if (!reachable) continue;
    const remaining = await source.budgetRemaining(tenant.tenant).catch(() => undefined);
    if (remaining !== undefined) metrics.budgetRemaining(tenant.tenant, remaining);
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
  const loop = () => {
    timer = setTimeout(() => {
      void readStatusGauges(opts.source, opts.tenants, opts.metrics).finally(() => {
        if (!stopped) loop();
      });
    }, opts.intervalMs);
    timer.unref();
  };
  void readStatusGauges(opts.source, opts.tenants, opts.metrics).finally(loop);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

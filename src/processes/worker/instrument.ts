/**
 * Where the forwarder's metrics are recorded, without the activities or the HTTP clients knowing:
 * - an activity interceptor reads each activity's input (tenant, stream) and result (fetched, shipped, …);
 * - the Kandji and Datadog clients the activities get are wrapped to count requests by status and bytes;
 * (the gauges read from Temporal, state, lag, budget, reachability, are src/telemetry/status-gauges.ts).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type {
  ActivityDeps,
  AuditPageRef,
  ShipAuditPageResult,
  ShipRecordsResult,
  SweepLateAuditHourResult,
  SweepSnapshotStateResult,
  TenantDeps,
  VerifyAuditHourInput,
  VerifyAuditHourResult,
  VerifySnapshotWindowInput,
  VerifySnapshotWindowResult,
} from '../../../activities';
import type { UnchangedPollDetails } from '../../../activities/sweep-snapshot-state';
import { FailureType } from '../../../workflows/shared/failure-types';
import type { StreamName } from '../../../workflows/shared/stream-status';
import type { VerifyHourResult } from '../../../workflows/shared/verify-row';
import { parseWorkflowId } from '../../../workflows/shared/workflow-ids';
import { RemoteError } from '../../remote-errors';
import type { ForwarderMetrics } from '../../telemetry/metrics';

/** Records what each completed activity did, per tenant and stream. */
export function activityMetricsInterceptor(metrics: ForwarderMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const arg = (input.args[0] ?? {}) as { tenant?: string; stream?: StreamName };
        let result: unknown;
        try {
          result = await next(input);
        } catch (err) {
          // A snapshot poll that changed nothing ends as a BENIGN failure: the rows it read were still fetched.
          const read = unchangedPollRead(err);
          if (read && arg.tenant) metrics.records(arg.tenant, arg.stream ?? 'detections', 'fetched', read.rows);
          throw err;
        }
        if (!arg.tenant) return result;
        const tenant = arg.tenant;
        switch (ctx.info.activityType) {
          case 'readAuditPageRef': {
            const ref = result as AuditPageRef;
            metrics.records(tenant, 'audit', 'fetched', ref.count);
            metrics.records(tenant, 'audit', 'late', ref.late);
            break;
          }
          case 'shipAuditPage':
            recordShipped(metrics, tenant, 'audit', result as ShipAuditPageResult);
            break;
          case 'sweepLateAuditHour': {
            const sweep = result as SweepLateAuditHourResult;
            metrics.records(tenant, 'audit', 'late', sweep.found);
            metrics.records(tenant, 'audit', 'late_resent', sweep.resent);
            recordShipped(metrics, tenant, 'audit', sweep.shipment);
            break;
          }
          case 'verifyAuditHour':
            recordVerified(metrics, 'audit', input.args[0] as VerifyAuditHourInput, result as VerifyAuditHourResult);
            break;
          case 'verifySnapshotWindow': {
            const window = input.args[0] as VerifySnapshotWindowInput;
            for (const row of (result as VerifySnapshotWindowResult).rows)
              recordVerified(metrics, window.stream, window, row);
            break;
          }
          case 'sweepSnapshotState': {
            const sweep = result as SweepSnapshotStateResult;
            const stream = arg.stream ?? 'detections';
            metrics.records(tenant, stream, 'fetched', sweep.rows);
            recordShipped(metrics, tenant, stream, sweep);
            break;
          }
        }
        return result;
      },
    },
  });
}

/** What a snapshot poll that changed nothing read (its SnapshotUnchanged failure's details), if `err` is one. */
function unchangedPollRead(err: unknown): UnchangedPollDetails | undefined {
  if (!(err instanceof ApplicationFailure) || err.type !== FailureType.SnapshotUnchanged) return undefined;
  const read = err.details?.[0] as UnchangedPollDetails | undefined;
  return read && typeof read.rows === 'number' ? read : undefined;
}

/**
 * One hour counts once: a first pass that repaired counts its missing events and waits for the second pass (no
 * repair), whose hour counts as `repaired` when it then verified.
 */
function recordVerified(
  metrics: ForwarderMetrics,
  stream: StreamName,
  input: { tenant: string; repair: boolean },
  row: VerifyHourResult,
): void {
  if (input.repair)
    for (const [reason, n] of Object.entries(row.missing)) metrics.recordsMissing(input.tenant, stream, reason, n);
  if (input.repair && row.result === 'repaired') return;
  metrics.verifiedHour(input.tenant, stream, !input.repair && row.result === 'verified' ? 'repaired' : row.result);
}

function recordShipped(metrics: ForwarderMetrics, tenant: string, stream: StreamName, r: ShipRecordsResult): void {
  metrics.records(tenant, stream, 'shipped', r.shipped);
  metrics.records(tenant, stream, 'dead_lettered', r.deadLetters.length);
  metrics.records(tenant, stream, 'stale', r.stale.count);
  metrics.records(tenant, stream, 'trimmed', r.trimmed);
}

/** Tenant and stream of the activity this code runs in, from its workflow id. */
function currentStream(): { tenant: string; stream: StreamName | 'unknown' } {
  let workflowId = '';
  try {
    workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
  } catch {
    // not inside an activity
  }
  const id = parseWorkflowId(workflowId);
  return { tenant: id?.tenant ?? 'unknown', stream: id?.stream ?? 'unknown' };
}

const statusOf = (err: unknown) => (err instanceof RemoteError ? String(err.details.status ?? err.kind) : 'error');

/** Wraps the activities' Kandji and Datadog clients so each call is counted (tenant, stream, status, bytes). */
export function instrumentClients<D extends ActivityDeps>(deps: D, metrics: ForwarderMetrics): D {
  const tenants = new Map<string, TenantDeps>();
  for (const [name, t] of deps.tenants) {
    const kandji = t.kandji;
    const counted = async <T>(call: () => Promise<T>): Promise<T> => {
      const { stream } = currentStream();
      try {
        const value = await call();
        metrics.kandjiRequest(name, stream, '200');
        return value;
      } catch (err) {
        metrics.kandjiRequest(name, stream, statusOf(err));
        throw err;
      }
    };
    tenants.set(name, {
      ...t,
      kandji: {
        baseUrl: kandji.baseUrl,
        getJson: (...args: Parameters<typeof kandji.getJson>) => counted(() => kandji.getJson(...args)),
        getJsonSized: (...args: Parameters<typeof kandji.getJsonSized>) => counted(() => kandji.getJsonSized(...args)),
      },
      ...(t.datadog ? { datadog: countedDatadog(t.datadog, metrics) } : {}),
    });
  }
  return { ...deps, tenants, datadog: countedDatadog(deps.datadog, metrics) };
}

function countedDatadog(datadog: ActivityDeps['datadog'], metrics: ForwarderMetrics): ActivityDeps['datadog'] {
  return {
    send: async (...args: Parameters<ActivityDeps['datadog']['send']>) => {
      const { tenant, stream } = currentStream();
      const bytes = Buffer.byteLength(args[0], 'utf8');
      try {
        await datadog.send(...args);
        metrics.datadogRequest(tenant, stream, '202', bytes);
      } catch (err) {
        metrics.datadogRequest(tenant, stream, statusOf(err), bytes);
        throw err;
      }
    },
  };
}

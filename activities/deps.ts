/** What the activities need from the outside world, handed to createActivities by the worker or a test. */
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { DatadogIntakeClient } from '../src/datadog/intake-client';
import type { DatadogLogsReadClient } from '../src/datadog/logs-read-client';
import type { StalePolicies, StalePolicy } from '../src/datadog/stale-events';
import type { KandjiClient } from '../src/kandji/client';
import type { PageStore } from '../src/streams/page-store';
import type { CursorSightings } from '../src/telemetry/cursor-sightings';
import { FailureType } from '../workflows/shared/failure-types';

export interface TenantDeps {
  kandji: Pick<KandjiClient, 'getJson' | 'getJsonSized' | 'baseUrl'>;
  /** Tags every log of this tenant carries, already formatted (kandji_tenant, forwarder_version, DD_TAGS). */
  ddtags: string;
  hostname?: string;
  /** Audit page size (`limit`), at most 500. */
  auditPageSize?: number;
  /** How far before the newest shipped event each audit poll re-reads, for events that become visible late. */
  auditOverlapMs?: number;
  /** This tenant's own Datadog client (its own connection pool); `ActivityDeps.datadog` when absent. */
  datadog?: Pick<DatadogIntakeClient, 'send'>;
  /** This tenant's own stale policies (tenants file `staleEvents`); they win over the worker's. */
  stalePolicies?: StalePolicies;
  /** Days back each behavioral-detections sweep reads (default BEHAVIORAL_WINDOW_DAYS). */
  behavioralWindowDays?: number;
  /** Datadog's Logs read APIs for `verify` (needs DD_APP_KEY); absent: verification is off. */
  datadogLogs?: Pick<DatadogLogsReadClient, 'counts' | 'listAttribute' | 'listLogs' | 'indexes' | 'requests'>;
}

export interface ActivityDeps {
  tenants: ReadonlyMap<string, TenantDeps>;
  /** The Datadog client of tenants that have none of their own. */
  datadog: Pick<DatadogIntakeClient, 'send'>;
  logger: Logger;
  /**
   * What to do with events past Datadog's 18-hour window, every stream (DD_STALE_EVENTS). Unset: each stream's
   * default (`restamp` for detections, `ship` otherwise; see stalePolicyFor).
   */
  stalePolicy?: StalePolicy;
  /** The same per stream (DD_STALE_EVENTS_AUDIT, _DETECTIONS, _THREATS); wins over `stalePolicy`. */
  stalePolicies?: StalePolicies;
  /** Pages read and not yet shipped, held in this worker process (records never ride through history). */
  pages?: PageStore;
  /** This worker process's own task queue: ship activities for the pages it holds are routed there. */
  workerQueue?: string;
  /** Rows per chunk of a snapshot stream's durable state (default SNAPSHOT_CHUNK_ROWS). */
  snapshotChunkRows?: number;
  /** Aborted when the worker process begins to shut down: long waits (the idle audit poll) hand back at once. */
  shuttingDown?: AbortSignal;
  /**
   * The cursors this worker process saw its streams reach (its lag gauges read them): a snapshot poll that changed
   * nothing reports itself here, since nothing reaches its workflow.
   */
  sightings?: Pick<CursorSightings, 'record'>;
  /** Clock, for tests. */
  now?: () => number;
}

export function tenantDeps(deps: ActivityDeps, tenant: string): TenantDeps {
  const t = deps.tenants.get(tenant);
  if (!t) {
    throw ApplicationFailure.create({
      type: FailureType.UnknownTenant,
      nonRetryable: true,
      message: `this worker has no configuration for tenant "${tenant}" (known: ${[...deps.tenants.keys()].join(', ') || 'none'})`,
    });
  }
  return t;
}

/**
 * The activities: the only code that talks to Kandji and Datadog. Built from their clients and config, so a test
 * can hand in simulators (or anything else) without touching the Temporal server.
 */
import type { ActivityDeps } from './deps';
import { fetchAuditPageActivity } from './fetch-audit-page';
import { shipBatchActivity } from './ship-batch';
import { sweepSnapshotActivity } from './sweep-snapshot';

export function createActivities(deps: ActivityDeps) {
  return {
    fetchAuditPage: fetchAuditPageActivity(deps),
    shipBatch: shipBatchActivity(deps),
    sweepSnapshot: sweepSnapshotActivity(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps, TenantDeps } from './deps';
export type { FetchAuditPageInput, FetchedAuditPage } from './fetch-audit-page';
export type { ShipBatchInput, ShipBatchResult } from './ship-batch';
export type { SweepSnapshotInput, SweepSnapshotResult } from './sweep-snapshot';

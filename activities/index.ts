/**
 * The activities: the only code that talks to Kandji and Datadog. Built from their clients and config, so a test
 * can hand in simulators (or anything else) without touching the Temporal server.
 */
import { awaitAuditPageActivity } from './await-audit-page';
import type { ActivityDeps } from './deps';
import { readAuditPageRefActivity } from './read-audit-page-ref';
import { shipAuditPageActivity } from './ship-audit-page';
import { sweepLateAuditHourActivity } from './sweep-late-audit-hour';
import { dropSnapshotStateActivity, sweepSnapshotStateActivity } from './sweep-snapshot-state';
import { verifyAuditHourActivity } from './verify-audit-hour';
import { verifySnapshotWindowActivity } from './verify-snapshot';

export function createActivities(deps: ActivityDeps) {
  return {
    readAuditPageRef: readAuditPageRefActivity(deps),
    awaitAuditPage: awaitAuditPageActivity(deps),
    shipAuditPage: shipAuditPageActivity(deps),
    sweepLateAuditHour: sweepLateAuditHourActivity(deps),
    verifyAuditHour: verifyAuditHourActivity(deps),
    verifySnapshotWindow: verifySnapshotWindowActivity(deps),
    sweepSnapshotState: sweepSnapshotStateActivity(deps),
    dropSnapshotState: dropSnapshotStateActivity(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps, TenantDeps } from './deps';
export type { AwaitAuditPageInput, AwaitAuditPageResult } from './await-audit-page';
export type { AuditPageRef, ReadAuditPageRefInput } from './read-audit-page-ref';
export type { ShipAuditPageInput, ShipAuditPageResult } from './ship-audit-page';
export type { ShipRecordsInput, ShipRecordsResult } from './ship-records';
export type { SweepLateAuditHourInput, SweepLateAuditHourResult } from './sweep-late-audit-hour';
export type { SweepSnapshotStateInput, SweepSnapshotStateResult } from './sweep-snapshot-state';
export type { VerifyAuditHourInput, VerifyAuditHourResult } from './verify-audit-hour';
export type { VerifySnapshotWindowInput, VerifySnapshotWindowResult } from './verify-snapshot';

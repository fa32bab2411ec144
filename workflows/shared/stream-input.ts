/** Arguments of a stream workflow. No secrets: tokens and keys stay in the worker's environment. */
import type { AuditCursor } from './audit-cursor';
import type { LateLedger } from './late-ledger';
import type { CarriedStatus } from './stream-status';

export interface StreamTimings {
  /** Wait between polls once caught up. */
  pollIntervalMs: number;
  /** Wait before re-checking credentials Kandji or Datadog rejected. */
  authRecheckMs: number;
  /**
   * Longest wait between re-checks of an endpoint the tenant has no licence for (`unavailable`); authRecheckMs when
   * absent. Behavioral detections: a day.
   */
  unavailableRecheckMs?: number;
  /** Wait before trying again after an activity exhausted its retries. */
  errorBackoffMs: number;
  /** Attempts of a Kandji read before its error shows in status and the stream waits errorBackoffMs. Default 8. */
  fetchAttempts?: number;
  /** How long a ship waits for the worker holding its page before the page is read again elsewhere. Default 30 s. */
  handoffMs?: number;
  /** Audit: ages (after an hour ended) at which the late sweep re-reads the hour; [] turns it off. Default in late-ledger.ts. */
  lateSweepTiersMs?: number[];
}

export interface AuditStreamInput {
  tenant: string;
  cursor: AuditCursor;
  timings: StreamTimings;
  /** Set when this run is a backfill of a past window (a child of the live stream), not the live tail. */
  backfill?: { id: string; from: string; to: string; parentWorkflowId: string };
  /** Carried across continue-as-new; absent on the first start. */
  carried?: CarriedStatus;
  /** The late-event ledger (late-ledger.ts), carried across continue-as-new; absent on the first start. */
  late?: LateLedger;
  /** A cursor move requested of the previous run and not applied by it (a timestamp key): applied first. */
  pendingMove?: string;
}

export interface SnapshotStreamInput {
  tenant: string;
  stream: import('./stream-status').SnapshotStreamName;
  /** The committed state of the last complete sweep (chunks outside the workflow); null or absent before it. */
  state?: import('../snapshot-state').SnapshotState | null;
  cursor: import('./stream-status').SnapshotCursor;
  timings: StreamTimings;
  carried?: CarriedStatus;
  /** Ids of requested backfills (re-ships of the current snapshot) not yet done, carried across continue-as-new. */
  reship?: string[];
  /** A sweep that saw a small fraction of the committed state, held (not committed) until the next sweep confirms it. */
  unconfirmed?: { state: import('../snapshot-state').SnapshotState; known: number } | null;
  /** Generations no longer current whose chunk workflows are not all ended yet: dropped beside the sweeps. */
  drops?: import('../snapshot-state').SnapshotState[];
  /** A sweep not finished when the run continued as new: the next run resumes it (same generation, its progress). */
  sweep?: { generation: string; progress: import('../../activities/sweep-snapshot-state').SweepProgress | null } | null;
}

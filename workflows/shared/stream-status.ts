/**
 * What a stream workflow reports about itself: plain data, returned by the `status` query and kept across
 * continue-as-new. Shared by the workflow, the CLI and the tests.
 */
import type { AuditCursor } from './audit-cursor';

/** Every stream, in the order status shows them (a tuple, so that zod can take it as an enum). */
export const STREAMS = ['audit', 'detections', 'threats', 'behavioral-detections'] as const;
export type StreamName = (typeof STREAMS)[number];
/** The streams that sweep a current-state list (workflows/snapshot-stream.ts; workflows/snapshot-sweep-loop.ts). */
export type SnapshotStreamName = Exclude<StreamName, 'audit'>;

export type StreamState =
  | 'starting'
  | 'paused' // by an operator: no Kandji or Datadog calls until resumed; the cursor stays
  | 'running' // reading a backlog or shipping
  | 'caught_up' // waiting for the next poll
  | 'retrying' // an activity failed after its retries; the workflow tries again shortly
  | 'blocked' // credentials rejected or answers unreadable; re-checks slowly until it works
  | 'unavailable' // the stream's endpoint answers 404 (feature not licensed); re-checks slowly
  | 'stopped';

export interface StreamError {
  /** ApplicationFailure type, e.g. KandjiAuthError. */
  type: string;
  message: string;
  /** Which step failed, or `signal` for a signal with a bad payload (which changed nothing). */
  during: 'fetch' | 'ship' | 'sweep' | 'signal';
  at: string;
}

export interface StreamCounts {
  /** Events received from Kandji that the cursor had not passed yet. */
  fetched: number;
  /** Events Datadog accepted. */
  shipped: number;
  /** Events re-read in the overlap window and skipped as already shipped. */
  skippedRepeats: number;
  /** Events that became visible after later ones were shipped, caught by the overlap window. */
  late: number;
  /** Kandji pages read. */
  pages: number;
  /** Datadog requests that accepted a batch. */
  batches: number;
  /**
   * Records not shipped: Datadog refused them even alone (400), or Kandji's answer held them without a usable id or
   * occurred_at. Logged with what is known of them by the worker.
   */
  deadLettered: number;
  /** Records older than Datadog's 18-hour window when shipped (handled per DD_STALE_EVENTS). */
  stale: number;
  /** Records over 1 MB shipped with their largest fields trimmed. */
  trimmed: number;
  /** Snapshot streams: complete sweeps, and rows that disappeared since the sweep before. */
  sweeps: number;
  gone: number;
  /** Audit pages read again from Kandji because the worker holding them was gone (one request each). */
  reread?: number;
  /** Audit events dated later than the worker's clock (+15 min): shipped; the cursor does not follow them. */
  future?: number;
  /** Kandji `next` links refused (another host or path): the stream read on from its own cursor. */
  refusedLinks?: number;
  /** Audit: events found by the late sweep (visible later than the overlap window) and shipped. */
  lateFound?: number;
  /** Audit: events sent again because an hour had too many late events to list them (they may be in Datadog twice). */
  lateResent?: number;
  /** Times an operator moved the cursor (skip ahead or rewind). */
  cursorMoves?: number;
  /**
   * Snapshot streams: sweeps that saw less than half of the rows of the committed state (a transient empty or short
   * answer from Kandji, or a real mass removal) and were not committed until the next sweep agreed with them.
   */
  unconfirmedSweeps?: number;
  /** Snapshot streams: rows shipped whose identity fields were empty, identified by a hash of the whole row. */
  shippedWithoutIdentity?: number;
}

/** Position of a snapshot stream (detections, threats): when its last complete sweep started, and what it saw. */
export interface SnapshotCursor {
  /** Start time of the last complete sweep (ISO); the stream's data is as fresh as this. */
  since: string;
  /** Rows (detections) or threat versions known after that sweep. */
  known: number;
  /** The committed state (chunks) of that sweep: kept here so that a closed run's status query gives it back. */
  state?: import('../snapshot-state').SnapshotState | null;
}

export type StreamCursor = AuditCursor | SnapshotCursor;

/** A backfill: a past window re-shipped on purpose, by a child workflow (audit) or a full re-sweep (snapshots). */
export interface BackfillInfo {
  id: string;
  workflowId?: string;
  from: string;
  to: string;
  state: 'running' | 'done' | 'cancelled' | 'failed';
  requestedAt: string;
  finishedAt?: string;
  shipped?: number;
  warning?: string;
  /** Set when a cancel found the backfill's workflow already closed without having reported how it ended. */
  note?: string;
}

/**
 * An audit hour the late sweep could not sweep (no request budget, or failing after its activity's retries): it is
 * tried again at a poll after `until`, while the live tail goes on.
 */
export interface ParkedLateSweep {
  hour: string;
  reason: string;
  until: string;
  /** Failed sweeps of this hour in a row (absent for a budget wait). */
  failures?: number;
}

export interface StreamStatus {
  tenant: string;
  stream: StreamName;
  state: StreamState;
  cursor: StreamCursor;
  counts: StreamCounts;
  pollIntervalMs: number;
  startedAt: string;
  lastPollAt: string | null;
  lastShipAt: string | null;
  /** Last time a poll reached the end of Kandji's log. */
  caughtUpAt: string | null;
  /** Audit: the late sweep's last re-read of a past hour (the hour, and when). */
  lastLateSweep?: { hour: string; at: string };
  /** Audit: the late sweep beside the live tail (absent on runs before it): the hour in flight, and hours parked. */
  lateSweep?: { sweeping?: string; parked: ParkedLateSweep[] };
  lastError: StreamError | null;
  /** The most recent record Datadog refused, for the operator to look up. */
  lastDeadLetter: { identity: string; reason: string; at: string } | null;
  /** Paused by an operator (state shows `paused` once the batch in flight is done). */
  paused?: boolean;
  /** Running backfills and the last finished ones. */
  backfills?: BackfillInfo[];
  /** Set on backfill workflows: the window they re-ship. */
  window?: { from: string; to: string };
  /** Runs since the workflow was first started (continue-as-new count). */
  generation: number;
}

export function emptyCounts(): StreamCounts {
  return {
    fetched: 0,
    shipped: 0,
    skippedRepeats: 0,
    late: 0,
    pages: 0,
    batches: 0,
    deadLettered: 0,
    stale: 0,
    trimmed: 0,
    sweeps: 0,
    gone: 0,
  };
}

/** What a stream's status carries across continue-as-new. */
const CARRIED_FIELDS = [
  'counts',
  'startedAt',
  'generation',
  'lastShipAt',
  'caughtUpAt',
  'lastError',
  'lastDeadLetter',
  'paused',
  'backfills',
  'lastLateSweep',
] as const satisfies readonly (keyof StreamStatus)[];

export type CarriedStatus = Pick<StreamStatus, (typeof CARRIED_FIELDS)[number]>;

export function carriedStatus(status: StreamStatus): CarriedStatus {
  const carried: Partial<Record<keyof StreamStatus, unknown>> = {};
  for (const field of CARRIED_FIELDS) if (status[field] !== undefined) carried[field] = status[field];
  return carried as CarriedStatus;
}

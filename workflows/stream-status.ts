/**
 * What a stream workflow reports about itself: plain data, returned by the `status` query and kept across
 * continue-as-new. Shared by the workflow, the CLI and the tests.
 */
import type { AuditCursor } from './audit-cursor';

export type StreamName = 'audit';

export type StreamState =
  | 'starting'
  | 'running' // reading a backlog or shipping
  | 'caught_up' // waiting for the next poll
  | 'retrying' // an activity failed after its retries; the workflow tries again shortly
  | 'blocked' // credentials rejected; re-checks slowly until they work
  | 'stopped';

export interface StreamError {
  /** ApplicationFailure type, e.g. KandjiAuthError. */
  type: string;
  message: string;
  /** Which step failed. */
  during: 'fetch' | 'ship';
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
  /** Records Datadog refused even alone (400): logged with their identity by the worker, not shipped. */
  deadLettered: number;
  /** Records older than Datadog's 18-hour window when shipped (handled per DD_STALE_EVENTS). */
  stale: number;
  /** Records over 1 MB shipped with their largest fields trimmed. */
  trimmed: number;
}

export interface StreamStatus {
  tenant: string;
  stream: StreamName;
  state: StreamState;
  cursor: AuditCursor;
  counts: StreamCounts;
  pollIntervalMs: number;
  startedAt: string;
  lastPollAt: string | null;
  lastShipAt: string | null;
  /** Last time a poll reached the end of Kandji's log. */
  caughtUpAt: string | null;
  lastError: StreamError | null;
  /** The most recent record Datadog refused, for the operator to look up. */
  lastDeadLetter: { identity: string; reason: string; at: string } | null;
  /** Runs since the workflow was first started (continue-as-new count). */
  generation: number;
}

export function emptyCounts(): StreamCounts {
  return { fetched: 0, shipped: 0, skippedRepeats: 0, late: 0, pages: 0, batches: 0, deadLettered: 0, stale: 0, trimmed: 0 };
}

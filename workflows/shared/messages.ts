/**
 * Signals, queries and updates of the stream workflows, defined once for the workflow, the CLI, the Temporal UI
 * and the tests. Signal payloads come from people typing JSON in the UI's "Send Signal", so they are validated
 * (payload-checks.ts): a bad payload is reported in status and logs and changes nothing. Updates carry validators, so a bad request
 * from the CLI fails at the command line.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { LateLedger } from './late-ledger';
import {
  describeIssues,
  isoTime,
  listOf,
  optional,
  optionalNonEmptyString,
  strictObject,
  numberAtLeast,
  type Parsed,
} from './payload-checks';
import type { StreamTimings } from './stream-input';
import type { StreamStatus } from './stream-status';
import { timestampKey } from './timestamps';

/** Current state, cursor, counts, backfills and last error of a stream. */
export const statusQuery = defineQuery<StreamStatus>('status');

/**
 * The audit stream's late-event ledger (late-ledger.ts): what `start` carries from a run that ended without a result
 * (terminated, failed), replayed by a worker. Separate from `status`, which stays small.
 */
export const lateLedgerQuery = defineQuery<LateLedger>('lateLedger');

/** Ends the stream gracefully: the batch in flight is shipped and its cursor recorded first. */
export const stopSignal = defineSignal<[]>('stop');

/** Stops calling Kandji and Datadog after the batch in flight; the cursor stays. Payload: none (or `{}`). */
export const pauseSignal = defineSignal<[unknown?]>('pause');
/** Continues where `pause` stopped. Payload: none (or `{}`). */
export const resumeSignal = defineSignal<[unknown?]>('resume');
/** Re-ships a past window: `{ "from": "<ISO>", "to": "<ISO>" }` (a time without zone is UTC). */
export const backfillSignal = defineSignal<[unknown]>('backfill');
/** Cancels running backfills: `{ "id": "<backfill id>" }`, or `{}` for all of them. */
export const cancelBackfillSignal = defineSignal<[unknown?]>('cancelBackfill');

/**
 * Moves the audit stream's cursor on purpose: `{ "to": "<ISO>" }`. Later than the cursor skips events (they are
 * never shipped); earlier rewinds (events from there on are shipped again). Applied after the page in flight, or at
 * once when that page is failing (the failing step is abandoned); kept across continue-as-new until applied.
 */
export const moveCursorSignal = defineSignal<[unknown]>('moveCursor');

/** The CLI's way to the same operations, with an answer. */
export const pauseUpdate = defineUpdate<StreamStatus['state'], []>('pause');
export const resumeUpdate = defineUpdate<StreamStatus['state'], []>('resume');
export const backfillUpdate = defineUpdate<BackfillAccepted, [BackfillRequest]>('backfill');
export const cancelBackfillUpdate = defineUpdate<string[], [{ id?: string }]>('cancelBackfill');
export const moveCursorUpdate = defineUpdate<CursorMoved, [MoveCursorRequest]>('moveCursor');
/**
 * Snapshot streams: forgets the committed state, so the next sweep (started at once) ships every current row again
 * (duplicates in Datadog, on purpose). The way out of a state that cannot be read. Answers the rows forgotten.
 */
export const resetStateUpdate = defineUpdate<{ forgotten: number }, []>('resetState');

/**
 * Applies the configured timings to a running stream (what `start` does on a running stream): used from then on and
 * carried across continue-as-new. Idempotent: the same timings again change nothing (`changed: false`).
 */
export const applyTimingsUpdate = defineUpdate<TimingsApplied, [StreamTimings]>('applyTimings');

export interface TimingsApplied {
  changed: boolean;
  /** The timings before the update (equal to the request when unchanged). */
  from: StreamTimings;
}

export const timingsSchema = strictObject<StreamTimings>({
  pollIntervalMs: numberAtLeast(1),
  authRecheckMs: numberAtLeast(1),
  unavailableRecheckMs: optional(numberAtLeast(1)),
  errorBackoffMs: numberAtLeast(1),
  fetchAttempts: optional(numberAtLeast(1, true)),
  handoffMs: optional(numberAtLeast(1)),
  lateSweepTiersMs: optional(listOf(numberAtLeast(0))),
});

export interface BackfillRequest {
  from: string;
  to: string;
}

export const backfillRequestSchema = strictObject<BackfillRequest>({ from: isoTime, to: isoTime }, (r) =>
  timestampKey(r.from) < timestampKey(r.to) ? undefined : '"from" must be before "to"',
);

export const cancelBackfillSchema = strictObject<{ id?: string }>({ id: optionalNonEmptyString });
export interface MoveCursorRequest {
  to: string;
}
export const moveCursorSchema = strictObject<MoveCursorRequest>({ to: isoTime });

export interface CursorMoved {
  /** Where the cursor stood, and where it will read from once the page in flight is done. */
  from: string;
  to: string;
}
const noFields = strictObject<Record<string, never>>({});
export const emptyPayloadSchema = {
  safeParse: (v: unknown): Parsed<Record<string, never> | null | undefined> =>
    v === undefined || v === null ? { success: true, data: v } : noFields.safeParse(v),
};

export interface BackfillAccepted {
  id: string;
  workflowId: string;
  /** Set when the window reaches past Datadog's 18-hour intake window. */
  warning?: string;
}

export { describeIssues };

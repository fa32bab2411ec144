/**
 * Activity: one sweep of a snapshot endpoint (detections or threat details). Kandji returns these as current-state
 * lists, so the stream ships a row when it first appears (a detection that disappears and comes back is new again;
 * a threat is shipped again when its status changes). Rows travel straight from Kandji to Datadog inside this
 * activity. What the sweep saw is written as a new generation of state chunks (snapshot-chunks.ts) as it goes;
 * only the generation's name and size go back to the workflow, which commits it.
 *
 * A retried sweep resumes where it stopped: the heartbeat holds the paging position, how many chunks are written,
 * and the fingerprints seen since the last chunk (fewer than a chunk: under 256 KB). One attempt's sweep is in
 * snapshot-sweep.ts, its heartbeats in sweep-heartbeats.ts; this file holds the activity's poll mode and what a
 * failed attempt reports.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import type { ShipRecordsResult } from './ship-records';
import { SnapshotChunks } from './snapshot-chunks';
import { SnapshotSweep } from './snapshot-sweep';
import { SweepHeartbeats } from './sweep-heartbeats';
import type { SnapshotPosition } from '../src/kandji/snapshot-pages';
import { decodeFingerprints } from '../src/streams/fingerprint64-set';
import { FailureType } from '../workflows/shared/failure-types';
import type { SnapshotStreamName } from '../workflows/shared/stream-status';
import type { SnapshotState } from '../workflows/snapshot-state';

export interface SweepSnapshotStateInput {
  tenant: string;
  stream: SnapshotStreamName;
  /** The committed state of the last complete sweep; null before the first. */
  previous: SnapshotState | null;
  /** Name of the generation this sweep writes. */
  generation: string;
  /** Ship every row, as if none had been seen (a requested backfill). */
  reship?: boolean;
  /**
   * A sweep the workflow has not committed yet (it saw a small fraction of `previous`, and waits for the next sweep
   * to confirm it). Its new rows were shipped, so they are not shipped again; it counts for nothing else.
   */
  unconfirmed?: SnapshotState | null;
  /** Progress an earlier activity of this sweep reported when its attempts ran out: resumed from there. */
  resume?: SweepProgress | null;
  /** The retry policy's last attempt: a failure of it reports the progress (SweepProgressDetails) to carry on. */
  lastAttempt?: number;
  /**
   * The workflow takes `unchanged` answers (0.6 on): a sweep that saw exactly the committed state writes nothing and
   * answers `unchanged` with the committed state's name, without its inline fingerprints. Absent (a workflow of an
   * earlier version during a rolling deploy): every sweep writes its generation, as before.
   */
  acceptUnchanged?: boolean;
  /**
   * Poll mode (0.6 on): this sweep is the caught-up stream's next poll, run by its activity's retry policy. Its first
   * attempt only waits (fails at once, BENIGN SnapshotUnchanged, retried after this many ms); a later attempt sweeps
   * and fails the same way when it saw the committed state unchanged (nothing written, nothing shipped), so an idle
   * poll costs one activity attempt and writes no history; it completes when the sweep changed something. Any other
   * failure is non-retryable: the workflow takes over with its own retries and shows it.
   */
  pollEveryMs?: number;
}

/** The details entry a failed sweep adds, when it reports progress: small (the pending rows are in a chunk). */
export interface SweepProgressDetails {
  sweepProgress: SweepProgress | null;
}

export interface SweepSnapshotStateResult extends ShipRecordsResult {
  /** What this sweep saw, written as chunks: the workflow commits it. */
  state: SnapshotState;
  rows: number;
  /** Rows shipped because they were new (or, for threats, changed status). */
  fresh: number;
  /** Rows of the previous sweep not seen this time. */
  gone: number;
  /** Rows (threats: row versions) known after this sweep. */
  known: number;
  pages: number;
  /** Rows of the previous state (to tell a suspiciously small sweep). */
  previousRows: number;
  /** Rows shipped by this sweep whose identity fields were empty (identified by their whole content). */
  withoutIdentity: number;
  /**
   * The sweep saw exactly the committed state (`previous`): nothing was written, and `state` names the committed
   * state (without its inline fingerprints), which stays current.
   */
  unchanged?: boolean;
}

/** Where a sweep is: heartbeated, and reported by a failing last attempt. */
export interface SweepProgress {
  /** detections: the `after` cursor of the next page; threats: the next offset; behavioral detections: more. */
  position: SnapshotPosition;
  done: boolean;
  chunksWritten: number;
  /** Fingerprints seen since the last chunk written (base64). */
  pending: string;
  /** A small final state kept inline rather than written as a chunk (base64). */
  inline?: string;
  rows: number;
  fresh: number;
  pages: number;
  matched: number;
  /** Absent in heartbeats of earlier versions. */
  withoutIdentity?: number;
  ship: { shipped: number; batches: number; deadLettered: number; trimmed: number; stale: number };
}

export function sweepSnapshotStateActivity(deps: ActivityDeps) {
  return async function sweepSnapshotState(input: SweepSnapshotStateInput): Promise<SweepSnapshotStateResult> {
    const ctx = Context.current();
    const chunks = new SnapshotChunks(
      ctx.client,
      ctx.info.workflowExecution?.workflowId ?? input.stream,
      ctx.info.taskQueue,
    );
    // What this sweep resumes from: the heartbeat of an earlier attempt, else the progress an earlier activity
    // reported when its attempts ran out (carried by the workflow), else nothing.
    const resumed = resumable(ctx.info.heartbeatDetails as SweepProgress | undefined, input) ?? undefined;
    const pollStarted = (deps.now ?? Date.now)();
    const heartbeats = new SweepHeartbeats(ctx, deps.now ?? Date.now, resumed);
    const polling = input.pollEveryMs !== undefined;
    // Poll mode: the first attempt is the wait before the first poll.
    if (polling && ctx.info.attempt === 1) throw unchangedFailure(input.pollEveryMs!, 'first poll after the interval');
    const sweep = new SnapshotSweep(deps, input, { chunks, heartbeats, signal: ctx.cancellationSignal, resumed });
    let result: SweepSnapshotStateResult;
    try {
      result = await withTypedFailures(() => sweep.run(), ctx.info.attempt);
    } catch (err) {
      throw await failureToReport(err, input, ctx.info.attempt, () => reportable(chunks, input, heartbeats.last()));
    }
    if (polling && result.unchanged) {
      // The stream's lag gauge counts from its last poll: this one, though nothing reached the workflow.
      deps.sightings?.record(ctx.info.workflowExecution?.workflowId ?? '', new Date(pollStarted).toISOString());
      throw unchangedFailure(input.pollEveryMs!, 'nothing changed', { rows: result.rows, pages: result.pages });
    }
    return result;
  };
}

/**
 * What a failed sweep raises: a poll's failure goes to the workflow, whatever it is (its retry policy only polls);
 * the last attempt (or a poll's, or a non-retryable one) reports the progress to carry on (SweepProgressDetails).
 */
async function failureToReport(
  err: unknown,
  input: SweepSnapshotStateInput,
  attempt: number,
  progress: () => Promise<SweepProgress | null>,
): Promise<unknown> {
  const polling = input.pollEveryMs !== undefined;
  const last = attempt >= (input.lastAttempt ?? Infinity);
  if (polling && !(err instanceof ApplicationFailure) && !(err instanceof CancelledFailure)) {
    const error = err instanceof Error ? err : new Error(String(err));
    return ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true, cause: error });
  }
  if (!(err instanceof ApplicationFailure) || !(last || polling || err.nonRetryable)) return err;
  const sweepProgress = await progress().catch(() => null);
  return withDetails(err, { sweepProgress }, polling ? { nonRetryable: true } : {});
}

/** The last checkpoint with its pending rows written as a chunk, so that it is small enough to carry. */
async function reportable(
  chunks: SnapshotChunks,
  input: SweepSnapshotStateInput,
  at: SweepProgress | undefined,
): Promise<SweepProgress | null> {
  if (!at || at.done) return null;
  const pending = [...decodeFingerprints(at.pending)];
  if (pending.length === 0) return at;
  await chunks.write(input.generation, at.chunksWritten, pending);
  return { ...at, chunksWritten: at.chunksWritten + 1, pending: '' };
}

/**
 * Where an attempt resumes: its predecessor's heartbeat, else the progress the workflow carried. A poll resumes only
 * a predecessor that shipped rows (a sweep that died on the way): one that ended unchanged shipped nothing and may
 * have heartbeated a position mid-list, and the next poll must read the whole list again.
 */
function resumable(beat: SweepProgress | undefined, input: SweepSnapshotStateInput): SweepProgress | null | undefined {
  if (input.pollEveryMs !== undefined) return beat && beat.fresh > 0 ? beat : undefined;
  return beat ?? input.resume;
}

/** What an unchanged poll read (details[0] of its SnapshotUnchanged failure): the worker's metrics count it. */
export interface UnchangedPollDetails {
  rows: number;
  pages: number;
}

/** A poll that found nothing to do (or is not due yet): BENIGN, retried after `pollEveryMs`. */
function unchangedFailure(pollEveryMs: number, why: string, read?: UnchangedPollDetails): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.SnapshotUnchanged,
    message: `snapshot poll: ${why}`,
    nextRetryDelay: pollEveryMs,
    ...(read ? { details: [read] } : {}),
    category: ApplicationFailureCategory.BENIGN,
  });
}

/** The same failure with one more details entry (after the others: details[0] keeps its meaning). */
function withDetails(
  err: ApplicationFailure,
  extra: { sweepProgress: SweepProgress | null },
  override: { nonRetryable?: boolean } = {},
): ApplicationFailure {
  return ApplicationFailure.create({
    type: err.type ?? undefined,
    message: err.message,
    nonRetryable: override.nonRetryable ?? err.nonRetryable ?? undefined,
    nextRetryDelay: err.nextRetryDelay ?? undefined,
    details: [...(err.details ?? []), extra],
    cause: err.cause,
    category: err.category ?? undefined,
  });
}

export function dropSnapshotStateActivity() {
  /** Ends the chunk workflows of a state that is no longer current (or of a sweep abandoned mid-way). */
  return async function dropSnapshotState(input: { state: SnapshotState }): Promise<void> {
    const ctx = Context.current();
    await new SnapshotChunks(ctx.client, ctx.info.workflowExecution?.workflowId ?? '', ctx.info.taskQueue).drop(
      input.state,
      () => ctx.heartbeat(),
    );
  };
}

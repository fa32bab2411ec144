/**
 * Activity: one sweep of a snapshot endpoint (detections or threat details). Kandji returns these as current-state
 * lists, so the stream ships a row when it first appears (a detection that disappears and comes back is new again;
 * a threat is shipped again when its status changes). Rows travel straight from Kandji to Datadog inside this
 * activity. What the sweep saw is written as a new generation of state chunks (snapshot-chunks.ts) as it goes;
 * only the generation's name and size go back to the workflow, which commits it.
 *
 * A retried sweep resumes where it stopped: the heartbeat holds the paging position, how many chunks are written,
 * and the fingerprints seen since the last chunk (fewer than a chunk: under 256 KB).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import { activityLogger } from './activity-logger';
import { tenantDeps, type ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import { PULSE_MS } from './heartbeat-pulse';
import { shipRecords, type ShipBatchResult } from './ship-records';
import { SnapshotChunks } from './snapshot-chunks';
import { firstSnapshotPosition, readSnapshotPage, type SnapshotPosition } from '../src/kandji/snapshot-pages';
import {
  Fingerprint64Set,
  decodeFingerprints,
  encodeFingerprints,
  fingerprint64,
} from '../src/streams/fingerprint64-set';
import { lacksIdentity, versionKey } from '../src/streams/record-identity';
import { FailureType } from '../workflows/shared/failure-types';
import type { SnapshotStreamName } from '../workflows/shared/stream-status';
import type { SnapshotState } from '../workflows/snapshot-state';

/** Fingerprints per state chunk: 20,000 × 8 bytes is 213 KB as base64, under the 256 KB payload bound. */
export const SNAPSHOT_CHUNK_ROWS = 20_000;
/**
 * A state this small rides inline in the workflow (5.3 KB as base64) instead of in a chunk workflow: a tenant with a
 * handful of detections does not start and drop a workflow at every sweep.
 */
export const INLINE_STATE_ROWS = 500;

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

export interface SweepSnapshotStateResult extends ShipBatchResult {
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
    const tenant = tenantDeps(deps, input.tenant);
    const { kandji } = tenant;
    const ctx = Context.current();
    const chunkRows = deps.snapshotChunkRows ?? SNAPSHOT_CHUNK_ROWS;
    const chunks = new SnapshotChunks(
      ctx.client,
      ctx.info.workflowExecution?.workflowId ?? input.stream,
      ctx.info.taskQueue,
    );
    const log = activityLogger(deps, { tenant: input.tenant, stream: input.stream });

    // What this sweep resumes from: the heartbeat of an earlier attempt, else the progress an earlier activity
    // reported when its attempts ran out (carried by the workflow), else nothing.
    const resumed = resumable(ctx.info.heartbeatDetails as SweepProgress | undefined, input) ?? undefined;
    // The progress last checkpointed: heartbeated again (unchanged) while state loads, pages wait or rows ship, so a
    // dead worker is noticed within the heartbeat timeout and a live one never looks dead. Never a progress ahead of
    // what was shipped: a retry resuming from it would skip rows.
    let lastCheckpoint: SweepProgress | undefined = resumed;
    const pollStarted = (deps.now ?? Date.now)();
    // At most one heartbeat every PULSE_MS (each is a billed action): a quick sweep, the idle case, sends none.
    const now = deps.now ?? Date.now;
    let lastBeat = now();
    let lastProgressBeat = lastBeat;
    const beat = () => {
      lastBeat = now();
      ctx.heartbeat(lastCheckpoint);
    };
    const keepAlive = () => {
      if (now() - lastBeat >= PULSE_MS) beat();
    };
    /** After a new checkpoint: heartbeats it if the last one heartbeated is PULSE_MS old (a keep-alive may be newer). */
    const keepProgress = () => {
      if (now() - lastProgressBeat < PULSE_MS) return;
      lastProgressBeat = now();
      beat();
    };

    const polling = input.pollEveryMs !== undefined;
    // Poll mode: the first attempt is the wait before the first poll.
    if (polling && ctx.info.attempt === 1) throw unchangedFailure(input.pollEveryMs!, 'first poll after the interval');
    let result: SweepSnapshotStateResult;
    try {
      result = await withTypedFailures(sweepOnce, ctx.info.attempt);
    } catch (err) {
      const last = ctx.info.attempt >= (input.lastAttempt ?? Infinity);
      if (polling && !(err instanceof ApplicationFailure) && !(err instanceof CancelledFailure)) {
        // A poll's failure goes to the workflow, whatever it is: the poll's retry policy only polls.
        const error = err instanceof Error ? err : new Error(String(err));
        throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true, cause: error });
      }
      if (!(err instanceof ApplicationFailure) || !(last || polling || err.nonRetryable)) throw err;
      const sweepProgress = await reportable(lastCheckpoint).catch(() => null);
      throw withDetails(err, { sweepProgress }, polling ? { nonRetryable: true } : {});
    }
    if (polling && result.unchanged) {
      // The stream's lag gauge counts from its last poll: this one, though nothing reached the workflow.
      deps.sightings?.record(ctx.info.workflowExecution?.workflowId ?? '', new Date(pollStarted).toISOString());
      throw unchangedFailure(input.pollEveryMs!, 'nothing changed', { rows: result.rows, pages: result.pages });
    }
    return result;

    /** The last checkpoint with its pending rows written as a chunk, so that it is small enough to carry. */
    async function reportable(at: SweepProgress | undefined): Promise<SweepProgress | null> {
      if (!at || at.done) return null;
      const pending = [...decodeFingerprints(at.pending)];
      if (pending.length === 0) return at;
      await chunks.write(input.generation, at.chunksWritten, pending);
      return { ...at, chunksWritten: at.chunksWritten + 1, pending: '' };
    }

    async function sweepOnce(): Promise<SweepSnapshotStateResult> {
      // What the last complete sweep saw.
      const previous = new Fingerprint64Set(input.previous?.rows ?? 0);
      if (input.previous?.inline) for (const fp of decodeFingerprints(input.previous.inline)) previous.add(fp);
      if (input.previous)
        for await (const part of chunks.readAll(input.previous, keepAlive)) for (const fp of part) previous.add(fp);
      // Shipped by a sweep still waiting for confirmation: not shipped again, not counted as previous rows.
      const unconfirmed = new Fingerprint64Set(input.unconfirmed?.rows ?? 0);
      if (input.unconfirmed)
        for await (const part of chunks.readAll(input.unconfirmed, keepAlive))
          for (const fp of part) unconfirmed.add(fp);

      // What this sweep has seen so far: the chunks written by earlier attempts, then the heartbeat's pending part.
      const sweep: SweepProgress = resumed
        ? structuredClone(resumed)
        : {
            position: firstSnapshotPosition(input.stream, tenant.behavioralWindowDays, deps.now?.() ?? Date.now()),
            done: false,
            chunksWritten: 0,
            pending: '',
            rows: 0,
            fresh: 0,
            pages: 0,
            matched: 0,
            ship: { shipped: 0, batches: 0, deadLettered: 0, trimmed: 0, stale: 0 },
          };
      const current = new Fingerprint64Set(Math.max(previous.size, 1024));
      for (let i = 0; i < sweep.chunksWritten; i++) {
        for (const fp of await chunks.read(input.generation, i)) current.add(fp);
        keepAlive();
      }
      let pending: bigint[] = [...decodeFingerprints(sweep.pending)];
      for (const fp of pending) current.add(fp);
      for (const fp of decodeFingerprints(sweep.inline ?? '')) current.add(fp);
      /** This complete sweep saw exactly the rows of the committed state (so writing it again would change nothing). */
      const sameAsPrevious = () =>
        input.acceptUnchanged === true &&
        input.previous !== null &&
        !input.reship &&
        sweep.fresh === 0 &&
        sweep.matched === previous.size &&
        current.size === previous.size;
      let unchanged = false;
      const deadLetters: ShipBatchResult['deadLetters'] = [];
      let stalePolicy: ShipBatchResult['stale']['policy'] = deps.stalePolicy ?? 'ship';
      const checkpoint = () => {
        lastCheckpoint = { ...sweep, pending: encodeFingerprints(pending), ship: { ...sweep.ship } };
        keepProgress();
      };

      /** Ships the rows of one page not seen before; remembers every row of the page. */
      const shipUnseen = async (rows: Record<string, unknown>[]) => {
        const fresh: Record<string, unknown>[] = [];
        for (const row of rows) {
          const fp = fingerprint64(versionKey(input.stream, row));
          if (!current.add(fp)) continue; // re-read (threat page overlap) or a repeat inside the sweep
          pending.push(fp);
          if (previous.has(fp) && !input.reship) sweep.matched += 1;
          else if (!unconfirmed.has(fp) || input.reship) {
            fresh.push(row);
            if (lacksIdentity(input.stream, row)) sweep.withoutIdentity = (sweep.withoutIdentity ?? 0) + 1;
          }
        }
        sweep.rows += rows.length;
        if (fresh.length === 0) return;
        const shipped = await shipRecords(
          deps,
          { tenant: input.tenant, stream: input.stream, records: fresh },
          // Bisecting a refused batch can take many requests: heartbeat (the last checkpoint) after each.
          { signal: ctx.cancellationSignal, onBatchDone: keepAlive },
        );
        sweep.fresh += fresh.length;
        sweep.ship.shipped += shipped.shipped;
        sweep.ship.batches += shipped.batches;
        sweep.ship.deadLettered += shipped.deadLettered;
        sweep.ship.trimmed += shipped.trimmed;
        sweep.ship.stale += shipped.stale.count;
        if (deadLetters.length < 20) deadLetters.push(...shipped.deadLetters.slice(0, 20 - deadLetters.length));
        stalePolicy = shipped.stale.policy;
      };
      /** Writes full chunks out of `pending`; `all` also writes the last, partial one (unless nothing changed). */
      const flush = async (all: boolean) => {
        if (all && sameAsPrevious()) {
          unchanged = true;
          return;
        }
        if (all && sweep.chunksWritten === 0 && pending.length <= INLINE_STATE_ROWS) {
          sweep.inline = encodeFingerprints(pending);
          pending = [];
          return;
        }
        while (pending.length >= chunkRows || (all && pending.length > 0)) {
          await chunks.write(input.generation, sweep.chunksWritten, pending.slice(0, chunkRows));
          sweep.chunksWritten += 1;
          pending = pending.slice(chunkRows);
        }
      };

      while (!sweep.done) {
        const page = await readSnapshotPage(kandji, input.stream, sweep.position, sweep.pages, {
          signal: ctx.cancellationSignal,
          keepAlive,
        });
        await shipUnseen(page.rows);
        sweep.position = page.next;
        sweep.done = page.done;
        sweep.pages += 1;
        await flush(sweep.done);
        checkpoint();
      }

      // Also when resumed from the heartbeat of an attempt that completed the sweep (its pending rows unwritten).
      unchanged = sameAsPrevious();
      const gone = previous.size - sweep.matched;
      if (unchanged && sweep.chunksWritten > 0) {
        // Full chunks written on the way (a state over a chunk): the committed state already holds these rows.
        await chunks.drop({ generation: input.generation, chunks: sweep.chunksWritten, rows: 0 }, keepAlive);
      }
      // A caught-up stream polls unchanged every interval: that is not news for the log (its count is a metric).
      log[unchanged ? 'debug' : 'info'](
        {
          rows: sweep.rows,
          fresh: sweep.fresh,
          gone,
          pages: sweep.pages,
          known: current.size,
          chunks: sweep.chunksWritten,
          unchanged,
        },
        'sweep complete',
      );
      const committed = input.previous;
      return {
        state:
          unchanged && committed
            ? { generation: committed.generation, chunks: committed.chunks, rows: committed.rows }
            : {
                generation: input.generation,
                chunks: sweep.chunksWritten,
                rows: current.size,
                ...(sweep.inline !== undefined ? { inline: sweep.inline } : {}),
              },
        ...(unchanged ? { unchanged: true } : {}),
        rows: sweep.rows,
        fresh: sweep.fresh,
        gone: input.reship ? 0 : gone,
        known: current.size,
        pages: sweep.pages,
        previousRows: previous.size,
        withoutIdentity: sweep.withoutIdentity ?? 0,
        shipped: sweep.ship.shipped,
        batches: sweep.ship.batches,
        deadLetters,
        deadLettered: sweep.ship.deadLettered,
        trimmed: sweep.ship.trimmed,
        stale: { count: sweep.ship.stale, policy: stalePolicy },
      };
    }
  };
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

/**
 * A snapshot stream: Kandji endpoints that list current state rather than events — vulnerability detections
 * (`service:detection`) and EDR threat details (`service:threat`). Each poll sweeps the whole list; rows not seen
 * in the previous sweep are shipped (for threats, also rows whose status changed). What the last sweep saw is kept
 * in chunks outside this workflow (snapshot-state.ts); this workflow keeps only which generation is current.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  uuid4,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { activityRetry } from './activity-retry';
import { installBackfillHandlers } from './backfills';
import type { SnapshotStreamInput } from './shared/stream-input';
import type { StreamStatus } from './shared/stream-status';
import { recordShipment } from './shipment';
import type { SnapshotState } from './snapshot-state';
import { legacySnapshotLoop } from './snapshot-stream-legacy';
import { createStreamRuntime, type StreamRuntime } from './stream-runtime';

/** Marks runs of 0.3 and later: state in chunks, any fleet size. */
export const STATE_IN_CHUNKS = 'snapshot-state-in-chunks';
/** Marks runs that hold a suspiciously small sweep until the next one confirms it (instead of committing it). */
export const CONFIRM_SHORT_SWEEPS = 'snapshot-confirm-short-sweeps';

/**
 * A sweep that sees less than this fraction of the committed state's rows (when that state holds at least
 * SHORT_SWEEP_MIN_ROWS) is not committed until the next sweep agrees with it: a transient empty or short answer from
 * Kandji would otherwise replace the state, and every row it forgot would be shipped again by the sweep after.
 */
export const SHORT_SWEEP_FRACTION = 0.5;
export const SHORT_SWEEP_MIN_ROWS = 100;
/** Two sweeps agree when their sizes differ by at most this fraction of the larger (or SWEEPS_AGREE_ROWS rows). */
export const SWEEPS_AGREE_FRACTION = 0.1;
export const SWEEPS_AGREE_ROWS = 10;
/** How soon a short sweep is checked by another one (or the poll interval, when shorter). */
export const CONFIRM_SWEEP_DELAY_MS = 60_000;

/** Whether a sweep of `known` rows is suspiciously small next to a committed state of `previousRows`. */
export function isShortSweep(known: number, previousRows: number): boolean {
  return previousRows >= SHORT_SWEEP_MIN_ROWS && known < previousRows * SHORT_SWEEP_FRACTION;
}

/** Whether two sweeps saw about as many rows. */
export function sweepsAgree(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(SWEEPS_AGREE_ROWS, SWEEPS_AGREE_FRACTION * Math.max(a, b));
}

export interface SnapshotStreamResult {
  status: StreamStatus;
  /** 0.2 runs: the fingerprints themselves; '' from 0.3 on. */
  seen: string;
  /** 0.3 and later: the committed state. */
  state?: SnapshotState | null;
}

export async function snapshotStream(input: SnapshotStreamInput): Promise<SnapshotStreamResult> {
  const runtime = createStreamRuntime(input.tenant, input.stream, input.cursor, input.timings, input.carried);
  const { status } = runtime;
  // A current-state list has no past to re-read: a backfill re-ships the current snapshot with the next sweep.
  let wake = false;
  // Re-ships requested of an earlier run and not done yet. Runs continued by earlier versions did not carry them:
  // their running snapshot backfills (which have no workflow of their own) are exactly those.
  const carriedReships =
    input.reship ??
    (input.carried?.backfills ?? []).filter((b) => b.state === 'running' && !b.workflowId).map((b) => b.id);
  const backfills = { pending: [...carriedReships], woken: () => wake, sleep: () => (wake = false) };
  installBackfillHandlers(runtime, {
    start: (info) => {
      backfills.pending.push(info.id);
      wake = true;
      return undefined;
    },
  });

  status.state = 'running';
  let result: SnapshotStreamResult;
  if (patched(STATE_IN_CHUNKS)) {
    const state = await sweepLoop(input, runtime, backfills);
    result = { status, seen: '', state };
  } else {
    const seen = await legacySnapshotLoop(input, runtime, backfills, async (s) => {
      await condition(allHandlersFinished);
      return continueAsNew<typeof snapshotStream>({
        ...input,
        seen: s,
        cursor: status.cursor as SnapshotStreamInput['cursor'],
        carried: runtime.carried(),
        reship: [...backfills.pending],
      });
    });
    result = { status, seen };
  }
  status.state = 'stopped';
  await condition(allHandlersFinished);
  return result;
}

async function sweepLoop(
  input: SnapshotStreamInput,
  runtime: StreamRuntime,
  backfills: { pending: string[]; woken(): boolean; sleep(): void },
): Promise<SnapshotState | null> {
  const now = () => new Date().toISOString();
  const { status } = runtime;
  const { sweepSnapshotState } = proxyActivities<Activities>({
    // A sweep of a large tenant reads thousands of pages under the request budget.
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '1 minute',
    retry: activityRetry(input.timings.fetchAttempts ?? 10),
  });
  const { dropSnapshotState } = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    retry: activityRetry(10),
  });
  const drop = async (old: SnapshotState, what: string) => {
    if (old.chunks === 0) return; // an inline state has no chunk workflows
    await dropSnapshotState({ state: old }).catch((err: unknown) =>
      log.warn(`${what} snapshot state not dropped`, { error: String(err) }),
    );
  };
  let state: SnapshotState | null = input.state ?? null;
  let legacySeen = input.seen || undefined;
  // A short sweep waiting for the next one to confirm it (its rows were shipped; it is not the state).
  let unconfirmed = input.unconfirmed ?? null;
  // Re-ships taken by the sweep in flight: a failing sweep that continues as new carries them too.
  let inFlight: string[] = [];
  const continueWith = () =>
    continueAsNew<typeof snapshotStream>({
      ...input,
      seen: legacySeen ?? '',
      state,
      cursor: status.cursor as SnapshotStreamInput['cursor'],
      carried: runtime.carried(),
      reship: [...inFlight, ...backfills.pending],
      unconfirmed,
    });
  // A failing sweep continues as new too, with the committed state.
  runtime.setContinueAsNew(continueWith);

  while (await runtime.nextRound()) {
    const startedAt = now();
    const reship = backfills.pending.splice(0);
    inFlight = reship;
    const generation = `${status.counts.sweeps + 1}-${uuid4().slice(0, 8)}`;
    const sweep = await runtime.untilDone('sweep', () =>
      sweepSnapshotState({
        tenant: input.tenant,
        stream: input.stream,
        previous: state,
        legacySeen,
        generation,
        reship: reship.length > 0,
        ...(unconfirmed ? { unconfirmed: unconfirmed.state } : {}),
      }),
    );
    if (!sweep) {
      backfills.pending.unshift(...reship);
      break;
    }
    inFlight = [];
    /** Counts the sweep in status: once the generations it replaces are dropped (a status shows no stale work). */
    const recordSweep = () => {
      status.lastPollAt = startedAt;
      status.counts.pages += sweep.pages;
      status.counts.fetched += sweep.fresh;
      status.counts.sweeps += 1;
      if (sweep.withoutIdentity > 0)
        status.counts.shippedWithoutIdentity = (status.counts.shippedWithoutIdentity ?? 0) + sweep.withoutIdentity;
      recordShipment(status, sweep);
    };

    // A sweep that saw a small fraction of the state is committed only once the next sweep agrees with it (the
    // patch keeps replays of earlier runs, which committed every sweep, as they were).
    const short = isShortSweep(sweep.known, sweep.previousRows);
    const confirming = (short || unconfirmed !== null) && patched(CONFIRM_SHORT_SWEEPS);
    if (confirming && short && !(unconfirmed && sweepsAgree(sweep.known, unconfirmed.known))) {
      // Not committed: the state stays; this sweep's generation is held (what it shipped is not shipped again) in
      // place of any earlier short one, and the next sweep comes soon. Its re-ships are done again by that sweep.
      const replaced = unconfirmed;
      unconfirmed = { state: sweep.state, known: sweep.known };
      if (replaced) await drop(replaced.state, 'unconfirmed');
      recordSweep();
      status.counts.unconfirmedSweeps = (status.counts.unconfirmedSweeps ?? 0) + 1;
      backfills.pending.unshift(...reship);
      log.warn('sweep saw a small fraction of the last one; not committed until the next sweep confirms it', {
        stream: input.stream,
        known: sweep.known,
        previousRows: sweep.previousRows,
      });
      status.state = 'running';
      await condition(
        () => runtime.stopRequested() || status.paused === true,
        Math.min(input.timings.pollIntervalMs, CONFIRM_SWEEP_DELAY_MS),
      );
      continue;
    }
    // Commit: from here on the new generation is the state; the old one (and a held short sweep) is dropped.
    const old = state;
    state = sweep.state;
    legacySeen = undefined;
    if (old) await drop(old, 'old');
    if (confirming && unconfirmed) {
      const held = unconfirmed;
      unconfirmed = null;
      await drop(held.state, 'unconfirmed');
    }
    for (const b of status.backfills ?? []) {
      if (reship.includes(b.id) && b.state === 'running')
        Object.assign(b, { state: 'done', shipped: sweep.shipped, finishedAt: now() });
    }
    recordSweep();
    // The committed state rides in status too: a later start reads it back even from a terminated run.
    status.cursor = { since: startedAt, known: sweep.known, state };
    status.counts.gone += sweep.gone;

    status.state = 'caught_up';
    status.caughtUpAt = now();
    backfills.sleep();
    await condition(
      () => backfills.woken() || runtime.stopRequested() || status.paused === true,
      input.timings.pollIntervalMs,
    );
    if (!runtime.stopRequested()) status.state = 'running';
  }
  // A short sweep still held when the stream stops is dropped: it was never the state.
  if (unconfirmed) await drop(unconfirmed.state, 'unconfirmed');
  return state;
}

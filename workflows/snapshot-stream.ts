/**
 * A snapshot stream: Kandji endpoints that list current state rather than events — vulnerability detections
 * (`service:detection`) and EDR threat details (`service:threat`). Each poll sweeps the whole list; rows not seen
 * in the previous sweep are shipped (for threats, also rows whose status changed). What the last sweep saw is kept
 * in chunks outside this workflow (snapshot-state.ts); this workflow keeps only which generation is current.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  continueAsNew,
  deprecatePatch,
  log,
  patched,
  proxyActivities,
  setHandler,
  uuid4,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { activityRetry } from './activity-retry';
import { installBackfillHandlers } from './backfills';
import type { SweepProgress, SweepProgressDetails } from '../activities/sweep-snapshot-state';
import { resetStateUpdate } from './shared/messages';
import type { SnapshotStreamInput } from './shared/stream-input';
import type { StreamStatus } from './shared/stream-status';
import { nowIso } from './shared/timestamps';
import { recordShipment } from './shipment';
import type { SnapshotState } from './snapshot-state';
import { createStreamRuntime, type StreamRuntime } from './stream-runtime';
import { raceWake } from './wake-race';

/**
 * Marks runs of 0.3 and later: state in chunks, any fleet size. Every supported run has it: deprecatePatch, which
 * stays while runs of 0.3 to 0.5 (they carry the plain marker) may be left (docs/versions.md).
 */
export const STATE_IN_CHUNKS = 'snapshot-state-in-chunks';
/** Marks runs that hold a suspiciously small sweep until the next one confirms it (instead of committing it). */
export const CONFIRM_SHORT_SWEEPS = 'snapshot-confirm-short-sweeps';
/**
 * Marks runs that commit the new state in status before dropping the old, drop beside the sweeps (heartbeating),
 * carry a failing sweep's progress, and drop what a stopped or cancelled sweep wrote.
 */
export const STATE_HYGIENE = 'snapshot-state-hygiene';
/**
 * Marks runs whose caught-up stream polls by its sweep activity's retry policy (sweepSnapshotState's poll mode): an
 * idle poll is one activity attempt, no timer, no history, no workflow task.
 */
export const POLLS_BY_RETRY = 'snapshot-polls-by-retry';

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
  /** The committed state. */
  state: SnapshotState | null;
}

export async function snapshotStream(input: SnapshotStreamInput): Promise<SnapshotStreamResult> {
  const runtime = createStreamRuntime(input.tenant, input.stream, input.cursor, input.timings, input.carried);
  const { status } = runtime;
  // A current-state list has no past to re-read: a backfill re-ships the current snapshot with the next sweep.
  let wake = false;
  // Re-ships requested of an earlier run and not done yet.
  const backfills = { pending: [...(input.reship ?? [])], woken: () => wake, sleep: () => (wake = false) };
  installBackfillHandlers(runtime, {
    start: (info) => {
      backfills.pending.push(info.id);
      wake = true;
      return undefined;
    },
  });

  status.state = 'running';
  deprecatePatch(STATE_IN_CHUNKS);
  const state = await sweepLoop(input, runtime, backfills);
  status.state = 'stopped';
  await condition(allHandlersFinished);
  return { status, state };
}

async function sweepLoop(
  input: SnapshotStreamInput,
  runtime: StreamRuntime,
  backfills: { pending: string[]; woken(): boolean; sleep(): void },
): Promise<SnapshotState | null> {
  const now = nowIso;
  const { status } = runtime;
  // Runs from here on: the state is committed in status before the old one is dropped, drops run beside the sweeps
  // (heartbeating), a failing sweep's progress is carried to the next activity and across continue-as-new, and a
  // sweep abandoned (stop, cancel) has its chunks ended. The patch keeps replays of earlier runs as they were.
  const hygiene = patched(STATE_HYGIENE);
  const fetchAttempts = input.timings.fetchAttempts ?? 10;
  const { sweepSnapshotState } = proxyActivities<Activities>({
    // A sweep of a large tenant reads thousands of pages under the request budget; it heartbeats all along.
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '1 minute',
    retry: activityRetry(fetchAttempts),
  });
  const { dropSnapshotState } = proxyActivities<Activities>(
    hygiene
      ? // Heartbeats after each chunk: a worker that dies holding it is noticed within a minute.
        { startToCloseTimeout: '10 minutes', heartbeatTimeout: '1 minute', retry: activityRetry(10) }
      : { startToCloseTimeout: '10 minutes', retry: activityRetry(10) },
  );
  const drops = hygiene ? new BackgroundDrops(input.drops ?? [], dropSnapshotState) : null;
  const pollsByRetry = hygiene && patched(POLLS_BY_RETRY);
  const pollMs = input.timings.pollIntervalMs;
  const { sweepSnapshotState: pollSnapshot } = proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '1 minute',
    // The retry policy is the poll: the activity asks for each retry after pollMs (nextRetryDelay), for as long as
    // nothing changes; it completes on a change and fails non-retryably on anything else.
    retry: { initialInterval: pollMs, backoffCoefficient: 1, maximumInterval: pollMs, maximumAttempts: Infinity },
  });
  // The next round's sweep is a poll (the stream is caught up and nothing woke it).
  let pollNext = false;
  /**
   * Runs a poll until it completes (a sweep that changed something), fails (handed to the usual sweep), or something
   * wakes the stream (cancelled then: a poll in its retry wait ends at once; one sweeping is waited for, and a change
   * it made is kept).
   */
  const pollUntilChanged = async (poll: () => Promise<SweepResult>): Promise<PollOutcome> => {
    const intervalGiven = input.timings.pollIntervalMs;
    const { woken, end } = await raceWake(
      poll,
      () =>
        backfills.woken() ||
        reset ||
        runtime.stopRequested() ||
        status.paused === true ||
        input.timings.pollIntervalMs !== intervalGiven,
      () => runtime.publishGauges(),
    );
    // A change the poll made before it heard of the cancellation is kept; any other end is the wake-up's.
    if ('result' in end) return { result: end.result };
    return woken || isCancellation(end.failure) ? { woken: true } : { failure: end.failure };
  };

  const drop = async (old: SnapshotState, what: string) => {
    if (old.chunks === 0) return; // an inline state has no chunk workflows
    if (drops) return drops.add(old);
    await dropSnapshotState({ state: old }).catch((err: unknown) =>
      log.warn(`${what} snapshot state not dropped`, { error: String(err) }),
    );
  };
  let state: SnapshotState | null = input.state ?? null;
  // A short sweep waiting for the next one to confirm it (its rows were shipped; it is not the state).
  let unconfirmed = input.unconfirmed ?? null;
  // Re-ships taken by the sweep in flight: a failing sweep that continues as new carries them too.
  let inFlight: string[] = [];
  // The sweep in flight (its generation, and the progress its last failed activity reported), while it runs.
  let sweeping: NonNullable<SnapshotStreamInput['sweep']> | null = hygiene ? (input.sweep ?? null) : null;
  const continueWith = () =>
    continueAsNew<typeof snapshotStream>({
      ...input,
      state,
      cursor: status.cursor as SnapshotStreamInput['cursor'],
      carried: runtime.carried(),
      reship: [...inFlight, ...backfills.pending],
      unconfirmed,
      ...(drops ? { drops: drops.pending(), sweep: sweeping } : {}),
    });
  // A failing sweep continues as new too, with the committed state.
  runtime.setContinueAsNew(continueWith);
  // An operator's reset: forget the state (its chunks are dropped); the next sweep starts at once.
  let reset = false;
  setHandler(resetStateUpdate, () => {
    const forgotten = state?.rows ?? 0;
    reset = true;
    return { forgotten };
  });
  const applyReset = async () => {
    if (!reset) return;
    reset = false;
    log.warn('snapshot state reset by an operator: the next sweep ships every current row', { stream: input.stream });
    if (state) await drop(state, 'reset');
    if (unconfirmed) await drop(unconfirmed.state, 'unconfirmed');
    state = null;
    unconfirmed = null;
    status.cursor = { ...(status.cursor as SnapshotStreamInput['cursor']), known: 0, state: null };
  };

  try {
    while (await runtime.nextRound()) {
      await applyReset();
      drops?.retryFailed();
      const startedAt = now();
      const reship = backfills.pending.splice(0);
      inFlight = reship;
      const generation = sweeping?.generation ?? `${status.counts.sweeps + 1}-${uuid4().slice(0, 8)}`;
      if (hygiene) sweeping = { generation, progress: sweeping?.progress ?? null };
      const sweepInput = () => ({
        tenant: input.tenant,
        stream: input.stream,
        previous: state,
        generation,
        reship: reship.length > 0,
        acceptUnchanged: true,
        ...(unconfirmed ? { unconfirmed: unconfirmed.state } : {}),
        ...(sweeping ? { resume: sweeping.progress, lastAttempt: fetchAttempts } : {}),
      });
      let polled: PollOutcome | undefined;
      if (pollNext && reship.length === 0) {
        polled = await pollUntilChanged(() => pollSnapshot({ ...sweepInput(), pollEveryMs: pollMs }));
        if (polled.failure && sweeping) sweeping.progress = reportedProgress(polled.failure) ?? sweeping.progress;
        if (polled.failure)
          log.info('snapshot poll failed; sweeping with the usual retries', { error: String(polled.failure) });
      }
      pollNext = false;
      if (polled?.woken) {
        // Woken (a backfill, a reset, pause, stop, a new poll interval) while waiting: the next round sweeps at once.
        backfills.pending.unshift(...reship);
        inFlight = [];
        continue;
      }
      const sweep =
        polled?.result ??
        (await runtime.untilDone('sweep', async () => {
          try {
            return await sweepSnapshotState(sweepInput());
          } catch (err) {
            // The progress its last attempt reported: the next activity of this sweep resumes there.
            if (sweeping) sweeping.progress = reportedProgress(err) ?? sweeping.progress;
            throw err;
          }
        }));
      if (!sweep) {
        backfills.pending.unshift(...reship);
        // Stopped mid-sweep: what it wrote is no one's state.
        if (sweeping) await drop(abandoned(sweeping), 'abandoned');
        sweeping = null;
        break;
      }
      sweeping = null;
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
      // Commit: from here on the new generation is the state; the old one (and a held short sweep) is dropped. A
      // sweep that saw the state unchanged wrote nothing: the state stays as it is (with its inline rows).
      const old = sweep.unchanged ? null : state;
      if (!sweep.unchanged) state = sweep.state;
      const held = confirming ? unconfirmed : null;
      if (held) unconfirmed = null;
      const commit = () => {
        for (const b of status.backfills ?? []) {
          if (reship.includes(b.id) && b.state === 'running')
            Object.assign(b, { state: 'done', shipped: sweep.shipped, finishedAt: now() });
        }
        recordSweep();
        // The committed state rides in status too: a later start reads it back even from a terminated run.
        status.cursor = { since: startedAt, known: sweep.known, state };
        status.counts.gone += sweep.gone;
      };
      // From this version on the new state is in status before the old one is dropped: a run terminated between
      // the two leaves a status that names the state it had, never one already dropped.
      if (hygiene) commit();
      if (old) await drop(old, 'old');
      if (held) await drop(held.state, 'unconfirmed');
      if (!hygiene) commit();

      status.state = 'caught_up';
      status.caughtUpAt = now();
      backfills.sleep();
      runtime.publishGauges();
      if (pollsByRetry) {
        pollNext = true;
        continue;
      }
      await condition(
        () => backfills.woken() || reset || runtime.stopRequested() || status.paused === true,
        input.timings.pollIntervalMs,
      );
      if (!runtime.stopRequested()) status.state = 'running';
    }
    // A short sweep still held when the stream stops is dropped: it was never the state.
    if (unconfirmed) await drop(unconfirmed.state, 'unconfirmed');
    await drops?.finish();
  } catch (err) {
    // Cancelled: what is no one's state any more (a sweep in flight, a held short sweep, pending drops) is dropped
    // first. The committed state stays (status names it) for a later start.
    if (!drops || !isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(async () => {
      if (sweeping) await drop(abandoned(sweeping), 'abandoned');
      if (unconfirmed) await drop(unconfirmed.state, 'unconfirmed');
      await drops.finish();
    });
    throw err;
  }
  return state;
}

type SweepResult = Awaited<ReturnType<Activities['sweepSnapshotState']>>;

/** How a poll ended: a changed sweep, a failure (the usual sweep takes over), or woken by an operator or a backfill. */
interface PollOutcome {
  result?: SweepResult;
  failure?: unknown;
  woken?: boolean;
}

/** The chunks a sweep abandoned mid-way may have written: as many as it reported, and any past them. */
function abandoned(sweep: NonNullable<SnapshotStreamInput['sweep']>): SnapshotState {
  return { generation: sweep.generation, chunks: Math.max(1, sweep.progress?.chunksWritten ?? 0), rows: 0 };
}

/** The progress a failed sweep activity reported (SweepProgressDetails), if any. */
function reportedProgress(err: unknown): SweepProgress | undefined {
  const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
  for (const d of failure?.details ?? []) {
    if (d && typeof d === 'object' && 'sweepProgress' in d)
      return (d as SweepProgressDetails).sweepProgress ?? undefined;
  }
  return undefined;
}

/**
 * Drops of generations no longer current, run beside the sweeps: a drop never holds the next sweep. One that fails
 * (its retries spent) is tried again at the next round; those not done are carried across continue-as-new.
 */
class BackgroundDrops {
  private readonly running = new Map<string, Promise<void>>();
  private readonly failed = new Map<string, SnapshotState>();
  private readonly states = new Map<string, SnapshotState>();

  constructor(
    carried: SnapshotState[],
    private readonly dropActivity: (input: { state: SnapshotState }) => Promise<void>,
  ) {
    for (const s of carried) this.add(s);
  }

  add(state: SnapshotState): void {
    if (this.running.has(state.generation)) return;
    this.states.set(state.generation, state);
    this.failed.delete(state.generation);
    const run = this.dropActivity({ state }).then(
      () => {
        this.states.delete(state.generation);
      },
      (err: unknown) => {
        log.warn('snapshot state not dropped; tried again at the next sweep', {
          generation: state.generation,
          error: String(err),
        });
        this.failed.set(state.generation, state);
      },
    );
    this.running.set(
      state.generation,
      run.finally(() => this.running.delete(state.generation)),
    );
  }

  retryFailed(): void {
    for (const s of [...this.failed.values()]) this.add(s);
  }

  /** Generations not dropped yet (running or failed): carried across continue-as-new. */
  pending(): SnapshotState[] {
    return [...this.states.values()];
  }

  /** Waits for the drops running, then tries those that failed (e.g. cancelled with the workflow) once more. */
  async finish(): Promise<void> {
    await Promise.all(this.running.values());
    this.retryFailed();
    await Promise.all(this.running.values());
  }
}

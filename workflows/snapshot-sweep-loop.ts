/**
 * A snapshot stream's loop over sweeps, one round at a time: sweep the whole list (or, caught up, poll until it
 * changed), hold a suspiciously short sweep until the next one confirms it, commit the new generation in status,
 * drop the old one beside the sweeps, and poll again. An operator's reset or backfill takes effect between rounds.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  uuid4,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { activityRetry } from './activity-retry';
import { BackgroundDrops } from './background-drops';
import type { SweepProgress, SweepProgressDetails } from '../activities/sweep-snapshot-state';
import { resetStateUpdate } from './shared/messages';
import type { SnapshotStreamInput } from './shared/stream-input';
import { nowIso } from './shared/timestamps';
import { recordShipment } from './shipment';
import type { SnapshotState } from './snapshot-state';
import type { StreamRuntime } from './stream-runtime';
import { raceWake } from './wake-race';

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

/** Re-ships (backfills) waiting for a sweep; `woken` when one arrived since the stream was last caught up. */
export interface SnapshotBackfills {
  pending: string[];
  woken(): boolean;
  sleep(): void;
}

type SweepResult = Awaited<ReturnType<Activities['sweepSnapshotState']>>;
type SweepInFlight = NonNullable<SnapshotStreamInput['sweep']>;

/** How a poll ended: a changed sweep, a failure (the usual sweep takes over), or woken by an operator or a backfill. */
interface PollOutcome {
  result?: SweepResult;
  failure?: unknown;
  woken?: boolean;
}

/** One round's sweep: its generation, the re-ships it takes, and when it started. */
interface Round {
  generation: string;
  reship: string[];
  startedAt: string;
}

const STOP = 'stop';
const WOKEN = 'woken';

export class SnapshotSweepLoop {
  private state: SnapshotState | null;
  /** A short sweep waiting for the next one to confirm it (its rows were shipped; it is not the state). */
  private unconfirmed: { state: SnapshotState; known: number } | null;
  /** Re-ships taken by the sweep in flight: a failing sweep that continues as new carries them too. */
  private inFlight: string[] = [];
  /** The sweep in flight (its generation, and the progress its last failed activity reported), while it runs. */
  private sweeping: SweepInFlight | null;
  /** An operator's reset: forget the state (its chunks are dropped); the next sweep starts at once. */
  private reset = false;
  /** The next round's sweep is a poll (the stream is caught up and nothing woke it). */
  private pollNext = false;
  private readonly hygiene: boolean;
  private readonly pollsByRetry: boolean;
  private readonly fetchAttempts: number;
  private readonly drops: BackgroundDrops | null;
  private readonly activities: ReturnType<typeof sweepActivities>;

  constructor(
    private readonly input: SnapshotStreamInput,
    private readonly runtime: StreamRuntime,
    private readonly backfills: SnapshotBackfills,
  ) {
    // Runs from here on: the state is committed in status before the old one is dropped, drops run beside the
    // sweeps (heartbeating), a failing sweep's progress is carried to the next activity and across continue-as-new,
    // and a sweep abandoned (stop, cancel) has its chunks ended. The patch keeps replays of earlier runs as they were.
    this.hygiene = patched(STATE_HYGIENE);
    this.fetchAttempts = input.timings.fetchAttempts ?? 10;
    this.activities = sweepActivities(input, this.hygiene, this.fetchAttempts);
    this.drops = this.hygiene ? new BackgroundDrops(input.drops ?? [], this.activities.dropSnapshotState) : null;
    this.pollsByRetry = this.hygiene && patched(POLLS_BY_RETRY);
    this.state = input.state ?? null;
    this.unconfirmed = input.unconfirmed ?? null;
    this.sweeping = this.hygiene ? (input.sweep ?? null) : null;
    // A failing sweep continues as new too, with the committed state.
    runtime.setContinueAsNew(() => this.continueAsNew());
    setHandler(resetStateUpdate, () => {
      const forgotten = this.state?.rows ?? 0;
      this.reset = true;
      return { forgotten };
    });
  }

  /** Runs until stopped; returns the committed state. */
  async run(): Promise<SnapshotState | null> {
    try {
      while (await this.runtime.nextRound()) if ((await this.round()) === STOP) break;
      // A short sweep still held when the stream stops is dropped: it was never the state.
      if (this.unconfirmed) await this.drop(this.unconfirmed.state, 'unconfirmed');
      await this.drops?.finish();
    } catch (err) {
      // Cancelled: what is no one's state any more (a sweep in flight, a held short sweep, pending drops) is
      // dropped first. The committed state stays (status names it) for a later start.
      const { drops } = this;
      if (!drops || !isCancellation(err)) throw err;
      await CancellationScope.nonCancellable(async () => {
        if (this.sweeping) await this.drop(abandoned(this.sweeping), 'abandoned');
        if (this.unconfirmed) await this.drop(this.unconfirmed.state, 'unconfirmed');
        await drops.finish();
      });
      throw err;
    }
    return this.state;
  }

  private continueAsNew(): Promise<never> {
    const { input, drops } = this;
    return continueAsNew<(input: SnapshotStreamInput) => Promise<unknown>>({
      ...input,
      state: this.state,
      cursor: this.runtime.status.cursor as SnapshotStreamInput['cursor'],
      carried: this.runtime.carried(),
      reship: [...this.inFlight, ...this.backfills.pending],
      unconfirmed: this.unconfirmed,
      ...(drops ? { drops: drops.pending(), sweep: this.sweeping } : {}),
    });
  }

  private async round(): Promise<typeof STOP | undefined> {
    await this.applyReset();
    this.drops?.retryFailed();
    const round = this.startRound();
    const sweep = await this.sweepOrPoll(round);
    if (sweep === WOKEN || !sweep) {
      this.backfills.pending.unshift(...round.reship);
      this.inFlight = [];
      if (sweep === WOKEN) return undefined; // the next round sweeps at once
      // Stopped mid-sweep: what it wrote is no one's state.
      if (this.sweeping) await this.drop(abandoned(this.sweeping), 'abandoned');
      this.sweeping = null;
      return STOP;
    }
    this.sweeping = null;
    this.inFlight = [];
    // A sweep that saw a small fraction of the state is committed only once the next sweep agrees with it (the
    // patch keeps replays of earlier runs, which committed every sweep, as they were).
    const short = isShortSweep(sweep.known, sweep.previousRows);
    const confirming = (short || this.unconfirmed !== null) && patched(CONFIRM_SHORT_SWEEPS);
    if (confirming && short && !(this.unconfirmed && sweepsAgree(sweep.known, this.unconfirmed.known))) {
      await this.holdShortSweep(sweep, round);
      return undefined;
    }
    await this.commit(sweep, round, confirming);
    return this.caughtUp();
  }

  private startRound(): Round {
    const { status } = this.runtime;
    const startedAt = nowIso();
    const reship = this.backfills.pending.splice(0);
    this.inFlight = reship;
    const generation = this.sweeping?.generation ?? `${status.counts.sweeps + 1}-${uuid4().slice(0, 8)}`;
    if (this.hygiene) this.sweeping = { generation, progress: this.sweeping?.progress ?? null };
    return { generation, reship, startedAt };
  }

  /** What a sweep activity is given, read at each attempt (the progress of the last one may have moved). */
  private sweepInput({ generation, reship }: Round) {
    return {
      tenant: this.input.tenant,
      stream: this.input.stream,
      previous: this.state,
      generation,
      reship: reship.length > 0,
      acceptUnchanged: true,
      ...(this.unconfirmed ? { unconfirmed: this.unconfirmed.state } : {}),
      ...(this.sweeping ? { resume: this.sweeping.progress, lastAttempt: this.fetchAttempts } : {}),
    };
  }

  /** The round's sweep: a poll first when caught up; undefined when stopped, WOKEN when something woke the poll. */
  private async sweepOrPoll(round: Round): Promise<SweepResult | typeof WOKEN | undefined> {
    let polled: PollOutcome | undefined;
    if (this.pollNext && round.reship.length === 0) {
      const { pollSnapshot, pollEveryMs } = this.activities;
      polled = await this.pollUntilChanged(() => pollSnapshot({ ...this.sweepInput(round), pollEveryMs }));
      if (polled.failure && this.sweeping)
        this.sweeping.progress = reportedProgress(polled.failure) ?? this.sweeping.progress;
      if (polled.failure)
        log.info('snapshot poll failed; sweeping with the usual retries', { error: String(polled.failure) });
    }
    this.pollNext = false;
    // Woken (a backfill, a reset, pause, stop, a new poll interval) while waiting.
    if (polled?.woken) return WOKEN;
    return polled?.result ?? this.runtime.untilDone('sweep', () => this.sweepOnce(round));
  }

  private async sweepOnce(round: Round): Promise<SweepResult> {
    try {
      return await this.activities.sweepSnapshotState(this.sweepInput(round));
    } catch (err) {
      // The progress its last attempt reported: the next activity of this sweep resumes there.
      if (this.sweeping) this.sweeping.progress = reportedProgress(err) ?? this.sweeping.progress;
      throw err;
    }
  }

  /**
   * Runs a poll until it completes (a sweep that changed something), fails (handed to the usual sweep), or something
   * wakes the stream (cancelled then: a poll in its retry wait ends at once; one sweeping is waited for, and a change
   * it made is kept).
   */
  private async pollUntilChanged(poll: () => Promise<SweepResult>): Promise<PollOutcome> {
    const { input, runtime } = this;
    const intervalGiven = input.timings.pollIntervalMs;
    const { woken, end } = await raceWake(
      poll,
      () =>
        this.backfills.woken() ||
        this.reset ||
        runtime.stopRequested() ||
        runtime.status.paused === true ||
        input.timings.pollIntervalMs !== intervalGiven,
      () => runtime.publishGauges(),
    );
    // A change the poll made before it heard of the cancellation is kept; any other end is the wake-up's.
    if ('result' in end) return { result: end.result };
    return woken || isCancellation(end.failure) ? { woken: true } : { failure: end.failure };
  }

  /**
   * Not committed: the state stays; this sweep's generation is held (what it shipped is not shipped again) in place
   * of any earlier short one, and the next sweep comes soon. Its re-ships are done again by that sweep.
   */
  private async holdShortSweep(sweep: SweepResult, round: Round): Promise<void> {
    const { runtime, input } = this;
    const { status } = runtime;
    const replaced = this.unconfirmed;
    this.unconfirmed = { state: sweep.state, known: sweep.known };
    if (replaced) await this.drop(replaced.state, 'unconfirmed');
    this.recordSweep(sweep, round);
    status.counts.unconfirmedSweeps = (status.counts.unconfirmedSweeps ?? 0) + 1;
    this.backfills.pending.unshift(...round.reship);
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
  }

  /**
   * From here on the new generation is the state; the old one (and a held short sweep) is dropped. A sweep that saw
   * the state unchanged wrote nothing: the state stays as it is (with its inline rows).
   */
  private async commit(sweep: SweepResult, round: Round, confirming: boolean): Promise<void> {
    const old = sweep.unchanged ? null : this.state;
    if (!sweep.unchanged) this.state = sweep.state;
    const held = confirming ? this.unconfirmed : null;
    if (held) this.unconfirmed = null;
    // From STATE_HYGIENE on the new state is in status before the old one is dropped: a run terminated between
    // the two leaves a status that names the state it had, never one already dropped.
    if (this.hygiene) this.recordCommit(sweep, round);
    if (old) await this.drop(old, 'old');
    if (held) await this.drop(held.state, 'unconfirmed');
    if (!this.hygiene) this.recordCommit(sweep, round);
  }

  /** The commit in status: backfills done, the sweep counted, the committed state (a later start reads it back). */
  private recordCommit(sweep: SweepResult, round: Round): void {
    const { status } = this.runtime;
    for (const b of status.backfills ?? []) {
      if (round.reship.includes(b.id) && b.state === 'running')
        Object.assign(b, { state: 'done', shipped: sweep.shipped, finishedAt: nowIso() });
    }
    this.recordSweep(sweep, round);
    // The committed state rides in status too: a later start reads it back even from a terminated run.
    status.cursor = { since: round.startedAt, known: sweep.known, state: this.state };
    status.counts.gone += sweep.gone;
  }

  /** Counts the sweep in status: once the generations it replaces are dropped (a status shows no stale work). */
  private recordSweep(sweep: SweepResult, round: Round): void {
    const { status } = this.runtime;
    status.lastPollAt = round.startedAt;
    status.counts.pages += sweep.pages;
    status.counts.fetched += sweep.fresh;
    status.counts.sweeps += 1;
    if (sweep.withoutIdentity > 0)
      status.counts.shippedWithoutIdentity = (status.counts.shippedWithoutIdentity ?? 0) + sweep.withoutIdentity;
    recordShipment(status, sweep);
  }

  /** Caught up: the next round polls (or, in older runs, waits for the poll interval). */
  private async caughtUp(): Promise<undefined> {
    const { runtime, backfills } = this;
    const { status } = runtime;
    status.state = 'caught_up';
    status.caughtUpAt = nowIso();
    backfills.sleep();
    runtime.publishGauges();
    if (this.pollsByRetry) {
      this.pollNext = true;
      return undefined;
    }
    await condition(
      () => backfills.woken() || this.reset || runtime.stopRequested() || status.paused === true,
      this.input.timings.pollIntervalMs,
    );
    if (!runtime.stopRequested()) status.state = 'running';
    return undefined;
  }

  private async applyReset(): Promise<void> {
    if (!this.reset) return;
    this.reset = false;
    log.warn('snapshot state reset by an operator: the next sweep ships every current row', {
      stream: this.input.stream,
    });
    if (this.state) await this.drop(this.state, 'reset');
    if (this.unconfirmed) await this.drop(this.unconfirmed.state, 'unconfirmed');
    this.state = null;
    this.unconfirmed = null;
    const { status } = this.runtime;
    status.cursor = { ...(status.cursor as SnapshotStreamInput['cursor']), known: 0, state: null };
  }

  private async drop(old: SnapshotState, what: string): Promise<void> {
    if (old.chunks === 0) return; // an inline state has no chunk workflows
    if (this.drops) return this.drops.add(old);
    await this.activities
      .dropSnapshotState({ state: old })
      .catch((err: unknown) => log.warn(`${what} snapshot state not dropped`, { error: String(err) }));
  }
}

/** The activities of the sweep loop, with their timeouts and retries; a poll's interval is the run's first. */
function sweepActivities(input: SnapshotStreamInput, hygiene: boolean, fetchAttempts: number) {
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
  const pollMs = input.timings.pollIntervalMs;
  const { sweepSnapshotState: pollSnapshot } = proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '1 minute',
    // The retry policy is the poll: the activity asks for each retry after pollMs (nextRetryDelay), for as long as
    // nothing changes; it completes on a change and fails non-retryably on anything else.
    retry: { initialInterval: pollMs, backoffCoefficient: 1, maximumInterval: pollMs, maximumAttempts: Infinity },
  });
  return { sweepSnapshotState, dropSnapshotState, pollSnapshot, pollEveryMs: pollMs };
}

/** The chunks a sweep abandoned mid-way may have written: as many as it reported, and any past them. */
function abandoned(sweep: SweepInFlight): SnapshotState {
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

/**
 * What every stream workflow shares: its status (answered by the `status` query), the `stop` signal, waits that
 * end early on stop, and running a step until it succeeds while recording failures in status.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { FailingSteps, isFailedState, type FailedState } from './failing-steps';
import { createGaugePublisher } from './gauge-publisher';
import { budgetWaitOf } from './request-budget';
import { policyOf } from './shared/failure-policy';
import {
  describeIssues,
  emptyPayloadSchema,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
  stopSignal,
} from './shared/messages';
import type { StreamTimings } from './shared/stream-input';
import {
  carriedStatus,
  emptyCounts,
  type CarriedStatus,
  type StreamCursor,
  type StreamError,
  type StreamName,
  type StreamState,
  type StreamStatus,
} from './shared/stream-status';
import { nowIso } from './shared/timestamps';
import { installTimingsUpdate, type TimingsUpdates } from './timings';

export interface StreamRuntime {
  status: StreamStatus;
  stopRequested(): boolean;
  /** Waits `ms` (a durable timer), returning early on stop, on an operator's pause, or when `wake` becomes true. */
  sleep(ms: number, wake?: () => boolean): Promise<boolean>;
  /**
   * The top of a stream's main loop: waits while an operator has the stream paused, applies `before` (operator
   * requests that take effect between rounds), and continues as new when Temporal suggests it (setContinueAsNew).
   * False once a stop was requested.
   */
  nextRound(before?: () => void): Promise<boolean>;
  /**
   * Runs one step until it succeeds. After the activity's own retries, the failure is recorded in status and the
   * step is tried again: after the error backoff while `retrying`; when `blocked` or `unavailable` (credentials
   * rejected, Datadog refusing everything, endpoint not licensed) soon at first, then less and less often
   * (slowRecheckMs). Returns undefined when a stop was requested meanwhile, or when the step was abandoned
   * (abandonStepsWhen). Steps may run at once: status shows the most pressing of those failing (failing-steps.ts),
   * `running` once none is.
   */
  untilDone<T>(during: StreamError['during'], step: () => Promise<T>): Promise<T | undefined>;
  /**
   * An operator's request that takes the stream elsewhere (a cursor move): while `pending` holds, a failure or
   * budget wait ends at once and its step is abandoned (untilDone returns undefined), and no new step starts. An
   * attempt already running is let finish: a ship is never cut in the middle.
   */
  abandonStepsWhen(pending: () => boolean): void;
  /** What continue-as-new carries over. */
  carried(): CarriedStatus;
  /** Waits while an operator has the stream paused. */
  whilePaused(): Promise<void>;
  /** Records a signal whose payload was refused. */
  rejectSignal(name: string, problem: string): void;
  /**
   * Publishes the state (memo) and cursor (sink) if they changed (gauge-publisher.ts): called by the runtime's own
   * waits and steps, and by a loop before a wait of its own.
   */
  publishGauges(): void;
  /**
   * How this stream continues as new with its committed position. Once set, failure loops (`untilDone`) continue as
   * new when Temporal suggests it, between attempts, so a stream failing for weeks never outgrows its history.
   */
  setContinueAsNew(continueWith: () => Promise<never>): void;
  /**
   * Holds continue-as-new while `busy` holds (work running beside the loop whose result the next run must carry: a
   * late sweep in flight). The loop goes on meanwhile, and continues as new at its first round or attempt after.
   */
  holdContinueAsNewWhile(busy: () => boolean): void;
  /** Whether this run is due to continue as new: Temporal suggests it, or new timings need a new run. */
  continueAsNewDue(): boolean;
}

const now = nowIso;

/** Marks runs where a blocked or unavailable step re-checks soon, then backs off (slowRecheckMs). */
export const RECHECK_BACKOFF = 'recheck-backoff';
/** Marks runs where a stop that arrives while a continue-as-new waits for handlers ends the run instead. */
export const STOP_BEFORE_CONTINUE = 'stop-before-continue-as-new';
/** The first re-check of a blocked or unavailable step; each next one waits twice as long, up to authRecheckMs. */
export const FIRST_RECHECK_MS = 20_000;

/**
 * The waits of a step's re-checks while it stays blocked or unavailable: FIRST_RECHECK_MS, doubling up to `maxMs`
 * (KANDJI_AUTH_RECHECK_INTERVAL). A fault that clears is noticed within seconds; one that lasts a week costs about
 * one attempt and one timer per `maxMs`, as before.
 */
export function slowRecheckMs(attempt: number, maxMs: number): number {
  return Math.min(maxMs, FIRST_RECHECK_MS * 2 ** Math.min(attempt, 20));
}

/** How a failure type leaves the stream: its row's state in the failure policy; `retrying` for any other error. */
export function stateAfter(type: string): FailedState {
  return policyOf(type)?.state ?? 'retrying';
}

/** The longest wait between re-checks of a step left `blocked` or `unavailable`. */
function recheckMaxMs(state: FailedState, timings: StreamTimings): number {
  return state === 'unavailable' ? (timings.unavailableRecheckMs ?? timings.authRecheckMs) : timings.authRecheckMs;
}

export function createStreamRuntime(
  tenant: string,
  stream: StreamName,
  cursor: StreamCursor,
  timings: StreamTimings,
  carried: CarriedStatus | undefined,
): StreamRuntime {
  return new Runtime(initialStatus(tenant, stream, cursor, timings, carried), timings);
}

/** A run's status at its start: what the previous run carried over, the rest new. */
function initialStatus(
  tenant: string,
  stream: StreamName,
  cursor: StreamCursor,
  timings: StreamTimings,
  carried: CarriedStatus | undefined,
): StreamStatus {
  return {
    tenant,
    stream,
    state: 'starting',
    cursor,
    counts: { ...emptyCounts(), ...carried?.counts },
    pollIntervalMs: timings.pollIntervalMs,
    startedAt: carried?.startedAt ?? now(),
    lastPollAt: null,
    lastShipAt: carried?.lastShipAt ?? null,
    caughtUpAt: carried?.caughtUpAt ?? null,
    lastError: carried?.lastError ?? null,
    lastDeadLetter: carried?.lastDeadLetter ?? null,
    generation: (carried?.generation ?? 0) + 1,
    paused: carried?.paused ?? false,
    backfills: carried?.backfills ?? [],
    ...(carried?.lastLateSweep ? { lastLateSweep: carried.lastLateSweep } : {}),
  };
}

/** StreamRuntime: the operator's controls (stop, pause, resume), continue-as-new, and the failure loop of steps. */
class Runtime implements StreamRuntime {
  private stopped = false;
  /** `resume` also cuts short the slow re-check of a blocked or unavailable stream: the operator says "try now". */
  private recheckNow = false;
  private continueWith: (() => Promise<never>) | undefined;
  private holdContinueAsNew: () => boolean = () => false;
  private abandon: () => boolean = () => false;
  private readonly failing = new FailingSteps();
  private readonly timingsUpdates: TimingsUpdates;
  /** The gauges read the state from the memo and the cursor from the worker, not by a (billed) query. */
  readonly publishGauges: () => void;

  constructor(
    readonly status: StreamStatus,
    private readonly timings: StreamTimings,
  ) {
    setHandler(statusQuery, () => status);
    this.publishGauges = createGaugePublisher(status);
    this.timingsUpdates = installTimingsUpdate(status, timings);
    setHandler(stopSignal, () => {
      this.stopped = true;
    });
    const pauseOrResume = (name: 'pause' | 'resume') => (payload?: unknown) => {
      const ok = emptyPayloadSchema.safeParse(payload);
      if (!ok.success) return this.rejectSignal(name, `expected no payload or {}: ${describeIssues(ok.error)}`);
      this.setPaused(name === 'pause');
    };
    setHandler(pauseSignal, pauseOrResume('pause'));
    setHandler(resumeSignal, pauseOrResume('resume'));
    setHandler(pauseUpdate, () => this.setPaused(true));
    setHandler(resumeUpdate, () => this.setPaused(false));
  }

  private get stream(): StreamName {
    return this.status.stream;
  }

  stopRequested = (): boolean => this.stopped;

  rejectSignal = (name: string, problem: string): void => {
    this.status.lastError = {
      type: 'InvalidSignal',
      message: `signal "${name}" refused: ${problem}`,
      during: 'signal',
      at: now(),
    };
    log.warn('signal refused', { stream: this.stream, signal: name, problem });
  };

  private setPaused(paused: boolean): StreamState {
    const { status } = this;
    if (!paused) this.recheckNow = true;
    status.paused = paused;
    if (!paused && status.state === 'paused') status.state = 'running';
    return status.paused ? 'paused' : status.state;
  }

  /** Waits end early on stop, and on pause so that status shows `paused` at once. */
  sleep = (ms: number, wake?: () => boolean): Promise<boolean> => {
    this.publishGauges();
    return condition(() => this.stopped || this.status.paused === true || wake?.() === true, ms);
  };

  setContinueAsNew = (continueWith: () => Promise<never>): void => {
    this.continueWith = continueWith;
  };

  holdContinueAsNewWhile = (busy: () => boolean): void => {
    this.holdContinueAsNew = busy;
  };

  continueAsNewDue = (): boolean => workflowInfo().continueAsNewSuggested || this.timingsUpdates.needsNewRun();

  abandonStepsWhen = (pending: () => boolean): void => {
    this.abandon = pending;
  };

  carried = (): CarriedStatus => carriedStatus(this.status);

  /**
   * Continues as new (setContinueAsNew) when Temporal suggests it or new timings need it: at the top of a round, or
   * between attempts; not while held (holdContinueAsNewWhile).
   */
  private async continueAsNewIfSuggested(): Promise<void> {
    if (!this.continueWith || !this.continueAsNewDue() || this.holdContinueAsNew()) return;
    log.info('continuing as new', { stream: this.stream, state: this.status.state });
    await condition(allHandlersFinished);
    // A stop that arrived while handlers finished ends this run: the next one would not know of it.
    if (this.stopped && patched(STOP_BEFORE_CONTINUE)) return;
    await this.continueWith();
  }

  whilePaused = async (): Promise<void> => {
    const { status } = this;
    if (!status.paused || this.stopped) return;
    const before = status.state;
    status.state = 'paused';
    this.publishGauges();
    log.info('stream paused', { stream: this.stream });
    await condition(() => !status.paused || this.stopped);
    this.settle(before);
    this.publishGauges();
    log.info('stream resumed', { stream: this.stream });
  };

  nextRound = async (before?: () => void): Promise<boolean> => {
    await this.whilePaused();
    if (this.stopped) return false;
    before?.();
    await this.continueAsNewIfSuggested();
    return !this.stopped;
  };

  /**
   * Sets the state once a step's own wait or attempt is over: the most pressing failure of the steps still failing,
   * else `otherwise` (a failure state some other step recorded is not kept once that step is no longer failing).
   */
  private settle(otherwise: StreamState): void {
    const shown = this.failing.shown();
    if (shown) {
      this.status.state = shown.state;
      this.status.lastError = shown.error;
    } else this.status.state = isFailedState(otherwise) || otherwise === 'paused' ? 'running' : otherwise;
  }

  untilDone = async <T>(during: StreamError['during'], step: () => Promise<T>): Promise<T | undefined> => {
    const key = this.failing.open();
    try {
      return await this.attemptUntilDone(key, during, step);
    } finally {
      // Whichever way it ended (done, stopped, cancelled, continued as new), this step no longer fails.
      this.failing.clear(key);
    }
  };

  /** The failure loop of one step (`key`): see StreamRuntime.untilDone. */
  private async attemptUntilDone<T>(
    key: number,
    during: StreamError['during'],
    step: () => Promise<T>,
  ): Promise<T | undefined> {
    const rechecks = { slow: 0 }; // the step's re-checks while blocked or unavailable, since it last succeeded
    for (;;) {
      if (this.abandon()) return undefined; // not started: nothing to abandon
      let result: T;
      try {
        result = await step();
      } catch (err) {
        if (isCancellation(err)) throw err; // the step was cancelled on purpose (e.g. a read-ahead dropped)
        if (await this.waitAfterFailure(key, during, err, rechecks)) continue;
        return this.stopped ? undefined : this.abandoned(key, during);
      }
      this.succeeded(key);
      return result;
    }
  }

  private succeeded(key: number): void {
    this.failing.clear(key);
    // Another step may still be failing: a read-ahead that succeeds says nothing of the ship refused beside it.
    // A pause another step waits out keeps showing.
    if (!(this.status.state === 'paused' && this.status.paused))
      this.settle(this.status.state === 'caught_up' ? 'caught_up' : 'running');
    this.publishGauges();
  }

  /**
   * After a failed attempt: waits for the request budget (no error, no retry spent) or records the failure and waits
   * out its backoff or re-check. True when the step goes on (goOn).
   */
  private async waitAfterFailure(
    key: number,
    during: StreamError['during'],
    err: unknown,
    rechecks: { slow: number },
  ): Promise<boolean> {
    const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    // The tenant's request budget (or a 429) has no slot within the attempt: wait durably, no error, no retry spent.
    const budgetWait = budgetWaitOf(failure);
    if (budgetWait !== undefined) {
      log.info('waiting for the request budget', { stream: this.stream, during, waitMs: budgetWait });
      await condition(() => this.stopped || this.status.paused === true || this.abandon(), budgetWait);
      return this.goOn();
    }
    const state = this.recordFailure(key, during, failure, err);
    this.recheckNow = false;
    // This step's own failure sets its pace, whatever another step's failure shows in status.
    const waitMs =
      state === 'retrying'
        ? this.timings.errorBackoffMs
        : patched(RECHECK_BACKOFF)
          ? slowRecheckMs(rechecks.slow++, recheckMaxMs(state, this.timings))
          : this.timings.authRecheckMs;
    await condition(() => this.stopped || this.status.paused === true || this.recheckNow || this.abandon(), waitMs);
    return this.goOn();
  }

  /** Records a step's failure in status (the most pressing failure shows); returns the state it leaves. */
  private recordFailure(
    key: number,
    during: StreamError['during'],
    failure: ApplicationFailure | undefined,
    err: unknown,
  ): FailedState {
    const type = failure?.type ?? (err instanceof Error ? err.name : 'Error');
    const message = failure?.message ?? (err instanceof Error ? err.message : String(err));
    const state = stateAfter(type);
    this.failing.fail(key, { state, error: { type, message, during, at: now() } });
    this.settle(state);
    this.publishGauges();
    const shown = this.status.state;
    log.warn('stream step failed; will try again', { stream: this.stream, during, type, message, state, shown });
    return state;
  }

  /**
   * After a failure or budget wait: whether the step goes on (continued as new first, when suggested), or ends here
   * because a stop was requested or an operator's request abandons it.
   */
  private async goOn(): Promise<boolean> {
    await this.whilePaused();
    if (this.stopped || this.abandon()) return false;
    await this.continueAsNewIfSuggested();
    return !this.stopped;
  }

  /** Ends a step an operator's request abandoned: it no longer fails. */
  private abandoned(key: number, during: StreamError['during']): undefined {
    this.failing.clear(key);
    this.settle('running');
    log.info('stream step abandoned for an operator request', { stream: this.stream, during });
    return undefined;
  }
}

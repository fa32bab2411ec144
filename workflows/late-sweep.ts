/**
 * The audit stream's late sweep, on the workflow side: keeps the late-event ledger (late-ledger.ts) as pages ship,
 * and while the stream is caught up re-reads the past hours that are due, one activity per hour, oldest first.
 * Late events within the overlap window are the polls' (audit-cursor.ts); the sweep takes those later than that,
 * up to Datadog's 18-hour window. The ledger is a few KB per hour whatever the event rate, carried across
 * continue-as-new; it never holds a record.
 *
 * Since LATE_SWEEPS_BESIDE_TAIL (audit-page-loop.ts) a sweep runs beside the live tail, one activity at a time, started
 * (not awaited) by the polls while caught up; one that cannot get budget or keeps failing is parked
 * (late-sweep-parking.ts). A sweep in flight when the run is due to continue as new holds the continue-as-new until
 * it ends, and no other starts (SWEEP_ENDS_BEFORE_CONTINUE): what it shipped is in the carried ledger, so the next run
 * never ships it again. A stop lets the sweep in flight end too, for up to STOP_GRACE_MS (SWEEP_ENDS_BEFORE_STOP), so
 * the ledger the run returns (which `start` carries on) holds what it shipped; one still running then is abandoned:
 * its hour stays due, and late events it shipped before the cancel may be shipped again by the next start's sweep (at
 * least once). A sweep in flight at a cursor move is abandoned (the hour is no longer the ledger's). A pause lets the
 * sweep in flight end, and starts no other.
 * Runs recorded before LATE_SWEEPS_BESIDE_TAIL sweep inside the poll loop (`sweepDue`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities, SweepLateAuditHourResult } from '../activities';
import { activityRetry } from './activity-retry';
import { LateSweepParking } from './late-sweep-parking';
import { budgetWaitOf } from './request-budget';
import {
  addToLedger,
  DEFAULT_SWEEP_TIERS_MS,
  dueLateHours,
  hourEndKey,
  LATE_HORIZON_MS,
  markSwept,
  newLateLedger,
  nextLateSweepInMs,
  pruneLedger,
  restartLateLedger,
  type LateLedger,
  type LedgerDelta,
} from './shared/late-ledger';
import type { AuditStreamInput } from './shared/stream-input';
import { keyToMillis, nowIso } from './shared/timestamps';
import { recordShipment } from './shipment';
import type { StreamRuntime } from './stream-runtime';

/** Runs before LATE_SWEEPS_BESIDE_TAIL: hours swept between two polls at most (the sweep holds the poll loop). */
export const MAX_HOURS_PER_POLL = 3;

/**
 * Marks runs where a sweep in flight holds continue-as-new until it ends. Before it, the sweep was cancelled and its
 * hour swept again by the next run, which shipped again the late events the cancelled sweep had shipped.
 */
export const SWEEP_ENDS_BEFORE_CONTINUE = 'late-sweep-ends-before-continue-as-new';
/**
 * Marks runs where a stop lets the sweep in flight end (for up to STOP_GRACE_MS) before the run returns its ledger.
 * Before it, the sweep was cancelled, and the next start swept its hour again, shipping again what it had shipped.
 */
export const SWEEP_ENDS_BEFORE_STOP = 'late-sweep-ends-before-stop';
/** How long a stop waits for the sweep in flight: an hour's sweep takes seconds; one failing is abandoned. */
export const STOP_GRACE_MS = 60_000;

export interface LateSweep {
  /** What continue-as-new carries. */
  ledger(): LateLedger;
  /** A page was read: where its polls start re-reading from now on. */
  read(settled: string | undefined): void;
  shipped(delta: LedgerDelta | undefined): void;
  /** An operator moved the cursor: tracking starts again after both positions. */
  cursorMoved(oldSince: string, newSince: string): void;
  /** Runs before LATE_SWEEPS_BESIDE_TAIL: sweeps the hours that are due (a few at most); call while caught up. */
  sweepDue(): Promise<void>;
  /** Starts sweeping the hours due, beside the tail, unless a sweep is in flight; never waits. Call while caught up. */
  startDue(): void;
  /** How long until a late hour comes due (0: now); undefined when none will before the polls move on. */
  nextDueInMs(): number | undefined;
  /** Cancels the sweep in flight, if any (a cursor move; continue-as-new in runs before SWEEP_ENDS_BEFORE_CONTINUE). */
  abandon(): void;
  /**
   * The stream stops: the sweep in flight, if any, may end for up to STOP_GRACE_MS (SWEEP_ENDS_BEFORE_STOP), so that
   * what it shipped is in the ledger the run returns; one that takes longer is abandoned.
   */
  stop(): Promise<void>;
}

export function createLateSweep(input: AuditStreamInput, runtime: StreamRuntime): LateSweep | undefined {
  const tiers = input.timings.lateSweepTiersMs ?? DEFAULT_SWEEP_TIERS_MS;
  if (tiers.length === 0) return undefined; // turned off (KANDJI_AUDIT_LATE_SWEEPS=off)
  return new LateSweeper(input, runtime, tiers);
}

class LateSweeper implements LateSweep {
  private readonly sweepLateAuditHour: Activities['sweepLateAuditHour'];
  private currentLedger: LateLedger;
  /** Where the polls start re-reading: hours that ended before it are the sweep's. */
  private settled: string | undefined;
  private readonly parking = new LateSweepParking();
  private inFlight: CancellationScope | undefined;
  private readonly endsBeforeContinue: boolean;

  constructor(
    private readonly input: AuditStreamInput,
    private readonly runtime: StreamRuntime,
    private readonly tiers: readonly number[],
  ) {
    this.sweepLateAuditHour = proxyActivities<Activities>({
      startToCloseTimeout: '15 minutes',
      heartbeatTimeout: '1 minute',
      retry: activityRetry(20, '2 minutes'),
    }).sweepLateAuditHour;
    this.currentLedger = input.late ?? newLateLedger(input.cursor);
    this.endsBeforeContinue = patched(SWEEP_ENDS_BEFORE_CONTINUE);
    if (this.endsBeforeContinue) runtime.holdContinueAsNewWhile(() => this.inFlight !== undefined);
  }

  private get status() {
    return this.runtime.status;
  }

  readonly ledger = (): LateLedger => this.currentLedger;

  read(settled: string | undefined): void {
    if (settled) this.settled = settled;
  }

  shipped(delta: LedgerDelta | undefined): void {
    // Pruned here too, not only when caught up: a drain of days must not pile up hours no sweep can reach.
    this.currentLedger = pruneLedger(addToLedger(this.currentLedger, delta), Date.now());
  }

  cursorMoved(oldSince: string, newSince: string): void {
    this.abandon();
    this.currentLedger = restartLateLedger(oldSince, newSince);
    this.settled = undefined;
  }

  startDue(): void {
    if (this.inFlight) return;
    // No scope when no hour may go: a sweep in flight is one that runs (and may hold continue-as-new).
    const tried = new Set<string>();
    const first = this.nextHour(tried);
    if (!first) return;
    const scope = new CancellationScope();
    this.inFlight = scope;
    void scope
      .run(() => this.sweepBeside(first, tried))
      .catch((err: unknown) => {
        if (!isCancellation(err)) log.error('late sweep ended unexpectedly', { error: String(err) });
      })
      .finally(() => {
        if (this.inFlight === scope) this.inFlight = undefined;
      });
  }

  abandon(): void {
    if (!this.inFlight) return;
    this.inFlight.cancel();
    this.inFlight = undefined;
    this.showSweep();
  }

  async stop(): Promise<void> {
    if (this.inFlight && patched(SWEEP_ENDS_BEFORE_STOP)) {
      log.info('stopping once the late sweep in flight ends', { hour: this.status.lateSweep?.sweeping });
      await condition(() => this.inFlight === undefined, STOP_GRACE_MS);
    }
    this.abandon();
  }

  nextDueInMs(): number | undefined {
    return this.settled ? nextLateSweepInMs(this.currentLedger, this.settled, Date.now(), this.tiers) : undefined;
  }

  async sweepDue(): Promise<void> {
    const { settled, runtime } = this;
    if (!settled) return;
    this.currentLedger = pruneLedger(this.currentLedger, Date.now());
    for (const hour of dueLateHours(this.currentLedger, settled, Date.now(), this.tiers).slice(0, MAX_HOURS_PER_POLL)) {
      if (runtime.stopRequested() || this.status.paused) return;
      const swept = await runtime.untilDone('sweep', () => this.sweepHour(hour));
      if (!swept) return; // stop requested while it was failing
      this.applySwept(hour, swept);
    }
  }

  /** The run is about to continue as new: no sweep starts (one in flight holds it: holdContinueAsNewWhile). */
  private closing(): boolean {
    return this.endsBeforeContinue && this.runtime.continueAsNewDue();
  }

  private sweepHour(hour: string): Promise<SweepLateAuditHourResult> {
    const ledger = this.currentLedger;
    return this.sweepLateAuditHour({
      tenant: this.input.tenant,
      hour,
      from: ledger.from,
      cells: ledger.hours[hour]?.cells,
    });
  }

  private applySwept(hour: string, swept: SweepLateAuditHourResult): void {
    const { status } = this;
    this.currentLedger = markSwept(
      addToLedger(this.currentLedger, { [hour]: swept.delta }),
      [hour],
      Date.now(),
      this.tiers,
    );
    recordShipment(status, swept.shipment);
    const c = status.counts;
    c.pages += swept.pages;
    if (swept.found) c.lateFound = (c.lateFound ?? 0) + swept.found;
    if (swept.resent) c.lateResent = (c.lateResent ?? 0) + swept.resent;
    status.lastLateSweep = { hour, at: nowIso() };
  }

  private showSweep(sweeping?: string): void {
    // Hours a sweep can no longer reach (before the ledger's start, or past the horizon) are no longer parked.
    const horizon = Date.now() - LATE_HORIZON_MS;
    const from = this.currentLedger.from;
    this.parking.keepOnly((hour) => hourEndKey(hour) > from && keyToMillis(hourEndKey(hour)) > horizon);
    this.status.lateSweep = { ...(sweeping ? { sweeping } : {}), parked: this.parking.shown() };
  }

  /**
   * A failed sweep of `hour` (after its activity's retries): parked, never retried in place. True when it found no
   * request budget: then no sweep goes before a later poll, however short the wait the budget named.
   */
  private park(hour: string, err: unknown): boolean {
    const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    const budgetWait = budgetWaitOf(failure);
    const why = `${failure?.type ?? (err instanceof Error ? err.name : 'Error')}: ${failure?.message ?? String(err)}`;
    const parked =
      budgetWait !== undefined
        ? this.parking.parkForBudget(hour, budgetWait, Date.now())
        : this.parking.parkFailed(hour, why, Date.now());
    log.warn('late sweep parked: the live tail goes on, the hour is tried again later', { ...parked });
    return budgetWait !== undefined;
  }

  /** The next hour to sweep beside the tail, if any may go now (each hour at most once a round: `tried`). */
  private nextHour(tried: Set<string>): string | undefined {
    const { settled, parking, runtime } = this;
    const nowMs = Date.now();
    if (!settled || runtime.stopRequested() || this.status.paused || this.closing() || parking.waitingForBudget(nowMs))
      return undefined;
    this.currentLedger = pruneLedger(this.currentLedger, nowMs);
    const due = dueLateHours(this.currentLedger, settled, nowMs, this.tiers);
    const hour = due.find((h) => !tried.has(h) && !parking.isParked(h, nowMs));
    if (hour) tried.add(hour);
    return hour;
  }

  /** Sweeps `first`, then the due hours one at a time, until none may go; ends (never throws) when cancelled. */
  private async sweepBeside(first: string, tried: Set<string>): Promise<void> {
    for (let hour: string | undefined = first; hour; hour = this.nextHour(tried)) {
      this.showSweep(hour);
      const ledgerFrom = this.currentLedger.from;
      try {
        const swept = await this.sweepHour(hour);
        if (this.currentLedger.from !== ledgerFrom) break; // the ledger started again meanwhile (a cursor move)
        this.parking.swept(hour);
        this.applySwept(hour, swept);
      } catch (err) {
        if (isCancellation(err)) break;
        if (this.park(hour, err)) break;
      }
    }
    this.showSweep();
  }
}

/**
 * The audit stream's loop over pages, one round at a time: take the next page (read it, or the one read ahead, or
 * wait for news while caught up), count what it held, ship it, commit the cursor; once caught up, start the late
 * sweeps due and wait for news. An operator's cursor move takes effect between rounds.
 */
import { isCancellation, patched, setHandler } from '@temporalio/workflow';
import type { AuditPageRef } from '../activities';
import { auditPageSteps, type AuditPageSteps, type ReadAhead } from './audit-page-steps';
import { installCursorMoves, movedAuditCursor } from './cursor-moves';
import { createLateSweep, type LateSweep } from './late-sweep';
import { hasMoreAuditPages, samePosition, type AuditCursor } from './shared/audit-cursor';
import type { LateLedger } from './shared/late-ledger';
import { lateLedgerQuery } from './shared/messages';
import type { AuditStreamInput } from './shared/stream-input';
import type { StreamStatus } from './shared/stream-status';
import { nowIso } from './shared/timestamps';
import { recordShipment } from './shipment';
import type { StreamRuntime } from './stream-runtime';

/** Marks runs of 0.4 and later: the late sweep (late-sweep.ts). */
export const LATE_SWEEPS = 'late-sweeps';
/** Marks runs where a cursor move abandons the failing page (cursor-moves.ts). */
export const MOVES_ABANDON_PAGES = 'moves-abandon-failing-pages';
/** Marks runs whose late sweep runs beside the live tail and parks what cannot go (late-sweep.ts), never awaited. */
export const LATE_SWEEPS_BESIDE_TAIL = 'late-sweeps-beside-tail';
/** Marks runs that wait for news inside one activity while caught up (activities/await-audit-page.ts), not a timer. */
export const IDLE_POLLS_IN_ACTIVITY = 'idle-polls-in-activity';

/** How a run continues as new: from the committed cursor, with the late ledger and a move not applied yet. */
export type ContinueAuditWith = (cursor: AuditCursor, lateLedger?: LateLedger, pendingMove?: string) => Promise<never>;

/** How a round ended early: the stream stops, or the round is over (the next one starts). */
const STOP = 'stop';
const NEXT_ROUND = 'next round';
type RoundEnd = typeof STOP | typeof NEXT_ROUND;

export class AuditPageLoop {
  private cursor: AuditCursor;
  private ahead: ReadAhead | undefined;
  /** Caught up, with idle polls in an activity: the next round waits for news, its first poll one interval off. */
  private idle = false;
  private readonly steps: AuditPageSteps;
  private readonly lateSweep: LateSweep | undefined;
  private readonly sweepBesideTail: boolean;
  private readonly moves: ReturnType<typeof installCursorMoves> | undefined;
  private readonly idlePolls: boolean;

  constructor(
    private readonly input: AuditStreamInput,
    private readonly runtime: StreamRuntime,
    continueWith: ContinueAuditWith,
  ) {
    this.cursor = input.cursor;
    // The order of these steps is that of the run's first commands (its patch markers): keep it.
    this.steps = auditPageSteps(input, runtime, {
      lateSweep: () => this.lateSweep,
      movePending: () => this.moves?.pending() === true,
    });
    // Backfills re-ship a window on purpose: only the live tail looks for late events.
    this.lateSweep = !input.backfill && patched(LATE_SWEEPS) ? createLateSweep(input, runtime) : undefined;
    if (this.lateSweep) setHandler(lateLedgerQuery, this.lateSweep.ledger);
    this.sweepBesideTail = this.lateSweep !== undefined && patched(LATE_SWEEPS_BESIDE_TAIL);
    this.moves = input.backfill ? undefined : installCursorMoves(runtime, () => this.cursor, input.pendingMove);
    // A failing step continues as new too, from the committed cursor (the page in flight is simply read again); a
    // move not applied yet (requested as this run ends) is applied by the next run.
    runtime.setContinueAsNew(() => {
      this.dropAhead();
      this.lateSweep?.abandon(); // none in flight since SWEEP_ENDS_BEFORE_CONTINUE; before it, its hour stays due
      return continueWith(this.cursor, this.lateSweep?.ledger(), this.moves?.peek());
    });
    // A move leaves a page that fails (or waits for budget) at once: it may be the page that never ships.
    if (this.moves && patched(MOVES_ABANDON_PAGES)) runtime.abandonStepsWhen(this.moves.pending);
    this.idlePolls = !input.backfill && patched(IDLE_POLLS_IN_ACTIVITY);
  }

  /** The late ledger, for the run's result. */
  ledger(): LateLedger | undefined {
    return this.lateSweep?.ledger();
  }

  async run(): Promise<void> {
    while (await this.runtime.nextRound(() => this.applyCursorMove())) {
      if ((await this.round()) === STOP) break;
    }
    this.dropAhead();
    await this.lateSweep?.stop();
  }

  private async round(): Promise<RoundEnd | undefined> {
    const ref = await this.nextPage();
    this.ahead = undefined;
    if (!ref) return this.runtime.stopRequested() ? STOP : NEXT_ROUND; // woken, or abandoned for a cursor move
    this.recordRead(ref);
    // Read the next page of a backlog while this one ships (a backfill's window ends where Kandji's log does).
    if (hasMoreAuditPages(ref.next)) this.ahead = this.steps.readAhead(ref.next);
    const next = await this.shipPage(ref);
    if (typeof next === 'string') return next;
    this.cursor = next;
    this.runtime.status.cursor = next;
    if (hasMoreAuditPages(next)) return undefined;
    if (this.input.backfill) return STOP; // the window is done
    return this.caughtUp();
  }

  /** The page at the cursor: waited for while idle, else the one read ahead (if it starts there) or read now. */
  private async nextPage(): Promise<AuditPageRef | undefined> {
    const { steps, cursor, ahead } = this;
    if (this.idle) {
      this.idle = false;
      // Undefined when woken by a stop, pause, cursor move or a new poll interval: the next round reads at once.
      const ref = (await steps.waitForNews(cursor, this.input.timings.pollIntervalMs))?.ref;
      if (ref && ref.count > 0) this.runtime.status.state = 'running';
      return ref;
    }
    try {
      return ahead && samePosition(ahead.from, cursor) ? await ahead.ref : await steps.read(cursor);
    } catch (err) {
      if (!isCancellation(err)) throw err;
      return steps.read(cursor);
    }
  }

  private recordRead(ref: AuditPageRef): void {
    const { status } = this.runtime;
    status.lastPollAt = nowIso();
    status.counts.pages += ref.pages ?? 1;
    status.counts.skippedRepeats += ref.skipped;
    status.counts.late += ref.late; // late events the polls' overlap re-read found (the sweep's are `lateFound`)
    recordPageProblems(status, ref);
    this.lateSweep?.read(ref.settled);
  }

  /** Ships the page, if it has records: where the cursor goes next, or how the round ends without shipping. */
  private async shipPage(ref: AuditPageRef): Promise<AuditCursor | RoundEnd> {
    if (!(ref.count > 0 && ref.pageId)) return ref.next;
    const { status } = this.runtime;
    status.counts.fetched += ref.count;
    const shipped = await this.steps.ship(ref, this.cursor);
    if (!shipped && this.runtime.stopRequested()) return STOP; // stopped while Datadog was failing: the cursor stays
    if (!shipped) return NEXT_ROUND; // abandoned for a cursor move: the move is applied next
    recordShipment(status, shipped);
    this.lateSweep?.shipped(shipped.ledger);
    if (shipped.reread) status.counts.reread = (status.counts.reread ?? 0) + 1;
    const next = shipped.next ?? ref.next;
    if (!samePosition(next, ref.next)) this.dropAhead(); // the page read again ended elsewhere
    return next;
  }

  /** Caught up: the late sweeps due start, and the next round waits for news (or, in older runs, a timer). */
  private async caughtUp(): Promise<RoundEnd | undefined> {
    const { runtime, lateSweep } = this;
    const { status } = runtime;
    this.dropAhead();
    status.state = 'caught_up';
    status.caughtUpAt = nowIso();
    if (this.sweepBesideTail) lateSweep?.startDue();
    else await lateSweep?.sweepDue();
    if (runtime.stopRequested()) return STOP;
    status.state = 'caught_up'; // a sweep step that failed and recovered left it at running
    if (this.idlePolls) {
      this.idle = true;
      return undefined;
    }
    await runtime.sleep(this.input.timings.pollIntervalMs, () => this.moves?.pending() === true);
    if (!runtime.stopRequested()) status.state = 'running';
    return undefined;
  }

  /** An operator's moveCursor takes effect between pages, or abandons the page that fails. */
  private applyCursorMove(): void {
    const moveTo = this.moves?.nextMove();
    if (!moveTo) return;
    this.dropAhead();
    const moved = movedAuditCursor(this.cursor, moveTo);
    this.lateSweep?.cursorMoved(this.cursor.since, moved.since);
    this.cursor = moved;
    const { status } = this.runtime;
    status.cursor = moved;
    status.counts.cursorMoves = (status.counts.cursorMoves ?? 0) + 1;
  }

  private dropAhead(): void {
    this.ahead?.scope.cancel();
    this.ahead = undefined;
  }
}

/** Counts what a page had that is not shipped as is: future-dated events, unreadable records, refused links. */
function recordPageProblems(status: StreamStatus, ref: AuditPageRef): void {
  const c = status.counts;
  if (ref.future) c.future = (c.future ?? 0) + ref.future;
  if (ref.refusedLinks) c.refusedLinks = (c.refusedLinks ?? 0) + ref.refusedLinks;
  if (ref.invalid) {
    c.deadLettered += ref.invalid;
    if (ref.lastInvalid)
      status.lastDeadLetter = {
        ...ref.lastInvalid,
        reason: `unreadable in Kandji's answer: ${ref.lastInvalid.reason}`,
        at: nowIso(),
      };
  }
}

/**
 * The audit stream: Kandji's audit log (admin actions, EDR threats, vulnerability events, …) to Datadog
 * `service:audit`, for one tenant, forever. The cursor lives here and moves only after Datadog accepted a page.
 *
 * Records never pass through this workflow: `readAuditPageRef` keeps a page in the worker that read it and returns
 * a reference; `shipAuditPage` runs on that worker's own task queue and sends it. If that worker is gone, the ship
 * runs on the shared queue and reads the page again from the same cursor. While page N ships, page N+1 is read.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  deprecatePatch,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, AuditPageRef, AwaitAuditPageResult, ShipAuditPageResult } from '../activities';
import { activityRetry } from './activity-retry';
import { backfillFinishedSignal, installBackfillHandlers } from './backfills';
import { installCursorMoves, movedAuditCursor } from './cursor-moves';
import { createLateSweep } from './late-sweep';
import { hasMoreAuditPages, initialAuditCursor, samePosition, type AuditCursor } from './shared/audit-cursor';
import { FailureType } from './shared/failure-types';
import { IDLE_HEARTBEAT_TIMEOUT_MS, IDLE_MAX_WAIT_MS } from './shared/idle-wait';
import type { LateLedger } from './shared/late-ledger';
import { lateLedgerQuery } from './shared/messages';
import { applyDigestTail } from './shared/overlap-digest';
import type { AuditStreamInput } from './shared/stream-input';
import type { StreamStatus } from './shared/stream-status';
import { nowIso } from './shared/timestamps';
import { backfillWorkflowId } from './shared/workflow-ids';
import { recordShipment } from './shipment';
import { createStreamRuntime, type StreamRuntime } from './stream-runtime';
import { raceWake } from './wake-race';

/**
 * Marks runs of 0.3 and later: records outside history, pipelined pages. Every supported run has it: deprecatePatch,
 * which stays while runs of 0.3 to 0.5 (they carry the plain marker) may be left (docs/versions.md).
 */
export const PAGES_OUTSIDE_HISTORY = 'pages-outside-history';
/** Marks runs of 0.4 and later: the late sweep (late-sweep.ts). */
export const LATE_SWEEPS = 'late-sweeps';
/** Marks runs where a cursor move abandons the failing page (cursor-moves.ts). */
export const MOVES_ABANDON_PAGES = 'moves-abandon-failing-pages';
/** Marks runs whose late sweep runs beside the live tail and parks what cannot go (late-sweep.ts), never awaited. */
export const LATE_SWEEPS_BESIDE_TAIL = 'late-sweeps-beside-tail';

/**
 * Marks runs whose ship to the worker holding the page carries the cursor without its digest (that worker fails
 * PageNotHeld if it lost the page; the ship then goes to the shared queue with the whole cursor).
 */
export const SHIPS_WITHOUT_DIGEST = 'ships-without-digest';

/** Marks runs that wait for news inside one activity while caught up (activities/await-audit-page.ts), not a timer. */
export const IDLE_POLLS_IN_ACTIVITY = 'idle-polls-in-activity';

/** How long a ship waits for the worker holding its page before reading the page again elsewhere. */
export const DEFAULT_HANDOFF_MS = 30_000;

export interface AuditStreamResult {
  status: StreamStatus;
  /** The late-event ledger when the run stopped: `start` carries it to the next run with the cursor. */
  late?: LateLedger;
}

export async function auditStream(input: AuditStreamInput): Promise<AuditStreamResult> {
  const runtime = createStreamRuntime(input.tenant, 'audit', input.cursor, input.timings, input.carried);
  const { status } = runtime;
  const backfill = input.backfill;
  if (backfill) status.window = { from: backfill.from, to: backfill.to };
  else {
    const self = workflowInfo().workflowId;
    installBackfillHandlers(runtime, {
      // Each backfill is a child workflow with its own cursor over the window; the live tail keeps running.
      start: async (info) => {
        const workflowId = backfillWorkflowId(self, info.id);
        await startChild(auditStream, {
          workflowId,
          args: [
            {
              tenant: input.tenant,
              cursor: initialAuditCursor(info.from, info.to),
              timings: input.timings,
              backfill: { id: info.id, from: info.from, to: info.to, parentWorkflowId: self },
            },
          ],
          parentClosePolicy: 'ABANDON', // survives this run's continue-as-new; reports back by signal
        });
        return workflowId;
      },
    });
  }
  const continueWith = async (cursor: AuditCursor, late?: LateLedger, pendingMove?: string): Promise<never> => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof auditStream>({
      ...input,
      cursor,
      carried: runtime.carried(),
      ...(late ? { late } : {}),
      pendingMove, // absent (dropped from the input) once applied
    });
  };

  status.state = 'running';
  let cancelled = false;
  const ledger: LedgerHolder = {};
  deprecatePatch(PAGES_OUTSIDE_HISTORY);
  try {
    await pageLoop(input, runtime, continueWith, ledger);
  } catch (err) {
    // Cancel (from the UI, or a parent) is a stop: the run completes with its committed cursor, so a later start
    // resumes from it.
    if (!isCancellation(err)) throw err;
    cancelled = true;
    log.info('stream cancelled: stopping with the committed cursor', { cursor: status.cursor });
  }

  status.state = 'stopped';
  await CancellationScope.nonCancellable(async () => {
    if (backfill) {
      const state = runtime.stopRequested() || cancelled ? 'cancelled' : 'done';
      await getExternalWorkflowHandle(backfill.parentWorkflowId)
        .signal(backfillFinishedSignal, { id: backfill.id, state, shipped: status.counts.shipped })
        .catch(() => undefined); // the stream may have been stopped meanwhile
    }
    await condition(allHandlersFinished);
  });
  const late = ledger.current?.();
  return { status, ...(late ? { late } : {}) };
}

/** Where the page loop leaves its late ledger for the run's result. */
interface LedgerHolder {
  current?: () => LateLedger;
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

function isScheduleToStartTimeout(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_START'
  );
}

/** A read's reference with its next cursor whole again (the read sent only what changed of the digest). */
function withWholeDigest(ref: AuditPageRef, from: AuditCursor): AuditPageRef {
  if (!ref.nextDigestTail) return ref;
  const { nextDigestTail, ...rest } = ref;
  const digest = applyDigestTail(from.digest, nextDigestTail);
  return { ...rest, next: { ...ref.next, ...(digest ? { digest } : {}) } };
}

function isPageNotHeld(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FailureType.PageNotHeld
  );
}

/** A read of page N+1 started while page N ships; cancelled when page N ends somewhere else than expected. */
interface ReadAhead {
  from: AuditCursor;
  scope: CancellationScope;
  ref: Promise<AuditPageRef | undefined>;
}

async function pageLoop(
  input: AuditStreamInput,
  runtime: StreamRuntime,
  continueWith: (cursor: AuditCursor, late?: LateLedger, pendingMove?: string) => Promise<never>,
  ledger: LedgerHolder,
): Promise<void> {
  const now = nowIso;
  const { status } = runtime;
  const { tenant } = input;
  const { readAuditPageRef } = proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '1 minute',
    retry: activityRetry(input.timings.fetchAttempts ?? 8, '1 minute'),
  });
  const shipVia = (workerQueue: string | null) =>
    proxyActivities<Activities>({
      startToCloseTimeout: '15 minutes',
      heartbeatTimeout: '1 minute',
      retry: activityRetry(20),
      ...(workerQueue
        ? { taskQueue: workerQueue, scheduleToStartTimeout: input.timings.handoffMs ?? DEFAULT_HANDOFF_MS }
        : {}),
    }).shipAuditPage;

  const read = (from: AuditCursor) =>
    runtime
      .untilDone('fetch', () => readAuditPageRef({ tenant, cursor: from, acceptDigestTail: true }))
      .then((ref) => ref && withWholeDigest(ref, from));
  const { awaitAuditPage } = proxyActivities<Activities>({
    startToCloseTimeout: IDLE_MAX_WAIT_MS + 10 * 60_000,
    heartbeatTimeout: IDLE_HEARTBEAT_TIMEOUT_MS,
    retry: activityRetry(input.timings.fetchAttempts ?? 8, '1 minute'),
    // The wait learns of a cancellation only at its next heartbeat (minutes away): the stream does not wait for
    // that. A wait cancelled this way may still poll once; what it reads is never shipped.
    cancellationType: ActivityCancellationType.TRY_CANCEL,
  });
  /**
   * While caught up: polls inside one activity until there is news (or the longest idle wait passed), ending early
   * on stop, pause, a cursor move or a new poll interval (undefined then). An idle hour is one activity start and its heartbeats.
   */
  const waitForNews = async (from: AuditCursor, firstPollInMs: number): Promise<AwaitAuditPageResult | undefined> => {
    const lateDue = late?.nextDueInMs();
    // At least one poll interval: a late hour already due is swept after this poll (the wait never spins).
    const maxWaitMs = Math.max(
      input.timings.pollIntervalMs,
      lateDue === undefined ? IDLE_MAX_WAIT_MS : Math.min(IDLE_MAX_WAIT_MS, lateDue),
    );
    const args = {
      tenant,
      cursor: from,
      acceptDigestTail: true,
      firstPollInMs,
      pollIntervalMs: input.timings.pollIntervalMs,
      maxWaitMs,
    };
    // A new poll interval (an operator's start) also ends the wait: it polls at the interval it was given. (Other
    // timings take effect when the wait ends.)
    const intervalGiven = input.timings.pollIntervalMs;
    const race = await raceWake(
      () => runtime.untilDone('fetch', () => awaitAuditPage(args)),
      () =>
        runtime.stopRequested() ||
        status.paused === true ||
        moves?.pending() === true ||
        input.timings.pollIntervalMs !== intervalGiven,
      () => runtime.publishGauges(),
    );
    if (race.woken) return undefined;
    if ('failure' in race.end) throw race.end.failure;
    const waited = race.end.result;
    return waited && { ...waited, ref: withWholeDigest(waited.ref, from) };
  };
  const readAhead = (from: AuditCursor): ReadAhead => {
    const scope = new CancellationScope();
    const ref = scope.run(() => read(from));
    ref.catch(() => undefined); // a cancelled read-ahead is simply dropped
    return { from, scope, ref };
  };
  // Ships to the worker holding the page carry the cursor without its digest (most of a busy stream's history).
  const digestElided = patched(SHIPS_WITHOUT_DIGEST);
  /** Ships a page from the worker holding it; if that worker is gone, from whichever worker reads it again. */
  const ship = (ref: AuditPageRef, from: AuditCursor) =>
    runtime.untilDone('ship', async (): Promise<ShipAuditPageResult> => {
      const lateFrom = late?.ledger().from;
      const args = { tenant, pageId: ref.pageId!, cursor: from, pages: ref.pages, ...(lateFrom ? { lateFrom } : {}) };
      if (ref.workerQueue) {
        try {
          // The worker holding the page needs no digest (it reads the page again only if it lost it: see below).
          const { digest: _held, ...elided } = from;
          return await shipVia(ref.workerQueue)(digestElided ? { ...args, cursor: elided, digestElided } : args);
        } catch (err) {
          if (isPageNotHeld(err))
            log.info('the worker no longer holds the page; it will be read again', { pageId: ref.pageId });
          else if (isScheduleToStartTimeout(err))
            log.info('the worker holding the page is gone; the page will be read again', { pageId: ref.pageId });
          else throw err;
          ref.workerQueue = null;
        }
      }
      return shipVia(null)(args);
    });

  let cursor: AuditCursor = input.cursor;
  // Backfills re-ship a window on purpose: only the live tail looks for late events.
  const late = !input.backfill && patched(LATE_SWEEPS) ? createLateSweep(input, runtime) : undefined;
  if (late) {
    ledger.current = late.ledger;
    setHandler(lateLedgerQuery, late.ledger);
  }
  const sweepBesideTail = late !== undefined && patched(LATE_SWEEPS_BESIDE_TAIL);
  let ahead: ReadAhead | undefined;
  const dropAhead = () => {
    ahead?.scope.cancel();
    ahead = undefined;
  };
  const moves = input.backfill ? undefined : installCursorMoves(runtime, () => cursor, input.pendingMove);
  // A failing step continues as new too, from the committed cursor (the page in flight is simply read again); a
  // move not applied yet (requested as this run ends) is applied by the next run.
  runtime.setContinueAsNew(() => {
    dropAhead();
    late?.abandon(); // none in flight since SWEEP_ENDS_BEFORE_CONTINUE; before it, its hour stays due
    return continueWith(cursor, late?.ledger(), moves?.peek());
  });
  // A move leaves a page that fails (or waits for budget) at once: it may be the page that never ships.
  if (moves && patched(MOVES_ABANDON_PAGES)) runtime.abandonStepsWhen(moves.pending);

  // An operator's moveCursor takes effect between pages, or abandons the page that fails.
  const applyCursorMove = () => {
    const moveTo = moves?.nextMove();
    if (!moveTo) return;
    dropAhead();
    const moved = movedAuditCursor(cursor, moveTo);
    late?.cursorMoved(cursor.since, moved.since);
    cursor = moved;
    status.cursor = cursor;
    status.counts.cursorMoves = (status.counts.cursorMoves ?? 0) + 1;
  };

  // Caught up, with idle polls in an activity: the next read is a wait for news, its first poll one interval off
  // (no timer between the polls: a busy minute is a read and a ship).
  const idlePolls = !input.backfill && patched(IDLE_POLLS_IN_ACTIVITY);
  let idle = false;
  while (await runtime.nextRound(applyCursorMove)) {
    let ref: AuditPageRef | undefined;
    if (idle) {
      idle = false;
      const waited = await waitForNews(cursor, input.timings.pollIntervalMs);
      // Woken by a stop, pause, cursor move or a new poll interval: the next round reads at once.
      if (!waited) continue;
      ref = waited.ref;
      if (ref.count > 0) status.state = 'running';
    } else {
      try {
        ref = ahead && samePosition(ahead.from, cursor) ? await ahead.ref : await read(cursor);
      } catch (err) {
        if (!isCancellation(err)) throw err;
        ref = await read(cursor);
      }
    }
    ahead = undefined;
    if (!ref && runtime.stopRequested()) break;
    if (!ref) continue; // abandoned for a cursor move
    status.lastPollAt = now();
    status.counts.pages += ref.pages ?? 1;
    status.counts.skippedRepeats += ref.skipped;
    status.counts.late += ref.late;
    recordPageProblems(status, ref);
    late?.read(ref.settled);

    // Read the next page of a backlog while this one ships (a backfill's window ends where Kandji's log does).
    if (hasMoreAuditPages(ref.next)) ahead = readAhead(ref.next);

    let next = ref.next;
    if (ref.count > 0 && ref.pageId) {
      status.counts.fetched += ref.count;
      const shipped = await ship(ref, cursor);
      if (!shipped && runtime.stopRequested()) break; // stopped while Datadog was failing: the cursor stays here
      if (!shipped) continue; // abandoned for a cursor move: the move is applied next
      recordShipment(status, shipped);
      late?.shipped(shipped.ledger);
      if (shipped.reread) status.counts.reread = (status.counts.reread ?? 0) + 1;
      next = shipped.next ?? ref.next;
      if (!samePosition(next, ref.next)) dropAhead(); // the page read again ended elsewhere
    }
    cursor = next;
    status.cursor = cursor;

    if (!hasMoreAuditPages(cursor) && input.backfill) break; // the window is done
    if (!hasMoreAuditPages(cursor)) {
      dropAhead();
      status.state = 'caught_up';
      status.caughtUpAt = now();
      if (sweepBesideTail) late?.startDue();
      else await late?.sweepDue();
      if (runtime.stopRequested()) break;
      status.state = 'caught_up'; // a sweep step that failed and recovered left it at running
      if (idlePolls) {
        idle = true;
        continue;
      }
      await runtime.sleep(input.timings.pollIntervalMs, () => moves?.pending() === true);
      if (!runtime.stopRequested()) status.state = 'running';
    }
  }
  dropAhead();
  late?.abandon();
}

/**
 * The audit stream's steps over one page, each an activity run until done (StreamRuntime.untilDone): read a page
 * (its records stay in the worker that read it; a reference comes back), read the next one ahead while a page ships,
 * wait for news inside one activity while caught up, and ship a page from the worker holding it.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  log,
  patched,
  proxyActivities,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities, AuditPageRef, AwaitAuditPageResult, ShipAuditPageResult } from '../activities';
import { activityRetry } from './activity-retry';
import type { LateSweep } from './late-sweep';
import type { AuditCursor } from './shared/audit-cursor';
import { FailureType } from './shared/failure-types';
import { IDLE_HEARTBEAT_TIMEOUT_MS, IDLE_MAX_WAIT_MS } from './shared/idle-wait';
import { applyDigestTail } from './shared/overlap-digest';
import type { AuditStreamInput } from './shared/stream-input';
import type { StreamRuntime } from './stream-runtime';
import { raceWake } from './wake-race';

/**
 * Marks runs whose ship to the worker holding the page carries the cursor without its digest (that worker fails
 * PageNotHeld if it lost the page; the ship then goes to the shared queue with the whole cursor).
 */
export const SHIPS_WITHOUT_DIGEST = 'ships-without-digest';

/** How long a ship waits for the worker holding its page before reading the page again elsewhere. */
export const DEFAULT_HANDOFF_MS = 30_000;

/** A read of page N+1 started while page N ships; cancelled when page N ends somewhere else than expected. */
export interface ReadAhead {
  from: AuditCursor;
  scope: CancellationScope;
  ref: Promise<AuditPageRef | undefined>;
}

export interface AuditPageSteps {
  /** Reads the page at `from`; undefined when the step ended without a page (stop, or abandoned for a move). */
  read(from: AuditCursor): Promise<AuditPageRef | undefined>;
  readAhead(from: AuditCursor): ReadAhead;
  /**
   * While caught up: polls inside one activity until there is news (or the longest idle wait passed), ending early
   * on stop, pause, a cursor move or a new poll interval (undefined then). An idle hour is one activity start and
   * its heartbeats.
   */
  waitForNews(from: AuditCursor, firstPollInMs: number): Promise<AwaitAuditPageResult | undefined>;
  /** Ships a page from the worker holding it; if that worker is gone, from whichever worker reads it again. */
  ship(ref: AuditPageRef, from: AuditCursor): Promise<ShipAuditPageResult | undefined>;
}

/** What else the steps look at: the late sweep (its next due hour, its ledger's start) and a pending cursor move. */
export interface AuditPageStepsContext {
  lateSweep(): LateSweep | undefined;
  movePending(): boolean;
}

export function auditPageSteps(
  input: AuditStreamInput,
  runtime: StreamRuntime,
  context: AuditPageStepsContext,
): AuditPageSteps {
  const { tenant, timings } = input;
  const { readAuditPageRef } = proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '1 minute',
    retry: activityRetry(timings.fetchAttempts ?? 8, '1 minute'),
  });
  const { awaitAuditPage } = proxyActivities<Activities>({
    startToCloseTimeout: IDLE_MAX_WAIT_MS + 10 * 60_000,
    heartbeatTimeout: IDLE_HEARTBEAT_TIMEOUT_MS,
    retry: activityRetry(timings.fetchAttempts ?? 8, '1 minute'),
    // The wait learns of a cancellation only at its next heartbeat (minutes away): the stream does not wait for
    // that. A wait cancelled this way may still poll once; what it reads is never shipped.
    cancellationType: ActivityCancellationType.TRY_CANCEL,
  });
  const read = (from: AuditCursor) =>
    runtime
      .untilDone('fetch', () => readAuditPageRef({ tenant, cursor: from, acceptDigestTail: true }))
      .then((ref) => ref && withWholeDigest(ref, from));

  const waitForNews = async (from: AuditCursor, firstPollInMs: number) => {
    const args = { tenant, cursor: from, acceptDigestTail: true, firstPollInMs, ...idleWaitOf(input, context) };
    // A new poll interval (an operator's start) also ends the wait: it polls at the interval it was given. (Other
    // timings take effect when the wait ends.)
    const intervalGiven = timings.pollIntervalMs;
    const race = await raceWake(
      () => runtime.untilDone('fetch', () => awaitAuditPage(args)),
      () =>
        runtime.stopRequested() ||
        runtime.status.paused === true ||
        context.movePending() ||
        timings.pollIntervalMs !== intervalGiven,
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

  return { read, readAhead, waitForNews, ship: pageShipper(input, runtime, context) };
}

/** The idle wait's polls: at the poll interval, for up to an hour or until a late hour comes due. */
function idleWaitOf(input: AuditStreamInput, context: AuditPageStepsContext) {
  const lateDue = context.lateSweep()?.nextDueInMs();
  // At least one poll interval: a late hour already due is swept after this poll (the wait never spins).
  const maxWaitMs = Math.max(
    input.timings.pollIntervalMs,
    lateDue === undefined ? IDLE_MAX_WAIT_MS : Math.min(IDLE_MAX_WAIT_MS, lateDue),
  );
  return { pollIntervalMs: input.timings.pollIntervalMs, maxWaitMs };
}

/** AuditPageSteps.ship. */
function pageShipper(input: AuditStreamInput, runtime: StreamRuntime, context: AuditPageStepsContext) {
  const { tenant, timings } = input;
  const shipVia = (workerQueue: string | null) =>
    proxyActivities<Activities>({
      startToCloseTimeout: '15 minutes',
      heartbeatTimeout: '1 minute',
      retry: activityRetry(20),
      ...(workerQueue
        ? { taskQueue: workerQueue, scheduleToStartTimeout: timings.handoffMs ?? DEFAULT_HANDOFF_MS }
        : {}),
    }).shipAuditPage;
  // Ships to the worker holding the page carry the cursor without its digest (most of a busy stream's history).
  const digestElided = patched(SHIPS_WITHOUT_DIGEST);
  return (ref: AuditPageRef, from: AuditCursor) =>
    runtime.untilDone('ship', async (): Promise<ShipAuditPageResult> => {
      const lateFrom = context.lateSweep()?.ledger().from;
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
}

/** A read's reference with its next cursor whole again (the read sent only what changed of the digest). */
function withWholeDigest(ref: AuditPageRef, from: AuditCursor): AuditPageRef {
  if (!ref.nextDigestTail) return ref;
  const { nextDigestTail, ...rest } = ref;
  const digest = applyDigestTail(from.digest, nextDigestTail);
  return { ...rest, next: { ...ref.next, ...(digest ? { digest } : {}) } };
}

function isScheduleToStartTimeout(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_START'
  );
}

function isPageNotHeld(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FailureType.PageNotHeld
  );
}

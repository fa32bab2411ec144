/**
 * The client side of a tenant's request budget (workflows/request-budget.ts): reserves a slot before every Kandji
 * request and waits until it is due, keeping the calling activity alive meanwhile, but never longer than the
 * attempt may live: a slot further off ends the attempt with a benign KandjiBudgetWait failure, and the stream
 * workflow waits durably before trying again (its place is kept by a claim in the budget workflow).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { budgetWaitFailure, currentAttempt, type Attempt } from './attempt';
import {
  releaseSignal,
  requestBudget,
  reserveUpdate,
  type Reservation,
  type ReserveRequest,
} from '../../workflows/request-budget';
import { FailureType } from '../../workflows/shared/failure-types';
import { budgetWorkflowId } from '../../workflows/shared/workflow-ids';

export interface AcquireOptions {
  keepAlive?: () => void;
  signal?: AbortSignal;
}

export interface RequestGate {
  /**
   * Resolves when the next request may be sent. `keepAlive` is called at least every 20 s while waiting. Throws a
   * KandjiBudgetWait failure when the slot is due after the calling attempt ends.
   */
  acquire(opts?: AcquireOptions): Promise<void>;
}

/** Waits `ms`, calling `keepAlive` every 20 s and stopping early when `signal` aborts. */
export async function waitAlive(ms: number, keepAlive?: () => void, signal?: AbortSignal): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    const step = Math.min(20_000, end - Date.now());
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, step);
      signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    keepAlive?.();
  }
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}

/**
 * Slots reserved ahead, at least, when the hour has room and requests come in a burst (a burst reserves as many as
 * the worker's requests of the last LEASE_MS when that is more, so a backlog asks less and less often).
 */
export const SPARE_SLOTS = 5;
/** Requests less than this apart are a burst (a backlog, a sweep's pages). */
export const BURST_GAP_MS = 30_000;
/**
 * A request that comes alone (an idle poll) while the hour has room reserves a *lease*: as many slots as this worker
 * used for the tenant in the last LEASE_MS (at most MAX_LEASE_SLOTS, and 1/32 of the hourly budget), kept for
 * LEASE_MS, the unused ones given back at its end. Idle polling then costs one reservation (a billed update) and at most one release (a billed signal)
 * per worker and tenant every LEASE_MS, instead of one update per poll. The slots are booked when the lease is
 * taken and sent during it: the budget's hour may lag the requests actually sent by at most one lease per worker
 * (MAX_LEASE_SLOTS requests), far within the margin between the default KANDJI_REQUESTS_PER_HOUR (5,000) and
 * Kandji's own 10,000; Kandji's 429 with Retry-After stays the final arbiter.
 */
export const LEASE_MS = 30 * 60_000;
/** At most what one reservation may ask (the budget workflow refuses more than 100 at once). */
export const MAX_LEASE_SLOTS = 100;
/** Most slots a worker holds unused for a tenant: what the budget may count ahead of the requests sent. */
export const MAX_HELD_SLOTS = Math.max(SPARE_SLOTS, MAX_LEASE_SLOTS);
/** Longest a reservation may take to be answered; past it the attempt fails (retryably) rather than hang. */
export const RESERVE_TIMEOUT_MS = 20_000;
/** A slot is never booked further ahead than this, even by a long attempt (a sweep): its owner re-asks instead. */
export const MAX_BOOKING_AHEAD_MS = 5 * 60_000;

export interface TemporalRequestBudgetOptions {
  /** The attempt of the calling activity (default: read from the activity context). */
  attempt?: () => Attempt | undefined;
  /** Longest wait inside one attempt whatever its timeout (tests: attempts shorter than the budget's waits). */
  maxWaitInAttemptMs?: number;
  /** Told what each answer says the tenant may still request this hour (the budget gauge: no query needed). */
  onRemaining?: (remaining: number) => void;
}

interface Spare {
  /** When it may be used (epoch ms, this worker's clock) and its time on the budget's clock (to give it back). */
  at: number;
  time?: number;
}

export class TemporalRequestBudget implements RequestGate {
  /** Slots reserved ahead: when each may be used, ascending. Shared by this worker's activities of the tenant. */
  private spare: Spare[] = [];
  private reservedAt = 0;
  /** How long the spares of the last reservation are kept: a burst's briefly, a lease's for LEASE_MS. */
  private keepMs = BURST_GAP_MS;
  /** When this worker asked for slots of the tenant (epoch ms), over the last LEASE_MS: sizes the next lease. */
  private recent: number[] = [];
  private roomLastTime = false;
  private readonly attempt: () => Attempt | undefined;

  constructor(
    private readonly client: () => Client,
    private readonly tenant: string,
    private readonly perHour: number,
    private readonly taskQueue: string,
    private readonly options: TemporalRequestBudgetOptions = {},
  ) {
    this.attempt = options.attempt ?? (() => currentAttempt());
  }

  async acquire(opts: AcquireOptions = {}): Promise<void> {
    const attempt = this.attempt();
    const demand = this.noteRequest(Date.now());
    for (;;) {
      const maxWaitMs = this.maxWait(attempt);
      if (Date.now() - this.reservedAt > this.keepMs) this.release(this.spare.splice(0));
      let slot = this.spare[0] && this.spare[0].at - Date.now() <= maxWaitMs ? this.spare.shift() : undefined;
      if (!slot) {
        const reservation = await this.reserve(opts, attempt, maxWaitMs, demand);
        const now = Date.now();
        const waits = reservation.waitsMs;
        if (waits.length === 0) {
          // Nothing booked: the next slot is due after this attempt may wait. Wait here if the attempt outlives it
          // (a sweep, booking at most MAX_BOOKING_AHEAD_MS ahead), else end the attempt and wait in the workflow.
          const retryAfter = reservation.retryAfterMs ?? reservation.waitMs;
          if (
            attempt &&
            now + retryAfter < attempt.deadline &&
            (this.options.maxWaitInAttemptMs ?? Infinity) >= retryAfter
          ) {
            await waitAlive(retryAfter, opts.keepAlive, opts.signal);
            continue;
          }
          throw budgetWaitFailure(retryAfter, `request budget of tenant ${this.tenant} (${this.perHour}/h) is spent`);
        }
        this.reservedAt = now;
        const slots = waits.map((w, i) => ({ at: now + w, time: reservation.times?.[i] }));
        slot = slots.shift()!;
        this.spare.push(...slots);
        this.spare.sort((a, b) => a.at - b.at);
      }
      const wait = slot.at - Date.now();
      if (wait > 0) {
        try {
          await waitAlive(wait, opts.keepAlive, opts.signal);
        } catch (err) {
          this.release([slot]); // cancelled while waiting: the slot was never used
          throw err;
        }
      }
      return;
    }
  }

  /**
   * Records a request and says how many slots to reserve if none is held: SPARE_SLOTS in a burst, a lease sized by
   * the last LEASE_MS for a lone request, one while the hour is short (only what is needed now is booked).
   */
  private noteRequest(now: number): { count: number; keepMs: number } {
    const burst = now - (this.recent[this.recent.length - 1] ?? -Infinity) < BURST_GAP_MS;
    while (this.recent.length > 0 && this.recent[0]! <= now - LEASE_MS) this.recent.shift();
    const lease = Math.max(1, Math.min(MAX_LEASE_SLOTS, this.recent.length));
    this.recent.push(now);
    if (this.recent.length > MAX_LEASE_SLOTS * 4) this.recent.shift();
    if (!this.roomLastTime) return { count: 1, keepMs: BURST_GAP_MS };
    // A burst (a sweep's pages, a backlog) reserves at least SPARE_SLOTS and grows with it: the lease then covers the
    // next sweep too, instead of a reservation per few pages and a release after each burst.
    // Never more than 1/32 of the hour (100 at the default 5,000): a worker that dies holding them costs little.
    const cap = Math.max(1, Math.floor(this.perHour / 32));
    return { count: Math.min(cap, burst ? Math.max(SPARE_SLOTS, lease) : lease), keepMs: LEASE_MS };
  }

  /** How long the calling attempt may wait for a slot (ms). */
  private maxWait(attempt: Attempt | undefined): number {
    const left = attempt ? Math.max(0, attempt.deadline - Date.now()) : MAX_BOOKING_AHEAD_MS;
    return Math.min(left, MAX_BOOKING_AHEAD_MS, this.options.maxWaitInAttemptMs ?? Infinity);
  }

  /** Gives unused slots back to the hour (best effort: a slot not given back only costs one request of the hour). */
  private release(slots: Spare[]): void {
    const times = slots.flatMap((s) => (s.time === undefined ? [] : [s.time]));
    if (times.length === 0) return;
    try {
      const client = this.client();
      client.workflow
        .getHandle(budgetWorkflowId(this.tenant))
        .signal(releaseSignal, { times })
        .catch(() => undefined);
    } catch {
      // outside an activity: nothing to give back to
    }
  }

  /** Reserves `demand.count` slots (noteRequest), kept for `demand.keepMs`. */
  private async reserve(
    opts: AcquireOptions,
    attempt: Attempt | undefined,
    maxWaitMs: number,
    demand: { count: number; keepMs: number },
  ): Promise<Reservation> {
    const { count } = demand;
    this.keepMs = demand.keepMs;
    const client = this.client();
    // The reservation is answered by a workflow task: bounded, so that an attempt never hangs on it (no worker
    // polling the budget's task queue, a stuck workflow), and ended at once when the activity is cancelled (a
    // worker shutting down).
    const timeout = AbortSignal.timeout(RESERVE_TIMEOUT_MS);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const bounded = <T>(fn: () => Promise<T>): Promise<T> =>
      client.withAbortSignal(signal, fn).catch((err: unknown) => {
        if (timeout.aborted && !opts.signal?.aborted) {
          throw ApplicationFailure.create({
            type: FailureType.KandjiUnavailable,
            message: `the request budget of tenant ${this.tenant} did not answer within ${RESERVE_TIMEOUT_MS / 1_000} s (is a worker polling ${this.taskQueue}?)`,
            nextRetryDelay: 5_000,
            cause: err instanceof Error ? err : undefined,
          });
        }
        throw err;
      });
    const handle = client.workflow.getHandle(budgetWorkflowId(this.tenant));
    const req: ReserveRequest = {
      count,
      perHour: this.perHour,
      maxWaitMs,
      ...(attempt ? { owner: attempt.owner, priority: attempt.priority } : {}),
    };
    const reserve = () => bounded(() => handle.executeUpdate(reserveUpdate, { args: [req] }));
    let reservation: Reservation;
    try {
      reservation = await reserve();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await bounded(() =>
        client.workflow.start(requestBudget, {
          workflowId: budgetWorkflowId(this.tenant),
          taskQueue: this.taskQueue,
          args: [{ grants: [], perHour: this.perHour }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      ).catch(() => undefined);
      reservation = await reserve();
    }
    const waits = reservation.waitsMs;
    this.roomLastTime = waits.length > 0 && waits.every((w) => w === 0);
    if (reservation.remaining !== undefined) this.options.onRemaining?.(reservation.remaining);
    return reservation;
  }
}

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

export function budgetWorkflowId(tenant: string): string {
  return `kandji-datadog/${tenant}/request-budget`;
}

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
 * Slots reserved ahead when the hour has room and requests come in a burst: a backlog then asks the budget workflow
 * once per this many requests. A request that comes alone (the last one was more than SPARE_TTL_MS ago: an idle
 * poll) reserves just its own slot, so that there is nothing to give back: one update per poll, no release signal.
 */
export const SPARE_SLOTS = 5;
/** A slot reserved ahead and not used within this long is given back. */
export const SPARE_TTL_MS = 30_000;
/** Longest a reservation may take to be answered; past it the attempt fails (retryably) rather than hang. */
export const RESERVE_TIMEOUT_MS = 20_000;
/** A slot is never booked further ahead than this, even by a long attempt (a sweep): its owner re-asks instead. */
export const MAX_BOOKING_AHEAD_MS = 5 * 60_000;

export interface TemporalRequestBudgetOptions {
  /** The attempt of the calling activity (default: read from the activity context). */
  attempt?: () => Attempt | undefined;
  /** Longest wait inside one attempt whatever its timeout (tests: attempts shorter than the budget's waits). */
  maxWaitInAttemptMs?: number;
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
  /** When this worker last asked for a slot of the tenant (epoch ms): tells a burst from a lone request. */
  private acquiredAt = 0;
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
    const burst = Date.now() - this.acquiredAt <= SPARE_TTL_MS;
    this.acquiredAt = Date.now();
    for (;;) {
      const maxWaitMs = this.maxWait(attempt);
      if (Date.now() - this.reservedAt > SPARE_TTL_MS) this.release(this.spare.splice(0));
      let slot = this.spare[0] && this.spare[0].at - Date.now() <= maxWaitMs ? this.spare.shift() : undefined;
      if (!slot) {
        const reservation = await this.reserve(opts, attempt, maxWaitMs, burst);
        const now = Date.now();
        const waits = reservation.waitsMs ?? [reservation.waitMs];
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

  /** Reserves slots: several in a burst while the hour has room (the last answer said so), else one. */
  private async reserve(
    opts: AcquireOptions,
    attempt: Attempt | undefined,
    maxWaitMs: number,
    burst: boolean,
  ): Promise<Reservation> {
    const count = burst && this.roomLastTime ? SPARE_SLOTS : 1;
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
    const waits = reservation.waitsMs ?? [reservation.waitMs];
    this.roomLastTime = waits.length > 0 && waits.every((w) => w === 0);
    return reservation;
  }
}

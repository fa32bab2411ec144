/**
 * A tenant's Kandji request budget, kept durably by Temporal: every request of every stream and backfill of the
 * tenant, from any worker, first reserves a slot here. Kandji allows 10,000 requests per hour per tenant, shared
 * by all its tokens; we keep to KANDJI_REQUESTS_PER_HOUR (default 5,000) over any sliding hour. A reservation
 * returns how long to wait: 0 while the hour has room, so a backlog drains at the full budget; later once it is
 * spent. The state is the grant times of the last hour; it survives worker restarts and is shared by all workers.
 *
 * Reservations never outlive the attempt that asks (callers say how long they may wait, `maxWaitMs`):
 * - a slot is booked only if it is due within `maxWaitMs`; a booked slot counts against the hour whether or not
 *   it is used (Kandji may have seen the request), unless its holder gives it back (`release`) unused;
 * - a slot further off is not booked: the answer says when to come back (`retryAfterMs`) and a *claim* keeps the
 *   caller's place until a little after that time (CLAIM_GRACE_MS). A caller that comes back (same `owner`)
 *   redeems it; the claim of one that never comes back (its worker died) simply expires;
 * - the live tail goes first when the hour is short: a live request ignores the claims of backfills, while a
 *   backfill queues behind every claim.
 * So a dead attempt costs at most the few slots it booked within its own lifetime, never a future hour.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from './shared/failure-types';

export const HOUR_MS = 3_600_000;

/** A claim not redeemed this long after its time is dropped: its owner is gone. */
export const CLAIM_GRACE_MS = 120_000;
/** At most this many claims are kept (oldest dropped first): the state stays small whatever the callers. */
export const MAX_CLAIMS = 500;

export type BudgetPriority = 'live' | 'backfill';

export interface ReserveRequest {
  /** Requests to reserve (normally 1). */
  count: number;
  /** The budget per sliding hour, as the calling worker is configured. */
  perHour: number;
  /** How long the caller may wait for its slots (ms): slots due later are not booked. */
  maxWaitMs: number;
  /** Who asks, the same across attempts (workflow id / activity id): a caller coming back redeems its claim. */
  owner?: string;
  /** `live` (default) is served before `backfill` when the hour is short. */
  priority?: BudgetPriority;
}

export interface Reservation {
  /** Wait this long before sending (ms); 0 when the hour has room. For several slots: the last one's wait. */
  waitMs: number;
  /** The wait of each slot reserved, in order (empty when none was booked). */
  waitsMs: number[];
  /** Nothing was booked (the next slot is further off than `maxWaitMs`): come back in this long (ms). */
  retryAfterMs?: number;
  /** The booked slots' times on the budget's clock (epoch ms): what `release` takes back. */
  times?: number[];
  /**
   * Requests the tenant may still make in the sliding hour after this answer (absent in answers of earlier
   * versions): the worker's budget gauge, so that no one has to query the budget workflow for it.
   */
  remaining?: number;
}

export interface BudgetClaim {
  owner: string;
  /** When the owner's slot is expected (epoch ms). */
  at: number;
  priority: BudgetPriority;
}

export interface BudgetState {
  /** Grant times (epoch ms), ascending, of the last hour (and any scheduled ahead). */
  grants: number[];
  perHour: number;
  /** Callers told to come back later, and when (absent when there are none). */
  claims?: BudgetClaim[];
}

export interface ReleaseRequest {
  /** Times of slots booked and never used, as answered (`Reservation.times`). */
  times: number[];
}

export const reserveUpdate = defineUpdate<Reservation, [ReserveRequest]>('reserve');
export const releaseSignal = defineSignal<[ReleaseRequest]>('release');
export const budgetQuery = defineQuery<{
  perHour: number;
  usedLastHour: number;
  scheduledAhead: number;
  waiting?: number;
}>('budget');

/**
 * The wait a KandjiBudgetWait failure asks for (an attempt that would have waited for budget or a 429 longer than it
 * may live), or undefined for any other failure. The stream workflows wait that long durably, as no error.
 */
export function budgetWaitOf(
  failure: { type?: string | null; details?: unknown[] | null } | undefined,
): number | undefined {
  if (failure?.type !== FailureType.KandjiBudgetWait) return undefined;
  const ms = (failure.details?.[0] as { waitMs?: unknown } | undefined)?.waitMs;
  return typeof ms === 'number' && ms >= 0 ? ms : 0;
}

/** When the next `count` requests may go, given ascending grant times: pure, shared with tests. */
export function nextGrantTimes(grants: readonly number[], now: number, perHour: number, count: number): number[] {
  const all = [...grants];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    // The newest `perHour` grants must span more than an hour: the new one goes one hour after the oldest of them.
    const k = all.length - perHour;
    const t = Math.max(now, all[all.length - 1] ?? now, k >= 0 ? all[k]! + HOUR_MS : now);
    all.push(t);
    out.push(t);
  }
  return out;
}

/** Index of the first element of ascending `xs` greater than `x`. */
function upperBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether one more grant at `t` keeps every sliding hour of ascending `grants` at or under `perHour`. */
export function fitsAt(grants: readonly number[], t: number, perHour: number): boolean {
  const inHourTo = (x: number) => upperBound(grants, x) - upperBound(grants, x - HOUR_MS);
  if (inHourTo(t) + 1 > perHour) return false;
  for (let i = upperBound(grants, t); i < grants.length && grants[i]! < t + HOUR_MS; i++)
    if (inHourTo(grants[i]!) + 1 > perHour) return false;
  return true;
}

/**
 * Serves one reservation against `grants` (ascending, pruned) and `claims` (pruned), updating both: pure, shared
 * with tests. `grants` stays ascending and every sliding hour holds at most `perHour` of them: a new slot goes after
 * every grant and claim it must respect (nextGrantTimes), or, for a caller redeeming its claim, where it was promised
 * if the hour still has room there.
 */
export function serveReservation(
  grants: number[],
  claims: BudgetClaim[],
  req: ReserveRequest,
  now: number,
): Reservation {
  const priority = req.priority ?? 'live';
  const maxWait = req.maxWaitMs;
  const own = req.owner === undefined ? -1 : claims.findIndex((c) => c.owner === req.owner);
  const claimed = own >= 0 ? claims.splice(own, 1)[0] : undefined; // redeemed now, or replaced below
  // A live request queues behind live claims only; a backfill behind all of them.
  const ahead = claims.filter((c) => priority === 'backfill' || c.priority === 'live').map((c) => c.at);
  const taken = ahead.length === 0 ? grants : [...grants, ...ahead].sort((a, b) => a - b);
  const book = (times: number[]): Reservation => {
    for (const t of times) grants.splice(upperBound(grants, t), 0, t);
    const waitsMs = times.map((t) => Math.max(0, t - now));
    return { waitMs: waitsMs[waitsMs.length - 1]!, waitsMs, times };
  };
  // The owner of a claim gets the slot it was promised, though later callers may have booked slots after it.
  if (claimed) {
    const t = Math.max(now, claimed.at);
    if (t - now <= maxWait && fitsAt(taken, t, req.perHour)) return book([t]);
  }
  const times = nextGrantTimes(taken, now, req.perHour, req.count);
  const booked = times.filter((t) => t - now <= maxWait);
  if (booked.length > 0) return book(booked);
  const at = times[0]!;
  if (req.owner !== undefined) {
    claims.push({ owner: req.owner, at, priority });
    if (claims.length > MAX_CLAIMS) claims.splice(0, claims.length - MAX_CLAIMS);
  }
  return { waitMs: at - now, waitsMs: [], retryAfterMs: at - now };
}

/** Requests left in the sliding hour: granted slots of the last hour and those booked ahead are both spent. */
export function budgetRemaining(grants: number[], perHour: number, now: number): number {
  return perHour - grants.filter((g) => g > now - HOUR_MS).length;
}

/** Drops grants older than an hour and claims their owners did not come back for (in place): pure, shared with tests. */
export function pruneBudget(grants: number[], claims: BudgetClaim[], now: number): void {
  while (grants.length > 0 && grants[0]! <= now - HOUR_MS) grants.shift();
  for (let i = claims.length - 1; i >= 0; i--) if (claims[i]!.at + CLAIM_GRACE_MS <= now) claims.splice(i, 1);
}

export async function requestBudget(state: BudgetState): Promise<void> {
  const grants = [...state.grants];
  const claims = [...(state.claims ?? [])];
  let perHour = state.perHour;
  let handled = 0;
  const prune = (now: number) => pruneBudget(grants, claims, now);

  setHandler(
    reserveUpdate,
    (req) => {
      perHour = req.perHour;
      const now = Date.now();
      prune(now);
      handled += 1;
      return { ...serveReservation(grants, claims, req, now), remaining: budgetRemaining(grants, perHour, now) };
    },
    {
      validator: (req) => {
        if (!(Number.isInteger(req?.count) && req.count >= 1 && req.count <= 100))
          throw new Error('count must be an integer from 1 to 100');
        if (!(Number.isInteger(req?.perHour) && req.perHour >= 1))
          throw new Error('perHour must be a positive integer');
        if (!(typeof req?.maxWaitMs === 'number' && req.maxWaitMs >= 0))
          throw new Error('maxWaitMs must be a number ≥ 0');
        if (req.owner !== undefined && !(typeof req.owner === 'string' && req.owner.length <= 1_000))
          throw new Error('owner must be a string');
        if (req.priority !== undefined && req.priority !== 'live' && req.priority !== 'backfill')
          throw new Error('priority must be live or backfill');
      },
    },
  );
  // Slots booked and never used (the attempt gave up, a spare expired) go back to the hour.
  setHandler(releaseSignal, (req) => {
    for (const t of Array.isArray(req?.times) ? req.times.slice(0, 100) : []) {
      const i = grants.lastIndexOf(t);
      if (i >= 0) grants.splice(i, 1);
    }
  });
  setHandler(budgetQuery, () => {
    const now = Date.now();
    return {
      perHour,
      usedLastHour: grants.filter((g) => g > now - HOUR_MS && g <= now).length,
      scheduledAhead: grants.filter((g) => g > now).length,
      waiting: claims.filter((c) => c.at + CLAIM_GRACE_MS > now).length,
    };
  });

  // Updates cost history; hand over to a fresh run well before Temporal's 2,000-updates-per-run limit.
  await condition(() => handled >= 1_000 || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  const now = Date.now();
  prune(now);
  await continueAsNew<typeof requestBudget>({ grants, perHour, ...(claims.length > 0 ? { claims } : {}) });
}

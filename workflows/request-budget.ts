/**
 * A tenant's Kandji request budget, kept durably by Temporal: every request of every stream and backfill of the
 * tenant, from any worker, first reserves a slot here. Kandji allows 10,000 requests per hour per tenant, shared
 * by all its tokens; we keep to KANDJI_REQUESTS_PER_HOUR (default 5,000) over any sliding hour. A reservation
 * returns how long to wait: 0 while the hour has room, so a backlog drains at the full budget; later once it is
 * spent. The state is the grant times of the last hour; it survives worker restarts and is shared by all workers.
 */
import { allHandlersFinished, condition, continueAsNew, defineQuery, defineUpdate, setHandler, workflowInfo } from '@temporalio/workflow';

export const HOUR_MS = 3_600_000;

export interface ReserveRequest {
  /** Requests to reserve (normally 1). */
  count: number;
  /** The budget per sliding hour, as the calling worker is configured. */
  perHour: number;
}

export interface Reservation {
  /** Wait this long before sending (ms); 0 when the hour has room. For several slots: the last one's wait. */
  waitMs: number;
  /** The wait of each slot reserved, in order (absent in answers of 0.2 workers). */
  waitsMs?: number[];
}

export interface BudgetState {
  /** Grant times (epoch ms), ascending, of the last hour (and any scheduled ahead). */
  grants: number[];
  perHour: number;
}

export const reserveUpdate = defineUpdate<Reservation, [ReserveRequest]>('reserve');
export const budgetQuery = defineQuery<{ perHour: number; usedLastHour: number; scheduledAhead: number }>('budget');

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

export async function requestBudget(state: BudgetState): Promise<void> {
  const grants = [...state.grants];
  let perHour = state.perHour;
  let handled = 0;

  setHandler(
    reserveUpdate,
    (req) => {
      perHour = req.perHour;
      const now = Date.now();
      while (grants.length > 0 && grants[0]! <= now - HOUR_MS) grants.shift();
      const times = nextGrantTimes(grants, now, perHour, req.count);
      grants.push(...times);
      handled += 1;
      const waitsMs = times.map((t) => Math.max(0, t - now));
      return { waitMs: waitsMs[waitsMs.length - 1]!, waitsMs };
    },
    {
      validator: (req) => {
        if (!(Number.isInteger(req?.count) && req.count >= 1 && req.count <= 100)) throw new Error('count must be an integer from 1 to 100');
        if (!(Number.isInteger(req?.perHour) && req.perHour >= 1)) throw new Error('perHour must be a positive integer');
      },
    },
  );
  setHandler(budgetQuery, () => {
    const now = Date.now();
    return {
      perHour,
      usedLastHour: grants.filter((g) => g > now - HOUR_MS && g <= now).length,
      scheduledAhead: grants.filter((g) => g > now).length,
    };
  });

  // Updates cost history; hand over to a fresh run well before Temporal's 2,000-updates-per-run limit.
  await condition(() => handled >= 1_000 || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  const now = Date.now();
  await continueAsNew<typeof requestBudget>({ grants: grants.filter((g) => g > now - HOUR_MS), perHour });
}

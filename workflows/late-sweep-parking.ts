/**
 * Which late-sweep hours wait, and until when (workflow side, deterministic). A sweep never holds the audit stream's
 * live tail: a sweep that cannot get Kandji request budget, or whose hour keeps failing after the activity's own
 * retries, is parked here instead of retried in place, and tried again at a later poll once its time has come.
 *
 * - No budget: the tenant's budget (or a 429) has no slot for it: every sweep waits until the slot the budget named.
 * - Failed: that hour alone waits, 5 minutes after its first failure, doubling up to an hour; other hours go on.
 *   An hour parked until it falls out of Datadog's 18-hour window is dropped with the ledger's hour.
 *
 * Kept in memory: a continue-as-new starts with nothing parked (one attempt per parked hour, at the first poll).
 */
import type { ParkedLateSweep } from './shared/stream-status';

export const PARK_FIRST_MS = 5 * 60_000;
export const PARK_MAX_MS = 60 * 60_000;

interface Parked {
  reason: string;
  until: number;
  failures: number;
}

export class LateSweepParking {
  private budget: (Parked & { hour: string }) | undefined;
  private readonly failed = new Map<string, Parked>();

  /** True while the budget has no slot for a sweep. */
  waitingForBudget(nowMs: number): boolean {
    return this.budget !== undefined && nowMs < this.budget.until;
  }

  /** True while `hour` waits after failures. */
  isParked(hour: string, nowMs: number): boolean {
    const p = this.failed.get(hour);
    return p !== undefined && nowMs < p.until;
  }

  parkForBudget(hour: string, waitMs: number, nowMs: number): ParkedLateSweep {
    this.budget = { hour, reason: 'waiting for the Kandji request budget', until: nowMs + waitMs, failures: 0 };
    return shown(hour, this.budget);
  }

  parkFailed(hour: string, reason: string, nowMs: number): ParkedLateSweep {
    const failures = (this.failed.get(hour)?.failures ?? 0) + 1;
    const waitMs = Math.min(PARK_FIRST_MS * 2 ** (failures - 1), PARK_MAX_MS);
    const parked = { reason, until: nowMs + waitMs, failures };
    this.failed.set(hour, parked);
    return shown(hour, parked);
  }

  /** `hour` was swept: it no longer waits, and the budget had a slot. */
  swept(hour: string): void {
    this.failed.delete(hour);
    this.budget = undefined;
  }

  /** Forgets hours no longer in the ledger (past the horizon, or the ledger started again). */
  keepOnly(hours: (hour: string) => boolean): void {
    for (const hour of [...this.failed.keys()]) if (!hours(hour)) this.failed.delete(hour);
  }

  /** What status shows: every parked hour, the budget wait first. */
  shown(): ParkedLateSweep[] {
    const out = this.budget ? [shown(this.budget.hour, this.budget)] : [];
    for (const [hour, p] of [...this.failed].sort(([a], [b]) => (a < b ? -1 : 1))) out.push(shown(hour, p));
    return out;
  }
}

function shown(hour: string, p: Parked): ParkedLateSweep {
  return {
    hour,
    reason: p.reason,
    until: new Date(p.until).toISOString(),
    ...(p.failures > 0 ? { failures: p.failures } : {}),
  };
}

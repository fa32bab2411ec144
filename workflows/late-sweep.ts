/**
 * The audit stream's late sweep, on the workflow side: keeps the late-event ledger (late-ledger.ts) as pages ship,
 * and while the stream is caught up re-reads the past hours that are due, one activity per hour, oldest first.
 * Late events within the overlap window are the polls' (audit-cursor.ts); the sweep takes those later than that,
 * up to Datadog's 18-hour window. The ledger is a few KB per hour whatever the event rate, carried across
 * continue-as-new; it never holds a record.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { activityRetry } from './activity-retry';
import {
  addToLedger,
  DEFAULT_SWEEP_TIERS_MS,
  dueLateHours,
  markSwept,
  newLateLedger,
  pruneLedger,
  restartLateLedger,
  type LateLedger,
  type LedgerDelta,
} from './shared/late-ledger';
import type { AuditStreamInput } from './shared/stream-input';
import { recordShipment } from './shipment';
import type { StreamRuntime } from './stream-runtime';

/** Hours swept between two polls at most: the live tail never waits behind a long sweep. */
export const MAX_HOURS_PER_POLL = 3;

export interface LateSweep {
  /** What continue-as-new carries. */
  ledger(): LateLedger;
  /** A page was read: where its polls start re-reading from now on. */
  read(settled: string | undefined): void;
  shipped(delta: LedgerDelta | undefined): void;
  /** An operator moved the cursor: tracking starts again after both positions. */
  cursorMoved(oldSince: string, newSince: string): void;
  /** Sweeps the hours that are due (a few at most); call while caught up. */
  sweepDue(): Promise<void>;
}

export function createLateSweep(input: AuditStreamInput, runtime: StreamRuntime): LateSweep | undefined {
  const tiers = input.timings.lateSweepTiersMs ?? DEFAULT_SWEEP_TIERS_MS;
  if (tiers.length === 0) return undefined; // turned off (KANDJI_AUDIT_LATE_SWEEPS=off)
  const { sweepLateAuditHour } = proxyActivities<Activities>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '1 minute',
    retry: activityRetry(20, '2 minutes'),
  });
  const { status } = runtime;
  let ledger = input.late ?? newLateLedger(input.cursor);
  let settled: string | undefined;
  return {
    ledger: () => ledger,
    read: (s) => {
      if (s) settled = s;
    },
    shipped: (delta) => {
      // Pruned here too, not only when caught up: a drain of days must not pile up hours no sweep can reach.
      ledger = pruneLedger(addToLedger(ledger, delta), Date.now());
    },
    cursorMoved: (oldSince, newSince) => {
      ledger = restartLateLedger(oldSince, newSince);
      settled = undefined;
    },
    async sweepDue() {
      if (!settled) return;
      ledger = pruneLedger(ledger, Date.now());
      for (const hour of dueLateHours(ledger, settled, Date.now(), tiers).slice(0, MAX_HOURS_PER_POLL)) {
        if (runtime.stopRequested() || status.paused) return;
        const swept = await runtime.untilDone('sweep', () =>
          sweepLateAuditHour({ tenant: input.tenant, hour, from: ledger.from, cells: ledger.hours[hour]?.cells }),
        );
        if (!swept) return; // stop requested while it was failing
        ledger = markSwept(addToLedger(ledger, { [hour]: swept.delta }), [hour], Date.now(), tiers);
        recordShipment(status, swept.shipment);
        const c = status.counts;
        c.pages += swept.pages;
        if (swept.found) c.lateFound = (c.lateFound ?? 0) + swept.found;
        if (swept.resent) c.lateResent = (c.lateResent ?? 0) + swept.resent;
        status.lastLateSweep = { hour, at: new Date().toISOString() };
      }
    },
  };
}

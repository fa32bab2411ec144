/** Adds what a shipBatch (or sweep) reported to a stream's status. */
import type { StreamStatus } from './shared/stream-status';
import { nowIso } from './shared/timestamps';

/** Optional fields: results recorded by 0.1.0 workers (in running workflows' histories) lack them. */
export interface ShipmentReport {
  shipped: number;
  batches: number;
  deadLetters?: { identity: string; reason: string }[];
  /** All dead letters (deadLetters holds only the first few); absent in 0.2 results. */
  deadLettered?: number;
  stale?: { count: number };
  trimmed?: number;
}

export function recordShipment(status: StreamStatus, shipped: ShipmentReport): void {
  const now = nowIso();
  status.counts.shipped += shipped.shipped;
  status.counts.batches += shipped.batches;
  const deadLetters = shipped.deadLetters ?? [];
  status.counts.stale += shipped.stale?.count ?? 0;
  status.counts.trimmed += shipped.trimmed ?? 0;
  status.counts.deadLettered += shipped.deadLettered ?? deadLetters.length;
  const dead = deadLetters[deadLetters.length - 1];
  if (dead) status.lastDeadLetter = { identity: dead.identity, reason: dead.reason, at: now };
  if (shipped.shipped > 0) status.lastShipAt = now;
}

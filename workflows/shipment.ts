/** Adds what a ship (or sweep) activity reported to a stream's status. */
import type { StreamStatus } from './shared/stream-status';
import { nowIso } from './shared/timestamps';

export interface ShipmentReport {
  shipped: number;
  batches: number;
  deadLetters: { identity: string; reason: string }[];
  /** All dead letters (deadLetters holds only the first few). */
  deadLettered: number;
  stale: { count: number };
  trimmed: number;
}

export function recordShipment(status: StreamStatus, shipped: ShipmentReport): void {
  const now = nowIso();
  status.counts.shipped += shipped.shipped;
  status.counts.batches += shipped.batches;
  status.counts.stale += shipped.stale.count;
  status.counts.trimmed += shipped.trimmed;
  status.counts.deadLettered += shipped.deadLettered;
  const dead = shipped.deadLetters[shipped.deadLetters.length - 1];
  if (dead) status.lastDeadLetter = { identity: dead.identity, reason: dead.reason, at: now };
  if (shipped.shipped > 0) status.lastShipAt = now;
}

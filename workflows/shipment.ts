/** Adds what a shipBatch (or sweep) reported to a stream's status. */
import type { StreamStatus } from './stream-status';

export interface ShipmentReport {
  shipped: number;
  batches: number;
  deadLetters: { identity: string; reason: string }[];
  stale: { count: number };
  trimmed: number;
}

export function recordShipment(status: StreamStatus, shipped: ShipmentReport): void {
  const now = new Date().toISOString();
  status.counts.shipped += shipped.shipped;
  status.counts.batches += shipped.batches;
  status.counts.stale += shipped.stale.count;
  status.counts.trimmed += shipped.trimmed;
  status.counts.deadLettered += shipped.deadLetters.length;
  const dead = shipped.deadLetters[shipped.deadLetters.length - 1];
  if (dead) status.lastDeadLetter = { identity: dead.identity, reason: dead.reason, at: now };
  if (shipped.shipped > 0) status.lastShipAt = now;
}

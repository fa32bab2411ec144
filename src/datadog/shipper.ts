/**
 * Ships log items to the intake without losing, repeating or mangling any: batches within Datadog's limits,
 * a 413 halves the batch, and a 400 is bisected down to the item(s) Datadog rejects, which become dead letters
 * while the rest ship. Other failures (auth, rate limits, outages) propagate for the caller to retry.
 */
import { RemoteError } from '../remote-errors';
import { splitIntoBatches, type Batch } from './batches';

export interface DeadLetter {
  /** The record's identity (audit: its id; detections: device_id|bundle_id|cve_id). */
  identity: string;
  status?: number;
  reason: string;
}

export interface ShipProgress {
  /** Top-level batches fully handled (accepted or dead-lettered). */
  batchesDone: number;
  accepted: number;
  requests: number;
  deadLetters: DeadLetter[];
}

export function emptyProgress(): ShipProgress {
  return { batchesDone: 0, accepted: 0, requests: 0, deadLetters: [] };
}

export interface ShipOptions {
  send: (body: string) => Promise<void>;
  /** Called after each top-level batch, with the progress to resume from. */
  onBatchDone?: (progress: ShipProgress) => void;
  limits?: { maxItems?: number; maxBytes?: number };
}

/**
 * Ships `items` (identities alongside), resuming from `progress` (e.g. a heartbeat of an earlier attempt).
 * Resolves with the final progress once every item is accepted or dead-lettered.
 */
export async function shipItems(
  items: readonly Record<string, unknown>[],
  identities: readonly string[],
  opts: ShipOptions,
  progress: ShipProgress = emptyProgress(),
): Promise<ShipProgress> {
  const batches = splitIntoBatches(items, opts.limits);

  const sendRange = async (start: number, end: number, body?: string): Promise<void> => {
    try {
      await opts.send(body ?? JSON.stringify(items.slice(start, end)));
      progress.requests += 1;
      progress.accepted += end - start;
    } catch (err) {
      const splittable = err instanceof RemoteError && (err.kind === 'rejected' || err.kind === 'too_large');
      if (!splittable) throw err;
      if (end - start > 1) {
        const mid = start + Math.ceil((end - start) / 2);
        await sendRange(start, mid);
        await sendRange(mid, end);
        return;
      }
      progress.deadLetters.push({
        identity: identities[start] ?? `#${start}`,
        status: err.details.status,
        reason: err.message,
      });
    }
  };

  for (let i = progress.batchesDone; i < batches.length; i++) {
    const batch: Batch = batches[i]!;
    await sendRange(batch.start, batch.start + batch.count, batch.body);
    progress.batchesDone = i + 1;
    opts.onBatchDone?.(progress);
  }
  return progress;
}

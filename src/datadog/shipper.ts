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
  /**
   * Identity of the last item of the last batch fully handled: a resumed attempt starts after it, wherever it now
   * stands in the list (which may differ from the first attempt's, e.g. after stale filtering by a later clock).
   */
  doneIdentity?: string;
  accepted: number;
  requests: number;
  /** The first MAX_DEAD_LETTERS_KEPT dead letters (all are logged); `deadLettered` counts them all. */
  deadLetters: DeadLetter[];
  deadLettered?: number;
}

/** Dead letters kept in progress and results: heartbeats and history stay small however many there are. */
export const MAX_DEAD_LETTERS_KEPT = 20;

export function emptyProgress(): ShipProgress {
  return { batchesDone: 0, accepted: 0, requests: 0, deadLetters: [], deadLettered: 0 };
}

export interface ShipOptions {
  send: (body: string) => Promise<void>;
  /** Called after each top-level batch, with the progress to resume from. */
  onBatchDone?: (progress: ShipProgress) => void;
  limits?: { maxItems?: number; maxBytes?: number };
  /** The items already serialised (same order), to serialise nothing twice. */
  serialised?: readonly string[];
  /** Called for each dead letter (to log it) as it happens. */
  onDeadLetter?: (dead: DeadLetter) => void;
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
  // Resume after the last item an earlier attempt finished, found by identity (else by batch count: 0.2 heartbeats).
  let first = 0;
  if (progress.doneIdentity !== undefined) first = identities.lastIndexOf(progress.doneIdentity) + 1;
  const json = opts.serialised;
  const batches = splitIntoBatches(first > 0 ? items.slice(first) : items, opts.limits, first > 0 ? json?.slice(first) : json).map((b) => ({
    ...b,
    start: b.start + first,
  }));
  const startBatch = progress.doneIdentity !== undefined ? 0 : progress.batchesDone;

  const sendRange = async (start: number, end: number, body?: string): Promise<void> => {
    try {
      await opts.send(body ?? (json ? `[${json.slice(start, end).join(',')}]` : JSON.stringify(items.slice(start, end))));
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
      const dead = { identity: identities[start] ?? `#${start}`, status: err.details.status, reason: err.message };
      opts.onDeadLetter?.(dead);
      progress.deadLettered = (progress.deadLettered ?? progress.deadLetters.length) + 1;
      if (progress.deadLetters.length < MAX_DEAD_LETTERS_KEPT) progress.deadLetters.push(dead);
    }
  };

  for (let i = startBatch; i < batches.length; i++) {
    const batch: Batch = batches[i]!;
    await sendRange(batch.start, batch.start + batch.count, batch.body);
    progress.batchesDone += 1;
    progress.doneIdentity = identities[batch.start + batch.count - 1] ?? `#${batch.start + batch.count - 1}`;
    opts.onBatchDone?.(progress);
  }
  return progress;
}

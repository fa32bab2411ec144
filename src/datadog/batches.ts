/**
 * Splits log items into intake requests within Datadog's limits: at most 1,000 items and 5 MB uncompressed per
 * request. We aim below the byte limit (4.25 MB, as Vector does) so the array brackets and commas never tip a batch
 * over. Items keep their order.
 */
export const MAX_ITEMS_PER_BATCH = 1_000;
export const MAX_BATCH_BYTES = 4_250_000;

export interface Batch {
  /** The serialised JSON array, ready to compress. */
  body: string;
  count: number;
  /** Index of the batch's first item in the input. */
  start: number;
}

export function splitIntoBatches(
  items: readonly unknown[],
  limits: { maxItems?: number; maxBytes?: number } = {},
  /** The items already serialised (same order), to serialise nothing twice. */
  serialised?: readonly string[],
): Batch[] {
  const maxItems = limits.maxItems ?? MAX_ITEMS_PER_BATCH;
  const maxBytes = limits.maxBytes ?? MAX_BATCH_BYTES;
  const batches: Batch[] = [];
  let parts: string[] = [];
  let bytes = 2; // "[" and "]"
  let start = 0;
  const flush = () => {
    if (parts.length === 0) return;
    batches.push({ body: `[${parts.join(',')}]`, count: parts.length, start });
    start += parts.length;
    parts = [];
    bytes = 2;
  };
  for (let i = 0; i < items.length; i++) {
    const json = serialised?.[i] ?? JSON.stringify(items[i]);
    const size = Buffer.byteLength(json, 'utf8');
    const added = size + (parts.length > 0 ? 1 : 0);
    if (parts.length >= maxItems || (parts.length > 0 && bytes + added > maxBytes)) flush();
    parts.push(json);
    bytes += size + (parts.length > 1 ? 1 : 0);
  }
  flush();
  return batches;
}

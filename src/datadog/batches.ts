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
}

export function splitIntoBatches(
  items: readonly unknown[],
  limits: { maxItems?: number; maxBytes?: number } = {},
): Batch[] {
  const maxItems = limits.maxItems ?? MAX_ITEMS_PER_BATCH;
  const maxBytes = limits.maxBytes ?? MAX_BATCH_BYTES;
  const batches: Batch[] = [];
  let parts: string[] = [];
  let bytes = 2; // "[" and "]"
  const flush = () => {
    if (parts.length === 0) return;
    batches.push({ body: `[${parts.join(',')}]`, count: parts.length });
    parts = [];
    bytes = 2;
  };
  for (const item of items) {
    const json = JSON.stringify(item);
    const size = Buffer.byteLength(json, 'utf8');
    const added = size + (parts.length > 0 ? 1 : 0);
    if (parts.length >= maxItems || (parts.length > 0 && bytes + added > maxBytes)) flush();
    parts.push(json);
    bytes += size + (parts.length > 1 ? 1 : 0);
  }
  flush();
  return batches;
}

/** Splits one batch into two halves (for a 413). Returns undefined for a single item. */
export function halve(batch: Batch): [Batch, Batch] | undefined {
  if (batch.count < 2) return undefined;
  const items = JSON.parse(batch.body) as unknown[];
  const mid = Math.ceil(items.length / 2);
  const [a, b] = [items.slice(0, mid), items.slice(mid)];
  return [
    { body: JSON.stringify(a), count: a.length },
    { body: JSON.stringify(b), count: b.length },
  ];
}

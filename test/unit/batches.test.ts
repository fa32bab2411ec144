/** Splitting log items into Datadog intake requests: item and byte limits, order, UTF-8 sizes, halving. */
import { seededRandom } from '../../simulators/faults';
import { MAX_BATCH_BYTES, MAX_ITEMS_PER_BATCH, splitIntoBatches, type Batch } from '../../src/datadog/batches';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Checks what must hold of any split, and returns the items of each batch. */
function checkInvariants(items: unknown[], batches: Batch[], maxItems: number, maxBytes: number): unknown[][] {
  const parsed = batches.map((b) => {
    const arr = JSON.parse(b.body) as unknown;
    expect(Array.isArray(arr)).toBe(true);
    const xs = arr as unknown[];
    expect(b.count).toBe(xs.length);
    expect(b.count).toBeGreaterThan(0);
    expect(b.count).toBeLessThanOrEqual(maxItems);
    if (b.count > 1) expect(bytes(b.body)).toBeLessThanOrEqual(maxBytes);
    // The body is exactly the compact serialisation of its items.
    expect(b.body).toBe(JSON.stringify(xs));
    return xs;
  });
  expect(parsed.flat()).toEqual(items);
  // Greedy: a batch closes only when the next item would not fit.
  for (let i = 0; i + 1 < batches.length; i++) {
    const cur = batches[i]!;
    const nextFirst = JSON.stringify(parsed[i + 1]![0]);
    const full = cur.count >= maxItems || bytes(cur.body) + 1 + bytes(nextFirst) > maxBytes;
    expect(full).toBe(true);
  }
  return parsed;
}

const rng = seededRandom;

describe('limits', () => {
  it('follows Datadog: at most 1,000 items, and aims below 5 MB', () => {
    expect(MAX_ITEMS_PER_BATCH).toBe(1_000);
    expect(MAX_BATCH_BYTES).toBe(4_250_000);
    expect(MAX_BATCH_BYTES).toBeLessThan(5 * 1024 * 1024);
  });
});

describe('splitIntoBatches', () => {
  it('returns no batches for no items', () => {
    expect(splitIntoBatches([])).toEqual([]);
    expect(splitIntoBatches([], { maxItems: 1, maxBytes: 3 })).toEqual([]);
  });

  it('puts a single item in one batch', () => {
    expect(splitIntoBatches([{ a: 1 }])).toEqual([{ body: '[{"a":1}]', count: 1, start: 0 }]);
  });

  it('splits at 1,000 items by default', () => {
    const items = Array.from({ length: 2_500 }, (_, i) => ({ i }));
    const batches = splitIntoBatches(items);
    expect(batches.map((b) => b.count)).toEqual([1_000, 1_000, 500]);
    const parsed = checkInvariants(items, batches, 1_000, MAX_BATCH_BYTES);
    expect(parsed[1]![0]).toEqual({ i: 1_000 });
  });

  it('keeps exactly 1,000 items in one batch, and 1,001 in two', () => {
    const mk = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(splitIntoBatches(mk(1_000)).map((b) => b.count)).toEqual([1_000]);
    expect(splitIntoBatches(mk(1_001)).map((b) => b.count)).toEqual([1_000, 1]);
  });

  it('honours a custom maxItems', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const batches = splitIntoBatches(items, { maxItems: 3 });
    expect(batches).toEqual([
      { body: '["a","b","c"]', count: 3, start: 0 },
      { body: '["d","e","f"]', count: 3, start: 3 },
      { body: '["g"]', count: 1, start: 6 },
    ]);
  });

  describe('byte limit, exact boundaries', () => {
    // Each item serialises to "xxxx" = 6 bytes; n items take 2 + 6n + (n - 1) bytes.
    const items = Array.from({ length: 7 }, (_, i) => `${i}`.repeat(4));
    const size = (n: number) => 2 + 6 * n + (n - 1);

    it('fills a batch to exactly maxBytes', () => {
      expect(size(3)).toBe(22);
      const batches = splitIntoBatches(items, { maxBytes: 22 });
      expect(batches.map((b) => b.count)).toEqual([3, 3, 1]);
      expect(bytes(batches[0]!.body)).toBe(22);
      checkInvariants(items, batches, 1_000, 22);
    });

    it('closes a batch when one more byte would be needed', () => {
      const batches = splitIntoBatches(items, { maxBytes: 21 });
      expect(batches.map((b) => b.count)).toEqual([2, 2, 2, 1]);
      expect(bytes(batches[0]!.body)).toBe(size(2));
      checkInvariants(items, batches, 1_000, 21);
    });

    it('counts the brackets and commas', () => {
      // One item alone is 8 bytes; two need 15.
      expect(splitIntoBatches(items.slice(0, 2), { maxBytes: 15 }).map((b) => b.count)).toEqual([2]);
      expect(splitIntoBatches(items.slice(0, 2), { maxBytes: 14 }).map((b) => b.count)).toEqual([1, 1]);
      expect(splitIntoBatches(items.slice(0, 1), { maxBytes: 8 }).map((b) => b.count)).toEqual([1]);
    });

    it('applies both limits together', () => {
      expect(splitIntoBatches(items, { maxItems: 2, maxBytes: 22 }).map((b) => b.count)).toEqual([2, 2, 2, 1]);
      expect(splitIntoBatches(items, { maxItems: 5, maxBytes: 22 }).map((b) => b.count)).toEqual([3, 3, 1]);
    });
  });

  it('sends an oversized item alone, between the batches around it', () => {
    const big = { blob: 'x'.repeat(100) };
    const items = ['aa', 'bb', big, 'cc', 'dd'];
    const batches = splitIntoBatches(items, { maxBytes: 20 });
    expect(batches.map((b) => b.count)).toEqual([2, 1, 2]);
    expect(batches[1]!.body).toBe(JSON.stringify([big]));
    expect(bytes(batches[1]!.body)).toBeGreaterThan(20);
    checkInvariants(items, batches, 1_000, 20);
  });

  it('sends consecutive oversized items one per batch', () => {
    const items = ['x'.repeat(50), 'y'.repeat(50), 'z'.repeat(50)];
    expect(splitIntoBatches(items, { maxBytes: 30 }).map((b) => b.count)).toEqual([1, 1, 1]);
  });

  it('counts multi-byte UTF-8 characters in bytes, not UTF-16 units', () => {
    // "éé" serialises to 4 UTF-16 units but 6 bytes; two items need 15 bytes, not 11.
    const items = ['éé', 'éé', 'éé'];
    expect(JSON.stringify(items[0]).length).toBe(4);
    expect(bytes(JSON.stringify(items[0]))).toBe(6);
    expect(splitIntoBatches(items, { maxBytes: 11 }).map((b) => b.count)).toEqual([1, 1, 1]);
    expect(splitIntoBatches(items, { maxBytes: 15 }).map((b) => b.count)).toEqual([2, 1]);
    // An emoji is 2 UTF-16 units and 4 bytes.
    const emoji = ['😀😀', '😀😀'];
    expect(bytes(JSON.stringify(emoji[0]))).toBe(10);
    expect(splitIntoBatches(emoji, { maxBytes: 2 + 10 + 1 + 10 - 1 }).map((b) => b.count)).toEqual([1, 1]);
    expect(splitIntoBatches(emoji, { maxBytes: 2 + 10 + 1 + 10 }).map((b) => b.count)).toEqual([2]);
  });

  it('keeps items exactly as serialised (nested objects, unicode, escapes)', () => {
    const items = [
      { a: { b: [1, 2, { c: null }] } },
      'quote " and \\ backslash',
      { text: 'Zürich → 東京 😀' },
      0,
      false,
    ];
    const batches = splitIntoBatches(items, { maxBytes: 40 });
    checkInvariants(items, batches, 1_000, 40);
  });

  it('holds the invariants for random items and limits', () => {
    const rand = rng(12345);
    const alphabet = ['a', 'é', '東', '😀', '"', '\\', '\n', ' '];
    for (let round = 0; round < 60; round++) {
      const n = Math.floor(rand() * 80);
      const items = Array.from({ length: n }, (_, i) => {
        const len = Math.floor(rand() * 40);
        let s = '';
        for (let k = 0; k < len; k++) s += alphabet[Math.floor(rand() * alphabet.length)]!;
        return { i, s };
      });
      const maxItems = 1 + Math.floor(rand() * 20);
      const maxBytes = 10 + Math.floor(rand() * 400);
      const batches = splitIntoBatches(items, { maxItems, maxBytes });
      checkInvariants(items, batches, maxItems, maxBytes);
      if (n === 0) expect(batches).toEqual([]);
    }
  });

  it('stays within the default byte limit for large items', () => {
    const items = Array.from({ length: 60 }, (_, i) => ({ i, blob: 'é'.repeat(50_000) })); // ~100 KB each
    const batches = splitIntoBatches(items);
    expect(batches.length).toBeGreaterThan(1);
    checkInvariants(items, batches, MAX_ITEMS_PER_BATCH, MAX_BATCH_BYTES);
  });
});

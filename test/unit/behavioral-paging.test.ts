/**
 * Paging behavioral detections by offset over a list that changes between two pages (the simulator's store, pages
 * of 10): rows removed before the offset, rows added before it, and random churn. Every detection present for the
 * whole sweep is read; what is read twice is one identity (the sweep de-duplicates by it).
 */
import { seededRandom } from '../../simulators/faults';
import { behavioralPage } from '../../simulators/kandji/behavioral-page';
import { BehavioralStore } from '../../simulators/kandji/behavioral-store';
import {
  initialBehavioralPosition,
  nextPosition,
  readBehavioralPage,
  type BehavioralPosition,
} from '../../src/kandji/behavioral-pages';
import { MAX_PAGES_PER_SWEEP } from '../../src/kandji/snapshot-pages';

const NOW = Date.UTC(2026, 2, 10, 12);
const PAGE = 10;

function storeWith(n: number): BehavioralStore {
  const store = new BehavioralStore({ seed: 7 });
  store.seed(n, { from: new Date(NOW - 5 * 86_400_000), to: new Date(NOW - 3_600_000) });
  return store;
}

/** Kandji over `store`; `between(page)` changes the store before page `page` (0-based) is answered. */
function kandjiOver(store: BehavioralStore, between: (page: number) => void) {
  let pages = 0;
  return {
    getJson: async (path: string) => {
      between(pages++);
      const page = behavioralPage(store, new URL(path, 'http://x').searchParams, () => 'next', PAGE);
      if ('badRequest' in page) throw new Error(page.badRequest);
      return JSON.parse(page.body) as unknown;
    },
  };
}

/** One sweep as the activity pages: returns the ids read (with repeats) and the last position. */
async function sweep(kandji: ReturnType<typeof kandjiOver>) {
  let at: BehavioralPosition = initialBehavioralPosition(7, NOW);
  const read: string[] = [];
  for (let pages = 0; pages < MAX_PAGES_PER_SWEEP; pages++) {
    const page = await readBehavioralPage(kandji, at, { limit: 1000 });
    read.push(...page.rows.map((r) => r.id as string));
    at = page.next;
    if (page.done) return { read, at };
  }
  throw new Error('did not end');
}

const ids = (store: BehavioralStore) => store.all().map((r) => r.id);

describe('behavioral detections: offset paging over a list that changes between pages', () => {
  it('reads the window oldest first, by detection_date, from the first day of the window', async () => {
    const store = storeWith(25);
    const queries: URLSearchParams[] = [];
    const kandji = kandjiOver(store, () => undefined);
    const spy = { getJson: (p: string) => (queries.push(new URL(p, 'http://x').searchParams), kandji.getJson(p)) };
    const { read } = await sweep(spy);
    expect(new Set(read)).toEqual(new Set(ids(store)));
    expect(queries[0]!.get('sort_by')).toBe('detection_date');
    expect(queries[0]!.get('detection_date_from')).toBe('2026-03-03');
    expect(queries[0]!.get('offset')).toBe('0');
  });

  it('misses nothing when more rows than the overlap are removed before the offset between two pages', async () => {
    const store = storeWith(60);
    const before = ids(store);
    // Before the third page: 8 rows of the first page are gone (the overlap of pages of 10 is 5).
    const removed = before.slice(0, 8);
    const { read, at } = await sweep(kandjiOver(store, (p) => (p === 2 ? void store.remove(removed) : undefined)));
    const stayed = before.filter((id) => !removed.includes(id));
    expect(stayed.filter((id) => !read.includes(id))).toEqual([]);
    expect(at.rereads).toBeGreaterThan(0);
  });

  it('reads rows added before the offset between two pages again under one identity, and misses none', async () => {
    const store = storeWith(40);
    const before = ids(store);
    const { read } = await sweep(
      kandjiOver(store, (p) => (p === 2 ? void store.add(7, new Date(NOW - 6 * 86_400_000 + 60_000)) : undefined)),
    );
    expect(before.filter((id) => !read.includes(id))).toEqual([]);
    // Rows shifted forward: some are read twice, each still one identity.
    expect(read.length).toBeGreaterThan(new Set(read).size);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'random inserts, removals and status changes between pages: every row present throughout is read (seed %i)',
    async (seed) => {
      const store = storeWith(120);
      const r = seededRandom(seed);
      const present = new Set(ids(store));
      const { read } = await sweep(
        kandjiOver(store, () => {
          const all = ids(store);
          const gone = all.filter(() => r() < 0.06);
          store.remove(gone);
          for (const id of gone) present.delete(id);
          store.add(Math.floor(r() * 6), new Date(NOW - Math.floor(r() * 5 * 86_400_000)));
          const changed = all.find((id) => !gone.includes(id) && r() < 0.05);
          if (changed) store.changeStatus(changed, 'blocked');
        }),
      );
      expect([...present].filter((id) => !read.includes(id))).toEqual([]);
    },
  );

  it('reads a page whose total_count shrank and that holds none of the last rows again from further back', () => {
    const at: BehavioralPosition = { from: '2026-03-03', offset: 95, anchors: ['a', 'b'], total: 300, rereads: 0 };
    const rows = Array.from({ length: PAGE }, (_, i) => ({ id: `x${i}` }));
    const { next, done } = nextPosition(at, { rows, total: 220 }, PAGE);
    expect(done).toBe(false);
    expect(next.offset).toBe(15); // back by the 80 rows the list lost
    expect(next.anchors).toEqual(['a', 'b']);
    expect(next.rereads).toBe(1);
  });

  it('ends at the total_count the last page gives, and at an empty page', () => {
    const at: BehavioralPosition = { from: '2026-03-03', offset: 0, anchors: [], total: null, rereads: 0 };
    const rows = Array.from({ length: PAGE }, (_, i) => ({ id: `x${i}` }));
    expect(nextPosition(at, { rows, total: 10 }, PAGE).done).toBe(true);
    expect(nextPosition(at, { rows, total: 11 }, PAGE).done).toBe(false);
    // An empty page past the first: the list moved back past it, read again from further back.
    expect(nextPosition({ ...at, offset: 40, anchors: ['a'] }, { rows: [], total: 40 }, PAGE).done).toBe(false);
    expect(nextPosition(at, { rows: [], total: 0 }, PAGE).done).toBe(true);
  });
});

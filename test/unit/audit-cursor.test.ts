/** The audit cursor across pages (ties at one occurred_at neither lost nor repeated) and timestamp keys. */
import {
  AUDIT_EVENTS_PATH,
  AUDIT_PAGE_LIMIT,
  advanceAuditCursor,
  auditRequestPath,
  hasMoreAuditPages,
  initialAuditCursor,
  type AuditCursor,
} from '../../workflows/shared/audit-cursor';
import { decodeDigest, encodeDigest, idHash } from '../../workflows/shared/overlap-digest';
import { keyToMillis, millisToKey, timestampKey } from '../../workflows/shared/timestamps';

interface Ev {
  id: string;
  occurred_at: string;
  action?: string;
}

const ORIGIN = 'https://acme.api.kandji.io';

/**
 * A fake Kandji audit endpoint: events sorted by (occurred_at, id); `start_date` inclusive; keyset `cursor` links;
 * a full page always carries a `next` link (possibly to an empty page), a short page never does.
 */
class FakeKandji {
  readonly events: Ev[] = [];
  requests: string[] = [];

  /** `timestamp`: next is strictly after the last event's time, as Kandji's published cursor decodes. */
  constructor(readonly nextMode: 'keyset' | 'timestamp' = 'keyset') {}

  add(...evs: Ev[]): void {
    for (const e of evs) CANDIDATES.add(e.id);
    this.events.push(...evs);
  }

  private sorted(): Ev[] {
    return [...this.events].sort((a, b) => {
      const ka = timestampKey(a.occurred_at);
      const kb = timestampKey(b.occurred_at);
      return ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
  }

  get(path: string): { results: Ev[]; next: string | null } {
    this.requests.push(path);
    const url = new URL(path, ORIGIN);
    expect(url.pathname).toBe(AUDIT_EVENTS_PATH);
    const limit = Number(url.searchParams.get('limit'));
    expect(limit).toBeGreaterThan(0);
    const all = this.sorted();
    const c = url.searchParams.get('cursor');
    let from: number;
    if (c !== null) {
      const [k, id] = JSON.parse(c) as [string, string?];
      from = all.findIndex((e) => {
        const ke = timestampKey(e.occurred_at);
        return ke > k || (id !== undefined && ke === k && e.id > id);
      });
    } else {
      const start = timestampKey(url.searchParams.get('start_date')!);
      from = all.findIndex((e) => timestampKey(e.occurred_at) >= start);
    }
    const results = from < 0 ? [] : all.slice(from, from + limit);
    const last = results[results.length - 1];
    let next: string | null = null;
    if (last && results.length >= limit) {
      const key = timestampKey(last.occurred_at);
      const q = new URLSearchParams({
        limit: String(limit),
        cursor: JSON.stringify(this.nextMode === 'keyset' ? [key, last.id] : [key]),
      });
      next = `${AUDIT_EVENTS_PATH}?${q.toString()}`;
    }
    // Deep copies: records travel as JSON.
    return { results: JSON.parse(JSON.stringify(results)) as Ev[], next };
  }
}

/** One poll as the workflow runs it: follow `next` pages until caught up. Returns the shipped events. */
function poll(kandji: FakeKandji, cursor: AuditCursor, limit: number): { shipped: Ev[]; cursor: AuditCursor } {
  const shipped: Ev[] = [];
  for (let i = 0; i < 1_000; i++) {
    const page = kandji.get(auditRequestPath(cursor, limit));
    const r = advanceAuditCursor(cursor, page.results, page.next);
    expect(r.fresh.length + r.skipped).toBe(page.results.length);
    shipped.push(...r.fresh);
    cursor = r.next;
    if (!hasMoreAuditPages(cursor)) return { shipped, cursor };
  }
  throw new Error('poll did not catch up');
}

const ids = (evs: readonly Ev[]) => evs.map((e) => e.id);

/** The cursor as the tests reason about it: its position, the ids shipped exactly at it, and the page link. */
/** Every id a test uses, so that the digest's hashes can be read back as ids. */
const CANDIDATES = new Set<string>(['x', 'm', 'a', 'b', 'w', 'y', 'z', 'old']);

/** Ids the cursor remembers as shipped in the digest's second of `since`. */
function remembered(c: AuditCursor): string[] {
  const sec = Math.floor(keyToMillis(c.since) / 1000);
  const hashes = new Set(
    decodeDigest(c.digest)
      .filter((e) => e.sec === sec)
      .map((e) => e.hash),
  );
  return [...CANDIDATES].filter((id) => hashes.has(idHash(id))).sort();
}

/** The cursor as the tests reason about it: its position, the ids shipped in the second of it, and the page link. */
function view(c: AuditCursor): { since: string; atSince: string[]; page: string | null } {
  return { since: c.since, atSince: remembered(c), page: c.page };
}

/** A cursor at `since` whose digest holds `ids` as shipped in the second of `since`. */
function cursorAt(since: string, ids: string[], page: string | null = null): AuditCursor {
  const sec = Math.floor(keyToMillis(since) / 1000);
  return { since, page, digest: encodeDigest(ids.map((id) => ({ sec, hash: idHash(id) }))) };
}

describe('advanceAuditCursor across pages', () => {
  const T0 = '2026-01-31T10:00:00Z';
  const T1 = '2026-01-31T10:00:01.000001Z';
  const T2 = '2026-01-31T10:00:02.123456Z';
  const T3 = '2026-01-31T10:00:03Z';

  it('ships events that share the boundary timestamp exactly once across polls', () => {
    const kandji = new FakeKandji();
    kandji.add({ id: 'e1', occurred_at: T1 }, { id: 'e2', occurred_at: T2 }, { id: 'e3', occurred_at: T2 });
    let cursor = initialAuditCursor(T0);
    const shipped: Ev[] = [];

    let r = poll(kandji, cursor, 2);
    shipped.push(...r.shipped);
    cursor = r.cursor;
    expect(ids(r.shipped)).toEqual(['e1', 'e2', 'e3']);
    expect(view(cursor)).toEqual({ since: timestampKey(T2), atSince: ['e2', 'e3'], page: null });

    // Nothing new: re-reading from the boundary (inclusive) returns e2, e3 again; both are skipped.
    r = poll(kandji, cursor, 2);
    expect(r.shipped).toEqual([]);
    expect(r.cursor).toEqual(cursor);

    // A late event at the boundary timestamp (sorting before the shipped ones), one later, one in the past.
    kandji.add(
      { id: 'a0', occurred_at: '2026-01-31T10:00:02.123456+00:00' },
      { id: 'e4', occurred_at: T3 },
      { id: 'old', occurred_at: T1 },
    );
    r = poll(kandji, r.cursor, 2);
    shipped.push(...r.shipped);
    expect(ids(r.shipped)).toEqual(['a0', 'e4']);
    expect(view(r.cursor)).toEqual({ since: timestampKey(T3), atSince: ['e4'], page: null });

    expect(ids(shipped)).toEqual(['e1', 'e2', 'e3', 'a0', 'e4']);
  });

  it('ships a tie group larger than a page exactly once, and a late member of it later', () => {
    const kandji = new FakeKandji();
    const tie = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
    kandji.add({ id: 'before', occurred_at: T1 });
    // Different spellings of the same instant: all one tie group.
    tie.forEach((id, i) =>
      kandji.add({ id, occurred_at: i % 2 ? '2026-01-31T10:00:02.123456Z' : '2026-01-31T12:00:02.123456+02:00' }),
    );
    const seen: string[] = [];

    let r = poll(kandji, initialAuditCursor(T0), 3);
    seen.push(...ids(r.shipped));
    expect(ids(r.shipped)).toEqual(['before', ...tie]);
    expect(view(r.cursor)).toEqual({ since: timestampKey(T2), atSince: tie, page: null });

    // The re-read returns the 7 shipped ids over 3 pages; none is shipped again.
    const before = kandji.requests.length;
    r = poll(kandji, r.cursor, 3);
    expect(r.shipped).toEqual([]);
    expect(kandji.requests.length - before).toBe(3);
    expect(view(r.cursor).atSince).toEqual(tie);

    kandji.add({ id: 't8', occurred_at: T2 });
    r = poll(kandji, r.cursor, 3);
    seen.push(...ids(r.shipped));
    expect(ids(r.shipped)).toEqual(['t8']);
    expect(view(r.cursor).atSince).toEqual([...tie, 't8']);

    kandji.add({ id: 'after', occurred_at: T3 });
    r = poll(kandji, r.cursor, 3);
    seen.push(...ids(r.shipped));
    expect(ids(r.shipped)).toEqual(['after']);
    expect(seen).toEqual(['before', ...tie, 't8', 'after']);
  });

  it('resumes mid tie group from a committed cursor (reading on from since, inclusive)', () => {
    const kandji = new FakeKandji();
    const tie = ['a', 'b', 'c', 'd', 'e'];
    tie.forEach((id) => kandji.add({ id, occurred_at: T2 }));
    let cursor = initialAuditCursor(T2); // starting exactly at the tie: start is inclusive
    const first = kandji.get(auditRequestPath(cursor, 2));
    const r1 = advanceAuditCursor(cursor, first.results, first.next);
    expect(ids(r1.fresh)).toEqual(['a', 'b']);
    // Kandji's next link is not kept (it may be a bare timestamp): the cursor reads on from `since`, inclusive.
    expect(r1.next.page).toBeNull();
    expect(r1.next.more).toBe(true);
    expect(view(r1.next).atSince).toEqual(['a', 'b']);
    cursor = r1.next;
    // The committed cursor is all that survives (e.g. continue-as-new); reading on from it finishes the group.
    const rest = poll(kandji, JSON.parse(JSON.stringify(cursor)) as AuditCursor, 2);
    expect(ids(rest.shipped)).toEqual(['c', 'd', 'e']);
    expect(view(rest.cursor).atSince).toEqual(tie);
  });

  it('ships every event of a random log exactly once, in order, whatever the page size', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const limit of [1, 2, 3, 5, 10]) {
      const kandji = new FakeKandji();
      let cursor = initialAuditCursor(T0);
      const shipped: Ev[] = [];
      let n = 0;
      let second = 0;
      for (let round = 0; round < 12; round++) {
        // New events, often at the current newest second (ties across polls and pages).
        const count = Math.floor(rand() * 6);
        for (let k = 0; k < count; k++) {
          if (rand() < 0.4) second += 1;
          kandji.add({
            id: `id-${String(n++).padStart(3, '0')}`,
            occurred_at: `2026-01-31T11:00:${String(second).padStart(2, '0')}.5Z`,
          });
        }
        const r = poll(kandji, cursor, limit);
        shipped.push(...r.shipped);
        cursor = r.cursor;
      }
      const expected = [...kandji.events].sort((a, b) =>
        a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : a.id < b.id ? -1 : 1,
      );
      expect(ids(shipped)).toEqual(ids(expected));
      expect(new Set(ids(shipped)).size).toBe(shipped.length);
    }
  });
});

describe('advanceAuditCursor on one page', () => {
  const cursor = cursorAt(timestampKey('2026-01-31T10:00:00Z'), ['x']);

  it('drops repeats of one id inside a page and counts them as skipped', () => {
    const page = [
      { id: 'a', occurred_at: '2026-01-31T10:00:01Z' },
      { id: 'a', occurred_at: '2026-01-31T10:00:01Z' },
      { id: 'b', occurred_at: '2026-01-31T10:00:02Z' },
      { id: 'a', occurred_at: '2026-01-31T10:00:01Z' },
    ];
    const r = advanceAuditCursor(cursor, page, null);
    expect(r.fresh).toEqual([page[0], page[2]]);
    expect(r.fresh[0]).toBe(page[0]); // the records themselves, untouched
    expect(r.skipped).toBe(2);
    expect(view(r.next)).toEqual({ since: '2026-01-31T10:00:02.000000Z', atSince: ['b'], page: null });
  });

  it('drops events before the cursor and shipped ids at it; keeps unshipped ids at it', () => {
    const page = [
      { id: 'old', occurred_at: '2026-01-31T09:59:59.999999Z' },
      { id: 'x', occurred_at: '2026-01-31T10:00:00Z' },
      { id: 'y', occurred_at: '2026-01-31T10:00:00.000000+00:00' },
    ];
    const r = advanceAuditCursor(cursor, page, '/api/v1/audit/events?cursor=abc');
    expect(ids(r.fresh)).toEqual(['y']);
    expect(r.skipped).toBe(2);
    expect(view(r.next)).toEqual({ since: cursor.since, atSince: ['x', 'y'], page: null });
    expect(r.next.more).toBe(true);
  });

  it('distinguishes microseconds', () => {
    const r = advanceAuditCursor(cursor, [{ id: 'w', occurred_at: '2026-01-31T10:00:00.000001Z' }], null);
    expect(ids(r.fresh)).toEqual(['w']);
    expect(r.next.since).toBe('2026-01-31T10:00:00.000001Z');
    // 'x' (a microsecond earlier) is remembered too: the digest keeps the whole second.
    expect(view(r.next).atSince).toEqual(['w', 'x']);
  });

  it('keeps the cursor for an empty page, clearing the page link', () => {
    const r = advanceAuditCursor({ ...cursor, page: '/api/v1/audit/events?cursor=z' }, [], null);
    expect(r.fresh).toEqual([]);
    expect(r.skipped).toBe(0);
    expect(view(r.next)).toEqual({ since: cursor.since, atSince: ['x'], page: null });
  });

  it('sorts the ids at the boundary and does not mutate its input', () => {
    const input = cursorAt(cursor.since, ['m']);
    const frozen = JSON.stringify(input);
    const r = advanceAuditCursor(
      input,
      [
        { id: 'z', occurred_at: '2026-01-31T10:00:00Z' },
        { id: 'b', occurred_at: '2026-01-31T10:00:00Z' },
      ],
      null,
    );
    expect(view(r.next).atSince).toEqual(['b', 'm', 'z']);
    const entries = decodeDigest(r.next.digest);
    expect(entries).toEqual([...entries].sort((a, b) => a.sec - b.sec || (a.hash < b.hash ? -1 : 1)));
    expect(JSON.stringify(input)).toBe(frozen);
  });
});

describe('auditRequestPath', () => {
  it('reads from since, sorted by occurred_at, 500 a page by default', () => {
    const c = initialAuditCursor('2026-01-31T12:00:00+01:00');
    expect(c).toEqual({ since: '2026-01-31T11:00:00.000000Z', from: '2026-01-31T11:00:00.000000Z', page: null });
    const path = auditRequestPath(c);
    const url = new URL(path, ORIGIN);
    expect(url.pathname).toBe('/api/v1/audit/events');
    expect(path.startsWith('/api/v1/audit/events?')).toBe(true);
    expect(AUDIT_PAGE_LIMIT).toBe(500);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      limit: '500',
      sort_by: 'occurred_at',
      start_date: '2026-01-31T11:00:00.000000Z',
    });
  });

  it('takes a page size', () => {
    const url = new URL(auditRequestPath(initialAuditCursor('2026-01-31'), 50), ORIGIN);
    expect(url.searchParams.get('limit')).toBe('50');
    expect(url.searchParams.get('start_date')).toBe('2026-01-31T00:00:00.000000Z');
  });

  it('returns the next page verbatim while a backlog drains', () => {
    const page = '/api/v1/audit/events?limit=500&cursor=eyJ2IjoxfQ';
    expect(auditRequestPath(cursorAt('2026-01-31T11:00:00.000000Z', ['a'], page))).toBe(page);
    expect(auditRequestPath({ since: '2026-01-31T11:00:00.000000Z', page }, 10, 300_000)).toBe(page);
  });

  it('re-reads the overlap window on a fresh poll, but never before the start', () => {
    const c: AuditCursor = {
      since: '2026-01-31T11:00:00.250000Z',
      from: '2026-01-31T10:00:00.000000Z',
      page: null,
    };
    expect(new URL(auditRequestPath(c, 500, 300_000), ORIGIN).searchParams.get('start_date')).toBe(
      '2026-01-31T10:55:00.250000Z',
    );
    const young = { ...c, from: '2026-01-31T10:58:00.000000Z' };
    expect(new URL(auditRequestPath(young, 500, 300_000), ORIGIN).searchParams.get('start_date')).toBe(
      '2026-01-31T10:58:00.000000Z',
    );
  });
});

describe('timestampKey', () => {
  it.each([
    ['2026-01-31T12:00:00Z', '2026-01-31T12:00:00.000000Z'],
    ['2026-01-31T12:00:00z', '2026-01-31T12:00:00.000000Z'],
    ['2026-01-31T12:00:00+00:00', '2026-01-31T12:00:00.000000Z'],
    ['2026-01-31T12:00:00-00:00', '2026-01-31T12:00:00.000000Z'],
    ['2026-01-31T12:00:00+02:00', '2026-01-31T10:00:00.000000Z'],
    ['2026-01-31T12:00:00+0200', '2026-01-31T10:00:00.000000Z'],
    ['2026-01-31T01:30:00+02:00', '2026-01-30T23:30:00.000000Z'],
    ['2026-01-31T23:15:00-05:30', '2026-02-01T04:45:00.000000Z'],
    ['2025-12-31T23:59:59.999999-01:00', '2026-01-01T00:59:59.999999Z'],
    ['2026-01-31T12:00:00', '2026-01-31T12:00:00.000000Z'],
    ['2026-01-31 12:00:00', '2026-01-31T12:00:00.000000Z'],
    ['2026-01-31T12:00', '2026-01-31T12:00:00.000000Z'],
    ['2026-01-31', '2026-01-31T00:00:00.000000Z'],
    ['2026-01-31T12:00:00.253Z', '2026-01-31T12:00:00.253000Z'],
    ['2026-01-31T12:00:00.253454Z', '2026-01-31T12:00:00.253454Z'],
    ['2026-01-31T12:00:00.253454789Z', '2026-01-31T12:00:00.253454Z'],
    ['2026-01-31T12:00:00.5+01:00', '2026-01-31T11:00:00.500000Z'],
    ['  2026-01-31T12:00:00Z  ', '2026-01-31T12:00:00.000000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000000Z'],
  ])('%s → %s', (input, key) => {
    expect(timestampKey(input)).toBe(key);
  });

  it.each([
    '',
    'yesterday',
    '2026/01/31',
    '31-01-2026',
    '2026-1-31',
    '2026-01-31T12',
    '2026-01-31T12:00:00.Z',
    '2026-01-31T12:00:00.1234567890Z',
    '2026-01-31T12:00:00+2',
    '2026-01-31T12:00:00 UTC',
    '2026-01-31T12:00:00Zjunk',
  ])('rejects the string %p', (input) => {
    expect(() => timestampKey(input)).toThrow(TypeError);
  });

  it.each([
    '2026-02-30',
    '2026-02-30T00:00:00Z',
    '2025-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-04-31T08:00:00Z',
    '2026-01-32',
    '2026-01-31T24:00:00Z',
  ])('rejects the impossible date %p', (input) => {
    expect(() => timestampKey(input)).toThrow(/not a valid date/);
  });

  it('gives equal keys for equal instants in different spellings', () => {
    const spellings = [
      '2026-03-04T16:29:55.253454Z',
      '2026-03-04T16:29:55.253454+00:00',
      '2026-03-04T18:29:55.253454+02:00',
      '2026-03-04T11:29:55.253454-05:00',
      '2026-03-04T16:29:55.253454',
      '2026-03-04T16:29:55.253454000Z',
    ];
    expect(new Set(spellings.map(timestampKey))).toEqual(new Set(['2026-03-04T16:29:55.253454Z']));
  });

  it('sorts lexically in time order', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const base = Date.parse('2025-06-01T00:00:00Z');
    const samples: { key: string; micros: number }[] = [];
    for (let i = 0; i < 400; i++) {
      // Instants spread over ~2 years, some within the same millisecond.
      const ms =
        i % 5 === 0 && samples.length
          ? Math.floor(samples[samples.length - 1]!.micros / 1000)
          : base + Math.floor(rand() * 6e10);
      const us = Math.floor(rand() * 1000);
      const offsetMin = [0, 60, -300, 330, 120][i % 5]!;
      const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
      const frac = `${String(ms % 1000).padStart(3, '0')}${String(us).padStart(3, '0')}`;
      const sign = offsetMin < 0 ? '-' : '+';
      const abs = Math.abs(offsetMin);
      const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      samples.push({ key: timestampKey(`${local}.${frac}${zone}`), micros: ms * 1000 + us });
    }
    const byKey = [...samples].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((s) => s.micros);
    const byTime = [...samples].map((s) => s.micros).sort((a, b) => a - b);
    expect(byKey).toEqual(byTime);
    for (const s of samples) expect(keyToMillis(s.key)).toBe(Math.floor(s.micros / 1000));
  });

  it('orders across years and day boundaries', () => {
    const keys = [
      '2026-01-01T00:00:00+01:00',
      '2025-12-31T23:30:00Z',
      '2025-12-31T22:59:59.999999Z',
      '2026-01-01T00:00:00.000001Z',
    ].map(timestampKey);
    expect([...keys].sort()).toEqual([keys[2], keys[0], keys[1], keys[3]]);
  });
});

describe('keyToMillis / millisToKey', () => {
  it('round-trips milliseconds, truncating microseconds', () => {
    const ms = Date.parse('2026-01-31T12:34:56.789Z');
    expect(millisToKey(ms)).toBe('2026-01-31T12:34:56.789000Z');
    expect(keyToMillis(millisToKey(ms))).toBe(ms);
    expect(keyToMillis('2026-01-31T12:34:56.789999Z')).toBe(ms);
  });
});

describe('late events and the overlap window', () => {
  const OVERLAP = 60_000;
  const at = (s: number) =>
    `2026-01-31T10:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000000Z`;

  function pollWithOverlap(
    kandji: FakeKandji,
    cursor: AuditCursor,
  ): { shipped: Ev[]; late: number; cursor: AuditCursor } {
    const shipped: Ev[] = [];
    let late = 0;
    for (;;) {
      const page = kandji.get(auditRequestPath(cursor, 3, OVERLAP));
      const r = advanceAuditCursor(cursor, page.results, page.next, OVERLAP);
      shipped.push(...r.fresh);
      late += r.late;
      cursor = r.next;
      if (!hasMoreAuditPages(cursor)) return { shipped, late, cursor };
    }
  }

  it('ships an event that became visible after later ones, once, and only within the window', () => {
    const kandji = new FakeKandji();
    kandji.add({ id: 'a', occurred_at: at(10) }, { id: 'b', occurred_at: at(100) });
    let r = pollWithOverlap(kandji, initialAuditCursor(at(0)));
    expect(ids(r.shipped)).toEqual(['a', 'b']);
    // 'late' happened 30 s before 'b' but shows up only now; 'ancient' is older than the window.
    kandji.add(
      { id: 'late', occurred_at: at(70) },
      { id: 'ancient', occurred_at: at(20) },
      { id: 'c', occurred_at: at(101) },
    );
    r = pollWithOverlap(kandji, r.cursor);
    expect(ids(r.shipped)).toEqual(['late', 'c']);
    expect(r.late).toBe(1);
    // Nothing repeats on the next polls, and the window forgets ids older than the overlap.
    r = pollWithOverlap(kandji, r.cursor);
    expect(r.shipped).toEqual([]);
    const entries = decodeDigest(r.cursor.digest);
    expect(entries.every((e) => e.sec >= keyToMillis(at(41)) / 1000)).toBe(true);
    expect(entries.map((e) => e.hash)).toEqual(['late', 'b', 'c'].map(idHash));
  });

  it('never ships events before the start position, even inside the window', () => {
    const kandji = new FakeKandji();
    kandji.add({ id: 'before-start', occurred_at: at(50) }, { id: 'x', occurred_at: at(61) });
    const r = pollWithOverlap(kandji, initialAuditCursor(at(60)));
    expect(ids(r.shipped)).toEqual(['x']);
  });
});

describe('the overlap digest stays bounded whatever the event rate', () => {
  const OVERLAP = 5 * 60_000;
  const base = Date.parse('2026-01-31T10:00:00Z');
  const ev = (i: number, ms: number) => ({ id: `ev-${i}`, occurred_at: new Date(ms).toISOString() });

  it('remembers nothing of a backlog older than the overlap (digestFrom moves past it) but the newest time of each page', () => {
    let cursor = initialAuditCursor(new Date(base).toISOString());
    const now = base + 10 * 3_600_000; // the backlog is ten hours old
    for (let p = 0; p < 20; p++) {
      const page = Array.from({ length: 500 }, (_, i) => ev(p * 500 + i, base + (p * 500 + i) * 100));
      const r = advanceAuditCursor(cursor, page, p < 19 ? `/api/v1/audit/events?cursor=${p}` : null, OVERLAP, now);
      expect(r.fresh).toHaveLength(500);
      cursor = r.next;
      expect(decodeDigest(cursor.digest).length).toBeLessThanOrEqual(1);
    }
    expect(cursor.digestFrom! > timestampKey(new Date(base + 9_998 * 100).toISOString())).toBe(true);
    // A fresh poll re-reads nothing before digestFrom, so nothing it forgot is shipped again.
    const start = new URL(auditRequestPath(cursor, 500, OVERLAP), ORIGIN).searchParams.get('start_date')!;
    expect(start >= cursor.digestFrom!).toBe(true);
  });

  it('caps live entries at MAX_DIGEST_ENTRIES and shrinks the window to what it covers', () => {
    let cursor = initialAuditCursor(new Date(base).toISOString());
    // 20,000 events within 4 minutes, read as they happen: all recent.
    for (let p = 0; p < 40; p++) {
      const page = Array.from({ length: 500 }, (_, i) => ev(p * 500 + i, base + (p * 500 + i) * 12));
      const r = advanceAuditCursor(cursor, page, null, OVERLAP, base + (p + 1) * 500 * 12);
      cursor = r.next;
    }
    const entries = decodeDigest(cursor.digest);
    expect(entries.length).toBeLessThanOrEqual(2_048);
    expect(cursor.digest!.length).toBeLessThanOrEqual(2_048 * 22);
    // Every entry is at or after digestFrom, and the re-read starts there.
    expect(entries[0]!.sec * 1000).toBeGreaterThanOrEqual(keyToMillis(cursor.digestFrom!) - 1000);
    const start = new URL(auditRequestPath(cursor, 500, OVERLAP), ORIGIN).searchParams.get('start_date')!;
    expect(start).toBe(cursor.digestFrom);
    // Re-reading the covered window ships nothing again.
    const tail = Array.from({ length: 20_000 }, (_, i) => ev(i, base + i * 12)).filter(
      (e) => timestampKey(e.occurred_at) >= start,
    );
    expect(advanceAuditCursor(cursor, tail, null, OVERLAP, base + 240_000).fresh).toEqual([]);
  });
});

describe("ties across page boundaries, whatever Kandji's next link is", () => {
  const T = (s: number, us = 0) => `2026-01-31T10:00:${String(s).padStart(2, '0')}.${String(us).padStart(6, '0')}Z`;

  it.each(['keyset', 'timestamp'] as const)(
    'ships bulk-action ties straddling pages exactly once (next: %s)',
    (mode) => {
      const kandji = new FakeKandji(mode);
      // Groups of 1 to 5 events sharing one time, pages of 5: groups straddle page boundaries everywhere.
      let n = 0;
      for (let s = 0; s < 40; s++)
        for (let i = 0; i < 1 + ((s * 3) % 5); i++)
          kandji.add({ id: `e${String(n++).padStart(4, '0')}`, occurred_at: T(s) });
      const r = poll(kandji, initialAuditCursor(T(0)), 5);
      expect(ids(r.shipped).sort()).toEqual(kandji.events.map((e) => e.id).sort());
      expect(new Set(ids(r.shipped)).size).toBe(n);
    },
  );

  it('follows the next link only when a whole page shares one time; with a timestamp link the rest of that group is lost (Kandji gives no finer position)', () => {
    for (const mode of ['keyset', 'timestamp'] as const) {
      const kandji = new FakeKandji(mode);
      kandji.add({ id: 'a', occurred_at: T(1) });
      for (let i = 0; i < 8; i++) kandji.add({ id: `t${i}`, occurred_at: T(2) });
      kandji.add({ id: 'z', occurred_at: T(3) });
      const r = poll(kandji, initialAuditCursor(T(0)), 5);
      const expected = mode === 'keyset' ? 10 : 7; // t4..t6 sit past a page of five ties at one time
      expect(ids(r.shipped)).toHaveLength(expected);
      expect(new Set(ids(r.shipped)).size).toBe(expected);
      expect(ids(r.shipped)).toContain('z');
    }
  });

  it('never moves the cursor past the clock plus a small skew: one event dated 2030 does not hide the rest', () => {
    const now = Date.parse('2026-01-31T10:00:10Z');
    const cursor = initialAuditCursor(T(0));
    const page = [
      { id: 'a', occurred_at: T(1) },
      { id: 'future', occurred_at: '2030-01-01T00:00:00Z' },
    ];
    const r = advanceAuditCursor(cursor, page, null, 300_000, now);
    expect(ids(r.fresh)).toEqual(['a', 'future']);
    expect(r.future).toBe(1);
    expect(r.next.since).toBe(timestampKey(T(1)));
    // Later events are still read and shipped; the future one is not shipped again.
    const later = [{ id: 'b', occurred_at: T(5) }, ...page];
    const r2 = advanceAuditCursor(r.next, later, null, 300_000, now);
    expect(ids(r2.fresh)).toEqual(['b']);
  });

  it('stops draining on a next link that repeats, instead of looping', () => {
    const cursor: AuditCursor = { since: timestampKey(T(2)), page: '/api/v1/audit/events?cursor=same', more: true };
    const page = [{ id: 'x', occurred_at: T(2) }];
    const first = advanceAuditCursor({ ...cursor, page: null }, page, '/api/v1/audit/events?cursor=same');
    expect(first.next.page).toBe(null); // 'x' was fresh: read on from since first
    const again = advanceAuditCursor({ ...first.next }, page, '/api/v1/audit/events?cursor=same');
    expect(again.next.page).toBe('/api/v1/audit/events?cursor=same'); // stuck: the link is followed once
    const loop = advanceAuditCursor(again.next, page, '/api/v1/audit/events?cursor=same');
    expect(hasMoreAuditPages(loop.next)).toBe(false);
    expect(loop.stuck).toBe(true);
    void cursor;
  });
});

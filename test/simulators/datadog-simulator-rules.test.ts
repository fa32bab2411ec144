/** DatadogSimulator rules beyond the basic intake: poison items, lowered limits, the 18 h / 2 h timestamp window. */
import * as zlib from 'node:zlib';
import { request } from 'undici';
import {
  DatadogSimulator,
  isOutsideIntakeWindow,
  officialTimestamp,
  parseIso8601,
  parseTimestamp,
  type ReceivedLog,
} from '../../simulators/datadog';

const KEY = 'rules-api-key';
const HOUR = 3_600_000;
const MINUTE = 60_000;
/** A fixed "now" for the injected clock. */
const NOW = Date.UTC(2025, 8, 24, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

let sim: DatadogSimulator;

interface Reply {
  status: number;
  text: string;
}

async function post(payload: unknown, encoding?: 'gzip'): Promise<Reply> {
  const raw = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload), 'utf8');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'DD-API-KEY': KEY };
  if (encoding) headers['content-encoding'] = encoding;
  const res = await request(sim.intakeUrl, {
    method: 'POST',
    headers,
    body: encoding === 'gzip' ? zlib.gzipSync(raw) : raw,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

const items = (n: number, prefix = 'log'): ReceivedLog[] =>
  Array.from({ length: n }, (_, i) => ({
    ddsource: 'kandji',
    service: 'audit',
    message: `${prefix}-${i}`,
    id: `${prefix}-${i}`,
  }));

function expectErrors(reply: Reply, status: number): string {
  expect(reply.status).toBe(status);
  const body = JSON.parse(reply.text) as { errors: { status: string; title: string; detail?: string }[] };
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.status).toBe(String(status));
  return body.errors[0]!.detail ?? '';
}

beforeAll(async () => {
  sim = await DatadogSimulator.start({ apiKeys: [KEY], seed: 3 });
});

afterAll(async () => {
  await sim.stop();
});

beforeEach(() => {
  sim.clear();
  sim.setPoison(undefined);
  sim.setMaxPayloadBytes(undefined);
  sim.setMaxItems(undefined);
  sim.setClock(undefined);
});

describe('poison', () => {
  const isPoison = (item: ReceivedLog): boolean => item.poison === true;

  it('400 with an HTTPLogErrors body when any item matches, and nothing of the request is stored', async () => {
    sim.setPoison(isPoison);
    const batch = [
      ...items(3, 'a'),
      { id: 'bad', message: 'x', poison: true },
      ...items(2, 'b'),
      { id: 'bad2', poison: true },
    ];
    const detail = expectErrors(await post(batch, 'gzip'), 400);
    expect(detail).toContain('3');
    expect(sim.received).toHaveLength(0);
    expect(sim.droppedAsStale).toHaveLength(0);
    expect(sim.requests[0]).toMatchObject({ status: 400, itemCount: 0, poisonIndexes: [3, 6] });
  });

  it('stores a batch without poison, so a client can bisect down to the poison item', async () => {
    sim.setPoison(isPoison);
    const batch: ReceivedLog[] = [...items(5, 'x')];
    batch.splice(2, 0, { id: 'bad', poison: true });

    // A naive bisection: halve the refused batch until the poison item is alone.
    const pending: ReceivedLog[][] = [batch];
    const refused: ReceivedLog[][] = [];
    while (pending.length > 0) {
      const part = pending.shift()!;
      const r = await post(part);
      if (r.status === 202) continue;
      expect(r.status).toBe(400);
      if (part.length === 1) refused.push(part);
      else pending.unshift(part.slice(0, part.length >> 1), part.slice(part.length >> 1));
    }
    expect(refused).toEqual([[{ id: 'bad', poison: true }]]);
    expect(sim.received.map((i) => i.id)).toEqual(['x-0', 'x-1', 'x-2', 'x-3', 'x-4']);
  });

  it('setPoison(undefined) turns it off', async () => {
    sim.setPoison(isPoison);
    sim.setPoison(undefined);
    expect((await post([{ id: 'p', poison: true }])).status).toBe(202);
    expect(sim.received).toHaveLength(1);
  });
});

describe('lowered limits', () => {
  /** `[{"m":"xxx"}]` padded to exactly `total` bytes. */
  const exactBody = (total: number): Buffer => Buffer.from(`[{"m":"${'x'.repeat(total - 10)}"}]`);

  it('setMaxPayloadBytes: 202 at the limit, 413 above it (identity and gzip)', async () => {
    sim.setMaxPayloadBytes(200);
    expect((await post(exactBody(200))).status).toBe(202);
    expect((await post(exactBody(200), 'gzip')).status).toBe(202);
    expect(expectErrors(await post(exactBody(201)), 413)).toContain('200');
    expectErrors(await post(exactBody(201), 'gzip'), 413);
    expect(sim.received).toHaveLength(2);
  });

  it('setMaxPayloadBytes(undefined) restores 5,000,000', async () => {
    sim.setMaxPayloadBytes(100);
    expectErrors(await post(exactBody(1_000)), 413);
    sim.setMaxPayloadBytes(undefined);
    expect((await post(exactBody(1_000))).status).toBe(202);
  });

  it('setMaxItems: 202 at the limit, 400 above it', async () => {
    sim.setMaxItems(5);
    expect((await post(items(5))).status).toBe(202);
    expect(expectErrors(await post(items(6)), 400)).toContain('6 > 5');
    expect(sim.received).toHaveLength(5);
    sim.setMaxItems(undefined);
    expect((await post(items(6))).status).toBe(202);
  });

  it('rejects limits that are not positive integers', () => {
    expect(() => sim.setMaxPayloadBytes(0)).toThrow(RangeError);
    expect(() => sim.setMaxPayloadBytes(1.5)).toThrow(RangeError);
    expect(() => sim.setMaxItems(-1)).toThrow(RangeError);
    expect(() => sim.setMaxItems(Number.NaN)).toThrow(RangeError);
  });
});

describe('timestamp window (18 h past, 2 h future)', () => {
  beforeEach(() => sim.setClock(() => NOW));

  it('drops too-old and too-new logs but still answers 202; keeps the rest in order', async () => {
    const batch: ReceivedLog[] = [
      { id: 'old', occurred_at: iso(NOW - 18 * HOUR - 1_000) },
      { id: 'recent', occurred_at: iso(NOW - 17 * HOUR - 59 * MINUTE) },
      { id: 'future', occurred_at: iso(NOW + 2 * HOUR + MINUTE) },
      { id: 'soon', occurred_at: iso(NOW + 119 * MINUTE) },
      { id: 'none', message: 'no timestamp' },
    ];
    const r = await post(batch, 'gzip');
    expect(r.status).toBe(202);
    expect(JSON.parse(r.text)).toEqual({});
    expect(sim.received.map((i) => i.id)).toEqual(['recent', 'soon', 'none']);
    expect(sim.droppedAsStale).toEqual([
      { item: batch[0], timestampMs: NOW - 18 * HOUR - 1_000 },
      { item: batch[2], timestampMs: NOW + 2 * HOUR + MINUTE },
    ]);
    expect(sim.requests[0]).toMatchObject({ status: 202, itemCount: 5, staleCount: 2 });
  });

  it('the bounds are inclusive: exactly 18 h old and exactly 2 h ahead are kept', async () => {
    await post([
      { id: 'a', occurred_at: iso(NOW - 18 * HOUR) },
      { id: 'b', occurred_at: iso(NOW + 2 * HOUR) },
    ]);
    expect(sim.received.map((i) => i.id)).toEqual(['a', 'b']);
  });

  it('uses detection_datetime when there is no occurred_at', async () => {
    await post([
      { id: 'old-detection', detection_datetime: iso(NOW - 19 * HOUR) },
      { id: 'new-detection', detection_datetime: iso(NOW - HOUR) },
    ]);
    expect(sim.received.map((i) => i.id)).toEqual(['new-detection']);
    expect(sim.droppedAsStale.map((s) => s.item.id)).toEqual(['old-detection']);
  });

  it('occurred_at wins over detection_datetime and the default attributes', async () => {
    await post([
      { id: 'fresh-occurred', occurred_at: iso(NOW - HOUR), detection_datetime: iso(NOW - 30 * HOUR), timestamp: 0 },
      { id: 'old-occurred', occurred_at: iso(NOW - 30 * HOUR), detection_datetime: iso(NOW - HOUR), timestamp: NOW },
    ]);
    expect(sim.received.map((i) => i.id)).toEqual(['fresh-occurred']);
    expect(sim.droppedAsStale.map((s) => s.item.id)).toEqual(['old-occurred']);
  });

  it('uses a `timestamp` in epoch milliseconds, and the other default attributes', async () => {
    await post([
      { id: 'ts-old', timestamp: NOW - 18 * HOUR - 1 },
      { id: 'ts-ok', timestamp: NOW - 18 * HOUR + 1 },
      { id: 'date-old', date: iso(NOW - 20 * HOUR) },
      { id: 'eventTime-future', eventTime: NOW + 3 * HOUR },
      { id: 'published-ok', published_date: iso(NOW) },
    ]);
    expect(sim.received.map((i) => i.id)).toEqual(['ts-ok', 'published-ok']);
    expect(sim.droppedAsStale.map((s) => [s.item.id, s.timestampMs])).toEqual([
      ['ts-old', NOW - 18 * HOUR - 1],
      ['date-old', NOW - 20 * HOUR],
      ['eventTime-future', NOW + 3 * HOUR],
    ]);
  });

  it('keeps logs with no (or no parseable) timestamp: they are stamped at receipt', async () => {
    await post([{ id: 'none' }, { id: 'garbage', occurred_at: 'yesterday', timestamp: true }]);
    expect(sim.received.map((i) => i.id)).toEqual(['none', 'garbage']);
    expect(sim.droppedAsStale).toHaveLength(0);
  });

  it('reads naive timestamps (no zone) as UTC', async () => {
    const naive = (ms: number): string => iso(ms).replace('Z', '');
    await post([
      { id: 'naive-old', occurred_at: naive(NOW - 18 * HOUR - MINUTE) },
      { id: 'naive-ok', occurred_at: naive(NOW - 17 * HOUR) },
    ]);
    expect(sim.received.map((i) => i.id)).toEqual(['naive-ok']);
    expect(sim.droppedAsStale[0]!.timestampMs).toBe(NOW - 18 * HOUR - MINUTE);
  });

  it('truncation marks index `received` after stale items are set aside', async () => {
    await post([
      { id: 'old', occurred_at: iso(NOW - 20 * HOUR) },
      { id: 'huge', message: 'z'.repeat(1_000_001) },
    ]);
    expect(sim.received.map((i) => i.id)).toEqual(['huge']);
    expect(sim.truncated).toEqual([expect.objectContaining({ index: 0 })]);
  });

  it('poison is checked before the window: a poisoned request stores nothing, stale or not', async () => {
    sim.setPoison((i) => i.id === 'bad');
    expect((await post([{ id: 'old', occurred_at: iso(NOW - 20 * HOUR) }, { id: 'bad' }])).status).toBe(400);
    expect(sim.droppedAsStale).toHaveLength(0);
  });

  it('clear() forgets stale drops; setClock(undefined) restores Date.now', async () => {
    await post([{ id: 'old', occurred_at: iso(NOW - 20 * HOUR) }]);
    expect(sim.droppedAsStale).toHaveLength(1);
    sim.clear();
    expect(sim.droppedAsStale).toHaveLength(0);

    sim.setClock(undefined);
    await post([
      { id: 'now', occurred_at: new Date().toISOString() },
      { id: 'at-NOW', occurred_at: iso(NOW) },
    ]);
    expect(sim.received.map((i) => i.id)).toEqual(['now']);
  });
});

describe('timestamp helpers', () => {
  it('parses Kandji microsecond timestamps, truncating to ms (matches Datadog sample expectations)', () => {
    expect(parseIso8601('2025-09-23T09:01:37.420577Z')).toBe(1758618097420);
    expect(parseIso8601('2025-09-24T18:57:34.914031Z')).toBe(1758740254914);
    expect(parseIso8601('2025-09-23T07:16:07.444310+00:00')).toBe(1758611767444);
  });

  it('handles offsets, naive times, dates and rejects nonsense', () => {
    expect(parseIso8601('2025-09-23T11:01:37+02:00')).toBe(Date.UTC(2025, 8, 23, 9, 1, 37));
    expect(parseIso8601('2025-09-23T04:01:37-0500')).toBe(Date.UTC(2025, 8, 23, 9, 1, 37));
    expect(parseIso8601('2025-09-23 09:01')).toBe(Date.UTC(2025, 8, 23, 9, 1));
    expect(parseIso8601('2025-09-23')).toBe(Date.UTC(2025, 8, 23));
    expect(parseIso8601('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of [
      '2025-02-29',
      '2025-13-01',
      '2025-09-23T25:00:00Z',
      '23/09/2025',
      '',
      'now',
      '2025-09-23T09:01:37+99:00',
    ]) {
      expect(parseIso8601(bad)).toBeUndefined();
    }
    expect(parseTimestamp(1758618097420)).toBe(1758618097420);
    expect(parseTimestamp(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(parseTimestamp('1758618097420')).toBeUndefined();
    expect(parseTimestamp(null)).toBeUndefined();
  });

  it('officialTimestamp reports its source; isOutsideIntakeWindow applies 18 h / 2 h', () => {
    expect(officialTimestamp({ detection_datetime: iso(NOW), date: 5 }, 1)).toEqual({
      timestampMs: NOW,
      source: 'detection_datetime',
    });
    expect(officialTimestamp({ Timestamp: 7 }, 1)).toEqual({ timestampMs: 7, source: 'Timestamp' });
    expect(officialTimestamp({ message: 'x' }, 42)).toEqual({ timestampMs: 42, source: undefined });
    expect(isOutsideIntakeWindow(NOW - 18 * HOUR, NOW)).toBe(false);
    expect(isOutsideIntakeWindow(NOW - 18 * HOUR - 1, NOW)).toBe(true);
    expect(isOutsideIntakeWindow(NOW + 2 * HOUR, NOW)).toBe(false);
    expect(isOutsideIntakeWindow(NOW + 2 * HOUR + 1, NOW)).toBe(true);
  });
});

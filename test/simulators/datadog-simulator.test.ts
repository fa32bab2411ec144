import * as zlib from 'node:zlib';
import { request } from 'undici';
import { DatadogSimulator, MAX_UNCOMPRESSED_PAYLOAD_BYTES } from '../../simulators/datadog';

const KEY = 'test-api-key';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface PostOptions {
  encoding?: 'gzip' | 'deflate' | 'deflate-raw' | 'identity' | string;
  key?: string | null;
  headerName?: string;
  query?: string;
  url?: string;
  method?: 'POST' | 'GET' | 'PUT';
}

let sim: DatadogSimulator;

function encode(payload: Buffer, encoding: string | undefined): { body: Buffer; header?: string } {
  switch (encoding) {
    case undefined:
      return { body: payload };
    case 'gzip':
      return { body: zlib.gzipSync(payload), header: 'gzip' };
    case 'deflate':
      return { body: zlib.deflateSync(payload), header: 'deflate' };
    case 'deflate-raw':
      return { body: zlib.deflateRawSync(payload), header: 'deflate' };
    default:
      return { body: payload, header: encoding };
  }
}

async function post(payload: unknown, opts: PostOptions = {}): Promise<Reply> {
  const raw = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  const { body, header } = encode(raw, opts.encoding);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (header !== undefined) headers['content-encoding'] = header;
  if (opts.key !== null) headers[opts.headerName ?? 'DD-API-KEY'] = opts.key ?? KEY;
  const method = opts.method ?? 'POST';
  const res = await request(`${opts.url ?? sim.intakeUrl}${opts.query ?? ''}`, {
    method,
    headers,
    ...(method === 'GET' ? {} : { body }),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const items = (n: number, prefix = 'log'): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => ({
    ddsource: 'kandji',
    service: 'audit',
    message: `${prefix}-${i}`,
    id: `${prefix}-${i}`,
  }));

function expectErrorsBody(reply: Reply, status: number): void {
  expect(reply.status).toBe(status);
  expect(String(reply.headers['content-type'])).toContain('application/json');
  const body = JSON.parse(reply.text) as { errors: { status: string; title: string; detail?: string }[] };
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.status).toBe(String(status));
  expect(typeof body.errors[0]!.title).toBe('string');
}

beforeAll(async () => {
  sim = await DatadogSimulator.start({ apiKeys: [KEY], seed: 42 });
});

afterAll(async () => {
  await sim.stop();
});

beforeEach(() => {
  sim.clear();
  sim.setFaults({ rate: 0 });
  sim.setOutage(false);
  sim.setApiKeys([KEY]);
});

describe('urls', () => {
  it('listens on 127.0.0.1 with the intake path', () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.intakeUrl).toBe(`${sim.url}/api/v2/logs`);
  });
});

describe('authentication', () => {
  it('401 when DD-API-KEY is missing', async () => {
    const r = await post(items(1), { key: null });
    expectErrorsBody(r, 401);
    expect(JSON.parse(r.text).errors[0].title).toBe('Unauthorized');
    expect(sim.received).toHaveLength(0);
    expect(sim.requests[0]).toMatchObject({ status: 401, itemCount: 0 });
  });

  it('403 when DD-API-KEY is not an accepted key', async () => {
    const r = await post(items(1), { key: 'wrong' });
    expectErrorsBody(r, 403);
    expect(sim.received).toHaveLength(0);
  });

  it('header name is case-insensitive', async () => {
    expect((await post(items(1), { headerName: 'dd-api-key' })).status).toBe(202);
    expect((await post(items(1), { headerName: 'Dd-Api-Key' })).status).toBe(202);
    expect(sim.received).toHaveLength(2);
  });

  it('setApiKeys rotates the accepted set', async () => {
    sim.setApiKeys(['new-key']);
    expect((await post(items(1))).status).toBe(403);
    expect((await post(items(1), { key: 'new-key' })).status).toBe(202);
  });
});

describe('accepted bodies', () => {
  it.each([
    ['identity (no header)', undefined],
    ['identity (explicit)', 'identity'],
    ['gzip', 'gzip'],
    ['deflate (zlib)', 'deflate'],
    ['deflate (raw)', 'deflate-raw'],
  ])('202 {} with %s and stores items in order', async (_name, encoding) => {
    const batch = items(3);
    const r = await post(batch, { encoding });
    expect(r.status).toBe(202);
    expect(JSON.parse(r.text)).toEqual({});
    expect(sim.received).toEqual(batch);
    const rec = sim.requests[0]!;
    expect(rec).toMatchObject({
      status: 202,
      itemCount: 3,
      encoding: encoding === 'deflate-raw' ? 'deflate' : (encoding ?? 'identity'),
    });
    expect(rec.uncompressedBytes).toBe(Buffer.byteLength(JSON.stringify(batch)));
    expect(rec.compressedBytes).toBeGreaterThan(0);
  });

  it('keeps arrival order across requests', async () => {
    await post(items(2, 'a'), { encoding: 'gzip' });
    await post(items(2, 'b'));
    expect(sim.received.map((i) => i.id)).toEqual(['a-0', 'a-1', 'b-0', 'b-1']);
  });

  it('accepts a single object as one item', async () => {
    const r = await post({ message: 'one', ddsource: 'kandji' });
    expect(r.status).toBe(202);
    expect(sim.received).toEqual([{ message: 'one', ddsource: 'kandji' }]);
  });

  it('accepts exactly 1,000 entries', async () => {
    expect((await post(items(1000), { encoding: 'gzip' })).status).toBe(202);
    expect(sim.received).toHaveLength(1000);
  });

  it('records the ddtags query parameter', async () => {
    await post(items(1), { query: '?ddtags=env:test,team:sec' });
    expect(sim.requests[0]!.ddtags).toBe('env:test,team:sec');
  });
});

describe('rejected bodies', () => {
  it('400 for malformed JSON', async () => {
    expectErrorsBody(await post('[{"message": "x"', {}), 400);
    expectErrorsBody(await post('', {}), 400);
    expect(sim.received).toHaveLength(0);
  });

  it('400 for more than 1,000 entries', async () => {
    const r = await post(items(1001), { encoding: 'gzip' });
    expectErrorsBody(r, 400);
    expect(sim.received).toHaveLength(0);
  });

  it.each([
    ['a number item', [{ message: 'ok' }, 1]],
    ['a null item', [null]],
    ['an array item', [[{ message: 'x' }]]],
    ['a string item', ['hello']],
    ['a top-level string', 'hello'],
    ['a top-level number', 5],
  ])('400 for %s (nothing stored)', async (_name, payload) => {
    expectErrorsBody(await post(JSON.stringify(payload)), 400);
    expect(sim.received).toHaveLength(0);
  });

  it('400 for an unsupported Content-Encoding', async () => {
    expectErrorsBody(await post(items(1), { encoding: 'br' }), 400);
  });

  it('400 for a body that does not decompress', async () => {
    const bad = Buffer.from('definitely not gzip');
    for (const encoding of ['gzip', 'deflate']) {
      const r = await request(sim.intakeUrl, {
        method: 'POST',
        headers: { 'DD-API-KEY': KEY, 'content-encoding': encoding },
        body: bad,
      });
      expect(r.statusCode).toBe(400);
      await r.body.text();
    }
    expect(sim.received).toHaveLength(0);
  });

  it('404 on other paths, 405 on other methods', async () => {
    expectErrorsBody(await post(items(1), { url: `${sim.url}/api/v1/input` }), 404);
    const r = await post(items(1), { method: 'GET' });
    expectErrorsBody(r, 405);
    expect(r.headers['allow']).toBe('POST');
    expect(sim.received).toHaveLength(0);
  });
});

describe('size limits', () => {
  /** `[{"m":"xxx"}]` padded to exactly `total` bytes. */
  const exactBody = (total: number): Buffer => Buffer.from(`[{"m":"${'x'.repeat(total - 10)}"}]`);

  it('uses 5,000,000 bytes as the payload limit', () => {
    expect(MAX_UNCOMPRESSED_PAYLOAD_BYTES).toBe(5_000_000);
  });

  it('202 at exactly 5,000,000 bytes, 413 at 5,000,001 (identity)', async () => {
    expect((await post(exactBody(5_000_000))).status).toBe(202);
    expectErrorsBody(await post(exactBody(5_000_001)), 413);
    expect(sim.received).toHaveLength(1);
  });

  it('413 when a small gzip body inflates past 5,000,000 bytes', async () => {
    const big = Array.from({ length: 900 }, (_, i) => ({ id: i, message: 'y'.repeat(6_000) }));
    const raw = Buffer.from(JSON.stringify(big));
    expect(raw.length).toBeGreaterThan(5_000_000);
    const gz = zlib.gzipSync(raw);
    expect(gz.length).toBeLessThan(200_000);
    const r = await request(sim.intakeUrl, {
      method: 'POST',
      headers: { 'DD-API-KEY': KEY, 'content-encoding': 'gzip' },
      body: gz,
    });
    expect(r.statusCode).toBe(413);
    await r.body.text();
    expect(sim.received).toHaveLength(0);
    expect(sim.requests[0]).toMatchObject({ status: 413, compressedBytes: gz.length });
  });

  it('413 for a deflate body that inflates past the limit, also at exactly 5,000,001', async () => {
    expectErrorsBody(await post(exactBody(5_000_001), { encoding: 'deflate' }), 413);
    expect((await post(exactBody(5_000_000), { encoding: 'deflate' })).status).toBe(202);
  });

  it('accepts a log over 1,000,000 bytes with 202 and marks it truncated', async () => {
    const huge = { id: 'huge', message: 'z'.repeat(1_100_000) };
    const batch = [{ id: 'small-1', message: 'a' }, huge, { id: 'small-2', message: 'b' }];
    const r = await post(batch, { encoding: 'gzip' });
    expect(r.status).toBe(202);
    expect(sim.received.map((i) => i.id)).toEqual(['small-1', 'huge', 'small-2']);
    expect(sim.truncated).toEqual([{ index: 1, originalBytes: Buffer.byteLength(JSON.stringify(huge)) }]);
    expect(sim.received[1]).not.toHaveProperty('truncated');
  });

  it('does not mark a log of exactly 1,000,000 bytes', async () => {
    const prefix = JSON.stringify({ message: '' }).length;
    const item = { message: 'q'.repeat(1_000_000 - prefix) };
    expect(Buffer.byteLength(JSON.stringify(item))).toBe(1_000_000);
    expect((await post([item])).status).toBe(202);
    expect(sim.truncated).toHaveLength(0);
  });
});

describe('faults', () => {
  it('server_error_html: 500/503 with an HTML body, nothing stored', async () => {
    sim.setFaults({ rate: 1, kinds: ['server_error_html'] });
    for (let i = 0; i < 4; i++) {
      const r = await post(items(2), { encoding: 'gzip' });
      expect([500, 503]).toContain(r.status);
      expect(String(r.headers['content-type'])).toContain('text/html');
      expect(r.text).toContain('<html>');
    }
    expect(sim.received).toHaveLength(0);
    expect(sim.requests.every((q) => q.fault === 'server_error_html')).toBe(true);
  });

  it('rate_limited: 429 with Retry-After and an errors body, nothing stored', async () => {
    sim.setFaults({ rate: 1, kinds: ['rate_limited'], retryAfterSeconds: 7 });
    const r = await post(items(2));
    expectErrorsBody(r, 429);
    expect(r.headers['retry-after']).toBe('7');
    expect(sim.received).toHaveLength(0);
  });

  it('malformed_json: 500 with a non-JSON body, nothing stored', async () => {
    sim.setFaults({ rate: 1, kinds: ['malformed_json'] });
    const r = await post(items(2));
    expect(r.status).toBe(500);
    expect(() => JSON.parse(r.text)).toThrow();
    expect(sim.received).toHaveLength(0);
  });

  it('drop_connection: the client sees a socket error, nothing stored', async () => {
    sim.setFaults({ rate: 1, kinds: ['drop_connection'] });
    await expect(post(items(2))).rejects.toThrow();
    expect(sim.received).toHaveLength(0);
    expect(sim.requests[0]).toMatchObject({ status: 'dropped', fault: 'drop_connection', itemCount: 0 });
  });

  it('slow: answers normally after slowMs', async () => {
    sim.setFaults({ rate: 1, kinds: ['slow'], slowMs: 150 });
    const t0 = Date.now();
    const r = await post(items(2));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(r.status).toBe(202);
    expect(sim.received).toHaveLength(2);
    expect(sim.requests[0]).toMatchObject({ status: 202, fault: 'slow' });
  });

  it('faults are checked before authentication', async () => {
    sim.setFaults({ rate: 1, kinds: ['rate_limited'] });
    expect((await post(items(1), { key: 'wrong' })).status).toBe(429);
  });

  it('dropAfterAccept: stores the batch but the client sees a socket error', async () => {
    sim.setFaults({ rate: 0, dropAfterAccept: 1 });
    const batch = items(3, 'dup');
    await expect(post(batch, { encoding: 'gzip' })).rejects.toThrow();
    expect(sim.received).toEqual(batch);
    expect(sim.requests[0]).toMatchObject({ status: 'dropped', fault: 'drop_after_accept', itemCount: 3 });

    // The client resends: the intake has no dedup, so the batch shows up twice.
    sim.setFaults({ rate: 0 });
    expect((await post(batch, { encoding: 'gzip' })).status).toBe(202);
    expect(sim.received.map((i) => i.id)).toEqual([...batch, ...batch].map((i) => i.id));
  });

  it('dropAfterAccept does not apply to rejected requests', async () => {
    sim.setFaults({ rate: 0, dropAfterAccept: 1 });
    expect((await post(items(1), { key: 'wrong' })).status).toBe(403);
  });

  it('rejects invalid probabilities', () => {
    expect(() => sim.setFaults({ rate: 0, dropAfterAccept: 2 })).toThrow(RangeError);
    expect(() => sim.setFaults({ rate: -1 })).toThrow(RangeError);
  });

  it('the same seed gives the same fault sequence', async () => {
    const a = await DatadogSimulator.start({ apiKeys: [KEY], seed: 7 });
    const b = await DatadogSimulator.start({ apiKeys: [KEY], seed: 7 });
    try {
      const statuses = async (s: DatadogSimulator): Promise<number[]> => {
        s.setFaults({ rate: 0.5, kinds: ['rate_limited', 'server_error_html'] });
        const out: number[] = [];
        for (let i = 0; i < 12; i++) out.push((await post(items(1), { url: s.intakeUrl })).status);
        return out;
      };
      const sa = await statuses(a);
      expect(await statuses(b)).toEqual(sa);
      expect(new Set(sa).size).toBeGreaterThan(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('outage', () => {
  it('answers every request with the outage status and stores nothing', async () => {
    sim.setOutage(true);
    const r = await post(items(2));
    expect(r.status).toBe(503);
    expect(String(r.headers['content-type'])).toContain('text/html');
    sim.setOutage(true, 500);
    expect((await post(items(2))).status).toBe(500);
    expect(sim.received).toHaveLength(0);
    expect(sim.requests.map((q) => q.fault)).toEqual(['outage', 'outage']);

    sim.setOutage(false);
    expect((await post(items(2))).status).toBe(202);
    expect(sim.received).toHaveLength(2);
  });
});

describe('lifecycle', () => {
  it('clear() forgets items, truncation marks and requests', async () => {
    await post([{ message: 'z'.repeat(1_000_001) }]);
    expect(sim.truncated).toHaveLength(1);
    sim.clear();
    expect(sim.received).toHaveLength(0);
    expect(sim.truncated).toHaveLength(0);
    expect(sim.requests).toHaveLength(0);
  });

  it('waitForItems resolves once enough items arrived', async () => {
    const waiting = sim.waitForItems(3, 2000);
    await post(items(3));
    await expect(waiting).resolves.toHaveLength(3);
  });

  it('stop() closes promptly even with a slow request in flight', async () => {
    const s = await DatadogSimulator.start({ apiKeys: [KEY] });
    s.setFaults({ rate: 1, kinds: ['slow'], slowMs: 10_000 });
    const pending = post(items(1), { url: s.intakeUrl });
    pending.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await s.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
    expect(s.received).toHaveLength(0);
  });
});

import { AuditStore, KandjiSimulator, LONG_TIE_RUN, OCCURRED_AT_RE, type AuditRecord } from '../../simulators/kandji';
import { getJson as fetchJson } from '../helpers/http';

const TOKEN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const EVENTS = '/api/v1/audit/events';

interface Page {
  results: AuditRecord[];
  previous: string | null;
  next: string | null;
}

const getJson = (url: string, headers: Record<string, string> = AUTH) => fetchJson(url, headers);

async function followAll(sim: KandjiSimulator, firstUrl: string): Promise<{ records: AuditRecord[]; pages: number[] }> {
  const records: AuditRecord[] = [];
  const pages: number[] = [];
  let url: string | null = firstUrl;
  while (url) {
    const { status, body } = await getJson(url);
    expect(status).toBe(200);
    const page = body as Page;
    pages.push(page.results.length);
    records.push(...page.results);
    url = page.next;
    if (pages.length > 100) throw new Error('runaway pagination');
  }
  void sim;
  return { records, pages };
}

function rec(id: string, occurred_at: string): AuditRecord {
  return {
    id,
    action: 'update',
    occurred_at,
    actor_id: 'kandji',
    actor_type: 'kandji',
    target_type: 'device',
    new_state: null,
  };
}

describe('KandjiSimulator', () => {
  let sim: KandjiSimulator;

  beforeAll(async () => {
    sim = await KandjiSimulator.start({
      tokens: [TOKEN],
      seed: 7,
      backlog: { count: 3000, from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-08T00:00:00Z') },
    });
  });
  afterAll(async () => {
    await sim.stop();
  });
  afterEach(() => {
    sim.setFaults({ rate: 0 });
  });

  it('url is 127.0.0.1 with no trailing slash', () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('401 without a token and with a wrong token', async () => {
    const none = await getJson(`${sim.url}${EVENTS}`, {});
    expect(none.status).toBe(401);
    expect(none.res.headers.get('content-type')).toContain('application/json');
    expect(none.body).toEqual({ detail: 'Authentication credentials were not provided.' });

    const wrong = await getJson(`${sim.url}${EVENTS}`, {
      Authorization: 'Bearer 00000000-0000-4000-8000-000000000000',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ detail: 'Invalid token.' });
    expect(wrong.res.headers.get('server')).toBe('gunicorn/20.0.4');

    const last = sim.requests[sim.requests.length - 1]!;
    expect(last).toMatchObject({ method: 'GET', path: EVENTS, status: 401, authorized: false });
  });

  it('setTokens replaces the accepted set', async () => {
    sim.setTokens(['other-token']);
    try {
      expect((await getJson(`${sim.url}${EVENTS}?limit=1`)).status).toBe(401);
      expect((await getJson(`${sim.url}${EVENTS}?limit=1`, { Authorization: 'Bearer other-token' })).status).toBe(200);
    } finally {
      sim.setTokens([TOKEN]);
    }
  });

  it('backlog records are well formed and cover every target type', () => {
    const all = sim.audit.all();
    expect(all).toHaveLength(3000);
    expect(sim.audit.size).toBe(3000);
    const ids = new Set(all.map((r) => r.id));
    expect(ids.size).toBe(3000);
    for (const r of all) {
      expect(r.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(r.occurred_at).toMatch(OCCURRED_AT_RE);
    }
    const types = new Set(all.map((r) => r['target_type']));
    expect([...types].sort()).toEqual(
      ['admin', 'api_token', 'blueprint', 'device', 'file_detection', 'library_item', 'vulnerability'].sort(),
    );
    expect(all.some((r) => !('metadata' in r))).toBe(true);
    const edr = all.find((r) => r['target_type'] === 'file_detection')!;
    expect(edr).toMatchObject({ actor_id: 'EDR', actor_type: 'kandji' });
    expect((edr['new_state'] as any).file.hash.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((edr['metadata'] as any).device.serial_number).toBeDefined();
    expect(Math.max(...all.map((r) => JSON.stringify(r).length))).toBeGreaterThan(3000);
    // sorted by (occurred_at, id)
    for (let i = 1; i < all.length; i++) {
      const a = all[i - 1]!;
      const b = all[i]!;
      expect(a.occurred_at < b.occurred_at || (a.occurred_at === b.occurred_at && a.id < b.id)).toBe(true);
    }
  });

  it('following next pages through all 3000 events exactly once, in order, across a long tie run', async () => {
    const all = sim.audit.all();
    // the backlog has a tie run longer than one page
    let run = 1;
    let maxRun = 1;
    let runEnd = 0;
    for (let i = 1; i < all.length; i++) {
      run = all[i]!.occurred_at === all[i - 1]!.occurred_at ? run + 1 : 1;
      if (run > maxRun) {
        maxRun = run;
        runEnd = i;
      }
    }
    expect(maxRun).toBeGreaterThanOrEqual(LONG_TIE_RUN);
    const runStart = runEnd - maxRun + 1;
    expect(Math.floor(runStart / 500)).not.toBe(Math.floor(runEnd / 500)); // straddles a page boundary

    const { records, pages } = await followAll(sim, `${sim.url}${EVENTS}?limit=500`);
    expect(records.map((r) => r.id)).toEqual(all.map((r) => r.id));
    expect(pages).toEqual([500, 500, 500, 500, 500, 500, 0]);

    // a page size that splits the tie run unevenly
    const small = await followAll(sim, `${sim.url}${EVENTS}?limit=333&sort_by=occurred_at`);
    expect(small.records.map((r) => r.id)).toEqual(all.map((r) => r.id));
  });

  it('next is a full URL with limit, sort_by and cursor; default limit is 500', async () => {
    const { body } = await getJson(`${sim.url}${EVENTS}`);
    const page = body as Page;
    expect(page.results).toHaveLength(500);
    expect(page.previous).toBeNull();
    const next = new URL(page.next!);
    expect(`${next.protocol}//${next.host}`).toBe(sim.url);
    expect(next.pathname).toBe(EVENTS);
    expect(next.searchParams.get('limit')).toBe('500');
    expect(next.searchParams.get('sort_by')).toBe('occurred_at');
    expect(next.searchParams.get('cursor')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('limit is clamped to 500; non-integer limit is a 400', async () => {
    const { status, body } = await getJson(`${sim.url}${EVENTS}?limit=1000`);
    expect(status).toBe(200);
    expect((body as Page).results).toHaveLength(500);
    expect(new URL((body as Page).next!).searchParams.get('limit')).toBe('500');

    for (const bad of ['abc', '1.5', '0', '-3']) {
      const r = await getJson(`${sim.url}${EVENTS}?limit=${bad}`);
      expect(r.status).toBe(400);
      expect(typeof r.body.detail).toBe('string');
    }
  });

  it('descending sort and sort by id', async () => {
    const all = sim.audit.all();
    const desc = await followAll(sim, `${sim.url}${EVENTS}?limit=500&sort_by=-occurred_at`);
    expect(desc.records.map((r) => r.id)).toEqual(all.map((r) => r.id).reverse());

    const byId = all.map((r) => r.id).sort();
    const asc = await followAll(sim, `${sim.url}${EVENTS}?limit=400&sort_by=id`);
    expect(asc.records.map((r) => r.id)).toEqual(byId);
    const descId = await followAll(sim, `${sim.url}${EVENTS}?limit=400&sort_by=-id`);
    expect(descId.records.map((r) => r.id)).toEqual(byId.slice().reverse());

    const bad = await getJson(`${sim.url}${EVENTS}?sort_by=name`);
    expect(bad.status).toBe(400);
  });

  it('invalid cursor is a 400', async () => {
    for (const c of ['garbage!!', 'bm90IGpzb24', Buffer.from('{"v":1}').toString('base64url')]) {
      const r = await getJson(`${sim.url}${EVENTS}?cursor=${c}`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ detail: 'Invalid cursor' });
    }
  });

  it('404 HTML for unknown paths', async () => {
    for (const p of ['/api/v1/nope', '/']) {
      const res = await fetch(`${sim.url}${p}`, { headers: AUTH });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('text/html');
      const text = await res.text();
      expect(text).toContain('<!doctype html>');
      expect(text).toContain('<h1>Not Found</h1>');
    }
  });

  describe('faults', () => {
    it('server_error_html', async () => {
      sim.setFaults({ rate: 1, kinds: ['server_error_html'] });
      const before = sim.requestCount((r) => r.fault === 'server_error_html');
      const res = await fetch(`${sim.url}${EVENTS}?limit=1`, { headers: AUTH });
      expect([500, 502, 503]).toContain(res.status);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toMatch(/<html/i);
      expect(sim.requestCount((r) => r.fault === 'server_error_html')).toBe(before + 1);
    });

    it('rate_limited', async () => {
      sim.setFaults({ rate: 1, kinds: ['rate_limited'], retryAfterSeconds: 7 });
      const { status, body, res } = await getJson(`${sim.url}${EVENTS}?limit=1`);
      expect(status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(body.detail).toBe('Request was throttled. Expected available in 7 seconds.');
    });

    it('slow', async () => {
      sim.setFaults({ rate: 1, kinds: ['slow'], slowMs: 300 });
      const t0 = Date.now();
      const { status, body } = await getJson(`${sim.url}${EVENTS}?limit=2`);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
      expect(status).toBe(200);
      expect((body as Page).results).toHaveLength(2);
      const last = sim.requests[sim.requests.length - 1]!;
      expect(last).toMatchObject({ fault: 'slow', status: 200 });
    });

    it('malformed_json', async () => {
      sim.setFaults({ rate: 1, kinds: ['malformed_json'] });
      const res = await fetch(`${sim.url}${EVENTS}?limit=1`, { headers: AUTH });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/json');
      const text = await res.text();
      expect(() => JSON.parse(text)).toThrow();
    });

    it('drop_connection', async () => {
      sim.setFaults({ rate: 1, kinds: ['drop_connection'] });
      await expect(fetch(`${sim.url}${EVENTS}?limit=1`, { headers: AUTH })).rejects.toThrow();
      const last = sim.requests[sim.requests.length - 1]!;
      expect(last).toMatchObject({ fault: 'drop_connection', status: 'dropped' });
    });

    it('rate 0 answers normally again', async () => {
      sim.setFaults({ rate: 0 });
      expect((await getJson(`${sim.url}${EVENTS}?limit=1`)).status).toBe(200);
    });
  });
});

describe('KandjiSimulator date filters', () => {
  let sim: KandjiSimulator;
  beforeAll(async () => {
    sim = await KandjiSimulator.start({ tokens: [TOKEN] });
    sim.audit.append([
      rec('01JNGZW47KZKPXE1JWCFE4PH00', '2024-11-25T23:59:59.999999Z'),
      rec('01JNGZW47KZKPXE1JWCFE4PH01', '2024-11-26T22:58:26.239569Z'),
      rec('01JNGZW47KZKPXE1JWCFE4PH02', '2024-11-26T22:58:26.239570Z'),
      rec('01JNGZW47KZKPXE1JWCFE4PH03', '2024-11-26T22:58:26.239570Z'),
      rec('01JNGZW47KZKPXE1JWCFE4PH04', '2024-11-26T22:58:26.239571Z'),
      rec('01JNGZW47KZKPXE1JWCFE4PH05', '2024-11-27T00:00:00.000000Z'),
    ]);
  });
  afterAll(() => sim.stop());

  async function ids(qs: string): Promise<string[]> {
    const { status, body } = await getJson(`${sim.url}${EVENTS}?${qs}`);
    expect(status).toBe(200);
    return (body as Page).results.map((r) => r.id.slice(-2));
  }

  it('start_date and end_date are inclusive at microsecond precision', async () => {
    expect(await ids('start_date=2024-11-26T22:58:26.239570Z')).toEqual(['02', '03', '04', '05']);
    expect(await ids('end_date=2024-11-26T22:58:26.239570Z')).toEqual(['00', '01', '02', '03']);
    expect(await ids('start_date=2024-11-26T22:58:26.239570Z&end_date=2024-11-26T22:58:26.239570Z')).toEqual([
      '02',
      '03',
    ]);
    expect(await ids('start_date=2024-11-26T22:58:26.239571Z&end_date=2024-11-26T22:58:26.239571Z')).toEqual(['04']);
  });

  it('offsets, missing fraction and bare dates', async () => {
    expect(await ids(`start_date=${encodeURIComponent('2024-11-26T22:58:26.239570+00:00')}`)).toEqual([
      '02',
      '03',
      '04',
      '05',
    ]);
    expect(await ids(`start_date=${encodeURIComponent('2024-11-27T00:58:26.239571+02:00')}`)).toEqual(['04', '05']);
    // an unencoded '+' arrives as a space; accepted as the offset sign
    expect(await ids('start_date=2024-11-26T22:58:26.239570+00:00')).toEqual(['02', '03', '04', '05']);
    expect(await ids('end_date=2024-11-26T22:58:26Z')).toEqual(['00']);
    expect(await ids('start_date=2024-11-26')).toEqual(['01', '02', '03', '04', '05']);
    // a bare end_date covers the whole day
    expect(await ids('start_date=2024-11-26&end_date=2024-11-26')).toEqual(['01', '02', '03', '04']);
    expect(await ids('start_date=2024-11-26&sort_by=-occurred_at')).toEqual(['05', '04', '03', '02', '01']);
  });

  it('filters carry over through the cursor, splitting a tie', async () => {
    const first = await getJson(
      `${sim.url}${EVENTS}?limit=2&start_date=2024-11-26T22:58:26.239569Z&end_date=2024-11-26T22:58:26.239571Z`,
    );
    const p1 = first.body as Page;
    expect(p1.results.map((r) => r.id.slice(-2))).toEqual(['01', '02']);
    const p2 = (await getJson(p1.next!)).body as Page;
    expect(p2.results.map((r) => r.id.slice(-2))).toEqual(['03', '04']);
    const p3 = (await getJson(p2.next!)).body as Page;
    expect(p3.results).toEqual([]);
    expect(p3.next).toBeNull();
  });

  it('invalid dates are a 400', async () => {
    for (const bad of ['yesterday', '2024-13-01', '2024-02-30', '2024-11-26T25:00:00Z']) {
      const { status, body } = await getJson(`${sim.url}${EVENTS}?start_date=${bad}`);
      expect(status).toBe(400);
      expect(typeof body.detail).toBe('string');
    }
  });

  it('short page has next = null; a full page has next', async () => {
    const short = (await getJson(`${sim.url}${EVENTS}?limit=10`)).body as Page;
    expect(short.results).toHaveLength(6);
    expect(short.next).toBeNull();
    const full = (await getJson(`${sim.url}${EVENTS}?limit=6`)).body as Page;
    expect(full.next).not.toBeNull();
    // events appended later are found by following the cursor (live tailing)
    sim.audit.append([rec('01JNGZW47KZKPXE1JWCFE4PH06', '2024-11-27T00:00:00.000000Z')]);
    const after = (await getJson(full.next!)).body as Page;
    expect(after.results.map((r) => r.id.slice(-2))).toEqual(['06']);
    expect(after.next).toBeNull();
  });
});

describe('KandjiSimulator live tailing', () => {
  it('a client re-polling its last URL sees every live event once, in order', async () => {
    const sim = await KandjiSimulator.start({
      tokens: [TOKEN],
      seed: 11,
      backlog: { count: 120, from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() - 60_000) },
    });
    try {
      sim.audit.startLive({ perSecond: 300, tieFraction: 0.5 });
      const seen: string[] = [];
      const seenSet = new Set<string>();
      let url = `${sim.url}${EVENTS}?limit=37`;
      const until = Date.now() + 600;
      let stopped = false;
      for (;;) {
        const page = (await getJson(url)).body as Page;
        for (const r of page.results) {
          if (!seenSet.has(r.id)) {
            seenSet.add(r.id);
            seen.push(r.id);
          }
        }
        if (page.next) {
          url = page.next;
          continue;
        }
        if (stopped) break;
        if (Date.now() > until) {
          sim.audit.stopLive();
          stopped = true;
        } else {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const all = sim.audit.all().map((r) => r.id);
      expect(all.length).toBeGreaterThan(200);
      expect(seen).toEqual(all);
      const times = sim.audit.all().map((r) => r.occurred_at);
      expect(new Set(times).size).toBeLessThan(times.length - 50);
    } finally {
      await sim.stop();
    }
  });
});

describe('KandjiSimulator publicBaseUrl', () => {
  it('next URLs use the public base URL', async () => {
    const sim = await KandjiSimulator.start({
      tokens: [TOKEN],
      publicBaseUrl: 'https://accuhive.api.kandji.io/',
      backlog: { count: 3, from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-01T01:00:00Z') },
    });
    try {
      const page = (await getJson(`${sim.url}${EVENTS}?limit=2&sort_by=-occurred_at`)).body as Page;
      expect(page.next).toMatch(
        /^https:\/\/accuhive\.api\.kandji\.io\/api\/v1\/audit\/events\?limit=2&sort_by=-occurred_at&cursor=/,
      );
    } finally {
      await sim.stop();
    }
  });
});

describe('KandjiSimulator rate limit', () => {
  it('answers 429 with Retry-After after N requests, shared across tokens', async () => {
    const sim = await KandjiSimulator.start({ tokens: [TOKEN, 'second-token'], requestsPerHour: 4 });
    try {
      for (let i = 0; i < 4; i++) {
        const token = i % 2 === 0 ? TOKEN : 'second-token';
        expect((await getJson(`${sim.url}${EVENTS}?limit=1`, { Authorization: `Bearer ${token}` })).status).toBe(200);
      }
      const { status, res, body } = await getJson(`${sim.url}${EVENTS}?limit=1`, {
        Authorization: 'Bearer second-token',
      });
      expect(status).toBe(429);
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(3500);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(body.detail).toBe(`Request was throttled. Expected available in ${retryAfter} seconds.`);
      sim.setRequestsPerHour(10);
      expect((await getJson(`${sim.url}${EVENTS}?limit=1`)).status).toBe(200);
      expect(sim.requestCount((r) => r.status === 429)).toBe(1);
      expect(sim.requestCount()).toBe(6);
    } finally {
      await sim.stop();
    }
  });
});

describe('AuditStore', () => {
  const opts = { count: 500, from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-02T00:00:00Z') };

  it('same seed gives the same records; another seed does not', () => {
    const a = new AuditStore({ seed: 42 });
    const b = new AuditStore({ seed: 42 });
    const c = new AuditStore({ seed: 43 });
    a.generateBacklog(opts);
    b.generateBacklog(opts);
    c.generateBacklog(opts);
    expect(a.all()).toEqual(b.all());
    expect(c.all()).not.toEqual(a.all());
  });

  it('tieFraction controls ties', () => {
    const none = new AuditStore({ seed: 3 });
    none.generateBacklog({ ...opts, tieFraction: 0 });
    const t = none.all().map((r) => r.occurred_at);
    expect(new Set(t).size).toBe(t.length);
    const some = new AuditStore({ seed: 3 });
    some.generateBacklog({ ...opts, tieFraction: 0.3 });
    const u = some.all().map((r) => r.occurred_at);
    expect(new Set(u).size).toBeLessThan(u.length * 0.8);
  });

  it('append keeps order and rejects duplicate ids', () => {
    const s = new AuditStore();
    s.append([
      rec('B', '2025-01-01T00:00:00.000002Z'),
      rec('A', '2025-01-01T00:00:00.000002Z'),
      rec('C', '2025-01-01T00:00:00.000001Z'),
    ]);
    expect(s.all().map((r) => r.id)).toEqual(['C', 'A', 'B']);
    expect(() => s.append([rec('A', '2025-01-01T00:00:00.000003Z')])).toThrow(/duplicate/);
  });

  it('live generation appends events at now and stops', async () => {
    const s = new AuditStore({ seed: 5 });
    s.generateBacklog(opts);
    const before = s.size;
    const startedAt = new Date().toISOString();
    s.startLive({ perSecond: 100, tieFraction: 0.5 });
    await new Promise((r) => setTimeout(r, 350));
    s.stopLive();
    const grown = s.size;
    expect(grown - before).toBeGreaterThan(10);
    const fresh = s.all().slice(before);
    for (const r of fresh) {
      expect(r.occurred_at).toMatch(OCCURRED_AT_RE);
      expect(r.occurred_at >= startedAt.slice(0, 19)).toBe(true);
    }
    expect(new Set(fresh.map((r) => r.occurred_at)).size).toBeLessThan(fresh.length);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.size).toBe(grown);
  });
});

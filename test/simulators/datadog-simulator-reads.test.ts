/** DatadogSimulator read side: aggregate, search, indexes; keys; index quota, exclusion, drops, delay; read faults. */
import { request } from 'undici';
import {
  AGGREGATE_PATH,
  DatadogSimulator,
  INDEXES_PATH,
  SEARCH_PATH,
  type ReceivedLog,
} from '../../simulators/datadog';

const KEY = 'reads-api-key';
const APP = 'reads-app-key';
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 10, 12, 30, 0);
const H10 = Date.UTC(2026, 0, 10, 10, 0, 0);

let sim: DatadogSimulator;
let now = NOW;

beforeEach(async () => {
  now = NOW;
  sim = await DatadogSimulator.start({
    apiKeys: [KEY],
    applicationKeys: { [APP]: ['logs_read_data', 'logs_read_config'], 'no-data': ['logs_read_config'] },
  });
  sim.setClock(() => now);
});
afterEach(() => sim.stop());

const log = (id: string, at: number, tenant = 'acme'): ReceivedLog => ({
  id,
  occurred_at: new Date(at).toISOString(),
  ddsource: 'kandji',
  service: 'audit',
  ddtags: `kandji_tenant:${tenant}`,
});

async function ship(items: ReceivedLog[]): Promise<void> {
  const res = await request(sim.intakeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dd-api-key': KEY },
    body: JSON.stringify(items),
  });
  expect(res.statusCode).toBe(202);
  await res.body.dump();
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, any>;
}

async function read(path: string, body?: unknown, appKey = APP): Promise<Answer> {
  const res = await request(`${sim.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', 'dd-api-key': KEY, 'dd-application-key': appKey },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, headers: res.headers, json: (await res.body.json()) as Answer['json'] };
}

const hourlyCount = (query: string, from = H10, to = H10 + 2 * HOUR) =>
  read(AGGREGATE_PATH, {
    compute: [{ aggregation: 'count', type: 'timeseries', interval: '1h' }],
    filter: { from: String(from), to: String(to), query, indexes: ['*'] },
  });

const points = (a: Answer): { time: string; value: number }[] => a.json.data.buckets[0].computes.c0;

test('aggregate counts per hour, filtered on source, service, tag and attribute', async () => {
  await ship([log('a', H10 + 1), log('b', H10 + 2), log('c', H10 + HOUR + 5), log('d', H10 + 3, 'other')]);
  const all = await hourlyCount('source:kandji service:audit kandji_tenant:acme');
  expect(all.status).toBe(200);
  expect(all.json.meta.status).toBe('done');
  expect(points(all)).toEqual([
    { time: new Date(H10).toISOString(), value: 2 },
    { time: new Date(H10 + HOUR).toISOString(), value: 1 },
  ]);
  expect(points(await hourlyCount('kandji_tenant:acme @id:(a OR c)')).map((p) => p.value)).toEqual([1, 1]);
  expect(points(await hourlyCount('kandji_tenant:acme -@id:a')).map((p) => p.value)).toEqual([1, 1]);
});

test('search pages through with meta.page.after and refuses page.limit over 1000', async () => {
  await ship(Array.from({ length: 25 }, (_, i) => log(`e${i}`, H10 + i)));
  const ids: string[] = [];
  let cursor: string | undefined;
  let requests = 0;
  do {
    const page = await read(SEARCH_PATH, {
      filter: { from: String(H10), to: String(H10 + HOUR), query: 'service:audit', indexes: ['*'] },
      page: { limit: 10, ...(cursor ? { cursor } : {}) },
      sort: 'timestamp',
    });
    requests++;
    ids.push(...page.json.data.map((e: { attributes: { attributes: { id: string } } }) => e.attributes.attributes.id));
    cursor = page.json.meta.page?.after;
  } while (cursor);
  expect(requests).toBe(3);
  expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `e${i}`));
  const tooMany = await read(SEARCH_PATH, { filter: { from: String(H10), to: 'now' }, page: { limit: 1001 } });
  expect(tooMany.status).toBe(400);
});

test('an application key without logs_read_data is refused 403, a missing one too', async () => {
  expect((await read(SEARCH_PATH, { filter: {} }, 'no-data')).status).toBe(403);
  expect((await read(SEARCH_PATH, { filter: {} }, 'unknown')).status).toBe(403);
  expect((await read(INDEXES_PATH, undefined, 'no-data')).status).toBe(200);
});

test('the index keeps out excluded logs, logs past the daily quota, and dropped ones; it shows is_rate_limited', async () => {
  sim.index.configure({ dailyLimit: 3, exclusionFilters: [{ name: 'noisy', query: '@id:x*' }] });
  sim.index.setDrop((item) => item.id === 'lost');
  await ship([log('x1', H10), log('a', H10), log('lost', H10), log('b', H10), log('c', H10), log('d', H10)]);
  expect(sim.received).toHaveLength(6); // all accepted (202)
  expect(sim.index.keptOut.excluded.map((i) => i.id)).toEqual(['x1']);
  expect(sim.index.keptOut.dropped.map((i) => i.id)).toEqual(['lost']);
  expect(sim.index.keptOut.quota.map((i) => i.id)).toEqual(['d']);
  expect(points(await hourlyCount('service:audit'))[0]!.value).toBe(3);
  const indexes = await read(INDEXES_PATH);
  expect(indexes.json.indexes[0]).toMatchObject({
    name: 'main',
    daily_limit: 3,
    is_rate_limited: true,
    exclusion_filters: [{ name: 'noisy', is_enabled: true, filter: { query: '@id:x*' } }],
  });
});

test('a log becomes searchable only after the indexing delay', async () => {
  sim.index.configure({ indexingDelayMs: 60_000 });
  await ship([log('a', H10)]);
  expect(points(await hourlyCount('service:audit'))[0]!.value).toBe(0);
  now += 60_000;
  expect(points(await hourlyCount('service:audit'))[0]!.value).toBe(1);
});

test('faults on demand: a partial (timeout) answer, warnings, a 429 with X-RateLimit headers', async () => {
  await ship([log('a', H10), log('b', H10)]);
  sim.reads.failNext('timeout', 'warnings', 'rate_limited');
  const partial = await hourlyCount('service:audit');
  expect(partial.json.meta.status).toBe('timeout');
  expect(points(partial)[0]!.value).toBe(1);
  const warned = await hourlyCount('service:audit');
  expect(warned.json.meta.warnings).toHaveLength(1);
  const limited = await hourlyCount('service:audit');
  expect(limited.status).toBe(429);
  expect(limited.headers['x-ratelimit-remaining']).toBe('0');
  expect(Number(limited.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
  expect(sim.reads.requests.map((r) => r.fault)).toEqual(['timeout', 'warnings', 'rate_limited']);
});

test('the rate limit: past X-RateLimit-Limit requests in the period, 429 until it resets', async () => {
  sim.reads.setRateLimit({ limit: 2, periodSeconds: 60 });
  const first = await hourlyCount('*');
  expect(first.headers['x-ratelimit-limit']).toBe('2');
  expect(first.headers['x-ratelimit-remaining']).toBe('1');
  expect((await hourlyCount('*')).status).toBe(200);
  expect((await hourlyCount('*')).status).toBe(429);
  now += 60_000;
  expect((await hourlyCount('*')).status).toBe(200);
});

test('search answers a snapshot log with its attributes: status as the level (its value kept only when asked), timestamp kept, reserved keys top-level, exclusions apply', async () => {
  sim.index.configure({ exclusionFilters: [{ name: 'released', query: 'service:threat @status:RELEASED' }] });
  const threat = (file_hash: string, status: string): ReceivedLog => ({
    device_id: 'd1',
    file_hash,
    detection_date: new Date(H10 + 1).toISOString(),
    status,
    ddsource: 'kandji',
    service: 'threat',
    hostname: 'fwd-1',
    ddtags: 'kandji_tenant:acme',
  });
  const behavioral: ReceivedLog = {
    id: 'b-1',
    threat_status: 'MALICIOUS',
    detection_date: new Date(H10 - 20 * HOUR).toISOString(),
    timestamp: new Date(H10 + 2).toISOString(),
    kandji_datadog_original_time: { field: 'detection_date', value: new Date(H10 - 20 * HOUR).toISOString() },
    message: 'a chain',
    ddsource: 'kandji',
    service: 'behavioral_detection',
    ddtags: 'kandji_tenant:acme',
  };
  await ship([threat('h1', 'QUARANTINED'), threat('h2', 'RELEASED'), behavioral]);
  const page = await read(SEARCH_PATH, {
    filter: { from: String(H10), to: String(NOW), query: 'source:kandji kandji_tenant:acme', indexes: ['*'] },
    page: { limit: 10 },
    sort: 'timestamp',
  });
  // A threat has no date attribute Datadog reads: it is dated when received (now), after the behavioral detection.
  const [b, q, ...rest] = page.json.data as { attributes: Record<string, any> }[];
  expect(rest).toHaveLength(0); // the RELEASED threat is excluded
  expect(q!.attributes).toMatchObject({
    service: 'threat',
    host: 'fwd-1',
    status: 'info',
    timestamp: new Date(NOW).toISOString(),
    attributes: { device_id: 'd1', file_hash: 'h1' },
  });
  expect(q!.attributes.attributes).not.toHaveProperty('status'); // by default Datadog's level only
  sim.reads.setStatusAttribute('kept');
  const kept = await read(SEARCH_PATH, {
    filter: { from: String(H10), to: String(NOW), query: 'service:threat', indexes: ['*'] },
    page: { limit: 10 },
  });
  expect((kept.json.data as { attributes: Record<string, any> }[])[0]!.attributes).toMatchObject({
    status: 'info',
    attributes: { file_hash: 'h1', status: 'QUARANTINED' },
  });
  expect(q!.attributes.tags).toEqual(expect.arrayContaining(['kandji_tenant:acme', 'source:kandji']));
  expect(q!.attributes.attributes).not.toHaveProperty('service');
  expect(b!.attributes).toMatchObject({
    message: 'a chain',
    timestamp: new Date(H10 + 2).toISOString(), // dated by the restamped timestamp
    attributes: { id: 'b-1', timestamp: new Date(H10 + 2).toISOString(), kandji_datadog_original_time: {} },
  });
  expect(b!.attributes.attributes).not.toHaveProperty('message');
});

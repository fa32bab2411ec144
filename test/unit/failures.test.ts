/**
 * Failure classification: RemoteError kinds → ApplicationFailure types, Retry-After parsing, status classification,
 * and the HTTP clients of Kandji and Datadog against a local node:http server (errors never carry the secrets).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import {
  failureTypeOf,
  toApplicationFailure,
  withTypedFailures,
  backoffWithJitterMs,
  BACKOFF_CAP_MS,
} from '../../activities/failures';
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { DatadogRefusedAll } from '../../src/datadog/shipper';
import { KandjiClient } from '../../src/kandji/client';
import {
  RemoteError,
  kindOfStatus,
  networkError,
  retryAfterMs,
  snippet,
  type RemoteFailureKind,
} from '../../src/remote-errors';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../workflows/shared/failure-types';

const ALL_KINDS: RemoteFailureKind[] = [
  'auth',
  'rate_limited',
  'unavailable',
  'bad_response',
  'not_found',
  'rejected',
  'too_large',
  'unsafe_link',
];

// Expected mapping written out by hand (not derived from the source) so a change in the mapping fails here.
const KANDJI_EXPECTED: Record<RemoteFailureKind, [type: string, nonRetryable: boolean]> = {
  auth: ['KandjiAuthError', true],
  rate_limited: ['KandjiRateLimitedError', false],
  unavailable: ['KandjiUnavailableError', false],
  bad_response: ['KandjiBadResponseError', false],
  not_found: ['KandjiNotFoundError', true],
  rejected: ['KandjiRequestRejectedError', true],
  too_large: ['KandjiRequestRejectedError', true],
  unsafe_link: ['KandjiUnsafeLinkError', true],
};

const DATADOG_EXPECTED: Record<RemoteFailureKind, [type: string, nonRetryable: boolean]> = {
  auth: ['DatadogAuthError', true],
  rate_limited: ['DatadogRateLimitedError', false],
  unavailable: ['DatadogUnavailableError', false],
  bad_response: ['DatadogUnavailableError', false],
  not_found: ['DatadogRejectedError', true],
  rejected: ['DatadogRejectedError', true],
  too_large: ['DatadogPayloadTooLargeError', true],
  unsafe_link: ['DatadogRejectedError', true],
};

describe('toApplicationFailure', () => {
  const cases = [
    ...ALL_KINDS.map((k) => ['kandji', k, ...KANDJI_EXPECTED[k]] as const),
    ...ALL_KINDS.map((k) => ['datadog', k, ...DATADOG_EXPECTED[k]] as const),
  ];

  it.each(cases)('%s %s → %s (nonRetryable %s)', (service, kind, type, nonRetryable) => {
    const err = new RemoteError(service, kind, `boom ${service} ${kind}`, { status: 418, bodySnippet: 'body text' });
    expect(failureTypeOf(err)).toBe(type);
    const f = toApplicationFailure(err);
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe(type);
    expect(f.nonRetryable).toBe(nonRetryable);
    expect(f.message).toBe(`boom ${service} ${kind}`);
    expect(f.details).toEqual([{ status: 418, body: 'body text' }]);
    // Retryable failures carry a jittered backoff (attempt 1: between 0.5 s and 1 s); non-retryable ones none.
    if (nonRetryable) expect(f.nextRetryDelay).toBeUndefined();
    else {
      expect(f.nextRetryDelay).toBeGreaterThanOrEqual(500);
      expect(f.nextRetryDelay).toBeLessThanOrEqual(1_000);
    }
    // The retry policy's list agrees with the flag.
    expect(NON_RETRYABLE_FAILURE_TYPES.includes(f.type as never)).toBe(nonRetryable);
  });

  it('covers every kind for both services', () => {
    expect(cases).toHaveLength(16);
  });

  it.each(['kandji', 'datadog'] as const)('sets nextRetryDelay from retryAfterMs on a %s rate limit', (service) => {
    const f = toApplicationFailure(
      new RemoteError(service, 'rate_limited', 'slow down', { status: 429, retryAfterMs: 7_000 }),
    );
    expect(f.nextRetryDelay).toBe(7_000);
    expect(f.nonRetryable).toBe(false);
    expect(f.details).toEqual([{ status: 429, body: null }]);
  });

  it('uses null for missing status and body in details', () => {
    const f = toApplicationFailure(new RemoteError('kandji', 'unavailable', 'reset'));
    expect(f.details).toEqual([{ status: null, body: null }]);
  });

  it('backs off exponentially with jitter, capped per service', () => {
    const lowest = () => 0;
    const highest = () => 1;
    expect([1, 2, 3, 4].map((a) => backoffWithJitterMs(a, 60_000, highest))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect([1, 2, 3, 4].map((a) => backoffWithJitterMs(a, 60_000, lowest))).toEqual([500, 1_000, 2_000, 4_000]);
    expect(backoffWithJitterMs(30, 60_000, highest)).toBe(60_000);
    expect(backoffWithJitterMs(30, 120_000, lowest)).toBe(60_000);
    const kandji = toApplicationFailure(new RemoteError('kandji', 'unavailable', 'reset'), 20);
    expect(kandji.nextRetryDelay).toBeGreaterThanOrEqual(BACKOFF_CAP_MS.kandji / 2);
    expect(kandji.nextRetryDelay).toBeLessThanOrEqual(BACKOFF_CAP_MS.kandji);
    const datadog = toApplicationFailure(new RemoteError('datadog', 'unavailable', 'reset'), 20);
    expect(datadog.nextRetryDelay).toBeGreaterThanOrEqual(BACKOFF_CAP_MS.datadog / 2);
  });
});

describe('withTypedFailures', () => {
  it('returns the value of a successful call', async () => {
    await expect(withTypedFailures(async () => 42)).resolves.toBe(42);
  });

  it('rethrows a RemoteError as a typed ApplicationFailure', async () => {
    const p = withTypedFailures(async () => {
      throw new RemoteError('datadog', 'too_large', 'Datadog answered 413', { status: 413 });
    });
    await expect(p).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(p).rejects.toMatchObject({
      type: 'DatadogPayloadTooLargeError',
      nonRetryable: true,
      message: 'Datadog answered 413',
    });
  });

  it('rethrows a systemic Datadog refusal as a non-retryable DatadogRefusedAllError with the answer', async () => {
    const err = await withTypedFailures(() =>
      Promise.reject(new DatadogRefusedAll('Datadog answered 400: <html>proxy</html>', 400, '<html>proxy</html>')),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.type).toBe('DatadogRefusedAllError');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('400: <html>proxy</html>');
    expect(f.details).toEqual([{ status: 400, body: '<html>proxy</html>' }]);
    expect(NON_RETRYABLE_FAILURE_TYPES).toContain('DatadogRefusedAllError');
  });

  it('passes other errors through unchanged (same object)', async () => {
    const plain = new TypeError('not remote');
    await expect(
      withTypedFailures(async () => {
        throw plain;
      }),
    ).rejects.toBe(plain);
    const af = ApplicationFailure.create({ type: 'Other', message: 'x' });
    await expect(
      withTypedFailures(async () => {
        throw af;
      }),
    ).rejects.toBe(af);
    const notAnError = { weird: true };
    await expect(
      withTypedFailures(async () => {
        throw notAnError;
      }),
    ).rejects.toBe(notAnError);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-31T12:00:00Z');

  it('reads Retry-After in seconds', () => {
    expect(retryAfterMs({ 'retry-after': '7' }, now)).toBe(7_000);
    expect(retryAfterMs({ 'retry-after': ' 0 ' }, now)).toBe(0);
    expect(retryAfterMs({ 'retry-after': '1.5' }, now)).toBe(1_500);
    expect(retryAfterMs({ 'retry-after': '3600' }, now)).toBe(3_600_000);
  });

  it('reads the first value of a repeated header', () => {
    expect(retryAfterMs({ 'retry-after': ['4', '9'] }, now)).toBe(4_000);
  });

  it('reads Retry-After as an HTTP date relative to now', () => {
    expect(retryAfterMs({ 'retry-after': 'Sat, 31 Jan 2026 12:00:30 GMT' }, now)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': 'Sat, 31 Jan 2026 13:00:00 GMT' }, now)).toBe(3_600_000);
  });

  it('never returns a negative delay for a date in the past', () => {
    expect(retryAfterMs({ 'retry-after': 'Sat, 31 Jan 2026 11:59:00 GMT' }, now)).toBe(0);
  });

  it('falls back to x-ratelimit-reset (seconds)', () => {
    expect(retryAfterMs({ 'x-ratelimit-reset': '12' }, now)).toBe(12_000);
    expect(retryAfterMs({ 'x-ratelimit-reset': ['3'] }, now)).toBe(3_000);
  });

  it('prefers Retry-After over x-ratelimit-reset', () => {
    expect(retryAfterMs({ 'retry-after': '2', 'x-ratelimit-reset': '12' }, now)).toBe(2_000);
  });

  it('returns undefined for garbage or missing headers', () => {
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': undefined }, now)).toBeUndefined();
    expect(retryAfterMs({ 'x-ratelimit-reset': 'later' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'x-ratelimit-reset': '-3' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'x-ratelimit-reset': 'Infinity' }, now)).toBeUndefined();
  });

  it('ignores an unreadable Retry-After and uses x-ratelimit-reset', () => {
    expect(retryAfterMs({ 'retry-after': 'soon', 'x-ratelimit-reset': '5' }, now)).toBe(5_000);
  });

  it('ignores other header names (e.g. ratelimit-reset)', () => {
    expect(retryAfterMs({ 'ratelimit-reset': '5', 'x-retry-after': '5' }, now)).toBeUndefined();
  });
});

describe('kindOfStatus', () => {
  it.each([
    [400, 'rejected'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'not_found'],
    [408, 'unavailable'],
    [413, 'too_large'],
    [429, 'rate_limited'],
    [500, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [409, 'rejected'],
    [422, 'rejected'],
  ] as const)('%i → %s', (status, kind) => {
    expect(kindOfStatus(status)).toBe(kind);
  });
});

describe('snippet', () => {
  it('flattens runs of whitespace to single spaces and trims', () => {
    expect(snippet('  <html>\n\t<body>\r\n  Bad   Gateway </body>\n</html>\n')).toBe(
      '<html> <body> Bad Gateway </body> </html>',
    );
  });

  it('keeps a body at exactly the limit, truncates one longer with an ellipsis', () => {
    expect(snippet('a'.repeat(200))).toBe('a'.repeat(200));
    expect(snippet('a'.repeat(201))).toBe(`${'a'.repeat(200)}…`);
    expect(snippet('abcdef', 3)).toBe('abc…');
    expect(snippet('abc', 3)).toBe('abc');
  });

  it('measures the limit after flattening', () => {
    // 10 chars with long whitespace runs flatten to "a b c d e" (9 chars): under a limit of 9.
    expect(snippet('a   b\n\nc\td    e', 9)).toBe('a b c d e');
  });

  it('returns an empty string for an empty or blank body', () => {
    expect(snippet('')).toBe('');
    expect(snippet(' \n\t ')).toBe('');
  });
});

describe('networkError', () => {
  it('is a retryable unavailable error naming the code', () => {
    const e = networkError('kandji', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.service).toBe('kandji');
    expect(e.kind).toBe('unavailable');
    expect(e.message).toBe('kandji request failed: ECONNRESET (socket hang up)');
    expect(toApplicationFailure(e).type).toBe('KandjiUnavailableError');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// HTTP clients against a local server

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

interface Recorded {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

async function startServer(): Promise<{
  server: Server;
  base: string;
  setHandler: (h: Handler) => void;
  requests: Recorded[];
}> {
  let handler: Handler = (_req, res) => res.end();
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, setHandler: (h) => (handler = h), requests };
}

async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function catchRemote(p: Promise<unknown>): Promise<RemoteError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RemoteError);
    return err as RemoteError;
  }
  throw new Error('expected the call to fail');
}

function expectNoSecret(err: RemoteError, secret: string): void {
  expect(err.message).not.toContain(secret);
  expect(JSON.stringify(err.details)).not.toContain(secret);
  expect(String(err.stack)).not.toContain(secret);
  const f = toApplicationFailure(err);
  expect(f.message).not.toContain(secret);
  expect(JSON.stringify(f.details)).not.toContain(secret);
}

const LONG_HTML = `<!DOCTYPE html>\n<html>\n  <head><title>500 Internal Server Error</title></head>\n  <body>\n${'    <p>something went wrong</p>\n'.repeat(20)}  </body>\n</html>\n`;

describe('KandjiClient', () => {
  const TOKEN = 'kdj-tok-SECRET-3f9a1c77e2b04d5e';
  let srv: Awaited<ReturnType<typeof startServer>>;
  let client: KandjiClient;

  beforeAll(async () => {
    srv = await startServer();
    client = new KandjiClient({
      baseUrl: `${srv.base}/ignored/path`,
      token: TOKEN,
      timeoutMs: 1_500,
      maxRateLimitWaitMs: 0,
    });
  });

  afterAll(async () => {
    await client.close();
    await stopServer(srv.server);
  });

  beforeEach(() => {
    srv.requests.length = 0;
  });

  it('keeps only the origin of the base URL', () => {
    expect(client.baseUrl).toBe(srv.base);
  });

  it('GETs with the bearer token and returns the parsed JSON', async () => {
    srv.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results":[{"id":"a"}],"next":null}');
    });
    await expect(client.getJson('/api/v1/audit/events?limit=5')).resolves.toEqual({
      results: [{ id: 'a' }],
      next: null,
    });
    expect(srv.requests).toHaveLength(1);
    const r = srv.requests[0]!;
    expect(r.method).toBe('GET');
    expect(r.url).toBe('/api/v1/audit/events?limit=5');
    expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(r.headers.accept).toBe('application/json');
  });

  it('refuses a path that does not start with /', async () => {
    await expect(client.getJson('api/v1/audit/events')).rejects.toThrow(/must start with \//);
    expect(srv.requests).toHaveLength(0);
  });

  it('401 → auth, without the token in message or details', async () => {
    srv.setHandler((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"detail":"Invalid token."}');
    });
    const err = await catchRemote(client.getJson('/api/v1/audit/events?limit=5&start_date=2026-01-01'));
    expect(srv.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`); // the token was sent
    expect(err.service).toBe('kandji');
    expect(err.kind).toBe('auth');
    expect(err.details.status).toBe(401);
    expect(err.details.bodySnippet).toBe('{"detail":"Invalid token."}');
    expect(err.details.retryAfterMs).toBeUndefined();
    expect(err.message).toContain('401');
    expect(err.message).toContain('/api/v1/audit/events');
    expect(err.message).not.toContain('start_date'); // the query is left out of the message
    expectNoSecret(err, TOKEN);
  });

  it('500 with an HTML page → unavailable with a flattened, truncated snippet', async () => {
    srv.setHandler((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end(LONG_HTML);
    });
    const err = await catchRemote(client.getJson('/api/v1/audit/events'));
    expect(err.kind).toBe('unavailable');
    expect(err.details.status).toBe(500);
    expect(err.details.bodySnippet).toBe(snippet(LONG_HTML));
    expect(err.details.bodySnippet!.length).toBe(201);
    expect(err.details.bodySnippet).not.toMatch(/\n/);
    expect(err.details.bodySnippet!.endsWith('…')).toBe(true);
    expectNoSecret(err, TOKEN);
  });

  it('200 with malformed JSON → bad_response', async () => {
    srv.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results":[{"id":"a"},');
    });
    const err = await catchRemote(client.getJson('/api/v1/audit/events'));
    expect(err.kind).toBe('bad_response');
    expect(err.details.status).toBe(200);
    // JSON cut short may be records: told by its size, never quoted (it would reach history).
    expect(err.details.bodySnippet).toBeUndefined();
    expect(err.message).toContain('not JSON (23 bytes starting like JSON)');
    expect(toApplicationFailure(err).type).toBe('KandjiBadResponseError');
    expectNoSecret(err, TOKEN);
  });

  it('a destroyed socket → unavailable', async () => {
    srv.setHandler((req) => req.socket.destroy());
    const err = await catchRemote(client.getJson('/api/v1/audit/events'));
    expect(err.kind).toBe('unavailable');
    expect(err.details.status).toBeUndefined();
    expectNoSecret(err, TOKEN);
  });

  it('429 → rate_limited with Retry-After in ms', async () => {
    srv.setHandler((_req, res) => {
      res.writeHead(429, { 'retry-after': '3' });
      res.end('Too Many Requests');
    });
    const err = await catchRemote(client.getJson('/api/v1/audit/events'));
    expect(err.kind).toBe('rate_limited');
    expect(err.details.retryAfterMs).toBe(3_000);
    expectNoSecret(err, TOKEN);
    await expect(withTypedFailures(() => client.getJson('/api/v1/audit/events'))).rejects.toMatchObject({
      type: 'KandjiRateLimitedError',
      nonRetryable: false,
      nextRetryDelay: 3_000,
    });
  });

  it('waits out a 429 itself (Retry-After), keeping the activity alive, instead of spending a retry', async () => {
    let calls = 0;
    srv.setHandler((_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(429, { 'retry-after': '1' });
        res.end('{"detail":"Request was throttled."}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"results":[],"next":null}');
      }
    });
    const patient = new KandjiClient({ baseUrl: srv.base, token: TOKEN, timeoutMs: 1_500 });
    const gated: string[] = [];
    const gate = { acquire: async () => void gated.push('slot') };
    const gatedClient = new KandjiClient({ baseUrl: srv.base, token: TOKEN, timeoutMs: 1_500, gate });
    const started = Date.now();
    await expect(patient.getJson('/api/v1/audit/events')).resolves.toEqual({ results: [], next: null });
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    calls = 0;
    await gatedClient.getJson('/api/v1/audit/events');
    // Every attempt, the retried one included, took a slot of the tenant's budget.
    expect(gated).toEqual(['slot', 'slot']);
    await patient.close();
    await gatedClient.close();
  });

  it('404 → not_found, 400 → rejected, 503 ignores Retry-After', async () => {
    srv.setHandler((_req, res) => {
      res.writeHead(404);
      res.end('Not Found');
    });
    expect((await catchRemote(client.getJson('/x'))).kind).toBe('not_found');
    srv.setHandler((_req, res) => {
      res.writeHead(400);
      res.end('{"limit":["bad"]}');
    });
    expect((await catchRemote(client.getJson('/x'))).kind).toBe('rejected');
    srv.setHandler((_req, res) => {
      res.writeHead(503, { 'retry-after': '9' });
      res.end('down');
    });
    const err = await catchRemote(client.getJson('/x'));
    expect(err.kind).toBe('unavailable');
    expect(err.details.retryAfterMs).toBeUndefined();
  });

  it('a server that never answers → unavailable after the timeout', async () => {
    const quick = new KandjiClient({ baseUrl: srv.base, token: TOKEN, timeoutMs: 200 });
    try {
      srv.setHandler(() => undefined); // never responds
      const started = Date.now();
      const err = await catchRemote(quick.getJson('/api/v1/audit/events'));
      expect(err.kind).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(1_400);
      expectNoSecret(err, TOKEN);
    } finally {
      await quick.close();
    }
  });
});

describe('DatadogIntakeClient', () => {
  const API_KEY = 'ddkey-SECRET-0c1d2e3f4a5b6c7d8e9f';
  let srv: Awaited<ReturnType<typeof startServer>>;
  let client: DatadogIntakeClient;

  beforeAll(async () => {
    srv = await startServer();
    client = new DatadogIntakeClient({ intakeUrl: `${srv.base}/api/v2/logs`, apiKey: API_KEY, timeoutMs: 1_500 });
  });

  afterAll(async () => {
    await client.close();
    await stopServer(srv.server);
  });

  beforeEach(() => {
    srv.requests.length = 0;
  });

  const respond = (status: number, body: string, headers: Record<string, string> = {}) =>
    srv.setHandler((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    });

  it('202 → resolves; the body is gzip of the JSON with the expected headers', async () => {
    respond(202, '{}');
    const json = JSON.stringify([{ id: 'é-1', message: 'hello 😀', ddsource: 'kandji' }, { id: '2' }]);
    await expect(client.send(json)).resolves.toBeUndefined();
    expect(srv.requests).toHaveLength(1);
    const r = srv.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/api/v2/logs');
    expect(r.headers['dd-api-key']).toBe(API_KEY);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body[0]).toBe(0x1f); // gzip magic
    expect(r.body[1]).toBe(0x8b);
    expect(gunzipSync(r.body).toString('utf8')).toBe(json);
  });

  it('any 2xx is success', async () => {
    respond(200, '{}');
    await expect(client.send('[]')).resolves.toBeUndefined();
  });

  it.each([
    [400, 'rejected', 'DatadogRejectedError', true],
    [401, 'auth', 'DatadogAuthError', true],
    [403, 'auth', 'DatadogAuthError', true],
    [404, 'rejected', 'DatadogRejectedError', true],
    [408, 'unavailable', 'DatadogUnavailableError', false],
    [413, 'too_large', 'DatadogPayloadTooLargeError', true],
    [500, 'unavailable', 'DatadogUnavailableError', false],
    [503, 'unavailable', 'DatadogUnavailableError', false],
  ] as const)('%i → %s / %s', async (status, kind, type, nonRetryable) => {
    const body = `{"errors":[{"status":"${status}","title":"t","detail":"d"}]}`;
    respond(status, body);
    const err = await catchRemote(client.send('[{"message":"x"}]'));
    expect(srv.requests[0]!.headers['dd-api-key']).toBe(API_KEY); // the key was sent
    expect(err.service).toBe('datadog');
    expect(err.kind).toBe(kind);
    expect(err.details.status).toBe(status);
    expect(err.details.bodySnippet).toBe(body);
    expect(err.details.retryAfterMs).toBeUndefined();
    expect(err.message).toContain(String(status));
    const f = toApplicationFailure(err);
    expect(f.type).toBe(type);
    expect(f.nonRetryable).toBe(nonRetryable);
    expectNoSecret(err, API_KEY);
  });

  it('429 with Retry-After: 7 → rate_limited, retryAfterMs 7000, nextRetryDelay 7000', async () => {
    respond(429, '{"errors":[{"status":"429","title":"Too Many Requests"}]}', { 'retry-after': '7' });
    const err = await catchRemote(client.send('[]'));
    expect(err.kind).toBe('rate_limited');
    expect(err.details.retryAfterMs).toBe(7_000);
    expectNoSecret(err, API_KEY);
    const f = toApplicationFailure(err);
    expect(f.type).toBe('DatadogRateLimitedError');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(7_000);
  });

  it('429 with x-ratelimit-reset → retryAfterMs from it', async () => {
    respond(429, '{}', { 'x-ratelimit-reset': '11' });
    expect((await catchRemote(client.send('[]'))).details.retryAfterMs).toBe(11_000);
  });

  it('503 keeps a Retry-After hint; 400 and 413 ignore one', async () => {
    respond(503, 'unavailable', { 'retry-after': '4' });
    expect((await catchRemote(client.send('[]'))).details.retryAfterMs).toBe(4_000);
    respond(400, 'bad', { 'retry-after': '4' });
    expect((await catchRemote(client.send('[]'))).details.retryAfterMs).toBeUndefined();
    respond(413, 'big', { 'retry-after': '4' });
    expect((await catchRemote(client.send('[]'))).details.retryAfterMs).toBeUndefined();
  });

  it('a destroyed socket → unavailable, without the key', async () => {
    srv.setHandler((req) => req.socket.destroy());
    const err = await catchRemote(client.send('[{"message":"x"}]'));
    expect(err.kind).toBe('unavailable');
    expect(err.details.status).toBeUndefined();
    expectNoSecret(err, API_KEY);
  });
});

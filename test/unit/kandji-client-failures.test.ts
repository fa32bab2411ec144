/**
 * KandjiClient against a local node:http server: the request it sends, and each failure it meets (HTTP status, bad
 * JSON, a dropped socket, a timeout, rate limits) as a RemoteError of the right kind that never carries the token.
 */
import { withTypedFailures, toApplicationFailure } from '../../activities/failures';
import { KandjiClient } from '../../src/kandji/client';
import { snippet } from '../../src/remote-errors';
import { catchRemote, expectNoSecret, startServer, stopServer } from '../helpers/recording-server';

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

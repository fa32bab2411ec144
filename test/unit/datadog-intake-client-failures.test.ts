/**
 * DatadogIntakeClient against a local node:http server: the gzipped POST it sends, and each failure it meets (HTTP
 * status, rate limits with their hints, a dropped socket) as a RemoteError of the right kind that never carries the
 * API key.
 */
import { gunzipSync } from 'node:zlib';
import { toApplicationFailure } from '../../activities/failures';
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { catchRemote, expectNoSecret, startServer, stopServer } from '../helpers/recording-server';

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

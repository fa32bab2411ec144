/**
 * An answer of Kandji we cannot read is described by its shape, never by its content: the error reaches workflow
 * history (the activity's failure) and `status`, where no record content may go.
 */
import http from 'node:http';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { readAuditPageRefActivity } from '../../activities/read-audit-page-ref';
import { parseAuditPage } from '../../src/kandji/audit-page';
import { KandjiClient } from '../../src/kandji/client';
import { parseThreatsPage } from '../../src/kandji/snapshot-pages';
import { createLogger } from '../../src/telemetry/logger';
import { initialAuditCursor } from '../../workflows/shared/audit-cursor';

const SECRET = 'jane.doe@example.com';
const record = (i: number) => ({
  id: `evt-${i}`,
  occurred_at: '2026-03-01T00:00:01Z',
  actor_email: SECRET,
  details: `${SECRET} locked device ${i}`,
});

/** The failure an activity reading `body` ends with, as Temporal records it: message and details. */
async function failureOfReading(body: unknown): Promise<string> {
  const kandji = {
    baseUrl: 'https://acme.api.kandji.io',
    getJsonSized: async () => ({ body, bytes: 1_000 }),
  } as unknown as TenantDeps['kandji'];
  const deps: ActivityDeps = {
    tenants: new Map([['acme', { kandji, ddtags: 'kandji_tenant:acme' }]]),
    datadog: { send: async () => undefined },
    logger: createLogger('silent'),
  };
  const env = new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });
  const cursor = initialAuditCursor('2026-03-01T00:00:00Z');
  const err = await env.run(readAuditPageRefActivity(deps), { tenant: 'acme', cursor }).then(
    () => undefined,
    (e: unknown) => e as Error & { details?: unknown[] },
  );
  expect(err).toBeDefined();
  return `${err!.message} ${JSON.stringify(err!.details ?? [])}`;
}

describe('an unreadable Kandji answer is told by its shape, not its content', () => {
  it('readAuditPageRef: an audit page that is a bare array of records fails naming the shape, without any record content', async () => {
    const failure = await failureOfReading([record(1), record(2), record(3)]);
    expect(failure).toContain('an array of 3');
    expect(failure).not.toContain(SECRET);
    expect(failure).not.toContain('evt-1');
  });

  it('readAuditPageRef: results that are not an array fail naming their type and length, not their text', async () => {
    const failure = await failureOfReading({ results: `${SECRET} ${SECRET}`, next: null });
    expect(failure).toContain(`results: expected array, got a string of ${2 * SECRET.length + 1} characters`);
    expect(failure).not.toContain(SECRET);
  });

  it('a threats page that is not an object with results[] fails naming the shape, without any row content', () => {
    const messageOf = (body: unknown) => {
      try {
        parseThreatsPage(body);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected the page to be refused');
    };
    expect(messageOf({ data: [{ file_path: SECRET }], meta: {} })).toContain('results: expected array, got nothing');
    const bare = messageOf([{ file_path: SECRET }]);
    expect(bare).toContain('an array of 1');
    expect(bare).not.toContain(SECRET);
  });

  it('an audit record with an unreadable occurred_at is set aside without quoting its content', () => {
    const page = parseAuditPage({ results: [{ ...record(1), occurred_at: `by ${SECRET}` }], next: null });
    expect(page.invalid).toHaveLength(1);
    expect(page.invalid[0]!.identity).toBe('evt-1');
    expect(page.invalid[0]!.reason).toContain('not an ISO-8601 timestamp');
    expect(JSON.stringify(page.invalid)).not.toContain(SECRET);
  });

  it('the Kandji client: a 200 whose body is JSON cut short is told by its size, without quoting it', async () => {
    const body = JSON.stringify({ results: [record(1), record(2)] }).slice(0, 150);
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new KandjiClient({
      baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      token: 'token',
    });
    try {
      const err = (await client.getJson('/api/v1/audit/events').catch((e: unknown) => e)) as Error & {
        details: { bodySnippet?: string };
      };
      expect(err.message).toContain(`not JSON (${body.length} bytes`);
      expect(err.message).not.toContain(SECRET);
      expect(err.details.bodySnippet).toBeUndefined();
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });
});

/**
 * One tenant's Datadog traffic never queues another's: each tenant has its own connection pool, and the timeouts
 * count time on a connection, not time waiting for one.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadWorkerConfig } from '../../src/config/env';
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { buildActivityDeps } from '../../src/processes/worker/activity-deps';
import { RemoteError } from '../../src/remote-errors';
import { createLogger } from '../../src/telemetry/logger';

interface Intake {
  url: string;
  /** Requests not answered yet, by the `tenant` of their first item. */
  held: Map<string, http.ServerResponse[]>;
  /** Answers the held requests of `tenant`, and its later ones at once. */
  release(tenant: string): void;
  close(): Promise<void>;
}

/** An intake that answers 202 after `delayMs`, or holds forever the requests of tenants listed in `hold`. */
async function intake(opts: { delayMs?: number; hold?: string[] } = {}): Promise<Intake> {
  const held = new Map<string, http.ServerResponse[]>();
  const hold = new Set(opts.hold);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [first] = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as { tenant: string }[];
      if (hold.has(first!.tenant)) {
        held.set(first!.tenant, [...(held.get(first!.tenant) ?? []), res]);
        return;
      }
      setTimeout(() => res.writeHead(202).end('{}'), opts.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v2/logs`,
    held,
    release: (tenant) => {
      hold.delete(tenant);
      for (const res of held.get(tenant) ?? []) res.writeHead(202).end('{}');
      held.delete(tenant);
    },
    close: () => {
      for (const list of held.values()) for (const res of list) res.destroy();
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const body = (tenant: string) => JSON.stringify([{ tenant, message: 'x' }]);

describe('Datadog connection pools', () => {
  it('gives each tenant its own pool: a tenant whose requests hang does not hold up another', async () => {
    const dd = await intake({ hold: ['acme'] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-pools-'));
    const file = path.join(dir, 'tenants.json');
    const tenant = (name: string) => ({ name, apiUrl: `https://${name}.api.kandji.io`, token: { env: 'T' } });
    fs.writeFileSync(file, JSON.stringify({ tenants: [tenant('acme'), tenant('globex')] }));
    const deps = buildActivityDeps(
      loadWorkerConfig({ KANDJI_TENANTS_FILE: file, T: 't', DD_API_KEY: 'k', DD_LOGS_URL: dd.url }),
      createLogger('silent'),
    );
    const datadogOf = (name: string) => deps.tenants.get(name)!.datadog ?? deps.datadog;
    try {
      // acme fills every connection of its pool (and queues more) with requests Datadog never answers.
      const acme = Array.from({ length: 6 }, () =>
        datadogOf('acme')
          .send(body('acme'))
          .catch((e: Error) => e),
      );
      await waitUntil(() => (dd.held.get('acme')?.length ?? 0) >= 4);
      // globex is answered meanwhile: its requests never wait behind acme's.
      const globex = await Promise.race([
        Promise.all([datadogOf('globex').send(body('globex')), datadogOf('globex').send(body('globex'))]).then(
          () => 'shipped',
        ),
        new Promise((r) => setTimeout(() => r('still queued behind acme'), 20_000).unref()),
      ]);
      expect(globex).toBe('shipped');
      expect(datadogOf('acme')).not.toBe(datadogOf('globex'));
      dd.release('acme');
      expect(await Promise.all(acme)).toEqual(acme.map(() => undefined));
    } finally {
      await deps.close();
      await dd.close();
    }
  });

  it('does not count time queued for a connection against the timeout, but still times out a request that hangs', async () => {
    // More requests than connections; each answer takes 60% of the timeout. The last ones wait for their turn longer
    // than the timeout: with a whole-request timer started before queueing they would fail.
    const dd = await intake({ delayMs: 1_200 });
    const client = new DatadogIntakeClient({ intakeUrl: dd.url, apiKey: 'k', timeoutMs: 2_000, connections: 1 });
    try {
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map(() =>
          client.send(body('acme')).then(
            () => 'ok',
            (e: Error) => e.message,
          ),
        ),
      );
      expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    } finally {
      await client.close();
      await dd.close();
    }
    const stuck = await intake({ hold: ['acme'] });
    const short = new DatadogIntakeClient({ intakeUrl: stuck.url, apiKey: 'k', timeoutMs: 1_000, connections: 1 });
    try {
      const err = await short.send(body('acme')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).kind).toBe('unavailable'); // retried with backoff, like any timeout
    } finally {
      await short.close();
      await stuck.close();
    }
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

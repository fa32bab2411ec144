/**
 * `/livez` and `/readyz` for Kubernetes probes (and compose healthchecks), served by the worker process.
 * - live: the process answers (and its worker has not failed);
 * - ready: the worker is running (polling its task queue). Whether Temporal answered a cheap call recently is in the
 *   body (`temporal`), not in the status: during a Temporal outage an unready pod would hide it from the Datadog
 *   Agent (no metrics, checks or logs) and block node drains, and no traffic is routed to the pod anyway. The check
 *   is cached for `cacheMs`, so frequent probes never load the server.
 * Both answer JSON, 200 or 503.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthChecks {
  /** Whether the worker(s) poll their task queues (state RUNNING). */
  workerRunning(): boolean;
  /** False once a worker has failed: the process is broken and should be restarted. */
  workerHealthy?(): boolean;
  /** Resolves when Temporal answers (e.g. `getSystemInfo`); rejects otherwise. */
  temporalAnswers(): Promise<unknown>;
}

export interface HealthServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(
  checks: HealthChecks,
  opts: { port: number; host?: string; cacheMs?: number; timeoutMs?: number },
): Promise<HealthServer> {
  const cacheMs = opts.cacheMs ?? 5_000;
  const timeoutMs = opts.timeoutMs ?? 3_000;
  let last: { at: number; ok: boolean; error?: string } | undefined;
  let inFlight: Promise<{ ok: boolean; error?: string }> | undefined;

  const temporal = async (): Promise<{ ok: boolean; error?: string }> => {
    if (last && Date.now() - last.at < cacheMs) return last;
    inFlight ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          checks.temporalAnswers(),
          new Promise(
            (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
          ),
        ]);
        last = { at: Date.now(), ok: true };
      } catch (err) {
        last = { at: Date.now(), ok: false, error: err instanceof Error ? err.message : String(err) };
      } finally {
        clearTimeout(timer);
        inFlight = undefined;
      }
      return last;
    })();
    return inFlight;
  };

  const server = http.createServer((req, res) => {
    const send = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'GET only' });
    if (path === '/livez') {
      const ok = checks.workerHealthy?.() ?? true;
      return send(ok ? 200 : 503, { status: ok ? 'ok' : 'worker failed' });
    }
    if (path === '/readyz') {
      const worker = checks.workerRunning();
      if (!worker) return send(503, { status: 'not ready', worker: 'not running', temporal: 'not checked' });
      void temporal().then((t) => send(200, { status: 'ready', worker: 'running', temporal: t.ok ? 'ok' : t.error }));
      return;
    }
    send(404, { error: 'not found', paths: ['/livez', '/readyz'] });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

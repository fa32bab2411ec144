/**
 * The production entry point, run exactly as the image runs it (scripts/image-command.ts): `npm run build`,
 * then the Dockerfile's ENTRYPOINT + CMD with plain node (no tsx), connected to the dev server over TLS through a
 * TLS-terminating proxy — the worker with a client certificate (mTLS), the CLI with an API key (which turns TLS
 * on). Then: health endpoints, the Prometheus endpoint against what the simulators counted, and SIGTERM as
 * Kubernetes sends it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  buildOnce,
  imageCommand,
  killGroup,
  ROOT,
  startImageCommand,
  type ImageProcess,
} from '../../scripts/image-command';
import { MAX_HELD_SLOTS } from '../../src/kandji/budget-reservations';
import { METRIC_NAMES } from '../../src/telemetry/metrics';
import { freePort } from '../../src/temporal/dev-server';
import { DD_API_KEY, Harness, KANDJI_TOKEN } from '../helpers/harness';
import { metricSum, scrape, type Sample } from '../helpers/prometheus';
import { makeTestPki, startTlsProxy, type TestPki, type TlsProxy } from '../helpers/tls-proxy';
import { waitFor } from '../helpers/wait';

const run = promisify(execFile);
const BACKLOG = 1_000;
const PER_HOUR = 5_000;

describe('the compiled worker, run as the image runs it', () => {
  let h: Harness;
  let pki: TestPki;
  let proxy: TlsProxy;
  let worker: ImageProcess | undefined;
  let ports: { health: number; metrics: number };

  const workerEnv = (): Record<string, string> => ({
    TEMPORAL_ADDRESS: proxy.address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
    TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
    TEMPORAL_TASK_QUEUE: h.temporal.taskQueue,
    KANDJI_API_URL: h.kandji.url,
    KANDJI_API_TOKEN: KANDJI_TOKEN,
    KANDJI_TENANT: h.tenant,
    KANDJI_STREAMS: 'audit',
    KANDJI_POLL_INTERVAL: '2s',
    KANDJI_AUDIT_PAGE_SIZE: '100',
    KANDJI_REQUESTS_PER_HOUR: String(PER_HOUR),
    DD_API_KEY,
    DD_LOGS_URL: h.datadog.intakeUrl,
    LOG_LEVEL: 'info',
    LISTEN_HOST: '127.0.0.1',
    HEALTH_PORT: String(ports.health),
    METRICS_PORT: String(ports.metrics),
    METRICS_STATUS_INTERVAL: '1s',
    WORKER_SHUTDOWN_GRACE: '20s',
  });

  /** The CLI as the Kubernetes Job and the compose one-shot run it, over TLS with an API key and no certificate. */
  const cli = (...args: string[]) => {
    const [cmd, ...rest] = imageCommand(['node', 'dist/src/processes/cli/main.js', ...args]);
    return run(cmd!, rest, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        TEMPORAL_ADDRESS: proxy.address,
        TEMPORAL_API_KEY: 'test-api-key',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
        TEMPORAL_TASK_QUEUE: h.temporal.taskQueue,
        KANDJI_API_URL: h.kandji.url,
        KANDJI_TENANT: h.tenant,
        KANDJI_STREAMS: 'audit',
        KANDJI_POLL_INTERVAL: '2s', // the stream's settings travel in its workflow input, from here
        KANDJI_START_DATE: new Date(Date.now() - 11 * 3_600_000).toISOString(),
      },
    });
  };

  const startWorker = async () => {
    worker = startImageCommand(workerEnv());
    await worker.waitForOutput('worker started');
    return worker;
  };

  const metrics = () => scrape(`http://127.0.0.1:${ports.metrics}/metrics`);
  const tagged = { tenant: '' };

  beforeAll(async () => {
    buildOnce();
    pki = makeTestPki();
    h = await Harness.start({
      kandji: {
        backlog: { count: BACKLOG, from: new Date(Date.now() - 10 * 3_600_000), to: new Date(Date.now() - 60_000) },
      },
    });
    tagged.tenant = h.tenant;
    proxy = await startTlsProxy(pki, h.temporal.address);
    ports = { health: await freePort(), metrics: await freePort() };
  });

  afterAll(async () => {
    await killGroup(worker);
    await h?.close();
    await proxy?.close();
    if (pki) fs.rmSync(pki.dir, { recursive: true, force: true });
  });

  it('ships every event: the worker over mTLS, the stream started by the CLI with an API key (twice: idempotent)', async () => {
    expect(fs.existsSync(path.join(ROOT, 'dist/workflow-bundle.js'))).toBe(true);
    await startWorker();
    expect(worker!.output()).toContain('dist/workflow-bundle.js'); // the prebuilt bundle, not webpack at start
    expect(worker!.output()).toContain('"tls":"mtls"');

    const first = await cli('start');
    expect(first.stdout).toContain('started, reading events from');
    const second = await cli('start');
    expect(second.stdout).toContain('already running');

    await h.datadog.waitForItems(BACKLOG, 90_000);
    const status = await h.waitForState('caught_up', 'audit', 60_000);
    expect(status.counts.shipped).toBe(BACKLOG);
    const ids = h.datadog.received.map((i) => i.id);
    expect(new Set(ids).size).toBe(BACKLOG);
    // Both kinds of TLS client went through the proxy: the worker with its certificate, the CLI without one.
    expect(proxy.sessions.some((s) => s.clientCertificate)).toBe(true);
    expect(proxy.sessions.some((s) => !s.clientCertificate)).toBe(true);
  });

  it('answers /livez and /readyz while the worker polls and Temporal answers', async () => {
    const live = await fetch(`http://127.0.0.1:${ports.health}/livez`);
    expect(live.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${ports.health}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', worker: 'running', temporal: 'ok' });
    expect((await fetch(`http://127.0.0.1:${ports.health}/nope`)).status).toBe(404);
  });

  it("serves Prometheus metrics, ours next to Temporal's, that agree with what the simulators counted", async () => {
    const audit = { ...tagged, stream: 'audit' };
    const kandjiOk = () => h.kandji.requests.filter((r) => r.status === 200).length;
    // Counters and gauges settle between polls (every 2 s); wait until they agree rather than timing anything.
    let m: Sample[] = [];
    let seen = '';
    await waitFor(
      'metrics to agree with the simulators',
      async () => {
        m = await metrics();
        const status = await h.status('audit');
        // The budget counts slots granted: the requests sent, and up to MAX_HELD_SLOTS reserved ahead and not used yet.
        const remaining = metricSum(m, METRIC_NAMES.budgetRemaining, tagged) ?? -1;
        const unsent = PER_HOUR - h.kandji.requests.length - remaining;
        seen = JSON.stringify({
          shipped: [metricSum(m, METRIC_NAMES.records('shipped'), audit), h.datadog.received.length],
          fetched: [metricSum(m, METRIC_NAMES.records('fetched'), audit), status.counts.fetched],
          kandji200: [metricSum(m, METRIC_NAMES.kandjiRequests, { ...audit, status: '200' }), kandjiOk()],
          unsent,
          caughtUp: metricSum(m, METRIC_NAMES.state, { ...audit, state: 'caught_up' }),
        });
        return (
          metricSum(m, METRIC_NAMES.records('shipped'), audit) === h.datadog.received.length &&
          // Fetched counts every page read, also one read ahead and dropped when the cursor went elsewhere.
          (metricSum(m, METRIC_NAMES.records('fetched'), audit) ?? 0) >= status.counts.fetched &&
          metricSum(m, METRIC_NAMES.kandjiRequests, { ...audit, status: '200' }) === kandjiOk() &&
          unsent >= 0 &&
          unsent <= MAX_HELD_SLOTS &&
          metricSum(m, METRIC_NAMES.state, { ...audit, state: 'caught_up' }) === 1
        );
      },
      60_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${seen}`);
    });
    const status = await h.status('audit');
    expect(metricSum(m, METRIC_NAMES.records('shipped'), audit)).toBe(BACKLOG);
    for (const [outcome, count] of [
      ['late', status.counts.late],
      ['stale', status.counts.stale],
      ['dead_lettered', status.counts.deadLettered],
      ['trimmed', status.counts.trimmed],
    ] as const) {
      expect(metricSum(m, METRIC_NAMES.records(outcome), audit) ?? 0).toBe(count);
    }
    // Every Datadog request the simulator answered, by status, and the JSON bytes it received.
    const ddAccepted = h.datadog.requests.filter((r) => r.status === 202);
    expect(metricSum(m, METRIC_NAMES.datadogRequests, { ...audit, status: '202' })).toBe(ddAccepted.length);
    expect(metricSum(m, METRIC_NAMES.datadogRequests, audit)).toBe(h.datadog.requests.length);
    expect(metricSum(m, METRIC_NAMES.datadogBytes, audit)).toBe(
      ddAccepted.reduce((a, r) => a + r.uncompressedBytes, 0),
    );
    expect(metricSum(m, METRIC_NAMES.lag, audit)).toBeGreaterThanOrEqual(0);
    for (const other of ['running', 'blocked', 'retrying'])
      expect(metricSum(m, METRIC_NAMES.state, { ...audit, state: other })).toBe(0);
    // Temporal's own worker metrics come on the same endpoint.
    expect(m.some((s) => s.name.startsWith('temporal_') && s.labels.task_queue === h.temporal.taskQueue)).toBe(true);
  });

  it('on SIGTERM finishes the batch in flight, exits 0, and the next worker repeats nothing', async () => {
    // Every Datadog request now takes 4 s, so the next batch is surely in flight when SIGTERM comes.
    h.datadog.setFaults({ rate: 1, kinds: ['slow'], slowMs: 4_000 });
    for (let i = 0; i < 50; i++) h.kandji.audit.appendLate(1_000);
    await waitFor('a Datadog request in flight', () => h.datadog.requestsInFlight > 0, 60_000, 20);
    worker!.child.kill('SIGTERM');
    expect(await worker!.exited).toBe(0);
    expect(worker!.output()).toContain('worker stopped');
    // The batch in flight was accepted before the process went.
    expect(h.datadog.received.length).toBe(BACKLOG + 50);

    h.datadog.setFaults({ rate: 0 });
    await startWorker();
    await waitFor(
      'the stream to record the batch',
      async () => (await h.status('audit')).counts.shipped === BACKLOG + 50,
      60_000,
    );
    await h.waitForState('caught_up', 'audit', 30_000);
    const ids = h.datadog.received.map((i) => i.id);
    expect(ids.length).toBe(BACKLOG + 50);
    expect(new Set(ids).size).toBe(BACKLOG + 50);
  });

  it('stays ready and live while Temporal does not answer, saying so; every line it writes meanwhile is JSON', async () => {
    await proxy.close();
    await waitFor(
      'readyz to report Temporal not answering',
      async () => {
        const r = await fetch(`http://127.0.0.1:${ports.health}/readyz`);
        const body = (await r.json()) as { temporal: string };
        return r.status === 200 && body.temporal !== 'ok';
      },
      30_000,
      250,
    );
    expect((await fetch(`http://127.0.0.1:${ports.health}/livez`)).status).toBe(200);
    // Temporal Core's warnings about the outage come through the service's logger, not as ANSI text.
    for (const line of worker!.output().split('\n').filter(Boolean)) {
      expect([line, typeof (JSON.parse(line) as { level: unknown }).level]).toEqual([line, 'string']);
    }
  });
});

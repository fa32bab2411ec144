/**
 * `npm run demo`: the whole thing on one machine. A real Temporal dev server (Web UI on :8233), a Kandji simulator
 * with a backlog and a live trickle, a Datadog intake simulator, a worker, and the audit stream workflow, with a
 * live progress line. Ctrl-C stops everything.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startDemoWorld } from '../../../simulators/demo-world';
import { STREAMS } from '../../../workflows/shared/stream-status';
import { loadTemporalConfig, loadWorkerConfig } from '../../config/env';
import { formatDuration } from '../../duration';
import { startPosition } from '../../streams/start-position';
import { startStream, streamReport } from '../../streams/stream-control';
import { createLogger } from '../../telemetry/logger';
import { connectClient } from '../../temporal/client';
import { payloadCodecs } from '../../temporal/data-converter';
import { freePort, startDevServer, temporalCliPath, type DevServer } from '../../temporal/dev-server';
import { startCodecServer } from '../codec-server/codec-server';
import { buildActivityDeps } from '../worker/activity-deps';
import { createWorker } from '../worker/create-worker';
import type { WorkerGroup } from '../worker/worker-group';

const DEMO_TOKEN = '00000000-0000-4000-8000-000000000001';
const DEMO_DD_KEY = 'demo-datadog-api-key';
const say = (s: string) => process.stdout.write(`${s}\n`);

async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(freePort()));
    s.listen(preferred, '127.0.0.1', () => s.close(() => resolve(preferred)));
  });
}

async function main(): Promise<void> {
  const stoppers: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping…\n');
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    say('Stopped. Nothing left running.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  say('kandji-datadog demo');
  say('Preparing the temporal CLI (the first run builds it from source with Go: a few minutes; later runs reuse it)…');
  temporalCliPath();

  const grpcPort = await portOr(7233);
  const uiPort = await portOr(grpcPort + 1000);
  // The UI decodes the (gzipped, maybe encrypted) payloads through the codec server, so cursors and counts are readable.
  const codec = await startCodecServer({
    codecs: payloadCodecs(loadTemporalConfig().encryptionKeys),
    port: await portOr(8888),
    host: '127.0.0.1',
    allowedOrigins: [`http://localhost:${uiPort}`],
  });
  stoppers.push(() => codec.close());
  say(`Starting the Temporal dev server on 127.0.0.1:${grpcPort}…`);
  const server: DevServer = await startDevServer({ port: grpcPort, ui: true, uiPort, uiCodecEndpoint: codec.url });
  stoppers.push(() => server.stop());
  process.on('exit', () => server.process.kill('SIGKILL'));

  const world = await startDemoWorld({ kandjiToken: DEMO_TOKEN, datadogApiKey: DEMO_DD_KEY });
  stoppers.push(() => world.stop());
  const { kandji, datadog } = world;

  const logFile = path.join(os.tmpdir(), `kandji-datadog-demo-${process.pid}.log`);
  const logStream = fs.createWriteStream(logFile);
  const logger = createLogger('info', logStream);
  Runtime.install({
    logger: new DefaultLogger('WARN', (e) => logger.warn({ ...e.meta, sdk: true }, e.message)),
  });
  const config = loadWorkerConfig({
    // The demo's own dev server: the shell's Temporal connection settings (API key, TLS, profile) do not apply.
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_'))),
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'kandji-datadog-demo',
    KANDJI_API_URL: kandji.url,
    KANDJI_API_TOKEN: DEMO_TOKEN,
    KANDJI_TENANT: 'demo',
    KANDJI_POLL_INTERVAL: '5s',
    KANDJI_DETECTIONS_POLL_INTERVAL: '30s',
    KANDJI_THREATS_POLL_INTERVAL: '15s',
    KANDJI_BEHAVIORAL_DETECTIONS_POLL_INTERVAL: '15s',
    KANDJI_STREAMS: 'audit,detections,threats,behavioral-detections',
    DD_API_KEY: DEMO_DD_KEY,
    DD_LOGS_URL: datadog.intakeUrl,
    LOG_LEVEL: 'info',
  });
  const deps = buildActivityDeps(config, logger);
  const { worker, connection } = await createWorker({ temporal: config.temporal, deps });
  const running: Promise<void> = worker.run();
  stoppers.push(async () => {
    await shutdownWorker(worker, running);
    await connection.close();
    await deps.close();
    logStream.end();
  });

  const client = await connectClient(config.temporal);
  stoppers.push(() => client.connection.close());
  const since = startPosition(undefined, undefined);
  const started = await startStream(client, config.temporal, config.firstTenant, 'audit', since);
  for (const name of ['detections', 'threats', 'behavioral-detections'] as const)
    await startStream(client, config.temporal, config.firstTenant, name, since);

  say('');
  say(`Temporal Web UI     ${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(started.workflowId)}`);
  say(
    `Kandji simulator    ${kandji.url}   (token ${DEMO_TOKEN}; ${kandji.audit.size} audit events +2/s, ${kandji.detections.size} detections, ${kandji.threats.size} threats, ${kandji.behavioral.size} behavioral detections)`,
  );
  say(`Datadog simulator   ${datadog.intakeUrl}`);
  say(`Codec server        ${codec.url}   (the UI shows payloads decoded through it)`);
  say(`Worker log          ${logFile}`);
  say(
    `CLI (other shell)   TEMPORAL_ADDRESS=${server.address} KANDJI_API_URL=${kandji.url} KANDJI_TENANT=demo npm run -s cli -- status`,
  );
  say(
    'Datadog drops logs dated more than 18 h back (DD_STALE_EVENTS=ship, the default); "in Datadog" counts what it kept.',
  );
  say('Ctrl-C stops everything.');
  say('');

  const tty = process.stdout.isTTY;
  let lastPrinted = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1_000));
    if (stopping) return;
    const reports = await Promise.all(STREAMS.map((n) => streamReport(client, 'demo', n).catch(() => undefined)));
    const [audit, detections, threats, behavioral] = reports.map((r) => r?.status);
    if (!audit) continue;
    const report = reports[0]!;
    const line =
      `audit ${audit.state} fetched ${audit.counts.fetched} shipped ${audit.counts.shipped} ` +
      `lag ${report.lagSeconds !== undefined ? formatDuration(report.lagSeconds * 1000) : '-'}` +
      ` | detections ${detections ? `${detections.state} shipped ${detections.counts.shipped}` : '-'}` +
      ` | threats ${threats ? `${threats.state} shipped ${threats.counts.shipped}` : '-'}` +
      ` | behavioral ${behavioral ? `${behavioral.state} shipped ${behavioral.counts.shipped}` : '-'}` +
      ` | in Datadog ${datadog.received.length}` +
      (audit.lastError ? `  last error: ${audit.lastError.type}` : '');
    if (tty) process.stdout.write(`\r${line.padEnd(process.stdout.columns ? process.stdout.columns - 1 : 120)}`);
    else if (Date.now() - lastPrinted > 5_000) {
      say(line);
      lastPrinted = Date.now();
    }
  }
}

async function shutdownWorker(worker: WorkerGroup, running: Promise<void>): Promise<void> {
  if (worker.getState() === 'RUNNING') worker.shutdown();
  await running.catch(() => undefined);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

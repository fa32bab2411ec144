/**
 * Many tenants on one worker: `tenants` tenants × every stream (audit, detections, threats, behavioral
 * detections), all caught up and polling (audit every 30 s, the snapshot streams every minute), against one Kandji
 * simulator. Measures the worker's memory and CPU.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sampleRss, WorkerProcess } from './worker-process';
import { API_KEY, TOKEN, until, workerEnv, type World } from './world';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator } from '../../simulators/kandji';
import { loadTenantConfigs } from '../../src/config/env';
import { startStream } from '../../src/streams/stream-control';
import { GAUGE_MEMO_KEY, type PublishedGauges } from '../../workflows/shared/gauge-facts';
import { STREAMS } from '../../workflows/shared/stream-status';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';

export interface IdleResult {
  streams: number;
  tenants: number;
  /** Highest RSS in the window (after the settling time). */
  rssBytes: number;
  /** Highest RSS from the worker's start to the window's end: starting every stream at once is the worst moment. */
  startRssBytes: number;
  cpuPercent: number;
}

/**
 * Once every stream has caught up, the worker settles for `settleMs` (its heap shrinks back from starting them all),
 * then its RSS and CPU are measured for `measureMs`.
 */
export async function idleStreams(
  world: World,
  tenants = 167,
  measureMs = 120_000,
  settleMs = 120_000,
): Promise<IdleResult> {
  const now = Date.now();
  const kandji = await KandjiSimulator.start({
    tokens: [TOKEN],
    seed: 9,
    requestsPerHour: 10_000_000,
    backlog: { count: 20, from: new Date(now - 3_600_000), to: new Date(now - 60_000) },
    detections: { count: 20 },
    threats: { count: 10, from: new Date(now - 86_400_000), to: new Date(now - 60_000) },
  });
  const datadog = await DatadogSimulator.start({ apiKeys: [API_KEY], countOnly: true });
  const file = path.join(os.tmpdir(), `kandji-datadog-bench-tenants-${process.pid}.json`);
  const names = Array.from({ length: tenants }, (_, i) => `idle-${i}`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      tenants: names.map((name) => ({
        name,
        apiUrl: kandji.url,
        token: { env: 'BENCH_KANDJI_TOKEN' },
        streams: [...STREAMS],
      })),
    }),
  );
  const { env, temporal } = workerEnv(world, kandji.url, datadog.intakeUrl, {
    KANDJI_TENANTS_FILE: file,
    BENCH_KANDJI_TOKEN: TOKEN,
    KANDJI_POLL_INTERVAL: '30s',
    KANDJI_DETECTIONS_POLL_INTERVAL: '1m',
    KANDJI_THREATS_POLL_INTERVAL: '1m',
    DD_STALE_EVENTS: 'restamp',
    // The worker's cache size as deployed, unless the bench is asked to try another.
    ...(process.env.BENCH_WORKER_MAX_CACHED_WORKFLOWS
      ? { WORKER_MAX_CACHED_WORKFLOWS: process.env.BENCH_WORKER_MAX_CACHED_WORKFLOWS }
      : {}),
  });
  delete env.KANDJI_API_TOKEN;
  delete env.KANDJI_TENANT;
  const worker = await WorkerProcess.start(env);
  const startRss = sampleRss(worker, 1_000);
  try {
    const configs = loadTenantConfigs(env);
    for (const { config } of configs)
      for (const name of STREAMS)
        await startStream(world.client, temporal, config, name, new Date(now - 2 * 3_600_000).toISOString());
    // Every stream has caught up once: read from what each publishes in its memo (DescribeWorkflowExecution), as
    // the worker's own gauges do. A query would make the worker replay every workflow not in its cache, at every
    // round: the bench's own load, not the idle fleet's.
    await until(
      'every idle stream to catch up',
      async () => {
        for (const name of names) {
          for (const s of STREAMS) {
            const d = await world.client.workflow
              .getHandle(streamWorkflowId(name, s))
              .describe()
              .catch(() => undefined);
            if ((d?.memo?.[GAUGE_MEMO_KEY] as PublishedGauges | undefined)?.state !== 'caught_up') return false;
          }
        }
        return true;
      },
      10 * 60_000,
      5_000,
    );
    await new Promise((r) => setTimeout(r, settleMs));
    const cpu0 = worker.cpuSeconds();
    const rss = sampleRss(worker, 1_000);
    const t = Date.now();
    await new Promise((r) => setTimeout(r, measureMs));
    const cpu = worker.cpuSeconds() - cpu0;
    const result = {
      streams: tenants * STREAMS.length,
      tenants,
      rssBytes: rss.stop(),
      startRssBytes: startRss.stop(),
      cpuPercent: (100 * cpu) / ((Date.now() - t) / 1000),
    };
    for (const name of names)
      for (const s of STREAMS)
        await world.client.workflow
          .getHandle(streamWorkflowId(name, s))
          .terminate('benchmark over')
          .catch(() => undefined);
    return result;
  } finally {
    await worker.kill();
    fs.rmSync(file, { force: true });
    await Promise.all([kandji.stop(), datadog.stop()]);
  }
}

/**
 * A 100,000-event audit backlog, drained by the plain loop and by the whole product on identical data (one Kandji
 * simulator, read twice), at a given latency of Kandji pages and Datadog posts.
 */
import { plainLoop } from './plain-loop';
import { sampleRss, WorkerProcess } from './worker-process';
import { API_KEY, TOKEN, until, workerEnv, type World } from './world';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator } from '../../simulators/kandji';
import { startStream } from '../../src/streams/stream-control';
import { largestPayloadBytes } from '../../src/temporal/history-payloads';
import { rawHistories } from '../../src/temporal/raw-history';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';

export interface Latency {
  name: string;
  kandjiMs: number;
  datadogMs: number;
}

export interface BacklogResult {
  latency: Latency;
  events: number;
  plainEventsPerSec: number;
  productEventsPerSec: number;
  workerCpuSecondsPer100k: number;
  historyBytesPer10k: number;
  largestPayloadBytes: number;
  kandjiRequestsPer100k: number;
  datadogRequestsPer100k: number;
  workerRssBytes: number;
}

const slow = (ms: number) => (ms > 0 ? { rate: 1, kinds: ['slow' as const], slowMs: ms } : { rate: 0 });

export async function auditBacklog(world: World, latency: Latency, events = 100_000): Promise<BacklogResult> {
  const now = Date.now();
  const from = new Date(now - 10 * 3_600_000);
  const since = new Date(from.getTime() - 60_000).toISOString();
  const kandji = await KandjiSimulator.start({
    tokens: [TOKEN],
    seed: 7,
    requestsPerHour: 1_000_000,
    backlog: { count: events, from, to: new Date(now - 60_000) },
  });
  kandji.setFaults(slow(latency.kandjiMs));
  const plainDd = await DatadogSimulator.start({ apiKeys: [API_KEY], countOnly: true });
  const productDd = await DatadogSimulator.start({ apiKeys: [API_KEY], countOnly: true });
  plainDd.setFaults(slow(latency.datadogMs));
  productDd.setFaults(slow(latency.datadogMs));
  try {
    let t = Date.now();
    const plainShipped = await plainLoop({
      kandjiUrl: kandji.url,
      token: TOKEN,
      intakeUrl: plainDd.intakeUrl,
      apiKey: API_KEY,
      since,
    });
    const plainSec = (Date.now() - t) / 1000;
    if (plainShipped !== events) throw new Error(`plain loop shipped ${plainShipped} of ${events}`);

    const { env, temporal, tenant } = workerEnv(world, kandji.url, productDd.intakeUrl);
    const worker = await WorkerProcess.start(env);
    try {
      const readsBefore = kandji.requests.length;
      const cpu0 = worker.cpuSeconds();
      const rss = sampleRss(worker);
      t = Date.now();
      await startStream(world.client, temporal, tenant, 'audit', since);
      await until(
        'the product to ship the backlog',
        () => productDd.receivedCount + productDd.staleCount >= events,
        30 * 60_000,
      );
      const productSec = (Date.now() - t) / 1000;
      const cpu = worker.cpuSeconds() - cpu0;
      const rssMax = rss.stop();
      const reads = kandji.requests.slice(readsBefore).filter((r) => r.path.startsWith('/api/v1/audit/events')).length;
      const runs = await rawHistories(world.client, streamWorkflowId(tenant.tenant, 'audit'));
      await world.client.workflow.getHandle(streamWorkflowId(tenant.tenant, 'audit')).terminate('benchmark over');
      const per = (n: number, unit: number) => (n * unit) / events;
      return {
        latency,
        events,
        plainEventsPerSec: events / plainSec,
        productEventsPerSec: events / productSec,
        workerCpuSecondsPer100k: per(cpu, 100_000),
        historyBytesPer10k: per(
          runs.reduce((n, r) => n + r.length, 0),
          10_000,
        ),
        largestPayloadBytes: largestPayloadBytes(runs),
        kandjiRequestsPer100k: per(reads, 100_000),
        datadogRequestsPer100k: per(productDd.requests.length, 100_000),
        workerRssBytes: rssMax,
      };
    } finally {
      await worker.kill();
    }
  } finally {
    await Promise.all([kandji.stop(), plainDd.stop(), productDd.stop()]);
  }
}

/**
 * A detections stream over 1,000,000 live detections: the first sweep (ships every row), then a second sweep
 * (ships nothing), with the state's size and the history each sweep writes.
 */
import { sampleRss, WorkerProcess } from './worker-process';
import { API_KEY, TOKEN, until, workerEnv, type World } from './world';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator } from '../../simulators/kandji';
import { startStream } from '../../src/streams/stream-control';
import { largestPayloadBytes } from '../../src/temporal/history-payloads';
import { rawHistories } from '../../src/temporal/raw-history';
import { statusQuery } from '../../workflows/shared/messages';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';

export interface SweepResult {
  rows: number;
  firstSweepSec: number;
  secondSweepSec: number;
  shipped: number;
  chunks: number;
  stateBytes: number;
  streamHistoryBytesPerSweep: number;
  chunkHistoryBytesPerSweep: number;
  largestPayloadBytes: number;
  workerRssBytes: number;
}

export async function detectionsSweep(world: World, rows = 1_000_000): Promise<SweepResult> {
  const kandji = await KandjiSimulator.start({
    tokens: [TOKEN],
    seed: 5,
    requestsPerHour: 10_000_000,
    detections: { count: rows },
  });
  const datadog = await DatadogSimulator.start({ apiKeys: [API_KEY], countOnly: true });
  const { env, temporal, tenant } = workerEnv(world, kandji.url, datadog.intakeUrl, {
    KANDJI_STREAMS: 'detections',
    KANDJI_DETECTIONS_POLL_INTERVAL: '1s',
    DD_STALE_EVENTS: 'restamp',
  });
  const worker = await WorkerProcess.start(env);
  const id = streamWorkflowId(tenant.tenant, 'detections');
  const status = () => world.client.workflow.getHandle(id).query(statusQuery);
  try {
    const rss = sampleRss(worker, 1_000);
    const t0 = Date.now();
    await startStream(world.client, temporal, tenant, 'detections', new Date().toISOString());
    await until(
      'the first sweep',
      async () => ((await status().catch(() => undefined))?.counts.sweeps ?? 0) >= 1,
      60 * 60_000,
      1_000,
    );
    const t1 = Date.now();
    await until('the second sweep', async () => (await status()).counts.sweeps >= 2, 60 * 60_000, 500);
    const t2 = Date.now();
    const s = await status();
    await world.client.workflow.getHandle(id).signal('stop');
    await until(
      'the stream to stop',
      async () => (await world.client.workflow.getHandle(id).describe()).status.name !== 'RUNNING',
      5 * 60_000,
      500,
    );

    const chunkIds: string[] = [];
    for await (const wf of world.client.workflow.list({ query: `WorkflowId STARTS_WITH "${id}/state/"` }))
      chunkIds.push(wf.workflowId);
    const chunkHistories = (await Promise.all(chunkIds.map((c) => rawHistories(world.client, c)))).flat();
    const running = [];
    for await (const wf of world.client.workflow.list({
      query: `WorkflowId STARTS_WITH "${id}/state/" AND ExecutionStatus = "Running"`,
    }))
      running.push(wf.workflowId);
    const current = (await Promise.all(running.map((c) => rawHistories(world.client, c)))).flat();
    const streamRuns = await rawHistories(world.client, id);
    return {
      rows,
      firstSweepSec: (t1 - t0) / 1000,
      secondSweepSec: (t2 - t1) / 1000,
      shipped: s.counts.shipped,
      chunks: running.length,
      stateBytes: current.reduce((n, r) => n + r.length, 0),
      streamHistoryBytesPerSweep: streamRuns.reduce((n, r) => n + r.length, 0) / s.counts.sweeps,
      chunkHistoryBytesPerSweep: chunkHistories.reduce((n, r) => n + r.length, 0) / s.counts.sweeps,
      largestPayloadBytes: Math.max(largestPayloadBytes(streamRuns), largestPayloadBytes(chunkHistories)),
      workerRssBytes: rss.stop(),
    };
  } finally {
    await worker.kill();
    await Promise.all([kandji.stop(), datadog.stop()]);
  }
}

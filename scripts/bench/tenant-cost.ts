/**
 * What one tenant costs the Temporal service per day in steady state: caught up, polling at the default intervals
 * (audit 1 min, detections 15 min, threats 5 min), two worker processes as the Kubernetes manifests run them,
 * metrics on. Idle (no new event) or busy (one live audit event a second), 5,000 detections, 100 threats.
 *
 * Measured from the outside, on a dev server of its own: the server's `action` counter (every billable action, by
 * `action_type`, activity retries included as `activity_retry`: a snapshot stream polls by retrying its sweep) and the history bytes of every run of every workflow, over a window after a warm-up, projected to a
 * day. Billable actions are what Temporal Cloud bills (docs.temporal.io/cloud/actions); self-hosted, each is
 * database writes.
 */
import type { Client } from '@temporalio/client';
import { WorkerProcess } from './worker-process';
import { API_KEY, TOKEN, until, workerEnv, type World } from './world';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator } from '../../simulators/kandji';
import { startStream } from '../../src/streams/stream-control';
import { connectClient } from '../../src/temporal/client';
import { freePort, startDevServer } from '../../src/temporal/dev-server';
import { statusQuery } from '../../workflows/shared/messages';
import { STREAMS } from '../../workflows/shared/stream-status';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';

const DAY_MS = 86_400_000;

export interface TenantCostResult {
  busy: boolean;
  windowMs: number;
  /** Billable actions per day, in all and by action type. */
  actionsPerDay: number;
  actionsByType: Record<string, number>;
  /** History bytes written per day (the server's own count, all runs of all workflows). */
  historyBytesPerDay: number;
  /** Audit events shipped in the window (busy: about one a second). */
  shipped: number;
}

/** The server's `action` counter, namespace `default`, by action type. */
export async function readActions(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('action{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (!/namespace="default"/.test(labels)) continue;
    const type = /action_type="([^"]+)"/.exec(labels)?.[1] ?? 'unknown';
    counts[type] = (counts[type] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** History bytes of every run of every workflow in the namespace, by run. */
async function historyBytes(client: Client): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  // Visibility does not carry the size on every server: describe says what the history service holds.
  for await (const wf of client.workflow.list()) {
    const described = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
    sizes.set(wf.runId, Number(described.raw.workflowExecutionInfo?.historySizeBytes ?? 0));
  }
  return sizes;
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

export async function tenantCost(world: World, busy: boolean, windowMs: number, warmupMs = 120_000) {
  // A server of its own, so that nothing else's actions are counted.
  const server = await startDevServer();
  const client = await connectClient({ address: server.address, namespace: 'default', taskQueue: 'unused' });
  const now = Date.now();
  const kandji = await KandjiSimulator.start({
    tokens: [TOKEN],
    seed: 17,
    backlog: { count: 200, from: new Date(now - 3_600_000), to: new Date(now - 60_000), tieFraction: 0.05 },
    detections: { count: 5_000 },
    threats: { count: 100, from: new Date(now - DAY_MS), to: new Date(now - 60_000) },
  });
  const datadog = await DatadogSimulator.start({ apiKeys: [API_KEY], countOnly: true });
  const { env, temporal, tenant } = workerEnv({ ...world, server, client }, kandji.url, datadog.intakeUrl, {
    KANDJI_STREAMS: STREAMS.join(','),
  });
  const workers: WorkerProcess[] = [];
  for (let i = 0; i < 2; i++)
    workers.push(await WorkerProcess.start({ ...env, METRICS_PORT: String(await freePort()) }));
  try {
    for (const name of STREAMS)
      await startStream(client, temporal, tenant, name, new Date(now - 2 * 3_600_000).toISOString());
    await until(
      'every stream to catch up',
      async () => {
        for (const name of STREAMS) {
          const handle = client.workflow.getHandle(streamWorkflowId(tenant.tenant, name));
          const st = await handle.query(statusQuery).catch(() => undefined);
          if (st?.state !== 'caught_up') return false;
        }
        return true;
      },
      10 * 60_000,
      2_000,
    );
    if (busy) kandji.audit.startLive({ perSecond: 1 });
    await new Promise((r) => setTimeout(r, warmupMs));
    const actions0 = await readActions(server.metricsUrl);
    const history0 = await historyBytes(client);
    const shipped0 = datadog.receivedCount;
    await new Promise((r) => setTimeout(r, windowMs));
    const actions = difference(await readActions(server.metricsUrl), actions0);
    const history1 = await historyBytes(client);
    const shipped = datadog.receivedCount - shipped0;
    if (busy) kandji.audit.stopLive();
    let written = 0;
    for (const [run, bytes] of history1) written += bytes - (history0.get(run) ?? 0);
    const perDay = (n: number) => (n * DAY_MS) / windowMs;
    const byType = Object.fromEntries(Object.entries(actions).map(([k, v]) => [k, perDay(v)]));
    const result: TenantCostResult = {
      busy,
      windowMs,
      actionsPerDay: Object.values(byType).reduce((a, b) => a + b, 0),
      actionsByType: byType,
      historyBytesPerDay: perDay(written),
      shipped,
    };
    process.stderr.write(`${JSON.stringify(result)}\n`);
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await client.connection.close();
    await server.stop();
    await Promise.all([kandji.stop(), datadog.stop()]);
  }
}

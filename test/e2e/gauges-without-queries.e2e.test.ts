/**
 * The metrics endpoint's gauges cost no query (a billed action): two worker processes as deployed, their status
 * gauges read every second, on a dev server of this file's own whose `action` counter (every billable action) is
 * read before and after. The gauges still tell the truth: a stream terminated shows `not_running` and one whose
 * token is revoked shows `blocked`, on both replicas, with still no query.
 */
import { readActions } from '../../scripts/bench/tenant-cost';
import { METRIC_NAMES } from '../../src/telemetry/metrics';
import { freePort, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { Harness } from '../helpers/harness';
import { metricSum, scrape } from '../helpers/prometheus';
import { waitFor } from '../helpers/wait';

const WINDOW_MS = 60_000;

describe('status gauges from two worker processes, without queries', () => {
  let server: DevServer;
  let h: Harness;
  const pods: string[] = [];

  beforeAll(async () => {
    server = await startDevServer();
    const shared = process.env.TEMPORAL_TEST_ADDRESS;
    process.env.TEMPORAL_TEST_ADDRESS = server.address; // this file's own server: its counter counts only us
    try {
      const now = Date.now();
      h = await Harness.start({
        kandji: { backlog: { count: 20, from: new Date(now - 1_800_000), to: new Date(now - 60_000) } },
      });
    } finally {
      process.env.TEMPORAL_TEST_ADDRESS = shared;
    }
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      await h.spawnWorkerProcess({ METRICS_PORT: String(port), METRICS_STATUS_INTERVAL: '1s' });
      pods.push(`http://127.0.0.1:${port}/metrics`);
    }
    await h.startAudit(new Date(Date.now() - 3_600_000).toISOString());
    await h.startSnapshot('detections');
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });

  /** The state each pod's gauge shows for a stream. */
  const statesOf = async (stream: string) =>
    Promise.all(
      pods.map(async (url) => {
        const m = await scrape(url);
        const on = m.filter((s) => s.name === METRIC_NAMES.state && s.labels.stream === stream && s.value === 1);
        return on.map((s) => s.labels.state).join(',');
      }),
    );
  const queries = async () => (await readActions(server.metricsUrl)).grpc_QueryWorkflow ?? 0;

  it('a minute of gauges read every second by two replicas: no query, no memo upsert, and the audit lag grows', async () => {
    await waitFor(
      'both pods to show both streams caught up',
      async () => {
        const states = [...(await statesOf('audit')), ...(await statesOf('detections'))];
        return states.every((s) => s === 'caught_up');
      },
      120_000,
      500,
    );
    // Each pod has asked (at most once per stream) for a cursor it had not seen; after that, nothing.
    await new Promise((r) => setTimeout(r, 3_000));
    const before = await readActions(server.metricsUrl);
    const kandjiBefore = h.kandji.requestCount();
    const lag = async () =>
      Math.min(
        ...(await Promise.all(
          pods.map(async (u) => metricSum(await scrape(u), METRIC_NAMES.lag, { stream: 'audit' }) ?? NaN),
        )),
      );
    const lag0 = await lag();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const after = await readActions(server.metricsUrl);
    const delta = (type: string) => (after[type] ?? 0) - (before[type] ?? 0);

    expect(delta('grpc_QueryWorkflow')).toBe(0);
    // Every poll flips running ↔ caught_up; none of it is published (a memo upsert is billed).
    expect(delta('command_ModifyWorkflowProperties')).toBe(0);
    // The streams did poll meanwhile (1 s intervals, inside their activities): Kandji saw them, not a stalled world.
    expect(h.kandji.requestCount() - kandjiBefore).toBeGreaterThan(10);
    // No new audit event: the cursor stays, its age grows by the window (min over pods: the true lag).
    expect((await lag()) - lag0).toBeGreaterThanOrEqual(WINDOW_MS / 1000 - 5);
    expect(await statesOf('audit')).toEqual(['caught_up', 'caught_up']);
  }, 240_000);

  it('a stream terminated shows not_running, one whose token is revoked shows blocked, on both pods, with no query', async () => {
    const q0 = await queries();
    await h.handle('detections').terminate('gone');
    h.kandji.setTokens([]);
    await waitFor(
      'both pods to show detections not_running and audit blocked',
      async () =>
        (await statesOf('detections')).every((s) => s === 'not_running') &&
        (await statesOf('audit')).every((s) => s === 'blocked'),
      60_000,
      500,
    );
    for (const url of pods) expect(metricSum(await scrape(url), METRIC_NAMES.lag, { stream: 'detections' })).toBeNaN();
    expect((await queries()) - q0).toBe(0);
  }, 120_000);
});

/**
 * A snapshot stream's state spans several chunks (the chunk size lowered to 2,000 rows): a sweep of 30,000
 * detections completes, its state survives a worker restart and continue-as-new with every payload under 256 KB,
 * later sweeps ship only what changed, and replaced generations are dropped.
 */
import { recordIdentity } from '../../src/streams/record-identity';
import { largestPayloadBytes } from '../../src/temporal/history-payloads';
import { rawHistories } from '../../src/temporal/raw-history';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const ROWS = 30_000;

describe('snapshot state in chunks', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('sweeps 30,000 detections into 15 chunks, keeps them across restarts and continue-as-new, ships only changes', async () => {
    h = await Harness.start({
      kandji: { detections: { count: ROWS }, seed: 61 },
      env: { KANDJI_SNAPSHOT_CHUNK_ROWS: '2000', DD_STALE_EVENTS: 'restamp', KANDJI_REQUESTS_PER_HOUR: '10000' },
    });
    const first = await h.startWorker();
    await h.startSnapshot('detections');
    const s1 = await h.sweeps('detections', 1, 180_000);
    expect(s1.counts.shipped).toBe(ROWS);
    expect(s1.cursor).toMatchObject({ known: ROWS });

    const prefix = `${streamWorkflowId(h.tenant, 'detections')}/state/`;
    const chunks = async (status: 'Running' | 'Completed') => {
      const out: string[] = [];
      for await (const wf of h.client.workflow.list({
        query: `WorkflowId STARTS_WITH "${prefix}" AND ExecutionStatus = "${status}"`,
      }))
        out.push(wf.workflowId);
      return out.sort();
    };
    const firstGeneration = await chunks('Running');
    expect(firstGeneration).toHaveLength(ROWS / 2_000);
    const chunkHistories = (
      await Promise.all(firstGeneration.slice(0, 3).map((id) => rawHistories(h.client, id)))
    ).flat();
    expect(largestPayloadBytes(chunkHistories)).toBeLessThanOrEqual(256 * 1024);

    // A restart of the worker, then churn: the next sweeps ship only rows that appeared.
    await h.killWorker(first);
    await h.startWorker();
    const { added, removed } = h.kandji.detections.randomChurn({ add: 120, remove: 80 });
    const s2 = await h.sweeps('detections', (await h.sweepsDone('detections')) + 2, 180_000);
    expect(s2.counts.shipped).toBe(ROWS + added.length);
    expect(s2.counts.gone).toBe(removed.length);
    const shippedIds = h.datadog.received.map((i) => recordIdentity('detections', i));
    expect(new Set(shippedIds).size).toBe(
      shippedIds.length -
        added.filter((r) => removed.some((x) => recordIdentity('detections', x) === recordIdentity('detections', r)))
          .length,
    );

    // Only the current generation is left running once the drops (run beside the sweeps) are done; the low
    // continue-as-new threshold of the test server made the stream continue as new on the way, carrying only the
    // generation's name.
    const current = Math.ceil((ROWS + added.length - removed.length) / 2_000);
    const running = await waitFor(
      'replaced generations dropped',
      async () => {
        const ids = await chunks('Running');
        return new Set(ids.map((id) => id.split('/').at(-2))).size === 1 ? ids : undefined;
      },
      60_000,
      500,
    );
    expect(running).toHaveLength(current);
    expect(running.some((id) => firstGeneration.includes(id))).toBe(false);
    // A sweep that changes nothing writes no history (its poll is an activity retry): a little churn at every
    // sweep grows it until the test server's low threshold has the stream continue as new.
    let churned = 0;
    await waitFor(
      'a continue-as-new',
      async () => {
        const s = await h.status('detections');
        if (s.generation > 1) return s;
        churned += h.kandji.detections.randomChurn({ add: 1, remove: 0 }).added.length;
        return undefined;
      },
      120_000,
      1_500,
    );
    // Nothing shipped again after continue-as-new: only the rows the churn added.
    const s3 = await waitFor(
      'the churned rows shipped',
      async () => {
        const s = await h.status('detections');
        return s.counts.shipped === s2.counts.shipped + churned ? s : undefined;
      },
      60_000,
    );
    await h.sweeps('detections', (await h.sweepsDone('detections')) + 1, 120_000);
    expect((await h.status('detections')).counts.shipped).toBe(s3.counts.shipped);
    const streamRuns = await rawHistories(h.client, streamWorkflowId(h.tenant, 'detections'));
    expect(streamRuns.length).toBeGreaterThan(1);
    expect(largestPayloadBytes(streamRuns)).toBeLessThanOrEqual(256 * 1024);
  }, 400_000);
});

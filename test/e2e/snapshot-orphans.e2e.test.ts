/**
 * No snapshot state chunk is orphaned: a sweep that fails half way (Datadog refuses everything: blocked) and is then
 * stopped leaves no chunk workflow running — what it wrote was no one's state, and the stream drops it.
 */
import { stopSignal } from '../../workflows/shared/messages';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

describe('snapshot state: no orphaned chunks', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('a sweep stopped after failing half way leaves no chunk workflow running', async () => {
    h = await Harness.start({
      kandji: { detections: { count: 7_000 }, seed: 71 },
      env: { KANDJI_SNAPSHOT_CHUNK_ROWS: '2000', DD_STALE_EVENTS: 'restamp', KANDJI_REQUESTS_PER_HOUR: '10000' },
    });
    await h.startWorker();
    await h.startSnapshot('detections');
    // Two chunks (4,000 rows) written; then Datadog refuses everything: the sweep stops half way, blocked.
    await h.datadog.waitForItems(4_500, 120_000);
    h.datadog.setOutage(true, 400);
    await h.waitForState('blocked', 'detections', 120_000);

    const prefix = `${streamWorkflowId(h.tenant, 'detections')}/state/`;
    const running = async () => {
      const out: string[] = [];
      for await (const wf of h.client.workflow.list({
        query: `WorkflowId STARTS_WITH "${prefix}" AND ExecutionStatus = "Running"`,
      }))
        out.push(wf.workflowId);
      return out;
    };
    await waitFor('the half-written generation visible', async () => (await running()).length >= 2, 30_000);

    const stream = h.client.workflow.getHandle(streamWorkflowId(h.tenant, 'detections'));
    await stream.signal(stopSignal);
    await stream.result();
    await waitFor('no chunk workflow running', async () => (await running()).length === 0, 30_000).catch(
      async (err: unknown) => {
        throw new Error(`${String(err)}; still running: ${(await running()).join(', ')}`);
      },
    );
  });
});

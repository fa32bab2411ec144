/**
 * verify end to end: the real worker (activities, workflow, request budget) against the simulators and the Temporal
 * dev server. The audit stream ships an hour; Datadog's index drops one log after its 202; the verify workflow finds
 * it, ships it again once, and the hour then verifies. A second run costs one Datadog request and ships nothing.
 */
import { randomUUID } from 'node:crypto';
import { hourOf } from '../../workflows/shared/late-ledger';
import { verifyStream } from '../../workflows/verify-stream';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;
const APP_KEY = 'e2e-application-key';

describe('verify', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('finds a log the index dropped after its 202, ships it again once, and the hour then verifies', async () => {
    const start = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    h = await Harness.start({
      kandji: { backlog: { count: 300, from: new Date(start + 1_000), to: new Date(start + HOUR - 1_000) } },
    });
    h.datadog.reads.setApplicationKeys({ [APP_KEY]: ['logs_read_data', 'logs_read_config'] });
    const lost = h.kandji.audit.all()[123]!.id;
    let dropped = false;
    h.datadog.index.setDrop((item) => item.id === lost && !dropped && (dropped = true));
    await h.startWorker({}, undefined, { on: true, apiUrl: h.datadog.url, appKey: () => APP_KEY });
    await h.startAudit(new Date(start).toISOString());
    await waitFor('the hour shipped', () => h.datadog.receivedCount >= 300, 60_000);

    const verify = async () => {
      const handle = await h.client.workflow.start(verifyStream, {
        workflowId: `kandji-datadog/${h.tenant}/audit/verify-${randomUUID().slice(0, 8)}`,
        taskQueue: h.temporal.taskQueue,
        args: [
          {
            tenant: h.tenant,
            from: new Date(start).toISOString(),
            to: new Date(start + HOUR).toISOString(),
            settleMs: 1_000,
          },
        ],
      });
      return handle.result();
    };
    const first = await verify();
    expect(first.rows).toEqual([
      expect.objectContaining({
        hour: hourOf(new Date(start).toISOString()),
        result: 'repaired',
        kandji: 300,
        datadog: 300,
        repaired: 1,
        missing: { quota: 0, excluded: 0, stale: 0, lost: 1 },
      }),
    ]);
    expect(h.datadog.received.filter((i) => i.id === lost)).toHaveLength(2);

    h.datadog.reads.requests.length = 0;
    const second = await verify();
    expect(second.rows).toEqual([
      expect.objectContaining({ result: 'verified', kandji: 300, datadog: 300, requests: 1 }),
    ]);
    expect(h.datadog.reads.requests).toHaveLength(1);
    expect(h.datadog.received.filter((i) => i.id === lost)).toHaveLength(2);
  }, 180_000);
});

/**
 * verify of a snapshot stream end to end: the real worker (activities, workflows, request budget) against the
 * simulators and the Temporal dev server. The detections stream sweeps rows of the last 40 hours (those past 18 h are
 * restamped: Datadog dates them when shipped); the index drops one log after its 202; the verify workflow finds
 * every restamped row by identity, finds the dropped one (committed by the stream) missing, ships it again once, and
 * the window then verifies. A second run ships nothing.
 */
import { randomUUID } from 'node:crypto';
import { rowTimeMs } from '../../activities/snapshot-window';
import { versionKey } from '../../src/streams/record-identity';
import { verifyStream } from '../../workflows/verify-stream';
import { Harness } from '../helpers/harness';

const HOUR = 3_600_000;
const APP_KEY = 'e2e-application-key';

describe('verify detections', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('finds a detection the index dropped after its 202, ships it again once, and the window then verifies', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { detections: { count: 60, from: new Date(now - 40 * HOUR), to: new Date(now - 2 * HOUR) } },
    });
    h.datadog.reads.setApplicationKeys({ [APP_KEY]: ['logs_read_data', 'logs_read_config'] });
    const rows = h.kandji.detections.all() as unknown as Record<string, unknown>[];
    const lost = rows[17]!;
    const isLost = (item: Record<string, unknown>) => versionKey('detections', item) === versionKey('detections', lost);
    let dropped = false;
    h.datadog.index.setDrop((item) => isLost(item) && !dropped && (dropped = true));
    await h.startWorker({}, undefined, { on: true, apiUrl: h.datadog.url, appKey: () => APP_KEY });
    await h.startSnapshot('detections');
    await h.sweeps('detections', 1);
    expect(h.datadog.received.some((i) => i.kandji_datadog_original_time)).toBe(true); // some were restamped

    const verify = async () => {
      const handle = await h.client.workflow.start(verifyStream, {
        workflowId: `kandji-datadog/${h.tenant}/detections/verify-${randomUUID().slice(0, 8)}`,
        taskQueue: h.temporal.taskQueue,
        args: [
          {
            tenant: h.tenant,
            stream: 'detections' as const,
            from: new Date(now - 48 * HOUR).toISOString(),
            to: new Date(now - HOUR).toISOString(),
            settleMs: 1_000,
          },
        ],
      });
      return handle.result();
    };
    const sum = (r: Awaited<ReturnType<typeof verify>>, k: 'kandji' | 'datadog' | 'repaired') =>
      r.rows.reduce((n, row) => n + row[k], 0);
    const lostHour = new Date(rowTimeMs('detections', lost)!).toISOString().slice(0, 13);

    const first = await verify();
    expect(first.rows.find((r) => r.hour === lostHour)).toMatchObject({
      result: 'repaired',
      repaired: 1,
      missing: { quota: 0, excluded: 0, stale: 0, lost: 1 },
    });
    expect(first.rows.filter((r) => r.result !== 'verified' && r.hour !== lostHour)).toEqual([]);
    expect([sum(first, 'kandji'), sum(first, 'datadog'), sum(first, 'repaired')]).toEqual([60, 60, 1]);
    expect(h.datadog.received.filter(isLost)).toHaveLength(2);

    const second = await verify();
    expect(second.rows.every((r) => r.result === 'verified')).toBe(true);
    expect([sum(second, 'kandji'), sum(second, 'datadog')]).toEqual([60, 60]);
    expect(second.requests).toBe(1); // one page of the stream's 61 logs
    expect(h.datadog.received.filter(isLost)).toHaveLength(2);
  }, 180_000);
});

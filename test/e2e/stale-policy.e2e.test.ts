/**
 * Stale-event policy per stream, end to end. Counts what the intake simulator KEPT (`received`), not what it answered
 * 202 to: Datadog accepts logs older than 18 h and then drops them.
 * - Detections (first detection times of the last 30 days) are kept by default: their policy is `restamp`.
 * - A changed policy takes effect: detections shipped with `ship` (and dropped by Datadog) are re-shipped by a
 *   backfill once the worker runs with `restamp`, and Datadog keeps every one.
 */
import { ORIGINAL_TIME_ATTRIBUTE } from '../../src/datadog/stale-events';
import { recordIdentity } from '../../src/streams/record-identity';
import { requestBackfill } from '../../src/streams/stream-control';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;
const identities = (items: readonly Record<string, unknown>[]) =>
  new Set(items.filter((i) => i.service === 'detection').map((i) => recordIdentity('detections', i)));

describe('stale events per stream', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('detections are visible by default: Datadog keeps every one, the original time in an attribute', async () => {
    h = await Harness.start({ kandji: { detections: { count: 400 }, seed: 71 } });
    await h.startWorker();
    await h.startSnapshot('detections');
    const s = await h.sweeps('detections', 1);
    expect(s.counts.shipped).toBe(400);
    expect(s.counts.stale).toBeGreaterThan(300); // the simulator's detections are up to 30 days old
    expect(h.datadog.receivedCount).toBe(400);
    expect(h.datadog.droppedAsStale).toHaveLength(0);
    expect(identities(h.datadog.received)).toEqual(
      new Set(h.kandji.detections.all().map((r) => recordIdentity('detections', r))),
    );
    const byId = new Map(h.kandji.detections.all().map((r) => [recordIdentity('detections', r), r]));
    const restamped = h.datadog.received.filter((i) => i[ORIGINAL_TIME_ATTRIBUTE] !== undefined);
    expect(restamped).toHaveLength(s.counts.stale);
    for (const item of restamped) {
      expect(item[ORIGINAL_TIME_ATTRIBUTE]).toEqual({
        field: 'detection_datetime',
        value: (byId.get(recordIdentity('detections', item)) as { detection_datetime?: string }).detection_datetime,
      });
    }
  });

  it('a changed policy takes effect: a backfill re-ships the snapshot Datadog dropped, and Datadog keeps it', async () => {
    h = await Harness.start({
      kandji: { detections: { count: 300 }, seed: 72 },
      env: { DD_STALE_EVENTS_DETECTIONS: 'ship' },
    });
    const first = await h.startWorker();
    await h.startSnapshot('detections');
    const s1 = await h.sweeps('detections', 1);
    expect(s1.counts.shipped).toBe(300);
    const dropped = s1.counts.stale;
    expect(dropped).toBeGreaterThan(200);
    // What Datadog kept, not what it answered 202 to: the stale ones are gone.
    expect(h.datadog.receivedCount).toBe(300 - dropped);
    expect(h.datadog.droppedAsStale).toHaveLength(dropped);

    // The operator changes the policy (a worker restarted without DD_STALE_EVENTS_DETECTIONS: the default, restamp)…
    await h.killWorker(first);
    await h.startWorker({ stalePolicies: { ...h.config.stalePolicies, detections: 'restamp' } });
    // …and backfills: for a snapshot stream that re-ships the current snapshot with the next sweep.
    const accepted = await requestBackfill(
      h.client,
      h.tenant,
      'detections',
      new Date(Date.now() - 40 * 24 * HOUR).toISOString(),
      new Date().toISOString(),
    );
    await waitFor(
      'the backfill done',
      async () => (await h.status('detections')).backfills?.find((b) => b.id === accepted.id && b.state === 'done'),
      120_000,
    );
    // Every current detection is now kept by Datadog; the fresh ones twice (shipped, then backfilled), as documented.
    expect(identities(h.datadog.received)).toEqual(
      new Set(h.kandji.detections.all().map((r) => recordIdentity('detections', r))),
    );
    expect(h.datadog.receivedCount).toBe(300 - dropped + 300);
    expect(h.datadog.droppedAsStale).toHaveLength(dropped); // nothing more dropped
  });
});

/**
 * Snapshot safety and backfill bookkeeping, against the real dev server and the simulators: one test per guarantee.
 */
import { DetectionStore, type DetectionRow } from '../../simulators/kandji';
import { recordIdentity } from '../../src/streams/record-identity';
import { cancelBackfills, requestBackfill } from '../../src/streams/stream-control';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';
import { auditWithBlockedBackfills } from '../helpers/backfills';
import { Harness, stripEnvelope } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;
const detectionItems = (h: Harness) => h.datadog.received.filter((i) => i.service === 'detection');
const count = <T>(xs: readonly T[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());

describe('snapshot safety', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('runs a re-ship requested just before a continue-as-new in the next run', async () => {
    // A long poll interval: after its first sweep the stream waits, and only the backfill wakes it.
    h = await Harness.start({
      kandji: { detections: { count: 200 }, seed: 131 },
      env: { DD_STALE_EVENTS: 'restamp', KANDJI_DETECTIONS_POLL_INTERVAL: '1h' },
    });
    await h.startWorker();
    await h.startSnapshot('detections');
    const first = await h.sweeps('detections', 1);
    expect(first.counts.shipped).toBe(200);
    expect(first.generation).toBe(1);

    // Grow the history past the test server's continue-as-new threshold (120 events) with signals that change
    // nothing (cancel with no backfill running), so the next workflow task is told to continue as new.
    const handle = h.handle('detections');
    for (let i = 0; (await handle.describe()).historyLength < 130; i++) {
      if (i > 200) throw new Error('history did not grow');
      await handle.signal('cancelBackfill', {});
    }
    expect((await h.status('detections')).generation).toBe(1);

    const from = new Date(Date.now() - HOUR).toISOString();
    const { id } = await requestBackfill(h.client, h.tenant, 'detections', from, new Date().toISOString());
    const done = await waitFor(
      'the re-ship done',
      async () => {
        const s = await h.status('detections');
        return s.backfills?.find((b) => b.id === id)?.state === 'done' ? s : undefined;
      },
      60_000,
    );
    // It ran in the next run: the request's run continued as new before sweeping again.
    expect(done.generation).toBe(2);
    const shipped = count(detectionItems(h).map((i) => recordIdentity('detections', i)));
    expect(shipped.size).toBe(200);
    expect([...shipped.values()].every((n) => n === 2)).toBe(true);
    expect(done.backfills?.find((b) => b.id === id)?.shipped).toBe(200);
  });

  it('runs a re-ship whose sweep kept failing until the failure loop continued as new', async () => {
    h = await Harness.start({
      kandji: { detections: { count: 150 }, seed: 135 },
      env: { DD_STALE_EVENTS: 'restamp', KANDJI_DETECTIONS_POLL_INTERVAL: '1h' },
    });
    await h.startWorker();
    await h.startSnapshot('detections');
    expect((await h.sweeps('detections', 1)).counts.shipped).toBe(150);

    // The endpoint goes away (404, re-checked every 2 s) just as a re-ship is requested: its sweep fails until the
    // failure loop continues as new (the test server's threshold is 120 events), then the endpoint comes back.
    h.kandji.setFeatures({ detections: false });
    const { id } = await requestBackfill(
      h.client,
      h.tenant,
      'detections',
      new Date(Date.now() - HOUR).toISOString(),
      new Date().toISOString(),
    );
    await waitFor(
      'a continue-as-new while unavailable',
      async () => {
        const s = await h.status('detections');
        return s.generation > 1 && s.state === 'unavailable';
      },
      90_000,
      250,
    );
    h.kandji.setFeatures({ detections: true });

    const done = await waitFor(
      'the re-ship done',
      async () => {
        const s = await h.status('detections');
        return s.backfills?.find((b) => b.id === id)?.state === 'done' ? s : undefined;
      },
      60_000,
    );
    expect(done.counts.sweeps).toBe(2);
    const shipped = count(detectionItems(h).map((i) => recordIdentity('detections', i)));
    expect(shipped.size).toBe(150);
    expect([...shipped.values()].every((n) => n === 2)).toBe(true);
  });

  it('cancels every running backfill when one of them has already closed without reporting', async () => {
    // Backfills start and stay running (blocked), as long ones would.
    let from: string, to: string;
    ({ h, from, to } = await auditWithBlockedBackfills(132));
    const accepted: Awaited<ReturnType<typeof requestBackfill>>[] = [];
    for (let i = 0; i < 3; i++) accepted.push(await requestBackfill(h.client, h.tenant, 'audit', from, to));
    // The first one's workflow closes without telling the stream (terminated from the UI, say).
    await h.client.workflow.getHandle(accepted[0]!.workflowId).terminate('gone before the cancel');

    const cancelled = await cancelBackfills(h.client, h.tenant, 'audit');
    expect([...cancelled].sort()).toEqual(accepted.map((a) => a.id).sort());
    const s = await h.status();
    for (const a of accepted) expect(s.backfills?.find((b) => b.id === a.id)?.state).toBe('cancelled');
    expect(s.backfills?.find((b) => b.id === accepted[0]!.id)?.note).toMatch(/already closed/);
    expect(s.backfills?.find((b) => b.id === accepted[1]!.id)?.note).toBeUndefined();
    // The other two were told to stop, and did.
    for (const a of accepted.slice(1)) {
      await waitFor(
        `${a.id} closed`,
        async () => (await h.client.workflow.getHandle(a.workflowId).describe()).status.name === 'COMPLETED',
        30_000,
      );
    }
  });

  it('does not commit a transient empty answer (nothing is shipped again), and commits a real removal once confirmed', async () => {
    h = await Harness.start({ kandji: { detections: { count: 400 }, seed: 133 }, env: { DD_STALE_EVENTS: 'restamp' } });
    await h.startWorker();
    await h.startSnapshot('detections');
    const first = await h.sweeps('detections', 1);
    expect(first.counts.shipped).toBe(400);

    // One sweep sees an empty list; the next sees everything again.
    h.kandji.answerDetectionsEmpty(1);
    const held = await waitFor(
      'a sweep held unconfirmed',
      async () => {
        const s = await h.status('detections');
        return (s.counts.unconfirmedSweeps ?? 0) >= 1 ? s : undefined;
      },
      60_000,
    );
    expect(held.counts.unconfirmedSweeps).toBe(1);
    const later = await h.sweeps('detections', (await h.sweepsDone('detections')) + 2);
    expect(later.counts.shipped).toBe(400);
    expect(later.counts.gone).toBe(0);
    expect(later.cursor).toMatchObject({ known: 400 });
    expect(later.counts.unconfirmedSweeps).toBe(1);

    // A real removal of 90% is held once, then confirmed by the next sweep and committed.
    const removed = h.kandji.detections.remove(h.kandji.detections.identities().slice(0, 360));
    expect(removed).toHaveLength(360);
    const committed = await waitFor(
      'the removal committed',
      async () => {
        const s = await h.status('detections');
        return (s.cursor as { known: number }).known === 40 ? s : undefined;
      },
      60_000,
    );
    expect(committed.counts.unconfirmedSweeps).toBe(2);
    expect(committed.counts.gone).toBe(360);
    const end = await h.sweeps('detections', (await h.sweepsDone('detections')) + 1);
    expect(end.counts.shipped).toBe(400);

    const shipped = count(detectionItems(h).map((i) => recordIdentity('detections', i)));
    expect(shipped.size).toBe(400);
    expect([...shipped.values()].every((n) => n === 1)).toBe(true);

    // Held and replaced generations were dropped: only the committed one's chunks (none: 40 rows ride inline) are left.
    const prefix = `${streamWorkflowId(h.tenant, 'detections')}/state/`;
    const committedState = (end.cursor as { state?: { generation: string } }).state;
    const running = await waitFor(
      'old generations dropped',
      async () => {
        const ids: string[] = [];
        for await (const wf of h.client.workflow.list({
          query: `WorkflowId STARTS_WITH "${prefix}" AND ExecutionStatus = "Running"`,
        }))
          ids.push(wf.workflowId);
        return ids.every((id) => committedState && id.startsWith(`${prefix}${committedState.generation}/`))
          ? ids
          : undefined;
      },
      30_000,
      500,
    );
    expect(running).toHaveLength(0);
  });

  it('ships each row whose identity fields are empty, once', async () => {
    // Policy `ship`: logs go as they are (Datadog drops the old ones at intake; counted here all the same).
    h = await Harness.start({
      kandji: { detections: { count: 100 }, seed: 134 },
      env: { DD_STALE_EVENTS_DETECTIONS: 'ship' },
    });
    // Five distinct rows without device_id or cve_id (one also without bundle_id), as a tenant may return them.
    const blank: DetectionRow[] = new DetectionStore({ seed: 7 })
      .seedDetections(5)
      .map((r, i) => ({ ...r, device_id: '', cve_id: '', ...(i === 0 ? { bundle_id: null } : {}) }));
    h.kandji.detections.addWithoutIdentity(blank);
    expect(h.kandji.detections.size).toBe(105);
    await h.startWorker();
    await h.startSnapshot('detections');
    await h.sweeps('detections', 1);
    const s = await h.sweeps('detections', (await h.sweepsDone('detections')) + 2);
    expect(s.counts.shipped).toBe(105);
    expect(s.counts.shippedWithoutIdentity).toBe(5);
    expect(s.cursor).toMatchObject({ known: 105 });

    const items = [...h.datadog.received, ...h.datadog.droppedAsStale.map((d) => d.item)].filter(
      (i) => i.service === 'detection',
    );
    expect(items).toHaveLength(105);
    const anonymous = items.filter((i) => i.device_id === '').map(stripEnvelope);
    expect(anonymous).toHaveLength(5);
    for (const row of blank) expect(anonymous).toContainEqual(row);
  });
});

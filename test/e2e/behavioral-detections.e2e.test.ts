/**
 * Behavioral detections end to end (real Temporal dev server, real workers, the simulators): every detection and
 * every status change arrives once — while detections are added, removed and change status between the pages of a
 * sweep, through a Datadog outage, and through a kill -9 of the worker holding the sweep — and a tenant without EDR
 * is left quietly `unavailable`.
 */
import type { BehavioralRecord } from '../../simulators/kandji';
import { resumeUpdate } from '../../workflows/shared/messages';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const STREAM = 'behavioral-detections';
const DAY_MS = 86_400_000;
/** Pages of 20 (Kandji's are 1000): a sweep of 150 detections is 8 pages or more, with changes between them. */
const PAGE = 20;

const pair = (r: { id?: unknown; threat_status?: unknown }) => `${String(r.id)}|${String(r.threat_status)}`;
const count = <T>(xs: readonly T[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());
const shippedPairs = (h: Harness) =>
  count(h.datadog.received.filter((i) => i.service === 'behavioral_detection').map(pair));

describe('behavioral detections stream', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('ships every detection and every status change once through inserts, removals and a Datadog outage mid-sweep', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { seed: 91, behavioralDetections: { count: 150, from: new Date(now - 4 * DAY_MS), to: new Date(now) } },
    });
    h.kandji.behavioralMaxLimit = PAGE;
    await h.startWorker();
    await h.startSnapshot(STREAM);
    await h.sweeps(STREAM, 1);
    // Every status a detection has had while the stream ran: each must arrive once.
    const expected = new Set(h.kandji.behavioral.all().map(pair));

    // Between pages of the next sweeps: detections added (also before the page being read), removed (more than
    // the overlap at once) and changed (each at most once, so no status comes back).
    let rounds = 0;
    const changedOnce = new Set<string>();
    h.kandji.beforeBehavioralPage = (q) => {
      if (q.offset === '0' || rounds++ >= 30) return;
      const all = h.kandji.behavioral.all();
      const added = h.kandji.behavioral.add(2, new Date(now - Math.floor(Math.random() * 3 * DAY_MS)));
      for (const r of added) expected.add(pair(r));
      h.kandji.behavioral.remove(all.slice(0, rounds % 5 === 0 ? PAGE : 1).map((r) => r.id));
      const change = all.find((r, i) => i > PAGE && !changedOnce.has(r.id));
      if (change) {
        changedOnce.add(change.id);
        const next = change.threat_status === 'blocked' ? 'detected' : 'blocked';
        expected.add(pair(h.kandji.behavioral.changeStatus(change.id, next)));
      }
    };
    // Datadog goes down for a while in the middle of it.
    await waitFor('churn under way', () => rounds >= 8, 60_000, 50);
    h.datadog.setOutage(true);
    await waitFor('a ship refused by the outage', () => h.datadog.requests.some((r) => r.fault === 'outage'), 60_000);
    await new Promise((r) => setTimeout(r, 2_000));
    h.datadog.setOutage(false);
    await waitFor('churn over', () => rounds >= 30, 120_000, 100);
    const after = await h.sweepsDone(STREAM);
    const s = await h.sweeps(STREAM, after + 2, 120_000);

    const shipped = shippedPairs(h);
    // Once at most, every pair; and every detection still listed arrived with its current status.
    expect([...shipped].filter(([, n]) => n > 1)).toEqual([]);
    for (const r of h.kandji.behavioral.all()) expect(shipped.get(pair(r))).toBe(1);
    // Every status change of a detection still listed arrived, and nothing arrived that Kandji never listed.
    expect(
      [...changedOnce].filter((id) => h.kandji.behavioral.get(id) && !shipped.has(pair(h.kandji.behavioral.get(id)!))),
    ).toEqual([]);
    expect([...shipped.keys()].filter((p) => !expected.has(p))).toEqual([]);
    expect(changedOnce.size).toBeGreaterThan(10);
    expect(s.state).not.toBe('blocked');
    // Unchanged, dated by detection_date.
    const item = h.datadog.received.find((i) => i.service === 'behavioral_detection')!;
    expect(item.ddsource).toBe('kandji');
    expect(typeof item.timestamp).toBe('string');
  });

  it('kill -9 of the worker holding a sweep: the other worker finishes it, every detection shipped, none more than twice', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { seed: 92, behavioralDetections: { count: 400, from: new Date(now - 2 * DAY_MS), to: new Date(now) } },
      env: { KANDJI_REQUESTS_PER_HOUR: '10000' },
    });
    h.kandji.behavioralMaxLimit = PAGE;
    const holder = await h.spawnWorkerProcess();
    // Datadog answers slowly: the sweep is still running when its worker dies.
    h.datadog.setFaults({ rate: 1, kinds: ['slow'], slowMs: 1_000 });
    await h.startSnapshot(STREAM);
    await h.datadog.waitForItems(60, 120_000);
    await h.spawnWorkerProcess();
    await h.sigkill(holder);
    h.datadog.setFaults({ rate: 0 });

    const s = await h.sweeps(STREAM, 1, 240_000);
    expect(s.cursor).toMatchObject({ known: 400 });
    const shipped = shippedPairs(h);
    for (const r of h.kandji.behavioral.all() as BehavioralRecord[]) expect(shipped.has(pair(r))).toBe(true);
    // What the dead worker shipped after its last heartbeat reached the server (the SDK throttles heartbeats to
    // 80% of the heartbeat timeout) is shipped again by the other: twice at most, never lost.
    const repeated = [...shipped.values()].filter((n) => n > 1);
    console.info(`kill -9 mid-sweep: ${repeated.length} of ${shipped.size} detections shipped twice`);
    expect(Math.max(...shipped.values())).toBeLessThanOrEqual(2);
  });

  it('a tenant without EDR (403): unavailable with the reason, one request, no paging; resumed once licensed', async () => {
    h = await Harness.start({
      kandji: { features: { behavioralDetections: false }, unlicensedBehavioralStatus: 403 },
    });
    await h.startWorker();
    await h.startSnapshot(STREAM);
    const s = await h.waitForState('unavailable', STREAM);
    expect(s.lastError?.type).toBe('KandjiNotFoundError');
    expect(s.lastError?.message).toMatch(/EDR not licensed.*403/);
    await new Promise((r) => setTimeout(r, 3_000));
    const requests = () => h.kandji.requestCount((r) => r.path === '/api/v1/behavioral-detections');
    expect(requests()).toBe(1);
    expect((await h.status(STREAM)).state).toBe('unavailable');

    h.kandji.setFeatures({ behavioralDetections: true });
    h.kandji.behavioral.add(3);
    await h.handle(STREAM).executeUpdate(resumeUpdate);
    const done = await h.sweeps(STREAM, 1);
    expect(done.counts.shipped).toBe(3);
  });
});

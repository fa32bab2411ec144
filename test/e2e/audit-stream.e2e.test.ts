/**
 * The audit stream end to end: real Temporal dev server, real worker and activities, Kandji and Datadog simulators.
 */
import { Harness, stripEnvelope } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;

function backlog(count: number) {
  const to = new Date(Date.now() - 60_000);
  return { count, from: new Date(to.getTime() - 10 * HOUR), to };
}

/** Asserts Datadog holds every simulator record exactly once, fields deep-equal, and returns the repeat count. */
function expectEveryEventOnce(h: Harness, { allowRepeats = 0 } = {}): number {
  const records = h.kandji.audit.all();
  const byId = new Map<string, Record<string, unknown>[]>();
  for (const item of h.datadog.received) {
    const id = String(item.id);
    byId.set(id, [...(byId.get(id) ?? []), item]);
  }
  const missing = records.filter((r) => !byId.has(r.id));
  expect(missing.map((r) => r.id)).toEqual([]);
  let repeats = 0;
  for (const r of records) {
    const items = byId.get(r.id)!;
    repeats += items.length - 1;
    for (const item of items) {
      expect(item.ddsource).toBe('kandji');
      expect(item.service).toBe('audit');
      expect(String(item.ddtags)).toContain(`kandji_tenant:${h.tenant}`);
      expect(stripEnvelope(item)).toEqual(r);
    }
  }
  expect(byId.size).toBe(records.length);
  expect(repeats).toBeLessThanOrEqual(allowRepeats);
  return repeats;
}

describe('audit stream, end to end', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('ships a 5,000-event backlog with ties, then live events, each exactly once and unchanged', async () => {
    h = await Harness.start({ kandji: { backlog: backlog(5_000), seed: 7 } });
    const since = new Date(Date.now() - 11 * HOUR).toISOString();
    await h.startWorker();
    const started = await h.startAudit(since);
    expect(started.outcome).toBe('started');

    await waitFor('backlog shipped', () => h.datadog.received.length >= 5_000, 90_000);
    h.kandji.audit.startLive({ perSecond: 20, tieFraction: 0.3 });
    await new Promise((r) => setTimeout(r, 4_000));
    h.kandji.audit.stopLive();
    const total = h.kandji.audit.size;
    expect(total).toBeGreaterThan(5_000);
    await waitFor('live events shipped', () => h.datadog.received.length >= total, 30_000);
    await h.waitForState('caught_up', 'audit', 10_000);

    expect(expectEveryEventOnce(h)).toBe(0);
    const status = await h.status();
    expect(status.counts.shipped).toBe(total);
    expect(status.lastError).toBeNull();
    // The low continue-as-new threshold of the test server makes a backlog this size continue as new.
    expect(status.generation).toBeGreaterThan(1);
    // A second start neither creates a second workflow nor resets the cursor.
    const again = await h.startAudit(since);
    expect(again.outcome).toBe('already_running');
    expect((await h.status()).cursor.since).toBe(status.cursor.since);
  });

  it('loses nothing when the worker is killed mid-backlog and another one takes over', async () => {
    h = await Harness.start({ kandji: { backlog: backlog(5_000), seed: 11 } });
    const first = await h.startWorker();
    await h.startAudit(new Date(Date.now() - 11 * HOUR).toISOString());
    await waitFor('part of the backlog shipped', () => h.datadog.received.length >= 1_000, 60_000, 20);
    await h.killWorker(first);
    const shippedBeforeRestart = h.datadog.received.length;
    expect(shippedBeforeRestart).toBeLessThan(5_000);

    await h.startWorker();
    await waitFor(
      'backlog shipped after restart',
      () => new Set(h.datadog.received.map((i) => i.id)).size >= 5_000,
      90_000,
    );
    await h.waitForState('caught_up', 'audit', 20_000);
    // Only the batch in flight (one unit: up to 1,000 events) can repeat, if Datadog took it as the worker stopped.
    const repeats = expectEveryEventOnce(h, { allowRepeats: 1_000 });
    console.info(`restart test: ${shippedBeforeRestart} shipped before the kill, ${repeats} repeated after it`);
  });

  it('loses nothing when the worker process is killed with SIGKILL mid-batch; repeats at most the batch in flight', async () => {
    h = await Harness.start({ kandji: { backlog: backlog(3_000), seed: 12 }, env: { KANDJI_PAGE_HANDOFF: '3s' } });
    // Every Datadog answer takes 2 s: the kill lands while a batch of 1,000 is on the wire.
    h.datadog.setFaults({ rate: 1, kinds: ['slow'], slowMs: 2_000 });
    const child = await h.spawnWorkerProcess();
    await h.startAudit(new Date(Date.now() - 11 * HOUR).toISOString());
    await waitFor(
      'a batch on the wire',
      () => h.datadog.requests.length > 0 || h.datadog.requestsInFlight > 0,
      60_000,
      20,
    );
    await new Promise((r) => setTimeout(r, 500));
    await h.sigkill(child);
    h.datadog.setFaults({ rate: 0 });
    await h.startWorker();
    // The dead worker's ship times out (heartbeat, 1 min), is not picked up from its queue (3 s), and is read again.
    await waitFor(
      'backlog shipped after the kill',
      () => new Set(h.datadog.received.map((i) => i.id)).size >= 3_000,
      200_000,
    );
    await h.waitForState('caught_up', 'audit', 30_000);
    // The batch on the wire may have been accepted after the worker died: it is the only thing that can repeat.
    const repeats = expectEveryEventOnce(h, { allowRepeats: 1_000 });
    console.info(`SIGKILL mid-batch: ${repeats} repeated`);
  }, 300_000);

  it('loses nothing with 10% faults on both Kandji and Datadog', async () => {
    // Pages of 100 make ~30 Kandji and Datadog requests, so the seeded 10% draws are sure to fault some.
    h = await Harness.start({ kandji: { backlog: backlog(3_000), seed: 13 }, env: { KANDJI_AUDIT_PAGE_SIZE: '100' } });
    h.kandji.setFaults({ rate: 0.1, slowMs: 300 });
    h.datadog.setFaults({ rate: 0.1, slowMs: 300, dropAfterAccept: 0.05 });
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 11 * HOUR).toISOString());
    await waitFor(
      'backlog shipped through faults',
      () => new Set(h.datadog.received.map((i) => i.id)).size >= 3_000,
      110_000,
    );
    await h.waitForState('caught_up', 'audit', 30_000);
    // Only a batch Datadog stored but whose answer was lost (the connection dropped after accepting it) may repeat,
    // once per such answer, and only its own records.
    const lostAnswers = h.datadog.requests.filter((r) => r.status === 'dropped' && r.fault === 'drop_after_accept');
    expectEveryEventOnce(h, { allowRepeats: lostAnswers.reduce((n, r) => n + r.itemCount, 0) });
    expect(h.kandji.requests.some((r) => r.fault)).toBe(true);
    expect(h.datadog.requests.some((r) => r.fault)).toBe(true);
  });

  it('ships late events (5% up to 30 s late) exactly once, through the overlap window', async () => {
    h = await Harness.start({ kandji: { backlog: backlog(200), seed: 17 }, env: { KANDJI_AUDIT_OVERLAP: '1m' } });
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 11 * HOUR).toISOString());
    await waitFor('backlog shipped', () => h.datadog.received.length >= 200, 30_000);
    h.kandji.audit.startLive({ perSecond: 20, lateFraction: 0.05, maxLateMs: 30_000 });
    await new Promise((r) => setTimeout(r, 10_000));
    h.kandji.audit.stopLive();
    const total = h.kandji.audit.size;
    await waitFor('every event shipped', () => new Set(h.datadog.received.map((i) => i.id)).size >= total, 30_000);
    await h.waitForState('caught_up', 'audit', 10_000);
    expect(expectEveryEventOnce(h)).toBe(0);
    const status = await h.status();
    expect(status.counts.late).toBeGreaterThan(0);
    expect(status.counts.shipped).toBe(total);
  });
});

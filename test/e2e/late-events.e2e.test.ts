/**
 * Late events, end to end: events that become visible in Kandji hours after later events were shipped (far past the
 * overlap window) are found by the late sweep and shipped exactly once, up to Datadog's 18-hour window; a burst too
 * large to list is sent whole (at least once); an operator's skip ahead is never undone by a sweep.
 * The sweep tiers are seconds here (KANDJI_AUDIT_LATE_SWEEPS) instead of hours; the hours themselves are real.
 */
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;
const MINUTE = 60_000;

const receivedIds = (h: Harness) => h.datadog.received.map((i) => String(i.id));

function expectEachOnce(h: Harness, except: ReadonlySet<string> = new Set()): void {
  const ids = receivedIds(h);
  // Which events arrived more than once, when they happened and where in the deliveries: what a failure must show.
  const seen = new Map<string, number[]>();
  ids.forEach((id, i) => seen.set(id, [...(seen.get(id) ?? []), i]));
  const repeated = [...seen]
    .filter(([, at]) => at.length > 1)
    .map(([id, at]) => ({
      id,
      occurred_at: h.kandji.audit.all().find((r) => r.id === id)?.occurred_at,
      deliveries: at,
    }));
  expect({ repeated, of: ids.length }).toEqual({ repeated: [], of: ids.length });
  const expected = new Set(
    h.kandji.audit
      .all()
      .map((r) => r.id)
      .filter((id) => !except.has(id)),
  );
  expect(new Set(ids)).toEqual(expected);
}

describe('late audit events', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it.each(['keyset', 'timestamp'] as const)(
    'ships events up to 17 hours late exactly once, across every sweep (next link: %s)',
    async (auditNext) => {
      const now = Date.now();
      h = await Harness.start({
        kandji: {
          backlog: { count: 1_500, from: new Date(now - 17.5 * HOUR), to: new Date(now - MINUTE), tieFraction: 0.2 },
          seed: 91,
          auditNext,
        },
        // Sweeps of every hour from seconds to two minutes after its first, whatever the load makes of the steps below.
        env: { KANDJI_AUDIT_PAGE_SIZE: '200', KANDJI_AUDIT_LATE_SWEEPS: '3s,6s,10s,15s,20s,30s,45s,60s,90s,120s' },
      });
      await h.startWorker();
      await h.startAudit(new Date(now - 18 * HOUR).toISOString());
      await waitFor('backlog shipped', () => h.datadog.received.length >= 1_500, 90_000);
      await h.waitForState('caught_up', 'audit', 30_000);

      // Late by 90 minutes, 3 hours, 9 hours and 16.5 hours: far before the overlap window (5 minutes), in hours the
      // polls have left whatever the time of day.
      const late = [90 * MINUTE, 3 * HOUR, 3 * HOUR + 1, 9 * HOUR, 16.5 * HOUR].flatMap((age) => [
        h.kandji.audit.appendLate(age),
        h.kandji.audit.appendLate(age + 500),
      ]);
      await waitFor(
        'late events shipped',
        () => receivedIds(h).filter((id) => late.some((e) => e.id === id)).length >= late.length,
        60_000,
      ).catch(async (err) => {
        const got = new Set(receivedIds(h));
        console.log(
          JSON.stringify(
            {
              missing: late.filter((e) => !got.has(e.id)).map((e) => e.occurred_at),
              now: new Date().toISOString(),
              status: await h.status(),
            },
            null,
            1,
          ),
        );
        throw err;
      });
      // More late events after the first sweep of their hour: the later tiers find them.
      const later = [2 * HOUR, 12 * HOUR].map((age) => h.kandji.audit.appendLate(age));
      await waitFor('later late events shipped', () => later.every((e) => receivedIds(h).includes(e.id)), 60_000);
      // Let more sweeps run over every hour: nothing is sent twice.
      await new Promise((r) => setTimeout(r, 12_000));
      expectEachOnce(h);
      const s = await h.status();
      expect(s.counts.lateFound).toBe(late.length + later.length);
      expect(s.counts.lateResent ?? 0).toBe(0);
      expect(s.lastLateSweep?.hour).toMatch(/^\d{4}-\d\d-\d\dT\d\d$/);
      // Across continue-as-new too (the test server's low threshold): sweeps run beside the polls, and one in flight
      // when a run continues as new is abandoned and done again by the next run, from the carried ledger.
      expect(s.generation).toBeGreaterThan(1);
    },
  );

  it('sends a whole hour again when a burst of late events is too large to list, and then sweeps it clean', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 600, from: new Date(now - 5 * HOUR), to: new Date(now - MINUTE) }, seed: 92 },
      env: { KANDJI_AUDIT_LATE_SWEEPS: '3s,6s,10s' },
    });
    await h.startWorker();
    await h.startAudit(new Date(now - 6 * HOUR).toISOString());
    await waitFor('backlog shipped', () => h.datadog.received.length >= 600, 60_000);
    await h.waitForState('caught_up', 'audit', 30_000);
    // 300 events of one hour become visible 3 hours late (an outage of Kandji's event pipeline, say).
    const hourStart = Math.floor((now - 3 * HOUR) / HOUR) * HOUR;
    const burst = Array.from({ length: 300 }, (_, i) =>
      h.kandji.audit.appendLate(Date.now() - (hourStart + 1_000 + i * 10_000)),
    );
    await waitFor('the burst shipped', () => burst.every((e) => receivedIds(h).includes(e.id)), 60_000);
    await new Promise((r) => setTimeout(r, 11_000));
    const s = await h.status();
    expect(s.counts.lateResent).toBeGreaterThanOrEqual(300);
    // Every event arrived; the only repeats are the other events of that hour, sent once more (and only once).
    const ids = receivedIds(h);
    expect(new Set(ids)).toEqual(new Set(h.kandji.audit.all().map((r) => r.id)));
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    const hourOf = new Map(
      h.kandji.audit.all().map((r) => [r.id, Math.floor(Date.parse(r.occurred_at) / HOUR) * HOUR]),
    );
    for (const [id, n] of counts) {
      expect(n).toBeLessThanOrEqual(hourOf.get(id) === hourStart ? 2 : 1);
      if (n === 2) expect(burst.some((e) => e.id === id)).toBe(false);
    }
  });

  it('never ships a late event from before where the stream started', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 300, from: new Date(now - 4 * HOUR), to: new Date(now - MINUTE) }, seed: 93 },
      env: { KANDJI_AUDIT_LATE_SWEEPS: '2s,4s,8s' },
    });
    await h.startWorker();
    // Start 2 hours back: the 100-odd events before that are never shipped, late sweep or not.
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await h.waitForState('caught_up', 'audit', 60_000);
    const lateBeforeStart = h.kandji.audit.appendLate(3 * HOUR);
    const lateAfter = h.kandji.audit.appendLate(90 * MINUTE);
    await waitFor('the late event after the start shipped', () => receivedIds(h).includes(lateAfter.id), 60_000);
    await new Promise((r) => setTimeout(r, 5_000));
    const before = new Set(
      h.kandji.audit
        .all()
        .filter((r) => Date.parse(r.occurred_at) < now - 2 * HOUR)
        .map((r) => r.id),
    );
    expect(before.has(lateBeforeStart.id)).toBe(true);
    expectEachOnce(h, before);
  });
});

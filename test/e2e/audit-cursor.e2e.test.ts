/**
 * The audit cursor against the simulator, end to end: ties across page boundaries whatever Kandji's `next` link is
 * (keyset or a bare timestamp), an event dated in the future, and records the API should never return.
 */
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;

function expectEachOnce(h: Harness): void {
  const ids = h.datadog.received.map((i) => String(i.id));
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids)).toEqual(new Set(h.kandji.audit.all().map((r) => r.id)));
}

describe('the audit cursor, end to end', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it.each(['keyset', 'timestamp'] as const)(
    'ships 2,500 events with 30%% ties across 100-event pages exactly once (next link: %s)',
    async (auditNext) => {
      const now = Date.now();
      h = await Harness.start({
        kandji: {
          backlog: { count: 2_500, from: new Date(now - 5 * HOUR), to: new Date(now - 60_000), tieFraction: 0.3 },
          seed: 81,
          auditNext,
        },
        env: { KANDJI_AUDIT_PAGE_SIZE: '100' },
      });
      await h.startWorker();
      await h.startAudit(new Date(now - 6 * HOUR).toISOString());
      await waitFor('every event shipped', () => h.datadog.received.length >= 2_500, 90_000);
      await h.waitForState('caught_up', 'audit', 30_000);
      expectEachOnce(h);
    },
  );

  it('ships an event dated 2030 and every later event; the cursor stays near now', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 50, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 82 },
    });
    const [template] = h.kandji.audit.all();
    h.kandji.audit.append([{ ...template!, id: 'device-clock-2030', occurred_at: '2030-01-01T00:00:00.000000Z' }]);
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    // Datadog accepts (202) and then drops a log dated more than 2 h ahead: it is counted among the stale ones.
    const accepted = () => [...h.datadog.received, ...h.datadog.droppedAsStale.map((d) => d.item)];
    await waitFor('backlog and the future event shipped', () => accepted().length >= 51, 30_000);
    h.kandji.audit.startLive({ perSecond: 10 });
    await new Promise((r) => setTimeout(r, 3_000));
    h.kandji.audit.stopLive();
    await waitFor('live events shipped', () => accepted().length >= h.kandji.audit.size, 30_000);
    const s = await h.waitForState('caught_up', 'audit', 30_000);
    const ids = accepted().map((i) => String(i.id));
    expect(new Set(ids)).toEqual(new Set(h.kandji.audit.all().map((r) => r.id)));
    expect(ids).toHaveLength(h.kandji.audit.size);
    expect(s.counts.future).toBeGreaterThanOrEqual(1);
    expect(Date.parse(s.cursor.since)).toBeLessThan(Date.now() + 15 * 60_000);
  });

  it('dead-letters records without an id or a readable occurred_at and ships the rest of the page', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 300, from: new Date(now - HOUR), to: new Date(now - 60_000) }, seed: 83 },
    });
    h.kandji.brokenAuditRecords = [
      { action: 'device_enrolled', occurred_at: new Date(now - 30 * 60_000).toISOString() },
      { id: 'bad-time', action: 'x', occurred_at: 'yesterday' },
    ];
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR).toISOString());
    await waitFor('every good event shipped', () => h.datadog.received.length >= 300, 30_000);
    const s = await h.waitForState('caught_up', 'audit', 30_000);
    expectEachOnce(h);
    expect(s.counts.deadLettered).toBeGreaterThanOrEqual(2);
    expect(s.lastDeadLetter?.reason).toMatch(/unreadable/);
    expect(s.lastError).toBeNull();
  });
});

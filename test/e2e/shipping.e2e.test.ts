/**
 * Datadog shipping through the real workflow: 413 splits, 400 bisects to a dead letter, a systemic refusal (400 to
 * everything, a 404) blocks the stream and loses nothing, oversized records (compressible or not) are trimmed, the
 * 18-hour policies, and a Datadog outage that loses nothing and costs no extra Kandji request.
 */
import { randomBytes } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { ORIGINAL_TIME_ATTRIBUTE } from '../../src/datadog/stale-events';
import { TRIMMED_ATTRIBUTE } from '../../src/datadog/trim-oversized';
import { setPaused } from '../../src/streams/stream-control';
import { Harness, stripEnvelope } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;
const { EventType } = temporal.api.enums.v1;
const recent = (count: number) => ({ count, from: new Date(Date.now() - 2 * HOUR), to: new Date(Date.now() - 60_000) });
const ids = (items: readonly Record<string, unknown>[]) => items.map((i) => String(i.id));

const caughtUp = (h: Harness) => h.waitForState('caught_up', 'audit', 60_000);

describe('shipping to Datadog', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('splits batches Datadog answers 413 to, and ships every event once', async () => {
    h = await Harness.start({ kandji: { backlog: recent(1_000), seed: 21 } });
    h.datadog.setMaxPayloadBytes(60_000); // a 500-event page is several times that
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3 * HOUR).toISOString());
    const status = await caughtUp(h);
    expect(h.datadog.requests.some((r) => r.status === 413)).toBe(true);
    expect(ids(h.datadog.received).sort()).toEqual(ids(h.kandji.audit.all()).sort());
    expect(status.counts.shipped).toBe(1_000);
    expect(status.counts.deadLettered).toBe(0);
  });

  it('bisects a 400 down to the poison record, dead-letters it, ships the rest and moves on', async () => {
    h = await Harness.start({ kandji: { backlog: recent(1_000), seed: 22 } });
    const poison = h.kandji.audit.all()[437]!;
    h.datadog.setPoison((item) => item.id === poison.id);
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3 * HOUR).toISOString());
    const status = await caughtUp(h);
    const expected = ids(h.kandji.audit.all()).filter((id) => id !== poison.id);
    expect(ids(h.datadog.received).sort()).toEqual(expected.sort());
    expect(status.counts.deadLettered).toBe(1);
    expect(status.lastDeadLetter?.identity).toBe(poison.id);
    expect(status.lastDeadLetter?.reason).toMatch(/400/);
    expect(status.counts.shipped).toBe(999);
    // Bisection costs about 2·log2(500) extra requests, not one per record.
    expect(h.datadog.requests.filter((r) => r.status === 400).length).toBeLessThanOrEqual(20);
  });

  it('two minutes of 400s to everything lose nothing: blocked with the answer, then every event ships once', async () => {
    h = await Harness.start({ kandji: { backlog: recent(2_000), seed: 28 } });
    h.datadog.setOutage(true, 400); // a proxy answering 400 to everything
    const started = Date.now();
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3 * HOUR).toISOString());
    const blocked = await h.waitForState('blocked', 'audit', 60_000);
    expect(blocked.lastError?.type).toBe('DatadogRefusedAllError');
    expect(blocked.lastError?.message).toMatch(/400/);
    await new Promise((r) => setTimeout(r, Math.max(0, 120_000 - (Date.now() - started))));
    const during = await h.status();
    expect(during.counts.deadLettered).toBe(0);
    expect(during.counts.shipped).toBe(0);
    expect(h.datadog.received).toHaveLength(0);
    h.datadog.setOutage(false);
    // The stream re-checks (KANDJI_AUTH_RECHECK_INTERVAL) and ships.
    await waitFor('all shipped after the refusals', () => h.datadog.received.length >= 2_000, 180_000).catch(
      async (e: Error) => {
        const s = await h.status();
        const history = (await h.auditHandle().fetchHistory()).events ?? [];
        const tail = history.slice(-12).map((ev) => String(ev.eventType));
        throw new Error(
          `${e.message} (received ${h.datadog.received.length}, requests ${h.datadog.requests.length}, state ${s.state}, ` +
            `generation ${s.generation}, last error ${JSON.stringify(s.lastError)}, cursor ${JSON.stringify(s.cursor)}, history tail ${tail.join(' ')})`,
        );
      },
    );
    const status = await caughtUp(h);
    expect(ids(h.datadog.received).sort()).toEqual(ids(h.kandji.audit.all()).sort());
    expect(status.counts.deadLettered).toBe(0);
    expect(status.counts.shipped).toBe(2_000);
  }, 420_000);

  it('a 404 on the intake (wrong DD_LOGS_URL path) blocks at once, unbisected; the operator resumes once it is fixed', async () => {
    h = await Harness.start({
      kandji: { backlog: recent(600), seed: 29 },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '1h' },
    });
    h.datadog.setOutage(true, 404);
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3 * HOUR).toISOString());
    const blocked = await h.waitForState('blocked', 'audit', 60_000).catch(async (e: Error) => {
      const s = await h.status();
      throw new Error(
        `${e.message} (state ${s.state}, last error ${JSON.stringify(s.lastError)}, Datadog requests ${h.datadog.requests.length})`,
      );
    });
    expect(blocked.lastError?.type).toBe('DatadogRefusedAllError');
    expect(blocked.lastError?.message).toMatch(/404/);
    expect(h.datadog.requests).toHaveLength(1); // never bisected, never retried by Temporal
    h.datadog.setOutage(false);
    await setPaused(h.client, h.tenant, ['audit'], false); // "resume": try now
    const status = await caughtUp(h);
    expect(ids(h.datadog.received).sort()).toEqual(ids(h.kandji.audit.all()).sort());
    expect(status.counts.deadLettered).toBe(0);
  });

  it('stays blocked by a 404 when the page read ahead arrives after the refusal', async () => {
    // More than one Datadog batch (a read takes up to 1,000 events), so that the stream reads ahead.
    h = await Harness.start({
      kandji: { backlog: recent(1_600), seed: 31 },
      env: { KANDJI_AUTH_RECHECK_INTERVAL: '1h' },
    });
    h.datadog.setOutage(true, 404);
    // Kandji answers late, so the read of page 2 (started as page 1 ships) ends well after Datadog refused page 1.
    h.kandji.setFaults({ rate: 1, kinds: ['slow'], slowMs: 2_000 });
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3 * HOUR).toISOString());
    await h.waitForState('blocked', 'audit', 60_000);
    const history = await waitFor(
      'the page read ahead, handled by the workflow',
      async () => {
        const events = (await h.auditHandle().fetchHistory()).events ?? [];
        const completed = events
          .map((e, i) => (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED ? i : -1))
          .filter((i) => i >= 0);
        const handled =
          completed.length >= 2 &&
          events.slice(completed[1]! + 1).some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
        return handled ? { events, readAhead: completed[1]! } : undefined;
      },
      60_000,
    );
    const refused = history.events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED);
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(history.readAhead); // the order this test is about
    const status = await h.status();
    expect(status.state).toBe('blocked');
    expect(status.lastError?.type).toBe('DatadogRefusedAllError');
    expect(status.lastError?.message).toMatch(/404/);
    expect(h.datadog.requests).toHaveLength(1);
  });

  it('trims a record over 1 MB instead of letting Datadog truncate it', async () => {
    h = await Harness.start({ kandji: { backlog: recent(50), seed: 23 } });
    const [template] = h.kandji.audit.all().filter((r) => r.target_type === 'file_detection');
    const base = template ?? h.kandji.audit.all()[0]!;
    const huge = {
      ...base,
      id: '01ZZZZZZZZZZZZZZZZZZZZZZZZ',
      new_state: { ...(base.new_state as object), process: { command_line: 'x'.repeat(1_500_000), name: 'big' } },
    };
    h.kandji.audit.append([huge]);
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3 * HOUR).toISOString());
    const status = await caughtUp(h);
    expect(status.counts.trimmed).toBe(1);
    const shipped = h.datadog.received.find((i) => i.id === huge.id)!;
    expect(shipped).toBeDefined();
    expect(Buffer.byteLength(JSON.stringify(shipped))).toBeLessThan(1_000_000);
    expect(h.datadog.truncated).toHaveLength(0);
    const report = shipped[TRIMMED_ATTRIBUTE] as { original_bytes: number; fields: { path: string }[] };
    expect(report.original_bytes).toBeGreaterThan(1_500_000);
    expect(report.fields.map((f) => f.path)).toEqual(['new_state.process.command_line']);
    // Everything the pipeline and facets read is intact.
    const { [TRIMMED_ATTRIBUTE]: _t, new_state: ns, ...rest } = stripEnvelope(shipped);
    const { new_state: originalState, ...originalRest } = huge;
    expect(rest).toEqual(originalRest);
    expect((ns as any).process.name).toBe('big');
    expect((ns as any).file).toEqual((originalState as any).file);
    expect(status.counts.shipped).toBe(51);
  });

  it('trims records of 1 to 3 MB of incompressible content (random bytes, base64) to fit, once each', async () => {
    h = await Harness.start({ kandji: { backlog: recent(20), seed: 30 } });
    const base = h.kandji.audit.all()[0]!;
    const sizes = [1_100_000, 2_000_000, 3_000_000];
    const huge = sizes.map((bytes, i) => ({
      ...base,
      id: `01ZZZZZZZZZZZZZZZZZZZZZZZ${i}`,
      new_state: {
        ...(base.new_state as object),
        blob: randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64'),
        name: `big-${i}`,
      },
    }));
    h.kandji.audit.append(huge);
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3 * HOUR).toISOString());
    const status = await caughtUp(h);
    expect(status.counts.trimmed).toBe(3);
    expect(status.counts.shipped).toBe(23);
    expect(h.datadog.truncated).toHaveLength(0);
    expect(ids(h.datadog.received).sort()).toEqual(ids(h.kandji.audit.all()).sort());
    for (const [i, original] of huge.entries()) {
      const shipped = h.datadog.received.find((item) => item.id === original.id)!;
      expect(Buffer.byteLength(JSON.stringify(shipped))).toBeLessThan(1_000_000);
      const report = shipped[TRIMMED_ATTRIBUTE] as { original_bytes: number; fields: { path: string }[] };
      expect(report.original_bytes).toBeGreaterThan(sizes[i]!);
      expect(report.fields.map((f) => f.path)).toEqual(['new_state.blob']);
      const { [TRIMMED_ATTRIBUTE]: _t, new_state: ns, ...rest } = stripEnvelope(shipped);
      const { new_state: originalState, ...originalRest } = original;
      expect(rest).toEqual(originalRest);
      expect((ns as { name: string }).name).toBe(`big-${i}`);
      expect(
        (originalState as { blob: string }).blob.startsWith(String((ns as { blob: string }).blob).slice(0, 1_000)),
      ).toBe(true);
    }
  });

  describe('events older than 18 hours', () => {
    const old = () => ({ count: 40, from: new Date(Date.now() - 20 * HOUR), to: new Date(Date.now() - 19 * HOUR) });
    const start = () => new Date(Date.now() - 21 * HOUR).toISOString();

    it("ship (audit's default): sends them as they are; Datadog drops them; they are counted", async () => {
      h = await Harness.start({ kandji: { backlog: old(), seed: 24 } });
      await h.startWorker();
      await h.startAudit(start());
      const status = await caughtUp(h);
      expect(status.counts.stale).toBe(40);
      expect(status.counts.shipped).toBe(40);
      expect(h.datadog.droppedAsStale).toHaveLength(40);
      expect(h.datadog.received).toHaveLength(0);
    });

    it('restamp: Datadog keeps them, with the original time in an attribute', async () => {
      h = await Harness.start({ kandji: { backlog: old(), seed: 25 }, env: { DD_STALE_EVENTS: 'restamp' } });
      await h.startWorker();
      await h.startAudit(start());
      const status = await caughtUp(h);
      expect(status.counts.stale).toBe(40);
      expect(h.datadog.droppedAsStale).toHaveLength(0);
      expect(h.datadog.received).toHaveLength(40);
      const byId = new Map(h.kandji.audit.all().map((r) => [r.id, r]));
      for (const item of h.datadog.received) {
        const original = byId.get(String(item.id))!;
        expect(item[ORIGINAL_TIME_ATTRIBUTE]).toEqual({ field: 'occurred_at', value: original.occurred_at });
        expect(Date.now() - Date.parse(String(item.occurred_at))).toBeLessThan(5 * 60_000);
        const { [ORIGINAL_TIME_ATTRIBUTE]: _o, occurred_at: _t, ...rest } = stripEnvelope(item);
        const { occurred_at: _ot, ...originalRest } = original;
        expect(rest).toEqual(originalRest);
      }
    });

    it('drop: counts them and sends nothing', async () => {
      h = await Harness.start({ kandji: { backlog: old(), seed: 26 }, env: { DD_STALE_EVENTS: 'drop' } });
      await h.startWorker();
      await h.startAudit(start());
      const status = await caughtUp(h);
      expect(status.counts.stale).toBe(40);
      expect(status.counts.shipped).toBe(0);
      expect(h.datadog.requests.filter((r) => r.itemCount > 0)).toHaveLength(0);
      expect(status.cursor.since).toBe(h.kandji.audit.all().at(-1)!.occurred_at);
    });
  });

  it('rides out a 2-minute Datadog outage: nothing lost, no extra Kandji request', async () => {
    h = await Harness.start({ kandji: { backlog: recent(300), seed: 27 }, env: { KANDJI_POLL_INTERVAL: '2s' } });
    h.datadog.setOutage(true);
    await h.startWorker();
    await h.startAudit(new Date(Date.now() - 3 * HOUR).toISOString());
    await waitFor('first failed ship', () => h.datadog.requests.length > 0, 30_000);
    h.kandji.audit.startLive({ perSecond: 2 });
    const kandjiBefore = h.kandji.requestCount();
    await new Promise((r) => setTimeout(r, 120_000));
    // The page fetched before the outage waits in the workflow: Kandji is not asked again meanwhile.
    expect(h.kandji.requestCount()).toBe(kandjiBefore);
    expect(h.datadog.requests.length).toBeGreaterThan(3);
    h.datadog.setOutage(false);
    await waitFor('backlog shipped after the outage', () => h.datadog.received.length >= 300, 180_000);
    h.kandji.audit.stopLive();
    const total = h.kandji.audit.size;
    await waitFor('live events shipped', () => h.datadog.received.length >= total, 60_000);
    expect(ids(h.datadog.received).sort()).toEqual(ids(h.kandji.audit.all()).sort());
  }, 420_000);
});

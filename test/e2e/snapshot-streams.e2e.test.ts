/**
 * Detections and threats end to end: each row shipped once per appearance (detections), once per status
 * (threats), unchanged, with live changes while sweeps run.
 */
import { recordIdentity } from '../../src/streams/record-identity';
import { Harness, stripEnvelope } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

/**
 * Everything Datadog accepted (202), including logs its 18-hour rule then drops: detections carry their first
 * detection time, usually days old, so with DD_STALE_EVENTS_DETECTIONS=ship most land in droppedAsStale.
 */
const accepted = (h: Harness) => [...h.datadog.received, ...h.datadog.droppedAsStale.map((d) => d.item)];
const count = <T>(xs: readonly T[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());

describe('detections stream', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('ships each detection once per appearance, unchanged, with churn during the sweeps', async () => {
    h = await Harness.start({
      kandji: { detections: { count: 1_500, fieldSet: 'mixed' }, seed: 51 },
      env: { DD_STALE_EVENTS_DETECTIONS: 'ship' },
    }); // unchanged: not restamped
    const appearances = count(h.kandji.detections.all().map((r) => recordIdentity('detections', r)));
    await h.startWorker();
    await h.startSnapshot('detections');
    const first = await h.sweeps('detections', 1);
    expect(first.counts.shipped).toBe(1_500);

    // Rows appear, disappear and come back while sweeps run.
    for (let round = 0; round < 12; round++) {
      const { added } = h.kandji.detections.randomChurn({ add: 15, remove: 10 });
      for (const r of added) {
        const id = recordIdentity('detections', r);
        appearances.set(id, (appearances.get(id) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 400));
    }
    const after = await h.sweepsDone('detections');
    await h.sweeps('detections', after + 2);

    const items = accepted(h).filter((i) => i.service === 'detection');
    const shipped = count(items.map((i) => recordIdentity('detections', i)));
    // Every row present now was shipped; no row was shipped more often than it appeared.
    for (const row of h.kandji.detections.all())
      expect(shipped.get(recordIdentity('detections', row))).toBeGreaterThanOrEqual(1);
    for (const [id, n] of shipped) expect(n).toBeLessThanOrEqual(appearances.get(id) ?? 0);
    // Rows came back and were shipped again.
    expect([...shipped.values()].some((n) => n > 1)).toBe(true);
    // Unchanged: a shipped item deep-equals the simulator's row (checked for rows present all along; a row that
    // came back may carry new detection dates).
    const current = new Map(h.kandji.detections.all().map((r) => [recordIdentity('detections', r), r]));
    let compared = 0;
    for (const item of items) {
      const id = recordIdentity('detections', item);
      const row = current.get(id);
      expect(item.ddsource).toBe('kandji');
      if (row && appearances.get(id) === 1) {
        expect(stripEnvelope(item)).toEqual(row);
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(1_000);
    const status = await h.status('detections');
    expect(status.counts.gone).toBeGreaterThan(0);
    expect((status.cursor as { known: number }).known).toBe(h.kandji.detections.size);
  });

  it('reads next as a URL as well as a raw cursor', async () => {
    h = await Harness.start({ kandji: { detections: { count: 700 }, detectionsNextAsUrl: true, seed: 52 } });
    await h.startWorker();
    await h.startSnapshot('detections');
    const s = await h.sweeps('detections', 2);
    expect(s.counts.shipped).toBe(700);
    expect(new Set(accepted(h).map((i) => recordIdentity('detections', i))).size).toBe(700);
    // Pages of 300, sent as both size and limit; never cursor=.
    const reqs = h.kandji.requests.filter((r) => r.path.endsWith('/detections'));
    expect(reqs.every((r) => r.query.size === '300' && r.query.limit === '300' && r.query.cursor === undefined)).toBe(
      true,
    );
  });
});

describe('threats stream', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('ships a threat when it first appears and again when its status changes, never otherwise', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: {
        threats: { count: 2_300, from: new Date(now - 30 * 86_400_000), to: new Date(now - 60_000) },
        seed: 53,
      },
      env: { KANDJI_STREAMS: 'audit,detections,threats' },
    });
    await h.startWorker();
    await h.startSnapshot('threats');
    const first = await h.sweeps('threats', 1);
    expect(first.counts.shipped).toBe(2_300);

    const changed: string[] = [];
    for (let round = 0; round < 6; round++) {
      h.kandji.threats.add(7); // new detections land while offsets are being paged
      const victim = h.kandji.threats
        .all()
        .find((t) => t.status === 'QUARANTINED' && !changed.includes(recordIdentity('threats', t)));
      if (victim) {
        h.kandji.threats.changeStatus(recordIdentity('threats', victim), 'RELEASED');
        changed.push(recordIdentity('threats', victim));
      }
      await new Promise((r) => setTimeout(r, 400));
    }
    const after = await h.sweepsDone('threats');
    await h.sweeps('threats', after + 2);

    const items = accepted(h).filter((i) => i.service === 'threat');
    const byId = count(items.map((i) => recordIdentity('threats', i)));
    const all = h.kandji.threats.all();
    expect(byId.size).toBe(all.length);
    for (const t of all) {
      const id = recordIdentity('threats', t);
      expect(byId.get(id)).toBe(changed.includes(id) ? 2 : 1);
    }
    // The latest version shipped is the current record, unchanged (naive timestamps and all).
    const latest = new Map(items.map((i) => [recordIdentity('threats', i), i]));
    for (const t of all) expect(stripEnvelope(latest.get(recordIdentity('threats', t))!)).toEqual(t);
    expect(changed.length).toBeGreaterThan(0);
  });
});

describe('an unlicensed stream', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('goes unavailable on 404 while audit continues', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: {
        features: { detections: false },
        backlog: { count: 100, from: new Date(now - 3_600_000), to: new Date(now - 60_000) },
        seed: 54,
      },
    });
    await h.startWorker();
    await h.startSnapshot('detections');
    await h.startAudit(new Date(now - 2 * 3_600_000).toISOString());
    const s = await h.waitForState('unavailable', 'detections', 30_000);
    expect(s.lastError?.type).toBe('KandjiNotFoundError');
    await waitFor('audit shipped', () => h.datadog.received.filter((i) => i.service === 'audit').length >= 100, 30_000);
  });
});

/**
 * The tenant's Kandji request budget: every stream, every worker, across restarts, stays under
 * KANDJI_REQUESTS_PER_HOUR over a sliding hour (the simulator counts), spends it at once when there is a backlog,
 * and 429s are waited out without failing the activity.
 */
import {
  CLAIM_GRACE_MS,
  HOUR_MS,
  nextGrantTimes,
  pruneBudget,
  serveReservation,
  type BudgetClaim,
} from '../../workflows/request-budget';
import { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

describe('nextGrantTimes', () => {
  it('grants at once while the hour has room, then one hour after the grant it replaces', () => {
    expect(nextGrantTimes([], 1_000, 3, 3)).toEqual([1_000, 1_000, 1_000]);
    expect(nextGrantTimes([1_000, 2_000, 3_000], 4_000, 3, 2)).toEqual([1_000 + HOUR_MS, 2_000 + HOUR_MS]);
    // Never earlier than a grant already scheduled, so the order of waiting requests is kept.
    expect(nextGrantTimes([0, 5_000 + HOUR_MS], 6_000, 1, 1)).toEqual([5_000 + 2 * HOUR_MS]);
  });

  it('keeps every sliding hour at or under the budget', () => {
    let grants: number[] = [];
    let now = 0;
    for (let i = 0; i < 500; i++) {
      now += Math.floor(((i * 7919) % 97) * 1_000);
      grants = [
        ...grants,
        ...nextGrantTimes(
          grants.filter((g) => g > now - HOUR_MS),
          now,
          40,
          1 + (i % 3),
        ),
      ].sort((a, b) => a - b);
    }
    for (const g of grants) expect(grants.filter((x) => x > g - HOUR_MS && x <= g).length).toBeLessThanOrEqual(40);
  });
});

describe('serveReservation', () => {
  const full = (now: number, perHour: number) =>
    Array.from({ length: perHour }, (_, i) => now - HOUR_MS + 60_000 * (i + 1));

  it("books only what is due within the caller's wait; further off, a claim keeps its place until it comes back", () => {
    const now = 10 * HOUR_MS;
    const grants = full(now, 3); // slots come free at +1, +2 and +3 minutes
    const claims: BudgetClaim[] = [];
    expect(serveReservation(grants, claims, { count: 1, perHour: 3, maxWaitMs: 30_000, owner: 'a' }, now)).toEqual({
      waitMs: 60_000,
      waitsMs: [],
      retryAfterMs: 60_000,
    });
    expect(grants).toHaveLength(3); // nothing booked
    expect(claims).toEqual([{ owner: 'a', at: now + 60_000, priority: 'live' }]);
    // Another live caller queues behind the claim, and books what fits its own wait.
    expect(
      serveReservation(grants, claims, { count: 2, perHour: 3, maxWaitMs: 130_000, owner: 'b' }, now).waitsMs,
    ).toEqual([120_000]);
    // The owner comes back at its time and gets its slot.
    const back = now + 60_000;
    pruneBudget(grants, claims, back);
    expect(
      serveReservation(grants, claims, { count: 1, perHour: 3, maxWaitMs: 30_000, owner: 'a' }, back).waitsMs,
    ).toEqual([0]);
    expect(claims).toEqual([]);
  });

  it('drops the claim of an owner that never comes back', () => {
    const now = 10 * HOUR_MS;
    const grants = full(now, 2);
    const claims: BudgetClaim[] = [];
    serveReservation(grants, claims, { count: 1, perHour: 2, maxWaitMs: 0, owner: 'dead' }, now);
    pruneBudget(grants, claims, now + 60_000 + CLAIM_GRACE_MS);
    expect(claims).toEqual([]);
    // Its slot is anyone's again.
    expect(
      serveReservation(
        grants,
        claims,
        { count: 1, perHour: 2, maxWaitMs: 0, owner: 'other' },
        now + 60_000 + CLAIM_GRACE_MS,
      ).waitsMs,
    ).toEqual([0]);
  });

  it('serves the live tail before backfills when the hour is short', () => {
    const now = 10 * HOUR_MS;
    const grants = full(now, 3);
    const claims: BudgetClaim[] = [];
    serveReservation(grants, claims, { count: 1, perHour: 3, maxWaitMs: 0, owner: 'bf', priority: 'backfill' }, now);
    // Live ignores the backfill's claim: it gets the first slot.
    expect(
      serveReservation(grants, claims, { count: 1, perHour: 3, maxWaitMs: 0, owner: 'live' }, now).retryAfterMs,
    ).toBe(60_000);
    // A backfill queues behind every claim.
    expect(
      serveReservation(grants, claims, { count: 1, perHour: 3, maxWaitMs: 0, owner: 'bf2', priority: 'backfill' }, now)
        .retryAfterMs,
    ).toBeGreaterThan(60_000);
    // The first backfill comes back for its slot: the live tail has it, so it is placed after the live tail's claim.
    expect(
      serveReservation(
        grants,
        claims,
        { count: 1, perHour: 3, maxWaitMs: 0, owner: 'bf', priority: 'backfill' },
        now + 60_000,
      ).retryAfterMs,
    ).toBeGreaterThan(0);
  });

  it('keeps every sliding hour at or under the budget, whatever the mix of callers, waits and releases', () => {
    const grants: number[] = [];
    const claims: BudgetClaim[] = [];
    const all: number[] = [];
    let now = 0;
    for (let i = 0; i < 2_000; i++) {
      now += ((i * 7919) % 97) * 700;
      pruneBudget(grants, claims, now);
      const r = serveReservation(
        grants,
        claims,
        {
          count: 1 + (i % 5),
          perHour: 40,
          maxWaitMs: (i % 7) * 20_000,
          owner: `o${i % 11}`,
          priority: i % 3 === 0 ? 'backfill' : 'live',
        },
        now,
      );
      all.push(...(r.times ?? []));
      for (let j = 1; j < grants.length; j++) expect(grants[j]!).toBeGreaterThanOrEqual(grants[j - 1]!);
    }
    all.sort((a, b) => a - b);
    for (const g of all) expect(all.filter((x) => x > g - HOUR_MS && x <= g).length).toBeLessThanOrEqual(40);
    expect(all.length).toBeGreaterThan(40 * 10);
  });
});

describe('request budget, end to end', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('holds every stream and worker of a tenant to the budget, across a restart, at full speed until spent', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: {
        backlog: { count: 3_000, from: new Date(now - 5 * HOUR_MS), to: new Date(now - 60_000) },
        detections: { count: 900 },
        seed: 61,
      },
      env: { KANDJI_REQUESTS_PER_HOUR: '25', KANDJI_AUDIT_PAGE_SIZE: '10' },
    });
    const first = await h.startWorker();
    await h.startAudit(new Date(now - 6 * HOUR_MS).toISOString());
    await h.startSnapshot('detections');
    // The budget is spent at once: a backlog does not trickle.
    await waitFor('budget spent', () => h.kandji.requestCount() >= 20, 45_000);
    await h.killWorker(first);
    // Two workers now: one in this process, one in its own (as `npm run worker`).
    await h.startWorker();
    await h.spawnWorkerProcess();
    await new Promise((r) => setTimeout(r, 8_000));
    const requests = h.kandji.requestCount();
    expect(requests).toBeLessThanOrEqual(25);
    expect(requests).toBeGreaterThanOrEqual(20);
    // Both streams drew on the one budget.
    expect(h.kandji.requestCount((r) => r.path.endsWith('/audit/events'))).toBeGreaterThan(0);
    expect(h.kandji.requestCount((r) => r.path.endsWith('/detections'))).toBeGreaterThan(0);
  });

  it('waits out 429s from Kandji without failing the activity', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 1_000, from: new Date(now - HOUR_MS), to: new Date(now - 60_000) }, seed: 62 },
    });
    h.kandji.setFaults({ rate: 1, kinds: ['rate_limited'], retryAfterSeconds: 1 });
    await h.startWorker();
    await h.startAudit(new Date(now - 2 * HOUR_MS).toISOString());
    await waitFor('429s answered', () => h.kandji.requestCount((r) => r.status === 429) >= 3, 20_000);
    h.kandji.setFaults({ rate: 0 });
    await waitFor('shipped', () => h.datadog.received.length >= 1_000, 30_000);
    const status = await h.status();
    expect(status.lastError).toBeNull();
  });
});

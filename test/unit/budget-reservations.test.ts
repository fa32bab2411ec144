/**
 * The client side of the request budget, against a fake budget workflow (the real one's pure serveReservation behind
 * a stand-in handle): what each Kandji request costs in Temporal messages, every one of them a billed action.
 */
import type { Client } from '@temporalio/client';
import {
  LEASE_MS,
  MAX_HELD_SLOTS,
  MAX_LEASE_SLOTS,
  SPARE_SLOTS,
  TemporalRequestBudget,
} from '../../src/kandji/budget-reservations';
import {
  budgetRemaining,
  pruneBudget,
  serveReservation,
  type BudgetClaim,
  type ReserveRequest,
} from '../../workflows/request-budget';

function fakeBudget() {
  const grants: number[] = [];
  const claims: BudgetClaim[] = [];
  const calls = { updates: 0, signals: 0, released: 0, booked: 0, largest: 0 };
  /** Slots the budget counts and the worker has not sent, after `sent` requests. */
  const held = (sent: number) => calls.booked - calls.released - sent;
  const handle = {
    executeUpdate: async (_update: unknown, { args: [req] }: { args: [ReserveRequest] }) => {
      calls.updates += 1;
      calls.largest = Math.max(calls.largest, req.count);
      pruneBudget(grants, claims, Date.now());
      const reservation = serveReservation(grants, claims, req, Date.now());
      calls.booked += reservation.times?.length ?? 0;
      // As the budget workflow's update handler answers.
      return { ...reservation, remaining: budgetRemaining(grants, req.perHour, Date.now()) };
    },
    signal: async (_signal: unknown, req: { times: number[] }) => {
      calls.signals += 1;
      calls.released += req.times.length;
    },
  };
  const client = {
    workflow: { getHandle: () => handle },
    withAbortSignal: <T>(_s: AbortSignal, fn: () => Promise<T>) => fn(),
  } as unknown as Client;
  return { client, calls, held };
}

describe('request budget client', () => {
  let clock = Date.parse('2026-12-03T00:00:00Z');
  beforeEach(() => {
    clock = Date.parse('2026-12-03T00:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
  });
  afterEach(() => jest.restoreAllMocks());

  it('idle polls (one request a minute) lease their slots: a reservation and at most one release every LEASE_MS (30 minutes)', async () => {
    const { client, calls, held } = fakeBudget();
    const gate = new TemporalRequestBudget(() => client, 'acme', 5_000, 'q', { attempt: () => undefined });
    for (let poll = 0; poll < 120; poll++) {
      await gate.acquire();
      // The budget never counts more than one lease ahead of the requests sent.
      expect(held(poll + 1)).toBeLessThanOrEqual(MAX_LEASE_SLOTS);
      clock += 60_000 + (poll % 7) * 1_000; // not quite regular
    }
    const leases = Math.ceil((clock - Date.parse('2026-12-03T00:00:00Z')) / LEASE_MS);
    // Two hours: 120 requests. Before leases: 120 reservations (and, with spares, as many releases).
    expect(calls.updates).toBeLessThanOrEqual(leases + 6); // + the first minutes, while the lease grows
    expect(calls.signals).toBeLessThanOrEqual(leases);
  });

  it('a burst reserves slots ahead, more as it goes: a 51-request burst asks the budget a handful of times', async () => {
    const { client, calls, held } = fakeBudget();
    const gate = new TemporalRequestBudget(() => client, 'acme', 5_000, 'q', { attempt: () => undefined });
    for (let i = 0; i < 1 + SPARE_SLOTS * 10; i++) {
      await gate.acquire();
      expect(held(i + 1)).toBeLessThanOrEqual(MAX_HELD_SLOTS);
      clock += 100;
    }
    // The first request comes alone (its own slot, and the answer says the hour has room), then at least
    // SPARE_SLOTS at a time, as many as the burst has made so far: 5, 6, 12, 24, … (one reservation per SPARE_SLOTS
    // requests would be 11).
    expect(calls.updates).toBeGreaterThan(1);
    expect(calls.updates).toBeLessThanOrEqual(6);
    // What is left of the last reservation is given back once, when its lease ends.
    clock += LEASE_MS + 1;
    await gate.acquire();
    expect(calls.signals).toBeLessThanOrEqual(1);
  });

  it('a long burst never asks for more slots at once than the budget workflow takes (100)', async () => {
    const { client, calls } = fakeBudget();
    const gate = new TemporalRequestBudget(() => client, 'acme', 10_000, 'q', { attempt: () => undefined });
    for (let i = 0; i < 1_000; i++) {
      await gate.acquire();
      clock += 100;
    }
    expect(calls.largest).toBeGreaterThan(SPARE_SLOTS);
    expect(calls.largest).toBeLessThanOrEqual(100);
  });

  it('each answer tells the budget gauge what is left of the hour: the gauge needs no query of the budget workflow', async () => {
    const { client, calls } = fakeBudget();
    const told: number[] = [];
    const gate = new TemporalRequestBudget(() => client, 'acme', 5_000, 'q', {
      attempt: () => undefined,
      onRemaining: (remaining) => told.push(remaining),
    });
    for (let i = 0; i < 1 + SPARE_SLOTS * 3; i++) {
      await gate.acquire();
      clock += 100;
    }
    expect(told).toHaveLength(calls.updates);
    expect(told.at(-1)).toBe(5_000 - calls.booked);
  });
});

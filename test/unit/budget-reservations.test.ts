/**
 * The client side of the request budget, against a fake budget workflow (the real one's pure serveReservation behind
 * a stand-in handle): what each Kandji request costs in Temporal messages, every one of them a billed action.
 */
import type { Client } from '@temporalio/client';
import { SPARE_SLOTS, SPARE_TTL_MS, TemporalRequestBudget } from '../../src/kandji/budget-reservations';
import { pruneBudget, serveReservation, type BudgetClaim, type ReserveRequest } from '../../workflows/request-budget';

function fakeBudget() {
  const grants: number[] = [];
  const claims: BudgetClaim[] = [];
  const calls = { updates: 0, signals: 0, released: 0 };
  const handle = {
    executeUpdate: async (_update: unknown, { args: [req] }: { args: [ReserveRequest] }) => {
      calls.updates += 1;
      pruneBudget(grants, claims, Date.now());
      return serveReservation(grants, claims, req, Date.now());
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
  return { client, calls };
}

describe('request budget client', () => {
  let clock = Date.parse('2026-12-03T00:00:00Z');
  beforeEach(() => {
    clock = Date.parse('2026-12-03T00:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
  });
  afterEach(() => jest.restoreAllMocks());

  it('an idle poll (one request a minute) costs one reservation and gives nothing back', async () => {
    const { client, calls } = fakeBudget();
    const gate = new TemporalRequestBudget(() => client, 'acme', 5_000, 'q', { attempt: () => undefined });
    for (let poll = 0; poll < 60; poll++) {
      await gate.acquire();
      clock += 60_000;
    }
    await gate.acquire(); // a last one, after which any spares of the polls before would have been given back
    expect(calls.updates).toBe(61);
    expect(calls.signals).toBe(0);
  });

  it('a burst still reserves slots ahead: one reservation per SPARE_SLOTS requests', async () => {
    const { client, calls } = fakeBudget();
    const gate = new TemporalRequestBudget(() => client, 'acme', 5_000, 'q', { attempt: () => undefined });
    for (let i = 0; i < 1 + SPARE_SLOTS * 10; i++) {
      await gate.acquire();
      clock += 100;
    }
    // The first request comes alone (its own slot, and the answer says the hour has room), then SPARE_SLOTS at a time.
    expect(calls.updates).toBe(1 + 10);
    clock += SPARE_TTL_MS + 1;
    await gate.acquire();
    expect(calls.signals).toBe(0); // every spare was used
  });
});

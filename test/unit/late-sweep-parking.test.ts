import { LateSweepParking, PARK_FIRST_MS, PARK_MAX_MS } from '../../workflows/late-sweep-parking';

const T0 = Date.parse('2026-11-30T12:00:00Z');
const MINUTE = 60_000;

describe('late sweep parking', () => {
  it('parks a failing hour alone, 5 minutes after its first failure, doubling up to an hour; a sweep clears it', () => {
    const p = new LateSweepParking();
    expect(p.parkFailed('2026-11-30T03', 'DatadogRefusedAllError: refused', T0)).toEqual({
      hour: '2026-11-30T03',
      reason: 'DatadogRefusedAllError: refused',
      until: new Date(T0 + PARK_FIRST_MS).toISOString(),
      failures: 1,
    });
    expect(p.isParked('2026-11-30T03', T0 + PARK_FIRST_MS - 1)).toBe(true);
    expect(p.isParked('2026-11-30T04', T0)).toBe(false); // other hours go on
    expect(p.waitingForBudget(T0)).toBe(false);
    expect(p.isParked('2026-11-30T03', T0 + PARK_FIRST_MS)).toBe(false);

    const waits = [2, 3, 4, 5, 6].map(() => Date.parse(p.parkFailed('2026-11-30T03', 'again', T0).until) - T0);
    expect(waits).toEqual([10 * MINUTE, 20 * MINUTE, 40 * MINUTE, PARK_MAX_MS, PARK_MAX_MS]);

    p.swept('2026-11-30T03');
    expect(p.isParked('2026-11-30T03', T0)).toBe(false);
    expect(p.shown()).toEqual([]);
  });

  it('holds every sweep while the budget has no slot, until the slot it named; shows it first', () => {
    const p = new LateSweepParking();
    p.parkFailed('2026-11-30T01', 'x', T0);
    p.parkForBudget('2026-11-30T05', 7 * MINUTE, T0);
    expect(p.waitingForBudget(T0 + 7 * MINUTE - 1)).toBe(true);
    expect(p.waitingForBudget(T0 + 7 * MINUTE)).toBe(false);
    expect(p.shown().map((x) => [x.hour, x.failures])).toEqual([
      ['2026-11-30T05', undefined],
      ['2026-11-30T01', 1],
    ]);
    // Hours that left the ledger (past the horizon) are forgotten.
    p.keepOnly((hour) => hour !== '2026-11-30T01');
    expect(p.shown().map((x) => x.hour)).toEqual(['2026-11-30T05']);
  });
});

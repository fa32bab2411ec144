import {
  CELLS,
  DEFAULT_SWEEP_TIERS_MS,
  HOUR_MS,
  addKey,
  addToLedger,
  decodeCells,
  differenceOf,
  dueLateHours,
  emptyCells,
  encodeCells,
  idKey,
  ledgerDelta,
  markSwept,
  newLateLedger,
  pruneLedger,
  restartLateLedger,
  type Cells,
} from '../../workflows/shared/late-ledger';
import { millisToKey } from '../../workflows/shared/timestamps';

const tableOf = (ids: string[]): Cells => {
  const cells = emptyCells();
  for (const id of ids) addKey(cells, idKey(id));
  return cells;
};
const ids = (n: number, prefix = 'ev') =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}-01J${(i * 7919).toString(36).padStart(8, '0')}`);

describe('the late ledger', () => {
  it('lists exactly the late ids of an hour that held thousands', () => {
    const handled = ids(5_000);
    const late = ids(25, 'late');
    const diff = differenceOf(tableOf([...handled, ...late]), tableOf(handled));
    expect(diff.complete).toBe(true);
    expect(diff.removed).toEqual([]);
    expect(new Set(diff.added)).toEqual(new Set(late.map(idKey)));
  });

  it('lists nothing when every id read was handled, also when some were handled twice', () => {
    const handled = ids(800);
    const twice = tableOf([...handled, ...handled.slice(0, 3)]);
    const diff = differenceOf(tableOf(handled), twice);
    expect(diff.added).toEqual([]);
    expect(diff.complete).toBe(true);
    expect(diff.removed).toHaveLength(3);
  });

  it('says when a difference is too large to list, rather than listing a wrong one', () => {
    const handled = ids(1_000);
    const late = ids(400, 'burst');
    const diff = differenceOf(tableOf([...handled, ...late]), tableOf(handled));
    expect(diff.complete).toBe(false);
    const lateKeys = new Set(late.map(idKey));
    for (const key of diff.added) expect(lateKeys.has(key)).toBe(true);
  });

  it('survives its text form, which stays small whatever the hour held', () => {
    const cells = tableOf(ids(100_000));
    const text = encodeCells(cells);
    expect(decodeCells(text)).toEqual(cells);
    expect(text.length).toBeLessThan(1_500);
    expect(encodeCells(emptyCells())).toBe(','.repeat(CELLS - 1));
  });

  it('adds ship deltas by hour, only for hours a sweep can still reach, and never before where it starts', () => {
    const now = Date.parse('2026-11-30T12:30:00Z');
    const key = (iso: string) => millisToKey(Date.parse(iso));
    const ledger = newLateLedger({ since: key('2026-11-30T05:59:59Z'), digest: 'x' });
    expect(ledger.from).toBe('2026-11-30T05:59:59.000001Z');
    expect(newLateLedger({ since: ledger.from, from: ledger.from }).from).toBe(ledger.from);
    const events = [
      { id: 'a', key: key('2026-11-30T04:59:59Z') }, // before the ledger starts
      { id: 'b', key: key('2026-11-30T06:00:00Z') },
      { id: 'c', key: key('2026-11-30T11:15:00Z') },
      { id: 'd', key: key('2026-11-29T10:00:00Z') }, // beyond the horizon
      { id: 'e', key: key('2030-01-01T00:00:00Z') }, // in the future
    ];
    const delta = ledgerDelta(events, now);
    expect(Object.keys(delta)).toEqual(['2026-11-30T04', '2026-11-30T06', '2026-11-30T11']);
    // Events before the ledger's start (re-shipped after a rewind, say) are left out: no sweep reads them.
    expect(Object.keys(ledgerDelta(events, now, ledger.from))).toEqual(['2026-11-30T06', '2026-11-30T11']);
    const next = addToLedger(ledger, delta);
    expect(Object.keys(next.hours).sort()).toEqual(['2026-11-30T06', '2026-11-30T11']);
    expect(differenceOf(tableOf(['b']), decodeCells(next.hours['2026-11-30T06']!.cells))).toEqual({
      added: [],
      removed: [],
      complete: true,
    });
    // A page of many events of one hour reports a table; either form adds up to the same ledger.
    const many = ids(300).map((id) => ({ id, key: key('2026-11-30T07:30:00Z') }));
    const big = ledgerDelta(many, now);
    expect(big['2026-11-30T07']!.startsWith('k:')).toBe(false);
    const inOne = addToLedger(ledger, big);
    let inSmall = ledger;
    for (let i = 0; i < many.length; i += 30) inSmall = addToLedger(inSmall, ledgerDelta(many.slice(i, i + 30), now));
    expect(inSmall.hours['2026-11-30T07']!.cells).toBe(inOne.hours['2026-11-30T07']!.cells);
    expect(differenceOf(tableOf(ids(300)), decodeCells(inSmall.hours['2026-11-30T07']!.cells)).added).toEqual([]);
  });

  it('records an event from a device a few minutes fast as handled, so the sweep of its hour does not ship it again', () => {
    const key = (iso: string) => millisToKey(Date.parse(iso));
    const shippedAt = Date.parse('2026-11-30T12:58:00Z');
    const ledger = newLateLedger({ since: key('2026-11-30T12:00:00Z'), digest: 'x' });
    const events = [
      { id: 'fast', key: key('2026-11-30T13:01:00Z') }, // 3 minutes ahead of the worker's clock
      { id: 'far', key: key('2026-11-30T15:00:00Z') }, // beyond the clock-skew horizon: left out
    ];
    const delta = ledgerDelta(events, shippedAt);
    expect(Object.keys(delta)).toEqual(['2026-11-30T13']);
    // The sweep of 13:00 (read at 14:10) finds the event it read handled already: nothing to ship.
    const handled = decodeCells(addToLedger(ledger, delta).hours['2026-11-30T13']?.cells);
    expect(differenceOf(tableOf(['fast']), handled)).toEqual({ added: [], removed: [], complete: true });
  });

  it('sweeps each settled hour at each tier once, counted from its first sweep, and forgets hours past the horizon', () => {
    const t0 = Date.parse('2026-11-30T12:10:00Z');
    let ledger = newLateLedger({ since: millisToKey(t0 - 3 * HOUR_MS) });
    const settled = millisToKey(t0 - 5 * 60_000);
    expect(dueLateHours(ledger, settled, t0)).toEqual(['2026-11-30T09', '2026-11-30T10', '2026-11-30T11']);
    ledger = markSwept(ledger, ['2026-11-30T09', '2026-11-30T10', '2026-11-30T11'], t0);
    expect(dueLateHours(ledger, settled, t0)).toEqual([]);
    expect(dueLateHours(ledger, settled, t0 + 59 * 60_000)).toEqual([]);
    // An hour later each is due for its second tier; the 12:00 hour, settled by then, for its first.
    expect(dueLateHours(ledger, millisToKey(t0 + 55 * 60_000), t0 + 60 * 60_000)).toEqual([
      '2026-11-30T09',
      '2026-11-30T10',
      '2026-11-30T11',
      '2026-11-30T12',
    ]);
    // A sweep that comes late (the stream was busy) takes every tier reached meanwhile at once.
    ledger = markSwept(ledger, ['2026-11-30T09'], t0 + 4 * HOUR_MS);
    expect(ledger.hours['2026-11-30T09']).toEqual({ at: t0, swept: 3 });
    // An hour not settled yet (the polls still re-read it) is not due.
    expect(
      dueLateHours(newLateLedger({ since: millisToKey(t0 - 3 * HOUR_MS) }), millisToKey(t0 - 150 * 60_000), t0),
    ).toEqual([]);
    // A day later every hour is past the horizon.
    expect(Object.keys(pruneLedger(ledger, t0 + 24 * HOUR_MS).hours)).toEqual([]);
    expect(dueLateHours(ledger, millisToKey(t0 + 24 * HOUR_MS), t0 + 24 * HOUR_MS)).not.toContain('2026-11-30T09');
    expect(DEFAULT_SWEEP_TIERS_MS.at(-1)! + HOUR_MS).toBeLessThan(18 * HOUR_MS);
  });

  it('starts again after both positions when an operator moves the cursor', () => {
    expect(restartLateLedger('2026-11-30T10:20:00.000000Z', '2026-11-30T02:00:00.000000Z').from).toBe(
      '2026-11-30T10:20:00.000001Z',
    );
    expect(restartLateLedger('2026-11-30T10:20:00.000000Z', '2026-11-30T14:00:00.000000Z').from).toBe(
      '2026-11-30T14:00:00.000001Z',
    );
  });
});

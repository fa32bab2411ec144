/**
 * The audit stream's late sweep, fast: the real workflow code on the time-skipping test server, with a fake audit
 * log of recent events (so that past hours fall due for a sweep) and fake read, ship and sweep activities that keep
 * the real late-event ledger. What is checked: the sweep finds what the polls never saw and ships it once, and a
 * sweep that cannot go (no request budget, an hour that keeps failing) is parked beside the live tail, which goes on;
 * a sweep in flight when the run is due to continue as new, or stops, ends first, so the next run never ships its finds
 * again.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type {
  AuditPageRef,
  ReadAuditPageRefInput,
  ShipAuditPageInput,
  ShipAuditPageResult,
  SweepLateAuditHourInput,
  SweepLateAuditHourResult,
} from '../../activities';
import { auditStream } from '../../workflows/audit-stream';
import { STOP_GRACE_MS } from '../../workflows/late-sweep';
import { initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import { FailureType } from '../../workflows/shared/failure-types';
import {
  addKey,
  decodeCells,
  differenceOf,
  emptyCells,
  encodeCells,
  hourEndKey,
  hourOf,
  hourStartKey,
  HOUR_MS,
  idKey,
  ledgerDelta,
} from '../../workflows/shared/late-ledger';
import { applyTimingsUpdate, statusQuery, stopSignal } from '../../workflows/shared/messages';
import { keyToMillis, millisToKey } from '../../workflows/shared/timestamps';
import { waitFor } from '../helpers/wait';
import { clockNeutralClient, defaultTimings, settled, statusWhere, workflowTestWorld } from '../helpers/workflow-env';

const timings = defaultTimings('audit');
/** The fake reader's overlap window: where its polls stop re-reading (`settled`). */
const OVERLAP_MS = 5 * 60_000;

interface LogEvent {
  id: string;
  key: string;
  /** Became visible only after the polls had passed its time: only a sweep reads it. */
  late?: boolean;
}

/** One tenant's audit log and Datadog: every event shipped is counted by id. */
class FakeLog {
  readonly tenant = `t-${randomUUID().slice(0, 8)}`;
  readonly events: LogEvent[] = [];
  readonly shipped: string[] = [];
  readonly sweeps: string[] = [];
  /** When set, a sweep of this hour fails with what it returns instead of reading. */
  sweepFault?: (hour: string) => Error | undefined;
  /** When set, every sweep waits for it before reading. */
  sweepGate?: Promise<void>;
  private readonly pages = new Map<string, LogEvent[]>();

  add(id: string, ms: number, late = false): void {
    this.events.push({ id, key: millisToKey(ms), ...(late ? { late } : {}) });
    this.events.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async read({ cursor }: ReadAuditPageRefInput): Promise<AuditPageRef> {
    const fresh = this.events.filter((e) => !e.late && e.key > cursor.since);
    const since = fresh.length ? fresh[fresh.length - 1]!.key : cursor.since;
    const pageId = fresh.length ? randomUUID() : null;
    if (pageId) this.pages.set(pageId, fresh);
    const next: AuditCursor = { ...cursor, since, page: null, more: undefined };
    return {
      pageId,
      workerQueue: null,
      count: fresh.length,
      bytes: fresh.length * 200,
      pages: 1,
      skipped: 0,
      late: 0,
      next,
      settled: millisToKey(keyToMillis(since) - OVERLAP_MS),
    };
  }

  async ship({ pageId, lateFrom }: ShipAuditPageInput): Promise<ShipAuditPageResult> {
    const events = this.pages.get(pageId) ?? [];
    this.shipped.push(...events.map((e) => e.id));
    const nowMs = Context.current().info.currentAttemptScheduledTimestampMs;
    return {
      ...shipment(events.length),
      reread: false,
      count: events.length,
      ledger: ledgerDelta(events, nowMs, lateFrom),
    };
  }

  /** Reads the hour, ships what the ledger's table does not hold (as the real activity does). */
  async sweep({ hour, from, cells }: SweepLateAuditHourInput): Promise<SweepLateAuditHourResult> {
    this.sweeps.push(hour);
    const fault = this.sweepFault?.(hour);
    if (fault) throw fault;
    await this.sweepGate;
    const start = from && from > hourStartKey(hour) ? from : hourStartKey(hour);
    const read = this.events.filter((e) => e.key >= start && e.key < hourEndKey(hour));
    const table = emptyCells();
    for (const e of read) addKey(table, idKey(e.id));
    const added = new Set(differenceOf(table, decodeCells(cells)).added);
    const found = read.filter((e) => added.has(idKey(e.id)));
    this.shipped.push(...found.map((e) => e.id));
    const delta = emptyCells();
    for (const e of found) addKey(delta, idKey(e.id));
    const result = { hour, read: read.length, pages: 1, found: found.length, resent: 0, delta: encodeCells(delta) };
    return { ...result, shipment: shipment(found.length) };
  }
}

const shipment = (n: number) => ({
  shipped: n,
  batches: n ? 1 : 0,
  deadLetters: [],
  deadLettered: 0,
  stale: { count: 0, policy: 'ship' as const },
  trimmed: 0,
});

const logs = new Map<string, FakeLog>();
const logOf = (tenant: string) => logs.get(tenant)!;
const world = workflowTestWorld({
  readAuditPageRef: (input: ReadAuditPageRefInput) => logOf(input.tenant).read(input),
  shipAuditPage: (input: ShipAuditPageInput) => logOf(input.tenant).ship(input),
  sweepLateAuditHour: (input: SweepLateAuditHourInput) => logOf(input.tenant).sweep(input),
});

/**
 * A log whose events are recent: three per hour over the three hours before the current one (so the first two of
 * those hours are due for a sweep once the stream caught up); `hours[i]` is the start of the i-th.
 */
async function recentLog(): Promise<{ log: FakeLog; hours: number[] }> {
  const log = new FakeLog();
  logs.set(log.tenant, log);
  const now = await world.env.currentTimeMs();
  const first = Math.floor(now / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
  const hours = [0, 1, 2].map((i) => first + i * HOUR_MS);
  hours.forEach((h, i) => [10, 20, 30].forEach((m) => log.add(`ev-${i}-${m}`, h + m * 60_000)));
  return { log, hours };
}

function startStream(log: FakeLog, fromMs: number): Promise<WorkflowHandle<typeof auditStream>> {
  return world.start(auditStream, {
    workflowId: `kandji-datadog/${log.tenant}/audit`,
    args: [{ tenant: log.tenant, cursor: initialAuditCursor(new Date(fromMs).toISOString()), timings }],
  });
}

const hourKey = (ms: number) => hourOf(millisToKey(ms));

/** Starts the stream with every sweep held at its start until `open`: once settled, the first hour's is in flight. */
async function withSweepInFlight(
  log: FakeLog,
  hours: number[],
): Promise<{ h: WorkflowHandle<typeof auditStream>; open: () => void }> {
  let open!: () => void;
  log.sweepGate = new Promise<void>((resolve) => (open = resolve));
  const h = await startStream(log, hours[0]!);
  await waitFor('a sweep in flight', () => log.sweeps.length === 1);
  await settled(h);
  return { h, open };
}
const budgetWait = (waitMs: number) =>
  ApplicationFailure.create({
    type: FailureType.KandjiBudgetWait,
    message: 'no request budget within this attempt',
    nonRetryable: true,
    details: [{ waitMs }],
  });
const poison = () =>
  ApplicationFailure.create({
    type: FailureType.DatadogRefusedAll,
    message: 'Datadog refused the late event even alone',
    nonRetryable: true,
  });

describe('audit late sweep (fake activities, time-skipping server)', () => {
  it('the late sweep reads the past hours due and ships, once, an event the polls never saw; its find is counted', async () => {
    const { log, hours } = await recentLog();
    log.add('late-1', hours[1]! + 45 * 60_000, true);
    const h = await startStream(log, hours[0]!);

    const s = await statusWhere(h, 'the late event found', (x) => (x.counts.lateFound ?? 0) >= 1);
    expect(log.sweeps).toEqual(expect.arrayContaining([hourKey(hours[0]!), hourKey(hours[1]!)]));
    expect(s.counts.lateFound).toBe(1);
    expect(s.counts.shipped).toBe(10);
    // Every event once: the 9 the polls shipped were in the ledger, so the sweeps shipped only the late one.
    expect([...log.shipped].sort()).toEqual([...log.events.map((e) => e.id)].sort());
    expect(s.lastLateSweep?.hour).toBeDefined();
  });

  it('a sweep without request budget and an hour that keeps failing are parked and shown; live pages still ship within the poll interval', async () => {
    const { log, hours } = await recentLog();
    // The poison hour is one the polls shipped nothing of (no ledger entry): still parked, not retried in a loop.
    const poisonHour = hourKey(hours[0]!);
    log.events.splice(0, 3);
    let budgetFor = true;
    log.sweepFault = (hour) => (hour === poisonHour ? poison() : budgetFor ? budgetWait(HOUR_MS) : undefined);
    const h = await startStream(log, hours[0]!);
    await statusWhere(h, 'the first events shipped', (x) => x.counts.shipped === 6);
    await waitFor('a sweep tried', () => log.sweeps.length >= 1);
    await settled(h);

    // A new event: the next poll (one interval later) reads and ships it, the sweeps notwithstanding.
    const now = await world.env.currentTimeMs();
    log.add('live-1', now);
    await world.env.sleep(timings.pollIntervalMs + 5_000);
    let s = await statusWhere(h, 'the live event shipped', (x) => x.counts.shipped === 7);
    expect(log.sweeps.filter((x) => x === poisonHour)).toHaveLength(1);
    expect(log.shipped).toContain('live-1');
    // The stream is caught up, not failing: the sweeps are parked, and say so.
    expect(s.state).toBe('caught_up');
    expect(s.lastError).toBeNull();
    expect(s.lateSweep?.parked).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hour: poisonHour, failures: 1, reason: expect.stringContaining('refused') }),
        expect.objectContaining({ hour: hourKey(hours[1]!), reason: expect.stringContaining('budget') }),
      ]),
    );

    // Tried again later, while the polls go on: the others once the budget is back, the poison hour too (and parked
    // again, longer).
    budgetFor = false;
    await settled(h);
    await world.env.sleep(HOUR_MS);
    s = await statusWhere(h, 'the hours swept once the budget is back', (x) => x.lateSweep?.parked.length === 1);
    expect(log.sweeps.filter((x) => x === hourKey(hours[1]!)).length).toBeGreaterThan(1);
    expect(log.sweeps.filter((x) => x === poisonHour).length).toBeGreaterThan(1);
    expect(s.lateSweep?.parked).toEqual([expect.objectContaining({ hour: poisonHour })]);
    expect(s.state).toBe('caught_up');
  });
  it('stop while a sweep is in flight: the sweep ends first, so a later start never ships its finds again', async () => {
    const { log, hours } = await recentLog();
    log.add('late-1', hours[0]! + 45 * 60_000, true);
    const { h, open } = await withSweepInFlight(log, hours);
    try {
      await h.signal(stopSignal);
      await settled(h);
      expect((await h.describe()).status.name).toBe('RUNNING'); // the sweep in flight ends first
      open();
      await waitFor('the stream stopped', async () => (await h.describe()).status.name === 'COMPLETED', 15_000);
      // Read without moving the server's clock (the test environment's client would skip it ahead to a far timer).
      const ended = await clockNeutralClient(world.env).workflow.getHandle<typeof auditStream>(h.workflowId).result();
      expect(ended.status.state).toBe('stopped');
      expect(ended.status.lastLateSweep?.hour).toBe(hourKey(hours[0]!));
      expect(ended.status.counts.lateFound).toBe(1);

      // Started again with what the run returned (as `start` does): every later sweep of every hour ships nothing
      // twice.
      const again = await world.start(auditStream, {
        workflowId: h.workflowId,
        args: [{ tenant: log.tenant, cursor: ended.status.cursor as AuditCursor, timings, late: ended.late }],
      });
      for (let i = 0; i < 6; i += 1) {
        await settled(again);
        await world.env.sleep(HOUR_MS);
      }
      await waitFor('the hour swept again', () => log.sweeps.filter((x) => x === hourKey(hours[0]!)).length >= 2);
      expect([...log.shipped].sort()).toEqual([...log.events.map((e) => e.id)].sort());
    } finally {
      open();
    }
  });

  it('a sweep that does not end within a minute of a stop is abandoned: the stream stops, its hour left unswept', async () => {
    const { log, hours } = await recentLog();
    // Every sweep attempt fails, to be tried again in 10 minutes: in flight all along (and the server's clock free).
    log.sweepFault = () =>
      ApplicationFailure.create({ type: 'KandjiUnavailableError', message: 'down', nextRetryDelay: '10 minutes' });
    const h = await startStream(log, hours[0]!);
    await waitFor('a sweep in flight', () => log.sweeps.length === 1);
    await settled(h);

    await h.signal(stopSignal);
    await settled(h);
    await world.env.sleep(STOP_GRACE_MS + 1_000);
    await waitFor('the stream stopped', async () => (await h.describe()).status.name === 'COMPLETED', 15_000);
    const { status: ended } = await h.result();
    expect(ended.state).toBe('stopped');
    expect(ended.counts.shipped).toBe(9);
    expect(log.sweeps).toHaveLength(1); // its retry was not waited for
    expect(ended.lastLateSweep).toBeUndefined(); // the hour in flight was not recorded as swept
    expect(ended.lateSweep).toEqual({ parked: [] });
  });

  it('a sweep in flight when the run is due to continue as new ends first: the tail goes on meanwhile, and no late event is shipped twice', async () => {
    const { log, hours } = await recentLog();
    log.add('late-1', hours[0]! + 45 * 60_000, true);
    const { h, open } = await withSweepInFlight(log, hours);
    try {
      // A new event, and new timings that need a new run (attempts are read once per run): the update wakes the
      // idle wait, so the next round reads at once, due to continue as new, with the sweep still in flight.
      log.add('live-1', await world.env.currentTimeMs());
      const wanted = {
        ...timings,
        pollIntervalMs: 2 * timings.pollIntervalMs,
        fetchAttempts: (timings.fetchAttempts ?? 5) + 1,
      };
      await h.executeUpdate(applyTimingsUpdate, { args: [wanted] });
      let s = await statusWhere(h, 'the live event shipped', (x) => x.counts.shipped === 10);
      await settled(h);
      s = await h.query(statusQuery);
      expect(s.generation).toBe(1); // held by the sweep in flight
      expect(s.lateSweep?.sweeping).toBe(hourKey(hours[0]!));
      expect(log.sweeps).toHaveLength(1); // and no other sweep started

      // The sweep ends: its find recorded, then the run continues as new at its next round, with it in the ledger.
      open();
      await statusWhere(h, 'the late event found', (x) => (x.counts.lateFound ?? 0) === 1);
      await settled(h);
      await world.env.sleep(wanted.pollIntervalMs + 5_000);
      s = await statusWhere(h, 'a new run', (x) => x.generation === 2);
      expect(s.pollIntervalMs).toBe(wanted.pollIntervalMs);

      // Every later sweep of every hour, in the new run: nothing is shipped twice.
      for (let i = 0; i < 6; i += 1) {
        await settled(h);
        await world.env.sleep(HOUR_MS);
      }
      s = await statusWhere(h, 'the past hours swept again', () =>
        [0, 1].every((i) => log.sweeps.filter((x) => x === hourKey(hours[i]!)).length >= 2),
      );
      expect([...log.shipped].sort()).toEqual([...log.events.map((e) => e.id)].sort());
      expect(s.counts.lateFound).toBe(1);
    } finally {
      open();
    }
  });
});

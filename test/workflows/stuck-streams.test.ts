/**
 * A stuck audit stream gets moving again: an operator's cursor move leaves a page that can never ship (or a wait for
 * budget), also across a continue-as-new; a stream blocked by Datadog re-checks soon and backs off. (A stop that
 * arrives as a run continues as new: test/unit/stream-runtime-stop.test.ts.) The real workflow code on the
 * time-skipping test server, Kandji and Datadog replaced by a small fake log; the server's clock moves only when a
 * test says so.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { AuditPageRef, ReadAuditPageRefInput, ShipAuditPageInput, ShipAuditPageResult } from '../../activities';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import { FailureType } from '../../workflows/shared/failure-types';
import { moveCursorUpdate } from '../../workflows/shared/messages';
import type { AuditStreamInput } from '../../workflows/shared/stream-input';
import { keyToMillis, millisToKey } from '../../workflows/shared/timestamps';
import { FIRST_RECHECK_MS } from '../../workflows/stream-runtime';
import { defaultTimings, fillHistory, settled, statusWhere, workflowTestWorld } from '../helpers/workflow-env';

const START_MS = Date.parse('2026-03-01T00:00:00Z');
const timings = defaultTimings('audit');
/** Event n (1, 2, …) happened n seconds after START. */
const keyOf = (n: number) => millisToKey(START_MS + n * 1000);
const numberOf = (key: string) => Math.round((keyToMillis(key) - START_MS) / 1000);

/** Kandji's audit log (events 1…`available`, `pageSize` a page) and Datadog, which may refuse. */
class FakeLog {
  readonly tenant = `t-${randomUUID().slice(0, 8)}`;
  available = 0;
  pageSize = 2;
  /** Datadog refuses every page holding one of these events, forever (a record it refuses alone, systemically). */
  readonly poison = new Set<number>();
  /** Datadog refuses everything until this time of the server's clock… */
  refuseUntil = 0;
  /** …and this many attempts more. */
  refuseNext = 0;
  /** Kandji refuses every read from these positions, forever (a `next` link it now rejects). */
  readonly unreadable = new Set<number>();
  /** Reads from these positions find the tenant's request budget spent for the next hour. */
  readonly noBudget = new Set<number>();
  readonly reads: { since: number; at: number }[] = [];
  readonly ships: { events: number[]; at: number; ok: boolean }[] = [];
  readonly shipped: number[] = [];
  private readonly pages = new Map<string, number[]>();

  read(cursor: AuditCursor): AuditPageRef {
    const since = numberOf(cursor.since);
    this.reads.push({ since, at: Context.current().info.currentAttemptScheduledTimestampMs });
    if (this.noBudget.has(since))
      throw ApplicationFailure.create({
        type: FailureType.KandjiBudgetWait,
        message: 'the next Kandji request may go in 3600 s',
        nonRetryable: true,
        details: [{ waitMs: 3_600_000 }],
      });
    if (this.unreadable.has(since))
      throw ApplicationFailure.create({
        type: FailureType.KandjiUnsafeLink,
        message: 'Kandji refused the next link',
        nonRetryable: true,
      });
    const last = Math.min(this.available, since + this.pageSize);
    const events = Array.from({ length: Math.max(0, last - since) }, (_, i) => since + 1 + i);
    const pageId = events.length > 0 ? randomUUID() : null;
    if (pageId) this.pages.set(pageId, events);
    const more = last < this.available;
    const next = { ...cursor, since: keyOf(Math.max(since, last)), page: null, ...(more ? { more } : {}) };
    if (!more) delete next.more;
    return { pageId, workerQueue: null, count: events.length, bytes: 0, pages: 1, skipped: 0, late: 0, next };
  }

  ship(pageId: string): ShipAuditPageResult {
    const at = Context.current().info.currentAttemptScheduledTimestampMs;
    const events = this.pages.get(pageId) ?? [];
    const ok = at >= this.refuseUntil && this.refuseNext <= 0 && !events.some((e) => this.poison.has(e));
    if (this.refuseNext > 0) this.refuseNext -= 1;
    this.ships.push({ events, at, ok });
    if (!ok)
      throw ApplicationFailure.create({
        type: FailureType.DatadogRefusedAll,
        message: 'Datadog answered 400 to every record',
        nonRetryable: true,
      });
    this.shipped.push(...events);
    const none = { count: 0, policy: 'ship' as const };
    return {
      shipped: events.length,
      batches: 1,
      deadLetters: [],
      deadLettered: 0,
      stale: none,
      trimmed: 0,
      reread: false,
      count: events.length,
    };
  }
}

const logs = new Map<string, FakeLog>();
const logOf = (tenant: string) => logs.get(tenant)!;
const world = workflowTestWorld({
  readAuditPageRef: async ({ tenant, cursor }: ReadAuditPageRefInput) => logOf(tenant).read(cursor),
  shipAuditPage: async ({ tenant, pageId }: ShipAuditPageInput) => logOf(tenant).ship(pageId),
});

function startStream(log: FakeLog, more: Partial<AuditStreamInput> = {}): Promise<WorkflowHandle<typeof auditStream>> {
  logs.set(log.tenant, log);
  const cursor = initialAuditCursor(new Date(START_MS).toISOString());
  return world.start(auditStream, {
    workflowId: `kandji-datadog/${log.tenant}/audit`,
    // The late sweep is not what these tests look at (and its activity is not faked here).
    args: [{ tenant: log.tenant, cursor, timings: { ...timings, lateSweepTiersMs: [] }, ...more }],
  });
}

/** A stream whose second page (events 3, 4) Datadog refuses forever; events 5, 6 wait behind it. */
async function stuckOnPoison(): Promise<{ log: FakeLog; h: WorkflowHandle<typeof auditStream> }> {
  const log = new FakeLog();
  log.available = 6;
  log.poison.add(3);
  const h = await startStream(log);
  await statusWhere(h, 'blocked on the refused page', (s) => s.state === 'blocked');
  await settled(h);
  expect(log.shipped).toEqual([1, 2]);
  return { log, h };
}

describe('a stuck audit stream gets moving again (fake activities, time-skipping server)', () => {
  it('a cursor move leaves a page Datadog refuses forever at once: the move is applied and the stream ships from there', async () => {
    const { log, h } = await stuckOnPoison();
    const shipsBefore = log.ships.length;

    // The server's clock does not move: only the move can end the failure wait.
    const moved = await h.executeUpdate(moveCursorUpdate, { args: [{ to: new Date(START_MS + 4_000).toISOString() }] });
    expect(moved.to).toBe(keyOf(4));
    const s = await statusWhere(h, 'caught up past the refused page', (x) => x.state === 'caught_up');
    expect(log.shipped).toEqual([1, 2, 5, 6]);
    expect(log.ships.slice(shipsBefore)).toEqual([expect.objectContaining({ events: [5, 6], ok: true })]);
    expect((s.cursor as AuditCursor).since).toBe(keyOf(6));
    expect(s.counts).toMatchObject({ shipped: 4, cursorMoves: 1 });
    expect(s.generation).toBe(1);
  });

  it('a cursor move leaves a page Kandji refuses to read forever (a rejected next link) at once', async () => {
    const log = new FakeLog();
    log.available = 6;
    log.unreadable.add(2);
    const h = await startStream(log);
    await statusWhere(h, 'blocked on the unreadable page', (x) => x.state === 'blocked' && x.counts.shipped === 2);
    await settled(h);

    await h.executeUpdate(moveCursorUpdate, { args: [{ to: new Date(START_MS + 4_000).toISOString() }] });
    const s = await statusWhere(h, 'caught up past the unreadable page', (x) => x.state === 'caught_up');
    expect(log.shipped).toEqual([1, 2, 5, 6]);
    expect(log.reads.filter((r) => r.since === 4)).toHaveLength(1);
    expect(s.lastError).toMatchObject({ type: FailureType.KandjiUnsafeLink });
  });

  it('a cursor move ends a wait for request budget at once: the stream reads from the moved cursor', async () => {
    const log = new FakeLog();
    log.available = 6;
    log.noBudget.add(2);
    const h = await startStream(log);
    await statusWhere(h, 'waiting for budget', (x) => x.counts.shipped === 2);
    await settled(h);
    expect(log.reads.map((r) => r.since)).toEqual([0, 2]);

    await h.executeUpdate(moveCursorUpdate, { args: [{ to: new Date(START_MS + 4_000).toISOString() }] });
    await statusWhere(h, 'caught up past the position without budget', (x) => x.state === 'caught_up');
    expect(log.shipped).toEqual([1, 2, 5, 6]);
  });

  it('a cursor move requested when the run is due to continue as new is not lost: the next run reads from the moved cursor', async () => {
    const { log, h } = await stuckOnPoison();
    await fillHistory(h);
    await h.executeUpdate(moveCursorUpdate, { args: [{ to: new Date(START_MS + 4_000).toISOString() }] });
    // However long the step's failure waits would have been: the run has continued as new by then.
    await world.env.sleep(timings.authRecheckMs + 1_000);
    const s = await statusWhere(
      h,
      'the next run past the refused page',
      (x) => x.generation > 1 && x.state === 'caught_up',
    );
    expect(log.shipped).toEqual([1, 2, 5, 6]);
    expect((s.cursor as AuditCursor).since).toBe(keyOf(6));
    expect(s.counts.cursorMoves).toBe(1);
  });

  it('a run that receives a move the run before did not apply (pendingMove) applies it before its first read', async () => {
    const log = new FakeLog();
    log.available = 6;
    const h = await startStream(log, { pendingMove: keyOf(4) });
    const s = await statusWhere(h, 'caught up', (x) => x.state === 'caught_up');
    expect(log.reads[0]!.since).toBe(4);
    expect(log.shipped).toEqual([5, 6]);
    expect(s.counts.cursorMoves).toBe(1);
  });

  /** A caught-up stream (events 1, 2 shipped) to which events 3, 4 come while Datadog refuses everything. */
  async function blockedByDatadog(): Promise<{ log: FakeLog; h: WorkflowHandle<typeof auditStream>; from: number }> {
    const log = new FakeLog();
    log.available = 2;
    const h = await startStream(log);
    await statusWhere(h, 'caught up', (x) => x.state === 'caught_up');
    await settled(h);
    log.available = 4;
    log.refuseUntil = Number.MAX_SAFE_INTEGER;
    await world.env.sleep(timings.pollIntervalMs);
    await statusWhere(h, 'blocked', (x) => x.state === 'blocked');
    await settled(h);
    return { log, h, from: log.ships.length - 1 };
  }
  /** The waits between the ship attempts from `from` on, in seconds of the server's clock. */
  const gapsFrom = (log: FakeLog, from: number) =>
    log.ships.slice(from + 1).map((ship, i) => Math.round((ship.at - log.ships[from + i]!.at) / 1000));

  it('blocked by Datadog for two minutes: re-checks after 20 s, then 40 s, 80 s, so it ships 20 s after Datadog recovers, not minutes later', async () => {
    const { log, h, from } = await blockedByDatadog();
    log.refuseUntil = log.ships[from]!.at + 120_000;
    await world.env.sleep(timings.authRecheckMs + 1_000);
    await statusWhere(h, 'caught up again', (x) => x.state === 'caught_up' && x.counts.shipped === 4);

    expect(FIRST_RECHECK_MS).toBe(20_000);
    // Attempts at 0, 20, 60 s (refused) and 140 s: the first after the fault ended at 120 s.
    expect(gapsFrom(log, from)).toEqual([20, 40, 80]);
    expect(log.ships.slice(from).map((x) => x.ok)).toEqual([false, false, false, true]);
    expect(log.shipped).toEqual([1, 2, 3, 4]);
  });

  it('a block that lasts backs off to one re-check per KANDJI_AUTH_RECHECK_INTERVAL, and starts again at 20 s once the step has succeeded', async () => {
    const { log, h, from } = await blockedByDatadog();
    log.refuseUntil = log.ships[from]!.at + 15 * 60_000;
    await world.env.sleep(20 * 60_000);
    await statusWhere(h, 'caught up again', (x) => x.state === 'caught_up' && x.counts.shipped === 4);
    // 20 + 40 + 80 + 160 s, then every 5 minutes: refused until 900 s, taken at 900 s.
    expect(gapsFrom(log, from)).toEqual([20, 40, 80, 160, 300, 300]);
    expect(log.ships.slice(from).map((x) => x.ok)).toEqual([false, false, false, false, false, false, true]);

    // The next block re-checks after 20 s again.
    log.available = 6;
    log.refuseNext = 1;
    const again = log.ships.length;
    await world.env.sleep(timings.pollIntervalMs + FIRST_RECHECK_MS + 1_000);
    await statusWhere(h, 'caught up at the first re-check', (x) => x.state === 'caught_up' && x.counts.shipped === 6);
    expect(log.ships.slice(again).map((x) => x.ok)).toEqual([false, true]);
    expect(gapsFrom(log, again)).toEqual([20]);
  });
});

/**
 * The audit stream's state machine, fast: the real workflow code on the time-skipping test server, Kandji and
 * Datadog replaced by fake activities (a small audit log in memory). The production timings are used as they are
 * (the configuration's defaults: a 1-minute poll, re-checks of rejected credentials from 20 s up to every 5 minutes);
 * the server's clock moves only when a test says so (`env.sleep`), so "nothing before 20 s, a re-check at 20 s" is
 * checked in milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type {
  AuditPageRef,
  AwaitAuditPageInput,
  AwaitAuditPageResult,
  ReadAuditPageRefInput,
  ShipAuditPageInput,
  ShipAuditPageResult,
} from '../../activities';
import { auditStream } from '../../workflows/audit-stream';
import { initialAuditCursor, type AuditCursor } from '../../workflows/shared/audit-cursor';
import { FailureType } from '../../workflows/shared/failure-types';
import {
  backfillUpdate,
  cancelBackfillUpdate,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
} from '../../workflows/shared/messages';
import { keyToMillis, millisToKey, timestampKey } from '../../workflows/shared/timestamps';
import { FIRST_RECHECK_MS } from '../../workflows/stream-runtime';
import { waitFor } from '../helpers/wait';
import {
  clockNeutralClient,
  defaultTimings,
  firstPollAfterRetryDelay,
  settled,
  statusWhere,
  workflowTestWorld,
} from '../helpers/workflow-env';

const START = '2026-03-01T00:00:00Z';
const START_MS = Date.parse(START);
const timings = defaultTimings('audit');

/** Event n (1, 2, …) of the fake log happened n seconds after START. */
const keyOfEvent = (n: number) => millisToKey(START_MS + n * 1000);
const eventAt = (key: string) => Math.round((keyToMillis(key) - START_MS) / 1000);

interface Call {
  kind: 'read' | 'ship';
  /** Made by a backfill (its cursor ends the window) rather than the live stream. */
  backfill: boolean;
  cursor: AuditCursor;
  /** When the server scheduled this attempt (its clock, which the tests move). */
  at: number;
  /** The task queue the activity ran from. */
  taskQueue: string;
}

/**
 * Kandji's audit log and Datadog for one tenant: `available` events exist; a read returns up to `pageSize` of
 * those after the cursor; a ship accepts the page. `failRead`/`shipGate` inject what a test needs.
 */
class FakeTenant {
  readonly tenant = `t-${randomUUID().slice(0, 8)}`;
  readonly calls: Call[] = [];
  /** Events shipped, in order: by the live stream, by backfills. */
  readonly shippedEvents: number[] = [];
  readonly backfilledEvents: number[] = [];
  available = 0;
  pageSize = 500;
  /** The worker queue reads say they keep the page on (null: none configured). */
  workerQueue: string | null = null;
  /** Thrown by every read while set. */
  failRead?: () => Error;
  /** Awaited by every ship while set. */
  shipGate?: Promise<void>;
  onShip?: () => void;
  /**
   * While set, an idle wait polls (every 20 ms of real time, heartbeating) until it finds events or is cancelled, as
   * the real one does; otherwise it polls once and hands back (the timer's cadence, which the server can skip).
   */
  holdIdleWaits = false;
  /** Idle waits started. */
  idleWaits = 0;
  /** While set, a ship given a cursor without its digest (on the worker holding the page) has lost the page. */
  losesHeldPages = false;
  private readonly pages = new Map<string, number[]>();

  reads = (backfill = false) => this.calls.filter((c) => c.kind === 'read' && c.backfill === backfill);
  ships = (backfill = false) => this.calls.filter((c) => c.kind === 'ship' && c.backfill === backfill);

  private record(kind: Call['kind'], cursor: AuditCursor): void {
    this.calls.push({
      kind,
      backfill: cursor.until !== undefined,
      cursor,
      at: Context.current().info.currentAttemptScheduledTimestampMs,
      taskQueue: Context.current().info.taskQueue,
    });
  }

  async read({ cursor }: ReadAuditPageRefInput): Promise<AuditPageRef> {
    this.record('read', cursor);
    if (this.failRead) throw this.failRead();
    const after = eventAt(cursor.since);
    const last = Math.min(this.available, after + this.pageSize, cursor.until ? eventAt(cursor.until) : Infinity);
    const events = Array.from({ length: Math.max(0, last - after) }, (_, i) => after + 1 + i);
    const more = events.length === this.pageSize && last < (cursor.until ? eventAt(cursor.until) : this.available);
    const next: AuditCursor = {
      ...cursor,
      since: events.length ? keyOfEvent(last) : cursor.since,
      // Stands for the overlap digest the real read keeps (what it shipped inside the window).
      digest: events.length ? `digest-${last}` : cursor.digest,
      page: null,
      ...(more ? { more: true } : { more: undefined }),
    };
    const pageId = events.length ? randomUUID() : null;
    if (pageId) this.pages.set(pageId, events);
    return {
      pageId,
      workerQueue: this.workerQueue,
      count: events.length,
      bytes: events.length * 200,
      pages: 1,
      skipped: 0,
      late: 0,
      next,
    };
  }

  async awaitNews(input: AwaitAuditPageInput): Promise<AwaitAuditPageResult> {
    firstPollAfterRetryDelay(input);
    this.idleWaits += 1;
    for (let polls = 1; ; polls++) {
      const ref = await this.read(input);
      if (!this.holdIdleWaits || ref.count > 0) return { ref, polls };
      const ctx = Context.current();
      ctx.heartbeat();
      await Promise.race([ctx.sleep(20), ctx.cancelled]);
    }
  }

  async ship({ pageId, cursor, digestElided }: ShipAuditPageInput): Promise<ShipAuditPageResult> {
    this.record('ship', cursor);
    if (digestElided && this.losesHeldPages)
      throw ApplicationFailure.create({ type: FailureType.PageNotHeld, message: 'lost', nonRetryable: true });
    this.onShip?.();
    await this.shipGate;
    const events = this.pages.get(pageId) ?? [];
    (cursor.until === undefined ? this.shippedEvents : this.backfilledEvents).push(...events);
    return {
      shipped: events.length,
      batches: 1,
      deadLetters: [],
      deadLettered: 0,
      stale: { count: 0, policy: 'ship' },
      trimmed: 0,
      reread: false,
      count: events.length,
    };
  }
}

const tenants = new Map<string, FakeTenant>();
const tenantOf = (name: string) =>
  tenants.get(name) ??
  (() => {
    throw new Error(`no fake tenant ${name}`);
  })();
const activities = {
  readAuditPageRef: (input: ReadAuditPageRefInput) => tenantOf(input.tenant).read(input),
  awaitAuditPage: (input: AwaitAuditPageInput) => tenantOf(input.tenant).awaitNews(input),
  shipAuditPage: (input: ShipAuditPageInput) => tenantOf(input.tenant).ship(input),
};

const world = workflowTestWorld(activities);

function fakeTenant(): FakeTenant {
  const t = new FakeTenant();
  tenants.set(t.tenant, t);
  return t;
}

async function startStream(t: FakeTenant, withTimings = timings): Promise<WorkflowHandle<typeof auditStream>> {
  return world.start(auditStream, {
    workflowId: `kandji-datadog/${t.tenant}/audit`,
    args: [{ tenant: t.tenant, cursor: initialAuditCursor(START), timings: withTimings }],
  });
}

const status = (h: WorkflowHandle) => h.query(statusQuery);
const tokenRejected = () =>
  ApplicationFailure.create({
    type: FailureType.KandjiAuth,
    message: 'Kandji answered 401: token rejected',
    nonRetryable: true,
  });

describe('audit stream workflow (fake activities, time-skipping server)', () => {
  it('blocked → re-check → recovered: a rejected token blocks the stream, re-checked after 20 s and then less often, until it works', async () => {
    const t = fakeTenant();
    t.available = 3;
    t.failRead = tokenRejected;
    const h = await startStream(t);

    let s = await statusWhere(h, 'blocked', (x) => x.state === 'blocked');
    expect(s.lastError).toMatchObject({ type: FailureType.KandjiAuth, during: 'fetch' });
    expect(t.reads()).toHaveLength(1);
    await settled(h);

    // Nothing is tried again before the first re-check…
    await world.env.sleep(FIRST_RECHECK_MS - 1_000);
    expect(t.reads()).toHaveLength(1);
    expect((await status(h)).state).toBe('blocked');
    // …and at it, once: still rejected, still blocked.
    await world.env.sleep(2_000);
    const firstFailure = s.lastError!.at;
    s = await statusWhere(h, 'the re-check to fail', (x) => x.lastError?.at !== firstFailure);
    expect(s.state).toBe('blocked');
    expect(t.reads()).toHaveLength(2);
    expect(t.reads()[1]!.at - t.reads()[0]!.at).toBeGreaterThanOrEqual(FIRST_RECHECK_MS);
    expect(s.counts.shipped).toBe(0);
    await settled(h);

    // The token is fixed: the next re-check (twice as late) reads from the same cursor and the stream recovers.
    t.failRead = undefined;
    await world.env.sleep(2 * FIRST_RECHECK_MS);
    s = await statusWhere(h, 'caught up', (x) => x.state === 'caught_up');
    expect(t.reads()).toHaveLength(3);
    expect(t.reads()[2]!.cursor).toEqual(t.reads()[0]!.cursor);
    expect(t.shippedEvents).toEqual([1, 2, 3]);
    expect(s.counts).toMatchObject({ fetched: 3, shipped: 3 });
    expect((s.cursor as AuditCursor).since).toBe(keyOfEvent(3));
  });

  it('resume cuts the re-check wait of a blocked stream short: it tries again at once', async () => {
    const t = fakeTenant();
    t.available = 2;
    t.failRead = tokenRejected;
    const h = await startStream(t);
    await statusWhere(h, 'blocked', (x) => x.state === 'blocked');
    await settled(h);
    t.failRead = undefined;

    // The server's clock does not move: only `resume` can make the stream read again now.
    await h.executeUpdate(resumeUpdate);
    const s = await statusWhere(h, 'caught up', (x) => x.state === 'caught_up');
    expect(t.reads()).toHaveLength(2);
    expect(t.shippedEvents).toEqual([1, 2]);
    expect(s.counts.shipped).toBe(2);
  });

  it('pause/resume: a paused stream calls neither Kandji nor Datadog however long it stays paused, and resumes from its cursor', async () => {
    const t = fakeTenant();
    t.available = 2;
    const h = await startStream(t);
    await statusWhere(h, 'caught up', (x) => x.state === 'caught_up' && x.counts.shipped === 2);
    await settled(h);
    // Caught up, it polls once a minute.
    await world.env.sleep(timings.pollIntervalMs);
    await waitFor('a poll', () => t.reads().length === 2);
    await statusWhere(h, 'caught up again', (x) => x.state === 'caught_up' && x.lastPollAt !== null);
    // The next wait has begun (its first attempt, which only waits, done): the pause cancels a wait, not a poll.
    await settled(h);

    expect(await h.executeUpdate(pauseUpdate)).toBe('paused');
    let s = await statusWhere(h, 'paused', (x) => x.state === 'paused');
    await settled(h);
    const committed = s.cursor as AuditCursor;
    expect(committed.since).toBe(keyOfEvent(2));
    const callsWhenPaused = t.calls.length;
    t.available = 5; // new events arrive meanwhile
    await world.env.sleep(30 * timings.pollIntervalMs);
    expect(t.calls).toHaveLength(callsWhenPaused);
    expect((await status(h)).state).toBe('paused');

    // Resume (the UI's signal): the next read starts where the stream stopped and ships the new events once.
    await h.signal(resumeSignal);
    s = await statusWhere(h, 'caught up with the new events', (x) => x.state === 'caught_up' && x.counts.shipped === 5);
    expect(t.calls[callsWhenPaused]).toMatchObject({ kind: 'read', cursor: committed });
    expect(t.shippedEvents).toEqual([1, 2, 3, 4, 5]);
    expect((s.cursor as AuditCursor).since).toBe(keyOfEvent(5));
    expect(s.paused).toBe(false);
  });

  it('caught up, the stream waits for news inside one activity (no timer, no workflow task per poll); a pause ends the wait at once', async () => {
    const t = fakeTenant();
    t.available = 2;
    t.holdIdleWaits = true;
    const h = await startStream(t);
    await statusWhere(h, 'caught up', (x) => x.state === 'caught_up' && x.counts.shipped === 2);
    await settled(h);
    // One poll interval on the timer, then the wait: it polls on its own while the workflow sleeps on nothing.
    await world.env.sleep(timings.pollIntervalMs);
    await waitFor('the idle wait to poll a few times', () => t.idleWaits === 1 && t.reads().length >= 5);
    await settled(h);
    const eventsWhileWaiting = (await h.fetchHistory()).events?.length;
    await waitFor('more polls', () => t.reads().length >= 10);
    expect((await h.fetchHistory()).events?.length).toBe(eventsWhileWaiting);
    expect((await status(h)).state).toBe('caught_up');

    // News: the wait hands it back, and the stream ships it once.
    t.available = 4;
    await statusWhere(h, 'the new events shipped', (x) => x.state === 'caught_up' && x.counts.shipped === 4);
    expect(t.shippedEvents).toEqual([1, 2, 3, 4]);

    // Waiting again, a pause ends the wait at once (the stream does not wait for the activity to hear of it):
    // nothing is shipped while paused, and resume reads from the cursor.
    await settled(h);
    await world.env.sleep(timings.pollIntervalMs);
    await waitFor('the second idle wait', () => t.idleWaits === 2);
    const pausedAt = Date.now();
    expect(await h.executeUpdate(pauseUpdate)).toBe('paused');
    await statusWhere(h, 'paused', (x) => x.state === 'paused');
    expect(Date.now() - pausedAt).toBeLessThan(10_000);
    const pending = (await h.describe()).raw.pendingActivities ?? [];
    expect(pending.filter((a) => a.activityType?.name === 'awaitAuditPage').map((a) => a.state)).toEqual([
      temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED,
    ]);
    t.available = 5;
    await new Promise((r) => setTimeout(r, 300));
    expect(t.shippedEvents).toEqual([1, 2, 3, 4]);
    t.holdIdleWaits = false; // the cancelled wait's next poll hands back (it would hear of the cancellation later)
    await h.signal(resumeSignal);
    await statusWhere(h, 'caught up after resume', (x) => x.state === 'caught_up' && x.counts.shipped === 5);
    expect(t.shippedEvents).toEqual([1, 2, 3, 4, 5]);
  });

  it('handoff: a page whose worker is gone (its queue never polled) ships from the shared queue after the handoff wait, once', async () => {
    const t = fakeTenant();
    t.available = 3;
    t.workerQueue = `gone-worker-${randomUUID()}`; // no worker polls it
    // The test server does not skip time while an activity waits to start: a short handoff keeps the test fast.
    const handoffMs = 1_000;
    const h = await startStream(t, { ...timings, handoffMs });
    await waitFor('the first read', () => t.reads().length === 1);
    await settled(h);
    expect(t.ships()).toHaveLength(0);

    // Nothing takes the ship from the worker's queue: after the handoff wait it goes to the shared queue.
    await world.env.sleep(handoffMs);
    const s = await statusWhere(h, 'caught up', (x) => x.state === 'caught_up' && x.counts.shipped === 3);
    expect(t.ships()).toHaveLength(1);
    expect(t.ships()[0]!.taskQueue).toBe(t.reads()[0]!.taskQueue);
    expect(t.ships()[0]!.at - t.reads()[0]!.at).toBeGreaterThanOrEqual(handoffMs);
    expect(t.shippedEvents).toEqual([1, 2, 3]);
    expect((s.cursor as AuditCursor).since).toBe(keyOfEvent(3));
  });

  it('ships to the worker holding the page carry the cursor without its digest; a worker that lost the page hands it to the shared queue with the whole cursor, once', async () => {
    const t = fakeTenant();
    t.workerQueue = world.taskQueue; // the file's worker is also "the worker holding the page"
    t.available = 3;
    const h = await startStream(t);
    await statusWhere(h, 'caught up', (x) => x.state === 'caught_up' && x.counts.shipped === 3);
    expect(t.ships()).toHaveLength(1);
    expect(t.ships()[0]!.cursor.digest).toBeUndefined(); // the first page read from a cursor without one
    await settled(h);

    t.losesHeldPages = true;
    t.available = 5;
    await world.env.sleep(timings.pollIntervalMs);
    const s = await statusWhere(h, 'the new events shipped', (x) => x.state === 'caught_up' && x.counts.shipped === 5);
    expect(t.shippedEvents).toEqual([1, 2, 3, 4, 5]);
    const ships = t.ships();
    expect(ships).toHaveLength(3); // the held try (lost), then the shared queue's
    expect(ships[1]!.cursor.digest).toBeUndefined();
    expect(ships[2]!.cursor.digest).toBe('digest-3');
    expect((s.cursor as AuditCursor).since).toBe(keyOfEvent(5));
  });

  it('backfill cancel: the backfill ships the page in flight and stops there; the live stream goes on', async () => {
    const t = fakeTenant();
    t.pageSize = 100;
    const h = await startStream(t);
    await statusWhere(h, 'caught up', (x) => x.state === 'caught_up');
    await settled(h);
    t.available = 1_000; // the window holds 1,000 events: ten pages

    let openGate!: () => void;
    t.shipGate = new Promise<void>((resolve) => (openGate = resolve));
    const firstShip = new Promise<void>((resolve) => (t.onShip = resolve));
    const to = new Date(START_MS + 1_000_000).toISOString();
    const accepted = await h.executeUpdate(backfillUpdate, { args: [{ from: START, to }] });
    expect(accepted.workflowId).toBe(`kandji-datadog/${t.tenant}/audit/${accepted.id}`);
    await firstShip; // the backfill ships its first page (and reads the next one ahead)

    expect(await h.executeUpdate(cancelBackfillUpdate, { args: [{ id: accepted.id }] })).toEqual([accepted.id]);
    expect((await status(h)).backfills).toEqual([expect.objectContaining({ id: accepted.id, state: 'cancelled' })]);
    openGate();

    const { status: ended } = await clockNeutralClient(world.env)
      .workflow.getHandle<typeof auditStream>(accepted.workflowId)
      .result();
    expect(ended.state).toBe('stopped');
    expect(ended.window).toEqual({ from: timestampKey(START), to: timestampKey(to) });
    // The page in flight was shipped and committed; nothing after it.
    expect(t.ships(true)).toHaveLength(1);
    expect(t.backfilledEvents).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect((ended.cursor as AuditCursor).since).toBe(keyOfEvent(100));
    // It reported back to the live stream…
    let s = await statusWhere(h, 'the backfill report', (x) => x.backfills?.[0]?.shipped !== undefined);
    expect(s.backfills?.[0]).toMatchObject({ id: accepted.id, state: 'cancelled', shipped: 100 });
    expect(t.ships(false)).toHaveLength(0);
    // …which goes on: its next poll ships the new events.
    await settled(h);
    await world.env.sleep(timings.pollIntervalMs);
    s = await statusWhere(h, 'the live stream to ship', (x) => x.state === 'caught_up' && x.counts.shipped === 1_000);
    expect(t.shippedEvents).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect(t.ships(true)).toHaveLength(1);
  });
});

/**
 * The snapshot streams' schedule, fast: the real workflow code on the time-skipping test server with fake sweep
 * activities, at the production poll intervals (the configuration's defaults: detections every 15 minutes, threats
 * every 5), moved through on the server's clock.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { SweepSnapshotStateInput, SweepSnapshotStateResult } from '../../activities';
import { FailureType } from '../../workflows/shared/failure-types';
import { backfillUpdate, resetStateUpdate, resumeUpdate, stopSignal } from '../../workflows/shared/messages';
import type { SnapshotCursor } from '../../workflows/shared/stream-status';
import type { SnapshotState } from '../../workflows/snapshot-state';
import { snapshotStream } from '../../workflows/snapshot-stream';
import { waitFor } from '../helpers/wait';
import { defaultTimings, settled, statusWhere, workflowTestWorld } from '../helpers/workflow-env';

/** A tenant's snapshot endpoint: always `rows` rows; each sweep writes a state of one chunk. */
class FakeSnapshot {
  readonly tenant = `t-${randomUUID().slice(0, 8)}`;
  readonly sweeps: { input: SweepSnapshotStateInput; at: number }[] = [];
  readonly dropped: SnapshotState[] = [];
  rows = 40;
  /** Failures the next sweep activities throw, in order. */
  readonly failures: Error[] = [];
  /** While set, every drop attempt fails (a drop that keeps failing, retried with backoff). */
  dropFails = false;
  dropAttempts = 0;
  /** Answers as the real sweep does when it saw the committed state unchanged (and was asked to say so). */
  answerUnchanged = false;

  async sweep(input: SweepSnapshotStateInput): Promise<SweepSnapshotStateResult> {
    // The server's clock (an attempt's scheduled time is not the retry's on the time-skipping server).
    this.sweeps.push({ input, at: await world.env.currentTimeMs() });
    const failure = this.failures.shift();
    if (failure) throw failure;
    const fresh = input.previous && !input.reship ? 0 : this.rows;
    const unchanged = this.answerUnchanged && input.acceptUnchanged === true && fresh === 0 && !!input.previous;
    return {
      state: unchanged ? input.previous! : { generation: input.generation, chunks: 1, rows: this.rows },
      ...(unchanged ? { unchanged: true } : {}),
      rows: this.rows,
      fresh,
      gone: 0,
      known: this.rows,
      pages: 1,
      previousRows: input.previous?.rows ?? 0,
      withoutIdentity: 0,
      shipped: fresh,
      batches: fresh > 0 ? 1 : 0,
      deadLetters: [],
      deadLettered: 0,
      trimmed: 0,
      stale: { count: 0, policy: 'ship' },
    };
  }
}

const fakes = new Map<string, FakeSnapshot>();
const fakeOf = (tenant: string) =>
  fakes.get(tenant) ??
  (() => {
    throw new Error(`no fake tenant ${tenant}`);
  })();
const activities = {
  sweepSnapshotState: (input: SweepSnapshotStateInput) => fakeOf(input.tenant).sweep(input),
  dropSnapshotState: async ({ state }: { state: SnapshotState }) => {
    for (const f of fakes.values()) {
      if (!f.sweeps.some((s) => s.input.generation === state.generation)) continue;
      f.dropAttempts += 1;
      if (f.dropFails) throw new Error('the chunk workflows did not answer');
      f.dropped.push(state);
    }
  },
};

const world = workflowTestWorld(activities);

async function startStream(
  f: FakeSnapshot,
  stream: 'detections' | 'threats',
  state: SnapshotState | null = null,
): Promise<WorkflowHandle<typeof snapshotStream>> {
  fakes.set(f.tenant, f);
  return world.start(snapshotStream, {
    workflowId: `kandji-datadog/${f.tenant}/${stream}`,
    args: [
      {
        tenant: f.tenant,
        stream,
        state,
        cursor: { since: new Date(0).toISOString(), known: 0 },
        timings: defaultTimings(stream),
      },
    ],
  });
}

describe('snapshot stream workflow (fake activities, time-skipping server)', () => {
  it.each([
    ['detections', 15],
    ['threats', 5],
  ] as const)(
    '%s: sweeps every %i minutes by default, not before, each from the state the sweep before committed',
    async (stream, minutes) => {
      const pollMs = defaultTimings(stream).pollIntervalMs;
      expect(pollMs).toBe(minutes * 60_000);
      const f = new FakeSnapshot();
      const h = await startStream(f, stream);
      let s = await statusWhere(h, 'the first sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 1);
      expect(s.counts).toMatchObject({ shipped: 40, fetched: 40 });
      await settled(h);

      await world.env.sleep(pollMs - 1_000);
      expect(f.sweeps).toHaveLength(1);
      await world.env.sleep(2_000);
      s = await statusWhere(h, 'the second sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 2);
      expect(f.sweeps[1]!.at - f.sweeps[0]!.at).toBeGreaterThanOrEqual(pollMs);

      // The second sweep compared against the first one's state, shipped nothing again, and replaced it.
      const first = f.sweeps[0]!.input;
      expect(first.previous).toBeNull();
      expect(f.sweeps[1]!.input.previous).toEqual({ generation: first.generation, chunks: 1, rows: 40 });
      expect(s.counts.shipped).toBe(40);
      expect((s.cursor as SnapshotCursor).state?.generation).toBe(f.sweeps[1]!.input.generation);
      await waitFor('the old state dropped', () => f.dropped.length === 1);
      expect(f.dropped[0]!.generation).toBe(first.generation);
    },
  );

  it('a backfill wakes a caught-up stream at once: the next sweep re-ships every row, and the backfill is done', async () => {
    const f = new FakeSnapshot();
    const h = await startStream(f, 'detections');
    await statusWhere(h, 'the first sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 1);
    await settled(h);

    // The server's clock does not move: only the backfill can start a sweep now.
    const accepted = await h.executeUpdate(backfillUpdate, {
      args: [{ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() }],
    });
    expect(accepted.workflowId).toBe('');
    const s = await statusWhere(h, 'the backfill done', (x) => x.backfills?.[0]?.state === 'done');
    expect(f.sweeps).toHaveLength(2);
    expect(f.sweeps[1]!.input.reship).toBe(true);
    expect(s.backfills?.[0]).toMatchObject({ id: accepted.id, shipped: 40 });
    expect(s.counts.shipped).toBe(80);
  });

  it('every activity a snapshot stream schedules notices a dead worker within minutes: a heartbeat timeout, or a start-to-close of at most 3 minutes', async () => {
    const f = new FakeSnapshot();
    const h = await startStream(f, 'detections');
    await statusWhere(h, 'the first sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 1);
    await settled(h);
    // A second sweep (a reset starts it at once) and the drop of the first generation: every kind of step.
    await h.executeUpdate(resetStateUpdate);
    await statusWhere(h, 'the second sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 2);
    await waitFor('the old state dropped', () => f.dropped.length === 1);
    await settled(h);

    const scheduled = [];
    for (const e of (await h.fetchHistory()).events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a) scheduled.push(a);
    }
    const types = scheduled.map((a) => a.activityType?.name);
    expect(types).toEqual(expect.arrayContaining(['sweepSnapshotState', 'dropSnapshotState']));
    const seconds = (d: { seconds?: unknown } | null | undefined) => Number(d?.seconds ?? 0);
    const noticedWithin = scheduled.map((a) => ({
      activity: a.activityType?.name,
      seconds: seconds(a.heartbeatTimeout) > 0 ? seconds(a.heartbeatTimeout) : seconds(a.startToCloseTimeout),
    }));
    for (const n of noticedWithin) expect(n).toEqual({ activity: n.activity, seconds: expect.any(Number) });
    expect(noticedWithin.filter((n) => !(n.seconds > 0 && n.seconds <= 180))).toEqual([]);
  });

  it('caught up, the stream polls by its activity retry policy: polls that change nothing reach no workflow code, a change is committed', async () => {
    const f = new FakeSnapshot();
    f.answerUnchanged = true;
    const h = await startStream(f, 'detections');
    await statusWhere(h, 'the first sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 1);
    await settled(h);
    const historyWhenCaughtUp = (await h.fetchHistory()).events?.length;
    const pollMs = defaultTimings('detections').pollIntervalMs;
    await world.env.sleep(3 * pollMs + 1_000);
    await waitFor('three polls', () => f.sweeps.length === 4);
    expect(f.sweeps.slice(1).map((s) => s.input.pollEveryMs)).toEqual([pollMs, pollMs, pollMs]);
    expect(f.sweeps[3]!.at - f.sweeps[1]!.at).toBeGreaterThanOrEqual(2 * pollMs);
    // Nothing reached the workflow: no event in its history, no sweep counted, nothing dropped.
    expect((await h.fetchHistory()).events?.length).toBe(historyWhenCaughtUp);
    const first = f.sweeps[0]!.input.generation;
    expect(f.sweeps.slice(1).map((s) => s.input.previous?.generation)).toEqual([first, first, first]);
    expect((await statusWhere(h, 'status', () => true)).counts.sweeps).toBe(1);
    expect(f.dropped).toHaveLength(0);

    // A change: the next poll completes and the stream commits it (and drops the state it replaces).
    f.answerUnchanged = false;
    f.rows = 41;
    await world.env.sleep(pollMs + 1_000);
    const s = await statusWhere(h, 'the change committed', (x) => x.counts.sweeps === 2);
    expect((s.cursor as SnapshotCursor).state?.generation).toBe(f.sweeps[4]!.input.generation);
    await waitFor('the old state dropped', () => f.dropped.length === 1);
  });

  it('a sweep that answers unchanged outside a poll (the first of a run) keeps the committed state: nothing is dropped', async () => {
    const f = new FakeSnapshot();
    f.answerUnchanged = true;
    const committed = { generation: '7-committed', chunks: 1, rows: 40 };
    const h = await startStream(f, 'detections', committed);
    const s = await statusWhere(h, 'the first sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 1);
    expect(f.sweeps[0]!.input).toMatchObject({ previous: committed, acceptUnchanged: true });
    expect(f.sweeps[0]!.input.pollEveryMs).toBeUndefined();
    expect((s.cursor as SnapshotCursor).state?.generation).toBe('7-committed');
    await settled(h);
    expect(f.dropAttempts).toBe(0);
  });

  it('a drop that keeps failing never holds the next sweep, and status names the new state while the old one is being dropped', async () => {
    const f = new FakeSnapshot();
    f.dropFails = true;
    const h = await startStream(f, 'detections');
    const wakeUp = () =>
      h.executeUpdate(backfillUpdate, {
        args: [{ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() }],
      });
    await statusWhere(h, 'the first sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 1);
    await settled(h);
    // The server's clock does not move: the failing drop waits in its retry backoff, for ever.
    await wakeUp();
    await waitFor('the old generation being dropped', () => f.dropAttempts >= 1);
    const s = await statusWhere(h, 'the second sweep committed', (x) => x.counts.sweeps === 2);
    expect((s.cursor as SnapshotCursor).state?.generation).toBe(f.sweeps[1]!.input.generation);
    await settled(h);
    await wakeUp();
    await statusWhere(h, 'a third sweep while the drop is still failing', (x) => x.counts.sweeps === 3);
    expect(f.dropped).toHaveLength(0);
  });

  it('a sweep whose activity ran out of attempts resumes, in the next activity, from the progress that activity reported', async () => {
    const f = new FakeSnapshot();
    const progress = {
      position: 'after-page-7',
      done: false,
      chunksWritten: 3,
      pending: '',
      rows: 7_000,
      fresh: 7_000,
      pages: 7,
      matched: 0,
      ship: { shipped: 7_000, batches: 7, deadLettered: 0, trimmed: 0, stale: 0 },
    };
    f.failures.push(
      ApplicationFailure.create({
        type: FailureType.DatadogUnavailable,
        message: 'Datadog answered 503',
        nonRetryable: true,
        details: [{ status: 503, body: null }, { sweepProgress: progress }],
      }),
    );
    const h = await startStream(f, 'detections');
    await statusWhere(h, 'the first activity failed', (x) => x.state === 'retrying');
    await settled(h);
    // `resume` cuts the failure wait short (the server's clock stays put).
    await h.executeUpdate(resumeUpdate);
    await statusWhere(h, 'the sweep done after a failure', (x) => x.state === 'caught_up' && x.counts.sweeps === 1);
    expect(f.sweeps).toHaveLength(2);
    expect(f.sweeps[1]!.input.generation).toBe(f.sweeps[0]!.input.generation);
    expect(f.sweeps[1]!.input.resume).toEqual(progress);
  });

  it('a missing chunk of the committed state blocks the stream with the way out in its message, instead of retrying for ever', async () => {
    const f = new FakeSnapshot();
    f.failures.push(
      ApplicationFailure.create({
        type: FailureType.SnapshotStateMissing,
        message: 'snapshot state chunk x/state/1-a/0 is missing: `reset-state` sweeps again from nothing',
        nonRetryable: true,
      }),
    );
    const h = await startStream(f, 'detections');
    const s = await statusWhere(h, 'blocked', (x) => x.state === 'blocked');
    expect(s.lastError).toMatchObject({ type: FailureType.SnapshotStateMissing, during: 'sweep' });
    expect(s.lastError?.message).toContain('reset-state');
  });

  it('reset-state forgets the committed state: the next sweep starts at once from nothing and re-ships every row', async () => {
    const f = new FakeSnapshot();
    const h = await startStream(f, 'detections');
    await statusWhere(h, 'the first sweep', (x) => x.state === 'caught_up' && x.counts.sweeps === 1);
    await settled(h);
    const answer = await h.executeUpdate(resetStateUpdate);
    expect(answer).toEqual({ forgotten: 40 });
    const s = await statusWhere(
      h,
      'the sweep after the reset',
      (x) => x.state === 'caught_up' && x.counts.sweeps === 2,
    );
    expect(f.sweeps[1]!.input.previous).toBeNull();
    expect(s.counts.shipped).toBe(80);
    await waitFor('the forgotten state dropped', () => f.dropped.length === 1);
    expect(f.dropped[0]!.generation).toBe(f.sweeps[0]!.input.generation);
  });

  it.each(['stopped', 'cancelled'] as const)(
    'a sweep %s while it fails has what it wrote dropped (no orphaned chunks)',
    async (how) => {
      const f = new FakeSnapshot();
      f.failures.push(
        ApplicationFailure.create({
          type: FailureType.DatadogRefusedAll,
          message: 'Datadog refuses everything',
          nonRetryable: true,
          details: [{ status: 404, body: null }, { sweepProgress: null }],
        }),
      );
      const h = await startStream(f, 'detections');
      await statusWhere(h, 'blocked mid-sweep', (x) => x.state === 'blocked');
      await settled(h);
      if (how === 'stopped') await h.signal(stopSignal);
      else await h.cancel();
      await h.result().catch(() => undefined);
      await waitFor('the abandoned generation dropped', () =>
        f.dropped.some((d) => d.generation === f.sweeps[0]!.input.generation),
      );
    },
  );
});

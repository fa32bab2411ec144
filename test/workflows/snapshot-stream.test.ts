/**
 * The snapshot streams' schedule, fast: the real workflow code on the time-skipping test server with fake sweep
 * activities, at the production poll intervals (the configuration's defaults: detections every 15 minutes, threats
 * every 5), moved through on the server's clock.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { SweepSnapshotStateInput, SweepSnapshotStateResult } from '../../activities';
import { backfillUpdate } from '../../workflows/shared/messages';
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

  async sweep(input: SweepSnapshotStateInput): Promise<SweepSnapshotStateResult> {
    this.sweeps.push({ input, at: Context.current().info.currentAttemptScheduledTimestampMs });
    const fresh = input.previous && !input.reship ? 0 : this.rows;
    return {
      state: { generation: input.generation, chunks: 1, rows: this.rows },
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
    for (const f of fakes.values())
      if (f.sweeps.some((s) => s.input.generation === state.generation)) f.dropped.push(state);
  },
};

const world = workflowTestWorld(activities);

async function startStream(
  f: FakeSnapshot,
  stream: 'detections' | 'threats',
): Promise<WorkflowHandle<typeof snapshotStream>> {
  fakes.set(f.tenant, f);
  return world.start(snapshotStream, {
    workflowId: `kandji-datadog/${f.tenant}/${stream}`,
    args: [
      {
        tenant: f.tenant,
        stream,
        seen: '',
        state: null,
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
});

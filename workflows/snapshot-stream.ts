/**
 * A snapshot stream: Kandji endpoints that list current state rather than events — vulnerability detections
 * (`service:detection`) and EDR threat details (`service:threat`). Each poll sweeps the whole list; rows not seen
 * in the previous sweep are shipped (for threats, also rows whose status changed). What the last sweep saw is kept
 * in chunks outside this workflow (snapshot-state.ts); this workflow keeps only which generation is current. The
 * loop over sweeps is in snapshot-sweep-loop.ts.
 */
import { allHandlersFinished, condition, deprecatePatch } from '@temporalio/workflow';
import { installBackfillHandlers } from './backfills';
import type { SnapshotStreamInput } from './shared/stream-input';
import type { StreamStatus } from './shared/stream-status';
import type { SnapshotState } from './snapshot-state';
import { SnapshotSweepLoop, type SnapshotBackfills } from './snapshot-sweep-loop';
import { createStreamRuntime } from './stream-runtime';

/**
 * Marks runs of 0.3 and later: state in chunks, any fleet size. Every supported run has it: deprecatePatch, which
 * stays while runs of 0.3 to 0.5 (they carry the plain marker) may be left (docs/versions.md).
 */
export const STATE_IN_CHUNKS = 'snapshot-state-in-chunks';

export interface SnapshotStreamResult {
  status: StreamStatus;
  /** The committed state. */
  state: SnapshotState | null;
}

export async function snapshotStream(input: SnapshotStreamInput): Promise<SnapshotStreamResult> {
  const runtime = createStreamRuntime(input.tenant, input.stream, input.cursor, input.timings, input.carried);
  const { status } = runtime;
  // A current-state list has no past to re-read: a backfill re-ships the current snapshot with the next sweep.
  let wake = false;
  // Re-ships requested of an earlier run and not done yet.
  const backfills: SnapshotBackfills = {
    pending: [...(input.reship ?? [])],
    woken: () => wake,
    sleep: () => void (wake = false),
  };
  installBackfillHandlers(runtime, {
    start: (info) => {
      backfills.pending.push(info.id);
      wake = true;
      return undefined;
    },
  });

  status.state = 'running';
  deprecatePatch(STATE_IN_CHUNKS);
  const state = await new SnapshotSweepLoop(input, runtime, backfills).run();
  status.state = 'stopped';
  await condition(allHandlersFinished);
  return { status, state };
}

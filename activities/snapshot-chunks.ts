/**
 * Reading and writing the chunks of a snapshot stream's durable state (workflows/snapshot-state.ts) through the
 * Temporal client of the activity's worker. Each chunk is one payload of at most ~256 KB.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { RemoteError } from '../src/remote-errors';
import { decodeFingerprints, encodeFingerprints } from '../src/streams/fingerprint64-set';
import {
  chunkQuery,
  chunkWorkflowId,
  dropChunkSignal,
  snapshotStateChunk,
  type SnapshotState,
} from '../workflows/snapshot-state';

export class SnapshotChunks {
  constructor(
    private readonly client: Client,
    private readonly streamWorkflowId: string,
    private readonly taskQueue: string,
  ) {}

  /** Writes chunk `index` of `generation` (replacing what an earlier attempt may have written there). */
  async write(generation: string, index: number, fps: readonly bigint[]): Promise<void> {
    await this.client.workflow.start(snapshotStateChunk, {
      workflowId: chunkWorkflowId(this.streamWorkflowId, generation, index),
      taskQueue: this.taskQueue,
      args: [{ fingerprints: encodeFingerprints(fps) }],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
  }

  async read(generation: string, index: number): Promise<BigUint64Array> {
    const id = chunkWorkflowId(this.streamWorkflowId, generation, index);
    try {
      return decodeFingerprints(await this.client.workflow.getHandle(id).query(chunkQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // Retried: a chunk that cannot be read is never taken for an empty state (that would re-ship everything).
        throw new RemoteError(
          'kandji',
          'unavailable',
          `snapshot state chunk ${id} is missing: it was deleted or never written`,
          {},
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Every fingerprint of a committed state, chunk by chunk. */
  async *readAll(state: SnapshotState): AsyncGenerator<BigUint64Array> {
    for (let i = 0; i < state.chunks; i++) yield await this.read(state.generation, i);
  }

  /** Ends the chunk workflows of a state no longer current. Chunks already gone are fine. */
  async drop(state: SnapshotState): Promise<void> {
    for (let i = 0; i < state.chunks; i++) {
      await this.client.workflow
        .getHandle(chunkWorkflowId(this.streamWorkflowId, state.generation, i))
        .signal(dropChunkSignal)
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
    }
  }
}

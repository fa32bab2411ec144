/**
 * Reading and writing the chunks of a snapshot stream's durable state (workflows/snapshot-state.ts) through the
 * Temporal client of the activity's worker. Each chunk is one payload of at most ~256 KB.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { decodeFingerprints, encodeFingerprints } from '../src/streams/fingerprint64-set';
import { FailureType } from '../workflows/shared/failure-types';
import { chunkWorkflowId } from '../workflows/shared/workflow-ids';
import { chunkQuery, dropChunkSignal, snapshotStateChunk, type SnapshotState } from '../workflows/snapshot-state';

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
        // Never taken for an empty state (that would re-ship everything), and never retried (it stays missing):
        // the stream shows `blocked` with this message until an operator resets its state.
        throw ApplicationFailure.create({
          type: FailureType.SnapshotStateMissing,
          message: `snapshot state chunk ${id} is missing (deleted, or never written): the stream cannot tell new rows from shipped ones; \`reset-state\` sweeps again from nothing (re-shipping the current rows)`,
          nonRetryable: true,
          cause: err,
        });
      }
      throw err;
    }
  }

  /** Every fingerprint of a committed state, chunk by chunk. */
  async *readAll(state: SnapshotState, keepAlive?: () => void): AsyncGenerator<BigUint64Array> {
    for (let i = 0; i < state.chunks; i++) {
      yield await this.read(state.generation, i);
      keepAlive?.();
    }
  }

  /**
   * Ends the chunk workflows of a generation no longer current. Chunks already gone are fine. Past `state.chunks`,
   * chunks that still exist are ended too (an attempt that died before its heartbeat reached the server, or a
   * sweep abandoned mid-way, may have written more than the recorded count): chunks are written in order, so the
   * first index that never existed ends the generation. `keepAlive` is called after each chunk (to heartbeat).
   */
  async drop(state: SnapshotState, keepAlive?: () => void): Promise<void> {
    for (let i = 0; i < state.chunks || (await this.exists(state.generation, i)); i++) {
      await this.client.workflow
        .getHandle(chunkWorkflowId(this.streamWorkflowId, state.generation, i))
        .signal(dropChunkSignal)
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
      keepAlive?.();
    }
  }

  /** Whether chunk `index` of `generation` was ever started (still held, or ended and not yet purged). */
  private async exists(generation: string, index: number): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(chunkWorkflowId(this.streamWorkflowId, generation, index)).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }
}

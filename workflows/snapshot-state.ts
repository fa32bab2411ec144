/**
 * The durable state of a snapshot stream (detections, threats): the fingerprints of every row its last complete
 * sweep saw. A fleet can have a million live detections (8 MB of fingerprints), far over what one payload may
 * carry, so the state is kept in chunks of at most KANDJI_SNAPSHOT_CHUNK_ROWS fingerprints (≤ 256 KB each), each
 * the input of a small workflow that holds it; the stream workflow keeps only which generation of chunks is
 * current. A sweep writes a new generation; the stream commits it by recording it, then drops the old one.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';

export interface SnapshotState {
  /** Id of the sweep that wrote it: chunk workflow ids are `<stream workflow id>/state/<generation>/<index>`. */
  generation: string;
  chunks: number;
  /** Rows (threats: row versions) it holds. */
  rows: number;
  /** A small state (at most 500 fingerprints, base64) kept here instead of in chunks; `chunks` is then 0. */
  inline?: string;
}

export interface SnapshotChunkInput {
  /** base64 of 8-byte little-endian fingerprints. */
  fingerprints: string;
}

export const chunkQuery = defineQuery<string>('fingerprints');
export const dropChunkSignal = defineSignal<[]>('drop');

/** Holds one chunk of a snapshot stream's state until the stream drops it. */
export async function snapshotStateChunk(input: SnapshotChunkInput): Promise<void> {
  let dropped = false;
  setHandler(chunkQuery, () => input.fingerprints);
  setHandler(dropChunkSignal, () => {
    dropped = true;
  });
  await condition(() => dropped);
}

/**
 * The fingerprints a snapshot stream has committed: the state of its last complete sweep, named by its status
 * (`cursor.state`, kept there so that a closed run's status query still answers it) and held inline or in chunk
 * workflows (snapshot-chunks.ts), read as the sweep reads them. `verify` ships a lost row again only when the stream
 * has committed it (else the stream's next sweep ships it: shipping it here too would send it twice).
 *
 * No stream, or no state yet: an empty set, every row uncommitted.
 */
import type { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { SnapshotChunks } from './snapshot-chunks';
import { Fingerprint64Set, decodeFingerprints } from '../src/streams/fingerprint64-set';
import { statusQuery } from '../workflows/shared/messages';
import type { SnapshotCursor, SnapshotStreamName } from '../workflows/shared/stream-status';
import { streamWorkflowId } from '../workflows/shared/workflow-ids';

export async function committedFingerprints(
  ctx: Context,
  tenant: string,
  stream: SnapshotStreamName,
  keepAlive: () => void,
): Promise<Fingerprint64Set> {
  const workflowId = streamWorkflowId(tenant, stream);
  let state: SnapshotCursor['state'];
  try {
    const status = await ctx.client.workflow.getHandle(workflowId).query(statusQuery);
    state = (status.cursor as SnapshotCursor | undefined)?.state;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return new Fingerprint64Set(0);
    throw err;
  }
  const committed = new Fingerprint64Set(state?.rows ?? 0);
  if (!state) return committed;
  if (state.inline) for (const fp of decodeFingerprints(state.inline)) committed.add(fp);
  const chunks = new SnapshotChunks(ctx.client, workflowId, ctx.info.taskQueue);
  for await (const part of chunks.readAll(state, keepAlive)) for (const fp of part) committed.add(fp);
  return committed;
}

/**
 * `reset-state`: makes a snapshot stream (detections, threats) forget what its sweeps saw, so the next sweep (started
 * at once) ships every current row again. The way out when the stream is blocked on a state chunk that is missing.
 * It causes duplicates in Datadog on purpose: it says how many first, and acts only with --yes.
 */
import type { Client } from '@temporalio/client';
import { resetStateUpdate, statusQuery } from '../../../workflows/shared/messages';
import type { SnapshotCursor, StreamName } from '../../../workflows/shared/stream-status';
import { streamWorkflowId } from '../../../workflows/shared/workflow-ids';
import type { TenantConfig } from '../../config/env';

const SNAPSHOT_STREAMS: readonly StreamName[] = ['detections', 'threats', 'behavioral-detections'];

export async function resetStateCommand(
  client: Client,
  tenant: TenantConfig,
  opts: { streams?: StreamName[]; yes: boolean },
  out: (line: string) => void,
): Promise<number> {
  const named = opts.streams ?? tenant.streams.filter((s) => SNAPSHOT_STREAMS.includes(s));
  const refused = named.filter((s) => !SNAPSHOT_STREAMS.includes(s));
  if (refused.length) {
    out(`reset-state: ${refused.join(', ')} has no snapshot state (only ${SNAPSHOT_STREAMS.join(', ')} do)`);
    return 2;
  }
  for (const name of named) {
    const handle = client.workflow.getHandle(streamWorkflowId(tenant.tenant, name));
    if (!opts.yes) {
      const status = await handle.query(statusQuery);
      const known = (status.cursor as SnapshotCursor).known;
      out(
        `${tenant.tenant}/${name}: reset-state forgets the ${known} rows the last sweep saw; the next sweep starts at once and ships every current row again: about ${known} duplicates in Datadog. Run again with --yes to do it.`,
      );
      continue;
    }
    const { forgotten } = await handle.executeUpdate(resetStateUpdate);
    out(
      `${tenant.tenant}/${name}: state reset (${forgotten} rows forgotten); the next sweep ships every current row again`,
    );
  }
  return opts.yes ? 0 : 1;
}

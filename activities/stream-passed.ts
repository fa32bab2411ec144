/**
 * Whether the tenant's audit stream has shipped past `endKey` — its cursor is there, or a poll reached the end of
 * Kandji's log after that time (`caughtUpAt`) — asked of the stream workflow (one query): verify must not ship again what the stream is about to ship (a stream behind, or catching up, would
 * otherwise send those events twice). A stream that is not running ships nothing more: its hour is verify's to
 * repair. Any other answer (no answer) is "not known": no repair.
 */
import type { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { AuditCursor } from '../workflows/shared/audit-cursor';
import { statusQuery } from '../workflows/shared/messages';
import { timestampKey } from '../workflows/shared/timestamps';
import { streamWorkflowId } from '../workflows/shared/workflow-ids';

export async function auditStreamPassed(ctx: Context, tenant: string, endKey: string): Promise<boolean> {
  try {
    const status = await ctx.client.workflow.getHandle(streamWorkflowId(tenant, 'audit')).query(statusQuery);
    const caughtUp = status.caughtUpAt !== null && timestampKey(status.caughtUpAt) >= endKey;
    return caughtUp || timestampKey((status.cursor as AuditCursor).since) >= endKey;
  } catch (err) {
    return err instanceof WorkflowNotFoundError;
  }
}

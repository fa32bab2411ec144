/**
 * Runs a tenant's request budget workflow through reservations that fit the hour, reservations that must wait, and
 * (from `extra`) whatever else a version adds, and returns the history of its first run as protobuf bytes. Used by
 * test/e2e/request-budget.replay.e2e.test.ts (RECORD_HISTORIES=1 saves it as test/histories/request-budget-<version>.binpb).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Harness } from './harness';
import { requestBudget, reserveUpdate } from '../../workflows/request-budget';

export async function recordBudgetHistory(
  extra?: (update: (req: Record<string, unknown>) => Promise<unknown>, handle: WorkflowHandle) => Promise<void>,
): Promise<Buffer> {
  const h = await Harness.start();
  try {
    await h.startWorker();
    const handle = await h.client.workflow.start(requestBudget, {
      workflowId: `kandji-datadog/${h.tenant}/request-budget`,
      taskQueue: h.temporal.taskQueue,
      args: [{ grants: [], perHour: 4 }],
    });
    const update = (req: Record<string, unknown>) => handle.executeUpdate(reserveUpdate, { args: [req as never] });
    // Callers that may wait the whole hour: every slot is booked.
    const maxWaitMs = 3_600_000;
    await update({ count: 1, perHour: 4, maxWaitMs });
    await update({ count: 2, perHour: 4, maxWaitMs });
    await update({ count: 1, perHour: 4, maxWaitMs }); // the hour is full now: the answer waits
    await update({ count: 3, perHour: 4, maxWaitMs });
    await extra?.(update, handle);
    await handle.query('budget');
    await handle.terminate('recorded');
    const history = await h.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
    return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  } finally {
    await h.close();
  }
}

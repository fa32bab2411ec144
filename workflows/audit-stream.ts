/**
 * The audit stream: Kandji's audit log (admin actions, EDR threats, vulnerability events, …) to Datadog
 * `service:audit`, for one tenant, forever. The cursor lives here and moves only after Datadog accepted a page.
 */
import {
  type ActivityOptions,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { initialAuditCursor, type AuditCursor } from './audit-cursor';
import { backfillFinishedSignal, installBackfillHandlers } from './backfills';
import { NON_RETRYABLE_FAILURE_TYPES } from './failure-types';
import { recordShipment } from './shipment';
import type { AuditStreamInput } from './stream-input';
import { createStreamRuntime } from './stream-runtime';
import type { StreamStatus } from './stream-status';

const retry = (maximumAttempts: number, maximumInterval: '1 minute' | '2 minutes'): ActivityOptions['retry'] => ({
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval,
  maximumAttempts,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] as string[],
});

// The activities set a jittered nextRetryDelay themselves (or the remote's Retry-After); these policies bound how
// long one activity keeps retrying before the workflow records the error in status and tries again.
const fetchActivities = (attempts: number) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '1 minute',
    retry: retry(attempts, '1 minute'),
  });
const { shipBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: retry(20, '2 minutes'),
});

export interface AuditStreamResult {
  status: StreamStatus;
}

export async function auditStream(input: AuditStreamInput): Promise<AuditStreamResult> {
  const now = () => new Date().toISOString();
  const rt = createStreamRuntime(input.tenant, 'audit', input.cursor, input.timings, input.carried);
  const { fetchAuditPage } = fetchActivities(input.timings.fetchAttempts ?? 8);
  const { status } = rt;
  let cursor: AuditCursor = input.cursor;
  const backfill = input.backfill;
  if (backfill) status.window = { from: backfill.from, to: backfill.to };
  else {
    const self = workflowInfo().workflowId;
    installBackfillHandlers(rt, {
      // Each backfill is a child workflow with its own cursor over the window; the live tail keeps running.
      start: async (info) => {
        const workflowId = `${self}/${info.id}`;
        await startChild(auditStream, {
          workflowId,
          args: [{ tenant: input.tenant, cursor: initialAuditCursor(info.from, info.to), timings: input.timings, backfill: { id: info.id, from: info.from, to: info.to, parentWorkflowId: self } }],
          parentClosePolicy: 'ABANDON', // survives this run's continue-as-new; reports back by signal
        });
        return workflowId;
      },
    });
  }

  status.state = 'running';
  while (!rt.stopRequested()) {
    await rt.whilePaused();
    if (rt.stopRequested()) break;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof auditStream>({ ...input, cursor, carried: rt.carried() });
    }

    const page = await rt.untilDone('fetch', () => fetchAuditPage({ tenant: input.tenant, cursor }));
    if (!page) break;
    status.lastPollAt = now();
    status.counts.pages += 1;
    status.counts.skippedRepeats += page.skipped;
    status.counts.late += page.late ?? 0;

    if (page.events.length > 0) {
      status.counts.fetched += page.events.length;
      const shipped = await rt.untilDone('ship', () => shipBatch({ tenant: input.tenant, stream: 'audit', records: page.events }));
      if (!shipped) break; // stop requested while Datadog was failing: the cursor stays before this page
      recordShipment(status, shipped);
    }
    cursor = page.next;
    status.cursor = cursor;

    if (cursor.page === null && backfill) break; // the window is done
    if (cursor.page === null) {
      status.state = 'caught_up';
      status.caughtUpAt = now();
      await rt.pause(input.timings.pollIntervalMs);
      if (!rt.stopRequested()) status.state = 'running';
    }
  }

  status.state = 'stopped';
  if (backfill) {
    const state = rt.stopRequested() ? 'cancelled' : 'done';
    await getExternalWorkflowHandle(backfill.parentWorkflowId)
      .signal(backfillFinishedSignal, { id: backfill.id, state, shipped: status.counts.shipped })
      .catch(() => undefined); // the stream may have been stopped meanwhile
  }
  await condition(allHandlersFinished);
  return { status };
}

/**
 * The audit stream: Kandji's audit log (admin actions, EDR threats, vulnerability events, …) to Datadog
 * `service:audit`, for one tenant, forever. The cursor lives here and moves only after Datadog accepted a page.
 */
import { type ActivityOptions, allHandlersFinished, condition, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AuditCursor } from './audit-cursor';
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

  status.state = 'running';
  while (!rt.stopRequested()) {
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

    if (cursor.page === null) {
      status.state = 'caught_up';
      status.caughtUpAt = now();
      await rt.pause(input.timings.pollIntervalMs);
      if (!rt.stopRequested()) status.state = 'running';
    }
  }

  status.state = 'stopped';
  await condition(allHandlersFinished);
  return { status };
}

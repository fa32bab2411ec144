/**
 * The audit loop of 0.1 and 0.2, where records rode through history (fetch result, ship input). Kept only so that
 * runs started by those versions replay and finish their run; at their next continue-as-new they take the 0.3
 * loop (audit-stream.ts). Do not change: its commands must match the recorded histories.
 */
import {
  type ActivityOptions,
  allHandlersFinished,
  condition,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AuditCursor } from './shared/audit-cursor';
import { NON_RETRYABLE_FAILURE_TYPES } from './shared/failure-policy';
import type { AuditStreamInput } from './shared/stream-input';
import { nowIso } from './shared/timestamps';
import { recordShipment } from './shipment';
import type { StreamRuntime } from './stream-runtime';

const retry = (maximumAttempts: number, maximumInterval: '1 minute' | '2 minutes'): ActivityOptions['retry'] => ({
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval,
  maximumAttempts,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] as string[],
});

export async function legacyAuditLoop(
  input: AuditStreamInput,
  runtime: StreamRuntime,
  continueWith: (cursor: AuditCursor) => Promise<never>,
): Promise<void> {
  const now = nowIso;
  const { fetchAuditPage } = proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '1 minute',
    retry: retry(input.timings.fetchAttempts ?? 8, '1 minute'),
  });
  const { shipBatch } = proxyActivities<Activities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '1 minute',
    retry: retry(20, '2 minutes'),
  });
  const { status } = runtime;
  let cursor: AuditCursor = input.cursor;
  while (!runtime.stopRequested()) {
    await runtime.whilePaused();
    if (runtime.stopRequested()) break;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueWith(cursor);
    }

    const page = await runtime.untilDone('fetch', () => fetchAuditPage({ tenant: input.tenant, cursor }));
    if (!page) break;
    status.lastPollAt = now();
    status.counts.pages += 1;
    status.counts.skippedRepeats += page.skipped;
    status.counts.late += page.late ?? 0;

    if (page.events.length > 0) {
      status.counts.fetched += page.events.length;
      const shipped = await runtime.untilDone('ship', () =>
        shipBatch({ tenant: input.tenant, stream: 'audit', records: page.events }),
      );
      if (!shipped) break;
      recordShipment(status, shipped);
    }
    cursor = page.next;
    status.cursor = cursor;

    if (cursor.page === null && input.backfill) break;
    if (cursor.page === null) {
      status.state = 'caught_up';
      status.caughtUpAt = now();
      await runtime.sleep(input.timings.pollIntervalMs);
      if (!runtime.stopRequested()) status.state = 'running';
    }
  }
}

/**
 * A snapshot stream: Kandji endpoints that list current state rather than events — vulnerability detections
 * (`service:detection`) and EDR threat details (`service:threat`). Each poll sweeps the whole list; rows not seen
 * in the previous sweep are shipped (for threats, also rows whose status changed). The workflow keeps only the
 * fingerprints of what the last sweep saw.
 */
import { type ActivityOptions, allHandlersFinished, condition, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURE_TYPES } from './failure-types';
import { recordShipment } from './shipment';
import type { SnapshotStreamInput } from './stream-input';
import { installBackfillHandlers } from './backfills';
import { createStreamRuntime } from './stream-runtime';
import type { StreamStatus } from './stream-status';

const sweepActivities = (attempts: number) =>
  proxyActivities<Activities>({
    // A sweep of a large tenant reads hundreds of pages under the request budget.
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: attempts,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] as string[],
    } satisfies ActivityOptions['retry'],
  });

export interface SnapshotStreamResult {
  status: StreamStatus;
  seen: string;
}

export async function snapshotStream(input: SnapshotStreamInput): Promise<SnapshotStreamResult> {
  const now = () => new Date().toISOString();
  const rt = createStreamRuntime(input.tenant, input.stream, input.cursor, input.timings, input.carried);
  const { sweepSnapshot } = sweepActivities(input.timings.fetchAttempts ?? 10);
  const { status } = rt;
  let seen = input.seen;
  // A current-state list has no past to re-read: a backfill re-ships the current snapshot with the next sweep.
  const pendingBackfills: string[] = [];
  let wake = false;
  installBackfillHandlers(rt, {
    start: (info) => {
      pendingBackfills.push(info.id);
      wake = true;
      return undefined;
    },
  });

  status.state = 'running';
  while (!rt.stopRequested()) {
    await rt.whilePaused();
    if (rt.stopRequested()) break;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof snapshotStream>({ ...input, seen, cursor: status.cursor as SnapshotStreamInput['cursor'], carried: rt.carried() });
    }
    const startedAt = now();
    const reship = pendingBackfills.splice(0);
    const sweep = await rt.untilDone('sweep', () =>
      sweepSnapshot({ tenant: input.tenant, stream: input.stream, seen: reship.length > 0 ? '' : seen }),
    );
    if (!sweep) break;
    for (const b of status.backfills ?? []) {
      if (reship.includes(b.id) && b.state === 'running') Object.assign(b, { state: 'done', shipped: sweep.shipped, finishedAt: now() });
    }
    seen = sweep.seen;
    status.lastPollAt = startedAt;
    status.cursor = { since: startedAt, known: sweep.known };
    status.counts.pages += sweep.pages;
    status.counts.fetched += sweep.fresh;
    status.counts.sweeps += 1;
    status.counts.gone += sweep.gone;
    recordShipment(status, sweep);

    status.state = 'caught_up';
    status.caughtUpAt = now();
    wake = false;
    await condition(() => wake || rt.stopRequested() || status.paused === true, input.timings.pollIntervalMs);
    if (!rt.stopRequested()) status.state = 'running';
  }

  status.state = 'stopped';
  await condition(allHandlersFinished);
  return { status, seen };
}

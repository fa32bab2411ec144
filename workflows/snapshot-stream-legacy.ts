/**
 * The snapshot loop of 0.2, whose state was one payload of fingerprints (at most about 200,000 rows). Kept only so
 * that runs started by 0.2 replay and finish their run; at their next continue-as-new they take the 0.3 loop
 * (snapshot-stream.ts), which reads their fingerprints once. Do not change: its commands must match the recorded
 * histories.
 */
import {
  type ActivityOptions,
  allHandlersFinished,
  condition,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURE_TYPES } from './shared/failure-policy';
import type { SnapshotStreamInput } from './shared/stream-input';
import { nowIso } from './shared/timestamps';
import { recordShipment } from './shipment';
import type { StreamRuntime } from './stream-runtime';

export async function legacySnapshotLoop(
  input: SnapshotStreamInput,
  runtime: StreamRuntime,
  backfills: { pending: string[]; woken(): boolean; sleep(): void },
  continueWith: (seen: string) => Promise<never>,
): Promise<string> {
  const now = nowIso;
  const { sweepSnapshot } = proxyActivities<Activities>({
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: input.timings.fetchAttempts ?? 10,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] as string[],
    } satisfies ActivityOptions['retry'],
  });
  const { status } = runtime;
  let seen = input.seen;
  while (!runtime.stopRequested()) {
    await runtime.whilePaused();
    if (runtime.stopRequested()) break;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueWith(seen);
    }
    const startedAt = now();
    const reship = backfills.pending.splice(0);
    const sweep = await runtime.untilDone('sweep', () =>
      sweepSnapshot({
        tenant: input.tenant,
        // Only runs started before 0.3 replay this loop: behavioral detections (0.5) never ran it.
        stream: input.stream as 'detections' | 'threats',
        seen: reship.length > 0 ? '' : seen,
      }),
    );
    if (!sweep) break;
    for (const b of status.backfills ?? []) {
      if (reship.includes(b.id) && b.state === 'running')
        Object.assign(b, { state: 'done', shipped: sweep.shipped, finishedAt: now() });
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
    backfills.sleep();
    await condition(
      () => backfills.woken() || runtime.stopRequested() || status.paused === true,
      input.timings.pollIntervalMs,
    );
    if (!runtime.stopRequested()) status.state = 'running';
  }
  return seen;
}

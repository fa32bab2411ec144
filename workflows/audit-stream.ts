/**
 * The audit stream: Kandji's audit log (admin actions, EDR threats, vulnerability events, …) to Datadog
 * `service:audit`, for one tenant, forever. The cursor lives here and moves only after Datadog accepted a page.
 */
import {
  ActivityFailure,
  type ActivityOptions,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { statusQuery, stopSignal } from './messages';
import type { AuditStreamInput } from './stream-input';
import { emptyCounts, type StreamError, type StreamStatus } from './stream-status';
import { NON_RETRYABLE_FAILURE_TYPES, isAuthFailure } from './failure-types';

const retry = (maximumAttempts: number, maximumInterval: '1 minute' | '2 minutes'): ActivityOptions['retry'] => ({
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval,
  maximumAttempts,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] as string[],
});

// The activities set a jittered nextRetryDelay themselves (or the remote's Retry-After); these policies bound how
// long one activity keeps retrying before the workflow records the error in status and tries again.
const { fetchAuditPage } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: retry(8, '1 minute'),
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
  const status: StreamStatus = {
    tenant: input.tenant,
    stream: 'audit',
    state: 'starting',
    cursor: input.cursor,
    counts: { ...emptyCounts(), ...input.carried?.counts },
    pollIntervalMs: input.timings.pollIntervalMs,
    startedAt: input.carried?.startedAt ?? now(),
    lastPollAt: null,
    lastShipAt: input.carried?.lastShipAt ?? null,
    caughtUpAt: input.carried?.caughtUpAt ?? null,
    lastError: input.carried?.lastError ?? null,
    lastDeadLetter: input.carried?.lastDeadLetter ?? null,
    generation: (input.carried?.generation ?? 0) + 1,
  };
  let stopRequested = false;
  setHandler(statusQuery, () => status);
  setHandler(stopSignal, () => {
    stopRequested = true;
  });

  /** Waits `ms`, returning early on stop. */
  const pause = (ms: number) => condition(() => stopRequested, ms);

  /**
   * Runs one activity until it succeeds, so a page fetched from Kandji is never fetched twice and never lost:
   * after the activity's own retries, the failure is recorded in status and the step is tried again, slowly
   * when credentials were rejected. Returns undefined only when a stop was requested meanwhile.
   */
  async function untilDone<T>(during: StreamError['during'], step: () => Promise<T>): Promise<T | undefined> {
    for (;;) {
      try {
        const result = await step();
        if (status.state === 'blocked' || status.state === 'retrying') status.state = 'running';
        return result;
      } catch (err) {
        const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
        const type = failure?.type ?? (err instanceof Error ? err.name : 'Error');
        const message = failure?.message ?? (err instanceof Error ? err.message : String(err));
        status.lastError = { type, message, during, at: now() };
        const blocked = isAuthFailure(type);
        status.state = blocked ? 'blocked' : 'retrying';
        log.warn('stream step failed; will try again', { during, type, message, blocked });
        await pause(blocked ? input.timings.authRecheckMs : input.timings.errorBackoffMs);
        if (stopRequested) return undefined;
      }
    }
  }

  status.state = 'running';
  while (!stopRequested) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      const { counts, startedAt, generation, lastShipAt, caughtUpAt, lastError, lastDeadLetter } = status;
      await continueAsNew<typeof auditStream>({
        ...input,
        cursor: status.cursor,
        carried: { counts, startedAt, generation, lastShipAt, caughtUpAt, lastError, lastDeadLetter },
      });
    }

    const page = await untilDone('fetch', () => fetchAuditPage({ tenant: input.tenant, cursor: status.cursor }));
    if (!page) break;
    status.lastPollAt = now();
    status.counts.pages += 1;
    status.counts.skippedRepeats += page.skipped;
    status.counts.late += page.late ?? 0;

    if (page.events.length > 0) {
      status.counts.fetched += page.events.length;
      const shipped = await untilDone('ship', () =>
        shipBatch({ tenant: input.tenant, stream: 'audit', records: page.events }),
      );
      if (!shipped) break; // stop requested while Datadog was failing: the cursor stays before this page
      status.counts.shipped += shipped.shipped;
      status.counts.batches += shipped.batches;
      status.counts.stale += shipped.stale.count;
      status.counts.trimmed += shipped.trimmed;
      status.counts.deadLettered += shipped.deadLetters.length;
      const dead = shipped.deadLetters[shipped.deadLetters.length - 1];
      if (dead) status.lastDeadLetter = { identity: dead.identity, reason: dead.reason, at: now() };
      status.lastShipAt = now();
    }
    status.cursor = page.next;

    if (page.next.page === null) {
      status.state = 'caught_up';
      status.caughtUpAt = now();
      await pause(input.timings.pollIntervalMs);
      if (!stopRequested) status.state = 'running';
    }
  }

  status.state = 'stopped';
  await condition(allHandlersFinished);
  return { status };
}

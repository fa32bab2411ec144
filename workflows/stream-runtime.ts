/**
 * What every stream workflow shares: its status (answered by the `status` query), the `stop` signal, waits that
 * end early on stop, and running a step until it succeeds while recording failures in status.
 */
import { ActivityFailure, ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import { FailureType, isAuthFailure } from './failure-types';
import { statusQuery, stopSignal } from './messages';
import type { StreamTimings } from './stream-input';
import { emptyCounts, type StreamCursor, type StreamError, type StreamName, type StreamStatus } from './stream-status';

export type CarriedStatus = Pick<StreamStatus, 'counts' | 'startedAt' | 'generation' | 'lastShipAt' | 'caughtUpAt' | 'lastError' | 'lastDeadLetter'>;

export interface StreamRuntime {
  status: StreamStatus;
  stopRequested(): boolean;
  /** Waits `ms`, returning early on stop. */
  pause(ms: number): Promise<boolean>;
  /**
   * Runs one step until it succeeds. After the activity's own retries, the failure is recorded in status and the
   * step is tried again: slowly when credentials were rejected or the endpoint is missing (not licensed), after
   * the error backoff otherwise. Returns undefined only when a stop was requested meanwhile.
   */
  untilDone<T>(during: StreamError['during'], step: () => Promise<T>): Promise<T | undefined>;
  /** What continue-as-new carries over. */
  carried(): CarriedStatus;
}

const now = () => new Date().toISOString();

/** How a failure type leaves the stream: `blocked` (needs someone), `unavailable` (not licensed), or retrying. */
function stateAfter(type: string): StreamStatus['state'] {
  if (isAuthFailure(type) || type === FailureType.KandjiBadResponse || type === FailureType.KandjiUnsafeLink) return 'blocked';
  if (type === FailureType.KandjiNotFound) return 'unavailable';
  return 'retrying';
}

export function createStreamRuntime(
  tenant: string,
  stream: StreamName,
  cursor: StreamCursor,
  timings: StreamTimings,
  carried: CarriedStatus | undefined,
): StreamRuntime {
  const status: StreamStatus = {
    tenant,
    stream,
    state: 'starting',
    cursor,
    counts: { ...emptyCounts(), ...carried?.counts },
    pollIntervalMs: timings.pollIntervalMs,
    startedAt: carried?.startedAt ?? now(),
    lastPollAt: null,
    lastShipAt: carried?.lastShipAt ?? null,
    caughtUpAt: carried?.caughtUpAt ?? null,
    lastError: carried?.lastError ?? null,
    lastDeadLetter: carried?.lastDeadLetter ?? null,
    generation: (carried?.generation ?? 0) + 1,
  };
  let stopRequested = false;
  setHandler(statusQuery, () => status);
  setHandler(stopSignal, () => {
    stopRequested = true;
  });
  const pause = (ms: number) => condition(() => stopRequested, ms);

  return {
    status,
    stopRequested: () => stopRequested,
    pause,
    async untilDone<T>(during: StreamError['during'], step: () => Promise<T>): Promise<T | undefined> {
      for (;;) {
        try {
          const result = await step();
          if (status.state !== 'running' && status.state !== 'caught_up') status.state = 'running';
          return result;
        } catch (err) {
          const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
          const type = failure?.type ?? (err instanceof Error ? err.name : 'Error');
          const message = failure?.message ?? (err instanceof Error ? err.message : String(err));
          status.lastError = { type, message, during, at: now() };
          status.state = stateAfter(type);
          log.warn('stream step failed; will try again', { stream, during, type, message, state: status.state });
          await pause(status.state === 'retrying' ? timings.errorBackoffMs : timings.authRecheckMs);
          if (stopRequested) return undefined;
        }
      }
    },
    carried: () => {
      const { counts, startedAt, generation, lastShipAt, caughtUpAt, lastError, lastDeadLetter } = status;
      return { counts, startedAt, generation, lastShipAt, caughtUpAt, lastError, lastDeadLetter };
    },
  };
}

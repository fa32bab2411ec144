/**
 * A caught-up stream's long step (the audit stream's idle wait, a snapshot stream's poll) raced against what wakes
 * the stream: the step runs in a cancellation scope of its own; when `woken` holds first, the step is cancelled and
 * waited for, so that it never outlives the round. Both streams wake on stop, pause and a new poll interval, each on
 * its own operator requests too.
 */
import { CancellationScope, condition } from '@temporalio/workflow';

/** How the step ended: with its result, or its failure (a cancellation, when it was woken). */
export type StepEnd<T> = { result: T } | { failure: unknown };

export interface WakeRace<T> {
  /** True when `woken` held before the step ended (it was then cancelled). */
  woken: boolean;
  /** How the step ended; after a wake, what it did before it heard of the cancellation (a result, or a failure). */
  end: StepEnd<T>;
}

/**
 * Runs `step` until it ends or `woken()` holds. `started` runs once the step is scheduled, before the wait (the
 * stream publishes its gauges there: the order of commands is the workflow's history).
 */
export async function raceWake<T>(
  step: () => Promise<T>,
  woken: () => boolean,
  started: () => void = () => undefined,
): Promise<WakeRace<T>> {
  const scope = new CancellationScope();
  let end: StepEnd<T> | undefined;
  const running = scope.run(step).then(
    (result): StepEnd<T> => (end = { result }),
    (failure: unknown): StepEnd<T> => (end = { failure }),
  );
  started();
  await condition(() => end !== undefined || woken());
  if (end) return { woken: false, end };
  scope.cancel();
  return { woken: true, end: await running };
}

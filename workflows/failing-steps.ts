/**
 * The steps of one stream that are failing right now, and which of them its status shows.
 *
 * A stream can run steps at once (the audit stream reads page N+1 while page N ships), each in its own failure
 * loop. One step succeeding says nothing about another: a page read ahead arriving after the ship was refused must
 * not turn a `blocked` stream back to `running` while the ship still waits for someone. So the status shows the most
 * pressing failure still waiting (blocked, then unavailable, then retrying; the latest among equals), and a stream
 * is running again only once no step is failing. Plain data: no Temporal API, the same in every replay.
 */
import type { StreamError, StreamState } from './shared/stream-status';

export type FailedState = Extract<StreamState, 'blocked' | 'unavailable' | 'retrying'>;

export interface StepFailure {
  state: FailedState;
  error: StreamError;
}

const PRESSING: Record<FailedState, number> = { retrying: 0, unavailable: 1, blocked: 2 };

export function isFailedState(state: StreamState): state is FailedState {
  return state === 'blocked' || state === 'unavailable' || state === 'retrying';
}

export class FailingSteps {
  private readonly failing = new Map<number, StepFailure>();
  private steps = 0;

  /** A key for a new step (one call of the stream's failure loop). */
  open(): number {
    return this.steps++;
  }

  /** Records the step's latest failure; it counts as the latest among equals. */
  fail(step: number, failure: StepFailure): void {
    this.failing.delete(step);
    this.failing.set(step, failure);
  }

  /** The step succeeded, or ended otherwise (stopped, cancelled, continued as new). */
  clear(step: number): void {
    this.failing.delete(step);
  }

  /** The failure a status shows: the most pressing one, the latest among equals; none when no step is failing. */
  shown(): StepFailure | undefined {
    let shown: StepFailure | undefined;
    for (const f of this.failing.values()) if (!shown || PRESSING[f.state] >= PRESSING[shown.state]) shown = f;
    return shown;
  }
}

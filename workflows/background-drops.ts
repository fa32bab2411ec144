/** Drops of a snapshot stream's old state generations, beside its sweeps (snapshot-sweep-loop.ts). */
import { log } from '@temporalio/workflow';
import type { SnapshotState } from './snapshot-state';

/**
 * Drops of generations no longer current, run beside the sweeps: a drop never holds the next sweep. One that fails
 * (its retries spent) is tried again at the next round; those not done are carried across continue-as-new.
 */
export class BackgroundDrops {
  private readonly running = new Map<string, Promise<void>>();
  private readonly failed = new Map<string, SnapshotState>();
  private readonly states = new Map<string, SnapshotState>();

  constructor(
    carried: SnapshotState[],
    private readonly dropActivity: (input: { state: SnapshotState }) => Promise<void>,
  ) {
    for (const s of carried) this.add(s);
  }

  add(state: SnapshotState): void {
    if (this.running.has(state.generation)) return;
    this.states.set(state.generation, state);
    this.failed.delete(state.generation);
    const run = this.dropActivity({ state }).then(
      () => {
        this.states.delete(state.generation);
      },
      (err: unknown) => {
        log.warn('snapshot state not dropped; tried again at the next sweep', {
          generation: state.generation,
          error: String(err),
        });
        this.failed.set(state.generation, state);
      },
    );
    this.running.set(
      state.generation,
      run.finally(() => this.running.delete(state.generation)),
    );
  }

  retryFailed(): void {
    for (const s of [...this.failed.values()]) this.add(s);
  }

  /** Generations not dropped yet (running or failed): carried across continue-as-new. */
  pending(): SnapshotState[] {
    return [...this.states.values()];
  }

  /** Waits for the drops running, then tries those that failed (e.g. cancelled with the workflow) once more. */
  async finish(): Promise<void> {
    await Promise.all(this.running.values());
    this.retryFailed();
    await Promise.all(this.running.values());
  }
}

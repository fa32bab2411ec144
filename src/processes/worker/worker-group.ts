/**
 * A worker process's two Temporal workers: one on the service's task queue (workflows, and the activities any
 * worker may run), and one on a task queue of this process alone, where the ship activities for the pages this
 * process holds in memory are routed (temporalio/samples-typescript `worker-specific-task-queues`). They run and
 * stop together.
 */
import type { State, Worker } from '@temporalio/worker';

export class WorkerGroup {
  readonly workers: Worker[];

  /**
   * `shuttingDown` is aborted when a shutdown begins: the activities' long waits (the idle audit poll) see it and
   * hand back at once instead of holding the shutdown for its grace time.
   */
  constructor(
    readonly main: Worker,
    readonly own?: Worker,
    private readonly shuttingDown?: AbortController,
  ) {
    this.workers = own ? [main, own] : [main];
  }

  /** Runs both; when one stops (shutdown or failure) the other is shut down too. Rejects with the first failure. */
  async run(): Promise<void> {
    const runs = this.workers.map((w) => w.run());
    await Promise.race(runs).catch(() => undefined);
    this.shutdown();
    const results = await Promise.allSettled(runs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  shutdown(): void {
    this.shuttingDown?.abort();
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }

  getState(): State {
    return this.main.getState();
  }
}

/**
 * A snapshot sweep's heartbeats: the progress last checkpointed, heartbeated again (unchanged) while state loads,
 * pages wait or rows ship, so a dead worker is noticed within the heartbeat timeout and a live one never looks dead.
 * Never a progress ahead of what was shipped: a retry resuming from it would skip rows. At most one heartbeat every
 * PULSE_MS (each is a billed action): a quick sweep, the idle case, sends none.
 */
import type { Context } from '@temporalio/activity';
import { PULSE_MS } from './heartbeat-pulse';
import type { SweepProgress } from './sweep-snapshot-state';

export class SweepHeartbeats {
  private lastCheckpoint: SweepProgress | undefined;
  private lastBeat: number;
  private lastProgressBeat: number;

  constructor(
    private readonly ctx: Context,
    private readonly now: () => number,
    resumed: SweepProgress | undefined,
  ) {
    this.lastCheckpoint = resumed;
    this.lastBeat = now();
    this.lastProgressBeat = this.lastBeat;
  }

  /** The progress last checkpointed (or resumed from). */
  last(): SweepProgress | undefined {
    return this.lastCheckpoint;
  }

  /** Heartbeats the last checkpoint again if the last heartbeat is PULSE_MS old. */
  readonly keepAlive = (): void => {
    if (this.now() - this.lastBeat >= PULSE_MS) this.beat();
  };

  /** A new checkpoint: heartbeated if the last one heartbeated is PULSE_MS old (a keep-alive may be newer). */
  checkpoint(progress: SweepProgress): void {
    this.lastCheckpoint = progress;
    if (this.now() - this.lastProgressBeat < PULSE_MS) return;
    this.lastProgressBeat = this.now();
    this.beat();
  }

  private beat(): void {
    this.lastBeat = this.now();
    this.ctx.heartbeat(this.lastCheckpoint);
  }
}

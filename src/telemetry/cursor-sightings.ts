/**
 * The cursors this worker process saw its stream workflows commit (told through a workflow sink, see
 * workflows/shared/gauge-facts.ts): nothing billed, nothing in history. A replica sees only the streams whose
 * workflow tasks it ran, so each replica's lag is at least the true lag, and the smallest over replicas is the true
 * one (Datadog: `min` across pods).
 */
import type { InjectedSinks } from '@temporalio/worker';
import type { GaugeSinks } from '../../workflows/shared/gauge-facts';

export class CursorSightings {
  private readonly since = new Map<string, string>();

  /** The workflow `workflowId` committed its cursor at `since` (the latest sighting wins: an operator may rewind). */
  record(workflowId: string, since: string): void {
    this.since.set(workflowId, since);
  }

  /** The cursor last seen for this workflow, if this process saw one. */
  latest(workflowId: string): string | undefined {
    return this.since.get(workflowId);
  }

  /** The worker's sinks that record into this. */
  sinks(): InjectedSinks<GaugeSinks> {
    return {
      gauges: {
        cursor: { fn: (info, since) => this.record(info.workflowId, since), callDuringReplay: false },
      },
    };
  }
}

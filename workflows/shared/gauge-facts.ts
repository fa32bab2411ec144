/**
 * What a stream workflow tells the metrics endpoint without being asked: a query is a billed action (and the
 * endpoint of every worker replica would ask every stream every minute), so the gauges read these instead.
 *
 * - The stream's state, in its memo (key GAUGE_MEMO_KEY), upserted only when the state changes. A memo upsert is
 *   billed too (the server counts it as `command_ModifyWorkflowProperties`), so the flip between `running` and
 *   `caught_up` that every poll makes is not published once the stream has caught up: the memo says `caught_up`
 *   for a stream that polls and ships as it should, and every other change (failing, blocked, paused, back to
 *   running after a failure, …) at once. Read with DescribeWorkflowExecution, which is not billed.
 * - The cursor, through a sink (GaugeSinks) to the worker process running the workflow task: no command, no
 *   history, nothing billed. Each worker replica knows the cursors of the streams it ran.
 */
import type { Sinks } from '@temporalio/workflow';
import type { StreamState } from './stream-status';

/** Memo key of the published gauges. */
export const GAUGE_MEMO_KEY = 'gauges';

/** The published gauges (memo). */
export interface PublishedGauges {
  state: StreamState;
  /** The cursor's `since` when this was published (the worker replicas' sightings are fresher). */
  since: string;
  /** Audit: late-sweep hours parked. */
  parked: number;
}

/** Sinks a stream workflow calls (not during replay). */
export interface GaugeSinks extends Sinks {
  gauges: {
    /** The stream's committed cursor is now at `since` (sent when it changes). */
    cursor(since: string): void;
  };
}

/**
 * The state a stream publishes, given what it published last: once it has caught up, the `running` of each poll
 * is not published (it is back to `caught_up` within the poll); every other change is.
 */
export function stateToPublish(published: StreamState | undefined, current: StreamState): StreamState {
  return published === 'caught_up' && current === 'running' ? 'caught_up' : current;
}

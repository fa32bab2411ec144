/**
 * Publishes a stream's gauges (workflows/shared/gauge-facts.ts) when they change: the state in the memo, the
 * cursor through a sink. Called at the points where the runtime settles the state (a step's success or failure,
 * a pause, the wait between polls); a call that finds nothing changed costs nothing.
 */
import { patched, proxySinks, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { GAUGE_MEMO_KEY, stateToPublish, type GaugeSinks, type PublishedGauges } from './shared/gauge-facts';
import type { StreamStatus } from './shared/stream-status';

/** Marks runs that publish their state in the memo (earlier runs did not: their commands stay as recorded). */
export const GAUGE_MEMO = 'gauge-memo';

const { gauges } = proxySinks<GaugeSinks>();

export function createGaugePublisher(status: StreamStatus): () => void {
  // The memo given at start, if any: continue-as-new does not carry the memo over (unless its options pass it), so a
  // new run publishes its state at its first publish point (one upsert per run).
  let published = workflowInfo().memo?.[GAUGE_MEMO_KEY] as PublishedGauges | undefined;
  let sighted: string | undefined;
  return () => {
    const since = status.cursor.since;
    // Sinks are not called during replay: remember only what the worker process was actually told.
    if (since !== sighted && !workflowInfo().unsafe.isReplaying) {
      gauges.cursor(since);
      sighted = since;
    }
    const state = stateToPublish(published?.state, status.state);
    const parked = status.lateSweep?.parked.length ?? 0;
    if (published?.state === state && published.parked === parked) return;
    if (!patched(GAUGE_MEMO)) return;
    published = { state, since, parked };
    upsertMemo({ [GAUGE_MEMO_KEY]: published });
  };
}

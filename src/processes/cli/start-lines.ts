/** What `start` prints for each stream: what it did, and why it did nothing when it did nothing. */
import type { StreamTimings } from '../../../workflows/shared/stream-input';
import type { StartOutcome } from '../../streams/stream-control';

/** `pollIntervalMs 60000 → 10000, errorBackoffMs 30000 → 5000`: the timings that changed. */

/** What one row of a snapshot stream is, as start's lines say it. */
const ROW_OF_STREAM = {
  detections: 'detection',
  threats: 'threat',
  'behavioral-detections': 'behavioral detection of the window',
} as const;
export function timingsChange(from: StreamTimings, to: StreamTimings): string {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])] as (keyof StreamTimings)[];
  const shown = (v: unknown) => (v === undefined ? 'default' : Array.isArray(v) ? v.join(',') : String(v));
  return keys
    .filter((k) => JSON.stringify(from[k]) !== JSON.stringify(to[k]))
    .map((k) => `${k} ${shown(from[k])} → ${shown(to[k])}`)
    .join(', ');
}

/**
 * The lines `start` prints for one stream; `timings` is what was configured (sent to a running stream), `sinceGiven`
 * whether the operator gave `--since` (which a running stream ignores).
 */
export function startLines(r: StartOutcome, timings: StreamTimings, sinceGiven = false): string[] {
  const id = r.workflowId;
  switch (r.outcome) {
    case 'already_running': {
      const ignored = sinceGiven ? ' (--since ignored: move-cursor moves a running stream)' : '';
      const at = `${r.cursor ? ` (cursor ${r.cursor.since})` : ''}${ignored}`;
      if ('error' in r.timings)
        return [
          `${id}: already running${at}; configured timings NOT applied (run start again once the workers run this version): ${r.timings.error}`,
        ];
      if (!r.timings.changed) return [`${id}: already running${at}; timings unchanged`];
      return [`${id}: already running${at}; timings applied: ${timingsChange(r.timings.from, timings)}`];
    }
    case 'left_stopped':
      return [
        `${id}: left stopped: an operator stopped it (its last run ${r.closed.toLowerCase()}${r.closedAt ? ` at ${r.closedAt}` : ''}); ` +
          `name it to start it (start ${r.stream})`,
      ];
    case 'refused':
      return [
        `${id}: not started: it has a recorded cursor at ${r.recorded.since}; --since ${r.since} would replace it. ` +
          `Run start without --since to resume there, or add --override-cursor to start from ${r.since} ` +
          `(${r.since > r.recorded.since ? 'events in between are never shipped' : 'events from there on are shipped again'}).`,
      ];
    case 'started': {
      if (r.overrode)
        return [
          `${id}: started from ${r.cursor.since} (--override-cursor: the recorded cursor ${r.overrode.since} is replaced)`,
        ];
      const late = r.lateLedgerCarried ? ', with its late-event ledger' : '';
      if (r.resumedFromPreviousRun)
        return [
          `${id}: started, resuming at ${r.cursor.since}, from ${r.resumedFrom ?? "the previous run's cursor"}${late}`,
        ];
      if (r.stream === 'audit') return [`${id}: started, reading events from ${r.cursor.since}`];
      return [
        `${id}: started; the first sweep ships every current ${ROW_OF_STREAM[r.stream as keyof typeof ROW_OF_STREAM]}`,
      ];
    }
  }
}

/**
 * A stream's timings (poll interval, re-check and error waits, attempts, handoff, late-sweep tiers) can change while
 * it runs: `start` on a running stream sends the configured ones (applyTimingsUpdate). They are changed in place in
 * the workflow's input, which every wait reads when it starts and continue-as-new carries, so the stream keeps them
 * from then on. A wait already running ends at its old time; activity attempts and the late-sweep tiers take effect
 * with the next run (continue-as-new).
 */
import { setHandler } from '@temporalio/workflow';
import { applyTimingsUpdate, describeIssues, timingsSchema } from './shared/messages';
import type { StreamTimings } from './shared/stream-input';
import type { StreamStatus } from './shared/stream-status';

const FIELDS: (keyof StreamTimings)[] = [
  'pollIntervalMs',
  'authRecheckMs',
  'errorBackoffMs',
  'fetchAttempts',
  'handoffMs',
  'lateSweepTiersMs',
];

/** Same timings: every field equal (absent equals absent; tiers compared item by item). */
export function sameTimings(a: StreamTimings, b: StreamTimings): boolean {
  return FIELDS.every((f) => JSON.stringify(a[f]) === JSON.stringify(b[f]));
}

/** Installs the update on a stream whose waits read `timings` (the input's object, changed in place). */
export function installTimingsUpdate(status: StreamStatus, timings: StreamTimings): void {
  setHandler(
    applyTimingsUpdate,
    (next) => {
      const from = { ...timings };
      if (sameTimings(timings, next)) return { changed: false, from };
      for (const f of FIELDS) delete timings[f];
      Object.assign(timings, next);
      status.pollIntervalMs = timings.pollIntervalMs;
      return { changed: true, from };
    },
    {
      validator: (next) => {
        const ok = timingsSchema.safeParse(next);
        if (!ok.success) throw new Error(`timings refused: ${describeIssues(ok.error)}`);
      },
    },
  );
}

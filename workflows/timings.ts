/**
 * A stream's timings (poll interval, re-check and error waits, attempts, handoff, late-sweep tiers) can change while
 * it runs: `start` on a running stream sends the configured ones (applyTimingsUpdate). They are changed in place in
 * the workflow's input, which every wait reads when it starts and continue-as-new carries, so the stream keeps them
 * from then on. A wait already running ends at its old time. Activity attempts and the late-sweep tiers are read
 * once per run: a change of those makes the stream continue as new at its next round (needsNewRun).
 */
import { setHandler } from '@temporalio/workflow';
import { applyTimingsUpdate, describeIssues, timingsSchema } from './shared/messages';
import type { StreamTimings } from './shared/stream-input';
import type { StreamStatus } from './shared/stream-status';

const FIELDS: (keyof StreamTimings)[] = [
  'pollIntervalMs',
  'authRecheckMs',
  'unavailableRecheckMs',
  'errorBackoffMs',
  'fetchAttempts',
  'handoffMs',
  'lateSweepTiersMs',
];

/** Same timings: every field equal (absent equals absent; tiers compared item by item). */
export function sameTimings(a: StreamTimings, b: StreamTimings): boolean {
  return FIELDS.every((f) => JSON.stringify(a[f]) === JSON.stringify(b[f]));
}

/** Timings each run reads once (activity attempts, late-sweep tiers): a change of these needs a new run. */
const READ_ONCE_PER_RUN: (keyof StreamTimings)[] = ['fetchAttempts', 'lateSweepTiersMs'];

export interface TimingsUpdates {
  /** An update changed a timing this run read once: the stream should continue as new at its next chance. */
  needsNewRun(): boolean;
}

/** Installs the update on a stream whose waits read `timings` (the input's object, changed in place). */
export function installTimingsUpdate(status: StreamStatus, timings: StreamTimings): TimingsUpdates {
  let needsNewRun = false;
  setHandler(
    applyTimingsUpdate,
    (next) => {
      const from = { ...timings };
      if (sameTimings(timings, next)) return { changed: false, from };
      for (const f of FIELDS) delete timings[f];
      Object.assign(timings, next);
      status.pollIntervalMs = timings.pollIntervalMs;
      if (READ_ONCE_PER_RUN.some((f) => JSON.stringify(from[f]) !== JSON.stringify(next[f]))) needsNewRun = true;
      return { changed: true, from };
    },
    {
      validator: (next) => {
        const ok = timingsSchema.safeParse(next);
        if (!ok.success) throw new Error(`timings refused: ${describeIssues(ok.error)}`);
      },
    },
  );
  return { needsNewRun: () => needsNewRun };
}

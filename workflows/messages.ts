/**
 * Signals, queries and updates of the stream workflows, defined once for the workflow, the CLI, the Temporal UI
 * and the tests. Signal payloads come from people typing JSON in the UI's "Send Signal", so they are validated with
 * zod: a bad payload is reported in status and logs and changes nothing. Updates carry validators, so a bad request
 * from the CLI fails at the command line.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { StreamStatus } from './stream-status';
import { timestampKey } from './timestamps';

/** Current state, cursor, counts, backfills and last error of a stream. */
export const statusQuery = defineQuery<StreamStatus>('status');

/** Ends the stream gracefully: the batch in flight is shipped and its cursor recorded first. */
export const stopSignal = defineSignal<[]>('stop');

/** Stops calling Kandji and Datadog after the batch in flight; the cursor stays. Payload: none (or `{}`). */
export const pauseSignal = defineSignal<[unknown?]>('pause');
/** Continues where `pause` stopped. Payload: none (or `{}`). */
export const resumeSignal = defineSignal<[unknown?]>('resume');
/** Re-ships a past window: `{ "from": "<ISO>", "to": "<ISO>" }` (a time without zone is UTC). */
export const backfillSignal = defineSignal<[unknown]>('backfill');
/** Cancels running backfills: `{ "id": "<backfill id>" }`, or `{}` for all of them. */
export const cancelBackfillSignal = defineSignal<[unknown?]>('cancelBackfill');

/** The CLI's way to the same operations, with an answer. */
export const pauseUpdate = defineUpdate<StreamStatus['state'], []>('pause');
export const resumeUpdate = defineUpdate<StreamStatus['state'], []>('resume');
export const backfillUpdate = defineUpdate<BackfillAccepted, [BackfillRequest]>('backfill');
export const cancelBackfillUpdate = defineUpdate<string[], [{ id?: string }]>('cancelBackfill');

const isoTime = z.string().refine((s) => {
  try {
    timestampKey(s);
    return true;
  } catch {
    return false;
  }
}, 'expected an ISO-8601 time such as 2026-11-27T08:00:00Z (a time without zone is read as UTC)');

export const backfillRequestSchema = z
  .object({ from: isoTime, to: isoTime })
  .strict()
  .refine(
    (r) => {
      // zod runs this even when a field was already refused; only compare two valid times.
      try {
        return timestampKey(r.from) < timestampKey(r.to);
      } catch {
        return true;
      }
    },
    { message: '"from" must be before "to"' },
  );

export type BackfillRequest = z.infer<typeof backfillRequestSchema>;

export const cancelBackfillSchema = z.object({ id: z.string().min(1).optional() }).strict();
export const emptyPayloadSchema = z.union([z.undefined(), z.null(), z.object({}).strict()]);

export interface BackfillAccepted {
  id: string;
  workflowId: string;
  /** Set when the window reaches past Datadog's 18-hour intake window. */
  warning?: string;
}

/** Formats a zod error for status and the CLI: `from: expected …; to: …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * What a Kandji request knows of the activity attempt it runs in: when the attempt will be killed, who it is (the
 * same across retries) and whether it serves the live tail or a backfill. Waits for budget or a 429 never outlast
 * the attempt: a longer one ends it with a benign KandjiBudgetWait failure and the workflow waits durably instead.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { BudgetPriority } from '../../workflows/request-budget';
import { FailureType } from '../../workflows/shared/failure-types';

export interface Attempt {
  /** Epoch ms by which the attempt must have finished its request (its timeout, less room for the request). */
  deadline: number;
  /**
   * Who asks, the same across attempts and across the activities a stream schedules again after a budget wait:
   * `<workflow id>/<activity type>`, so the stream that comes back redeems its claim instead of queueing behind it.
   */
  owner: string;
  priority: BudgetPriority;
}

/** Room left at the end of an attempt for the request itself and what follows it (ms), at most a third of it. */
export const ATTEMPT_MARGIN_MS = 40_000;

/** Backfills of a stream are child workflows `<stream workflow id>/bf-<id>`. */
export function isBackfillWorkflowId(workflowId: string): boolean {
  return /\/bf-[^/]+$/.test(workflowId);
}

/** The attempt of the activity running now, or undefined outside an activity (scripts, unit tests). */
export function currentAttempt(now = Date.now()): Attempt | undefined {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  const ends: number[] = [];
  // Counted from the attempt's scheduling, not its start: a little earlier than the server's own count.
  if (info.startToCloseTimeoutMs > 0) ends.push(info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs);
  if (info.scheduleToCloseTimeoutMs > 0) ends.push(info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs);
  const end = ends.length > 0 ? Math.min(...ends) : Infinity;
  const length = end - Math.max(0, info.currentAttemptScheduledTimestampMs || now);
  const margin = Math.min(ATTEMPT_MARGIN_MS, length / 3);
  const workflowId = info.workflowExecution?.workflowId ?? info.workflowType ?? 'unknown';
  // The late sweep and verify re-read past hours: they yield to the live tail like a backfill does.
  const background =
    isBackfillWorkflowId(workflowId) ||
    ['sweepLateAuditHour', 'verifyAuditHour', 'verifySnapshotWindow'].includes(info.activityType);
  return {
    deadline: end - margin,
    owner: `${workflowId}/${info.activityType}`,
    priority: background ? 'backfill' : 'live',
  };
}

/**
 * The failure that ends an attempt which would otherwise wait longer than it may live: benign (logged at debug, no
 * failure metrics), not retried by Temporal (it would spend one of the activity's attempts), and handled by the
 * stream workflow as a durable wait of `waitMs`, not as an error. `cause`: the 429 that started the wait, if any.
 */
export function budgetWaitFailure(waitMs: number, reason: string, cause?: Error): ApplicationFailure {
  const ms = Math.max(0, Math.ceil(waitMs));
  return ApplicationFailure.create({
    type: FailureType.KandjiBudgetWait,
    message: `${reason}: the next Kandji request may go in ${Math.round(ms / 1_000)} s, after this attempt ends; waiting in the workflow`,
    nonRetryable: true,
    category: ApplicationFailureCategory.BENIGN,
    details: [{ waitMs: ms }],
    cause,
  });
}

/** Whether `err` is the failure of budgetWaitFailure: a multi-request activity may stop there and return what it has. */
export function isBudgetWait(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === FailureType.KandjiBudgetWait;
}

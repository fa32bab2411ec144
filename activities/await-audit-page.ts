/**
 * Activity: the audit stream's wait while it is caught up. It polls Kandji from the cursor after `firstPollInMs`
 * and then every poll interval inside this one activity, and returns as soon as a poll has something for the workflow (fresh
 * events, records set aside, a cursor that moved), or after `maxWaitMs`, or when its worker shuts down, with its
 * last empty poll (so the workflow can sweep late hours, show the poll and wait again).
 *
 * Why an activity and not a workflow timer: an idle poll of the timer loop costs an activity, a timer and a
 * workflow task (billed actions, history, a replay on a worker that evicted the workflow). Here an idle hour costs
 * one activity start and a heartbeat every IDLE_HEARTBEAT_EVERY_MS, and writes no history; the heartbeat timeout
 * (workflows/shared/idle-wait.ts) is how soon a dead worker is noticed. Temporal's guidance for polling:
 * https://community.temporal.io/t/what-is-the-best-practice-for-a-polling-activity/328/2
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { ActivityDeps } from './deps';
import { withTypedFailures } from './failures';
import { readPageRef, type AuditPageRef, type ReadAuditPageRefInput } from './read-audit-page-ref';
import { samePosition } from '../workflows/shared/audit-cursor';
import { IDLE_HEARTBEAT_EVERY_MS } from '../workflows/shared/idle-wait';

export interface AwaitAuditPageInput extends ReadAuditPageRefInput {
  /** How long to wait before the first poll (the poll interval after a poll the workflow made; 0: at once). */
  firstPollInMs?: number;
  pollIntervalMs: number;
  /** Return with the last empty poll once this long has passed. */
  maxWaitMs: number;
}

export interface AwaitAuditPageResult {
  /** The last poll's page: with news, or empty (`maxWaitMs` passed, or the worker shuts down). */
  ref: AuditPageRef;
  /** Polls made. */
  polls: number;
}

/** Whether a poll has something the workflow must act on. */
export function hasNews(ref: AuditPageRef, from: ReadAuditPageRefInput['cursor']): boolean {
  return ref.count > 0 || !!ref.invalid || !!ref.refusedLinks || !samePosition(ref.next, from);
}

export function awaitAuditPageActivity(deps: ActivityDeps) {
  return async function awaitAuditPage(input: AwaitAuditPageInput): Promise<AwaitAuditPageResult> {
    const ctx = Context.current();
    return withTypedFailures(() => pollUntilNews(deps, input, ctx), ctx.info.attempt);
  };
}

async function pollUntilNews(deps: ActivityDeps, input: AwaitAuditPageInput, ctx: Context) {
  const now = deps.now ?? Date.now;
  const started = now();
  let lastBeat = started;
  const heartbeats = {
    dueAt: () => lastBeat + IDLE_HEARTBEAT_EVERY_MS,
    beat: () => {
      lastBeat = now();
      ctx.heartbeat();
    },
  };
  const idle = (ms: number) => idleFor(ms, ctx, deps.shuttingDown, heartbeats, now);
  let polls = 0;
  let skipped = 0;
  let pages = 0;
  // Cut short by a shutdown (or a cancellation), the wait still polls once: it hands back a page, never nothing.
  await idle(input.firstPollInMs ?? 0);
  for (;;) {
    // Paused, stopped, moved: the workflow cancelled this wait, which would hear of it only at its next heartbeat.
    if (await cancelledByWorkflow(ctx)) throw new CancelledFailure('the stream ended its wait for news');
    const ref = await readPageRef(deps, input, ctx);
    polls += 1;
    skipped += ref.skipped;
    pages += ref.pages;
    const last = { ...ref, skipped, pages };
    if (
      hasNews(ref, input.cursor) ||
      now() - started + input.pollIntervalMs > (input.firstPollInMs ?? 0) + input.maxWaitMs
    )
      return { ref: last, polls };
    // A worker shutting down hands its last empty poll back at once: the workflow waits again elsewhere.
    if (!(await idle(input.pollIntervalMs))) return { ref: last, polls };
  }
}

/**
 * Whether the workflow has asked to cancel this wait (or ended): read from its description, which is not a billed
 * action, unlike the heartbeat that would bring the request. When it cannot be told, the wait polls as usual.
 */
async function cancelledByWorkflow(ctx: Context): Promise<boolean> {
  const run = ctx.info.workflowExecution;
  if (!run) return false;
  try {
    const described = await ctx.client.workflow.getHandle(run.workflowId, run.runId).describe();
    if (described.status.name !== 'RUNNING') return true;
    const me = described.raw.pendingActivities?.find((a) => a.activityId === ctx.info.activityId);
    return !me || me.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED;
  } catch {
    return false;
  }
}

/**
 * Waits `ms`, waking whenever a heartbeat is due to send it. False when the activity is cancelled or the worker shuts
 * down meanwhile.
 */
async function idleFor(
  ms: number,
  ctx: Context,
  shuttingDown: AbortSignal | undefined,
  heartbeats: { dueAt(): number; beat(): void },
  now: () => number,
): Promise<boolean> {
  const end = now() + ms;
  const signals = [ctx.cancellationSignal, shuttingDown].filter((s): s is AbortSignal => s !== undefined);
  const stopped = () => signals.some((s) => s.aborted);
  for (;;) {
    if (now() >= heartbeats.dueAt()) heartbeats.beat();
    if (stopped() || now() >= end) return !stopped();
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.max(0, Math.min(end, heartbeats.dueAt()) - now()));
      for (const s of signals) s.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(t);
        for (const s of signals) s.removeEventListener('abort', done);
        resolve();
      }
    });
  }
}

/**
 * The audit stream: Kandji's audit log (admin actions, EDR threats, vulnerability events, …) to Datadog
 * `service:audit`, for one tenant, forever. The cursor lives here and moves only after Datadog accepted a page.
 *
 * Records never pass through this workflow: `readAuditPageRef` keeps a page in the worker that read it and returns
 * a reference; `shipAuditPage` runs on that worker's own task queue and sends it. If that worker is gone, the ship
 * runs on the shared queue and reads the page again from the same cursor. While page N ships, page N+1 is read.
 * The steps over a page are in audit-page-steps.ts, the loop over pages in audit-page-loop.ts.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  deprecatePatch,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { AuditPageLoop, type ContinueAuditWith } from './audit-page-loop';
import { backfillFinishedSignal, installBackfillHandlers } from './backfills';
import { initialAuditCursor } from './shared/audit-cursor';
import type { LateLedger } from './shared/late-ledger';
import type { AuditStreamInput } from './shared/stream-input';
import type { BackfillInfo, StreamStatus } from './shared/stream-status';
import { backfillWorkflowId } from './shared/workflow-ids';
import { createStreamRuntime } from './stream-runtime';

/**
 * Marks runs of 0.3 and later: records outside history, pipelined pages. Every supported run has it: deprecatePatch,
 * which stays while runs of 0.3 to 0.5 (they carry the plain marker) may be left (docs/versions.md).
 */
export const PAGES_OUTSIDE_HISTORY = 'pages-outside-history';

export interface AuditStreamResult {
  status: StreamStatus;
  /** The late-event ledger when the run stopped: `start` carries it to the next run with the cursor. */
  late?: LateLedger;
}

export async function auditStream(input: AuditStreamInput): Promise<AuditStreamResult> {
  const runtime = createStreamRuntime(input.tenant, 'audit', input.cursor, input.timings, input.carried);
  const { status } = runtime;
  const backfill = input.backfill;
  if (backfill) status.window = { from: backfill.from, to: backfill.to };
  else {
    // Each backfill is a child workflow with its own cursor over the window; the live tail keeps running.
    installBackfillHandlers(runtime, { start: (info) => startBackfill(input, info) });
  }
  const continueWith: ContinueAuditWith = async (cursor, lateLedger, pendingMove) => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof auditStream>({
      ...input,
      cursor,
      carried: runtime.carried(),
      ...(lateLedger ? { late: lateLedger } : {}),
      pendingMove, // absent (dropped from the input) once applied
    });
  };

  status.state = 'running';
  let cancelled = false;
  let loop: AuditPageLoop | undefined;
  deprecatePatch(PAGES_OUTSIDE_HISTORY);
  try {
    loop = new AuditPageLoop(input, runtime, continueWith);
    await loop.run();
  } catch (err) {
    // Cancel (from the UI, or a parent) is a stop: the run completes with its committed cursor, so a later start
    // resumes from it.
    if (!isCancellation(err)) throw err;
    cancelled = true;
    log.info('stream cancelled: stopping with the committed cursor', { cursor: status.cursor });
  }

  status.state = 'stopped';
  await CancellationScope.nonCancellable(async () => {
    if (backfill) {
      const state = runtime.stopRequested() || cancelled ? 'cancelled' : 'done';
      await getExternalWorkflowHandle(backfill.parentWorkflowId)
        .signal(backfillFinishedSignal, { id: backfill.id, state, shipped: status.counts.shipped })
        .catch(() => undefined); // the stream may have been stopped meanwhile
    }
    await condition(allHandlersFinished);
  });
  const lateLedger = loop?.ledger();
  return { status, ...(lateLedger ? { late: lateLedger } : {}) };
}

/** Starts a backfill's child workflow over its window; returns its workflow id. */
async function startBackfill(input: AuditStreamInput, info: BackfillInfo): Promise<string> {
  const self = workflowInfo().workflowId;
  const workflowId = backfillWorkflowId(self, info.id);
  await startChild(auditStream, {
    workflowId,
    args: [
      {
        tenant: input.tenant,
        cursor: initialAuditCursor(info.from, info.to),
        timings: input.timings,
        backfill: { id: info.id, from: info.from, to: info.to, parentWorkflowId: self },
      },
    ],
    parentClosePolicy: 'ABANDON', // survives this run's continue-as-new; reports back by signal
  });
  return workflowId;
}

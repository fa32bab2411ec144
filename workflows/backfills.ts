/**
 * Backfill requests on a stream workflow: from a raw signal (the Temporal UI) or an update (the CLI), validated,
 * recorded in status, and handed to the stream to run. A backfill re-sends a past window on purpose.
 */
import {
  ApplicationFailure,
  defineSignal,
  deprecatePatch,
  getExternalWorkflowHandle,
  log,
  setHandler,
  uuid4,
} from '@temporalio/workflow';
import {
  backfillRequestSchema,
  backfillSignal,
  backfillUpdate,
  cancelBackfillSchema,
  cancelBackfillSignal,
  cancelBackfillUpdate,
  describeIssues,
  stopSignal,
  type BackfillAccepted,
  type BackfillRequest,
} from './shared/messages';
import type { BackfillInfo } from './shared/stream-status';
import { keyToMillis, nowIso, timestampKey } from './shared/timestamps';
import type { StreamRuntime } from './stream-runtime';

/** Sent by a backfill workflow to its stream when it ends (by workflow id, so it reaches the current run). */
export const backfillFinishedSignal =
  defineSignal<[{ id: string; state: BackfillInfo['state']; shipped: number }]>('backfillFinished');

const STALE_MS = 18 * 3_600_000;
const KEEP_FINISHED = 10;
/** At most this many backfills run at once on a stream; more are refused (each spends the tenant's request budget). */
export const MAX_RUNNING_BACKFILLS = 3;
/**
 * Marks runs whose handler refuses a backfill over MAX_RUNNING_BACKFILLS (written only when it refuses one). Added
 * before 0.3.0, so every supported run has it: deprecatePatch, which stays while runs of 0.3 to 0.5 (they may carry
 * the plain marker) may be left (docs/versions.md).
 */
export const BACKFILL_LIMIT = 'backfill-limit';

export interface BackfillHooks {
  /** Starts the backfill; returns the id of the workflow that runs it, if any. */
  start(info: BackfillInfo): Promise<string | undefined> | string | undefined;
}

export function installBackfillHandlers(runtime: StreamRuntime, hooks: BackfillHooks): void {
  const { status } = runtime;
  const list = () => (status.backfills ??= []);
  const now = nowIso;

  /** Why a new backfill is refused now, if it is: too many running already. */
  const tooMany = (): string | undefined => {
    const running = list().filter((b) => b.state === 'running');
    if (running.length < MAX_RUNNING_BACKFILLS) return undefined;
    return (
      `${running.length} backfills are already running on this stream (${running.map((b) => b.id).join(', ')}), ` +
      `at most ${MAX_RUNNING_BACKFILLS} at once: wait for one to finish or cancel one (cli cancel-backfill --id <id>)`
    );
  };

  const accept = async (req: BackfillRequest): Promise<BackfillAccepted> => {
    // Checked again here (not only by the validator): updates validated together could otherwise all pass.
    const refusal = tooMany();
    if (refusal) {
      deprecatePatch(BACKFILL_LIMIT);
      throw ApplicationFailure.create({ type: 'TooManyBackfills', message: refusal, nonRetryable: true });
    }
    const from = timestampKey(req.from);
    const to = timestampKey(req.to);
    const id = `bf-${uuid4().slice(0, 8)}`;
    const warning =
      Date.now() - keyToMillis(from) > STALE_MS
        ? 'the window reaches back more than 18 h: Datadog drops such logs at intake unless DD_STALE_EVENTS=restamp'
        : undefined;
    const info: BackfillInfo = { id, from, to, state: 'running', requestedAt: now(), ...(warning ? { warning } : {}) };
    list().push(info);
    info.workflowId = await hooks.start(info);
    log.info('backfill started', { stream: status.stream, id, from, to, warning });
    return { id, workflowId: info.workflowId ?? '', ...(warning ? { warning } : {}) };
  };

  const cancel = async (id?: string): Promise<string[]> => {
    const running = list().filter((b) => b.state === 'running' && (!id || b.id === id));
    for (const b of running) {
      if (b.workflowId) {
        try {
          await getExternalWorkflowHandle(b.workflowId).signal(stopSignal);
        } catch (err) {
          // Its workflow is closed already (finished, failed or terminated) without its report having reached us:
          // there is nothing left to stop. The others are cancelled all the same; a report arriving later wins.
          if (b.state !== 'running') continue; // its report arrived while the signal was on its way
          b.note = 'its workflow had already closed when cancelled; how it ended was not reported';
          log.warn('backfill to cancel had already ended', {
            stream: status.stream,
            id: b.id,
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
      if (b.state !== 'running') continue; // ended (and reported) while the signal was on its way
      b.state = 'cancelled';
      b.finishedAt = now();
    }
    return running.map((b) => b.id);
  };

  // Signal handlers never throw: a throw would fail the workflow task and wedge the stream on a typo.
  setHandler(backfillSignal, async (payload: unknown) => {
    try {
      const parsed = backfillRequestSchema.safeParse(payload);
      if (!parsed.success)
        return runtime.rejectSignal(
          'backfill',
          `${describeIssues(parsed.error)}; expected {"from": "<ISO>", "to": "<ISO>"}`,
        );
      await accept(parsed.data);
    } catch (err) {
      runtime.rejectSignal('backfill', err instanceof Error ? err.message : String(err));
    }
  });
  setHandler(backfillUpdate, accept, {
    validator: (req) => {
      const parsed = backfillRequestSchema.safeParse(req);
      if (!parsed.success) throw new Error(describeIssues(parsed.error));
      const refusal = tooMany();
      if (refusal) throw new Error(refusal);
    },
  });
  setHandler(cancelBackfillSignal, async (payload?: unknown) => {
    try {
      const parsed = cancelBackfillSchema.safeParse(payload ?? {});
      if (!parsed.success)
        return runtime.rejectSignal(
          'cancelBackfill',
          `${describeIssues(parsed.error)}; expected {} or {"id": "<backfill id>"}`,
        );
      await cancel(parsed.data.id);
    } catch (err) {
      runtime.rejectSignal('cancelBackfill', err instanceof Error ? err.message : String(err));
    }
  });
  setHandler(cancelBackfillUpdate, (req) => cancel(req.id), {
    validator: (req) => {
      const parsed = cancelBackfillSchema.safeParse(req ?? {});
      if (!parsed.success) throw new Error(describeIssues(parsed.error));
    },
  });
  setHandler(backfillFinishedSignal, ({ id, state, shipped }) => {
    const b = list().find((x) => x.id === id);
    if (!b) return;
    // A cancel that found the workflow closed could not tell how it ended: its own report says.
    if (b.state === 'running' || b.note !== undefined) b.state = state;
    b.shipped = shipped;
    b.finishedAt ??= now();
    const finished = list().filter((x) => x.state !== 'running');
    if (finished.length > KEEP_FINISHED)
      status.backfills = list().filter((x) => x.state === 'running' || finished.slice(-KEEP_FINISHED).includes(x));
  });
}

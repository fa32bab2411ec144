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
import type { BackfillInfo, StreamStatus } from './shared/stream-status';
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
  const book = new BackfillBook(runtime.status, hooks);
  // Signal handlers never throw: a throw would fail the workflow task and wedge the stream on a typo.
  const signalled =
    (name: string, act: (payload: unknown) => Promise<unknown>) =>
    async (payload: unknown): Promise<void> => {
      try {
        await act(payload);
      } catch (err) {
        runtime.rejectSignal(name, err instanceof Error ? err.message : String(err));
      }
    };
  setHandler(
    backfillSignal,
    signalled('backfill', async (payload) => {
      const parsed = backfillRequestSchema.safeParse(payload);
      if (!parsed.success)
        return runtime.rejectSignal(
          'backfill',
          `${describeIssues(parsed.error)}; expected {"from": "<ISO>", "to": "<ISO>"}`,
        );
      await book.accept(parsed.data);
    }),
  );
  setHandler(backfillUpdate, (req) => book.accept(req), {
    validator: (req) => {
      const parsed = backfillRequestSchema.safeParse(req);
      if (!parsed.success) throw new Error(describeIssues(parsed.error));
      const refusal = book.tooMany();
      if (refusal) throw new Error(refusal);
    },
  });
  setHandler(
    cancelBackfillSignal,
    signalled('cancelBackfill', async (payload?: unknown) => {
      const parsed = cancelBackfillSchema.safeParse(payload ?? {});
      if (!parsed.success)
        return runtime.rejectSignal(
          'cancelBackfill',
          `${describeIssues(parsed.error)}; expected {} or {"id": "<backfill id>"}`,
        );
      await book.cancel(parsed.data.id);
    }),
  );
  setHandler(cancelBackfillUpdate, (req) => book.cancel(req.id), {
    validator: (req) => {
      const parsed = cancelBackfillSchema.safeParse(req ?? {});
      if (!parsed.success) throw new Error(describeIssues(parsed.error));
    },
  });
  setHandler(backfillFinishedSignal, (report) => book.finished(report));
}

/** A stream's backfills, as its status lists them: accepted, cancelled, and reported finished. */
class BackfillBook {
  constructor(
    private readonly status: StreamStatus,
    private readonly hooks: BackfillHooks,
  ) {}

  private list(): BackfillInfo[] {
    return (this.status.backfills ??= []);
  }

  /** Why a new backfill is refused now, if it is: too many running already. */
  tooMany(): string | undefined {
    const running = this.list().filter((b) => b.state === 'running');
    if (running.length < MAX_RUNNING_BACKFILLS) return undefined;
    return (
      `${running.length} backfills are already running on this stream (${running.map((b) => b.id).join(', ')}), ` +
      `at most ${MAX_RUNNING_BACKFILLS} at once: wait for one to finish or cancel one (cli cancel-backfill --id <id>)`
    );
  }

  async accept(req: BackfillRequest): Promise<BackfillAccepted> {
    // Checked again here (not only by the validator): updates validated together could otherwise all pass.
    const refusal = this.tooMany();
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
    const info: BackfillInfo = {
      id,
      from,
      to,
      state: 'running',
      requestedAt: nowIso(),
      ...(warning ? { warning } : {}),
    };
    this.list().push(info);
    info.workflowId = await this.hooks.start(info);
    log.info('backfill started', { stream: this.status.stream, id, from, to, warning });
    return { id, workflowId: info.workflowId ?? '', ...(warning ? { warning } : {}) };
  }

  /** Cancels the running backfill `id` (all running ones without it); returns the ids cancelled. */
  async cancel(id?: string): Promise<string[]> {
    const running = this.list().filter((b) => b.state === 'running' && (!id || b.id === id));
    for (const b of running) {
      if (b.workflowId) await this.stopWorkflowOf(b, b.workflowId);
      if (b.state !== 'running') continue; // ended (and reported) while the signal was on its way
      b.state = 'cancelled';
      b.finishedAt = nowIso();
    }
    return running.map((b) => b.id);
  }

  /** Stops a backfill's workflow; one already closed without a report is noted. */
  private async stopWorkflowOf(b: BackfillInfo, workflowId: string): Promise<void> {
    try {
      await getExternalWorkflowHandle(workflowId).signal(stopSignal);
    } catch (err) {
      // Its workflow is closed already (finished, failed or terminated) without its report having reached us:
      // there is nothing left to stop. The others are cancelled all the same; a report arriving later wins.
      if (b.state !== 'running') return; // its report arrived while the signal was on its way
      b.note = 'its workflow had already closed when cancelled; how it ended was not reported';
      log.warn('backfill to cancel had already ended', {
        stream: this.status.stream,
        id: b.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** A backfill's own report of how it ended; the list keeps the last KEEP_FINISHED finished ones. */
  finished({ id, state, shipped }: { id: string; state: BackfillInfo['state']; shipped: number }): void {
    const list = this.list();
    const b = list.find((x) => x.id === id);
    if (!b) return;
    // A cancel that found the workflow closed could not tell how it ended: its own report says.
    if (b.state === 'running' || b.note !== undefined) b.state = state;
    b.shipped = shipped;
    b.finishedAt ??= nowIso();
    const finished = list.filter((x) => x.state !== 'running');
    if (finished.length > KEEP_FINISHED)
      this.status.backfills = list.filter((x) => x.state === 'running' || finished.slice(-KEEP_FINISHED).includes(x));
  }
}

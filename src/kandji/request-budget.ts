/**
 * The client side of a tenant's request budget (workflows/request-budget.ts): reserves a slot before every Kandji
 * request and waits until it is due, keeping the calling activity alive meanwhile.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { requestBudget, reserveUpdate } from '../../workflows/request-budget';

export function budgetWorkflowId(tenant: string): string {
  return `kandji-datadog/${tenant}/request-budget`;
}

export interface RequestGate {
  /** Resolves when the next request may be sent. `keepAlive` is called at least every 20 s while waiting. */
  acquire(opts?: { keepAlive?: () => void; signal?: AbortSignal }): Promise<void>;
}

/** Waits `ms`, calling `keepAlive` every 20 s and stopping early when `signal` aborts. */
export async function waitAlive(ms: number, keepAlive?: () => void, signal?: AbortSignal): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    const step = Math.min(20_000, end - Date.now());
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, step);
      signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    keepAlive?.();
  }
}

/** Slots reserved ahead when the hour has room: a backlog then asks the budget workflow once per this many requests. */
export const SPARE_SLOTS = 5;
/** A slot reserved ahead and not used within this long is given up (it counts against the hour all the same). */
export const SPARE_TTL_MS = 30_000;

export class TemporalRequestBudget implements RequestGate {
  /** Slots reserved ahead: when each may be used (epoch ms), ascending. */
  private spare: number[] = [];
  private reservedAt = 0;

  constructor(
    private readonly client: () => Client,
    private readonly tenant: string,
    private readonly perHour: number,
    private readonly taskQueue: string,
  ) {}

  async acquire(opts: { keepAlive?: () => void; signal?: AbortSignal } = {}): Promise<void> {
    if (Date.now() - this.reservedAt > SPARE_TTL_MS) this.spare = [];
    let at = this.spare.shift();
    if (at === undefined) {
      const waits = await this.reserve(opts);
      const now = Date.now();
      this.reservedAt = now;
      [at, ...this.spare] = waits.map((w) => now + w);
    }
    const wait = at! - Date.now();
    if (wait > 0) await waitAlive(wait, opts.keepAlive, opts.signal);
  }

  /** Reserves slots: several while the hour has room (the last answer said so), else one. Returns their waits. */
  private async reserve(opts: { signal?: AbortSignal }): Promise<number[]> {
    const count = this.roomLastTime ? SPARE_SLOTS : 1;
    const client = this.client();
    // The reservation is answered by a workflow task; if this worker is shutting down nobody may poll for it, so the
    // call must end when the activity is cancelled, or shutdown would wait for it forever.
    const abortable = <T>(fn: () => Promise<T>): Promise<T> => (opts.signal ? client.withAbortSignal(opts.signal, fn) : fn());
    const handle = client.workflow.getHandle(budgetWorkflowId(this.tenant));
    const reserve = () => abortable(() => handle.executeUpdate(reserveUpdate, { args: [{ count, perHour: this.perHour }] }));
    let reservation;
    try {
      reservation = await reserve();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await abortable(() =>
        client.workflow.start(requestBudget, {
          workflowId: budgetWorkflowId(this.tenant),
          taskQueue: this.taskQueue,
          args: [{ grants: [], perHour: this.perHour }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      ).catch(() => undefined);
      reservation = await reserve();
    }
    const waits = reservation.waitsMs ?? [reservation.waitMs];
    this.roomLastTime = waits.every((w) => w === 0);
    return waits;
  }

  private roomLastTime = false;
}

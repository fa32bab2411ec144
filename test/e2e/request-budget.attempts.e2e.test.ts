/**
 * Budget waits never outlast an attempt (real dev server, simulators, real workflows and activities): at a small
 * budget whose next slots are further off than an attempt may wait, the stream waits durably in the workflow
 * (a benign KandjiBudgetWait failure, no error in status) and keeps making progress within the budget; a killed
 * worker's reservations do not starve the stream; neither a backfill nor a due late sweep starves the live tail.
 *
 * The budget workflow is started with an hour that is already full, its slots coming free every few seconds, so
 * the test sees the waits of a small budget in seconds instead of hours. Workers in this process cap the wait an
 * attempt may spend (`maxWaitInAttemptMs`), as if their activities' timeouts were shorter than those waits.
 */
import { type temporal } from '@temporalio/proto';
import { TemporalRequestBudget } from '../../src/kandji/budget-reservations';
import { KandjiClient } from '../../src/kandji/client';
import { buildActivityDeps } from '../../src/processes/worker/activity-deps';
import { createWorker } from '../../src/processes/worker/create-worker';
import { requestBackfill } from '../../src/streams/stream-control';
import { createLogger } from '../../src/telemetry/logger';
import { HOUR_MS, requestBudget } from '../../workflows/request-budget';
import { FailureType } from '../../workflows/shared/failure-types';
import { budgetWorkflowId } from '../../workflows/shared/workflow-ids';
import { Harness, KANDJI_TOKEN, workflowBundle } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

const PER_HOUR = 30;
const MINUTE_MS = 60_000;

/** Replaces the tenant's budget with a full hour whose slots come free from `firstInMs`, one every `everyMs`. */
async function fullHour(h: Harness, firstInMs: number, everyMs: number): Promise<(at?: number) => number> {
  const start = Date.now();
  const grants = Array.from({ length: PER_HOUR }, (_, i) => start - HOUR_MS + firstInMs + i * everyMs);
  await h.client.workflow.start(requestBudget, {
    workflowId: budgetWorkflowId(h.tenant),
    taskQueue: h.temporal.taskQueue,
    args: [{ grants, perHour: PER_HOUR }],
    workflowIdConflictPolicy: 'TERMINATE_EXISTING',
  });
  // How many slots have come free by `at`: no more Kandji requests may have been sent since.
  return (at = Date.now()) => grants.filter((g) => g + HOUR_MS <= at).length;
}

/** A worker of this process whose attempts may wait at most `maxWaitInAttemptMs` for a slot. */
async function startShortAttemptWorker(h: Harness, maxWaitInAttemptMs: number): Promise<void> {
  const deps = buildActivityDeps(h.config, createLogger('silent'));
  const tenant = deps.tenants.get(h.tenant)!;
  const gate = new TemporalRequestBudget(() => h.client, h.tenant, PER_HOUR, h.temporal.taskQueue, {
    maxWaitInAttemptMs,
  });
  const kandji = new KandjiClient({ baseUrl: h.kandji.url, token: KANDJI_TOKEN, gate });
  (deps.tenants as Map<string, typeof tenant>).set(h.tenant, { ...tenant, kandji });
  const { worker: group } = await createWorker({
    temporal: h.temporal,
    deps,
    connection: h.connection,
    workflowBundle: await workflowBundle(),
    shutdownGraceTime: '2s',
  });
  const closeDeps = deps.close;
  h.workers.push({
    worker: group,
    running: group.run(),
    deps: { ...deps, close: async () => (await closeDeps(), await kandji.close()) },
  });
}

/** Failures of activities in the audit stream's history (all its runs), by type. */
async function activityFailureTypes(h: Harness, workflowId: string): Promise<string[]> {
  const types: string[] = [];
  let runId: string | undefined;
  for (;;) {
    const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
    for (const e of history.events ?? []) {
      const failure = e.activityTaskFailedEventAttributes?.failure;
      if (failure) types.push(failure.applicationFailureInfo?.type ?? failure.message ?? '?');
    }
    const first = history.events?.[0]?.workflowExecutionStartedEventAttributes as
      temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes | undefined;
    runId = first?.continuedExecutionRunId ?? undefined;
    if (!runId) return types;
  }
}

describe('request budget waits never outlast an attempt', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('at a small budget whose slots are further off than an attempt may wait, the stream waits in the workflow and keeps shipping within the budget', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 2_000, from: new Date(now - 5 * HOUR_MS), to: new Date(now - 60_000) }, seed: 91 },
      env: { KANDJI_REQUESTS_PER_HOUR: String(PER_HOUR), KANDJI_AUDIT_PAGE_SIZE: '10' },
    });
    await startShortAttemptWorker(h, 500); // a slot every 2 s: nearly every request waits longer than an attempt may
    const freed = await fullHour(h, 3_000, 2_000);
    await h.startAudit(new Date(now - 6 * HOUR_MS).toISOString());

    await waitFor('12 Kandji requests', () => h.kandji.requestCount() >= 12, 90_000);
    const shippedBefore = h.datadog.received.length;
    await waitFor('more shipped', () => h.datadog.received.length >= shippedBefore + 30, 60_000);
    const at = Date.now();
    // Within the budget: never more requests than slots that came free.
    expect(h.kandji.requestCount((r) => r.at <= at)).toBeLessThanOrEqual(freed(at));
    // The waits happened in the workflow, as benign failures, and are not errors.
    expect(
      (await activityFailureTypes(h, h.auditHandle().workflowId)).filter((t) => t === FailureType.KandjiBudgetWait)
        .length,
    ).toBeGreaterThan(0);
    const status = await h.status();
    expect(status.lastError).toBeNull();
    expect(['running', 'caught_up']).toContain(status.state);
    // Every event shipped so far is a distinct backlog event, in order of the backlog.
    expect(new Set(h.datadog.received.map((r) => r.id)).size).toBe(h.datadog.received.length);
  }, 180_000);

  it("a SIGKILLed worker's reservations do not starve the stream", async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: { backlog: { count: 2_000, from: new Date(now - 5 * HOUR_MS), to: new Date(now - 60_000) }, seed: 92 },
      env: { KANDJI_REQUESTS_PER_HOUR: String(PER_HOUR), KANDJI_AUDIT_PAGE_SIZE: '10' },
    });
    const freed = await fullHour(h, 3_000, 2_500);
    const doomed = await h.spawnWorkerProcess();
    await h.startAudit(new Date(now - 6 * HOUR_MS).toISOString());
    // It holds reservations (slots booked within its attempts, claims of later ones) when it dies.
    await waitFor('the doomed worker read', () => h.kandji.requestCount() >= 3, 60_000);
    await h.sigkill(doomed);
    const atKill = h.kandji.requestCount();
    await startShortAttemptWorker(h, 1_000);
    // Its attempt is retried here once its heartbeat times out; the stream goes on at the budget's pace.
    await waitFor('requests after the kill', () => h.kandji.requestCount() >= atKill + 6, 150_000);
    await waitFor('shipped', () => h.datadog.received.length >= 20, 60_000);
    const at = Date.now();
    expect(h.kandji.requestCount((r) => r.at <= at)).toBeLessThanOrEqual(freed(at));
    expect((await h.status()).lastError).toBeNull();
  }, 240_000);

  it('a backfill and a due late sweep do not starve the live tail', async () => {
    const now = Date.now();
    h = await Harness.start({
      kandji: {
        backlog: { count: 3_000, from: new Date(now - 5 * HOUR_MS), to: new Date(now - 2 * HOUR_MS) },
        seed: 93,
      },
      env: {
        KANDJI_REQUESTS_PER_HOUR: String(PER_HOUR),
        KANDJI_AUDIT_PAGE_SIZE: '10',
        KANDJI_POLL_INTERVAL: '5s',
        // Each hour is swept again every few seconds: a sweep is due all along, competing for the same budget.
        KANDJI_AUDIT_LATE_SWEEPS: '5s,10s,20s,40s,80s,160s',
      },
    });
    await startShortAttemptWorker(h, 500);
    // One slot every 2 s, shared by the live tail (polling every 5 s), the backfill and the late sweep.
    const freed = await fullHour(h, 2_000, 2_000);
    // The live tail starts after the backlog, 110 minutes ago; three events of 30 minutes ago move its cursor (and
    // where its polls stop re-reading) past the hours after its start, which are then due for a late sweep at once.
    for (const ageMs of [30 * MINUTE_MS, 30 * MINUTE_MS - 1_000, 30 * MINUTE_MS - 2_000])
      h.kandji.audit.appendLate(ageMs);
    await h.startAudit(new Date(now - 110 * MINUTE_MS).toISOString());
    await h.waitForState('caught_up', 'audit', 60_000);
    const backfill = await requestBackfill(
      h.client,
      h.tenant,
      'audit',
      new Date(now - 5 * HOUR_MS).toISOString(),
      new Date(now - 2 * HOUR_MS).toISOString(),
    );
    await waitFor('the backfill ships', () => h.datadog.received.length >= 10, 60_000);
    // New events while the backfill drains 300 pages through a budget that allows one request every 2 s.
    h.kandji.audit.startLive({ perSecond: 2 });
    const liveFrom = Date.now();
    await waitFor(
      'live events shipped while the backfill runs',
      () => h.datadog.received.filter((r) => Date.parse(String(r.occurred_at)) >= liveFrom - 1_000).length >= 10,
      90_000,
    );
    h.kandji.audit.stopLive();
    const status = await h.status();
    expect(status.backfills?.find((b) => b.id === backfill.id)?.state).toBe('running');
    // The sweeps were due meanwhile, beside the tail: run or parked (waiting for budget), never in its way.
    expect(status.lateSweep).toBeDefined();
    expect(status.lastLateSweep !== undefined || status.lateSweep!.parked.length > 0).toBe(true);
    const at = Date.now();
    expect(h.kandji.requestCount((r) => r.at <= at)).toBeLessThanOrEqual(freed(at));
    expect(status.lastError).toBeNull();
  }, 240_000);
});

/**
 * The caught-up audit stream's idle wait (activities/await-audit-page.ts), run in MockActivityEnvironment against a
 * fake Kandji on jest's fake clock: it polls every interval, hands back at the first poll with news, heartbeats only
 * as often as its heartbeat timeout needs (each heartbeat is a billed action), and lets go at once when its worker
 * shuts down or the workflow cancels it.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { awaitAuditPageActivity, type AwaitAuditPageResult } from '../../activities/await-audit-page';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { createLogger } from '../../src/telemetry/logger';
import { initialAuditCursor } from '../../workflows/shared/audit-cursor';
import { IDLE_HEARTBEAT_EVERY_MS, IDLE_HEARTBEAT_TIMEOUT_MS } from '../../workflows/shared/idle-wait';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const TENANT = 'acme';
const MINUTE = 60_000;
const cursor = initialAuditCursor(new Date(T0).toISOString());

/** A Kandji whose audit log is empty until `eventsFromPoll` (1-based), then holds one event. */
function kandjiWithEventsFrom(eventsFromPoll: number) {
  let polls = 0;
  const kandji = {
    baseUrl: 'https://acme.api.kandji.io',
    getJson: async () => Promise.reject(new Error('not expected')),
    getJsonSized: async () => {
      polls += 1;
      const results =
        polls >= eventsFromPoll
          ? [{ id: 'evt-1', occurred_at: new Date(T0 + 1_000).toISOString(), action: 'device_lock' }]
          : [];
      return { body: { results, next: null }, bytes: 100 };
    },
  } as unknown as TenantDeps['kandji'];
  return { kandji, polls: () => polls };
}

function depsFor(kandji: TenantDeps['kandji'], shuttingDown?: AbortSignal): ActivityDeps {
  return {
    tenants: new Map([[TENANT, { kandji, ddtags: `kandji_tenant:${TENANT}` }]]),
    datadog: { send: async () => undefined },
    logger: createLogger('silent'),
    ...(shuttingDown ? { shuttingDown } : {}),
  };
}

/** Runs the wait; advances the fake clock a minute at a time until it ends or `limitMs` passed. */
async function runWait(
  deps: ActivityDeps,
  input: { firstPollInMs?: number; pollIntervalMs: number; maxWaitMs: number },
  during?: (env: MockActivityEnvironment, elapsedMs: number) => void,
  limitMs = 3 * 3_600_000,
  client?: Client,
) {
  const env = new MockActivityEnvironment(
    { attempt: 1, activityId: '7', workflowExecution: { workflowId: 'kandji-datadog/acme/audit', runId: 'r1' } },
    client ? { client } : {},
  );
  const start = Date.now();
  const beats: number[] = [];
  env.on('heartbeat', () => beats.push(Date.now() - start));
  let result: AwaitAuditPageResult | undefined;
  let error: unknown;
  const wait = awaitAuditPageActivity(deps);
  const running = (env.run(wait, { tenant: TENANT, cursor, ...input }) as Promise<AwaitAuditPageResult>).then(
    (r) => (result = r),
    (e: unknown) => (error = e),
  );
  await jest.advanceTimersByTimeAsync(0);
  for (let elapsed = 0; result === undefined && error === undefined && elapsed <= limitMs; elapsed += MINUTE) {
    during?.(env, elapsed);
    await jest.advanceTimersByTimeAsync(MINUTE);
  }
  await running;
  if (error) throw error;
  return { result: result!, beats, elapsedMs: Date.now() - start };
}

describe('awaitAuditPage: the caught-up audit stream waits for news inside one activity', () => {
  beforeEach(() => jest.useFakeTimers({ now: T0 + 2 * 3_600_000 }));
  afterEach(() => jest.useRealTimers());

  it('an idle hour polls every interval and hands back its last empty poll; it heartbeats only as often as its timeout needs', async () => {
    const { kandji, polls } = kandjiWithEventsFrom(Infinity);
    const { result, beats, elapsedMs } = await runWait(depsFor(kandji), {
      pollIntervalMs: MINUTE,
      maxWaitMs: 60 * MINUTE,
    });
    expect(result.ref.count).toBe(0);
    expect(result.polls).toBe(polls());
    expect(polls()).toBeGreaterThanOrEqual(59);
    expect(polls()).toBeLessThanOrEqual(61);
    expect(elapsedMs).toBeLessThanOrEqual(61 * MINUTE);
    // One heartbeat every IDLE_HEARTBEAT_EVERY_MS, never a gap as long as the heartbeat timeout.
    const marks = [0, ...beats, elapsedMs];
    const gaps = marks.slice(1).map((t, i) => t - marks[i]!);
    expect(Math.max(...gaps)).toBeLessThan(IDLE_HEARTBEAT_TIMEOUT_MS);
    expect(beats.length).toBeGreaterThan(0);
    expect(beats.length).toBeLessThanOrEqual(Math.ceil((60 * MINUTE) / IDLE_HEARTBEAT_EVERY_MS));
  });

  it('hands back at the first poll that finds events, with them', async () => {
    const { kandji, polls } = kandjiWithEventsFrom(4);
    const { result, elapsedMs } = await runWait(depsFor(kandji), { pollIntervalMs: MINUTE, maxWaitMs: 60 * MINUTE });
    expect(polls()).toBe(4);
    expect(result.polls).toBe(4);
    expect(result.ref.count).toBe(1);
    expect(elapsedMs).toBeLessThanOrEqual(4 * MINUTE);
  });

  it('polls at once: events already there are handed back without waiting an interval', async () => {
    const { kandji } = kandjiWithEventsFrom(1);
    const { result, elapsedMs } = await runWait(depsFor(kandji), { pollIntervalMs: MINUTE, maxWaitMs: 60 * MINUTE });
    expect(result.ref.count).toBe(1);
    expect(elapsedMs).toBe(0);
  });

  it('waits firstPollInMs before its first poll (the poll interval after the poll the workflow made)', async () => {
    const { kandji, polls } = kandjiWithEventsFrom(1);
    const { result, elapsedMs } = await runWait(depsFor(kandji), {
      firstPollInMs: 5 * MINUTE,
      pollIntervalMs: 5 * MINUTE,
      maxWaitMs: 60 * MINUTE,
    });
    expect(polls()).toBe(1);
    expect(result.ref.count).toBe(1);
    expect(elapsedMs).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(elapsedMs).toBeLessThanOrEqual(6 * MINUTE);
  });

  it('a wait its workflow cancelled (pause, stop) polls no more, though no heartbeat has brought the cancellation yet', async () => {
    const { kandji, polls } = kandjiWithEventsFrom(Infinity);
    let state = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
    const client = {
      withAbortSignal: <R>(_signal: AbortSignal, fn: () => R) => fn(),
      workflow: {
        getHandle: () => ({
          describe: async () => ({
            status: { name: 'RUNNING' },
            raw: { pendingActivities: [{ activityId: '7', state }] },
          }),
        }),
      },
    } as unknown as Client;
    const run = runWait(
      depsFor(kandji),
      { pollIntervalMs: MINUTE, maxWaitMs: 60 * MINUTE },
      (_env, elapsed) => {
        if (elapsed === 3 * MINUTE)
          state = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED;
      },
      3 * 3_600_000,
      client,
    );
    await expect(run).rejects.toThrow(/ended its wait/);
    expect(polls()).toBeLessThanOrEqual(4);
  });

  it('a worker shutting down hands back the last empty poll at once (the workflow waits again elsewhere)', async () => {
    const { kandji, polls } = kandjiWithEventsFrom(Infinity);
    const shutdown = new AbortController();
    const { result, elapsedMs } = await runWait(
      depsFor(kandji, shutdown.signal),
      {
        pollIntervalMs: 5 * MINUTE,
        maxWaitMs: 60 * MINUTE,
      },
      (_env, elapsed) => {
        if (elapsed === 7 * MINUTE) shutdown.abort();
      },
    );
    expect(result.ref.count).toBe(0);
    expect(polls()).toBe(2);
    expect(elapsedMs).toBeLessThanOrEqual(8 * MINUTE);
  });

  it('cancelled by its workflow (pause, stop, a cursor move), it ends at once', async () => {
    const { kandji } = kandjiWithEventsFrom(Infinity);
    const { elapsedMs } = await runWait(
      depsFor(kandji),
      { pollIntervalMs: 5 * MINUTE, maxWaitMs: 60 * MINUTE },
      (env, elapsed) => {
        if (elapsed === 3 * MINUTE) env.cancel();
      },
    );
    expect(elapsedMs).toBeLessThanOrEqual(4 * MINUTE);
  });
});

/**
 * The fast workflow tier (test/workflows/): the real workflow code on Temporal's time-skipping test server, with
 * activities replaced by plain functions. Timers run on the server's clock, which the tests move forward
 * (`env.sleep`), so a 15-minute poll takes milliseconds and the production timings are tested as they are.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { waitFor } from './wait';
import type { AuditPageRef, AwaitAuditPageInput, AwaitAuditPageResult, ReadAuditPageRefInput } from '../../activities';
import type { SweepSnapshotStateInput, SweepSnapshotStateResult } from '../../activities/sweep-snapshot-state';
import { loadTenantConfig } from '../../src/config/env';
import { CursorSightings } from '../../src/telemetry/cursor-sightings';
import { buildDataConverter } from '../../src/temporal/data-converter';
import { FailureType } from '../../workflows/shared/failure-types';
import { statusQuery } from '../../workflows/shared/messages';
import type { StreamTimings } from '../../workflows/shared/stream-input';
import type { StreamName, StreamStatus } from '../../workflows/shared/stream-status';

const EventType = temporal.api.enums.v1.EventType;
type EventType = temporal.api.enums.v1.EventType;

// Failing steps log warnings by design; show only errors.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  // The test server does not advertise every capability of a real one; the SDK core warns about that on stderr.
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

/** The production data converter (gzip codec), on both the client and the worker. */
const dataConverter = buildDataConverter();

const ROOT = path.resolve(__dirname, '../..');
/** Where scripts/temporal-cli.sh and scripts/temporal-test-server.sh keep what they fetch. */
const CACHE =
  process.env.KANDJI_DATADOG_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'kandji-datadog');
const BUNDLES = path.join(CACHE, 'workflow-bundles');

/**
 * Starts the time-skipping test server from the launcher scripts/temporal-test-server.sh installs (once, from
 * Maven Central): the SDK's own download of it needs internet access.
 */
async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const script = path.join(ROOT, 'scripts/temporal-test-server.sh');
  const launcher = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: launcher } },
    client: { dataConverter },
  });
}

/**
 * A client that leaves the server's clock alone: the environment's own client lets the clock run ahead to the next
 * timer while it waits for a workflow's result, which would make other streams poll meanwhile.
 */
export function clockNeutralClient(env: TestWorkflowEnvironment): Client {
  return new Client({ connection: env.connection, dataConverter });
}

/**
 * The real workflow code (workflows/index.ts) as the worker bundles it. Bundling costs seconds of CPU, so a bundle is
 * kept in the cache by a hash of what it is made of: every file of workflows/ (which may import nothing else at run
 * time but @temporalio/workflow: lint) and package-lock.json (the SDK's version). Bundles unused for a week go.
 */
async function workflowBundle(): Promise<{ code: string }> {
  const hash = createHash('sha256');
  const dir = path.join(ROOT, 'workflows');
  for (const name of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile()) hash.update(name).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  hash.update(fs.readFileSync(path.join(ROOT, 'package-lock.json')));
  const cached = path.join(BUNDLES, `${hash.digest('hex').slice(0, 24)}.js`);
  try {
    const code = fs.readFileSync(cached, 'utf8');
    fs.utimesSync(cached, new Date(), new Date());
    return { code };
  } catch {
    // not bundled yet
  }
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  fs.mkdirSync(BUNDLES, { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  fs.writeFileSync(partial, code);
  fs.renameSync(partial, cached); // whole or not at all, whichever test file gets there first
  for (const name of fs.readdirSync(BUNDLES)) {
    const file = path.join(BUNDLES, name);
    if (Date.now() - fs.statSync(file).mtimeMs > 7 * 86_400_000) fs.rmSync(file, { force: true });
  }
  return { code };
}

/** A test file's world: the test server, and a worker of the real workflows with the file's fake activities. */
export interface WorkflowTestWorld {
  readonly env: TestWorkflowEnvironment;
  /** The cursors the worker saw its stream workflows commit (through their sink). */
  readonly sightings: CursorSightings;
  /** The task queue of the file's worker (also usable as a worker's own queue: its activities run there). */
  readonly taskQueue: string;
  /** Starts a workflow on the worker's task queue; it is terminated after the test, passed or not. */
  start<W extends Workflow>(
    workflow: W,
    options: Omit<WorkflowStartOptions<W>, 'taskQueue'>,
  ): Promise<WorkflowHandle<W>>;
}

/**
 * The idle wait (activities/await-audit-page.ts) of a test world that fakes only readAuditPageRef: its first poll
 * after `firstPollInMs` (firstPollAfterRetryDelay), then handed back whatever it found (as the real wait does once
 * `maxWaitMs` has passed): the stream polls at its interval, which the time-skipping server can skip.
 */
export function idleWaitFromRead(
  read: (input: ReadAuditPageRefInput) => Promise<AuditPageRef>,
): (input: AwaitAuditPageInput) => Promise<AwaitAuditPageResult> {
  return async (input) => {
    firstPollAfterRetryDelay(input);
    return { ref: await read(input), polls: 1 };
  };
}

/**
 * A faked idle wait's first attempt, while its first poll is ahead: fails at once, retried after that long, which the
 * time-skipping server skips (an activity cannot make it skip the real wait).
 */
export function firstPollAfterRetryDelay(input: AwaitAuditPageInput): void {
  if ((input.firstPollInMs ?? 0) > 0 && Context.current().info.attempt === 1)
    throw ApplicationFailure.create({
      type: 'IdleWaitNotDue',
      message: 'first poll ahead',
      nextRetryDelay: input.firstPollInMs,
    });
}

/**
 * A fake sweepSnapshotState with the real one's poll mode (activities/sweep-snapshot-state.ts): a poll's first
 * attempt only waits, a later one calls the fake and fails the same way when the fake answers `unchanged`; so the
 * poll interval is an activity retry delay, which the time-skipping server skips like a timer.
 */
export function pollModeFromSweep(
  sweep: (input: SweepSnapshotStateInput) => Promise<SweepSnapshotStateResult>,
): (input: SweepSnapshotStateInput) => Promise<SweepSnapshotStateResult> {
  return async (input) => {
    if (input.pollEveryMs === undefined) return sweep(input);
    const notYet = (why: string) =>
      ApplicationFailure.create({
        type: FailureType.SnapshotUnchanged,
        message: why,
        nextRetryDelay: input.pollEveryMs,
      });
    if (Context.current().info.attempt === 1) throw notYet('first poll after the interval');
    const result = await sweep(input);
    if (result.unchanged) throw notYet('nothing changed');
    return result;
  };
}

/**
 * Sets up a test file's world (jest hooks): a time-skipping server and a worker for each test; every workflow a test
 * started ends with the test.
 */
export function workflowTestWorld(given: object): WorkflowTestWorld {
  const fakes = given as {
    readAuditPageRef?: (input: ReadAuditPageRefInput) => Promise<AuditPageRef>;
    sweepSnapshotState?: (input: SweepSnapshotStateInput) => Promise<SweepSnapshotStateResult>;
  };
  const activities = {
    ...given,
    ...(fakes.readAuditPageRef && !('awaitAuditPage' in given)
      ? { awaitAuditPage: idleWaitFromRead(fakes.readAuditPageRef) }
      : {}),
    ...(fakes.sweepSnapshotState ? { sweepSnapshotState: pollModeFromSweep(fakes.sweepSnapshotState) } : {}),
  };
  const taskQueue = `wf-test-${randomUUID()}`;
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const started: WorkflowHandle[] = [];
  const sightings = new CursorSightings();

  // A server of its own for every test: the time-skipping test server keeps a lock on its clock, for good, for an
  // activity that is out when its workflow ends (temporalio/sdk-java#1138), and a stream always has one out (its idle
  // wait, its poll): on a shared server every later `env.sleep` would wait in real time.
  beforeEach(async () => {
    env = await startTimeSkipping();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
      dataConverter,
      sinks: sightings.sinks(),
    });
    running = worker.run();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((h) => h.terminate().catch(() => undefined)));
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env?.teardown();
    env = undefined;
  });

  const world: WorkflowTestWorld = {
    sightings,
    taskQueue,
    get env() {
      if (!env) throw new Error('the test environment starts in beforeEach');
      return env;
    },
    async start(workflow, options) {
      const handle = await world.env.client.workflow.start(workflow, { ...options, taskQueue } as WorkflowStartOptions<
        typeof workflow
      >);
      started.push(handle);
      return handle;
    },
  };
  return world;
}

/**
 * The timings a stream workflow gets in production when nothing is configured: the defaults of
 * KANDJI_POLL_INTERVAL (1 min), KANDJI_DETECTIONS_POLL_INTERVAL (15 min), KANDJI_THREATS_POLL_INTERVAL (5 min),
 * KANDJI_AUTH_RECHECK_INTERVAL (5 min), KANDJI_ERROR_BACKOFF (30 s), read through the real configuration code.
 */
export function defaultTimings(stream: StreamName): StreamTimings {
  const c = loadTenantConfig({ KANDJI_API_URL: 'https://acme.api.kandji.io' });
  return {
    pollIntervalMs: c.pollIntervalsMs[stream],
    authRecheckMs: c.authRecheckMs,
    errorBackoffMs: c.errorBackoffMs,
    fetchAttempts: c.fetchAttempts,
    handoffMs: c.handoffMs,
  };
}

/**
 * Waits until the server holds no workflow task of `handle` still to run or complete: what the workflow did last
 * (a timer started, an activity scheduled) is recorded, so a clock moved forward now applies to it.
 */
export async function settled(handle: WorkflowHandle): Promise<void> {
  await waitFor(
    'the workflow task to complete',
    async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const last = (type: EventType) => events.map((e) => e.eventType).lastIndexOf(type);
      if (last(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) < last(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED))
        return false;
      // A faked idle wait's first attempt only fails (firstPollAfterRetryDelay): settled once it has, its retry (the
      // first poll) then waits on the server's clock like a timer.
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      return !pending.some((a) => a.activityType?.name === 'awaitAuditPage' && (a.attempt ?? 1) < 2);
    },
    15_000,
    20,
  );
}

/**
 * Signals with no handler, until the history is longer than the test server's threshold for suggesting a
 * continue-as-new (4,096 events). A stream ignores them.
 */
export async function fillHistory(h: WorkflowHandle): Promise<void> {
  while ((await h.describe()).historyLength <= 4_200)
    await Promise.all(Array.from({ length: 200 }, () => h.signal('historyFiller')));
  await settled(h);
}

/** Polls a stream's `status` query (in real time: the server's clock stays put) until `ok` holds; returns it. */
export function statusWhere(
  handle: WorkflowHandle,
  what: string,
  ok: (status: StreamStatus) => boolean,
): Promise<StreamStatus> {
  return waitFor(
    what,
    async () => {
      const status = await handle.query(statusQuery);
      return ok(status) ? status : undefined;
    },
    15_000,
    20,
  );
}

/**
 * A test world: the real Temporal dev server (from global setup), the Kandji and Datadog simulators, and workers
 * built exactly like production ones (real clients, real activities) but pointed at the simulators.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  NativeConnection,
  Runtime,
  DefaultLogger,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { waitFor } from './wait';
import type { ActivityDeps } from '../../activities';
import { DatadogSimulator } from '../../simulators/datadog';
import { KandjiSimulator, type KandjiSimulatorOptions } from '../../simulators/kandji';
import type { DatadogReadConfig } from '../../src/config/datadog-read';
import { loadWorkerConfig, type TenantConfig, type TemporalConfig, type WorkerConfig } from '../../src/config/env';
import { RESERVED_KEYS } from '../../src/datadog/log-items';
import { buildActivityDeps } from '../../src/processes/worker/activity-deps';
import { createWorker, WORKFLOWS_PATH } from '../../src/processes/worker/create-worker';
import type { WorkerGroup as Worker } from '../../src/processes/worker/worker-group';
import { startStream, streamReport } from '../../src/streams/stream-control';
import { createLogger } from '../../src/telemetry/logger';
import { connectClient } from '../../src/temporal/client';
import { freePort } from '../../src/temporal/dev-server';
import {
  STREAMS,
  type SnapshotStreamName,
  type StreamName,
  type StreamStatus,
} from '../../workflows/shared/stream-status';
import { streamWorkflowId } from '../../workflows/shared/workflow-ids';

export const KANDJI_TOKEN = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
export const DD_API_KEY = 'dd-test-api-key-0123456789abcdef';

// Worker logs at ERROR only: expected failures (injected faults, rejected tokens) would otherwise flood the output.
Runtime.install({ logger: new DefaultLogger((process.env.HARNESS_LOG_LEVEL as 'ERROR' | undefined) ?? 'ERROR') });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow code bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

export interface HarnessOptions {
  kandji?: Partial<KandjiSimulatorOptions>;
  env?: Record<string, string>;
}

export class Harness {
  readonly processes: ChildProcess[] = [];
  readonly workers: { worker: Worker; running: Promise<void>; deps: ActivityDeps & { close(): Promise<void> } }[] = [];
  private constructor(
    readonly kandji: KandjiSimulator,
    readonly datadog: DatadogSimulator,
    readonly client: Client,
    readonly connection: NativeConnection,
    readonly config: WorkerConfig,
  ) {}

  static async start(opts: HarnessOptions = {}): Promise<Harness> {
    const address = process.env.TEMPORAL_TEST_ADDRESS;
    if (!address) throw new Error('TEMPORAL_TEST_ADDRESS is not set: run the tests with `npm test`');
    const kandji = await KandjiSimulator.start({ tokens: [KANDJI_TOKEN], ...opts.kandji });
    const datadog = await DatadogSimulator.start({ apiKeys: [DD_API_KEY] });
    const config = loadWorkerConfig({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
      KANDJI_API_URL: kandji.url,
      KANDJI_API_TOKEN: KANDJI_TOKEN,
      KANDJI_TENANT: `t${randomUUID().slice(0, 8)}`,
      KANDJI_POLL_INTERVAL: '1s',
      KANDJI_DETECTIONS_POLL_INTERVAL: '1s',
      KANDJI_THREATS_POLL_INTERVAL: '1s',
      KANDJI_BEHAVIORAL_DETECTIONS_POLL_INTERVAL: '1s',
      KANDJI_AUTH_RECHECK_INTERVAL: '2s',
      KANDJI_ERROR_BACKOFF: '1s',
      DD_API_KEY,
      DD_LOGS_URL: datadog.intakeUrl,
      LOG_LEVEL: 'silent',
      ...opts.env,
    });
    const client = await connectClient(config.temporal);
    const connection = await NativeConnection.connect({ address });
    return new Harness(kandji, datadog, client, connection, config);
  }

  get temporal(): TemporalConfig {
    return this.config.temporal;
  }

  /** The first tenant's configuration. */
  get tenantConfig(): TenantConfig {
    return this.config.firstTenant;
  }

  get tenant(): string {
    return this.config.firstTenant.tenant;
  }

  /**
   * Starts a worker (real activities against the simulators). `configOverride` swaps e.g. the token; `read` turns
   * verify on (DD_APP_KEY and the read API host).
   */
  async startWorker(
    configOverride: Partial<WorkerConfig> = {},
    dataConverter?: DataConverter,
    read?: DatadogReadConfig,
  ): Promise<Worker> {
    const built = buildActivityDeps({ ...this.config, ...configOverride }, createLogger('silent'), read);
    const deps = Object.assign(built, { sightings: { record: (id: string) => this.countUnchangedPoll(id) } });
    const { worker } = await createWorker({
      temporal: this.temporal,
      deps,
      connection: this.connection,
      workflowBundle: await workflowBundle(),
      dataConverter,
      shutdownGraceTime: '2s',
    });
    const running = worker.run();
    this.workers.push({ worker, running, deps });
    return worker;
  }

  /**
   * Starts a worker in its own process, exactly as `npm run worker` does, configured like this harness.
   * Resolves once it logs that it started. A second worker process on the same task queue is the real multi-worker
   * deployment (one process cannot register two workers for one task queue).
   */
  async spawnWorkerProcess(extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: this.temporal.address,
      TEMPORAL_TASK_QUEUE: this.temporal.taskQueue,
      KANDJI_API_URL: this.kandji.url,
      KANDJI_API_TOKEN: this.config.kandjiToken ?? '',
      KANDJI_TENANT: this.tenant,
      KANDJI_REQUESTS_PER_HOUR: String(this.tenantConfig.requestsPerHour),
      KANDJI_AUDIT_PAGE_SIZE: String(this.tenantConfig.auditPageSize),
      DD_API_KEY: this.config.datadogApiKey,
      DD_LOGS_URL: this.config.datadogIntakeUrl,
      LOG_LEVEL: 'info',
      // Ports of its own: at the defaults (8080, 9464), two worker processes of test files running side by side, or
      // of two test runs on one machine, collide and the second exits ("Address already in use").
      HEALTH_PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
      ...extraEnv,
    };
    // Its own process group: tsx runs the worker in a grandchild process, and the whole group must go at teardown.
    const child = spawn(
      process.execPath,
      [require.resolve('tsx/cli'), path.resolve(__dirname, '../../src/processes/worker/main.ts')],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    this.processes.push(child);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker process did not start within 60 s:\n${output}`)), 60_000);
      const onData = (b: Buffer) => {
        output += b.toString();
        if (output.includes('worker started')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`worker process exited with ${code}:\n${output}`)));
    });
    return child;
  }

  /**
   * Stops an in-process worker with a shutdown, not a crash: the SDK cancels its in-flight activities and waits out
   * their grace period, so their failures and last heartbeats reach the server. For a worker that dies (kill -9, a
   * lost node), spawn one with spawnWorkerProcess and `sigkill` it.
   */
  async killWorker(worker: Worker): Promise<void> {
    const entry = this.workers.find((w) => w.worker === worker);
    if (!entry) return;
    if (worker.getState() === 'RUNNING') worker.shutdown();
    // Bounded: a test's teardown must never hang the suite.
    const stopped = await Promise.race([
      entry.running.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref()),
    ]);
    if (!stopped) console.warn('worker did not stop within 30 s of shutdown; moving on');
    await Promise.race([entry.deps.close(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    this.workers.splice(this.workers.indexOf(entry), 1);
  }

  /** Kills a spawned worker process and its group (tsx and the worker it started) with SIGKILL: no shutdown at all. */
  async sigkill(p: ChildProcess): Promise<void> {
    if (p.exitCode !== null || p.signalCode !== null || !p.pid) return;
    const exited = new Promise((r) => p.once('exit', r));
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      return; // already gone
    }
    await exited;
  }

  async startAudit(since: string) {
    return startStream(this.client, this.temporal, this.tenantConfig, 'audit', since);
  }

  async startSnapshot(name: SnapshotStreamName) {
    return startStream(this.client, this.temporal, this.tenantConfig, name, new Date().toISOString());
  }

  handle(name: StreamName) {
    return this.client.workflow.getHandle(streamWorkflowId(this.tenant, name));
  }

  auditHandle() {
    return this.handle('audit');
  }

  async status(name: StreamName = 'audit'): Promise<StreamStatus> {
    const r = await streamReport(this.client, this.tenant, name);
    if (!r.status) throw new Error(`no status: ${r.execution}`);
    return r.status;
  }

  /** Waits until a stream reports `state` and returns its status. */
  async waitForState(
    state: StreamStatus['state'],
    name: StreamName = 'audit',
    timeoutMs = 30_000,
  ): Promise<StreamStatus> {
    return waitFor(
      `${name} ${state}`,
      async () => {
        const s = await this.status(name);
        return s.state === state ? s : undefined;
      },
      timeoutMs,
    );
  }

  /** Snapshot polls that saw nothing change, per stream workflow id (they reach no workflow code: counted here). */
  private readonly unchangedPolls = new Map<string, number>();
  private countUnchangedPoll(workflowId: string): void {
    this.unchangedPolls.set(workflowId, (this.unchangedPolls.get(workflowId) ?? 0) + 1);
  }

  /** Polls of a snapshot stream that saw nothing change, by the workers this harness started. */
  unchangedPollsOf(name: SnapshotStreamName): number {
    return this.unchangedPolls.get(streamWorkflowId(this.tenant, name)) ?? 0;
  }

  /** Sweeps a snapshot stream completed so far: those it committed and the polls that saw nothing change. */
  async sweepsDone(name: SnapshotStreamName): Promise<number> {
    return (await this.status(name)).counts.sweeps + this.unchangedPollsOf(name);
  }

  /**
   * Waits until the stream has completed `sweeps` sweeps (snapshot streams: those it committed and the polls that saw
   * nothing change, which never reach its workflow) and returns its status.
   */
  async sweeps(name: SnapshotStreamName, sweeps: number, timeoutMs = 60_000): Promise<StreamStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status(name).catch(() => undefined);
      if (s && s.counts.sweeps + this.unchangedPollsOf(name) >= sweeps) return s;
      if (Date.now() > deadline)
        throw new Error(
          `${name}: ${s?.counts.sweeps ?? 0} of ${sweeps} sweeps after ${timeoutMs} ms (state ${s?.state}, last error ${s?.lastError?.message})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    for (const name of STREAMS) {
      await this.handle(name)
        .terminate('test over')
        .catch(() => undefined);
    }
    for (const w of [...this.workers]) await this.killWorker(w.worker);
    for (const p of this.processes) await this.sigkill(p);
    await this.client.connection.close();
    // Throws if a worker never stopped (already reported above); the suite goes on regardless.
    await this.connection.close().catch((err: Error) => console.warn(`native connection not closed: ${err.message}`));
    await this.kandji.stop();
    await this.datadog.stop();
  }
}

/** Items Datadog received, with the fields we add removed: what is left must deep-equal the Kandji record. */
export function stripEnvelope(item: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...item };
  for (const key of RESERVED_KEYS) delete rest[key];
  return rest;
}
